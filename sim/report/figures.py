"""The report's figures: one function per figure, drawn from a :class:`~sim.report.context.Context`.

A figure function returns a matplotlib ``Figure``, or a sentence saying why
it was skipped (its inputs are missing: no Spreidingswet pipeline, no cycles,
no sampling design).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import analysis as an
from sim.report.context import HEADLINE_METRICS, Context, factor_groups, short_labels

MAX_PANELS = 16  # more panels than this are unreadable even in a report (a 5 × 3 sweep has 15)
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
    return Figure(figsize=(width_in, height_in), layout="constrained")


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


def fig_occupancy(ctx: Context) -> Figure | str:
    """Fan charts of occupancy by location type against places, one panel per scenario."""
    available = [t for t in TYPES if ctx.has_series(t[0][0])]
    if not available:
        return "no per-replication time series with occupancy by location type"
    names = ctx.arm_names[:MAX_PANELS]
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
        _style_time_panel(ax, arm, "persons / places")
    return _finish_time_panels(
        fig,
        axes,
        "occupancy: line median, bands 50 % and 90 % of replications; dashed: places (median)",
        "Occupancy by location type against places, per scenario",
    )


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


def _overlay(ctx: Context, column: str, title: str, ylabel: str, extra: Callable[[Axes], None] | None = None) -> Figure | str:
    """Fans of several scenarios on shared axes; one panel per level of the other design factors."""
    if not ctx.has_series(column):
        return f"no per-replication time series with {column}"
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    scenarios = list(dict.fromkeys(ctx.arms["scenario"]))
    groups = factor_groups(ctx)[:MAX_PANELS]
    fig, axes = _panels(len(groups), 3.6 if len(groups) > 1 else 4.2)
    for ax, (gtitle, names) in zip(axes, groups):
        for arm in names:
            b = ctx.bands(column, arm)
            scen = ctx.arms.loc[ctx.arms["arm"] == arm, "scenario"].iloc[0]
            colour = colours[(scenarios.index(scen) if len(groups) > 1 else ctx.arm_names.index(arm)) % len(colours)]
            if b is not None and not b.empty:
                _fan(ax, b, colour, scen if len(groups) > 1 else arm)
        if extra:
            extra(ax)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        _date_axis(ax)
        if gtitle:
            ax.set_title(gtitle, fontsize=10)
    return _finish_time_panels(fig, axes, "line median, bands 50 % and 90 % of replications", title, max_columns=5)


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


def fig_pipeline(ctx: Context) -> Figure | str:
    """Places planned (task), under construction (pipeline) and open (durable), around the deadlines."""
    pipeline = an.column_values(ctx.results.timeseries, "places_in_pipeline")
    if not ctx.has_series("places_in_pipeline") or not (pipeline > 0).any():
        return "no capacity pipeline in these runs (the Spreidingswet cycle was not enabled or nothing was built)"
    names = ctx.arm_names[:MAX_PANELS]
    fig, axes = _panels(len(names), 2.8)
    deadlines = _deadlines(ctx)
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
            if (
                pb is not None and len(pb) and pb.index.min() <= d <= pb.index.max()
            ):  # deadlines after the horizon would only stretch the axis
                ax.axvline(d, color="black", linestyle=":", linewidth=0.8)
        _style_time_panel(ax, arm, "places")
    return _finish_time_panels(
        fig,
        axes,
        "line median, bands 50 % and 90 % of replications" + ("; dotted: realisation deadlines" if deadlines else ""),
        "Capacity pipeline: places planned, under construction and open",
    )


def _style_time_panel(ax: Axes, title: str, ylabel: str) -> None:
    """A panel of a per-scenario time figure: scenario title, unit label, thousands separators, date axis."""
    ax.set_title(title, fontsize=10)
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
        ax.set_title(an.label(metric), fontsize=9)
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
    panels = list(dict.fromkeys(zip(scen_col, sens["output"])))[:MAX_PANELS]
    fig, axes = _panels(len(panels), 3.2, share_y=False, share_x=False)
    for ax, (scen, out) in zip(axes, panels):
        sub = sens[(scen_col == scen) & (sens["output"] == out)]
        factors = list(dict.fromkeys(sub["factor"]))
        kinds = list(dict.fromkeys(sub["index"]))
        width = 0.8 / len(kinds)
        for j, k in enumerate(kinds):
            r = sub[sub["index"] == k].set_index("factor").loc[factors]
            ax.bar(np.arange(len(factors)) + j * width, r["value"], width, yerr=r["conf"].fillna(0), capsize=2, label=k)
        ax.set_xticks(
            np.arange(len(factors)) + 0.4 - width / 2, [f.split(".")[-1] for f in factors], rotation=30, ha="right", fontsize=7
        )
        ax.tick_params(axis="x", labelbottom=True)
        ax.set_title(f"{an.label(out)}" + (f" — {scen}" if scen and scen_col.nunique() > 1 else ""), fontsize=9)
        ax.set_ylabel("index")
        ax.legend(fontsize=7)
    fig.suptitle("Sensitivity of the outputs to the uncertain parameters")
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
    """A figure as written: its file stem, caption (also the image's alt text), PNG bytes and files (PNG, SVG)."""

    name: str
    caption: str
    png: bytes
    files: list[Path]


def draw_figures(ctx: Context, out: Path) -> tuple[list[Drawn], list[str]]:
    """Every figure as PNG + SVG in ``out``; notes for the ones skipped."""
    out.mkdir(parents=True, exist_ok=True)
    drawn, notes = [], []
    asked = (("realisation_municipalities", fig_municipalities),) if ctx.province else ()
    for name, fn in FIGURES + asked:
        fig = fn(ctx)
        if isinstance(fig, str):
            notes.append(f"{name}: skipped — {fig}")
            continue
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        (out / f"{name}.png").write_bytes(buf.getvalue())
        fig.savefig(out / f"{name}.svg", format="svg")
        drawn.append(
            Drawn(name, (fn.__doc__ or name).strip().splitlines()[0], buf.getvalue(), [out / f"{name}.png", out / f"{name}.svg"])
        )
    return drawn, notes
