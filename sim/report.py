"""Figures and the self-contained HTML report: ``opvangsim report DIR``.

Every figure is drawn by one function from the loaded results; a figure whose
inputs are missing (no Spreidingswet pipeline, no cycles, no sampling design)
is skipped with a note that the report shows. Figures are written as PNG and
SVG; the HTML embeds the PNGs as base64 data URIs, so the one file opens
anywhere without a network and prints on A4.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
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
from matplotlib.figure import Figure

from sim import analysis as an
from sim.scenario import ScenarioError
from sim.store import Results

MAX_PANELS = 16  # more panels than this are unreadable even in a report (a 5 × 3 sweep has 15)
TYPES = (  # (occupancy column(s), places column, label, colour)
    (("occupancy_durable",), "places_durable", "durable", "tab:blue"),
    (("occupancy_temporary",), "places_temporary", "temporary", "tab:green"),
    (("occupancy_emergency", "occupancy_crisis"), "places_emergency", "emergency + crisis", "tab:red"),
    (("occupancy_amv",), "places_amv", "AMV (minors)", "tab:purple"),
)
HEADLINE_METRICS = (
    "emergency_person_nights",
    "peak_emergency_occupancy",
    "ac_days_above_norm",
    "person_nights_outside",
    "mean_housing_wait_days",
    "total_cost_eur",
    "share_realised_by_deadline",
    "durable_places_opened",
)


@dataclass
class Context:
    """What the figures and the text share: the results and the tables computed once."""

    results: Results
    arms: pd.DataFrame
    baseline: str
    paired: pd.DataFrame
    risk: pd.DataFrame
    quantiles: pd.DataFrame
    settings: an.RiskSettings
    sensitivity: pd.DataFrame
    sensitivity_note: str
    discovery: list
    discovery_note: str
    _bands: dict = field(default_factory=dict)

    @property
    def arm_names(self) -> list[str]:
        return list(dict.fromkeys(self.arms["arm"]))

    def series(self, column: str) -> pd.DataFrame | None:
        """Per-replication values of a time-series column (or of the emergency sum) with arm and date.

        A quantile series (a sweep that kept quantiles over replications) comes
        back with the quantile in the ``replication`` column's place.
        """
        ts = self.results.timeseries
        if ts.empty or "replication" not in ts or "date" not in ts:
            return None
        if "quantile" in ts:
            ts = ts.assign(replication=ts["quantile"])
        if column == "emergency":
            values = an.emergency_series(ts)
        elif column in ts:
            values = ts[column]
        else:
            return None
        if values is None:
            return None
        df = an.with_arm(ts[["scenario", "design_point", "replication", "date"]].assign(v=values.to_numpy()), self.arms)
        return df.assign(date=pd.to_datetime(df["date"]))

    def bands(self, column: str, arm: str) -> pd.DataFrame | None:
        """Median, 50 % and 90 % bands over replications per date for one arm (cached)."""
        key = (column, arm)
        if key not in self._bands:
            s = self.series(column)
            if s is None:
                self._bands[key] = None
            else:
                wide = s[s["arm"] == arm].pivot_table(index="date", columns="replication", values="v", aggfunc="first")
                names = ["q05", "q25", "q50", "q75", "q95"]
                if "quantile" in self.results.timeseries:
                    # quantiles already taken over replications: use the ones kept, leave the others empty
                    cols = {f"q{round(float(c) * 100):02d}": wide[c] for c in wide.columns}
                    self._bands[key] = pd.DataFrame({n: cols.get(n, pd.Series(np.nan, index=wide.index)) for n in names})
                else:
                    q = (
                        np.nanquantile(wide.to_numpy(float), [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
                        if len(wide)
                        else np.empty((5, 0))
                    )
                    self._bands[key] = pd.DataFrame(q.T, index=wide.index, columns=names)
        return self._bands[key]


def build_context(results: Results, baseline: str | None, settings: an.RiskSettings) -> Context:
    a = an.arms(results)
    base = an.pick_baseline(a, baseline)
    sens, sens_note = an.sensitivity(results)
    boxes, disc_note = an.scenario_discovery(results)
    return Context(
        results,
        a,
        base,
        an.paired_comparison(results, base),
        an.risk_table(results, settings),
        an.quantile_table(results),
        settings,
        sens,
        sens_note,
        boxes,
        disc_note,
    )


# ----------------------------------------------------------------------------- figures


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def _fan(ax, b: pd.DataFrame, colour: str, name: str) -> None:
    ax.fill_between(b.index, b["q05"], b["q95"], color=colour, alpha=0.15, linewidth=0)
    ax.fill_between(b.index, b["q25"], b["q75"], color=colour, alpha=0.35, linewidth=0)
    ax.plot(b.index, b["q50"], color=colour, linewidth=1.5, label=name)


def _figure(width_in: float, height_in: float) -> Figure:
    """A figure not registered with pyplot: no GUI backend, no global state, freed with its last reference."""
    return Figure(figsize=(width_in, height_in))


def _panels(n: int, height: float = 2.6, share_y: bool = True, share_x: bool = True):
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


def fig_occupancy(ctx: Context):
    """Fan charts of occupancy by location type against places, one panel per scenario."""
    available = [t for t in TYPES if ctx.series(t[0][0]) is not None]
    if not available:
        return "no per-replication time series with occupancy by location type"
    names = ctx.arm_names[:MAX_PANELS]
    fig, axes = _panels(len(names), 2.8)
    for ax, arm in zip(axes, names):
        for cols, places, name, colour in available + (
            [(("occupancy_total",), "", "total (all types)", "black")] if ctx.series("occupancy_total") is not None else []
        ):
            b = ctx.bands(cols[0] if len(cols) == 1 else "emergency", arm)
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


def _norms(ctx: Context) -> tuple[float, float]:
    """The application centre's norm and physical limit (persons) from the first manifest that states them."""
    for m in an.run_manifests(ctx.results).values():
        centres = an._find(m, ("centres",))
        if isinstance(centres, list) and centres and isinstance(centres[0], dict) and "norm_persons" in centres[0]:
            return float(centres[0]["norm_persons"]), float(centres[0].get("physical_limit_persons", math.nan))
    return 2000.0, math.nan  # the norm agreed with Westerwolde (sources §ter-apel-norm)


def factor_groups(ctx: Context) -> list[tuple[str, list[str]]]:
    """Arms grouped by the design factors other than the scenario (one group when there are none).

    In a sweep of scenarios × inflow levels, each group is one inflow level with
    every scenario in it: the panels of an overlay chart compare like with like.
    """
    a = ctx.arms
    factor_cols = [c for c in a.columns if c not in ("scenario", "design_point", "arm") and a[c].nunique(dropna=False) > 1]
    if not factor_cols:
        return [("", ctx.arm_names)]
    groups = []
    for key, sub in a.groupby(factor_cols, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{c.split('.')[-1]} = {an._fmt_value(v)}" for c, v in zip(factor_cols, key))
        groups.append((title, list(sub["arm"])))
    return groups


def _overlay(ctx: Context, column: str, title: str, ylabel: str, extra=None):
    """Fans of several scenarios on shared axes; one panel per level of the other design factors."""
    if ctx.series(column) is None:
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
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(len(labels), 5),
        fontsize=8,
        frameon=False,
        title="line median, bands 50 % and 90 % of replications",
        title_fontsize=8,
    )
    fig.suptitle(title)
    rows = math.ceil(len(labels) / 5)
    fig.tight_layout(rect=(0, (0.45 + 0.2 * rows) / fig.get_figheight(), 1, 1 - 0.45 / fig.get_figheight()))
    return fig


def fig_ter_apel(ctx: Context):
    """Ter Apel (application centre) occupancy against its norm."""
    norm, limit = _norms(ctx)

    def lines(ax):
        ax.axhline(norm, color="black", linestyle="--", linewidth=1, label=f"norm ({norm:,.0f})")
        if not math.isnan(limit):
            ax.axhline(limit, color="black", linestyle=":", linewidth=1, label=f"physical limit ({limit:,.0f})")

    return _overlay(
        ctx, "ac_occupancy", "Application-centre (Ter Apel) occupancy against its norm", "persons at the centre", lines
    )


def fig_emergency(ctx: Context):
    """Persons in emergency and crisis shelter."""
    return _overlay(ctx, "emergency", "Emergency and crisis shelter occupancy", "persons in emergency + crisis shelter")


def _deadlines(ctx: Context) -> list[pd.Timestamp]:
    c = ctx.results.cycles
    if c.empty or "deadline" not in c:
        return []
    return sorted(set(pd.to_datetime(c["deadline"].dropna().unique(), errors="coerce").dropna()))


def fig_pipeline(ctx: Context):
    """Places planned (task), under construction (pipeline) and open (durable), around the deadlines."""
    s = ctx.series("places_in_pipeline")
    if s is None or not (s["v"] > 0).any():
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


def _style_time_panel(ax, title: str, ylabel: str) -> None:
    """A panel of a per-scenario time figure: scenario title, unit label, thousands separators, date axis."""
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    _date_axis(ax)


def _finish_time_panels(fig, axes, legend_title: str, title: str):
    """One legend below the panels and a title above them, with room for both."""
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=max(1, len(labels)),
        fontsize=8,
        frameon=False,
        title=legend_title,
        title_fontsize=8,
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.55 / fig.get_figheight(), 1, 1 - 0.45 / fig.get_figheight()))
    return fig


def short_labels(ctx: Context) -> dict[str, str]:
    """Arm labels for crowded axes: the scenario and the values of the varying factors, without factor names."""
    a = ctx.arms
    factor_cols = [c for c in a.columns if c not in ("scenario", "design_point", "arm") and a[c].nunique(dropna=False) > 1]
    if not factor_cols:
        return dict(zip(a["arm"], a["arm"]))
    return {
        row["arm"]: " · ".join([str(row["scenario"])] + [an._fmt_value(row[c]) for c in factor_cols]) for _, row in a.iterrows()
    }


def fig_paired(ctx: Context):
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
        fig.text(0.01, 0.005, foot, fontsize=8, va="bottom")
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight() if foot else 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


def fig_risk_curves(ctx: Context):
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
    fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), fontsize=7, frameon=False)
    fig.suptitle("Risk curves: share of replications exceeding each threshold")
    fig.tight_layout(rect=(0, (0.25 + 0.18 * rows) / fig.get_figheight(), 1, 1 - 0.45 / fig.get_figheight()))
    return fig


def fig_sensitivity(ctx: Context):
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
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    return fig


def _realisation(ctx: Context, level: str):
    c = ctx.results.cycles
    need = {"province", "task", "realised_by_deadline"}
    if c.empty or not need <= set(c.columns):
        return None
    c = an.with_arm(c, ctx.arms)
    if "municipality" in c:
        is_muni = c["municipality"].notna() & (c["municipality"].astype(str).str.len() > 0)
    else:
        is_muni = pd.Series(False, index=c.index)
    if "level" in c:  # sim.capacity writes one row per province and per municipality, with their level
        is_muni = c["level"] == "municipality"
    if level == "province":
        rows = c[~is_muni]
        key = "province"
    else:
        rows = c[is_muni & (c["province"] == "Drenthe")]
        key = "municipality"
    if rows.empty:
        return None
    first = rows["cycle"].min() if "cycle" in rows else None
    if first is not None:
        rows = rows[rows["cycle"] == first]
    # min_count: a deadline after the horizon leaves realised_by_deadline empty, which is not 0 % realised
    g = rows.groupby(["arm", "replication", key])[["task", "realised_by_deadline"]].sum(min_count=1).reset_index()
    g["share"] = np.where(g["task"] > 0, g["realised_by_deadline"] / g["task"].where(g["task"] > 0, 1), np.nan)
    g = g[g.groupby("arm")["share"].transform(lambda x: x.notna().any())]
    if g.empty:
        return None
    return (
        g.groupby(["arm", key])["share"]
        .agg(["mean", lambda x: np.nanquantile(x, 0.05), lambda x: np.nanquantile(x, 0.95)])
        .set_axis(["mean", "q05", "q95"], axis=1)
        .reset_index(),
        key,
        first,
    )


def _realisation_fig(ctx: Context, level: str, title: str):
    out = _realisation(ctx, level)
    if out is None:
        return f"no cycle results with {'provinces' if level == 'province' else 'Drenthe municipalities'}, tasks and realisation"
    g, key, first = out
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
    fig.tight_layout()
    return fig


def fig_provinces(ctx: Context):
    """Share of the Spreidingswet task realised by the deadline, per province."""
    return _realisation_fig(ctx, "province", "Spreidingswet task realised by the deadline, per province")


def fig_drenthe(ctx: Context):
    """Share of the task realised by the deadline, per municipality of Drenthe."""
    return _realisation_fig(ctx, "drenthe", "Task realised by the deadline, municipalities of Drenthe")


FIGURES: tuple[tuple[str, Callable], ...] = (
    ("occupancy_fan", fig_occupancy),
    ("ter_apel", fig_ter_apel),
    ("emergency_occupancy", fig_emergency),
    ("capacity_pipeline", fig_pipeline),
    ("paired_differences", fig_paired),
    ("risk_curves", fig_risk_curves),
    ("sensitivity", fig_sensitivity),
    ("realisation_provinces", fig_provinces),
    ("realisation_drenthe", fig_drenthe),
)


@dataclass
class Drawn:
    name: str
    caption: str
    png: bytes
    files: list[Path]


def draw_figures(ctx: Context, out: Path) -> tuple[list[Drawn], list[str]]:
    """Every figure as PNG + SVG in ``out``; notes for the ones skipped."""
    out.mkdir(parents=True, exist_ok=True)
    drawn, notes = [], []
    for name, fn in FIGURES:
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


# ----------------------------------------------------------------------------- text


def _flatten(d, prefix="") -> dict:
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def what_changes(manifests: dict[str, dict], baseline: str) -> dict[str, str]:
    """For each run, the scenario keys whose value differs from the baseline's (from the manifests)."""
    base = _flatten(manifests.get(baseline, {}).get("scenario", {}))
    out = {}
    for name, m in manifests.items():
        scen = _flatten(m.get("scenario", {}))
        if not scen:
            factors = an._find(m, ("factors",))
            out[name] = (
                (
                    "factors: "
                    + ", ".join(
                        map(
                            str,
                            factors.keys()
                            if isinstance(factors, dict)
                            else [f.get("key", f.get("name", "?")) if isinstance(f, dict) else f for f in factors],
                        )
                    )
                )
                if factors
                else ""
            )
            continue
        if name == baseline:
            out[name] = "(the baseline)"
            continue
        diffs = [
            f"{k} = {scen[k]!r} (baseline {base.get(k)!r})"
            for k in sorted(scen)
            if k not in ("name", "description") and scen[k] != base.get(k)
        ]
        out[name] = "; ".join(diffs) if diffs else "nothing (same scenario; different name)"
    return out


def _money(v: float) -> str:
    return f"{'−' if v < 0 else '+'}€{abs(v) / 1e6:,.1f} million"


def _ci_text(row, money=False, pct=False) -> str:
    """'+12,345 (95 % CI +10,000 to +14,690)' for a paired-table row; shares in percentage points."""
    if money:
        f = _money
    elif pct:
        f = lambda v: f"{v * 100:+.1f} percentage points"  # noqa: E731
    else:
        f = lambda v: f"{v:+,.0f}" if abs(v) >= 10 else f"{v:+,.2f}"  # noqa: E731
    if row["method"] == "identical differences":
        return "no change in any replication" if row["mean_diff"] == 0 else f"{f(row['mean_diff'])} in every replication"
    if pd.isna(row["ci_low"]):
        return f"{f(row['mean_diff'])} (no interval with {int(row['n_pairs'])} replication(s))"
    sure = "" if (row["ci_low"] > 0 or row["ci_high"] < 0) else ", not distinguishable from no change"
    return f"{f(row['mean_diff'])} (95 % CI {f(row['ci_low'])} to {f(row['ci_high'])}{sure})"


def paragraphs(ctx: Context) -> dict[str, str]:
    """A plain-language paragraph per scenario, every number taken from the tables."""
    out = {}
    s = an.with_arm(ctx.results.summary, ctx.arms)
    risk = ctx.risk.set_index(["arm", "event"]) if len(ctx.risk) else None
    ac_event = f"Ter Apel above norm for > {ctx.settings.ac_days} days"
    pairs = an.counterparts(ctx.arms, ctx.baseline)
    for arm in ctx.arm_names:
        sub = s[s["arm"] == arm]
        n = len(sub)
        parts = []
        if "emergency_person_nights" in sub:
            v = sub["emergency_person_nights"].to_numpy(float)
            parts.append(
                f"Over {n} replication(s), emergency and crisis shelter averaged {np.nanmean(v):,.0f} person-nights"
                + (
                    f" (90 % of replications between {np.nanquantile(v, 0.05):,.0f} and {np.nanquantile(v, 0.95):,.0f})."
                    if n > 1
                    else "."
                )
            )
        if risk is not None and (arm, ac_event) in risk.index:
            r = risk.loc[(arm, ac_event)]
            parts.append(
                f"Ter Apel was above its norm for more than {ctx.settings.ac_days} days in {int(r['with_event'])} of {n} replications "
                f"({r['probability']:.0%}, 95 % interval {r['ci_low']:.0%}–{r['ci_high']:.0%})."
            )
        if arm in pairs:
            base = pairs[arm]
            p = ctx.paired[(ctx.paired["arm"] == arm)].set_index("metric")
            if "emergency_person_nights" in p.index:
                row = p.loc["emergency_person_nights"]
                rel = f" ({row['relative_diff']:+.1%})" if pd.notna(row["relative_diff"]) else ""
                parts.append(f"Compared with {base}, emergency shelter changes by {_ci_text(row)} person-nights{rel}.")
            if "ac_days_above_norm" in p.index:
                parts.append(f"Days with Ter Apel above its norm: {_ci_text(p.loc['ac_days_above_norm'])}.")
            if risk is not None and (arm, ac_event) in risk.index and (base, ac_event) in risk.index:
                before, after = risk.loc[(base, ac_event), "probability"], risk.loc[(arm, ac_event), "probability"]
                parts.append(
                    f"The chance that Ter Apel is above its norm for more than {ctx.settings.ac_days} days "
                    + (f"stays at {after:.0%}." if before == after else f"goes from {before:.0%} to {after:.0%}.")
                )
            if "total_cost_eur" in p.index:
                parts.append(f"Total cost: {_ci_text(p.loc['total_cost_eur'], money=True)}.")
            if "share_realised_by_deadline" in p.index:
                parts.append(
                    f"Share of the Spreidingswet task realised by the deadline: {_ci_text(p.loc['share_realised_by_deadline'], pct=True)}."
                )
        elif arm != ctx.baseline and ctx.arms.loc[ctx.arms["arm"] == arm, "scenario"].iloc[0] != ctx.baseline:
            parts.append("No baseline counterpart was found to pair it with.")
        out[arm] = " ".join(parts)
    return out


# ----------------------------------------------------------------------------- HTML

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


KEY_METRICS = (
    "emergency_person_nights",
    "peak_emergency_occupancy",
    "ac_days_above_norm",
    "total_cost_eur",
    "share_realised_by_deadline",
)


def headline_frame(ctx: Context) -> pd.DataFrame:
    """One row per scenario: the paired difference of the key metrics against its baseline, with the 95 % interval."""
    p = ctx.paired
    if p.empty:
        s = an.with_arm(ctx.results.summary, ctx.arms)
        rows = []
        for m in HEADLINE_METRICS:
            if m in s:
                mean, lo, hi = _mean_ci(s[m].to_numpy(float))
                rows.append({"metric": _table_label(m), "mean": _fmt(mean, m), "95 % CI": f"{_fmt(lo, m)} to {_fmt(hi, m)}"})
        return pd.DataFrame(rows)
    rows = []
    short = short_labels(ctx)
    for arm, sub in p.groupby("arm", sort=False):
        sub = sub.set_index("metric")
        row = {
            "scenario": short.get(arm, arm),
            "against": short.get(sub["baseline"].iloc[0], sub["baseline"].iloc[0]),
            "pairs": int(sub["n_pairs"].max()),
        }
        for m in KEY_METRICS:
            if m in sub.index:
                r = sub.loc[m]
                if r["method"] == "identical differences":
                    cell = "no change" if r["mean_diff"] == 0 else f"{_fmt(r['mean_diff'], m, signed=True)} (every replication)"
                elif pd.isna(r["ci_low"]):
                    cell = _fmt(r["mean_diff"], m, signed=True)
                else:
                    cell = f"{_fmt(r['mean_diff'], m, signed=True)} [{_fmt(r['ci_low'], m, signed=True)}, {_fmt(r['ci_high'], m, signed=True)}]"
                row[f"Δ {_table_label(m)}"] = cell
        rows.append(row)
    return pd.DataFrame(rows)


def _factor_note(ctx: Context) -> str:
    a = ctx.arms
    cols = [c for c in a.columns if c not in ("scenario", "design_point", "arm") and a[c].nunique(dropna=False) > 1]
    return f" Labels read: scenario · {' · '.join(cols)}." if cols else ""


def full_frame(ctx: Context) -> pd.DataFrame:
    """Every headline metric of every scenario: both means, the difference, its interval and the pairing's gain."""
    p = ctx.paired[ctx.paired["metric"].isin(HEADLINE_METRICS)]
    short = short_labels(ctx)
    return pd.DataFrame(
        {
            "scenario": p["arm"].map(lambda a: short.get(a, a)),
            "metric": p["metric"].map(_table_label),
            "baseline mean": [_fmt(v, m) for v, m in zip(p["baseline_mean"], p["metric"])],
            "scenario mean": [_fmt(v, m) for v, m in zip(p["scenario_mean"], p["metric"])],
            "difference": [_fmt(v, m, signed=True) for v, m in zip(p["mean_diff"], p["metric"])],
            "95 % CI": [f"{_fmt(lo, m)} to {_fmt(hi, m)}" for lo, hi, m in zip(p["ci_low"], p["ci_high"], p["metric"])],
            "interval": p["method"],
            "variance reduction by pairing": p["variance_reduction"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}"),
        }
    )


def _table_label(metric: str) -> str:
    """Label of a metric as tables show it (euros in millions)."""
    text = an.label(metric)
    return text.replace("(EUR)", "(EUR million)") if metric.endswith("_eur") else text


def _mean_ci(v: np.ndarray) -> tuple[float, float, float]:
    from sim.runner import mean_ci

    return mean_ci(v)


def _fmt(v: float, metric: str, signed: bool = False) -> str:
    """A metric's value as tables show it (euros in millions, shares in per cent)."""
    if v is None or pd.isna(v):
        return "n/a"
    sign = "+" if signed else ""
    if metric.endswith("_eur"):
        return f"{v / 1e6:{sign},.1f}"
    if metric.startswith("share"):
        return f"{v * 100:{sign}.1f} pp" if signed else f"{v:.1%}"
    return f"{v:{sign},.0f}" if abs(v) >= 100 else f"{v:{sign},.2f}"


def risk_frame(ctx: Context, arms: list[str] | None = None) -> pd.DataFrame:
    """Events as rows, scenarios (``arms``, default all) as columns; cells 'P [interval] (k/n)'."""
    r = ctx.risk if arms is None else ctx.risk[ctx.risk["arm"].isin(arms)]
    if r.empty:
        return pd.DataFrame()
    cell = [
        ("n/a" if pd.isna(p) else f"{p:.0%}") + f" [{lo:.0%}–{hi:.0%}] ({k}/{n})"
        for p, lo, hi, k, n in zip(r["probability"], r["ci_low"], r["ci_high"], r["with_event"], r["replications"])
    ]
    wide = r.assign(cell=cell).pivot(index="event", columns="arm", values="cell")
    wide = wide.reindex(index=list(dict.fromkeys(r["event"])), columns=[a for a in ctx.arm_names if a in wide.columns])
    wide.columns.name = None
    return wide.reset_index()


def _period(scen: dict) -> str:
    if not scen:
        return ""
    if scen.get("end_date"):
        return f"{scen.get('start_date', '?')} to {scen['end_date']}"
    return f"{scen.get('start_date', '?')} + {scen.get('horizon_years', '?')} years"


def _sweep_frame(ctx: Context, m: dict) -> pd.DataFrame:
    """What a sweep ran: one row per base scenario, with its design points and what the scenario file changes."""
    points = (m.get("resolved") or {}).get("design_points") or []
    if not points:
        return pd.DataFrame()
    scen = {}
    for p in points:
        scen.setdefault(p.get("scenario", "?"), {"file": p.get("scenario_file", ""), "points": []})["points"].append(p)
    canon = {}
    for name, info in scen.items():
        try:  # the manifest keeps digests, not scenarios: read the files as they are now to say what each changes
            from sim.scenario import load_scenario

            exp_dir = Path(str(m.get("experiment_file", "."))).parent
            found = next((c for c in (Path(info["file"]), exp_dir / info["file"]) if c.exists()), Path(info["file"]))
            canon[name] = load_scenario(found, list((m.get("resolved") or {}).get("experiment", {}).get("set", []))).canonical()
        except Exception:
            canon[name] = {}
    changes = what_changes({n: {"scenario": c} for n, c in canon.items()}, ctx.baseline) if ctx.baseline in canon else {}
    rows = []
    for name, info in scen.items():
        levels: dict[str, list] = {}
        for p in info["points"]:
            for k, v in (p.get("values") or {}).items():
                if v not in levels.setdefault(k, []):
                    levels[k].append(v)
        rows.append(
            {
                "scenario": name,
                "file": info["file"],
                "description": canon[name].get("description", ""),
                f"what it changes vs {ctx.baseline} (scenario file)": changes.get(name, "")
                if canon[name]
                else "(file not readable)",
                "design points": len(info["points"]),
                "factor values": "; ".join(
                    f"{k} = {', '.join(map(str, v[:12]))}" + (" …" if len(v) > 12 else "") for k, v in levels.items()
                ),
            }
        )  # replications, root seed and version are the sweep's, stated once above the table
    return pd.DataFrame(rows)


def runs_frame(ctx: Context) -> pd.DataFrame:
    if (ctx.results.manifest or {}).get("kind") == "sweep":
        sweep = _sweep_frame(ctx, ctx.results.manifest)
        if len(sweep):
            return sweep
    manifests = an.run_manifests(ctx.results)
    changes = what_changes(manifests, ctx.baseline)
    rows = []
    for name, m in manifests.items():
        scen = m.get("scenario", {}) if isinstance(m.get("scenario"), dict) else {}
        seeds = m.get("seeds") or []
        rows.append(
            {
                "name": name,
                "kind": m.get("kind", "?"),
                "file": m.get("scenario_file") or m.get("experiment_file") or "",
                "period": _period(scen),
                "what it changes vs " + ctx.baseline: changes.get(name, ""),
                "replications": m.get("replications", ""),
                "root seed": m.get("root_seed", ""),
                "seeds": ", ".join(map(str, seeds[:3])) + (" …" if len(seeds) > 3 else ""),
                "version": m.get("package_version", ""),
                "finished": str(m.get("finished", ""))[:19],
            }
        )
    return pd.DataFrame(rows)


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
        "euros in millions, shares in percentage points." + e(_factor_note(ctx)) + "</p>",
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
        q = ctx.quantiles.copy()
        for c in ["mean", "p05", "p25", "p50", "p75", "p95"]:
            q[c] = [_fmt(v, m) for v, m in zip(q[c], q["metric"])]
        q["label"] = q["metric"].map(_table_label)
        parts += [
            "<h3>Distribution over replications</h3>",
            _table(q.drop(columns=["metric"]).rename(columns={"arm": "scenario", "label": "metric"})),
        ]
    parts += ["<h2>Sensitivity and scenario discovery</h2>", f'<p class="note">{e(ctx.sensitivity_note)}</p>']
    if len(ctx.sensitivity):
        parts.append(_table(ctx.sensitivity.round(3)))
    parts.append(f'<p class="note">{e(ctx.discovery_note)}</p>')
    if ctx.discovery:
        parts.append(_table(pd.DataFrame(ctx.discovery).round(3)))
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
    all_notes = notes + ctx.settings.notes
    if all_notes:
        parts += ["<h2>Notes</h2>", "<ul>"] + [f"<li>{e(n)}</li>" for n in all_notes] + ["</ul>"]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- CLI


def make_report(
    directory: str | Path,
    out: str | Path | None = None,
    baseline: str | None = None,
    settings: an.RiskSettings | None = None,
    title: str | None = None,
) -> tuple[Path, list[Drawn], list[str]]:
    """Write ``report.html`` and the figure files; return the HTML path, the figures and the notes."""
    results = an.load_dir(directory)
    if results.summary.empty:
        raise ScenarioError(None, "DIR", f"{directory} has no summary rows to report on")
    settings = settings or an.RiskSettings()
    ctx = build_context(results, baseline, settings)
    out = Path(out) if out else Path(directory) / "report"
    drawn, notes = draw_figures(ctx, out / "figures")
    for name, df in (("paired_differences", ctx.paired), ("risk", ctx.risk), ("quantiles", ctx.quantiles)):
        df.to_csv(out / f"{name}.csv", index=False)
    page = render_html(ctx, drawn, notes, title or f"opvangsim report: {Path(directory).resolve().name}")
    target = out / "report.html"
    target.write_text(page, encoding="utf-8")
    return target, drawn, notes


def add_arguments(parser) -> None:
    parser.add_argument("dir", help="a results directory (run or sweep), or a directory holding several run directories")
    an.add_risk_arguments(parser)
    parser.add_argument("--out", help="report directory (default DIR/report)")
    parser.add_argument("--title", help="title of the report")


def main(args) -> int:
    settings = an.risk_settings(args)
    target, drawn, notes = make_report(args.dir, args.out, args.baseline, settings, args.title)
    print(f"report: {target}")
    for d in drawn:
        print(f"  figure {d.name}: {', '.join(str(f) for f in d.files)}")
    for n in notes:
        print(f"  note: {n}")
    return 0
