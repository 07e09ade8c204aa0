"""Parameters drawn from a calibration's posterior (``[parameters] posterior = "..."`` in a scenario).

A posterior file (``calibration/<name>/posterior.parquet``, written by ``opvangsim
calibrate``) has one row per particle: one column per dotted scenario key (as for
``--set``) and a ``weight`` column. A run of a scenario that names one takes the
particle that its own seed picks, resampled by weight
(:func:`particle_index`): replication ``r`` of every scenario has the same seed, so
scenarios A and B use the same particle in replication ``r`` (paired comparisons
stay paired) and the same seed always gives the same particle. The particle's
values replace the scenario's, except for the keys the scenario sets itself
(``parameters.fixed``: the loader lists every posterior key that the file, a file
it extends, a ``--set`` or a sweep factor sets; a value the user chose wins over
a drawn one).

The file is validated like a scenario (:func:`check_posterior`): columns must be
schema keys, weights finite, ≥ 0 and not all zero, and every value must give a
valid scenario (within the schema's bounds).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.scenario import Scenario

WEIGHT = "weight"
# the particle is drawn from its own generator: entropy (run seed, this tag), so the model's streams
# (SeedSequence(seed).spawn) keep their numbers whether or not a scenario names a posterior
PARTICLE_TAG = 0x706F73  # "pos"

_cache: dict[tuple[str, int, int], pd.DataFrame] = {}


def posterior_path(scenario: Scenario) -> Path:
    """The posterior file a scenario names: relative to the scenario file (the working directory for a
    scenario not read from a file)."""
    p = Path(scenario.parameters.posterior or "")
    if p.is_absolute() or not scenario.source_file:
        return p
    return (Path(scenario.source_file).parent / p).resolve()


def read_posterior(path: str | Path) -> pd.DataFrame:
    """The posterior table (read once per process and file version; raises OSError or ValueError)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own types for a file that is not Parquet
            raise ValueError(f"{path.name} is not a readable Parquet file ({type(exc).__name__}: {exc})") from None
        _cache.clear()  # one posterior per process is the common case; keep memory bounded
        _cache[key] = table
    return _cache[key]


def parameter_keys(table: pd.DataFrame) -> list[str]:
    """The dotted scenario keys of a posterior table (every column but the weight)."""
    return [c for c in table.columns if c != WEIGHT]


def check_posterior(table: pd.DataFrame, scenario_data: dict, name: str) -> str | None:
    """What is wrong with a posterior table for this scenario (``None`` when it can be used).

    ``scenario_data`` is the scenario as plain data without its posterior (the values a particle is
    applied to). A column that names no schema key, or a value outside the key's bounds or type, is
    refused by the scenario's own validation of the particle's values.
    """
    from sim.scenario import ScenarioError, apply_overrides, scenario_from_dict

    if len(table) == 0:
        return f"{name} has no particles"
    if WEIGHT not in table:
        return f"{name} has no '{WEIGHT}' column (one row per particle: dotted scenario keys and a weight)"
    w = pd.to_numeric(table[WEIGHT], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        return f"{name}: weights must be finite numbers ≥ 0, not all zero"
    keys = parameter_keys(table)
    if not keys:
        return f"{name} has no parameter columns"
    for key in keys:
        if pd.to_numeric(table[key], errors="coerce").isna().any():
            return f"{name}: column '{key}' must hold numbers"
    # the extremes of every column must give a valid scenario (schema key, type and bounds): all
    # minima at once and all maxima at once, and key by key only to name the one that fails
    extremes = [{k: float(pd.to_numeric(table[k]).min()) for k in keys}, {k: float(pd.to_numeric(table[k]).max()) for k in keys}]
    for values in extremes:
        try:
            scenario_from_dict(apply_overrides(scenario_data, _as_overrides(values)), check_data_files=False)
            continue
        except ScenarioError:
            pass
        for key, value in values.items():
            try:
                scenario_from_dict(apply_overrides(scenario_data, _as_overrides({key: value})), check_data_files=False)
            except ScenarioError as exc:
                return f"{name}: column '{key}' = {value:g}: {exc.key_path}: {exc.message}"
    return None


def _as_overrides(values: dict[str, float]) -> list[str]:
    """``key=value`` overrides; whole numbers written as integers (integer fields refuse 180.0 in a string)."""
    return [f"{k}={int(v) if float(v).is_integer() and abs(v) < 2**53 else repr(float(v))}" for k, v in values.items()]


def particle_index(weights: np.ndarray, seed: int) -> int:
    """The particle a run with root seed ``seed`` takes: resampled by weight with the run's own generator."""
    rng = np.random.default_rng([int(seed), PARTICLE_TAG])
    w = np.asarray(weights, float)
    return int(rng.choice(len(w), p=w / w.sum()))


def particle_overrides(table: pd.DataFrame, index: int, fixed: list[str]) -> list[str]:
    """``--set`` style overrides of particle ``index`` for every posterior key the scenario does not fix."""
    return _as_overrides({k: float(table[k].iloc[index]) for k in parameter_keys(table) if k not in fixed})


def concrete_data(scenario: Scenario) -> dict:
    """The scenario's data with nothing left to draw (no posterior, no fixed keys): the base that a particle's
    values, a prior's bounds or a posterior file's columns are set into and validated against."""
    data = scenario.model_dump(mode="json")
    data["parameters"] = {"posterior": None, "fixed": []}
    return data


def with_particle(scenario: Scenario, seed: int) -> tuple[Scenario, int | None]:
    """The scenario with the parameters of the particle that ``seed`` draws, and the particle's row
    number (``None`` and the scenario itself when it names no posterior)."""
    from sim.scenario import apply_overrides, scenario_from_dict

    cfg = scenario.parameters
    if cfg.posterior is None:
        return scenario, None
    table = read_posterior(posterior_path(scenario))
    index = particle_index(table[WEIGHT].to_numpy(float), seed)
    data = concrete_data(scenario)  # the drawn world is concrete: nothing left to draw
    drawn = scenario_from_dict(apply_overrides(data, particle_overrides(table, index, cfg.fixed)), check_data_files=False)
    return drawn, index


def set_keys(data: dict, keys: list[str]) -> list[str]:
    """Which dotted ``keys`` the scenario data sets itself (its files, ``--set`` overrides, sweep factors)."""
    from sim.scenario import MISSING, lookup

    return [key for key in keys if lookup(data, key) is not MISSING]


def posteriors_of(scenarios: list[Scenario]) -> dict[str, str]:
    """The posteriors the scenarios draw their parameters from: resolved path -> SHA-256 (for manifests)."""
    from sim.files import file_digest

    out = {}
    for scenario in scenarios:
        if scenario.parameters.posterior is not None:
            path = posterior_path(scenario)
            out[str(path)] = file_digest(path)
    return out
