"""The report's words and tables: what was run, the headline comparison, plain-language paragraphs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import analysis as an
from sim.analysis.stats import mean_ci
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
                mean, lo, hi = mean_ci(s[m].to_numpy(float))
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


def _first_scenarios(ctx: Context) -> dict[str, Scenario]:
    """Per base scenario, the scenario its first design point with a known scenario ran."""
    out: dict[str, Scenario] = {}
    for name, arm in zip(ctx.arms["scenario"], ctx.arms["arm"]):
        if name not in out and arm in ctx.scenarios:
            out[name] = ctx.scenarios[arm]
    return out


def _sweep_frame(ctx: Context, m: dict) -> pd.DataFrame:
    """What a sweep ran: one row per base scenario, with its design points and what the scenario changes.

    The design points of one base scenario share the experiment's ``set`` and
    the first design point of every base scenario has the same factor values,
    so comparing first design points shows what the base scenarios change.
    """
    points = (m.get("resolved") or {}).get("design_points") or []
    if not points:
        return pd.DataFrame()
    scen: dict[str, dict] = {}
    for p in points:
        scen.setdefault(p["scenario"], {"file": p["scenario_file"], "points": []})["points"].append(p)
    canon = {name: s.canonical() for name, s in _first_scenarios(ctx).items()}
    changes = what_changes(canon, ctx.baseline) if ctx.baseline in canon else {}
    rows = []
    for name, info in scen.items():
        levels: dict[str, list] = {}
        for p in info["points"]:
            for k, v in p["values"].items():
                if v not in levels.setdefault(k, []):
                    levels[k].append(v)
        rows.append(
            {
                "scenario": name,
                "file": info["file"],
                "description": canon[name]["description"] if name in canon else "",
                f"what it changes vs {ctx.baseline}": changes.get(name, "") if name in canon else "(unknown: see the notes)",
                "design points": len(info["points"]),
                "factor values": "; ".join(
                    f"{k} = {', '.join(map(str, v[:12]))}" + (" …" if len(v) > 12 else "") for k, v in levels.items()
                ),
            }
        )  # replications, root seed and version are the sweep's, stated once above the table
    return pd.DataFrame(rows)


def runs_frame(ctx: Context) -> pd.DataFrame:
    """What was run: one row per run (or per base scenario of a sweep) with its file, period, changes and seeds."""
    if (ctx.results.manifest or {}).get("kind") == "sweep":
        sweep = _sweep_frame(ctx, ctx.results.manifest)
        if len(sweep):
            return sweep
    manifests = an.run_manifests(ctx.results)
    canon = {name: s.canonical() for name, s in _first_scenarios(ctx).items()}
    changes = what_changes(canon, ctx.baseline) if ctx.baseline in canon else {}
    rows = []
    for name, m in manifests.items():
        seeds = m.get("seeds") or []
        if m.get("kind") == "sweep":
            changed = "factors: " + ", ".join(m.get("factors", []))
        else:
            changed = changes.get(name, "(unknown: see the notes)")
        rows.append(
            {
                "name": name,
                "kind": m.get("kind", "?"),
                "file": m.get("scenario_file") or m.get("experiment_file") or "",
                "period": _period(canon.get(name, {})),
                "what it changes vs " + ctx.baseline: changed,
                "replications": m.get("replications", ""),
                "root seed": m.get("root_seed", ""),
                "seeds": ", ".join(map(str, seeds[:3])) + (" …" if len(seeds) > 3 else ""),
                "version": m.get("package_version", ""),
                "finished": str(m.get("finished", ""))[:19],
            }
        )
    return pd.DataFrame(rows)
