"""A sweep directory stays sound whatever happens to the sweep (issue 13 items 6-9).

- Two sweeps started on one directory at the same instant: exactly one runs (process pool and Dask).
- The main process killed (SIGKILL or SIGTERM): no worker process is alive 5 s later, and SIGTERM
  leaves no lock behind.
- A damaged part (any of its files truncated or missing): the resume says so, redoes its runs and
  ends with exactly the results of an uninterrupted sweep.
- A data file a scenario reads changed after the sweep started: the resume is refused, naming it.
- A Dask cluster whose workers or scheduler went away: one line and exit status 3, not a hang.

Scenarios are the baseline shortened to a few weeks, as in tests/test_experiment.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from conftest import BASELINE, ROOT

from sim import cli
from sim.cli import build_parser
from sim.executors import DaskExecutor, SerialExecutor
from sim.experiment import design_points, load_experiment
from sim.jobs import make_chunks, run_chunk
from sim.store import PARTS, PointLabel, encode_part, load_results, part_directories, verify_part, write_encoded
from sim.sweep import LOCK, run_part, run_sweep

REPLAY = ROOT / "sim" / "data" / "history" / "inflow_replay.csv"
MUNICIPALITIES = ROOT / "sim" / "data" / "municipalities.csv"


def write_experiment(d: Path, replications: int = 2, horizon_years: float = 0.1, name: str = "exp.toml") -> Path:
    (d / "a.toml").write_text(f'extends = "{BASELINE}"\nname = "a"\nhorizon_years = {horizon_years}\n')
    path = d / name
    path.write_text(
        f'scenarios = ["a.toml"]\nreplications = {replications}\nroot_seed = 5\n'
        '[[factors]]\nkey = "inflow.first_applications_per_year"\nlevels = [18000, 35000]\n'
        '[outputs]\nresolution = "weekly"\ntimeseries = ["arrivals", "ac_occupancy", "occupancy_total"]\n'
    )
    return path


def frames(res) -> dict[str, pd.DataFrame]:
    return {
        "summary": res.summary.drop(columns="run_seconds"),
        "timeseries": res.timeseries,
        "cycles": res.cycles,
        "failures": res.failures,
    }


def assert_same_results(a, b) -> None:
    for (name, x), y in zip(frames(a).items(), frames(b).values()):
        pd.testing.assert_frame_equal(x, y, obj=name)


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


# --------------------------------------------------------------------------- the lock

# Each process imports everything first, says it is ready, waits for the other, then both start at
# one agreed instant: 0.3 s after the later of the two ready files was written.
AT_THE_SAME_INSTANT = """
import os, sys, time
from pathlib import Path
import sim.sweep, sim.executors, distributed
from sim.cli import main
barrier = Path(sys.argv[1])
(barrier / f"ready-{os.getpid()}").touch()
while len(list(barrier.glob("ready-*"))) < 2:
    time.sleep(0.005)
start = max(p.stat().st_mtime for p in barrier.glob("ready-*")) + 0.3
time.sleep(max(0.0, start - time.time()))
raise SystemExit(main(sys.argv[2:]))
"""


@pytest.mark.integration
@pytest.mark.parametrize("executor", [["--workers", "2"], ["--dask-local", "2"]], ids=["processes", "dask_local"])
def test_two_sweeps_started_at_the_same_instant_on_one_directory_exactly_one_runs(tmp_path, executor):
    path = write_experiment(tmp_path, replications=2)
    out = tmp_path / "out"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    argv = ["sweep", str(path), "--out", str(out), "--quiet", "--chunk", "1", *executor]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", AT_THE_SAME_INSTANT, str(barrier), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser_err = next(err for code, _, err in results if code == 2).strip()
    assert "being written by another sweep" in loser_err and len(loser_err.splitlines()) == 1, loser_err
    res = load_results(out)
    assert len(res.summary) == 4 and not res.summary.duplicated(["design_point", "replication"]).any()
    run_sweep(load_experiment(path), path, tmp_path / "reference", SerialExecutor(), quiet=True)
    assert_same_results(res, load_results(tmp_path / "reference"))
    assert not (out / LOCK).exists()


# --------------------------------------------------------------------------- killing the main process


@pytest.mark.integration
@pytest.mark.parametrize(
    "executor, sig",
    [
        (["--workers", "2"], signal.SIGKILL),
        (["--workers", "2"], signal.SIGTERM),
        (["--dask-local", "2"], signal.SIGKILL),
        (["--dask-local", "2"], signal.SIGTERM),
    ],
    ids=["processes-SIGKILL", "processes-SIGTERM", "dask_local-SIGKILL", "dask_local-SIGTERM"],
)
def test_killing_the_main_sweep_process_leaves_no_worker_alive_after_5_seconds(tmp_path, executor, sig):
    path = write_experiment(tmp_path, replications=4, horizon_years=4)  # runs of several seconds each
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--quiet", "--chunk", "1", *executor],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        deadline = time.monotonic() + 90
        workers: list[psutil.Process] = []
        # wait until two worker processes exist and have been computing for a moment
        while time.monotonic() < deadline and proc.poll() is None:
            workers = [p for p in descendants(proc.pid) if p.cpu_times().user > 0.5]
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert len(workers) >= 2 and proc.poll() is None, "the workers must be running when the main process is killed"
        everything = descendants(proc.pid)
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        t0 = time.monotonic()
        while alive(everything) and time.monotonic() - t0 < 5.0:
            time.sleep(0.1)
        assert not alive(everything), f"alive 5 s after {sig.name}: {[p.cmdline()[:3] for p in alive(everything)]}"
        if sig == signal.SIGTERM:
            assert proc.returncode == 143, proc.stderr.read()
            assert not (out / LOCK).exists(), "SIGTERM must release and remove the lock"
            assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in alive(descendants(proc.pid)):
            p.kill()


# --------------------------------------------------------------------------- damaged parts


def failing_second_level(monkeypatch) -> None:
    """Runs of the second inflow level raise (a model defect stand-in), so parts hold failures too."""
    import sim.model

    real = sim.model.simulate

    def simulate(scenario, *args, **kwargs):
        if scenario.inflow.first_applications_per_year == 35000:
            raise RuntimeError("a deliberate failure for design point 1")
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(sim.model, "simulate", simulate)


@pytest.fixture(scope="module")
def reference_sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("reference")
    path = write_experiment(d, replications=3)
    mp = pytest.MonkeyPatch()
    failing_second_level(mp)
    try:
        run_sweep(load_experiment(path), path, d / "out", SerialExecutor(), chunk=2, quiet=True)
    finally:
        mp.undo()
    return d, path


def truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def scramble(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle: still the right length
    p.write_bytes(bytes(data))


DAMAGE = {"truncated": truncate, "deleted": Path.unlink, "one_byte_flipped": scramble}
PART_FILES = ("summary.parquet", "timeseries.parquet", "cycles.parquet", "failures.parquet", "part.json")


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", PART_FILES)
def test_a_resume_redoes_a_damaged_part_and_ends_with_the_uninterrupted_results(
    tmp_path, monkeypatch, capsys, reference_sweep, name, damage
):
    d, path = reference_sweep
    for f in ("exp.toml", "a.toml"):
        shutil.copy(d / f, tmp_path / f)
    out = tmp_path / "out"
    shutil.copytree(d / "out", out)
    reference = load_results(d / "out")
    assert len(reference.failures) > 0 and len(reference.cycles) > 0
    victim = next(p for p in part_directories(out) if (p / name).exists())
    DAMAGE[damage](victim / name)

    with pytest.raises(Exception) as refused:  # reading a damaged directory is refused, naming the part
        load_results(out)
    assert victim.name in str(refused.value)

    failing_second_level(monkeypatch)
    path = tmp_path / "exp.toml"
    report = run_sweep(load_experiment(path), path, out, SerialExecutor(), chunk=2, quiet=True)
    err = capsys.readouterr().err
    assert f"{victim.name} is damaged" in err and name in err, err
    assert report.ran > 0 and report.already_done < report.total
    assert_same_results(load_results(out), reference)


def test_a_stale_temporary_part_and_a_part_without_index_are_cleaned_up(tmp_path, reference_sweep, monkeypatch):
    d, _ = reference_sweep
    for f in ("exp.toml", "a.toml"):
        shutil.copy(d / f, tmp_path / f)
    out = tmp_path / "out"
    shutil.copytree(d / "out", out)
    shutil.copytree(part_directories(out)[0], out / PARTS / ".tmp-part-000099")  # a sweep killed while writing
    failing_second_level(monkeypatch)
    path = tmp_path / "exp.toml"
    report = run_sweep(load_experiment(path), path, out, SerialExecutor(), quiet=True)
    assert report.ran == len(load_results(d / "out").failures)  # only the failed runs are tried again
    assert not list((out / PARTS).glob(".tmp-*"))
    assert_same_results(load_results(out), load_results(d / "out"))


def test_a_worker_sends_its_part_encoded_and_the_written_part_holds_what_its_runs_returned(tmp_path, monkeypatch):
    """The worker encodes a chunk's part (the process writing parts would otherwise encode every part in
    series with all workers); it sends back no frames, and the written part verifies and reads back as the
    part written from the runs' records in one process."""
    failing_second_level(monkeypatch)  # a failed run too
    path = write_experiment(tmp_path, replications=1)
    exp = load_experiment(path)
    points = design_points(exp, path)
    labels = {p.index: PointLabel(p.scenario.name, p.values) for p in points}
    (chunk,) = make_chunks(
        [(0, 0), (1, 0)], {p.index: p.scenario for p in points}, exp.root_seed, 2, list(exp.outputs.timeseries), "weekly"
    )
    sent = run_part(chunk, labels)
    part, records = sent.part, sent.records
    assert [(r.design_point, r.replication, r.ok) for r in records] == [(0, 0, True), (1, 0, False)]
    assert all(r.summary is None and r.timeseries is None and r.cycles is None for r in records)
    assert "a deliberate failure" in records[1].error
    check = verify_part(write_encoded(tmp_path / "sent", "part-000000", part))
    assert check.ok and check.runs == [(0, 0)] and check.failed == [(1, 0)]
    direct = write_encoded(tmp_path / "direct", "part-000000", encode_part(run_chunk(chunk), labels))
    assert sorted(part.files) == sorted(f.name for f in direct.glob("*.parquet"))
    for name in part.files:
        a, b = pd.read_parquet(check.path / name), pd.read_parquet(direct / name)
        pd.testing.assert_frame_equal(
            a.drop(columns="run_seconds", errors="ignore"), b.drop(columns="run_seconds", errors="ignore")
        )


# --------------------------------------------------------------------------- inputs that changed


@pytest.mark.parametrize("which", ["replay_csv", "municipalities_file"])
def test_a_resume_after_a_data_file_changed_is_refused_naming_the_file(tmp_path, capsys, which):
    if which == "replay_csv":
        data = tmp_path / "inflow.csv"
        shutil.copy(REPLAY, data)
        scenario = (
            f'extends = "{BASELINE}"\nname = "r"\nstart_date = 2022-01-01\nend_date = 2022-02-15\n'
            '[inflow]\nmode = "replay"\nreplay_file = "inflow.csv"\n'
        )
    else:
        data = tmp_path / "munis.csv"
        shutil.copy(MUNICIPALITIES, data)
        scenario = (
            f'extends = "{BASELINE}"\nname = "r"\nhorizon_years = 0.1\n[initial_state]\nmunicipalities_file = "munis.csv"\n'
        )
    (tmp_path / "r.toml").write_text(scenario)
    path = tmp_path / "exp.toml"
    path.write_text('scenarios = ["r.toml"]\nreplications = 1\n')
    out = tmp_path / "out"
    argv = ["sweep", str(path), "--serial", "--quiet", "--out", str(out)]
    assert cli.main(argv) == 0
    manifest = load_results(out).manifest
    assert manifest.input_files[str(data.resolve())] != "missing"
    before = sorted(p.name for p in part_directories(out))
    capsys.readouterr()

    data.write_text(data.read_text() + "\n")  # a changed file, even if only by a blank line
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(data.resolve()) in err and "changed" in err and "--fresh" in err, err
    assert sorted(p.name for p in part_directories(out)) == before
    assert cli.main([*argv, "--fresh"]) == 0


def test_a_run_records_the_digests_of_the_data_files_it_read(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", str(BASELINE), "--until", "2026-01-15", "--quiet", "--out", str(out)]) == 0
    manifest = load_results(out).manifest
    assert manifest.kind == "run" and str(MUNICIPALITIES) in manifest.input_files
    from sim.files import file_digest

    assert manifest.input_files[str(MUNICIPALITIES)] == file_digest(MUNICIPALITIES)


# --------------------------------------------------------------------------- a Dask cluster that goes away


RELEASE = threading.Event()  # lets the in-process worker's task end when the test is done with it


def slow_chunk(x):
    RELEASE.wait(30)
    return x


@pytest.mark.integration
def test_a_dask_cluster_whose_workers_all_went_away_ends_the_sweep_with_a_clear_error():
    from distributed import LocalCluster

    from sim.errors import ExecutorLost

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        with DaskExecutor(scheduler=cluster.scheduler_address, patience=1.0) as executor:
            threading.Timer(1.0, lambda: cluster.scale(0)).start()
            t0 = time.monotonic()
            with pytest.raises(ExecutorLost) as lost:
                list(executor.imap_unordered(slow_chunk, range(3)))
            assert time.monotonic() - t0 < 20, "the watchdog must act after its patience, not wait for the tasks"
        assert "no Dask worker" in str(lost.value) and "\n" not in str(lost.value)
    finally:
        RELEASE.set()
        cluster.close()


@pytest.mark.integration
def test_a_lost_dask_scheduler_ends_the_sweep_with_one_line_and_exit_status_3(tmp_path, capsys):
    path = write_experiment(tmp_path, replications=1)
    file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(),
    )
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        import json

        address = json.loads(file.read_text())["address"]
        # no worker joins: the runs wait; the scheduler is killed long before the patience runs out
        threading.Timer(2.0, scheduler.kill).start()
        t0 = time.monotonic()
        code = cli.main(
            ["sweep", str(path), "--scheduler", address, "--dask-patience", "60", "--quiet", "--out", str(tmp_path / "out")]
        )
        assert time.monotonic() - t0 < 40
    finally:
        scheduler.kill()
        scheduler.wait()
    err = capsys.readouterr().err.strip()
    assert code == 3, err
    assert len(err.splitlines()) == 1 and "lost the connection to the Dask scheduler" in err and "resume" in err, err
    assert "Traceback" not in err


POOL_LEFT_BY_AN_EXCEPTION = """
import numpy as np
from sim.executors import ProcessExecutor

def work(i):
    return np.full(200_000, float(i))  # a result that takes the worker a while to send

class Stop(Exception):
    pass

for trial in range(10):
    try:
        with ProcessExecutor(2) as ex:
            for k, _ in enumerate(ex.imap_unordered(work, range(100))):
                if k == 3:
                    raise Stop
    except Stop:
        pass
print("ended")
"""


def test_a_process_pool_left_by_an_exception_ends_though_a_worker_died_sending_its_result():
    """Leaving the pool on an error, an interrupt or a cancel kills its workers; one killed half-way through
    sending a result once left the pool waiting for the rest for ever (a cancelled proposal in the app never
    ended; on this machine the first of these ten stops hung). Every stop must end, promptly."""
    done = subprocess.run(
        [sys.executable, "-c", POOL_LEFT_BY_AN_EXCEPTION], capture_output=True, text=True, timeout=60, env=env()
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ended"


_DEFAULT_EXECUTOR = """
import os
os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}} if {one_core} else os.sched_getaffinity(0))
from sim.cli import build_parser
from sim.executors import executor_from_args
for argv in (["run", "x.toml"], ["run", "x.toml", "-r", "3"], ["backtest", "-r", "3"], ["sweep", "x.toml"], ["calibrate", "x.toml", "--until", "2022-12-31"]):
    args = build_parser(argv[0]).parse_args(argv)
    # as each command asks: run and backtest at most one worker per replication
    runs = args.replications if argv[0] in ("run", "backtest") else None
    print(" ".join(argv), executor_from_args(args, runs=runs).workers)
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
@pytest.mark.parametrize("one_core", [True, False])
def test_commands_start_one_worker_per_core_the_process_may_use_and_run_no_more_than_replications(one_core):
    """Without --workers, ``run``, ``backtest`` and ``sweep`` start as many local workers as the cores this process
    may run on (its affinity: a batch job on a shared node gets a few of its cores, not every core of the machine),
    ``run`` and ``backtest`` never more than there are replications (one replication runs in the process itself);
    ``calibrate`` keeps its two."""
    out = subprocess.run(
        [sys.executable, "-c", _DEFAULT_EXECUTOR.format(one_core=one_core)], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.splitlines()
    cores = 1 if one_core else len(os.sched_getaffinity(0))
    assert out == [
        "run x.toml 1",
        f"run x.toml -r 3 {min(cores, 3)}",
        f"backtest -r 3 {min(cores, 3)}",
        f"sweep x.toml {cores}",
        "calibrate x.toml --until 2022-12-31 2",
    ]


def test_the_help_names_each_commands_default_number_of_workers():
    """The help says what the command does without --workers: from the same setting the command uses."""
    helps = {c: build_parser(c)._subparsers._group_actions[0].choices[c].format_help() for c in ("run", "sweep", "calibrate")}
    flat = {c: " ".join(h.split()) for c, h in helps.items()}
    assert "(default: one per core this process may use, at most one per replication)" in flat["run"]
    assert "(default: one per core this process may use)" in flat["sweep"]
    assert "(default: 2)" in flat["calibrate"]
