"""Monotone responses under common random numbers.

Two scenarios run with the same seed see the same people (every random
attribute is drawn on arrival from its part's own stream), so a lever that
only adds capacity must not make things worse on any seed, not just on
average:

* more IND production never lengthens the mean time to a decision: the backlog
  is FIFO and its order of entry does not depend on production;
* more places (an extra durable location that stays open) never add emergency
  person-nights.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SMALL_LOCATIONS, small_scenario
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
            procedure={"decisions_per_week": production + bonus, "production_changes": [{"date": "2026-03-01", "decisions_per_week": later + bonus}]},
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

    assert run([{"type": "durable", "places": places, "opens": opens}]) <= run([])
