"""Experiment files: factors, designs and design points (``opvangsim sweep`` runs them: :mod:`sim.sweep`).

An experiment file (TOML) names one or more base scenario files, the factors to
vary (dotted scenario keys, as for ``--set``) with levels or with a range or
distribution, a design (full factorial, Latin hypercube, Sobol/Saltelli,
Morris), the number of replications, a root seed and the outputs to keep.
A *design point* is one base scenario with one value per factor; a *run* is a
design point × a replication. Replication ``r`` of every design point runs with
``replication_seed(root_seed, r)``: common random numbers, so differences
between design points are not drowned in sampling noise, and a run's numbers
do not depend on which other runs exist, their order or the executor.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import PrivateAttr, ValidationError, field_validator, model_validator

from sim.metrics import COLUMNS
from sim.params import Strict, param
from sim.scenario import (
    Scenario,
    ScenarioError,
    _format_error,
    apply_overrides,
    read_scenario_data,
    read_toml,
    scenario_from_dict,
)

DEFAULT_SERIES = (
    "ac_occupancy",
    "occupancy_emergency",
    "occupancy_crisis",
    "occupancy_total",
    "sleeping_outside",
    "places_in_pipeline",
    "cost_eur",
)
# modules and packages that cannot change a run's numbers (commands, storage, analysis, reporting); every
# other file of the package (the model and its data) is part of the code digest
NOT_MODEL_CODE = {
    "__main__",
    "calibration",
    "cli",
    "errors",
    "files",
    "manifest",
    "runner",
    "sweep",
    "executors",
    "store",
    "analysis",
    "report",
    "backtest",
    "verification",
    "docs",
    "golden",
    "study",
    "app",
}
# scenario keys that decide which data files are read and which dates they must cover
FILE_RELATED_KEYS = (
    "parameters.posterior",
    "inflow.mode",
    "inflow.replay_file",
    "start_date",
    "end_date",
    "horizon_years",
    "initial_state.municipalities_file",
    "initial_state.use_municipal_places",
    "initial_state.ac_municipality",
    "capacity.spreidingswet.enabled",
    "capacity.spreidingswet.first_cycle_tasks",
    "capacity.spreidingswet.first_cycle_province_tasks",
    "capacity.spreidingswet.socio_economic_column",
    "capacity.scheduled",
)

Level = bool | int | float | str
# More would not fit in memory as design rows or run records (and no study needs them).
MAX_DESIGN_POINTS = 2**20
MAX_REPLICATIONS = 100_000
MAX_RUNS = 10**7


# --------------------------------------------------------------------------- schema


class Factor(Strict):
    """One varied scenario value: discrete ``levels``, or a bounded ``distribution``."""

    key: str = param(
        ...,
        unit="-",
        desc="dotted scenario key, as for --set (e.g. inflow.first_applications_per_year)",
        source="scenario choice",
        min_length=1,
    )
    levels: list[Level] | None = param(
        None,
        unit="as the key",
        desc="values to try (full factorial), or equally likely values (sampled designs)",
        source="scenario choice",
        min_length=1,
    )
    distribution: Literal["uniform", "loguniform", "triangular", "truncnormal"] | None = param(
        None, unit="-", desc="distribution over [low, high] for sampled designs", source="scenario choice"
    )
    low: float | None = param(None, unit="as the key", desc="lower bound", source="scenario choice")
    high: float | None = param(None, unit="as the key", desc="upper bound", source="scenario choice")
    mode: float | None = param(None, unit="as the key", desc="mode (triangular)", source="scenario choice")
    mean: float | None = param(None, unit="as the key", desc="mean before truncation (truncnormal)", source="scenario choice")
    sd: float | None = param(
        None, unit="as the key", desc="standard deviation before truncation (truncnormal)", source="scenario choice", gt=0
    )
    integer: bool = param(False, unit="-", desc="round sampled values to whole numbers", source="scenario choice")

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        if (self.levels is None) == (self.distribution is None):
            raise ValueError("give either levels = [...] or distribution = '...' with low and high")
        if self.distribution is None:
            return self
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"distribution '{self.distribution}' needs low < high")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("loguniform needs low > 0")
        if self.distribution == "triangular" and (self.mode is None or not self.low <= self.mode <= self.high):
            raise ValueError("triangular needs mode with low ≤ mode ≤ high")
        if self.distribution == "truncnormal" and (self.mean is None or self.sd is None):
            raise ValueError("truncnormal needs mean and sd")
        return self

    def value_at(self, u: float) -> Level:
        """The factor's value at quantile ``u`` ∈ [0, 1] (the sampled designs work on the unit cube)."""
        from scipy import stats

        u = min(max(float(u), 0.0), 1.0)
        if self.levels is not None:
            return self.levels[min(int(u * len(self.levels)), len(self.levels) - 1)]
        lo, hi = float(self.low), float(self.high)
        if self.distribution == "uniform":
            x = lo + u * (hi - lo)
        elif self.distribution == "loguniform":
            x = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        elif self.distribution == "triangular":
            x = float(stats.triang.ppf(u, (self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo))
        else:
            a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
            x = float(stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd))
        x = min(max(x, lo), hi)
        return int(round(x)) if self.integer else x


class Design(Strict):
    """How factor values are combined into design points."""

    kind: Literal["full_factorial", "latin_hypercube", "sobol", "morris"] = param(
        "full_factorial",
        unit="-",
        desc="full_factorial (every combination of levels), latin_hypercube, sobol (Saltelli, for Sobol indices) or morris (elementary effects)",
        source="model choice",
    )
    samples: int | None = param(
        None,
        unit="-",
        desc="latin_hypercube: points; sobol: base sample N (a power of 2; N·(D+2) points, N·(2D+2) with second_order); morris: trajectories (N·(D+1) points)",
        source="scenario choice",
        ge=1,
        le=MAX_DESIGN_POINTS,
    )
    second_order: bool = param(False, unit="-", desc="sobol: also sample for second-order indices", source="scenario choice")
    morris_levels: int = param(4, unit="-", desc="morris: grid levels", source="model choice: SALib's default", ge=2, le=1000)
    seed: int | None = param(
        None, unit="-", desc="seed of the design sampler (default: the root seed)", source="scenario choice", ge=0
    )


class Outputs(Strict):
    """What each run keeps besides its summary row."""

    timeseries: list[str] = param(
        list(DEFAULT_SERIES), unit="-", desc="daily monitor columns to keep ([] keeps none)", source="scenario choice"
    )
    resolution: Literal["daily", "weekly", "monthly"] = param(
        "monthly",
        unit="-",
        desc="time step of the kept series: flows are summed, stocks averaged over each period",
        source="scenario choice",
    )
    replications: Literal["every", "quantiles"] = param(
        "every",
        unit="-",
        desc="load every replication's series, or quantiles over the replications of each design point",
        source="scenario choice",
    )
    quantiles: list[float] = param(
        [0.05, 0.5, 0.95],
        unit="share",
        desc="quantiles when replications = 'quantiles'",
        source="scenario choice",
        min_length=1,
    )
    cycles: bool = param(True, unit="-", desc="keep the Spreidingswet cycle rows", source="scenario choice")

    @field_validator("timeseries")
    @classmethod
    def _known_columns(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c not in COLUMNS]
        if unknown:
            raise ValueError(f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}")
        return v

    @field_validator("quantiles")
    @classmethod
    def _in_unit_interval(cls, v: list[float]) -> list[float]:
        if any(not 0 <= q <= 1 for q in v):
            raise ValueError("quantiles must lie in [0, 1]")
        return v


class Experiment(Strict):
    """An experiment file: base scenarios × a design over factors × replications."""

    # how many of the last `set` entries came from the command line (--set), so messages can name them
    _command_line_set: int = PrivateAttr(default=0)

    name: str | None = param(
        None, unit="-", desc="name of the results directory (default: the file's stem)", source="scenario choice"
    )
    description: str = param("", unit="-", desc="what the experiment asks", source="scenario choice")
    scenarios: list[str] = param(
        ...,
        unit="path",
        desc="base scenario files, relative to the experiment file; each is crossed with the design",
        source="scenario choice",
        min_length=1,
    )
    set: list[str] = param(
        [],
        unit="-",
        desc="key=value overrides applied to every scenario before the factors (like --set)",
        source="scenario choice",
    )
    replications: int = param(
        ..., unit="-", desc="replications per design point", source="scenario choice", ge=1, le=MAX_REPLICATIONS
    )
    root_seed: int = param(
        1,
        unit="-",
        desc="root seed: replication r of every design point uses replication_seed(root_seed, r)",
        source="scenario choice",
        ge=0,
    )
    factors: list[Factor] = param([], unit="-", desc="varied scenario values", source="scenario choice")
    design: Design = param(Design(), unit="-", desc="how factor values are combined", source="scenario choice")
    outputs: Outputs = param(Outputs(), unit="-", desc="what each run keeps", source="scenario choice")

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        keys = [f.key for f in self.factors]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a factor key appears twice: {', '.join(sorted(k for k in set(keys) if keys.count(k) > 1))}")
        kind = self.design.kind
        if kind == "full_factorial":
            sampled = [f.key for f in self.factors if f.levels is None]
            if sampled:
                raise ValueError(
                    f"a full_factorial design needs levels for every factor, not a distribution ({', '.join(sampled)})"
                )
        else:
            if not self.factors:
                raise ValueError(f"a {kind} design needs at least one factor")
            if self.design.samples is None:
                raise ValueError(f"a {kind} design needs design.samples")
            if kind == "sobol" and self.design.samples & (self.design.samples - 1):
                raise ValueError(f"sobol needs design.samples a power of 2, got {self.design.samples}")
        runs = self.design_rows() * len(self.scenarios) * self.replications
        if self.design_rows() > MAX_DESIGN_POINTS or runs > MAX_RUNS:
            raise ValueError(
                f"{self.design_rows():,} design rows × {len(self.scenarios)} scenario(s) × {self.replications} replications "
                f"= {runs:,} runs; at most {MAX_DESIGN_POINTS:,} rows and {MAX_RUNS:,} runs"
            )
        return self

    def design_rows(self) -> int:
        """Rows of the design (design points per base scenario)."""
        d, k = self.design, len(self.factors)
        if d.kind == "full_factorial":
            return math.prod(len(f.levels or ()) for f in self.factors) if self.factors else 1
        n = d.samples or 0
        if d.kind == "sobol":
            return n * (2 * k + 2 if d.second_order else k + 2)
        if d.kind == "morris":
            return n * (k + 1)
        return n


@dataclass(frozen=True)
class DesignPoint:
    """One base scenario with one value per factor, validated."""

    index: int
    scenario_file: str
    values: dict
    scenario: Scenario


# --------------------------------------------------------------------------- loading


def _experiment_error(exc: ValidationError, file: Path, root: type | None = None) -> ScenarioError:
    """The first problem of a file validated against ``root`` (default :class:`Experiment`) as a ScenarioError."""
    # an unknown key is usually a typo of a key that is then reported missing: name the typo first
    errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    err = errors[0]
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "extra_forbidden":
        model: Any = root or Experiment
        for part in loc[:-1]:
            if isinstance(part, int):
                continue
            ann = model.model_fields[part].annotation
            inner = [ann, *getattr(ann, "__args__", ())]
            inner += [a for x in list(inner) for a in getattr(x, "__args__", ())]
            model = next((c for c in inner if isinstance(c, type) and issubclass(c, Strict)), model)
        close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else "."
        path, msg = ".".join(map(str, loc)), f"unknown key{hint} Allowed here: {', '.join(model.model_fields)}"
    else:
        path, msg = _format_error(err)
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return ScenarioError(file, path, msg + more)


def load_experiment(
    path: str | Path, overrides: list[str] | None = None, replications: int | None = None, check_design: bool = True
) -> Experiment:
    """Read and validate an experiment file (``overrides`` and ``replications`` come from the command line).

    ``check_design`` also builds and validates every design point's scenario (what ``opvangsim
    validate`` needs; the sweep builds them anyway, so it skips this here).
    """
    path = Path(path)
    data = read_toml(path)  # the scenario reader: same messages for a missing file or bad TOML, and `extends`
    if overrides and isinstance(data.get("set", []), list):  # (a `set` that is not a list is reported below)
        data["set"] = [*data.get("set", []), *overrides]
    if replications is not None:
        data["replications"] = replications
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        raise _experiment_error(exc, path) from None
    if exp.name is None:
        exp = exp.model_copy(update={"name": path.stem})
    exp._command_line_set = len(overrides or []) if isinstance(data.get("set", []), list) else 0
    for i, name in enumerate(exp.scenarios):
        if not (path.parent / name).exists():
            raise ScenarioError(path, f"scenarios.{i}", f"file not found: {name} (looked in {path.parent})")
    if check_design:
        design_points(exp, path)
    return exp


def unit_sample(exp: Experiment) -> np.ndarray:
    """The design on the unit cube: one row per design point, one column per factor (full factorial: level indices)."""
    d = exp.design
    k = len(exp.factors)
    rng = np.random.default_rng(np.random.SeedSequence([exp.root_seed if d.seed is None else d.seed, 0xDE5]))
    if d.kind == "full_factorial":
        if k == 0:
            return np.zeros((1, 0))
        # the centre of each level's slot maps back to that level in Factor.value_at
        grids = [(np.arange(len(f.levels)) + 0.5) / len(f.levels) for f in exp.factors]
        return np.array(list(itertools.product(*grids)), float)
    if d.kind == "latin_hypercube":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=k, seed=rng).random(d.samples)
    problem = {"num_vars": k, "names": [f.key for f in exp.factors], "bounds": [[0.0, 1.0]] * k}
    if d.kind == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, d.samples, calc_second_order=d.second_order, seed=rng)
    from SALib.sample import morris

    return morris.sample(problem, d.samples, num_levels=d.morris_levels, seed=rng)


def salib_problem(exp: Experiment) -> dict:
    """The SALib problem matching :func:`unit_sample` (for analysing Sobol or Morris sweeps on the unit cube)."""
    return {"num_vars": len(exp.factors), "names": [f.key for f in exp.factors], "bounds": [[0.0, 1.0]] * len(exp.factors)}


def _toml_literal(value: Level) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def with_factor_values(data: dict, values: dict, file: str | Path | None = None, origins: dict | None = None) -> dict:
    """A base scenario's data with one design point's factor values (dotted keys, as ``--set`` writes them)."""
    return apply_overrides(data, [f"{k}={_toml_literal(v)}" for k, v in values.items()], file, origins, str(file))


def base_scenario_data(exp: Experiment, file: str | Path) -> list[tuple[str, Path, dict, dict]]:
    """Each base scenario as (name in the experiment, path, data after ``extends`` and ``set``, origins)."""
    file = Path(file)
    out = []
    for name in exp.scenarios:
        scen_path = file.parent / name
        data, origins = read_scenario_data(scen_path)
        n_file = len(exp.set) - exp._command_line_set
        data = apply_overrides(data, exp.set[:n_file], file, origins, origin=str(file))
        data = apply_overrides(data, exp.set[n_file:], scen_path, origins)  # the command line's --set
        out.append((name, scen_path, data, origins))
    return out


def base_scenarios(exp: Experiment, file: str | Path) -> list[tuple[str, Scenario]]:
    """Each base scenario as resolved (``extends`` and the experiment's ``set`` applied, no factor), validated."""
    return [(name, scenario_from_dict(data, path, False, origins)) for name, path, data, origins in base_scenario_data(exp, file)]


def design_points(exp: Experiment, file: str | Path) -> list[DesignPoint]:
    """Every design point, validated: base scenarios (outer) × design rows (inner)."""
    file = Path(file)
    unit = unit_sample(exp)
    rows = [{f.key: f.value_at(u) for f, u in zip(exp.factors, row)} for row in unit]
    points: list[DesignPoint] = []
    names: dict[str, str] = {}
    # the data-file checks read CSV files: do them once per base scenario and distinct file-related values
    file_keys = [k for k in (f.key for f in exp.factors) if k.startswith(FILE_RELATED_KEYS)]
    for s_index, (name, scen_path, base, base_origins) in enumerate(base_scenario_data(exp, file)):
        checked: set[tuple] = set()
        for values in rows:
            origins = dict(base_origins)
            data = with_factor_values(base, values, file, origins)
            file_values = tuple(repr(values[k]) for k in file_keys)
            try:
                scenario = scenario_from_dict(data, scen_path, file_values not in checked, origins)
                checked.add(file_values)
            except ScenarioError as exc:
                where = ", ".join(f"{k}={v!r}" for k, v in values.items()) or "no factors"
                if exc.file not in (None, str(file)):  # written in the base scenario or a file it extends
                    raise ScenarioError(
                        exc.file, exc.key_path, f"{exc.message} (in {file} scenarios.{s_index}, with {where})"
                    ) from None
                # written by the experiment (its factors or set)
                raise ScenarioError(
                    file,
                    f"scenarios.{s_index}" + (f" / {exc.key_path}" if exc.key_path else ""),
                    f"{name} with {where}: {exc.message}",
                ) from None
            if names.setdefault(scenario.name, name) != name:
                raise ScenarioError(
                    file,
                    f"scenarios.{s_index}",
                    f"{name} has the same scenario name '{scenario.name}' as {names[scenario.name]}; give each a distinct name",
                )
            points.append(DesignPoint(len(points), name, values, scenario))
    return points


def resolve(exp: Experiment, points: list[DesignPoint]) -> dict:
    """The experiment as resolved: settings plus every design point's values and scenario digest."""
    return {
        "experiment": exp.model_dump(mode="json"),
        "design_points": [
            {
                "design_point": p.index,
                "scenario": p.scenario.name,
                "scenario_file": p.scenario_file,
                "values": p.values,
                "scenario_digest": p.scenario.digest(),
            }
            for p in points
        ],
    }


def model_code_digest() -> str:
    """SHA-256 over the package files that decide a run's numbers: a resumed sweep must not mix two versions."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    # by name first: the compiled loops' caches (~700 files in __pycache__) need no look at each
    for f in sorted(p for pattern in ("*.py", "*.csv") for p in root.rglob(pattern)):
        rel = f.relative_to(root)
        if "__pycache__" in rel.parts or not f.is_file():
            continue
        if rel.parts[0].removesuffix(".py") in NOT_MODEL_CODE:
            continue
        h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def experiment_hash(resolved: dict) -> str:
    """SHA-256 of the resolved experiment: equal hashes mean the same runs with the same inputs."""
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
