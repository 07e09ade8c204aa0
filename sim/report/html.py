"""The self-contained HTML page: tables, paragraphs and figures embedded as PNG data URIs.

The page scales with the results: a few scenarios get a paragraph each and
every table; a sweep of many design points gets a paragraph per factor, the
spread of its tables over the design points, and its full tables in the CSV
files next to the page.
"""

from __future__ import annotations

import base64
import datetime as dt
import html

import pandas as pd

from sim.manifest import SweepManifest
from sim.report.context import Context, factor_groups
from sim.report.figures import Drawn
from sim.report.text import (
    MAX_ARM_PARAGRAPHS,
    factor_note,
    factor_paragraphs,
    first_overflow_frame,
    full_frame,
    headline_frame,
    paragraphs,
    quantiles_frame,
    risk_frame,
    risk_spread_frame,
    runs_frame,
    scenario_paragraphs,
    sensitivity_frame,
    year_frame,
)

MAX_RISK_TABLES = 6  # risk tables, one per combination of the other factors, before the page summarises them instead
MAX_TABLE_ARMS = 12  # tables with a column or block per arm show at most this many arms; the CSV files hold all

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: .85em; margin: .6em 0; max-width: 100%; }
table.wide { width: 100%; }
table.wide th, table.wide td { min-width: 4.5em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #f2f2f2; }
figure { margin: 1em 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #555; }
.note { color: #666; font-size: .85em; }
.warning { background: #fff3cd; border: 1px solid #e0c36c; padding: .4em .7em; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; } h2 { page-break-after: avoid; } table, p { page-break-inside: avoid; } }
@page { size: A4; margin: 15mm; }
"""


def _table(df: pd.DataFrame, wide: bool = False) -> str:
    """A table; ``wide``: laid out to the page's width, long cells wrapped (what no column may push past)."""
    return df.to_html(index=False, escape=True, border=0, na_rep="n/a", classes="wide" if wide else None)


def _run_header(ctx: Context) -> str:
    m = ctx.results.manifest
    if not isinstance(m, SweepManifest):
        return ""
    e = html.escape
    n_runs = len(ctx.results.summary)
    failed = len(ctx.results.failures)
    return (
        f"<p>Sweep <strong>{e(m.experiment_name)}</strong> ({e(m.experiment_file)}, "
        f"experiment hash {e(m.experiment_hash[:12])}): {m.n_design_points} design points × "
        f"{m.replications} replications, root seed {m.root_seed}; {n_runs} runs finished"
        + (f", {failed} failed" if failed else "")
        + f"; opvangsim {e(m.package_version)}.</p>"
    )


def render_html(ctx: Context, drawn: list[Drawn], notes: list[str], title: str, sections: list[str] | None = None) -> str:
    """The page; ``sections``: HTML of further sections placed before the figures (calibration diagnostics)."""
    e = html.escape
    # many arms: a sampled design, or more factor combinations than tables can show side by side
    many = len(ctx.arm_names) > MAX_TABLE_ARMS and (ctx.sampled or len(factor_groups(ctx)) > MAX_RISK_TABLES)
    comparison = (
        "compared as independent samples (Welch's interval), not paired"
        if ctx.unpaired
        else "differences are paired by replication (common random numbers)"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(title)}</h1>",
    ]
    if ctx.completeness:
        parts.append(
            f'<p class="warning"><strong>Incomplete results</strong>: {e(ctx.completeness)}. Every number below uses the runs that finished.</p>'
        )
    parts += [
        f"<p><strong>Evaluation window</strong>: {e(ctx.window_text)}. Peaks, person-nights, days above the norm, costs and "
        "risk events count these days only; waits and moves count everyone who arrived during the run.</p>",
        f'<p class="note">Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by opvangsim from {e(str(ctx.results.path))}. '
        f"Baseline: {e(ctx.baseline)}; {comparison}; intervals are 95 %.</p>",
        "<h2>What was run</h2>",
        _run_header(ctx),
        _table(runs_frame(ctx), wide=True),
    ]
    head = headline_frame(ctx)
    if len(ctx.paired):
        parts += [
            "<h2>Headline comparison</h2>",
            f'<p class="note">Mean difference of each scenario minus {e(ctx.baseline)}, with its 95 % interval in brackets; '
            "euros in millions, shares in percentage points." + e(factor_note(ctx)) + "</p>",
        ]
        if head["scenario"].nunique() > MAX_TABLE_ARMS:
            parts.append(
                f'<p class="note">The first {MAX_TABLE_ARMS} of {head["scenario"].nunique()} rows; all in paired_differences.csv.</p>'
            )
            head = head.head(MAX_TABLE_ARMS)
        parts.append(_table(head, wide=True))
    elif len(head):
        what = (
            "the spread of the design points' means (each over its replications)"
            if len(ctx.arm_names) > 1
            else "mean over replications, 95 % interval"
        )
        parts += ["<h2>Headline numbers</h2>", f'<p class="note">{e(what)}; euros in millions.</p>', _table(head)]
    parts.append("<h2>In plain words</h2>")
    if len(ctx.arm_names) <= MAX_ARM_PARAGRAPHS:
        for arm, text in paragraphs(ctx).items():
            parts.append(f"<p><strong>{e(arm)}.</strong> {e(text)}</p>")
    else:
        for scen, text in scenario_paragraphs(ctx).items():
            parts.append(f"<p><strong>{e(scen)}.</strong> {e(text)}</p>")
        for factor, text in factor_paragraphs(ctx).items():
            parts.append(f"<p><strong>{e(factor)}.</strong> {e(text)}</p>")
    parts += [
        "<h2>Risk</h2>",
        f'<p class="note">Share of replications with each event in the evaluation window, 95 % '
        f"{e(ctx.risk['interval'].iloc[0] if len(ctx.risk) else '')} interval, and the count of replications. "
        "Emergency shelter counts emergency and crisis places.</p>",
    ]
    if ctx.risk.empty:
        parts.append('<p class="note">No risk events could be computed.</p>')
    elif many:
        parts += [
            f'<p class="note">{len(ctx.arm_names)} arms: the spread of each probability over them (every arm in risk.csv).</p>',
            _table(risk_spread_frame(ctx)),
        ]
    else:
        for gtitle, names in factor_groups(ctx):  # one table per level of the other factors keeps the tables narrow
            rf = risk_frame(ctx, names)
            if len(rf):
                if gtitle:
                    rf = rf.rename(columns={n: ctx.arms.loc[ctx.arms["arm"] == n, "scenario"].iloc[0] for n in names})
                    parts.append(f"<h3>{e(gtitle)}</h3>")
                parts.append(_table(rf, wide=True))
    if len(ctx.risk_by_year) and not many:
        level = ctx.settings.main_level
        parts += [
            "<h3>Per calendar year</h3>",
            '<p class="note">Share of replications in which the event happens in each year of the window '
            "(a partial first or last year counts its days in the window only; per-year tables for every level and event in risk_by_year.csv).</p>",
        ]
        for event in year_events(ctx, level):
            parts += [f"<p><strong>{e(event)}</strong></p>", _table(year_frame(ctx, event), wide=True)]
    if len(ctx.first_overflow) and not many:
        parts += [
            "<h3>Time to Ter Apel's first overflow</h3>",
            '<p class="note">Days from the start of the window to the first day above the norm, over replications: '
            "median and 90 % band; 'after the window' where too few replications overflowed in it.</p>",
            _table(first_overflow_frame(ctx)),
        ]
    if len(ctx.quantiles) and len(ctx.arm_names) <= MAX_TABLE_ARMS:
        parts += ["<h3>Distribution over replications</h3>", _table(quantiles_frame(ctx), wide=True)]
    parts += ["<h2>Sensitivity and scenario discovery</h2>", f'<p class="note">{e(ctx.sensitivity_note)}</p>']
    if len(ctx.sensitivity):
        parts.append(_table(sensitivity_frame(ctx), wide=True))
    parts.append(f'<p class="note">{e(ctx.discovery_note)}</p>')
    if len(ctx.discovery):
        parts.append(_table(ctx.discovery.round(3), wide=True))
    parts += list(sections or [])
    parts.append("<h2>Figures</h2>")
    for d in drawn:
        uri = "data:image/png;base64," + base64.b64encode(d.png).decode("ascii")
        files = ", ".join(f.name for f in d.files)
        parts.append(
            f'<figure id="fig-{e(d.name)}"><img src="{uri}" alt="{e(d.caption)}">'
            f"<figcaption>{e(d.caption)} — {e(files)}</figcaption></figure>"
        )
    if len(ctx.paired) and not many:
        parts += [
            "<h2>Appendix: every headline metric</h2>",
            '<p class="note">Means of scenario and baseline, the difference with its interval, the interval method, and how much '
            "the pairing (common random numbers) reduced the variance of the difference compared with independent runs; "
            "with few replications that last estimate is itself noisy. A mean of a count or a share has an interval that "
            "stays inside its range (t where it does, else the BCa bootstrap); a difference can be negative.</p>",
            _table(full_frame(ctx), wide=True),
        ]
    all_notes = notes + ctx.notes + ctx.settings.notes
    if all_notes:
        parts += ["<h2>Notes</h2>", "<ul>"] + [f"<li>{e(n)}</li>" for n in all_notes] + ["</ul>"]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def year_events(ctx: Context, level: int | None) -> list[str]:
    """The per-year events the page shows: the middle emergency level, Ter Apel's days, anyone outside."""
    events = list(dict.fromkeys(ctx.risk_by_year["event"]))
    keep = [ev for ev in events if not ev.startswith("emergency") or (level is not None and f"> {level:,} " in ev)]
    return keep
