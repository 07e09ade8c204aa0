"""Runs as units of work: what a worker receives (a :class:`Chunk`) and returns (:class:`RunRecord` s).

``opvangsim run``, ``opvangsim backtest`` and ``opvangsim sweep`` all cut their
runs into chunks and hand them to an executor (:mod:`sim.executors`), which
calls :func:`run_chunk` on a worker. A chunk carries its scenarios as JSON
(data, never pickled objects of the user's) and the outputs to keep; a record
carries one run's summary, kept series and cycle rows, or the error it raised.
Replication ``r`` runs with ``replication_seed(root_seed, r)`` wherever it runs.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass

import pandas as pd

from sim.errors import UserInputError
from sim.scenario import Scenario
from sim.streams import replication_seed

# Flows are summed over a period; every other column is a stock (persons, places) and is averaged.
FLOW_COLUMNS = ("arrivals", "housed", "departed", "decisions", "moves", "cost_eur", "penalty_eur")


@dataclass(frozen=True)
class Chunk:
    """Runs for one task: (design point, replication) pairs, the scenarios they need and what to keep.

    ``columns`` None keeps each run's daily series whole (``opvangsim run``); a list keeps those
    columns at ``resolution`` (a sweep's ``outputs``).
    """

    runs: tuple[tuple[int, int], ...]
    root_seed: int
    scenarios: dict[int, str]  # design point -> Scenario JSON
    columns: tuple[str, ...] | None = None
    resolution: str = "daily"
    cycles: bool = True


@dataclass
class RunRecord:
    """What one run returns: its summary, kept series and cycle rows, or its error."""

    design_point: int
    replication: int
    seed: int
    summary: dict | None = None
    timeseries: pd.DataFrame | None = None
    cycles: pd.DataFrame | None = None
    error: str | None = None
    input_error: bool = False  # the run refused its input (a ScenarioError raised while building the chain)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


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


def run_chunk(chunk: Chunk) -> list[RunRecord]:
    """Run a chunk's runs (on a worker). A run that raises is returned with its error, not raised."""
    from sim.model import simulate  # imported on the worker

    out = []
    for dp, rep in chunk.runs:
        record = RunRecord(design_point=dp, replication=rep, seed=replication_seed(chunk.root_seed, rep))
        t0 = time.perf_counter()
        try:
            scenario = Scenario.model_validate_json(chunk.scenarios[dp])
            result = simulate(scenario, seed=record.seed, replication=rep)
            record.summary = result.summary
            if chunk.columns is None:
                record.timeseries = result.timeseries
            elif chunk.columns:
                record.timeseries = reduce_timeseries(result.timeseries, list(chunk.columns), chunk.resolution)
            if chunk.cycles and len(result.cycles):
                record.cycles = result.cycles
        except Exception as exc:  # recorded and reported; the other runs go on
            record.input_error = isinstance(exc, UserInputError)
            record.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
        record.seconds = time.perf_counter() - t0
        out.append(record)
    return out


def make_chunks(
    runs: list[tuple[int, int]],
    scenarios: dict[int, Scenario],
    root_seed: int,
    size: int,
    columns: list[str] | None = None,
    resolution: str = "daily",
    cycles: bool = True,
) -> list[Chunk]:
    """``runs`` cut into chunks of ``size``, each with the scenarios (as JSON) of its design points."""
    payload: dict[int, str] = {}
    chunks = []
    for i in range(0, len(runs), size):
        part = tuple(runs[i : i + size])
        needed = sorted({dp for dp, _ in part})
        for dp in needed:
            if dp not in payload:
                payload[dp] = scenarios[dp].model_dump_json()
        chunks.append(
            Chunk(
                runs=part,
                root_seed=root_seed,
                scenarios={dp: payload[dp] for dp in needed},
                columns=None if columns is None else tuple(columns),
                resolution=resolution,
                cycles=cycles,
            )
        )
    return chunks


def estimated_run_seconds(horizon_days: float) -> float:
    """Rough wall time of one baseline run on one core, reducing its series included: measured on a 2-core VM
    (2026-11-29), 0.22 s for 1 simulated year, 0.45-0.54 s for 3, 1.2-1.3 s for 10, about 0.09 s plus 0.3 ms per
    simulated day (about twice what was measured at 7e47d06); rounded up here for slower machines
    (tests/test_experiment.py holds it to the time a run takes, within a factor)."""
    return 0.1 + 0.00035 * horizon_days


def chunk_size(n_runs: int, workers: int, requested: int | None, run_seconds: float = 1.0) -> int:
    """Runs per task: about 2 s of work per task, so that a task's overhead (~10–50 ms on Dask) stays
    around 1 %, but at least 4 tasks per worker so every worker stays busy to the end; long runs go
    one per task (a killed sweep then loses at most one run per worker)."""
    if requested:
        return requested
    by_time = math.ceil(2.0 / max(run_seconds, 1e-3))
    return max(1, min(8, by_time, n_runs // (4 * workers)))
