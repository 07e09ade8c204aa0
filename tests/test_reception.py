"""COA's placement and emergency rules: properties a reception planner would check."""

from __future__ import annotations

import numpy as np
from conftest import small_scenario

from sim.model import Chain
from sim.people import AMV


def test_minors_without_an_amv_place_get_emergency_places_although_adult_places_stand_free():
    """Minors (AMV) cannot use adult places, so free adult places must not hide their need: when no AMV
    place is free, COA requests emergency places for them and every minor is placed within the lead
    time plus a week of review slack. (The emergency trigger once set waiting minors against free adult
    places: with many free durable places no emergency location was ever requested and minors waited
    at the centre for the whole run.)"""
    lead = 14
    s = small_scenario(
        horizon_years=0.4,
        inflow={"first_applications_per_year": 3000, "amv_share_of_first": 0.5, "family_reunification_per_year": 0},
        reception={
            "amv_overflow_to_emergency": True,
            "emergency": {"on_demand": True, "lead_time_days": lead, "open_trigger_persons": 10},
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
    assert wait.max() <= lead + 7 + 1
    # and the adults kept the free adult places: nobody else waited
    free_adult = chain.locations.places[0] - chain.locations.occ[0]
    assert free_adult > 1000
