"""What the figures and the text of the report share: the results and the tables computed once."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim import analysis as an
from sim.store import Results

HEADLINE_METRICS = (
    "emergency_person_nights",
    "peak_emergency_occupancy",
    "ac_days_above_norm",
    "person_nights_outside",
    "mean_housing_wait_days",
    "total_cost_eur",
    "share_realised_by_deadline",
    "durable_places_opened",
)


@dataclass
class Context:
    """What the figures and the text share: the results and the tables computed once."""

    results: Results
    arms: pd.DataFrame
    baseline: str
    paired: pd.DataFrame
    risk: pd.DataFrame
    quantiles: pd.DataFrame
    settings: an.RiskSettings
    sensitivity: pd.DataFrame
    sensitivity_note: str
    discovery: list
    discovery_note: str
    _bands: dict = field(default_factory=dict)

    @property
    def arm_names(self) -> list[str]:
        return list(dict.fromkeys(self.arms["arm"]))

    def series(self, column: str) -> pd.DataFrame | None:
        """Per-replication values of a time-series column (or of the emergency sum) with arm and date.

        A quantile series (a sweep that kept quantiles over replications) comes
        back with the quantile in the ``replication`` column's place.
        """
        ts = self.results.timeseries
        if ts.empty or "replication" not in ts or "date" not in ts:
            return None
        if "quantile" in ts:
            ts = ts.assign(replication=ts["quantile"])
        if column == "emergency":
            values = an.emergency_series(ts)
        elif column in ts:
            values = ts[column]
        else:
            return None
        if values is None:
            return None
        df = an.with_arm(ts[["scenario", "design_point", "replication", "date"]].assign(v=values.to_numpy()), self.arms)
        return df.assign(date=pd.to_datetime(df["date"]))

    def bands(self, column: str, arm: str) -> pd.DataFrame | None:
        """Median, 50 % and 90 % bands over replications per date for one arm (cached)."""
        key = (column, arm)
        if key not in self._bands:
            s = self.series(column)
            if s is None:
                self._bands[key] = None
            else:
                wide = s[s["arm"] == arm].pivot_table(index="date", columns="replication", values="v", aggfunc="first")
                names = ["q05", "q25", "q50", "q75", "q95"]
                if "quantile" in self.results.timeseries:
                    # quantiles already taken over replications: use the ones kept, leave the others empty
                    cols = {f"q{round(float(c) * 100):02d}": wide[c] for c in wide.columns}
                    self._bands[key] = pd.DataFrame({n: cols.get(n, pd.Series(np.nan, index=wide.index)) for n in names})
                else:
                    q = (
                        np.nanquantile(wide.to_numpy(float), [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
                        if len(wide)
                        else np.empty((5, 0))
                    )
                    self._bands[key] = pd.DataFrame(q.T, index=wide.index, columns=names)
        return self._bands[key]


def build_context(results: Results, baseline: str | None, settings: an.RiskSettings) -> Context:
    a = an.arms(results)
    base = an.pick_baseline(a, baseline)
    sens, sens_note = an.sensitivity(results)
    boxes, disc_note = an.scenario_discovery(results)
    return Context(
        results,
        a,
        base,
        an.paired_comparison(results, base),
        an.risk_table(results, settings),
        an.quantile_table(results),
        settings,
        sens,
        sens_note,
        boxes,
        disc_note,
    )


def factor_groups(ctx: Context) -> list[tuple[str, list[str]]]:
    """Arms grouped by the design factors other than the scenario (one group when there are none).

    In a sweep of scenarios × inflow levels, each group is one inflow level with
    every scenario in it: the panels of an overlay chart compare like with like.
    """
    a = ctx.arms
    factor_cols = [c for c in a.columns if c not in ("scenario", "design_point", "arm") and a[c].nunique(dropna=False) > 1]
    if not factor_cols:
        return [("", ctx.arm_names)]
    groups = []
    for key, sub in a.groupby(factor_cols, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{c.split('.')[-1]} = {an.format_value(v)}" for c, v in zip(factor_cols, key))
        groups.append((title, list(sub["arm"])))
    return groups


def short_labels(ctx: Context) -> dict[str, str]:
    """Arm labels for crowded axes: the scenario and the values of the varying factors, without factor names."""
    a = ctx.arms
    factor_cols = [c for c in a.columns if c not in ("scenario", "design_point", "arm") and a[c].nunique(dropna=False) > 1]
    if not factor_cols:
        return dict(zip(a["arm"], a["arm"]))
    return {
        row["arm"]: " · ".join([str(row["scenario"])] + [an.format_value(row[c]) for c in factor_cols]) for _, row in a.iterrows()
    }
