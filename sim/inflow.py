"""Arrivals (instroom): first asylum applications, unaccompanied minors (AMV) and
family reunification (nareizigers).

Inflow does not depend on the state of the chain, so the daily counts of a
whole run are drawn up front from the ``inflow`` stream: a rate model (yearly
level, trend, monthly seasonality, shocks; Poisson or over-dispersed counts) or
a replay of a monthly series read from a CSV file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.calendar import Calendar
from sim.people import AMV, FAMILY, FIRST

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


def _draw_counts(mean: np.ndarray, rng: np.random.Generator, dispersion: str, k: float) -> np.ndarray:
    if dispersion == "negative_binomial":
        # Gamma-Poisson mixture: variance = mean + mean**2 / k (group arrivals, weekday effects)
        mean = rng.gamma(k, np.maximum(mean, 0) / k)
    return rng.poisson(np.maximum(mean, 0))


def rate_means(scenario, cal: Calendar) -> np.ndarray:
    """Expected arrivals per day and category (H × 3: first without AMV, AMV, family)."""
    cfg = scenario.inflow
    horizon = cal.horizon_days
    t_years = np.arange(horizon) / 365.25
    season = np.asarray(cfg.seasonal_factors, float)
    season = season / season.mean()
    factor = season[cal.months() - 1] * (1.0 + cfg.trend_per_year) ** t_years
    per_day = np.empty((horizon, 3))
    first = cfg.first_applications_per_year / 365.25
    per_day[:, FIRST] = first * (1 - cfg.amv_share_of_first) * factor
    per_day[:, AMV] = first * cfg.amv_share_of_first * factor
    per_day[:, FAMILY] = cfg.family_reunification_per_year / 365.25 * factor
    column = {"first": FIRST, "amv": AMV, "family": FAMILY}
    for shock in cfg.shocks:
        d0 = cal.day(shock.start)
        days = shock.weeks * 7
        lo, hi = max(d0, 0), min(d0 + days, horizon)
        if hi > lo:
            per_day[lo:hi, column[shock.category]] += shock.persons / days
    return per_day


def replay_counts(scenario, cal: Calendar, rng: np.random.Generator) -> np.ndarray:
    """Daily arrivals from a monthly series: each month's total split over its days (multinomial)."""
    cfg = scenario.inflow
    series = read_replay(scenario.resolve_path(cfg.replay_file))
    horizon = cal.horizon_days
    counts = np.zeros((horizon, 3), np.int64)
    months = cal.dates.astype("datetime64[M]")
    for month in np.unique(months):
        days = np.flatnonzero(months == month)
        stamp = pd.Timestamp(month)
        row = series.loc[stamp]
        month_days = pd.Period(stamp, "M").days_in_month
        share = len(days) / month_days  # a month cut by the start or the horizon keeps its share
        first_total = row["first_applications"] * cfg.replay_scale * share
        if "amv_first_applications" in series:
            amv_total = row["amv_first_applications"] * cfg.replay_scale * share
        else:
            amv_total = first_total * cfg.amv_share_of_first
        totals = {FIRST: first_total - amv_total, AMV: amv_total, FAMILY: row["family_reunification"] * cfg.replay_scale * share}
        for cat, total in totals.items():
            n = int(np.floor(total))
            n += rng.random() < (total - n)  # keep the expected total exact
            counts[days, cat] = rng.multinomial(n, np.full(len(days), 1 / len(days)))
    return counts


def daily_counts(scenario, cal: Calendar, rng: np.random.Generator) -> np.ndarray:
    """Arrivals per simulated day and category (H × 3 integer array), drawn from the inflow stream."""
    if scenario.inflow.mode == "replay":
        return replay_counts(scenario, cal, rng)
    means = rate_means(scenario, cal)
    return _draw_counts(means, rng, scenario.inflow.dispersion, scenario.inflow.negative_binomial_k).astype(np.int64)
