"""What was run: results directories and their manifests.

Every table of :mod:`sim.analysis` and the report read results through
:func:`load_dir` (a run directory, a sweep directory, or a directory holding
several run directories) and what was run through the functions here, from the
typed manifests (:mod:`sim.manifest`) that ``opvangsim run`` and ``opvangsim
sweep`` write: a run's scenario as resolved, a sweep's experiment, design points
and base scenarios as resolved. Nothing is read from the scenario files as they
are today: a report describes what ran.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from sim.errors import UserInputError
from sim.experiment import Experiment
from sim.manifest import RunManifest, SweepManifest
from sim.scenario import Scenario
from sim.store import Results, load_results

ArmKey = tuple[str, int]  # (scenario name, design point)
Manifest = RunManifest | SweepManifest


def load_dir(path: str | Path) -> Results:
    """Results of a run directory, a sweep directory, or a directory holding several of them.

    In a collection, each run is named by its manifest's scenario name, or by
    its directory name when two runs share a scenario name (``--set`` variants)
    or for a sweep.
    """
    path = Path(path)
    if not path.is_dir():
        raise UserInputError(
            "DIR", f"{path} is not a directory; give a results directory written by 'opvangsim run' or 'opvangsim sweep'"
        )
    if (path / "manifest.json").exists():
        return load_results(path)
    subdirs = sorted(d for d in path.iterdir() if d.is_dir() and (d / "manifest.json").exists())
    if not subdirs:
        raise UserInputError(
            "DIR",
            f"{path} holds no results (no manifest.json in it or in its subdirectories); write some with 'opvangsim run ... --out {path}/NAME'",
        )
    parts = [load_results(d) for d in subdirs]
    names = [p.manifest.scenario_name if isinstance(p.manifest, RunManifest) else d.name for p, d in zip(parts, subdirs)]
    if len(set(names)) < len(names):
        names = [d.name for d in subdirs]
    frames: dict[str, list[pd.DataFrame]] = {"summary": [], "timeseries": [], "cycles": [], "failures": []}
    runs: dict[str, Manifest] = {}
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
    return Results(path=path, runs=runs, expected_runs=total, **merged)


def run_manifests(results: Results) -> dict[str, Manifest]:
    """The manifests of what was run, by name (one entry for a run or sweep directory, none for frames made by hand)."""
    if results.runs:
        return dict(results.runs)
    if results.manifest is None:
        return {}
    return {results.manifest.name: results.manifest}


def design_kind(results: Results) -> str | None:
    """The design of a sweep directory ('full_factorial', 'latin_hypercube', 'sobol', 'morris'); None otherwise."""
    exp = experiment_of(results)
    return None if exp is None else exp.design.kind


def experiment_of(results: Results) -> Experiment | None:
    """The experiment a sweep directory ran, as its manifest resolved it; None for runs."""
    return results.manifest.experiment if isinstance(results.manifest, SweepManifest) else None


def scenarios_run(results: Results) -> tuple[dict[ArmKey, Scenario], list[str]]:
    """The scenario each arm (scenario name, design point) ran, and notes naming the arms whose scenario is unknown.

    A run's manifest holds its scenario as resolved; a sweep's holds each base
    scenario as resolved and each design point's factor values, from which the
    point's scenario is rebuilt and checked against the digest the sweep recorded.
    """
    found: dict[ArmKey, Scenario] = {}
    notes: list[str] = []
    for name, m in run_manifests(results).items():
        if isinstance(m, RunManifest):
            try:
                found[(name, 0)] = Scenario.model_validate(m.scenario)
            except ValidationError:
                notes.append(f"{name}: the manifest's scenario cannot be read by this version of opvangsim")
            continue
        # in a collection, a sweep of one base scenario is named as its directory (see load_dir)
        rename = name if results.runs else None
        sweep, note = _sweep_scenarios(m, name, rename)
        found.update(sweep)
        notes += note
    return found, notes


def _sweep_scenarios(m: SweepManifest, name: str, rename: str | None) -> tuple[dict[ArmKey, Scenario], list[str]]:
    if not m.base_scenarios:
        return {}, [f"sweep {name}: its manifest predates the record of its base scenarios; run the sweep again to describe them"]
    names = {p.scenario for p in m.design_points}
    found = {}
    for p in m.design_points:
        scenario = m.scenario_of(p)
        if scenario is not None:
            found[(rename if rename and len(names) == 1 else p.scenario, p.design_point)] = scenario
    notes = []
    if len(found) < len(m.design_points):
        notes.append(
            f"sweep {name}: the scenarios of {len(m.design_points) - len(found)} of its {len(m.design_points)} design points "
            "cannot be rebuilt by this version of opvangsim (their digests differ from the manifest's); "
            "what depends on those scenarios is left out for them"
        )
    return found, notes
