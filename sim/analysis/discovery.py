"""Scenario discovery with CART boxes: where in the design space is an output high?

A shallow classification tree (CART: scikit-learn's ``DecisionTreeClassifier``)
separates the design points where the output is high (the cases of interest)
from the others. Each leaf is a box, one interval per factor the path to it
splits on. For every box holding more than its share of cases of interest
the report gives the three standard measures of scenario discovery:

* **coverage** — the share of all cases of interest that lie in the box;
* **density** — the share of the cases in the box that are of interest;
* **mass** — the share of all cases that lie in the box.

A tree is deterministic, its boxes read as "a > x and b ≤ y", and
scikit-learn is a small, stable dependency. It is not PRIM (the peeling
algorithm of the same literature, with its coverage–density trade-off
curve); where PRIM is wanted, use the EMA Workbench's, not a copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.arms import design_factors, format_value, label
from sim.store import Results

BOX_COLUMNS = ["conditions", "design_points", "coverage", "density", "mass"]


@dataclass(frozen=True)
class BoxMeasures:
    """Coverage, density and mass of one box (shares in [0, 1]; nan when undefined)."""

    coverage: float
    density: float
    mass: float


def box_measures(inside: np.ndarray, of_interest: np.ndarray) -> BoxMeasures:
    """The measures of the box holding the cases ``inside`` (booleans, one per case) against ``of_interest``."""
    inside = np.asarray(inside, bool)
    of_interest = np.asarray(of_interest, bool)
    hits = int((inside & of_interest).sum())
    n_inside, n_interest = int(inside.sum()), int(of_interest.sum())
    return BoxMeasures(
        coverage=hits / n_interest if n_interest else math.nan,
        density=hits / n_inside if n_inside else math.nan,
        mass=n_inside / len(inside) if len(inside) else math.nan,
    )


def _describe(bounds: dict[str, list[float]]) -> str:
    """A box's intervals as conditions: ``f > low`` and ``f ≤ high`` for the bounds the tree set."""
    conds = []
    for factor, (low, high) in bounds.items():
        if low > -math.inf:
            conds.append(f"{factor} > {format_value(low)}")
        if high < math.inf:
            conds.append(f"{factor} ≤ {format_value(high)}")
    return " and ".join(conds) or "(all)"


def cart_boxes(
    results: Results,
    output: str = "emergency_person_nights",
    quantile: float = 0.75,
    max_depth: int = 2,
    threshold: float | None = None,
) -> tuple[pd.DataFrame, str]:
    """CART boxes of the design factors where ``output`` is high, densest first; and a note on what was done.

    A case is a design point; it is of interest when its mean over
    replications exceeds ``threshold`` (in the output's unit), by default the
    ``quantile`` of the design points' means. One row per box that holds more
    than its share of cases of interest (:data:`BOX_COLUMNS`).
    """
    empty = pd.DataFrame(columns=BOX_COLUMNS)
    factors = design_factors(results)
    numeric = [
        c
        for c in factors.columns
        if c not in ("scenario", "design_point") and pd.api.types.is_numeric_dtype(factors[c]) and factors[c].nunique() > 1
    ]
    if not numeric or output not in results.summary:
        return empty, "no scenario discovery: the results have no varying numeric design factors"
    means = results.summary.groupby(["scenario", "design_point"])[output].mean().rename("y").reset_index()
    data = factors.merge(means, on=["scenario", "design_point"])
    if len(data) < 8:
        return empty, f"no scenario discovery: {len(data)} design points are too few"
    from sklearn.tree import DecisionTreeClassifier

    cut = float(data["y"].quantile(quantile)) if threshold is None else float(threshold)
    of_interest = (data["y"] > cut).to_numpy()
    if of_interest.all() or not of_interest.any():
        return empty, f"no scenario discovery: {label(output)} does not vary across design points"
    X = data[numeric].to_numpy(float)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(2, len(data) // 20), random_state=0)
    t = tree.fit(X, of_interest).tree_
    leaf_of = tree.apply(X)
    rows = []

    def walk(node: int, bounds: dict[str, list[float]]) -> None:
        if t.children_left[node] == -1:
            m = box_measures(leaf_of == node, of_interest)
            if m.density > of_interest.mean():
                rows.append([_describe(bounds), int((leaf_of == node).sum()), m.coverage, m.density, m.mass])
            return
        factor, cut_at = numeric[t.feature[node]], float(t.threshold[node])
        low, high = bounds.get(factor, [-math.inf, math.inf])
        walk(t.children_left[node], {**bounds, factor: [low, min(high, cut_at)]})
        walk(t.children_right[node], {**bounds, factor: [max(low, cut_at), high]})

    walk(0, {})
    boxes = pd.DataFrame(rows, columns=BOX_COLUMNS).sort_values("density", ascending=False, kind="stable")
    what = f"its {quantile:.0%} quantile ({cut:,.0f})" if threshold is None else f"{cut:,.0f}"
    return (
        boxes.reset_index(drop=True),
        f"CART boxes (scikit-learn decision tree, depth ≤ {max_depth}) on {len(data)} design points; of interest: "
        f"{label(output)} above {what}. Coverage: share of the points of interest inside the box; density: share of "
        "the box's points that are of interest; mass: share of all points inside the box",
    )
