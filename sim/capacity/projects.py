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
time against the time left (:func:`choose`); the project then runs with the
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

STAGES = ("site_and_council", "participation", "permit", "appeal", "construction")


def stage_days(rng: np.random.Generator, stage: Stage) -> float:
    """One stage's length (days): gamma with the stage's mean and coefficient of variation."""
    if stage.mean_months <= 0:
        return 0.0
    if stage.cv <= 0:
        return stage.mean_months * DAYS_PER_MONTH
    shape = 1 / stage.cv**2
    return float(rng.gamma(shape, stage.mean_months / shape)) * DAYS_PER_MONTH


@dataclass(frozen=True)
class StageTable:
    """A project type's stages as arrays, so that a plan's random stage lengths come from one gamma call
    (a run draws thousands of plans). Stages with a mean of zero or no variation draw nothing, exactly as
    :func:`stage_days` would not."""

    fixed_days: np.ndarray  # per stage: its length when not drawn (0 or the mean), days
    drawn: np.ndarray  # per stage: whether its length is drawn
    shape: np.ndarray  # gamma shape of the drawn stages, in stage order
    scale_months: np.ndarray  # gamma scale of the drawn stages (months)
    appeal_days: float  # the expected appeal a builder adds to the stages (days)
    delay_days: float  # and the expected delay (days)

    @classmethod
    def of(cls, ptype: ProjectType) -> StageTable:
        stages = [getattr(ptype, s) for s in STAGES]
        drawn = np.array([st.mean_months > 0 and st.cv > 0 for st in stages])
        fixed = np.array([st.mean_months * DAYS_PER_MONTH if st.mean_months > 0 and st.cv <= 0 else 0.0 for st in stages])
        shape = np.array([1 / st.cv**2 for st, d in zip(stages, drawn) if d])
        scale = np.array([st.mean_months / (1 / st.cv**2) for st, d in zip(stages, drawn) if d])
        appeal = ptype.appeal_probability * ptype.appeal.mean_months * DAYS_PER_MONTH
        delay = ptype.delay_probability * sum(ptype.delay_months) / 2 * DAYS_PER_MONTH
        return cls(fixed, drawn, shape, scale, appeal, delay)


@dataclass
class Plan:
    """A project type as its builder plans it at one site: drawn stage lengths and the expected lead time."""

    kind: str
    ptype: ProjectType
    durations: dict[str, float]  # days per stage (the appeal's length applies only if there is one)
    planned_days: float  # what the builder expects: the stages + the expected appeal and delay

    @classmethod
    def draw(cls, kind: str, ptype: ProjectType, rng: np.random.Generator, table: StageTable | None = None) -> Plan:
        """The plan at one site: its stage lengths drawn from ``rng`` in stage order (``table``: the type's
        :class:`StageTable`, made once by a caller that draws many plans)."""
        table = table or StageTable.of(ptype)
        days = table.fixed_days.copy()
        if len(table.shape):
            # one call draws the same numbers, in the same order, as one gamma call per stage
            days[table.drawn] = rng.gamma(table.shape, table.scale_months) * DAYS_PER_MONTH
        durations = dict(zip(STAGES, days.tolist()))
        expected = sum(v for s, v in durations.items() if s != "appeal")
        expected += table.appeal_days
        expected += table.delay_days
        return cls(kind, ptype, durations, expected)


def choose(plans: list[Plan], weights: np.ndarray, days_left: float, aversion_per_month: float, u: float) -> Plan:
    """The builder's choice: weight × exp(−aversion × months the plan would open after the deadline),
    sampled with one uniform ``u`` (so the same draw picks the same type when the weights agree)."""
    late = np.array([max(0.0, p.planned_days - days_left) / DAYS_PER_MONTH for p in plans])
    w = np.asarray(weights, float) * np.exp(-aversion_per_month * late)
    if w.sum() <= 0:
        w = np.ones(len(plans))
    return plans[int(np.searchsorted(np.cumsum(w) / w.sum(), u, side="right").clip(0, len(plans) - 1))]


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
    rng: np.random.Generator,
    fail_probability: float,
    pause: Callable[[np.random.Generator, float], float],
    on_open: Callable[[Project], None],
    on_fail: Callable[[Project], None],
):
    """A SimPy process: the project's stages, then it opens (``on_open``) or fails (``on_fail``).

    ``pause(rng, now)`` gives the days a stage waits before it starts (a debate on withdrawing the law)."""
    ptype = plan.ptype
    # the remaining draws come up front, in a fixed order, so timing elsewhere cannot shift them
    appeal = rng.random() < ptype.appeal_probability
    fails = rng.random() < fail_probability
    delayed = rng.random() < ptype.delay_probability
    delay = rng.uniform(*ptype.delay_months) * DAYS_PER_MONTH if delayed else 0.0
    d = plan.durations
    for days in (d["site_and_council"], d["participation"], d["permit"] + (d["appeal"] if appeal else 0.0)):
        yield env.timeout(days + pause(rng, env.now))
    if fails:
        proj.status = "failed"
        on_fail(proj)
        return
    yield env.timeout(d["construction"] + delay)
    proj.status = "open"
    proj.open_day = env.now
    on_open(proj)
