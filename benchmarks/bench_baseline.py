"""Speed of one 10-year baseline replication against bare SimPy, in one process.

Usage (from the repository root)::

    python benchmarks/bench_baseline.py [--scenario scenarios/baseline.toml] [--seed 1] [--repeat 1] [--profile]

Prints the time of 1,000,000 bare SimPy timeouts (the reference: what this
machine's Python does for the simplest possible event loop), the time of one
baseline replication, their ratio, people simulated per second, the peak
memory of the replication, and how the time grows when the inflow or the
horizon doubles (CPU time of the doubled run over the plain one). Targets
(issue 11): CPU ratio ≤ 1.0, both growth ratios ≤ 2.2, peak resident memory
< 500 MB. Each growth line is followed by the doubled run's work against the plain run's: the baseline's second
decade is not a copy of its first (occupancy rises; 2.38 × the person-nights, 2.51 × the moves, 2.67 × the projects
over 20 years), and a 20-year replication executes 2.28 × the instructions of a 10-year one (callgrind, 7,119 against
3,128 million, 2026-11-30): its time grows about that much or more (here the bigger run was no cheaper per
instruction), above 2.2 × unless a machine runs the second decade's instructions faster than the first's. ``--profile`` adds where one replication spends its time: first per SimPy process (a clock read
around each resume, which barely disturbs the run), then (cProfile) own
time per part of the chain (the module under ``sim/``, with the numpy calls it makes), then the functions
with the most own time, then what small steps cost inside the run (:func:`step_costs`). cProfile charges every call its own overhead, so it overrates functions
called often and underrates a few expensive numpy calls; a sampling profiler gives truer shares, e.g.
``py-spy record -f raw -o prof.txt -- python benchmarks/bench_baseline.py --no-growth --no-memory``
(py-spy is not a dependency: ``pip install py-spy``).
Changes worth a few per cent drown in these machines' noise (the same code measures ~10 % apart within
minutes); to compare two versions, ``--instructions`` counts the instructions of one replication instead
(valgrind's callgrind: a process running two replications minus one running one), which repeats to ~0.6 %. valgrind
is a system package, not a dependency; the three processes it runs (the first compiles the loops for valgrind's
CPU) took ~10 minutes where those loops had been compiled for valgrind before; in a fresh clone the first process
alone ran for over 30 minutes (a 2-core VM, 2026-11).
Why the ratio depends on the machine more than the reference does: the reference is one tight loop whose
code and data stay in the processor's caches, while a run's day is a few hundred different small steps, each
met once a day after the rest of the day has pushed it out of the caches. Measured in the run (the last table of
``--profile``; a 2-core EPYC VM, 2026-11), such a step costs 2-6 times what it costs repeated at once (a numpy
element update 2-3 us against under 1 us, ``np.arange`` 7-8 us against 1-2 us). That is an upper bound for a
step whose kind another step of the day has just used (three numpy element writes taken out of the night's
count saved ~1 us a night, not ~6), but it is why a run costs more than its steps timed in a loop promise: a
machine with larger or less shared caches gives a lower ratio, and the way to a lower ratio is fewer distinct
steps a day, not faster ones (the compiled loops take about a third of a run). One such step is easy to miss: every
array a compiled loop hands back costs a Python call inside numba (:mod:`sim.compiled` says what a call costs);
writing into the caller's arrays and handing back numbers made a run ~5-9 % faster (2026-11).
The reference is measured in the same process, right before the model, so a
busy or slow machine moves both numbers together. With ``--repeat N`` the two are
timed N times in turn and the fastest of each is kept (the least disturbed by other processes); each
doubled run likewise takes turns with a plain one. The first line names the machine: the ratio depends on it.
Before anything is timed, one replication runs in a child process, so that the compiled loops are in numba's cache
(:func:`compiled_first`): neither the times nor this process's peak memory include compiling them. The first
replication in this process still loads them from the cache (a few tenths of a second): ``--repeat 3`` keeps the
fastest, which does not.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TIMEOUTS = 1_000_000
TARGET_RATIO = 1.0
TARGET_GROWTH = 2.2
TARGET_PEAK_BYTES = 500 * 2**20


def bare_simpy_seconds(n: int = REFERENCE_TIMEOUTS) -> tuple[float, float]:
    """Wall and CPU seconds for one process to yield ``n`` timeouts in a fresh Environment."""

    def ticker(env: simpy.Environment):
        for _ in range(n):
            yield env.timeout(1)

    env = simpy.Environment()
    env.process(ticker(env))
    t0, c0 = time.perf_counter(), time.process_time()
    env.run()
    return time.perf_counter() - t0, time.process_time() - c0


def compiled_first(scenario_path: Path, seed: int) -> float:
    """Run the replication once in a child process, so that numba's cache holds its compiled loops (compiled
    there when a source changed since, or on a new machine) and neither this process's times nor its peak memory
    include compiling: in a fresh clone that took ~55 s and raised the process's peak from ~455 to ~715 MiB
    (a 2-core VM, 2026-11). Returns the child's wall seconds; raises CalledProcessError if it failed."""
    import sim

    # the child imports the package this process imported (an installed one may live elsewhere than ROOT)
    code = (
        "import sys; sys.path.insert(0, sys.argv[3]); from sim import load_scenario, simulate; "
        "simulate(load_scenario(sys.argv[1], []), seed=int(sys.argv[2]))"
    )
    package_parent = str(Path(sim.__file__).resolve().parent.parent)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(scenario_path), str(seed), package_parent], check=True)
    return time.perf_counter() - t0


def baseline_seconds(
    scenario_path: Path, seed: int, overrides: list[str] | None = None
) -> tuple[float, float, int, dict, dict[str, float]]:
    """Wall and CPU seconds for one replication (without loading the scenario), people simulated, summary,
    and the work the run did: arrivals, person-nights carried (everyone the chain is responsible for, summed over
    the nights), moves between locations, projects started."""
    from sim import load_scenario
    from sim.model import simulate

    scenario = load_scenario(scenario_path, overrides or [])
    t0, c0 = time.perf_counter(), time.process_time()
    result = simulate(scenario, seed=seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ts = result.timeseries
    work = {
        "arrivals": float(ts["arrivals"].sum()),
        "person-nights": float((ts["occupancy_total"] + ts["waiting_elsewhere"]).sum()),
        "moves": float(ts["moves"].sum()),
        "projects started": float(result.summary.get("projects_started", 0)),
    }
    return wall, cpu, _people(result), result.summary, work


def _people(result) -> int:
    """Persons the chain handled: everyone present on day 0 plus every arrival."""
    ts = result.timeseries
    first = ts.iloc[0]
    initial = int(first["occupancy_total"] - first["arrivals"] + first["housed"] + first["departed"])
    return initial + int(ts["arrivals"].sum())


def work_done(big: dict[str, float], plain: dict[str, float]) -> str:
    """The work of one run as multiples of another's (the work of :func:`baseline_seconds`; a kind the other run
    did none of is left out)."""
    return ", ".join(f"{name} {big[name] / plain[name]:.2f} ×" for name in big if plain.get(name, 0) > 0)


def doubled(scenario_path: Path) -> dict[str, list[str]]:
    """Overrides that double the inflow (first applications, family reunification, shocks) and that double the
    horizon. A replayed inflow or family arrivals driven by the IND's family queue cannot be doubled by a level:
    those scenarios get the horizon only (the printout says so)."""
    from sim import load_scenario

    s = load_scenario(scenario_path)
    horizon = [f"horizon_years={2 * s.horizon_years}"]
    if s.inflow.mode == "replay" or s.procedure.family.drives_arrivals:
        print("growth, inflow doubled   : not measured (the inflow is replayed or driven by the family queue)")
        return {"horizon": horizon}
    shocks = ", ".join(
        f'{{ start = {k.start.isoformat()}, weeks = {k.weeks}, persons = {2 * k.persons}, category = "{k.category}" }}'
        for k in s.inflow.shocks
    )  # a TOML array of inline tables, as --set reads it
    inflow = [
        f"inflow.first_applications_per_year={2 * s.inflow.first_applications_per_year}",
        f"inflow.family_reunification_per_year={2 * s.inflow.family_reunification_per_year}",
        f"inflow.shocks=[{shocks}]",
    ]
    return {"inflow": inflow, "horizon": horizon}


def part_of(filename: str, package: str) -> str | None:
    """The part of the chain a function belongs to: its module under the ``sim`` package at ``package``
    (e.g. ``reception.placement``), ``SimPy`` for the event loop, or None for everything else (numpy,
    builtins, the standard library)."""
    path, package = filename.replace("\\", "/"), package.replace("\\", "/").rstrip("/") + "/"
    if path.startswith(package):
        return path[len(package) :].removesuffix(".py").replace("/", ".")
    if "/simpy/" in path:
        return "SimPy"
    return None


def own_time_by_part(stats: dict, package: str) -> dict[str, float]:
    """Own time (seconds) per part of the chain, from cProfile's raw stats (``pstats.Stats(...).stats``) of a
    run of the ``sim`` package at ``package`` (a directory).

    A function outside the parts (a numpy call, a builtin, a numpy wrapper) is charged to the parts that
    called it, in proportion to the time each call site spent in it, passed up through intermediate callers
    (numpy's Python wrappers) until a part is reached: the parts' times then add up to the whole profile,
    and a part's time is what its own lines and the library calls they make cost. Time that reaches no part
    (the run's own frame, recursion cycles) is listed as ``other``."""
    own: dict = {}
    pending: dict = {}  # function -> own time not yet charged to a part
    for func, (_, _, tt, _, _) in stats.items():
        part = part_of(func[0], package)
        if part is None:
            pending[func] = pending.get(func, 0.0) + tt
        else:
            own[part] = own.get(part, 0.0) + tt
    for _ in range(50):  # pass time one caller level up per round; numpy's wrappers nest a few levels deep
        if not pending:
            break
        passed: dict = {}
        for func, t in pending.items():
            callers = stats[func][4] if func in stats else {}
            shares = {caller: c[2] for caller, c in callers.items() if c[2] > 0} or {
                caller: c[1] for caller, c in callers.items()
            }  # by own time per call site, or by calls when the site's times round to zero
            total = sum(shares.values())
            if total <= 0:
                own["other"] = own.get("other", 0.0) + t
                continue
            for caller, share in shares.items():
                part = part_of(caller[0], package)
                if part is None:
                    passed[caller] = passed.get(caller, 0.0) + t * share / total
                else:
                    own[part] = own.get(part, 0.0) + t * share / total
        pending = passed
    if pending:
        own["other"] = own.get("other", 0.0) + sum(pending.values())
    return own


def time_by_process(run) -> tuple[float, dict[str, tuple[float, int]]]:
    """Wall seconds of ``run()`` and, per SimPy process (its generator function's qualified name), the seconds
    spent in it and how many times it was resumed: a clock read around each resume, which disturbs the run far
    less than a profiler (~0.3 us a resume), so the shares are close to an unprofiled run's. A routine of
    :mod:`sim.routines` counts as the process it stands for, its steps as resumes. What is left is the event
    loop itself (and the routines' bookkeeping) and the work before and after the processes (drawing the
    records, the results)."""
    from simpy.events import Process

    from sim.routines import Environment

    spent: dict[str, float] = {}
    resumes: dict[str, int] = {}
    resume, start = Process._resume, Environment.routine

    def timed_resume(self, event):
        name = self._generator.gi_code.co_qualname
        t0 = time.perf_counter()
        try:
            resume(self, event)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
            resumes[name] = resumes.get(name, 0) + 1

    def timed_start(self, routine):
        # a routine (sim.routines) counted as the process it stands for, each step as a resume: it runs inside a
        # generator that clocks each step (about as much extra per step as the clock around a process's resume)
        name = routine.gi_code.co_qualname

        def clocked():
            while True:
                t0 = time.perf_counter()
                try:
                    delay = next(routine)
                except StopIteration:
                    return
                finally:
                    spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
                    resumes[name] = resumes.get(name, 0) + 1
                yield delay

        start(self, clocked())

    Process._resume, Environment.routine = timed_resume, timed_start
    try:
        t0 = time.perf_counter()
        run()
        total = time.perf_counter() - t0
    finally:
        Process._resume, Environment.routine = resume, start
    return total, {name: (spent[name], resumes[name]) for name in spent}


def step_costs(run) -> dict[str, tuple[float, float, int]]:
    """What small steps of the kinds the chain's daily Python is made of cost inside ``run()`` (a replication):
    for each kind, seconds (median) the first time in a day and at once again, and how many days it was measured.

    Each probe runs once a day, right after the day's first step (the arrivals, :meth:`sim.model.Chain.inflow_process`),
    when the processor's caches hold what that step and the previous day's steps left in them; the kinds take
    turns day by day, and each runs twice in a row. The first time pays for fetching its code and data from memory
    again; the repeat shows the step itself, as a benchmark loop would. In a run, a step whose kind no other step of
    the day has used pays about the first-time figure; one whose kind the day has just used pays less (an upper
    bound, then). The probes touch arrays of their own, not the run's: the run's results are those without them."""
    import numpy as np
    from numba import njit

    from sim import model

    small, large = np.zeros(8, np.int64), np.zeros(4096, np.int64)
    ids, row, values = np.arange(100, dtype=np.int64), np.zeros((4, 30), np.int64), tuple(range(30))

    class Counter:
        n = 0

    def method(counter: Counter, k: int) -> int:  # a method of a part: an attribute updated, a number returned
        counter.n += k
        return counter.n

    @njit(cache=False)
    def compiled_number(a, i):
        a[i] += 1
        return a[i]

    @njit(cache=False)
    def compiled_array(a, i):
        return a[i : i + 3].copy()

    counter = Counter()
    probes = {
        "a Python function call": lambda: method(counter, 1),
        "a numpy element updated": lambda: small.__setitem__(3, small[3] + 1),
        "a short array to a list": lambda: small[:5].tolist(),
        "a slice of an array": lambda: large[100:200],
        "100 ids copied into an array": lambda: large.__setitem__(slice(300, 400), ids),
        "np.arange(110)": lambda: np.arange(10, 120),
        "an empty array made": lambda: np.empty(0, np.int64),
        "a row of 30 numbers written": lambda: row.__setitem__(1, values),
        "a compiled loop, a number back": lambda: compiled_number(small, 2),
        "a compiled loop, an array back": lambda: compiled_array(small, 2),
    }
    for probe in probes.values():  # compiled (and every path warmed) before the run
        probe()
    names = list(probes)
    first: dict[str, list[float]] = {name: [] for name in names}
    again: dict[str, list[float]] = {name: [] for name in names}
    inflow = model.Chain.inflow_process

    def probed_inflow(self, env):
        for day, delay in enumerate(inflow(self, env)):
            name = names[day % len(names)]
            probe = probes[name]
            t0 = time.perf_counter()
            probe()
            t1 = time.perf_counter()
            probe()
            t2 = time.perf_counter()
            first[name].append(t1 - t0)
            again[name].append(t2 - t1)
            yield delay

    model.Chain.inflow_process = probed_inflow
    try:
        run()
    finally:
        model.Chain.inflow_process = inflow
    return {
        name: (float(np.median(first[name])), float(np.median(again[name])), len(first[name])) for name in names if first[name]
    }


def print_profile(scenario_path: Path, seed: int, top: int = 25) -> None:
    """Where one replication spends its time: per SimPy process (:func:`time_by_process`); then (cProfile) own
    time per part of the chain, and the functions with the most own time; then what small steps cost inside the run
    (:func:`step_costs`)."""
    import cProfile
    import pstats

    import sim
    from sim import load_scenario
    from sim.model import simulate

    scenario = load_scenario(scenario_path)
    simulate(scenario, seed=seed)  # the first run in a process loads the compiled loops
    total, by_process = time_by_process(lambda: simulate(scenario, seed=seed))
    print(f"\ntime per SimPy process (a clock around each resume; the run took {total:.3f} s):")
    for name, (t, n) in sorted(by_process.items(), key=lambda kv: -kv[1][0]):
        print(f"  {name:36s} {t:6.3f} s  {100 * t / total:5.1f} %  {n:6d} resumes  {1e6 * t / n:7.1f} us each")
    rest = total - sum(t for t, _ in by_process.values())
    print(f"  {'(event loop, set-up and results)':36s} {rest:6.3f} s  {100 * rest / total:5.1f} %")
    prof = cProfile.Profile()
    prof.enable()
    simulate(scenario, seed=seed)
    prof.disable()
    stats = pstats.Stats(prof, stream=sys.stdout)
    parts = own_time_by_part(stats.stats, str(Path(sim.__file__).parent))
    total = sum(parts.values())
    print("\nown time per part of the chain (numpy and library calls charged to the part that makes them):")
    for part, t in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {part:28s} {t:6.3f} s  {100 * t / total:5.1f} %")
    print()
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    costs = step_costs(lambda: simulate(scenario, seed=seed))
    print("what a small step costs in the run: the first time in a day, and at once again (median; the first is what a")
    print("step pays whose code and data are out of the caches, an upper bound for one whose kind the day has just used):")
    for name, (once, again, days) in costs.items():
        print(f"  {name:32s} {1e6 * once:6.2f} us first  {1e6 * again:6.2f} us again  ({days} days)")


def peak_memory_bytes(scenario_path: Path, seed: int) -> int:
    """Peak bytes allocated by Python/numpy during one replication (tracemalloc; run separately as it slows Python)."""
    from sim import load_scenario, simulate

    scenario = load_scenario(scenario_path)
    tracemalloc.start()
    simulate(scenario, seed=seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def instructions(scenario_path: Path, seed: int) -> int:
    """Instructions (valgrind callgrind) one replication executes in a process that has run one already: a
    process running two replications minus one running one, after one uncounted replication that compiles the
    loops for valgrind's CPU."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise FileNotFoundError("--instructions needs valgrind on the PATH (a system package, e.g. apt install valgrind)")
    # valgrind shows numba a CPU of its own, whose compiled loops are cached apart: a first process under it
    # compiles them (not counted). Each counted process then runs a whole replication first, so every loop is
    # loaded from that cache and every one-time cost is paid before the counted replication: a replication after
    # a few days only (the earlier way) still loaded the loops first called later inside the counted part, a
    # cost that depends on how the code is split into loops (measured: 5,314 M for a replication counted so,
    # 5,161 M for the second one in a process, at 3e75d9b)
    one = f"from sim import load_scenario, simulate; s = load_scenario({str(scenario_path)!r}); simulate(s, seed={seed})"
    counts = []
    for code in (one, one, f"{one}; simulate(s, seed={seed})"):
        cmd = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        found = re.search(r"Collected : (\d+)", out.stderr)
        if out.returncode != 0 or not found:
            raise RuntimeError(f"valgrind failed (exit {out.returncode}): {out.stderr[-500:]}")
        counts.append(int(found.group(1)))
    return counts[2] - counts[1]


def machine() -> str:
    """The processor and the versions, which move the ratio: the same code measured 0.93-1.04 (``--repeat 3``, five
    times) on a machine of these VMs with AVX-512 (numpy sorts with it) and 0.83-1.35 on an AMD EPYC without it
    (2026-11): the reference is pure Python, the model half compiled loops and numpy."""
    import numba
    import numpy as np

    model, avx512 = platform.processor() or platform.machine(), False
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        text = cpuinfo.read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        model = found.group(1).strip() if found else model
        avx512 = bool(re.search(r"^flags\s*:.*\bavx512f\b", text, re.M))
    return (
        f"machine: {model}, {os.cpu_count()} cores{', AVX-512' if avx512 else ', no AVX-512'}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, SimPy {simpy.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="time each part this many times and keep the fastest")
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    ap.add_argument("--no-growth", action="store_true", help="skip the runs with doubled inflow and horizon")
    ap.add_argument("--profile", action="store_true", help="print where one replication spends its time")
    ap.add_argument(
        "--instructions", action="store_true", help="only count one replication's instructions (valgrind; to compare versions)"
    )
    args = ap.parse_args(argv)
    scenario = Path(args.scenario)
    if args.instructions:
        try:
            n = instructions(scenario, args.seed)
        except FileNotFoundError as exc:
            print(f"bench_baseline: {exc}", file=sys.stderr)
            return 2
        print(f"instructions of one replication: {n / 1e6:,.0f} million (callgrind; repeats to ~0.6 %)")
        return 0

    from sim import load_scenario
    from sim.errors import UserInputError

    try:
        load_scenario(scenario)  # a bad file is said in one line, before anything runs
    except UserInputError as exc:
        print(f"bench_baseline: {exc}", file=sys.stderr)
        return 2
    print(machine())
    try:
        seconds = compiled_first(scenario, args.seed)
    except subprocess.CalledProcessError:
        print("bench_baseline: the replication failed in a child process (its error is above)", file=sys.stderr)
        return 1
    print(
        f"compiled loops ready           : {seconds:7.1f} s  (one replication in a child process first; long when it compiled them)"
    )
    # the reference right before each replication, in turn: a machine that speeds up or slows down during the
    # repeats moves both alike (timing all references first and then all replications let a drift of a few per
    # cent over the minute fall on one side of the ratio)
    pairs = [(bare_simpy_seconds(), baseline_seconds(scenario, args.seed)) for _ in range(args.repeat)]
    refs, runs = [ref for ref, _ in pairs], [run for _, run in pairs]
    ref, ref_cpu = min(r[0] for r in refs), min(r[1] for r in refs)
    model_s, model_cpu = min(r[0] for r in runs), min(r[1] for r in runs)
    _, _, people, summary, _ = runs[0]
    ratio, ratio_cpu = model_s / ref, model_cpu / ref_cpu
    print(f"bare SimPy, {REFERENCE_TIMEOUTS:,} timeouts : {ref:7.3f} s wall, {ref_cpu:7.3f} s CPU")
    print(
        f"baseline replication           : {model_s:7.3f} s wall, {model_cpu:7.3f} s CPU  ({summary.get('arrivals_total', 0):,} arrivals, {people:,} people)"
    )
    print(
        f"ratio model / reference        : {ratio:7.2f} wall, {ratio_cpu:7.2f} CPU  (target ≤ {TARGET_RATIO:g}; CPU is the fairer one on a shared machine)"
    )
    print(f"people simulated per second    : {people / model_s:,.0f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(f"peak resident memory (process) : {rss / 2**20:,.0f} MiB  (target < {TARGET_PEAK_BYTES / 2**20:g} MiB)")
    ok = ratio_cpu <= TARGET_RATIO and rss < TARGET_PEAK_BYTES  # judged on CPU time: wall time depends on the neighbours
    if not args.no_growth:
        for what, overrides in doubled(scenario).items():
            # the plain run again right before each doubled one, in turn, as the reference before the replication:
            # measured minutes after the plain runs above, the doubled runs met another machine (these VMs drift by
            # tens of per cent over a minute: the same code read 2.11 and 2.58 for the horizon)
            turns = [
                (baseline_seconds(scenario, args.seed), baseline_seconds(scenario, args.seed, overrides))
                for _ in range(args.repeat)
            ]
            growth = min(big[1] for _, big in turns) / min(plain[1] for plain, _ in turns)
            work = turns[0][1][4]["person-nights"] / turns[0][0][4]["person-nights"]
            # each turn's own ratio too: their spread is this machine's noise on this figure (the same code read
            # 2.15 to 2.71 for the horizon within an hour, 2026-11), which a single number hides
            each = sorted(big[1] / plain[1] for plain, big in turns)
            spread = f" (turns {each[0]:.2f}-{each[-1]:.2f})" if len(each) > 1 else ""
            print(
                f"growth, {what} doubled{' ' * (9 - len(what))}: {growth:7.2f} × CPU time{spread}  (target ≤ {TARGET_GROWTH:g})"
            )
            # the world may not double with its inputs (occupancy that keeps rising carries more person-nights,
            # moves and building in a second decade): what the run did, against the plain run, says whether the
            # cost is linear in the work
            print(f"  its work: {work_done(turns[0][1][4], turns[0][0][4])}; CPU time per person-night {growth / work:.2f} ×")
            ok = ok and growth <= TARGET_GROWTH
    if not args.no_memory:
        peak = peak_memory_bytes(scenario, args.seed)
        print(f"peak traced allocations (model): {peak / 2**20:,.0f} MiB  (target < {TARGET_PEAK_BYTES / 2**20:g} MiB)")
        ok = ok and peak < TARGET_PEAK_BYTES
    print("targets met (CPU ratio, growth, memory)" if ok else "targets NOT met (CPU ratio, growth or memory)")
    if args.profile:
        print_profile(scenario, args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
