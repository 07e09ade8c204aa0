"""What a results directory records about how it was made: the run and sweep manifests.

``manifest.json`` in a results directory is one of two typed records:

- :class:`RunManifest` (``opvangsim run``): the scenario as resolved, its digest,
  the root seed and every replication's seed, the data files read and their digests;
- :class:`SweepManifest` (``opvangsim sweep``): the experiment as resolved (every
  design point with its factor values and scenario digest), each base scenario as
  resolved (after ``extends`` and the experiment's ``set``), the digests of the
  model code and of every data file a design point reads.

The runner and the sweep write them; :func:`sim.store.load_results`, the analysis
and the report read them with :func:`read_manifest`. Both describe what ran, not
the files as they are today: a report made a year later still says what the
scenarios were.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sim.errors import UserInputError
from sim.experiment import Experiment, Level, Outputs
from sim.scenario import Scenario, scenario_from_dict

# 1: parts carry part.json (runs and file digests). A manifest without the key was written before (0).
FORMAT_VERSION = 1


class Record(BaseModel):
    """Base of the manifest records: unknown keys are errors (a manifest is written by this package only)."""

    model_config = ConfigDict(extra="forbid")


class RunManifest(Record):
    """``manifest.json`` of ``opvangsim run``: replications of one scenario."""

    kind: Literal["run"] = "run"
    format_version: int = 0
    scenario_name: str
    scenario: dict[str, Any] = Field(description="the scenario as resolved (Scenario.canonical())")
    scenario_digest: str
    scenario_file: str
    overrides: list[str] = []
    root_seed: int
    replications: int
    seeds: list[int] = Field(description="seed of replication r at index r: replication_seed(root_seed, r)")
    package_version: str
    model_code_digest: str | None = None
    input_files: dict[str, str] = Field(default={}, description="data file read by the runs (path) -> SHA-256")
    posteriors: dict[str, str] = Field(
        default={}, description="posterior the runs drew their parameters from (path) -> SHA-256 (sim.posterior)"
    )
    executor: str = ""
    command: str = ""
    started: str = ""
    finished: str = ""
    wall_seconds: float = 0.0
    warm_up: str = ""

    @property
    def name(self) -> str:
        return self.scenario_name


class DesignPointEntry(Record):
    """One design point of a sweep: its base scenario, factor values and the digest of its scenario."""

    design_point: int
    scenario: str
    scenario_file: str
    values: dict[str, Level]
    scenario_digest: str


class ResolvedExperiment(Record):
    """The experiment as resolved: what its hash is computed from."""

    experiment: Experiment
    design_points: list[DesignPointEntry]


class BaseScenarioEntry(Record):
    """A base scenario of a sweep as resolved: its file after ``extends`` and the experiment's ``set``."""

    file: str = Field(description="as named in the experiment file")
    name: str
    scenario: dict[str, Any] = Field(description="Scenario.canonical() before the factors apply")
    digest: str


class SweepManifest(Record):
    """``manifest.json`` of ``opvangsim sweep``: design points × replications of an experiment."""

    kind: Literal["sweep"] = "sweep"
    format_version: int = 0
    experiment_name: str
    experiment_file: str
    experiment_hash: str
    package_version: str
    model_code_digest: str
    created: str
    root_seed: int
    replications: int
    n_design_points: int
    factors: list[str]
    outputs: Outputs
    resolved: ResolvedExperiment
    base_scenarios: list[BaseScenarioEntry] = []
    input_files: dict[str, str] = Field(default={}, description="data file read by any design point (path) -> SHA-256")
    posteriors: dict[str, str] = Field(
        default={}, description="posterior any design point drew its parameters from (path) -> SHA-256 (sim.posterior)"
    )

    @property
    def name(self) -> str:
        return self.experiment_name

    @property
    def experiment(self) -> Experiment:
        return self.resolved.experiment

    @property
    def design_points(self) -> list[DesignPointEntry]:
        return self.resolved.design_points

    def scenario_of(self, point: DesignPointEntry) -> Scenario | None:
        """The scenario a design point ran: its base scenario as resolved with the point's factor values.

        None when the manifest holds no base scenarios (a sweep written before they were recorded) or
        the rebuilt scenario's digest differs from the one the sweep recorded (another schema version).
        """
        from sim.experiment import with_factor_values

        base = next((b for b in self.base_scenarios if b.file == point.scenario_file), None)
        if base is None:
            return None
        try:
            scenario = scenario_from_dict(with_factor_values(base.scenario, point.values), check_data_files=False)
        except UserInputError:
            return None
        return scenario if scenario.digest() == point.scenario_digest else None


Manifest = Annotated[RunManifest | SweepManifest, Field(discriminator="kind")]
_ADAPTER: TypeAdapter = TypeAdapter(Manifest)


def read_manifest(directory: str | Path) -> RunManifest | SweepManifest:
    """The manifest of a results directory; a :class:`UserInputError` naming the file if it cannot be read."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise UserInputError(str(directory), "not a results directory (no manifest.json)")
    try:
        return _ADAPTER.validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc), "loc": ()}
        where = ".".join(map(str, first.get("loc", ())))
        raise UserInputError(
            str(path), f"not a manifest this version of opvangsim can read ({where + ': ' if where else ''}{first['msg']})"
        ) from None


def write_manifest(directory: str | Path, manifest: RunManifest | SweepManifest) -> Path:
    """Write ``manifest.json`` in one rename (a reader sees the old file or the new one, never half)."""
    path = Path(directory) / "manifest.json"
    tmp = path.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n")
    os.replace(tmp, path)
    return path
