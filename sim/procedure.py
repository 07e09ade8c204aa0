"""The IND asylum procedure and departures (vertrek).

Registered applicants join a FIFO backlog. Every week the IND decides as many
cases as its production allows (a parameter that may change over time). Each
person's outcome (permit, rejection, Dublin) was drawn on arrival, so more
production changes *when* people are decided, never *what* is decided.
Rejected people and Dublin cases leave reception after a delay, to a return or
to an unknown destination.
"""

from __future__ import annotations

import numpy as np

from sim.people import AMV, DUBLIN, FAMILY, IN_PROCEDURE, NO_OUTCOME, PERMIT, REJECTION, STATUS_HOLDER, TO_DEPART, IdQueue, People


def draw_outcomes(scenario, cat: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Outcome per person from one uniform each (inverse CDF over permit, rejection, Dublin)."""
    out = np.full(len(cat), NO_OUTCOME, np.int8)
    for is_amv, o in ((False, scenario.procedure.outcomes_first), (True, scenario.procedure.outcomes_amv)):
        sel = (cat == AMV) if is_amv else (cat != AMV) & (cat != FAMILY)
        v = u[sel]
        out[sel] = np.where(v < o.permit, PERMIT, np.where(v < o.permit + o.rejection, REJECTION, DUBLIN))
    return out


def departure_delays(scenario, outcome: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Days from decision to departure (exponential, by inverse CDF of one uniform each)."""
    cfg = scenario.departure
    mean = np.where(outcome == DUBLIN, cfg.dublin_mean_delay_days, cfg.mean_delay_days)
    return -mean * np.log1p(-u)


class Procedure:
    """The IND backlog (FIFO) and the departures it schedules."""

    def __init__(self, people: People, horizon_days: int):
        self.people = people
        self.backlog = IdQueue()
        self.size = 0  # cases pending
        self.decided = 0
        self._due: dict[int, list[np.ndarray]] = {}  # departure day -> ids
        self.awaiting_departure = 0
        self.horizon_days = horizon_days
        self._next_due_day = 0  # first day whose departures have not been collected yet

    def enter(self, ids: np.ndarray) -> None:
        """Registered applicants join the backlog (in order of registration)."""
        self.backlog.push(ids)
        self.size += len(ids)

    def decide(self, k: int, now: float) -> tuple[np.ndarray, np.ndarray]:
        """Decide the ``k`` oldest cases; returns (new status holders, people who must leave)."""
        p = self.people
        ids = self.backlog.pop(k, lambda c: p.status[c] == IN_PROCEDURE)
        self.size -= len(ids)
        self.decided += len(ids)
        p.t_decision[ids] = now
        permit = p.outcome[ids] == PERMIT
        holders = ids[permit]
        leavers = ids[~permit]
        p.status[holders] = STATUS_HOLDER
        p.t_permit[holders] = now
        p.status[leavers] = TO_DEPART
        self.schedule_departures(leavers, now + p.depart_delay_days[leavers])
        return holders, leavers

    def schedule_departures(self, ids: np.ndarray, when: np.ndarray) -> None:
        # a departure due on a day already collected (a delay shorter than the rest of the day) leaves the next day
        days = np.maximum(np.floor(when).astype(np.int64), self._next_due_day)
        self.awaiting_departure += len(ids)
        if len(ids) == 0:
            return
        # group by day in one stable sort (keeps each day's ids in their given order)
        order = np.argsort(days, kind="stable")
        days, ids = days[order], ids[order]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(days)) + 1])
        ends = np.append(starts[1:], len(ids))
        for day, a, b in zip(days[starts].tolist(), starts.tolist(), ends.tolist()):
            self._due.setdefault(day, []).append(ids[a:b])

    def due(self, day: int) -> np.ndarray:
        """Ids whose departure falls on ``day``."""
        self._next_due_day = day + 1
        parts = self._due.pop(day, None)
        if not parts:
            return np.empty(0, np.int64)
        ids = np.concatenate(parts)
        self.awaiting_departure -= len(ids)
        return ids
