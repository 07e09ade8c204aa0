"""Wires the parts of the chain into one SimPy environment: ``simulate(scenario, seed)``.

The flow of a person, one day at a time (times are fractions of the day, so the
order within a day is fixed and the same in every run):

    .00  inflow         arrivals of the day; family joining a sponsor leave at once,
                        the rest register at an application centre or elsewhere
    .01  departures     rejected and Dublin cases whose delay has passed leave
    .02  housing        status holders housed under the housing task
    .03  IND            weekly production decides the oldest cases (Mondays of the run)
    .20  locations      places open and close (scheduled, on demand, Spreidingswet)
    .50  transfer       registered people move from the centres to free places;
                        crisis and emergency residents move up into regular places
    .60  COA            emergency places requested or closed
    .99  monitor        the night's occupancy and the day's costs
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from sim import inflow
from sim.calendar import Calendar, step_series
from sim.housing import Housing
from sim.metrics import Monitor, summarise
from sim.people import (
    AC_WAITING,
    AMV,
    CRISIS,
    DEPARTED,
    DUBLIN,
    ELSEWHERE,
    EXIT_DUBLIN,
    EXIT_HOUSED,
    EXIT_RETURN,
    EXIT_SPONSOR,
    EXIT_UNKNOWN,
    FAMILY,
    FIRST,
    GONE,
    HOUSED,
    IN_PROCEDURE,
    LOCATION,
    STATUS_HOLDER,
    TO_DEPART,
    IdQueue,
    People,
)
from sim.procedure import Procedure, departure_delays, draw_outcomes
from sim.reception import (
    AMV_PLACES,
    DURABLE,
    EMERGENCY,
    NEVER,
    TEMPORARY,
    TYPE_CODE,
    Reception,
    initial_locations,
    read_municipalities,
)
from sim.registration import ApplicationCentre, route_to_centres, service_days
from sim.scenario import Scenario, ScenarioError
from sim.streams import Streams

HALF_YEAR_DAYS = 365.25 / 2
T_INFLOW, T_DEPART, T_HOUSING, T_IND, T_LOCATIONS, T_TRANSFER, T_COA, T_MONITOR = 0.0, 0.01, 0.02, 0.03, 0.2, 0.5, 0.6, 0.99


@dataclass
class Result:
    """What one run returns: daily time series, headline summary, and (on request) the records."""

    timeseries: pd.DataFrame
    summary: dict
    cycles: pd.DataFrame = field(default_factory=pd.DataFrame)
    people: pd.DataFrame | None = None
    locations: pd.DataFrame | None = None
    municipalities: pd.DataFrame | None = None


class Chain:
    """The reception chain of one run: people, parts, and the SimPy processes that move people."""

    def __init__(self, scenario: Scenario, seed: int):
        self.s = scenario
        self.seed = int(seed)
        self.streams = Streams(seed)
        self.cal = Calendar(scenario.start_date, scenario.horizon_days)
        self.h = scenario.horizon_days
        self.counts = inflow.daily_counts(scenario, self.cal, self.streams.inflow)
        ist = scenario.initial_state
        n_initial = (
            ist.ac_occupancy + ist.occupancy_durable + ist.occupancy_temporary + ist.occupancy_emergency + ist.occupancy_amv
        )
        self.people = People(n_initial + int(self.counts.sum()) + 16)
        self.reception = Reception(scenario, self.people)
        self.centres = [ApplicationCentre(c, i) for i, c in enumerate(scenario.registration.centres)]
        self.procedure = Procedure(self.people, self.h)
        housing_task = step_series(
            scenario.start_date,
            self.h,
            scenario.housing.task_per_half_year,
            [(c.date, c.persons_per_half_year) for c in scenario.housing.task_changes],
        )
        self.housing = Housing(self.people, housing_task / HALF_YEAR_DAYS)
        self.production = step_series(
            scenario.start_date,
            self.h,
            scenario.procedure.decisions_per_week,
            [(c.date, c.decisions_per_week) for c in scenario.procedure.production_changes],
        )
        self.adult_queue = IdQueue()  # registered adults and families waiting for a place, FIFO
        self.amv_queue = IdQueue()  # registered minors waiting for an AMV place
        self.crisis_queue = IdQueue()  # residents of crisis shelter, oldest first
        self.waiting = np.zeros(2, np.int64)  # valid entries of (adult_queue, amv_queue)
        self.monitor = Monitor(self.h)
        self.today = dict(arrivals=0, housed=0, departed=0, decisions=0)
        self._penalty_paid = np.zeros(len(self.centres))
        self.municipalities = None
        if ist.use_municipal_places or scenario.capacity.spreidingswet.enabled:
            self.municipalities = read_municipalities(scenario.resolve_path(ist.municipalities_file))
        self.capacity = None  # the Spreidingswet cycle, if enabled (sim.capacity)
        self._located = np.empty(0, np.int64)  # ids not gone at the last refresh (see _maybe_located)
        self._located_n = -1  # people.n at that refresh
        self._build_initial_state()

    # ------------------------------------------------------------------ initial state

    def _muni_index(self, code: str | None) -> int:
        if code is None or self.municipalities is None:
            return -1
        hits = np.flatnonzero(self.municipalities["cbs_code"].to_numpy() == code)
        return int(hits[0]) if len(hits) else -1

    def _build_initial_state(self) -> None:
        s, p, L = self.s, self.people, self.reception.locations
        ist = s.initial_state
        for type_code, places, close, muni, origin in initial_locations(s, self.municipalities):
            lid = L.add(type_code, places, 0.0, close if close < self.h else NEVER, muni, origin)
            L.is_open[lid] = True
        for loc in s.capacity.scheduled:
            open_day = self.cal.day(loc.opens)
            close_day = self.cal.day(loc.closes) if loc.closes else NEVER
            if close_day <= 0:
                continue
            lid = L.add(
                TYPE_CODE[loc.type], loc.places, max(open_day, 0), close_day, self._muni_index(loc.municipality), "scheduled"
            )
            if open_day <= 0:
                L.is_open[lid] = True
        rng = self.streams.initial
        # residents of existing locations, spread over them in proportion to their places
        residents = []
        for type_code, key in (
            (DURABLE, "occupancy_durable"),
            (TEMPORARY, "occupancy_temporary"),
            (EMERGENCY, "occupancy_emergency"),
            (AMV_PLACES, "occupancy_amv"),
        ):
            want = getattr(ist, key)
            lids = np.flatnonzero(L.is_open[: L.n] & (L.type[: L.n] == type_code))
            places = L.places[lids]
            if want > places.sum():
                raise ScenarioError(
                    s.source_file,
                    f"initial_state.{key}",
                    f"{want} persons exceed the {int(places.sum())} {key.split('_')[1]} places open on the start date",
                )
            if want == 0:
                continue
            share = places / places.sum() * want
            occ = np.floor(share).astype(np.int64)
            rest = want - occ.sum()
            occ[np.argsort(-(share - occ), kind="stable")[:rest]] += 1
            ids = p.add(want)
            p.cat[ids] = AMV if type_code == AMV_PLACES else FIRST
            p.loc[ids] = np.repeat(lids, occ)
            p.where[ids] = LOCATION
            p.t_place[ids] = -1.0
            L.occ[lids] += occ
            residents.append(ids)
        self.reception.placed_ever += sum(len(r) for r in residents)
        residents = np.concatenate(residents) if residents else np.empty(0, np.int64)
        ac_ids = p.add(ist.ac_occupancy)
        p.cat[ac_ids] = FIRST
        centre_of = route_to_centres(rng.random(len(ac_ids)), [c.share_of_arrivals for c in s.registration.centres])
        p.centre[ac_ids] = centre_of
        p.where[ac_ids] = AC_WAITING
        p.t_arrive[ac_ids] = -np.sort(rng.uniform(0, 5, len(ac_ids)))[::-1]
        p.t_reg_start[ac_ids] = p.t_arrive[ac_ids]
        p.t_reg_end[ac_ids] = p.t_arrive[ac_ids]
        for c in self.centres:
            c.present += int((centre_of == c.index).sum())
        everyone = np.concatenate([residents, ac_ids])
        p.initial[everyone] = True
        # statuses: status holders and people awaiting departure among the residents, the rest in procedure
        order = rng.permutation(residents)
        holders = order[: ist.status_holders_waiting]
        leaving = order[ist.status_holders_waiting : ist.status_holders_waiting + ist.awaiting_departure]
        pending = np.concatenate([order[ist.status_holders_waiting + ist.awaiting_departure :], ac_ids])
        p.status[holders] = STATUS_HOLDER
        p.t_permit[holders] = -np.sort(rng.uniform(0, 98, len(holders)))[::-1]  # facts §5: a normal wait is ~14 weeks
        self.housing.enter(holders)
        p.status[leaving] = TO_DEPART
        p.outcome[leaving] = np.where(rng.random(len(leaving)) < 0.7, 2, 3)
        p.returns[leaving] = rng.random(len(leaving)) < s.departure.return_share
        self.procedure.schedule_departures(leaving, departure_delays(s, p.outcome[leaving], rng.random(len(leaving))))
        p.status[pending] = IN_PROCEDURE
        p.outcome[pending] = draw_outcomes(s, p.cat[pending], rng.random(len(pending)))
        p.depart_delay_days[pending] = departure_delays(s, p.outcome[pending], rng.random(len(pending)))
        p.returns[pending] = rng.random(len(pending)) < s.departure.return_share
        # the backlog's order: residents in random order, then the newest (at the centres)
        weeks = max(len(pending) / max(s.procedure.decisions_per_week, 1.0), 1.0)
        entered = -np.sort(rng.uniform(0, 7 * weeks, len(pending) - len(ac_ids)))[::-1]
        p.t_reg_end[pending[: len(pending) - len(ac_ids)]] = entered
        self.procedure.enter(pending)
        self.adult_queue.push(ac_ids)
        self.waiting[0] += len(ac_ids)
        self.initial_total = len(everyone)

    # ------------------------------------------------------------------ people leave

    def exit(self, ids: np.ndarray, kind: np.ndarray | int, now: float) -> None:
        """People leave the chain (housed, joined a sponsor, departed)."""
        if len(ids) == 0:
            return
        p = self.people
        at = p.where[ids]
        waiting = (at == AC_WAITING) | (at == ELSEWHERE)
        if waiting.any():
            amv = p.cat[ids[waiting]] == AMV
            self.waiting[1] -= int(amv.sum())
            self.waiting[0] -= int((~amv).sum())
        self._leave_centres(ids[at == AC_WAITING], now)
        self.reception.release(ids)
        p.where[ids] = GONE
        p.t_exit[ids] = now
        p.exit_kind[ids] = kind

    def _leave_centres(self, ids: np.ndarray, now: float) -> None:
        """People who were waiting at an application centre leave it (placed, housed or departed)."""
        if len(ids) == 0:
            return
        self.people.t_leave_ac[ids] = now
        for c, k in enumerate(np.bincount(self.people.centre[ids], minlength=len(self.centres))):
            self.centres[c].present -= int(k)

    # ------------------------------------------------------------------ the flows

    def draw_arrivals(self) -> dict[str, np.ndarray]:
        """Every arrival of the run and the random attributes each will need, one row per person.

        Drawn up front with the same numbers, in the same order, as day-by-day draws would
        give (a stream's ``random(a)`` then ``random(b)`` equals ``random(a + b)``): per day
        the inflow stream permutes the categories and draws arrival times; the registration,
        departure and housing streams each give two uniforms per arrival (day by day: all
        first uniforms of the day, then all second ones), the procedure stream one. These
        four streams serve nothing else, so drawing them early changes no other draw.
        """
        s, st = self.s, self.streams
        cats = np.array([FIRST, AMV, FAMILY])
        per_day = self.counts.sum(axis=1)
        total = int(per_day.sum())
        offset = np.concatenate([[0], np.cumsum(per_day)])  # first row of each day
        cat = np.empty(total, np.int8)
        t_arrive = np.empty(total)
        for day in np.flatnonzero(per_day):
            a = slice(offset[day], offset[day + 1])
            cat[a] = st.inflow.permutation(np.repeat(cats, self.counts[day]))
            t_arrive[a] = day + np.sort(st.inflow.random(int(per_day[day]))) * 0.98
        # where each person's first and second uniform sit in a stream drawn two per person
        k_of = np.repeat(per_day, per_day)
        first_u = np.arange(total) + np.repeat(offset[:-1], per_day)
        second_u = first_u + k_of

        def two(rng):
            u = rng.random(2 * total)
            return u[first_u], u[second_u]

        u_centre, u_service = two(st.registration)
        u_outcome = st.procedure.random(total)
        u_delay, u_return = two(st.departure)
        u_sponsor, u_elsewhere = two(st.housing)
        outcome = draw_outcomes(s, cat, u_outcome)
        family = cat == FAMILY
        sponsor = family & (u_sponsor < s.housing.family_join_sponsor_share)
        elsewhere = family & ~sponsor & (u_elsewhere < s.registration.family_register_elsewhere_share)
        to_ac = ~sponsor & ~elsewhere
        centre = route_to_centres(u_centre, [c.share_of_arrivals for c in s.registration.centres])
        service = np.full(total, np.nan)
        for c in self.centres:
            mine = to_ac & (centre == c.index)
            service[mine] = service_days(c.cfg, u_service[mine])
        status = np.zeros(total, np.int8)  # IN_PROCEDURE once registered
        status[family] = STATUS_HOLDER  # nareizigers hold a permit on arrival
        status[sponsor] = HOUSED
        where = np.full(total, GONE, np.int8)  # joining a sponsor: straight into the sponsor's home
        where[elsewhere] = ELSEWHERE
        return dict(
            offset=offset,
            cat=cat,
            t_arrive=t_arrive,
            outcome=outcome,
            depart_delay_days=departure_delays(s, outcome, u_delay),
            returns=u_return < s.departure.return_share,
            service_days=service,
            status=status,
            where=where,
            t_permit=np.where(sponsor | elsewhere, t_arrive, np.nan),
            t_exit=np.where(sponsor, t_arrive, np.nan),
            exit_kind=np.where(sponsor, EXIT_SPONSOR, 0).astype(np.int8),
            sponsor=sponsor,
            elsewhere=elsewhere,
            to_ac=to_ac,
            centre=centre,
        )

    def inflow_process(self, env: simpy.Environment):
        """Arrivals of each day: records copied from :meth:`draw_arrivals`, then routed."""
        p = self.people
        A = self.draw_arrivals()
        offset = A["offset"]
        copied = (
            "cat",
            "t_arrive",
            "outcome",
            "depart_delay_days",
            "returns",
            "service_days",
            "status",
            "where",
            "t_permit",
            "t_exit",
            "exit_kind",
        )
        one_centre = len(self.centres) == 1
        for day in range(self.h):
            yield env.timeout(day + T_INFLOW - env.now)
            a = slice(offset[day], offset[day + 1])
            k = a.stop - a.start
            self.today["arrivals"] = k
            if k == 0:
                continue
            ids = p.add(k)
            rows = slice(ids[0], ids[0] + k)  # new records are contiguous: slices instead of fancy indexing
            for name in copied:
                getattr(p, name)[rows] = A[name][a]
            self.today["housed"] += int(A["sponsor"][a].sum())  # joined their sponsor on arrival
            # registering elsewhere: wait for a place at home/with the sponsor, and for a home
            el = ids[A["elsewhere"][a]]
            self.reception.waiting_elsewhere += len(el)
            self.adult_queue.push(el)
            self.waiting[0] += len(el)
            self.housing.enter(el)
            # everyone else registers at an application centre
            to_ac = A["to_ac"][a]
            ac = ids[to_ac]
            if one_centre:
                self.centres[0].admit(p, ac)
                continue
            centre_of = A["centre"][a][to_ac]
            for c in self.centres:
                c.admit(p, ac[centre_of == c.index])

    def departure_process(self, env: simpy.Environment):
        p = self.people
        for day in range(self.h):
            yield env.timeout(day + T_DEPART - env.now)
            ids = self.procedure.due(day)
            ids = ids[p.where[ids] != GONE]
            kind = np.where(p.outcome[ids] == DUBLIN, EXIT_DUBLIN, np.where(p.returns[ids], EXIT_RETURN, EXIT_UNKNOWN))
            self.exit(ids, kind, env.now)
            p.status[ids] = DEPARTED
            self.today["departed"] = len(ids)

    def housing_process(self, env: simpy.Environment):
        p = self.people
        for day in range(self.h):
            yield env.timeout(day + T_HOUSING - env.now)
            ids = self.housing.intake(day)
            self.exit(ids, EXIT_HOUSED, env.now)
            p.status[ids] = HOUSED
            self.today["housed"] += len(ids)

    def ind_process(self, env: simpy.Environment):
        """The IND decides a week's production at once, every seventh day."""
        for day in range(0, self.h, 7):
            yield env.timeout(day + T_IND - env.now)
            k = int(round(self.production[day]))
            holders, _ = self.procedure.decide(k, env.now)
            self.housing.enter(holders)
            self.today["decisions"] = len(holders) + len(_)

    def location_process(self, env: simpy.Environment, lid: int):
        """A location's life: it opens, lives, closes (its residents move)."""
        L = self.reception.locations
        if not L.is_open[lid]:
            yield env.timeout(max(L.open_day[lid] + T_LOCATIONS - env.now, 0))
            if L.close_day[lid] <= env.now:
                return
            self.reception.open(lid)
        if np.isfinite(L.close_day[lid]) and L.close_day[lid] < self.h:
            yield env.timeout(max(L.close_day[lid] + T_LOCATIONS - env.now, 0))
            self.close_location(lid, env.now)

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

    def close_location(self, lid: int, now: float) -> None:
        p = self.people
        cand = self._maybe_located()
        residents = cand[p.loc[cand] == lid]
        self.reception.close(lid, now, residents)
        stranded = residents[p.where[residents] == CRISIS]
        self.crisis_queue.push(stranded)

    def transfer_process(self, env: simpy.Environment):
        """Registered people move on from the centres; people in crisis and emergency shelter move up."""
        p, s = self.people, self.s
        cfg = s.reception
        for day in range(self.h):
            yield env.timeout(day + T_TRANSFER - env.now)
            now = env.now
            done = [c.completed(p, now) for c in self.centres]
            done = np.concatenate(done) if len(done) > 1 else done[0]
            if len(self.centres) > 1:
                done = done[np.argsort(p.t_reg_end[done], kind="stable")]
            fam = p.cat[done] == FAMILY
            self.procedure.enter(done[~fam])
            p.t_permit[done[fam]] = p.t_reg_end[done[fam]]
            self.housing.enter(done[fam])
            amv = p.cat[done] == AMV
            self.amv_queue.push(done[amv])
            self.adult_queue.push(done[~amv])
            self.waiting += (len(done) - int(amv.sum()), int(amv.sum()))
            limit = s.registration.transfer_limit_per_day
            # an emergency reserve (Spreidingswet lever) takes people only while a centre is above its norm
            self.reception.allow_reserved = any(c.above_norm > 0 for c in self.centres)
            for q, queue, is_amv in ((1, self.amv_queue, True), (0, self.adult_queue, False)):
                if limit <= 0 or self.waiting[q] == 0:
                    continue
                # the places for min(limit, waiting) people, as far as free places go: their number is k
                slots = self.reception.slots_for(is_amv, min(limit, int(self.waiting[q])))
                ids = queue.pop(len(slots), lambda c: (p.where[c] == AC_WAITING) | (p.where[c] == ELSEWHERE))
                from_ac = ids[p.where[ids] == AC_WAITING]
                placed = self.reception.place(ids, now, is_amv, slots=slots[: len(ids)])
                assert len(placed) == len(ids)
                self.waiting[q] -= len(ids)
                limit -= len(ids)
                self._leave_centres(from_ac, now)
            self.reception.allow_reserved = False
            # people in crisis shelter take any place that is left (a move each)
            moves = cfg.consolidation_moves_per_day
            if self.reception.crisis and moves:
                for is_amv in (True, False):
                    free = self.reception.free_places(self.reception.types_for(is_amv))
                    if free == 0:
                        continue
                    cand = self.crisis_queue.view()
                    cand = cand[(p.where[cand] == CRISIS) & ((p.cat[cand] == AMV) == is_amv)][: min(free, moves)]
                    placed = self.reception.place(cand, now, is_amv)
                    moves -= len(placed)
                self.crisis_queue.compact(lambda c: p.where[c] == CRISIS)
            # once a week, emergency residents move into free regular places, so emergency locations can close
            if day % cfg.emergency.review_interval_days == 0 and self.waiting[0] == 0 and moves > 0:
                self._move_up(now, moves * cfg.emergency.review_interval_days)

    def _move_up(self, now: float, budget: int) -> None:
        p, R = self.people, self.reception
        L = R.locations
        free = R.free_places((DURABLE, TEMPORARY))
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
        R.release(ids)
        placed = R.place(ids, now, False)
        assert len(placed) == len(ids)

    def coa_process(self, env: simpy.Environment):
        """COA requests emergency locations when people wait for a place, and closes them when not needed."""
        R, cfg = self.reception, self.s.reception.emergency
        for day in range(self.h):
            yield env.timeout(day + T_COA - env.now)
            demand = int(self.waiting[0]) + (int(self.waiting[1]) if self.s.reception.amv_overflow_to_emergency else 0)
            demand += sum(c.registering for c in self.centres) + R.crisis
            for lid in R.request_emergency(env.now, R.emergency_shortfall(env.now, demand)):
                env.process(self.location_process(env, lid))
            if day % cfg.review_interval_days == 0:
                for lid in R.closable_emergency(env.now, demand):
                    self.close_location(lid, env.now)

    def monitor_process(self, env: simpy.Environment):
        """The night's count and the day's costs."""
        s, R, L = self.s, self.reception, self.reception.locations
        costs = s.costs
        c_occ = np.array(
            [
                costs.durable.occupied_eur_per_day,
                costs.temporary.occupied_eur_per_day,
                costs.emergency.occupied_eur_per_day,
                costs.amv.occupied_eur_per_day,
            ]
        )
        c_empty = np.array(
            [
                costs.durable.empty_eur_per_day,
                costs.temporary.empty_eur_per_day,
                costs.emergency.empty_eur_per_day,
                costs.amv.empty_eur_per_day,
            ]
        )
        for day in range(self.h):
            yield env.timeout(day + T_MONITOR - env.now)
            places = L.places_by_type()
            occ = L.occupancy_by_type()
            ac = sum(c.present for c in self.centres)
            above = sum(c.above_norm for c in self.centres)
            penalty = 0.0
            for i, c in enumerate(self.centres):
                if c.above_norm > 0 and self._penalty_paid[i] < c.cfg.penalty_cap_eur:
                    pay = min(c.cfg.penalty_eur_per_day, c.cfg.penalty_cap_eur - self._penalty_paid[i])
                    self._penalty_paid[i] += pay
                    penalty += pay
            self.monitor.any_above_norm[day] = above > 0
            total = ac + R.waiting_elsewhere + int(occ.sum()) + R.crisis
            cost = (
                float(occ @ c_occ + (places - occ) @ c_empty)
                + R.crisis * costs.crisis_eur_per_person_night
                + ac * costs.ac_eur_per_person_night
                + penalty
            )
            cap = self.capacity
            if cap is not None:
                cost += cap.take_cost()  # incentives paid per durable place opened
            self.monitor.record(
                day,
                arrivals=self.today["arrivals"],
                housed=self.today["housed"],
                departed=self.today["departed"],
                decisions=self.today["decisions"],
                moves=R.moves,
                ac_occupancy=ac,
                ac_registering=sum(c.registering for c in self.centres),
                ac_above_norm=above,
                sleeping_outside=sum(c.outside for c in self.centres),
                waiting_elsewhere=R.waiting_elsewhere,
                occupancy_durable=occ[DURABLE],
                occupancy_temporary=occ[TEMPORARY],
                occupancy_emergency=occ[EMERGENCY],
                occupancy_amv=occ[AMV_PLACES],
                occupancy_crisis=R.crisis,
                occupancy_total=total,
                places_durable=places[DURABLE],
                places_temporary=places[TEMPORARY],
                places_emergency=places[EMERGENCY],
                places_amv=places[AMV_PLACES],
                places_in_pipeline=cap.places_in_pipeline() if cap else 0,
                places_durable_task=cap.current_task() if cap else 0,
                ind_backlog=self.procedure.size,
                status_holders_waiting=self.housing.waiting,
                awaiting_departure=self.procedure.awaiting_departure,
                cost_eur=cost,
                penalty_eur=penalty,
            )
            self.today = dict(arrivals=0, housed=0, departed=0, decisions=0)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        env = simpy.Environment()
        self.env = env
        for proc in (
            self.inflow_process,
            self.departure_process,
            self.housing_process,
            self.ind_process,
            self.transfer_process,
            self.coa_process,
            self.monitor_process,
        ):
            env.process(proc(env))
        L = self.reception.locations
        for lid in range(L.n):
            env.process(self.location_process(env, lid))
        if self.s.capacity.spreidingswet.enabled:
            from sim.capacity.cycle import CapacityCycle

            self.capacity = CapacityCycle(self, env)
        env.run(until=self.h)


def simulate(scenario: Scenario, seed: int = 1, replication: int = 0, keep_records: bool = False) -> Result:
    """Run one replication of ``scenario`` with root seed ``seed``.

    Returns a :class:`Result` with ``.timeseries`` (one row per day), ``.summary``
    (headline metrics) and, with ``keep_records``, the person and location records.
    """
    chain = Chain(scenario, seed)
    chain.run()
    summary = {"replication": int(replication), "seed": int(seed)}
    summary.update(
        summarise(
            chain.monitor,
            chain.people,
            float(chain.h),
            scenario.procedure.legal_term_days,
            chain.reception.placed_ever,
            chain.reception.moves,
        )
    )
    cycles = pd.DataFrame()
    if chain.capacity is not None:
        summary.update(chain.capacity.summary())
        cycles = chain.capacity.cycles_frame(replication)
    ts = chain.monitor.frame(chain.cal.dates, replication)
    ts["moves"] = np.diff(ts["moves"].to_numpy(), prepend=0)
    return Result(
        timeseries=ts,
        summary=summary,
        cycles=cycles,
        people=chain.people.frame() if keep_records else None,
        locations=chain.reception.locations.frame() if keep_records else None,
        municipalities=chain.municipalities,
    )
