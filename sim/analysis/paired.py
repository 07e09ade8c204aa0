"""Paired comparison: each arm minus its baseline counterpart, replication by replication.

With ``unpaired=True`` the arms are compared as independent samples instead
(Welch's interval): for results that cannot be paired (different seeds,
horizons or replication sets; see :mod:`sim.analysis.pairing`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.analysis.arms import arms, counterparts, label, metric_support, pick_baseline, summary_metrics, with_arm
from sim.analysis.stats import ANALYSIS_SEED, LEVEL, PairedDifference, paired_difference, welch_difference
from sim.store import Results
from sim.streams import Streams


def _nanmean(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else math.nan


def paired_comparison(
    results: Results,
    baseline: str | None = None,
    metrics: Iterable[str] | None = None,
    level: float = LEVEL,
    unpaired: bool = False,
) -> pd.DataFrame:
    """Mean difference (scenario − baseline) of each summary metric, paired by replication, with its interval.

    ``unpaired``: every replication of each arm, as independent samples (Welch); ``n_pairs`` is then 0.
    """
    a = arms(results)
    cols = [
        "arm",
        "baseline",
        "metric",
        "label",
        "n_pairs",
        "n_scenario",
        "n_baseline",
        "baseline_mean",
        "scenario_mean",
        "mean_diff",
        "ci_low",
        "ci_high",
        "relative_diff",
        "method",
        "variance_reduction",
    ]
    if a.empty:
        return pd.DataFrame(columns=cols)
    base = pick_baseline(a, baseline)
    pairs = counterparts(a, base)
    s = with_arm(results.summary, a)
    metrics = list(metrics) if metrics is not None else summary_metrics(results.summary)
    rng = Streams(ANALYSIS_SEED).analysis
    rows = []
    for arm_name, base_arm in pairs.items():
        xs = s[s["arm"] == arm_name].set_index("replication")
        bs = s[s["arm"] == base_arm].set_index("replication")
        common = xs.index.intersection(bs.index).sort_values()
        for metric in metrics:
            if metric not in xs or metric not in bs:
                continue
            if unpaired:
                x, b = xs[metric].to_numpy(float), bs[metric].to_numpy(float)
                w = welch_difference(x, b, level)
                pdiff = PairedDifference(0, w.mean, w.low, w.high, w.method, math.nan, math.nan, math.nan)
            else:
                x = xs.loc[common, metric].to_numpy(float)
                b = bs.loc[common, metric].to_numpy(float)
                pdiff = paired_difference(x, b, level=level, rng=rng, support=metric_support(metric))
            bmean = _nanmean(b)
            rows.append(
                {
                    "arm": arm_name,
                    "baseline": base_arm,
                    "metric": metric,
                    "label": label(metric),
                    "n_pairs": pdiff.n,
                    "n_scenario": int((~np.isnan(x)).sum()),
                    "n_baseline": int((~np.isnan(b)).sum()),
                    "baseline_mean": bmean,
                    "scenario_mean": _nanmean(x),
                    "mean_diff": pdiff.mean,
                    "ci_low": pdiff.low,
                    "ci_high": pdiff.high,
                    "relative_diff": pdiff.mean / bmean if bmean not in (0.0,) and not math.isnan(bmean) else math.nan,
                    "method": pdiff.method,
                    "variance_reduction": pdiff.variance_reduction,
                }
            )
    return pd.DataFrame(rows, columns=cols)
