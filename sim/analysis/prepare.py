"""Results made ready for comparing: loaded, ordered, windowed, and checked for pairing.

``compare``, ``report`` and ``study`` start here (:func:`prepare`), so they
agree on the order of the scenarios (the baseline first, then the order the
user gave: a study's or an experiment's list, or the order a collection's runs
were made), on the evaluation window (each run's own, or ``--from/--to``
recomputed from the daily series) and on whether the arms may be paired.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.analysis.arms import arms, counterparts, pick_baseline
from sim.analysis.pairing import arm_facts, check_pairs
from sim.analysis.runs import load_dir, run_manifests, scenarios_run
from sim.analysis.window import Window, describe, rewindow, windows
from sim.manifest import RunManifest, SweepManifest
from sim.scenario import Scenario, ScenarioError
from sim.store import Results


@dataclass
class Prepared:
    """What every table of a comparison shares."""

    results: Results
    arms: pd.DataFrame  # one row per arm, the baseline's first
    baseline: str
    scenarios: dict[str, Scenario]  # the scenario each arm ran, where known (arm label -> Scenario)
    windows: dict[str, Window | None]  # the evaluation window of each arm
    unpaired: bool = False
    recomputed: bool = False  # the metrics of the night were recomputed for --from/--to
    notes: list[str] = field(default_factory=list)

    @property
    def window_text(self) -> str:
        """The evaluation window in words."""
        return describe(self.windows)

    @property
    def completeness(self) -> str:
        """'' when every run asked for finished, else how many are missing."""
        r = self.results
        if r.complete:
            return ""
        failed = len(r.failures) if len(r.failures) else 0
        return f"incomplete: {r.missing_runs} of {r.expected_runs} runs are missing" + (
            f" ({failed} of them failed)" if failed else " (interrupted? run the sweep or study again to resume)"
        )


def _made(m: RunManifest | SweepManifest) -> str:
    """When a run or sweep was made (its manifest's start), for ordering a collection."""
    return m.started if isinstance(m, RunManifest) else m.created


def _study_order(path: Path | None) -> list[str]:
    """The arms of a study directory in the order its file gives them (``study.json``); [] for other directories."""
    try:
        return [a["name"] for a in json.loads((Path(path) / "study.json").read_text())["arms"]]
    except (OSError, TypeError, ValueError, KeyError):
        return []


def in_given_order(results: Results, baseline: str | None) -> tuple[Results, str]:
    """The results with summary rows ordered as the user gave the scenarios, the baseline's first.

    A sweep or study lists its scenarios; a directory of runs has the order in which they were
    made (the README's shell loop runs them in the order it names them).
    """
    s = results.summary
    order = list(dict.fromkeys(s["scenario"]))
    if results.runs:  # a collection of runs and sweeps
        given = _study_order(results.path)
        made = {name: _made(m) for name, m in run_manifests(results).items()}
        order = sorted(
            order, key=lambda name: (given.index(name) if name in given else len(given), made.get(name, ""), order.index(name))
        )
    base = pick_baseline(arms(results), baseline)
    order = [base] + [n for n in order if n != base]
    rank = s["scenario"].map({n: i for i, n in enumerate(order)})
    ordered = s.assign(_rank=rank.to_numpy()).sort_values(["_rank"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    return dataclasses.replace(results, summary=ordered), base


def prepare(
    directory: str | Path,
    baseline: str | None = None,
    first: dt.date | None = None,
    end: dt.date | None = None,
    unpaired: bool = False,
    results: Results | None = None,
) -> Prepared:
    """Load ``directory`` (or take ``results``), order it, recompute the window if asked, and check pairing.

    Refuses (a :class:`ScenarioError`, exit status 2) results without summary rows, a window the
    stored series cannot give, and, unless ``unpaired``, arms that cannot be paired with the baseline.
    """
    results = results if results is not None else load_dir(directory)
    if results.summary.empty:
        raise ScenarioError(directory, "", "has no summary rows to compare (no run finished)")
    results, base = in_given_order(results, baseline)
    a = arms(results)
    run, notes = scenarios_run(results)
    scenarios = {arm: run[(s, dp)] for s, dp, arm in zip(a["scenario"], a["design_point"], a["arm"]) if (s, dp) in run}
    recomputed = first is not None or end is not None
    if recomputed:
        results, _ = rewindow(results, first, end, scenarios)
        notes.append(
            "the metrics of the night were recomputed for --from/--to from the stored daily series; "
            "share_realised_window (the yearly checks) cannot be and is left out"
        )
    win = windows(results, scenarios)
    if not unpaired:
        check_pairs(arm_facts(results, scenarios, win), counterparts(a, base), directory, results.missing_runs)
    prepared = Prepared(results, a, base, scenarios, win, unpaired, recomputed, notes)
    if prepared.completeness:
        prepared.notes.insert(0, prepared.completeness)
    return prepared
