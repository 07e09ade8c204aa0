"""People as records: one row per person in a table of numpy arrays.

The flows of the chain are SimPy processes and routines (:mod:`sim.routines`); a person is never one. Every
random attribute a person needs later (route on arrival, registration time,
IND outcome, departure delay) is drawn once, on arrival, from that part's own
stream, so that two scenarios that differ only in capacity or production see
exactly the same people: common random numbers at the level of the person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compiled import jit

# Categories (persons)
FIRST, AMV, FAMILY = 0, 1, 2
CATEGORY_NAMES = ("first", "amv", "family")

# Where a person is
AC_REGISTERING, AC_WAITING, ELSEWHERE, LOCATION, GONE = range(5)
WHERE_NAMES = ("ac_registering", "ac_waiting", "waiting_elsewhere", "location", "gone")

# Procedural status
IN_PROCEDURE, STATUS_HOLDER, TO_DEPART, HOUSED, DEPARTED = range(5)
N_STATUS = 5


def status_is(status: int) -> np.ndarray:
    """A table by status code that is true for ``status`` only (a queue's validity test, :meth:`IdQueue.pop`)."""
    table = np.zeros(N_STATUS, bool)
    table[status] = True
    return table


# Outcomes of the IND procedure (pre-drawn; family reunification has none)
NO_OUTCOME, PERMIT, REJECTION, DUBLIN = range(4)

# How a person left the chain
EXIT_NONE, EXIT_HOUSED, EXIT_SPONSOR, EXIT_RETURN, EXIT_UNKNOWN, EXIT_DUBLIN = range(6)
EXIT_NAMES = ("none", "housed", "joined_sponsor", "return", "unknown_destination", "dublin")


class People:
    """Records of every person the chain has been responsible for; times are simulation days."""

    FLOAT_FIELDS = (
        "t_arrive",
        "t_reg_start",
        "t_reg_end",
        "t_leave_ac",
        "t_place",
        "t_decision",
        "t_permit",
        "t_exit",
        "service_days",
        "depart_delay_days",
        "u_outcome",
        "u_delay",
    )

    def __init__(self, capacity: int):
        cap = int(capacity)
        self.n = 0
        self.cat = np.zeros(cap, np.int8)
        self.where = np.full(cap, GONE, np.int8)
        self.status = np.zeros(cap, np.int8)
        self.outcome = np.zeros(cap, np.int8)
        self.exit_kind = np.zeros(cap, np.int8)
        self.centre = np.full(cap, -1, np.int8)
        self.loc = np.full(cap, -1, np.int32)
        self.moves = np.zeros(cap, np.int16)
        self.initial = np.zeros(cap, bool)
        self.returns = np.zeros(cap, bool)
        for name in self.FLOAT_FIELDS:
            setattr(self, name, np.full(cap, np.nan))

    def reserve(self, k: int) -> int:
        """Reserve ``k`` new rows; returns the first (their ids follow it). Without an array of the ids: a run's
        arrivals reserve their prefilled rows every day, and there a numpy call cost ~5 µs, its code no longer in
        the processor's caches after the rest of the day (~2 µs when repeated at once)."""
        start = self.n
        if start + k > len(self.cat):
            self._grow(start + k)
        self.n = start + k
        return start

    def add(self, k: int) -> np.ndarray:
        """Reserve ``k`` new rows and return their ids."""
        start = self.reserve(k)
        return np.arange(start, start + k)

    def prefill(self, fields: dict[str, np.ndarray]) -> int:
        """Write the records of people who will be added later (the run's arrivals, drawn up front) into the
        rows after the current ones; returns the first of those rows. The rows count, and are seen, only
        once :meth:`reserve` reserves them, in order: one bulk copy instead of one per field and day."""
        k = len(next(iter(fields.values()))) if fields else 0
        start = self.n
        if start + k > len(self.cat):
            self._grow(start + k)
        for name, values in fields.items():
            getattr(self, name)[start : start + k] = values
        return start

    def _grow(self, needed: int) -> None:
        cap = max(needed, 2 * len(self.cat))
        for name, arr in list(vars(self).items()):
            if isinstance(arr, np.ndarray):
                fill = (
                    np.nan if arr.dtype.kind == "f" else (GONE if name == "where" else (-1 if name in ("centre", "loc") else 0))
                )
                new = np.full(cap, fill, arr.dtype)
                new[: len(arr)] = arr
                setattr(self, name, new)

    def release(self) -> None:
        """Free the records (the run is over and its results are taken). A run's processes and routines that are
        still waiting at the horizon, and the parts that know each other, form reference cycles that hold the
        chain until the garbage collector's next full collection, which may be several runs later: a sweep
        worker then carried two or three runs' records (~60 MB each) at once."""
        for name, arr in list(vars(self).items()):
            if isinstance(arr, np.ndarray):
                setattr(self, name, np.empty(0, arr.dtype))
        self.n = 0

    def frame(self) -> pd.DataFrame:
        """Every record as a DataFrame (one row per person)."""
        n = self.n
        df = pd.DataFrame({name: getattr(self, name)[:n] for name in self.FLOAT_FIELDS})
        df.insert(0, "category", pd.Categorical.from_codes(self.cat[:n], CATEGORY_NAMES))
        df["initial"] = self.initial[:n]
        df["where"] = pd.Categorical.from_codes(self.where[:n], WHERE_NAMES)
        df["status"] = self.status[:n]
        df["outcome"] = self.outcome[:n]
        df["exit_kind"] = pd.Categorical.from_codes(self.exit_kind[:n], EXIT_NAMES)
        df["centre"] = self.centre[:n]
        df["location"] = self.loc[:n]
        df["moves"] = self.moves[:n]
        return df


NO_TIMES = np.empty(0)  # readiness not asked


@jit
def scan_queue(buf, head, tail, need, valid, codes, times, ready_by) -> tuple[int, int]:
    """Take up to ``need`` valid entries of ``buf[head:tail]`` in order: they are written, in order, over the
    entries passed (``buf[head:head + n]``, each at or before where it was read). Returns how many were taken
    and the new head: past the last one taken, at the first valid entry not ready (``times``, when given), or at
    ``tail``. Numbers, not an array (an array handed back costs a Python call, :mod:`sim.compiled`)."""
    n = 0
    i = head
    while i < tail and n < need:
        c = buf[i]
        if valid[codes[c]]:
            if len(times) and not times[c] <= ready_by:
                break
            buf[head + n] = c
            n += 1
        i += 1
    return n, i


class IdQueue:
    """A FIFO of person ids with lazy removal: stale entries are skipped when popped. The entries are
    ``buffer[head:tail]``; a compiled loop that pops (the day's transfer) reads and sets these."""

    def __init__(self, capacity: int = 4096):
        self.buffer = np.empty(capacity, np.int64)
        self.head = 0
        self.tail = 0

    def __len__(self) -> int:
        return self.tail - self.head

    def push(self, ids: np.ndarray) -> None:
        k = len(ids)
        if k == 0:
            return
        self.room(k)
        self.buffer[self.tail : self.tail + k] = ids
        self.tail += k

    def room(self, k: int) -> None:
        """Room for ``k`` more entries after ``tail`` (for a compiled loop that appends them and sets ``tail``)."""
        if self.tail + k > len(self.buffer):
            live = self.buffer[self.head : self.tail]
            new = np.empty(max(2 * (len(live) + k), 4096), np.int64)
            new[: len(live)] = live
            self.buffer, self.head, self.tail = new, 0, len(live)

    def push_front(self, ids: np.ndarray) -> None:
        """Put ``ids`` (in order) ahead of everyone queued: they are served first."""
        k = len(ids)
        if k == 0:
            return
        if self.head < k:
            live = self.buffer[self.head : self.tail]
            new = np.empty(max(2 * (len(live) + k), 4096), np.int64)
            start = k + (len(new) - len(live) - k) // 2  # room on both sides
            new[start : start + len(live)] = live
            self.buffer, self.head, self.tail = new, start, start + len(live)
        self.head -= k
        self.buffer[self.head : self.head + k] = ids

    def view(self) -> np.ndarray:
        """The queue's entries, head first (including stale ones)."""
        return self.buffer[self.head : self.tail]

    def pop(self, k: int, valid: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Remove and return up to ``k`` ids whose code is valid (``valid[codes[id]]``: a table by code, e.g.
        by ``where`` or ``status``), oldest first; stale (invalid) entries on the way are dropped. The ids are a
        view of the buffer's part before the new head: use them before the queue changes again."""
        start = self.head
        n, self.head = scan_queue(self.buffer, start, self.tail, int(k), valid, codes, NO_TIMES, 0.0)
        return self.buffer[start : start + n]

    def pop_ready(self, k: int, valid: np.ndarray, codes: np.ndarray, times: np.ndarray, ready_by: float) -> np.ndarray:
        """As :meth:`pop`, for ids that are also ready (``times[id] <= ready_by``); the first valid entry that is not
        ready stops the scan (it and those behind it stay)."""
        start = self.head
        n, self.head = scan_queue(self.buffer, start, self.tail, int(k), valid, codes, times, ready_by)
        return self.buffer[start : start + n]
