"""Routines: the run's processes that only ever wait for time to pass (the day's fixed steps, each location's
life, each project, each municipality's start) run by the environment itself instead of as SimPy processes, in
exactly the order SimPy processes would run them.

A routine is a generator that yields the delay (days) it would pass to ``env.timeout`` as a process.
SimPy orders events by (time, priority, event id), the id counting up as events are made. Each step of a routine
gets the key its event would have had: its time as SimPy computes it (now + delay), and the id taken from the
environment's counter at the moment the process would have made its event (its start, where ``env.process`` would
have been called; each later step where the process would have yielded its timeout). The environment runs a
step straight away when nothing in its schedule comes before that key, several in a row when they follow one
another, and otherwise schedules one wake-up event under exactly the key of the next step. So every step, the
routines' and every other process's, happens in the same order as with a process per routine.

Unlike SimPy's, one ``env.step()`` may run many routine steps, up to the next other event: bound a run with
``env.run(until=...)``, not by counting steps. A routine has no process object: it cannot be waited for or
interrupted, and ``env.active_process`` is None during its steps. A step that raises crashes the run as a
process that raises would, at the same point in the order of events.

Why: these steps are nearly all of a run's events. Run in a row, they skip making, scheduling and popping an
event and resuming a process each, and a routine needs no process, start event or end event of its own.

This reads and writes three attributes SimPy keeps private (``Environment._now``, ``_queue`` and ``_eid``), stable
since SimPy 3; pyproject.toml keeps SimPy below 5, and tests/test_routines.py checks the order against a process
per routine on random schedules.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heapify, heappop, heappush
from math import floor

import simpy
from simpy.events import NORMAL, URGENT, Event

Routine = Generator[float, None, None]
_NEVER = float("inf")  # the day of steps never due (and of NaN times, whose order SimPy leaves to chance)


class Environment(simpy.Environment):
    """SimPy's environment, which also runs routines (see the module)."""

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        # the routines' next steps, (time, priority, id, routine), in two tiers: those before ``_near_end`` in a heap
        # (``_due``), the others in a list per day (``_later``, by the day's number; ``_days``: a heap of those
        # numbers), a day's list heaped up once ``_due`` runs dry. A step waits for a day, a lease or a stage, so
        # most are days ahead: one heap of them all (~800 in a run) made each step's push and pop a deep sift.
        self._due: list[tuple[float, int, int, Routine]] = []
        self._near_end: float = -_NEVER  # steps from here on go to ``_later`` (a day's first instant; never: none do)
        self._later: dict[float, list[tuple[float, int, int, Routine]]] = {}  # by day (an int, or never)
        self._days: list[float] = []
        self._wakes: list[tuple[float, int, int]] = []  # keys of the wake-up events scheduled and not yet processed
        self._waking = False  # steps are being run: the wake-up is armed after them

    def routine(self, routine: Routine) -> None:
        """Start ``routine`` as ``self.process(...)`` would start the process it stands for: its first part
        runs at the current time, before the events already scheduled for later."""
        self._push((self._now, URGENT, next(self._eid), routine))
        if not self._waking:
            self._arm()

    def _push(self, step: tuple[float, int, int, Routine]) -> None:
        """Schedule a routine's step (see ``_due`` for the tiers)."""
        t = step[0]
        if t < self._near_end or self._near_end == _NEVER:
            heappush(self._due, step)
            return
        day = floor(t) if t < _NEVER else _NEVER
        later = self._later.get(day)
        if later is None:
            heappush(self._days, day)  # the day first: an interruption between leaves no list unlisted
            self._later[day] = [step]
        else:
            later.append(step)

    def _bring_forward(self) -> bool:
        """With no step left before ``_near_end``, move the next day's steps into the heap; whether any step is left."""
        days = self._days
        while days:
            steps = self._later.pop(days[0], None)  # (none: an interruption came between listing a day and its list)
            day = heappop(days)
            if steps:
                heapify(steps)
                self._due = steps
                # once the steps never due are in the heap, every later step joins them there: one started
                # meanwhile at an earlier time must not wait behind them in a list
                self._near_end = day + 1 if day < _NEVER else _NEVER
                return True
        return False

    def _arm(self) -> None:
        """Make sure a wake-up event comes no later than the next step."""
        if self._due or self._bring_forward():
            key = self._due[0][:3]
            if not self._wakes or key < self._wakes[0]:
                wake = Event(self)
                wake._ok, wake._value = True, None
                wake.callbacks.append(self._wake)
                heappush(self._queue, (*key, wake))
                heappush(self._wakes, key)

    def _wake(self, _event: Event) -> None:
        """A wake-up: run the routines' steps for as long as they come before everything else scheduled."""
        heappop(self._wakes)  # wake-ups are processed in the order of their keys: this one is the first
        queue, eids, later, days = self._queue, self._eid, self._later, self._days
        due, near_end = self._due, self._near_end
        self._waking = True
        try:
            while True:
                if not due:
                    if not self._bring_forward():
                        break
                    due, near_end = self._due, self._near_end
                t, priority, eid, routine = due[0]
                if queue:
                    q = queue[0]  # another event comes first: by time, then priority, then id
                    if q[0] < t or (q[0] == t and (q[1] < priority or (q[1] == priority and q[2] < eid))):
                        break
                heappop(due)
                self._now = t
                # the routine's step, up to its next wait (in line: a method call per step cost a seventh of
                # the routines' bookkeeping); a routine that has ended is dropped
                try:
                    delay = next(routine)
                    while delay < 0:  # as env.timeout(delay) raises it: in the routine's own frame
                        delay = routine.throw(ValueError(f"Negative delay {delay}"))
                except StopIteration:
                    continue
                except Exception as exc:
                    self._failed(exc)
                    continue
                # the next step (as _push, in line)
                t = self._now + delay
                if t < near_end:
                    heappush(due, (t, NORMAL, next(eids), routine))
                elif t < _NEVER:
                    day = floor(t)
                    steps = later.get(day)
                    if steps is None:
                        heappush(days, day)
                        later[day] = [(t, NORMAL, next(eids), routine)]
                    else:
                        steps.append((t, NORMAL, next(eids), routine))
                else:
                    self._push((t, NORMAL, next(eids), routine))
        finally:
            self._waking = False
            self._arm()  # also after an interruption: the steps still due keep a wake-up

    def _failed(self, exc: Exception) -> None:
        """A step raised ``exc``: as SimPy does with a process that raises, a failed event at the current time,
        which crashes the run when it is processed, after the events already due at this instant (the routine
        is dropped)."""
        event = Event(self)
        event._ok, event._value = False, exc
        self.schedule(event)


def start(env: simpy.Environment, routine: Routine) -> None:
    """Start ``routine``: by ``env`` if it runs routines (:class:`Environment`), else as a SimPy process."""
    if isinstance(env, Environment):
        env.routine(routine)
    else:
        env.process(as_process(env, routine))


def as_process(env: simpy.Environment, routine: Routine) -> Generator[simpy.Event, None, None]:
    """The SimPy process a routine stands for."""
    for delay in routine:
        yield env.timeout(delay)
