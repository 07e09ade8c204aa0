"""Each friction acts in the direction the world says, under common random numbers.

Every check runs a small world (tests/conftest.py) with the same seeds at two settings of one lever and
asserts the paired difference has the expected sign with a 95 % t-interval that excludes zero: a
property of the mechanism, not of one lucky path.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from conftest import small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.calendar import HALF_YEAR_DAYS, Calendar
from sim.model import simulate
from sim.people import People
from sim.procedure import Procedure
from sim.scenario import Outcomes

SEEDS = range(8)


def world(**sections):
    """A year of the small world with a modest search, so the application centre feels the supply."""
    base = {
        "horizon_years": 1.0,
        "inflow": {"first_applications_per_year": 4000, "family_reunification_per_year": 1500},
        "reception": {"emergency": {"offers_per_week": 2.0, "half_saturation_persons": 200}},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
        if key == "reception" and "emergency" in value:
            base[key]["emergency"] = {**{"offers_per_week": 2.0, "half_saturation_persons": 200}, **value["emergency"]}
    return small_scenario(**base)


def paired(metric, low, high) -> np.ndarray:
    """Differences high − low of ``metric(result)`` over the seeds (common random numbers)."""
    return np.array([metric(simulate(high, seed=s)) - metric(simulate(low, seed=s)) for s in SEEDS])


def assert_negative(d: np.ndarray) -> None:
    if np.allclose(d, d[0], rtol=1e-12, atol=0.0):
        # the same difference for every seed (the metric does not depend on the draws, e.g. the family backlog
        # under a fixed production and applications): no interval to compute, the difference itself decides (a
        # t-test on it warns of precision loss and is meaningless)
        assert d[0] < 0, f"differences {d.tolist()} (the same for every seed)"
        return
    upper = stats.ttest_1samp(d, 0.0).confidence_interval(0.95).high
    assert d.mean() < 0 and upper < 0, f"differences {d.tolist()} (mean {d.mean():.3f}, upper 95 % bound {upper:.3f})"


def test_more_offers_mean_fewer_nights_above_the_norm():
    few, many = (world(reception={"emergency": {"offers_per_week": w}}) for w in (1.0, 6.0))
    assert_negative(paired(lambda r: r.summary["ac_days_above_norm"], few, many))


def test_a_pressure_boost_means_fewer_nights_above_the_norm():
    calm, stirred = (world(reception={"emergency": {"pressure_boost": b}}) for b in (0.0, 3.0))
    assert_negative(paired(lambda r: r.summary["ac_days_above_norm"], calm, stirred))


def test_more_local_refusals_mean_more_nights_above_the_norm():
    welcome, refused = (world(reception={"emergency": {"refusal_probability": q}}) for q in (0.0, 0.8))
    assert_negative(paired(lambda r: r.summary["ac_days_above_norm"], refused, welcome))


def test_lower_housing_realisation_means_more_status_holders_waiting():
    low, full = (world(housing={"task_mode": "series", "realisation_mean": m}) for m in (0.6, 1.0))
    assert_negative(paired(lambda r: r.timeseries["status_holders_waiting"].mean(), low, full))


def test_a_longer_matching_delay_means_more_status_holders_waiting():
    quick, slow = (world(housing={"task_mode": "series", "matching_delay_days": d}) for d in (0, 120))
    assert_negative(paired(lambda r: r.timeseries["status_holders_waiting"].mean(), slow, quick))


def test_longer_leases_mean_fewer_moves():
    search = {"offers_per_week": 6.0, "half_saturation_persons": 100, "min_lease_days": 30}
    short, long = (
        world(inflow={"first_applications_per_year": 3500}, reception={"emergency": {**search, "lease_days": lease}})
        for lease in ([30.0, 60.0], [300.0, 365.0])
    )
    assert_negative(paired(lambda r: r.summary["moves_per_person"], short, long))


def test_more_family_production_shortens_the_family_backlog():
    slow, fast = (
        world(procedure={"family": {"decisions_per_week": w, "initial_backlog": 800, "applications_per_year": 1500}})
        for w in (20, 40)
    )
    assert_negative(paired(lambda r: r.timeseries["ind_backlog_family"].mean(), slow, fast))


def test_a_responsive_ind_shortens_the_backlog_when_production_lags():
    series = {"decisions_per_week": 40, "production_mode": "series"}
    responsive = {
        **series,
        "production_mode": "responsive",
        "responsive_lag_days": 30,
        "responsive_target_weeks": 10,
        "responsive_max_per_week": 200,
    }
    fixed, answering = (world(procedure=p) for p in (series, responsive))
    assert_negative(paired(lambda r: r.timeseries["ind_backlog"].mean(), fixed, answering))


def test_a_lower_approval_rate_means_more_departures_and_fewer_status_holders():
    """outcome_changes act on decisions from their date: a moratorium-like fall in permits."""
    change = [{"date": "2026-02-01", "permit": 0.3, "rejection": 0.5, "dublin": 0.2}]
    same, lower = (world(procedure={"decisions_per_week": 70, "outcome_changes": c}) for c in ([], change))
    assert_negative(paired(lambda r: r.summary["departed_total"], lower, same))
    assert_negative(paired(lambda r: r.timeseries["status_holders_waiting"].mean(), same, lower))


@settings(max_examples=100, deadline=None)
@given(
    changes=st.lists(st.tuples(st.integers(0, 40), st.floats(0, 1), st.floats(0, 1)), max_size=6),
    day=st.integers(-5, 45),
)
def test_decisions_take_the_outcome_shares_of_the_latest_change_dated_on_or_before_their_day(changes, day):
    """The first-asylum shares in force on a date: those of the latest change dated on or before it (of two on
    one date, the one listed later), before any change the scenario's starting shares."""
    start = dt.date(2026, 1, 1)
    listed = [
        {
            "date": (start + dt.timedelta(days=d)).isoformat(),
            "permit": p * 0.5,
            "rejection": r * 0.5,
            "dublin": 1 - p * 0.5 - r * 0.5,
        }
        for d, p, r in changes
    ]
    s = small_scenario(procedure={"outcome_changes": listed})
    procedure = Procedure(s, People(1), Calendar(s.start_date, s.horizon_days))
    on = start + dt.timedelta(days=day)
    in_force = [c for c in listed if dt.date.fromisoformat(c["date"]) <= on]
    latest = max(in_force, key=lambda c: c["date"], default=None)  # max keeps the first of equals: take the last
    if latest is not None:
        latest = [c for c in in_force if c["date"] == latest["date"]][-1]
    o = s.procedure.outcomes_first if latest is None else Outcomes(**{k: latest[k] for k in ("permit", "rejection", "dublin")})
    assert procedure.first_bounds_on(on) == (o.permit, o.permit + o.rejection)


def test_nareizigers_who_join_their_sponsor_take_homes_of_the_task():
    """The task counts persons housed: with a waiting list long enough to use every home, the days of a half-year
    house exactly their share of the realised task, nareizigers who join their sponsor included; when they do not
    count, they come on top, and exactly as many more status holders leave reception."""
    housing = {"task_mode": "series", "task_per_half_year": 200, "realisation_mean": 0.9, "realisation_sd": 0.0}
    housing["matching_delay_days"] = 0
    inflow = {"family_reunification_per_year": 200}  # fewer joiners than homes: the task binds
    counted, on_top = (
        small_scenario(horizon_years=0.45, inflow=inflow, housing={**housing, "family_joiners_in_task": flag})
        for flag in (True, False)
    )
    for seed in range(3):
        with_, without = simulate(counted, seed=seed), simulate(on_top, seed=seed)
        days = len(with_.timeseries)
        assert with_.timeseries["housed"].sum() == int(days * 180 / HALF_YEAR_DAYS + 1e-9)
        joiners = without.timeseries["housed"].sum() - with_.timeseries["housed"].sum()
        assert joiners > 0  # 200 nareizigers a year: some join their sponsor within the run
        waiting = with_.timeseries["status_holders_waiting"].iloc[-1] - without.timeseries["status_holders_waiting"].iloc[-1]
        assert waiting == joiners


def test_nareizigers_counted_in_the_task_mean_more_status_holders_waiting():
    housing = {"task_mode": "series", "task_per_half_year": 1200}  # below the permits of a year of 4,000 applications
    on_top, counted = (world(housing={**housing, "family_joiners_in_task": f}) for f in (False, True))
    assert_negative(paired(lambda r: r.timeseries["status_holders_waiting"].mean(), counted, on_top))


def test_decisions_give_each_outcome_by_its_share_for_adults_and_for_minors():
    """The IND's outcome of a first-asylum case is drawn from its shares (permit, rejection, Dublin), with the
    AMV shares for unaccompanied minors: over a run's decisions, each outcome's share among the decided of a
    group lies within a 99.9 % binomial interval of its configured share; family members get no outcome."""
    s = small_scenario()
    s.procedure.outcomes_amv = Outcomes(permit=0.9, rejection=0.08, dublin=0.02)  # unlike the adults' shares
    r = simulate(s, seed=5, keep_records=True)
    pe = r.people
    decided = pe[~np.isnan(pe["t_decision"].to_numpy())]
    codes = {"permit": 1, "rejection": 2, "dublin": 3}  # sim.people: PERMIT, REJECTION, DUBLIN
    for cat, o in (("first", s.procedure.outcomes_first), ("amv", s.procedure.outcomes_amv)):
        group = decided[decided["category"] == cat]
        assert len(group) > 100
        shares = {"permit": o.permit, "rejection": o.rejection, "dublin": o.dublin}
        for name, share in shares.items():
            k = int((group["outcome"] == codes[name]).sum())
            lo, hi = stats.binomtest(k, len(group), share).proportion_ci(0.999)
            assert lo <= share <= hi, (cat, name, k, len(group), share)
    assert (pe.loc[pe["category"] == "family", "outcome"] == 0).all()


@settings(max_examples=100, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.tuples(st.integers(0, 29), st.floats(0.0, 40.0), st.sampled_from([0, 1, 2])), max_size=12),
        max_size=25,
    ),
    gone=st.lists(st.integers(0, 29), max_size=10),
)
def test_a_days_departures_are_those_scheduled_for_it_in_order_of_scheduling(batches, gone):
    """Departures are collected day by day: each day's are exactly the people scheduled for that day (a delay
    ending on a day already collected counts for the next), in the order they were scheduled, less those who
    have left the chain meanwhile; how each leaves follows the outcome (Dublin) and the return draw; the people
    waiting to depart are counted down by all who were due, those gone included. Days past the horizon
    (a 20-day run here) are never collected."""
    from sim.people import DUBLIN, EXIT_DUBLIN, EXIT_RETURN, EXIT_UNKNOWN, GONE, LOCATION

    s = small_scenario()
    h = 20
    people = People(30)
    people.add(30)
    people.where[:] = LOCATION
    procedure = Procedure(s, people, Calendar(s.start_date, h))
    scheduled = []  # (id, day) in order of scheduling, as the reference sees them
    awaiting = 0
    for day in range(h):
        # a batch scheduled during the day before its collection: a delay below one day lands on a collected day
        if day < len(batches) and batches[day]:
            ids = np.array([i for i, _, _ in batches[day]], np.int64)
            when = np.array([day - 0.5 + w for _, w, _ in batches[day]])
            for i, _, outcome in batches[day]:
                people.outcome[i] = (DUBLIN, 0, 1)[outcome]
                people.returns[i] = outcome == 1
            procedure.schedule_departures(ids, when)
            scheduled += [(int(i), max(int(np.floor(t)), day)) for i, t in zip(ids, when)]
            awaiting += len(ids)
        for i in gone:
            if i % h == day:
                people.where[i] = GONE
        due = [i for i, d in scheduled if d == day]
        expected = [i for i in due if people.where[i] != GONE]
        kinds = [
            EXIT_DUBLIN if people.outcome[i] == DUBLIN else (EXIT_RETURN if people.returns[i] else EXIT_UNKNOWN) for i in expected
        ]
        ids, kind = procedure.departures(day)
        assert ids.tolist() == expected and kind.tolist() == kinds
        awaiting -= len(due)
        assert procedure.awaiting_departure == awaiting
