"""Sensitivity indices (SALib Sobol or Morris) of a sweep whose design allows them."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.analysis.arms import design_factors
from sim.analysis.runs import _find, design_kind, run_manifests
from sim.analysis.stats import ANALYSIS_SEED, LEVEL
from sim.store import Results


def _experiment_design(results: Results) -> tuple[dict, np.ndarray, int, bool] | None:
    """SALib problem on the unit cube, the unit sample and the rows per base scenario, for a sweep directory.

    Sampled sweeps draw on the unit cube and map each coordinate through the
    factor's distribution (sim.experiment.Factor.value_at), so the indices are
    computed on the unit cube: the sample the design actually is.
    """
    m = results.manifest or {}
    spec = (m.get("resolved") or {}).get("experiment")
    if m.get("kind") != "sweep" or not isinstance(spec, dict):
        return None
    try:
        from sim.experiment import Experiment, salib_problem, unit_sample

        exp = Experiment.model_validate(spec)
        unit = unit_sample(exp)
        return salib_problem(exp), unit, len(unit), bool(exp.design.second_order)
    except Exception:  # an older or foreign manifest: fall back to the factor ranges it lists
        return None


def design_problem(results: Results) -> dict | None:
    """A SALib problem (names, bounds) from the manifest's factor ranges, if it has them."""
    for manifest in run_manifests(results).values():
        factors = _find(manifest, ("factors",))
        names, bounds = [], []
        items = (
            factors.items()
            if isinstance(factors, dict)
            else ((f.get("key") or f.get("name"), f) for f in factors or [] if isinstance(f, dict))
        )
        for name, spec in items:
            if not isinstance(spec, dict):
                continue
            lo = spec.get("low", spec.get("min"))
            hi = spec.get("high", spec.get("max"))
            if lo is not None and hi is not None:
                names.append(str(name))
                bounds.append([float(lo), float(hi)])
        if names:
            return {"num_vars": len(names), "names": names, "bounds": bounds}
    return None


def _indices(
    kind: str, problem: dict, X: np.ndarray, Y: np.ndarray, out: str, level: float, second: bool | None = None
) -> list[dict]:
    """SALib indices of one output; ``second``: the Saltelli sample includes second-order rows (None: infer from its size)."""
    from SALib.analyze import morris as sa_morris
    from SALib.analyze import sobol as sa_sobol

    rows = []
    D = problem["num_vars"]
    if kind == "morris":
        res = sa_morris.analyze(problem, X, Y, conf_level=level, seed=ANALYSIS_SEED)
        for i, f in enumerate(problem["names"]):
            rows.append(
                {
                    "output": out,
                    "factor": f,
                    "index": "mu_star",
                    "value": float(res["mu_star"][i]),
                    "conf": float(res["mu_star_conf"][i]),
                }
            )
            rows.append({"output": out, "factor": f, "index": "sigma", "value": float(res["sigma"][i]), "conf": math.nan})
        return rows
    if second is None:  # N·(2D+2) rows with second order, N·(D+2) without; a size fitting both is read as SALib's default
        second = len(Y) % (2 * D + 2) == 0
    if len(Y) % ((2 * D + 2) if second else (D + 2)) != 0:
        raise ValueError(f"{len(Y)} design points is not a Saltelli sample for {D} factors")
    res = sa_sobol.analyze(problem, Y, calc_second_order=second, conf_level=level, seed=ANALYSIS_SEED)
    for i, f in enumerate(problem["names"]):
        rows.append({"output": out, "factor": f, "index": "S1", "value": float(res["S1"][i]), "conf": float(res["S1_conf"][i])})
        rows.append({"output": out, "factor": f, "index": "ST", "value": float(res["ST"][i]), "conf": float(res["ST_conf"][i])})
    return rows


def sensitivity(
    results: Results,
    outputs: Iterable[str] = ("emergency_person_nights", "ac_days_above_norm", "total_cost_eur"),
    level: float = LEVEL,
) -> tuple[pd.DataFrame, str]:
    """Sobol first-order/total or Morris μ*/σ indices per output with intervals; and a note on what was done.

    The model output of a design point is its mean over replications (the
    replications share seeds across points, so the noise is common to all).
    With several base scenarios the indices are computed per scenario.
    """
    kind = design_kind(results)
    empty = pd.DataFrame(columns=["scenario", "output", "factor", "index", "value", "conf"])
    if kind not in ("sobol", "saltelli", "morris"):
        return empty, f"no sensitivity analysis: the design is {kind or 'not a sampling design'} (needs Sobol/Saltelli or Morris)"
    kind = "morris" if kind == "morris" else "sobol"
    means = results.summary.groupby(["scenario", "design_point"]).mean(numeric_only=True).reset_index()
    design = _experiment_design(results)
    if design is not None:
        problem, unit, per_scenario, second = design
    else:
        problem, factors = design_problem(results), design_factors(results)
        if problem is None or factors.empty or not set(problem["names"]) <= set(factors.columns):
            return empty, "no sensitivity analysis: the manifest does not give the factors' ranges and values per design point"
        unit, per_scenario = None, None
        flag = _find(results.manifest or {}, ("second_order",))
        second = bool(flag) if isinstance(flag, bool) else None
    rows = []
    for scen, sub in means.groupby("scenario", sort=False):
        sub = sub.sort_values("design_point")
        if unit is not None:
            first = int(sub["design_point"].min())
            expected = np.arange(first, first + per_scenario)
            if len(sub) != per_scenario or not np.array_equal(sub["design_point"].to_numpy(), expected):
                return (
                    empty,
                    f"no sensitivity analysis: {scen} has {len(sub)} of its {per_scenario} design points finished (resume the sweep)",
                )
            X = unit
        else:
            X = (
                factors.set_index(["scenario", "design_point"])
                .loc[list(zip(sub["scenario"], sub["design_point"])), problem["names"]]
                .to_numpy(float)
            )
        for out in outputs:
            if out not in sub:
                continue
            try:
                rows += [
                    {"scenario": scen, **r} for r in _indices(kind, problem, X, sub[out].to_numpy(float), out, level, second)
                ]
            except ValueError as exc:
                return empty, f"no sensitivity analysis: {exc}"
    where = "on the unit cube of the design" if unit is not None else "on the factor ranges"
    return (
        pd.DataFrame(rows, columns=empty.columns),
        f"{'Morris μ*, σ' if kind == 'morris' else 'Sobol first-order (S1) and total (ST)'} indices (SALib) {where}, over {len(means)} design points; conf = {level:.0%} interval half-width",
    )
