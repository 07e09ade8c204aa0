"""Status holders (vergunninghouders) and the municipal housing task (taakstelling).

Status holders wait in reception for a home. Municipalities house them at the
rate the housing task sets (persons per half-year, spread evenly over the
days), oldest permit first; capacity not used on a day is lost, as a task that
finds nobody waiting does not carry over.
"""

from __future__ import annotations

import numpy as np

from sim.people import STATUS_HOLDER, IdQueue, People


class Housing:
    """The queue of status holders waiting for a home and the daily intake by municipalities."""

    def __init__(self, people: People, task_per_day: np.ndarray):
        self.people = people
        self.queue = IdQueue()
        self.waiting = 0
        self.task_per_day = task_per_day  # persons/day for each simulated day
        self._credit = 0.0  # fraction of a person carried between days so the half-year total is exact

    def enter(self, ids: np.ndarray) -> None:
        """New status holders join the queue (in order of their permit)."""
        self.queue.push(ids)
        self.waiting += len(ids)

    def intake(self, day: int) -> np.ndarray:
        """Status holders housed on ``day`` (oldest permit first)."""
        self._credit += self.task_per_day[day]
        k = int(self._credit)
        p = self.people
        ids = self.queue.pop(k, lambda c: p.status[c] == STATUS_HOLDER)
        self.waiting -= len(ids)
        # unused capacity is lost; the fraction of a person is kept
        self._credit -= k
        return ids
