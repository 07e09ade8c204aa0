"""Comparing scenarios and reporting risk: ``opvangsim compare DIR [--baseline NAME]``.

Everything here reads results through :func:`sim.store.load_results` (via
:func:`load_dir`, which also accepts a directory holding several run
directories) and works on the ``summary`` / ``timeseries`` frames:

* **paired comparison** — replication r of every scenario ran with the same
  seeds (common random numbers), so the difference of scenario and baseline is
  taken *per replication* and its mean gets a paired t interval (a percentile
  bootstrap when the differences are skewed); the variance reduction says how
  much narrower that is than comparing independent runs;
* **risk** — per scenario, the share of replications in which an event happens
  (emergency shelter above a level, Ter Apel above its norm for long, anyone
  sleeping outside) with a Wilson or Clopper–Pearson interval, and quantiles of
  emergency person-nights and cost;
* **sensitivity** (SALib Sobol or Morris indices) and **scenario discovery**
  (a shallow scikit-learn decision tree: it gives readable "if a ≥ x and b < y"
  boxes, is deterministic, and scikit-learn is a small, stable dependency
  compared with the EMA Workbench's PRIM and its many dependencies) for sweeps
  whose design allows it.

An "arm" is one (scenario, design point) of the results: a run directory has
one, a sweep one per design point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.scenario import ScenarioError
from sim.store import Results, load_results
from sim.streams import Streams

KEYS = ("scenario", "design_point", "replication")
NOT_METRICS = {"scenario", "design_point", "replication", "seed", "error", "run_seconds"}
FACTOR_PREFIX = "factor:"  # sweep summaries carry each design point's factor values as "factor:<key>" columns
LEVEL = 0.95
ANALYSIS_SEED = 20260101  # fixed: the bootstrap intervals of a results directory are reproducible

# Summary metrics in the order a reader wants them, with a label and a unit.
METRIC_LABELS = {
    "emergency_person_nights": "emergency shelter (person-nights)",
    "peak_emergency_occupancy": "peak emergency occupancy (persons)",
    "ac_days_above_norm": "days Ter Apel above norm (days)",
    "ac_peak_occupancy": "peak application-centre occupancy (persons)",
    "person_nights_outside": "sleeping outside (person-nights)",
    "moves_per_person": "moves per person",
    "mean_registration_wait_days": "mean registration wait (days)",
    "mean_days_to_decision": "mean time to decision (days)",
    "mean_housing_wait_days": "mean housing wait (days)",
    "cases_over_legal_term": "cases over the legal term (cases)",
    "total_cost_eur": "total cost (EUR)",
    "penalty_cost_eur": "penalty payments (EUR)",
    "share_realised_by_deadline": "share of task realised by deadline",
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


def label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


# ----------------------------------------------------------------------------- loading


def load_dir(path: str | Path) -> Results:
    """Results of a run directory, a sweep directory, or a directory holding several of them.

    In a collection, each run is named by its manifest's ``scenario_name``, or by
    its directory name when two runs share a scenario name (``--set`` variants).
    """
    path = Path(path)
    if not path.is_dir():
        raise ScenarioError(
            None, "DIR", f"{path} is not a directory; give a results directory written by 'opvangsim run' or 'opvangsim sweep'"
        )
    if (path / "manifest.json").exists():
        return load_results(path)
    subdirs = sorted(d for d in path.iterdir() if d.is_dir() and (d / "manifest.json").exists())
    if not subdirs:
        raise ScenarioError(
            None,
            "DIR",
            f"{path} holds no results (no manifest.json in it or in its subdirectories); write some with 'opvangsim run ... --out {path}/NAME'",
        )
    parts = [load_results(d) for d in subdirs]
    names = [str(p.manifest.get("scenario_name", d.name)) for p, d in zip(parts, subdirs)]
    if len(set(names)) < len(names):
        names = [d.name for d in subdirs]
    frames: dict[str, list[pd.DataFrame]] = {"summary": [], "timeseries": [], "cycles": []}
    runs = {}
    for part, name, d in zip(parts, names, subdirs):
        single = part.summary.empty or part.summary["scenario"].nunique() <= 1
        for key in frames:
            df = getattr(part, key)
            if len(df) and single:
                df = df.assign(scenario=name)
            if len(df):
                frames[key].append(df)
        runs[name if single else d.name] = part.manifest
    merged = {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in frames.items()}
    return Results(manifest={"kind": "collection", "runs": runs}, path=path, **merged)


def run_manifests(results: Results) -> dict[str, dict]:
    """The manifests of what was run, by name (one entry for a run or sweep directory)."""
    m = results.manifest or {}
    if m.get("kind") == "collection":
        return dict(m.get("runs", {}))
    return {
        str(
            m.get("scenario_name")
            or m.get("experiment_name")
            or m.get("name")
            or (results.path.name if results.path else "results")
        ): m
    }


# ----------------------------------------------------------------------------- arms and design


def _find(obj: Any, keys: tuple[str, ...]) -> Any:
    """First value under any of ``keys`` in a nested manifest (breadth first)."""
    queue = [obj]
    while queue:
        cur = queue.pop(0)
        if isinstance(cur, dict):
            for k in keys:
                if k in cur and cur[k] not in (None, {}, []):
                    return cur[k]
            queue.extend(v for v in cur.values() if isinstance(v, (dict, list)))
        elif isinstance(cur, list):
            queue.extend(v for v in cur if isinstance(v, (dict, list)))
    return None


def design_factors(results: Results) -> pd.DataFrame:
    """Factor values per (scenario, design point), from the manifest or factor columns of the summary.

    Empty when the results carry no design (a run, or a collection of runs).
    """
    s = results.summary
    if s.empty:
        return pd.DataFrame()
    cols = [c for c in s.columns if c.startswith(FACTOR_PREFIX)]
    if cols:
        f = s.groupby(["scenario", "design_point"], sort=True)[cols].first().reset_index()
        return f.rename(columns={c: c[len(FACTOR_PREFIX) :] for c in cols})
    for manifest in run_manifests(results).values():
        points = _find(manifest, ("design_points", "points"))
        if isinstance(points, list) and points and all(isinstance(p, dict) for p in points):
            # {"design_point": 0, "values": {"inflow.x": 1}} (sim.experiment) or flat {"design_point": 0, "inflow.x": 1}
            df = pd.DataFrame(
                [
                    {
                        **{k: v for k, v in p.items() if k not in ("values", "scenario_file", "scenario_digest")},
                        **(p.get("values") or {}),
                    }
                    for p in points
                ]
            )
            if "design_point" not in df:
                df.insert(0, "design_point", np.arange(len(df)))
            if "scenario" in df:
                df = df.rename(columns={"scenario": "scenario_factor"})
            factors = df.drop(columns=[c for c in df.columns if c in NOT_METRICS and c != "design_point"])
            arms = s[["scenario", "design_point"]].drop_duplicates()
            return arms.merge(factors, on="design_point", how="left")
    return pd.DataFrame()


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
    labels = []
    for i, row in a.iterrows():
        if per_scenario[i] == 1:
            labels.append(str(row["scenario"]))
            continue
        varying = [c for c in factor_cols if a.loc[a["scenario"] == row["scenario"], c].nunique() > 1]
        if varying:
            parts = ", ".join(f"{c.split('.')[-1]}={_fmt_value(row[c])}" for c in varying)
            labels.append(f"{row['scenario']} [{parts}]")
        else:
            labels.append(f"{row['scenario']} #{row['design_point']}")
    return a.assign(arm=labels).reset_index(drop=True)


def _fmt_value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{int(v)}"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


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


# ----------------------------------------------------------------------------- paired comparison


@dataclass
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

    @property
    def excludes_zero(self) -> bool:
        return bool(self.low > 0 or self.high < 0)


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
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return PairedDifference(n, m, m - half, m + half, "paired t", sd, v_ind, vr)


def _nanmean(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else math.nan


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


def paired_comparison(
    results: Results, baseline: str | None = None, metrics: Iterable[str] | None = None, level: float = LEVEL
) -> pd.DataFrame:
    """Mean difference (scenario − baseline) of each summary metric, paired by replication, with its interval."""
    a = arms(results)
    cols = [
        "arm",
        "baseline",
        "metric",
        "label",
        "n_pairs",
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
            x = xs.loc[common, metric].to_numpy(float)
            b = bs.loc[common, metric].to_numpy(float)
            pdiff = paired_difference(x, b, level=level, rng=rng)
            bmean = _nanmean(b)
            rows.append(
                {
                    "arm": arm_name,
                    "baseline": base_arm,
                    "metric": metric,
                    "label": label(metric),
                    "n_pairs": pdiff.n,
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


# ----------------------------------------------------------------------------- risk


def proportion_ci(k: int, n: int, level: float = LEVEL, method: str = "wilson") -> tuple[float, float, float]:
    """Share k/n of replications with an event and its interval (Wilson or Clopper–Pearson 'exact').

    With no replications the share is unknown (nan) and the interval the whole [0, 1].
    """
    if method not in ("wilson", "exact"):
        raise ScenarioError(None, "--interval", f"must be 'wilson' or 'exact' (Clopper–Pearson), not {method!r}")
    if n == 0:
        return math.nan, 0.0, 1.0
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method=method)
    return k / n, float(max(0.0, ci.low)), float(min(1.0, ci.high))


@dataclass
class RiskSettings:
    """Thresholds of the risk table (persons, days)."""

    emergency_levels: tuple[int, ...] = (5_000, 10_000, 20_000, 30_000)  # persons in emergency + crisis shelter
    emergency_days: int = 90  # "for more than N days"
    ac_days: int = 30  # Ter Apel above its norm for more than N days
    level: float = LEVEL
    method: str = "wilson"
    notes: list[str] = field(default_factory=list)


def emergency_series(ts: pd.DataFrame) -> pd.Series | None:
    """Persons in emergency and crisis shelter per row (the summary's definition of emergency)."""
    if "occupancy_emergency" not in ts:
        return None
    return ts["occupancy_emergency"] + (ts["occupancy_crisis"] if "occupancy_crisis" in ts else 0)


def row_days(ts: pd.DataFrame) -> np.ndarray:
    """Days each time-series row stands for: 1 for a daily series, the ``days`` column of a coarser one."""
    if "days" in ts:
        return ts["days"].to_numpy(float)
    return np.ones(len(ts))


def is_daily(ts: pd.DataFrame) -> bool:
    return "days" not in ts or bool((ts["days"] == 1).all())


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


def exceedance(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Share of replications whose value exceeds each threshold (the empirical survival function)."""
    v = np.sort(np.asarray(values, float)[~np.isnan(np.asarray(values, float))])
    if len(v) == 0:
        return np.full(len(thresholds), np.nan)
    return 1.0 - np.searchsorted(v, thresholds, side="right") / len(v)


# ----------------------------------------------------------------------------- sensitivity and discovery


def design_kind(results: Results) -> str | None:
    """'sobol', 'morris', 'lhs', 'factorial', ... as the manifest states it (None for plain runs)."""
    for manifest in run_manifests(results).values():
        d = _find(manifest, ("design",))
        for cand in (d, _find(d, ("kind", "method", "type", "name")) if isinstance(d, dict) else None):
            if isinstance(cand, str):
                return cand.lower()
    return None


def _experiment_design(results: Results) -> tuple[dict, np.ndarray, int, bool] | None:
    """SALib problem on the unit cube, the unit sample and the rows per base scenario, for a sweep directory.

    Sampled sweeps draw on the unit cube and map each coordinate through the
    factor's distribution (sim.experiment.Factor.value_at), so the indices are
    computed on the unit cube: the sample the design actually is.
    """
    m = results.manifest or {}
    spec = (m.get("resolved") or {}).get("experiment")
    if m.get("kind") != "sweep" or not isinstance(spec, dict):
        return None
    try:
        from sim.experiment import Experiment, salib_problem, unit_sample

        exp = Experiment.model_validate(spec)
        unit = unit_sample(exp)
        return salib_problem(exp), unit, len(unit), bool(exp.design.second_order)
    except Exception:  # an older or foreign manifest: fall back to the factor ranges it lists
        return None


def design_problem(results: Results) -> dict | None:
    """A SALib problem (names, bounds) from the manifest's factor ranges, if it has them."""
    for manifest in run_manifests(results).values():
        factors = _find(manifest, ("factors",))
        names, bounds = [], []
        items = (
            factors.items()
            if isinstance(factors, dict)
            else ((f.get("key") or f.get("name"), f) for f in factors or [] if isinstance(f, dict))
        )
        for name, spec in items:
            if not isinstance(spec, dict):
                continue
            lo = spec.get("low", spec.get("min"))
            hi = spec.get("high", spec.get("max"))
            if lo is not None and hi is not None:
                names.append(str(name))
                bounds.append([float(lo), float(hi)])
        if names:
            return {"num_vars": len(names), "names": names, "bounds": bounds}
    return None


def _indices(
    kind: str, problem: dict, X: np.ndarray, Y: np.ndarray, out: str, level: float, second: bool | None = None
) -> list[dict]:
    """SALib indices of one output; ``second``: the Saltelli sample includes second-order rows (None: infer from its size)."""
    from SALib.analyze import morris as sa_morris
    from SALib.analyze import sobol as sa_sobol

    rows = []
    D = problem["num_vars"]
    if kind == "morris":
        res = sa_morris.analyze(problem, X, Y, conf_level=level, seed=ANALYSIS_SEED)
        for i, f in enumerate(problem["names"]):
            rows.append(
                {
                    "output": out,
                    "factor": f,
                    "index": "mu_star",
                    "value": float(res["mu_star"][i]),
                    "conf": float(res["mu_star_conf"][i]),
                }
            )
            rows.append({"output": out, "factor": f, "index": "sigma", "value": float(res["sigma"][i]), "conf": math.nan})
        return rows
    if second is None:  # N·(2D+2) rows with second order, N·(D+2) without; a size fitting both is read as SALib's default
        second = len(Y) % (2 * D + 2) == 0
    if len(Y) % ((2 * D + 2) if second else (D + 2)) != 0:
        raise ValueError(f"{len(Y)} design points is not a Saltelli sample for {D} factors")
    res = sa_sobol.analyze(problem, Y, calc_second_order=second, conf_level=level, seed=ANALYSIS_SEED)
    for i, f in enumerate(problem["names"]):
        rows.append({"output": out, "factor": f, "index": "S1", "value": float(res["S1"][i]), "conf": float(res["S1_conf"][i])})
        rows.append({"output": out, "factor": f, "index": "ST", "value": float(res["ST"][i]), "conf": float(res["ST_conf"][i])})
    return rows


def sensitivity(
    results: Results,
    outputs: Iterable[str] = ("emergency_person_nights", "ac_days_above_norm", "total_cost_eur"),
    level: float = LEVEL,
) -> tuple[pd.DataFrame, str]:
    """Sobol first-order/total or Morris μ*/σ indices per output with intervals; and a note on what was done.

    The model output of a design point is its mean over replications (the
    replications share seeds across points, so the noise is common to all).
    With several base scenarios the indices are computed per scenario.
    """
    kind = design_kind(results)
    empty = pd.DataFrame(columns=["scenario", "output", "factor", "index", "value", "conf"])
    if kind not in ("sobol", "saltelli", "morris"):
        return empty, f"no sensitivity analysis: the design is {kind or 'not a sampling design'} (needs Sobol/Saltelli or Morris)"
    kind = "morris" if kind == "morris" else "sobol"
    means = results.summary.groupby(["scenario", "design_point"]).mean(numeric_only=True).reset_index()
    design = _experiment_design(results)
    if design is not None:
        problem, unit, per_scenario, second = design
    else:
        problem, factors = design_problem(results), design_factors(results)
        if problem is None or factors.empty or not set(problem["names"]) <= set(factors.columns):
            return empty, "no sensitivity analysis: the manifest does not give the factors' ranges and values per design point"
        unit, per_scenario = None, None
        flag = _find(results.manifest or {}, ("second_order",))
        second = bool(flag) if isinstance(flag, bool) else None
    rows = []
    for scen, sub in means.groupby("scenario", sort=False):
        sub = sub.sort_values("design_point")
        if unit is not None:
            first = int(sub["design_point"].min())
            expected = np.arange(first, first + per_scenario)
            if len(sub) != per_scenario or not np.array_equal(sub["design_point"].to_numpy(), expected):
                return (
                    empty,
                    f"no sensitivity analysis: {scen} has {len(sub)} of its {per_scenario} design points finished (resume the sweep)",
                )
            X = unit
        else:
            X = (
                factors.set_index(["scenario", "design_point"])
                .loc[list(zip(sub["scenario"], sub["design_point"])), problem["names"]]
                .to_numpy(float)
            )
        for out in outputs:
            if out not in sub:
                continue
            try:
                rows += [
                    {"scenario": scen, **r} for r in _indices(kind, problem, X, sub[out].to_numpy(float), out, level, second)
                ]
            except ValueError as exc:
                return empty, f"no sensitivity analysis: {exc}"
    where = "on the unit cube of the design" if unit is not None else "on the factor ranges"
    return (
        pd.DataFrame(rows, columns=empty.columns),
        f"{'Morris μ*, σ' if kind == 'morris' else 'Sobol first-order (S1) and total (ST)'} indices (SALib) {where}, over {len(means)} design points; conf = {level:.0%} interval half-width",
    )


def scenario_discovery(
    results: Results,
    output: str = "emergency_person_nights",
    quantile: float = 0.75,
    max_depth: int = 2,
    threshold: float | None = None,
) -> tuple[list[dict], str]:
    """Parameter boxes where ``output`` is high, from a shallow decision tree.

    "High" is a design point's mean above ``threshold`` (in the output's unit),
    or by default above the ``quantile`` of the design points' means.

    Each box: its conditions, coverage (share of all high points inside it)
    and density (share of points inside it that are high).
    """
    factors = design_factors(results)
    numeric = [
        c
        for c in factors.columns
        if c not in ("scenario", "design_point") and pd.api.types.is_numeric_dtype(factors[c]) and factors[c].nunique() > 1
    ]
    if not numeric or output not in results.summary:
        return [], "no scenario discovery: the results have no varying numeric design factors"
    means = results.summary.groupby(["scenario", "design_point"])[output].mean().rename("y").reset_index()
    data = factors.merge(means, on=["scenario", "design_point"])
    if len(data) < 8:
        return [], f"no scenario discovery: {len(data)} design points are too few"
    try:
        from sklearn.tree import DecisionTreeClassifier
    except ImportError:
        return [], "no scenario discovery: scikit-learn is not installed"
    cut = float(data["y"].quantile(quantile)) if threshold is None else float(threshold)
    high = (data["y"] > cut).to_numpy()
    if high.all() or not high.any():
        return [], f"no scenario discovery: {label(output)} does not vary across design points"
    X = data[numeric].to_numpy(float)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(2, len(data) // 20), random_state=0).fit(X, high)
    t = tree.tree_
    boxes = []

    def walk(node: int, conds: list[str], mask: np.ndarray) -> None:
        if t.children_left[node] == -1:
            inside = high[mask]
            if len(inside) and inside.mean() > high.mean():
                boxes.append(
                    {
                        "conditions": " and ".join(conds) or "(all)",
                        "points": int(mask.sum()),
                        "density": float(inside.mean()),
                        "coverage": float(inside.sum() / high.sum()),
                    }
                )
            return
        f, thr = numeric[t.feature[node]], t.threshold[node]
        left = X[:, t.feature[node]] <= thr
        walk(t.children_left[node], conds + [f"{f} ≤ {thr:.4g}"], mask & left)
        walk(t.children_right[node], conds + [f"{f} > {thr:.4g}"], mask & ~left)

    walk(0, [], np.ones(len(data), bool))
    boxes.sort(key=lambda b: -b["density"])
    what = f"its {quantile:.0%} quantile ({cut:,.0f})" if threshold is None else f"{cut:,.0f}"
    return (
        boxes,
        f"decision tree (scikit-learn, depth ≤ {max_depth}) on {len(data)} design points; 'high' = {label(output)} above {what}",
    )


# ----------------------------------------------------------------------------- text output


def format_paired(table: pd.DataFrame) -> str:
    """The paired table as aligned text: one block per arm."""
    if table.empty:
        return "(no scenario to compare with the baseline)"
    lines = []
    for arm_name, sub in table.groupby("arm", sort=False):
        n = int(sub["n_pairs"].max())
        lines.append(f"\n{arm_name} − {sub['baseline'].iloc[0]}  ({n} paired replications, common random numbers)")
        view = pd.DataFrame(
            {
                "metric": sub["label"],
                "baseline": sub["baseline_mean"].map(_num),
                "scenario": sub["scenario_mean"].map(_num),
                "difference": sub["mean_diff"].map(_num),
                "95 % CI": [f"[{_num(lo)}, {_num(hi)}]" for lo, hi in zip(sub["ci_low"], sub["ci_high"])],
                "method": sub["method"],
                "var. reduction": sub["variance_reduction"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}"),
            }
        )
        lines.append(view.to_string(index=False))
    return "\n".join(lines)


def format_risk(table: pd.DataFrame) -> str:
    if table.empty:
        return "(no risk events could be computed)"
    view = pd.DataFrame(
        {
            "scenario": table["arm"],
            "event": table["event"],
            "P": table["probability"].map(lambda p: "n/a" if pd.isna(p) else f"{p:.0%}"),
            "95 % CI": [f"[{lo:.0%}, {hi:.0%}]" for lo, hi in zip(table["ci_low"], table["ci_high"])],
            "runs": table["with_event"].astype(str) + "/" + table["replications"].astype(str),
        }
    )
    return view.to_string(index=False)


def _num(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.3g}"


# ----------------------------------------------------------------------------- CLI


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(float(x)) for x in text.split(",") if x.strip())
    except ValueError:
        raise ScenarioError(
            None, "--emergency-levels", f"must be comma-separated numbers of persons, e.g. 5000,10000; got {text!r}"
        ) from None
    if not levels or any(v < 0 for v in levels):
        raise ScenarioError(None, "--emergency-levels", "needs at least one level ≥ 0 (persons)")
    return levels


def add_risk_arguments(parser) -> None:
    """Thresholds shared by ``compare`` and ``report``."""
    parser.add_argument("--baseline", help="name of the baseline scenario (default: 'baseline', else the first)")
    parser.add_argument(
        "--emergency-levels",
        default="5000,10000,20000,30000",
        help="persons in emergency shelter whose exceedance is a risk event (default 5000,10000,20000,30000)",
    )
    parser.add_argument("--emergency-days", type=int, default=90, help="'for more than N days' for emergency levels (default 90)")
    parser.add_argument("--ac-days", type=int, default=30, help="Ter Apel above its norm for more than N days (default 30)")
    parser.add_argument(
        "--interval",
        choices=("wilson", "exact"),
        default="wilson",
        help="interval for probabilities: Wilson or exact Clopper–Pearson (default wilson)",
    )


def risk_settings(args) -> RiskSettings:
    for key in ("emergency_days", "ac_days"):
        if getattr(args, key) < 0:
            raise ScenarioError(None, "--" + key.replace("_", "-"), "must be ≥ 0 days")
    return RiskSettings(
        emergency_levels=_levels(args.emergency_levels),
        emergency_days=args.emergency_days,
        ac_days=args.ac_days,
        method=args.interval,
    )


def add_arguments(parser) -> None:
    parser.add_argument("dir", help="a results directory (run or sweep), or a directory holding several run directories")
    add_risk_arguments(parser)
    parser.add_argument("--out", help="where to write the CSV files (default DIR/analysis)")


def main(args) -> int:
    settings = risk_settings(args)
    results = load_dir(args.dir)
    if results.summary.empty:
        raise ScenarioError(None, "DIR", f"{args.dir} has no summary rows to compare")
    a = arms(results)
    base = pick_baseline(a, args.baseline)
    paired = paired_comparison(results, base)
    risk = risk_table(results, settings)
    quant = quantile_table(results)
    sens, sens_note = sensitivity(results)
    boxes, disc_note = scenario_discovery(results)
    out = Path(args.out) if args.out else Path(args.dir) / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    paired.to_csv(out / "paired_differences.csv", index=False)
    risk.to_csv(out / "risk.csv", index=False)
    quant.to_csv(out / "quantiles.csv", index=False)
    if len(sens):
        sens.to_csv(out / "sensitivity.csv", index=False)
    if boxes:
        pd.DataFrame(boxes).to_csv(out / "scenario_discovery.csv", index=False)
    print(f"Paired differences against '{base}' (mean of scenario − baseline per replication):")
    print(format_paired(paired))
    print(
        "\nRisk per scenario (share of replications; interval: "
        + ("Wilson" if settings.method == "wilson" else "Clopper–Pearson")
        + "):"
    )
    print(format_risk(risk))
    for note in settings.notes:
        print(f"note: {note}")
    print(f"\n{sens_note}")
    if len(sens):
        print(sens.to_string(index=False))
    print(disc_note)
    for b in boxes:
        print(f"  {b['conditions']}: density {b['density']:.0%}, coverage {b['coverage']:.0%} ({b['points']} points)")
    print(f"\nwritten to {out}/")
    return 0
