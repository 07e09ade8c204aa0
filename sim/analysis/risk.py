"""Risk: per arm, the share of replications in which an event happens, and the spread of outcomes.

Events: emergency shelter above a level (on any day, or for long), Ter Apel
above its norm for long, anyone sleeping outside; each with a Wilson or
Clopper–Pearson interval. Quantiles of a few summary metrics over replications.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.analysis.arms import arms, label, with_arm
from sim.analysis.series import emergency_series, is_daily, row_days
from sim.analysis.stats import LEVEL, proportion_ci
from sim.store import Results


@dataclass
class RiskSettings:
    """Thresholds of the risk table (persons, days)."""

    emergency_levels: tuple[int, ...] = (5_000, 10_000, 20_000, 30_000)  # persons in emergency + crisis shelter
    emergency_days: int = 90  # "for more than N days"
    ac_days: int = 30  # Ter Apel above its norm for more than N days
    level: float = LEVEL
    method: str = "wilson"
    notes: list[str] = field(default_factory=list)


def replication_events(results: Results, settings: RiskSettings) -> pd.DataFrame:
    """One row per (arm, replication), one boolean column per event (column name = the event in words).

    A sweep that kept weekly or monthly series has period *means*: the
    emergency events then say so ("monthly mean above ..."), since a mean
    above a level is a weaker statement than a day above it.
    """
    a = arms(results)
    s = with_arm(results.summary, a)
    if s.empty:
        return pd.DataFrame()
    ev = s[["arm", "replication"]].copy()
    ts = results.timeseries
    if ts.empty or "replication" not in ts or "quantile" in ts or (ts["replication"] < 0).all():
        settings.notes.append("no per-replication time series: the emergency-level events are left out")
    else:
        ts = with_arm(ts, a)
        emerg = emergency_series(ts)
        if emerg is None:
            settings.notes.append("the time series has no emergency occupancy: the emergency-level events are left out")
        else:
            daily = is_daily(ts)
            if not daily:
                settings.notes.append(
                    "emergency-level events use period means of the kept (weekly or monthly) series, not daily values"
                )
            what = "persons" if daily else "persons (period mean)"
            tmp = ts[["arm", "replication"]].assign(e=emerg.to_numpy(float), w=row_days(ts))
            for lvl in settings.emergency_levels:
                days = tmp.assign(a=(tmp["e"] > lvl) * tmp["w"]).groupby(["arm", "replication"])["a"].sum().rename("days")
                d = ev.join(days, on=["arm", "replication"])["days"].fillna(0).to_numpy()
                ev[f"emergency shelter > {lvl:,} {what} " + ("on any day" if daily else "in any period")] = d > 0
                ev[f"emergency shelter > {lvl:,} {what} for > {settings.emergency_days} days"] = d > settings.emergency_days
    if "ac_days_above_norm" in s:
        ev[f"Ter Apel above norm for > {settings.ac_days} days"] = s["ac_days_above_norm"].to_numpy() > settings.ac_days
    if "person_nights_outside" in s:
        ev["anyone sleeps outside"] = s["person_nights_outside"].to_numpy() > 0
    return ev


def risk_table(results: Results, settings: RiskSettings | None = None) -> pd.DataFrame:
    """Probability of each event per arm with its interval (long format)."""
    settings = settings or RiskSettings()
    ev = replication_events(results, settings)
    cols = ["arm", "event", "replications", "with_event", "probability", "ci_low", "ci_high", "interval"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    order = list(dict.fromkeys(arms(results)["arm"]))
    rows = []
    for arm_name in order:
        sub = ev[ev["arm"] == arm_name]
        for event in [c for c in ev.columns if c not in ("arm", "replication")]:
            k, n = int(sub[event].sum()), int(len(sub))
            p, lo, hi = proportion_ci(k, n, settings.level, settings.method)
            rows.append(
                {
                    "arm": arm_name,
                    "event": event,
                    "replications": n,
                    "with_event": k,
                    "probability": p,
                    "ci_low": lo,
                    "ci_high": hi,
                    "interval": "Wilson" if settings.method == "wilson" else "Clopper–Pearson",
                }
            )
    return pd.DataFrame(rows, columns=cols)


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def quantile_table(results: Results, metrics: Iterable[str] = ("emergency_person_nights", "total_cost_eur")) -> pd.DataFrame:
    """Distribution over replications of a few summary metrics per arm: mean and quantiles."""
    a = arms(results)
    s = with_arm(results.summary, a)
    rows = []
    for metric in metrics:
        if metric not in s:
            continue
        for arm_name in dict.fromkeys(a["arm"]):
            v = s.loc[s["arm"] == arm_name, metric].dropna().to_numpy(float)
            row = {
                "arm": arm_name,
                "metric": metric,
                "label": label(metric),
                "replications": len(v),
                "mean": float(v.mean()) if len(v) else math.nan,
            }
            for q in QUANTILES:
                row[f"p{int(q * 100):02d}"] = float(np.quantile(v, q)) if len(v) else math.nan
            rows.append(row)
    return pd.DataFrame(rows)
