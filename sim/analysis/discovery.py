"""Scenario discovery: boxes of the design space where an output is high."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.arms import design_factors, label
from sim.store import Results


def scenario_discovery(
    results: Results,
    output: str = "emergency_person_nights",
    quantile: float = 0.75,
    max_depth: int = 2,
    threshold: float | None = None,
) -> tuple[list[dict], str]:
    """Parameter boxes where ``output`` is high, from a shallow decision tree.

    "High" is a design point's mean above ``threshold`` (in the output's unit),
    or by default above the ``quantile`` of the design points' means.

    Each box: its conditions, coverage (share of all high points inside it)
    and density (share of points inside it that are high).
    """
    factors = design_factors(results)
    numeric = [
        c
        for c in factors.columns
        if c not in ("scenario", "design_point") and pd.api.types.is_numeric_dtype(factors[c]) and factors[c].nunique() > 1
    ]
    if not numeric or output not in results.summary:
        return [], "no scenario discovery: the results have no varying numeric design factors"
    means = results.summary.groupby(["scenario", "design_point"])[output].mean().rename("y").reset_index()
    data = factors.merge(means, on=["scenario", "design_point"])
    if len(data) < 8:
        return [], f"no scenario discovery: {len(data)} design points are too few"
    try:
        from sklearn.tree import DecisionTreeClassifier
    except ImportError:
        return [], "no scenario discovery: scikit-learn is not installed"
    cut = float(data["y"].quantile(quantile)) if threshold is None else float(threshold)
    high = (data["y"] > cut).to_numpy()
    if high.all() or not high.any():
        return [], f"no scenario discovery: {label(output)} does not vary across design points"
    X = data[numeric].to_numpy(float)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(2, len(data) // 20), random_state=0).fit(X, high)
    t = tree.tree_
    boxes = []

    def walk(node: int, conds: list[str], mask: np.ndarray) -> None:
        if t.children_left[node] == -1:
            inside = high[mask]
            if len(inside) and inside.mean() > high.mean():
                boxes.append(
                    {
                        "conditions": " and ".join(conds) or "(all)",
                        "points": int(mask.sum()),
                        "density": float(inside.mean()),
                        "coverage": float(inside.sum() / high.sum()),
                    }
                )
            return
        f, thr = numeric[t.feature[node]], t.threshold[node]
        left = X[:, t.feature[node]] <= thr
        walk(t.children_left[node], conds + [f"{f} ≤ {thr:.4g}"], mask & left)
        walk(t.children_right[node], conds + [f"{f} > {thr:.4g}"], mask & ~left)

    walk(0, [], np.ones(len(data), bool))
    boxes.sort(key=lambda b: -b["density"])
    what = f"its {quantile:.0%} quantile ({cut:,.0f})" if threshold is None else f"{cut:,.0f}"
    return (
        boxes,
        f"decision tree (scikit-learn, depth ≤ {max_depth}) on {len(data)} design points; 'high' = {label(output)} above {what}",
    )
