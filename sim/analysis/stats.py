"""Intervals over replications: means, paired and unpaired differences, proportions, exceedance.

Pure functions on arrays (no results, no pandas): what the tables of
:mod:`sim.analysis`, the report and ``opvangsim run``'s headline table are made of.
The intervals are scipy.stats': Student t (:func:`scipy.stats.ttest_1samp`),
Welch (:func:`scipy.stats.ttest_ind`), the percentile and BCa bootstrap
(:func:`scipy.stats.bootstrap`), Wilson and Clopper–Pearson (:func:`scipy.stats.binomtest`).

A metric has a *support*, the values it can take (a count cannot be negative,
a share lies in [0, 1]); an interval for its mean must stay inside it.
:func:`bounded_mean_ci` keeps the t interval where it does and otherwise uses
the BCa bootstrap, whose limits are means of resamples and so lie between the
smallest and the largest value observed.
"""

from __future__ import annotations

import math
import warnings
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
    with warnings.catch_warnings():  # nearly equal values: scipy warns of precision loss in a higher moment
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_1samp(v, 0.0).confidence_interval(level)
    return m, float(ci.low), float(ci.high)


Support = tuple[float, float]  # (lowest, highest) value a metric can take; math.inf when unbounded
NON_NEGATIVE: Support = (0.0, math.inf)


@dataclass(frozen=True)
class Interval:
    """A mean over replications with its interval (in the values' unit) and how the interval was made."""

    n: int
    mean: float
    low: float
    high: float
    method: str


def bounded_mean_ci(
    values: np.ndarray,
    support: Support = NON_NEGATIVE,
    level: float = LEVEL,
    rng: np.random.Generator | None = None,
    n_boot: int = 4000,
) -> Interval:
    """Mean of the values (nan dropped) and an interval that cannot leave ``support``.

    Student t where its limits lie inside the support (the usual case: large
    counts, costs); else the BCa bootstrap (bias-corrected and accelerated),
    which stays within the observed values and corrects the skew that pushes
    the t interval out (most replications at zero, a few far above). Its
    coverage is checked in tests/test_analysis.py like the paired interval's.
    """
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    n = len(v)
    m, low, high = mean_ci(v, level)
    if n < 2:
        return Interval(n, m, low, high, "one replication: no interval" if n == 1 else "no values")
    if low == high:
        return Interval(n, m, low, high, "identical values")
    if support[0] <= low and high <= support[1]:
        return Interval(n, m, low, high, "t")
    rng = rng if rng is not None else Streams(ANALYSIS_SEED).analysis
    res = stats.bootstrap((v,), np.mean, confidence_level=level, n_resamples=n_boot, method="BCa", rng=rng)
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if math.isnan(low) or math.isnan(high):  # BCa is undefined when every resample has the same mean as the data
        res = stats.bootstrap((v,), np.mean, confidence_level=level, n_resamples=n_boot, method="percentile", rng=rng)
        low, high, method = float(res.confidence_interval.low), float(res.confidence_interval.high), "bootstrap percentile"
    else:
        method = "bootstrap BCa"
    # the bootstrap means lie within [min, max] of the values, hence inside the support; clip float noise only
    return Interval(n, m, max(low, support[0]), min(high, support[1]), method)


def difference_support(support: Support) -> Support:
    """The values a difference of two values of ``support`` can take."""
    return (support[0] - support[1], support[1] - support[0])


def welch_difference(x: np.ndarray, b: np.ndarray, level: float = LEVEL) -> Interval:
    """Mean(x) − mean(b) of independent samples with Welch's interval (unequal variances, no pairing)."""
    x = np.asarray(x, float)
    b = np.asarray(b, float)
    x, b = x[~np.isnan(x)], b[~np.isnan(b)]
    n = min(len(x), len(b))
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, "no values")
    m = float(x.mean() - b.mean())
    if n < 2:
        return Interval(n, m, math.nan, math.nan, "one replication: no interval")
    if np.ptp(x) == 0 and np.ptp(b) == 0:
        return Interval(n, m, m, m, "identical values")
    with warnings.catch_warnings():  # as in mean_ci
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_ind(x, b, equal_var=False).confidence_interval(level)
    return Interval(n, m, float(ci.low), float(ci.high), "Welch")


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
    support: Support = (-math.inf, math.inf),
) -> PairedDifference:
    """Paired interval for mean(x − b); ``x[i]`` and ``b[i]`` ran with the same seeds.

    Paired t by default; a percentile bootstrap when the differences are
    clearly skewed (sample skewness more than two standard errors from 0, the
    standard error of a normal sample's skewness being
    sqrt(6n(n−1)/((n−2)(n+1)(n+3)))) and there are enough pairs
    (``min_boot_n``) for a percentile bootstrap not to undercover badly.
    ``support``: the values x and b can take (a share: [0, 1]); where the t
    interval would leave the differences' range, the BCa bootstrap of
    :func:`bounded_mean_ci` is used instead.
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
    allowed = difference_support(support)
    if low < allowed[0] or high > allowed[1]:
        inner = bounded_mean_ci(d, allowed, level, rng, n_boot)
        return PairedDifference(n, m, inner.low, inner.high, inner.method, sd, v_ind, vr)
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


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles) -> np.ndarray:
    """Quantiles of weighted values (a posterior's particles): the smallest value whose cumulative weight reaches each."""
    x = np.asarray(values, float)
    w = np.asarray(weights, float)
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    idx = np.minimum(np.searchsorted(cdf, np.asarray(quantiles, float) - 1e-12), len(x) - 1)
    return x[order][idx]


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of weighted particles: (Σw)² / Σw²."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / np.sum(w**2))
