"""Location projects: from a decision to build to a location that opens, or a project that fails.

A project passes site selection and council decision, participation, the
permit (with a chance of objection and appeal), and construction or
conversion; each stage's length is gamma-distributed. On top come a chance of
delay and a chance of failure at the permit or appeal stage (a court suspends
it), and pauses while withdrawal of the law is debated. Municipalities under
the Spreidingswet and COA outside it use the same machinery.

A project's *plan* is what its builder can know when it chooses: the stage
lengths of this site drawn from their distributions, plus the expected appeal
and delay. The choice between project types weighs each type's planned lead
time against the time left (:func:`choose_index`); the project then runs with the
very stage lengths it was planned with, and appeal, delay and failure are
drawn as it goes. Every draw comes from the project's own generator, keyed by
who builds it and its number, so common random numbers hold project by project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.calendar import DAYS_PER_MONTH
from sim.capacity.params import ProjectType, Stage
from sim.compiled import jit
from sim.streams import UniformSource

STAGES = ("site_and_council", "participation", "permit", "appeal", "construction")


def stage_days(rng: np.random.Generator, stage: Stage) -> float:
    """One stage's length (days): gamma with the stage's mean and coefficient of variation. The reference
    definition: :class:`Menu` draws many stages at once and must give exactly these numbers (a test checks)."""
    if stage.mean_months <= 0:
        return 0.0
    if stage.cv <= 0:
        return stage.mean_months * DAYS_PER_MONTH
    shape = 1 / stage.cv**2
    return float(rng.gamma(shape, stage.mean_months / shape)) * DAYS_PER_MONTH


NOT_APPEAL = np.array([i for i, s in enumerate(STAGES) if s != "appeal"])  # the stages every project passes
NO_DRAWS = np.empty(0)


@jit
def _laid_out(fixed_days, drawn, standard, scale_months, appeal_days, delay_days, days, planned) -> None:
    """Each type's stage lengths (days; types × stages, written to ``days``) from the fixed lengths and the
    standard gamma draws of the ``drawn`` stages (in row order, each times its scale in months, times days per
    month), and each type's planned lead time (written to ``planned``): its stages but the appeal added in order,
    then the expected appeal, then the expected delay. Into the caller's arrays rather than new ones handed back
    (each costs a Python call, :mod:`sim.compiled`)."""
    days[:] = fixed_days
    k = 0
    for i in range(days.shape[0]):
        for st in range(days.shape[1]):
            if drawn[i, st]:
                days[i, st] = standard[k] * scale_months[k] * DAYS_PER_MONTH
                k += 1
    for i in range(days.shape[0]):
        lead = days[i, NOT_APPEAL[0]]
        for st in NOT_APPEAL[1:]:
            lead = lead + days[i, st]
        planned[i] = lead + appeal_days[i] + delay_days[i]


@jit
def _lateness_exponent(planned_days: np.ndarray, days_left: float, aversion_per_month: float, out: np.ndarray) -> None:
    """The argument of :func:`choose_index`'s exp, its very steps element by element, written to ``out``:
    −aversion × months each plan would open after the deadline (``np.maximum(x, 0.0)`` keeps x unless it is
    below zero)."""
    for i in range(len(planned_days)):
        late = planned_days[i] - days_left
        if late < 0.0:
            late = 0.0
        out[i] = -aversion_per_month * (late / DAYS_PER_MONTH)


@jit
def _chosen(weights: np.ndarray, factor: np.ndarray, u: float) -> int:
    """:func:`choose_index` after its exp (``factor``), or -1 where its numbers cannot be promised: numpy sums
    fewer than eight numbers one after the other (as here), eight or more pairwise; and the search below counts
    the cumulative shares up to ``u``, which is numpy's binary search only while they rise (weights finite, >= 0)."""
    n = len(weights)
    if n >= 8:
        return -1
    w = np.empty(n)
    total = 0.0
    for i in range(n):
        w[i] = weights[i] * factor[i]
        if not (0.0 <= w[i] < np.inf):
            return -1
        total += w[i]
    if total <= 0:
        w[:] = 1.0
        total = float(n)
    chosen = 0
    cumulative = 0.0
    for i in range(n):
        cumulative += w[i]
        if cumulative / total <= u:
            chosen = i + 1
    return min(chosen, n - 1)


def _is_drawn(stage: Stage) -> bool:
    """Whether a stage's length is random (as in :func:`stage_days`, the reference for one stage)."""
    return stage.mean_months > 0 and stage.cv > 0


class Menu:
    """Project types as arrays of their stages, so that a site's plans for every type come from one gamma
    call (a run draws thousands of sites). The numbers are those of one :func:`stage_days` call per stage,
    type by type in the menu's order: stages with a mean of zero or no variation draw nothing."""

    def __init__(self, types: dict[str, ProjectType]):
        self.names = list(types)
        self.ptypes = list(types.values())
        stages = [[getattr(t, s) for s in STAGES] for t in self.ptypes]
        self.drawn = np.array([[_is_drawn(st) for st in row] for row in stages], bool)
        # a stage with no variation lasts its mean; one with a mean of zero, nothing
        self.fixed_days = np.array([[0.0 if _is_drawn(st) else st.mean_months * DAYS_PER_MONTH for st in row] for row in stages])
        drawn = [st for row in stages for st in row if _is_drawn(st)]  # row by row, as drawn
        self.shape = np.array([1 / st.cv**2 for st in drawn])
        self.scale_months = np.array([st.mean_months / shape for st, shape in zip(drawn, self.shape.tolist())])
        # gamma(shape, scale) is scale × standard_gamma(shape), draw by draw; one shape for all (stages with the
        # same variation) draws them as one sample of that shape, six times cheaper than an array of shapes
        self._one_shape = float(self.shape[0]) if len(self.shape) and (self.shape == self.shape[0]).all() else None
        # what a builder adds to the stages: the expected appeal and the expected delay (days)
        self.appeal_days = np.array([t.appeal_probability * t.appeal.mean_months * DAYS_PER_MONTH for t in self.ptypes])
        self.delay_days = np.array([t.delay_probability * sum(t.delay_months) / 2 * DAYS_PER_MONTH for t in self.ptypes])
        # a site's plans are laid out here (:meth:`draw`), and a choice's factors computed here (:meth:`choose`)
        self._days, self._planned = np.empty_like(self.fixed_days), np.empty(len(self.ptypes))
        self._exponent = np.empty(len(self.ptypes))

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """At one site: each type's stage lengths (days; types × stages) and planned lead time (days), in the
        menu's own arrays, which the next draw overwrites (:class:`Plan` copies what it keeps)."""
        standard = NO_DRAWS
        if len(self.shape):
            # one call draws the same numbers, in the same order, as one gamma call per stage and type
            if self._one_shape is not None:
                standard = rng.standard_gamma(self._one_shape, len(self.shape))
            else:
                standard = rng.standard_gamma(self.shape)
        # the same products and sums, in the same order, as numpy's elementwise steps (compiled: a site's plans
        # were eight numpy calls on a few numbers, thousands of times a run)
        _laid_out(
            self.fixed_days, self.drawn, standard, self.scale_months, self.appeal_days, self.delay_days, self._days, self._planned
        )
        return self._days, self._planned

    def plan(self, i: int, days: np.ndarray, planned: np.ndarray) -> Plan:
        """Type ``i``'s plan from a site's draw."""
        return Plan(self.names[i], self.ptypes[i], dict(zip(STAGES, days[i].tolist())), float(planned[i]))

    def choose(
        self, rng: np.random.Generator, weights: np.ndarray, days_left: float, aversion_per_month: float, u: float
    ) -> Plan:
        """The plans at the site ``rng`` draws, and the builder's choice among them (:func:`choose_index`)."""
        days, planned = self.draw(rng)
        # compiled but for the exp, numpy's own (its result may differ from the C library's in the last bit)
        _lateness_exponent(planned, days_left, aversion_per_month, self._exponent)
        i = _chosen(weights, np.exp(self._exponent), u)
        if i < 0:
            i = choose_index(planned, weights, days_left, aversion_per_month, u)
        return self.plan(i, days, planned)


@dataclass
class Plan:
    """A project type as its builder plans it at one site: drawn stage lengths and the expected lead time."""

    kind: str
    ptype: ProjectType
    durations: dict[str, float]  # days per stage (the appeal's length applies only if there is one)
    planned_days: float  # what the builder expects: the stages + the expected appeal and delay

    @classmethod
    def draw(cls, kind: str, ptype: ProjectType, rng: np.random.Generator, menu: Menu | None = None) -> Plan:
        """The plan at one site: its stage lengths drawn from ``rng`` in stage order (``menu``: a menu of
        this one type, made once by a caller that draws many plans)."""
        menu = menu or Menu({kind: ptype})
        days, planned = menu.draw(rng)
        return cls(kind, ptype, dict(zip(STAGES, days[0].tolist())), float(planned[0]))


def choose_index(planned_days: np.ndarray, weights: np.ndarray, days_left: float, aversion_per_month: float, u: float) -> int:
    """The builder's choice among plans with these planned lead times (days): weight × exp(−aversion ×
    months the plan would open after the deadline), sampled with one uniform ``u`` (so the same draw picks
    the same type when the weights agree)."""
    late = np.maximum(planned_days - days_left, 0.0) / DAYS_PER_MONTH
    w = np.asarray(weights, float) * np.exp(-aversion_per_month * late)
    total = w.sum()
    if total <= 0:
        w = np.ones(len(planned_days))
        total = w.sum()
    return min(int((w.cumsum() / total).searchsorted(u, side="right")), len(planned_days) - 1)


@dataclass
class Project:
    """One project: who builds what where, and how it went."""

    builder: str  # "cycle<k>" or "coa"
    municipality: int
    index: int
    kind: str
    location_type: int
    places: int
    start: float
    expected_open: float
    counts: bool  # counts for the Spreidingswet task once open
    status: str = "running"  # running | open | failed
    open_day: float = float("nan")
    extra: dict = field(default_factory=dict)


def run(
    env,
    proj: Project,
    plan: Plan,
    rng: UniformSource,
    fail_probability: float,
    pause: Callable[[UniformSource, float], float],
    on_open: Callable[[Project], None],
    on_fail: Callable[[Project], None],
):
    """A routine (:mod:`sim.routines`: it yields the days it waits): the project's stages, then it opens
    (``on_open``) or fails (``on_fail``).

    ``pause(rng, now)`` gives the days a stage waits before it starts (a debate on withdrawing the law)."""
    ptype = plan.ptype
    # the remaining draws come up front, in a fixed order, so timing elsewhere cannot shift them
    appeal = rng.random() < ptype.appeal_probability
    fails = rng.random() < fail_probability
    delayed = rng.random() < ptype.delay_probability
    delay = rng.uniform(*ptype.delay_months) * DAYS_PER_MONTH if delayed else 0.0
    d = plan.durations
    # nothing happens to a project between its stages, so it wakes only when it fails or opens, at the time a
    # wait per stage reaches: the clock advanced stage by stage as SimPy advances it (each pause reads the day
    # its stage starts)
    steps = []
    t = env.now
    for days in (d["site_and_council"], d["participation"], d["permit"] + (d["appeal"] if appeal else 0.0)):
        steps.append(days + pause(rng, t))
        t = t + steps[-1]
    if not fails:
        steps.append(d["construction"] + delay)
        t = t + steps[-1]
    wait = t - env.now
    if env.now + wait == t:
        yield wait
    else:  # one addition cannot reach that sum (a rounding tie, about 1 project in 100): the stages one by one
        yield from steps
    if fails:
        proj.status = "failed"
        on_fail(proj)
        return
    proj.status = "open"
    proj.open_day = env.now
    on_open(proj)
