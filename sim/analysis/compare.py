"""``opvangsim compare DIR [--baseline NAME]``: the tables of :mod:`sim.analysis` as text and CSV."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from sim.analysis.arms import arms, pick_baseline
from sim.analysis.discovery import cart_boxes
from sim.analysis.paired import paired_comparison
from sim.analysis.risk import RiskSettings, quantile_table, risk_table
from sim.analysis.runs import load_dir
from sim.analysis.sensitivity import sensitivity
from sim.scenario import ScenarioError


def format_paired(table: pd.DataFrame) -> str:
    """The paired table as aligned text: one block per arm."""
    if table.empty:
        return "(no scenario to compare with the baseline)"
    lines = []
    for arm_name, sub in table.groupby("arm", sort=False):
        n = int(sub["n_pairs"].max())
        lines.append(f"\n{arm_name} − {sub['baseline'].iloc[0]}  ({n} paired replications, common random numbers)")
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
    return "\n".join(lines)


def format_risk(table: pd.DataFrame) -> str:
    """The risk table as aligned text: one line per arm and event."""
    if table.empty:
        return "(no risk events could be computed)"
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


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(float(x)) for x in text.split(",") if x.strip())
    except ValueError:
        raise ScenarioError(
            None, "--emergency-levels", f"must be comma-separated numbers of persons, e.g. 5000,10000; got {text!r}"
        ) from None
    if not levels or any(v < 0 for v in levels):
        raise ScenarioError(None, "--emergency-levels", "needs at least one level ≥ 0 (persons)")
    return levels


def add_risk_arguments(parser: argparse.ArgumentParser) -> None:
    """Thresholds shared by ``compare`` and ``report``."""
    parser.add_argument("--baseline", help="name of the baseline scenario (default: 'baseline', else the first)")
    parser.add_argument(
        "--emergency-levels",
        default="5000,10000,20000,30000",
        help="persons in emergency shelter whose exceedance is a risk event (default 5000,10000,20000,30000)",
    )
    parser.add_argument("--emergency-days", type=int, default=90, help="'for more than N days' for emergency levels (default 90)")
    parser.add_argument("--ac-days", type=int, default=30, help="Ter Apel above its norm for more than N days (default 30)")
    parser.add_argument(
        "--interval",
        choices=("wilson", "exact"),
        default="wilson",
        help="interval for probabilities: Wilson or exact Clopper–Pearson (default wilson)",
    )


def risk_settings(args: argparse.Namespace) -> RiskSettings:
    for key in ("emergency_days", "ac_days"):
        if getattr(args, key) < 0:
            raise ScenarioError(None, "--" + key.replace("_", "-"), "must be ≥ 0 days")
    return RiskSettings(
        emergency_levels=_levels(args.emergency_levels),
        emergency_days=args.emergency_days,
        ac_days=args.ac_days,
        method=args.interval,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="a results directory (run or sweep), or a directory holding several run directories")
    add_risk_arguments(parser)
    parser.add_argument("--out", help="where to write the CSV files (default DIR/analysis)")


def main(args: argparse.Namespace) -> int:
    settings = risk_settings(args)
    results = load_dir(args.dir)
    if results.summary.empty:
        raise ScenarioError(None, "DIR", f"{args.dir} has no summary rows to compare")
    a = arms(results)
    base = pick_baseline(a, args.baseline)
    paired = paired_comparison(results, base)
    risk = risk_table(results, settings)
    quant = quantile_table(results)
    sens, sens_note = sensitivity(results)
    boxes, disc_note = cart_boxes(results)
    out = Path(args.out) if args.out else Path(args.dir) / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    paired.to_csv(out / "paired_differences.csv", index=False)
    risk.to_csv(out / "risk.csv", index=False)
    quant.to_csv(out / "quantiles.csv", index=False)
    if len(sens):
        sens.to_csv(out / "sensitivity.csv", index=False)
    if len(boxes):
        boxes.to_csv(out / "cart_boxes.csv", index=False)
    print(f"Paired differences against '{base}' (mean of scenario − baseline per replication):")
    print(format_paired(paired))
    print(
        "\nRisk per scenario (share of replications; interval: "
        + ("Wilson" if settings.method == "wilson" else "Clopper–Pearson")
        + "):"
    )
    print(format_risk(risk))
    for note in settings.notes:
        print(f"note: {note}")
    print(f"\n{sens_note}")
    if len(sens):
        print(sens.to_string(index=False))
    print(disc_note)
    for b in boxes.itertuples():
        print(
            f"  {b.conditions}: coverage {b.coverage:.0%}, density {b.density:.0%}, mass {b.mass:.0%} ({b.design_points} design points)"
        )
    print(f"\nwritten to {out}/")
    return 0
