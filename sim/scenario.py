"""The scenario: every input of one simulated world, validated at the edge.

A scenario is a TOML file read with :mod:`tomllib` and checked against the
pydantic schema below, which forbids unknown keys. ``extends = "baseline.toml"``
lets a variant state only what differs; ``--set section.key=value`` overrides
single values from the command line. Every parameter carries a unit, a
one-line description and the source of its default, citing ``docs/sources.md``
(the convention is in :mod:`sim.params`).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError, field_validator, model_validator

from sim.calendar import DAYS_PER_YEAR
from sim.capacity.params import Spreidingswet
from sim.errors import UserInputError
from sim.files import read_text
from sim.params import UNIT_LIMITS, Strict, param

DATA_DIR = Path(__file__).parent / "data"
MAX_HORIZON_YEARS = 50  # longer runs say nothing about the chain and take hours
SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"

Category = Literal["first", "amv", "family"]
LocationType = Literal["durable", "temporary", "emergency", "amv", "crisis"]

# sources §seasonality: quarterly shares of first applications 20/21/29/30 % (2018, 2019, 2022, 2023),
# i.e. multipliers of about 0.80/0.85/1.15/1.20, spread evenly over each quarter's months.
SEASONAL_DEFAULT = [0.80] * 3 + [0.85] * 3 + [1.15] * 3 + [1.20] * 3


class ScenarioError(UserInputError):
    """A scenario or experiment file that cannot be used: names the file, the key path and what is allowed.

    ``file`` is None for a value that came from no file (a command-line option): the message then
    starts with the key path (the option), not a placeholder.
    """

    def __init__(self, file: str | Path | None, key_path: str, message: str):
        self.file = str(file) if file is not None else None
        self.key_path = key_path
        where = ": ".join(x for x in (self.file, key_path) if x)
        super().__init__(where, message)


# --------------------------------------------------------------------------- inflow


class Shock(Strict):
    """A surge of extra arrivals spread evenly over a number of weeks."""

    start: dt.date = param(..., unit="date", desc="first day of the surge", source="scenario choice")
    weeks: int = param(..., unit="weeks", desc="length of the surge", source="scenario choice", gt=0)
    persons: int = param(..., unit="persons", desc="extra arrivals over the whole surge", source="scenario choice", ge=0)
    category: Category = param("first", unit="-", desc="which inflow category the surge adds to", source="scenario choice")


class Inflow(Strict):
    """Arrivals (instroom): first asylum applications (including AMV) and family reunification (nareizigers)."""

    mode: Literal["rate", "replay"] = param(
        "rate",
        unit="-",
        desc="'rate': yearly levels with seasonality and shocks; 'replay': a monthly series from a CSV file",
        source="model choice",
    )
    first_applications_per_year: float = param(
        25_000,
        unit="persons/year",
        desc="first asylum applications in the first simulated year, AMV included",
        source="sources §inflow-per-year: ~24,000 first applications in 2025; forecast 40,000–55,300 total",
        ge=0,
    )
    amv_share_of_first: float = param(
        0.12,
        unit="share",
        desc="share of first applications made by unaccompanied minors (AMV)",
        source="sources §amv-inflow: 12–15 % of first applications",
        ge=0,
        le=1,
    )
    family_reunification_per_year: float = param(
        16_000,
        unit="persons/year",
        desc="family reunification arrivals (nareizigers) in the first simulated year",
        source="sources §inflow-per-year and data/history/inflow_replay.csv: 16,470 nareizigers in 2025",
        ge=0,
    )
    trend_per_year: float = param(
        0.0,
        unit="share/year",
        desc="relative change of all yearly levels per year (0.05 = +5 % a year, compounded)",
        source="estimate: no trend assumed",
        gt=-1,
        le=2,
    )
    seasonal_factors: list[float] = param(
        SEASONAL_DEFAULT,
        unit="multiplier",
        desc="12 monthly multipliers of the daily rate (January first); normalised to mean 1",
        source="sources §seasonality: quarterly shares 20/21/29/30 %",
    )
    dispersion: Literal["poisson", "negative_binomial"] = param(
        "negative_binomial",
        unit="-",
        desc="distribution of daily arrival counts",
        source="estimate: daily counts are over-dispersed (group arrivals)",
    )
    negative_binomial_k: float = param(
        25.0, unit="-", desc="size parameter of the negative binomial: variance = mean + mean²/k", source="estimate", gt=0
    )
    shocks: list[Shock] = param([], unit="-", desc="surges of extra arrivals", source="scenario choice")
    replay_file: str | None = param(
        None,
        unit="path",
        desc="CSV with columns month (YYYY-MM), first_applications, family_reunification and optional amv_first_applications; relative to the scenario file or to sim/data",
        source="scenario choice",
    )
    replay_scale: float = param(
        1.0, unit="multiplier", desc="multiplies every replayed monthly count", source="scenario choice", ge=0
    )

    @field_validator("seasonal_factors")
    @classmethod
    def _twelve_positive(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(f"needs exactly 12 monthly factors, got {len(v)}")
        if any(f < 0 for f in v) or sum(v) <= 0:
            raise ValueError("factors must be ≥ 0 and not all zero")
        if max(v) > UNIT_LIMITS["multiplier"]:
            raise ValueError(f"factors must be ≤ {UNIT_LIMITS['multiplier']:g}, got {max(v):g}")
        return v

    @model_validator(mode="after")
    def _replay_needs_file(self) -> Inflow:
        if self.mode == "replay" and not self.replay_file:
            raise ValueError("mode = 'replay' needs replay_file")
        return self


# --------------------------------------------------------------------------- registration


class Centre(Strict):
    """An application centre (aanmeldcentrum): Ter Apel, optionally Budel."""

    name: str = param("Ter Apel", unit="-", desc="name used in outputs", source="sources §registration")
    share_of_arrivals: float = param(
        1.0,
        unit="share",
        desc="share of arrivals that register here",
        source="estimate: Ter Apel registers nearly all first applicants",
        ge=0,
        le=1,
    )
    slots: int = param(
        400,
        unit="persons",
        desc="registration slots: persons that can be in the registration phase at once (servers of the M/M/c queue)",
        source="estimate: ~90 arrivals/day × 3 days at ~70 % utilisation",
        ge=1,
        le=100_000,  # each slot is a server the queue keeps track of: a million slow every run down
    )
    service_mean_days: float = param(
        3.0,
        unit="days",
        desc="mean length of the registration phase",
        source="sources §registration: registration takes about 3 days",
        gt=0,
    )
    service_distribution: Literal["exponential", "lognormal", "deterministic"] = param(
        "exponential", unit="-", desc="distribution of the registration phase length", source="estimate"
    )
    service_cv: float = param(1.0, unit="-", desc="coefficient of variation (lognormal only)", source="estimate", gt=0)
    norm_persons: int = param(
        2000,
        unit="persons",
        desc="agreed maximum at the centre; every person-night above it is an overflow night",
        source="sources §ter-apel-norm: norm 2,000 (Westerwolde agreement)",
        ge=0,
    )
    physical_limit_persons: int = param(
        2300,
        unit="persons",
        desc="beds on site; above them people use the relief valves (chairs, night shelter), then sleep outside",
        source="estimate: Westerwolde's 2,279 regular places include the centre (data/municipalities.csv)",
        ge=0,
    )
    penalty_eur_per_day: float = param(
        50_000,
        unit="euros/day",
        desc="penalty payment for each day above the norm",
        source="sources §ter-apel-penalty: €50,000/day from 30 Oct 2024",
        ge=0,
    )
    penalty_cap_eur: float = param(
        5_000_000,
        unit="euros",
        desc="cap on the penalty payments over the run",
        source="sources §ter-apel-penalty: cap €5 m",
        ge=0,
    )
    chairs_persons: int = param(
        120,
        unit="persons",
        desc="people who can spend the night on chairs in the waiting area once the beds are full (a relief valve)",
        source="estimate from sources §ter-apel-2022: 50–120 slept on chairs on single nights in May–July 2022",
        ge=0,
    )
    penalty_from_date: dt.date | None = param(
        None,
        unit="date",
        desc="penalty payments apply from this date (none: from the start of the run)",
        source="sources §ter-apel-penalty: imposed by court from 2024",
    )
    night_shelter_places: int = param(
        200,
        unit="places",
        desc="night shelter (nachtopvang) with daily buses for people above the beds and chairs (a relief valve)",
        source="sources §relief-shelters: a night shelter of ~200 places (275 in the 2021 definition)",
        ge=0,
    )

    @model_validator(mode="after")
    def _limit_above_norm(self) -> Centre:
        if self.physical_limit_persons < self.norm_persons:
            raise ValueError("physical_limit_persons must be ≥ norm_persons")
        return self


class Registration(Strict):
    """Registration at the application centres and the daily transfer to reception locations."""

    centres: list[Centre] = param(
        [Centre()],
        unit="-",
        desc="application centres; shares of arrivals must sum to 1",
        source="sources §registration",
        min_length=1,
    )
    family_register_elsewhere_share: float = param(
        0.5,
        unit="share",
        desc="share of nareizigers who register elsewhere (by appointment, Zevenaar) instead of at an application centre",
        source="estimate; sources §registration: they can register at Zevenaar",
        ge=0,
        le=1,
    )
    transfer_limit_per_day: int = param(
        400,
        unit="persons/day",
        desc="most people moved out of the application centres to locations per day (COA buses)",
        source="estimate",
        ge=0,
    )
    overflow_transport_per_day: int = param(
        100,
        unit="persons/day",
        desc="registered people waiting for a place moved per day from a centre above its norm to another centre with room below its norm (buses to Budel)",
        source="estimate from sources §registration: groups of 64–100 were moved from Ter Apel to Budel",
        ge=0,
    )

    @model_validator(mode="after")
    def _shares(self) -> Registration:
        total = sum(c.share_of_arrivals for c in self.centres)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"centres' share_of_arrivals must sum to 1, got {total:g}")
        return self


# --------------------------------------------------------------------------- reception


class Emergency(Strict):
    """COA's emergency shelter (noodopvang): locations found by searching, on leases that end.

    While people need a place that no free or promised place covers, COA searches:
    offers (a hall, a hotel, a ship, a holiday park) arrive at a rate that rises with
    the shortfall and with pressure at the application centres, up to a bound. An
    offer can be refused locally; an accepted one opens after its lead time for its
    lease, which is extended at its end with some chance while the places are still
    needed. When a lease ends its residents move.
    """

    on_demand: bool = param(
        True, unit="-", desc="search for emergency locations when people wait for a place", source="model choice"
    )
    offers_per_week: float = param(
        3.0,
        unit="offers/week",
        desc="offers of emergency locations a week when the shortfall is far above half_saturation_persons and there is no pressure",
        source="estimate from sources §location-counts: ~80 emergency locations opened in the second half of 2022 (~3 a week)",
        ge=0,
        le=1000,
    )
    half_saturation_persons: float = param(
        2000,
        unit="persons",
        desc="shortfall at which the search finds half its most offers (the rate is offers_per_week × s / (s + this))",
        source="estimate",
        gt=0,
    )
    pressure_boost: float = param(
        1.0,
        unit="share",
        desc="relative rise of the offer rate when an application centre was above its norm on every night of the pressure window (1 = doubles)",
        source="estimate: crises bring ministers, mayors and offers (sources §ter-apel-2022)",
        ge=0,
    )
    pressure_window_days: int = param(
        28,
        unit="days",
        desc="nights over which pressure is measured (share of nights a centre was above its norm)",
        source="estimate",
        ge=1,
    )
    refusal_probability: float = param(
        0.3,
        unit="share",
        desc="chance an offer is refused locally (council, residents) and never opens",
        source="estimate",
        ge=0,
        le=1,
    )
    size_places: tuple[int, int] = param(
        (100, 1000),
        unit="places",
        desc="size of an offered location: log-uniform between these (hotels smaller, halls and ships larger)",
        source="sources §location-types: 300 and more, hotels smaller",
    )
    lead_time_days: tuple[float, float] = param(
        (7.0, 56.0),
        unit="days",
        desc="time from accepting an offer to its first night: uniform between these",
        source="estimate within sources §location-types: 1–8 weeks",
    )
    lease_days: tuple[float, float] = param(
        (90.0, 365.0),
        unit="days",
        desc="length of a lease (and of each extension): uniform between these",
        source="sources §location-types: leases 6–12 months; over 80 % of late-2021 locations lasted 4 weeks to 6 months",
    )
    extension_probability: float = param(
        0.6,
        unit="share",
        desc="chance a lease is extended at its end while its places are still needed (otherwise its residents move)",
        source="estimate from sources §location-types: leases repeatedly extended",
        ge=0,
        le=1,
    )
    ceiling_places: int = param(
        60_000, unit="places", desc="most emergency places open or promised at once (a policy cap)", source="estimate", ge=0
    )
    min_lease_days: float = param(
        182,
        unit="days",
        desc="COA may end a lease early, when its places are not needed, only after this long",
        source="sources §location-types: minimum lease half a year",
        ge=0,
    )
    open_trigger_persons: int = param(
        100,
        unit="persons",
        desc="shortfall (people needing a place minus free and promised places) above which COA searches",
        source="estimate",
        ge=0,
    )
    close_buffer_persons: int = param(
        1500,
        unit="places",
        desc="free places that must remain elsewhere before an emergency location closes (early or at its lease end)",
        source="estimate",
        ge=0,
    )
    review_interval_days: int = param(7, unit="days", desc="how often early closing is reviewed", source="estimate", ge=1)

    @field_validator("size_places", "lead_time_days", "lease_days")
    @classmethod
    def _low_high(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= v[0] <= v[1]:
            raise ValueError(f"needs [low, high] with 0 ≤ low ≤ high, got [{v[0]}, {v[1]}]")
        return v

    @field_validator("size_places")
    @classmethod
    def _positive_size(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] < 1 or v[1] > 100_000:
            raise ValueError(f"sizes must lie in [1, 100000] places, got [{v[0]}, {v[1]}]")
        return v


class Request(Strict):
    """A request by the ministry for places: crisis shelter from the safety regions (2022), emergency places from provinces."""

    date: dt.date = param(..., unit="date", desc="day of the request", source="scenario choice")
    kind: Literal["crisis", "emergency"] = param(
        "crisis",
        unit="-",
        desc="'crisis': municipal crisis emergency shelter (crisisnoodopvang); 'emergency': emergency locations",
        source="sources §crisis-shelter",
    )
    places: int = param(..., unit="places", desc="places asked for in all", source="scenario choice", gt=0, le=1_000_000)
    units: int = param(
        1,
        unit="-",
        desc="parties that each deliver an equal share (25 safety regions, 12 provinces)",
        source="scenario choice",
        ge=1,
        le=1000,
    )
    delivered_share: tuple[float, float] = param(
        (0.7, 1.0),
        unit="share",
        desc="share of its part each party delivers: uniform between these",
        source="estimate",
    )
    lead_time_days: tuple[float, float] = param(
        (3.0, 28.0),
        unit="days",
        desc="time from the request to a party's first night: uniform between these",
        source="sources §crisis-shelter: days to weeks",
    )
    duration_days: tuple[float, float] = param(
        (60.0, 365.0),
        unit="days",
        desc="how long a party's places stay (then extended while needed, as emergency leases): uniform between these",
        source="sources §crisis-shelter: designed for 2–3 weeks, repeatedly extended by months",
    )

    @field_validator("delivered_share", "lead_time_days", "duration_days")
    @classmethod
    def _low_high(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= v[0] <= v[1]:
            raise ValueError(f"needs [low, high] with 0 ≤ low ≤ high, got [{v[0]}, {v[1]}]")
        return v

    @field_validator("delivered_share")
    @classmethod
    def _share(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[1] > 1:
            raise ValueError(f"shares must lie in [0, 1], got [{v[0]}, {v[1]}]")
        return v


class Acquisition(Strict):
    """COA's own acquisition of regular locations, outside the Spreidingswet (and before it).

    Once a review period COA forecasts occupancy ahead (today's plus the recent trend), divides it by
    its planning occupancy rate, and compares the places it needs with the regular places open and
    under way; for a gap above a threshold it starts regular projects with municipalities (the same
    project machinery as the law's), within a most a year.
    """

    enabled: bool = param(
        True, unit="-", desc="COA acquires regular locations when its forecast need exceeds them", source="model choice"
    )
    review_interval_days: int = param(
        30, unit="days", desc="how often COA reviews its regular capacity", source="estimate", ge=1, le=3650
    )
    planning_occupancy_rate: float = param(
        0.91,
        unit="share",
        desc="occupancy COA plans for: the places it needs are forecast occupancy divided by this",
        source="sources §capacity-planning: 91 % (2023–24)",
        gt=0,
        le=1,
    )
    horizon_months: float = param(
        12, unit="months", desc="how far ahead COA forecasts occupancy", source="estimate", ge=0, le=120
    )
    trend_window_days: int = param(
        180,
        unit="days",
        desc="the forecast extrapolates the change in occupancy over this many past days",
        source="estimate",
        ge=1,
        le=3650,
    )
    min_gap_places: int = param(500, unit="places", desc="COA starts projects only for a gap above this", source="estimate", ge=0)
    max_places_per_year: int = param(
        6000,
        unit="places/year",
        desc="most regular places COA can start a year (sites, partners, staff)",
        source="estimate from sources §location-counts: COA's locations grew from 118 (Jun 2022) to ~314 (Oct 2025), emergency ones included",
        ge=0,
        le=1_000_000,
    )
    project_mix: dict[str, float] = param(
        {"conversion": 0.4, "modular": 0.3, "temporary": 0.3},
        unit="-",
        desc="COA's preference between project types (names of capacity.spreidingswet.project_types), before weighing lead times",
        source="estimate",
    )
    lateness_aversion_per_month: float = param(
        0.3,
        unit="1/month",
        desc="how strongly COA avoids types that would open after its forecast horizon (as the municipalities' rule)",
        source="estimate",
        ge=0,
        le=10,
    )

    @field_validator("project_mix")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("needs at least one project type with a weight > 0 and no negative weight")
        return v


class Reception(Strict):
    """Reception locations (azc, temporary, emergency, AMV, crisis) and COA's placement policy."""

    emergency: Emergency = param(Emergency(), unit="-", desc="COA's search for emergency locations", source="model choice")
    acquisition: Acquisition = param(
        Acquisition(), unit="-", desc="COA's acquisition of regular locations", source="model choice"
    )
    requests: list[Request] = param(
        [], unit="-", desc="the ministry's requests for crisis or emergency places, on fixed dates", source="scenario choice"
    )
    amv_overflow_to_emergency: bool = param(
        True,
        unit="-",
        desc="let AMV use emergency places when no AMV place is free (otherwise they wait at the centre)",
        source="estimate: COA opened emergency AMV locations when AMV places ran short (sources §amv-shortage: 1,720 places against ~3,000 needed)",
    )
    consolidation_moves_per_day: int = param(
        300,
        unit="persons/day",
        desc="most residents moved per day from crisis and emergency shelter into free places of a better type",
        source="estimate",
        ge=0,
    )


# --------------------------------------------------------------------------- procedure


class Outcomes(Strict):
    """Shares of IND decisions; they must sum to 1."""

    permit: float = param(
        0.70,
        unit="share",
        desc="residence permit",
        source="sources §approval-rate: approval 70–85 % historically, 78 % in 2022",
        ge=0,
        le=1,
    )
    rejection: float = param(
        0.20,
        unit="share",
        desc="rejection (the person must leave)",
        source="estimate: the rest split 2:1 between rejection and Dublin",
        ge=0,
        le=1,
    )
    dublin: float = param(0.10, unit="share", desc="Dublin claim (transfer to another EU state)", source="estimate", ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Outcomes:
        total = self.permit + self.rejection + self.dublin
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"permit + rejection + dublin must be 1, got {total:g}")
        return self


class ProductionChange(Strict):
    date: dt.date = param(..., unit="date", desc="from this date", source="scenario choice")
    decisions_per_week: float = param(
        ..., unit="decisions/week", desc="IND production from that date", source="scenario choice", ge=0
    )


class AsylumProductionChange(ProductionChange):
    counts: Literal["first", "all"] = param(
        "first",
        unit="-",
        desc="what the published count counts: 'first' decisions on first asylum applications (what the backlog holds); 'all' every asylum application handled (first and later ones), which procedure.first_share_of_all_decisions turns into first-asylum decisions",
        source="scenario choice",
    )


class OutcomeChange(Outcomes):
    """Outcome shares of first-asylum decisions from a date on (e.g. a decision moratorium)."""

    date: dt.date = param(..., unit="date", desc="from this date (the date of the decision counts)", source="scenario choice")


class FamilyProcedure(Strict):
    """Family reunification (nareis): applications by status holders for family abroad, their own IND queue.

    Applications join a FIFO queue decided by the IND's family production; approved applications
    bring family members (nareizigers) after a travel delay. The queue does not depend on the rest of
    the chain, so it is computed when the run starts. With ``drives_arrivals`` its approvals are the
    family arrivals of the run; otherwise those follow the inflow's family series and the queue gives
    the backlog (``ind_backlog_family``) only.
    """

    applications_per_year: float = param(
        12_000,
        unit="applications/year",
        desc="family reunification applications (used unless the replay file has a family_applications column)",
        source="sources §inflow-per-year: 11,880 family reunification applications in 2024",
        ge=0,
        le=1_000_000,
    )
    decisions_per_week: float = param(
        230,
        unit="decisions/week",
        desc="IND family reunification decisions per week",
        source="estimate: about the applications of 2024",
        ge=0,
        le=100_000,
    )
    production_changes: list[ProductionChange] = param(
        [], unit="-", desc="changes of that production over time", source="scenario choice"
    )
    approval_share: float = param(
        0.75, unit="share", desc="share of family reunification applications approved", source="estimate", ge=0, le=1
    )
    initial_backlog: int = param(
        12_000,
        unit="applications",
        desc="family reunification applications pending on the start date",
        source="estimate from sources §ind-backlog: ~18,000 at the end of 2022",
        ge=0,
        le=1_000_000,
    )
    persons_per_approval: float = param(
        1.4, unit="persons", desc="family members who travel per approved application", source="estimate", gt=0, le=20
    )
    travel_days: float = param(
        90, unit="days", desc="mean time from approval to arrival (visa, travel); exponential", source="estimate", ge=0, le=3650
    )
    drives_arrivals: bool = param(
        False,
        unit="-",
        desc="family arrivals are the queue's approvals (instead of the inflow's family series)",
        source="model choice",
    )


class Procedure(Strict):
    """The IND asylum procedure: weekly production from a FIFO backlog, and family reunification."""

    decisions_per_week: float = param(
        423,
        unit="decisions/week",
        desc="IND first-asylum decisions per week (with 'responsive': the floor)",
        source="sources §ind-production: a 2023 assignment of ~22,000 decisions a year",
        ge=0,
        le=100_000,
    )
    production_changes: list[AsylumProductionChange] = param(
        [], unit="-", desc="changes of production over time", source="scenario choice"
    )
    first_share_of_all_decisions: float = param(
        0.69,
        unit="share",
        desc="share of a count of every asylum application handled (a production change with counts = 'all') that decided first applications",
        source="estimate from sources §history-ind: in 2023 ~2,000 first-asylum decisions a month (~24,000 a year) against 'bijna 35.000' applications handled (0.69); 2022's ~24,000 is of the second kind",
        gt=0,
        le=1,
    )
    production_mode: Literal["series", "responsive"] = param(
        "series",
        unit="-",
        desc="'series': production follows decisions_per_week and its changes; 'responsive': the IND scales up to clear the backlog it saw responsive_lag_days ago within responsive_target_weeks, between that series and responsive_max_per_week",
        source="model choice",
    )
    responsive_until: dt.date | None = param(
        None,
        unit="date",
        desc="with 'responsive': from this date on production follows the series alone (e.g. where a history of decisions is known)",
        source="scenario choice",
    )
    responsive_target_weeks: float = param(
        26,
        unit="weeks",
        desc="with 'responsive': the backlog the IND aims to clear in this many weeks",
        source="sources §ind-decision-term: the legal term of 6 months",
        gt=0,
        le=520,
    )
    responsive_lag_days: int = param(
        180,
        unit="days",
        desc="with 'responsive': how old the backlog figure is that production answers (hiring and training)",
        source="estimate",
        ge=0,
        le=3650,
    )
    responsive_max_per_week: float = param(
        900,
        unit="decisions/week",
        desc="with 'responsive': most decisions a week the IND can reach",
        source="estimate above the ~670/week of 2023 (sources §ind-production)",
        ge=0,
        le=100_000,
    )
    outcomes_first: Outcomes = param(
        Outcomes(), unit="-", desc="outcomes for adult and family first applicants", source="sources §approval-rate"
    )
    outcome_changes: list[OutcomeChange] = param(
        [], unit="-", desc="changes of the first-asylum outcome shares over time (by date of decision)", source="scenario choice"
    )
    outcomes_amv: Outcomes = param(
        Outcomes(permit=0.85, rejection=0.10, dublin=0.05),
        unit="-",
        desc="outcomes for unaccompanied minors",
        source="estimate: minors are granted more often",
    )
    legal_term_days: float = param(
        456, unit="days", desc="legal decision term (15 months since 27 Sep 2022)", source="sources §ind-decision-term", gt=0
    )
    family: FamilyProcedure = param(FamilyProcedure(), unit="-", desc="family reunification (nareis)", source="model choice")


# --------------------------------------------------------------------------- housing and departure


class HousingChange(Strict):
    date: dt.date = param(..., unit="date", desc="from this date", source="scenario choice")
    persons_per_half_year: float = param(
        ..., unit="persons/half-year", desc="housing task from that date", source="scenario choice", ge=0
    )


class Housing(Strict):
    """Status holders (vergunninghouders) and the municipal housing task (taakstelling).

    The ministry sets a task per half-year; municipalities realise a share of it that varies from
    half-year to half-year, and a status holder can be housed only after the matching delay (linking to
    a municipality and finding a home). A shortfall leaves status holders waiting in reception.
    """

    task_mode: Literal["series", "expected_permits"] = param(
        "expected_permits",
        unit="-",
        desc="'series': the task is task_per_half_year with task_changes (published tasks); 'expected_permits': from the second half-year on, the ministry sets each task to the permits of the previous half-year plus a share of the waiting list",
        source="sources §housing-task: tasks follow the expected number of permits",
    )
    task_per_half_year: float = param(
        13_000,
        unit="persons/half-year",
        desc="the housing task (with 'series': until the first change; with 'expected_permits': the first half-year's)",
        source="sources §housing-task: 13,000 for 2025-H2",
        ge=0,
        le=1_000_000,
    )
    task_changes: list[HousingChange] = param(
        [], unit="-", desc="changes of the housing task over time ('series' only)", source="scenario choice"
    )
    task_backlog_share: float = param(
        0.2,
        unit="share",
        desc="with 'expected_permits': share of the status holders waiting when a task is set that the task adds to catch up",
        source="estimate from sources §housing-task: 2022-H2 13,500 + 1,833 backlog",
        ge=0,
        le=1,
    )
    realisation_mean: float = param(
        0.85,
        unit="share",
        desc="mean share of a half-year's task that municipalities realise",
        source="estimate from sources §status-holders-waiting: the waiting list grew from ~5,500 (2019) to 16,200 (end 2022)",
        gt=0,
        lt=1.5,  # the share is a beta on [0, 1.5] (sim.housing): its mean lies strictly inside
    )
    realisation_sd: float = param(
        0.1,
        unit="share",
        desc="standard deviation of that share between half-years (a beta distribution on [0, 1.5])",
        source="estimate",
        ge=0,
        le=0.5,
    )
    matching_delay_days: float = param(
        56,
        unit="days",
        desc="a status holder can be housed only this long after the permit (linking to a municipality, finding a home)",
        source="estimate from sources §status-holders-waiting: a normal wait is ~14 weeks",
        ge=0,
        le=3650,
    )
    family_join_sponsor_share: float = param(
        0.6,
        unit="share",
        desc="share of nareizigers who move straight in with their sponsor instead of waiting in reception",
        source="estimate",
        ge=0,
        le=1,
    )
    family_joiners_in_task: bool = param(
        True,
        unit="-",
        desc="nareizigers who move straight in with their sponsor count towards the housing task: the homes a half-year realises house them first, and fewer are left for status holders waiting in reception (with 'expected_permits' the next task counts them too)",
        source="model choice from sources §housing-task: the task counts the persons municipalities house, family members who join a status holder included",
    )


class Departure(Strict):
    """Departure of rejected applicants and Dublin transfers (vertrek)."""

    mean_delay_days: float = param(
        120, unit="days", desc="mean time from a rejection to leaving reception", source="estimate", gt=0
    )
    dublin_mean_delay_days: float = param(
        90, unit="days", desc="mean time from a Dublin claim to the transfer", source="estimate", gt=0
    )
    return_share: float = param(
        0.51,
        unit="share",
        desc="share of departures that are a (voluntary or forced) return; the rest leave to an unknown destination",
        source="sources §coa-outflow: 2024 departures 3,240 independent + 2,750 forced vs 5,740 unknown",
        ge=0,
        le=1,
    )


# --------------------------------------------------------------------------- initial state and capacity


class InitialState(Strict):
    """Where the country is on the start date: occupancy, backlog, locations."""

    municipalities_file: str = param(
        "municipalities.csv",
        unit="path",
        desc="places per municipality (regular_places_2025_11, emergency_places_2025_11); relative to the scenario file or sim/data",
        source="data/municipalities.csv (COA places, November 2025)",
    )
    use_municipal_places: bool = param(
        True,
        unit="-",
        desc="open the regular and emergency places of the municipalities file on the start date",
        source="model choice",
    )
    regular_places_scale: float = param(
        1.0,
        unit="multiplier",
        desc="scales every municipality's regular places (for start dates other than Nov 2025)",
        source="data/municipalities.csv is November 2025; other dates: estimate",
        ge=0,
    )
    emergency_places_scale: float = param(
        1.0,
        unit="multiplier",
        desc="scales every municipality's emergency places",
        source="data/municipalities.csv is November 2025; other dates: estimate",
        ge=0,
    )
    ac_municipality: str = param(
        "GM1950",
        unit="CBS code",
        desc="municipality whose regular places include the application centre (Westerwolde)",
        source="data/MUNICIPALITIES_SOURCE.md",
    )
    ac_places_in_regular: int = param(
        2000,
        unit="places",
        desc="places of the application centre counted among that municipality's regular places; removed from the locations",
        source="estimate: the norm of 2,000",
        ge=0,
    )
    amv_share_of_regular: float = param(
        0.053,
        unit="share",
        desc="share of each municipality's regular places that are AMV places",
        source="estimate: ~2,500 AMV places (sources §amv-shortage: 1,720 in Nov 2024, ~3,000 needed) of 47,293",
        ge=0,
        le=1,
    )
    durable_remaining_years: tuple[float, float] = param(
        (3.0, 15.0),
        unit="years",
        desc="remaining lifetimes of existing regular locations, spread evenly over this range in municipality-code order",
        source="estimate: core locations 10+ years (sources §location-types)",
    )
    emergency_remaining_days: tuple[float, float] = param(
        (90.0, 730.0),
        unit="days",
        desc="remaining lifetimes of existing emergency locations, spread evenly over this range",
        source="estimate: leases 6–12 months, repeatedly extended (sources §location-types)",
    )
    ac_occupancy: int = param(
        1800,
        unit="persons",
        desc="persons at the application centres on the start date (all registered, waiting for a place)",
        source="estimate: near the norm through 2025",
        ge=0,
    )
    occupancy_durable: int = param(
        40_500, unit="persons", desc="persons in durable locations", source="estimate: ~95 % of places", ge=0
    )
    occupancy_temporary: int = param(0, unit="persons", desc="persons in temporary locations", source="estimate", ge=0)
    occupancy_emergency: int = param(
        24_000, unit="persons", desc="persons in emergency locations", source="estimate: ~90 % of places", ge=0
    )
    occupancy_amv: int = param(2_300, unit="persons", desc="unaccompanied minors in AMV locations", source="estimate", ge=0)
    status_holders_waiting: int = param(
        17_000,
        unit="persons",
        desc="status holders in locations waiting for a home",
        source="estimate: 16,200 end 2022 (sources §status-holders-waiting)",
        ge=0,
    )
    awaiting_departure: int = param(
        5_000,
        unit="persons",
        desc="rejected persons in locations waiting to leave; rejection and Dublin cases in the proportion of procedure.outcomes_first",
        source="estimate",
        ge=0,
    )
    status_holder_wait_days: float = param(
        98,
        unit="days",
        desc="the permits of the status holders waiting on the start date date from up to this many days before it (spread evenly)",
        source="sources §status-holders-waiting: a normal wait for a home is ~14 weeks",
        ge=0,
    )

    @field_validator("durable_remaining_years", "emergency_remaining_days")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < v[0]:
            raise ValueError("needs [low, high] with 0 ≤ low ≤ high")
        return v

    @model_validator(mode="after")
    def _composition(self) -> InitialState:
        in_locations = self.occupancy_durable + self.occupancy_temporary + self.occupancy_emergency + self.occupancy_amv
        if self.status_holders_waiting + self.awaiting_departure > in_locations:
            raise ValueError(
                f"status_holders_waiting + awaiting_departure ({self.status_holders_waiting + self.awaiting_departure}) "
                f"exceed the persons in locations ({in_locations})"
            )
        return self


class ScheduledLocation(Strict):
    """A location that opens and closes on fixed dates (the stand-in for new capacity)."""

    type: LocationType = param(..., unit="-", desc="location type", source="scenario choice")
    places: int = param(..., unit="places", desc="size", source="scenario choice", gt=0)
    opens: dt.date = param(..., unit="date", desc="first night", source="scenario choice")
    closes: dt.date | None = param(None, unit="date", desc="closing day (none: stays open)", source="scenario choice")
    municipality: str | None = param(None, unit="CBS code", desc="where (optional)", source="scenario choice")

    @model_validator(mode="after")
    def _order(self) -> ScheduledLocation:
        if self.closes is not None and self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self


class Capacity(Strict):
    """New capacity: a fixed schedule, and the Spreidingswet cycle."""

    scheduled: list[ScheduledLocation] = param(
        [], unit="-", desc="locations opening and closing on fixed dates", source="scenario choice"
    )
    spreidingswet: Spreidingswet = param(
        Spreidingswet(), unit="-", desc="the Spreidingswet capacity cycle", source="sources §spreidingswet-law"
    )


class TypeCost(Strict):
    occupied_eur_per_day: float = param(
        ...,
        unit="euros/place-day",
        desc="cost of an occupied place per day",
        source="scenario choice: set per location type in costs (each names its source)",
        ge=0,
    )
    empty_eur_per_day: float = param(
        ...,
        unit="euros/place-day",
        desc="cost of an empty place per day",
        source="scenario choice: set per location type in costs (each names its source)",
        ge=0,
    )


class Costs(Strict):
    """Costs per place-day by location type, occupied and empty."""

    durable: TypeCost = param(
        TypeCost(occupied_eur_per_day=70, empty_eur_per_day=47),
        unit="euros/place-day",
        desc="durable azc",
        source="sources §costs-audit: Court of Audit 2023, €70 occupied, €47 empty",
    )
    temporary: TypeCost = param(
        TypeCost(occupied_eur_per_day=90, empty_eur_per_day=55),
        unit="euros/place-day",
        desc="temporary locations",
        source="estimate: between regular and emergency",
    )
    emergency: TypeCost = param(
        TypeCost(occupied_eur_per_day=190, empty_eur_per_day=120),
        unit="euros/place-day",
        desc="emergency locations",
        source="sources §costs-per-place: €69,400/year in 2023 (≈ €190/day); empty: estimate",
    )
    amv: TypeCost = param(
        TypeCost(occupied_eur_per_day=150, empty_eur_per_day=80),
        unit="euros/place-day",
        desc="AMV locations",
        source="estimate: small units with guardianship staff",
    )
    crisis: TypeCost = param(
        TypeCost(occupied_eur_per_day=150, empty_eur_per_day=75),
        unit="euros/place-day",
        desc="municipal crisis emergency shelter (crisisnoodopvang)",
        source="sources §costs-per-place: €130–175 per person per night charged by safety regions; empty: estimate (half)",
    )
    ac_eur_per_person_night: float = param(
        83,
        unit="euros/person-night",
        desc="a night at an application centre",
        source="sources §costs-per-place: regular place €83/day (2023)",
        ge=0,
    )


# --------------------------------------------------------------------------- evaluation


class Evaluation(Strict):
    """The window over which a run's headline metrics (peaks, person-nights, days above the norm, costs) count."""

    from_date: dt.date | None = param(
        None,
        unit="date",
        desc="first day counted (default: one year after the start date, so the start state does not set peaks; the start date for runs under two years)",
        source="model choice",
    )
    to_date: dt.date | None = param(
        None, unit="date", desc="first day no longer counted (default: the end of the run)", source="model choice"
    )


# --------------------------------------------------------------------------- parameters from a posterior


class Parameters(Strict):
    """Parameters drawn from a calibration's posterior (sim.posterior): each run takes the particle its seed picks.

    Replication r of every scenario has the same seed, so it takes the same particle (paired
    comparisons stay paired). A key the scenario's file sets itself (or a file it extends, a --set or
    a sweep factor) keeps the scenario's value: the loader adds it to ``fixed``.
    """

    posterior: str | None = param(
        None,
        unit="path",
        desc="posterior.parquet written by `opvangsim calibrate` (one row per particle: dotted keys and weight); relative to the scenario file",
        source="model choice",
    )
    fixed: list[str] = param(
        [],
        unit="-",
        desc="keys of the posterior this scenario holds at its own values (the loader adds every posterior key the scenario sets)",
        source="scenario choice",
    )


# --------------------------------------------------------------------------- the scenario


class Scenario(Strict):
    """One simulated world: start, horizon and every part of the chain."""

    name: str = param("scenario", unit="-", desc="name used in outputs and reports", source="scenario choice")
    description: str = param("", unit="-", desc="what this scenario represents", source="scenario choice")
    start_date: dt.date = param(
        dt.date(2026, 1, 1), unit="date", desc="first simulated day", source="model choice: start from today's state"
    )
    horizon_years: float = param(
        10.0,
        unit="years",
        desc="length of the run (ignored when end_date is set)",
        source="model choice: long enough for several two-year cycles",
        gt=0,
        le=MAX_HORIZON_YEARS,
    )
    end_date: dt.date | None = param(
        None, unit="date", desc="last simulated day (exclusive); overrides horizon_years", source="scenario choice"
    )
    inflow: Inflow = param(Inflow(), unit="-", desc="arrivals", source="model choice")
    registration: Registration = param(Registration(), unit="-", desc="application centres", source="model choice")
    reception: Reception = param(Reception(), unit="-", desc="locations and allocation", source="model choice")
    procedure: Procedure = param(Procedure(), unit="-", desc="IND procedure", source="model choice")
    housing: Housing = param(Housing(), unit="-", desc="status holders and housing", source="model choice")
    departure: Departure = param(Departure(), unit="-", desc="departures", source="model choice")
    initial_state: InitialState = param(InitialState(), unit="-", desc="state on the start date", source="model choice")
    capacity: Capacity = param(Capacity(), unit="-", desc="new capacity", source="model choice")
    costs: Costs = param(Costs(), unit="-", desc="costs", source="model choice")
    evaluation: Evaluation = param(Evaluation(), unit="-", desc="window of the headline metrics", source="model choice")
    parameters: Parameters = param(
        Parameters(), unit="-", desc="parameters drawn from a calibration's posterior", source="model choice"
    )

    # Where the file came from, for resolving relative paths; not part of the scenario's identity.
    source_file: str | None = param(
        None, unit="path", desc="file the scenario was loaded from (set by the loader)", source="model choice: set by the loader"
    )

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, v: dt.date | None, info) -> dt.date | None:
        # a field validator (not a model validator) so that the error's key path is end_date
        start = info.data.get("start_date")
        if v is not None and start is not None and v <= start:
            raise ValueError(f"end_date ({v}) must be after start_date ({start})")
        if v is not None and start is not None and (v - start).days > MAX_HORIZON_YEARS * DAYS_PER_YEAR:
            raise ValueError(f"end_date ({v}) lies more than {MAX_HORIZON_YEARS} years after start_date ({start})")
        return v

    @property
    def horizon_days(self) -> int:
        """Number of simulated days."""
        if self.end_date is not None:
            return (self.end_date - self.start_date).days
        return int(round(self.horizon_years * DAYS_PER_YEAR))

    def evaluation_window(self) -> tuple[int, int]:
        """The evaluation window as simulation days [first, end)."""
        h = self.horizon_days
        ev = self.evaluation
        if ev.from_date is not None:
            first = (ev.from_date - self.start_date).days
        else:
            first = 365 if h >= 2 * 365 else 0
        end = (ev.to_date - self.start_date).days if ev.to_date is not None else h
        return max(first, 0), min(end, h)

    def resolve_path(self, name: str) -> Path:
        """A data file named in the scenario: relative to the scenario file, else to sim/data."""
        p = Path(name)
        if p.is_absolute():
            return p
        if self.source_file:
            candidate = Path(self.source_file).parent / p
            if candidate.exists():
                return candidate
        return DATA_DIR / p

    def data_files(self) -> dict[str, Path]:
        """Every data file a run of this scenario reads, by the key that names it (resolved paths).

        A sweep records their digests, so a resume after one of them changed is refused.
        """
        files = {}
        if self.inflow.mode == "replay":
            files["inflow.replay_file"] = self.resolve_path(self.inflow.replay_file or "")
        # the chain reads the municipalities for municipal places and for the Spreidingswet's split of tasks
        if self.initial_state.use_municipal_places or self.capacity.spreidingswet.enabled:
            files["initial_state.municipalities_file"] = self.resolve_path(self.initial_state.municipalities_file)
        if self.parameters.posterior is not None:
            from sim.posterior import posterior_path

            files["parameters.posterior"] = posterior_path(self)
        return files

    def canonical(self) -> dict[str, Any]:
        """The scenario as plain JSON-able data (without where it was loaded from)."""
        data = self.model_dump(mode="json")
        data.pop("source_file", None)
        return data

    def digest(self) -> str:
        """SHA-256 of the canonical scenario: two runs with the same digest simulate the same world."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- loading


def _deep_merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` merged into it, table by table (a new dict, sharing nothing with either).
    ``base`` is copied once, not each table again at every level: a third of a scenario's load went to those
    copies (and a run of a scenario that names a posterior loads its particle's)."""
    out = copy.deepcopy(base)
    _merge_into(out, override)
    return out


def _merge_into(out: dict, override: dict) -> None:
    """Merge ``override`` into ``out`` in place (copying what it takes from ``override``)."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            _merge_into(out[key], value)
        else:
            out[key] = copy.deepcopy(value)


# key path (strings; list indices as digits) -> the file that wrote it, or "--set" for a command-line override
Origins = dict[tuple[str, ...], str]
SET_ORIGIN = "--set"


def _leaf_paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Key paths of every value in ``data`` that a merge replaces whole (values and lists, not sections)."""
    if isinstance(data, dict) and data:
        return [p for k, v in data.items() for p in _leaf_paths(v, (*prefix, str(k)))]
    return [prefix] if prefix else []


def _claim(origins: Origins, leaf: tuple[str, ...], source: str) -> None:
    """Record that ``source`` wrote the value at ``leaf``: it replaces what was written at or below it,
    and a value written at an ancestor (a table now stands where it was)."""
    for key in [k for k in origins if k[: len(leaf)] == leaf or leaf[: len(k)] == k]:
        del origins[key]
    origins[leaf] = source


def read_scenario_data(path: str | Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, Origins]:
    """Read a TOML file and resolve its ``extends`` chain (relative to the file).

    Returns the merged data and, for every value in it, the file that wrote it, so that a
    problem in an extended file is reported against that file, not against the one extending it.
    """
    path = Path(path)

    def error(message: str) -> ScenarioError:
        return ScenarioError(path, "", message)

    text = read_text(path, error)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"not valid TOML: {exc}") from None
    parent = data.pop("extends", None)
    origins: Origins = {}
    if parent is not None:
        if not isinstance(parent, str) or not parent:
            raise ScenarioError(path, "extends", "must be a file name (a string)")
        target = (path.parent / parent).resolve()
        if target in _seen or target == path.resolve():
            raise ScenarioError(path, "extends", f"circular extends through {parent}")
        if not target.exists():
            raise ScenarioError(path, "extends", f"file not found: {parent} (looked in {path.parent})")
        if target.is_dir():
            raise ScenarioError(path, "extends", f"{parent} is a directory, not a file")
        base, origins = read_scenario_data(target, _seen + (path.resolve(),))
        data = _deep_merge(base, data)
        own = _leaf_paths(tomllib.loads(text))
    else:
        own = _leaf_paths(data)
    for leaf in own:
        _claim(origins, leaf, str(path))
    origins.pop(("extends",), None)
    return data, origins


def read_toml(path: Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Read a scenario TOML file and resolve its ``extends`` chain (relative to the file)."""
    return read_scenario_data(path, _seen)[0]


def _parse_value(text: str) -> Any:
    """A --set value: TOML syntax (numbers, booleans, dates, [lists], "strings"), else a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


_DEFAULT_SCENARIO: list = []


def _default_scenario() -> Scenario:
    if not _DEFAULT_SCENARIO:
        _DEFAULT_SCENARIO.append(Scenario())
    return _DEFAULT_SCENARIO[0]


def _default_data() -> dict:
    """The default scenario as plain data: what a scenario file states its differences from."""
    data = _default_scenario().model_dump()
    data.pop("source_file", None)
    return data


def _schema_container_default(parts: list[str]) -> list | dict | None:
    """The default of the list- or dict-valued field at ``parts`` as plain data (None for a section or a value).

    ``--set registration.centres.0.slots=500`` in a file that does not write ``centres`` means
    "of the default list": the override then starts from that list, not from an empty section.
    """
    from pydantic import BaseModel

    value: Any = _default_scenario()
    for part in parts:
        if isinstance(value, list):
            if not part.isdigit() or int(part) >= len(value):
                return None
            value = value[int(part)]
        elif isinstance(value, BaseModel):
            if part not in type(value).model_fields:
                return None
            value = getattr(value, part)
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None

    def plain(v: Any) -> Any:
        return v.model_dump() if isinstance(v, BaseModel) else copy.deepcopy(v)

    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return None


MISSING = object()  # what :func:`lookup` returns for a key the data does not hold


def lookup(data: Any, key: str) -> Any:
    """The value at the dotted ``key`` of scenario data (tables by name, arrays by index), or ``MISSING``."""
    node = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def apply_overrides(
    data: dict,
    overrides: list[str] | None,
    file: str | Path | None = None,
    origins: Origins | None = None,
    origin: str = SET_ORIGIN,
) -> dict:
    """Apply ``section.key=value`` overrides; list items are addressed by index (``registration.centres.0.slots=500``).

    A list or table the data does not write is taken from the schema default before the override
    applies. ``origins`` (if given) records each overridden key path as written by ``origin``
    (the command line's ``--set``, or the experiment file that holds the overrides).
    """
    data = copy.deepcopy(data)
    for item in overrides or []:
        if "=" not in item:
            raise ScenarioError(file, f"--set {item}", "needs key=value, e.g. --set inflow.first_applications_per_year=30000")
        key, text = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        if not key or any(not p for p in parts):
            raise ScenarioError(
                file, f"--set {key or '(empty)'}", "needs a dotted key path, e.g. --set procedure.decisions_per_week=500"
            )
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(
                        file, f"--set {'.'.join(parts[: i + 1])}", f"list index out of range (0..{len(node) - 1})"
                    )
                node = node[int(part)]
            else:
                if part not in node:
                    default = _schema_container_default(parts[: i + 1])
                    node[part] = default if default is not None else {}
                node = node[part]
                if not isinstance(node, (dict, list)):
                    raise ScenarioError(file, f"--set {'.'.join(parts[: i + 1])}", "is a value, not a section")
        last = parts[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ScenarioError(file, f"--set {key}", f"list index out of range (0..{len(node) - 1})")
            node[int(last)] = _parse_value(text.strip())
        else:
            node[last] = _parse_value(text.strip())
        if origins is not None:
            _claim(origins, tuple(parts), origin)
    return data


def origin_of(origins: Origins | None, loc: tuple) -> str | None:
    """The file (or ``--set``) that wrote the value at ``loc``; for a whole section, the last that wrote in it."""
    if not origins:
        return None
    key = tuple(str(p) for p in loc)
    for n in range(len(key), 0, -1):
        if key[:n] in origins:
            return origins[key[:n]]
    inside = [src for k, src in origins.items() if k[: len(key)] == key]
    return inside[-1] if inside else None


def _model_at(loc: tuple) -> type | None:
    """The pydantic model class that owns the key at ``loc`` (for 'did you mean' suggestions)."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *get_args(ann)]
        for arg in list(candidates):
            candidates.extend(get_args(arg))
        model = next((c for c in candidates if isinstance(c, type) and hasattr(c, "model_fields")), None)
        if model is None:
            return None
    return model


def _format_error(err: dict) -> tuple[str, str]:
    loc = tuple(err.get("loc", ()))
    path = ".".join(str(p) for p in loc)
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        model = _model_at(loc)
        allowed = sorted(model.model_fields) if model is not None else []
        allowed = [a for a in allowed if a != "source_file"]
        key = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if not close:
            # a misspelt start of a long key ("frist" for first_applications_per_year): compare with key starts
            starts = {a[: len(key)]: a for a in allowed}
            hit = difflib.get_close_matches(key, list(starts), n=1, cutoff=0.75)
            close = [starts[hit[0]]] if hit else []
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return path, f"unknown key{hint} Allowed here: {', '.join(allowed)}"
    msg = err.get("msg", "invalid value")
    msg = msg.replace("Value error, ", "")
    if kind in ("literal_error",):
        msg = f"{msg} (got {err.get('input')!r})"
    elif "input" in err and kind not in ("missing",) and not isinstance(err["input"], (dict, list)):
        got = err["input"]
        msg = f"{msg} (got {got!r})" if isinstance(got, str) else f"{msg} (got {got})"  # a date reads 2025-06-01
    return path or "(top level)", msg


def scenario_from_dict(
    data: dict, file: str | Path | None = None, check_data_files: bool = True, origins: Origins | None = None
) -> Scenario:
    """Validate a dict as a scenario, turning the first error into a :class:`ScenarioError`.

    ``check_data_files=False`` skips reading the referenced data files (a sweep checks them once
    per distinct set of file-related values, not once per design point). ``origins`` (from
    :func:`read_scenario_data`) names the file that wrote a bad value, or ``--set``.
    """
    written = data  # what the file (and --set, a sweep's factors) sets: its posterior keys stay fixed
    data = _posterior_from_its_file(data, file, origins)
    # the file states what differs from the defaults, also inside a table whose default is not its
    # class's (costs.durable, a project type): those are filled from the default scenario, not left out
    data = _deep_merge(_default_data(), data)
    if file is not None:
        data["source_file"] = str(Path(file).resolve())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        path, msg = _format_error(errors[0])
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        origin = origin_of(origins, tuple(errors[0].get("loc", ())))
        if origin == SET_ORIGIN:
            raise ScenarioError(file, f"--set {path}", msg + more) from None
        raise ScenarioError(origin or file, path, msg + more) from None
    check_window(scenario, file, origins)
    check_references(scenario, file, origins)
    if check_data_files:
        check_files(scenario, file, origins)
    check_start_state(scenario, file, origins)
    if scenario.parameters.posterior is not None and check_data_files:
        check_posterior_file(scenario, file, origins)  # after the scenario's own checks: a problem is the posterior's
    if scenario.parameters.posterior is not None and file is not None:  # read from a file: what it sets is known
        scenario = _fix_set_keys(scenario, written, file, origins)
    return scenario


def _posterior_from_its_file(data: dict, file: str | Path | None, origins: Origins | None) -> dict:
    """A relative ``parameters.posterior`` written by a file that this one extends is relative to that file:
    it is rewritten relative to this one (a variant in the same directory keeps the very same string, and
    one in another directory finds the posterior its base names)."""
    name = (data.get("parameters") or {}).get("posterior") if isinstance(data.get("parameters"), dict) else None
    origin = origin_of(origins, ("parameters", "posterior"))
    if not isinstance(name, str) or Path(name).is_absolute() or origin in (None, SET_ORIGIN) or file is None:
        return data
    if Path(origin).resolve() == Path(file).resolve():
        return data
    target = (Path(origin).parent / name).resolve()
    return _deep_merge(data, {"parameters": {"posterior": os.path.relpath(target, Path(file).resolve().parent)}})


def _fix_set_keys(scenario: Scenario, data: dict, file: str | Path | None, origins: Origins | None) -> Scenario:
    """parameters.fixed: the keys of the posterior the scenario sets itself (its value wins over a drawn one)."""
    from sim import posterior

    try:
        keys = posterior.parameter_keys(posterior.read_posterior(posterior.posterior_path(scenario)))
    except (OSError, ValueError) as exc:
        raise _located(origins, file, "parameters.posterior", str(exc)) from None
    fixed = scenario.parameters.fixed
    unknown = [k for k in fixed if k not in keys]
    if unknown:
        raise _located(origins, file, "parameters.fixed", f"{unknown} not among the posterior's keys ({', '.join(keys)})")
    own = [k for k in posterior.set_keys(data, keys) if k not in fixed]
    if not own:
        return scenario
    return scenario.model_copy(update={"parameters": Parameters(posterior=scenario.parameters.posterior, fixed=[*fixed, *own])})


def check_start_state(scenario: Scenario, file: str | Path | None, origins: Origins | None = None) -> None:
    """The people of the start state fit in the places open on the start date, type by type (what the run
    would refuse, found when the file is read: validate, run and every design point of a sweep agree)."""
    from sim.initial_state import start_state_problems  # local import: the start state lives with its module

    try:
        problems = start_state_problems(scenario)
    except (OSError, ValueError):
        return  # an unreadable municipalities file is reported by check_files
    for key, problem in problems:
        raise _located(origins, file, key, problem)


def check_window(scenario: Scenario, file: str | Path | None, origins: Origins | None = None) -> None:
    """The evaluation window lies inside the run and is not empty."""
    ev, start = scenario.evaluation, scenario.start_date
    end = start + dt.timedelta(days=scenario.horizon_days)
    for key in ("from_date", "to_date"):
        value = getattr(ev, key)
        if value is not None and not start <= value <= end:
            raise _located(origins, file, f"evaluation.{key}", f"{value} lies outside the run ({start} to {end})")
    first, last = scenario.evaluation_window()
    if last <= first:
        raise _located(
            origins, file, "evaluation", f"the window is empty (days {first} to {last} of the run); set from_date before to_date"
        )


def check_references(scenario: Scenario, file: str | Path | None, origins: Origins | None = None) -> None:
    """Names that must exist elsewhere in the scenario: COA's project mix names project types."""
    unknown = sorted(set(scenario.reception.acquisition.project_mix) - set(scenario.capacity.spreidingswet.project_types))
    if unknown:
        raise _located(
            origins,
            file,
            "reception.acquisition.project_mix",
            f"names unknown project type(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(scenario.capacity.spreidingswet.project_types)}",
        )


def _located(origins: Origins | None, file: str | Path | None, key: str, message: str) -> ScenarioError:
    """A problem with ``key``, reported against the file that wrote it (or its ``--set``)."""
    origin = origin_of(origins, tuple(key.split(".")))
    if origin == SET_ORIGIN:
        return ScenarioError(file, f"--set {key}", message)
    return ScenarioError(origin or file, key, message)


def check_files(scenario: Scenario, file: str | Path | None, origins: Origins | None = None) -> None:
    """Referenced data files exist and are readable in the expected format."""
    from sim import inflow, reception  # local import: the data readers live with their part of the chain

    files = scenario.data_files()
    if "inflow.replay_file" in files:
        path = files["inflow.replay_file"]
        try:
            series = inflow.read_replay(path)
        except (OSError, ValueError) as exc:
            raise _located(origins, file, "inflow.replay_file", str(exc)) from None
        last = series.index.max()
        end = scenario.start_date + dt.timedelta(days=scenario.horizon_days - 1)
        if (end.year, end.month) > (last.year, last.month) or (scenario.start_date.year, scenario.start_date.month) < (
            series.index.min().year,
            series.index.min().month,
        ):
            raise _located(
                origins,
                file,
                "inflow.replay_file",
                f"{path.name} covers {series.index.min():%Y-%m} to {last:%Y-%m}, but the run spans "
                f"{scenario.start_date:%Y-%m} to {end:%Y-%m}; shorten the horizon (end_date) or extend the series",
            )
    if "initial_state.municipalities_file" in files:
        path = files["initial_state.municipalities_file"]
        try:
            municipalities = reception.read_municipalities(path)
        except (OSError, ValueError) as exc:
            raise _located(origins, file, "initial_state.municipalities_file", str(exc)) from None
        for key, problem in municipality_problems(scenario, municipalities, path.name):
            raise _located(origins, file, key, problem)


def check_posterior_file(scenario: Scenario, file: str | Path | None, origins: Origins | None = None) -> None:
    """The posterior a scenario names exists and can be used (sim.posterior.check_posterior)."""
    from sim import posterior

    path = posterior.posterior_path(scenario)
    try:
        table = posterior.read_posterior(path)
    except FileNotFoundError:
        raise _located(origins, file, "parameters.posterior", f"file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise _located(origins, file, "parameters.posterior", str(exc)) from None
    problem = posterior.check_posterior(table, posterior.concrete_data(scenario), path.name)
    if problem:
        raise _located(origins, file, "parameters.posterior", problem)


def municipality_problems(scenario: Scenario, municipalities: Any, name: str) -> list[tuple[str, str]]:
    """(key, problem) for every value that names a column or a municipality the file does not have."""
    import numpy as np
    import pandas as pd

    problems = []
    codes = set(municipalities["cbs_code"].astype(str))
    columns = list(municipalities.columns)
    ist, cycle = scenario.initial_state, scenario.capacity.spreidingswet

    def numeric_column(key: str, column: str) -> None:
        if column not in columns:
            problems.append((key, f"{name} has no column '{column}' (columns: {', '.join(columns)})"))
            return
        values = pd.to_numeric(municipalities[column], errors="coerce").to_numpy(float)
        if np.isnan(values).all() or (values[~np.isnan(values)] < 0).any() or np.isinf(values).any():
            problems.append((key, f"column '{column}' of {name} must hold finite numbers ≥ 0"))

    if ist.use_municipal_places and ist.ac_municipality not in codes:
        problems.append(("initial_state.ac_municipality", f"no municipality with CBS code '{ist.ac_municipality}' in {name}"))
    if cycle.enabled and cycle.first_cycle_tasks not in ("estimate", "split"):
        numeric_column("capacity.spreidingswet.first_cycle_tasks", cycle.first_cycle_tasks)
    if cycle.enabled and cycle.socio_economic_column is not None:
        numeric_column("capacity.spreidingswet.socio_economic_column", cycle.socio_economic_column)
    if cycle.enabled and cycle.first_cycle_tasks == "split":
        provinces = set(municipalities["province"].astype(str))
        unknown = sorted(set(cycle.first_cycle_province_tasks) - provinces)
        if unknown:
            problems.append(
                ("capacity.spreidingswet.first_cycle_province_tasks", f"no province {', '.join(map(repr, unknown))} in {name}")
            )
    for i, loc in enumerate(scenario.capacity.scheduled):
        if loc.municipality is not None and loc.municipality not in codes:
            problems.append(
                (f"capacity.scheduled.{i}.municipality", f"no municipality with CBS code '{loc.municipality}' in {name}")
            )
    return problems


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, merge (``extends``), override (``--set``) and validate a scenario file."""
    path = Path(path)
    data, origins = read_scenario_data(path)
    data = apply_overrides(data, overrides, path, origins)
    return scenario_from_dict(data, path, origins=origins)


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and hasattr(t, "model_fields")


def _class_default(model: type) -> Any:
    """The model's own default instance, or None when it has required fields."""
    try:
        return model()
    except ValidationError:
        return None


def _bounds(field: Any) -> str:
    bounds = []
    for meta in field.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(meta, attr, None) is not None:
                bounds.append(f"{sym} {getattr(meta, attr)}")
    ann = field.annotation
    for arg in [ann, *get_args(ann)]:
        if get_origin(arg) is Literal:
            bounds.append(" | ".join(repr(a) for a in get_args(arg)))
    return ", ".join(bounds)


def field_docs(
    model: type = Scenario, prefix: str = "", instance: Any = None, override: str | None = None
) -> list[dict[str, Any]]:
    """Every parameter of the schema with its unit, default, bounds and source (for docs/parameters.md).

    Defaults are read from the default scenario itself, so a section whose
    default differs from its class's (e.g. the AMV outcomes, the cost of each
    location type, each project type) shows its own values, and takes the
    source of the field that set them (``override``).
    """
    if instance is None and model is Scenario:
        instance = Scenario()
    base = _class_default(model)
    rows: list[dict[str, Any]] = []
    for name, field in model.model_fields.items():
        if name == "source_file":
            continue
        key = f"{prefix}{name}"
        ann = field.annotation
        extra = field.json_schema_extra or {}
        if instance is not None:
            value = getattr(instance, name)
        else:
            value = field.get_default(call_default_factory=True) if not field.is_required() else "(required)"
        source = extra.get("source", "")
        if override and (base is None or getattr(base, name, None) != value):
            source = override
        if _is_model(ann):
            sub_base = _class_default(ann)
            rows.extend(field_docs(ann, key + ".", value, source if sub_base is None or sub_base != value else None))
            continue
        args = get_args(ann)
        if get_origin(ann) is dict and len(args) == 2 and _is_model(args[1]) and isinstance(value, dict):
            for item_key, item in value.items():
                rows.extend(field_docs(args[1], f"{key}.{item_key}.", item, getattr(item, "source", None) or source))
            continue
        if get_origin(ann) is list and args and _is_model(args[0]):
            rows.append(
                {
                    "key": key,
                    "unit": "list",
                    "default": value,
                    "bounds": "",
                    "description": field.description or "",
                    "source": source,
                }
            )
            rows.extend(field_docs(args[0], key + "[].", None))
            continue
        rows.append(
            {
                "key": key,
                "unit": extra.get("unit", ""),
                "default": value,
                "bounds": _bounds(field),
                "description": field.description or "",
                "source": source,
            }
        )
    return rows
