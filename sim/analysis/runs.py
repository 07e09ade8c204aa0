"""What was run: results directories and their manifests.

Every table of :mod:`sim.analysis` and the report read results through
:func:`load_dir` (a run directory, a sweep directory, or a directory holding
several run directories) and what was run through the functions here, so the
manifests are read in this one module. They read only keys that ``opvangsim
run`` (sim.runner) and ``opvangsim sweep`` (sim.experiment) write: a run's
``scenario`` (resolved), a sweep's ``resolved.experiment`` and
``resolved.design_points`` (values and scenario digests, not yet the resolved
scenarios: :func:`scenarios_run` rebuilds those from the files).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from sim.experiment import Experiment
from sim.scenario import Scenario, ScenarioError
from sim.store import Results, load_results

ArmKey = tuple[str, int]  # (scenario name, design point)


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
    frames: dict[str, list[pd.DataFrame]] = {"summary": [], "timeseries": [], "cycles": [], "failures": []}
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
    expected = [p.expected_runs for p in parts]
    total = sum(expected) if None not in expected else None
    return Results(manifest={"kind": "collection", "runs": runs}, path=path, expected_runs=total, **merged)


def run_manifests(results: Results) -> dict[str, dict]:
    """The manifests of what was run, by name (one entry for a run or sweep directory)."""
    m = results.manifest or {}
    if m.get("kind") == "collection":
        return dict(m.get("runs", {}))
    name = m.get("scenario_name") or m.get("experiment_name") or (results.path.name if results.path else "results")
    return {str(name): m}


def design_kind(results: Results) -> str | None:
    """The design of a sweep directory ('full_factorial', 'latin_hypercube', 'sobol', 'morris'); None otherwise."""
    m = results.manifest or {}
    if m.get("kind") != "sweep":
        return None
    return ((m.get("resolved") or {}).get("experiment") or {}).get("design", {}).get("kind")


def experiment_of(results: Results) -> Experiment | None:
    """The experiment a sweep directory ran, as its manifest resolved it; None for runs, or one this version cannot read."""
    return _experiment(results.manifest or {})


def _experiment(m: dict) -> Experiment | None:
    spec = (m.get("resolved") or {}).get("experiment")
    if m.get("kind") != "sweep" or not isinstance(spec, dict):
        return None
    try:
        return Experiment.model_validate(spec)
    except ValidationError:
        return None


def scenarios_run(results: Results) -> tuple[dict[ArmKey, Scenario], list[str]]:
    """The scenario each arm (scenario name, design point) ran, and notes naming the arms whose scenario is unknown.

    A run's manifest holds its scenario as resolved (``scenario``). A sweep's
    manifest holds, per design point, the digest of its scenario but not the
    scenario: it is rebuilt from the experiment's files as they are now and
    kept only where its digest matches the one the sweep recorded.
    """
    found: dict[ArmKey, Scenario] = {}
    notes: list[str] = []
    for name, m in run_manifests(results).items():
        if m.get("kind") == "run" and isinstance(m.get("scenario"), dict):
            try:
                found[(name, 0)] = Scenario.model_validate(m["scenario"])
            except ValidationError:
                notes.append(f"{name}: the manifest's scenario cannot be read by this version of opvangsim")
        elif m.get("kind") == "sweep":
            # in a collection, a sweep of one base scenario is named as its directory (see load_dir)
            rename = name if results.manifest.get("kind") == "collection" else None
            sweep, note = _sweep_scenarios(m, name, rename)
            found.update(sweep)
            notes += note
        else:
            notes.append(f"{name}: the manifest holds no scenario")
    return found, notes


def _sweep_scenarios(m: dict, name: str, rename: str | None) -> tuple[dict[ArmKey, Scenario], list[str]]:
    from sim.experiment import design_points

    file = Path(str(m.get("experiment_file", "")))
    recorded = {p["design_point"]: p["scenario_digest"] for p in (m.get("resolved") or {}).get("design_points", [])}
    exp = _experiment(m)
    try:
        points = design_points(exp, file) if exp is not None else None
    except ScenarioError as exc:
        points, why = None, str(exc)
    else:
        why = "its manifest holds an experiment this version of opvangsim cannot read"
    if points is None:
        return {}, [f"sweep {name}: the scenarios it ran could not be rebuilt ({why})"]
    names = {p.scenario.name for p in points}
    found = {
        (rename if rename and len(names) == 1 else p.scenario.name, p.index): p.scenario
        for p in points
        if recorded.get(p.index) == p.scenario.digest()
    }
    notes = []
    if len(found) < len(points):
        notes.append(
            f"sweep {name}: the scenario files of {len(points) - len(found)} of its {len(points)} design points changed "
            "since it ran (their digests differ from the manifest's); what depends on those scenarios is left out for them"
        )
    return found, notes
