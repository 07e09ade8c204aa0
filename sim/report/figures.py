"""The report's figures: one function per figure, drawn from a :class:`~sim.report.context.Context`.

A figure function returns a matplotlib ``Figure``, a list of them (pages of
small multiples: at most :data:`PAGE_PANELS` panels a page and
:data:`MAX_PAGES` pages, the arms left over named in a footnote), or a
sentence saying why it was skipped (its inputs are missing: no Spreidingswet
pipeline, no cycles, no sampling design). A sampled design (Latin hypercube,
Sobol, Morris) has too many points for a panel each: its time figures draw
every point's median in one panel instead.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim import analysis as an
from sim.report.context import HEADLINE_METRICS, Context, factor_groups, short_labels

MAX_PANELS = 16  # more curves or bars than this are unreadable in one panel
PAGE_PANELS = 12  # panels on one figure page (6 rows of 2: a page of A4, a screen and a half)
MAX_PAGES = 2  # pages of one figure; the arms after these are named in a footnote, their numbers are in the tables
DPI = 110  # the PNG's pixels per inch: 11-inch figures are 1,210 pixels wide, about the report's width
TITLE_SIZE = 10  # points: a panel title, about 13 screen pixels high when the report is read at its width
TYPES = (  # (occupancy column(s), places column, label, colour)
    (("occupancy_durable",), "places_durable", "durable", "tab:blue"),
    (("occupancy_temporary",), "places_temporary", "temporary", "tab:green"),
    (("occupancy_emergency", "occupancy_crisis"), "places_emergency", "emergency + crisis", "tab:red"),
    (("occupancy_amv",), "places_amv", "AMV (minors)", "tab:purple"),
)


def _date_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def _fan(ax: Axes, b: pd.DataFrame, colour: str, name: str) -> None:
    ax.fill_between(b.index, b["q05"], b["q95"], color=colour, alpha=0.15, linewidth=0)
    ax.fill_between(b.index, b["q25"], b["q75"], color=colour, alpha=0.35, linewidth=0)
    ax.plot(b.index, b["q50"], color=colour, linewidth=1.5, label=name)


def _figure(width_in: float, height_in: float) -> Figure:
    """A figure not registered with pyplot (no GUI backend, no global state, freed with its last reference).

    Constrained layout places titles, legends outside the axes and tick labels
    without overlap, whatever their number and length.
    """
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # the raster canvas, whose renderer tells where the titles were drawn (title_boxes)
    return fig


def _panels(n: int, height: float = 2.6, share_y: bool = True, share_x: bool = True) -> tuple[Figure, list[Axes]]:
    n = max(1, n)
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig = _figure(11, 0.6 + height * rows)
    axes = fig.subplots(rows, cols, sharex=share_x, sharey=share_y, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
        above = axes.flat[list(axes.flat).index(ax) - cols]
        above.tick_params(axis="x", labelbottom=True)  # the panel above an empty slot is the bottom of its column
    return fig, list(axes.flat[:n])


def _paged(names: list[str]) -> tuple[list[list[str]], int]:
    """``names`` cut into pages of :data:`PAGE_PANELS`, at most :data:`MAX_PAGES`; and how many were left out."""
    pages = [names[i : i + PAGE_PANELS] for i in range(0, len(names), PAGE_PANELS)][:MAX_PAGES]
    return pages, len(names) - sum(len(p) for p in pages)


def _left_out(fig: Figure, left: int, total: int, what: str = "scenarios") -> None:
    if left:
        fig.supxlabel(
            f"The last {left} of {total} {what} are not drawn (every one's numbers are in the tables and CSV files).", fontsize=8
        )


def _window_span(ctx: Context, ax: Axes, arms: list[str]) -> None:
    """Shade the days before the evaluation window (the start state, not counted by the metrics)."""
    wins = {ctx.windows.get(a) for a in arms} - {None}
    if len(wins) == 1:
        w = wins.pop()
        lo, _ = ax.get_xlim()
        first = mdates.date2num(pd.Timestamp(w.first))
        if first > ax.dataLim.x0:  # the window starts after the first day drawn
            ax.axvspan(lo, first, color="0.92", zorder=0, linewidth=0)
            ax.set_xlim(left=lo)


def fig_occupancy(ctx: Context) -> list[Figure] | str:
    """Fan charts of occupancy by location type against places, one panel per scenario."""
    available = [t for t in TYPES if ctx.has_series(t[0][0])]
    if not available:
        return "no per-replication time series with occupancy by location type"
    if ctx.sampled:
        return "a sampled design: no panel per design point (the emergency and Ter Apel figures draw every point's median)"
    pages, left = _paged(ctx.arm_names)
    figs = []
    for names in pages:
        fig, axes = _panels(len(names), 2.8)
        for ax, arm in zip(axes, names):
            for cols, places, name, colour in available + (
                [(("occupancy_total",), "", "total (all types)", "black")] if ctx.has_series("occupancy_total") else []
            ):
                b = ctx.bands(cols[0] if len(cols) == 1 else an.EMERGENCY, arm)
                if b is None or b.empty:
                    continue
                _fan(ax, b, colour, name)
                p = ctx.bands(places, arm) if places else None
                if p is not None and not p.empty:
                    ax.plot(p.index, p["q50"], color=colour, linestyle="--", linewidth=1)
            _style_time_panel(ax, short_labels(ctx).get(arm, arm), "persons / places")
            _window_span(ctx, ax, [arm])
        figs.append(
            _finish_time_panels(
                fig,
                axes,
                "occupancy: line median, bands 50 % and 90 % of replications; dashed: places (median); grey: before the evaluation window",
                "Occupancy by location type against places, per scenario",
            )
        )
    _left_out(figs[-1], left, len(ctx.arm_names))
    return figs


def _centre_limits(ctx: Context) -> dict[tuple[int, int], list[str]]:
    """Norm and physical limit of the application centres together (persons), with the arms that ran them.

    The occupancy drawn is that of every centre together, so the lines are the
    centres' norms (and limits) summed, read from the scenario each arm ran.
    """
    limits: dict[tuple[int, int], list[str]] = {}
    for arm in ctx.arm_names:
        scenario = ctx.scenarios.get(arm)
        if scenario is not None:
            centres = scenario.registration.centres
            key = (sum(c.norm_persons for c in centres), sum(c.physical_limit_persons for c in centres))
            limits.setdefault(key, []).append(arm)
    return limits


def _overlay(
    ctx: Context, column: str, title: str, ylabel: str, extra: Callable[[Axes], None] | None = None
) -> Figure | list[Figure] | str:
    """Fans of several scenarios on shared axes; one panel per level of the other design factors (paged)."""
    if not ctx.has_series(column):
        return f"no per-replication time series with {column}"
    if ctx.sampled:
        return _design_overview(ctx, column, title, ylabel, extra)
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    scenarios = list(dict.fromkeys(ctx.arms["scenario"]))
    groups = factor_groups(ctx)
    pages, left = _paged(groups)
    figs = []
    for page in pages:
        fig, axes = _panels(len(page), 3.6 if len(groups) > 1 else 4.2)
        for ax, (gtitle, names) in zip(axes, page):
            for arm in names[:MAX_PANELS]:
                b = ctx.bands(column, arm)
                scen = ctx.arms.loc[ctx.arms["arm"] == arm, "scenario"].iloc[0]
                colour = colours[(scenarios.index(scen) if len(groups) > 1 else ctx.arm_names.index(arm)) % len(colours)]
                if b is not None and not b.empty:
                    _fan(ax, b, colour, scen if len(groups) > 1 else short_labels(ctx).get(arm, arm))
            if extra:
                extra(ax)
            ax.set_ylabel(ylabel)
            ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
            _date_axis(ax)
            _window_span(ctx, ax, names)
            if gtitle:
                ax.set_title(gtitle, fontsize=TITLE_SIZE)
        figs.append(
            _finish_time_panels(
                fig,
                axes,
                "line median, bands 50 % and 90 % of replications; grey: before the evaluation window",
                title,
                max_columns=5,
            )
        )
    _left_out(figs[-1], left, len(groups), "groups of design points")
    return figs if len(figs) > 1 else figs[0]


def _design_overview(ctx: Context, column: str, title: str, ylabel: str, extra: Callable[[Axes], None] | None) -> Figure:
    """A sampled design in one panel: every design point's median (thin lines) and the spread of those medians."""
    fan = ctx._fan(column)
    wide = fan.pivot_table(index="date", columns="arm", values="q50")
    fig = _figure(11, 4.2)
    ax = fig.subplots()
    ax.plot(wide.index, wide.to_numpy(), color="tab:blue", linewidth=0.5, alpha=0.25)
    ax.plot(wide.index, wide.median(axis=1), color="black", linewidth=1.6, label="median over design points")
    ax.fill_between(
        wide.index,
        wide.quantile(0.05, axis=1),
        wide.quantile(0.95, axis=1),
        color="tab:blue",
        alpha=0.12,
        linewidth=0,
        label="5–95 % of design points",
    )
    ax.plot(
        [],
        [],
        color="tab:blue",
        linewidth=0.5,
        alpha=0.6,
        label=f"one design point ({wide.shape[1]}): median of its replications",
    )
    if extra:
        extra(ax)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    _date_axis(ax)
    _window_span(ctx, ax, ctx.arm_names)
    return _finish_time_panels(fig, [ax], "grey: before the evaluation window", title, max_columns=3)


def fig_ter_apel(ctx: Context) -> Figure | str:
    """Ter Apel (application centre) occupancy against its norm."""
    limits = _centre_limits(ctx)
    centres = {len(ctx.scenarios[arms[0]].registration.centres) for arms in limits.values()}
    together = " of the centres together" if max(centres, default=1) > 1 else ""

    def lines(ax: Axes) -> None:
        for (norm, limit), arms in limits.items():
            which = f"; {len(arms)} of {len(ctx.arm_names)} scenarios" if len(limits) > 1 else ""
            ax.axhline(norm, color="black", linestyle="--", linewidth=1, label=f"norm{together} ({norm:,.0f}{which})")
            ax.axhline(limit, color="black", linestyle=":", linewidth=1, label=f"physical limit{together} ({limit:,.0f}{which})")

    return _overlay(
        ctx, "ac_occupancy", "Application-centre (Ter Apel) occupancy against its norm", "persons at the centre", lines
    )


def fig_emergency(ctx: Context) -> Figure | str:
    """Persons in emergency and crisis shelter."""
    return _overlay(ctx, an.EMERGENCY, "Emergency and crisis shelter occupancy", "persons in emergency + crisis shelter")


def _deadlines(ctx: Context) -> list[pd.Timestamp]:
    c = ctx.results.cycles
    if c.empty or "deadline" not in c:
        return []
    return sorted(set(pd.to_datetime(c["deadline"].dropna().unique(), errors="coerce").dropna()))


def fig_pipeline(ctx: Context) -> list[Figure] | str:
    """Places planned (task), under construction (pipeline) and open (durable), around the deadlines."""
    pipeline = an.column_values(ctx.results.timeseries, "places_in_pipeline")
    if not ctx.has_series("places_in_pipeline") or not (pipeline > 0).any():
        return "no capacity pipeline in these runs (the Spreidingswet cycle was not enabled or nothing was built)"
    if ctx.sampled:
        return "a sampled design: no panel per design point"
    deadlines = _deadlines(ctx)
    pages, left = _paged(ctx.arm_names)
    figs = []
    for names in pages:
        fig, axes = _panels(len(names), 2.8)
        for ax, arm in zip(axes, names):
            for col, name, colour in (
                ("places_durable_task", "planned (durable task)", "tab:gray"),
                ("places_in_pipeline", "under construction", "tab:orange"),
                ("places_durable", "open (durable)", "tab:blue"),
            ):
                b = ctx.bands(col, arm)
                if b is not None and not b.empty:
                    _fan(ax, b, colour, name)
            pb = ctx.bands("places_in_pipeline", arm)
            for d in deadlines:
                if pb is not None and len(pb) and pb.index.min() <= d <= pb.index.max():  # later deadlines would stretch the axis
                    ax.axvline(d, color="black", linestyle=":", linewidth=0.8)
            _style_time_panel(ax, short_labels(ctx).get(arm, arm), "places")
        figs.append(
            _finish_time_panels(
                fig,
                axes,
                "line median, bands 50 % and 90 % of replications" + ("; dotted: realisation deadlines" if deadlines else ""),
                "Capacity pipeline: places planned, under construction and open",
            )
        )
    _left_out(figs[-1], left, len(ctx.arm_names))
    return figs


def _style_time_panel(ax: Axes, title: str, ylabel: str) -> None:
    """A panel of a per-scenario time figure: scenario title, unit label, thousands separators, date axis."""
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    _date_axis(ax)


def _finish_time_panels(fig: Figure, axes: list[Axes], legend_title: str, title: str, max_columns: int | None = None) -> Figure:
    """One legend below the panels (the first panel's entries, in at most ``max_columns`` columns) and a title above."""
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=max(1, min(len(labels), max_columns or len(labels))),
        fontsize=8,
        frameon=False,
        title=legend_title,
        title_fontsize=8,
    )
    fig.suptitle(title)
    return fig


def fig_paired(ctx: Context) -> Figure | str:
    """Mean paired difference against the baseline with its 95 % interval, per headline metric."""
    p = ctx.paired
    if p.empty:
        return "only one scenario: nothing to compare with the baseline"
    metrics = [m for m in HEADLINE_METRICS if m in set(p["metric"])]
    unchanged = [
        m
        for m in metrics
        if (p.loc[p["metric"] == m, "method"] == "identical differences").all()
        and (p.loc[p["metric"] == m, "mean_diff"] == 0).all()
    ]
    metrics = [m for m in metrics if m not in unchanged and p.loc[p["metric"] == m, "mean_diff"].notna().any()]
    if not metrics:
        return "no headline metric differs from the baseline in any replication"
    short = short_labels(ctx)
    fig, axes = _panels(len(metrics), max(1.8, 0.9 + 0.3 * p["arm"].nunique()), share_y=False, share_x=False)
    for ax, metric in zip(axes, metrics):
        sub = p[p["metric"] == metric].iloc[::-1]
        y = np.arange(len(sub))
        vals = np.abs(sub[["ci_low", "ci_high", "mean_diff"]].to_numpy(float))
        big = float(vals[np.isfinite(vals)].max(initial=0.0))
        scale, unit = (1e6, "EUR million") if metric.endswith("_eur") else ((1e6, "millions") if big >= 1e6 else (1.0, ""))
        mean = sub["mean_diff"].to_numpy(float) / scale
        lo = np.nan_to_num(mean - sub["ci_low"].to_numpy(float) / scale)
        hi = np.nan_to_num(sub["ci_high"].to_numpy(float) / scale - mean)
        ax.errorbar(mean, y, xerr=[lo, hi], fmt="o", color="tab:blue", capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, [short.get(a, a) for a in sub["arm"]], fontsize=8)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel(f"difference vs {ctx.baseline}" + (f" ({unit})" if unit else ""), fontsize=8)
        ax.set_title(an.label(metric), fontsize=TITLE_SIZE)
    fig.suptitle(f"Paired differences against {ctx.baseline} (mean and 95 % interval, common random numbers)")
    foot = ("Unchanged in every replication: " + ", ".join(an.label(m) for m in unchanged) + ".") if unchanged else ""
    if foot:
        fig.supxlabel(foot, fontsize=8)
    return fig


def fig_risk_curves(ctx: Context) -> Figure | str:
    """Exceedance probability against threshold: peak emergency occupancy and emergency person-nights."""
    s = an.with_arm(ctx.results.summary, ctx.arms)
    metrics = [m for m in ("peak_emergency_occupancy", "emergency_person_nights", "ac_days_above_norm") if m in s]
    if not metrics:
        return "the summary has no emergency or Ter Apel metrics"
    n_labels = 1 if len(ctx.arm_names) > MAX_PANELS else len(ctx.arm_names)
    rows = int(np.ceil(n_labels / 3))
    fig = _figure(11, 3.8 + 0.18 * rows)
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        v = s[metric].to_numpy(float)
        hi = np.nanmax(v) if np.isfinite(v).any() else 1.0
        scale, unit = (1e6, " — millions") if hi >= 1e6 else (1.0, "")
        grid = np.linspace(0, max(hi * 1.05, 1.0), 400)
        if len(ctx.arm_names) > MAX_PANELS:
            # a sampled design (LHS, Sobol, Morris): one curve over every run, the design's spread being the uncertainty
            ax.step(grid / scale, an.exceedance(v, grid), where="post", label=f"all {len(ctx.arm_names)} design points")
        else:
            for arm in ctx.arm_names:
                ax.step(
                    grid / scale, an.exceedance(s.loc[s["arm"] == arm, metric].to_numpy(float), grid), where="post", label=arm
                )
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(an.label(metric) + unit, fontsize=8)
        ax.set_ylabel("P(value > threshold)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=scale == 1.0))
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}" if scale == 1.0 else "{x:,.1f}"))
        ax.tick_params(axis="x", labelsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=7, frameon=False)
    fig.suptitle("Risk curves: share of replications exceeding each threshold")
    return fig


def fig_sensitivity(ctx: Context) -> Figure | str:
    """Sensitivity indices per factor with their intervals, one panel per output."""
    sens = ctx.sensitivity
    if sens.empty:
        return ctx.sensitivity_note
    scen_col = sens["scenario"] if "scenario" in sens else pd.Series("", index=sens.index)
    panels = list(dict.fromkeys(zip(scen_col, sens["output"])))[:PAGE_PANELS]
    main = sens["index"].iloc[0]  # mu_star (Morris) or S1 (Sobol): the factors are ordered by it in the first panel
    first = sens[(scen_col == panels[0][0]) & (sens["output"] == panels[0][1]) & (sens["index"] == main)]
    factors = list(first.sort_values("value")["factor"])  # the most influential at the top
    kinds = list(dict.fromkeys(sens["index"]))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = _figure(11, 0.9 + rows * (0.9 + 0.28 * len(factors)))
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    height = 0.8 / len(kinds)
    y = np.arange(len(factors))
    for ax, (scen, out) in zip(axes.flat, panels):
        sub = sens[(scen_col == scen) & (sens["output"] == out)]
        for j, k in enumerate(kinds):
            r = sub[sub["index"] == k].set_index("factor").reindex(factors)
            ax.barh(y + (j - (len(kinds) - 1) / 2) * height, r["value"], height, xerr=r["conf"].fillna(0), capsize=2, label=k)
        ax.set_yticks(y, [f.split(".")[-1].replace("_", " ") for f in factors], fontsize=8)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2g}"))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(an.label(out) + (f" — {scen}" if scen and scen_col.nunique() > 1 else ""), fontsize=TITLE_SIZE, wrap=True)
        ax.set_xlabel("index (the output's unit)" if main == "mu_star" else "share of variance", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.suptitle("Sensitivity of the outputs to the uncertain parameters (bars: index; whiskers: its interval)")
    return fig


def _realisation_fig(ctx: Context, province: str | None, title: str) -> Figure | str:
    """Bars of the share of the task realised by the deadline, per province or per municipality of ``province``."""
    found = an.realisation_by_deadline(ctx.results, ctx.arms, province)
    if found is None:
        if province is None:
            return "no cycle results with provinces, tasks and realisation"
        return (
            f"no cycle results with municipalities of {province}, tasks and realisation "
            "(runs write them with capacity.spreidingswet.report_municipalities = true)"
        )
    g, key, first = found
    units = list(dict.fromkeys(g[key]))
    arms_ = [a for a in ctx.arm_names if a in set(g["arm"])][:MAX_PANELS]
    fig = _figure(11, 4.5)
    ax = fig.subplots()
    width = 0.8 / max(1, len(arms_))
    for j, arm in enumerate(arms_):
        r = g[g["arm"] == arm].set_index(key).reindex(units)
        ax.bar(
            np.arange(len(units)) + j * width,
            r["mean"] * 100,
            width,
            label=arm,
            yerr=[np.nan_to_num((r["mean"] - r["q05"]) * 100), np.nan_to_num((r["q95"] - r["mean"]) * 100)],
            capsize=2,
        )
    ax.axhline(100, color="black", linestyle="--", linewidth=0.8)
    ax.set_xticks(np.arange(len(units)) + 0.4 - width / 2, units, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("task realised by the deadline (%)")
    ax.legend(fontsize=7, title="mean; whiskers 5–95 % of replications", title_fontsize=7)
    ax.set_title(title + (f" (cycle {first})" if first is not None else ""))
    return fig


def fig_provinces(ctx: Context) -> Figure | str:
    """Share of the Spreidingswet task realised by the deadline, per province."""
    return _realisation_fig(ctx, None, "Spreidingswet task realised by the deadline, per province")


def fig_municipalities(ctx: Context) -> Figure | str:
    """Share of the task realised by the deadline, per municipality of the province asked for (--province)."""
    return _realisation_fig(ctx, ctx.province, f"Task realised by the deadline, municipalities of {ctx.province}")


FIGURES: tuple[tuple[str, Callable[[Context], Figure | str]], ...] = (
    ("occupancy_fan", fig_occupancy),
    ("ter_apel", fig_ter_apel),
    ("emergency_occupancy", fig_emergency),
    ("capacity_pipeline", fig_pipeline),
    ("paired_differences", fig_paired),
    ("risk_curves", fig_risk_curves),
    ("sensitivity", fig_sensitivity),
    ("realisation_provinces", fig_provinces),
)


@dataclass
class Drawn:
    """A figure page as written: its file stem, caption (also the image's alt text), PNG bytes and files (PNG, SVG on request).

    ``titles``: the figure's title and every panel title with its box in the PNG's pixels (x0, y0, x1, y1 from
    the top left), so a reader of the page (or a test) can tell where each title is drawn and how large.
    """

    name: str
    caption: str
    png: bytes
    files: list[Path]
    titles: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)


def title_boxes(fig: Figure) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The figure title and the visible panels' titles with their boxes in the PNG's pixels (top-left origin);
    call after the figure was saved at :data:`DPI` (the layout is then final)."""
    renderer = fig.canvas.get_renderer()
    height = fig.bbox.height
    texts = [t for t in fig.texts if fig.get_suptitle() and t.get_text() == fig.get_suptitle()]
    texts += [ax.title for ax in fig.axes if ax.get_visible()]
    out = []
    for t in texts:
        if t.get_text() and t.get_visible():
            b = t.get_window_extent(renderer)
            out.append((t.get_text(), (float(b.x0), float(height - b.y1), float(b.x1), float(height - b.y0))))
    return out


def draw_figures(ctx: Context, out: Path, svg: bool = False) -> tuple[list[Drawn], list[str]]:
    """Every figure as PNG (and SVG with ``svg``) in ``out``; notes for the ones skipped.

    A figure of several pages writes ``name.png``, ``name-2.png``, …
    """
    out.mkdir(parents=True, exist_ok=True)
    drawn, notes = [], []
    asked = (("realisation_municipalities", fig_municipalities),) if ctx.province else ()
    for name, fn in FIGURES + asked:
        result = fn(ctx)
        if isinstance(result, str):
            notes.append(f"{name}: skipped — {result}")
            continue
        pages = result if isinstance(result, list) else [result]
        caption = (fn.__doc__ or name).strip().splitlines()[0]
        for k, fig in enumerate(pages, start=1):
            stem = name if k == 1 else f"{name}-{k}"
            page = f" (page {k} of {len(pages)})" if len(pages) > 1 else ""
            drawn.append(save_page(fig, stem, caption + page, out, svg))
    return drawn, notes


def save_page(fig: Figure, stem: str, caption: str, out: Path, svg: bool = False) -> Drawn:
    """A figure written as ``out/stem.png`` (and ``.svg`` with ``svg``), with its title boxes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    files = [out / f"{stem}.png"]
    files[0].write_bytes(buf.getvalue())
    if svg:
        fig.savefig(out / f"{stem}.svg", format="svg")
        files.append(out / f"{stem}.svg")
    return Drawn(stem, caption, buf.getvalue(), files, title_boxes(fig))
