"""The report's words and tables: what was run, the headline comparison, plain-language paragraphs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import analysis as an
from sim.calendar import DAYS_PER_YEAR
from sim.manifest import SweepManifest
from sim.report.context import HEADLINE_METRICS, Context, short_labels
from sim.scenario import Scenario


def _flatten(d: object, prefix: str = "") -> dict:
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def what_changes(scenarios: dict[str, dict], baseline: str) -> dict[str, str]:
    """For each name, the scenario keys whose value differs from the baseline's (scenarios as canonical dicts)."""
    base = _flatten(scenarios.get(baseline, {}))
    out = {}
    for name, canonical in scenarios.items():
        if name == baseline:
            out[name] = "(the baseline)"
            continue
        scen = _flatten(canonical)
        diffs = [
            f"{k} = {scen[k]!r} (baseline {base.get(k)!r})"
            for k in sorted(scen)
            if k not in ("name", "description") and scen[k] != base.get(k)
        ]
        out[name] = "; ".join(diffs) if diffs else "nothing (same scenario; different name)"
    return out


def _money(v: float) -> str:
    return f"{'−' if v < 0 else '+'}€{abs(v) / 1e6:,.1f} million"


def _ci_text(row: pd.Series, money: bool = False, pct: bool = False) -> str:
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
    ac_event = an.ac_event(ctx.settings.ac_days)
    ac_words = "on any day" if ctx.settings.ac_days == 0 else f"for more than {ctx.settings.ac_days} days"
    pairs = an.counterparts(ctx.arms, ctx.baseline)
    for arm in ctx.arm_names:
        sub = s[s["arm"] == arm]
        n = len(sub)
        parts = []
        if "emergency_person_nights" in sub:
            v = sub["emergency_person_nights"].to_numpy(float)
            per_night = (
                f", {np.nanmean(sub['emergency_persons_per_night']):,.0f} persons on an average night"
                f" ({np.nanmean(sub['emergency_persons_per_night']) * DAYS_PER_YEAR:,.0f} person-nights a year)"
                if "emergency_persons_per_night" in sub
                else ""
            )
            parts.append(
                f"Over {n} replication(s), emergency and crisis shelter averaged {np.nanmean(v):,.0f} person-nights in the window{per_night}"
                + (
                    f" (90 % of replications between {np.nanquantile(v, 0.05):,.0f} and {np.nanquantile(v, 0.95):,.0f} person-nights)."
                    if n > 1
                    else "."
                )
            )
        if "peak_emergency_occupancy" in sub and n > 1:
            v = sub["peak_emergency_occupancy"].to_numpy(float)
            parts.append(
                f"Its peak was {np.nanmedian(v):,.0f} persons in the median replication "
                f"(90 % between {np.nanquantile(v, 0.05):,.0f} and {np.nanquantile(v, 0.95):,.0f})."
            )
        if len(ctx.first_overflow) and arm in set(ctx.first_overflow["arm"]):
            parts.append(_first_overflow_text(ctx.first_overflow.set_index("arm").loc[arm]))
        if risk is not None and (arm, ac_event) in risk.index:
            r = risk.loc[(arm, ac_event)]
            parts.append(
                f"Ter Apel was above its norm {ac_words} in {int(r['with_event'])} of {n} replications "
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
                    f"The chance that Ter Apel is above its norm {ac_words} "
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


def _first_overflow_text(r: pd.Series) -> str:
    """Ter Apel's first day above its norm, from the start of the window, in words."""
    n, k = int(r["replications"]), int(r["overflowed"])
    if k == 0:
        return f"Ter Apel stayed within its norm throughout the window in all {n} replications."
    never = f"; in {n - k} of {n} replications not at all in the window" if k < n else ""
    if not np.isfinite(r["median_days"]):
        return f"Ter Apel went above its norm in only {k} of {n} replications in the window."
    hi = "after the window's end" if not np.isfinite(r["p95_days"]) else f"{r['p95_days']:,.0f}"
    return (
        f"Ter Apel first went above its norm {r['median_days']:,.0f} days into the window in the median replication "
        f"(around {r['median_date']:%B %Y}; 90 % between {r['p05_days']:,.0f} and {hi} days){never}."
    )


MAX_ARM_PARAGRAPHS = 8  # more arms than this get a paragraph per scenario and per factor instead of one each


def factor_paragraphs(ctx: Context) -> dict[str, str]:
    """One paragraph per design factor: the outcomes where the factor is low, middle and high.

    Full factorial: at each level (averaged over the other factors). Sampled designs: in the lowest,
    middle and highest third of the factor's sampled values; with the factor's sensitivity index
    where there is one.
    """
    a = ctx.arms
    factors = an.varying_factors(a)
    s = an.with_arm(ctx.results.summary, a)
    means = s.groupby("arm", sort=False).mean(numeric_only=True)
    out = {}
    for f in factors:
        values = a.set_index("arm")[f]
        if not pd.api.types.is_numeric_dtype(values):
            groups = [(str(v), list(values.index[values == v])) for v in dict.fromkeys(values)]
        elif values.nunique() <= 5:
            groups = [(an.format_value(v), list(values.index[values == v])) for v in sorted(values.unique())]
        else:
            cuts = np.quantile(values.to_numpy(float), [0, 1 / 3, 2 / 3, 1])
            bins = pd.cut(values, cuts, include_lowest=True, labels=False, duplicates="drop")
            groups = []
            for b, name in zip(sorted(bins.dropna().unique()), ("lowest third", "middle third", "highest third")):
                members = list(values.index[bins == b])
                lo, hi = values[members].min(), values[members].max()
                groups.append((f"{name} ({an.format_value(lo)}–{an.format_value(hi)})", members))
        parts = []
        for metric, unit in (
            ("emergency_person_nights", "person-nights of emergency shelter"),
            ("ac_days_above_norm", "days with Ter Apel above its norm"),
        ):
            if metric not in means:
                continue
            cells = [f"{means.loc[m, metric].mean():,.0f} at {g}" for g, m in groups]
            parts.append(f"{unit}: " + "; ".join(cells))
        text = (
            f"Over {len(values)} design points ({', '.join(an.format_value(v) for v in sorted(values.unique())[:1])} to {an.format_value(values.max())}), the mean "
            if pd.api.types.is_numeric_dtype(values)
            else "The mean "
        )
        text += ". The mean ".join(parts) + "."
        if len(ctx.sensitivity):
            sens = ctx.sensitivity
            main = sens[
                (sens["factor"] == f) & (sens["output"] == "emergency_person_nights") & sens["index"].isin(["mu_star", "S1"])
            ]
            if len(main):
                r = main.iloc[0]
                ranked = sens[(sens["output"] == "emergency_person_nights") & (sens["index"] == r["index"])].sort_values(
                    "value", ascending=False
                )
                rank = list(ranked["factor"]).index(f) + 1
                name = "Morris μ*" if r["index"] == "mu_star" else "Sobol first-order index"
                text += (
                    f" {name} for emergency person-nights: {an.significant(r['value'])} ± {an.significant(r['conf'], 2)} "
                    f"(rank {rank} of {ranked['factor'].nunique()})."
                )
        out[f] = text
    return out


def scenario_paragraphs(ctx: Context) -> dict[str, str]:
    """For a sweep of several scenarios × other factors: one paragraph per scenario with its paired
    differences against the baseline at each combination of the other factors."""
    p = ctx.paired
    out = {}
    short = short_labels(ctx)
    for scen in dict.fromkeys(ctx.arms["scenario"]):
        if scen == ctx.baseline:
            continue
        arms_ = list(ctx.arms.loc[ctx.arms["scenario"] == scen, "arm"])
        rows = p[p["arm"].isin(arms_) & (p["metric"] == "emergency_person_nights")]
        if rows.empty:
            out[scen] = "No baseline counterpart was found to pair it with."
            continue
        cells = [f"at {short.get(r['arm'], r['arm']).removeprefix(scen + ' · ')}: {_ci_text(r)}" for _, r in rows.iterrows()]
        out[scen] = (
            f"Emergency shelter (person-nights in the window) against {ctx.baseline} at the same values of the other factors — "
            + "; ".join(cells)
            + "."
        )
    return out


KEY_METRICS = (
    "emergency_person_nights",
    "emergency_persons_per_night",
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
        if len(ctx.arm_names) > 1:  # design points of one scenario: the spread of their means
            means = s.groupby("arm").mean(numeric_only=True)
            for m in HEADLINE_METRICS:
                if m in means:
                    v = means[m].dropna().to_numpy(float)
                    if len(v) == 0:
                        continue
                    rows.append(
                        {
                            "metric": _table_label(m),
                            "lowest design point": _fmt(v.min(), m),
                            "5 %": _fmt(np.quantile(v, 0.05), m),
                            "median": _fmt(np.quantile(v, 0.5), m),
                            "95 %": _fmt(np.quantile(v, 0.95), m),
                            "highest": _fmt(v.max(), m),
                        }
                    )
            return pd.DataFrame(rows)
        for m in HEADLINE_METRICS:
            if m in s:
                iv = an.bounded_mean_ci(s[m].to_numpy(float), an.metric_support(m))
                rows.append(
                    {"metric": _table_label(m), "mean": _fmt(iv.mean, m), "95 % CI": f"{_fmt(iv.low, m)} to {_fmt(iv.high, m)}"}
                )
        return pd.DataFrame(rows)
    rows = []
    short = short_labels(ctx)
    for arm, sub in p.groupby("arm", sort=False):
        sub = sub.set_index("metric")
        row = {
            "scenario": short.get(arm, arm),
            "against": short.get(sub["baseline"].iloc[0], sub["baseline"].iloc[0]),
            "pairs": int(sub["n_pairs"].max()) if int(sub["n_pairs"].max()) else "unpaired",
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


def factor_note(ctx: Context) -> str:
    """How to read the short labels of a sweep: which factor values follow the scenario name."""
    cols = an.varying_factors(ctx.arms)
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


def quantiles_frame(ctx: Context) -> pd.DataFrame:
    """The distribution over replications of a few metrics per scenario, as tables show values."""
    q = ctx.quantiles.copy()
    for c in [c for c in q.columns if c not in ("arm", "metric", "label", "replications")]:  # mean and quantiles
        q[c] = [_fmt(v, m) for v, m in zip(q[c], q["metric"])]
    q["label"] = q["metric"].map(_table_label)
    return q.drop(columns=["metric"]).rename(columns={"arm": "scenario", "label": "metric"})


def _table_label(metric: str) -> str:
    """Label of a metric as tables show it (euros in millions)."""
    text = an.label(metric)
    return text.replace("(EUR)", "(EUR million)") if metric.endswith("_eur") else text


def _fmt(v: float, metric: str, signed: bool = False) -> str:
    """A metric's value as tables show it (euros in millions, shares in per cent)."""
    if v is None or pd.isna(v):
        return "n/a"
    sign = "+" if signed else ""
    if metric.endswith("_eur"):
        return f"{v / 1e6:{sign},.1f}"
    if metric.startswith("share"):
        return f"{v * 100:{sign}.1f} pp" if signed else f"{v:.1%}"
    return f"{v:{sign},.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:{sign},.2f}"


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


def _period(scen: Scenario | None) -> str:
    if scen is None:
        return ""
    if scen.end_date is not None:
        return f"{scen.start_date} to {scen.end_date}"
    return f"{scen.start_date} + {scen.horizon_years:g} years"


def _first_scenarios(ctx: Context) -> dict[str, Scenario]:
    """Per base scenario, the scenario its first design point with a known scenario ran."""
    out: dict[str, Scenario] = {}
    for name, arm in zip(ctx.arms["scenario"], ctx.arms["arm"]):
        if name not in out and arm in ctx.scenarios:
            out[name] = ctx.scenarios[arm]
    return out


def _sweep_frame(ctx: Context, m: SweepManifest) -> pd.DataFrame:
    """What a sweep ran: one row per base scenario, with its design points and what the scenario changes.

    The design points of one base scenario share the experiment's ``set`` and
    the first design point of every base scenario has the same factor values,
    so comparing first design points shows what the base scenarios change.
    """
    if not m.design_points:
        return pd.DataFrame()
    scen: dict[str, dict] = {}
    for p in m.design_points:
        scen.setdefault(p.scenario, {"file": p.scenario_file, "points": []})["points"].append(p)
    canon = {name: s.canonical() for name, s in _first_scenarios(ctx).items()}
    changes = what_changes(canon, ctx.baseline) if ctx.baseline in canon else {}
    rows = []
    for name, info in scen.items():
        levels: dict[str, list] = {}
        for p in info["points"]:
            for k, v in p.values.items():
                if v not in levels.setdefault(k, []):
                    levels[k].append(v)
        levels = {k: sorted(v) if all(isinstance(x, (int, float)) for x in v) else v for k, v in levels.items()}
        rows.append(
            {
                "scenario": name,
                "file": info["file"],
                "description": canon[name]["description"] if name in canon else "",
                f"what it changes vs {ctx.baseline}": changes.get(name, "") if name in canon else "(unknown: see the notes)",
                "design points": len(info["points"]),
                "factor values": "; ".join(_levels_text(k, v) for k, v in levels.items()),
            }
        )  # replications, root seed and version are the sweep's, stated once above the table
    return pd.DataFrame(rows)


def _levels_text(key: str, values: list) -> str:
    """A factor's values as the 'what was run' table shows them: up to 6 levels, else the range sampled."""
    short = key.split(".")[-1]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if len(values) <= 6 or not numeric:
        return f"{short} = {', '.join(an.format_value(v) for v in values[:6])}" + (" …" if len(values) > 6 else "")
    return f"{short}: {len(values)} values from {an.format_value(min(values))} to {an.format_value(max(values))}"


def runs_frame(ctx: Context) -> pd.DataFrame:
    """What was run: one row per run (or per base scenario of a sweep) with its file, period, changes and seeds."""
    if isinstance(ctx.results.manifest, SweepManifest):
        sweep = _sweep_frame(ctx, ctx.results.manifest)
        if len(sweep):
            return sweep
    manifests = an.run_manifests(ctx.results)
    order = list(dict.fromkeys(ctx.arms["scenario"]))  # the baseline first, then the order given
    manifests = dict(sorted(manifests.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    first = _first_scenarios(ctx)
    canon = {name: s.canonical() for name, s in first.items()}
    changes = what_changes(canon, ctx.baseline) if ctx.baseline in canon else {}
    summary = ctx.results.summary
    rows = []
    for name, m in manifests.items():
        sweep = isinstance(m, SweepManifest)
        seeds = [] if sweep else list(m.seeds)
        if not seeds and "seed" in summary:  # a sweep records its seeds in the summary rows
            seeds = list(summary.loc[summary["scenario"] == name].sort_values("replication")["seed"].drop_duplicates())
        if sweep and m.factors:
            changed = "factors: " + ", ".join(m.factors)
        else:
            changed = changes.get(name, "(unknown: see the notes)")
        rows.append(
            {
                "name": name,
                "kind": "study arm" if sweep and not m.factors else m.kind,
                "file": m.experiment_file if sweep else m.scenario_file,
                "period": _period(first.get(name)),
                "what it changes vs " + ctx.baseline: changed,
                "replications": m.replications,
                "root seed": m.root_seed,
                "seeds": ", ".join(map(str, seeds[:2])) + (" …" if len(seeds) > 2 else ""),
                "version": m.package_version,
                "made": (m.created if sweep else m.finished)[:16].replace("T", " "),
            }
        )
    return pd.DataFrame(rows)


def risk_spread_frame(ctx: Context) -> pd.DataFrame:
    """For many arms: per event, the lowest, median and highest probability over the arms."""
    g = ctx.risk.groupby("event", sort=False)["probability"]
    return pd.DataFrame(
        {
            "event": list(g.groups),
            "lowest arm": [f"{v:.0%}" for v in g.min()],
            "median over arms": [f"{v:.0%}" for v in g.median()],
            "highest arm": [f"{v:.0%}" for v in g.max()],
        }
    )


def year_frame(ctx: Context, event: str) -> pd.DataFrame:
    """One per-year event: scenarios as rows, calendar years as columns, cells 'P (k/n)'."""
    r = ctx.risk_by_year[ctx.risk_by_year["event"] == event]
    short = short_labels(ctx)
    r = r.assign(
        cell=[f"{p:.0%} ({k}/{n})" for p, k, n in zip(r["probability"], r["with_event"], r["replications"])],
        year_label=[str(y) if d >= 365 else f"{y} ({d} d)" for y, d in zip(r["year"], r["days"])],
    )
    wide = r.pivot(index="arm", columns="year_label", values="cell")
    wide = wide.reindex(index=[a for a in ctx.arm_names if a in wide.index], columns=list(dict.fromkeys(r["year_label"])))
    wide.index = [short.get(a, a) for a in wide.index]
    wide.columns.name = None
    return wide.reset_index(names="scenario")


def first_overflow_frame(ctx: Context) -> pd.DataFrame:
    """Time to Ter Apel's first day above its norm per scenario, as the page shows it."""
    f = ctx.first_overflow
    short = short_labels(ctx)

    def days(v: float) -> str:
        return "after the window" if not np.isfinite(v) else f"{v:,.0f}"

    return pd.DataFrame(
        {
            "scenario": [short.get(a, a) for a in f["arm"]],
            "replications that overflowed": [f"{k} of {n}" for k, n in zip(f["overflowed"], f["replications"])],
            "median (days)": [days(v) for v in f["median_days"]],
            "median (date)": ["" if d is None else f"{d:%d %b %Y}" for d in f["median_date"]],
            "5 % (days)": [days(v) for v in f["p05_days"]],
            "95 % (days)": [days(v) for v in f["p95_days"]],
        }
    )


def sensitivity_frame(ctx: Context) -> pd.DataFrame:
    """The sensitivity indices with factors as rows and one column per output and index ('value ± conf')."""
    return an.sensitivity_table(ctx.sensitivity)
