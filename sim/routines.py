"""Routines: the chain's fixed steps (the day's inflow, departures, housing, the IND's week, the transfer, COA's
review, the night's count) run by one SimPy process, in exactly the order separate processes would run them.

A routine is a generator that yields the time (simulation days) of its next step where a SimPy process would
yield ``env.timeout(time - env.now)``. SimPy orders events by (time, priority, event id), the id counting up as
events are made; a routine's step is given the id its timeout would have had, taken from the environment's
counter at the moment the timeout would have been made. :class:`Routines` then runs a step straight away when
nothing else in the schedule comes before it, and otherwise schedules one event under exactly that key, so every
event of the run, the routines' and the others', happens in the same order as with a process per routine.

Why: the steps are three in five of a run's events, and most follow one another with nothing in between
(departures at .01 after the inflow at .00, housing at .02): run one after another, they skip making, scheduling
and popping an event and resuming a process each, about a twentieth of a run.

This reads and writes three attributes SimPy keeps private (``Environment._now``, ``_queue`` and ``_eid``), stable
since SimPy 3; pyproject.toml keeps SimPy below 5, and tests/test_routines.py checks the order against one process
per routine on random schedules.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL

Routine = Generator[float, None, None]


class Routines:
    """Runs ``routines`` (generators yielding the times of their steps, see the module) in one SimPy process,
    started where the first of their processes would have been started; their first steps run in the order given,
    as the processes' would."""

    def __init__(self, env: simpy.Environment, routines: Sequence[Routine]):
        self.env = env
        self.routines = list(routines)
        self.process = env.process(self._run())

    def _next(self, due: list, i: int) -> None:
        """Run routine ``i`` up to its next step and list that step in ``due`` under the key its timeout would
        have had (made now, ``now + (time - now)`` as SimPy adds a delay to the clock); a routine that has ended
        is not listed."""
        env = self.env
        try:
            at = next(self.routines[i])
        except StopIteration:
            return
        now = env._now
        delay = at - now
        if delay < 0:
            raise ValueError(f"a routine asked for a step in the past (at {at}, now {now})")
        heappush(due, (now + delay, NORMAL, next(env._eid), i))

    def _run(self) -> Generator[simpy.Event, None, None]:
        env = self.env
        queue = env._queue
        due: list[tuple[float, int, int, int]] = []  # the routines' next steps: (time, priority, event id, routine)
        for i in range(len(self.routines)):
            self._next(due, i)
        while due:
            step = due[0]
            if queue and queue[0] < step:  # another event comes first (event ids differ: decided by the first three)
                wake = simpy.Event(env)
                wake._ok, wake._value = True, None
                heappush(queue, (*step[:3], wake))
                yield wake  # resumed when the schedule reaches the step's key
            else:
                env._now = step[0]  # nothing comes before the step: the clock moves to it
            heappop(due)
            self._next(due, step[3])
