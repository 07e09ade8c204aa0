"""Batch experiments: experiment files, designs, and the ``opvangsim sweep`` command.

An experiment file (TOML) names one or more base scenario files, the factors to
vary (dotted scenario keys, as for ``--set``) with levels or with a range or
distribution, a design (full factorial, Latin hypercube, Sobol/Saltelli,
Morris), the number of replications, a root seed and the outputs to keep.
A *design point* is one base scenario with one value per factor; a *run* is a
design point × a replication. Replication ``r`` of every design point runs with
``replication_seed(root_seed, r)``: common random numbers, so differences
between design points are not drowned in sampling noise, and a run's numbers
do not depend on which other runs exist, their order or the executor.

``opvangsim sweep FILE`` writes ``results/<experiment>/``: ``manifest.json``
(the resolved experiment, its hash, the package version) and one directory per
finished chunk of runs under ``parts/`` (moved into place in one rename, so a
killed sweep keeps every finished run). Run again, it does only what is
missing; if the experiment changed it refuses unless ``--fresh``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import itertools
import json
import math
import os
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError, field_validator, model_validator

from sim.metrics import COLUMNS
from sim.params import Strict, param
from sim.scenario import Scenario, ScenarioError, _format_error, apply_overrides, read_toml, scenario_from_dict
from sim.streams import replication_seed

# Flows are summed over a period; every other column is a stock (persons, places) and is averaged.
FLOW_COLUMNS = ("arrivals", "housed", "departed", "decisions", "moves", "cost_eur", "penalty_eur")
DEFAULT_SERIES = (
    "ac_occupancy",
    "occupancy_emergency",
    "occupancy_crisis",
    "occupancy_total",
    "sleeping_outside",
    "places_in_pipeline",
    "cost_eur",
)
PARTS = "parts"
LOCK = ".sweep.lock"  # the process id of the sweep writing the directory
# modules and packages that cannot change a run's numbers (commands, storage, analysis, reporting); every
# other file of the package (the model, its data, and this module's output reduction) is part of the code digest
NOT_MODEL_CODE = {
    "__main__.py",
    "cli.py",
    "runner.py",
    "executors.py",
    "store.py",
    "analysis",
    "report",
    "backtest.py",
    "verification.py",
    "docs.py",
    "study.py",
}
# scenario keys that decide which data files are read and which dates they must cover
FILE_RELATED_KEYS = (
    "inflow.mode",
    "inflow.replay_file",
    "start_date",
    "end_date",
    "horizon_years",
    "initial_state.municipalities_file",
    "initial_state.use_municipal_places",
)

Level = bool | int | float | str


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
    )
    second_order: bool = param(False, unit="-", desc="sobol: also sample for second-order indices", source="scenario choice")
    morris_levels: int = param(4, unit="-", desc="morris: grid levels", source="model choice: SALib's default", ge=2)
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
    replications: int = param(..., unit="-", desc="replications per design point", source="scenario choice", ge=1)
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
        return self


@dataclass(frozen=True)
class DesignPoint:
    """One base scenario with one value per factor, validated."""

    index: int
    scenario_file: str
    values: dict
    scenario: Scenario


# --------------------------------------------------------------------------- loading


def _experiment_error(exc: ValidationError, file: Path) -> ScenarioError:
    # an unknown key is usually a typo of a key that is then reported missing: name the typo first
    errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    err = errors[0]
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "extra_forbidden":
        model: Any = Experiment
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
    if overrides:
        data["set"] = list(data.get("set", [])) + list(overrides)
    if replications is not None:
        data["replications"] = replications
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        raise _experiment_error(exc, path) from None
    if exp.name is None:
        exp = exp.model_copy(update={"name": path.stem})
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


def design_points(exp: Experiment, file: str | Path) -> list[DesignPoint]:
    """Every design point, validated: base scenarios (outer) × design rows (inner)."""
    file = Path(file)
    unit = unit_sample(exp)
    rows = [{f.key: f.value_at(u) for f, u in zip(exp.factors, row)} for row in unit]
    points: list[DesignPoint] = []
    names: dict[str, str] = {}
    # the data-file checks read CSV files: do them once per base scenario and distinct file-related values
    file_keys = [k for k in (f.key for f in exp.factors) if k.startswith(FILE_RELATED_KEYS)]
    for s_index, name in enumerate(exp.scenarios):
        scen_path = file.parent / name
        base = read_toml(scen_path)
        base = apply_overrides(base, exp.set, file)
        checked: set[tuple] = set()
        for values in rows:
            data = apply_overrides(base, [f"{k}={_toml_literal(v)}" for k, v in values.items()], file)
            file_values = tuple(repr(values[k]) for k in file_keys)
            try:
                scenario = scenario_from_dict(data, scen_path, check_data_files=file_values not in checked)
                checked.add(file_values)
            except ScenarioError as exc:
                where = ", ".join(f"{k}={v!r}" for k, v in values.items()) or "no factors"
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
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if not f.is_file() or "__pycache__" in rel.parts or f.suffix not in (".py", ".csv") or rel.parts[0] in NOT_MODEL_CODE:
            continue
        h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def experiment_hash(resolved: dict) -> str:
    """SHA-256 of the resolved experiment: equal hashes mean the same runs with the same inputs."""
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# --------------------------------------------------------------------------- running


def reduce_timeseries(ts: pd.DataFrame, columns: list[str], resolution: str) -> pd.DataFrame:
    """Keep ``columns`` at ``resolution``: flows summed, stocks averaged per period (``days`` = days in the period)."""
    keep = ts[["date", *columns]]
    if resolution == "daily":
        return keep.reset_index(drop=True)
    dates = pd.to_datetime(keep["date"])
    if resolution == "weekly":
        period = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.normalize()
    else:
        period = dates.dt.to_period("M").dt.to_timestamp()
    how = {c: ("sum" if c in FLOW_COLUMNS else "mean") for c in columns}
    out = (
        keep.drop(columns="date").groupby(period.rename("date"), sort=True).agg(how)
        if columns
        else pd.DataFrame(index=period.drop_duplicates().rename("date"))
    )
    out.insert(0, "days", period.value_counts().sort_index().to_numpy())
    return out.reset_index()


def run_chunk(chunk: dict) -> list[dict]:
    """Run a chunk of runs (executed on a worker). A run that raises is returned with its error, not raised."""
    from sim.model import simulate  # imported on the worker

    scenarios = {dp: Scenario.model_validate_json(text) for dp, text in chunk["scenarios"].items()}
    out = []
    for dp, rep in chunk["runs"]:
        seed = replication_seed(chunk["root_seed"], rep)
        record: dict[str, Any] = {
            "design_point": dp,
            "replication": rep,
            "seed": seed,
            "error": None,
            "summary": None,
            "timeseries": None,
            "cycles": None,
        }
        t0 = time.perf_counter()
        try:
            result = simulate(scenarios[dp], seed=seed, replication=rep)
            record["summary"] = result.summary
            if chunk["columns"]:
                record["timeseries"] = reduce_timeseries(result.timeseries, chunk["columns"], chunk["resolution"])
            if chunk["cycles"] and len(result.cycles):
                record["cycles"] = result.cycles.drop(columns=["replication"], errors="ignore")
        except Exception as exc:  # recorded and reported; the other runs go on
            record["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
        record["seconds"] = time.perf_counter() - t0
        out.append(record)
    return out


def _keys(frame_or_none, scenario: str, dp: int, rep: int) -> pd.DataFrame:
    df = frame_or_none.copy()
    for i, (k, v) in enumerate((("scenario", scenario), ("design_point", dp), ("replication", rep))):
        if k in df:
            df = df.drop(columns=k)
        df.insert(i, k, v)
    return df


def write_part(out: Path, name: str, records: list[dict], points: list[DesignPoint]) -> None:
    """Write one chunk's runs as ``parts/<name>/`` in one rename (a reader never sees half a part)."""
    parts = out / PARTS
    tmp = parts / f".tmp-{name}"
    tmp.mkdir(parents=True, exist_ok=True)
    summaries, series, cycles, failures = [], [], [], []
    for r in records:
        p = points[r["design_point"]]
        keys = {
            "scenario": p.scenario.name,
            "design_point": r["design_point"],
            "replication": r["replication"],
            "seed": r["seed"],
        }
        if r["error"] is not None:
            failures.append({**keys, "error": r["error"]})
            continue
        summaries.append(
            {
                **keys,
                **{k: v for k, v in r["summary"].items() if k not in keys},
                **{f"factor:{k}": v for k, v in p.values.items()},
                "run_seconds": r["seconds"],
            }
        )
        if r["timeseries"] is not None:
            series.append(_keys(r["timeseries"], p.scenario.name, r["design_point"], r["replication"]))
        if r["cycles"] is not None:
            cycles.append(_keys(r["cycles"], p.scenario.name, r["design_point"], r["replication"]))
    # the summary is the completion marker of a run; it is written whenever a run succeeded
    pd.DataFrame(summaries).to_parquet(tmp / "summary.parquet", index=False)
    if series:
        pd.concat(series, ignore_index=True).to_parquet(tmp / "timeseries.parquet", index=False)
    if cycles:
        pd.concat(cycles, ignore_index=True).to_parquet(tmp / "cycles.parquet", index=False)
    if failures:
        pd.DataFrame(failures).to_parquet(tmp / "failures.parquet", index=False)
    os.replace(tmp, parts / name)


def finished_runs(out: Path) -> set[tuple[int, int]]:
    """(design point, replication) of every run with a summary row in ``out``."""
    done: set[tuple[int, int]] = set()
    for part in sorted((out / PARTS).glob("part-*/summary.parquet")):
        df = pd.read_parquet(part, columns=None)
        if len(df):
            done.update(zip(df["design_point"].astype(int), df["replication"].astype(int)))
    return done


def _next_part_number(out: Path) -> int:
    numbers = [int(p.name.split("-")[1]) for p in (out / PARTS).glob("part-*") if p.name.split("-")[1].isdigit()]
    return max(numbers, default=0) + 1


def make_chunks(exp: Experiment, points: list[DesignPoint], runs: list[tuple[int, int]], size: int) -> list[dict]:
    """The tasks for :func:`run_chunk`: ``size`` runs each, with the scenarios they need (as JSON: data, not pickled objects)."""
    chunks = []
    for i in range(0, len(runs), size):
        part = runs[i : i + size]
        chunks.append(
            {
                "runs": part,
                "root_seed": exp.root_seed,
                "scenarios": {dp: points[dp].scenario.model_dump_json() for dp in sorted({dp for dp, _ in part})},
                "columns": list(exp.outputs.timeseries),
                "resolution": exp.outputs.resolution,
                "cycles": exp.outputs.cycles,
            }
        )
    return chunks


def estimated_run_seconds(horizon_days: float) -> float:
    """Rough wall time of one run on one core (measured here: ~0.3 s set-up plus ~2 ms per simulated day)."""
    return 0.3 + 0.002 * horizon_days


def chunk_size(n_runs: int, workers: int, requested: int | None, run_seconds: float = 1.0) -> int:
    """Runs per task: about 2 s of work per task, so that a task's overhead (~10–50 ms on Dask) stays
    around 1 %, but at least 4 tasks per worker so every worker stays busy to the end; long runs go
    one per task (a killed sweep then loses at most one run per worker)."""
    if requested:
        return requested
    by_time = math.ceil(2.0 / max(run_seconds, 1e-3))
    return max(1, min(8, by_time, n_runs // (4 * workers)))


def prepare_directory(out: Path, manifest: dict, file: Path, fresh: bool, write: bool = True) -> None:
    """Make ``out`` for this experiment, or check that it was made for this experiment (resume).

    With ``write=False`` only the checks run (before an executor starts), nothing is touched.
    """
    mpath = out / "manifest.json"
    if out.exists() and fresh:
        if not write:
            return
        shutil.rmtree(out)
    if mpath.exists():
        old = json.loads(mpath.read_text())
        if old.get("experiment_hash") != manifest["experiment_hash"]:
            raise ScenarioError(
                file,
                "",
                f"the experiment changed since {out}/ was made (hash {old.get('experiment_hash', '?')[:12]} there, "
                f"{manifest['experiment_hash'][:12]} now); rerun with --fresh to discard those results, or use --out",
            )
        if old.get("model_code_digest") != manifest["model_code_digest"]:
            raise ScenarioError(
                file,
                "",
                f"the model code changed since {out}/ was made (code digest {str(old.get('model_code_digest'))[:12]} there, "
                f"{manifest['model_code_digest'][:12]} now): resuming would mix results of two versions; rerun with --fresh, or use --out",
            )
        if write:
            for stale in (out / PARTS).glob(".tmp-*"):  # chunks that were being written when the sweep was killed
                shutil.rmtree(stale, ignore_errors=True)
        return
    if out.exists() and any(out.iterdir()):
        raise ScenarioError(
            file, "", f"{out}/ exists and is not a sweep of this experiment (no manifest.json); use --fresh or another --out"
        )
    if not write:
        return
    (out / PARTS).mkdir(parents=True, exist_ok=True)
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str))
    os.replace(tmp, mpath)


def lock_holder(out: Path) -> int | None:
    """The process id of a live sweep writing ``out``, or None (no lock, or left by a killed sweep)."""
    try:
        pid = int((out / LOCK).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


@dataclass
class SweepReport:
    total: int
    already_done: int
    ran: int
    failures: list[dict]
    wall_seconds: float

    @property
    def runs_per_second(self) -> float:
        return self.ran / self.wall_seconds if self.wall_seconds > 0 else float("nan")


def run_sweep(
    exp: Experiment,
    file: str | Path,
    out: str | Path,
    executor,
    fresh: bool = False,
    chunk: int | None = None,
    quiet: bool = False,
) -> SweepReport:
    """Run every missing (design point, replication) of ``exp`` with ``executor``, writing parts to ``out``."""
    from sim import __version__

    file, out = Path(file), Path(out)
    points = design_points(exp, file)
    resolved = resolve(exp, points)
    manifest = {
        "kind": "sweep",
        "experiment_name": exp.name,
        "experiment_file": str(file),
        "experiment_hash": experiment_hash(resolved),
        "package_version": __version__,
        "model_code_digest": model_code_digest(),
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "root_seed": exp.root_seed,
        "replications": exp.replications,
        "n_design_points": len(points),
        "factors": [f.key for f in exp.factors],
        "outputs": exp.outputs.model_dump(mode="json"),
        "resolved": resolved,
    }
    holder = lock_holder(out)
    if holder is not None:
        raise ScenarioError(
            file, "", f"{out}/ is being written by another sweep (process {holder}); wait for it to finish or use another --out"
        )
    prepare_directory(out, manifest, file, fresh, write=False)
    t0 = time.perf_counter()
    # the executor starts (and may fail to reach a scheduler) before anything is written
    with executor:
        prepare_directory(out, manifest, file, fresh)
        (out / LOCK).write_text(f"{os.getpid()}\n")
        try:
            return _run_missing(exp, points, out, executor, chunk, quiet, t0)
        finally:
            (out / LOCK).unlink(missing_ok=True)


def _run_missing(
    exp: Experiment, points: list[DesignPoint], out: Path, executor, chunk: int | None, quiet: bool, t0: float
) -> SweepReport:
    """The runs ``out`` lacks, on an executor that has been entered (``t0``: when the sweep started, perf_counter)."""
    from tqdm import tqdm

    total = len(points) * exp.replications
    done = finished_runs(out)
    # replication-major order: an interrupted sweep has every design point at a similar number of replications
    todo = [(p.index, r) for r in range(exp.replications) for p in points if (p.index, r) not in done]
    failures: list[dict] = []
    ran = 0
    chunks = make_chunks(
        exp,
        points,
        todo,
        chunk_size(len(todo), executor.workers, chunk, estimated_run_seconds(max(p.scenario.horizon_days for p in points))),
    )
    number = _next_part_number(out)
    bar = tqdm(total=total, initial=len(done), desc=exp.name, unit="run", disable=quiet, file=sys.stderr, dynamic_ncols=True)
    bar.set_postfix(failures=0)
    try:
        for records in executor.imap_unordered(run_chunk, chunks):
            write_part(out, f"part-{number:06d}", records, points)
            number += 1
            ran += len(records)
            failures += [
                {k: r[k] for k in ("design_point", "replication", "seed", "error")} for r in records if r["error"] is not None
            ]
            bar.update(len(records))
            bar.set_postfix(failures=len(failures), refresh=False)
    finally:
        bar.close()
    return SweepReport(total=total, already_done=len(done), ran=ran, failures=failures, wall_seconds=time.perf_counter() - t0)


# --------------------------------------------------------------------------- command line


def add_arguments(p) -> None:
    p.add_argument("experiment", help="experiment TOML file")
    p.add_argument("--out", help="results directory (default results/<experiment name>)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    how.add_argument("--serial", action="store_true", help="run in this process, one run after the other")
    how.add_argument("--dask-local", type=int, metavar="N", help="run on a Dask LocalCluster of N workers")
    how.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on a running Dask scheduler")
    p.add_argument("--chunk", type=int, default=None, help="runs per task (default: automatic, 1–8)")
    p.add_argument(
        "--fresh", action="store_true", help="discard an existing results directory of this experiment and start again"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value in every design point (part of the experiment's identity)",
    )
    p.add_argument(
        "--replications",
        "-r",
        type=int,
        default=None,
        help="replications per design point, instead of the file's (part of the experiment's identity)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args) -> int:
    from sim.executors import make_executor

    for opt in ("workers", "dask_local", "chunk", "replications"):
        value = getattr(args, opt)
        if value is not None and value < 1:
            raise ScenarioError(None, "--" + opt.replace("_", "-"), f"must be ≥ 1, got {value}")
    exp = load_experiment(args.experiment, args.overrides, args.replications, check_design=False)
    out = Path(args.out) if args.out else Path("results") / exp.name
    executor = make_executor(serial=args.serial, workers=args.workers, dask_local=args.dask_local, scheduler=args.scheduler)
    report = run_sweep(exp, args.experiment, out, executor, fresh=args.fresh, chunk=args.chunk, quiet=args.quiet)
    print(
        f"{exp.name}: {report.ran} run(s) in {report.wall_seconds:.1f} s ({report.runs_per_second:.2f} runs/s, {executor.label}); "
        f"{len(report.failures)} failed; {report.already_done} of {report.total} were already done; results in {out}/"
    )
    for f in report.failures[:10]:
        print(
            f"  failed: design point {f['design_point']}, replication {f['replication']}, seed {f['seed']}: {f['error'].splitlines()[0]}"
        )
    if len(report.failures) > 10:
        print(f"  … and {len(report.failures) - 10} more (see sim.store.load_results({str(out)!r}).failures)")
    return 1 if report.failures else 0
