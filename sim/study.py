"""A study: a baseline and variants run alike, then compared and reported — ``opvangsim study FILE``.

A study file (TOML, e.g. ``studies/terms.toml``) names a baseline scenario
file and variant files (each optionally with its own ``set`` overrides and
name), the replications, the root seed, the evaluation window and what to
keep. Every arm (the baseline and each variant) runs as a sweep of its one
scenario (:func:`sim.sweep.run_sweep`) into ``<out>/<arm>/``, all with
the same root seed, replications, window and global ``set``: replication r of
every arm uses the same seeds, so the comparison is paired, and the numbers are
those of ``opvangsim run FILE --seed S -r N`` on each file (tested). The
sweeps make the study resumable: run it again and only what is missing runs.
Then ``<out>/analysis/`` (the ``compare`` tables as CSV) and
``<out>/report/report.html`` are written.

From Python (what a web page or a notebook calls)::

    from sim.study import load_study, run_study
    from sim.executors import ProcessExecutor
    out = run_study(load_study("studies/terms.toml"), "results/terms", ProcessExecutor(2),
                    progress=lambda done, total, arm: print(done, total, arm),
                    cancel=stop_event.is_set)

``cancel`` is asked after every finished chunk of runs; when it returns true
the study stops with :class:`StudyCancelled` after the runs in flight finish
(what finished is kept; running the study again resumes it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr, ValidationError

from sim.params import Strict, param
from sim.scenario import ScenarioError, _format_error, load_scenario, read_toml

STUDY_FILE = "study.json"  # the study as resolved, written into its results directory
Progress = Callable[[int, int, str], None]  # (runs done, runs in the study, arm running)


class StudyCancelled(Exception):
    """The study was cancelled (its ``cancel`` returned true); the runs that finished are kept."""


# --------------------------------------------------------------------------- the file


class Arm(Strict):
    """A scenario of the study: a file, optionally with overrides of its own and a name."""

    file: str = param(..., unit="path", desc="scenario file, relative to the study file", source="scenario choice", min_length=1)
    name: str | None = param(
        None,
        unit="-",
        desc="name of the arm (default: the scenario's name); also its results directory",
        source="scenario choice",
    )
    set: list[str] = param(
        [], unit="-", desc="key=value overrides of this arm only, after the study's set (like --set)", source="scenario choice"
    )


class EvaluationWindow(Strict):
    """The evaluation window every arm counts its metrics of the night over (each scenario's [evaluation])."""

    from_date: dt.date | None = param(None, unit="date", desc="first day counted", source="scenario choice")
    to_date: dt.date | None = param(None, unit="date", desc="first day no longer counted", source="scenario choice")


class Study(Strict):
    """A study file: a baseline and variants, run with the same seeds, replications and window, then compared."""

    name: str | None = param(
        None, unit="-", desc="name of the results directory (default: the file's stem)", source="scenario choice"
    )
    description: str = param("", unit="-", desc="what the study asks", source="scenario choice")
    baseline: str | Arm = param(
        ..., unit="path", desc="the baseline scenario file (or a table: file, name, set)", source="scenario choice"
    )
    variants: list[str | Arm] = param(
        ..., unit="path", desc="variant scenario files (or tables: file, name, set)", source="scenario choice", min_length=1
    )
    replications: int = param(..., unit="-", desc="replications of every arm", source="scenario choice", ge=1)
    root_seed: int = param(
        1,
        unit="-",
        desc="root seed: replication r of every arm uses replication_seed(root_seed, r)",
        source="scenario choice",
        ge=0,
    )
    set: list[str] = param([], unit="-", desc="key=value overrides of every arm (like --set)", source="scenario choice")
    evaluation: EvaluationWindow = param(
        EvaluationWindow(), unit="-", desc="the evaluation window of every arm", source="scenario choice"
    )
    timeseries: list[str] | None = param(
        None,
        unit="-",
        desc="daily monitor columns each run keeps (default: every column, as opvangsim run does)",
        source="scenario choice",
    )
    _file: Path | None = PrivateAttr(None)

    def arms(self) -> list[Arm]:
        """The baseline, then the variants, as :class:`Arm` tables."""
        return [a if isinstance(a, Arm) else Arm(file=a) for a in [self.baseline, *self.variants]]

    def common_set(self) -> list[str]:
        """The overrides every arm gets: the study's ``set``, then its window."""
        window = [f"evaluation.{k}={v}" for k, v in self.evaluation.model_dump().items() if v is not None]
        return [*self.set, *window]

    @property
    def base_dir(self) -> Path:
        """Where the arms' files are looked up: the study file's directory (else the working directory)."""
        return self._file.parent if self._file is not None else Path.cwd()


def load_study(path: str | Path, overrides: list[str] | None = None, replications: int | None = None) -> Study:
    """Read and validate a study file; ``overrides`` (--set) and ``replications`` (-r) come from the command line."""
    path = Path(path)
    data = read_toml(path)
    if overrides:
        data["set"] = list(data.get("set", [])) + list(overrides)
    if replications is not None:
        data["replications"] = replications
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        key, message = _format_error(exc.errors()[0])
        raise ScenarioError(path, key, message) from None
    if study.name is None:
        study = study.model_copy(update={"name": path.stem})
    study._file = path
    return study


@dataclass(frozen=True)
class ResolvedArm:
    """An arm as it will run: its name, file (relative to the study's directory), overrides and scenario digest."""

    name: str
    file: str
    overrides: list[str]
    digest: str


def resolve(study: Study, where: str | Path = "") -> list[ResolvedArm]:
    """Every arm validated (its file, the study's overrides and its own), before anything runs.

    Bad input is refused here, naming the study file and the arm: a missing file, a bad override,
    two arms with one name.
    """
    out: list[ResolvedArm] = []
    for i, arm in enumerate(study.arms()):
        key = "baseline" if i == 0 else f"variants.{i - 1}"
        overrides = study.common_set() + ([f"name={arm.name}"] if arm.name else []) + arm.set
        path = study.base_dir / arm.file
        if not path.is_file():
            raise ScenarioError(where or study._file, key, f"file not found: {arm.file} (looked in {study.base_dir})")
        try:
            scenario = load_scenario(path, overrides)
        except ScenarioError as exc:
            raise ScenarioError(where or study._file, key, f"{arm.file}: {exc}") from None
        if scenario.name in {a.name for a in out}:
            raise ScenarioError(
                where or study._file, key, f"two arms are named '{scenario.name}'; give each a distinct name (name = ...)"
            )
        if scenario.name in ("analysis", "report"):
            raise ScenarioError(
                where or study._file, key, f"an arm cannot be named '{scenario.name}' (a directory of the study's own)"
            )
        out.append(ResolvedArm(scenario.name, arm.file, overrides, scenario.digest()))
    return out


# --------------------------------------------------------------------------- running


class _Lent:
    """An executor that is already running, lent to one sweep after another.

    Entering and leaving it do nothing (its owner, :func:`run_study`, started it once for every arm);
    after each finished chunk of runs it reports progress and asks whether to stop.
    """

    def __init__(self, inner: Any, on_chunk: Callable[[int], None], on_start: Callable[[int], None]):
        self.inner = inner
        self.on_chunk = on_chunk
        self.on_start = on_start

    @property
    def workers(self) -> int:
        return self.inner.workers

    @property
    def label(self) -> str:
        return self.inner.label

    def __enter__(self) -> _Lent:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        self.on_start(sum(len(_runs(c)) for c in items))
        for sent in self.inner.imap_unordered(fn, items):
            yield sent  # the sweep writes the chunk's part before asking for the next
            self.on_chunk(len(sent.records))  # a WorkerPart (sim.sweep.run_part)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _finished(directory: Path) -> int:
    """Runs with a summary row in an arm's sweep directory (its parts' row counts, read from the Parquet metadata)."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in sorted(directory.glob("parts/part-*/summary.parquet")))


def _runs(chunk: Any) -> list:
    """The runs of a chunk of the sweep (a dict today; an object with ``runs`` in the typed job API)."""
    return chunk["runs"] if isinstance(chunk, dict) else list(chunk.runs)


@dataclass
class StudyRun:
    """What :func:`run_study` did: where, and the runs that failed (design point, replication, seed, error) per arm."""

    out: Path
    arms: list[ResolvedArm]
    ran: int
    failures: dict[str, list[dict]]


def run_arms(
    study: Study,
    out: str | Path,
    executor: Any,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    fresh: bool = False,
) -> StudyRun:
    """Run every missing run of every arm (resumable), on ``executor`` (started here, once)."""
    from sim.experiment import Experiment, Outputs
    from sim.metrics import COLUMNS
    from sim.sweep import run_sweep

    out = Path(out)
    arms = resolve(study)
    if out.exists() and not out.is_dir():
        raise ScenarioError(out, "", "exists and is not a directory; choose another --out")
    if out.exists() and any(out.iterdir()) and not (out / STUDY_FILE).exists():
        raise ScenarioError(out, "", "exists and is not the results of a study; choose another --out")
    if (out / STUDY_FILE).exists():
        before = [a.get("name") for a in _read_json(out / STUDY_FILE).get("arms", [])]
        if fresh:
            import shutil

            for child in out.iterdir():  # what a study writes, nothing else
                if child.name in {*before, *(a.name for a in arms), "analysis", "report", STUDY_FILE}:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        elif before != [a.name for a in arms]:
            raise ScenarioError(
                out,
                "",
                f"holds a study of the arms {', '.join(map(str, before))}, not {', '.join(a.name for a in arms)}: "
                "use --fresh to start it again, or another --out",
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / STUDY_FILE).write_text(
        json.dumps(
            {
                "study": study.model_dump(mode="json"),
                "study_file": str(study._file) if study._file else None,
                "arms": [a.__dict__ for a in arms],
            },
            indent=2,
        )
        + "\n"
    )
    outputs = Outputs(timeseries=list(study.timeseries or COLUMNS), resolution="daily", replications="every", cycles=True)
    total = len(arms) * study.replications
    state = {"done": 0, "arm": ""}
    cancelled = cancel or (lambda: False)

    def report_progress() -> None:
        if progress is not None:
            progress(state["done"], total, state["arm"])
        if cancelled():
            raise StudyCancelled(f"study {study.name} cancelled after {state['done']} of {total} runs; run it again to resume")

    def on_start(missing: int) -> None:
        state["done"] += study.replications - missing
        report_progress()

    def on_chunk(n: int) -> None:
        state["done"] += n
        report_progress()

    failures: dict[str, list[dict]] = {}
    ran = 0
    file = study._file if study._file is not None else study.base_dir / f"{study.name}.study.toml"
    finished = [_finished(out / arm.name) for arm in arms]
    state["done"] = sum(finished)
    report_progress()
    with executor:
        lent = _Lent(executor, on_chunk, on_start)
        for i, arm in enumerate(arms):
            # the arms before are done; of this one and those after, what finished earlier
            state["arm"], state["done"] = arm.name, i * study.replications + sum(finished[i + 1 :])
            exp = Experiment(
                name=arm.name,
                description=f"arm {arm.name} of study {study.name}",
                scenarios=[arm.file],
                set=arm.overrides,
                replications=study.replications,
                root_seed=study.root_seed,
                outputs=outputs,
            )
            result = run_sweep(exp, file, out / arm.name, lent, fresh=False, quiet=True)
            ran += result.ran
            state["done"] = (i + 1) * study.replications
            if result.failures:
                failures[arm.name] = result.failures
    if progress is not None:
        progress(total, total, "")
    return StudyRun(out, arms, ran, failures)


def run_study(
    study: Study,
    out: str | Path,
    executor: Any,
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    fresh: bool = False,
    settings: Any = None,
    unpaired: bool = False,
    report: bool = True,
    svg: bool = False,
) -> Path:
    """Run ``study`` on ``executor`` into ``out`` (resuming what is there), compare and report; returns ``out``.

    ``progress(done, total, arm)`` is called as runs finish; ``cancel()`` is asked after each chunk
    of runs (true: :class:`StudyCancelled`). ``settings``: the risk thresholds
    (:class:`sim.analysis.RiskSettings`; default: chosen from the window's distribution).
    Runs that failed are reported with :class:`StudyFailed` and nothing is compared, unless ``unpaired``
    (then what finished is compared as independent samples).
    """
    done = run_arms(study, out, executor, progress, cancel, fresh)
    if done.failures and not unpaired:
        raise StudyFailed(done)
    analyse(done, settings, unpaired, report, svg)
    return done.out


class StudyFailed(Exception):
    """Runs of the study raised; the others are kept (running the study again runs the failed ones again)."""

    def __init__(self, run: StudyRun):
        self.run = run
        n = sum(len(v) for v in run.failures.values())
        first_arm, first = next(iter(run.failures.items()))
        f = first[0]
        super().__init__(
            f"{n} run(s) of the study failed, so it cannot be compared; first: arm {first_arm}, replication {f['replication']}, "
            f"seed {f['seed']}: {str(f['error']).splitlines()[0]}"
        )


@dataclass
class Analysed:
    """The comparison of a study: the prepared results, the tables and the report's path."""

    prepared: Any
    tables: dict
    report: Path | None


def analyse(run: StudyRun, settings: Any = None, unpaired: bool = False, report: bool = True, svg: bool = False) -> Analysed:
    """``compare`` and ``report`` on the study's results: ``<out>/analysis/`` and ``<out>/report/``."""
    from sim import analysis as an
    from sim.report import make_report

    settings = settings if settings is not None else an.RiskSettings()
    prep = an.prepare(run.out, run.arms[0].name, unpaired=unpaired)
    tables = an.write_tables(prep, settings, run.out / "analysis")
    target = None
    if report:
        target, _, _ = make_report(run.out, run.out / "report", prep.baseline, settings, svg=svg, prepared=prep)
    return Analysed(prep, tables, target)


# --------------------------------------------------------------------------- command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    from sim.analysis import add_risk_arguments

    p.add_argument("study", help="study TOML file (e.g. studies/terms.toml)")
    p.add_argument("--out", help="results directory (default results/<study name>)")
    from sim.executors import add_executor_arguments

    add_executor_arguments(p, None)
    p.add_argument("--fresh", action="store_true", help="discard the study's earlier results and start again")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a value in every arm"
    )
    p.add_argument("--replications", "-r", type=int, default=None, help="replications of every arm, instead of the file's")
    p.add_argument("--unpaired", action="store_true", help="compare as independent samples (Welch) instead of paired")
    p.add_argument("--no-report", action="store_true", help="run and compare, but write no HTML report")
    p.add_argument("--svg", action="store_true", help="also write the report's figures as SVG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_risk_arguments(p)


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim import analysis as an
    from sim.errors import UserInputError, require_range
    from sim.executors import executor_from_args
    from sim.experiment import MAX_REPLICATIONS
    from sim.files import check_output_directory

    require_range("--replications", args.replications, 1, MAX_REPLICATIONS)
    executor = executor_from_args(args)
    if args.baseline is not None:
        raise UserInputError("--baseline", "a study's baseline is the one its file names")
    settings = an.risk_settings(args)
    study = load_study(args.study, args.overrides, args.replications)
    resolve(study)  # bad input is refused before an executor starts
    out = Path(args.out) if args.out else Path("results") / study.name
    check_output_directory(out, "--out")
    bar = tqdm(total=0, unit="run", disable=args.quiet, file=sys.stderr, dynamic_ncols=True, desc=study.name)

    def progress(done: int, total: int, arm: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(arm, refresh=False)
        bar.refresh()

    try:
        run = run_arms(study, out, executor, progress, fresh=args.fresh)
    finally:
        bar.close()
    if run.failures:
        for arm, fails in run.failures.items():
            for f in fails[:5]:
                print(f"  failed: {arm}, replication {f['replication']}, seed {f['seed']}: {str(f['error']).splitlines()[0]}")
        failed = sum(len(v) for v in run.failures.values())
        if not args.unpaired:
            print(
                f"opvangsim: {failed} run(s) failed, so the arms cannot be paired replication by replication: nothing compared. "
                f"Run the study again to retry them (the others are kept in {out}/), or add --unpaired to compare "
                "what finished as independent samples.",
                file=sys.stderr,
            )
            return 1
    analysed = analyse(run, settings, args.unpaired, not args.no_report, args.svg)
    print(an.format_tables(analysed.prepared, analysed.tables, settings))
    print(f"\n{study.name}: {run.ran} run(s) now, {len(run.arms)} arms × {study.replications} replications in {out}/")
    if run.failures:
        print(f"WARNING: {sum(len(v) for v in run.failures.values())} run(s) failed; compared unpaired without them")
    print(f"tables: {out}/analysis/")
    if analysed.report is not None:
        print(f"report: {analysed.report}")
    return 0
