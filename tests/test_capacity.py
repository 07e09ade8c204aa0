"""The Spreidingswet cycle: the law's arithmetic and the direction of its levers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import load_scenario, simulate
from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR
from sim.capacity.cycle import (
    CapacityCycle,
    Geography,
    _province_have,
    _province_have_open,
    _province_total_and_own,
    _province_total_and_own_open,
    add_months,
    numpy_sum,
    split_largest_remainder,
)
from sim.reception.locations import AMV_PLACES, DURABLE
from sim.scenario import DATA_DIR, ScenarioError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
# Short runs: from the start past the second cycle's deadline (1 Jul 2027) plus a little.
SHORT = ["end_date=2027-08-01"]


def municipalities() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "municipalities.csv")


def test_the_laws_calendar_is_17_months_from_estimate_to_deadline():
    assert add_months(dt.date(2024, 2, 1), 17) == dt.date(2025, 7, 1)
    assert add_months(dt.date(2026, 2, 1), 9) == dt.date(2026, 11, 1)
    assert add_months(dt.date(2026, 2, 1), 12 * 2) == dt.date(2028, 2, 1)


@pytest.mark.parametrize(
    "override",
    [
        ["capacity.spreidingswet.deadline_after_months=8"],  # deadline before the provincial report
        ["capacity.spreidingswet.decision_after_months=12", "capacity.spreidingswet.deadline_after_months=11"],
        ["capacity.spreidingswet.report_after_months=11", "capacity.spreidingswet.decision_after_months=10"],
    ],
)
def test_a_calendar_out_of_order_is_refused(override):
    with pytest.raises(ScenarioError) as err:
        load_scenario(BASELINE, override)
    assert "capacity.spreidingswet" in str(err.value) and "out of order" in str(err.value)


@settings(max_examples=60, deadline=None)
@given(
    national=st.integers(0, 200_000),
    fixed=st.dictionaries(st.sampled_from(["Drenthe", "Zeeland", "Utrecht", "Limburg"]), st.integers(0, 5_000), max_size=3),
)
def test_provincial_tasks_sum_to_the_national_task(national, fixed):
    geo = Geography(municipalities())
    tasks = geo.split(national, fixed)
    prov = geo.by_province(tasks)
    assert (tasks >= 0).all()
    if sum(fixed.values()) <= national:
        assert tasks.sum() == national
    for name, task in fixed.items():
        assert prov[list(geo.provinces).index(name)] == task


@settings(max_examples=40, deadline=None)
@given(national=st.integers(1_000, 200_000))
def test_the_split_follows_population(national):
    geo = Geography(municipalities())
    tasks = geo.split(national)
    # province shares within a place of the exact population share, municipalities within a place of theirs
    pop_p = geo.by_province(geo.population)
    exact_p = pop_p / pop_p.sum() * national
    assert np.all(np.abs(geo.by_province(tasks) - exact_p) < 1 + 1e-9)
    for p in range(len(geo.provinces)):
        members = geo.province_of == p
        exact_m = geo.population[members] / geo.population[members].sum() * geo.by_province(tasks)[p]
        assert np.all(np.abs(tasks[members] - exact_m) < 1 + 1e-9)


@given(total=st.integers(0, 10**6), weights=st.lists(st.floats(0, 1e6), min_size=1, max_size=50))
def test_largest_remainder_keeps_the_total(total, weights):
    parts = split_largest_remainder(total, np.array(weights))
    if sum(weights) > 0:
        assert parts.sum() == total
        assert np.all(np.abs(parts - np.array(weights) / sum(weights) * total) < 1 + 1e-6)


def test_published_tasks_of_the_second_cycle_are_used():
    s = load_scenario(BASELINE, ["end_date=2026-03-01"])
    r = simulate(s, seed=1)
    assert r.cycles.query("level == 'province'")["task"].sum() == 88_000
    assert r.timeseries["places_durable_task"].iloc[-1] == 88_000


def test_with_instant_projects_and_no_waiting_every_province_meets_its_task():
    """With all lead times zero, no failures and nobody waiting, the whole task is realised by the deadline."""
    overrides = SHORT + [
        "initial_state.durable_remaining_years=[20.0, 30.0]",
        "capacity.spreidingswet.report_after_months=1",
        "capacity.spreidingswet.decision_after_months=2",
        "capacity.spreidingswet.enforcement.strategic_waiting_share=0.0",
        "capacity.spreidingswet.amv_failure_per_50_places=0.0",
    ]
    s = load_scenario(BASELINE, overrides)
    sw = s.capacity.spreidingswet
    for name, t in sw.project_types.items():
        for stage in ("site_and_council", "participation", "permit", "appeal", "construction"):
            getattr(t, stage).mean_months = 0.0
        t.failure_probability = 0.0
        t.delay_probability = 0.0
        t.weight = 1.0 if name == "conversion" else 0.0  # only a type that counts for the task
    r = simulate(s, seed=5)
    prov = r.cycles.query("level == 'province' and cycle == 0")
    assert (prov["counted_by_deadline"] >= prov["task"]).all()
    assert r.summary["share_realised_by_deadline"] == pytest.approx(1.0)
    assert r.summary["provinces_meeting_task_first_cycle"] == 12


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_enforcement_never_lowers_realisation(seed):
    """Under common random numbers, credible enforcement (fewer strategic waiters) realises at least as much."""
    base = simulate(load_scenario(BASELINE, SHORT), seed=seed)
    enforced = simulate(load_scenario(BASELINE, SHORT + ["capacity.spreidingswet.enforcement.enforced=true"]), seed=seed)
    b = base.cycles.query("level == 'province' and cycle == 0").set_index("province")
    e = enforced.cycles.query("level == 'province' and cycle == 0").set_index("province")
    assert (e["counted_by_deadline"] >= b["counted_by_deadline"]).all()
    assert enforced.summary["share_realised_by_deadline"] >= base.summary["share_realised_by_deadline"]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_longer_deadline_never_realises_fewer_durable_places_by_that_deadline(seed):
    """Common random numbers: the same municipalities start at the same moments; with more time they may pick
    slower types, but the places that count by their own (later) deadline are never fewer."""
    s_base = load_scenario(BASELINE, ["end_date=2027-08-01"])
    s_long = load_scenario(BASELINE, ["end_date=2028-08-01", "capacity.spreidingswet.deadline_after_months=29"])
    b = simulate(s_base, seed=seed).cycles.query("level == 'province' and cycle == 0")
    lg = simulate(s_long, seed=seed).cycles.query("level == 'province' and cycle == 0")
    assert lg["new_durable_by_deadline"].sum() >= b["new_durable_by_deadline"].sum()


def test_cycle_outputs_have_the_promised_columns():
    r = simulate(load_scenario(BASELINE, SHORT + ["capacity.spreidingswet.report_municipalities=true"]), seed=2)
    need = {
        "replication",
        "cycle",
        "province",
        "municipality",
        "task",
        "planned_durable",
        "planned_temporary",
        "planned_emergency",
        "planned_amv",
        "realised_by_deadline",
        "realised_deadline_12m",
        "realised_deadline_24m",
        "failed_projects",
        "emergency_requested",
    }
    assert need <= set(r.cycles.columns)
    drenthe = r.cycles.query("level == 'municipality' and province == 'Drenthe'")
    assert len(drenthe) == 12  # the "Drentse puzzel": Drenthe's 12 municipalities
    for key in (
        "share_realised_by_deadline",
        "durable_places_opened",
        "emergency_places_opened",
        "provinces_meeting_task_first_cycle",
    ):
        assert key in r.summary
    assert {"places_in_pipeline", "places_durable_task"} <= set(r.timeseries.columns)
    # a place in the pipeline is a place of a started project that has not opened or failed
    assert (r.timeseries["places_in_pipeline"] >= 0).all()


def _count_by_scan(cycle: CapacityCycle) -> np.ndarray:
    """The law's count of open places per municipality, read from the whole location table: open durable
    locations large and long-lived enough and AMV units of any size; those in no municipality spread by
    population."""
    L, cfg = cycle.chain.locations, cycle.cfg
    n = L.n
    ids = np.flatnonzero(L.is_open[:n] & np.isin(L.type[:n], (DURABLE, AMV_PLACES)))
    places, muni = L.places[ids], L.municipality[ids]
    life = np.where(L.initial[ids], np.inf, L.close_day[ids] - L.open_day[ids])
    ok = ((L.type[ids] == AMV_PLACES) | (places >= cfg.count_min_places)) & (life >= cfg.count_min_lifespan_years * DAYS_PER_YEAR)
    out = np.bincount(muni[ok & (muni >= 0)], weights=places[ok & (muni >= 0)], minlength=len(cycle.geo.codes))
    unplaced = float(places[ok & (muni < 0)].sum())
    return out + unplaced * cycle.geo.population / cycle.geo.population.sum() if unplaced else out


def test_the_kept_count_of_open_places_equals_a_count_of_the_location_table(monkeypatch):
    """The cycle keeps its count of the places that count up to date from openings and closings instead of
    reading every location again. At every reassessment (each durable or AMV closing, each failed project) it
    equals, to the last bit, a count over the whole location table, through hundreds of closings and with
    new durable locations both long-lived enough to count and not; and so does the part of one province, which a
    reassessment computes on its own (with what the province's members build or have decided to build), and the
    law's count with the projects due within its window."""
    checked, pipelined = [], []
    reassess = CapacityCycle.reassess

    def checking(self, m, counted=None):
        scanned = _count_by_scan(self)
        np.testing.assert_array_equal(self.counted(self.env.now), scanned)
        members = self.geo.members[self.geo.province_of[m]]  # the province's part, which reassess computes alone
        # and what the province's members have, build or have decided to build, as reassess computes it in one
        # compiled pass, equals the sum of the arrays
        have = scanned[members] + self.counting_pipeline[members] + self.planned[members]
        pop, total = self.geo.population, self.geo.population_total
        unplaced = float(self._counted_unplaced)
        for got in (
            _province_have(members, scanned, self.counting_pipeline, self.planned),
            _province_have_open(members, self._counted_placed, unplaced, pop, total, self.counting_pipeline, self.planned),
        ):
            np.testing.assert_array_equal(got, have)
        # reassess reads only their sum and the municipality's own entry, computed in the same compiled call
        rank = int(self.geo.rank[m])
        for got in (
            _province_total_and_own(members, scanned, self.counting_pipeline, self.planned, rank),
            _province_total_and_own_open(
                members, self._counted_placed, unplaced, pop, total, self.counting_pipeline, self.planned, rank
            ),
        ):
            assert got == (have.sum(), have[rank])
        # with the projects due to open within the window (the law's count at an estimate), read from every
        # project started, added in the order they started
        window = self.cfg.count_pipeline_within_months * DAYS_PER_MONTH
        legal = scanned.copy()
        for proj in self.projects:
            if proj.status == "running" and proj.counts and proj.expected_open <= self.env.now + window:
                legal[proj.municipality] += proj.places
        np.testing.assert_array_equal(self.legal_count(self.env.now), legal)
        pipelined.append(bool((legal != scanned).any()))
        checked.append(self)
        return reassess(self, m, counted)

    monkeypatch.setattr(CapacityCycle, "reassess", checking)
    # a lifespan threshold between the lifespans of the durable types built by 2029 (7.5 and 10 years): some new locations
    # count, others are too short-lived
    overrides = ["capacity.spreidingswet.count_min_lifespan_years=8", "initial_state.durable_remaining_years=[0.5, 4.0]"]
    simulate(load_scenario(BASELINE, ["end_date=2029-01-01", *overrides]), seed=3)
    assert len(checked) > 100
    assert any(pipelined), "projects due within the window should count at some reassessments"
    L = checked[-1].chain.locations
    opened = np.array([lid for lid, is_opening in L.changes if is_opening])
    new_durable = opened[(L.type[opened] == DURABLE) & ~L.initial[opened]]
    life_years = (L.close_day[new_durable] - L.open_day[new_durable]) / DAYS_PER_YEAR
    assert (life_years >= 8).any() and (life_years < 8).any(), "the run should open durable locations of both kinds"


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 600), seed=st.integers(0, 2**32 - 1), whole=st.booleans())
def test_the_compiled_sum_is_numpys_sum_to_the_bit(n, seed, whole):
    """A reassessment sums a province's entries in its compiled call instead of with numpy afterwards: the sum
    must be numpy's own, bit for bit, at every length (one after the other below eight, eight running sums up
    to a block of 128, halves beyond), for numbers whose order of addition changes the result (of magnitudes
    from 1e-3 to 1e9, some whole and some -0.0, as counts and population shares give)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 10, n)
    if whole:
        a = np.round(a)
    a[rng.random(n) < 0.05] = -0.0
    assert np.float64(numpy_sum(a)).tobytes() == a.sum().tobytes()
