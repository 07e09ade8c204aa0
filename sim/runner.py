"""``opvangsim run``: replications of one scenario, written atomically to a results directory."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.analysis.arms import metric_support
from sim.analysis.stats import bounded_mean_ci
from sim.model import simulate
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.streams import replication_seed

HEADLINE = (
    ("emergency_person_nights", "emergency person-nights", "{:,.0f}"),
    ("peak_emergency_occupancy", "peak emergency occupancy (persons)", "{:,.0f}"),
    ("ac_days_above_norm", "days Ter Apel above norm", "{:,.0f}"),
    ("ac_peak_occupancy", "peak application-centre occupancy", "{:,.0f}"),
    ("person_nights_outside", "person-nights sleeping outside", "{:,.0f}"),
    ("moves_per_person", "moves per person", "{:.2f}"),
    ("mean_registration_wait_days", "mean registration wait (days)", "{:.2f}"),
    ("mean_days_to_decision", "mean days to decision", "{:,.0f}"),
    ("mean_housing_wait_days", "mean housing wait (days)", "{:,.0f}"),
    ("total_cost_eur", "total cost (EUR million)", "{:,.0f}"),
    ("penalty_cost_eur", "penalty payments (EUR million)", "{:,.1f}"),
    ("share_realised_by_deadline", "share of task realised by deadline", "{:.2f}"),
)


def run_replication(scenario: Scenario, root_seed: int, replication: int) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """One replication with the seed that replication ``r`` of every scenario shares (common random numbers)."""
    seed = replication_seed(root_seed, replication)
    result = simulate(scenario, seed=seed, replication=replication)
    return result.timeseries, result.summary, result.cycles


def _run_packed(args) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    scenario_json, root_seed, replication = args
    return run_replication(Scenario.model_validate_json(scenario_json), root_seed, replication)


def headline_table(summary: pd.DataFrame) -> str:
    """The headline metrics as a text table: mean and 95 % confidence interval over replications."""
    rows = []
    for key, label, fmt in HEADLINE:
        if key not in summary:
            continue
        scale = 1e6 if key.endswith("_eur") else 1.0
        iv = bounded_mean_ci(summary[key].to_numpy() / scale, metric_support(key))  # stays inside the metric's range
        m, lo, hi = iv.mean, iv.low, iv.high
        ci = "" if np.isnan(lo) else f"[{fmt.format(lo)} – {fmt.format(hi)}]"
        rows.append((label, fmt.format(m), ci))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{'metric':<{w0}}  {'mean':>{w1}}  95 % CI", "-" * (w0 + w1 + 24)]
    lines += [f"{a:<{w0}}  {b:>{w1}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def write_atomic(out: Path, files: dict[str, object], force: bool) -> None:
    """Write every file into a temporary sibling directory, then move it into place in one rename."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, obj in files.items():
            target = tmp / name
            if isinstance(obj, pd.DataFrame):
                obj.to_parquet(target, index=False)
            else:
                target.write_text(json.dumps(obj, indent=2, default=str))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def cmd_run(args) -> int:
    overrides = list(args.overrides)
    if args.until:
        overrides.append(f"end_date={args.until}")
    scenario = load_scenario(args.scenario, overrides)
    if args.replications < 1:
        raise ScenarioError(None, "--replications", "must be ≥ 1")
    out = Path(args.out) if args.out else Path("results") / scenario.name
    if out.exists() and any(out.iterdir()) and not args.force:
        raise ScenarioError(None, "--out", f"{out} exists and is not empty; use --force to overwrite or choose another --out")
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    reps = range(args.replications)
    series, summaries, cycles = [], [], []
    bar = tqdm(total=args.replications, desc=f"{scenario.name}", unit="run", disable=args.quiet, file=sys.stderr)
    if args.workers > 1 and args.replications > 1:
        payload = scenario.model_dump_json()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for ts, summ, cyc in pool.map(_run_packed, [(payload, args.seed, r) for r in reps]):
                series.append(ts), summaries.append(summ), cycles.append(cyc)
                bar.update()
    else:
        for r in reps:
            ts, summ, cyc = run_replication(scenario, args.seed, r)
            series.append(ts), summaries.append(summ), cycles.append(cyc)
            bar.update()
    bar.close()
    summary = pd.DataFrame(summaries)
    summary.insert(0, "scenario", scenario.name)
    timeseries = pd.concat(series, ignore_index=True)
    timeseries.insert(0, "scenario", scenario.name)
    files: dict[str, object] = {"timeseries.parquet": timeseries, "summary.parquet": summary}
    cyc = [c for c in cycles if len(c)]
    if cyc:
        cycles_df = pd.concat(cyc, ignore_index=True)
        cycles_df.insert(0, "scenario", scenario.name)
        files["cycles.parquet"] = cycles_df
    from sim import __version__

    files["manifest.json"] = {
        "kind": "run",
        "scenario_name": scenario.name,
        "scenario": scenario.canonical(),
        "scenario_digest": scenario.digest(),
        "scenario_file": str(args.scenario),
        "overrides": overrides,
        "root_seed": args.seed,
        "replications": args.replications,
        "seeds": [int(s) for s in summary["seed"]],
        "package_version": __version__,
        "command": " ".join(["opvangsim"] + sys.argv[1:])
        if sys.argv and sys.argv[0].endswith("opvangsim")
        else " ".join(sys.argv),
        "started": started.isoformat(),
        "finished": dt.datetime.now(dt.UTC).isoformat(),
        "wall_seconds": round(time.perf_counter() - t0, 3),
        "warm_up": "none: the run starts from the observed state on the start date (initial_state)",
    }
    write_atomic(out, files, force=True)
    print(
        f"\n{scenario.name}: {args.replications} replication(s), {scenario.start_date} + {scenario.horizon_days} days, root seed {args.seed}"
    )
    print(headline_table(summary))
    print(f"\nwritten to {out}/ (timeseries.parquet, summary.parquet{', cycles.parquet' if cyc else ''}, manifest.json)")
    return 0
