"""The Spreidingswet cycle: capacity estimate → provincial tasks → round table → binding distribution
decision → municipal projects → places that open (or not) by the realisation deadline; and the task as a
standing obligation between estimates.

Every ``cycle_years`` the minister publishes a capacity estimate
(capaciteitsraming): forecast occupancy at the deadline divided by a planning
occupancy rate. It is split over provinces and municipalities by population
(optionally corrected). Each municipality compares its task with the places
that count (durable, large and long-lived enough, or opening within 12 months);
the provincial round table (PRT) shares out each province's gap. Willing
municipalities start during the round-table period (between the estimate and
the provincial report); others wait to see what the rest do, the more so
without credible enforcement (IBT) and the less so under visible pressure at
the application centre: at the binding distribution decision every
municipality's task is reassessed, and waiters start once the deadline has
passed (or are compelled after it, with enforcement), or not at all. What to
build is chosen from each type's planned lead time at this site against the
time left before the deadline (:mod:`sim.capacity.projects`).

The task stands between estimates: when a location that counts closes, or a
project fails, the municipality's gap reopens and it acts on it with the same
behaviour.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import simpy

from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR, Calendar
from sim.capacity.interface import ChainPort
from sim.capacity.projects import Menu, Plan, Project, run
from sim.compiled import jit
from sim.reception import AMV_PLACES, DURABLE, EMERGENCY, NEVER, TYPE_CODE
from sim.reception.requests import deliveries
from sim.routines import start as start_routine
from sim.scenario import Request, Scenario
from sim.streams import Keyed, UniformSource

KEY_CYCLE_REQUESTS = 1_000_000  # request numbers of the cycle's requests (the scenario's are numbered from 0)
KEY_PROJECTS = 3_000_000_000  # lease keys of locations the municipalities' projects open


def add_months(date: dt.date, months: float) -> dt.date:
    """Calendar arithmetic: whole months move the month (1 Feb + 17 = 1 Jul next year), a fraction adds days."""
    whole = int(np.floor(months))
    y, m = divmod(date.month - 1 + whole, 12)
    year, month = date.year + y, m + 1
    day = min(
        date.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1],
    )
    return dt.date(year, month, day) + dt.timedelta(days=round((months - whole) * DAYS_PER_MONTH))


NUMPY_SUM_BLOCK = 128  # numpy's PW_BLOCKSIZE: below it, eight running sums; above, halves summed separately


@jit
def _block_sum(a, start, n) -> float:
    """numpy's sum of ``a[start:start + n]`` for ``n`` up to a block: fewer than eight one after the other, more
    in eight running sums (then the rest one after the other)."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = start + 8
    whole = start + n - n % 8
    while i < whole:
        r0, r1, r2, r3 = r0 + a[i], r1 + a[i + 1], r2 + a[i + 2], r3 + a[i + 3]
        r4, r5, r6, r7 = r4 + a[i + 4], r5 + a[i + 5], r6 + a[i + 6], r7 + a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < start + n:
        res += a[i]
        i += 1
    return res


@jit
def _pairwise_sum(a) -> float:
    """The sum of ``a`` (float64) as numpy's pairwise summation adds it (loops_utils.h): up to a block as
    :func:`_block_sum`, more as the sum of two halves, the first a multiple of eight long, each summed so. The
    halving is walked with a stack of its own, not by recursion: numba's cache cannot hold a recursive function
    (one loaded from the cache crashed)."""
    depth = 200  # three entries per halving at most: enough for any length below 2**63
    starts, lengths, combine = np.empty(depth, np.int64), np.empty(depth, np.int64), np.empty(depth, np.bool_)
    sums = np.empty(depth)
    starts[0], lengths[0], combine[0] = 0, len(a), False
    top, done = 1, 0  # pending entries; sums of finished parts, in order, not yet combined
    while top > 0:
        top -= 1
        s, n = starts[top], lengths[top]
        if combine[top]:  # both halves are summed: the first plus the second
            sums[done - 2] = sums[done - 2] + sums[done - 1]
            done -= 1
        elif n <= NUMPY_SUM_BLOCK:
            sums[done] = _block_sum(a, s, n)
            done += 1
        else:
            half = n // 2
            half -= half % 8
            # popped in the order: the first half, the second, then their sum
            starts[top], lengths[top], combine[top] = s, n, True
            starts[top + 1], lengths[top + 1], combine[top + 1] = s + half, n - half, False
            starts[top + 2], lengths[top + 2], combine[top + 2] = s, half, False
            top += 3
    return sums[0]


@jit
def numpy_sum(a) -> float:
    """``a.sum()`` of a float64 array, bit for bit (numpy's reduction starts from 0.0)."""
    return 0.0 + _pairwise_sum(a)


@jit
def _province_have(members, counted, pipeline, planned) -> np.ndarray:
    """What each of a province's ``members`` has, builds or has decided to build (places): its ``counted``
    places (all municipalities' counts) + ``pipeline`` + ``planned``, added in that order as numpy adds the arrays."""
    out = np.empty(len(members))
    for i in range(len(members)):
        m = members[i]
        out[i] = (counted[m] + pipeline[m]) + planned[m]
    return out


@jit
def _province_have_open(members, placed, unplaced, population, population_total, pipeline, planned) -> np.ndarray:
    """:func:`_province_have` with the members' counts of open locations computed here as
    :meth:`CapacityCycle._counted_open` computes them: ``placed``, plus a share by ``population`` of the
    ``unplaced`` places when there are any."""
    out = np.empty(len(members))
    for i in range(len(members)):
        m = members[i]
        counted = float(placed[m])
        if unplaced != 0:
            counted = counted + unplaced * population[m] / population_total
        out[i] = (counted + pipeline[m]) + planned[m]
    return out


@jit
def _province_total_and_own(members, counted, pipeline, planned, rank) -> tuple[float, float]:
    """What a province's members have, build or have decided to build (:func:`_province_have`), in all (summed as
    numpy sums) and for the member at ``rank``: two numbers, which a compiled call hands back more cheaply than
    an array (numba fetches an array's type through a Python call) and without a numpy sum after it."""
    have = _province_have(members, counted, pipeline, planned)
    return numpy_sum(have), have[rank]


@jit
def _province_total_and_own_open(members, placed, unplaced, population, population_total, pipeline, planned, rank):
    """:func:`_province_total_and_own` of :func:`_province_have_open`."""
    have = _province_have_open(members, placed, unplaced, population, population_total, pipeline, planned)
    return numpy_sum(have), have[rank]


def split_largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights; the parts are integers that sum to the total."""
    weights = np.asarray(weights, float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), np.int64)
    share = weights / weights.sum() * total
    out = np.floor(share).astype(np.int64)
    rest = int(total - out.sum())
    out[np.argsort(-(share - out), kind="stable")[:rest]] += 1
    return out


class Geography:
    """Provinces and municipalities with population (persons) and the split of a national task."""

    def __init__(self, municipalities: pd.DataFrame, socio_economic_column: str | None = None):
        self.frame = municipalities
        self.codes = municipalities["cbs_code"].to_numpy()
        self.names = municipalities["name"].to_numpy()
        self.provinces = np.array(sorted(municipalities["province"].unique()))
        self.province_of = np.searchsorted(self.provinces, municipalities["province"].to_numpy())
        self.members = [np.flatnonzero(self.province_of == p) for p in range(len(self.provinces))]  # municipalities per province
        self.rank = np.zeros(len(self.codes), np.int64)  # each municipality's position among its province's members
        for members in self.members:
            self.rank[members] = np.arange(len(members))
        self.population = municipalities["population_2024_01_01"].to_numpy(float)
        self.population_total = self.population.sum()
        weight = self.population.copy()
        if socio_economic_column:
            weight = weight * municipalities[socio_economic_column].to_numpy(float)
        self.weight = weight

    def split(self, national: int, province_tasks: dict[str, int] | None = None) -> np.ndarray:
        """Tasks per municipality (places): given provincial tasks first, the rest by weight."""
        tasks = np.zeros(len(self.codes), np.int64)
        fixed = province_tasks or {}
        free_provinces = [p for p in range(len(self.provinces)) if self.provinces[p] not in fixed]
        prov_task = np.zeros(len(self.provinces), np.int64)
        for p, name in enumerate(self.provinces):
            if name in fixed:
                prov_task[p] = fixed[name]
        rest = max(0, int(national) - int(prov_task.sum()))
        prov_weight = np.bincount(self.province_of, weights=self.weight, minlength=len(self.provinces))
        prov_task[free_provinces] = split_largest_remainder(rest, prov_weight[free_provinces])
        for p in range(len(self.provinces)):
            members = self.members[p]
            tasks[members] = split_largest_remainder(int(prov_task[p]), self.weight[members])
        return tasks

    def by_province(self, per_municipality: np.ndarray) -> np.ndarray:
        return np.bincount(self.province_of, weights=per_municipality, minlength=len(self.provinces))


class CapacityCycle:
    """The Spreidingswet calendar and the municipal projects it sets off, inside one run."""

    def __init__(self, scenario: Scenario, cal: Calendar, municipalities: pd.DataFrame, chain: ChainPort, env: simpy.Environment):
        self.chain = chain
        self.env = env
        self.cfg = scenario.capacity.spreidingswet
        self.menu = Menu(self.cfg.project_types)  # every type's plan at a site, drawn at once
        # incentives per durable place make durable projects more attractive and strategic waiting rarer
        self.incentive_boost = 1 + self.cfg.incentive_effect_per_1000_eur * self.cfg.incentive_eur_per_durable_place / 1000
        self.type_weights = np.array(
            [t.weight * (self.incentive_boost if t.location_type == "durable" else 1.0) for t in self.cfg.project_types.values()]
        )
        # AMV units are built like a conversion (or the first type when there is none)
        self.amv_type = "conversion" if "conversion" in self.cfg.project_types else next(iter(self.cfg.project_types), None)
        self.amv_menu = Menu({"amv_unit": self.cfg.project_types[self.amv_type]}) if self.amv_type else None
        self.emergency_lead_time_days = scenario.reception.emergency.lead_time_days
        self.cal = cal
        self.h = cal.horizon_days
        self.geo = Geography(municipalities, self.cfg.socio_economic_column)
        # one entropy value per run; every municipality and project derives its own generator from it,
        # so the draws of a project do not depend on when other projects ran (common random numbers)
        self._entropy = int(chain.stream("projects").integers(2**62))
        self._rng = Keyed(self._entropy)  # _rng(*key): a decision's, site's or project's own generator
        self._estimate_rng = chain.stream("estimate")
        self.pipeline = 0  # places in started projects not yet open or failed
        n_m = len(self.geo.codes)
        self.counting_pipeline = np.zeros(n_m, np.int64)  # places per municipality in running projects that will count
        self.planned = np.zeros(n_m, np.int64)  # places per municipality decided on but not yet started
        self.declined: set[tuple[int, int]] = set()  # (cycle, municipality) that will not act this cycle
        self._attempts = np.zeros(n_m, np.int64)  # decisions per municipality so far (keys their draws)
        self.current: dict | None = None  # the most recent cycle's info
        self.task_now = 0  # national task of the most recent estimate (places)
        self._cost_today = 0.0
        self.incentives_paid = 0.0
        self.projects: list[Project] = []
        self._counting: dict[int, Project] = {}  # the running projects that will count, by index, in order of start
        self.rows: list[dict] = []
        self.cycle_info: list[dict] = []
        if self.cfg.emergency_reserve_places > 0:
            chain.open_location(
                EMERGENCY, self.cfg.emergency_reserve_places, 0.0, NEVER, -1, "reserve", reserved=True, open_now=True
            )
        self.tasks_now = np.zeros(len(self.geo.codes), np.int64)  # the standing task per municipality (places)
        # the open locations that count (see _counted_open): places per municipality, places of locations in no
        # municipality (spread by population), the places of each counting location, changes read so far
        self._counted_placed = np.zeros(n_m, np.int64)
        self._counted_unplaced = 0
        self._counts_for: dict[int, int] = {}
        self._counted_upto = 0
        self.checks: list[tuple[float, float]] = []  # (day, share of the standing task realised), each check date
        env.process(self.calendar())
        env.process(self.yearly_checks())

    # ------------------------------------------------------------------ helpers for the model

    def places_in_pipeline(self) -> int:
        return int(self.pipeline)

    def current_task(self) -> int:
        return int(self.task_now)

    def take_cost(self) -> float:
        """Incentives paid today (euros), for the day's cost."""
        cost, self._cost_today = self._cost_today, 0.0
        return cost

    def day(self, date: dt.date) -> float:
        return float(self.cal.day(date))

    # ------------------------------------------------------------------ counting places

    def counted(self, now: float, pipeline_within_days: float = 0.0) -> np.ndarray:
        """Places per municipality that count for the task at ``now``: open durable and AMV locations
        large and long-lived enough (AMV of any size), plus projects due to open within the window.
        Every COA location stands in a municipality; where the scenario does not say which (COA's own
        projects, scheduled locations without one) its places are spread over municipalities by population."""
        out = self._counted_open()
        if pipeline_within_days > 0:
            for p in self._counting.values():
                if p.expected_open <= now + pipeline_within_days:
                    out[p.municipality] += p.places
        return out

    def _counted_open(self) -> np.ndarray:
        """The open locations' part of :meth:`counted` (a new array). Kept up to date from the locations'
        openings and closings (:attr:`Locations.changes`) rather than recounted: a run reassesses a
        municipality on every durable or AMV closing, thousands of times (:meth:`reassess` computes its
        province's entries alone, :func:`_province_have_open`). Whether a location counts is decided when it
        opens; its size, dates and municipality do not change while it is open (only leases, emergency and
        crisis places, are extended; a closing's new date no longer matters)."""
        self._catch_up()
        placed, population = self._counted_placed, self.geo.population
        out = placed.astype(float)
        if self._counted_unplaced:
            out = out + float(self._counted_unplaced) * population / self.geo.population_total
        return out

    def _catch_up(self) -> None:
        """Bring the counts of open locations up to date with the openings and closings since the last call."""
        L = self.chain.locations
        changes = L.changes
        if self._counted_upto < len(changes):
            cfg = self.cfg
            min_life = cfg.count_min_lifespan_years * DAYS_PER_YEAR
            # the table's entries as Python numbers (.item): numpy scalars made each step several times dearer
            for lid, opened in changes[self._counted_upto :]:
                if opened:
                    t = L.type.item(lid)
                    if t != DURABLE and t != AMV_PLACES:
                        continue
                    places = L.places.item(lid)
                    life = np.inf if L.initial.item(lid) else L.close_day.item(lid) - L.open_day.item(lid)
                    if not ((t == AMV_PLACES or places >= cfg.count_min_places) and life >= min_life):
                        continue  # too small (AMV units count at any size) or too short-lived
                    self._counts_for[lid] = places
                    sign = 1
                else:
                    places = self._counts_for.pop(lid, 0)
                    sign = -1
                m = L.municipality.item(lid)
                if m >= 0:
                    self._counted_placed[m] += sign * places
                else:
                    self._counted_unplaced += sign * places
            self._counted_upto = len(changes)

    def legal_count(self, now: float) -> np.ndarray:
        """The law's count per municipality: places that count now, plus those due within the window."""
        return self.counted(now, pipeline_within_days=self.cfg.count_pipeline_within_months * DAYS_PER_MONTH)

    # ------------------------------------------------------------------ the estimate

    def national_need(self, now: float, deadline: float) -> int:
        """The capacity estimate: forecast occupancy at the deadline ÷ planning occupancy rate (places)."""
        today = int(min(max(now - 1, 0), self.h - 1))
        current = self.chain.occupancy_on(today if now >= 1 else -1)
        trend = 0.0
        window = self.cfg.forecast_trend_window_days
        if today >= window:
            trend = (current - self.chain.occupancy_on(today - window)) / float(window)  # persons/day over the window
        forecast = max(current + trend * (deadline - now), 0.0)
        error = (1 + self.cfg.forecast_bias) * np.exp(self.cfg.forecast_error_sd * self._estimate_rng.standard_normal())
        return int(round(forecast * error / self.cfg.planning_occupancy_rate))

    def tasks(self, k: int, now: float, deadline: float) -> np.ndarray:
        cfg = self.cfg
        if k == 0 and cfg.first_cycle_tasks not in ("estimate", "split"):
            col = cfg.first_cycle_tasks
            return self.geo.frame[col].fillna(0).to_numpy(np.int64)
        if k == 0 and cfg.first_cycle_tasks == "split":
            return self.geo.split(int(cfg.first_cycle_national_task), cfg.first_cycle_province_tasks)
        return self.geo.split(self.national_need(now, deadline))

    # ------------------------------------------------------------------ processes and routines

    def calendar(self):
        """Every cycle_years: an estimate, and the cycle it starts."""
        k = 0
        while True:
            estimate = add_months(self.cfg.first_estimate_date, 12 * self.cfg.cycle_years * k)
            t = self.day(estimate)
            if t >= self.h:
                return
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self.env.process(self.cycle(k, estimate))
            k += 1
            if k > 100:
                return

    def share_realised(self, tasks: np.ndarray, counted: np.ndarray) -> float:
        """Share of a task realised: places that count, each province capped at its task, over the national task."""
        prov_task = self.geo.by_province(tasks)
        if prov_task.sum() <= 0:
            return float("nan")
        return float(np.minimum(self.geo.by_province(counted), prov_task).sum() / prov_task.sum())

    def yearly_checks(self):
        """On every anniversary of the first deadline (1 July), how much of the standing task is realised:
        the like-for-like measure across cycle lengths and deadlines."""
        first = add_months(self.cfg.first_estimate_date, self.cfg.deadline_after_months)
        year = 0
        while True:
            t = self.day(add_months(first, 12 * year))
            year += 1
            if t >= self.h:
                return
            if t < self.env.now:
                continue
            yield self.env.timeout(t - self.env.now)
            if self.tasks_now.sum() > 0:
                self.checks.append((self.env.now, self.share_realised(self.tasks_now, self.legal_count(self.env.now))))

    def cycle(self, k: int, estimate: dt.date):
        cfg = self.cfg
        env = self.env
        t_est = max(self.day(estimate), env.now)
        deadline = add_months(estimate, cfg.deadline_after_months)
        t_dead = self.day(deadline)
        tasks = self.tasks(k, t_est, t_dead)
        self.task_now = int(tasks.sum())
        self.tasks_now = tasks
        # what a municipality acts on: places it has, builds, or has decided to build (not only what counts yet)
        gap = self.round_table(tasks, self.counted(t_est) + self.counting_pipeline + self.planned)
        info = {
            "cycle": k,
            "estimate_date": estimate,
            "deadline": deadline,
            "t_est": t_est,
            "t_report": t_est + cfg.report_after_months * DAYS_PER_MONTH,
            "t_decision": t_est + cfg.decision_after_months * DAYS_PER_MONTH,
            "t_dead": t_dead,
            "task": tasks,
            "province_task": [int(tasks[members].sum()) for members in self.geo.members],  # whole places
            "gap": gap,
            "emergency_requested": np.zeros(len(self.geo.provinces), np.int64),
            "realised": {},
        }
        self.cycle_info.append(info)
        self.current = info
        for m in np.flatnonzero(gap > 0):
            self._decide(info, int(m), int(gap[m]), binding=False)
        # the binding distribution decision: every municipality's task is reassessed
        if info["t_decision"] < self.h:
            yield env.timeout(max(info["t_decision"] - env.now, 0))
            if self.current is info:
                counted = self.counted(env.now)  # one count for all: deciding opens or closes nothing
                for m in range(len(self.geo.codes)):
                    self.reassess(m, counted)
        # the deadline and the two looks after it
        for label, months in (("deadline", 0), ("deadline_12m", 12), ("deadline_24m", 24)):
            t = self.day(add_months(deadline, months))
            if t >= self.h:
                break
            if t > env.now:
                yield env.timeout(t - env.now)
            info["realised"][label] = self.legal_count(env.now)
            if label == "deadline":
                self._after_deadline(info)

    def round_table(self, tasks: np.ndarray, have: np.ndarray) -> np.ndarray:
        """The provincial round table shares out each province's gap (task − places it has or will have)
        over its municipalities in proportion to their own gaps: a municipality with places to spare covers
        part of its neighbours' tasks (sources §spreidingswet-first-cycle: ~90,000 agreed at the PRTs)."""
        raw_gap = np.maximum(tasks - have.astype(np.int64), 0)
        prov_gap = np.maximum(self.geo.by_province(tasks) - self.geo.by_province(have), 0)
        gap = np.zeros_like(raw_gap)
        for p in range(len(self.geo.provinces)):
            members = self.geo.members[p]
            gap[members] = split_largest_remainder(int(round(prov_gap[p])), raw_gap[members])
        return gap

    def reassess(self, m: int, counted: np.ndarray | None = None) -> None:
        """The standing obligation: municipality ``m``'s gap under the current task, after what it has, builds
        and has decided to build (shared out by the province's round table); it acts on what is missing."""
        info = self.current
        if info is None or (info["cycle"], m) in self.declined or self.env.now < info["t_est"]:
            return
        p = self.geo.province_of[m]
        members = self.geo.members[p]
        # only the province's entries (computed alone when not given: thousands of calls a run), in one
        # compiled pass
        rank = self.geo.rank.item(m)
        if counted is None:
            self._catch_up()
            total, own = _province_total_and_own_open(
                members,
                self._counted_placed,
                float(self._counted_unplaced),
                self.geo.population,
                self.geo.population_total,
                self.counting_pipeline,
                self.planned,
                rank,
            )
        else:
            total, own = _province_total_and_own(members, counted, self.counting_pipeline, self.planned, rank)
        prov_gap = max(int(info["province_task"][p] - total), 0)
        gap = min(max(int(info["task"][m] - own), 0), prov_gap)
        if gap > 0:
            self._decide(info, m, gap, binding=True)

    def location_closed(self, lid: int) -> None:
        """A location closed: if it counted for a task, its municipality's gap reopens."""
        L = self.chain.locations
        m = int(L.municipality[lid])
        if m >= 0 and L.type[lid] in (DURABLE, AMV_PLACES):
            self.reassess(m)

    def _pressure(self) -> float:
        """Share of the last pressure window's nights with an application centre above its norm."""
        return self.chain.pressure(self.cfg.enforcement.pressure_window_days)

    def _decide(self, info: dict, m: int, gap: int, binding: bool) -> None:
        """Municipality ``m`` decides when to act on ``gap`` places (and AMV units among them)."""
        attempt = int(self._attempts[m])
        self._attempts[m] += 1
        rng = self._rng.uniforms(info["cycle"], m, attempt)
        start = self._start_time(rng, info, binding)
        if start is None:
            self.declined.add((info["cycle"], m))
            return
        if start >= self.h:
            return
        self.planned[m] += gap
        start_routine(self.env, self.municipality(info, m, gap, attempt, start, rng))

    def _after_deadline(self, info: dict) -> None:
        """Provinces short at the deadline are asked for emergency places (the ministry's 2025 request)."""
        per = self.cfg.emergency_request_per_short_province
        if per <= 0:
            return
        task_p = self.geo.by_province(info["task"])
        real_p = self.geo.by_province(info["realised"]["deadline"])
        for p in np.flatnonzero(real_p < task_p):
            members = self.geo.members[p]
            where = int(members[np.argmax(self.geo.population[members])])
            # the province delivers like a party to any request: after a lead time, for a lease
            req = Request(
                date=self.cal.date(self.env.now),
                kind="emergency",
                places=per,
                lead_time_days=self.emergency_lead_time_days,
                duration_days=self.cfg.emergency_request_duration_days,
                delivered_share=(1.0, 1.0),
            )
            index = KEY_CYCLE_REQUESTS + 100 * info["cycle"] + int(p)
            for type_code, places, open_day, close_day, key in deliveries(req, index, self.env.now, self._entropy):
                self.chain.open_location(type_code, places, open_day, close_day, where, f"cycle{info['cycle']}_request", key=key)
            info["emergency_requested"][p] += per

    def _start_time(self, rng: UniformSource, info: dict, binding: bool) -> float | None:
        """When a municipality starts (simulation day), or None if it does not act this cycle.

        Willing municipalities start during the round-table period (estimate → provincial report), or, on
        a gap that reopens once the task is binding, within as long after now. Waiters (more of them without
        credible enforcement, fewer under pressure at the application centre and with incentives) start once
        the deadline has passed, or do not act; with enforcement they are compelled a while after the
        distribution decision makes their task binding."""
        cfg, enf = self.cfg, self.cfg.enforcement
        now = self.env.now
        waiting = (enf.strategic_waiting_share_enforced if enf.enforced else enf.strategic_waiting_share) / self.incentive_boost
        waiting *= max(0.0, 1.0 - enf.pressure_reduces_waiting * self._pressure())
        # always draw the same numbers in the same order, whichever branch is taken (common random numbers)
        u_start, u_wait, u_late, u_politics = rng.random(4)
        round_table = info["t_report"] - info["t_est"]
        start = (now if binding else info["t_est"]) + u_start * round_table
        if u_wait < waiting:
            if enf.enforced:
                # supervision (IBT) acts once the task is binding: a warning, then compulsion (aanwijzing)
                start = max(info["t_decision"], now) + enf.compulsion_delay_months * DAYS_PER_MONTH
            elif u_late < enf.late_start_probability:
                start = max(info["t_dead"], now)
            else:
                return None
        pu = cfg.political_uncertainty
        if pu.start is not None:
            a, b = self.day(pu.start), self.day(pu.end)
            if a <= start < b and u_politics >= pu.start_probability_factor:
                start = b
        return start

    def municipality(self, info: dict, m: int, gap: int, attempt: int, start: float, rng: UniformSource):
        """A municipality that decided to act (a routine, :mod:`sim.routines`): at its start it chooses what to
        build for the gap (AMV units for the AMV share) and starts the projects."""
        env = self.env
        k = info["cycle"]
        if start > env.now:
            yield start - env.now
        self.planned[m] -= gap
        cfg = self.cfg
        days_left = info["t_dead"] - env.now
        amv_gap = int(round(gap * cfg.amv_share_of_task))
        remaining = gap - amv_gap
        j = 0
        while remaining > 0:
            # what each type would take at the sites this municipality has in mind (the plans it can know)
            # (one generator per site, every type drawn in a fixed order: the same plans whatever is chosen)
            sites = self._rng(k, m, attempt, j, 3)
            lateness = cfg.lateness_aversion_per_month if cfg.type_choice_rule else 0.0
            plan = self.menu.choose(sites, self.type_weights, days_left, lateness, rng.random())
            size = min(plan.ptype.size_places, remaining)
            if plan.ptype.location_type == "durable":
                # a durable location below the counting size would not count for the task: build at least that
                size = max(size, min(cfg.count_min_places, plan.ptype.size_places))
            remaining -= size
            self._launch(k, m, attempt, j, plan, size, TYPE_CODE[plan.ptype.location_type], plan.ptype.failure_probability)
            j += 1
        # AMV: small units of at most amv_location_max_size, built like a conversion; smaller units are accepted more easily
        unit = cfg.amv_location_max_size
        while amv_gap > 0:
            size = min(unit, amv_gap)
            amv_gap -= size
            fail = min(1.0, cfg.amv_failure_per_50_places * size / 50)
            plan = Plan.draw("amv_unit", cfg.project_types[self.amv_type], self._rng(k, m, attempt, j, 99, 3), self.amv_menu)
            self._launch(k, m, attempt, j, plan, size, AMV_PLACES, fail)
            j += 1

    def _launch(self, k: int, m: int, attempt: int, j: int, plan: Plan, size: int, type_code: int, fail: float) -> None:
        ptype = plan.ptype
        counts = type_code == AMV_PLACES or (
            type_code == DURABLE
            and size >= self.cfg.count_min_places
            and ptype.lifespan_years >= self.cfg.count_min_lifespan_years
        )
        proj = Project(
            f"cycle{k}", m, len(self.projects), plan.kind, type_code, size, self.env.now, self.env.now + plan.planned_days, counts
        )
        # the key of the location's lease draws: who built it and which of their projects (common random numbers)
        key = KEY_PROJECTS + ((k * 1000 + m) * 1000 + attempt) * 1000 + j
        proj.extra.update(cycle=k, lifespan_years=ptype.lifespan_years, key=key)
        self.projects.append(proj)
        self.pipeline += size
        if counts:
            self.counting_pipeline[m] += size
            self._counting[proj.index] = proj
        rng = self._rng.uniforms(k, m, attempt, j, 1)
        start_routine(self.env, run(self.env, proj, plan, rng, fail, self._pause, self._opened, self._failed))

    def _pause(self, rng: UniformSource, now: float) -> float:
        """Days a project stage waits because withdrawal of the law is being debated (and it pauses)."""
        pu = self.cfg.political_uncertainty
        u = rng.random()
        if pu.start is None:
            return 0.0
        a, b = self.day(pu.start), self.day(pu.end)
        if a <= now < b and u < pu.pause_probability:
            return b - now
        return 0.0

    def _settled(self, proj: Project) -> None:
        self.pipeline -= proj.places
        if proj.counts:
            self.counting_pipeline[proj.municipality] -= proj.places
            del self._counting[proj.index]

    def _failed(self, proj: Project) -> None:
        self._settled(proj)
        self.reassess(proj.municipality)  # the gap reopens

    def _opened(self, proj: Project) -> None:
        self._settled(proj)
        life = proj.extra["lifespan_years"] * DAYS_PER_YEAR
        self.chain.open_location(
            proj.location_type,
            proj.places,
            self.env.now,
            self.env.now + life,
            proj.municipality,
            proj.builder,
            key=proj.extra["key"],
        )
        if proj.location_type in (DURABLE, AMV_PLACES):
            pay = proj.places * self.cfg.incentive_eur_per_durable_place
            self._cost_today += pay
            self.incentives_paid += pay

    # ------------------------------------------------------------------ outputs

    def cycles_frame(self, replication: int) -> pd.DataFrame:
        """One row per cycle × province (and municipality when asked), built column-wise."""
        pr = {
            "cycle": np.array([q.extra["cycle"] for q in self.projects], np.int64),
            "municipality": np.array([q.municipality for q in self.projects], np.int64),
            "location_type": np.array([q.location_type for q in self.projects], np.int64),
            "places": np.array([q.places for q in self.projects], np.int64),
            "open_day": np.array([q.open_day for q in self.projects], float),
        }
        status = np.array([q.status for q in self.projects], dtype=object)
        type_names = ("durable", "temporary", "emergency", "amv")
        levels = ["province"] + (["municipality"] if self.cfg.report_municipalities else [])
        parts: list[tuple[int, dict]] = []  # (rows, columns) per cycle and level, made one frame at the end
        for info in self.cycle_info:
            k = info["cycle"]
            t_dead = self.day(info["deadline"])
            mine = pr["cycle"] == k
            for level in levels:
                if level == "province":
                    group, size = self.geo.province_of, len(self.geo.provinces)
                else:
                    group, size = np.arange(len(self.geo.codes)), len(self.geo.codes)

                def agg(per_m, group=group, size=size):
                    return np.bincount(group, weights=per_m, minlength=size)

                def agg_projects(select, group=group, size=size, mine=mine):
                    sel = mine & select
                    return np.bincount(group[pr["municipality"][sel]], weights=pr["places"][sel], minlength=size)

                task = agg(info["task"])
                cols = {
                    "replication": replication,
                    "cycle": k,
                    "estimate_date": info["estimate_date"],
                    "deadline": info["deadline"],
                    "level": level,
                    "province": self.geo.provinces if level == "province" else self.geo.provinces[self.geo.province_of],
                    "municipality": "" if level == "province" else self.geo.names,
                    "task": task.astype(np.int64),
                    "gap_at_estimate": agg(info["gap"]).astype(np.int64),
                }
                for code, tname in enumerate(type_names):
                    cols[f"planned_{tname}"] = agg_projects(pr["location_type"] == code).astype(np.int64)
                # realised = places that count, up to the task, at this level (a province meets its
                # task with its municipalities' places together); counted = without the cap
                for lab, col in (
                    ("deadline", "realised_by_deadline"),
                    ("deadline_12m", "realised_deadline_12m"),
                    ("deadline_24m", "realised_deadline_24m"),
                ):
                    raw = agg(info["realised"][lab]) if lab in info["realised"] else np.full(size, np.nan)
                    cols[col] = np.minimum(raw, task)
                    cols[col.replace("realised", "counted")] = raw
                opened_by_deadline = (status == "open") & (pr["open_day"] <= t_dead)
                cols["new_places_by_deadline"] = agg_projects(opened_by_deadline).astype(np.int64)
                cols["new_durable_by_deadline"] = agg_projects(
                    opened_by_deadline & np.isin(pr["location_type"], [DURABLE, AMV_PLACES])
                ).astype(np.int64)
                sel = mine & (status == "failed")
                cols["failed_projects"] = np.bincount(group[pr["municipality"][sel]], minlength=size)
                cols["projects"] = np.bincount(group[pr["municipality"][mine]], minlength=size)
                cols["emergency_requested"] = info["emergency_requested"] if level == "province" else np.zeros(size, np.int64)
                met = cols["realised_by_deadline"] >= task
                cols["met_task_by_deadline"] = pd.array(
                    np.where(np.isnan(cols["realised_by_deadline"]), None, met), dtype="boolean"
                )
                parts.append((size, cols))
        if not parts:
            return pd.DataFrame()

        def column(value, rows: int):
            """A part's column: an array as it is; a number, a date or a word repeated over the part's rows."""
            if isinstance(value, np.ndarray | pd.api.extensions.ExtensionArray):
                return value
            return np.full(rows, value, dtype=object if isinstance(value, str | dt.date) else None)

        # one frame from the parts' columns end to end (a frame per part and their concatenation took about 1 %
        # of a 10-year run)
        columns = {}
        for name in parts[0][1]:
            values = [column(cols[name], rows) for rows, cols in parts]
            if isinstance(values[0], pd.api.extensions.ExtensionArray):
                columns[name] = pd.array(np.concatenate([np.asarray(v, dtype=object) for v in values]), dtype=values[0].dtype)
            else:
                columns[name] = np.concatenate(values)
        return pd.DataFrame(columns)

    def summary(self, window: tuple[int, int]) -> dict:
        """Cycle metrics for the run summary: the share of each cycle's task realised by its deadline, and
        the share of the standing task realised on the yearly check dates inside the evaluation window."""
        out = {}
        shares = []
        for info in self.cycle_info:
            if "deadline" in info["realised"]:
                share = self.share_realised(info["task"], info["realised"]["deadline"])
                out[f"share_realised_cycle_{info['cycle']}"] = share
                shares.append(share)
        in_window = [share for day, share in self.checks if window[0] <= day < window[1]]
        out["share_realised_window"] = float(np.mean(in_window)) if in_window else np.nan
        first = self.cycle_info[0] if self.cycle_info else None
        meeting = np.nan
        if first is not None and "deadline" in first["realised"]:
            prov_task = self.geo.by_province(first["task"])
            prov_real = self.geo.by_province(first["realised"]["deadline"])
            meeting = int((prov_real >= prov_task).sum())
        L = self.chain.locations
        n = L.n
        opened = (L.open_day[:n] < self.h) & np.array([o != "initial" for o in L.origin[:n]])
        opened &= ~np.isin(np.array(L.origin[:n]), ["reserve"])
        cycle_made = np.array([o.startswith("cycle") for o in L.origin[:n]])
        return {
            **out,
            "share_realised_by_deadline": float(np.mean(shares)) if shares else np.nan,
            "durable_places_opened": int(L.places[:n][opened & cycle_made & np.isin(L.type[:n], [DURABLE, AMV_PLACES])].sum()),
            "emergency_places_opened": int(L.places[:n][opened & (L.type[:n] == EMERGENCY)].sum()),
            "provinces_meeting_task_first_cycle": meeting,
            "incentive_cost_eur": float(self.incentives_paid),
            "projects_started": len(self.projects),
            "projects_failed": sum(p.status == "failed" for p in self.projects),
        }
