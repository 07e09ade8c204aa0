"""A proposal run as a study: its files, its place in the cache, and the job that runs it in the background.

A proposal becomes three TOML files in a directory of its own, the study a
modeller reruns with ``opvangsim study study.toml``: ``baseline.toml`` (the
starting scenario, merged: no ``extends``), ``proposal.toml`` (the same with
the lever values) and ``study.toml`` (both arms, the replications, the root
seed, the run length and the window). The directory is named by a digest of
what decides the numbers: the arms' scenario digests (:func:`sim.study.resolve`),
the replications, the root seed and the model code. A second look at the same
proposal finds its results there and shows them at once.

:class:`Job` runs :func:`sim.study.run_study` in a thread of the page's server,
on worker processes (or a Dask scheduler), so the page stays responsive; it
reports progress and can be cancelled (the runs that finished are kept, and
running the proposal again resumes it).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import threading
import traceback
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from sim.app import levers as lv
from sim.errors import ExecutorLost, UserInputError

ROOT_SEED = 1
RESULTS = "results"  # the study's results directory inside a proposal's directory
ANSWER = "answer.json"  # written last: a proposal with it has been run, analysed and drawn
FILES = ("study.toml", "baseline.toml", "proposal.toml")
log = logging.getLogger(__name__)


def toml_text(data: dict, header: str) -> str:
    """``data`` as a TOML document under a comment ``header``."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comment + tomli_w.dumps(data)


@dataclass(frozen=True)
class Staged:
    """A proposal written to its directory: where, its key (the directory's name) and its arms' names."""

    directory: Path
    key: str
    baseline: str  # the starting scenario's name (the baseline arm)
    proposal: str
    replications: int
    changes: tuple[tuple[str, Any], ...] = ()  # (lever, value) the proposal changes, values as JSON

    @property
    def results(self) -> Path:
        return self.directory / RESULTS

    @property
    def answered(self) -> bool:
        return (self.directory / ANSWER).is_file()


def stage(cache: Path, start_file: Path, values: dict[str, Any]) -> Staged:
    """Write the proposal's files into ``cache/<key>/`` (kept as they are when that directory exists) and return it.

    Refuses (:class:`~sim.errors.UserInputError`) what :func:`sim.app.levers.check` refuses.
    """
    from sim import __version__
    from sim.experiment import model_code_digest
    from sim.study import load_study, resolve

    start_data, start, _ = lv.load_start(start_file)
    proposal = lv.proposal_data(start_data, values, start, file=start_file)
    baseline = dict(start_data)
    study = {
        "name": "proposal",
        "description": f"{proposal['description']} Against {start.name} ({start_file.name}).",
        "baseline": "baseline.toml",
        "variants": ["proposal.toml"],
        "replications": int(values["replications"]),
        "root_seed": ROOT_SEED,
        "set": lv.study_overrides(values, start),
    }
    window = {k: values[n] for n, k in (("window_from", "from_date"), ("window_to", "to_date")) if values[n]}
    if window:
        study["evaluation"] = window
    one_arm = f"opvangsim run proposal.toml -r {study['replications']} --seed {ROOT_SEED}" + "".join(
        f" --set {x}" for x in study["set"] + lv.window_overrides(values)
    )
    rerun = f"Rerun: opvangsim study study.toml\nOr the proposal alone, with the study's run length and window: {one_arm}"
    texts = {
        "baseline.toml": toml_text(
            lv.portable(baseline, start_file),
            f"The starting point: {start_file.name}, merged (no extends), as opvangsim app ran it.",
        ),
        "proposal.toml": toml_text(
            lv.portable(proposal, start_file),
            f"A proposal made with opvangsim app: {start_file.name} with the page's levers.\n{rerun}",
        ),
        "study.toml": toml_text(study, f"The proposal against its starting point, as opvangsim app ran it.\n{rerun}"),
    }
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        for name, text in texts.items():
            (staging / name).write_text(text, encoding="utf-8")
        arms = resolve(load_study(staging / "study.toml"))
        key_data = {
            "arms": [a.digest for a in arms],
            "replications": study["replications"],
            "root_seed": ROOT_SEED,
            "model_code": model_code_digest(),
            "version": __version__,
        }
        key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:16]
        target = cache / key
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(staging)  # staged before (or by another session just now): the files are the same
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    changes = tuple((name, _json(values[name])) for name in lv.changed(values, start))
    return Staged(target, key, arms[0].name, arms[1].name, study["replications"], changes)


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# --------------------------------------------------------------------------- downloads


def scenario_zip(staged: Staged) -> bytes:
    """The proposal's study, both scenario files and a README line, as one zip (a modeller reruns it exactly)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in FILES:
            z.write(staged.directory / name, f"proposal-{staged.key}/{name}")
    return buf.getvalue()


def results_zip(staged: Staged) -> bytes:
    """The results of both arms as Parquet (summary, daily time series, Spreidingswet cycles), in one zip."""
    from sim.analysis import load_dir

    results = load_dir(staged.results)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # Parquet is compressed already
        for name in ("summary", "timeseries", "cycles"):
            frame = getattr(results, name)
            part = io.BytesIO()
            frame.to_parquet(part, index=False)
            z.writestr(f"proposal-{staged.key}/{name}.parquet", part.getvalue())
    return buf.getvalue()


def report_html(staged: Staged) -> Path:
    """The study's self-contained HTML report."""
    return staged.results / "report" / "report.html"


# --------------------------------------------------------------------------- the job


@dataclass(frozen=True)
class JobState:
    """What the page shows of a job: its phase, progress (runs), the arm running and a message."""

    phase: str = "idle"  # idle | starting | running | analysing | done | cancelled | failed
    done: int = 0
    total: int = 0
    arm: str = ""
    message: str = ""
    cached: bool = False  # the results were there already
    seconds: float = 0.0
    answer: dict | None = field(default=None, compare=False)


class Job:
    """One proposal run in a background thread: the study (resumed if partly there), then the answer.

    ``executor``: makes a fresh executor (each run enters its own); ``settings``: the risk settings
    of the report. The page reads :meth:`state` on a timer; nothing here touches the page.
    """

    def __init__(self, staged: Staged, executor: Callable[[], Any], year_ac_days: int):
        self.staged = staged
        self._executor = executor
        self._year_ac_days = year_ac_days
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._state = JobState("starting", 0, 2 * staged.replications)
        self._thread = threading.Thread(target=self._run, name=f"opvangsim-app-{staged.key}", daemon=True)

    def start(self) -> Job:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the study to stop after the runs in flight (what finished is kept)."""
        self._cancel.set()
        self._update(message="stopping")

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set()

    def state(self) -> JobState:
        with self._lock:
            return self._state

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)

    def _progress(self, done: int, total: int, arm: str) -> None:
        self._update(phase="running" if done < total else "analysing", done=done, total=total, arm=arm)

    def _run(self) -> None:
        import time

        from sim.app import answer

        t0 = time.perf_counter()
        try:
            from sim.analysis import RiskSettings
            from sim.study import StudyCancelled, StudyFailed, load_study, run_study

            study = load_study(self.staged.directory / "study.toml")
            settings = RiskSettings(year_ac_days=self._year_ac_days)
            try:
                run_study(
                    study,
                    self.staged.results,
                    self._executor(),
                    progress=self._progress,
                    cancel=self._cancel.is_set,
                    settings=settings,
                )
            except StudyCancelled as exc:
                self._update(phase="cancelled", message=str(exc))
                return
            except StudyFailed as exc:
                self._update(phase="failed", message=str(exc))
                return
            self._update(phase="analysing")
            result = answer.make(self.staged)
            self._update(phase="done", answer=result, seconds=time.perf_counter() - t0)
        except (UserInputError, ExecutorLost) as exc:  # bad input; a Dask cluster gone (finished runs are kept)
            self._update(phase="failed", message=str(exc))
        except Exception as exc:  # a defect: the page says so in one line, the server's log has the traceback
            log.error("proposal %s failed:\n%s", self.staged.key, traceback.format_exc())
            self._update(phase="failed", message=f"{type(exc).__name__}: {exc}")
