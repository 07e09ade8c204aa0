"""Registration at the application centres (aanmeldcentrum: Ter Apel, optionally Budel).

Each centre is a FIFO queue with ``slots`` servers. Service times are drawn per
person on arrival, so with Poisson arrivals and exponential service a centre is
an M/M/c queue and Erlang C checks it. The queue is computed with the exact
multi-server FIFO recurrence (each arrival takes the server that frees first),
which is what a SimPy ``Resource`` would do, without a process per person.
After registration people stay at the centre until COA transfers them to a
location (see :mod:`sim.reception`); above the norm every person-night is an
overflow night. Above the beds (the physical limit) the relief valves take
people in: chairs in the waiting area and a night shelter, each with a
capacity; above those people sleep outside. Buses to a second centre (Budel)
are the third valve (:mod:`sim.reception.placement`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.compiled import jit
from sim.people import AC_REGISTERING, AC_WAITING, AMV, People


def service_days(cfg, u: np.ndarray) -> np.ndarray:
    """Registration times (days) from uniforms ``u`` by inverse CDF, so scenarios share their randomness."""
    if cfg.service_distribution == "exponential":
        return -cfg.service_mean_days * np.log1p(-u)
    if cfg.service_distribution == "lognormal":
        sigma = np.sqrt(np.log1p(cfg.service_cv**2))
        mu = np.log(cfg.service_mean_days) - sigma**2 / 2
        return np.exp(mu + sigma * stats.norm.ppf(u))
    return np.full(len(u), cfg.service_mean_days)


@jit
def _first_from_a(a, b) -> np.ndarray:
    """The merge of ``a`` and ``b`` (each ascending) as a plan: for each place of the merged list, whether it
    takes the next of ``a`` (on ties ``a`` comes first)."""
    plan = np.empty(len(a) + len(b), np.bool_)
    i = j = 0
    for m in range(len(plan)):
        plan[m] = j == len(b) or (i < len(a) and a[i] <= b[j])
        if plan[m]:
            i += 1
        else:
            j += 1
    return plan


@jit
def _interleaved(plan, a, b) -> np.ndarray:
    """``a`` and ``b`` laid out by ``plan`` (:func:`_first_from_a`)."""
    out = np.empty(len(plan), a.dtype)
    i = j = 0
    for m in range(len(plan)):
        if plan[m]:
            out[m] = a[i]
            i += 1
        else:
            out[m] = b[j]
            j += 1
    return out


@jit
def _merge_into(buf_ids, buf_end, lo, hi, ids, ends) -> None:
    """Merge ``ids`` by their ``ends`` into the pending list ``buf_*[lo:hi]`` (ascending by end), in place: the
    list becomes ``buf_*[lo:hi + len(ids)]``. On equal ends the listed come first, and the new keep their given
    order among themselves (what a stable sort of the whole list gives). Merged from the back, so the cost is
    the new entries plus the listed ends above the smallest new one: a new registration ends after almost all
    who registered before it (FIFO), so a long queue is not copied every day."""
    order = np.argsort(ends, kind="mergesort")  # stable
    i, w = hi - 1, hi + len(ids) - 1
    for j in range(len(ids) - 1, -1, -1):
        e = ends[order[j]]
        while i >= lo and buf_end[i] > e:  # a listed end above it goes after it; on ties the new goes last
            buf_end[w], buf_ids[w] = buf_end[i], buf_ids[i]
            i -= 1
            w -= 1
        buf_end[w], buf_ids[w] = e, ids[order[j]]
        w -= 1


@jit
def _register(ids, t_arrive, service_days, free_at, t_reg_start, t_reg_end, where, centre, cat, index):
    """Arrivals ``ids`` (by arrival time) register at centre ``index``, FIFO across its slots (``free_at``: when
    each slot frees, ascending). Writes their records; returns their registration ends, the slots' new
    ``free_at`` (ascending) and how many are unaccompanied minors.

    Fast path, exact: when the j-th arrival finds at least j+1 slots freed by its arrival, nobody waits. The
    recurrence would replace slot times that are all <= the last arrival; keeping the k smallest out instead
    leaves the same times above it, and times below it only ever mean "free" to later arrivals. Otherwise the
    multi-server recurrence: each arrival takes the slot that frees first (a binary heap of the slots)."""
    k = len(ids)
    starts, ends = np.empty(k), np.empty(k)
    fast = k <= len(free_at)
    for j in range(k if fast else 0):
        if free_at[j] > t_arrive[ids[j]]:
            fast = False
            break
    if fast:
        for j in range(k):
            starts[j] = t_arrive[ids[j]]
            ends[j] = starts[j] + service_days[ids[j]]
        # the slots still free after them and the new ends, merged (both ascending): a sort of all 400 slots
        # cost more than the day's arrivals
        rest, new = free_at[k:], np.sort(ends)
        slots = _interleaved(_first_from_a(rest, new), rest, new)
    else:
        slots = free_at.copy()  # ascending, so a valid heap
        n = len(slots)
        for j in range(k):
            t = t_arrive[ids[j]]
            start = t if slots[0] <= t else slots[0]
            end = start + service_days[ids[j]]
            starts[j], ends[j] = start, end
            i = 0  # the freed slot takes the new end and sinks to its place
            while True:
                child = 2 * i + 1
                if child >= n:
                    break
                if child + 1 < n and slots[child + 1] < slots[child]:
                    child += 1
                if slots[child] >= end:
                    break
                slots[i] = slots[child]
                i = child
            slots[i] = end
        slots.sort()
    n_amv = 0
    for j in range(k):
        p = ids[j]
        t_reg_start[p], t_reg_end[p] = starts[j], ends[j]
        where[p] = AC_REGISTERING
        centre[p] = index
        n_amv += cat[p] == AMV
    return ends, slots, n_amv


@jit
def _registered(ids, where, cat) -> int:
    """``ids`` finished registering: they wait at the centre for a place. Returns how many are minors."""
    minors = 0
    for p in ids:
        where[p] = AC_WAITING
        minors += cat[p] == AMV
    return minors


class ApplicationCentre:
    """One application centre: registration servers, people present, norm and physical limit."""

    def __init__(self, cfg, index: int):
        self.cfg = cfg
        self.index = index
        self.name = cfg.name
        self._free_at = np.zeros(cfg.slots)  # when each registration slot frees (days), ascending
        # registering people in order of completion (ties: in order of arrival), so that a day's completions are
        # the head of the list: ids and ends live in [lo, hi) of buffers with room to grow at the end
        self._pending_ids = np.empty(1024, np.int64)
        self._pending_end = np.empty(1024)
        self._lo = self._hi = 0
        self.present = 0  # persons at the centre (registering + registered, waiting for a place)
        self.registering = 0
        self.registering_amv = 0  # of whom unaccompanied minors (they need an AMV place)

    def admit(self, people: People, ids: np.ndarray) -> None:
        """Register arrivals (sorted by arrival time) in FIFO order across the slots."""
        if len(ids) == 0:
            return
        p = people
        ends, self._free_at, n_amv = _register(
            ids, p.t_arrive, p.service_days, self._free_at, p.t_reg_start, p.t_reg_end, p.where, p.centre, p.cat, self.index
        )
        self._merge_pending(ids, ends)
        self.present += len(ids)
        self.registering += len(ids)
        self.registering_amv += n_amv

    def _merge_pending(self, ids: np.ndarray, ends: np.ndarray) -> None:
        """Merge the day's registrations (``ids`` with their ``ends``) into the list of those registering."""
        n, k = self._hi - self._lo, len(ids)
        if self._hi + k > len(self._pending_end):
            # no room at the end: move the list to the front, into buffers twice its new length if it has outgrown
            # half of them (amortised, each entry is moved a bounded number of times)
            size = max(len(self._pending_end), 2 * (n + k))
            ids_buf, end_buf = np.empty(size, np.int64), np.empty(size)
            ids_buf[:n], end_buf[:n] = self._pending_ids[self._lo : self._hi], self._pending_end[self._lo : self._hi]
            self._pending_ids, self._pending_end, self._lo, self._hi = ids_buf, end_buf, 0, n
        _merge_into(self._pending_ids, self._pending_end, self._lo, self._hi, ids, ends)
        self._hi += k

    def completed(self, people: People, now: float) -> np.ndarray:
        """Ids whose registration has ended by ``now``, in order of completion; they now wait for a place."""
        lo = self._lo
        k = int(self._pending_end[lo : self._hi].searchsorted(now, side="right"))
        if k == 0:
            return np.empty(0, np.int64)
        ids = self._pending_ids[lo : lo + k].copy()  # a copy: the buffer's front is reused when the list moves
        self._lo += k
        self.registering -= len(ids)
        self.registering_amv -= _registered(ids, people.where, people.cat)
        return ids

    @property
    def above_norm(self) -> int:
        """Persons above the norm tonight."""
        return max(0, self.present - self.cfg.norm_persons)

    @property
    def in_relief(self) -> int:
        """Persons above the beds who spend the night on chairs in the waiting area or in the night shelter."""
        return min(
            max(0, self.present - self.cfg.physical_limit_persons), self.cfg.chairs_persons + self.cfg.night_shelter_places
        )

    @property
    def outside(self) -> int:
        """Persons above the beds and the relief valves (chairs, night shelter) tonight: they sleep outside."""
        cfg = self.cfg
        return max(0, self.present - cfg.physical_limit_persons - cfg.chairs_persons - cfg.night_shelter_places)


def admit(centres: list[ApplicationCentre], people: People, ids: np.ndarray, centre_of: np.ndarray) -> None:
    """Arrivals ``ids`` (in arrival order) register at their centre (``centre_of``: its index, one per id)."""
    for c in centres:
        c.admit(people, ids if len(centres) == 1 else ids[centre_of == c.index])


def completed(centres: list[ApplicationCentre], people: People, now: float) -> np.ndarray:
    """Ids whose registration has ended by ``now`` at any centre, in order of completion (ties: by centre)."""
    done = [c.completed(people, now) for c in centres]
    done = np.concatenate(done) if len(done) > 1 else done[0]
    if len(centres) > 1:
        done = done[np.argsort(people.t_reg_end[done], kind="stable")]
    return done


def route_to_centres(u: np.ndarray, shares: list[float]) -> np.ndarray:
    """Centre index for each arrival from a uniform draw and the centres' shares of arrivals."""
    edges = np.cumsum(shares)[:-1]
    return np.searchsorted(edges, u, side="right")
