"""COA's placement policy (plaatsing): who waits for a place, who gets which place, and who moves.

Registered people wait at their application centre (or, for family who
register elsewhere, at home) in two FIFO queues: adults and families, and
unaccompanied minors (AMV). Every day COA's buses take up to the transfer limit
to free places: durable first, then temporary, then emergency; minors only AMV
places (optionally emergency, see the scenario). When a location closes its
residents move (one move each) to a free place or, if none is free, to crisis
emergency shelter (crisisnoodopvang), which has no place limit and is the
overflow tier. People in crisis shelter take any place that frees up, and once
a week emergency residents move up into free regular places so emergency
locations can close.
"""

from __future__ import annotations

import numpy as np

from sim.people import AC_WAITING, AMV, CRISIS, ELSEWHERE, GONE, LOCATION, IdQueue, People
from sim.reception.locations import ADULT_ORDER, AMV_PLACES, DURABLE, EMERGENCY, TEMPORARY, Locations
from sim.registration import ApplicationCentre
from sim.scenario import Scenario


class Placement:
    """The queues of people waiting for a place, the places they get, crisis shelter and the moves."""

    def __init__(self, scenario: Scenario, people: People, locations: Locations, centres: list[ApplicationCentre]):
        self.cfg = scenario.reception
        self.transfer_limit = scenario.registration.transfer_limit_per_day
        self.people = people
        self.locations = locations
        self.centres = centres
        self.adult_queue = IdQueue()  # registered adults and families waiting for a place, FIFO
        self.amv_queue = IdQueue()  # registered minors waiting for an AMV place
        self.crisis_queue = IdQueue()  # residents of crisis shelter, oldest first
        self.waiting = np.zeros(2, np.int64)  # valid entries of (adult_queue, amv_queue)
        self.crisis = 0  # persons in crisis emergency shelter tonight
        self.crisis_amv = 0  # of whom unaccompanied minors
        self.waiting_elsewhere = 0  # family registered elsewhere, waiting at home for a place
        self.moves = 0
        self.placed_ever = 0
        self.allow_reserved = False  # the reserve opens only while a centre is above its norm
        self._located = np.empty(0, np.int64)  # ids not gone at the last refresh (see _maybe_located)
        self._located_n = -1  # people.n at that refresh

    # --- places -----------------------------------------------------------------------

    def free_by_type(self, exclude: np.ndarray | None = None) -> np.ndarray:
        """Free places per location type (durable, temporary, emergency, AMV) in open, usable locations."""
        n = self.locations.n
        L = self.locations
        mask = L.is_open[:n] & (self.allow_reserved | ~L.reserved[:n])
        if exclude is not None:
            mask &= ~exclude
        # free places per type in one pass (np.isin on the type column was the hot spot of a run)
        return np.bincount(L.type[:n], weights=(L.places[:n] - L.occ[:n]) * mask, minlength=4)

    def free_places(self, types: tuple[int, ...], exclude: np.ndarray | None = None) -> int:
        free = self.free_by_type(exclude)
        return int(round(sum(free[t] for t in types)))

    def _slots(self, types: tuple[int, ...], k: int, exclude: int = -1) -> np.ndarray:
        """Location ids for up to ``k`` people: free places by type priority, then by location id."""
        L = self.locations
        n = L.n
        free = L.places[:n] - L.occ[:n]
        usable = L.is_open[:n] & (free > 0)
        if not self.allow_reserved:
            usable &= ~L.reserved[:n]
        if exclude >= 0:
            usable[exclude] = False
        cand = np.flatnonzero(usable)
        cand_type = L.type[cand]
        out = []
        need = k
        for t in types:
            c = cand[cand_type == t]
            if len(c) == 0:
                continue
            # only the first locations that cover the need, not one entry per free place of the type
            upto = int(np.searchsorted(np.cumsum(free[c]), need)) + 1
            slots = np.repeat(c[:upto], free[c[:upto]])[:need]
            out.append(slots)
            need -= len(slots)
            if need == 0:
                break
        return np.concatenate(out) if len(out) > 1 else (out[0] if out else np.empty(0, np.int64))

    def types_for(self, amv: bool) -> tuple[int, ...]:
        if amv:
            return (AMV_PLACES, EMERGENCY) if self.cfg.amv_overflow_to_emergency else (AMV_PLACES,)
        return ADULT_ORDER

    def place(self, ids: np.ndarray, now: float, amv: bool, exclude: int = -1, slots: np.ndarray | None = None) -> np.ndarray:
        """Put ``ids`` (in order) into free places (``slots`` if already found); returns the ids that found one."""
        if len(ids) == 0:
            return ids
        if slots is None:
            slots = self._slots(self.types_for(amv), len(ids), exclude)
        placed = ids[: len(slots)]
        if len(placed) == 0:
            return placed
        p = self.people
        first_time = np.isnan(p.t_place[placed])
        self.placed_ever += int(np.count_nonzero(first_time))
        p.t_place[placed[first_time]] = now
        was_at = p.where[placed]
        self.waiting_elsewhere -= int(np.count_nonzero(was_at == ELSEWHERE))
        from_crisis = was_at == CRISIS
        self.crisis -= int(np.count_nonzero(from_crisis))
        self.crisis_amv -= int(np.count_nonzero(from_crisis & (p.cat[placed] == AMV)))
        moved = placed[~first_time]
        p.moves[moved] += 1
        self.moves += len(moved)
        p.loc[placed] = slots
        p.where[placed] = LOCATION
        # bincount counts repeated slots like np.add.at would, at a fraction of its cost
        occ = self.locations.occ
        occ += np.bincount(slots, minlength=len(occ))
        return placed

    def release(self, ids: np.ndarray) -> None:
        """People give up their place or shelter (housed, departed, moved): free their places."""
        p = self.people
        at = p.where[ids]
        in_loc = ids[at == LOCATION]
        if len(in_loc):
            occ = self.locations.occ
            occ -= np.bincount(p.loc[in_loc], minlength=len(occ))
            p.loc[in_loc] = -1
        in_crisis = at == CRISIS
        self.crisis -= int(np.count_nonzero(in_crisis))
        self.crisis_amv -= int(np.count_nonzero(in_crisis & (p.cat[ids] == AMV)))
        self.waiting_elsewhere -= int(np.count_nonzero(at == ELSEWHERE))

    # --- arriving and leaving -----------------------------------------------------------

    def wait_elsewhere(self, ids: np.ndarray) -> None:
        """Family registered elsewhere wait at home (with their sponsor) for a place."""
        self.waiting_elsewhere += len(ids)
        self.adult_queue.push(ids)
        self.waiting[0] += len(ids)

    def wait_at_centre(self, ids: np.ndarray) -> None:
        """People whose registration ended (in order of completion) wait at their centre for a place."""
        amv = self.people.cat[ids] == AMV
        self.amv_queue.push(ids[amv])
        self.adult_queue.push(ids[~amv])
        self.waiting += (len(ids) - int(amv.sum()), int(amv.sum()))

    def leave(self, ids: np.ndarray, now: float) -> None:
        """People leave the chain (housed, joined a sponsor, departed): their queue entry, centre and place."""
        p = self.people
        at = p.where[ids]
        waiting = (at == AC_WAITING) | (at == ELSEWHERE)
        if waiting.any():
            amv = p.cat[ids[waiting]] == AMV
            self.waiting[1] -= int(amv.sum())
            self.waiting[0] -= int((~amv).sum())
        self._leave_centres(ids[at == AC_WAITING], now)
        self.release(ids)

    def _leave_centres(self, ids: np.ndarray, now: float) -> None:
        """People who were waiting at an application centre leave it (placed, housed or departed)."""
        if len(ids) == 0:
            return
        self.people.t_leave_ac[ids] = now
        for c, k in enumerate(np.bincount(self.people.centre[ids], minlength=len(self.centres))):
            self.centres[c].present -= int(k)

    def demand(self) -> tuple[int, int]:
        """People who need a place, as (adults and families, unaccompanied minors): waiting for one,
        registering at a centre, or in crisis shelter (for COA's emergency rule)."""
        registering_amv = sum(c.registering_amv for c in self.centres)
        registering = sum(c.registering for c in self.centres) - registering_amv
        adults = int(self.waiting[0]) + registering + self.crisis - self.crisis_amv
        return adults, int(self.waiting[1]) + registering_amv + self.crisis_amv

    # --- the daily transfer -------------------------------------------------------------

    def transfer(self, day: int, now: float) -> None:
        """Registered people move from the centres to free places; crisis and emergency residents move up."""
        p = self.people
        cfg = self.cfg
        limit = self.transfer_limit
        # an emergency reserve (Spreidingswet lever) takes people only while a centre is above its norm
        self.allow_reserved = any(c.above_norm > 0 for c in self.centres)
        for q, queue, is_amv in ((1, self.amv_queue, True), (0, self.adult_queue, False)):
            if limit <= 0 or self.waiting[q] == 0:
                continue
            # the places for min(limit, waiting) people, as far as free places go
            slots = self._slots(self.types_for(is_amv), min(limit, int(self.waiting[q])))
            ids = queue.pop(len(slots), lambda c: (p.where[c] == AC_WAITING) | (p.where[c] == ELSEWHERE))
            from_ac = ids[p.where[ids] == AC_WAITING]
            placed = self.place(ids, now, is_amv, slots=slots[: len(ids)])
            assert len(placed) == len(ids)
            self.waiting[q] -= len(ids)
            limit -= len(ids)
            self._leave_centres(from_ac, now)
        self.allow_reserved = False
        # people in crisis shelter take any place that is left (a move each)
        moves = cfg.consolidation_moves_per_day
        if self.crisis and moves:
            for is_amv in (True, False):
                free = self.free_places(self.types_for(is_amv))
                if free == 0:
                    continue
                cand = self.crisis_queue.view()
                cand = cand[(p.where[cand] == CRISIS) & ((p.cat[cand] == AMV) == is_amv)][: min(free, moves)]
                placed = self.place(cand, now, is_amv)
                moves -= len(placed)
            self.crisis_queue.compact(lambda c: p.where[c] == CRISIS)
        # once a week, emergency residents move into free regular places, so emergency locations can close
        if day % cfg.emergency.review_interval_days == 0 and self.waiting[0] == 0 and moves > 0:
            self._move_up(now, moves * cfg.emergency.review_interval_days)

    def _maybe_located(self) -> np.ndarray:
        """Ids (ascending) that may hold a place: everyone not gone at the last refresh and everyone added
        since. Leaving is final, so this is a superset of the residents, and much shorter than all records
        (most people of a long run have left); it is refreshed when the additions outgrow it."""
        p = self.people
        if self._located_n < 0 or p.n - self._located_n > len(self._located):
            self._located = np.flatnonzero(p.where[: p.n] != GONE)
            self._located_n = p.n
        if p.n == self._located_n:
            return self._located
        return np.concatenate([self._located, np.arange(self._located_n, p.n)])

    def _move_up(self, now: float, budget: int) -> None:
        p, L = self.people, self.locations
        free = self.free_places((DURABLE, TEMPORARY))
        k = min(free, budget)
        if k <= 0:
            return
        n = L.n
        em = np.flatnonzero(L.is_open[:n] & (L.type[:n] == EMERGENCY) & (L.occ[:n] > 0))
        if len(em) == 0:
            return
        # empty the locations whose lease ends first, then the emptiest, so whole locations can close
        em = em[np.lexsort((L.occ[em], L.close_day[em]))]
        # residents of those locations in that order (by id within a location), adults only, the first k
        rank = np.full(n, -1, np.int64)
        rank[em] = np.arange(len(em))
        cand = self._maybe_located()
        cand_loc = p.loc[cand]
        r = np.where(cand_loc >= 0, rank[cand_loc], -1)
        sel = np.flatnonzero(r >= 0)
        sel = sel[p.cat[cand[sel]] != AMV]
        ids = cand[sel[np.argsort(r[sel], kind="stable")]][:k]
        self.release(ids)
        placed = self.place(ids, now, False)
        assert len(placed) == len(ids)

    # --- closing -------------------------------------------------------------------------

    def close_location(self, lid: int, now: float) -> None:
        """Close a location; its residents move to free places or to crisis shelter (a move each)."""
        L = self.locations
        if not L.is_open[lid]:
            return
        p = self.people
        cand = self._maybe_located()
        residents = cand[p.loc[cand] == lid]
        L.occ[lid] -= len(residents)
        p.loc[residents] = -1
        p.where[residents] = CRISIS  # provisional: the placement below moves whoever finds a place
        self.crisis += len(residents)
        amv = p.cat[residents] == AMV
        self.crisis_amv += int(np.count_nonzero(amv))
        L.is_open[lid] = False
        L.close_day[lid] = min(L.close_day[lid], now)
        for group, is_amv in ((residents[~amv], False), (residents[amv], True)):
            placed = self.place(group, now, is_amv, exclude=lid)
            stranded = np.setdiff1d(group, placed, assume_unique=True)
            p.moves[stranded] += 1  # a move into crisis shelter is a move too
            self.moves += len(stranded)
        stranded = residents[p.where[residents] == CRISIS]
        self.crisis_queue.push(stranded)
