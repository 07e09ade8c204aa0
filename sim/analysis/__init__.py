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
* :mod:`~sim.analysis.window` — the evaluation window: each arm's as dates, and the
  metrics of the night recomputed for another (``--from/--to``) from the daily series;
* :mod:`~sim.analysis.pairing` — whether arms may be paired (same seeds, period,
  window, code and replications), refused naming both where not;
* :mod:`~sim.analysis.prepare` — results loaded, ordered (baseline first, then the
  order given), windowed and checked: what ``compare``, ``report`` and ``study`` start from;
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
    metric_support,
    pick_baseline,
    significant,
    summary_metrics,
    varying_factors,
    with_arm,
)
from sim.analysis.compare import (
    add_arguments,
    add_risk_arguments,
    add_window_arguments,
    format_paired,
    format_risk,
    format_tables,
    main,
    prepare_from_args,
    risk_settings,
    write_tables,
)
from sim.analysis.cycles import Realisation, provinces, realisation_by_deadline
from sim.analysis.discovery import BoxMeasures, box_measures, cart_boxes
from sim.analysis.paired import paired_comparison
from sim.analysis.pairing import ArmFacts, arm_facts, check_pairs
from sim.analysis.prepare import Prepared, in_given_order, prepare
from sim.analysis.risk import (
    RiskSettings,
    ac_event,
    first_overflow,
    quantile_table,
    replication_events,
    resolve_settings,
    risk_by_year,
    risk_table,
)
from sim.analysis.runs import design_kind, experiment_of, load_dir, run_manifests, scenarios_run
from sim.analysis.sensitivity import sensitivity, sensitivity_table
from sim.analysis.series import EMERGENCY, FAN_QUANTILES, band_name, column_values, emergency_series, fan_bands
from sim.analysis.stats import (
    LEVEL,
    Interval,
    PairedDifference,
    bounded_mean_ci,
    exceedance,
    mean_ci,
    paired_difference,
    proportion_ci,
    welch_difference,
)
from sim.analysis.window import Window, rewindow, windows

__all__ = [
    "ac_event",
    "add_arguments",
    "add_risk_arguments",
    "add_window_arguments",
    "arm_facts",
    "ArmFacts",
    "arms",
    "band_name",
    "bounded_mean_ci",
    "box_measures",
    "BoxMeasures",
    "cart_boxes",
    "check_pairs",
    "column_values",
    "counterparts",
    "design_factors",
    "design_kind",
    "EMERGENCY",
    "emergency_series",
    "exceedance",
    "experiment_of",
    "fan_bands",
    "FAN_QUANTILES",
    "first_overflow",
    "format_paired",
    "format_risk",
    "format_tables",
    "format_value",
    "in_given_order",
    "Interval",
    "label",
    "LEVEL",
    "load_dir",
    "main",
    "mean_ci",
    "METRIC_LABELS",
    "metric_support",
    "paired_comparison",
    "paired_difference",
    "PairedDifference",
    "pick_baseline",
    "prepare",
    "prepare_from_args",
    "Prepared",
    "proportion_ci",
    "provinces",
    "quantile_table",
    "Realisation",
    "realisation_by_deadline",
    "replication_events",
    "resolve_settings",
    "rewindow",
    "risk_by_year",
    "risk_settings",
    "risk_table",
    "RiskSettings",
    "run_manifests",
    "scenarios_run",
    "sensitivity",
    "significant",
    "sensitivity_table",
    "summary_metrics",
    "varying_factors",
    "welch_difference",
    "Window",
    "windows",
    "with_arm",
    "write_tables",
]
