"""The benchmark's profile by part of the chain (``benchmarks/bench_baseline.py --profile``): every second of
the profile is charged to exactly one part, library calls to the parts that make them."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "/repo/sim"  # where the profiled run's sim package lives


def _load(name: str):
    """A benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load("bench_baseline")


def _fn(path: str, name: str) -> tuple[str, int, str]:
    return (path, 1, name)


def test_parts_are_modules_under_sim_and_simpy(bench):
    assert bench.part_of("/repo/sim/reception/placement.py", PACKAGE) == "reception.placement"
    assert bench.part_of("C:\\repo\\sim\\model.py", "C:\\repo\\sim") == "model"
    assert bench.part_of("/usr/lib/python3.11/site-packages/simpy/core.py", PACKAGE) == "SimPy"
    assert bench.part_of("/usr/lib/python3.11/site-packages/numpy/_core/fromnumeric.py", PACKAGE) is None
    assert bench.part_of("~", PACKAGE) is None  # builtins
    # another package's ``sim`` folder is not a part of the chain
    assert bench.part_of("/usr/lib/python3.11/site-packages/other/sim/x.py", PACKAGE) is None


def test_library_time_is_charged_to_the_calling_parts_and_nothing_is_lost(bench):
    f = _fn("/repo/sim/reception/placement.py", "place")
    g = _fn("/repo/sim/procedure.py", "decide")
    wrapper = _fn("/lib/site-packages/numpy/_core/fromnumeric.py", "sort")  # numpy's Python wrapper
    builtin = _fn("~", "<method 'sort' of 'numpy.ndarray' objects>")
    loop = _fn("/lib/site-packages/simpy/core.py", "step")
    heappop = _fn("~", "<built-in method _heapq.heappop>")
    # (primitive calls, calls, own time, cumulative time, {caller: (.., .., own time charged to that call site, ..)})
    stats = {
        f: (1, 1, 1.0, 4.0, {}),
        g: (1, 1, 0.25, 0.75, {}),
        wrapper: (2, 2, 0.5, 2.0, {f: (2, 2, 0.5, 2.0)}),
        builtin: (4, 4, 2.0, 2.0, {wrapper: (3, 3, 1.5, 1.5), g: (1, 1, 0.5, 0.5)}),
        loop: (9, 9, 0.3, 0.4, {}),
        heappop: (9, 9, 0.1, 0.1, {loop: (9, 9, 0.1, 0.1)}),
    }
    parts = bench.own_time_by_part(stats, PACKAGE)
    assert parts["reception.placement"] == pytest.approx(1.0 + 0.5 + 1.5)  # its lines, the wrapper, the sort below it
    assert parts["procedure"] == pytest.approx(0.25 + 0.5)
    assert parts["SimPy"] == pytest.approx(0.4)
    assert sum(parts.values()) == pytest.approx(sum(s[2] for s in stats.values()))
    assert parts.get("other", 0.0) == 0.0


def test_time_that_reaches_no_part_is_other(bench):
    top = _fn("~", "<built-in method builtins.exec>")  # called by nobody the profile saw
    stats = {top: (1, 1, 0.2, 0.2, {})}
    assert bench.own_time_by_part(stats, PACKAGE) == {"other": pytest.approx(0.2)}


def burn(seconds: float) -> None:
    """Keep the CPU busy for ``seconds`` (wall clock): a step of known cost."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        pass


def test_time_per_process_counts_each_resume_of_each_process_once_and_restores_simpy(bench):
    """The per-process view: two processes that each burn a known time per resume get that time and their
    number of resumes; nothing else is charged to them; SimPy's own resume is back in place afterwards."""
    import simpy
    from simpy.events import Process

    def slow(env):
        for _ in range(5):
            burn(0.002)
            yield env.timeout(1)

    def fast(env):
        for _ in range(10):
            burn(0.0005)
            yield env.timeout(1)

    def run():
        env = simpy.Environment()
        env.process(slow(env))
        env.process(fast(env))
        env.run()

    original = Process._resume
    total, by_process = bench.time_by_process(run)
    assert Process._resume is original
    (slow_t, slow_n), (fast_t, fast_n) = (by_process[name] for name in sorted(by_process, key=lambda n: "fast" in n))
    assert (slow_n, fast_n) == (6, 11)  # the first resume starts a process, the last ends it
    assert 0.010 <= slow_t < 0.015 and 0.005 <= fast_t < 0.008
    assert slow_t + fast_t <= total


def test_time_per_process_counts_each_routine_as_its_own_process(bench):
    """Routines (sim.routines), which the environment runs without processes, are timed as the processes they
    stand for: each gets the time it burns and one resume per step, its start included."""
    from sim.routines import Environment

    def slow(env):
        for day in range(5):
            burn(0.002)
            yield day + 0.5 - env.now

    def fast(env):
        for day in range(10):
            burn(0.0005)
            yield day + 0.25 - env.now

    def run():
        env = Environment()
        env.routine(slow(env))
        env.routine(fast(env))
        env.run()

    start = Environment.routine
    total, by_process = bench.time_by_process(run)
    assert Environment.routine is start
    slow_t, slow_n = by_process[slow.__qualname__]
    fast_t, fast_n = by_process[fast.__qualname__]
    assert (slow_n, fast_n) == (6, 11)  # the start runs up to the first step, the last step ends the routine
    assert 0.010 <= slow_t < 0.015 and 0.005 <= fast_t < 0.008
    assert slow_t + fast_t <= total


@pytest.fixture(scope="module")
def sweep_bench():
    return _load("bench_sweep")


def test_sweep_benchmark_sides_take_turns_in_an_order_that_reverses(sweep_bench):
    """Paired comparisons (benchmarks/bench_sweep.py): each side runs once per repeat, right next to the others,
    and who goes first alternates, so that a machine speeding up or slowing down meets every side alike."""
    calls = []
    times = sweep_bench.in_turns(
        4, {"pool": lambda: calls.append("pool") or len(calls), "dask": lambda: calls.append("dask") or len(calls)}
    )
    assert calls == ["pool", "dask", "dask", "pool", "pool", "dask", "dask", "pool"]
    assert times == {"pool": [1, 4, 5, 8], "dask": [2, 3, 6, 7]}  # each turn's own figure, in its side's list


def test_sweep_benchmark_decides_a_target_only_when_the_interval_of_the_median_does(sweep_bench):
    """With 5 paired repeats the 90 % interval of the median runs from the lowest to the highest (order
    statistics: each lies below the median with probability 1/2, so all five on one side has probability 1/16):
    a target is met or missed only when every repeat is on one side of it; 3 repeats give no 90 % interval."""
    judged = sweep_bench.judged
    assert judged([1.85, 1.9, 2.0, 1.81, 1.95], "{:.2f}", 1.8, above=True).endswith(": met")
    assert judged([1.85, 1.9, 2.0, 1.79, 1.95], "{:.2f}", 1.8, above=True).endswith(
        "not decided at this noise (more --repeats narrow the interval)"
    )
    assert judged([1.5, 1.6, 1.7, 1.75, 1.79], "{:.2f}", 1.8, above=True).endswith(": not met")
    assert judged([1.0, 2.0, 3.0, 4.0, 4.5], "{:.1f} %", 5.0, above=False).endswith(": met")
    assert judged([6.0, 7.0, 5.0, 9.0, 5.5], "{:.1f} %", 5.0, above=False).endswith(": not met")
    assert "1.0 % to 4.5 %" in judged([1.0, 2.0, 3.0, 4.0, 4.5], "{:.1f} %", 5.0, above=False)
    assert "not decided" in judged([1.0, 2.0, 3.0], "{:.1f}", 5.0, above=False)
    # twelve repeats narrow it to the third lowest and third highest
    assert "(90 % interval of the median 3 to 10)" in judged([float(x) for x in range(1, 13)], "{:.0f}", 0.0, above=True)


def test_baseline_benchmark_names_the_machine(bench):
    """The ratio depends on the processor (the reference is pure Python, the model partly compiled): the output
    says which one measured it."""
    line = bench.machine()
    assert line.startswith("machine: ") and "numpy " in line and "SimPy " in line and "cores" in line


def test_the_work_of_a_doubled_run_is_what_it_did_over_what_the_plain_run_did(bench):
    """The growth lines say how much more the doubled run did, kind by kind, from the run's own results: the
    arrivals and moves of its time series, the person-nights it carried, the projects its summary counts. A kind
    the plain run did none of has no multiple and is left out."""
    scenario = ROOT / "scenarios" / "baseline.toml"
    plain = bench.baseline_seconds(scenario, 3, ["horizon_years=0.5"])[4]
    longer = bench.baseline_seconds(scenario, 3, ["horizon_years=1"])[4]
    assert plain.keys() == {"arrivals", "person-nights", "moves", "projects started"}
    assert all(longer[k] > plain[k] > 0 for k in ("arrivals", "person-nights", "moves"))
    line = bench.work_done(longer, plain)
    assert f"arrivals {longer['arrivals'] / plain['arrivals']:.2f} ×" in line
    assert f"person-nights {longer['person-nights'] / plain['person-nights']:.2f} ×" in line
    assert bench.work_done({"moves": 6.0, "projects started": 4.0}, {"moves": 2.0, "projects started": 0.0}) == "moves 3.00 ×"


def test_step_costs_measure_every_probe_without_changing_the_run(bench):
    """The in-run probes of ``--profile`` report each kind of step, first and repeated, and leave the run as it was:
    the same summary as a run without them, and the chain's arrivals step restored after."""
    from sim import load_scenario, simulate
    from sim.model import Chain

    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml", ["horizon_years=0.25"])
    plain = simulate(scenario, seed=3).summary
    inflow = Chain.inflow_process
    probed: list[dict] = []
    costs = bench.step_costs(lambda: probed.append(simulate(scenario, seed=3).summary))
    assert len(probed) == 1 and probed[0].keys() == plain.keys()
    for key, value in plain.items():  # the same numbers (a metric without cases is NaN in both)
        assert probed[0][key] == value or (value != value and probed[0][key] != probed[0][key]), key
    assert Chain.inflow_process is inflow
    assert len(costs) == 10
    days = scenario.horizon_days
    for once, again, n in costs.values():
        assert once > 0 and again > 0
        assert days // 10 <= n <= days // 10 + 1  # the kinds take turns, one a day
