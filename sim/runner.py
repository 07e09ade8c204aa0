"""``opvangsim run``: replications of one scenario, through an executor, written atomically to a results directory.

A run is the simplest batch: design point 0 of one scenario × ``--replications``,
cut into chunks and handed to the same executors as a sweep (:mod:`sim.executors`,
:mod:`sim.jobs`), so replication ``r`` runs with ``replication_seed(root_seed, r)``
whichever executor runs it. The results directory (``timeseries.parquet``,
``summary.parquet``, ``cycles.parquet``, ``manifest.json``; :mod:`sim.store`) is
written only when every replication finished, in one rename.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.analysis.arms import metric_support
from sim.analysis.stats import bounded_mean_ci
from sim.errors import MAX_SEED, RunFailed, UserInputError, require_range
from sim.experiment import MAX_REPLICATIONS
from sim.files import check_output_directory, file_digest
from sim.jobs import RunRecord, chunk_size, estimated_run_seconds, make_chunks, run_chunk
from sim.manifest import FORMAT_VERSION, RunManifest
from sim.model import simulate
from sim.posterior import posteriors_of
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.store import write_run_directory
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
    """One replication in this process, with the seed replication ``r`` of every scenario shares (common random numbers)."""
    seed = replication_seed(root_seed, replication)
    result = simulate(scenario, seed=seed, replication=replication)
    return result.timeseries, result.summary, result.cycles


def replicate(scenario: Scenario, root_seed: int, replications: int, executor, progress: str | None = None) -> list[RunRecord]:
    """Replications ``0 .. replications-1`` of ``scenario`` on ``executor`` (entered here), in replication order.

    A replication that refused its input raises that :class:`UserInputError`; one that failed
    otherwise raises :class:`RunFailed`. ``progress``: a label for a progress bar on stderr.
    """
    runs = [(0, r) for r in range(replications)]
    with executor:
        size = chunk_size(replications, executor.workers, None, estimated_run_seconds(scenario.horizon_days))
        chunks = make_chunks(runs, {0: scenario}, root_seed, size)
        records: list[RunRecord] = []
        bar = tqdm(total=replications, desc=progress, unit="run", disable=progress is None, file=sys.stderr)
        try:
            for batch in executor.imap_unordered(run_chunk, chunks):
                records += batch
                bar.update(len(batch))
        finally:
            bar.close()
    records.sort(key=lambda r: r.replication)
    failed = [r for r in records if not r.ok]
    if failed:
        first = failed[0]
        message = first.error.splitlines()[0]
        if first.input_error:
            raise UserInputError("", message.split(": ", 1)[1])
        raise RunFailed(
            f"{len(failed)} of {replications} replication(s) failed; replication {first.replication} "
            f"(seed {first.seed}): {message}\n{first.error}"
        )
    return records


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


def load_with_until(path: str | Path, overrides: list[str], until: str | None) -> Scenario:
    """The scenario with ``--set`` overrides and ``--until`` (its end date). A problem that only the
    end date causes (before the start, beyond a replayed series) is reported against ``--until``."""
    if until is None:
        return load_scenario(path, overrides)
    try:
        dt.date.fromisoformat(until)
    except ValueError:
        raise UserInputError("--until", f"needs a date YYYY-MM-DD, got {until!r}") from None
    try:
        return load_scenario(path, [*overrides, f"end_date={until}"])
    except ScenarioError as with_until:
        try:
            load_scenario(path, overrides)
        except ScenarioError:
            raise with_until from None  # the file (or --set) is wrong whatever the end date
        key = with_until.key_path.removeprefix("--set ")
        raise UserInputError("--until", f"{key}: {with_until.message}" if key != "end_date" else with_until.message) from None


def _command_line() -> str:
    argv = sys.argv
    return " ".join(["opvangsim"] + argv[1:]) if argv and argv[0].endswith("opvangsim") else " ".join(argv)


def cmd_run(args) -> int:
    from sim.executors import executor_from_args

    require_range("--replications", args.replications, 1, MAX_REPLICATIONS)
    require_range("--seed", args.seed, 0, MAX_SEED)
    executor = executor_from_args(args, runs=args.replications)
    scenario = load_with_until(args.scenario, args.overrides, args.until)
    overrides = [*args.overrides, *([f"end_date={args.until}"] if args.until else [])]
    out = Path(args.out) if args.out else Path("results") / scenario.name
    check_output_directory(out, "--out")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserInputError("--out", f"{out} exists and is not empty; use --force to overwrite or choose another --out")
    inputs = {str(p): file_digest(p) for p in scenario.data_files().values()}
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    records = replicate(scenario, args.seed, args.replications, executor, None if args.quiet else scenario.name)
    summary = pd.DataFrame([r.summary for r in records])
    summary.insert(0, "scenario", scenario.name)
    timeseries = pd.concat([r.timeseries for r in records], ignore_index=True)
    timeseries.insert(0, "scenario", scenario.name)
    frames: dict[str, pd.DataFrame] = {"timeseries.parquet": timeseries, "summary.parquet": summary}
    cycles = [r.cycles for r in records if r.cycles is not None]
    if cycles:
        frames["cycles.parquet"] = pd.concat(cycles, ignore_index=True)
        frames["cycles.parquet"].insert(0, "scenario", scenario.name)
    from sim import __version__
    from sim.experiment import model_code_digest

    manifest = RunManifest(
        format_version=FORMAT_VERSION,
        scenario_name=scenario.name,
        scenario=scenario.canonical(),
        scenario_digest=scenario.digest(),
        scenario_file=str(args.scenario),
        overrides=overrides,
        root_seed=args.seed,
        replications=args.replications,
        seeds=[r.seed for r in records],
        package_version=__version__,
        model_code_digest=model_code_digest(),
        input_files=inputs,
        posteriors=posteriors_of([scenario]),
        executor=executor.label,
        command=_command_line(),
        started=started.isoformat(),
        finished=dt.datetime.now(dt.UTC).isoformat(),
        wall_seconds=round(time.perf_counter() - t0, 3),
        warm_up="none: the run starts from the observed state on the start date (initial_state)",
    )
    try:
        write_run_directory(out, frames, manifest)
    except OSError as exc:  # checked before running; what is left is a full disk or a change meanwhile
        raise UserInputError("--out", f"cannot write {out}: {exc.strerror or exc}; nothing was written") from None
    if scenario.parameters.posterior is not None:
        used = summary["particle"].nunique()
        print(
            f"parameters drawn from {scenario.parameters.posterior}: {used} distinct particle(s) over {args.replications} replication(s)"
        )
    print(
        f"\n{scenario.name}: {args.replications} replication(s), {scenario.start_date} + {scenario.horizon_days} days, root seed {args.seed}"
    )
    print(headline_table(summary))
    print(f"\nwritten to {out}/ ({', '.join(frames)}, manifest.json)")
    return 0
