"""Results on disk: reading a results directory back as DataFrames.

A results directory holds ``manifest.json`` and Parquet files. Whatever wrote
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


def load_results(path: str | Path) -> Results:
    """Read a results directory written by ``run`` (or ``sweep``, which extends this) into DataFrames."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{path} is not a results directory (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    name = manifest.get("scenario_name", path.name)
    return Results(
        summary=_with_keys(_read(path / "summary.parquet"), name),
        timeseries=_with_keys(_read(path / "timeseries.parquet"), name),
        cycles=_with_keys(_read(path / "cycles.parquet"), name),
        manifest=manifest,
        path=path,
    )
