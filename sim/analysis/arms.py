"""Arms: the (scenario, design point) pairs of the results, their labels, factors and baseline counterparts.

An "arm" is one (scenario, design point) of the results: a run directory has
one, a sweep one per design point. Replication r of every arm ran with the
same seeds (common random numbers), so arms are compared replication by
replication against the baseline arm they are paired with.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario import ScenarioError
from sim.store import Results

NOT_METRICS = {"scenario", "design_point", "replication", "seed", "error", "run_seconds", "window_first_day", "window_days"}
MAX_LABEL_FACTORS = 2  # an arm's label names at most this many factor values (a sampled design's are numbered)
FACTOR_PREFIX = "factor:"  # sweep summaries carry each design point's factor values as "factor:<key>" columns

# Summary metrics in the order a reader wants them, with a label and a unit.
METRIC_LABELS = {
    "emergency_person_nights": "emergency shelter (person-nights)",
    "emergency_persons_per_night": "emergency shelter (persons per night)",
    "peak_emergency_occupancy": "peak emergency occupancy (persons)",
    "ac_days_above_norm": "days Ter Apel above norm (days)",
    "ac_person_nights_above_norm": "persons above Ter Apel's norm (person-nights)",
    "ac_peak_occupancy": "peak application-centre occupancy (persons)",
    "person_nights_outside": "sleeping outside (person-nights)",
    "nights_anyone_outside": "nights anyone sleeps outside (nights)",
    "moves_per_person": "moves per person",
    "mean_registration_wait_days": "mean registration wait (days)",
    "mean_days_to_decision": "mean time to decision (days)",
    "mean_housing_wait_days": "mean housing wait (days)",
    "cases_over_legal_term": "cases over the legal term (cases)",
    "total_cost_eur": "total cost (EUR)",
    "cost_eur_per_year": "cost per year (EUR)",
    "penalty_cost_eur": "penalty payments (EUR)",
    "share_realised_by_deadline": "share of task realised by deadline",
    "share_realised_window": "share of standing task realised, 1 July checks",
    "durable_places_opened": "durable places opened (places)",
    "emergency_places_opened": "emergency places opened (places)",
    "provinces_meeting_task_first_cycle": "provinces meeting task, first cycle",
    "incentive_cost_eur": "incentive payments (EUR)",
    "projects_started": "location projects started",
    "projects_failed": "location projects failed",
    "arrivals_total": "arrivals (persons)",
    "housed_total": "housed (persons)",
    "departed_total": "departed (persons)",
    "final_occupancy_total": "occupancy at the end (persons)",
}


def metric_support(metric: str) -> tuple[float, float]:
    """The values a summary metric can take: shares lie in [0, 1]; every other metric (persons,
    person-nights, days, euros, moves) is a count or an amount that cannot be negative."""
    return (0.0, 1.0) if metric.startswith("share_") else (0.0, math.inf)


def label(metric: str) -> str:
    """A summary metric's name in words, with its unit."""
    if metric.startswith("share_realised_cycle_"):
        return f"share of cycle {metric.rsplit('_', 1)[1]}'s task realised by its deadline"
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def design_factors(results: Results) -> pd.DataFrame:
    """Factor values per (scenario, design point), from the ``factor:<key>`` columns a sweep writes to its summary.

    Empty when the results carry no factors (a run, a collection of runs, a sweep of base scenarios only).
    """
    s = results.summary
    cols = [c for c in s.columns if c.startswith(FACTOR_PREFIX)]
    if s.empty or not cols:
        return pd.DataFrame()
    f = s.groupby(["scenario", "design_point"], sort=True)[cols].first().reset_index()
    return f.rename(columns={c: c[len(FACTOR_PREFIX) :] for c in cols})


def arms(results: Results) -> pd.DataFrame:
    """One row per (scenario, design point) with a readable ``arm`` label and the factor values."""
    s = results.summary
    if s.empty:
        return pd.DataFrame(columns=["scenario", "design_point", "arm"])
    a = s[["scenario", "design_point"]].drop_duplicates().sort_values(["scenario", "design_point"], kind="stable")
    order = list(dict.fromkeys(s["scenario"]))  # keep the order the user gave (baseline first in a collection)
    a = a.assign(_o=a["scenario"].map({n: i for i, n in enumerate(order)})).sort_values(["_o", "design_point"]).drop(columns="_o")
    f = design_factors(results)
    if len(f):
        a = a.merge(f, on=["scenario", "design_point"], how="left")
    factor_cols = [c for c in a.columns if c not in ("scenario", "design_point")]
    per_scenario = a.groupby("scenario")["design_point"].transform("nunique")
    varies = {scen: [c for c in factor_cols if sub[c].nunique() > 1] for scen, sub in a.groupby("scenario", sort=False)}
    labels = []
    for i, row in a.iterrows():
        if per_scenario[i] == 1:
            labels.append(str(row["scenario"]))
            continue
        varying = varies[row["scenario"]]
        if 0 < len(varying) <= MAX_LABEL_FACTORS:
            parts = ", ".join(f"{c.split('.')[-1]}={format_value(row[c])}" for c in varying)
            labels.append(f"{row['scenario']} [{parts}]")
        else:  # a sampled design varies many factors at once: its points are numbered, their values are in the tables
            labels.append(f"{row['scenario']} #{row['design_point']}")
    return a.assign(arm=labels).reset_index(drop=True)


def format_value(v: Any) -> str:
    """A factor value as labels show it: whole numbers without a decimal point, other numbers to 3 significant
    digits (0.15000000000000002 reads 0.15) or, from 1,000, to the unit; no thousands separator (labels list
    values separated by commas)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return str(v)
    v = float(v)
    if v.is_integer() or abs(v) >= 1000:
        return f"{round(v)}"
    return f"{v:.3g}"


def significant(v: float, digits: int = 3) -> str:
    """``v`` to ``digits`` significant digits without an exponent, thousands separated (921,295.1 -> '921,000')."""
    if v is None or pd.isna(v):
        return "n/a"
    rounded = float(f"{v:.{digits}g}")
    return f"{rounded:,.0f}" if abs(rounded) >= 10 ** (digits - 1) else f"{rounded:.{digits}g}"


def with_arm(df: pd.DataFrame, arm_table: pd.DataFrame) -> pd.DataFrame:
    """``df`` with an ``arm`` column joined on (scenario, design point)."""
    if df.empty or "scenario" not in df:
        return df
    key = ["scenario", "design_point"] if "design_point" in df else ["scenario"]
    return df.merge(arm_table[key + ["arm"]].drop_duplicates(key), on=key, how="left")


def pick_baseline(arm_table: pd.DataFrame, name: str | None) -> str:
    """The baseline scenario: the one named, else one called 'baseline', else the first."""
    scenarios = list(dict.fromkeys(arm_table["scenario"]))
    if name is not None:
        if name not in scenarios:
            raise ScenarioError(None, "--baseline", f"no scenario '{name}' in these results; there are: {', '.join(scenarios)}")
        return name
    return "baseline" if "baseline" in scenarios else scenarios[0]


def counterparts(arm_table: pd.DataFrame, baseline: str) -> dict[str, str]:
    """For every non-baseline arm, the baseline arm it is paired with.

    With design factors: the baseline arm that agrees on every factor the
    baseline itself varies (e.g. the same inflow level). Without: the k-th
    design point of the baseline for the k-th of the scenario (a factorial with
    the scenario as outer factor), or the baseline's only arm.
    """
    base = arm_table[arm_table["scenario"] == baseline]
    factor_cols = [c for c in arm_table.columns if c not in ("scenario", "design_point", "arm")]
    out = {}
    for _, row in arm_table[arm_table["scenario"] != baseline].iterrows():
        cands = base
        for c in factor_cols:
            m = cands[c] == row[c]
            if m.any() and base[c].nunique() > 1:
                cands = cands[m]
        if len(cands) == 1:
            out[row["arm"]] = cands["arm"].iloc[0]
            continue
        mine = arm_table[arm_table["scenario"] == row["scenario"]]
        k = list(mine["arm"]).index(row["arm"])
        if len(mine) == len(base):
            out[row["arm"]] = base["arm"].iloc[k]
    return out


def summary_metrics(summary: pd.DataFrame) -> list[str]:
    """Numeric summary columns that are metrics, known ones first."""
    numeric = [
        c
        for c in summary.columns
        if c not in NOT_METRICS
        and not c.startswith(FACTOR_PREFIX)
        and "." not in c
        and pd.api.types.is_numeric_dtype(summary[c])
        and not pd.api.types.is_bool_dtype(summary[c])
    ]
    known = [c for c in METRIC_LABELS if c in numeric]
    return known + [c for c in numeric if c not in known]


def varying_factors(arm_table: pd.DataFrame) -> list[str]:
    """The factor columns of an arms table whose value differs between arms."""
    return [
        c for c in arm_table.columns if c not in ("scenario", "design_point", "arm") and arm_table[c].nunique(dropna=False) > 1
    ]
