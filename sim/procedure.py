"""The IND procedure (asielprocedure), family reunification (nareis) and departures (vertrek).

First asylum: registered applicants join a FIFO backlog. Every week the IND
decides as many cases as its production allows: a series that may change over
time, or production that responds, with a lag, to the backlog (a scenario
choice). Each person carries one uniform for the outcome and one for the
departure delay, drawn on arrival; the outcome is read off the shares in force
on the day of the decision (they can change, e.g. a moratorium), so more
production changes *when* people are decided and a change of shares *what* is
decided, with the same people in every scenario. Rejected people and Dublin
cases leave reception after a delay, to a return or to an unknown destination.

Family reunification: applications by status holders for family abroad form a
second queue with its own production; approved applications bring family
members after a travel delay. That queue depends on nothing else in the chain,
so :func:`family_queue` computes it when the run starts.
"""

from __future__ import annotations

import bisect
import datetime as dt

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_YEAR, Calendar, step_series
from sim.compiled import jit
from sim.people import (
    AMV,
    DUBLIN,
    EXIT_DUBLIN,
    EXIT_RETURN,
    EXIT_UNKNOWN,
    FAMILY,
    GONE,
    IN_PROCEDURE,
    NO_OUTCOME,
    PERMIT,
    REJECTION,
    STATUS_HOLDER,
    TO_DEPART,
    IdQueue,
    People,
    status_is,
)
from sim.scenario import AsylumProductionChange, Outcomes, Scenario
from sim.scenario import Procedure as ProcedureConfig


@jit
def _enter_registered(ids, cat, t_permit, t_reg_end, backlog, tail, family) -> tuple[int, int]:
    """``ids`` (in order) who finished registering: asylum applicants are appended to the backlog (``backlog``:
    its buffer, with room after ``tail``); family members' permits are dated to the end of their registration.
    The family members (nareizigers, in order) are written to the start of ``family`` (room for all ``ids``).
    Returns how many there are and the backlog's new tail: numbers, not an array (an array handed back costs a
    Python call, :mod:`sim.compiled`)."""
    n = 0
    for p in ids:
        if cat[p] == FAMILY:
            t_permit[p] = t_reg_end[p]
            family[n] = p
            n += 1
        else:
            backlog[tail] = p
            tail += 1
    return n, tail


IN_PROCEDURE_ONLY = status_is(IN_PROCEDURE)  # who is still to be decided: the backlog's validity test


@jit
def _link_due(ids, days, entry_ids, entry_next, n, head, tail) -> int:
    """Departures of ``ids`` on ``days`` (one each) appended to their day's list (``head``/``tail``: each day's
    first and last entry, -1 for none; ``entry_next``: an entry's next on its day, -1 ends), from entry ``n`` on;
    a day beyond the lists (beyond the horizon) is never collected and not listed. Returns the next free entry."""
    for i in range(len(ids)):
        d = days[i]
        if d >= len(head):
            continue
        entry_ids[n] = ids[i]
        entry_next[n] = -1
        if head[d] < 0:
            head[d] = n
        else:
            entry_next[tail[d]] = n
        tail[d] = n
        n += 1
    return n


@jit
def _departing_on(day, entry_ids, entry_next, head, where, outcome, returns, out, kind) -> tuple[int, int]:
    """The departures listed on ``day`` (in order of scheduling, see :func:`_link_due`) of people still in the
    chain, written to the start of ``out``, and how each leaves to ``kind``: Dublin cases to the responsible
    state, the others returning or to an unknown destination (both as long as the list's entries at least).
    Returns how many leave and how many were due (those gone already included): numbers, not arrays (see
    :func:`_enter_registered`)."""
    due = leaving = 0
    e = head[day]
    while e >= 0:
        due += 1
        p = entry_ids[e]
        e = entry_next[e]
        if where[p] == GONE:
            continue
        out[leaving] = p
        kind[leaving] = EXIT_DUBLIN if outcome[p] == DUBLIN else (EXIT_RETURN if returns[p] else EXIT_UNKNOWN)
        leaving += 1
    return leaving, due


def outcome_bounds(o: Outcomes) -> tuple[float, float]:
    """The inverse CDF over permit, rejection, Dublin as two bounds on one uniform: below the first a permit,
    below the second a rejection, else Dublin."""
    return o.permit, o.permit + o.rejection


@jit
def _outcomes(ids, cat, u, first, amv, outcome, t_decision, now) -> np.ndarray:
    """Each of ``ids``, decided at ``now``, gets an outcome from their uniform ``u``: minors by the AMV bounds
    (``amv``), other applicants by ``first`` (:func:`outcome_bounds`); family members (nareizigers) get none.
    Returns the outcomes of ``ids``, in order."""
    out = np.empty(len(ids), outcome.dtype)
    for i in range(len(ids)):
        p = ids[i]
        t_decision[p] = now
        if cat[p] == FAMILY:
            outcome[p] = NO_OUTCOME
        else:
            permit, rejection = amv if cat[p] == AMV else first
            outcome[p] = PERMIT if u[p] < permit else (REJECTION if u[p] < rejection else DUBLIN)
        out[i] = outcome[p]
    return out


@jit
def _sorted_by_outcome(ids, outcome, delays, now, depart_delay_days, status, t_permit):
    """Of ``ids`` with their ``outcome`` and departure ``delays`` (days), in order: those with a permit become
    status holders from ``now``, the others must leave. Returns the status holders, those who must leave, and
    when each of them leaves (simulation days)."""
    holders = np.empty(len(ids), ids.dtype)
    leavers = np.empty(len(ids), ids.dtype)
    when = np.empty(len(ids))
    h = n = 0
    for i in range(len(ids)):
        p = ids[i]
        depart_delay_days[p] = delays[i]
        if outcome[i] == PERMIT:
            status[p] = STATUS_HOLDER
            t_permit[p] = now
            holders[h] = p
            h += 1
        else:
            status[p] = TO_DEPART
            leavers[n] = p
            when[n] = now + delays[i]
            n += 1
    return holders[:h], leavers[:n], when[:n]


def departure_delays(scenario: Scenario, outcome: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Days from decision to departure (exponential, by inverse CDF of one uniform each)."""
    cfg = scenario.departure
    mean = np.where(outcome == DUBLIN, cfg.dublin_mean_delay_days, cfg.mean_delay_days)
    return -mean * np.log1p(-u)


def first_decisions(cfg: ProcedureConfig, change: AsylumProductionChange) -> float:
    """First-asylum decisions a week from a published count: a count of every asylum application handled
    (``counts = "all"``) holds later applications too, which the backlog does not."""
    share = cfg.first_share_of_all_decisions if change.counts == "all" else 1.0
    return change.decisions_per_week * share


class Procedure:
    """The IND's first-asylum backlog (FIFO), its production, and the departures it schedules."""

    def __init__(self, scenario: Scenario, people: People, cal: Calendar):
        self.s = scenario
        self.cfg = scenario.procedure
        self.people = people
        self.cal = cal
        self.backlog = IdQueue()
        self.size = 0  # cases pending
        self.decided = 0
        # departures scheduled, listed per day in order of scheduling (:func:`_link_due`): a day's collection walks
        # its own list, not every departure still to come
        self._entry_ids, self._entry_next, self._entries = np.empty(1024, np.int64), np.empty(1024, np.int64), 0
        # a day's departures and their exit kinds are written here (as long as the lists' entries: a day lists no more)
        self._leaving, self._exit_kinds = np.empty(1024, np.int64), np.empty(1024, np.int8)
        self._family = np.empty(1024, np.int64)  # the family members among those who finished registering, written here
        self._day_head = np.full(cal.horizon_days, -1, np.int64)
        self._day_tail = np.full(cal.horizon_days, -1, np.int64)
        self.awaiting_departure = 0
        self._next_due_day = 0  # first day whose departures have not been collected yet
        self.family_backlog = np.zeros(cal.horizon_days, np.int64)  # family applications pending each night (plan_family)
        # the first-asylum outcome shares in force from each change's date (of two on one date, the later listed)
        changes = sorted(self.cfg.outcome_changes, key=lambda c: c.date)
        self._change_dates = [c.date for c in changes]
        self._first_bounds = [outcome_bounds(o) for o in (self.cfg.outcomes_first, *changes)]
        self._amv_bounds = outcome_bounds(self.cfg.outcomes_amv)
        self.series = step_series(
            scenario.start_date,
            cal.horizon_days,
            self.cfg.decisions_per_week,
            [(c.date, first_decisions(self.cfg, c)) for c in self.cfg.production_changes],
        )

    def production(self, day: int, backlog_history: np.ndarray) -> int:
        """Decisions this week: the series, or (responsive) what clears the backlog seen a lag ago within the
        target, between the series and the most the IND can reach."""
        base = float(self.series[day])
        cfg = self.cfg
        until = cfg.responsive_until
        if cfg.production_mode == "responsive" and (until is None or self.cal.date(day) < until):
            seen = day - cfg.responsive_lag_days
            backlog = float(backlog_history[seen]) if seen >= 0 else float(self.size)
            base = min(max(base, backlog / cfg.responsive_target_weeks), max(cfg.responsive_max_per_week, base))
        return int(round(base))

    def enter(self, ids: np.ndarray) -> None:
        """Registered applicants join the backlog (in order of registration)."""
        self.backlog.push(ids)
        self.size += len(ids)

    def first_bounds_on(self, day_date: dt.date) -> tuple[float, float]:
        """The first-asylum outcome shares in force on a date (:func:`outcome_bounds`): the latest change dated on
        or before it, else the shares at the start."""
        return self._first_bounds[bisect.bisect_right(self._change_dates, day_date)]

    def decide(self, k: int, now: float) -> tuple[np.ndarray, np.ndarray]:
        """Decide the ``k`` oldest cases with the shares in force today; returns (new status holders, people who must leave)."""
        p = self.people
        ids = self.backlog.pop(k, IN_PROCEDURE_ONLY, p.status)
        self.size -= len(ids)
        self.decided += len(ids)
        first = self.first_bounds_on(self.cal.date(now))
        outcome = _outcomes(ids, p.cat, p.u_outcome, first, self._amv_bounds, p.outcome, p.t_decision, now)
        # the delays by numpy's log1p, which the delays of the people present at the start also use
        delays = departure_delays(self.s, outcome, p.u_delay[ids])
        holders, leavers, when = _sorted_by_outcome(ids, outcome, delays, now, p.depart_delay_days, p.status, p.t_permit)
        self.schedule_departures(leavers, when)
        return holders, leavers

    def schedule_departures(self, ids: np.ndarray, when: np.ndarray) -> None:
        """``ids`` leave on the day of ``when`` (simulation days, one each)."""
        # a departure due on a day already collected (a delay shorter than the rest of the day) leaves the next day
        days = np.maximum(np.floor(when).astype(np.int64), self._next_due_day)
        self.awaiting_departure += len(ids)
        n, k = self._entries, len(ids)
        if n + k > len(self._entry_ids):
            size = max(2 * (n + k), 1024)
            self._entry_ids = np.concatenate((self._entry_ids[:n], np.empty(size - n, np.int64)))
            self._entry_next = np.concatenate((self._entry_next[:n], np.empty(size - n, np.int64)))
            self._leaving, self._exit_kinds = np.empty(size, np.int64), np.empty(size, np.int8)
        self._entries = _link_due(ids, days, self._entry_ids, self._entry_next, n, self._day_head, self._day_tail)

    def departures(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """People still in the chain whose departure falls on ``day`` (in order of scheduling), and how each leaves
        (``EXIT_*``): Dublin cases to the responsible state, the others returning or to an unknown destination.
        Both are views of buffers the next call overwrites: use them before then."""
        p = self.people
        self._next_due_day = day + 1
        if not 0 <= day < len(self._day_head):  # the compiled walk reads the day's list without bounds checks
            raise ValueError(f"departures are collected for days 0 to {len(self._day_head) - 1}, not {day}")
        leaving, due = _departing_on(
            day, self._entry_ids, self._entry_next, self._day_head, p.where, p.outcome, p.returns, self._leaving, self._exit_kinds
        )
        self.awaiting_departure -= due
        return self._leaving[:leaving], self._exit_kinds[:leaving]

    def enter_registered(self, ids: np.ndarray) -> np.ndarray:
        """People who finished registering: asylum seekers join the backlog; family members (nareizigers)
        already hold a permit, dated to the end of registration. Returns the family members (they wait for a home):
        a view of a buffer the next call overwrites."""
        p, backlog = self.people, self.backlog
        backlog.room(len(ids))
        if len(ids) > len(self._family):
            self._family = np.empty(2 * len(ids), np.int64)
        before = backlog.tail
        n, backlog.tail = _enter_registered(ids, p.cat, p.t_permit, p.t_reg_end, backlog.buffer, backlog.tail, self._family)
        self.size += backlog.tail - before  # the applicants (see enter)
        return self._family[:n]

    def plan_family(self, rng: np.random.Generator, replay: pd.DataFrame | None, counts: np.ndarray) -> None:
        """Draw the family reunification queue of the run (:func:`family_queue`); when the scenario says its
        approvals drive arrivals, they replace the family column of the daily arrival ``counts`` (persons)."""
        self.family_backlog, arrivals = family_queue(self.s, self.cal, rng, replay)
        if self.cfg.family.drives_arrivals:
            counts[:, FAMILY] = arrivals


def family_applications(scenario: Scenario, cal: Calendar, rng: np.random.Generator, replay: pd.DataFrame | None) -> np.ndarray:
    """Family reunification applications per day: the replay file's monthly ``family_applications`` spread over
    each month's days, else a Poisson rate (drawn day by day, so a day does not depend on the horizon)."""
    cfg = scenario.procedure.family
    h = cal.horizon_days
    if replay is not None and "family_applications" in replay:
        out = np.zeros(h)
        months = cal.dates.astype("datetime64[M]")
        for month in np.unique(months):
            days = np.flatnonzero(months == month)
            stamp = pd.Timestamp(month)
            out[days] = float(replay.loc[stamp, "family_applications"]) / pd.Period(stamp, "M").days_in_month
        return rng.poisson(out)
    return rng.poisson(np.full(h, cfg.applications_per_year / DAYS_PER_YEAR))


def family_queue(
    scenario: Scenario, cal: Calendar, rng: np.random.Generator, replay: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The family reunification queue over the run: (applications pending each night, family members
    arriving each day from approvals). Weekly FIFO production; a binomial share approved; each approval
    brings ``persons_per_approval`` people on average (Poisson) after an exponential travel time."""
    cfg = scenario.procedure.family
    h = cal.horizon_days
    apps_rng, decide_rng, travel_rng = (
        np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(int(rng.integers(2**63))).spawn(3)
    )
    apps = family_applications(scenario, cal, apps_rng, replay)
    production = step_series(
        scenario.start_date, h, cfg.decisions_per_week, [(c.date, c.decisions_per_week) for c in cfg.production_changes]
    )
    backlog, arrivals = np.empty(h, np.int64), np.zeros(h, np.int64)
    _family_weeks(
        apps.astype(np.int64),
        np.asarray(production, np.float64),
        int(cfg.initial_backlog),
        float(cfg.approval_share),
        float(cfg.persons_per_approval),
        float(cfg.travel_days),
        decide_rng,
        travel_rng,
        backlog,
        arrivals,
    )
    return backlog, arrivals


@jit
def _family_weeks(
    apps, production, pending, approval_share, persons_per_approval, travel_days, decide_rng, travel_rng, backlog, arrivals
):
    """The family queue's days (see :func:`family_queue`): each day's applications join the ``pending`` ones;
    every seventh day the week's production is decided (rounded half to even, as Python's ``round``), a binomial
    share approved and a Poisson number of persons drawn, each arriving after an exponential travel time (whole
    days; none beyond the run). Writes the nights' pending applications into ``backlog`` and counts the arrivals
    per day into ``arrivals``. numba's generator draws as numpy's does, from the same bit generator: the same
    numbers, in one call rather than a Python step a day (~12 ms a run)."""
    h = len(apps)
    for day in range(h):
        pending += apps[day]
        if day % 7 == 0:
            decided = min(pending, int(np.rint(production[day])))
            pending -= decided
            approved = decide_rng.binomial(decided, approval_share)
            persons = decide_rng.poisson(approved * persons_per_approval)
            for _ in range(persons):
                when = day + int(np.floor(travel_rng.exponential(travel_days))) if travel_days > 0 else day
                if when < h:
                    arrivals[when] += 1
        backlog[day] = pending
