"""What the figures and the text of the report share: the results and the tables computed once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sim import analysis as an
from sim.analysis.arms import MAX_LABEL_FACTORS
from sim.scenario import Scenario
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
    discovery: pd.DataFrame  # CART boxes
    discovery_note: str
    scenarios: dict[str, Scenario]  # the scenario each arm ran, where it is known
    province: str | None = None  # whose municipalities the realisation figure shows (None: no such figure)
    notes: list[str] = field(default_factory=list)  # what the report could not establish, and why
    risk_by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_overflow: pd.DataFrame = field(default_factory=pd.DataFrame)
    window_text: str = "the whole run"  # the evaluation window in words
    windows: dict = field(default_factory=dict)  # arm -> sim.analysis.Window (or None)
    completeness: str = ""  # '' or how many runs are missing
    unpaired: bool = False
    _bands: dict = field(default_factory=dict)

    @property
    def arm_names(self) -> list[str]:
        return list(dict.fromkeys(self.arms["arm"]))

    @property
    def sampled(self) -> bool:
        """A sampled design (Latin hypercube, Sobol, Morris): many points, each its own mix of factor values."""
        return an.design_kind(self.results) in ("latin_hypercube", "sobol", "morris")

    def has_series(self, column: str) -> bool:
        """Whether the results have a time series of ``column`` (or of the emergency sum) to draw."""
        return self._fan(column) is not None

    def bands(self, column: str, arm: str) -> pd.DataFrame | None:
        """Median, 50 % and 90 % bands over replications per date for one arm (columns q05 … q95)."""
        fan = self._fan(column)
        if fan is None:
            return None
        return fan[fan["arm"] == arm].set_index("date")[[an.band_name(q) for q in an.FAN_QUANTILES]]

    def _fan(self, column: str) -> pd.DataFrame | None:
        """Fan bands of every arm (cached per column)."""
        if column not in self._bands:
            fan = an.fan_bands(self.results.timeseries, column)
            self._bands[column] = None if fan is None else an.with_arm(fan, self.arms)
        return self._bands[column]


def build_context(
    results: Results | an.Prepared,
    baseline: str | None,
    settings: an.RiskSettings,
    province: str | None = None,
) -> Context:
    """Compute every table of the report once; ``province``: draw the task realised per municipality of it.

    ``results``: prepared results (:func:`sim.analysis.prepare`: ordered, windowed, pairing checked),
    or raw results, which are prepared here with their own windows.
    """
    prep = results if isinstance(results, an.Prepared) else an.prepare(results.path, baseline, results=results)
    results = prep.results
    an.resolve_settings(results, settings)
    sens, sens_note = an.sensitivity(results)
    boxes, disc_note = an.cart_boxes(results)
    return Context(
        results,
        prep.arms,
        prep.baseline,
        an.paired_comparison(results, prep.baseline, unpaired=prep.unpaired),
        an.risk_table(results, settings, prep.windows),
        an.quantile_table(results),
        settings,
        sens,
        sens_note,
        boxes,
        disc_note,
        prep.scenarios,
        province,
        list(prep.notes),
        an.risk_by_year(results, settings, prep.windows),
        an.first_overflow(results, prep.windows),
        prep.window_text,
        prep.windows,
        prep.completeness,
        prep.unpaired,
    )


def factor_groups(ctx: Context) -> list[tuple[str, list[str]]]:
    """Arms grouped by the design factors other than the scenario (one group when there are none).

    In a sweep of scenarios × inflow levels, each group is one inflow level with
    every scenario in it: the panels of an overlay chart compare like with like.
    """
    a = ctx.arms
    factor_cols = an.varying_factors(a)
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
    factor_cols = an.varying_factors(a)
    if not factor_cols or len(factor_cols) > MAX_LABEL_FACTORS:
        return dict(zip(a["arm"], a["arm"]))
    return {
        row["arm"]: " · ".join([str(row["scenario"])] + [an.format_value(row[c]) for c in factor_cols]) for _, row in a.iterrows()
    }
