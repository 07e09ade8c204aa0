"""What was run: results directories and their manifests.

Every table of :mod:`sim.analysis` reads results through :func:`load_dir`
(a run directory, a sweep directory, or a directory holding several run
directories) and what was run through the functions here, so that the
manifests are read in one module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.scenario import ScenarioError
from sim.store import Results, load_results


def load_dir(path: str | Path) -> Results:
    """Results of a run directory, a sweep directory, or a directory holding several of them.

    In a collection, each run is named by its manifest's ``scenario_name``, or by
    its directory name when two runs share a scenario name (``--set`` variants).
    """
    path = Path(path)
    if not path.is_dir():
        raise ScenarioError(
            None, "DIR", f"{path} is not a directory; give a results directory written by 'opvangsim run' or 'opvangsim sweep'"
        )
    if (path / "manifest.json").exists():
        return load_results(path)
    subdirs = sorted(d for d in path.iterdir() if d.is_dir() and (d / "manifest.json").exists())
    if not subdirs:
        raise ScenarioError(
            None,
            "DIR",
            f"{path} holds no results (no manifest.json in it or in its subdirectories); write some with 'opvangsim run ... --out {path}/NAME'",
        )
    parts = [load_results(d) for d in subdirs]
    names = [str(p.manifest.get("scenario_name", d.name)) for p, d in zip(parts, subdirs)]
    if len(set(names)) < len(names):
        names = [d.name for d in subdirs]
    frames: dict[str, list[pd.DataFrame]] = {"summary": [], "timeseries": [], "cycles": []}
    runs = {}
    for part, name, d in zip(parts, names, subdirs):
        single = part.summary.empty or part.summary["scenario"].nunique() <= 1
        for key in frames:
            df = getattr(part, key)
            if len(df) and single:
                df = df.assign(scenario=name)
            if len(df):
                frames[key].append(df)
        runs[name if single else d.name] = part.manifest
    merged = {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in frames.items()}
    return Results(manifest={"kind": "collection", "runs": runs}, path=path, **merged)


def run_manifests(results: Results) -> dict[str, dict]:
    """The manifests of what was run, by name (one entry for a run or sweep directory)."""
    m = results.manifest or {}
    if m.get("kind") == "collection":
        return dict(m.get("runs", {}))
    return {
        str(
            m.get("scenario_name")
            or m.get("experiment_name")
            or m.get("name")
            or (results.path.name if results.path else "results")
        ): m
    }


def _find(obj: Any, keys: tuple[str, ...]) -> Any:
    """First value under any of ``keys`` in a nested manifest (breadth first)."""
    queue = [obj]
    while queue:
        cur = queue.pop(0)
        if isinstance(cur, dict):
            for k in keys:
                if k in cur and cur[k] not in (None, {}, []):
                    return cur[k]
            queue.extend(v for v in cur.values() if isinstance(v, (dict, list)))
        elif isinstance(cur, list):
            queue.extend(v for v in cur if isinstance(v, (dict, list)))
    return None


def design_kind(results: Results) -> str | None:
    """'sobol', 'morris', 'lhs', 'factorial', ... as the manifest states it (None for plain runs)."""
    for manifest in run_manifests(results).values():
        d = _find(manifest, ("design",))
        for cand in (d, _find(d, ("kind", "method", "type", "name")) if isinstance(d, dict) else None):
            if isinstance(cand, str):
                return cand.lower()
    return None
