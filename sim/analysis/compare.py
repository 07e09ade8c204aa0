"""``opvangsim compare DIR [--baseline NAME]``: the tables of :mod:`sim.analysis` as text and CSV."""

from __future__ import annotations

import argparse
import math
import textwrap
from pathlib import Path

import pandas as pd

from sim.analysis.discovery import cart_boxes
from sim.analysis.paired import paired_comparison
from sim.analysis.prepare import Prepared, prepare
from sim.analysis.risk import RiskSettings, first_overflow, quantile_table, resolve_settings, risk_by_year, risk_table
from sim.analysis.sensitivity import sensitivity, sensitivity_table
from sim.analysis.window import parse_date
from sim.scenario import ScenarioError

PRINTED_METRICS = (  # what compare prints per arm; every metric is in paired_differences.csv
    "emergency_person_nights",
    "emergency_persons_per_night",
    "peak_emergency_occupancy",
    "ac_days_above_norm",
    "ac_peak_occupancy",
    "person_nights_outside",
    "moves_per_person",
    "mean_registration_wait_days",
    "mean_housing_wait_days",
    "total_cost_eur",
    "cost_eur_per_year",
    "penalty_cost_eur",
    "share_realised_by_deadline",
    "share_realised_window",
    "durable_places_opened",
)
MAX_PRINTED_ARMS = 12  # more arms than this (a sampled sweep) are summarised in print; the CSV files hold every row


def format_paired(table: pd.DataFrame) -> str:
    """The paired table as aligned text: one block per arm."""
    if table.empty:
        return "(no scenario to compare with the baseline)"
    lines = []
    everything = table["metric"].nunique()
    table = table[table["metric"].isin(PRINTED_METRICS)]
    for arm_name, sub in table.groupby("arm", sort=False):
        n = int(sub["n_pairs"].max())
        how = (
            f"{n} paired replications, common random numbers"
            if n
            else f"{int(sub['n_scenario'].max())} and {int(sub['n_baseline'].max())} replications as independent samples, Welch"
        )
        lines.append(f"\n{arm_name} − {sub['baseline'].iloc[0]}  ({how})")
        view = pd.DataFrame(
            {
                "metric": sub["label"],
                "baseline": sub["baseline_mean"].map(_num),
                "scenario": sub["scenario_mean"].map(_num),
                "difference": sub["mean_diff"].map(_num),
                "95 % CI": [f"[{_num(lo)}, {_num(hi)}]" for lo, hi in zip(sub["ci_low"], sub["ci_high"])],
                "method": sub["method"],
                "var. reduction": sub["variance_reduction"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}"),
            }
        )
        lines.append(view.to_string(index=False))
    lines.append(f"(the main {table['metric'].nunique()} of {everything} metrics; every one is in paired_differences.csv)")
    return "\n".join(lines)


def format_risk(table: pd.DataFrame) -> str:
    """The risk table as aligned text: one line per arm and event (with many arms: the spread over them per event)."""
    if table.empty:
        return "(no risk events could be computed)"
    if table["arm"].nunique() > MAX_PRINTED_ARMS:
        g = table.groupby("event", sort=False)["probability"]
        view = pd.DataFrame(
            {
                "event": list(g.groups),
                "P, lowest arm": g.min().map(lambda p: f"{p:.0%}").to_numpy(),
                "median over arms": g.median().map(lambda p: f"{p:.0%}").to_numpy(),
                "highest arm": g.max().map(lambda p: f"{p:.0%}").to_numpy(),
            }
        )
        return f"({table['arm'].nunique()} arms: the spread of each event's probability over them; every arm in risk.csv)\n" + (
            view.to_string(index=False)
        )
    view = pd.DataFrame(
        {
            "scenario": table["arm"],
            "event": table["event"],
            "P": table["probability"].map(lambda p: "n/a" if pd.isna(p) else f"{p:.0%}"),
            "95 % CI": [f"[{lo:.0%}, {hi:.0%}]" for lo, hi in zip(table["ci_low"], table["ci_high"])],
            "runs": table["with_event"].astype(str) + "/" + table["replications"].astype(str),
        }
    )
    return view.to_string(index=False)


def _num(v: float) -> str:
    """A number as the text tables show it: thousands separated, small values to 3 significant digits."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.3g}"


# ----------------------------------------------------------------------------- CLI


def _levels(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        levels = tuple(int(float(x)) for x in text.split(",") if x.strip())
    except ValueError:
        raise ScenarioError(
            None, "--emergency-levels", f"must be comma-separated numbers of persons, e.g. 5000,10000; got {text!r}"
        ) from None
    if not levels or any(v < 0 for v in levels):
        raise ScenarioError(None, "--emergency-levels", "needs at least one level ≥ 0 (persons)")
    return levels


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """``--from/--to`` and ``--unpaired``, shared by ``compare`` and ``report``."""
    parser.add_argument(
        "--from",
        dest="window_from",
        metavar="YYYY-MM-DD",
        help="first day of the evaluation window: recompute the metrics of the night from the daily series "
        "(default: each run's own window, see the scenario's [evaluation])",
    )
    parser.add_argument(
        "--to", dest="window_to", metavar="YYYY-MM-DD", help="first day after the evaluation window (default: the end of the run)"
    )
    parser.add_argument(
        "--unpaired",
        action="store_true",
        help="compare as independent samples (Welch's interval) instead of refusing arms that cannot be paired "
        "(different seeds, periods, windows, versions or replications)",
    )


def add_risk_arguments(parser: argparse.ArgumentParser) -> None:
    """Thresholds shared by ``compare``, ``report`` and ``study``."""
    parser.add_argument("--baseline", help="name of the baseline scenario (default: 'baseline', else the first)")
    parser.add_argument(
        "--emergency-levels",
        default=None,
        help="persons in emergency shelter whose exceedance is a risk event, e.g. 5000,10000 "
        "(default: the quartiles of the peak in the evaluation window over every run, rounded)",
    )
    parser.add_argument(
        "--emergency-days", type=int, default=90, help="'for more than N days' for emergency levels, in the window (default 90)"
    )
    parser.add_argument(
        "--ac-days",
        type=int,
        default=None,
        help="Ter Apel above its norm for more than N days in the window (default: the median over every run, rounded)",
    )
    parser.add_argument(
        "--year-ac-days",
        type=int,
        default=30,
        help="Ter Apel above its norm for more than N days in a calendar year (default 30)",
    )
    parser.add_argument(
        "--interval",
        choices=("wilson", "exact"),
        default="wilson",
        help="interval for probabilities: Wilson or exact Clopper–Pearson (default wilson)",
    )


def risk_settings(args: argparse.Namespace) -> RiskSettings:
    for key in ("emergency_days", "ac_days", "year_ac_days"):
        value = getattr(args, key)
        if value is not None and value < 0:
            raise ScenarioError(None, "--" + key.replace("_", "-"), "must be ≥ 0 days")
    return RiskSettings(
        emergency_levels=_levels(args.emergency_levels),
        emergency_days=args.emergency_days,
        ac_days=args.ac_days,
        year_ac_days=args.year_ac_days,
        method=args.interval,
    )


def prepare_from_args(args: argparse.Namespace) -> Prepared:
    """The results named on the command line, prepared (window, order, pairing) as the options ask."""
    return prepare(
        args.dir,
        args.baseline,
        parse_date(args.window_from, "--from"),
        parse_date(args.window_to, "--to"),
        args.unpaired,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="a results directory (run, sweep or study), or a directory holding several run directories")
    add_risk_arguments(parser)
    add_window_arguments(parser)
    parser.add_argument("--out", help="where to write the CSV files (default DIR/analysis)")


def write_tables(prep: Prepared, settings: RiskSettings, out: Path) -> dict[str, pd.DataFrame]:
    """Compute every table of the comparison and write each as CSV in ``out``; returns them by file stem."""
    results = prep.results
    resolve_settings(results, settings)
    tables = {
        "paired_differences": paired_comparison(results, prep.baseline, unpaired=prep.unpaired),
        "risk": risk_table(results, settings, prep.windows),
        "risk_by_year": risk_by_year(results, settings, prep.windows),
        "first_overflow": first_overflow(results, prep.windows),
        "quantiles": quantile_table(results),
    }
    sens, tables["_sensitivity_note"] = sensitivity(results)
    boxes, tables["_discovery_note"] = cart_boxes(results)
    tables["sensitivity"], tables["cart_boxes"] = sens, boxes
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if isinstance(df, pd.DataFrame) and (len(df) or name in ("paired_differences", "risk", "quantiles")):
            df.to_csv(out / f"{name}.csv", index=False)
    return tables


def format_tables(prep: Prepared, t: dict, settings: RiskSettings) -> str:
    """The comparison as the command line prints it (the tables of :func:`write_tables`)."""
    lines = []
    if prep.completeness:
        lines.append(f"WARNING: {prep.completeness}; the tables use the runs that finished")
    lines.append(f"Evaluation window: {prep.window_text}")
    what = "independent samples, Welch" if prep.unpaired else "mean of scenario − baseline per replication"
    lines.append(f"Differences against '{prep.baseline}' ({what}):")
    paired = t["paired_differences"]
    if paired["arm"].nunique() > MAX_PRINTED_ARMS:
        lines.append(f"({paired['arm'].nunique()} arms: every difference is in paired_differences.csv)")
    else:
        lines.append(format_paired(paired))
    lines.append(
        "\nRisk per scenario over the window (share of replications; interval: "
        + ("Wilson" if settings.method == "wilson" else "Clopper–Pearson")
        + "):"
    )
    lines.append(format_risk(t["risk"]))
    first = t["first_overflow"]
    if len(first) and first["arm"].nunique() <= MAX_PRINTED_ARMS:
        lines.append("\nTime to Ter Apel's first day above its norm, from the start of the window (days; median [5 %, 95 %]):")
        for r in first.itertuples():
            lines.append(
                f"  {r.arm}: {_days(r.median_days)} [{_days(r.p05_days)}, {_days(r.p95_days)}]; "
                f"{r.overflowed} of {r.replications} replications overflowed"
            )
    lines += [textwrap.fill(f"note: {note}", 120, subsequent_indent="  ") for note in settings.notes + prep.notes]
    lines.append("\n" + textwrap.fill(t["_sensitivity_note"], 120))
    if len(t["sensitivity"]):
        lines.append(sensitivity_table(t["sensitivity"]).to_string(index=False))
    lines.append(textwrap.fill(t["_discovery_note"], 120))
    for b in t["cart_boxes"].itertuples():
        lines.append(
            f"  {b.conditions}: coverage {b.coverage:.0%}, density {b.density:.0%}, mass {b.mass:.0%} ({b.design_points} design points)"
        )
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    settings = risk_settings(args)
    prep = prepare_from_args(args)
    out = Path(args.out) if args.out else Path(args.dir) / "analysis"
    print(format_tables(prep, write_tables(prep, settings, out), settings))
    print(f"\nwritten to {out}/")
    return 0


def _days(v: float) -> str:
    return "after the window" if v == math.inf else ("n/a" if v is None or math.isnan(v) else f"{v:,.0f}")
