"""COA's placement and emergency rules: properties a reception planner would check."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario

from sim.model import Chain
from sim.people import AMV
from sim.reception.locations import DURABLE, EMERGENCY, N_TYPES, Locations


def test_minors_without_an_amv_place_get_emergency_places_although_adult_places_stand_free():
    """Minors (AMV) cannot use adult places, so free adult places must not hide their need: when no AMV
    place is free, COA searches emergency places for them; with a search that finds an offer within a
    few days once a dozen people need a place, every minor is placed within the lead time plus three weeks. (The emergency trigger once set waiting minors against free adult
    places: with many free durable places no emergency location was ever requested and minors waited
    at the centre for the whole run.)"""
    lead = 14
    # a search that finds an offer within days once the shortfall passes the trigger
    search = {"offers_per_week": 50, "half_saturation_persons": 10, "refusal_probability": 0, "lead_time_days": [lead, lead]}
    s = small_scenario(
        horizon_years=0.4,
        inflow={"first_applications_per_year": 3000, "amv_share_of_first": 0.5, "family_reunification_per_year": 0},
        reception={
            "amv_overflow_to_emergency": True,
            "emergency": {"on_demand": True, "open_trigger_persons": 10, **search},
        },
        capacity={
            "scheduled": [
                {"type": "durable", "places": 6000, "opens": "2025-01-01"},
                {"type": "amv", "places": 100, "opens": "2025-01-01"},
            ]
        },
        initial_state={"occupancy_durable": 800, "occupancy_temporary": 0, "occupancy_emergency": 0, "occupancy_amv": 100},
    )
    chain = Chain(s, seed=3)
    chain.run()
    p, n = chain.people, chain.people.n
    minors = (p.cat[:n] == AMV) & ~p.initial[:n] & (p.t_reg_end[:n] < chain.h - lead - 14)
    assert minors.sum() > 50
    wait = p.t_place[:n][minors] - p.t_reg_end[:n][minors]
    assert not np.isnan(wait).any(), f"{int(np.isnan(wait).sum())} minors were never placed"
    assert wait.max() <= lead + 21
    # and the adults kept the free adult places: nobody else waited
    free_adult = chain.locations.places[0] - chain.locations.occ[0]
    assert free_adult > 1000


def test_the_search_sets_minors_need_against_amv_places_and_adults_need_against_regular_places():
    """Emergency places needed = adults beyond free regular places + minors beyond free AMV places − free
    emergency and crisis places; free places of one group never cover the other's need."""
    chain = Chain(small_scenario(), seed=1)
    free = np.array([5000, 0, 0, 0, 0])  # durable, temporary, emergency, AMV, crisis
    assert chain.search.needed((0, 200), free) == 200  # minors: free durable places do not help
    assert chain.search.needed((4800, 0), free) == 0  # adults fit in the durable places
    assert chain.search.needed((5100, 30), np.array([5000, 0, 50, 10, 20])) == 100 + 20 - 70


def test_the_table_keeps_its_per_type_counts_through_growth_and_refuses_to_close_an_occupied_location():
    L = Locations(capacity=2)  # grows twice below: the per-type counts must not grow with the columns
    lids = [L.add(EMERGENCY if i % 2 else DURABLE, 10 + i, 0.0) for i in range(5)]
    for lid in lids:
        L.open(lid)
    L.open(lids[0])  # opening twice counts once
    L.fill(np.array([lids[1], lids[1], lids[2]]))
    assert L.open_places.tolist() == [10 + 12 + 14, 0, 11 + 13, 0, 0]
    assert L.occupied.tolist() == [1, 0, 2, 0, 0] and len(L.occupied) == N_TYPES
    with pytest.raises(RuntimeError, match="2 residents"):
        L.close(lids[1])
    L.vacate(np.array([lids[1], lids[1]]))
    L.close(lids[1])
    assert L.open_places[EMERGENCY] == 13 and not L.is_open[lids[1]]
