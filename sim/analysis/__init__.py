"""Comparing scenarios and reporting risk; ``opvangsim compare DIR [--baseline NAME]``.

The layers, each a module:

* :mod:`~sim.analysis.runs` — what was run: :func:`load_dir` reads a run
  directory, a sweep directory or a directory holding several run directories
  (through :func:`sim.store.load_results`), and the manifests are read there;
* :mod:`~sim.analysis.arms` — the arms (one per scenario and design point),
  their labels and factor values, and which baseline arm each is paired with;
* :mod:`~sim.analysis.stats` — intervals on arrays: the paired difference
  (replication r of every scenario ran with the same seeds, so the difference
  is taken per replication: a paired t interval, or a percentile bootstrap when
  the differences are skewed), proportions (Wilson or Clopper–Pearson), the
  empirical exceedance curve;
* :mod:`~sim.analysis.series` — time series over replications: the emergency
  sum and fan bands (through :func:`sim.store.timeseries_quantiles`);
* :mod:`~sim.analysis.paired` — the paired comparison table;
* :mod:`~sim.analysis.risk` — risk events per arm and quantiles over replications;
* :mod:`~sim.analysis.sensitivity` — SALib Sobol or Morris indices;
* :mod:`~sim.analysis.cycles` — the Spreidingswet task realised by its deadline;
* :mod:`~sim.analysis.discovery` — scenario discovery: CART boxes with their
  coverage, density and mass;
* :mod:`~sim.analysis.compare` — the ``compare`` command (text and CSV).

The names below are the public interface; the command line finds
``add_arguments`` and ``main`` here.
"""

from sim.analysis.arms import (
    METRIC_LABELS,
    arms,
    counterparts,
    design_factors,
    format_value,
    label,
    pick_baseline,
    summary_metrics,
    varying_factors,
    with_arm,
)
from sim.analysis.compare import add_arguments, add_risk_arguments, format_paired, format_risk, main, risk_settings
from sim.analysis.cycles import Realisation, provinces, realisation_by_deadline
from sim.analysis.discovery import BoxMeasures, box_measures, cart_boxes
from sim.analysis.paired import paired_comparison
from sim.analysis.risk import RiskSettings, quantile_table, replication_events, risk_table
from sim.analysis.runs import design_kind, experiment_of, load_dir, run_manifests, scenarios_run
from sim.analysis.sensitivity import sensitivity
from sim.analysis.series import EMERGENCY, FAN_QUANTILES, band_name, column_values, emergency_series, fan_bands
from sim.analysis.stats import LEVEL, PairedDifference, exceedance, mean_ci, paired_difference, proportion_ci

__all__ = [
    "BoxMeasures",
    "EMERGENCY",
    "FAN_QUANTILES",
    "LEVEL",
    "METRIC_LABELS",
    "PairedDifference",
    "Realisation",
    "RiskSettings",
    "add_arguments",
    "add_risk_arguments",
    "arms",
    "band_name",
    "box_measures",
    "cart_boxes",
    "column_values",
    "counterparts",
    "design_factors",
    "design_kind",
    "emergency_series",
    "exceedance",
    "experiment_of",
    "fan_bands",
    "format_paired",
    "format_risk",
    "format_value",
    "label",
    "load_dir",
    "main",
    "mean_ci",
    "paired_comparison",
    "paired_difference",
    "pick_baseline",
    "proportion_ci",
    "provinces",
    "quantile_table",
    "realisation_by_deadline",
    "replication_events",
    "risk_settings",
    "risk_table",
    "run_manifests",
    "scenarios_run",
    "sensitivity",
    "summary_metrics",
    "varying_factors",
    "with_arm",
]
