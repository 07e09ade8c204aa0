"""Sweep speed: speed-up of 2 local workers over 1 (process pool and Dask), and the per-run overhead of Dask.

    python benchmarks/bench_sweep.py [--runs 8] [--horizon-years 3]

Runs of 3 simulated years by default: the shipped sweeps run 6 to 10 years and calibration 8, so a
task's fixed cost weighs less there than here; with 1-year runs (0.17 s) the machine's noise (±7 %
between repeats on these VMs) is larger than the overhead being measured.

Targets (issues 4 and 11): speed-up ≥ 1.8× on 2 cores for processes and for a Dask LocalCluster; Dask
per-run overhead < 5 % of a baseline run (the same runs in one Dask worker and in one process of a pool).
The machine's load average is printed first: other work on the cores lowers the speed-up.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from sim import load_scenario, simulate
from sim.executors import DaskExecutor, ProcessExecutor
from sim.experiment import design_points, load_experiment
from sim.jobs import make_chunks, run_chunk
from sim.streams import replication_seed
from sim.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent


def write_experiment(d: Path, runs: int, horizon_years: float) -> Path:
    path = d / "bench.toml"
    path.write_text(
        f'name = "bench"\nscenarios = ["{ROOT / "scenarios" / "baseline.toml"}"]\nset = ["horizon_years={horizon_years}"]\n'
        f"replications = {runs}\nroot_seed = 11\n"
    )
    return path


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8, help="runs per sweep (default 8)")
    ap.add_argument("--horizon-years", type=float, default=3.0, help="simulated years per run (default 3)")
    ap.add_argument("--repeats", type=int, default=4, help="repeats of the overhead measurement; the fastest counts (default 4)")
    args = ap.parse_args()
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {args.runs} runs of {args.horizon_years} simulated years"
    )

    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml", [f"horizon_years={args.horizon_years}"])
    base = statistics.median(timed(lambda r=r: simulate(scenario, seed=replication_seed(11, r), replication=r)) for r in range(3))
    print(f"baseline run (simulate in this process): {base:.3f} s")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = write_experiment(tmp, args.runs, args.horizon_years)
        exp = load_experiment(path)
        walls = {}
        for workers in (1, 2):
            before, mine = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
            walls[workers] = timed(lambda w=workers: run_sweep(exp, path, tmp / f"w{w}", ProcessExecutor(w), chunk=1, quiet=True))
            after, mine = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time() - mine  # children reaped at shutdown
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            # cores obtained = the workers' CPU time / wall time: what the machine gave, whatever else runs on it;
            # the sweep's own process (writing parts) shares the cores with the workers
            print(
                f"sweep with {workers} worker process(es): {walls[workers]:.2f} s ({args.runs / walls[workers]:.2f} runs/s); "
                f"worker CPU per run {cpu / args.runs:.3f} s; cores obtained {cpu / walls[workers]:.2f}; "
                f"the sweep's own process {1000 * mine / args.runs:.0f} ms CPU per run"
            )
        print(f"speed-up 2 vs 1 workers: {walls[1] / walls[2]:.2f}× (target ≥ 1.8×)")

        # task overhead without start-up: the same chunks of one run each, through each executor
        points = design_points(exp, path)
        chunks = make_chunks(
            [(0, r) for r in range(args.runs)],
            {p.index: p.scenario for p in points},
            exp.root_seed,
            1,
            list(exp.outputs.timeseries),
            exp.outputs.resolution,
            exp.outputs.cycles,
        )
        # the same chunks in one worker process of a pool and in one Dask worker: both out of this process
        # (which hosts the Dask scheduler), each warmed up once, taking turns so that a change of load on the
        # machine hits both alike; the fastest of the repeats counts (other processes only ever add time)
        t0 = time.perf_counter()
        with DaskExecutor(n_local=1) as ex, ProcessExecutor(1) as px:
            startup = time.perf_counter() - t0
            for warm in (ex, px):
                list(warm.imap_unordered(run_chunk, chunks[:1]))  # the worker's imports and first run
            pool_times, dask_times = [], []
            for k in range(args.repeats):
                turns = ((px, pool_times), (ex, dask_times))
                for executor, times in turns if k % 2 == 0 else turns[::-1]:  # who goes first alternates
                    times.append(timed(lambda executor=executor: list(executor.imap_unordered(run_chunk, chunks))))
            pool, dask = min(pool_times), min(dask_times)
            # the task overhead itself, without simulation work to be slowed down by other load:
            # chunks with no runs still carry a scenario there and a result back
            empty = [dataclasses.replace(c, runs=()) for c in chunks] * 5
            round_trip = min(timed(lambda: list(ex.imap_unordered(run_chunk, empty))) for _ in range(args.repeats)) / len(empty)
        with DaskExecutor(n_local=2) as ex:
            dask2 = min(timed(lambda: list(ex.imap_unordered(run_chunk, chunks))) for _ in range(args.repeats))
        per_run = (dask - pool) / args.runs
        print(
            f"one pool process: {pool:.2f} s; Dask LocalCluster (1 worker): {dask:.2f} s (+ {startup:.1f} s start-up, once per sweep)"
        )
        print(f"Dask per-run overhead: {per_run * 1000:.0f} ms = {100 * per_run / base:.1f} % of a baseline run (target < 5 %)")
        print(f"Dask round trip of an empty task: {round_trip * 1000:.1f} ms = {100 * round_trip / base:.1f} % of a baseline run")
        print(f"Dask LocalCluster, 2 workers: {dask2:.2f} s; speed-up 2 vs 1 workers: {dask / dask2:.2f}× (target ≥ 1.8×)")


if __name__ == "__main__":
    main()
