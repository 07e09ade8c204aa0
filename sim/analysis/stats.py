"""Intervals over replications: means, paired differences, proportions, exceedance.

Pure functions on arrays (no results, no pandas): what the tables of
:mod:`sim.analysis`, the report and ``opvangsim run``'s headline table are made of.
The intervals are scipy.stats': Student t (:func:`scipy.stats.ttest_1samp`),
the percentile bootstrap (:func:`scipy.stats.bootstrap`), Wilson and
Clopper–Pearson (:func:`scipy.stats.binomtest`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.streams import Streams

LEVEL = 0.95
ANALYSIS_SEED = 20260101  # fixed: the bootstrap intervals of a results directory are reproducible


def mean_ci(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean of the values that are not nan and its Student t interval, in the values' unit.

    One value has no interval (nan bounds); values that are all equal have a
    zero-width one (the t interval is undefined there, but no replication differs).
    """
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    if len(v) == 1:
        return m, math.nan, math.nan
    if np.ptp(v) == 0:
        return m, m, m
    ci = stats.ttest_1samp(v, 0.0).confidence_interval(level)
    return m, float(ci.low), float(ci.high)


@dataclass(frozen=True)
class PairedDifference:
    """Mean of (scenario − baseline) over paired replications, in the metric's unit."""

    n: int
    mean: float
    low: float
    high: float
    method: str
    sd: float  # standard deviation of the per-replication differences
    var_independent: float  # var(x) + var(b): the variance of a difference of independent runs
    variance_reduction: float  # 1 − var(x − b) / (var(x) + var(b)); nan when undefined


def paired_difference(
    x: np.ndarray,
    b: np.ndarray,
    level: float = LEVEL,
    rng: np.random.Generator | None = None,
    n_boot: int = 4000,
    min_boot_n: int = 20,
) -> PairedDifference:
    """Paired interval for mean(x − b); ``x[i]`` and ``b[i]`` ran with the same seeds.

    Paired t by default; a percentile bootstrap when the differences are
    clearly skewed (sample skewness more than two standard errors from 0, the
    standard error of a normal sample's skewness being
    sqrt(6n(n−1)/((n−2)(n+1)(n+3)))) and there are enough pairs
    (``min_boot_n``) for a percentile bootstrap not to undercover badly.
    """
    x = np.asarray(x, float)
    b = np.asarray(b, float)
    ok = ~(np.isnan(x) | np.isnan(b))
    x, b = x[ok], b[ok]
    d = x - b
    n = len(d)
    if n == 0:
        return PairedDifference(0, math.nan, math.nan, math.nan, "no pairs", math.nan, math.nan, math.nan)
    m = float(d.mean())
    if n == 1:
        return PairedDifference(1, m, math.nan, math.nan, "one pair: no interval", math.nan, math.nan, math.nan)
    sd = float(d.std(ddof=1))
    v_ind = float(x.var(ddof=1) + b.var(ddof=1))
    vr = 1.0 - sd**2 / v_ind if v_ind > 0 else math.nan
    if sd == 0:
        return PairedDifference(n, m, m, m, "identical differences", 0.0, v_ind, vr)
    skew = float(stats.skew(d, bias=False)) if n > 2 else 0.0
    skew_se = math.sqrt(6.0 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3))) if n > 2 else math.inf
    if n >= min_boot_n and abs(skew) > 2 * skew_se:
        rng = rng if rng is not None else Streams(ANALYSIS_SEED).analysis
        res = stats.bootstrap((d,), np.mean, confidence_level=level, n_resamples=n_boot, method="percentile", random_state=rng)
        return PairedDifference(
            n, m, float(res.confidence_interval.low), float(res.confidence_interval.high), "bootstrap percentile", sd, v_ind, vr
        )
    _, low, high = mean_ci(d, level)  # the t interval of the per-replication differences: the paired t interval
    return PairedDifference(n, m, low, high, "paired t", sd, v_ind, vr)


def proportion_ci(k: int, n: int, level: float = LEVEL, method: str = "wilson") -> tuple[float, float, float]:
    """Share k/n of replications with an event and its interval (Wilson or Clopper–Pearson 'exact').

    With no replications the share is unknown (nan) and the interval the whole [0, 1].
    """
    if method not in ("wilson", "exact"):
        raise ValueError(f"method must be 'wilson' or 'exact' (Clopper–Pearson), not {method!r}")
    if n == 0:
        return math.nan, 0.0, 1.0
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method=method)
    return k / n, float(max(0.0, ci.low)), float(min(1.0, ci.high))


def exceedance(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Share of replications whose value exceeds each threshold (the empirical survival function)."""
    v = np.sort(np.asarray(values, float)[~np.isnan(np.asarray(values, float))])
    if len(v) == 0:
        return np.full(len(thresholds), np.nan)
    return 1.0 - np.searchsorted(v, thresholds, side="right") / len(v)
