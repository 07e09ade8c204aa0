"""COA's placement policy (plaatsing): who waits for a place, who gets which place, and who moves.

Registered people wait at their application centre (or, for family who
register elsewhere, at home) in two FIFO queues: adults and families, and
unaccompanied minors (AMV). Every day COA's buses take up to the transfer limit
to free places in COA's order of preference: durable, temporary, emergency,
then municipal crisis shelter; minors only AMV places (and emergency when the
scenario allows it). When a centre is above its norm and another has room below
its norm, buses move registered people between them (to Budel).

When a location closes its residents move (one move each) to a free place; who
finds none goes back to the application centre and is first in line there. Every
day residents of crisis shelter move into free places of a better type, and once
a week, when nobody waits, emergency residents move into free regular places so
emergency locations can close; both within a daily budget of moves.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import jit
from sim.people import AC_WAITING, AMV, ELSEWHERE, GONE, LOCATION, NO_TIMES, WHERE_NAMES, IdQueue, People, scan_queue
from sim.reception.locations import (
    ADULT_ORDER,
    AMV_PLACES,
    CRISIS_PLACES,
    DURABLE,
    EMERGENCY,
    TEMPORARY,
    Locations,
    add_person,
    per_type,
)
from sim.registration import ApplicationCentre
from sim.scenario import Scenario

# per ``where`` code: does a person there still wait for a place (at a centre or elsewhere)? One lookup
# instead of reading and comparing twice, on every queue entry the day's transfer passes
WAITS_FOR_PLACE = np.zeros(len(WHERE_NAMES), bool)
WAITS_FOR_PLACE[[AC_WAITING, ELSEWHERE]] = True


@jit
def _seat(ids, slots, now, t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types):
    """Records of ``ids`` placed in ``slots`` (one each) at ``now``, and the locations' head counts (``occ``,
    ``occupied``, ``types``: the location table's); who waited at an application centre leaves it
    (``t_leave_ac``). Returns how many got their first place, how many had waited elsewhere, how many moved
    (they held a place before); who left a centre is counted off its ``present``."""
    first = elsewhere = moved = 0
    for i in range(len(ids)):
        p = ids[i]
        if loc[p] >= 0:  # the records are updated one person at a time: a repeat would count twice
            raise ValueError("a person was placed while holding a place (not released, or listed twice)")
        if where[p] == ELSEWHERE:
            elsewhere += 1
        elif where[p] == AC_WAITING:
            t_leave_ac[p] = now
            present[centre[p]] -= 1
        if np.isnan(t_place[p]):
            t_place[p] = now
            first += 1
        else:
            moves[p] += 1
            moved += 1
        loc[p] = slots[i]
        where[p] = LOCATION
        add_person(occ, occupied, types, slots[i], 1)
    return first, elsewhere, moved


# a compiled loop updates the records one person at a time, so a repeated id would take a place off a
# location twice (with loc = -1 the second time: the table's last row)
GAVE_UP_TWICE = "a person gave up a place twice (listed twice, or released already)"


@jit
def _give_up(p, loc, occ, occupied, types) -> None:
    """Person ``p``, placed in a location, gives up the place (its head counts go down)."""
    if loc[p] < 0:
        raise ValueError(GAVE_UP_TWICE)
    add_person(occ, occupied, types, loc[p], -1)
    loc[p] = -1


@jit
def _unseat(ids, where, loc, occ, occupied, types) -> int:
    """Records of ``ids`` who give up their place, and the locations' head counts; returns how many were
    waiting elsewhere (their ``where`` stays for the caller to set)."""
    elsewhere = 0
    for p in ids:
        if where[p] == LOCATION:
            _give_up(p, loc, occ, occupied, types)
        elif where[p] == ELSEWHERE:
            elsewhere += 1
    return elsewhere


@jit
def _free_slots(open_tab, n_open, types, places, occ, reserved, skip_reserved, exclude, need) -> np.ndarray:
    """Up to ``need`` places in the open locations of ``types`` (``open_tab``, ``n_open``: per type their ids,
    ascending, :class:`~sim.reception.locations.Locations`), a location's id once per free place it gives: by type
    in the order given, then by id; reserved locations (when ``skip_reserved``) and ``exclude`` give none."""
    out = np.empty(max(need, 0), np.int64)
    n = 0
    for t in types:
        for i in range(n_open[t]):
            lid = open_tab[t, i]
            if n == need:
                return out
            if lid == exclude or (skip_reserved and reserved[lid]):
                continue
            for _ in range(min(places[lid] - occ[lid], need - n)):  # free places: >= 0, nobody sits beyond them
                out[n] = lid
                n += 1
    return out[:n]


@jit
def free_places_by_type(open_places, occupied, exclude, allow_reserved, reserved_ids, is_open, reserved, types, places, occ):
    """Free places per type in open locations (``open_places - occupied``), less those of ``exclude`` (distinct
    ids) and of the reserve while it is held back (``allow_reserved`` false), each location taken off once,
    and only while open: a tuple by type code (:func:`per_type`)."""
    free = open_places - occupied  # nobody sits in a location that is not open
    for lid in exclude:
        if is_open[lid] and (allow_reserved or not reserved[lid]):  # a held-back reserve comes off below
            free[types[lid]] -= places[lid] - occ[lid]
    if not allow_reserved:
        for lid in reserved_ids:
            if is_open[lid]:
                free[types[lid]] -= places[lid] - occ[lid]
    return per_type(free)


NOTHING_EXCLUDED = np.empty(0, np.int64)


@jit
def _split_minors(ids, cat) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` split into adults and families, and unaccompanied minors (each in the given order)."""
    minor = np.empty(len(ids), np.bool_)
    for i in range(len(ids)):
        minor[i] = cat[ids[i]] == AMV
    return ids[~minor], ids[minor]


@jit
def _queue_by_group(ids, cat, adults, adults_tail, minors, minors_tail) -> tuple[int, int]:
    """``ids`` (in order) appended to the adults' and families' queue or the minors' (``adults``, ``minors``:
    their buffers, with room after their tails); returns the new tails."""
    for p in ids:
        if cat[p] == AMV:
            minors[minors_tail] = p
            minors_tail += 1
        else:
            adults[adults_tail] = p
            adults_tail += 1
    return adults_tail, minors_tail


NO_KINDS = np.empty(0, np.int8)  # exit kinds when one kind is given for all


@jit
def _leave(
    ids,
    where,
    cat,
    centre,
    loc,
    t_leave_ac,
    t_exit,
    exit_kind,
    status,
    now,
    kinds,
    kind,
    new_status,
    occ,
    occupied,
    types,
    waiting,
    present,
):
    """Records of ``ids`` who leave the chain at ``now``: gone, with ``t_exit``, their exit kind (``kinds[i]``, or
    ``kind`` for all when ``kinds`` is empty) and ``new_status``; who waited at a centre gets ``t_leave_ac``;
    the places they held and the counts of who waits for one (``waiting``: adults and families, minors) go
    down, and who leaves a centre is counted off its ``present``. Returns how many were waiting elsewhere."""
    elsewhere = 0
    for i in range(len(ids)):
        p = ids[i]
        w = where[p]
        if w == AC_WAITING or w == ELSEWHERE:
            waiting[1 if cat[p] == AMV else 0] -= 1
            if w == AC_WAITING:
                t_leave_ac[p] = now
                present[centre[p]] -= 1
            else:
                elsewhere += 1
        elif w == LOCATION:
            _give_up(p, loc, occ, occupied, types)
        elif w == GONE:
            raise ValueError("a person left the chain twice (listed twice, or gone already)")
        where[p] = GONE
        t_exit[p] = now
        exit_kind[p] = kinds[i] if len(kinds) else kind
        status[p] = new_status
    return elsewhere


@jit
def _ascending_once(ids) -> np.ndarray:
    """``ids`` ascending, each once (someone placed in a location twice, having moved out and back, is listed
    twice)."""
    out = np.sort(ids)
    m = 0
    for i in range(len(out)):
        if i == 0 or out[i] != out[m - 1]:
            out[m] = out[i]
            m += 1
    return out[:m]


@jit
def _link(ids, lids, nxt, head, start, new_ids, new_lids) -> int:
    """Append placements (``new_ids`` into ``new_lids``) at entry ``start`` on, each at the front of its
    location's chain (``head``: a location's newest entry, ``nxt``: an entry's next older one, -1 ends). Every
    entry is written; the linking stops at a location beyond ``head`` (:meth:`Residents.appended` links the rest
    from the log once the heads have grown). Returns how many were linked. ``new_ids`` and ``new_lids`` may be
    the log's own entries from ``start`` on (each entry is then written with itself)."""
    linked = len(new_ids)
    for i in range(len(new_ids)):
        lid = new_lids[i]
        e = start + i
        ids[e], lids[e] = new_ids[i], lid
        if i < linked:
            if lid >= len(head):
                linked = i
            else:
                nxt[e], head[lid] = head[lid], e
    return linked


@jit
def _seat_listed(ids, slots, now, records, log):
    """:func:`_seat` (``records``: its arrays after ``now``, see :meth:`Placement._records`), and the placements
    appended to the residents' log (``log``: its ids, location ids, chain links and heads, and the first free
    entry) in the same call. Returns what :func:`_seat` returns and how many placements were appended (all,
    unless a location lies beyond the chains' heads)."""
    t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types = records
    first, elsewhere, moved = _seat(
        ids, slots, now, t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types
    )
    log_ids, log_lids, nxt, head, start = log
    return first, elsewhere, moved, _link(log_ids, log_lids, nxt, head, start, ids, slots)


@jit
def _take_from_queue(queue, q, waiting, limit, valid, free, now, records):
    """Queue ``q``'s part of the day's transfer: the free places (``free``: the open locations per type, the
    types in COA's order, the places and the reserve, whether to skip it) for up to ``limit`` of the people who
    wait in it (``waiting[q]`` of its entries, counted down here), the first that many of them (``queue``: its
    buffer, head and tail), and their seating (:func:`_seat`). Returns the ids placed, their locations, the
    queue's new head and what :func:`_seat` returns."""
    buf, head, tail = queue
    if limit <= 0 or waiting[q] <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), head, 0, 0, 0
    open_tab, n_open, type_order, places, reserved, skip_reserved = free
    t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types = records
    slots = _free_slots(open_tab, n_open, type_order, places, occ, reserved, skip_reserved, -1, min(limit, waiting[q]))
    taken, new_head = scan_queue(buf, head, tail, len(slots), valid, where, NO_TIMES, 0.0)
    ids, head = buf[head : head + taken], new_head
    slots = slots[: len(ids)]  # fewer still waiting than counted: cannot happen while the counts hold
    first, elsewhere, moved = _seat(
        ids, slots, now, t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types
    )
    waiting[q] -= len(ids)
    return ids, slots, head, first, elsewhere, moved


@jit
def _transfer_queues(minors, adults, waiting, limit, valid, free, now, records, log):
    """The day's transfer from both queues in one call: minors first, then adults and families, up to ``limit``
    people in all and as far as free places go (``free``: as for :func:`_take_from_queue`, with the type orders
    of minors and of adults in place of one; ``waiting``: the valid entries of each queue); the placements
    appended to the residents' log in that order (``log``: as for :func:`_seat_listed`). Returns the queues' new
    heads, how many were placed (minors first, at the log's entries from its first free one,
    ``log``), the counts :func:`_seat` returns summed over both, and how many placements were linked. Numbers
    only: an array handed back costs a Python call (:mod:`sim.compiled`)."""
    open_tab, n_open, minor_types, adult_types, places, reserved, skip_reserved = free
    minor_ids, minor_slots, head_minors, f1, e1, m1 = _take_from_queue(
        minors, 1, waiting, limit, valid, (open_tab, n_open, minor_types, places, reserved, skip_reserved), now, records
    )
    adult_ids, adult_slots, head_adults, f0, e0, m0 = _take_from_queue(
        adults,
        0,
        waiting,
        limit - len(minor_ids),
        valid,
        (open_tab, n_open, adult_types, places, reserved, skip_reserved),
        now,
        records,
    )
    ids = np.concatenate((minor_ids, adult_ids))
    slots = np.concatenate((minor_slots, adult_slots))
    log_ids, log_lids, nxt, head, start = log
    listed = _link(log_ids, log_lids, nxt, head, start, ids, slots)
    return head_minors, head_adults, len(ids), f1 + f0, e1 + e0, m1 + m0, listed


@jit
def _rehouse(residents, lid, cat, free, now, records, log):
    """The residents of location ``lid``, which closes, give up their places and take free places elsewhere:
    adults and families in COA's order of types (``free``: as for :func:`_transfer_queues`), then minors, each
    group in the given order (``residents``: ascending); ``lid`` gives none. Their placements are appended to the
    residents' log (``log``: as for :func:`_seat_listed`). Who found no place is written over the start of
    ``residents``: the adults and families, then the minors (each in order). Returns how many were placed
    (adults first, at the log's entries from its first free one), how many adults and how many minors found no
    place, the counts :func:`_seat` returns summed over both groups, and how many placements were linked
    (numbers only, see :func:`_transfer_queues`)."""
    open_tab, n_open, minor_types, adult_types, places, reserved, skip_reserved = free
    t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types = records
    _unseat(residents, where, loc, occ, occupied, types)  # none waited elsewhere: each sits in ``lid``
    adults, minors = _split_minors(residents, cat)
    slots_adults = _free_slots(open_tab, n_open, adult_types, places, occ, reserved, skip_reserved, lid, len(adults))
    placed_adults = adults[: len(slots_adults)]
    first, elsewhere, moved = _seat(
        placed_adults, slots_adults, now, t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types
    )
    slots_minors = _free_slots(open_tab, n_open, minor_types, places, occ, reserved, skip_reserved, lid, len(minors))
    placed_minors = minors[: len(slots_minors)]
    f, e, m = _seat(
        placed_minors, slots_minors, now, t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types
    )
    ids = np.concatenate((placed_adults, placed_minors))
    slots = np.concatenate((slots_adults, slots_minors))
    log_ids, log_lids, nxt, head, start = log
    listed = _link(log_ids, log_lids, nxt, head, start, ids, slots)
    stranded_adults, stranded_minors = adults[len(slots_adults) :], minors[len(slots_minors) :]
    residents[: len(stranded_adults)] = stranded_adults
    residents[len(stranded_adults) : len(stranded_adults) + len(stranded_minors)] = stranded_minors
    return len(ids), len(stranded_adults), len(stranded_minors), first + f, elsewhere + e, moved + m, listed


@jit
def _sources(open_tab, n_open, from_type, occ, close_day) -> np.ndarray:
    """The open locations of type ``from_type`` that hold anyone, the lease that ends first first, then the
    emptiest, then by id (``np.lexsort((occ, close_day))`` of them: two stable sorts, the last by the first key)."""
    src = np.empty(n_open[from_type], np.int64)
    m = 0
    for i in range(n_open[from_type]):
        lid = open_tab[from_type, i]
        if occ[lid] > 0:
            src[m] = lid
            m += 1
    src = src[:m]
    src = src[np.argsort(occ[src], kind="mergesort")]
    return src[np.argsort(close_day[src], kind="mergesort")]


@jit
def _move_up_from(from_type, close_day, k, cat, free, now, records, log):
    """The first ``k`` adult residents of the open locations of type ``from_type`` (in the order of
    :func:`_sources`; ascending ids within a location, read from the residents' log, ``log``: as for
    :func:`_seat_listed`) give up their places and take free places of the types in ``free`` (as for
    :func:`_take_from_queue`), in that order; the placements are appended to the log. Returns how many moved (at
    the log's entries from its first free one), the counts :func:`_seat` returns, and how many placements were
    linked (numbers only, see :func:`_transfer_queues`)."""
    log_ids, log_lids, nxt, head, start = log
    t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types = records
    open_tab, n_open, to_types, places, reserved, skip_reserved = free
    src = _sources(open_tab, n_open, from_type, occ, close_day)
    take = np.empty(k, np.int64)
    n = 0
    for lid in src:
        for p in _chained(log_ids, nxt, head, lid, loc):
            if n < k and cat[p] != AMV:
                take[n] = p
                n += 1
        if n == k:
            break
    take = take[:n]
    _unseat(take, where, loc, occ, occupied, types)
    slots = _free_slots(open_tab, n_open, to_types, places, occ, reserved, skip_reserved, -1, n)
    if len(slots) < n:  # k was at most the free places of these types: cannot happen
        raise ValueError("residents moving up found fewer free places than counted")
    first, elsewhere, moved = _seat(
        take, slots, now, t_place, moves, loc, where, centre, t_leave_ac, present, occ, occupied, types
    )
    return n, first, elsewhere, moved, _link(log_ids, log_lids, nxt, head, start, take, slots)


@jit
def _compacted(ids, lids, nxt, head, n, loc) -> int:
    """Keep the first ``n`` entries whose person still sits where the entry placed them (in order), and link
    the chains again; returns how many were kept."""
    kept = 0
    for e in range(n):
        if loc[ids[e]] == lids[e]:
            ids[kept], lids[kept] = ids[e], lids[e]
            kept += 1
    head[:] = -1
    for e in range(kept):
        nxt[e], head[lids[e]] = head[lids[e]], e
    return kept


@jit
def _chained(ids, nxt, head, lid, loc) -> np.ndarray:
    """Who sits in ``lid`` among the entries on its chain: ascending, each once. Entries of people who since
    moved or left are unlinked from the chain on the way (they stay in the buffer until it is compacted), so
    the next read walks only the entries added since: a location read often (moving up reads lease after
    lease every week) does not walk its whole history each time."""
    if lid >= len(head):
        return np.empty(0, ids.dtype)
    n, prev, e = 0, -1, head[lid]
    while e >= 0:
        after = nxt[e]
        if loc[ids[e]] == lid:
            n += 1
            prev = e
        elif prev < 0:
            head[lid] = after
        else:
            nxt[prev] = after
        e = after
    listed = np.empty(n, ids.dtype)
    e = head[lid]
    for i in range(n):
        listed[i] = ids[e]
        e = nxt[e]
    return _ascending_once(listed)  # the walk above left only people who sit there on the chain


class Residents:
    """Who sits in each location, read when a location closes or its residents move up: a log of placements
    (id, location). Each entry is chained to the location's previous one, so reading a location walks its own
    entries only, not the log (a run reads locations thousands of times, the log holds ~100,000 entries); a
    read unlinks the entries of people who have since moved or left. One log serves every type: a day's
    transfer fills a few places in each of many durable locations and AMV units, and a placement is one call
    whatever types it fills. When a placement does not fit, the entries of people who have since moved or left
    are dropped, and the buffer doubles only if it is still more than half full: it stays within twice the
    entries held after a compaction plus one placement, i.e. a few times the people placed, not all who ever
    sat in a location."""

    MIN = 4096  # entries held before the first compaction
    HEADS = 256  # location ids the chains' heads cover at first (they grow to twice a larger id placed)

    def __init__(self, people: People):
        self.people = people
        self.ids = np.empty(self.MIN, np.int64)
        self.lids = np.empty(self.MIN, np.int32)  # location ids stay far below 2**31
        self.nxt = np.empty(self.MIN, np.int64)  # per entry: the location's next older entry (-1: none)
        self.head = np.full(self.HEADS, -1, np.int64)  # per location id: its newest entry (-1: none); grows with the ids
        self.n = 0

    def reserve(self, k: int) -> tuple:
        """Room for ``k`` more entries: when they do not fit, the entries of people who have since moved or left
        are dropped, and the buffer doubles if it is still more than half full. Returns the log's arrays and the
        first free entry, for :func:`_link` (then :meth:`appended`)."""
        n = self.n
        if n + k > len(self.ids):
            n = self._compact()
            if 2 * (n + k) > len(self.ids):  # still half full after dropping who left: grow
                size = max(2 * (n + k), self.MIN)
                self.ids, self.lids, self.nxt = (
                    np.concatenate((a[:n], np.empty(size - n, a.dtype))) for a in (self.ids, self.lids, self.nxt)
                )
        return self.ids, self.lids, self.nxt, self.head, n

    def appended(self, k: int, done: int) -> None:
        """``k`` placements were written at the reserved entries and the first ``done`` of them linked
        (:func:`_link`): link the rest, growing the chains' heads for locations beyond them."""
        end = self.n + k
        while done < k:  # a location beyond the chains' heads: room for twice its id
            e = self.n + done
            self.head = np.concatenate((self.head, np.full(2 * int(self.lids[e]) + 2 - len(self.head), -1, np.int64)))
            done += _link(self.ids, self.lids, self.nxt, self.head, e, self.ids[e:end], self.lids[e:end])
        self.n = end

    def _compact(self) -> int:
        """Drop the entries of people who no longer sit where they were placed; returns the new length."""
        self.n = _compacted(self.ids, self.lids, self.nxt, self.head, self.n, self.people.loc)
        return self.n

    def add(self, ids: np.ndarray, lids: np.ndarray) -> None:
        """``ids`` now sit in ``lids`` (one location per id). Placing people does this in its own compiled call
        (:func:`_seat_listed`)."""
        *arrays, start = self.reserve(len(ids))
        self.appended(len(ids), _link(*arrays, start, ids, lids))

    def of(self, lid: int) -> np.ndarray:
        """Ids (ascending, each once) of the people placed in location ``lid``."""
        return _chained(self.ids, self.nxt, self.head, lid, self.people.loc)

    def release(self) -> None:
        """Free the log (the run is over; see :meth:`sim.people.People.release`)."""
        self.ids, self.lids, self.nxt, self.head = (a[:0].copy() for a in (self.ids, self.lids, self.nxt, self.head))
        self.n = 0

    def forget(self, lid: int) -> None:
        """A closed location holds nobody: its chain goes (its entries are dropped at the next compaction)."""
        if lid < len(self.head):
            self.head[lid] = -1


class Placement:
    """The queues of people waiting for a place, the places they get, and the moves."""

    def __init__(self, scenario: Scenario, people: People, locations: Locations, centres: list[ApplicationCentre]):
        self.cfg = scenario.reception
        self.transfer_limit = scenario.registration.transfer_limit_per_day
        self.transport_limit = scenario.registration.overflow_transport_per_day
        self.people = people
        self.locations = locations
        self.centres = centres
        # persons present at each centre, the array the centres share: placing people and their leaving count
        # them down in the compiled calls
        self.present = centres[0].present_of_all if centres else np.zeros(0, np.int64)
        if any(c.present_of_all is not self.present or c.index >= len(self.present) for c in centres):
            # the loops index the array by centre without bounds checks: a centre with a count of its own
            # would be counted in another's, or beyond the array
            raise ValueError("the application centres must share one count of who is present (registration.centres_of)")
        self._norms = [(c.index, c.cfg.norm_persons) for c in centres]  # each centre's norm (persons)
        self.queues = (IdQueue(), IdQueue())  # (adults and families, minors) waiting for a place, FIFO
        self.waiting = np.zeros(2, np.int64)  # valid entries of each queue
        self.waiting_elsewhere = 0  # family registered elsewhere, waiting at home for a place
        self.returned = 0  # people who lost their place when a location closed and went back to a centre (count)
        self.moves = 0
        self.placed_ever = 0
        self.allow_reserved = False  # the reserve opens only while a centre is above its norm
        self._buses = self.transport_limit > 0 and len(centres) > 1  # buses between centres can run
        self._minor_types = self.types_for(True)  # the types minors may be placed in, in COA's order
        self.residents_of = Residents(people)

    # --- places -----------------------------------------------------------------------

    def free_by_type(self, exclude: np.ndarray | None = None) -> tuple[int, ...]:
        """Free places per location type (a tuple by type code) in open, usable locations (``exclude``: distinct
        ids of locations to leave out; :func:`free_places_by_type`)."""
        L = self.locations
        return free_places_by_type(
            L.open_places,
            L.occupied,
            NOTHING_EXCLUDED if exclude is None else exclude,
            self.allow_reserved,
            L.reserved_ids,
            L.is_open,
            L.reserved,
            L.type,
            L.places,
            L.occ,
        )

    def free_places(self, types: tuple[int, ...], exclude: np.ndarray | None = None) -> int:
        free = self.free_by_type(exclude)
        return int(sum(free[t] for t in types))

    def _slots(self, types: tuple[int, ...], k: int, exclude: int = -1) -> np.ndarray:
        """Location ids for up to ``k`` people: free places by type priority, then by location id."""
        L = self.locations
        return _free_slots(L.open_tab, L.n_open, types, L.places, L.occ, L.reserved, self._reserve_held_back(), exclude, k)

    def _reserve_held_back(self) -> bool:
        """Whether the reserve's places are kept out of a search for free places (see :meth:`transfer`)."""
        return len(self.locations.reserved_ids) > 0 and not self.allow_reserved

    def _free_tables(self, to_types: tuple[int, ...] | None = None) -> tuple:
        """What the compiled searches for free places read: the open locations per type, the types in COA's order
        (minors' and adults', or only ``to_types``), the places, the reserve and whether it is held back."""
        L = self.locations
        types = (self._minor_types, ADULT_ORDER) if to_types is None else (to_types,)
        return L.open_tab, L.n_open, *types, L.places, L.reserved, self._reserve_held_back()

    def types_for(self, amv: bool) -> tuple[int, ...]:
        """The location types a person may be placed in, in COA's order of preference."""
        if amv:
            return (AMV_PLACES, EMERGENCY) if self.cfg.amv_overflow_to_emergency else (AMV_PLACES,)
        return ADULT_ORDER

    def place(
        self,
        ids: np.ndarray,
        now: float,
        amv: bool,
        exclude: int = -1,
        types: tuple[int, ...] | None = None,
    ) -> np.ndarray:
        """Put ``ids`` (in order) into free places (``types`` to narrow the choice, ``exclude`` a location to
        leave out); returns the ids that found one. Who waited at an application centre leaves it, whoever
        places them. People who held a place must have released it (:meth:`release`); ``ids`` are distinct.
        (The day's transfer places both queues in one compiled call of its own, :func:`_transfer_queues`.)"""
        if len(ids) == 0:
            return ids
        slots = self._slots(types or self.types_for(amv), len(ids), exclude)
        placed = ids[: len(slots)]
        if len(placed) == 0:
            return placed
        residents = self.residents_of
        n_first, n_elsewhere, n_moved, listed = _seat_listed(placed, slots, now, self._records(), residents.reserve(len(placed)))
        residents.appended(len(placed), listed)
        self._seated(n_first, n_elsewhere, n_moved)
        return placed

    def _records(self) -> tuple:
        """The arrays seating people writes (:func:`_seat`): the person records, who is present at each centre,
        the locations' head counts and types."""
        p, L = self.people, self.locations
        return p.t_place, p.moves, p.loc, p.where, p.centre, p.t_leave_ac, self.present, L.occ, L.occupied, L.type

    def _seated(self, n_first: int, n_elsewhere: int, n_moved: int) -> None:
        """The counts after a placement: first places, who had waited elsewhere, moves."""
        self.placed_ever += n_first
        self.waiting_elsewhere -= n_elsewhere
        self.moves += n_moved

    def release(self, ids: np.ndarray) -> None:
        """People give up their place (housed, departed, moved) or stop waiting elsewhere."""
        L = self.locations
        self.waiting_elsewhere -= _unseat(ids, self.people.where, self.people.loc, L.occ, L.occupied, L.type)

    # --- arriving and leaving -----------------------------------------------------------

    def wait_elsewhere(self, ids: np.ndarray) -> None:
        """Family registered elsewhere wait at home (with their sponsor) for a place."""
        self.waiting_elsewhere += len(ids)
        self.queues[0].push(ids)
        self.waiting[0] += len(ids)

    def wait_at_centre(self, ids: np.ndarray) -> None:
        """People whose registration ended (in order of completion) wait at their centre for a place."""
        adults, minors = self.queues
        adults.room(len(ids))
        minors.room(len(ids))
        before = adults.tail, minors.tail
        adults.tail, minors.tail = _queue_by_group(ids, self.people.cat, adults.buffer, adults.tail, minors.buffer, minors.tail)
        self.waiting[0] += adults.tail - before[0]
        self.waiting[1] += minors.tail - before[1]

    def exit(self, ids: np.ndarray, kind: np.ndarray | int, now: float, status: int) -> None:
        """People leave the chain (housed, joined a sponsor, departed): their queue entry, centre and place go,
        and their records say when and how (``kind``: an ``EXIT_*`` code of :mod:`sim.people`, one for all or
        one per person; ``status`` their new status)."""
        if len(ids) == 0:
            return
        p = self.people
        kinds, one_kind = (kind, 0) if isinstance(kind, np.ndarray) else (NO_KINDS, kind)
        L = self.locations
        n_elsewhere = _leave(
            ids,
            p.where,
            p.cat,
            p.centre,
            p.loc,
            p.t_leave_ac,
            p.t_exit,
            p.exit_kind,
            p.status,
            now,
            kinds,
            one_kind,
            status,
            L.occ,
            L.occupied,
            L.type,
            self.waiting,
            self.present,
        )
        self.waiting_elsewhere -= n_elsewhere

    def _back_to_centre(self, ids: np.ndarray) -> None:
        """People who lost their place and found no other go back to the first application centre, first in line."""
        if len(ids) == 0:
            return
        p = self.people
        p.where[ids] = AC_WAITING
        p.centre[ids] = 0
        self.centres[0].present += len(ids)
        amv = p.cat[ids] == AMV
        for q, group in ((0, ids[~amv]), (1, ids[amv])):
            self.queues[q].push_front(group)
            self.waiting[q] += len(group)
        self.returned += len(ids)

    def demand(self) -> tuple[int, int]:
        """People who need a place, as (adults and families, unaccompanied minors): waiting for one
        (at a centre or elsewhere) or registering at a centre (for COA's search)."""
        registering_amv = sum(c.registering_amv for c in self.centres)
        registering = sum(c.registering for c in self.centres) - registering_amv
        return int(self.waiting[0]) + registering, int(self.waiting[1]) + registering_amv

    # --- the daily transfer -------------------------------------------------------------

    def transfer(self, day: int, now: float) -> None:
        """Registered people move from the centres to free places; crisis and emergency residents move up."""
        cfg = self.cfg
        if self._buses:
            self._transport_overflow()
        limit = self.transfer_limit
        minors, adults = self.queues[1], self.queues[0]
        n_minors, n_adults = self.waiting.tolist()
        if limit > 0 and (n_minors or n_adults):
            residents = self.residents_of
            # room in the residents' log for whatever the two queues may place
            log = residents.reserve(min(limit, n_minors) + min(limit, n_adults))
            # an emergency reserve (Spreidingswet lever) takes people only while a centre is above its norm
            # (asked only when there is a reserve: the day's few steps are much of what a day costs)
            self.allow_reserved = len(self.locations.reserved_ids) > 0 and self._any_above_norm()
            minors.head, adults.head, n_placed, n_first, n_elsewhere, n_moved, listed = _transfer_queues(
                (minors.buffer, minors.head, minors.tail),
                (adults.buffer, adults.head, adults.tail),
                self.waiting,
                limit,
                WAITS_FOR_PLACE,
                self._free_tables(),
                now,
                self._records(),
                log,
            )
            self.allow_reserved = False
            residents.appended(n_placed, listed)
            self._seated(n_first, n_elsewhere, n_moved)
        budget = cfg.consolidation_moves_per_day
        # crisis shelter is the last resort: its residents take free places of any better type every day
        if budget > 0 and self.locations.occupied[CRISIS_PLACES] > 0:
            budget -= self._move_up(now, CRISIS_PLACES, (DURABLE, TEMPORARY, EMERGENCY), budget)
        # once a week, when nobody waits, emergency residents move into free regular places
        if day % cfg.emergency.review_interval_days == 0 and self.waiting[0] == 0 and budget > 0:
            self._move_up(now, EMERGENCY, (DURABLE, TEMPORARY), budget * cfg.emergency.review_interval_days)

    def _any_above_norm(self) -> bool:
        """Whether a centre holds more persons than its norm tonight (read from the shared count in one call)."""
        present = self.present.tolist()
        return any(present[i] > norm for i, norm in self._norms)

    def _transport_overflow(self) -> None:
        """Buses move registered people from a centre above its norm to centres with room below theirs."""
        budget = self.transport_limit
        if not self._buses or not self._any_above_norm():
            return
        p = self.people
        for src in self.centres:
            excess = min(src.above_norm, budget)
            if excess <= 0:
                continue
            for dst in self.centres:
                room = dst.cfg.norm_persons - dst.present
                if dst is src or room <= 0:
                    continue
                k = min(excess, room)
                # the most recently registered adults at the source: they would wait longest there
                cand = self.queues[0].view()
                cand = cand[(p.where[cand] == AC_WAITING) & (p.centre[cand] == src.index)][-k:]
                p.centre[cand] = dst.index
                src.present -= len(cand)
                dst.present += len(cand)
                excess -= len(cand)
                budget -= len(cand)

    def _move_up(self, now: float, from_type: int, to_types: tuple[int, ...], budget: int) -> int:
        """Move up to ``budget`` adult residents of ``from_type`` locations into free places of ``to_types``,
        emptying the locations whose lease ends first, then the emptiest, so whole locations can close.
        Returns the number moved."""
        p, L = self.people, self.locations
        k = min(self.free_places(to_types), budget)
        if k <= 0:
            return 0
        residents = self.residents_of
        log = residents.reserve(k)
        n_moved_up, n_first, n_elsewhere, n_moved, listed = _move_up_from(
            from_type, L.close_day, k, p.cat, self._free_tables(to_types), now, self._records(), log
        )
        residents.appended(n_moved_up, listed)
        self._seated(n_first, n_elsewhere, n_moved)
        return n_moved_up

    # --- closing -------------------------------------------------------------------------

    def residents(self, lid: int) -> np.ndarray:
        """Ids (ascending) of the people placed in location ``lid``."""
        return self.residents_of.of(lid)

    def close_location(self, lid: int, now: float) -> None:
        """Close a location; its residents move to free places (a move each) or, finding none, go back
        to the application centre."""
        L = self.locations
        if not L.is_open[lid]:
            return
        p = self.people
        residents = self.residents(lid)
        if len(residents):
            log = self.residents_of.reserve(len(residents))
            n_placed, n_adults, n_minors, n_first, n_elsewhere, n_moved, listed = _rehouse(
                residents, lid, p.cat, self._free_tables(), now, self._records(), log
            )
            self.residents_of.appended(n_placed, listed)
            self._seated(n_first, n_elsewhere, n_moved)
            # who found no place, written over the start of ``residents``: adults and families, then minors
            for group in (residents[:n_adults], residents[n_adults : n_adults + n_minors]):
                if len(group):
                    p.moves[group] += 1  # going back to the centre is a move too
                    self.moves += len(group)
                    self._back_to_centre(group)
        self.residents_of.forget(lid)
        L.close(lid)
        L.close_day[lid] = min(L.close_day[lid], now)
