"""Sensitivity indices (SALib Sobol or Morris) of a sweep whose design allows them."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.analysis.arms import label, significant
from sim.analysis.runs import design_kind, experiment_of
from sim.analysis.stats import ANALYSIS_SEED, LEVEL
from sim.experiment import salib_problem, unit_sample
from sim.store import Results


def _indices(kind: str, problem: dict, X: np.ndarray, Y: np.ndarray, out: str, level: float, second: bool) -> list[dict]:
    """SALib indices of one output; ``second``: the Saltelli sample includes the second-order rows."""
    from SALib.analyze import morris as sa_morris
    from SALib.analyze import sobol as sa_sobol

    rows = []
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
    if kind not in ("sobol", "morris"):
        return empty, f"no sensitivity analysis: the design is {kind or 'not a sampling design'} (needs Sobol or Morris)"
    exp = experiment_of(results)  # a sampling design is a sweep's: its manifest holds the experiment
    # sampled sweeps draw on the unit cube and map each coordinate through the factor's distribution
    # (Factor.value_at): the indices are computed on the unit cube, the sample the design actually is
    problem, unit = salib_problem(exp), unit_sample(exp)
    means = results.summary.groupby(["scenario", "design_point"]).mean(numeric_only=True).reset_index()
    rows = []
    for scen, sub in means.groupby("scenario", sort=False):
        sub = sub.sort_values("design_point")
        first = int(sub["design_point"].min())
        if not np.array_equal(sub["design_point"].to_numpy(), np.arange(first, first + len(unit))):
            return (
                empty,
                f"no sensitivity analysis: {scen} has {len(sub)} of its {len(unit)} design points finished (resume the sweep)",
            )
        for out in outputs:
            if out in sub:
                Y = sub[out].to_numpy(float)
                rows += [{"scenario": scen, **r} for r in _indices(kind, problem, unit, Y, out, level, exp.design.second_order)]
    return (
        pd.DataFrame(rows, columns=empty.columns),
        f"{'Morris μ*, σ' if kind == 'morris' else 'Sobol first-order (S1) and total (ST)'} indices (SALib) on the unit cube "
        f"of the design, over {len(means)} design points; conf = {level:.0%} interval half-width",
    )


def sensitivity_table(sens: pd.DataFrame) -> pd.DataFrame:
    """The indices of :func:`sensitivity` as a table to read: factors as rows, one column per output and
    index, cells 'value ± interval half-width' to three significant digits."""
    cell = [significant(v, 3) + ("" if pd.isna(c) else f" ± {significant(c, 2)}") for v, c in zip(sens["value"], sens["conf"])]
    several = "scenario" in sens and sens["scenario"].nunique() > 1
    col = [
        (f"{s} · " if several else "") + f"{label(o).split(' (')[0]}: {i}"
        for s, o, i in zip(sens["scenario"] if "scenario" in sens else [""] * len(sens), sens["output"], sens["index"])
    ]
    wide = sens.assign(cell=cell, col=col).pivot(index="factor", columns="col", values="cell")
    wide = wide.reindex(index=list(dict.fromkeys(sens["factor"])), columns=list(dict.fromkeys(col)))
    wide.index = [f.split(".")[-1] for f in wide.index]
    wide.columns.name = None
    return wide.reset_index(names="factor")
