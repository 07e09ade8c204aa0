"""COA's emergency shelter rules (noodopvang): when emergency locations are requested and closed.

COA counts the people who need a place (waiting at a centre or elsewhere,
registering, in crisis shelter) against the free places they can use (adults:
durable, temporary, emergency; unaccompanied minors: AMV, and emergency when
the scenario allows it) and the places already requested, treating places of
locations whose lease ends within the lead time as gone. Above a trigger it requests emergency locations of a fixed size, which
open after the lead time, up to a ceiling. Once a review period, on-demand
locations past their minimum lease close, emptiest first, if their residents
fit elsewhere with a buffer of free places to spare.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.reception.locations import AMV_PLACES, DURABLE, EMERGENCY, NEVER, TEMPORARY, Locations
from sim.reception.placement import Placement
from sim.scenario import Scenario


class EmergencyRules:
    """COA's on-demand emergency locations: requests, the places still to open, and closing."""

    def __init__(self, scenario: Scenario, locations: Locations, placement: Placement):
        self.cfg = scenario.reception.emergency
        self.amv_counts = scenario.reception.amv_overflow_to_emergency
        self.locations = locations
        self.placement = placement
        self.requested_places = 0  # emergency places requested, not yet open

    def opened(self, lid: int) -> None:
        """A location opened: if it was requested on demand, its places are no longer 'requested'."""
        if self.locations.on_demand[lid]:
            self.requested_places -= int(self.locations.places[lid])

    def needed(self, demand: tuple[int, int], free: np.ndarray) -> int:
        """Emergency places needed beyond the free ones: adults who find no free regular place, plus
        (when minors may use emergency places) minors who find no free AMV place; each group is set
        against the places it can use, so free adult places never hide minors' need."""
        adults, minors = demand
        need = max(adults - int(free[DURABLE] + free[TEMPORARY]), 0) + self.minors_in_emergency(minors, free)
        return need - int(free[EMERGENCY])

    def minors_in_emergency(self, minors: int, free: np.ndarray) -> int:
        """Minors who find no free AMV place and (when the scenario allows it) need an emergency place."""
        return max(minors - int(free[AMV_PLACES]), 0) if self.amv_counts else 0

    def shortfall(self, now: float, demand: tuple[int, int]) -> int:
        """Emergency places still to request: :meth:`needed`, minus places already requested, with the
        places of locations that close within the lead time counted as gone and their residents as
        needing a place again (COA knows its leases end)."""
        L = self.locations
        n = L.n
        horizon = now + self.cfg.lead_time_days
        closing = L.is_open[:n] & (L.close_day[:n] <= horizon)
        leaving = np.bincount(L.type[:n][closing], weights=L.occ[:n][closing], minlength=4)
        demand = (
            demand[0] + int(leaving[DURABLE] + leaving[TEMPORARY] + leaving[EMERGENCY]),
            demand[1] + int(leaving[AMV_PLACES]),
        )
        return self.needed(demand, self.placement.free_by_type(exclude=closing)) - self.requested_places

    def request(self, now: float, shortfall: int) -> list[int]:
        """Request emergency locations to cover ``shortfall`` (up to the ceiling); returns their ids."""
        cfg = self.cfg
        if not cfg.on_demand or shortfall <= cfg.open_trigger_persons:
            return []
        L = self.locations
        n = L.n
        current = int(L.places[:n][(L.type[:n] == EMERGENCY) & L.is_open[:n]].sum()) + self.requested_places
        room = max(0, cfg.ceiling_places - current)
        k = min(int(np.ceil(shortfall / cfg.location_size)), room // cfg.location_size)
        ids = []
        for _ in range(k):
            lid = L.add(EMERGENCY, cfg.location_size, now + cfg.lead_time_days, NEVER, -1, "on_demand", on_demand=True)
            self.requested_places += cfg.location_size
            ids.append(lid)
        return ids

    def closable(self, now: float, demand: tuple[int, int]) -> list[int]:
        """On-demand emergency locations past their minimum lease whose residents fit elsewhere with a
        buffer of free places to spare: emptiest first."""
        cfg = self.cfg
        L = self.locations
        n = L.n
        cand = np.flatnonzero(L.on_demand[:n] & L.is_open[:n] & (now - L.open_day[:n] >= cfg.min_lease_days))
        if len(cand) == 0:
            return []
        # adult places (regular and emergency) left free once everyone who needs one has one
        free = self.placement.free_by_type()
        spare = int(free[DURABLE] + free[TEMPORARY] + free[EMERGENCY]) - demand[0] - self.minors_in_emergency(demand[1], free)
        out = []
        for lid in cand[np.argsort(L.occ[cand], kind="stable")]:
            # closing frees nothing: its empty places go, its residents take places elsewhere
            cost = int(L.places[lid] - L.occ[lid]) + int(L.occ[lid])
            if spare - cost >= cfg.close_buffer_persons:
                out.append(int(lid))
                spare -= cost
        return out

    def review(
        self, day: int, now: float, open_location: Callable[[int], None], close_location: Callable[[int, float], None]
    ) -> None:
        """The day's decisions: request locations for the shortfall; on review days, close what is not needed."""
        demand = self.placement.demand()
        for lid in self.request(now, self.shortfall(now, demand)):
            open_location(lid)
        if day % self.cfg.review_interval_days == 0:
            for lid in self.closable(now, demand):
                close_location(lid, now)
