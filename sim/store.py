"""Results on disk: reading a results directory back as DataFrames.

A results directory holds ``manifest.json`` and Parquet files (a sweep: one
directory of Parquet files per finished chunk of runs under ``parts/``). Whatever wrote
it (``opvangsim run`` or ``opvangsim sweep``), :func:`load_results` returns the
same shape: ``summary`` (one row per scenario/design point × replication),
``timeseries`` (one row per day per replication), ``cycles`` (Spreidingswet
rows, may be empty) and the ``manifest``; each frame has the columns
``scenario``, ``design_point`` and ``replication``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Results:
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    cycles: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    # runs that raised (sweeps only): scenario, design_point, replication, seed, error
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    expected_runs: int | None = None  # runs the manifest(s) asked for (design points × replications); None: unknown

    @property
    def missing_runs(self) -> int:
        """Runs asked for without a summary row (not yet run, interrupted or failed); 0 when unknown."""
        return max(0, self.expected_runs - len(self.summary)) if self.expected_runs is not None else 0

    @property
    def complete(self) -> bool:
        """Whether every run the manifest(s) asked for has its summary row (an interrupted sweep has not)."""
        return self.missing_runs == 0


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def _with_keys(df: pd.DataFrame, scenario: str) -> pd.DataFrame:
    if len(df) == 0:
        return df
    if "scenario" not in df:
        df.insert(0, "scenario", scenario)
    if "design_point" not in df:
        df.insert(1, "design_point", 0)
    return df


def _concat_parts(parts: list[Path], name: str) -> pd.DataFrame:
    frames = [pd.read_parquet(p / name) for p in parts if (p / name).exists()]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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


def _load_sweep(path: Path, manifest: dict) -> Results:
    parts = sorted(p for p in (path / "parts").glob("part-*") if p.is_dir())
    summary = _sorted(_concat_parts(parts, "summary.parquet"))
    if len(summary) and summary.duplicated(["design_point", "replication"]).any():
        raise ValueError(f"{path}: a run appears twice in the parts; the directory was written by two sweeps at once")
    timeseries = _sorted(_concat_parts(parts, "timeseries.parquet"), ("date",))
    cycles = _sorted(_concat_parts(parts, "cycles.parquet"), ("cycle",))
    failures = _concat_parts(parts, "failures.parquet")
    if len(failures):
        # a failed run that later succeeded (on resume) is no longer a failure; of repeated failures keep the last
        ok = set(zip(summary.get("design_point", []), summary.get("replication", [])))
        failures = failures[[(d, r) not in ok for d, r in zip(failures["design_point"], failures["replication"])]]
        failures = _sorted(failures.drop_duplicates(["design_point", "replication"], keep="last"))
    outputs = manifest.get("outputs", {})
    if outputs.get("replications") == "quantiles":
        timeseries = timeseries_quantiles(timeseries, outputs.get("quantiles", [0.05, 0.5, 0.95]))
    expected = int(manifest.get("n_design_points", 0)) * int(manifest.get("replications", 0)) or None
    return Results(
        summary=summary,
        timeseries=timeseries,
        cycles=cycles,
        manifest=manifest,
        path=path,
        failures=failures,
        expected_runs=expected,
    )


def load_results(path: str | Path) -> Results:
    """Read a results directory written by ``run`` or ``sweep`` into DataFrames.

    For a sweep, the parts of every finished run are joined and sorted by
    design point and replication, so the frames do not depend on the order in
    which runs finished, the executor, or interruptions and resumes.
    """
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{path} is not a results directory (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("kind") == "sweep":
        return _load_sweep(path, manifest)
    name = manifest.get("scenario_name", path.name)
    return Results(
        summary=_with_keys(_read(path / "summary.parquet"), name),
        timeseries=_with_keys(_read(path / "timeseries.parquet"), name),
        cycles=_with_keys(_read(path / "cycles.parquet"), name),
        manifest=manifest,
        path=path,
        expected_runs=manifest.get("replications"),
    )
