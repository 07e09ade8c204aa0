"""The answer to a proposal: its numbers (computed once, kept as JSON), in words (Dutch or English), and its figures.

:func:`make` reads a finished proposal's results (the study's two arms),
computes what the page says — emergency shelter in persons per night and
person-nights, Ter Apel's days above its norm per calendar year, sleeping
outside, moves per person, cost, the share of the task realised by the
deadline, each with its 95 % interval and its paired difference from the
starting point — draws the three figures in both languages and writes it all
next to the results (``answer.json``, ``figures/<lang>/*.png``). :func:`words`
turns those numbers into sentences; the threshold of "more than N days a year"
is applied there, so changing it needs no new run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sim.app import i18n
from sim.app.i18n import t

FIGURES = ("occupancy_fan", "ter_apel", "capacity_pipeline")
METRICS = (  # summary metrics of the answer: each arm's mean and interval, and the paired difference
    "emergency_persons_per_night",
    "emergency_person_nights",
    "peak_emergency_occupancy",
    "ac_days_above_norm",
    "person_nights_outside",
    "nights_anyone_outside",
    "moves_per_person",
    "cost_eur_per_year",
    "total_cost_eur",
    "share_realised_by_deadline",
)


def _num(v: Any) -> float | None:
    """A number for JSON: nan and missing as None."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _f(v: float | None) -> float:
    return math.nan if v is None else float(v)


def make(staged: Any) -> dict:
    """Compute the answer of a finished proposal (:class:`sim.app.proposal.Staged`), draw its figures, write both; return it."""
    import numpy as np
    import pandas as pd

    from sim import analysis as an
    from sim.analysis.arms import metric_support

    prep = an.prepare(staged.results, staged.baseline)
    s = prep.results.summary
    arms = {"baseline": staged.baseline, "proposal": staged.proposal}
    paired = an.paired_comparison(prep.results, staged.baseline, metrics=METRICS).set_index("metric")
    metrics: dict[str, Any] = {}
    for metric in METRICS:
        if metric not in s:
            continue
        entry: dict[str, Any] = {}
        for role, name in arms.items():
            v = s.loc[s["scenario"] == name, metric].to_numpy(float)
            iv = an.bounded_mean_ci(v, metric_support(metric))
            entry[role] = [_num(iv.mean), _num(iv.low), _num(iv.high)]
            entry[f"{role}_with_any"] = int(np.sum(v > 0))
        if metric in paired.index:
            row = paired.loc[metric]
            entry["diff"] = [_num(row["mean_diff"]), _num(row["ci_low"]), _num(row["ci_high"])]
            entry["n_pairs"] = int(row["n_pairs"])
        metrics[metric] = entry
    window = prep.windows.get(staged.proposal)
    ts = prep.results.timeseries
    by_year: dict[str, dict[str, list[int]]] = {}
    year_days: dict[str, int] = {}
    if window is not None and "ac_above_norm" in ts:
        dates = pd.to_datetime(ts["date"])
        inside = ts[(dates >= pd.Timestamp(window.first)) & (dates < pd.Timestamp(window.end))]
        inside = inside.assign(year=pd.to_datetime(inside["date"]).dt.year, above=inside["ac_above_norm"].to_numpy() > 0)
        days = inside.groupby(["scenario", "year", "replication"])["above"].sum()
        for role, name in arms.items():
            if name in days.index.get_level_values(0):
                per_year = days.loc[name]  # (year, replication) -> days above the norm
                by_year[role] = {str(y): [int(x) for x in g.to_numpy()] for y, g in per_year.groupby(level=0)}
        counted = inside[inside["scenario"] == staged.proposal].groupby("year")["date"].nunique()
        year_days = {str(y): int(n) for y, n in counted.items()}
    cycles = prep.results.cycles
    deadlines: list[str] = []
    if not cycles.empty and "deadline" in cycles:
        mine = cycles[cycles["scenario"] == staged.proposal]["deadline"].dropna()
        deadlines = sorted({pd.Timestamp(d).date().isoformat() for d in mine})
    scenario = prep.scenarios.get(staged.proposal)
    first_deadline = _first_deadline(scenario) if scenario is not None else None
    result = {
        "key": staged.key,
        "baseline": staged.baseline,
        "proposal": staged.proposal,
        "replications": staged.replications,
        "root_seed": _root_seed(staged),
        "window": {"first": window.first.isoformat(), "end": window.end.isoformat(), "days": window.days} if window else None,
        "complete": bool(prep.results.complete),
        "completeness": prep.completeness,
        "metrics": metrics,
        "ac_days_by_year": by_year,
        "year_days": year_days,
        "deadlines": deadlines,
        "first_deadline": first_deadline,
        "cycle_enabled": bool(scenario.capacity.spreidingswet.enabled) if scenario is not None else True,
        "changes": list(getattr(staged, "changes", ())),
        "figures": draw(prep, staged),
    }
    text = json.dumps(result, indent=1) + "\n"
    (staged.directory / "answer.json").write_text(text, encoding="utf-8")
    return json.loads(text)  # as a second look reads it


def _root_seed(staged: Any) -> int:
    import tomllib

    with (staged.directory / "study.toml").open("rb") as fh:
        return int(tomllib.load(fh).get("root_seed", 1))


def _first_deadline(scenario: Any) -> str | None:
    """The first realisation deadline of the scenario's cycle (ISO date); None when the cycle is off."""
    from sim.capacity.cycle import add_months

    law = scenario.capacity.spreidingswet
    return add_months(law.first_estimate_date, law.deadline_after_months).isoformat() if law.enabled else None


def load(directory: Path) -> dict:
    """The answer written by :func:`make`."""
    return json.loads((Path(directory) / "answer.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- figures


def draw(prep: Any, staged: Any) -> dict[str, dict[str, str]]:
    """The occupancy fan chart, Ter Apel against its norm and the pipeline of places, as PNG in each language.

    Returns, per figure, the file (relative to the proposal's directory) per language, or ``{"skipped": why}``.
    """
    import io

    from sim import analysis as an
    from sim.report.context import build_context
    from sim.report.figures import fig_occupancy, fig_pipeline, fig_ter_apel

    ctx = build_context(prep, staged.baseline, an.RiskSettings())
    out: dict[str, dict[str, str]] = {}
    for name, fn in zip(FIGURES, (fig_occupancy, fig_ter_apel, fig_pipeline)):
        for lang in i18n.LANGUAGES:
            fig = fn(ctx)  # drawn again per language: the texts are set on the figure
            if isinstance(fig, str):
                out[name] = {"skipped": fig}
                break
            fig = fig[0] if isinstance(fig, list) else fig  # two arms: one page
            _relabel(
                fig,
                lang,
                {staged.baseline: t("arm.start", lang) + f": {staged.baseline}", staged.proposal: t("arm.proposal", lang)},
            )
            target = staged.directory / "figures" / lang / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            target.write_bytes(buf.getvalue())
            out.setdefault(name, {})[lang] = target.relative_to(staged.directory).as_posix()
    return out


def _relabel(fig: Any, lang: str, arms: dict[str, str]) -> None:
    """Every text of a figure in ``lang``, and the arms by their role (starting point, proposal); in Dutch also the
    numbers (60.000) and the month names on the axes."""
    import matplotlib.dates as mdates
    from matplotlib.text import Text
    from matplotlib.ticker import FuncFormatter

    for text in fig.findobj(Text):
        old = text.get_text()
        new = arms.get(old, i18n.figure_text(old, lang))
        if new != old:
            text.set_text(new)
    if lang == "en":
        return

    def month(x: float, pos: int | None = None) -> str:
        d = mdates.num2date(x)
        return str(d.year) if d.month == 1 else i18n.MONTHS_SHORT[lang][d.month - 1]

    for ax in fig.axes:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, pos: i18n.plain(round(y), lang)))
        if isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter):
            ax.xaxis.set_major_formatter(FuncFormatter(month))


# --------------------------------------------------------------------------- words


def _m(answer: dict, metric: str, role: str) -> tuple[float, float, float]:
    v = answer["metrics"].get(metric, {}).get(role) or [None, None, None]
    return _f(v[0]), _f(v[1]), _f(v[2])


def _difference(answer: dict, metric: str, lang: str, fmt, up: str = "more", down: str = "fewer") -> str:
    """The paired difference in words: more/fewer with its interval, or no clear difference."""
    d = answer["metrics"].get(metric, {}).get("diff")
    if not d or d[0] is None:
        return t("diff.unclear", lang, value="–", low="–", high="–")
    mean, low, high = _f(d[0]), _f(d[1]), _f(d[2])
    if mean == 0 and (math.isnan(low) or low == high == 0):
        return t("diff.none", lang)
    if not math.isnan(low) and low > 0:
        return t(f"diff.{up}", lang, value=fmt(mean), low=fmt(low), high=fmt(high))
    if not math.isnan(high) and high < 0:
        return t(f"diff.{down}", lang, value=fmt(-mean), low=fmt(-high), high=fmt(-low))
    sign = "+" if mean > 0 else ""
    return t("diff.unclear", lang, value=sign + fmt(mean), low=fmt(low), high=fmt(high))


def year_risk(answer: dict, n_days: int) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Per arm and calendar year: the share of replications with Ter Apel above its norm on more than ``n_days`` days
    (Wilson interval)."""
    from sim.analysis import proportion_ci

    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for role, years in answer.get("ac_days_by_year", {}).items():
        for year, days in years.items():
            k = sum(d > n_days for d in days)
            out.setdefault(role, {})[year] = proportion_ci(k, len(days))
    return out


def change_text(answer: dict, lang: str) -> str:
    """The levers the proposal changes, in words ('deadline 36 months; IBT enforces: on')."""
    from sim.app import levers as lv

    parts = []
    for name, value in answer.get("changes", []):
        lever = lv.BY_NAME[name]
        if lever.kind == "bool":
            shown = t("on", lang) if value else "–"
        elif lever.kind == "choice":
            shown = t(f"path.{value}", lang)
        elif lever.kind in ("date", "optional_date"):
            shown = i18n.date(value, lang)
        else:
            shown = i18n.plain(value, lang) + " " + t(f"unit.{lv.lever_doc(lever).unit}", lang)
        parts.append(f"{t('lever.' + name, lang).lower()}: {shown}")
    return "; ".join(parts) if parts else t("answer.unchanged", lang)


def _sentence(key: str, answer: dict, metric: str, lang: str, fmt, **more: Any) -> str:
    """The text ``key`` with the proposal's mean and interval of ``metric`` and the starting point's mean, in ``fmt``."""
    value, low, high = _m(answer, metric, "proposal")
    base = _m(answer, metric, "baseline")[0]
    return t(key, lang, value=fmt(value), low=fmt(low), high=fmt(high), base=fmt(base), **more)


def words(answer: dict, lang: str, n_days: int) -> list[str]:
    """The answer as sentences in ``lang``: emergency shelter first, then Ter Apel, sleeping outside, moves, cost and
    the share of the task realised; the last says how it was computed."""
    num = lambda v: i18n.number(v, lang)  # noqa: E731
    eur = lambda v: i18n.money(v, lang)  # noqa: E731
    pct = lambda v: i18n.percent(v, lang)  # noqa: E731
    metrics = answer["metrics"]
    out = [
        _sentence(
            "answer.emergency",
            answer,
            "emergency_persons_per_night",
            lang,
            num,
            proposal=t("answer.proposal", lang),
            changes=change_text(answer, lang),
            start=answer["baseline"],
            diff=_difference(answer, "emergency_persons_per_night", lang, num),
            nights=num(_m(answer, "emergency_person_nights", "proposal")[0]),
            base_nights=num(_m(answer, "emergency_person_nights", "baseline")[0]),
        )
    ]
    risk = year_risk(answer, n_days)
    mine = risk.get("proposal", {})
    if not mine:
        out.append(t("answer.ter_apel_none", lang))
    elif all(p == 0 for arm in risk.values() for p, _, _ in arm.values()):
        out.append(t("answer.ter_apel_never", lang, n=n_days))
    else:
        worst = max(mine, key=lambda y: (mine[y][0], -int(y)))
        p, lo, hi = mine[worst]
        base_p = risk.get("baseline", {}).get(worst, (math.nan,) * 3)[0]
        out.append(t("answer.ter_apel", lang, n=n_days, p=pct(p), year=worst, low=pct(lo), high=pct(hi), base_p=pct(base_p)))
    outside = metrics.get("person_nights_outside", {})
    k, base_k = outside.get("proposal_with_any", 0), outside.get("baseline_with_any", 0)
    if k == 0 and base_k == 0:
        out.append(t("answer.outside_none", lang))
    else:
        out.append(
            _sentence("answer.outside", answer, "person_nights_outside", lang, num, k=k, base_k=base_k, n=answer["replications"])
        )
    out.append(_sentence("answer.moves", answer, "moves_per_person", lang, num))
    diff = _difference(answer, "cost_eur_per_year", lang, eur, "higher", "lower")
    out.append(_sentence("answer.cost", answer, "cost_eur_per_year", lang, eur, diff=diff))
    if not answer.get("cycle_enabled", True):
        out.append(t("answer.share_off", lang))
    elif math.isnan(_m(answer, "share_realised_by_deadline", "proposal")[0]):
        first = answer.get("first_deadline")
        out.append(t("answer.share_none", lang, deadline=i18n.date(first, lang) if first else "–"))
    else:
        out.append(_sentence("answer.share", answer, "share_realised_by_deadline", lang, pct))
    w = answer.get("window")
    window = f"{i18n.date(w['first'], lang)} – {i18n.date(_day_before(w['end']), lang)}" if w else "–"
    out.append(t("answer.how", lang, n=answer["replications"], seed=answer["root_seed"], window=window))
    if answer.get("completeness"):
        out.append(t("answer.incomplete", lang, what=answer["completeness"]))
    return out


def _day_before(iso: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(iso) - dt.timedelta(days=1)).isoformat()


def year_table(answer: dict, lang: str, n_days: int) -> list[list[str]]:
    """Rows (year, days in the window, proposal's chance, starting point's chance) for the table under the answer."""
    risk = year_risk(answer, n_days)
    rows = []
    for year in sorted(answer.get("year_days", {})):
        cells = [year, str(answer["year_days"][year])]
        for role in ("proposal", "baseline"):
            p, lo, hi = risk.get(role, {}).get(year, (math.nan, math.nan, math.nan))
            cells.append(f"{i18n.percent(p, lang)} [{i18n.percent(lo, lang)}–{i18n.percent(hi, lang)}]")
        rows.append(cells)
    return rows
