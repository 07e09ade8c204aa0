"""Calibration diagnostics in the report, for results whose runs drew their parameters from a posterior.

The report page says which posterior the runs used and how well it was
determined (a short section), and ``calibration.html`` next to it (also
self-contained) shows, for each posterior the runs used (named in their
manifests with its SHA-256), what the calibration wrote next to it (``calibration/<name>/``):
the posterior's marginals against the priors, the pairwise correlations of the
parameters, the posterior predictive check against the calibration data (the
last generation's simulated values at the observed points, ``predictive.parquet``),
the effective sample size per generation, and how many distinct particles the
replications took.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.runs import run_manifests
from sim.analysis.stats import effective_sample_size, weighted_quantiles
from sim.files import file_digest
from sim.posterior import WEIGHT, parameter_keys
from sim.report.figures import Drawn, _figure, save_page
from sim.store import Results


@dataclass
class Used:
    """A posterior the runs drew from: its file, digest, and the replications' particles."""

    path: Path
    sha256: str
    particles: list[int]


def posteriors_used(results: Results) -> list[Used]:
    """The posteriors named in the manifests of what was run (``posteriors``: path -> SHA-256)."""
    found: dict[str, str] = {}
    for m in run_manifests(results).values():
        found.update(getattr(m, "posteriors", {}) or {})
    particles = results.summary["particle"].dropna().astype(int).tolist() if "particle" in results.summary else []
    return [Used(Path(p), d, particles) for p, d in found.items()]


def _weighted_corr(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = w / w.sum()
    mean = w @ x
    d = x - mean
    cov = (d * w[:, None]).T @ d
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.outer(sd, sd)


def _save(fig, name: str, caption: str, out: Path, svg: bool) -> Drawn:
    """The figure as the report's others are written: PNG (and SVG with ``svg``) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return save_page(fig, name, caption, out, svg)


def fig_marginals(posterior: pd.DataFrame, priors: list[dict]):
    """One panel per parameter: the weighted posterior histogram against the prior's density."""
    from sim.calibration.priors import Prior

    keys = parameter_keys(posterior)
    w = posterior[WEIGHT].to_numpy(float)
    by_key = {p["key"]: Prior.model_validate(p) for p in priors}
    cols = 4
    rows = int(np.ceil(len(keys) / cols))
    fig = _figure(12, 2.4 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, key in zip(axes, keys):
        x = posterior[key].to_numpy(float)
        prior = by_key.get(key)
        lo, hi = (prior.low, prior.high) if prior else (x.min(), x.max())
        ax.hist(x, bins=20, range=(lo, hi), weights=w, density=True, color="tab:blue", alpha=0.6, label="posterior")
        if prior:
            grid = np.linspace(lo, hi, 200)
            ax.plot(grid, prior.scipy().pdf(grid), color="black", lw=1.2, label="prior")
        ax.set_title(key.split(".", 1)[-1], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    return fig


def fig_correlations(corr: np.ndarray, keys: list[str]):
    fig = _figure(8, 7)
    ax = fig.subplots()
    im = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    short = [k.split(".")[-1] for k in keys]
    ax.set_xticks(range(len(keys)), short, rotation=90, fontsize=7)
    ax.set_yticks(range(len(keys)), short, fontsize=7)
    for i in range(len(keys)):
        for j in range(len(keys)):
            if i != j and np.isfinite(corr[i, j]):
                ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8, label="weighted correlation")
    return fig


def predictive_check(predictive: pd.DataFrame, targets: dict) -> pd.DataFrame:
    """Per observed point: observed value, the posterior predictive median and 90 % band, and whether it covers it."""
    w = predictive[WEIGHT].to_numpy(float)
    rows = []
    for date, measure, observed, lower in zip(targets["date"], targets["measure"], targets["observed"], targets["lower_bound"]):
        col = f"{measure}@{date}"
        if col not in predictive:
            continue
        q05, q50, q95 = weighted_quantiles(predictive[col].to_numpy(float), w, (0.05, 0.5, 0.95))
        inside = bool(q95 >= observed) if lower else bool(q05 <= observed <= q95)
        rows.append(
            {
                "date": date,
                "measure": measure,
                "observed": (">" if lower else "") + f"{observed:,.0f}",
                "median": round(float(q50)),
                "90 % band": f"{q05:,.0f}–{q95:,.0f}",
                "inside": "yes" if inside else "no",
            }
        )
    return pd.DataFrame(rows)


def fig_predictive(predictive: pd.DataFrame, targets: dict):
    """Per measure: the observed points and the posterior predictive median and 90 % band at each."""
    w = predictive[WEIGHT].to_numpy(float)
    frame = pd.DataFrame(targets)
    measures = list(dict.fromkeys(frame["measure"]))
    cols = 2
    rows = int(np.ceil(len(measures) / cols))
    fig = _figure(11, 2.8 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, measure in zip(axes, measures):
        sub = frame[frame["measure"] == measure]
        dates = pd.to_datetime(sub["date"])
        qs = np.array(
            [weighted_quantiles(predictive[f"{measure}@{d}"].to_numpy(float), w, (0.05, 0.5, 0.95)) for d in sub["date"]]
        )
        ax.vlines(dates, qs[:, 0], qs[:, 2], color="tab:blue", alpha=0.5, lw=4, label="predictive 90 % band")
        ax.scatter(dates, qs[:, 1], color="tab:blue", s=14, label="predictive median")
        lower = sub["lower_bound"].to_numpy(bool)
        ax.scatter(dates[~lower], sub["observed"][~lower], color="black", marker="x", s=20, label="observed")
        ax.scatter(dates[lower], sub["observed"][lower], color="black", marker="^", s=20, label="observed lower bound")
        ax.set_title(measure, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(measures) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    return fig


PAGE = "calibration.html"


def calibration_page(parts: list[str], drawn: list[Drawn], title: str) -> str:
    """``calibration.html``: the diagnostics with their figures embedded (self-contained, as the report)."""
    import base64

    from sim.report.html import CSS

    e = html.escape
    figures = [
        f'<figure id="fig-{e(d.name)}"><img src="data:image/png;base64,{base64.b64encode(d.png).decode("ascii")}" '
        f'alt="{e(d.caption)}"><figcaption>{e(d.caption)}</figcaption></figure>'
        for d in drawn
    ]
    head = f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>'
    return "\n".join([head, f"<h1>{e(title)}</h1>", *parts, "<h2>Figures</h2>", *figures, "</body>", "</html>"]) + "\n"


def calibration_sections(results: Results, out: Path, svg: bool = False) -> tuple[list[str], list[str], list[Drawn], list[str]]:
    """The report page's short section, ``calibration.html``'s sections, its figures and notes ([] when no run
    used a posterior)."""
    e = html.escape
    summary: list[str] = []
    parts: list[str] = []
    drawn: list[Drawn] = []
    notes: list[str] = []
    for k, used in enumerate(posteriors_used(results)):
        parts.append(f"<h2>Calibration: {e(used.path.parent.name)}</h2>")
        if not used.path.exists():
            notes.append(f"the posterior {used.path} the runs used is no longer there: no calibration diagnostics")
            continue
        digest = file_digest(used.path)
        posterior = pd.read_parquet(used.path)
        manifest_path = used.path.parent / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        ident = manifest.get("identity", {})
        w = posterior[WEIGHT].to_numpy(float)
        distinct = len(set(used.particles))
        text = (
            f"The runs drew their parameters from <code>{e(str(used.path))}</code> (SHA-256 {e(used.sha256[:12])}"
            + ("" if digest == used.sha256 else f"; the file has changed since: now {e(digest[:12])}")
            + f"): {len(posterior)} particles, effective sample size {effective_sample_size(w):.0f}"
        )
        if ident:
            text += (
                f", calibrated on {e(str(ident.get('scenario_name')))} with observations up to {e(str(ident.get('cut_off')))}, "
                f"population {ident.get('population')}, seed {ident.get('seed')}"
            )
        text += f". The {len(used.particles)} replications took {distinct} distinct particles."
        parts.append(f"<p>{text}</p>")
        summary += [
            f"<h2>Calibration: {e(used.path.parent.name)}</h2>",
            f'<p>{text} Diagnostics (generations, marginals against priors, correlations, the posterior predictive check): <a href="{PAGE}">{PAGE}</a>.</p>',
        ]
        gens = manifest.get("generation_table") or []
        if gens:
            g = pd.DataFrame(gens).round({"epsilon": 4, "acceptance_rate": 3, "ess": 1})
            parts += ["<h3>Generations</h3>", g.to_html(index=False, border=0)]
        priors = (ident.get("priors") or {}).get("prior", [])
        suffix = f"_{k}" if k else ""
        drawn.append(
            _save(
                fig_marginals(posterior, priors),
                f"calibration_marginals{suffix}",
                "Posterior marginals (weighted histograms) against the priors (lines)",
                out,
                svg,
            )
        )
        keys = parameter_keys(posterior)
        corr = _weighted_corr(posterior[keys].to_numpy(float), w)
        drawn.append(
            _save(
                fig_correlations(corr, keys),
                f"calibration_correlations{suffix}",
                "Pairwise weighted correlations of the posterior",
                out,
                svg,
            )
        )
        pairs = [(keys[i], keys[j], corr[i, j]) for i in range(len(keys)) for j in range(i + 1, len(keys))]
        strong = sorted((p for p in pairs if np.isfinite(p[2])), key=lambda p: -abs(p[2]))[:8]
        parts += [
            "<h3>Strongest pairwise correlations</h3>",
            pd.DataFrame(strong, columns=["parameter", "parameter ", "correlation"]).round(2).to_html(index=False, border=0),
        ]
        pred_path = used.path.parent / "predictive.parquet"
        targets = manifest.get("targets")
        if pred_path.exists() and targets:
            predictive = pd.read_parquet(pred_path)
            check = predictive_check(predictive, targets)
            share = (check["inside"] == "yes").mean() if len(check) else float("nan")
            parts += [
                "<h3>Posterior predictive check against the calibration data</h3>",
                f'<p class="note">The last generation\'s runs at the observed points up to the cut-off (one replication per particle): '
                f"{share:.0%} of the points lie inside the weighted 90 % band (a lower bound counts as inside when the band reaches it).</p>",
                check.to_html(index=False, border=0),
            ]
            drawn.append(
                _save(
                    fig_predictive(predictive, targets),
                    f"calibration_predictive{suffix}",
                    "Posterior predictive check: observed points against the predictive median and 90 % band",
                    out,
                    svg,
                )
            )
        else:
            notes.append(f"no predictive.parquet or targets next to {used.path}: no posterior predictive check")
    return summary, parts, drawn, notes
