"""COA's own acquisition of regular locations (verwerving), outside the Spreidingswet and before it.

Once a review period COA forecasts occupancy ``horizon_months`` ahead (tonight's
plus the trend of the last ``trend_window_days``), divides it by its planning
occupancy rate, and sets the places it needs against the regular places open
(durable, temporary, AMV; locations closing within the horizon counted as gone)
and under way (its own projects and the municipalities'), or against the
Spreidingswet's current task when that is larger (the law's places are COA's
locations: COA counts on the municipalities to deliver them). For a gap above
``min_gap_places`` it starts regular projects with municipalities, as many
places as a review period's share of ``max_places_per_year`` allows. Which type
is weighed as the municipalities do it: each type's planned lead time at the
site against the horizon (:mod:`sim.capacity.projects`). Emergency shelter
bridges the gap meanwhile (:mod:`sim.reception.emergency`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR
from sim.capacity.projects import Menu, Project, run
from sim.reception.locations import AMV_PLACES, DURABLE, TEMPORARY, TYPE_CODE, Locations
from sim.routines import start as start_routine
from sim.scenario import Scenario
from sim.streams import Keyed

if TYPE_CHECKING:
    from sim.capacity.cycle import CapacityCycle

KEY_COA = 4_000_000_000_000  # lease keys of locations COA's own projects open


class Acquisition:
    """COA's regular projects: the review, the projects under way, and the places they open."""

    def __init__(self, scenario: Scenario, locations: Locations, entropy: int):
        self.cfg = scenario.reception.acquisition
        self.types = scenario.capacity.spreidingswet.project_types
        unknown = [k for k in self.cfg.project_mix if k not in self.types]
        if unknown:
            raise ValueError(f"reception.acquisition.project_mix names unknown project types {unknown}")
        self.names = [k for k, w in self.cfg.project_mix.items() if w > 0]
        self.menu = Menu({k: self.types[k] for k in self.names})  # every type's plan at a site, drawn at once
        self.weights = np.array([self.cfg.project_mix[k] for k in self.names])
        self.locations = locations
        self._keyed = Keyed(entropy)  # each review's and project's own generator
        self.pipeline = 0  # places in COA's running projects
        self.projects: list[Project] = []
        self.reviews = 0

    def gap(self, now: float, occupancy_now: float, occupancy_then: float, others_pipeline: int, committed: int = 0) -> int:
        """Regular places COA needs beyond those open (and staying) and under way (persons). ``committed``:
        regular places others must deliver (the Spreidingswet's current task), which COA counts on."""
        cfg = self.cfg
        ahead = cfg.horizon_months * DAYS_PER_MONTH
        trend = (occupancy_now - occupancy_then) / cfg.trend_window_days
        need = max(occupancy_now + trend * ahead, 0.0) / cfg.planning_occupancy_rate
        L = self.locations
        # the open locations only (a few hundred of the thousands a run registers): the same sum of places
        ids = L.open_ids
        t = L.type[ids]
        regular = ((t == DURABLE) | (t == TEMPORARY) | (t == AMV_PLACES)) & (L.close_day[ids] > now + ahead)
        have = max(int(L.places[ids[regular]].sum()) + self.pipeline + others_pipeline, committed)
        return int(need - have)

    def review_day(
        self,
        env,
        day: int,
        occupancy_on: Callable[[int], float],
        capacity: CapacityCycle | None,
        open_location: Callable[..., int],
    ) -> None:
        """The review of ``day``: the gap from the occupancy of last night and of a trend window before it
        (``occupancy_on``: persons on a night), counting the Spreidingswet's projects and current task when
        its cycle runs (``capacity``); then :meth:`review`."""
        others, committed = (capacity.pipeline, capacity.task_now) if capacity is not None else (0, 0)
        then = occupancy_on(day - 1 - self.cfg.trend_window_days)
        self.review(env, self.gap(env.now, occupancy_on(day - 1), then, others, committed), open_location)

    def review(self, env, gap: int, open_location: Callable[..., int]) -> None:
        """Start projects for the gap, within the review period's share of the yearly most."""
        cfg = self.cfg
        self.reviews += 1
        if not cfg.enabled or gap < cfg.min_gap_places:
            return
        budget = min(gap, int(cfg.max_places_per_year * cfg.review_interval_days / DAYS_PER_YEAR))
        rng = self._keyed.uniforms(self.reviews)
        j = 0
        while budget > 0:
            sites = self._keyed(self.reviews, j)  # every type drawn, in a fixed order
            plan = self.menu.choose(
                sites, self.weights, cfg.horizon_months * DAYS_PER_MONTH, cfg.lateness_aversion_per_month, rng.random()
            )
            size = min(plan.ptype.size_places, budget)
            budget -= size
            proj = Project(
                "coa",
                -1,
                len(self.projects),
                plan.kind,
                TYPE_CODE[plan.ptype.location_type],
                size,
                env.now,
                env.now + plan.planned_days,
                False,
            )
            proj.extra["lifespan_years"] = plan.ptype.lifespan_years
            proj.extra["key"] = KEY_COA + self.reviews * 1000 + j  # its lease draws, should it be an emergency type
            self.projects.append(proj)
            self.pipeline += size

            def opened(p: Project) -> None:
                self.pipeline -= p.places
                life = p.extra["lifespan_years"] * DAYS_PER_YEAR
                open_location(p.location_type, p.places, env.now, env.now + life, -1, "coa", key=p.extra["key"])

            def failed(p: Project) -> None:
                self.pipeline -= p.places

            proj_rng = self._keyed.uniforms(self.reviews, j, 1)
            start_routine(env, run(env, proj, plan, proj_rng, plan.ptype.failure_probability, lambda r, now: 0.0, opened, failed))
            j += 1
