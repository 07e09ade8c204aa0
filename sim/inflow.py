"""Arrivals (instroom): first asylum applications, unaccompanied minors (AMV) and
family reunification (nareizigers).

Inflow does not depend on the state of the chain, so the daily counts of a
whole run are drawn up front from the ``inflow`` stream: a rate model (yearly
level, trend, monthly seasonality, shocks; Poisson or over-dispersed counts) or
a replay of a monthly series read from a CSV file. Every arrival's random
attributes (route on arrival, registration time, IND outcome, departure delay,
return) are then drawn once, up front, each from its part's own stream
(:func:`draw_arrivals`), so two scenarios that differ only in capacity or
production see exactly the same people: common random numbers at the level of
the person.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_YEAR, Calendar
from sim.compiled import jit
from sim.people import AMV, ELSEWHERE, EXIT_NONE, EXIT_SPONSOR, FAMILY, FIRST, GONE, HOUSED, IN_PROCEDURE, STATUS_HOLDER
from sim.registration import ApplicationCentre, route_to_centres, service_days
from sim.scenario import Scenario
from sim.streams import Streams

REPLAY_REQUIRED = ("month", "first_applications", "family_reunification")


def read_replay(path: str | Path) -> pd.DataFrame:
    """Read a monthly replay series; index = first day of each month, columns as in the file.

    Required columns: ``month`` (YYYY-MM), ``first_applications`` (all first
    applications, AMV included) and ``family_reunification``; optional
    ``amv_first_applications``. Other columns (sources, notes) are kept.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"replay file not found: {path}")
    try:
        df = pd.read_csv(path, comment="#")
    except Exception as exc:  # pandas raises several parser errors; all mean "not a CSV we can read"
        raise ValueError(f"{path.name} is not a readable CSV file: {exc}") from None
    missing = [c for c in REPLAY_REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(
            f"{path.name} lacks column(s) {', '.join(missing)}; needs {', '.join(REPLAY_REQUIRED)} (+ optional amv_first_applications)"
        )
    try:
        index = pd.to_datetime(df["month"].astype(str), format="%Y-%m")
    except ValueError:
        raise ValueError(f"{path.name}: column 'month' must hold YYYY-MM values") from None
    if index.duplicated().any():
        raise ValueError(f"{path.name}: month {index[index.duplicated()].iloc[0]:%Y-%m} appears twice")
    df.index = index
    df = df.sort_index()
    expected = pd.date_range(df.index.min(), df.index.max(), freq="MS")
    if len(expected) != len(df):
        gaps = expected.difference(df.index)
        raise ValueError(f"{path.name}: months missing from the series, first {gaps[0]:%Y-%m}")
    cols = ["first_applications", "family_reunification"] + (["amv_first_applications"] if "amv_first_applications" in df else [])
    for col in cols:
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any() or (values < 0).any():
            bad = df.index[values.isna() | (values < 0)][0]
            raise ValueError(f"{path.name}: {col} for {bad:%Y-%m} must be a number ≥ 0")
        df[col] = values
    if "amv_first_applications" in df and (df["amv_first_applications"] > df["first_applications"]).any():
        raise ValueError(f"{path.name}: amv_first_applications exceeds first_applications")
    return df


def _child_generators(rng: np.random.Generator, k: int) -> list[np.random.Generator]:
    """``k`` independent generators seeded by one draw of ``rng``: whatever they draw, ``rng`` has moved by
    exactly one number, so the streams that follow do not depend on the horizon."""
    seeds = np.random.SeedSequence(int(rng.integers(2**63))).spawn(k)
    return [np.random.Generator(np.random.PCG64(s)) for s in seeds]


def _draw_counts(mean: np.ndarray, rng: np.random.Generator, dispersion: str, k: float) -> np.ndarray:
    """Counts for the rows of ``mean`` (days × categories), row by row: day d's counts do not depend on how
    many days follow (the gamma and Poisson draws come from separate generators)."""
    gamma_rng, poisson_rng = _child_generators(rng, 2)
    if dispersion == "negative_binomial":
        # Gamma-Poisson mixture: variance = mean + mean**2 / k (group arrivals, weekday effects)
        mean = gamma_rng.gamma(k, np.maximum(mean, 0) / k)
    return poisson_rng.poisson(np.maximum(mean, 0))


def rate_means(scenario: Scenario, cal: Calendar) -> np.ndarray:
    """Expected arrivals per day and category (H × 3: first without AMV, AMV, family)."""
    cfg = scenario.inflow
    horizon = cal.horizon_days
    t_years = np.arange(horizon) / DAYS_PER_YEAR
    season = np.asarray(cfg.seasonal_factors, float)
    season = season / season.mean()
    factor = season[cal.months() - 1] * (1.0 + cfg.trend_per_year) ** t_years
    per_day = np.empty((horizon, 3))
    first = cfg.first_applications_per_year / DAYS_PER_YEAR
    per_day[:, FIRST] = first * (1 - cfg.amv_share_of_first) * factor
    per_day[:, AMV] = first * cfg.amv_share_of_first * factor
    per_day[:, FAMILY] = cfg.family_reunification_per_year / DAYS_PER_YEAR * factor
    column = {"first": FIRST, "amv": AMV, "family": FAMILY}
    for shock in cfg.shocks:
        d0 = cal.day(shock.start)
        days = shock.weeks * 7
        lo, hi = max(d0, 0), min(d0 + days, horizon)
        if hi > lo:
            per_day[lo:hi, column[shock.category]] += shock.persons / days
    return per_day


def replay_counts(scenario: Scenario, cal: Calendar, rng: np.random.Generator) -> np.ndarray:
    """Daily arrivals from a monthly series: each month's total split over its days (multinomial).

    A month cut by the start or the end of the run is drawn whole and only its days inside the run are
    kept, so a day's arrivals do not depend on where the run ends (common random numbers across horizons).
    """
    cfg = scenario.inflow
    series = read_replay(scenario.resolve_path(cfg.replay_file))
    (month_rng,) = _child_generators(rng, 1)
    horizon = cal.horizon_days
    counts = np.zeros((horizon, 3), np.int64)
    months = cal.dates.astype("datetime64[M]")
    for month in np.unique(months):
        days = np.flatnonzero(months == month)
        stamp = pd.Timestamp(month)
        row = series.loc[stamp]
        month_days = pd.Period(stamp, "M").days_in_month
        first_day = (np.datetime64(month, "D") - cal.dates[0]).astype(int)  # simulation day of the 1st (may be < 0)
        first_total = row["first_applications"] * cfg.replay_scale
        if "amv_first_applications" in series:
            amv_total = row["amv_first_applications"] * cfg.replay_scale
        else:
            amv_total = first_total * cfg.amv_share_of_first
        totals = {FIRST: first_total - amv_total, AMV: amv_total, FAMILY: row["family_reunification"] * cfg.replay_scale}
        for cat, total in totals.items():
            n = int(np.floor(total))
            n += month_rng.random() < (total - n)  # keep the expected total exact
            whole = month_rng.multinomial(n, np.full(month_days, 1 / month_days))
            counts[days, cat] = whole[days - first_day]
    return counts


def daily_counts(scenario: Scenario, cal: Calendar, rng: np.random.Generator) -> np.ndarray:
    """Arrivals per simulated day and category (H × 3 integer array), drawn from the inflow stream."""
    if scenario.inflow.mode == "replay":
        return replay_counts(scenario, cal, rng)
    means = rate_means(scenario, cal)
    return _draw_counts(means, rng, scenario.inflow.dispersion, scenario.inflow.negative_binomial_k).astype(np.int64)


def replay(scenario: Scenario) -> pd.DataFrame | None:
    """The monthly replay series (:func:`read_replay`) when the inflow replays one, else None."""
    cfg = scenario.inflow
    return read_replay(scenario.resolve_path(cfg.replay_file)) if cfg.mode == "replay" else None


@jit
def _halves(u: np.ndarray, per_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stream's two uniforms per person, drawn day by day (each day's first uniforms, then its second ones),
    split into the first and the second uniform of each person in arrival order."""
    first, second = np.empty(len(u) // 2), np.empty(len(u) // 2)
    i = j = 0
    for k in per_day:
        first[j : j + k] = u[i : i + k]
        second[j : j + k] = u[i + k : i + 2 * k]
        i += 2 * k
        j += k
    return first, second


@jit
def _padded(t: np.ndarray, offset: np.ndarray, first_day: int, rows: np.ndarray) -> None:
    """Days ``first_day`` on (day d: rows ``offset[d]`` to ``offset[d + 1]`` of ``t``), one per row of ``rows``,
    each padded with +inf beyond its own values (they sort after them)."""
    for r in range(rows.shape[0]):
        a, b = offset[first_day + r], offset[first_day + r + 1]
        rows[r, : b - a] = t[a:b]
        rows[r, b - a :] = np.inf


@jit
def _unpadded(rows: np.ndarray, offset: np.ndarray, first_day: int, t: np.ndarray) -> None:
    """The inverse of :func:`_padded`: each row's first values back into its day's rows of ``t``."""
    for r in range(rows.shape[0]):
        a, b = offset[first_day + r], offset[first_day + r + 1]
        t[a:b] = rows[r, : b - a]


@jit
def _shuffled_and_drawn(rng: np.random.Generator, cat: np.ndarray, t: np.ndarray, offset: np.ndarray) -> None:
    """Day by day (day d: rows ``offset[d]`` to ``offset[d + 1]``; empty days draw nothing), ``rng`` shuffles the
    day's rows of ``cat`` in place and then gives the day's rows of ``t`` their uniforms, as ``rng.shuffle`` and
    ``rng.random(out=...)`` would (``rng.permutation(x)`` is a copy of x shuffled so). numba's Generator draws
    from numpy's own bit generator, by its own functions, and shuffles as numpy does (Fisher-Yates from the last
    row down, each swap partner from numpy's bounded-integer rule): the same numbers, and the same state after,
    in one call instead of two numpy calls per day."""
    for d in range(len(offset) - 1):
        a, b = offset[d], offset[d + 1]
        if a == b:
            continue
        rng.shuffle(cat[a:b])
        for i in range(a, b):
            t[i] = rng.random()


SORT_BLOCK_DAYS = 256  # days sorted as one padded table: as wide as its busiest day, so a busy day pads few others


def _sort_days(t: np.ndarray, offset: np.ndarray) -> None:
    """Sort each day's values of ``t`` in place (day d: rows ``offset[d]`` to ``offset[d + 1]``; no NaN among
    the values). numpy sorts the rows of a table of days padded with +inf (block by block) in a tenth of the
    time a compiled sort of each day took. Sorted numbers are the same whatever the algorithm."""
    per_day = np.diff(offset)
    for first in range(0, len(per_day), SORT_BLOCK_DAYS):
        end = min(first + SORT_BLOCK_DAYS, len(per_day))
        width = int(per_day[first:end].max())
        if width < 2:
            continue
        rows = np.empty((end - first, width))
        _padded(t, offset, first, rows)
        rows.sort(axis=1)
        _unpadded(rows, offset, first, t)


@jit
def _moved_to_days(t: np.ndarray, offset: np.ndarray, spread: float) -> None:
    """Each day's values of ``t`` (uniforms in [0, 1); day d: rows ``offset[d]`` to ``offset[d + 1]``) as times of
    that day: ``t * spread + d``, the product rounded before the sum, as numpy's two elementwise steps round."""
    for d in range(len(offset) - 1):
        day = float(d)
        for i in range(offset[d], offset[d + 1]):
            t[i] = t[i] * spread + day


@jit
def _routed(cat, t_arrive, u_sponsor, u_elsewhere, u_return, sponsor_share, elsewhere_share, return_share):
    """Each arrival's route and the records it starts with, in one pass: family members join their sponsor at once
    (``u_sponsor`` below its share; housed, gone, permit and exit dated to the arrival), or register elsewhere
    and wait at home (``u_elsewhere`` below its share of the rest; a permit dated to the arrival); everyone else
    registers at an application centre (in procedure; family members hold a permit). Returns the masks sponsor,
    elsewhere, to an application centre, and the fields status, where, t_permit, t_exit, exit_kind, returns."""
    n = len(cat)
    sponsor, elsewhere, to_ac = np.empty(n, np.bool_), np.empty(n, np.bool_), np.empty(n, np.bool_)
    status, where, exit_kind = np.empty(n, np.int8), np.empty(n, np.int8), np.empty(n, np.int8)
    t_permit, t_exit, returns = np.empty(n), np.empty(n), np.empty(n, np.bool_)
    for i in range(n):
        family = cat[i] == FAMILY
        joins = family and u_sponsor[i] < sponsor_share
        away = family and not joins and u_elsewhere[i] < elsewhere_share
        sponsor[i], elsewhere[i], to_ac[i] = joins, away, not joins and not away
        status[i] = HOUSED if joins else (STATUS_HOLDER if family else IN_PROCEDURE)
        where[i] = ELSEWHERE if away else GONE  # joining a sponsor: straight into the sponsor's home
        t_permit[i] = t_arrive[i] if joins or away else np.nan
        t_exit[i] = t_arrive[i] if joins else np.nan
        exit_kind[i] = EXIT_SPONSOR if joins else EXIT_NONE
        returns[i] = u_return[i] < return_share
    return sponsor, elsewhere, to_ac, status, where, t_permit, t_exit, exit_kind, returns


def draw_arrivals(s: Scenario, st: Streams, counts: np.ndarray, centres: list[ApplicationCentre]) -> dict[str, np.ndarray]:
    """One row per arrival of the run (``counts``: arrivals per day × category), in arrival order.

    Returns the person fields to copy into the records (``cat``, ``t_arrive``, ``u_outcome``,
    ``u_delay``, ``returns``, ``service_days``, ``status``, ``where``, ``t_permit``,
    ``t_exit``, ``exit_kind``), the routing masks (``sponsor``, ``elsewhere``, ``to_ac``), the
    ``centre`` of each, and ``offset`` (the first row of each day).

    Drawn with the same numbers, in the same order, as day-by-day draws would give (a stream's
    ``random(a)`` then ``random(b)`` equals ``random(a + b)``): per day the inflow stream permutes
    the categories and draws arrival times; the registration, departure and housing streams each
    give two uniforms per arrival (day by day: all first uniforms of the day, then all second ones),
    the procedure stream one. These four streams serve nothing else, so drawing them early changes
    no other draw.
    """
    per_day = counts.sum(axis=1)
    total = int(per_day.sum())
    offset = np.concatenate([[0], np.cumsum(per_day)])  # first row of each day
    # each day's categories in the order of ``counts`` (shuffled below), and after the draws each day's sorted
    # times scaled and moved to the day: the same operations on the same numbers as day by day, elementwise
    # over the whole run rather than 3,652 times on a hundred rows
    cat = np.repeat(np.tile(np.array([FIRST, AMV, FAMILY], np.int8), len(counts)), counts.ravel())
    t_arrive = np.empty(total)
    _shuffled_and_drawn(st.inflow, cat, t_arrive, offset)
    _sort_days(t_arrive, offset)  # each day's times sorted: the same numbers as sort(random(n)) day by day
    _moved_to_days(t_arrive, offset, 0.98)  # arrivals spread over [day, day + 0.98): all before the night's count at .99
    drawn = np.empty(2 * total)  # one buffer for the three streams' draws: fewer fresh pages to touch

    def two(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        rng.random(out=drawn)
        return _halves(drawn, per_day)

    u_centre, u_service = two(st.registration)
    u_outcome = st.procedure.random(total)
    u_delay, u_return = two(st.departure)
    u_sponsor, u_elsewhere = two(st.housing)
    sponsor, elsewhere, to_ac, status, where, t_permit, t_exit, exit_kind, returns = _routed(
        cat,
        t_arrive,
        u_sponsor,
        u_elsewhere,
        u_return,
        s.housing.family_join_sponsor_share,
        s.registration.family_register_elsewhere_share,
        s.departure.return_share,
    )
    centre = route_to_centres(u_centre, [c.share_of_arrivals for c in s.registration.centres])
    service = np.full(total, np.nan)
    for c in centres:
        mine = np.flatnonzero(to_ac & (centre == c.index))  # by index: selecting by a mask this long is slower
        service[mine] = service_days(c.cfg, u_service[mine])
    return dict(
        offset=offset,
        cat=cat,
        t_arrive=t_arrive,
        u_outcome=u_outcome,  # the outcome and the departure delay are read off these at the decision
        u_delay=u_delay,
        returns=returns,
        service_days=service,
        status=status,
        where=where,
        t_permit=t_permit,
        t_exit=t_exit,
        exit_kind=exit_kind,
        sponsor=sponsor,
        elsewhere=elsewhere,
        to_ac=to_ac,
        centre=centre,
    )
