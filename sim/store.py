"""Results on disk: the one owner of the results layouts (writing, verifying and reading).

A results directory holds ``manifest.json`` (:mod:`sim.manifest`) and Parquet files:

- ``opvangsim run`` writes ``summary.parquet`` (one row per replication),
  ``timeseries.parquet`` (one row per day per replication), ``cycles.parquet``
  (Spreidingswet rows, if any) and the manifest, all moved into place in one rename;
- ``opvangsim sweep`` writes one directory per finished chunk of runs under
  ``parts/`` (``part-NNNNNN/``), each moved into place in one rename and holding
  ``summary.parquet`` (a row per run that finished), optionally ``timeseries.parquet``,
  ``cycles.parquet`` and ``failures.parquet``, and ``part.json``: the runs the part
  claims and the SHA-256 of each file, so that a resume can verify every part
  (:func:`verify_part`) and redo a damaged one.

Whatever wrote it, :func:`load_results` returns the same shape: ``summary`` (one
row per scenario/design point × replication), ``timeseries``, ``cycles`` (may be
empty), ``failures`` and the ``manifest``; each frame has the columns
``scenario``, ``design_point`` and ``replication``.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.errors import UserInputError
from sim.files import file_digest
from sim.jobs import RunRecord
from sim.manifest import RunManifest, SweepManifest, read_manifest, write_manifest

PARTS = "parts"
PART_INDEX = "part.json"
PART_FILES = ("summary.parquet", "timeseries.parquet", "cycles.parquet", "failures.parquet")
RUN_FILES = ("timeseries.parquet", "summary.parquet", "cycles.parquet")


@dataclass
class Results:
    """The frames of a results directory and what made them.

    ``manifest`` is the directory's typed manifest (None for frames made by hand); a directory
    holding several results directories (:func:`sim.analysis.load_dir`) has ``runs``: each one's
    manifest by name.
    """

    summary: pd.DataFrame
    timeseries: pd.DataFrame
    cycles: pd.DataFrame
    manifest: RunManifest | SweepManifest | None = None
    path: Path | None = None
    # runs that raised (sweeps only): scenario, design_point, replication, seed, error
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    runs: dict[str, RunManifest | SweepManifest] = field(default_factory=dict)
    expected_runs: int | None = None  # runs the manifest(s) asked for (design points × replications); None: unknown

    @property
    def missing_runs(self) -> int:
        """Runs asked for without a summary row (not yet run, interrupted or failed); 0 when unknown."""
        return max(0, self.expected_runs - len(self.summary)) if self.expected_runs is not None else 0

    @property
    def complete(self) -> bool:
        """Whether every run the manifest(s) asked for has its summary row (an interrupted sweep has not)."""
        return self.missing_runs == 0


# --------------------------------------------------------------------------- sweep parts


class PartFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str
    rows: int


class PartIndex(BaseModel):
    """``part.json``: the runs a part holds (finished and failed) and a digest of each of its files."""

    model_config = ConfigDict(extra="forbid")
    format_version: int = 1
    runs: list[tuple[int, int]]
    failed: list[tuple[int, int]] = []
    files: dict[str, PartFile]


@dataclass(frozen=True)
class PointLabel:
    """What a part's rows say about their design point: the scenario name and the factor values."""

    scenario: str
    factors: dict


@dataclass
class PartCheck:
    """The outcome of :func:`verify_part`: the runs a sound part holds, or what is wrong with it."""

    path: Path
    claimed: int | None = None  # runs (finished and failed) the part's index claims, if it could be read
    runs: list[tuple[int, int]] = field(default_factory=list)
    failed: list[tuple[int, int]] = field(default_factory=list)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _with_keys(frame: pd.DataFrame, scenario: str, dp: int, rep: int) -> pd.DataFrame:
    df = frame.copy()
    for i, (k, v) in enumerate((("scenario", scenario), ("design_point", dp), ("replication", rep))):
        if k in df:
            df = df.drop(columns=k)
        df.insert(i, k, v)
    return df


@dataclass(frozen=True)
class EncodedPart:
    """A part as it goes into ``parts/``: its files' bytes, each file's rows, and the runs it holds (finished
    and failed). Made by :func:`encode_part` where the runs ran, so that the one process writing parts only
    writes bytes (:func:`write_encoded`)."""

    files: dict[str, bytes]
    rows: dict[str, int]
    runs: list[tuple[int, int]]
    failed: list[tuple[int, int]]


def encode_part(records: list[RunRecord], labels: dict[int, PointLabel]) -> EncodedPart:
    """One chunk's runs as a part's Parquet files: a summary row per finished run (with its design point's
    factors), its kept series and cycle rows, and a row per failed run."""
    summaries, series, cycles, failures = [], [], [], []
    runs, failed = [], []
    for r in records:
        label = labels[r.design_point]
        keys = {"scenario": label.scenario, "design_point": r.design_point, "replication": r.replication, "seed": r.seed}
        if not r.ok:
            failures.append({**keys, "error": r.error})
            failed.append((r.design_point, r.replication))
            continue
        runs.append((r.design_point, r.replication))
        summaries.append(
            {
                **keys,
                **{k: v for k, v in r.summary.items() if k not in keys},
                **{f"factor:{k}": v for k, v in label.factors.items()},
                "run_seconds": r.seconds,
            }
        )
        if r.timeseries is not None:
            series.append(_with_keys(r.timeseries, label.scenario, r.design_point, r.replication))
        if r.cycles is not None:
            cycles.append(_with_keys(r.cycles, label.scenario, r.design_point, r.replication))
    frames = {"summary.parquet": pd.DataFrame(summaries)}  # written whenever a run succeeded, even empty
    if series:
        frames["timeseries.parquet"] = pd.concat(series, ignore_index=True)
    if cycles:
        frames["cycles.parquet"] = pd.concat(cycles, ignore_index=True)
    if failures:
        frames["failures.parquet"] = pd.DataFrame(failures)
    files = {}
    for fname, df in frames.items():
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False)
        files[fname] = buffer.getvalue()
    return EncodedPart(files, {fname: len(df) for fname, df in frames.items()}, runs, failed)


def write_encoded(parts_dir: Path, name: str, part: EncodedPart) -> Path:
    """Write an encoded part as ``parts_dir/<name>/`` in one rename (a reader never sees half a part)."""
    tmp = parts_dir / f".tmp-{name}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    files = {}
    for fname, data in part.files.items():
        (tmp / fname).write_bytes(data)
        files[fname] = PartFile(sha256=hashlib.sha256(data).hexdigest(), rows=part.rows[fname])
    index = PartIndex(runs=part.runs, failed=part.failed, files=files)
    (tmp / PART_INDEX).write_text(index.model_dump_json(indent=1) + "\n")
    target = parts_dir / name
    os.replace(tmp, target)
    return target


def verify_part(path: Path) -> PartCheck:
    """Check a part against its ``part.json``: every file present with the digest it was written with,
    and a summary holding exactly the runs the part claims."""
    check = PartCheck(path)
    try:
        index = PartIndex.model_validate_json((path / PART_INDEX).read_bytes())
    except FileNotFoundError:
        check.problem = f"{PART_INDEX} is missing"
        return check
    except (OSError, ValidationError, ValueError):
        check.problem = f"{PART_INDEX} is unreadable"
        return check
    check.claimed = len(index.runs) + len(index.failed)
    for fname, meta in index.files.items():
        digest = file_digest(path / fname)
        if digest == "missing":
            check.problem = f"{fname} is missing"
            return check
        if digest != meta.sha256:
            check.problem = f"{fname} is damaged (its digest differs from the one written)"
            return check
    try:
        summary = pd.read_parquet(path / "summary.parquet", columns=None)
    except Exception as exc:  # pyarrow raises several error types for a file it cannot parse
        check.problem = f"summary.parquet is unreadable ({type(exc).__name__})"
        return check
    held = set(zip(summary.get("design_point", []), summary.get("replication", []))) if len(summary) else set()
    if held != {tuple(r) for r in index.runs}:
        check.problem = "summary.parquet does not hold the runs part.json claims"
        return check
    check.runs = [tuple(r) for r in index.runs]
    check.failed = [tuple(r) for r in index.failed]
    return check


def part_directories(out: Path) -> list[Path]:
    """The finished parts of a sweep directory, in the order they were written."""
    return sorted(p for p in (Path(out) / PARTS).glob("part-*") if p.is_dir())


def scan_parts(out: Path) -> tuple[list[PartCheck], list[PartCheck]]:
    """Every part of ``out`` verified: (sound parts, damaged parts)."""
    checks = [verify_part(p) for p in part_directories(out)]
    return [c for c in checks if c.ok], [c for c in checks if not c.ok]


def next_part_number(out: Path) -> int:
    numbers = [int(p.name.split("-")[1]) for p in (Path(out) / PARTS).glob("part-*") if p.name.split("-")[1].isdigit()]
    return max(numbers, default=0) + 1


def remove_stale_temporaries(out: Path) -> None:
    """Parts that were being written when a sweep was killed (never renamed into place)."""
    for stale in (Path(out) / PARTS).glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


# --------------------------------------------------------------------------- run directories


def write_run_directory(out: Path, frames: dict[str, pd.DataFrame], manifest: RunManifest) -> None:
    """Write a run's frames and manifest into a temporary sibling directory, then move it into place
    in one rename (replacing what was there: the caller has checked that it may)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, df in frames.items():
            df.to_parquet(tmp / name, index=False)
        write_manifest(tmp, manifest)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- reading


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file, an empty frame if absent, or a UserInputError naming a file that cannot be read."""
    if not path.exists():
        return pd.DataFrame()
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several error types for a file it cannot parse
        raise UserInputError(str(path), f"cannot be read ({type(exc).__name__}); the results directory is damaged") from None


def _with_run_keys(df: pd.DataFrame, scenario: str) -> pd.DataFrame:
    if len(df) == 0:
        return df
    if "scenario" not in df:
        df.insert(0, "scenario", scenario)
    if "design_point" not in df:
        df.insert(1, "design_point", 0)
    return df


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _joined(frames: list[pd.DataFrame], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The parts' frames as one, rows in design-point, replication order, whatever order the parts were
    written in: joined in the order of their first run, so that columns only some design points have
    (a cycle that only longer cycles reach) take the same place whichever part finished first."""
    frames = [f for f in frames if len(f)]
    frames.sort(key=lambda f: (f["design_point"].iat[0], f["replication"].iat[0]))  # parts hold distinct runs
    return _sorted(_concat(frames), extra)


def _sorted(df: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows in design-point, replication order, whatever order the runs finished in."""
    if len(df) == 0:
        return df
    keys = ["design_point", "replication", *[c for c in extra if c in df]]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def timeseries_quantiles(ts: pd.DataFrame, quantiles: list[float]) -> pd.DataFrame:
    """Quantiles over replications of every time-series column, per design point and date.

    The result has a ``quantile`` column, and ``replication`` = -1 (aggregated over replications).
    """
    if len(ts) == 0:
        return ts
    value_cols = [c for c in ts.columns if c not in ("scenario", "design_point", "replication", "date", "day", "days")]
    group = [c for c in ("scenario", "design_point", "date") if c in ts]
    q = ts.groupby(group, sort=True)[value_cols].quantile(list(quantiles))
    q.index = q.index.set_names([*group, "quantile"])
    q = q.reset_index()
    q.insert(2, "replication", -1)
    return q.sort_values(["design_point", "quantile", "date"], kind="stable").reset_index(drop=True)


def _load_sweep(path: Path, manifest: SweepManifest) -> Results:
    parts = part_directories(path)
    for part in parts:
        if manifest.format_version >= 1 or (part / PART_INDEX).exists():  # older sweeps wrote no index
            check = verify_part(part)
            if not check.ok:
                raise UserInputError(
                    str(part), f"{check.problem}; run the sweep again (same command) to redo the runs of this part"
                )
    frames = {name: [_read_parquet(p / name) for p in parts] for name in PART_FILES}
    summary = _joined(frames["summary.parquet"])
    if len(summary) and summary.duplicated(["design_point", "replication"]).any():
        raise UserInputError(str(path), "a run appears twice in the parts; the directory was written by two sweeps at once")
    timeseries = _joined(frames["timeseries.parquet"], ("date",))
    cycles = _joined(frames["cycles.parquet"], ("cycle",))
    failures = _concat(frames["failures.parquet"])
    if len(failures):
        # a failed run that later succeeded (on resume) is no longer a failure; of repeated failures keep the last
        ok = set(zip(summary.get("design_point", []), summary.get("replication", [])))
        failures = failures[[(d, r) not in ok for d, r in zip(failures["design_point"], failures["replication"])]]
        failures = _sorted(failures.drop_duplicates(["design_point", "replication"], keep="last"))
    if manifest.outputs.replications == "quantiles":
        timeseries = timeseries_quantiles(timeseries, manifest.outputs.quantiles)
    return Results(
        summary=summary,
        timeseries=timeseries,
        cycles=cycles,
        manifest=manifest,
        path=path,
        failures=failures,
        expected_runs=manifest.n_design_points * manifest.replications or None,
    )


def load_results(path: str | Path) -> Results:
    """Read a results directory written by ``run`` or ``sweep`` into DataFrames.

    For a sweep, the parts of every finished run are verified, joined and sorted by
    design point and replication, so the frames do not depend on the order in
    which runs finished, the executor, or interruptions and resumes.
    """
    path = Path(path)
    manifest = read_manifest(path)
    if isinstance(manifest, SweepManifest):
        return _load_sweep(path, manifest)
    name = manifest.scenario_name
    return Results(
        summary=_with_run_keys(_read_parquet(path / "summary.parquet"), name),
        timeseries=_with_run_keys(_read_parquet(path / "timeseries.parquet"), name),
        cycles=_with_run_keys(_read_parquet(path / "cycles.parquet"), name),
        manifest=manifest,
        path=path,
        expected_runs=manifest.replications,
    )
