"""Risk: per arm, the share of replications in which an event happens, and the spread of outcomes.

Every event counts the evaluation window only (:mod:`sim.analysis.window`),
so the start state does not decide it. Events over the whole window:
emergency shelter above a level (on any day, or for long), Ter Apel above its
norm for long, anyone sleeping outside; per calendar year: emergency shelter
above a level at any time in year Y, Ter Apel above its norm for more than N
days in year Y, anyone outside in year Y; and the time to Ter Apel's first
overflow (its first day above the norm). Each share has a Wilson or
Clopper–Pearson interval.

Thresholds left unset are chosen from the window's distribution over every
arm and replication (:func:`resolve_settings`): the emergency levels at the
quartiles of the peak, Ter Apel's days at the median, rounded to two
significant digits, so the events separate the scenarios instead of being
certain in all of them.
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
from sim.analysis.window import Window
from sim.store import Results

PEAK_QUANTILES = (0.25, 0.5, 0.75)  # default emergency levels: quartiles of the window's peak over every run


@dataclass
class RiskSettings:
    """Thresholds of the risk tables (persons, days); None: chosen from the window's distribution."""

    emergency_levels: tuple[int, ...] | None = None  # persons in emergency + crisis shelter
    emergency_days: int = 90  # "for more than N days" (in the window)
    ac_days: int | None = None  # Ter Apel above its norm for more than N days in the window
    year_ac_days: int = 30  # Ter Apel above its norm for more than N days in a calendar year
    level: float = LEVEL
    method: str = "wilson"
    notes: list[str] = field(default_factory=list)

    @property
    def main_level(self) -> int | None:
        """The middle emergency level: the one the per-year table and the paragraphs use."""
        levels = self.emergency_levels or ()
        return levels[len(levels) // 2] if levels else None


def ac_event(days: int) -> str:
    """The event 'Ter Apel above its norm for more than ``days`` days' in words."""
    return "Ter Apel above norm on any day" if days == 0 else f"Ter Apel above norm for > {days} days"


def round_significant(value: float, digits: int = 2) -> int:
    """``value`` rounded to ``digits`` significant digits (14,123 -> 14,000), as a threshold reads best."""
    if value <= 0 or not math.isfinite(value):
        return 0
    return int(round(value, digits - 1 - int(math.floor(math.log10(value)))))


def resolve_settings(results: Results, settings: RiskSettings) -> RiskSettings:
    """Set every unset threshold of ``settings`` from the window's distribution, with a note saying how;
    returns ``settings`` (changed in place, like its notes)."""
    s = results.summary
    out = settings
    if out.emergency_levels is None:
        if "peak_emergency_occupancy" in s and s["peak_emergency_occupancy"].notna().any():
            peaks = s["peak_emergency_occupancy"].dropna().to_numpy(float)
            levels = tuple(dict.fromkeys(round_significant(q) for q in np.quantile(peaks, PEAK_QUANTILES)))
            levels = tuple(v for v in levels if v > 0)
            out.emergency_levels = levels
            out.notes.append(
                "emergency levels "
                + (" / ".join(f"{v:,}" for v in levels) if levels else "(none: no emergency shelter in the window)")
                + " persons: the quartiles of the peak in the evaluation window over every scenario and replication, "
                "rounded (set them with --emergency-levels)"
            )
        else:
            out.emergency_levels = ()
            out.notes.append("no peak emergency occupancy in the summary: no emergency levels (set them with --emergency-levels)")
    if out.ac_days is None:
        if "ac_days_above_norm" in s and s["ac_days_above_norm"].notna().any():
            out.ac_days = round_significant(float(np.median(s["ac_days_above_norm"].dropna())))
            out.notes.append(
                f"Ter Apel's threshold of {out.ac_days:,} days above the norm: the median over every scenario and replication "
                "in the evaluation window, rounded (set it with --ac-days)"
            )
        else:
            out.ac_days = 30
    return out


def _series_in_window(results: Results, a: pd.DataFrame, windows: dict[str, Window | None] | None) -> pd.DataFrame | None:
    """The per-replication series with an ``arm`` column, cut to each arm's window; None without one."""
    ts = results.timeseries
    if ts.empty or "replication" not in ts or "quantile" in ts or "date" not in ts or (ts["replication"] < 0).all():
        return None
    ts = with_arm(ts, a)
    if windows:
        dates = pd.to_datetime(ts["date"]).to_numpy("datetime64[ns]")
        first = ts["arm"].map({k: np.datetime64(w.first) if w else np.datetime64("NaT") for k, w in windows.items()})
        end = ts["arm"].map({k: np.datetime64(w.end) if w else np.datetime64("NaT") for k, w in windows.items()})
        first, end = first.to_numpy("datetime64[ns]"), end.to_numpy("datetime64[ns]")
        # a period row (a month) counts when it starts inside the window; an arm without a known window keeps every row
        ts = ts[np.isnat(first) | ((dates >= first) & (dates < end))]
    return ts


def replication_events(results: Results, settings: RiskSettings, windows: dict[str, Window | None] | None = None) -> pd.DataFrame:
    """One row per (arm, replication), one boolean column per event over the window (column name = the event in words).

    ``settings`` must have its thresholds set (:func:`resolve_settings`). A sweep that kept weekly
    or monthly series has period *means*: the emergency events then say so ("monthly mean above
    ..."), since a mean above a level is a weaker statement than a day above it.
    """
    a = arms(results)
    s = with_arm(results.summary, a)
    if s.empty:
        return pd.DataFrame()
    ev = s[["arm", "replication"]].copy()
    levels = settings.emergency_levels or ()
    ts = _series_in_window(results, a, windows)
    if "peak_emergency_occupancy" in s:
        for lvl in levels:  # the summary's peak is the daily maximum over the window: exact
            ev[f"emergency shelter > {lvl:,} persons on any day"] = s["peak_emergency_occupancy"].to_numpy(float) > lvl
    if ts is None:
        settings.notes.append("no per-replication time series: the emergency events 'for more than N days' are left out")
    else:
        emerg = emergency_series(ts)
        if emerg is None:
            settings.notes.append("the time series has no emergency occupancy: the emergency-level events are left out")
        else:
            daily = is_daily(ts)
            if not daily:
                settings.notes.append(
                    "emergency events 'for more than N days' use period means of the kept (weekly or monthly) series, not daily values"
                )
            what = "persons" if daily else "persons (period mean)"
            tmp = ts[["arm", "replication"]].assign(e=emerg.to_numpy(float), w=row_days(ts))
            for lvl in levels:
                days = tmp.assign(a=(tmp["e"] > lvl) * tmp["w"]).groupby(["arm", "replication"])["a"].sum().rename("days")
                d = ev.join(days, on=["arm", "replication"])["days"].fillna(0).to_numpy()
                if "peak_emergency_occupancy" not in s:
                    ev[f"emergency shelter > {lvl:,} {what} " + ("on any day" if daily else "in any period")] = d > 0
                ev[f"emergency shelter > {lvl:,} {what} for > {settings.emergency_days} days"] = d > settings.emergency_days
    if "ac_days_above_norm" in s:
        ev[ac_event(settings.ac_days)] = s["ac_days_above_norm"].to_numpy() > settings.ac_days
    if "person_nights_outside" in s:
        ev["anyone sleeps outside"] = s["person_nights_outside"].to_numpy() > 0
    return ev


def _shares(ev: pd.DataFrame, keys: list[str], order: list, settings: RiskSettings) -> list[dict]:
    """Share of replications with each event per group of ``keys``, with its interval."""
    rows = []
    events = [c for c in ev.columns if c not in ("arm", "replication", *keys)]
    for group, sub in ev.groupby(keys, sort=False):
        group = group if isinstance(group, tuple) else (group,)
        for event in events:
            k, n = int(sub[event].sum()), int(sub[event].notna().sum())
            p, lo, hi = proportion_ci(k, n, settings.level, settings.method)
            rows.append(
                {
                    **dict(zip(keys, group)),
                    "event": event,
                    "replications": n,
                    "with_event": k,
                    "probability": p,
                    "ci_low": lo,
                    "ci_high": hi,
                    "interval": "Wilson" if settings.method == "wilson" else "Clopper–Pearson",
                }
            )
    rank = {a: i for i, a in enumerate(order)}
    return sorted(rows, key=lambda r: rank.get(r["arm"], len(rank)))


RISK_COLUMNS = ["arm", "event", "replications", "with_event", "probability", "ci_low", "ci_high", "interval"]


def risk_table(
    results: Results, settings: RiskSettings | None = None, windows: dict[str, Window | None] | None = None
) -> pd.DataFrame:
    """Probability of each event over the window per arm with its interval (long format)."""
    settings = resolve_settings(results, settings if settings is not None else RiskSettings())
    ev = replication_events(results, settings, windows)
    if ev.empty:
        return pd.DataFrame(columns=RISK_COLUMNS)
    order = list(dict.fromkeys(arms(results)["arm"]))
    return pd.DataFrame(_shares(ev, ["arm"], order, settings), columns=RISK_COLUMNS)


YEAR_COLUMNS = ["arm", "year", "days", *RISK_COLUMNS[1:]]


def risk_by_year(results: Results, settings: RiskSettings, windows: dict[str, Window | None] | None = None) -> pd.DataFrame:
    """Per arm and calendar year of the window: P(emergency shelter > each level at any time in year Y),
    P(Ter Apel above its norm for more than ``year_ac_days`` days in year Y), P(anyone outside in year Y).

    ``days``: the days of the year inside the window (a partial first or last year says so). Empty
    without per-replication series.
    """
    a = arms(results)
    ts = _series_in_window(results, a, windows)
    if ts is None or ts.empty:
        return pd.DataFrame(columns=YEAR_COLUMNS)
    daily = is_daily(ts)
    base = ts[["arm", "replication"]].assign(year=pd.to_datetime(ts["date"]).dt.year.to_numpy(), w=row_days(ts))
    cols: dict[str, np.ndarray] = {}
    emerg = emergency_series(ts)
    what = "" if daily else " (period mean)"
    if emerg is not None:
        for lvl in settings.emergency_levels or ():
            cols[f"emergency shelter > {lvl:,} persons{what} at any time"] = (emerg.to_numpy(float) > lvl).astype(float)
    if "ac_above_norm" in ts and daily:
        cols[ac_event(settings.year_ac_days)] = (ts["ac_above_norm"].to_numpy() > 0).astype(float)
    if "sleeping_outside" in ts:  # a period mean above 0 means someone slept outside on some day of it
        cols["anyone sleeps outside"] = (ts["sleeping_outside"].to_numpy() > 0).astype(float)
    if not cols:
        return pd.DataFrame(columns=YEAR_COLUMNS)
    frame = base.assign(**{k: v * base["w"].to_numpy() for k, v in cols.items()})
    g = frame.groupby(["arm", "year", "replication"], sort=False)
    per = g[list(cols)].sum()
    days = g["w"].sum().groupby(["arm", "year"]).max().rename("days")
    ev = pd.DataFrame(index=per.index)
    for c in cols:
        threshold = settings.year_ac_days if c.startswith("Ter Apel") else 0
        ev[c] = per[c] > threshold
    ev = ev.reset_index()
    order = list(dict.fromkeys(a["arm"]))
    rows = _shares(ev, ["arm", "year"], order, settings)
    out = pd.DataFrame(rows).merge(days.reset_index(), on=["arm", "year"], how="left")
    out["days"] = out["days"].astype(int)
    return out[YEAR_COLUMNS]


FIRST_COLUMNS = ["arm", "replications", "overflowed", "median_days", "p05_days", "p95_days", "median_date", "window_first"]


def _censored_quantile(times: np.ndarray, q: float) -> float:
    """The empirical quantile (inverse of the distribution function) of times where inf means 'not in the window'."""
    t = np.sort(times)
    if len(t) == 0:
        return math.nan
    v = t[max(0, math.ceil(q * len(t)) - 1)]
    return float(v) if np.isfinite(v) else math.inf


def first_overflow(results: Results, windows: dict[str, Window | None] | None = None) -> pd.DataFrame:
    """Days from the start of the window to Ter Apel's first day above its norm: median and 5–95 % band per arm.

    A replication that never overflows in the window is censored at its end: a quantile that falls
    among those is ``inf`` ("later than the window"). Empty without a daily ``ac_above_norm`` series.
    """
    a = arms(results)
    ts = _series_in_window(results, a, windows)
    if ts is None or "ac_above_norm" not in ts or not is_daily(ts):
        return pd.DataFrame(columns=FIRST_COLUMNS)
    dates = pd.to_datetime(ts["date"])
    over = ts[["arm", "replication"]].assign(d=dates.to_numpy(), o=ts["ac_above_norm"].to_numpy() > 0)
    start = over.groupby("arm")["d"].min()
    first = over[over["o"]].groupby(["arm", "replication"])["d"].min()
    reps = over.groupby("arm")["replication"].unique()
    rows = []
    for arm in dict.fromkeys(a["arm"]):
        if arm not in reps.index:
            continue
        w0 = windows.get(arm).first if windows and windows.get(arm) else start[arm].date()
        times = np.array(
            [(first[(arm, r)].date() - w0).days if (arm, r) in first.index else math.inf for r in sorted(reps[arm])],
            float,
        )
        med = _censored_quantile(times, 0.5)
        rows.append(
            {
                "arm": arm,
                "replications": len(times),
                "overflowed": int(np.isfinite(times).sum()),
                "median_days": med,
                "p05_days": _censored_quantile(times, 0.05),
                "p95_days": _censored_quantile(times, 0.95),
                "median_date": (pd.Timestamp(w0) + pd.Timedelta(days=med)).date() if np.isfinite(med) else None,
                "window_first": w0,
            }
        )
    return pd.DataFrame(rows, columns=FIRST_COLUMNS)


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def quantile_table(
    results: Results,
    metrics: Iterable[str] = (
        "emergency_person_nights",
        "emergency_persons_per_night",
        "peak_emergency_occupancy",
        "total_cost_eur",
    ),
) -> pd.DataFrame:
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
