"""Monotone responses under common random numbers.

Two scenarios run with the same seed see the same people (every random
attribute is drawn on arrival from its part's own stream), so a lever that
only adds capacity must not make things worse on any seed, not just on
average:

* more IND production never lengthens the mean time to a decision: the backlog
  is FIFO and its order of entry does not depend on production;
* more places (an extra durable location) never add person-nights without a
  regular place: in emergency or crisis shelter, or waiting at an application
  centre.

The second property once held only within 1 %: people leave as persons, so
extra places changed *who* sat in emergency shelter, and crisis shelter was an
unbounded sink that kept some paths apart. Since crisis shelter has places and
people without one wait at the centre, it holds exactly. It is stated for
everyone without a regular place, not for emergency shelter alone: with ten
more places, COA's search can open an emergency location some days earlier
while, without them, the same people wait at the centre (a fresh world found
it: 104 more emergency person-nights of 82,000, and 1,376 fewer person-nights
without a regular place). The default run draws its examples
deterministically (the same worlds in CI every time); the slow run explores
fresh ones.

It holds for the places COA has, not for what COA then decides to build: COA's
regular acquisition starts projects only for a gap of at least
``min_gap_places``, so ten more places can keep the gap below that minimum and
a 250-place project is never started (a fresh world found it: 903 more
person-nights without a regular place of 50,000; the last test shows it). The
property is stated with that acquisition off; the emergency search, which also
responds to the shortfall, stays drawn.
"""

from __future__ import annotations

import pytest
from conftest import SMALL_LOCATIONS, small_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import simulate

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
EXPLORE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    production=st.integers(0, 120),
    extra=st.integers(1, 80),
    later=st.integers(0, 120),
    inflow=st.integers(500, 8000),
    slots=st.integers(5, 60),
)
def test_more_ind_production_never_lengthens_the_time_to_decision(seed, production, extra, later, inflow, slots):
    def run(bonus: int) -> float:
        s = small_scenario(
            inflow={"first_applications_per_year": inflow},
            registration={"centres": [{"name": "AC", "slots": slots, "norm_persons": 200, "physical_limit_persons": 260}]},
            procedure={
                "decisions_per_week": production + bonus,
                "production_changes": [{"date": "2026-03-01", "decisions_per_week": later + bonus}],
            },
        )
        return simulate(s, seed=seed).summary["mean_days_to_decision"]

    assert run(extra) <= run(0)


WORLD = dict(
    seed=st.integers(0, 2**31),
    places=st.integers(10, 600),
    opens=st.sampled_from(["2025-06-01", "2026-01-15", "2026-03-01"]),
    inflow=st.integers(1000, 9000),
    transfer=st.integers(10, 80),
    on_demand=st.booleans(),
    amv_overflow=st.booleans(),
)


def more_places_never_add_nights_without_a_regular_place(seed, places, opens, inflow, transfer, on_demand, amv_overflow):
    def run(extra_location: list[dict]) -> float:
        s = small_scenario(
            inflow={"first_applications_per_year": inflow},
            registration={"transfer_limit_per_day": transfer},
            reception={
                "amv_overflow_to_emergency": amv_overflow,
                "emergency": {"on_demand": on_demand},
                "acquisition": {"enabled": False},  # (see the module: its minimum gap is a threshold)
            },
            capacity={"scheduled": SMALL_LOCATIONS + extra_location},
        )
        ts = simulate(s, seed=seed).timeseries
        return float((ts["occupancy_emergency"] + ts["occupancy_crisis"] + ts["ac_occupancy"]).sum())

    with_more, without = run([{"type": "durable", "places": places, "opens": opens}]), run([])
    assert with_more <= without


@SETTINGS
@given(**WORLD)
def test_more_places_never_add_nights_without_a_regular_place(**world):
    more_places_never_add_nights_without_a_regular_place(**world)


@pytest.mark.slow
@EXPLORE
@given(**WORLD)
def test_more_places_never_add_nights_without_a_regular_place_in_fresh_worlds(**world):
    more_places_never_add_nights_without_a_regular_place(**world)


def test_a_minimum_gap_can_make_ten_more_places_cost_a_project_coa_would_have_started():
    """The world a fresh search found: with COA's regular acquisition on, ten more durable places keep its gap
    below the 500-place minimum at the review where, without them, it starts a 250-place temporary location;
    without that location more people wait at the application centre. Capacity acts through what COA decides,
    so more places are not always fewer nights without one."""

    def run(extra: list[dict]):
        s = small_scenario(
            inflow={"first_applications_per_year": 1851},
            registration={"transfer_limit_per_day": 10},
            reception={"amv_overflow_to_emergency": False, "emergency": {"on_demand": False}},
            capacity={"scheduled": SMALL_LOCATIONS + extra},
        )
        assert s.reception.acquisition.enabled and s.reception.acquisition.min_gap_places == 500
        result = simulate(s, seed=2031, keep_records=True)
        ts = result.timeseries
        return result.locations, float((ts["occupancy_emergency"] + ts["occupancy_crisis"] + ts["ac_occupancy"]).sum())

    with_more, nights_with_more = run([{"type": "durable", "places": 10, "opens": "2025-06-01"}])
    without, nights_without = run([])
    assert (with_more["origin"] == "coa").sum() == 0
    assert without.loc[without["origin"] == "coa", "places"].tolist() == [250]
    assert nights_with_more > nights_without
