"""COA's emergency shelter (noodopvang): locations are found by searching, not ordered.

Every day COA sets the people who need a place (waiting at a centre or
elsewhere, registering) against the free places they can use (adults: durable,
temporary, emergency, crisis; minors: AMV, and emergency when the scenario
allows it) and the places already promised, counting places whose lease ends
within the longest lead time as gone. While that shortfall exceeds a trigger,
COA searches: offers of locations (a hall, a hotel, a ship, a holiday park)
arrive as a Poisson process whose rate rises with the shortfall and with
pressure at the application centres (the share of recent nights above the
norm), up to a bound:

    offers per day = offers_per_week / 7 × s / (s + half_saturation) × (1 + pressure_boost × pressure)

An offer may be refused locally; an accepted one opens after its lead time for
the length of its lease. At the lease's end the location is extended with some
chance while its places are still needed; otherwise it closes and its
residents move. Once a review period COA ends leases early (after the minimum
lease) when the places are not needed.

Common random numbers: candidate offers are drawn up front at a fixed ceiling
rate, each with its own uniforms (thinning, refusal, size, lead time, lease),
and thinned to the day's rate. Two scenarios with the same seed therefore see
the same candidates, and a higher rate accepts a superset of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from sim.compiled import jit
from sim.reception.locations import AMV_PLACES, CRISIS_PLACES, DURABLE, EMERGENCY, N_TYPES, TEMPORARY, Locations, per_type
from sim.reception.placement import Placement, free_places_by_type
from sim.scenario import Scenario
from sim.streams import Keyed

# candidate offers are drawn at this rate (per week) or the scenario's bound, whichever is higher, so the
# candidates do not depend on the search parameters (common random numbers across them)
CANDIDATE_RATE_PER_WEEK = 40.0
KEY_SEARCH = 0  # lease keys: search offers count up from here; other origins use their own ranges


@jit
def _closing_by(open_ids, close_day, horizon, types, occ) -> tuple[np.ndarray, tuple[int, ...]]:
    """Open locations whose lease ends by ``horizon`` (ascending, as ``open_ids``), and their residents per type
    (a tuple by type code, :func:`per_type`)."""
    out = np.empty(len(open_ids), open_ids.dtype)
    leaving = np.zeros(N_TYPES, np.int64)
    n = 0
    for lid in open_ids:
        if close_day[lid] <= horizon:
            out[n] = lid
            leaving[types[lid]] += occ[lid]
            n += 1
    return out[:n], per_type(leaving)


@jit
def _closing_and_free(
    open_ids, close_day, horizon, types, occ, open_places, occupied, allow_reserved, reserved_ids, is_open, reserved, places
):
    """:func:`_closing_by`'s residents per type of the locations whose lease ends by ``horizon``, and the free places
    per type without those locations (:func:`sim.reception.placement.free_places_by_type`), in one call: the
    locations' ids stay in it (numba fetches the type of an array it hands back through a Python call)."""
    closing, leaving = _closing_by(open_ids, close_day, horizon, types, occ)
    free = free_places_by_type(
        open_places, occupied, closing, allow_reserved, reserved_ids, is_open, reserved, types, places, occ
    )
    return leaving, free


class EmergencySearch:
    """COA's search for emergency locations, the places it has been promised, its leases, and the life of
    every location (opening, lease extensions, closing)."""

    def __init__(
        self, scenario: Scenario, locations: Locations, placement: Placement, rng: np.random.Generator, horizon_days: int
    ):
        cfg = self.cfg = scenario.reception.emergency
        self.amv_counts = scenario.reception.amv_overflow_to_emergency
        self.locations = locations
        self.placement = placement
        self.promised = 0  # places of emergency and crisis locations that will open (accepted offers, requests)
        self._promised_at: dict[int, int] = {}
        self.offers_accepted = 0
        self.offers_refused = 0
        # one seed for candidate counts, one for their attributes, one for lease extensions: each stream's
        # numbers for day d do not depend on the horizon or on anything the run does
        seeds = np.random.SeedSequence(int(rng.integers(2**63))).spawn(3)
        counts_rng, attr_rng = (np.random.Generator(np.random.PCG64(s)) for s in seeds[:2])
        # a lease's extension draws: keyed by the lease and the extension
        self._extension_keys = Keyed(int(seeds[2].generate_state(1, np.uint64)[0]))
        self.rate_ceiling = max(CANDIDATE_RATE_PER_WEEK, cfg.offers_per_week * (1 + cfg.pressure_boost)) / 7
        per_day = counts_rng.poisson(self.rate_ceiling, size=horizon_days)
        self._offset = np.concatenate([[0], np.cumsum(per_day)])
        # per candidate: thinning, refusal, size, lead time, lease
        self._u = attr_rng.random((int(self._offset[-1]), 5))
        # per day the smallest thinning uniform of its candidates (1: none): a day none of whose candidates
        # could pass at the highest rate the pressure allows needs no shortfall (the busiest part of a review)
        nonempty = per_day > 0
        self._lowest_u = np.ones(horizon_days)
        if nonempty.any():
            self._lowest_u[nonempty] = np.minimum.reduceat(self._u[:, 0], self._offset[:-1][nonempty])

    # --- what COA knows ------------------------------------------------------------------

    def promise(self, lid: int) -> None:
        """A location that will open later: its places count as coming."""
        places = int(self.locations.places[lid])
        self._promised_at[lid] = places
        self.promised += places

    def opened(self, lid: int) -> None:
        """A location opened: if it was promised, its places are no longer 'coming'."""
        self.promised -= self._promised_at.pop(lid, 0)

    def open(self, lid: int) -> None:
        """Location ``lid`` opens today."""
        self.locations.open(lid)
        self.opened(lid)

    def announce(self, lid: int, open_now: bool) -> None:
        """A location registered during the run: it opens at once, or (emergency and crisis) counts as coming."""
        if open_now:
            self.open(lid)
        elif self.locations.type[lid] in (EMERGENCY, CRISIS_PLACES):
            self.promise(lid)  # COA counts emergency and crisis places that will open as coming

    def minors_in_emergency(self, minors: int, free: tuple[int, ...]) -> int:
        """Minors who find no free AMV place and (when the scenario allows it) need an emergency place."""
        return max(minors - int(free[AMV_PLACES]), 0) if self.amv_counts else 0

    def needed(self, demand: tuple[int, int], free: tuple[int, ...]) -> int:
        """Emergency places needed beyond the free ones: adults who find no free regular place, plus
        minors who find no free AMV place (when they may use emergency places); each group is set
        against the places it can use, so free adult places never hide minors' need."""
        adults, minors = demand
        need = max(adults - int(free[DURABLE] + free[TEMPORARY]), 0) + self.minors_in_emergency(minors, free)
        return need - int(free[EMERGENCY] + free[CRISIS_PLACES])

    def spare(self, demand: tuple[int, int], free: tuple[int, ...]) -> int:
        """Adult places (regular, emergency, crisis) left free once everyone who needs one has one."""
        adult_free = int(free[DURABLE] + free[TEMPORARY] + free[EMERGENCY] + free[CRISIS_PLACES])
        return adult_free - demand[0] - self.minors_in_emergency(demand[1], free)

    def shortfall(self, now: float, demand: tuple[int, int]) -> int:
        """Places still to find: :meth:`needed`, minus places promised, with the places of locations whose
        lease ends within the longest lead time counted as gone and their residents as needing a place."""
        L = self.locations
        horizon = now + self.cfg.lead_time_days[1]
        # per type (Python ints): who lives in the locations whose lease ends by then, and the free places without them
        leaving, free = _closing_and_free(
            L.open_ids,
            L.close_day,
            horizon,
            L.type,
            L.occ,
            L.open_places,
            L.occupied,
            self.placement.allow_reserved,
            L.reserved_ids,
            L.is_open,
            L.reserved,
            L.places,
        )
        demand = (demand[0] + sum(leaving) - leaving[AMV_PLACES], demand[1] + leaving[AMV_PLACES])
        return self.needed(demand, free) - self.promised

    # --- the search ------------------------------------------------------------------------

    def rate(self, shortfall: int, pressure: float) -> float:
        """Offers per day at this shortfall (persons) and pressure (share of recent nights above the norm)."""
        cfg = self.cfg
        s = max(shortfall - cfg.open_trigger_persons, 0)
        if not cfg.on_demand or s <= 0:
            return 0.0
        return cfg.offers_per_week / 7 * s / (s + cfg.half_saturation_persons) * (1 + cfg.pressure_boost * pressure)

    def _may_accept(self, day: int, pressure: float) -> bool:
        """Whether a candidate of day ``day`` passes the thinning at the highest rate this pressure allows (any
        shortfall): if none can, the search offers nothing whatever the shortfall. With a margin for rounding."""
        cfg = self.cfg
        if not cfg.on_demand:
            return False
        highest = cfg.offers_per_week / 7 * (1 + cfg.pressure_boost * pressure) / self.rate_ceiling
        return bool(self._lowest_u[day] < highest * (1 + 1e-9))

    def search(self, day: int, now: float, shortfall: int, pressure: float, open_location: Callable[..., int]) -> None:
        """The day's offers: thin the day's candidates to the rate, refuse some, accept what is still needed."""
        lam = self.rate(shortfall, pressure)
        a, b = self._offset[day], self._offset[day + 1]
        if lam <= 0 or a == b:
            return
        cfg = self.cfg
        u = self._u[a:b]
        room = cfg.ceiling_places - int(self.locations.open_places[EMERGENCY]) - self.promised
        for j in np.flatnonzero(u[:, 0] < lam / self.rate_ceiling):
            if u[j, 1] < cfg.refusal_probability:
                self.offers_refused += 1
                continue
            lo, hi = cfg.size_places
            size = int(round(np.exp(np.log(lo) + u[j, 2] * (np.log(hi) - np.log(lo)))))
            if shortfall <= cfg.open_trigger_persons:
                break
            if size > room:
                continue
            lead = cfg.lead_time_days[0] + u[j, 3] * (cfg.lead_time_days[1] - cfg.lead_time_days[0])
            lease = cfg.lease_days[0] + u[j, 4] * (cfg.lease_days[1] - cfg.lease_days[0])
            open_location(EMERGENCY, size, now + lead, now + lead + lease, key=KEY_SEARCH + a + j)
            self.offers_accepted += 1
            shortfall -= size
            room -= size

    # --- leases -----------------------------------------------------------------------------

    def still_needed(self, lid: int) -> bool:
        """Would closing ``lid`` leave fewer free places than the close buffer, once everyone has a place?"""
        L = self.locations
        demand = self.placement.demand()
        free = self.placement.free_by_type(exclude=np.array([lid]))
        return self.spare(demand, free) - int(L.occ[lid]) < self.cfg.close_buffer_persons

    def extend(self, lid: int, now: float) -> float | None:
        """At the end of a lease: a new closing day if the lease is extended, else None."""
        L = self.locations
        if not L.extendable[lid] or not self.still_needed(lid):
            return None
        rng = self._extension_keys.uniforms(int(L.key[lid]), int(L.extensions[lid]))
        u_extend, u_lease = rng.random(2)
        if u_extend >= self.cfg.extension_probability:
            return None
        L.extensions[lid] += 1
        lo, hi = self.cfg.lease_days
        return now + lo + u_lease * (hi - lo)

    def lifetime(
        self, env: simpy.Environment, lid: int, at: float, horizon_days: int, closed: Callable[[int], None]
    ) -> Generator[float, None, None]:
        """A location's life (a routine, :mod:`sim.routines`: it yields the days it waits): it opens, lives, its
        lease may be extended, it closes (its residents move). Each step happens at time ``at`` of its day;
        ``closed`` hears of a closing at a lease's end."""
        L = self.locations
        # the dates as Python floats (.item): numpy scalars made each step's arithmetic and the clock several times
        # dearer, for the same numbers
        if not L.is_open[lid]:
            yield max(L.open_day.item(lid) + at - env.now, 0)
            if L.close_day.item(lid) <= env.now:
                self.opened(lid)  # it never opens: no longer coming
                return
            self.open(lid)
        close = L.close_day.item(lid)
        while math.isfinite(close) and close < horizon_days:
            yield max(close + at - env.now, 0)
            if not L.is_open[lid]:
                return  # COA ended the lease early
            extended = self.extend(lid, env.now)
            if extended is None:
                self.placement.close_location(lid, env.now)
                closed(lid)
                return
            L.close_day[lid] = extended
            close = L.close_day.item(lid)

    def closable(self, now: float) -> list[int]:
        """Leased locations past their minimum lease whose residents fit elsewhere with the close buffer
        to spare: emptiest first (COA ends leases early when the places are not needed)."""
        cfg = self.cfg
        L = self.locations
        cand = L.open_ids[L.extendable[L.open_ids] & (now - L.open_day[L.open_ids] >= cfg.min_lease_days)]
        if len(cand) == 0:
            return []
        spare = self.spare(self.placement.demand(), self.placement.free_by_type())
        out = []
        for lid in cand[np.argsort(L.occ[cand], kind="stable")]:
            # closing frees nothing: its empty places go, its residents take places elsewhere
            cost = int(L.places[lid])
            if spare - cost >= cfg.close_buffer_persons:
                out.append(int(lid))
                spare -= cost
        return out

    def review(
        self,
        day: int,
        now: float,
        pressure: float,
        open_location: Callable[..., int],
        close_location: Callable[[int, float], None],
    ) -> None:
        """The day's decisions: search for the shortfall; on review days, end leases that are not needed."""
        if self._may_accept(day, pressure):
            self.search(day, now, self.shortfall(now, self.placement.demand()), pressure, open_location)
        if day % self.cfg.review_interval_days == 0:
            for lid in self.closable(now):
                close_location(lid, now)
