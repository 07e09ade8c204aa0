"""The Spreidingswet cycle: capacity estimate → provincial tasks → distribution decision →
municipal projects → places that open (or not) by the realisation deadline.

Every ``cycle_years`` the minister publishes a capacity estimate
(capaciteitsraming): forecast occupancy at the deadline divided by a planning
occupancy rate. It is split over provinces and municipalities by population
(optionally corrected). Each municipality compares its task with the places
that count (durable, large and long-lived enough, or opening within 12 months)
and, for the gap, decides when to start — strategic waiting without credible
enforcement (IBT), pauses while withdrawal of the law is debated — and what to
build given the time left before the deadline: a deadline shorter than a type's
lead time pushes it towards short-lived, costly places. Projects pass stages
with random lead times, delays and failures; a finished project opens a
location that lives for its lifespan and then closes (its residents move).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import simpy

from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR, Calendar
from sim.capacity.interface import ChainPort
from sim.reception import AMV_PLACES, DURABLE, EMERGENCY, NEVER, TYPE_CODE
from sim.reception.requests import deliveries
from sim.scenario import Request, Scenario

KEY_CYCLE_REQUESTS = 1_000_000  # request numbers of the cycle's requests (the scenario's are numbered from 0)


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
        self.population = municipalities["population_2024_01_01"].to_numpy(float)
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
            members = np.flatnonzero(self.province_of == p)
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
        self.emergency_lead_time_days = scenario.reception.emergency.lead_time_days
        self.cal = cal
        self.h = cal.horizon_days
        self.geo = Geography(municipalities, self.cfg.socio_economic_column)
        # one entropy value per run; every municipality and project derives its own generator from it,
        # so the draws of a project do not depend on when other projects ran (common random numbers)
        self._entropy = int(chain.stream("projects").integers(2**62))
        self._estimate_rng = chain.stream("estimate")
        self.pipeline = 0  # places in started projects not yet open or failed
        self.task_now = 0  # national task of the most recent estimate (places)
        self._cost_today = 0.0
        self.incentives_paid = 0.0
        self.projects: list[dict] = []
        self.rows: list[dict] = []
        self.cycle_info: list[dict] = []
        if self.cfg.emergency_reserve_places > 0:
            chain.open_location(
                EMERGENCY, self.cfg.emergency_reserve_places, 0.0, NEVER, -1, "reserve", reserved=True, open_now=True
            )
        self.tasks_now = np.zeros(len(self.geo.codes), np.int64)  # the standing task per municipality (places)
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

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self._entropy, *key])

    def day(self, date: dt.date) -> float:
        return float(self.cal.day(date))

    # ------------------------------------------------------------------ counting places

    def counted(self, now: float, pipeline_within_days: float = 0.0) -> np.ndarray:
        """Places per municipality that count for the task at ``now``: open durable and AMV locations
        large and long-lived enough (AMV of any size), plus projects due to open within the window."""
        L = self.chain.locations
        n = L.n
        cfg = self.cfg
        life = np.where(np.array([o == "initial" for o in L.origin[:n]]), np.inf, L.close_day[:n] - L.open_day[:n])
        durable = (L.type[:n] == DURABLE) & (L.places[:n] >= cfg.count_min_places)
        ok = (
            L.is_open[:n]
            & (durable | (L.type[:n] == AMV_PLACES))
            & (life >= cfg.count_min_lifespan_years * DAYS_PER_YEAR)
            & (L.municipality[:n] >= 0)
        )
        out = np.bincount(L.municipality[:n][ok], weights=L.places[:n][ok], minlength=len(self.geo.codes))
        if pipeline_within_days > 0:
            for p in self.projects:
                if p["status"] == "running" and p["counts"] and p["expected_open"] <= now + pipeline_within_days:
                    out[p["municipality"]] += p["places"]
        return out

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

    # ------------------------------------------------------------------ processes

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
                self.checks.append((self.env.now, self.share_realised(self.tasks_now, self.counted(self.env.now))))

    def cycle(self, k: int, estimate: dt.date):
        cfg = self.cfg
        env = self.env
        t_est = max(self.day(estimate), env.now)
        deadline = add_months(estimate, cfg.deadline_after_months)
        t_dead = self.day(deadline)
        tasks = self.tasks(k, t_est, t_dead)
        self.task_now = int(tasks.sum())
        self.tasks_now = tasks
        counted = self.counted(t_est, pipeline_within_days=self.cfg.count_pipeline_within_months * DAYS_PER_MONTH)
        # the provincial round table shares out the province's gap: a municipality with places to
        # spare covers part of its neighbours' tasks (sources §spreidingswet-first-cycle: ~90,000 agreed at the PRTs)
        raw_gap = np.maximum(tasks - counted.astype(np.int64), 0)
        prov_gap = np.maximum(self.geo.by_province(tasks) - self.geo.by_province(counted), 0)
        gap = np.zeros_like(raw_gap)
        for p in range(len(self.geo.provinces)):
            members = np.flatnonzero(self.geo.province_of == p)
            gap[members] = split_largest_remainder(int(round(prov_gap[p])), raw_gap[members])
        amv_gap = np.round(gap * cfg.amv_share_of_task).astype(np.int64)
        info = {
            "cycle": k,
            "estimate_date": estimate,
            "deadline": deadline,
            "task": tasks,
            "gap": gap,
            "emergency_requested": np.zeros(len(self.geo.provinces), np.int64),
            "realised": {},
        }
        self.cycle_info.append(info)
        for m in np.flatnonzero(gap > 0):
            env.process(self.municipality(k, int(m), int(gap[m] - amv_gap[m]), int(amv_gap[m]), t_est, t_dead))
        # the deadline and the two looks after it
        for label, months in (("deadline", 0), ("deadline_12m", 12), ("deadline_24m", 24)):
            t = self.day(add_months(deadline, months))
            if t >= self.h:
                break
            if t > env.now:
                yield env.timeout(t - env.now)
            info["realised"][label] = self.counted(env.now)
            if label == "deadline":
                self._after_deadline(info)

    def _after_deadline(self, info: dict) -> None:
        """Provinces short at the deadline are asked for emergency places (the ministry's 2025 request)."""
        per = self.cfg.emergency_request_per_short_province
        if per <= 0:
            return
        task_p = self.geo.by_province(info["task"])
        real_p = self.geo.by_province(info["realised"]["deadline"])
        for p in np.flatnonzero(real_p < task_p):
            members = np.flatnonzero(self.geo.province_of == p)
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

    def _start_time(self, rng: np.random.Generator, t_est: float, t_dead: float) -> float | None:
        """When a municipality starts (simulation day), or None if it does not act this cycle."""
        cfg, enf = self.cfg, self.cfg.enforcement
        boost = 1 + cfg.incentive_effect_per_1000_eur * cfg.incentive_eur_per_durable_place / 1000
        waiting = (enf.strategic_waiting_share_enforced if enf.enforced else enf.strategic_waiting_share) / boost
        lo, hi = cfg.start_lag_months
        start = t_est + rng.uniform(lo, hi) * DAYS_PER_MONTH
        # always draw the same numbers in the same order, whichever branch is taken (common random numbers)
        u_wait, u_late, u_politics = rng.random(), rng.random(), rng.random()
        if u_wait < waiting:
            if enf.enforced:
                start = t_dead + enf.compulsion_delay_months * DAYS_PER_MONTH  # compulsion (aanwijzing)
            elif u_late < enf.late_start_probability:
                start = t_dead
            else:
                return None
        if cfg.emergency_reserve_places > 0:
            start += cfg.reserve_delays_starts_months * DAYS_PER_MONTH
        pu = cfg.political_uncertainty
        if pu.start is not None:
            a, b = self.day(pu.start), self.day(pu.end)
            if a <= start < b and u_politics >= pu.start_probability_factor:
                start = b
        return start

    def _choose(self, rng: np.random.Generator, months_left: float) -> str:
        cfg = self.cfg
        names = list(cfg.project_types)
        boost = 1 + cfg.incentive_effect_per_1000_eur * cfg.incentive_eur_per_durable_place / 1000
        w = np.array(
            [
                t.weight
                * (boost if t.location_type == "durable" else 1.0)
                * np.exp(-cfg.lateness_aversion_per_month * max(0.0, t.expected_months() - months_left))
                for t in cfg.project_types.values()
            ]
        )
        if w.sum() <= 0:
            w = np.ones(len(names))
        return names[int(rng.choice(len(names), p=w / w.sum()))]

    def municipality(self, k: int, m: int, gap: int, amv_gap: int, t_est: float, t_dead: float):
        """A municipality with a gap decides when to start and what to build."""
        env = self.env
        rng = self._rng(k, m)
        start = self._start_time(rng, t_est, t_dead)
        if start is None or start >= self.h:
            return
        if start > env.now:
            yield env.timeout(start - env.now)
        months_left = (t_dead - env.now) / DAYS_PER_MONTH
        j = 0
        remaining = gap
        while remaining > 0:
            name = self._choose(rng, months_left)
            ptype = self.cfg.project_types[name]
            size = min(ptype.size_places, remaining)
            if ptype.location_type == "durable":
                # a durable location below the counting size would not count for the task: build at least that
                size = max(size, min(self.cfg.count_min_places, ptype.size_places))
            remaining -= size
            self._launch(k, m, j, name, ptype, size, TYPE_CODE[ptype.location_type], ptype.failure_probability)
            j += 1
        # AMV: small units of at most amv_location_max_size, built like a conversion; smaller units are accepted more easily
        unit = self.cfg.amv_location_max_size
        amv_type = self.cfg.project_types.get("conversion") or next(iter(self.cfg.project_types.values()))
        while amv_gap > 0:
            size = min(unit, amv_gap)
            amv_gap -= size
            fail = min(1.0, self.cfg.amv_failure_per_50_places * size / 50)
            self._launch(k, m, j, "amv_unit", amv_type, size, AMV_PLACES, fail)
            j += 1

    def _launch(self, k: int, m: int, j: int, name: str, ptype, size: int, type_code: int, fail: float) -> None:
        counts = type_code == AMV_PLACES or (
            type_code == DURABLE
            and size >= self.cfg.count_min_places
            and ptype.lifespan_years >= self.cfg.count_min_lifespan_years
        )
        proj = {
            "cycle": k,
            "municipality": m,
            "project": j,
            "kind": name,
            "location_type": type_code,
            "places": size,
            "start": self.env.now,
            "expected_open": self.env.now + ptype.expected_months() * DAYS_PER_MONTH,
            "open_day": np.nan,
            "status": "running",
            "counts": counts,
        }
        self.projects.append(proj)
        self.pipeline += size
        self.env.process(self.project(proj, ptype, fail))

    def _stage(self, rng: np.random.Generator, stage) -> float:
        if stage.mean_months <= 0:
            return 0.0
        if stage.cv <= 0:
            return stage.mean_months * DAYS_PER_MONTH
        shape = 1 / stage.cv**2
        return rng.gamma(shape, stage.mean_months / shape) * DAYS_PER_MONTH

    def _pause(self, rng: np.random.Generator) -> float:
        """Days to wait if the project is in a debate on withdrawing the law and pauses."""
        pu = self.cfg.political_uncertainty
        u = rng.random()
        if pu.start is None:
            return 0.0
        a, b = self.day(pu.start), self.day(pu.end)
        if a <= self.env.now < b and u < pu.pause_probability:
            return b - self.env.now
        return 0.0

    def project(self, proj: dict, ptype, fail: float):
        """A location project: site and council, participation, permit (+ appeal), construction; may be delayed or fail."""
        env = self.env
        rng = self._rng(proj["cycle"], proj["municipality"], proj["project"], 1)
        # draw everything up front, in a fixed order, so timing elsewhere cannot shift this project's numbers
        durations = [
            self._stage(rng, s)
            for s in (ptype.site_and_council, ptype.participation, ptype.permit, ptype.appeal, ptype.construction)
        ]
        appeal = rng.random() < ptype.appeal_probability
        fails = rng.random() < fail
        delayed = rng.random() < ptype.delay_probability
        delay = rng.uniform(*ptype.delay_months) * DAYS_PER_MONTH if delayed else 0.0
        pause_rng = self._rng(proj["cycle"], proj["municipality"], proj["project"], 2)
        site, participation, permit, appeal_days, construction = durations
        for days in (site, participation, permit + (appeal_days if appeal else 0.0)):
            wait = self._pause(pause_rng)
            yield env.timeout(days + wait)
        if fails:
            proj["status"] = "failed"
            self.pipeline -= proj["places"]
            return
        yield env.timeout(construction + delay)
        ptype_life = ptype.lifespan_years * DAYS_PER_YEAR
        self.chain.open_location(
            proj["location_type"], proj["places"], env.now, env.now + ptype_life, proj["municipality"], f"cycle{proj['cycle']}"
        )
        proj["status"] = "open"
        proj["open_day"] = env.now
        self.pipeline -= proj["places"]
        if proj["location_type"] in (DURABLE, AMV_PLACES):
            pay = proj["places"] * self.cfg.incentive_eur_per_durable_place
            self._cost_today += pay
            self.incentives_paid += pay

    # ------------------------------------------------------------------ outputs

    def cycles_frame(self, replication: int) -> pd.DataFrame:
        """One row per cycle × province (and municipality when asked), built column-wise."""
        if self.projects:
            pr = {
                key: np.array([q[key] for q in self.projects])
                for key in ("cycle", "municipality", "location_type", "places", "open_day")
            }
            status = np.array([q["status"] for q in self.projects])
        else:
            pr = {key: np.empty(0, int) for key in ("cycle", "municipality", "location_type", "places")}
            pr["open_day"] = np.empty(0)
            status = np.empty(0, str)
        type_names = ("durable", "temporary", "emergency", "amv")
        levels = ["province"] + (["municipality"] if self.cfg.report_municipalities else [])
        frames = []
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
                frames.append(pd.DataFrame(cols))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

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
            "projects_failed": sum(p["status"] == "failed" for p in self.projects),
        }
