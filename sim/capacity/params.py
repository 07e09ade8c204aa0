"""Parameters of the Spreidingswet capacity cycle.

Dates of the cycle are months after the capacity estimate (whole months are
calendar months, so 17 months after 1 February is 1 July of year 2; a fraction
is days at 30.44 a month). Behavioural parameters (choices, waiting,
enforcement, incentives) are assumptions: each carries "estimate" and a range
in its description so sweeps can vary it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.params import UNIT_LIMITS, Strict, ordered_range, param

MIN_CV = 1e-3  # smallest non-zero coefficient of variation of a stage (see Stage.cv)


class Stage(Strict):
    """Lead time of one project stage: gamma-distributed with a mean and a coefficient of variation."""

    mean_months: float = param(..., unit="months", desc="mean duration", source="estimate", ge=0)
    cv: float = param(0.5, unit="-", desc="coefficient of variation (0: a fixed length)", source="estimate", ge=0)

    @field_validator("cv")
    @classmethod
    def _cv_is_none_or_some(cls, v: float) -> float:
        # the gamma's shape is 1/cv²: below this it overflows (or divides by zero) while meaning no variation
        if 0 < v < MIN_CV:
            raise ValueError(f"a variation this small is none: give 0 (a fixed length) or at least {MIN_CV:g}")
        return v


class ProjectType(Strict):
    """One kind of location project a municipality can choose."""

    source: str = param("estimate", unit="-", desc="where this project type's numbers come from", source="model choice")
    location_type: str = param(
        "durable", unit="-", desc="the location type it opens: durable, temporary, emergency or amv", source="model choice"
    )
    weight: float = param(
        1.0, unit="-", desc="relative preference when time is no constraint (range 0–1)", source="estimate", ge=0
    )
    size_places: int = param(300, unit="places", desc="places per project", source="sources §location-types", ge=1)
    lifespan_years: float = param(
        10.0, unit="years", desc="how long the location stays open", source="sources §location-types", gt=0
    )
    site_and_council: Stage = param(
        Stage(mean_months=3),
        unit="months",
        desc="site selection and council decision",
        source="estimate within sources §location-types",
    )
    participation: Stage = param(
        Stage(mean_months=1), unit="months", desc="participation of residents", source="estimate within sources §location-types"
    )
    permit: Stage = param(Stage(mean_months=2), unit="months", desc="permit", source="estimate within sources §location-types")
    appeal_probability: float = param(
        0.2, unit="share", desc="chance of objection and appeal against the permit", source="estimate", ge=0, le=1
    )
    appeal: Stage = param(
        Stage(mean_months=9),
        unit="months",
        desc="objection and appeal, when there is one",
        source="estimate: Apeldoorn a year of appeals (sources §project-delays)",
    )
    construction: Stage = param(
        Stage(mean_months=3), unit="months", desc="construction or conversion", source="estimate within sources §location-types"
    )
    delay_probability: float = param(
        0.2, unit="share", desc="chance of a delay on top of the stages", source="estimate", ge=0, le=1
    )
    delay_months: tuple[float, float] = param((3.0, 6.0), unit="months", desc="range of that delay (uniform)", source="estimate")
    failure_probability: float = param(
        0.1,
        unit="share",
        desc="chance the project fails at the permit or appeal stage (e.g. a court suspends it)",
        source="estimate; sources §project-delays: Nuenen suspended Nov 2025",
        ge=0,
        le=1,
    )

    @field_validator("delay_months")
    @classmethod
    def _delay_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        return ordered_range(v)

    def expected_months(self) -> float:
        """Expected lead time from start to opening (months)."""
        stages = (
            self.site_and_council.mean_months
            + self.participation.mean_months
            + self.permit.mean_months
            + self.construction.mean_months
        )
        return stages + self.appeal_probability * self.appeal.mean_months + self.delay_probability * sum(self.delay_months) / 2


def _types() -> dict[str, ProjectType]:
    # sources §location-types: new build incl. zoning and appeals 24–48 months; 30–50 % chance of a 6–12 month delay
    new_build = ProjectType(
        source="sources §location-types: new build incl. zoning and appeals 24–48 months, 300–1,500 places, core locations 10+ years; sources §project-delays: 30–50 % chance of a 6–12 month delay (E); stage split and failure: estimate",
        location_type="durable",
        weight=0.35,
        size_places=400,
        lifespan_years=15,
        site_and_council=Stage(mean_months=6),
        participation=Stage(mean_months=3),
        permit=Stage(mean_months=6),
        appeal_probability=0.4,
        appeal=Stage(mean_months=12),
        construction=Stage(mean_months=12),
        delay_probability=0.4,
        delay_months=(6.0, 12.0),
        failure_probability=0.15,
    )
    # sources §location-types: conversion of an existing building 3–9 months, 100–400 places, 5–10 years
    conversion = ProjectType(
        source="sources §location-types: conversion 3–9 months (E), 100–400 places, 5–10 years; stage split, delay and failure: estimate",
        location_type="durable",
        weight=0.2,
        size_places=200,
        lifespan_years=7.5,
        site_and_council=Stage(mean_months=2),
        participation=Stage(mean_months=1),
        permit=Stage(mean_months=1.5),
        appeal_probability=0.15,
        appeal=Stage(mean_months=6),
        construction=Stage(mean_months=2),
        delay_probability=0.2,
        delay_months=(1.0, 3.0),
        failure_probability=0.1,
    )
    # sources §location-types: modular / pavilions 6–18 months, 100–400 places, 5–15 years
    modular = ProjectType(
        source="sources §location-types: modular/pavilions 6–18 months (E), 100–400 places, 5–15 years; stage split, delay and failure: estimate",
        location_type="durable",
        weight=0.25,
        size_places=250,
        lifespan_years=10,
        site_and_council=Stage(mean_months=3),
        participation=Stage(mean_months=1.5),
        permit=Stage(mean_months=3),
        appeal_probability=0.25,
        appeal=Stage(mean_months=9),
        construction=Stage(mean_months=4),
        delay_probability=0.3,
        delay_months=(3.0, 6.0),
        failure_probability=0.1,
    )
    # temporary location (< 5 years, does not count for the task in the second cycle, sources §spreidingswet-second-cycle)
    temporary = ProjectType(
        source="estimate: a temporary location of under 5 years (sources §spreidingswet-second-cycle: does not count in the second cycle)",
        location_type="temporary",
        weight=0.15,
        size_places=250,
        lifespan_years=3,
        site_and_council=Stage(mean_months=2),
        participation=Stage(mean_months=1),
        permit=Stage(mean_months=1),
        appeal_probability=0.1,
        appeal=Stage(mean_months=6),
        construction=Stage(mean_months=2),
        delay_probability=0.1,
        delay_months=(1.0, 3.0),
        failure_probability=0.1,
    )
    # sources §location-types: emergency location 1–8 weeks to open, leases 6–12 months
    emergency = ProjectType(
        source="sources §location-types: COA emergency location, 1–8 weeks to open (E), 300+ places, leases 6–12 months; failure: estimate",
        location_type="emergency",
        weight=0.05,
        size_places=300,
        lifespan_years=1,
        site_and_council=Stage(mean_months=0.5),
        participation=Stage(mean_months=0),
        permit=Stage(mean_months=0.25),
        appeal_probability=0.0,
        appeal=Stage(mean_months=0),
        construction=Stage(mean_months=0.5),
        delay_probability=0.0,
        delay_months=(0.0, 0.0),
        failure_probability=0.02,
    )
    return {"new_build": new_build, "conversion": conversion, "modular": modular, "temporary": temporary, "emergency": emergency}


class Enforcement(Strict):
    """Intergovernmental supervision (interbestuurlijk toezicht, IBT) and compulsion (aanwijzing)."""

    enforced: bool = param(
        False,
        unit="-",
        desc="shortfalls after the deadline are enforced: a warning, then compulsion",
        source="sources §spreidingswet-first-cycle: compulsion not used in the first cycle",
    )
    compulsion_delay_months: float = param(
        6.0,
        unit="months",
        desc="with enforcement: from the binding distribution decision (supervision's warning) to compulsion of a waiting municipality (range 3–12)",
        source="estimate",
        ge=0,
    )
    strategic_waiting_share: float = param(
        0.4,
        unit="share",
        desc="share of municipalities that wait to see what others do when enforcement is not credible (range 0.1–0.6)",
        source="estimate: 8 of 12 provinces missed the first deadline (sources §spreidingswet-first-cycle)",
        ge=0,
        le=1,
    )
    strategic_waiting_share_enforced: float = param(
        0.1, unit="share", desc="the same when enforcement is credible (range 0–0.3)", source="estimate", ge=0, le=1
    )
    late_start_probability: float = param(
        0.5,
        unit="share",
        desc="without enforcement: chance a waiting municipality still starts once the deadline has passed (range 0–1)",
        source="estimate",
        ge=0,
        le=1,
    )
    pressure_reduces_waiting: float = param(
        0.5,
        unit="share",
        desc="relative fall of the waiting share when an application centre was above its norm on every night of the pressure window (visible crisis moves councils)",
        source="estimate: the August 2022 nights outside Ter Apel preceded the law (sources §ter-apel-2022)",
        ge=0,
        le=1,
    )
    pressure_window_days: int = param(
        90,
        unit="days",
        desc="nights over which a municipality sees pressure at the application centres",
        source="estimate",
        ge=1,
        le=3650,
    )


class PoliticalUncertainty(Strict):
    """A period in which withdrawal of the law is debated."""

    start: dt.date | None = param(
        None,
        unit="date",
        desc="start of the period (none: no such period)",
        source="sources §spreidingswet-second-cycle: withdrawal announced by the 2024 coalition, not enacted",
    )
    end: dt.date | None = param(None, unit="date", desc="end of the period", source="scenario choice")
    start_probability_factor: float = param(
        0.5,
        unit="share",
        desc="chance a municipality starts a project during the period rather than waiting for its end (range 0–1)",
        source="estimate",
        ge=0,
        le=1,
    )
    pause_probability: float = param(
        0.5,
        unit="share",
        desc="chance a project in preparation pauses until the period ends (range 0–1)",
        source="estimate",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _order(self) -> PoliticalUncertainty:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class Spreidingswet(Strict):
    """The Spreidingswet cycle (Wet gemeentelijke taak mogelijk maken asielopvangvoorzieningen)."""

    enabled: bool = param(
        True, unit="-", desc="run the capacity cycle", source="sources §spreidingswet-law: in force since 1 Feb 2024"
    )
    first_estimate_date: dt.date = param(
        dt.date(2026, 2, 1),
        unit="date",
        desc="capacity estimate (capaciteitsraming) of the first cycle in the run",
        source="sources §spreidingswet-cycle: before 1 Feb of year 1; sources §spreidingswet-second-cycle: 2026–27",
    )
    cycle_years: int = param(
        2, unit="years", desc="years between capacity estimates", source="sources §spreidingswet-cycle", ge=1, le=10
    )
    report_after_months: float = param(
        9,
        unit="months",
        desc="provincial report (PRT) deadline after the estimate (1 Nov of year 1)",
        source="sources §spreidingswet-cycle",
        gt=0,
    )
    decision_after_months: float = param(
        10.7,
        unit="months",
        desc="distribution decision (verdeelbesluit) after the estimate (~23 Dec of year 1)",
        source="sources §spreidingswet-cycle",
        gt=0,
    )
    deadline_after_months: float = param(
        17,
        unit="months",
        desc="realisation deadline after the estimate (1 Jul of year 2)",
        source="sources §spreidingswet-cycle",
        gt=0,
    )
    first_cycle_tasks: str = param(
        "task_2026",
        unit="-",
        desc="tasks of the first cycle in the run: a municipalities-file column with published tasks, or 'estimate' for the model's own",
        source="data/municipalities.csv: task_2026 (88,000 in all)",
    )
    first_cycle_national_task: int | None = param(
        None,
        unit="places",
        desc="with first_cycle_tasks='split': the published national task to split",
        source="scenario choice",
        ge=0,
    )
    first_cycle_province_tasks: dict[str, Annotated[int, Field(ge=0, le=UNIT_LIMITS["places"])]] = param(
        {},
        unit="places",
        desc="with 'split': published provincial tasks; the rest of the national task is split over the other provinces by population",
        source="scenario choice",
    )
    planning_occupancy_rate: float = param(
        0.91,
        unit="share",
        desc="occupancy COA plans for; the need is forecast occupancy divided by this",
        source="sources §capacity-planning: 91 % (2023–24)",
        gt=0,
        le=1,
    )
    forecast_error_sd: float = param(
        0.15,
        unit="log-share",
        desc="standard deviation of the log forecast error of occupancy at the deadline",
        source="estimate from sources §forecast-record: the MPP over-forecast inflow by ~37 % in 2023 and 2024",
        ge=0,
    )
    forecast_bias: float = param(
        0.0, unit="share", desc="systematic relative forecast error (+0.1 = 10 % too high)", source="estimate", gt=-1
    )
    amv_share_of_task: float = param(
        0.085,
        unit="share",
        desc="share of the task for unaccompanied minors",
        source="sources §spreidingswet-first-cycle: about 8.5 %",
        ge=0,
        le=1,
    )
    amv_location_max_size: int = param(
        50,
        unit="places",
        desc="largest AMV location; the task's AMV part is built in units of this size",
        source="sources §amv-locations: COA asked each province for a 50-place AMV location",
        ge=1,
    )
    amv_failure_per_50_places: float = param(
        0.15,
        unit="share",
        desc="chance an AMV project fails for lack of local acceptance at 50 places; scales with size/50 (range 0.05–0.3)",
        source="estimate: the seed letter asks for smaller, locally fitting units (sources §seed-letter)",
        ge=0,
        le=1,
    )
    count_min_places: int = param(
        100,
        unit="places",
        desc="a durable location counts for the task from this size (AMV locations always count)",
        source="sources §spreidingswet-cycle: ≥100 places and ≥5 years",
        ge=0,
    )
    count_min_lifespan_years: float = param(
        5,
        unit="years",
        desc="a location counts for the task if it lives at least this long",
        source="sources §spreidingswet-cycle",
        ge=0,
    )
    count_pipeline_within_months: float = param(
        12,
        unit="months",
        desc="at the estimate, places of projects expected to open within this many months count for the task",
        source="sources §spreidingswet-cycle: places available within 12 months count",
        ge=0,
    )
    forecast_trend_window_days: int = param(
        365,
        unit="days",
        desc="the capacity estimate extrapolates the change in occupancy over this many past days to the deadline",
        source="model choice: a linear trend over the last year, the simplest forecast a ministry could make from occupancy alone",
        ge=1,
    )
    socio_economic_column: str | None = param(
        None,
        unit="-",
        desc="municipalities-file column with a socio-economic correction factor on the population split (none: population only)",
        source="sources §spreidingswet-cycle: split by population with a socio-economic correction",
    )
    project_types: dict[str, ProjectType] = param(
        _types(), unit="-", desc="kinds of projects municipalities choose from", source="sources §location-types and estimates"
    )
    type_choice_rule: bool = param(
        True,
        unit="-",
        desc="municipalities weigh each project type's planned lead time against the time left before the deadline (off: by preference weights alone)",
        source="model choice: stated with and without in docs/capacity_cycle.md",
    )
    lateness_aversion_per_month: float = param(
        0.3,
        unit="1/month",
        desc="how strongly a municipality avoids a project type expected to open after the deadline: weight × exp(−a × months late) (range 0.1–1)",
        source="estimate",
        ge=0,
        le=10,
    )
    enforcement: Enforcement = param(Enforcement(), unit="-", desc="IBT and compulsion", source="sources §spreidingswet-cycle")
    political_uncertainty: PoliticalUncertainty = param(
        PoliticalUncertainty(), unit="-", desc="debate on withdrawing the law", source="sources §spreidingswet-second-cycle"
    )
    incentive_eur_per_durable_place: float = param(
        1500,
        unit="euros/place",
        desc="paid per durable place opened",
        source="sources §spreidingswet-incentive: €2,500 first round, €1,500 later (L)",
        ge=0,
    )
    incentive_effect_per_1000_eur: float = param(
        0.05,
        unit="share per €1,000",
        desc="relative rise of the durable choice weight and fall of strategic waiting per €1,000 incentive (range 0–0.2)",
        source="estimate",
        ge=0,
    )
    emergency_request_per_short_province: int = param(
        325,
        unit="places",
        desc="emergency places the ministry asks of each province short at the deadline (0 = no request)",
        source="sources §spreidingswet-first-cycle: 325 per short province in 2025",
        ge=0,
    )
    emergency_request_duration_days: tuple[float, float] = param(
        (182.0, 365.0),
        unit="days",
        desc="how long the requested emergency places stay (then extended while needed): uniform between these",
        source="sources §location-types: leases 6–12 months",
    )
    emergency_reserve_places: int = param(
        0,
        unit="places",
        desc="emergency places held back for application-centre overflow (used only when a centre is above its norm)",
        source="scenario choice; sources §seed-letter",
        ge=0,
    )
    report_municipalities: bool = param(
        False, unit="-", desc="also write one cycles row per municipality", source="scenario choice"
    )

    @field_validator("emergency_request_duration_days")
    @classmethod
    def _duration_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        return ordered_range(v)

    @model_validator(mode="after")
    def _calendar_in_order(self) -> Spreidingswet:
        if not (self.report_after_months <= self.decision_after_months <= self.deadline_after_months):
            raise ValueError(
                f"the cycle's dates are out of order: report ({self.report_after_months} months) ≤ distribution decision "
                f"({self.decision_after_months}) ≤ realisation deadline ({self.deadline_after_months}) after the estimate is required"
            )
        if self.first_cycle_tasks == "split" and self.first_cycle_national_task is None:
            raise ValueError("first_cycle_tasks = 'split' needs first_cycle_national_task")
        allowed = {"durable", "temporary", "emergency", "amv"}
        for name, t in self.project_types.items():
            if t.location_type not in allowed:
                raise ValueError(f"project_types.{name}.location_type must be one of {sorted(allowed)}")
        return self
