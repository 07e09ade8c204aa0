"""``opvangsim sweep``: every design point × replication of an experiment, resumable.

``opvangsim sweep FILE`` writes ``results/<experiment>/``: ``manifest.json``
(:class:`~sim.manifest.SweepManifest`: the experiment and its base scenarios as
resolved, its hash, the digests of the model code and of every data file read)
and one directory per finished chunk of runs under ``parts/`` (:mod:`sim.store`),
moved into place in one rename, so a killed sweep keeps every finished run.

Run again, it verifies every part, redoes the runs of a damaged one (saying so)
and runs only what is missing; if the experiment, the model code or a data file
changed it refuses, naming what changed, unless ``--fresh``. One sweep at a time
writes a directory: an exclusive ``flock`` on ``<out>/.sweep.lock``, released by
the kernel however the sweep ends.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import functools
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic_core import to_jsonable_python

from sim.errors import UserInputError, require_range
from sim.experiment import (
    MAX_REPLICATIONS,
    DesignPoint,
    Experiment,
    base_scenario_data,
    design_points,
    experiment_hash,
    load_experiment,
    model_code_digest,
    resolve,
)
from sim.files import check_output_directory, file_digest
from sim.jobs import Chunk, RunRecord, chunk_size, estimated_run_seconds, make_chunks, run_chunk
from sim.manifest import FORMAT_VERSION, BaseScenarioEntry, SweepManifest, read_manifest, write_manifest
from sim.posterior import posteriors_of
from sim.scenario import ScenarioError, scenario_from_dict
from sim.store import (
    PARTS,
    EncodedPart,
    PointLabel,
    encode_part,
    next_part_number,
    remove_stale_temporaries,
    scan_parts,
    write_encoded,
)

LOCK = ".sweep.lock"  # flock'ed by the sweep writing the directory; holds its process id, for the message


# --------------------------------------------------------------------------- the lock


class SweepLock:
    """Exclusive right to write ``out``: ``flock`` on ``out/.sweep.lock``.

    Taking it is atomic (two sweeps started at the same instant: one gets it), and the kernel
    releases it when the process ends, however it ends, so a killed sweep leaves no stale lock.
    Directories this lock had to create are removed again if the sweep wrote nothing in them.
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        self.path = self.out / LOCK
        self._fd: int | None = None
        self._created: list[Path] = []

    def _make_directories(self) -> None:
        missing = []
        probe = self.out.absolute()
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for d in reversed(missing):
            try:
                d.mkdir()
                self._created.append(d)
            except FileExistsError:  # made by a sweep started at the same instant
                pass

    def __enter__(self) -> SweepLock:
        self._make_directories()
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip()
                os.close(fd)
                raise UserInputError(
                    "--out",
                    f"{self.out}/ is being written by another sweep"
                    + (f" (process {holder})" if holder.isdigit() else "")
                    + "; wait for it to finish or use another --out",
                ) from None
            # a sweep that just finished unlinks the lock file: make sure ours is still the one at the path
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # unlink first, then release: see the inode check above
        os.close(self._fd)
        self._fd = None
        for d in reversed(self._created):  # deepest first; only directories left empty
            try:
                d.rmdir()
            except OSError:
                break


# --------------------------------------------------------------------------- the manifest and the directory


def sweep_manifest(exp: Experiment, file: Path, points: list[DesignPoint]) -> SweepManifest:
    """The manifest of a sweep of ``exp`` (read from ``file``) over ``points``."""
    from sim import __version__

    resolved = resolve(exp, points)
    inputs = sorted({str(path) for p in points for path in p.scenario.data_files().values()})
    bases = []
    for name, path, data, origins in base_scenario_data(exp, file):
        try:
            scenario = scenario_from_dict(data, path, False, origins)
            entry = {"name": scenario.name, "scenario": scenario.canonical(), "digest": scenario.digest()}
        except ScenarioError:  # valid only with the factors' values: keep the data as the files give it
            entry = {"name": str(data.get("name", name)), "scenario": to_jsonable_python(data), "digest": ""}
        bases.append(BaseScenarioEntry(file=name, **entry))
    return SweepManifest(
        format_version=FORMAT_VERSION,
        experiment_name=exp.name,
        experiment_file=str(file),
        experiment_hash=experiment_hash(resolved),
        package_version=__version__,
        model_code_digest=model_code_digest(),
        created=dt.datetime.now(dt.UTC).isoformat(),
        root_seed=exp.root_seed,
        replications=exp.replications,
        n_design_points=len(points),
        factors=[f.key for f in exp.factors],
        outputs=exp.outputs,
        resolved=resolved,
        base_scenarios=bases,
        input_files={path: file_digest(path) for path in inputs},
        posteriors=posteriors_of([p.scenario for p in points]),
    )


def _refuse_resume(file: Path, out: Path, old: SweepManifest, new: SweepManifest) -> None:
    """Refuse to resume ``out`` when its runs would mix with runs of other inputs."""
    how = "rerun with --fresh to discard those results, or use another --out"
    if old.experiment_hash != new.experiment_hash:
        raise ScenarioError(
            file,
            "",
            f"the experiment changed since {out}/ was made (hash {old.experiment_hash[:12]} there, "
            f"{new.experiment_hash[:12]} now); {how}",
        )
    if old.model_code_digest != new.model_code_digest:
        raise ScenarioError(
            file,
            "",
            f"the model code changed since {out}/ was made (code digest {old.model_code_digest[:12]} there, "
            f"{new.model_code_digest[:12]} now): resuming would mix results of two versions; {how}",
        )
    for path in sorted(set(old.input_files) | set(new.input_files)):
        before, now = old.input_files.get(path), new.input_files.get(path)
        if before != now:
            what = "is no longer read" if now is None else "is read now but was not" if before is None else "changed"
            if now == "missing":
                what = "can no longer be read"
            raise ScenarioError(
                path, "", f"this input file {what} since {out}/ was made: resuming would mix runs on two versions of it; {how}"
            )


def check_directory(out: Path, manifest: SweepManifest, file: Path, fresh: bool) -> bool:
    """Whether ``out`` is a sweep of this experiment to resume (True) or a new one (False); refuses a
    directory it must not write. Reads only: called with the lock held, before the executor starts."""
    if fresh:
        return False
    if (out / "manifest.json").exists():
        old = read_manifest(out)
        if not isinstance(old, SweepManifest):
            raise UserInputError("--out", f"{out}/ holds the results of an `opvangsim run`, not of a sweep; use another --out")
        _refuse_resume(file, out, old, manifest)
        return True
    if any(child.name != LOCK for child in out.iterdir()):
        raise UserInputError(
            "--out", f"{out}/ exists and is not a sweep of this experiment (no manifest.json); use --fresh or another --out"
        )
    return False


def prepare_directory(out: Path, manifest: SweepManifest, fresh: bool, resuming: bool, log=None) -> set[tuple[int, int]]:
    """Make ``out`` for this sweep, or ready it for a resume; returns the runs already done.

    Called with the lock held. On a resume every part is verified; a damaged one is removed
    (its runs are redone) and named on ``log``.
    """
    if fresh:
        for child in out.iterdir():
            if child.name != LOCK:
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    if resuming:
        remove_stale_temporaries(out)
        good, damaged = scan_parts(out)
        for part in damaged:
            runs = "its runs" if part.claimed is None else f"its {part.claimed} run(s)"
            print(f"opvangsim: {part.path.name} is damaged ({part.problem}); {runs} will be run again", file=log or sys.stderr)
            shutil.rmtree(part.path)
        return {run for part in good for run in part.runs}
    (out / PARTS).mkdir()
    write_manifest(out, manifest)
    return set()


# --------------------------------------------------------------------------- running


@dataclass
class SweepReport:
    total: int
    already_done: int
    ran: int
    failures: list[dict] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def runs_per_second(self) -> float:
        return self.ran / self.wall_seconds if self.wall_seconds > 0 else float("nan")


@dataclass(frozen=True)
class WorkerPart:
    """What a sweep's worker sends back for a chunk: the part, encoded, and the chunk's records without
    their frames (who ran, with which seed, what failed)."""

    part: EncodedPart
    records: list[RunRecord]


def run_part(chunk: Chunk, labels: dict[int, PointLabel]) -> WorkerPart:
    """On a worker: a chunk's runs (:func:`~sim.jobs.run_chunk`) encoded as a part's files. The one process
    that writes parts then only writes bytes: encoding there (~13 ms a part) ran in series with every worker
    and, with as many workers as cores, took CPU time from them."""
    records = run_chunk(chunk)
    part = encode_part(records, labels)
    return WorkerPart(part, [dataclasses.replace(r, summary=None, timeseries=None, cycles=None) for r in records])


def run_sweep(
    exp: Experiment,
    file: str | Path,
    out: str | Path,
    executor,
    fresh: bool = False,
    chunk: int | None = None,
    quiet: bool = False,
) -> SweepReport:
    """Run every missing (design point, replication) of ``exp`` with ``executor``, writing parts to ``out``."""
    file, out = Path(file), Path(out)
    check_output_directory(out, "--out")
    points = design_points(exp, file)
    manifest = sweep_manifest(exp, file, points)
    t0 = time.perf_counter()
    with SweepLock(out):
        resuming = check_directory(out, manifest, file, fresh)
        # the executor starts (and may fail to reach a scheduler) before anything is written
        with executor:
            done = prepare_directory(out, manifest, fresh, resuming)
            return _run_missing(exp, points, out, executor, done, chunk, quiet, t0)


def _run_missing(
    exp: Experiment,
    points: list[DesignPoint],
    out: Path,
    executor,
    done: set[tuple[int, int]],
    chunk: int | None,
    quiet: bool,
    t0: float,
) -> SweepReport:
    """The runs ``out`` lacks, on an executor that has been entered (``t0``: when the sweep started, perf_counter)."""
    from tqdm import tqdm

    total = len(points) * exp.replications
    # replication-major order: an interrupted sweep has every design point at a similar number of replications
    todo = [(p.index, r) for r in range(exp.replications) for p in points if (p.index, r) not in done]
    size = chunk_size(len(todo), executor.workers, chunk, estimated_run_seconds(max(p.scenario.horizon_days for p in points)))
    chunks = make_chunks(
        todo,
        {p.index: p.scenario for p in points},
        exp.root_seed,
        size,
        list(exp.outputs.timeseries),
        exp.outputs.resolution,
        exp.outputs.cycles,
    )
    labels = {p.index: PointLabel(p.scenario.name, p.values) for p in points}
    number = next_part_number(out)
    report = SweepReport(total=total, already_done=len(done), ran=0)
    bar = tqdm(total=total, initial=len(done), desc=exp.name, unit="run", disable=quiet, file=sys.stderr, dynamic_ncols=True)
    bar.set_postfix(failures=0)
    try:
        for sent in executor.imap_unordered(functools.partial(run_part, labels=labels), chunks):
            write_encoded(out / PARTS, f"part-{number:06d}", sent.part)
            records = sent.records
            number += 1
            report.ran += len(records)
            report.failures += [
                {"design_point": r.design_point, "replication": r.replication, "seed": r.seed, "error": r.error}
                for r in records
                if not r.ok
            ]
            bar.update(len(records))
            bar.set_postfix(failures=len(report.failures), refresh=False)
    finally:
        bar.close()
    report.wall_seconds = time.perf_counter() - t0
    return report


# --------------------------------------------------------------------------- command line


def add_arguments(p) -> None:
    from sim.executors import add_executor_arguments

    p.add_argument("experiment", help="experiment TOML file")
    p.add_argument("--out", help="results directory (default results/<experiment name>)")
    add_executor_arguments(p, None)
    p.add_argument("--chunk", type=int, default=None, help="runs per task (default: automatic, 1–8)")
    p.add_argument(
        "--fresh", action="store_true", help="discard an existing results directory of this experiment and start again"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value in every design point (part of the experiment's identity)",
    )
    p.add_argument(
        "--replications",
        "-r",
        type=int,
        default=None,
        help="replications per design point, instead of the file's (part of the experiment's identity)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args) -> int:
    from sim.executors import executor_from_args

    require_range("--chunk", args.chunk, 1, 10_000)
    require_range("--replications", args.replications, 1, MAX_REPLICATIONS)
    executor = executor_from_args(args)
    exp = load_experiment(args.experiment, args.overrides, args.replications, check_design=False)
    out = Path(args.out) if args.out else Path("results") / exp.name
    report = run_sweep(exp, args.experiment, out, executor, fresh=args.fresh, chunk=args.chunk, quiet=args.quiet)
    print(
        f"{exp.name}: {report.ran} run(s) in {report.wall_seconds:.1f} s ({report.runs_per_second:.2f} runs/s, {executor.label}); "
        f"{len(report.failures)} failed; {report.already_done} of {report.total} were already done; results in {out}/"
    )
    for f in report.failures[:10]:
        print(
            f"  failed: design point {f['design_point']}, replication {f['replication']}, seed {f['seed']}: {f['error'].splitlines()[0]}"
        )
    if len(report.failures) > 10:
        print(f"  … and {len(report.failures) - 10} more (see sim.store.load_results({str(out)!r}).failures)")
    return 1 if report.failures else 0
