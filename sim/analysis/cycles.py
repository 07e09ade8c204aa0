"""The Spreidingswet cycle's results: how much of each task was realised by its deadline."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from sim.analysis.arms import with_arm
from sim.store import Results


class Realisation(NamedTuple):
    """Share of the task realised by the deadline in the first cycle, per arm and province or municipality."""

    shares: pd.DataFrame  # arm, the unit's column, mean, q05, q95 (shares of the task over replications)
    unit: str  # "province" or "municipality": the column naming the unit
    cycle: int | None  # the cycle shown (the first in the results)


def provinces(results: Results) -> list[str]:
    """The provinces named in the cycle rows of the results (empty without them)."""
    c = results.cycles
    return sorted(c["province"].dropna().astype(str).unique()) if "province" in c else []


def realisation_by_deadline(results: Results, arm_table: pd.DataFrame, province: str | None = None) -> Realisation | None:
    """Per province, or per municipality of ``province``: the share of the first cycle's task realised by its deadline.

    None when the results have no cycle rows with tasks and realisation for the units asked.
    """
    c = results.cycles
    if c.empty or not {"province", "task", "realised_by_deadline"} <= set(c.columns):
        return None
    c = with_arm(c, arm_table)
    if "level" in c:  # sim.capacity writes one row per province and per municipality, with their level
        is_muni = c["level"] == "municipality"
    elif "municipality" in c:
        is_muni = c["municipality"].notna() & (c["municipality"].astype(str).str.len() > 0)
    else:
        is_muni = pd.Series(False, index=c.index)
    if province is None:
        rows, unit = c[~is_muni], "province"
    else:
        rows, unit = c[is_muni & (c["province"] == province)], "municipality"
    if rows.empty:
        return None
    first = rows["cycle"].min() if "cycle" in rows else None
    if first is not None:
        rows = rows[rows["cycle"] == first]
    # min_count: a deadline after the horizon leaves realised_by_deadline empty, which is not 0 % realised
    g = rows.groupby(["arm", "replication", unit])[["task", "realised_by_deadline"]].sum(min_count=1).reset_index()
    g["share"] = np.where(g["task"] > 0, g["realised_by_deadline"] / g["task"].where(g["task"] > 0, 1), np.nan)
    g = g[g.groupby("arm")["share"].transform(lambda x: x.notna().any())]
    if g.empty:
        return None
    shares = (
        g.groupby(["arm", unit])["share"]
        .agg(["mean", lambda x: np.nanquantile(x, 0.05), lambda x: np.nanquantile(x, 0.95)])
        .set_axis(["mean", "q05", "q95"], axis=1)
        .reset_index()
    )
    return Realisation(shares, unit, first)
