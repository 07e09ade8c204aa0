"""COA's placement and emergency rules: properties a reception planner would check."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import Chain
from sim.people import AC_WAITING, AMV, EXIT_HOUSED, HOUSED, LOCATION, IdQueue, People
from sim.reception.locations import ADULT_ORDER, AMV_PLACES, DURABLE, EMERGENCY, N_TYPES, TEMPORARY, Locations
from sim.reception.placement import Placement, Residents
from sim.registration import ApplicationCentre, centres_of


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
    L = Locations(capacity=2)  # grows twice below, with locations open: only the per-location columns grow
    lids = []
    for i in range(5):
        lids.append(L.add(EMERGENCY if i % 2 else DURABLE, 10 + i, 0.0))
        L.open(lids[-1])
    L.open(lids[0])  # opening twice counts once
    assert L.open_ids.tolist() == lids and L.open_of_type[DURABLE].tolist() == lids[::2]
    L.fill(np.array([lids[1], lids[1], lids[2]]))
    assert L.open_places.tolist() == [10 + 12 + 14, 0, 11 + 13, 0, 0]
    assert L.occupied.tolist() == [1, 0, 2, 0, 0] and len(L.occupied) == N_TYPES
    with pytest.raises(RuntimeError, match="2 residents"):
        L.close(lids[1])
    L.vacate(np.array([lids[1], lids[1]]))
    L.close(lids[1])
    assert L.open_places[EMERGENCY] == 13 and not L.is_open[lids[1]]
    assert L.open_ids.tolist() == [lids[0], *lids[2:]] and L.open_of_type[EMERGENCY].tolist() == [lids[3]]


location = st.tuples(
    st.sampled_from(range(N_TYPES)),  # type
    st.integers(1, 30),  # places
    st.floats(0, 1),  # share occupied
    st.booleans(),  # open
    st.booleans(),  # reserved (an overflow reserve)
)


@settings(max_examples=150, deadline=None)
@given(
    table=st.lists(location, min_size=1, max_size=30),
    allow_reserved=st.booleans(),
    exclude=st.sets(st.integers(0, 29), max_size=4),
    k=st.integers(0, 200),
    types=st.permutations(range(N_TYPES)).flatmap(lambda order: st.integers(1, N_TYPES).map(lambda n: tuple(order[:n]))),
)
def test_free_places_and_the_places_found_agree_with_a_scan_of_the_table(table, allow_reserved, exclude, k, types):
    """What the kept counts and open-id lists give (free places per type, the places COA fills first) is
    what a scan of the whole table gives: open locations only, a reserve only while it is allowed, the
    locations left out left out, and places in the order of the types asked for (any of them), then by
    location id."""
    L = Locations(capacity=4)
    for type_code, places, share, is_open, reserved in table:
        lid = L.register(type_code, places, 0.0, np.inf, -1, "test", reserved=reserved)
        if is_open:
            L.open(lid)
            L.fill(np.repeat(lid, int(share * places)))
    placement = Placement(small_scenario(), People(8), L, [])
    placement.allow_reserved = allow_reserved
    n = L.n
    usable = L.is_open[:n] & (allow_reserved | ~L.reserved[:n])
    free = np.where(usable, L.places[:n] - L.occ[:n], 0)
    leave_out = np.array(sorted(i for i in exclude if i < n), np.int64)
    kept = np.ones(n, bool)
    kept[leave_out] = False
    expected = np.bincount(L.type[:n], weights=free * kept, minlength=N_TYPES)
    assert placement.free_by_type(exclude=leave_out) == tuple(expected.tolist())
    one = int(leave_out[0]) if len(leave_out) else -1
    scan = [lid for t in types for lid in range(n) if L.type[lid] == t and lid != one for _ in range(int(free[lid]))]
    slots = placement._slots(types, k, exclude=one)
    assert slots.tolist() == scan[:k]
    # filling the places found: one person more per slot (a location repeats), and the per-type counts follow
    before = L.occ[:n].copy()
    L.fill(slots)
    assert (L.occ[:n] - before).tolist() == np.bincount(slots, minlength=n).tolist()
    assert L.occupied.tolist() == np.bincount(L.type[:n], weights=L.occ[:n], minlength=N_TYPES).astype(int).tolist()


def _placement_world(s, table: list[tuple[int, int, bool]], n_people: int) -> tuple[Placement, list[ApplicationCentre]]:
    """A placement of scenario ``s`` over locations ``table`` (type, places, open) and ``n_people`` records (ids
    0, 1, ...; nowhere yet), and its application centres."""
    L = Locations(capacity=2)
    for type_code, places, is_open in table:
        lid = L.add(type_code, places, 0.0)
        if is_open:
            L.open(lid)
    people = People(n_people + 2)
    people.add(n_people)
    centres = centres_of(s.registration.centres)
    return Placement(s, people, L, centres), centres


def test_placement_refuses_centres_that_do_not_share_their_count_of_who_is_present():
    """Placing people counts them off their centre in one array the centres share; centres made one by one
    (each with a count of its own) would have one centre's leavers counted in another's array, so they are refused."""
    s = small_scenario(
        registration={"centres": [{"name": "a", "share_of_arrivals": 0.5}, {"name": "b", "share_of_arrivals": 0.5}]}
    )
    apart = [ApplicationCentre(c, i) for i, c in enumerate(s.registration.centres)]
    with pytest.raises(ValueError, match="share one count"):
        Placement(s, People(4), Locations(), apart)
    Placement(s, People(4), Locations(), centres_of(s.registration.centres))  # shared: accepted


closing_world = st.tuples(
    st.lists(st.tuples(st.sampled_from(range(N_TYPES)), st.integers(1, 12), st.booleans()), min_size=2, max_size=12),
    st.lists(st.tuples(st.booleans(), st.integers(0, 11)), max_size=60),  # people: minor?, the location they sit in
    st.integers(0, 11),  # the location that closes
    st.booleans(),  # minors may take emergency places
)


@settings(max_examples=200, deadline=None)
@given(world=closing_world)
def test_residents_of_a_closing_location_take_free_places_in_coas_order_or_go_back_first_in_line(world):
    """When a location closes, its adults and families (ascending ids) take free places elsewhere in COA's order
    (durable, temporary, emergency, crisis; then by location id), then its minors (AMV places, and emergency
    places when allowed) take what is left; each move counts once. Who finds no place goes back to the first
    application centre, at the front of the queue for their group. Nobody sits in the closed location, and every
    location's head count is the number of people whose record places them there."""
    table, residents, closing, overflow = world
    s = small_scenario(reception={"amv_overflow_to_emergency": overflow})
    placement, centres = _placement_world(s, table, len(residents))
    L, people, ids = placement.locations, placement.people, np.arange(len(residents))
    sits = {}  # seat everyone who fits in an open location
    for i, (minor, lid) in zip(ids.tolist(), residents):
        if lid < L.n and L.is_open[lid] and L.occ[lid] < L.places[lid]:
            people.cat[i] = AMV if minor else 0
            people.where[i], people.loc[i], people.t_place[i] = LOCATION, lid, 0.0
            L.fill(np.array([lid]))
            sits[i] = lid
    placement.residents_of.add(np.array(list(sits), np.int64), np.array(list(sits.values()), np.int64))
    closing = closing % L.n
    moving = sorted(i for i, lid in sits.items() if lid == closing) if L.is_open[closing] else []
    # the expected moves: a scan of the table after the closing location's residents gave up their places
    free = {lid: int(L.places[lid] - L.occ[lid]) for lid in range(L.n) if L.is_open[lid] and lid != closing}
    expected, stranded = {}, ([], [])
    adults = [i for i in moving if people.cat[i] != AMV]
    minors = [i for i in moving if people.cat[i] == AMV]
    for group, types in ((adults, ADULT_ORDER), (minors, (AMV_PLACES, EMERGENCY) if overflow else (AMV_PLACES,))):
        order = [lid for t in types for lid in sorted(free) if L.type[lid] == t for _ in range(free[lid])]
        for i, lid in zip(group, order):
            expected[i] = lid
            free[lid] -= 1
        stranded[group is minors].extend(group[len(order) :])
    moves_before = placement.moves
    placement.close_location(closing, now=5.0)

    assert not L.is_open[closing] and L.occ[closing] == 0 and not placement.residents(closing).size
    for i in moving:
        assert people.moves[i] == 1
        assert (people.loc[i] == expected[i]) if i in expected else (people.where[i] == AC_WAITING and people.loc[i] == -1)
    assert placement.moves - moves_before == len(moving)
    for q, group in ((0, stranded[0]), (1, stranded[1])):
        assert placement.queues[q].view()[: len(group)].tolist() == group
        assert placement.waiting[q] == len(group)
    assert centres[0].present == len(stranded[0]) + len(stranded[1])
    seated = people.loc[: people.n]
    assert L.occ[: L.n].tolist() == np.bincount(seated[seated >= 0], minlength=L.n).tolist()
    for lid in range(L.n):
        assert placement.residents(lid).tolist() == np.flatnonzero(seated == lid).tolist()


transfer_world = st.tuples(
    st.lists(st.tuples(st.sampled_from(range(N_TYPES)), st.integers(1, 8), st.booleans()), min_size=1, max_size=10),
    st.lists(st.tuples(st.booleans(), st.booleans()), max_size=50),  # people in the queues: minor?, still waiting?
    st.integers(0, 12),  # the transfer limit (persons a day): often binding
    st.booleans(),  # minors may take emergency places
)


@settings(max_examples=200, deadline=None)
@given(world=transfer_world)
def test_the_days_transfer_takes_minors_then_adults_first_come_first_served_up_to_the_limit(world):
    """The day's transfer takes the minors who still wait (oldest first) into AMV places (and emergency places
    when allowed), then adults and families into durable, temporary, emergency and crisis places, by location
    id within a type, up to the transfer limit for both together and as far as places go; people no longer
    waiting are passed over; who is placed leaves the centre and the queue."""
    table, queued, limit, overflow = world
    s = small_scenario(
        registration={"transfer_limit_per_day": limit},
        reception={"amv_overflow_to_emergency": overflow, "consolidation_moves_per_day": 0},
    )
    placement, centres = _placement_world(s, table, len(queued))
    L, people, ids = placement.locations, placement.people, np.arange(len(queued))
    for i, (minor, _) in zip(ids.tolist(), queued):
        people.cat[i] = AMV if minor else 0
        people.where[i], people.centre[i] = AC_WAITING, 0
    centres[0].present = len(queued)
    placement.wait_at_centre(ids)
    gone = [i for i, (_, waiting) in zip(ids.tolist(), queued) if not waiting]
    placement.exit(np.array(gone, np.int64), EXIT_HOUSED, 0.5, HOUSED)  # they leave the queue's count, not the queue
    free = {lid: int(L.places[lid]) for lid in range(L.n) if L.is_open[lid]}
    expected, left = {}, limit
    for minor, types in ((True, (AMV_PLACES, EMERGENCY) if overflow else (AMV_PLACES,)), (False, ADULT_ORDER)):
        group = [i for i, (m, waiting) in zip(ids.tolist(), queued) if m == minor and waiting]
        order = [lid for t in types for lid in sorted(free) if L.type[lid] == t for _ in range(free[lid])]
        for i, lid in zip(group[:left], order):
            expected[i] = lid
            free[lid] -= 1
        left -= min(len(group), left, len(order))
    placement.transfer(day=1, now=1.5)

    for i in ids.tolist():
        if i in expected:
            assert people.loc[i] == expected[i] and people.where[i] == LOCATION and people.t_leave_ac[i] == 1.5
        else:
            assert people.loc[i] == -1
    waiting_left = [sum(m == minor and w for m, w in queued) for minor in (False, True)]
    placed = [sum(people.cat[i] == AMV if minor else people.cat[i] != AMV for i in expected) for minor in (False, True)]
    assert placement.waiting.tolist() == [w - k for w, k in zip(waiting_left, placed)]
    assert centres[0].present == len(queued) - len(gone) - len(expected)
    seated = people.loc[: people.n]
    assert L.occ[: L.n].tolist() == np.bincount(seated[seated >= 0], minlength=L.n).tolist()
    for lid in range(L.n):
        assert placement.residents(lid).tolist() == np.flatnonzero(seated == lid).tolist()


@settings(max_examples=200, deadline=None)
@given(
    # emergency locations: places, the day its lease ends (leases that end together: the emptiest first), adults, minors
    emergency=st.lists(
        st.tuples(st.integers(1, 8), st.integers(10, 11), st.integers(0, 8), st.integers(0, 2)), min_size=1, max_size=4
    ),
    regular=st.lists(st.tuples(st.sampled_from((DURABLE, TEMPORARY)), st.integers(0, 6)), min_size=1, max_size=4),  # free places
    budget=st.integers(0, 12),
)
def test_moving_up_empties_the_leases_that_end_first_into_free_regular_places(emergency, regular, budget):
    """Moving up takes adults and families (not minors) out of emergency locations, those whose lease ends first
    and then the emptiest first, ascending ids within a location, into free durable and temporary places (in that
    order, then by location id), as many as the budget and the free places allow; each moves once."""
    table = [(EMERGENCY, places, True) for places, _, _, _ in emergency] + [(t, max(free, 1), True) for t, free in regular]
    residents = [(False, lid) for lid, (_, _, adults, _) in enumerate(emergency) for _ in range(adults)]
    residents += [(True, lid) for lid, (_, _, _, minors) in enumerate(emergency) for _ in range(minors)]
    residents += [(False, len(emergency) + j) for j, (_, free) in enumerate(regular) for _ in range(free == 0)]  # a full one
    placement, _ = _placement_world(small_scenario(), table, len(residents))
    L, people = placement.locations, placement.people
    L.close_day[: len(emergency)] = [day for _, day, _, _ in emergency]
    sits = {}
    for i, (minor, lid) in enumerate(residents):
        if L.occ[lid] < L.places[lid]:
            people.cat[i] = AMV if minor else 0
            people.where[i], people.loc[i], people.t_place[i] = LOCATION, lid, 0.0
            L.fill(np.array([lid]))
            sits[i] = lid
    placement.residents_of.add(np.array(list(sits), np.int64), np.array(list(sits.values()), np.int64))
    sources = sorted(
        (lid for lid in range(len(emergency)) if L.occ[lid] > 0), key=lambda lid: (L.close_day[lid], L.occ[lid], lid)
    )
    movers = [i for lid in sources for i in sorted(i for i, at in sits.items() if at == lid and people.cat[i] != AMV)]
    free = {lid: int(L.places[lid] - L.occ[lid]) for lid in range(L.n)}
    order = [lid for t in (DURABLE, TEMPORARY) for lid in sorted(free) if L.type[lid] == t for _ in range(free[lid])]
    expected = dict(zip(movers[: min(budget, len(order))], order))

    assert placement._move_up(5.0, EMERGENCY, (DURABLE, TEMPORARY), budget) == len(expected)
    for i, lid in sits.items():
        assert people.loc[i] == expected.get(i, lid) and people.moves[i] == (i in expected)
    seated = people.loc[: people.n]
    assert L.occ[: L.n].tolist() == np.bincount(seated[seated >= 0], minlength=L.n).tolist()
    for lid in range(L.n):
        assert placement.residents(lid).tolist() == np.flatnonzero(seated == lid).tolist()


class _TinyLog(Residents):
    MIN = 4  # compacts and grows after a few placements, so every path is taken many times
    HEADS = 1  # and a placement into a location beyond the chains' heads grows them (linked after the others)


def _chain(log: Residents, lid: int) -> list[int]:
    """The ids on location ``lid``'s chain, newest first."""
    out, e = [], int(log.head[lid]) if lid < len(log.head) else -1
    while e >= 0:
        out.append(int(log.ids[e]))
        e = int(log.nxt[e])
    return out


@settings(max_examples=150, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.lists(st.tuples(st.integers(0, 19), st.integers(-1, 4)), min_size=1, max_size=6), st.booleans()),
        max_size=60,
    )
)
def test_the_placement_log_names_exactly_who_sits_in_each_location(moves):
    """Residents are read from a log of placements that keeps people who since moved or left until it compacts
    (a read unlinks them from the location's chain). Through any placements, moves back and forth and
    departures, reading a location gives exactly the people whose record places them there, ascending and each
    once, whether it was read after every placement or not for a while; after a read its chain holds only
    people who sit there."""
    people = People(32)
    ids = people.add(20)
    log = _TinyLog(people)
    peak = 0
    for batch, read in moves:
        # one placement call: a person in the batch moves (or leaves, -1) as of this call
        who = np.array([i for i, _ in batch], np.int64)
        to = np.array([lid for _, lid in batch], np.int64)
        last = {i: lid for i, lid in batch}
        people.loc[list(last)] = list(last.values())
        placed = to >= 0
        log.add(who[placed], to[placed])
        peak = max(peak, log.n)
        for lid in range(5) if read else ():
            truth = ids[people.loc[ids] == lid]
            assert np.array_equal(log.of(lid), truth), f"location {lid}"
            assert all(people.loc[i] == lid for i in _chain(log, lid))
    for lid in range(5):
        assert np.array_equal(log.of(lid), ids[people.loc[ids] == lid]), f"location {lid}"
    # a compaction keeps exactly the entries of people still where they were placed (and every such person)
    live = {(int(i), int(people.loc[i])) for i in ids if people.loc[i] >= 0}
    before = {(int(i), int(lid)) for i, lid in zip(log.ids[: log.n], log.lids[: log.n])}
    n = log._compact()
    kept = list(zip(log.ids[:n].tolist(), log.lids[:n].tolist()))
    assert set(kept) == live and live <= before
    # only someone placed in the same location twice appears twice; the buffer grows only to twice what the
    # log held after a compaction and a call's placements
    assert len(kept) - len(live) <= sum(len(b) for b, _ in moves)
    assert len(log.ids) <= max(2 * peak, _TinyLog.MIN)


queue_op = st.one_of(
    st.tuples(st.just("push"), st.integers(0, 12)),
    st.tuples(st.just("push_front"), st.integers(0, 12)),
    st.tuples(st.just("pop"), st.integers(0, 15)),
    st.tuples(st.just("pop_ready"), st.integers(0, 15)),
)


@settings(max_examples=200, deadline=None)
@given(ops=st.lists(queue_op, max_size=60), seed=st.integers(0, 2**32 - 1))
def test_a_queue_serves_valid_ids_oldest_first_and_drops_stale_ones(ops, seed):
    """A waiting queue (FIFO with lazy removal) against a plain list: popping takes the oldest ids whose code is
    valid and drops the invalid ones it passes; popping the ready ones also stops at the first valid id that is
    not ready, which stays at the head with everyone behind it. Codes and readiness change between calls, as
    people's status does; the buffer grows at both ends (ids pushed to the front are served first)."""
    rng = np.random.default_rng(seed)
    n_ids = 400
    codes = rng.integers(0, 5, n_ids).astype(np.int8)
    times = rng.random(n_ids)
    queue, model = IdQueue(capacity=4), []
    fresh = iter(range(n_ids))
    for op, k in ops:
        codes[:] = rng.integers(0, 5, n_ids)
        valid = rng.random(5) < 0.6
        ready_by = float(rng.random())
        if op in ("push", "push_front"):
            ids = np.array([next(fresh, 0) for _ in range(k)], np.int64)
            if op == "push":
                queue.push(ids)
                model = model + ids.tolist()
            else:
                queue.push_front(ids)
                model = ids.tolist() + model
            continue
        taken, i = [], 0
        while i < len(model) and len(taken) < k:
            c = model[i]
            if valid[codes[c]]:
                if op == "pop_ready" and not times[c] <= ready_by:
                    break
                taken.append(c)
            i += 1
        model = model[i:]
        got = queue.pop(k, valid, codes) if op == "pop" else queue.pop_ready(k, valid, codes, times, ready_by)
        assert got.tolist() == taken
        assert queue.view().tolist() == model


def test_a_person_listed_twice_is_refused_rather_than_counted_twice():
    """Placing, releasing and exits update the records one person at a time: an id listed twice would take a
    place off a location twice (the second time off the table's last row). It is refused with a clear error."""
    chain = Chain(small_scenario(), 1)
    P, p = chain.placement, chain.people
    seated = np.flatnonzero(p.where[: p.n] == LOCATION)
    a, b, c = (int(x) for x in seated[:3])
    with pytest.raises(ValueError, match="gave up a place twice"):
        P.release(np.array([a, a]))
    with pytest.raises(ValueError, match="left the chain twice"):
        P.exit(np.array([b, b]), EXIT_HOUSED, 1.0, HOUSED)
    P.release(np.array([c]))
    with pytest.raises(ValueError, match="placed while holding a place"):
        P.place(np.array([c, c]), 1.0, amv=False)
    assert len(IdQueue().pop(-1, np.ones(5, bool), np.zeros(3, np.int8))) == 0  # a count below zero takes nobody


def _skipped_days(seed: int, offers_per_week: float, pressure_boost: float, pressure: float, shortfalls: list[int]) -> int:
    """Days COA's search skips at this pressure; checks that no shortfall would have let a candidate through."""
    s = small_scenario()
    s.reception.emergency.offers_per_week = offers_per_week
    s.reception.emergency.pressure_boost = pressure_boost
    search = Chain(s, seed).search
    skipped = 0
    for day in range(len(search._offset) - 1):
        if search._may_accept(day, pressure):
            continue
        skipped += 1
        u = search._u[search._offset[day] : search._offset[day + 1], 0]
        for shortfall in shortfalls:
            assert not (u < search.rate(shortfall, pressure) / search.rate_ceiling).any()
    return skipped


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    offers_per_week=st.floats(0.5, 60),
    pressure_boost=st.floats(0, 3),
    pressure=st.floats(0, 1),
    shortfalls=st.lists(st.integers(-500, 10**6), min_size=1, max_size=8),
)
def test_a_day_skipped_for_its_candidates_would_have_offered_nothing(seed, offers_per_week, pressure_boost, pressure, shortfalls):
    """COA's search skips the shortfall on days none of whose candidates could pass the thinning at the
    highest rate the pressure allows: on such a day, no shortfall would have let a candidate through."""
    _skipped_days(seed, offers_per_week, pressure_boost, pressure, shortfalls)


def test_days_are_skipped_when_offers_are_rarer_than_candidates():
    """The shipped search (3 offers a week against 40 candidates) skips days at no pressure, fewer under
    full pressure (offers double), and none when offers come as often as candidates."""
    calm, pressed = (_skipped_days(1, 3.0, 1.0, pressure, [10**6]) for pressure in (0.0, 1.0))
    assert calm > pressed > 0
    assert _skipped_days(1, 40.0, 0.0, 0.0, [10**6]) == 0


@settings(max_examples=60, deadline=None)
@given(
    locations=st.lists(st.tuples(st.integers(0, N_TYPES - 1), st.integers(1, 500)), min_size=1, max_size=12),
    open_first=st.lists(st.integers(0, 11), max_size=6),
    to_open=st.lists(st.integers(0, 11), max_size=30),  # from a dozen ids: repeats and ids open already are common
)
def test_opening_many_at_once_is_opening_each_in_turn(locations, open_first, to_open):
    """Locations opened together (the start's hundreds) leave the same open lists, places per type and record of
    changes as opened one by one in that order; a location listed twice or open already opens once."""
    one_by_one, together = Locations(), Locations()
    for L in (one_by_one, together):
        for type_code, places in locations:
            L.add(type_code, places, 0.0)
        for lid in open_first:
            if lid < L.n:
                L.open(lid)
    lids = [lid for lid in to_open if lid < len(locations)]
    for lid in lids:
        one_by_one.open(lid)
    together.open_many(lids)
    for a, b in zip((*one_by_one.open_of_type, one_by_one.open_ids), (*together.open_of_type, together.open_ids)):
        assert a.dtype == b.dtype and a.tolist() == b.tolist()
    assert one_by_one.open_places.tolist() == together.open_places.tolist()
    assert one_by_one.is_open.tolist() == together.is_open.tolist()
    assert one_by_one.changes == together.changes


@settings(max_examples=100, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
    seed=st.integers(0, 2**32 - 1),
)
def test_arrivals_go_to_the_centre_whose_share_their_draw_falls_in(weights, seed):
    """A draw u goes to the first centre whose cumulative share exceeds it (draws on an edge to the next one),
    for a few centres and for many, as a binary search over the cumulative shares would route it."""
    from sim.registration import route_to_centres

    shares = [w / sum(weights) for w in weights]
    edges = np.cumsum(shares)[:-1]
    u = np.concatenate((np.random.default_rng(seed).random(500), edges, [0.0]))  # draws on the edges too
    got = route_to_centres(u, shares)
    assert got.dtype == np.intp
    assert got.tolist() == np.searchsorted(edges, u, side="right").tolist()


@settings(max_examples=200, deadline=None)
@given(
    ends=st.lists(st.integers(0, 6).map(float), max_size=30),
    split=st.lists(st.booleans(), max_size=30),
)
def test_two_centres_registrations_join_in_order_of_their_ends(ends, split):
    """Registrations ended at two centres, each list in order of its ends, join in order of the ends with ties
    the first centre's first: what a stable sort of the two lists joined gives."""
    from sim.registration import _merged

    key = np.array(ends)
    ids = np.argsort(key, kind="stable")
    mine = np.array([split[i % len(split)] if split else True for i in range(len(ids))], bool)
    first, second = ids[mine], ids[~mine]
    joined = np.concatenate((first, second))
    expected = joined[np.argsort(key[joined], kind="stable")]
    assert _merged(first, second, key).tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 400), st.integers(0, 2**32 - 1), st.sampled_from([DURABLE, EMERGENCY]))
def test_residents_move_up_from_the_lease_that_ends_first_then_the_emptiest_location(n, seed, from_type):
    """The order moving up empties locations in (the compiled one): numpy's lexsort by closing day, then
    occupancy, then id, of the open locations of the type that hold anyone. Up to 400 locations of two types
    with few distinct values: many ties, which an unstable sort breaks otherwise."""
    from sim.reception.placement import _sources

    rng = np.random.default_rng(seed)
    L = Locations(capacity=4)
    for _ in range(n):
        lid = L.add(int(rng.choice([DURABLE, EMERGENCY])), 5, 0.0, float(rng.choice([5.0, 9.0, np.inf])))
        if rng.random() < 0.8:
            L.open(lid)
            L.occ[lid] = rng.integers(0, 4)
    ids = L.open_of_type[from_type]
    ids = ids[L.occ[ids] > 0]
    expected = ids[np.lexsort((L.occ[ids], L.close_day[ids]))]
    assert _sources(L.open_tab, L.n_open, from_type, L.occ, L.close_day).tolist() == expected.tolist()
