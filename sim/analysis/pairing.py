"""Which arms may be paired, replication by replication, and a refusal naming both when they may not.

Pairing replication r of a scenario with replication r of the baseline is
honest only when both ran with the same seeds (common random numbers) over the
same days with the same code: then their difference is the scenario's effect
plus little noise. :func:`check_pairs` compares what the manifests and the
summaries record about each pair (root seed and per-replication seeds, the
period simulated, the evaluation window, the package version and model code
digest, the set of replications) and refuses, naming both arms and both values,
where they differ. ``compare --unpaired`` compares independent samples
instead (Welch's interval), which needs none of this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.analysis.arms import arms, with_arm
from sim.analysis.runs import run_manifests
from sim.analysis.window import Window
from sim.manifest import RunManifest, SweepManifest
from sim.scenario import ScenarioError
from sim.store import Results


@dataclass(frozen=True)
class ArmFacts:
    """What was recorded about how one arm ran (None: not recorded)."""

    arm: str
    source: str  # the results directory or run it came from
    root_seed: int | None = None
    seeds: dict[int, int] = field(default_factory=dict)  # replication -> seed
    period: Window | None = None  # the simulated days
    window: Window | None = None  # the days its metrics of the night count
    version: str | None = None
    code_digest: str | None = None
    replications: frozenset[int] = frozenset()


def _manifest_by_scenario(results: Results) -> dict[str, tuple[str, RunManifest | SweepManifest]]:
    """Scenario name -> (name of the run or sweep it came from, its manifest)."""
    out: dict[str, tuple[str, RunManifest | SweepManifest]] = {}
    for name, m in run_manifests(results).items():
        if isinstance(m, SweepManifest):
            for p in m.design_points:
                out.setdefault(p.scenario, (name, m))
        out.setdefault(name, (name, m))
    return out


def arm_facts(results: Results, scenarios: dict[str, object], window: dict[str, Window | None]) -> dict[str, ArmFacts]:
    """The facts of every arm; ``scenarios``: the scenario each arm ran (arm -> Scenario), where known."""
    a = arms(results)
    s = with_arm(results.summary, a)
    manifests = _manifest_by_scenario(results)
    ts = results.timeseries
    cover = None
    if not ts.empty and "date" in ts:
        cover = with_arm(ts[["scenario", "design_point", "date"]], a).groupby("arm")["date"].agg(["min", "max"])
    out = {}
    for arm, scen_name in dict.fromkeys(zip(a["arm"], a["scenario"])):
        sub = s[s["arm"] == arm]
        source, m = manifests.get(str(scen_name), (str(scen_name), None))
        scenario = scenarios.get(arm)
        period = None
        if scenario is not None:
            start = scenario.start_date
            period = Window(start, start + dt.timedelta(days=scenario.horizon_days))
        elif cover is not None and arm in cover.index:
            period = Window(
                pd.Timestamp(cover.loc[arm, "min"]).date(), pd.Timestamp(cover.loc[arm, "max"]).date() + dt.timedelta(days=1)
            )
        seeds = dict(zip(sub["replication"].astype(int), sub["seed"].astype(int))) if "seed" in sub else {}
        out[arm] = ArmFacts(
            arm=arm,
            source=source,
            root_seed=None if m is None else m.root_seed,
            seeds=seeds,
            period=period,
            window=window.get(arm),
            version=None if m is None else m.package_version,
            code_digest=None if m is None else m.model_code_digest,
            replications=frozenset(int(r) for r in sub["replication"]),
        )
    return out


def _reps(r: frozenset[int]) -> str:
    v = sorted(r)
    if v and v == list(range(v[0], v[-1] + 1)):
        return f"replications {v[0]}–{v[-1]} ({len(v)})" if len(v) > 1 else f"replication {v[0]}"
    shown = ", ".join(map(str, v[:8])) + (" …" if len(v) > 8 else "")
    return f"replications {shown} ({len(v)})"


def mismatches(x: ArmFacts, b: ArmFacts) -> list[str]:
    """What differs between arm ``x`` and baseline arm ``b`` that pairing needs to be equal."""
    found = []
    if x.root_seed is not None and b.root_seed is not None and x.root_seed != b.root_seed:
        found.append(f"root seeds differ ({x.arm}: {x.root_seed}; {b.arm}: {b.root_seed})")
    else:
        common = sorted(set(x.seeds) & set(b.seeds))
        differ = [r for r in common if x.seeds[r] != b.seeds[r]]
        if differ:
            r = differ[0]
            found.append(
                f"seeds differ in {len(differ)} of {len(common)} replications "
                f"(replication {r}: {x.arm} {x.seeds[r]}; {b.arm} {b.seeds[r]})"
            )
    if x.period is not None and b.period is not None and x.period != b.period:
        found.append(f"the periods simulated differ ({x.arm}: {x.period}; {b.arm}: {b.period})")
    if x.window is not None and b.window is not None and x.window != b.window:
        found.append(f"the evaluation windows differ ({x.arm}: {x.window}; {b.arm}: {b.window})")
    if x.version and b.version and x.version != b.version:
        found.append(f"the opvangsim versions differ ({x.arm}: {x.version}; {b.arm}: {b.version})")
    if x.code_digest and b.code_digest and x.code_digest != b.code_digest:
        found.append(f"the model code differs ({x.arm}: digest {x.code_digest[:12]}; {b.arm}: {b.code_digest[:12]})")
    if x.replications != b.replications:
        found.append(f"the replications differ ({x.arm}: {_reps(x.replications)}; {b.arm}: {_reps(b.replications)})")
    return found


def check_pairs(facts: dict[str, ArmFacts], pairs: dict[str, str], where: str | Path | None, missing_runs: int = 0) -> None:
    """Refuse (a :class:`ScenarioError`: exit status 2) the first pair that cannot be paired, naming both arms."""
    for arm, base in pairs.items():
        found = mismatches(facts[arm], facts[base])
        if found:
            hint = (
                f"; {missing_runs} run(s) of these results are missing: resume the sweep or study to complete them"
                if missing_runs and any("replications differ" in f for f in found)
                else ""
            )
            raise ScenarioError(
                where if where is not None else "DIR",
                "",
                f"cannot pair {arm} ({facts[arm].source}) with {base} ({facts[base].source}) replication by replication: "
                + "; ".join(found)
                + hint
                + ". Rerun them alike (same --seed, horizon, window, version and replications), "
                "or compare them as independent samples with --unpaired (Welch's interval)",
            )
