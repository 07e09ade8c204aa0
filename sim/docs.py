"""Generated documentation: ``python -m sim.docs`` rewrites docs/parameters.md and docs/validation.md.

``parameters.md`` is built from the scenario schema (:func:`sim.scenario.field_docs`):
every key with its unit, default, allowed range, description and the source of
its default. ``validation.md`` holds the back-test table and figure (20
replications through 2022), the warm-start calibration (read from
``calibration/backtest_2015_2022/``), the rolling-origin evaluation (read from
the stored results in ``docs/evaluation/``: generating the page never re-runs a
calibration) and the verification results (sim.verification).

``python -m sim.docs --parameters`` rewrites only parameters.md (fast);
``tests/test_docs.py`` checks that the committed file equals what this makes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

from sim.params import DATA_PATTERN, KIND_PATTERN, SECTION_PATTERN
from sim.scenario import field_docs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

SOURCES_MD = DOCS / "sources.md"


def heading_anchor(heading: str) -> str:
    """The id GitHub gives a markdown heading: lowercase, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def source_anchors(path: Path = SOURCES_MD) -> list[str]:
    """The heading ids of docs/sources.md, in order (what `sources §<anchor>` may cite)."""
    in_code = False
    anchors = []
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (m := re.match(r"#{1,6} +(.+?) *#*$", line)):
            anchors.append(heading_anchor(m.group(1)))
    return anchors


def source_markdown(source: str) -> str:
    """A parameter's source with its citations as links: sources.md anchors, sim/data files, the kind."""
    text = SECTION_PATTERN.sub(lambda m: f"[{m.group(0)}](sources.md#{m.group(1)})", source)
    text = DATA_PATTERN.sub(lambda m: f"[{m.group(0)}](../sim/{m.group(0)})", text)
    if kind := KIND_PATTERN.match(text):
        text = f"[{kind.group(0)}](sources.md#{heading_anchor(kind.group(0))})" + text[kind.end() :]
    return text


def _fmt(value) -> str:
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return "(section)"
    if isinstance(value, list):
        if value and hasattr(value[0], "model_dump"):
            return f"{len(value)} item(s)"
        return json.dumps(value, default=str)
    if isinstance(value, tuple):
        return json.dumps(list(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def parameters_markdown() -> str:
    """docs/parameters.md: one table row per scenario key."""
    rows = field_docs()
    lines = [
        "# Scenario parameters",
        "",
        "Generated from the scenario schema by `python -m sim.docs` — do not edit by hand.",
        "",
        "Every default names its source: `sources §…` is a section of [sources.md](sources.md)",
        "(each figure with its publisher, date and confidence), `data/…` a file in `sim/data/`",
        "(see [SOURCES.md](../sim/data/SOURCES.md)), and a source that starts with `estimate`,",
        "`fitted`, `scenario choice` or `model choice` says which kind of value it is (see",
        "[Modelling choices](sources.md#modelling-choices)). Keys ending in `[]` are fields of",
        "each item of a list.",
        "",
        "| key | unit | default | range | description | source |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f"`{r['key']}`",
                    r["unit"],
                    _fmt(r["default"]),
                    r["bounds"],
                    r["description"],
                    source_markdown(r["source"]),
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def write_parameters(path: Path = DOCS / "parameters.md") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(parameters_markdown())
    return path


def validation_markdown(replications: int = 20, seed: int = 1) -> str:
    """docs/validation.md: back-test table and figure, and the verification checks."""
    from sim import backtest, verification
    from sim.scenario import load_scenario

    scenario = load_scenario(backtest.DEFAULT_SCENARIO)
    ts = backtest.run_replications(scenario, replications, seed)
    table = backtest.compare(ts, backtest.load_observations())
    backtest.draw(ts, table, DOCS / "backtest.png")
    ep = backtest.ter_apel_episode(ts)
    checks = verification.all_checks()
    lines = [
        "# Validation",
        "",
        "Generated by `python -m sim.docs` — do not edit by hand.",
        "",
        "## Back-test: 2022",
        "",
        f"`opvangsim backtest` ({replications} replications, root seed {seed}): `scenarios/backtest_2022.toml` from the",
        "observed state of 1 January 2022, replaying observed monthly inflow, IND production and housing",
        "(`sim/data/history/`, sources in `sim/data/SOURCES.md`). Its behaviour parameters are drawn from the",
        "warm-start posterior (below; calibrated on 2015–2022 from the 2015 back-test, so 2022 is in sample):",
        "each replication takes the particle its seed draws, so the band carries parameter uncertainty.",
        "Error = simulated median − observed; `~` approximate, `>` lower bound.",
        "",
        "| date | measure | observed | median | 90 % band | error | error % | P(>0) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        mark = {"approximate": "~", "lower_bound": ">"}.get(r.kind, "")
        lines.append(
            f"| {r.date} | {r.measure} | {mark}{r.observed:,.0f} | {r.median:,.0f} | {r.p05:,.0f}–{r.p95:,.0f} | {r.error:+,.0f} | {100 * r.rel_error:+.1f} % | {r.share_positive:.2f} |"
        )
    if ep:
        lines += [
            "",
            f"Ter Apel, {ep['period']}: above the norm in {ep['share_reps_above_norm']:.0%} of replications; people sleeping outside "
            f"in {ep['share_reps_outside']:.0%} (median {ep['median_nights_outside']:.0f} nights, median peak {ep['median_peak_outside']:.0f} persons).",
        ]
    lines += [
        "",
        "![back-test](backtest.png)",
        "",
    ]
    lines += calibration_markdown().splitlines()
    lines += [""] + rolling_origin_markdown().splitlines()
    lines += [
        "",
        "## Verification against theory",
        "",
        "`pytest -m verification` asserts these; each runs with a fixed seed and the stated tolerance (sim/verification.py).",
        "",
        "| check | theory | simulated | tolerance | unit | pass | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in checks:
        lines.append(
            f"| {_cell(c.name)} | {c.theory:.4g} | {c.simulated:.4g} | ±{c.tolerance:.3g} | {c.unit} | {'yes' if c.passed else 'NO'} | {_cell(c.detail)} |"
        )
    return "\n".join(lines) + "\n"


WARM_START = ROOT / "calibration" / "backtest_2015_2022"


def calibration_markdown(directory: Path = WARM_START) -> str:
    """The warm-start calibration: its budget, wall time, generations and the posterior (means, 90 % intervals)."""
    import pandas as pd

    from sim.calibration.run import posterior_summary

    manifest = json.loads((directory / "manifest.json").read_text())
    ident = manifest["identity"]
    posterior = pd.read_parquet(directory / "posterior.parquet")
    rel = directory.relative_to(ROOT).as_posix()
    lines = [
        "## Calibration: the warm start",
        "",
        f"`{manifest.get('command', 'opvangsim calibrate')}` fitted the behaviour parameters of the chain with ABC-SMC",
        f"(pyabc) to the shipped observations from {ident['scenario_name']}'s start up to {ident['cut_off']} (nothing later:",
        "those years are held out), one replication per particle, population",
        f"{ident['population']} × {manifest['generations']} generations, seed {ident['seed']} (`{rel}/`, the pyabc database not",
        f"committed). Priors: `calibration/priors.toml`, each range with its source. Wall time "
        f"{manifest.get('wall_seconds_this_session', float('nan')) / 60:.0f} min for {manifest.get('simulations_this_session', '?')} runs"
        " on the two shared cores of the development machine (other jobs were running).",
        "",
        "| generation | epsilon | particles | evaluations | acceptance | effective sample size |",
        "|---|---|---|---|---|---|",
    ]
    for g in manifest["generation_table"]:
        lines.append(
            f"| {g['generation']} | {g['epsilon']:.4g} | {g['particles']} | {g['evaluations']} | {g['acceptance_rate']:.0%} | {g['ess']:.0f} |"
        )
    lines += [
        "",
        "The posterior (weighted mean, median and 90 % credible interval per parameter):",
        "",
        "| parameter | mean | median | 90 % interval |",
        "|---|---|---|---|",
    ]
    for r in posterior_summary(posterior).itertuples(index=False):
        lines.append(f"| `{r.key}` | {r.mean:.4g} | {r.median:.4g} | {r.q05:.4g} – {r.q95:.4g} |")
    lines += [
        "",
        "`scenarios/baseline.toml` and `scenarios/backtest_2022.toml` draw their parameters from this posterior",
        "(`[parameters] posterior`): replication r takes the particle its seed draws by weight, so every band",
        "carries what history leaves unknown and paired comparisons stay paired.",
    ]
    return "\n".join(lines) + "\n"


def rolling_origin_markdown() -> str:
    """The rolling-origin evaluation from the stored results in docs/evaluation/ (nothing is run)."""
    import pandas as pd

    from sim.calibration.evaluate import POINTS_FILE, SETTINGS_FILE, summary_table

    points = pd.read_csv(POINTS_FILE)
    settings = pd.read_csv(SETTINGS_FILE)
    table = summary_table(points)
    budget = settings.iloc[0]
    lines = [
        "## Rolling-origin evaluation",
        "",
        "`opvangsim backtest --evaluate`: for each origin (the ends of "
        + ", ".join(str(o)[:4] for o in settings["origin"])
        + f"), `{budget['scenario']}` was calibrated on the observations up to the origin only, with a smaller budget than the",
        f"default (population {budget['population']} × {budget['generations']} generations, seed {budget['seed']}), then run from",
        "2015 with that posterior (one replication per particle) to 24 months after the origin, and scored against every",
        "shipped observation after the origin (never after 2022; lower bounds are not scored). The forecast at the origin is",
        "the model's own state there, driven by the replayed inputs, not the observed state. References: persistence (the",
        "last observation of the measure on or before the origin) and seasonal naive (the observation nearest to a year",
        "before the target, within 45 days, on or before the origin); a point forecast's CRPS is its absolute error.",
        "CRPS is divided by the observed value so that measures of different sizes average; each reference is compared",
        "with the model on the points where that reference exists. Stored results: `docs/evaluation/`.",
        "",
        "| origin | horizon (months) | points | in 50 % band | in 90 % band | MdAPE | CRPS/obs | points with persistence | model CRPS/obs there | persistence | points with seasonal | model there | seasonal |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def f(x: float) -> str:
        return "–" if pd.isna(x) else f"{x:.3f}"

    for r in table.itertuples(index=False):
        lines.append(
            f"| {r.origin} | ≤ {r.horizon_months} | {r.points} | {r.coverage_50:.0%} | {r.coverage_90:.0%} | {r.mdape:.1%} | {f(r.rel_crps)} | "
            f"{r.points_persistence} | {f(r.rel_crps_on_persistence_points)} | {f(r.rel_crps_persistence)} | "
            f"{r.points_seasonal} | {f(r.rel_crps_on_seasonal_points)} | {f(r.rel_crps_seasonal)} |"
        )
    allp = points
    lines += [
        "",
        f"Over all {len(allp)} scored points: {allp['in_90'].mean():.0%} inside the 90 % band, {allp['in_50'].mean():.0%} inside",
        f"the 50 % band, median absolute percentage error of the median {allp['ape'].median():.1%}.",
        "",
        "![rolling-origin forecasts](rolling_origin.png)",
    ]
    return "\n".join(lines) + "\n"


def draw_rolling_origin(path: Path = DOCS / "rolling_origin.png") -> Path:
    """Forecast fans against the observed points, one column per origin (docs/evaluation/ results)."""
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.backtest import LABELS, load_observations
    from sim.calibration.evaluate import FAN_MEASURES, FANS_FILE

    fans = pd.read_csv(FANS_FILE, parse_dates=["date"])
    obs = load_observations()
    origins = list(dict.fromkeys(fans["origin"]))
    fig = Figure(figsize=(4.2 * len(origins), 6.5), layout="constrained")
    axes = fig.subplots(len(FAN_MEASURES), len(origins), squeeze=False)
    for j, origin in enumerate(origins):
        T = pd.Timestamp(origin)
        for i, measure in enumerate(FAN_MEASURES):
            ax = axes[i, j]
            q = fans[(fans["origin"] == origin) & (fans["measure"] == measure)]
            ax.fill_between(q["date"], q["q05"], q["q95"], color="tab:blue", alpha=0.2, lw=0, label="90 % band")
            ax.fill_between(q["date"], q["q25"], q["q75"], color="tab:blue", alpha=0.35, lw=0, label="50 % band")
            ax.plot(q["date"], q["q50"], color="tab:blue", lw=1.2, label="median")
            o = obs[(obs["measure"] == measure) & (obs["date"] >= q["date"].min()) & (obs["date"] <= q["date"].max())]
            before, after = o[o["date"] <= T], o[o["date"] > T]
            ax.scatter(before["date"], before["value"], color="grey", s=14, zorder=3, label="observed (calibration)")
            ax.scatter(after["date"], after["value"], color="black", s=18, zorder=3, label="observed (scored)")
            ax.axvline(T, color="black", lw=0.8, ls="--")
            ax.set_title(f"{LABELS[measure]}, origin {origin}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.savefig(path, dpi=100)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.docs", description="regenerate docs/parameters.md and docs/validation.md"
    )
    parser.add_argument("--parameters", action="store_true", help="only docs/parameters.md (fast)")
    parser.add_argument("--replications", type=int, default=20, help="back-test replications for validation.md (default 20)")
    args = parser.parse_args(argv)
    print(f"wrote {write_parameters()}")
    if not args.parameters:
        path = DOCS / "validation.md"
        path.write_text(validation_markdown(args.replications))
        draw_rolling_origin()
        print(f"wrote {path}, {DOCS / 'backtest.png'} and {DOCS / 'rolling_origin.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
