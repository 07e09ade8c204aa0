"""``opvangsim report DIR``: write ``report.html`` (self-contained) and the figure files."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim import analysis as an
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
) -> tuple[Path, list[Drawn], list[str]]:
    """Write ``report.html`` and the figure files; return the HTML path, the figures and the notes.

    ``province``: also draw the share of the task realised per municipality of this province.
    """
    results = an.load_dir(directory)
    if results.summary.empty:
        raise ScenarioError(None, "DIR", f"{directory} has no summary rows to report on")
    known = an.provinces(results)
    if province is not None and known and province not in known:
        raise ScenarioError(
            None, "--province", f"no province {province!r} in the cycle rows of these results; there are: {', '.join(known)}"
        )
    settings = settings or an.RiskSettings()
    ctx = build_context(results, baseline, settings, province)
    out = Path(out) if out else Path(directory) / "report"
    drawn, notes = draw_figures(ctx, out / "figures")
    for name, df in (("paired_differences", ctx.paired), ("risk", ctx.risk), ("quantiles", ctx.quantiles)):
        df.to_csv(out / f"{name}.csv", index=False)
    page = render_html(ctx, drawn, notes, title or f"opvangsim report: {Path(directory).resolve().name}")
    target = out / "report.html"
    target.write_text(page, encoding="utf-8")
    return target, drawn, notes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="a results directory (run or sweep), or a directory holding several run directories")
    an.add_risk_arguments(parser)
    parser.add_argument("--out", help="report directory (default DIR/report)")
    parser.add_argument("--title", help="title of the report")
    parser.add_argument(
        "--province",
        metavar="NAME",
        help="also draw the task realised by the deadline per municipality of this province, e.g. Drenthe (default: none)",
    )


def main(args: argparse.Namespace) -> int:
    settings = an.risk_settings(args)
    target, drawn, notes = make_report(args.dir, args.out, args.baseline, settings, args.title, args.province)
    print(f"report: {target}")
    for d in drawn:
        print(f"  figure {d.name}: {', '.join(str(f) for f in d.files)}")
    for n in notes:
        print(f"  note: {n}")
    return 0
