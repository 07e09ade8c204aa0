"""The self-contained HTML page: tables, paragraphs and figures embedded as PNG data URIs."""

from __future__ import annotations

import base64
import datetime as dt
import html

import pandas as pd

from sim.report.context import Context, factor_groups
from sim.report.figures import Drawn
from sim.report.text import factor_note, full_frame, headline_frame, paragraphs, quantiles_frame, risk_frame, runs_frame

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: .85em; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; overflow-wrap: break-word; }
table { max-width: 100%; }
thead th { background: #f2f2f2; }
figure { margin: 1em 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #555; }
.note { color: #666; font-size: .85em; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; } h2 { page-break-after: avoid; } table, p { page-break-inside: avoid; } }
@page { size: A4; margin: 15mm; }
"""


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, border=0, na_rep="n/a")


def _run_header(ctx: Context) -> str:
    m = ctx.results.manifest or {}
    if m.get("kind") != "sweep":
        return ""
    e = html.escape
    n_runs = len(ctx.results.summary)
    failed = len(getattr(ctx.results, "failures", pd.DataFrame()))
    return (
        f"<p>Sweep <strong>{e(str(m.get('experiment_name', '')))}</strong> ({e(str(m.get('experiment_file', '')))}, "
        f"experiment hash {e(str(m.get('experiment_hash', ''))[:12])}): {m.get('n_design_points', '?')} design points × "
        f"{m.get('replications', '?')} replications, root seed {e(str(m.get('root_seed', '')))}; {n_runs} runs finished"
        + (f", {failed} failed" if failed else "")
        + f"; opvangsim {e(str(m.get('package_version', '')))}.</p>"
    )


def render_html(ctx: Context, drawn: list[Drawn], notes: list[str], title: str) -> str:
    e = html.escape
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
        f'<p class="note">Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by opvangsim from {e(str(ctx.results.path))}. '
        f"Baseline: {e(ctx.baseline)}. Differences are paired by replication (common random numbers); intervals are 95 %.</p>",
        "<h2>What was run</h2>",
        _run_header(ctx),
        _table(runs_frame(ctx)),
    ]
    parts += [
        "<h2>Headline comparison</h2>",
        f'<p class="note">Mean difference of each scenario minus {e(ctx.baseline)}, paired by replication, with its 95 % interval in brackets; '
        "euros in millions, shares in percentage points." + e(factor_note(ctx)) + "</p>",
        _table(headline_frame(ctx)),
    ]
    parts.append("<h2>In plain words</h2>")
    for arm, text in paragraphs(ctx).items():
        parts.append(f"<p><strong>{e(arm)}.</strong> {e(text)}</p>")
    parts += [
        "<h2>Risk</h2>",
        f'<p class="note">Share of replications with each event, 95 % {e(ctx.risk["interval"].iloc[0] if len(ctx.risk) else "")} interval, '
        "and the count of replications. Emergency shelter counts emergency and crisis places.</p>",
    ]
    if ctx.risk.empty:
        parts.append('<p class="note">No risk events could be computed.</p>')
    for gtitle, names in factor_groups(ctx):  # one table per level of the other factors keeps the tables narrow
        rf = risk_frame(ctx, names)
        if len(rf):
            if gtitle:
                rf = rf.rename(columns={n: ctx.arms.loc[ctx.arms["arm"] == n, "scenario"].iloc[0] for n in names})
                parts.append(f"<h3>{e(gtitle)}</h3>")
            parts.append(_table(rf))
    if len(ctx.quantiles):
        parts += ["<h3>Distribution over replications</h3>", _table(quantiles_frame(ctx))]
    parts += ["<h2>Sensitivity and scenario discovery</h2>", f'<p class="note">{e(ctx.sensitivity_note)}</p>']
    if len(ctx.sensitivity):
        parts.append(_table(ctx.sensitivity.round(3)))
    parts.append(f'<p class="note">{e(ctx.discovery_note)}</p>')
    if len(ctx.discovery):
        parts.append(_table(ctx.discovery.round(3)))
    parts.append("<h2>Figures</h2>")
    for d in drawn:
        uri = "data:image/png;base64," + base64.b64encode(d.png).decode("ascii")
        parts.append(
            f'<figure id="fig-{e(d.name)}"><img src="{uri}" alt="{e(d.caption)}">'
            f"<figcaption>{e(d.caption)} — files {e(d.name)}.png, {e(d.name)}.svg</figcaption></figure>"
        )
    if len(ctx.paired):
        parts += [
            "<h2>Appendix: every headline metric</h2>",
            '<p class="note">Means of scenario and baseline, the paired difference with its interval, the interval method, and how much '
            "the pairing (common random numbers) reduced the variance of the difference compared with independent runs; "
            "with few replications that last estimate is itself noisy.</p>",
            _table(full_frame(ctx)),
        ]
    all_notes = notes + ctx.notes + ctx.settings.notes
    if all_notes:
        parts += ["<h2>Notes</h2>", "<ul>"] + [f"<li>{e(n)}</li>" for n in all_notes] + ["</ul>"]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
