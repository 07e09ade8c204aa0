"""Queueing theory checks of the chain.

Registration with Poisson arrivals, exponential registration times and c slots
is an M/M/c queue: its mean wait before registration starts must match Erlang
C. Little's law (L = λW) must hold for the registration stage and for the
whole stay at the application centre, with L from the nightly time series and
W from the person records, so the two bookkeepings of the model agree.

The long, tight Erlang C check of the whole chain is marked slow
(``pytest -m slow``); the default run checks the registration stage alone on a
million arrivals (within 3 %) and the whole chain on four years against the
batch-means confidence interval of the simulated mean (99.9 %), which is
honest for any run length.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
from conftest import small_dict
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.model import T_MONITOR, T_TRANSFER, simulate
from sim.people import People
from sim.registration import ApplicationCentre, service_days
from sim.scenario import Centre, scenario_from_dict

EMPTY_START = {
    "ac_occupancy": 0,
    "occupancy_durable": 0,
    "occupancy_temporary": 0,
    "occupancy_emergency": 0,
    "occupancy_amv": 0,
    "status_holders_waiting": 0,
    "awaiting_departure": 0,
}


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue (days) of an M/M/c queue: arrival rate ``lam``/day, service rate ``mu``/day per slot."""
    a = lam / mu
    rho = a / c
    assert rho < 1
    blocked = 1.0  # Erlang B by its stable recursion (factorials overflow for hundreds of slots)
    for k in range(1, c + 1):
        blocked = a * blocked / (k + a * blocked)
    p_wait = blocked / (1 - rho * (1 - blocked))  # Erlang C
    return p_wait / (c * mu - lam)


def mmc_scenario(lam: float, mean_service_days: float, slots: int, years: float, transfer_limit: int = 100_000):
    """Only first applications (no AMV, no family), Poisson daily counts without season or trend, one centre,
    exponential registration, and (by default) unlimited onward places and transfers (the schema's most a day)."""
    return scenario_from_dict(
        small_dict(
            horizon_years=years,
            inflow={
                "first_applications_per_year": lam * 365.25,
                "amv_share_of_first": 0.0,
                "family_reunification_per_year": 0,
                "dispersion": "poisson",
                "seasonal_factors": [1.0] * 12,
                "trend_per_year": 0.0,
                "shocks": [],
            },
            registration={
                "centres": [
                    {
                        "name": "AC",
                        "slots": slots,
                        "service_mean_days": mean_service_days,
                        "service_distribution": "exponential",
                        "norm_persons": 10**6,
                        "physical_limit_persons": 10**6,
                    }
                ],
                "transfer_limit_per_day": transfer_limit,
            },
            reception={"emergency": {"on_demand": False}},
            procedure={"decisions_per_week": 10_000},
            housing={"task_per_half_year": 10**6},
            initial_state=EMPTY_START,
            capacity={"scheduled": [{"type": "durable", "places": 10**6, "opens": "2025-01-01"}]},
        )
    )


def batch_means_interval(x: np.ndarray, batches: int = 20, level: float = 0.999) -> tuple[float, float]:
    """Mean of a correlated series (in arrival order) and the half-width of its batch-means confidence interval."""
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    half = stats.t.ppf(0.5 + level / 2, batches - 1) * means.std(ddof=1) / math.sqrt(batches)
    return float(x.mean()), float(half)


# λ = 7.5 arrivals/day, mean registration 0.5 day, 5 slots: utilisation 0.75, Wq ≈ 0.12 day
LAM, MEAN_SERVICE, SLOTS = 7.5, 0.5, 5


@pytest.fixture(scope="module")
def mmc_run():
    # a transfer limit just above λ makes people wait at the centre for their bus, so that stage queues too
    return simulate(mmc_scenario(LAM, MEAN_SERVICE, SLOTS, years=8, transfer_limit=8), seed=11, keep_records=True)


def registration_waits(people) -> np.ndarray:
    arrived = people[~people["initial"] & people["t_reg_start"].notna()].sort_values("t_arrive")
    return (arrived["t_reg_start"] - arrived["t_arrive"]).to_numpy()


def test_registration_wait_matches_erlang_c_within_its_confidence_interval(mmc_run):
    waits = registration_waits(mmc_run.people)
    mean, half = batch_means_interval(waits[len(waits) // 20 :])  # the first 5 % as warm-up from empty
    expected = erlang_c_wait(LAM, 1 / MEAN_SERVICE, SLOTS)
    assert abs(mean - expected) <= half, f"simulated {mean:.4f} ± {half:.4f} days, Erlang C {expected:.4f}"
    # eight years hold ~22,000 registrations: the interval is wide (Wq is a noisy, strongly autocorrelated
    # statistic), but narrower than the value itself, so a wait of zero or of twice Erlang C would fail
    assert half < expected, "the run is too short for the check to mean anything"
    # the summary reports the same quantity (for registrations started within the run)
    pe = mmc_run.people
    started = ~pe["initial"] & (pe["t_reg_start"] < len(mmc_run.timeseries))
    assert mmc_run.summary["mean_registration_wait_days"] == pytest.approx((pe["t_reg_start"] - pe["t_arrive"])[started].mean())


def test_the_registration_stage_alone_matches_erlang_c_within_three_percent():
    """The application centre's multi-slot FIFO fed a million Poisson arrivals and exponential registration
    times: tight, and fast without the chain around it."""
    lam, mean_service, slots, n = LAM, MEAN_SERVICE, SLOTS, 1_000_000
    rng = np.random.default_rng(2026)
    people = People(n)
    ids = people.add(n)
    people.t_arrive[ids] = np.cumsum(rng.exponential(1 / lam, n))
    people.service_days[ids] = service_days(Centre(slots=slots, service_mean_days=mean_service), rng.random(n))
    centre = ApplicationCentre(Centre(slots=slots, service_mean_days=mean_service), 0)
    centre.plan(people, ids)
    waits = (people.t_reg_start - people.t_arrive)[n // 50 :]
    mean, half = batch_means_interval(waits)
    expected = erlang_c_wait(lam, 1 / mean_service, slots)
    assert mean == pytest.approx(expected, rel=0.03)
    assert abs(mean - expected) <= half
    # FIFO: registrations start in order of arrival, and nobody starts before arriving
    assert (np.diff(people.t_reg_start) >= 0).all() and (waits >= 0).all()


@pytest.mark.slow
@pytest.mark.verification
def test_registration_wait_matches_erlang_c_within_a_few_percent_on_long_runs():
    """240 simulated years of the whole chain (6 seeds × 40 years, ~650,000 registrations): the standard
    error of the pooled mean wait is about 1.3 %, so 4 % is a three-sigma bound (run: pytest -m slow)."""
    expected = erlang_c_wait(LAM, 1 / MEAN_SERVICE, SLOTS)
    waits = []
    for seed in range(6):
        w = registration_waits(simulate(mmc_scenario(LAM, MEAN_SERVICE, SLOTS, years=40), seed=seed, keep_records=True).people)
        waits.append(w[len(w) // 20 :])
    pooled = np.concatenate(waits)
    assert pooled.mean() == pytest.approx(expected, rel=0.04)


def nights(t_in: np.ndarray, t_out: np.ndarray, horizon: int) -> np.ndarray:
    """Nightly counts (taken at day + T_MONITOR) a person present over [t_in, t_out) is part of; open stays end at the horizon."""
    t_out = np.where(np.isnan(t_out), horizon, t_out)
    first = np.ceil(t_in - T_MONITOR)
    last = np.minimum(np.ceil(t_out - T_MONITOR), horizon)  # exclusive
    return np.maximum(last - np.maximum(first, 0), 0)


def stage_check(ts, t_in: np.ndarray, t_out: np.ndarray, column: str, horizon: int) -> None:
    # sample-path identity: the night counts in the time series are exactly the records' person-nights
    assert ts[column].sum() == nights(t_in, t_out, horizon).sum()
    # Little's law over the second half of the run: L (mean nightly count) = λ (entries/day) × W (nights per entry)
    lo, hi = horizon // 2, horizon
    window = (t_in >= lo) & (t_in < hi)
    lam = window.sum() / (hi - lo)
    w = nights(t_in[window], t_out[window], horizon).mean()
    L = ts[column].to_numpy()[lo:hi].mean()
    assert L == pytest.approx(lam * w, rel=0.03), f"{column}: L={L:.2f}, λW={lam * w:.2f}"
    assert L > 1.0, "the stage must hold people for the check to mean anything"


def test_littles_law_for_the_registration_stage(mmc_run):
    pe, ts = mmc_run.people, mmc_run.timeseries
    at_ac = pe["centre"].to_numpy() >= 0
    # a registration counts as ended at the first daily transfer after it (when COA sees it)
    t_end = pe["t_reg_end"].to_numpy()[at_ac]
    seen = np.ceil(t_end - T_TRANSFER) + T_TRANSFER
    stage_check(ts, pe["t_arrive"].to_numpy()[at_ac], seen, "ac_registering", len(ts))


def test_littles_law_for_the_application_centre_stage(mmc_run):
    pe, ts = mmc_run.people, mmc_run.timeseries
    at_ac = pe["centre"].to_numpy() >= 0
    stage_check(ts, pe["t_arrive"].to_numpy()[at_ac], pe["t_leave_ac"].to_numpy()[at_ac], "ac_occupancy", len(ts))
    # the transfer limit really made people wait at the centre after registering
    assert (ts["ac_occupancy"] - ts["ac_registering"]).mean() > 3


def _arrivals_at_one_centre(gaps: list[float], services: list[float], slots: int):
    """People arriving ``gaps`` days apart with the given service times, and a centre with ``slots`` slots that
    planned their registrations (before the first arrives, as a run does)."""
    n = len(gaps)
    people = People(n)
    ids = people.add(n)
    people.t_arrive[ids] = np.cumsum(gaps)
    people.service_days[ids] = services[:n]
    centre = ApplicationCentre(Centre(slots=slots, service_mean_days=1.0), 0)
    centre.plan(people, ids)
    return people, ids, centre


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0.0, 0.25, 0.5]), min_size=1, max_size=120),
    services=st.lists(st.sampled_from([0.25, 0.5, 1.0, 2.0]), min_size=120, max_size=120),
    slots=st.integers(1, 4),
    batch=st.integers(1, 9),
)
def test_registrations_complete_in_order_of_their_end_and_of_arrival_on_ties(gaps, services, slots, batch):
    """Whatever the queue and however arrivals are handed in: at any moment the completions so far are exactly
    the people whose registration has ended, and they come out in order of ending, those ending at the same
    moment in order of arrival (times on a quarter-day grid, so ties are common, also between the arrivals
    handed in together and those already registering)."""
    _check_completion_order(gaps, services, slots, batch)


def _check_completion_order(gaps, services, slots: int, batch: int) -> None:
    people, ids, centre = _arrivals_at_one_centre(gaps, services, slots)
    n = len(ids)
    out = []
    for part in np.array_split(ids, max(n // batch, 1)):
        centre.admit(people, part)
        now = float(people.t_arrive[part[-1]])
        out.append(centre.completed(people, now))
        ended = ids[: part[-1] + 1][people.t_reg_end[: part[-1] + 1] <= now]
        assert set(np.concatenate(out).tolist()) == set(ended.tolist())
    out.append(centre.completed(people, np.inf))
    done = np.concatenate(out)
    assert np.array_equal(done, ids[np.lexsort((ids, people.t_reg_end[ids]))])


def test_a_planned_registration_ends_only_for_someone_who_arrived():
    """The registrations are planned before anyone arrives; one that ends for someone not (yet) registering
    would send a person to a place before they arrived, so it is refused."""
    people, ids, centre = _arrivals_at_one_centre([0.5, 0.5, 0.5], [0.25, 0.25, 0.25], slots=2)
    centre.admit(people, ids[:1])
    assert centre.completed(people, 0.75).tolist() == [0]
    with pytest.raises(ValueError, match="not registering"):
        centre.completed(people, 2.0)  # the other two never arrived


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_completion_order_holds_while_thousands_wait_to_register(seed):
    """The same property with a queue of thousands (arrivals outpace one or two slots for long spells), handed
    in as a run does, a batch at a time."""
    rng = np.random.default_rng(seed)
    n = 6000
    gaps = rng.choice([0.0, 0.1, 0.25, 1.0], n, p=[0.4, 0.3, 0.2, 0.1]).tolist()
    services = rng.choice([0.25, 0.5, 1.0], n).tolist()
    _check_completion_order(gaps, services, slots=int(rng.integers(1, 3)), batch=int(rng.integers(5, 60)))


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.5]), min_size=1, max_size=150),
    services=st.lists(st.sampled_from([0.05, 0.25, 0.5, 1.0, 3.0]), min_size=150, max_size=150),
    slots=st.integers(1, 6),
)
def test_registration_follows_the_multi_server_fifo_recurrence(gaps, services, slots):
    """Each arrival (in order) takes the slot that frees first: it starts at its arrival or when that slot
    frees, whichever is later, and ends a service time later. Checked against the textbook recurrence one
    arrival at a time, with queues that form and clear."""
    people, ids, centre = _arrivals_at_one_centre(gaps, services, slots)
    free = [0.0] * slots
    for i in ids.tolist():
        start = max(float(people.t_arrive[i]), heapq.heappop(free))
        heapq.heappush(free, start + services[i])
        assert people.t_reg_start[i] == start and people.t_reg_end[i] == start + services[i]


@settings(max_examples=200, deadline=None)
@given(
    present=st.integers(0, 3000),
    norm=st.integers(0, 2000),
    beds_above_norm=st.integers(0, 500),
    chairs=st.integers(0, 300),
    shelter=st.integers(0, 300),
)
def test_a_centres_night_count_splits_who_is_present_into_norm_beds_relief_and_outside(
    present, norm, beds_above_norm, chairs, shelter
):
    """Tonight at a centre: who is above the norm; above the beds, who sleeps on chairs or in the night shelter
    (up to their places) and who sleeps outside; the one-call count is what the separate properties say, and
    relief and outside together are everyone above the beds."""
    beds = norm + beds_above_norm  # a centre has at least its norm in beds
    centre = ApplicationCentre(
        Centre(norm_persons=norm, physical_limit_persons=beds, chairs_persons=chairs, night_shelter_places=shelter), 0
    )
    centre.present, centre.registering = present, present // 3
    count = centre.tonight()
    assert count == (present, present // 3, centre.above_norm, centre.in_relief, centre.outside)
    assert count[2] == max(present - norm, 0)
    assert count[3] + count[4] == max(present - beds, 0) and count[3] <= chairs + shelter
