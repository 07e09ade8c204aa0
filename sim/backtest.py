"""``opvangsim backtest``: replay history and compare with what was observed.

The back-test scenarios (``scenarios/backtest_2022.toml``, the default, and
``scenarios/backtest_2015.toml``, which it extends) start from the observed
state of 1 January 2022 (2015) and replay the observed inflow, IND production
and housing tasks. This module runs one with replications (common random
numbers, as ``opvangsim run``), and compares every observed point in
``sim/data/history/observations.csv`` inside the run — COA occupancy (in all
and in emergency locations), status holders waiting, the IND backlog, persons
at the application centres and nights with people sleeping outside Ter Apel —
with the simulated median and 90 % band of that day, and draws the same as a figure.

Calibration is ``opvangsim calibrate`` (:mod:`sim.calibration`: ABC-SMC on the
observations up to a cut-off, never after 2022); ``--evaluate`` runs the
rolling-origin evaluation (:mod:`sim.calibration.evaluate`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.series import band_name, fan_bands
from sim.errors import MAX_SEED, require_range
from sim.executors import SerialExecutor
from sim.experiment import MAX_REPLICATIONS
from sim.files import check_output_file
from sim.runner import load_with_until, replicate
from sim.scenario import DATA_DIR, SCENARIO_DIR, Scenario

OBSERVATIONS = DATA_DIR / "history" / "observations.csv"
DEFAULT_SCENARIO = SCENARIO_DIR / "backtest_2022.toml"
MEASURES = (
    "occupancy_total",
    "occupancy_emergency",
    "status_holders_waiting",
    "ind_backlog",
    "ac_occupancy",
    "sleeping_outside",
)
LABELS = {
    "occupancy_total": "COA occupancy (persons)",
    "occupancy_emergency": "in COA emergency locations (persons)",
    "status_holders_waiting": "status holders waiting (persons)",
    "ind_backlog": "IND backlog, first applications",
    "ac_occupancy": "at the application centres (persons/night)",
    "sleeping_outside": "sleeping outside Ter Apel (persons/night)",
}
# Calibration may only see observations up to this date: later ones are for checking.
CALIBRATION_END = dt.date(2022, 12, 31)
BAND = (0.05, 0.95)  # the 90 % band over replications


def load_observations(path: str | Path = OBSERVATIONS) -> pd.DataFrame:
    """Observed points: date, measure, value, kind (exact | approximate | lower_bound), source, note."""
    obs = pd.read_csv(path, comment="#", parse_dates=["date"])
    unknown = set(obs["measure"]) - set(MEASURES)
    if unknown:
        raise ValueError(f"{Path(path).name}: unknown measure(s) {sorted(unknown)}")
    return obs.sort_values(["measure", "date"]).reset_index(drop=True)


def run_replications(scenario: Scenario, replications: int, seed: int = 1, executor=None) -> pd.DataFrame:
    """Daily time series of every replication, run on ``executor`` (default: in this process),
    with the seeds of ``opvangsim run`` (common random numbers)."""
    records = replicate(scenario, seed, replications, executor or SerialExecutor())
    ts = pd.concat([r.timeseries for r in records], ignore_index=True)
    ts["date"] = pd.to_datetime(ts["date"])
    return ts


def compare(timeseries: pd.DataFrame, observations: pd.DataFrame) -> pd.DataFrame:
    """One row per observed point inside the simulated period: observed, simulated median and 90 % band, error.

    ``error`` is median − observed (persons), ``rel_error`` that over the observed
    value. For a lower bound the error counts only when the median falls below it.
    ``share_positive`` is the share of replications with a value above zero that
    day (for Ter Apel: the share in which people slept outside that night).
    """
    first, last = timeseries["date"].min(), timeseries["date"].max()
    rows = []
    for ob in observations.itertuples(index=False):
        if not (first <= ob.date <= last):
            continue
        values = timeseries.loc[timeseries["date"] == ob.date, ob.measure].to_numpy(float)
        med = float(np.median(values))
        lo, hi = np.quantile(values, BAND)
        err = med - ob.value
        if ob.kind == "lower_bound" and err > 0:
            err = 0.0
        rows.append(
            {
                "date": ob.date.date(),
                "measure": ob.measure,
                "observed": ob.value,
                "kind": ob.kind,
                "median": med,
                "p05": float(lo),
                "p95": float(hi),
                "error": err,
                "rel_error": err / ob.value if ob.value else np.nan,
                "in_band": bool(lo <= ob.value <= hi) or (ob.kind == "lower_bound" and hi >= ob.value),
                "share_positive": float(np.mean(values > 0)),
                "source": ob.source,
            }
        )
    return pd.DataFrame(rows)


def ter_apel_episode(timeseries: pd.DataFrame, start: str = "2022-08-01", end: str = "2022-08-31") -> dict:
    """The August 2022 Ter Apel episode: share of replications above the norm / with people outside."""
    ts = timeseries[(timeseries["date"] >= start) & (timeseries["date"] <= end)]
    if ts.empty:
        return {}
    per_rep = ts.groupby("replication").agg(
        nights_above_norm=("ac_above_norm", lambda v: int((v > 0).sum())),
        nights_outside=("sleeping_outside", lambda v: int((v > 0).sum())),
        peak_outside=("sleeping_outside", "max"),
    )
    return {
        "period": f"{start} – {end}",
        "share_reps_above_norm": float((per_rep["nights_above_norm"] > 0).mean()),
        "share_reps_outside": float((per_rep["nights_outside"] > 0).mean()),
        "median_nights_outside": float(per_rep["nights_outside"].median()),
        "median_peak_outside": float(per_rep["peak_outside"].median()),
    }


def format_table(table: pd.DataFrame) -> str:
    """The comparison as a text table (persons; error in persons and per cent of the observed value)."""
    if table.empty:
        return "(no observed point inside the simulated period)"
    lines = [
        f"{'date':<10}  {'measure':<22}  {'observed':>9}  {'median':>9}  {'90 % band':>17}  {'error':>8}  {'error %':>7}  {'P(>0)':>5}"
    ]
    lines.append("-" * len(lines[0]))
    for r in table.itertuples(index=False):
        mark = {"approximate": "~", "lower_bound": ">"}.get(r.kind, " ")
        band = f"{r.p05:,.0f}–{r.p95:,.0f}"
        lines.append(
            f"{r.date!s:<10}  {r.measure:<22}  {mark}{r.observed:>8,.0f}  {r.median:>9,.0f}  {band:>17}  {r.error:>+8,.0f}  {100 * r.rel_error:>+6.1f}%  {r.share_positive:>5.2f}"
        )
    lines.append(
        "~ approximate (rounded in source); > lower bound (error counted only below it); P(>0): share of replications above zero"
    )
    return "\n".join(lines)


def draw(timeseries: pd.DataFrame, table: pd.DataFrame, path: str | Path) -> Path:
    """Simulated median and 90 % band per measure, with the observed points on top."""
    from matplotlib.figure import Figure  # not pyplot: no backend to switch, no global figure state

    fig = Figure(figsize=(12, 10), layout="constrained")
    axes = fig.subplots(3, 2, sharex=True)
    lo, mid, hi = (band_name(q) for q in (BAND[0], 0.5, BAND[1]))
    runs = timeseries.assign(scenario="backtest", design_point=0)  # one arm: the keys the band function groups by
    for ax, measure in zip(axes.flat, MEASURES):
        q = fan_bands(runs, measure, (BAND[0], 0.5, BAND[1]))
        ax.fill_between(q["date"], q[lo], q[hi], color="tab:blue", alpha=0.25, lw=0, label="simulated 90 % band")
        ax.plot(q["date"], q[mid], color="tab:blue", lw=1.2, label="simulated median")
        obs = table[table["measure"] == measure] if not table.empty else table
        if len(obs):
            ax.scatter(pd.to_datetime(obs["date"]), obs["observed"], color="black", s=18, zorder=3, label="observed")
        ax.set_title(LABELS[measure], fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


# --------------------------------------------------------------------------- command line


def add_arguments(parser) -> None:
    from sim.executors import add_executor_arguments

    parser.add_argument(
        "scenario", nargs="?", default=str(DEFAULT_SCENARIO), help="back-test scenario (default scenarios/backtest_2022.toml)"
    )
    parser.add_argument(
        "--until", help="last simulated day, exclusive (YYYY-MM-DD; up to 2026-01-01, the end of the replayed inflow)"
    )
    parser.add_argument("--replications", "-r", type=int, default=20, help="replications (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    add_executor_arguments(parser, None, at_most="one per replication")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a scenario value"
    )
    parser.add_argument(
        "--figure",
        default="results/backtest/backtest.png",
        help="where to draw the figure (default results/backtest/backtest.png)",
    )
    parser.add_argument("--csv", help="also write the comparison table to this CSV file")
    parser.add_argument(
        "--evaluate",
        action="store_true",
        help="rolling-origin evaluation: calibrate up to the ends of 2017, 2019 and 2021, forecast 6-24 months, score (writes docs/evaluation/)",
    )
    parser.add_argument("--population", type=int, help="with --evaluate: particles per generation (default 30)")
    parser.add_argument("--generations", type=int, help="with --evaluate: generations (default 3)")
    parser.add_argument("--quiet", action="store_true", help="with --evaluate: no progress output")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="with --evaluate: calibrate every origin again, discarding calibration/evaluate_<year>/ (needed after the model or the scenario changed)",
    )


def main(args) -> int:
    from sim.executors import executor_from_args

    require_range("--replications", args.replications, 1, MAX_REPLICATIONS)
    require_range("--seed", args.seed, 0, MAX_SEED)
    if args.evaluate:  # calibrates its own scenario (the 2015 back-test) up to each origin
        from sim.calibration import evaluate

        for opt, value in (("--population", args.population), ("--generations", args.generations)):
            if value is not None:
                require_range(opt, value, 1, 100_000)
        return evaluate.main(args, executor_from_args(args))
    executor = executor_from_args(args, runs=args.replications)
    # validates everything (and the replay's coverage) first
    scenario = load_with_until(args.scenario, args.overrides, args.until)
    check_output_file(args.figure, "--figure")
    if args.csv:
        check_output_file(args.csv, "--csv")
    ts = run_replications(scenario, args.replications, args.seed, executor)
    table = compare(ts, load_observations())
    end = scenario.start_date + dt.timedelta(days=scenario.horizon_days)
    print(
        f"{scenario.name}: {args.replications} replications, {scenario.start_date} to {end} (exclusive), root seed {args.seed}\n"
    )
    print(format_table(table))
    episode = ter_apel_episode(ts)
    if episode:
        print(
            f"\nTer Apel, {episode['period']}: above the norm in {episode['share_reps_above_norm']:.0%} of replications, "
            f"people sleeping outside in {episode['share_reps_outside']:.0%} (median {episode['median_nights_outside']:.0f} nights, "
            f"median peak {episode['median_peak_outside']:.0f} persons)"
        )
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False)
    fig = draw(ts, table, args.figure)
    print(f"\nfigure: {fig}")
    return 0
