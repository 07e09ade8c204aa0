"""Registration at the application centres (aanmeldcentrum: Ter Apel, optionally Budel).

Each centre is a FIFO queue with ``slots`` servers. Service times are drawn per
person on arrival, so with Poisson arrivals and exponential service a centre is
an M/M/c queue and Erlang C checks it. The queue is computed with the exact
multi-server FIFO recurrence (each arrival takes the server that frees first),
which is what a SimPy ``Resource`` would do, without a process per person.
Nothing that happens during a run changes a registration (the arrivals, their
registration times and the slots are known from the start, and nobody leaves
the queue), so the whole run's registrations are computed once, before the
first day, in arrival order; each day then admits that day's arrivals and hands
on those whose registration has ended.
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
def _fifo(ids, t_arrive, service_days, n_slots, t_reg_start, t_reg_end) -> np.ndarray:
    """Arrivals ``ids`` (in order of arrival) register across ``n_slots`` slots, FIFO: each takes the slot that
    frees first (a binary heap of the slots' free times), starting at its arrival or when that slot frees,
    whichever is later. Writes their records; returns their registration ends."""
    slots = np.zeros(n_slots)
    ends = np.empty(len(ids))
    for j in range(len(ids)):
        p = ids[j]
        t = t_arrive[p]
        start = t if slots[0] <= t else slots[0]
        end = start + service_days[p]
        t_reg_start[p], t_reg_end[p], ends[j] = start, end, end
        i = 0  # the freed slot takes the new end and sinks to its place
        while True:
            child = 2 * i + 1
            if child >= n_slots:
                break
            if child + 1 < n_slots:
                child += slots[child + 1] < slots[child]  # without a branch: which child is smaller is a coin toss
            if slots[child] >= end:
                break
            slots[i] = slots[child]
            i = child
        slots[i] = end
    return ends


@jit
def _arrived(ids, where, centre, cat, index) -> int:
    """``ids`` arrive at centre ``index`` and start their registration (planned already). Returns how many
    are unaccompanied minors."""
    minors = 0
    for p in ids:
        where[p] = AC_REGISTERING
        centre[p] = index
        minors += cat[p] == AMV
    return minors


@jit
def _registered(ids, end, done, now, where, cat) -> tuple[int, int]:
    """The registrations planned in order of their end (``ids``, ``end``) from the ``done``-th on that have ended
    by ``now``: those people wait at the centre for a place. Returns how many ended and how many are minors."""
    k = minors = 0
    while done + k < len(end) and end[done + k] <= now:
        p = ids[done + k]
        if where[p] != AC_REGISTERING:  # the plan ends registrations after arrival only: cannot happen
            raise ValueError("a registration ended for someone who was not registering")
        where[p] = AC_WAITING
        minors += cat[p] == AMV
        k += 1
    return k, minors


class ApplicationCentre:
    """One application centre: registration servers, people present, norm and physical limit."""

    def __init__(self, cfg, index: int, present_of_all: np.ndarray | None = None):
        self.cfg = cfg
        self.index = index
        self.name = cfg.name
        # the run's registrations in order of their end (ties: in order of arrival), and how many have ended
        self._ids = np.empty(0, np.int64)
        self._end = np.empty(0)
        self._done = 0
        # persons at each centre, one array the centres share (:func:`centres_of`): placing people and their
        # leaving count them down in the compiled loops that move them
        self.present_of_all = np.zeros(index + 1, np.int64) if present_of_all is None else present_of_all
        self.registering = 0
        self.registering_amv = 0  # of whom unaccompanied minors (they need an AMV place)

    def plan(self, people: People, ids: np.ndarray) -> None:
        """Compute the registrations of all the run's arrivals ``ids`` at this centre (in order of arrival;
        their arrival and registration times are in the records), before the first of them arrives."""
        p = people
        ends = _fifo(ids, p.t_arrive, p.service_days, self.cfg.slots, p.t_reg_start, p.t_reg_end)
        # ties in arrival order: a stable sort, or the faster unstable one when no two ends are equal (the
        # order is then the same); equal ends are rare unless service times are fixed
        order = np.argsort(ends)
        end = ends[order]
        if np.any(end[1:] == end[:-1]):
            order = np.argsort(ends, kind="stable")
            end = ends[order]
        self._ids, self._end, self._done = ids[order], end, 0

    def release(self) -> None:
        """Free the run's plan (the run is over; see :meth:`sim.people.People.release`)."""
        self._ids, self._end = self._ids[:0].copy(), self._end[:0].copy()

    def admit(self, people: People, ids: np.ndarray) -> None:
        """Arrivals ``ids`` (planned, by :meth:`plan`) arrive and register."""
        if len(ids) == 0:
            return
        n_amv = _arrived(ids, people.where, people.centre, people.cat, self.index)
        self.present_of_all[self.index] += len(ids)
        self.registering += len(ids)
        self.registering_amv += n_amv

    def completed(self, people: People, now: float) -> np.ndarray:
        """Ids whose registration has ended by ``now``, in order of completion; they now wait for a place.
        (Whoever has not arrived by ``now`` ends later than ``now``.)"""
        lo = self._done
        k, minors = _registered(self._ids, self._end, lo, now, people.where, people.cat)
        self._done += k
        self.registering -= k
        self.registering_amv -= minors
        return self._ids[lo : lo + k]

    @property
    def present(self) -> int:
        """Persons at the centre (registering + registered, waiting for a place)."""
        return int(self.present_of_all[self.index])

    @present.setter
    def present(self, persons: int) -> None:
        self.present_of_all[self.index] = persons

    def tonight(self) -> tuple[int, int, int, int, int]:
        """The night's count (persons): present, registering, above the norm, in relief (:attr:`in_relief`),
        sleeping outside (:attr:`outside`); in one call, reading who is present once."""
        present = int(self.present_of_all[self.index])
        return present, self.registering, max(0, present - self.cfg.norm_persons), *self._beyond_beds(present)

    def _beyond_beds(self, present: int) -> tuple[int, int]:
        """Of ``present`` persons, those above the beds who spend the night on chairs or in the night shelter (up to
        their places), and those beyond them, outside."""
        cfg = self.cfg
        above_beds = max(0, present - cfg.physical_limit_persons)
        relief = cfg.chairs_persons + cfg.night_shelter_places
        return min(above_beds, relief), max(0, above_beds - relief)

    @property
    def above_norm(self) -> int:
        """Persons above the norm tonight."""
        return max(0, self.present - self.cfg.norm_persons)

    @property
    def in_relief(self) -> int:
        """Persons above the beds who spend the night on chairs in the waiting area or in the night shelter."""
        return self._beyond_beds(self.present)[0]

    @property
    def outside(self) -> int:
        """Persons above the beds and the relief valves (chairs, night shelter) tonight: they sleep outside."""
        return self._beyond_beds(self.present)[1]


def centres_of(configs: list) -> list[ApplicationCentre]:
    """The application centres of a run (``configs``: the scenario's, in order), sharing one count of who is present."""
    present = np.zeros(len(configs), np.int64)
    return [ApplicationCentre(cfg, i, present) for i, cfg in enumerate(configs)]


def by_centre(centres: list[ApplicationCentre], ids: np.ndarray, centre_of: np.ndarray) -> list[np.ndarray]:
    """``ids`` (in order) split by their centre (``centre_of``: its index, one per id), one list per centre."""
    return [ids] if len(centres) == 1 else [ids[centre_of == c.index] for c in centres]


def plan(centres: list[ApplicationCentre], people: People, ids_by_centre: list[np.ndarray]) -> None:
    """The run's registrations, once: each centre's arrivals (:func:`by_centre`, in arrival order)."""
    for c, ids in zip(centres, ids_by_centre):
        c.plan(people, ids)


@jit
def _merged(first, second, key) -> np.ndarray:
    """Two id lists, each in order of ``key``, as one in order of ``key``, ties ``first``'s first: a stable sort
    of the two joined, in one pass."""
    out = np.empty(len(first) + len(second), first.dtype)
    i = j = 0
    for n in range(len(out)):
        if j == len(second) or (i < len(first) and key[first[i]] <= key[second[j]]):
            out[n] = first[i]
            i += 1
        else:
            out[n] = second[j]
            j += 1
    return out


def completed(centres: list[ApplicationCentre], people: People, now: float) -> np.ndarray:
    """Ids whose registration has ended by ``now`` at any centre, in order of completion (ties: by centre)."""
    done = centres[0].completed(people, now)
    for c in centres[1:]:  # each centre's in order of completion (its plan's order)
        done = _merged(done, c.completed(people, now), people.t_reg_end)
    return done


def route_to_centres(u: np.ndarray, shares: list[float]) -> np.ndarray:
    """Centre index for each arrival from a uniform draw and the centres' shares of arrivals."""
    edges = np.cumsum(shares)[:-1]
    if len(edges) > 8:
        return np.searchsorted(edges, u, side="right")
    # the same index (how many edges lie at or below u) as a few passes over u: a binary search per arrival
    # cost ten times as much for the two or three centres there are
    out = np.zeros(len(u), np.intp)
    for edge in edges.tolist():
        out += u >= edge
    return out
