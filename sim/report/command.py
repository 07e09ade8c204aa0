"""``opvangsim report DIR``: write ``report.html`` (self-contained) and the figure files."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sim import analysis as an
from sim.report.calibration import PAGE, calibration_page, calibration_sections
from sim.report.context import build_context
from sim.report.figures import Drawn, draw_figures
from sim.report.html import render_html
from sim.scenario import ScenarioError


def make_report(
    directory: str | Path,
    out: str | Path | None = None,
    baseline: str | None = None,
    settings: an.RiskSettings | None = None,
    title: str | None = None,
    province: str | None = None,
    *,
    window_from: dt.date | None = None,
    window_to: dt.date | None = None,
    unpaired: bool = False,
    svg: bool = False,
    prepared: an.Prepared | None = None,
) -> tuple[Path, list[Drawn], list[str]]:
    """Write ``report.html`` and the figure files (PNG; also SVG with ``svg``); return the HTML path, the figures and the notes.

    ``province``: also draw the share of the task realised per municipality of this province.
    ``window_from``/``window_to``: recompute the metrics of the night for this window (see
    :func:`sim.analysis.rewindow`); ``unpaired``: compare as independent samples (Welch).
    ``prepared``: results already prepared by :func:`sim.analysis.prepare` (the other options
    about loading are then not used).
    """
    prep = prepared or an.prepare(directory, baseline, window_from, window_to, unpaired)
    results = prep.results
    known = an.provinces(results)
    if province is not None and known and province not in known:
        raise ScenarioError(
            None, "--province", f"no province {province!r} in the cycle rows of these results; there are: {', '.join(known)}"
        )
    settings = settings or an.RiskSettings()
    ctx = build_context(prep, baseline, settings, province)
    out = Path(out) if out else Path(directory) / "report"
    drawn, notes = draw_figures(ctx, out / "figures", svg=svg)
    summary, details, cal_drawn, cal_notes = calibration_sections(results, out / "figures", svg=svg)
    notes = notes + cal_notes
    tables = {
        "paired_differences": ctx.paired,
        "risk": ctx.risk,
        "risk_by_year": ctx.risk_by_year,
        "first_overflow": ctx.first_overflow,
        "quantiles": ctx.quantiles,
    }
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    title = title or f"opvangsim report: {Path(directory).resolve().name}"
    if details:  # on a page of its own: the report stays a few screens long
        (out / PAGE).write_text(calibration_page(details, cal_drawn, f"{title}: calibration"), encoding="utf-8")
    page = render_html(ctx, drawn, notes, title, summary)
    target = out / "report.html"
    target.write_text(page, encoding="utf-8")
    return target, drawn, notes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="a results directory (run, sweep or study), or a directory holding several run directories")
    an.add_risk_arguments(parser)
    an.add_window_arguments(parser)
    parser.add_argument("--out", help="report directory (default DIR/report)")
    parser.add_argument("--title", help="title of the report")
    parser.add_argument("--svg", action="store_true", help="also write every figure as SVG (default: PNG only)")
    parser.add_argument(
        "--province",
        metavar="NAME",
        help="also draw the task realised by the deadline per municipality of this province, e.g. Drenthe (default: none)",
    )


def main(args: argparse.Namespace) -> int:
    settings = an.risk_settings(args)
    prep = an.prepare_from_args(args)
    target, drawn, notes = make_report(
        args.dir, args.out, args.baseline, settings, args.title, args.province, svg=args.svg, prepared=prep
    )
    if prep.completeness:
        print(f"WARNING: {prep.completeness}; the report says so in its header")
    print(f"report: {target}")
    for d in drawn:
        print(f"  figure {d.name}: {', '.join(str(f) for f in d.files)}")
    for n in notes:
        print(f"  note: {n}")
    return 0
