"""Evaluation windows, honest pairing, completeness and the risk tables that count the window only.

Runs made by ``opvangsim run`` (110 days, the window from 1 February) are
compared with what the summary and the stored daily series say.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import analysis as an
from sim.cli import main as cli_main
from sim.store import Results, load_results

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
SHORT = ["--set", "horizon_years=0.3", "--set", "evaluation.from_date=2026-02-01", "-r", "2", "--quiet"]


def _run(out: Path, *extra: str, scenario: str = BASELINE) -> None:
    assert cli_main(["run", scenario, *SHORT, *extra, "--out", str(out)]) == 0


@pytest.fixture(scope="module")
def terms(tmp_path_factory) -> Path:
    """Runs of 110 days, 2 replications each, made in the order: a variant named to sort last, the baseline, another."""
    d = tmp_path_factory.mktemp("terms")
    _run(d / "z_faster_ind", "--set", "name=z_faster_ind", "--set", "procedure.decisions_per_week=900")
    _run(d / "baseline")
    _run(d / "cycle_4y", scenario=str(ROOT / "scenarios" / "cycle_4y.toml"))
    return d


def _metric_columns(s: pd.DataFrame) -> list[str]:
    return [c for c in an.window.NIGHT_METRICS if c in s] + ["window_first_day", "window_days"]


def test_recomputing_a_runs_own_window_gives_its_summary_to_the_last_digit(terms):
    res = an.load_dir(terms)
    again, window = an.rewindow(res, dt.date(2026, 2, 1), None)
    assert str(window) == "1 February 2026 to 20 April 2026 (79 days)"
    for col in _metric_columns(res.summary):
        assert np.array_equal(again.summary[col].to_numpy(), res.summary[col].to_numpy()), col


def test_a_window_counts_its_days_only(terms):
    """Person-nights of a one-month window are the sum of the daily emergency series over that month."""
    res = an.load_dir(terms)
    june, _ = an.rewindow(res, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    ts = res.timeseries
    for (scen, rep), sub in ts.groupby(["scenario", "replication"]):
        days = sub[(sub["date"] >= "2026-03-01") & (sub["date"] < "2026-03-31")]
        e = (days["occupancy_emergency"] + days["occupancy_crisis"]).to_numpy(float)
        row = june.summary[(june.summary["scenario"] == scen) & (june.summary["replication"] == rep)].iloc[0]
        assert row["window_days"] == 30 == len(days)
        assert row["emergency_person_nights"] == e.sum()
        assert row["peak_emergency_occupancy"] == e.max()
        assert row["ac_days_above_norm"] == (days["ac_above_norm"] > 0).sum()
        assert row["total_cost_eur"] == pytest.approx(days["cost_eur"].sum(), rel=1e-12)
    assert "share_realised_window" not in june.summary  # the yearly checks are not in the series


def test_compare_states_the_window_and_names_scenarios_in_the_order_given(terms, capsys, tmp_path):
    assert cli_main(["compare", str(terms), "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "Evaluation window: 1 February 2026 to 20 April 2026 (79 days)" in out
    # made z_faster_ind, baseline, cycle_4y: the baseline first, then the order they were made (not alphabetical)
    assert out.index("z_faster_ind − baseline") < out.index("cycle_4y − baseline")
    prep = an.prepare(terms)
    assert list(prep.arms["arm"]) == ["baseline", "z_faster_ind", "cycle_4y"]


def test_a_window_outside_the_run_or_a_series_that_cannot_give_it_is_refused(terms, tmp_path, capsys):
    assert cli_main(["compare", str(terms), "--from", "2025-01-01", "--out", str(tmp_path / "x")]) == 2
    assert "does not lie inside the run" in capsys.readouterr().err
    assert cli_main(["compare", str(terms), "--from", "2027-13-01", "--out", str(tmp_path / "x")]) == 2
    assert "--from" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    exp = tmp_path / "monthly.toml"
    exp.write_text(
        f'name = "monthly"\nscenarios = ["{BASELINE}"]\nset = ["horizon_years=0.2"]\nreplications = 1\n'
        '[outputs]\ntimeseries = ["occupancy_emergency", "occupancy_crisis"]\nresolution = "monthly"\n'
    )
    assert cli_main(["sweep", str(exp), "--out", str(tmp_path / "monthly"), "--serial", "--quiet"]) == 0
    capsys.readouterr()
    assert cli_main(["compare", str(tmp_path / "monthly"), "--from", "2026-01-15"]) == 2
    assert "not daily values" in capsys.readouterr().err
    exp.write_text(exp.read_text().replace('"monthly"\n', '"daily"\n').replace('name = "daily"', 'name = "monthly"'))
    assert cli_main(["sweep", str(exp), "--out", str(tmp_path / "daily"), "--serial", "--quiet"]) == 0
    capsys.readouterr()
    assert cli_main(["compare", str(tmp_path / "daily"), "--from", "2026-01-15"]) == 2
    err = capsys.readouterr().err
    assert "lack the column(s)" in err and "ac_above_norm" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "extra, what",
    [
        (["--seed", "7"], "root seeds differ (other: 7; baseline: 1)"),
        (["--set", "horizon_years=0.35"], "the periods simulated differ"),
        (["--set", "evaluation.from_date=2026-03-01"], "the evaluation windows differ"),
        (["-r", "3"], "the replications differ"),
    ],
)
def test_compare_refuses_arms_that_cannot_be_paired_naming_both(terms, tmp_path, capsys, extra, what):
    d = tmp_path / "mixed"
    shutil.copytree(terms / "baseline", d / "baseline")
    _run(d / "other", "--set", "name=other", *extra)
    capsys.readouterr()
    assert cli_main(["compare", str(d), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "cannot pair other" in err and "with baseline" in err and what in err and "--unpaired" in err
    assert "Traceback" not in err and not (tmp_path / "x").exists()
    # asked for, independent samples are compared with Welch's interval
    assert cli_main(["compare", str(d), "--unpaired", "--out", str(tmp_path / "y")]) == 0
    paired = pd.read_csv(tmp_path / "y" / "paired_differences.csv")
    assert set(paired["method"]) <= {"Welch", "identical values", "no values"} and (paired["n_pairs"] == 0).all()
    assert "independent samples, Welch" in capsys.readouterr().out


def test_a_different_code_version_is_refused(terms, tmp_path, capsys):
    d = tmp_path / "versions"
    shutil.copytree(terms / "baseline", d / "baseline")
    shutil.copytree(terms / "cycle_4y", d / "cycle_4y")
    manifest = json.loads((d / "cycle_4y" / "manifest.json").read_text())
    manifest["package_version"] = "0.0.1"
    (d / "cycle_4y" / "manifest.json").write_text(json.dumps(manifest))
    assert cli_main(["compare", str(d), "--out", str(tmp_path / "x")]) == 2
    assert "the opvangsim versions differ (cycle_4y: 0.0.1; baseline:" in capsys.readouterr().err


def test_an_interrupted_sweep_is_flagged_with_the_runs_missing(tmp_path, capsys):
    exp = tmp_path / "two.toml"
    exp.write_text(
        f'name = "two"\nscenarios = ["{BASELINE}", "{ROOT / "scenarios" / "cycle_4y.toml"}"]\n'
        'set = ["horizon_years=0.1"]\nreplications = 3\n[outputs]\nresolution = "daily"\n'
    )
    out = tmp_path / "sweep"
    assert cli_main(["sweep", str(exp), "--out", str(out), "--serial", "--quiet", "--chunk", "1"]) == 0
    assert load_results(out).complete and load_results(out).missing_runs == 0
    # interrupt it after the fact: the parts holding replication 2 of either arm are lost
    for part in sorted((out / "parts").glob("part-*")):
        if (pd.read_parquet(part / "summary.parquet")["replication"] == 2).any():
            shutil.rmtree(part)
    res = load_results(out)
    assert not res.complete and res.missing_runs == 2 and res.expected_runs == 6
    capsys.readouterr()
    assert cli_main(["compare", str(out), "--out", str(tmp_path / "a")]) == 0  # both arms lack replication 2: still paired
    assert "incomplete: 2 of 6 runs are missing" in capsys.readouterr().out
    page = _page(out)
    assert "Incomplete results" in page and "2 of 6 runs are missing" in page
    # one arm further behind than the other: the replication sets differ, and the refusal says runs are missing
    for part in sorted((out / "parts").glob("part-*")):
        s = pd.read_parquet(part / "summary.parquet")
        if ((s["replication"] == 1) & (s["design_point"] == 1)).any():
            shutil.rmtree(part)
    assert cli_main(["compare", str(out), "--out", str(tmp_path / "b")]) == 2
    assert "3 run(s) of these results are missing" in capsys.readouterr().err


def _page(directory: Path) -> str:
    """The report's page without its figures (drawing them is tested elsewhere)."""
    from sim.report import build_context, render_html

    return render_html(build_context(an.prepare(directory), None, an.RiskSettings()), [], [], "report")


# ----------------------------------------------------------------------------- risk over the window


def _daily(values: dict[tuple[str, int], np.ndarray], start: str = "2026-01-01", ac: dict | None = None) -> pd.DataFrame:
    frames = []
    for (arm, rep), v in values.items():
        frames.append(
            pd.DataFrame(
                {
                    "scenario": arm,
                    "design_point": 0,
                    "replication": rep,
                    "date": pd.date_range(start, periods=len(v)),
                    "occupancy_emergency": v,
                    "occupancy_crisis": 0,
                    "ac_above_norm": (ac or {}).get((arm, rep), np.zeros(len(v))),
                    "sleeping_outside": 0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_default_emergency_levels_are_the_quartiles_of_the_window_peak_rounded():
    peaks = np.array([9_840, 12_310, 14_123, 19_742, 25_555, 30_100])
    summary = pd.DataFrame(
        {"scenario": "baseline", "design_point": 0, "replication": range(6), "peak_emergency_occupancy": peaks}
    )
    settings = an.resolve_settings(Results(summary, pd.DataFrame(), pd.DataFrame()), an.RiskSettings())
    expected = tuple(int(float(f"{q:.2g}")) for q in np.quantile(peaks, [0.25, 0.5, 0.75]))
    assert settings.emergency_levels == expected == (13_000, 17_000, 24_000)
    # between the lowest and the highest peak: neither certain nor impossible over these runs
    assert peaks.min() < min(expected) and max(expected) < peaks.max()


def test_risk_per_calendar_year_counts_each_year_of_the_window_separately():
    """Emergency shelter above 1,000 only in 2027 in replication 0, only in 2028 in replication 1."""
    days = (pd.Timestamp("2029-01-01") - pd.Timestamp("2026-01-01")).days
    dates = pd.date_range("2026-01-01", periods=days)
    v0 = np.where(dates.year == 2027, 1500, 10)
    v1 = np.where(dates.year == 2028, 1500, 10)
    v0[0] = v1[0] = 5000  # the start state: before the window, it must not count
    ts = _daily({("baseline", 0): v0, ("baseline", 1): v1})
    summary = pd.DataFrame({"scenario": "baseline", "design_point": 0, "replication": [0, 1]})
    res = Results(summary, ts, pd.DataFrame())
    windows = {"baseline": an.Window(dt.date(2027, 1, 1), dt.date(2029, 1, 1))}
    settings = an.RiskSettings(emergency_levels=(1000, 4000), ac_days=0)
    year = an.risk_by_year(res, settings, windows).set_index(["year", "event"])
    assert set(year.index.get_level_values("year")) == {2027, 2028}
    for y in (2027, 2028):
        assert year.loc[(y, "emergency shelter > 1,000 persons at any time"), "with_event"] == 1
        assert year.loc[(y, "emergency shelter > 4,000 persons at any time"), "with_event"] == 0
        assert year.loc[(y, "emergency shelter > 1,000 persons at any time"), "days"] == (366 if y == 2028 else 365)
    whole = an.risk_table(res, settings, windows).set_index("event")
    assert whole.loc["emergency shelter > 4,000 persons for > 90 days", "with_event"] == 0


def test_time_to_first_overflow_is_censored_at_the_window_end():
    """Four replications overflow 10, 20, 30 and 40 days into the window, two never: the median is the 3rd of 6."""
    first = dt.date(2027, 1, 1)
    days = (dt.date(2028, 1, 1) - dt.date(2026, 1, 1)).days
    dates = pd.date_range("2026-01-01", periods=days)
    values, ac = {}, {}
    for rep, at in enumerate([10, 20, 30, 40, None, None]):
        values[("baseline", rep)] = np.zeros(days)
        above = np.zeros(days)
        above[0] = 50  # before the window
        if at is not None:
            above[(dates >= pd.Timestamp(first) + pd.Timedelta(days=at))] = 5
        ac[("baseline", rep)] = above
    ts = _daily(values, ac=ac)
    summary = pd.DataFrame({"scenario": "baseline", "design_point": 0, "replication": range(6)})
    f = an.first_overflow(Results(summary, ts, pd.DataFrame()), {"baseline": an.Window(first, dt.date(2028, 1, 1))}).iloc[0]
    assert f["overflowed"] == 4 and f["replications"] == 6
    assert f["median_days"] == 30 and f["p05_days"] == 10 and f["p95_days"] == math.inf
    assert f["median_date"] == dt.date(2027, 1, 31)
