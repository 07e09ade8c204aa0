"""Monotone responses under common random numbers.

Two scenarios run with the same seed see the same people (every random
attribute is drawn on arrival from its part's own stream), so a lever that
only adds capacity must not make things worse on any seed, not just on
average:

* more IND production never lengthens the mean time to a decision: the backlog
  is FIFO and its order of entry does not depend on production;
* more places (an extra durable location that stays open) add no more than 1 %
  to emergency person-nights on any path.

The second property does not hold exactly path by path, and that is a finding,
not a tolerance for noise. People leave the chain as persons: housing takes the
oldest permits, departures follow each person's own delay. Extra places change
*who* sits in emergency shelter, not only how many. In one run a person about
to be housed is moved up into a regular place and a newcomer takes the
emergency bed; in the other the person leaves from the emergency bed itself.

Hypothesis found such paths. One is seed 0 with 10 extra places from the
start, inflow 7,806, transfer limit 25 and no on-demand emergency: 49,020
against 48,949 person-nights. In about 800 random cases the excess stayed
below 0.8 %, and it happens only without on-demand emergency shelter.
"""

from __future__ import annotations

from conftest import SMALL_LOCATIONS, small_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import simulate

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    places=st.integers(10, 600),
    opens=st.sampled_from(["2025-06-01", "2026-01-15", "2026-03-01"]),
    inflow=st.integers(1000, 9000),
    transfer=st.integers(10, 80),
    on_demand=st.booleans(),
    amv_overflow=st.booleans(),
)
def test_more_places_never_add_emergency_person_nights(seed, places, opens, inflow, transfer, on_demand, amv_overflow):
    def run(extra_location: list[dict]) -> float:
        s = small_scenario(
            inflow={"first_applications_per_year": inflow},
            registration={"transfer_limit_per_day": transfer},
            reception={"amv_overflow_to_emergency": amv_overflow, "emergency": {"on_demand": on_demand}},
            capacity={"scheduled": SMALL_LOCATIONS + extra_location},
        )
        return simulate(s, seed=seed).summary["emergency_person_nights"]

    with_more, without = run([{"type": "durable", "places": places, "opens": opens}]), run([])
    assert with_more <= without * 1.01  # see the module docstring: person identity, not capacity, makes the excess
