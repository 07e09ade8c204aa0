"""The evaluation window: the calendar days over which the metrics of the night count.

A run's summary counts its scenario's window (``evaluation.from_date`` and
``to_date``; by default from one year after the start, so the start state does
not set the peaks). :func:`windows` reads the window of every arm back as
dates. :func:`rewindow` recomputes those metrics for another window (``compare``
and ``report`` ``--from/--to``) from the stored daily time series, with the
definitions of :func:`sim.metrics.summarise`: recomputed for the run's own
window they are the summary's numbers to the last digit (tested).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.arms import arms, with_arm
from sim.analysis.series import emergency_series, is_daily
from sim.calendar import DAYS_PER_YEAR
from sim.scenario import ScenarioError
from sim.store import Results

# the summary's metrics of the night and the daily columns each is computed from (sim.metrics.summarise)
NIGHT_METRICS = {
    "emergency_person_nights": ("occupancy_emergency", "occupancy_crisis"),
    "emergency_persons_per_night": ("occupancy_emergency", "occupancy_crisis"),
    "peak_emergency_occupancy": ("occupancy_emergency", "occupancy_crisis"),
    "ac_days_above_norm": ("ac_above_norm",),
    "ac_person_nights_above_norm": ("ac_above_norm",),
    "ac_peak_occupancy": ("ac_occupancy",),
    "person_nights_outside": ("sleeping_outside",),
    "nights_anyone_outside": ("sleeping_outside",),
    "total_cost_eur": ("cost_eur",),
    "cost_eur_per_year": ("cost_eur",),
    "penalty_cost_eur": ("penalty_eur",),
}
NEEDED_COLUMNS = tuple(dict.fromkeys(c for cols in NIGHT_METRICS.values() for c in cols))
# a metric of the window the daily series cannot give: the yearly checks of the standing task are not a series
NOT_RECOMPUTABLE = ("share_realised_window",)


@dataclasses.dataclass(frozen=True)
class Window:
    """An evaluation window: calendar days [first, end) (``end`` is the first day no longer counted)."""

    first: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    def __str__(self) -> str:
        last = self.end - dt.timedelta(days=1)
        return f"{self.first:%-d %B %Y} to {last:%-d %B %Y} ({self.days:,} days)"


def _start_dates(results: Results, scenarios: dict[str, object] | None = None) -> dict[str, dt.date]:
    """The first simulated day of every arm: from the scenario it ran, else its first time-series date."""
    out: dict[str, dt.date] = {}
    for arm, scenario in (scenarios or {}).items():
        out[arm] = scenario.start_date
    ts = results.timeseries
    if not ts.empty and "date" in ts:
        first = with_arm(ts[["scenario", "design_point", "date"]], arms(results)).groupby("arm")["date"].min()
        for arm, d in first.items():
            out.setdefault(arm, pd.Timestamp(d).date())
    return out


def windows(results: Results, scenarios: dict[str, object] | None = None) -> dict[str, Window | None]:
    """The window each arm's summary counts, as dates; None where the summary predates windows or the
    start date is unknown. ``scenarios``: the scenario each arm ran (arm label -> Scenario), if known."""
    a = arms(results)
    s = with_arm(results.summary, a)
    starts = _start_dates(results, scenarios)
    out: dict[str, Window | None] = {}
    for arm in dict.fromkeys(a["arm"]):
        sub = s[s["arm"] == arm]
        if "window_first_day" not in sub or arm not in starts or sub["window_first_day"].isna().all():
            out[arm] = None
            continue
        first = int(sub["window_first_day"].iloc[0])
        days = int(sub["window_days"].iloc[0])
        start = starts[arm]
        out[arm] = Window(start + dt.timedelta(days=first), start + dt.timedelta(days=first + days))
    return out


def parse_date(text: str | None, option: str) -> dt.date | None:
    """A ``--from``/``--to`` date, or None."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ScenarioError(None, option, f"needs a date YYYY-MM-DD, got {text!r}") from None


def _refuse(path: Path | None, message: str) -> ScenarioError:
    return ScenarioError(path if path is not None else "DIR", "--from/--to", message)


def rewindow(
    results: Results, first: dt.date | None, end: dt.date | None, scenarios: dict[str, object] | None = None
) -> tuple[Results, Window | dict[str, Window]]:
    """The results with the metrics of the night recomputed over [``first``, ``end``) from the daily series.

    ``first`` None: each arm's window starts where its summary's does; ``end`` None: at the end of the
    run. Refused (a :class:`ScenarioError`, exit status 2) when the stored series are not daily per
    replication, lack a column the metrics need, or do not cover the window. ``share_realised_window``
    cannot be recomputed from the series and is left out. Returns the new results and the window.
    """
    path = results.path
    ts = results.timeseries
    if ts.empty or "date" not in ts:
        raise _refuse(path, "these results keep no time series, so the metrics cannot be recomputed for another window")
    if "quantile" in ts or "replication" not in ts or (ts["replication"] < 0).any():
        raise _refuse(
            path,
            "the stored series are quantiles over replications, not one series per replication; "
            "sweep with outputs.replications = 'every' and outputs.resolution = 'daily' to recompute windows",
        )
    if not is_daily(ts):
        raise _refuse(
            path,
            "the stored series are weekly or monthly means, not daily values; "
            "sweep with outputs.resolution = 'daily' to recompute windows",
        )
    missing = [c for c in NEEDED_COLUMNS if c not in ts]
    if missing:
        raise _refuse(
            path,
            f"the stored series lack the column(s) {', '.join(missing)} that the metrics of the night are computed from; "
            "keep them with outputs.timeseries (a sweep) — `opvangsim run` keeps every column",
        )
    if first is not None and end is not None and end <= first:
        raise _refuse(path, f"the window is empty: --to {end} is not after --from {first}")
    a = arms(results)
    own = windows(results, scenarios)
    dates = pd.to_datetime(ts["date"])
    data = with_arm(ts[["scenario", "design_point", "replication"]], a).assign(_date=dates.to_numpy())
    cover = data.groupby("arm")["_date"].agg(["min", "max"])
    chosen: dict[str, Window] = {}
    for arm in dict.fromkeys(a["arm"]):
        run_first = cover.loc[arm, "min"].date()
        run_end = cover.loc[arm, "max"].date() + dt.timedelta(days=1)
        lo = first if first is not None else (own[arm].first if own.get(arm) else run_first)
        hi = end if end is not None else run_end
        if lo < run_first or hi > run_end:
            raise _refuse(
                path,
                f"the window {Window(lo, hi)} does not lie inside the run of {arm} ({Window(run_first, run_end)})",
            )
        if hi <= lo:
            raise _refuse(path, f"the window of {arm} is empty ({lo} to {hi})")
        chosen[arm] = Window(lo, hi)
    day_first = data["arm"].map({k: np.datetime64(w.first) for k, w in chosen.items()}).to_numpy("datetime64[ns]")
    day_end = data["arm"].map({k: np.datetime64(w.end) for k, w in chosen.items()}).to_numpy("datetime64[ns]")
    inside = (data["_date"].to_numpy("datetime64[ns]") >= day_first) & (data["_date"].to_numpy("datetime64[ns]") < day_end)
    t = ts[inside]
    keys = data.loc[inside, ["arm", "replication"]].reset_index(drop=True)
    emerg = emergency_series(t).to_numpy(float)
    frame = keys.assign(
        e=emerg,
        above=t["ac_above_norm"].to_numpy(float),
        above_any=(t["ac_above_norm"].to_numpy() > 0).astype(np.int64),
        ac=t["ac_occupancy"].to_numpy(float),
        out=t["sleeping_outside"].to_numpy(float),
        out_any=(t["sleeping_outside"].to_numpy() != 0).astype(np.int64),
        cost=t["cost_eur"].to_numpy(float),
        pen=t["penalty_eur"].to_numpy(float),
        n=1,
    )
    g = frame.groupby(["arm", "replication"], sort=False).agg(
        e_sum=("e", "sum"),
        e_max=("e", "max"),
        above_days=("above_any", "sum"),
        above_sum=("above", "sum"),
        ac_max=("ac", "max"),
        out_sum=("out", "sum"),
        out_nights=("out_any", "sum"),
        cost=("cost", "sum"),
        pen=("pen", "sum"),
        rows=("n", "sum"),
    )
    days = pd.Series({k: w.days for k, w in chosen.items()})
    g_days = days.reindex(g.index.get_level_values("arm")).to_numpy()
    short = g.index[g["rows"].to_numpy() != g_days]
    if len(short):
        arm, rep = short[0]
        raise _refuse(path, f"the series of {arm}, replication {rep}, lacks days of the window (a day per row is needed)")
    per_day = np.maximum(g_days, 1)
    new = pd.DataFrame(
        {
            "window_days": g_days.astype(np.int64),
            "emergency_person_nights": g["e_sum"].to_numpy(float),
            "emergency_persons_per_night": g["e_sum"].to_numpy(float) / per_day,
            "peak_emergency_occupancy": g["e_max"].to_numpy().astype(np.int64),
            "ac_days_above_norm": g["above_days"].to_numpy().astype(np.int64),
            "ac_person_nights_above_norm": g["above_sum"].to_numpy(float),
            "ac_peak_occupancy": g["ac_max"].to_numpy().astype(np.int64),
            "person_nights_outside": g["out_sum"].to_numpy(float),
            "nights_anyone_outside": g["out_nights"].to_numpy().astype(np.int64),
            "total_cost_eur": g["cost"].to_numpy(float),
            "cost_eur_per_year": g["cost"].to_numpy(float) / per_day * DAYS_PER_YEAR,
            "penalty_cost_eur": g["pen"].to_numpy(float),
        },
        index=g.index,
    )
    starts = cover["min"].map(lambda d: d.date())
    new["window_first_day"] = [(chosen[arm].first - starts[arm]).days for arm, _ in g.index]
    s = with_arm(results.summary, a)
    idx = pd.MultiIndex.from_frame(s[["arm", "replication"]])
    summary = results.summary.copy()
    for col in new.columns:
        summary[col] = new[col].reindex(idx).to_numpy()
    summary = summary.drop(columns=[c for c in NOT_RECOMPUTABLE if c in summary])
    out = dataclasses.replace(results, summary=summary)
    distinct = set(chosen.values())
    return out, (next(iter(distinct)) if len(distinct) == 1 else chosen)


def describe(w: dict[str, Window | None]) -> str:
    """The window(s) in words: one window for every arm, or the arms' windows one by one."""
    known = {k: v for k, v in w.items() if v is not None}
    if not known:
        return "the whole run (these results carry no evaluation window)"
    distinct = list(dict.fromkeys(known.values()))
    if len(distinct) == 1 and len(known) == len(w):
        return str(distinct[0])
    return "; ".join(f"{arm}: {win}" if win is not None else f"{arm}: the whole run" for arm, win in w.items())


def years_of(w: Window) -> list[int]:
    """The calendar years the window touches."""
    return list(range(w.first.year, (w.end - dt.timedelta(days=1)).year + 1))


def per_year(days_in_window: int) -> float:
    """Years in a window of this many days (for per-year rates)."""
    return days_in_window / DAYS_PER_YEAR if days_in_window else math.nan
