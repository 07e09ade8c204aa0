"""Paired comparison, risk intervals, sensitivity and discovery (sim.analysis).

The statistical tests check the intervals against what theory says they must
do (coverage of a known difference, exact binomial limits, known Sobol
indices of the Ishigami function), on synthetic data with known answers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import sweep_manifest, write_run_manifest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import analysis as an
from sim.cli import main as cli_main
from sim.metrics import COLUMNS
from sim.store import Results
from sim.streams import Streams


def rng(seed: int) -> np.random.Generator:
    return Streams(seed).analysis


# ----------------------------------------------------------------------------- paired intervals


def test_paired_t_interval_covers_known_difference_at_nominal_rate():
    """With normal noise the paired t interval is exact: it covers the true difference 95 % of the time."""
    g = rng(1)
    trials, n, delta = 2000, 10, 5.0
    covered = 0
    for _ in range(trials):
        common = g.normal(1000.0, 200.0, n)  # what common random numbers share between the two scenarios
        b = common + g.normal(0, 10, n)
        x = common + delta + g.normal(0, 10, n)
        d = an.paired_difference(x, b)
        assert d.method == "paired t"
        covered += d.low <= delta <= d.high
    # binomial: sd of the rate is sqrt(.95·.05/2000) ≈ 0.0049; allow 3 sd
    assert abs(covered / trials - 0.95) < 0.015


def test_bootstrap_interval_for_skewed_differences_covers_near_nominal():
    """Skewed differences switch to the percentile bootstrap, which covers close to 95 %.

    The percentile bootstrap of a mean undercovers by O(1/n) for skewed data, so
    the lower bound is looser than for the exact t case.
    """
    g = rng(2)
    trials, n = 300, 40
    true_mean = math.exp(0.5)  # mean of a standard lognormal
    covered, boot = 0, 0
    for _ in range(trials):
        b = g.normal(100, 30, n)
        x = b + g.lognormal(0.0, 1.0, n)
        d = an.paired_difference(x, b, rng=g, n_boot=2000)
        boot += d.method == "bootstrap percentile"
        covered += d.low <= true_mean <= d.high
    assert boot > 0.8 * trials  # a lognormal sample of 40 is nearly always clearly skewed
    assert 0.87 <= covered / trials <= 0.99


def test_variance_reduction_measures_the_shared_noise():
    """1 − var(x−b)/(var x + var b) is ≈ 1 − σ²ₑ/(σ²ᵤ + σ²ₑ) with common noise u, and ≈ 0 for independent runs."""
    g = rng(3)
    n = 1000
    u = g.normal(0, 10, n)
    x = u + 3 + g.normal(0, 1, n)
    b = u + g.normal(0, 1, n)
    paired = an.paired_difference(x, b)
    assert paired.variance_reduction == pytest.approx(1 - 2 / (2 * 101), abs=0.005)
    independent = an.paired_difference(g.normal(3, 10, n), g.normal(0, 10, n))
    assert abs(independent.variance_reduction) < 0.2
    # the paired interval is the narrower one by about sqrt(1 − reduction)
    assert (paired.high - paired.low) < 0.2 * (independent.high - independent.low)


def test_mean_interval_is_the_textbook_t_interval():
    """mean ± t(0.975, n−1)·s/√n; nan values are not replications; one value has no interval, equal values a point."""
    v = np.array([3.0, 5.0, 4.0, 8.0, np.nan])
    half = stats.t.ppf(0.975, 3) * np.std(v[:4], ddof=1) / 2.0
    assert an.mean_ci(v) == pytest.approx((5.0, 5.0 - half, 5.0 + half))
    m, lo, hi = an.mean_ci(np.array([7.0]))
    assert m == 7.0 and math.isnan(lo) and math.isnan(hi)
    assert an.mean_ci(np.array([2.0, 2.0, 2.0])) == (2.0, 2.0, 2.0)
    assert all(math.isnan(x) for x in an.mean_ci(np.array([])))


def test_paired_difference_with_few_pairs_is_honest():
    assert math.isnan(an.paired_difference(np.array([]), np.array([])).mean)
    one = an.paired_difference(np.array([5.0]), np.array([3.0]))
    assert one.mean == 2.0 and math.isnan(one.low) and math.isnan(one.high)
    same = an.paired_difference(np.array([5.0, 6.0, 7.0]), np.array([4.0, 5.0, 6.0]))
    assert (same.low, same.mean, same.high) == (1.0, 1.0, 1.0)


# ----------------------------------------------------------------------------- proportions


def _zero_inflated_counts(g: np.random.Generator, n: int, p_zero: float = 0.6, mean_if_any: float = 2000.0) -> np.ndarray:
    """Person-nights sleeping outside: none in most replications, many in a few (a negative binomial)."""
    k = 2.0
    return np.where(g.random(n) < p_zero, 0.0, g.negative_binomial(k, k / (k + mean_if_any), n).astype(float))


@pytest.mark.parametrize("n", [12, 30])
def test_interval_of_a_count_never_goes_below_zero_and_covers_its_mean(n):
    """A count that is zero in most replications: the t interval would go below zero; ours never does, and
    still covers the true mean about 95 % of the time (the binomial sd of 400 trials is 0.011)."""
    g = rng(10 + n)
    trials, true_mean = 400, 0.4 * 2000.0
    covered, t_below_zero = 0, 0
    for _ in range(trials):
        v = _zero_inflated_counts(g, n)
        iv = an.bounded_mean_ci(v, (0.0, math.inf), rng=g, n_boot=2000)
        _, t_low, _ = an.mean_ci(v)
        t_below_zero += t_low < 0
        assert iv.low >= 0.0 and iv.low <= iv.mean <= iv.high
        covered += iv.low <= true_mean <= iv.high
    if n == 12:
        assert t_below_zero > 0.2 * trials  # the case this interval exists for
    assert 0.88 <= covered / trials <= 0.99


def test_interval_of_a_share_near_one_stays_below_one_and_covers_its_mean():
    """Shares of a task realised near 100 % (Beta(20, 1), mean 20/21) over 6 replications."""
    g = rng(20)
    trials, true_mean = 400, 20 / 21
    covered, t_above_one = 0, 0
    for _ in range(trials):
        v = g.beta(20, 1, 6)
        iv = an.bounded_mean_ci(v, an.metric_support("share_realised_by_deadline"), rng=g, n_boot=2000)
        t_above_one += an.mean_ci(v)[2] > 1
        assert 0.0 <= iv.low <= iv.high <= 1.0
        covered += iv.low <= true_mean <= iv.high
    assert t_above_one > 0.2 * trials
    assert 0.87 <= covered / trials <= 0.99


def test_paired_difference_of_shares_stays_between_minus_one_and_one():
    g = rng(21)
    b = g.beta(30, 1, 8)
    x = np.minimum(1.0, b + np.where(g.random(8) < 0.5, 0.0, g.uniform(0, 0.05, 8)))
    d = an.paired_difference(x, b, support=(0.0, 1.0))
    assert -1.0 <= d.low <= d.mean <= d.high <= 1.0


def test_welch_interval_is_the_textbook_formula_and_covers_with_unequal_variances():
    g = rng(22)
    x, b = g.normal(10, 1, 8), g.normal(0, 5, 20)
    w = an.welch_difference(x, b)
    vx, vb = x.var(ddof=1) / len(x), b.var(ddof=1) / len(b)
    df = (vx + vb) ** 2 / (vx**2 / (len(x) - 1) + vb**2 / (len(b) - 1))  # Welch–Satterthwaite
    half = stats.t.ppf(0.975, df) * math.sqrt(vx + vb)
    assert w.method == "Welch"
    assert w.low == pytest.approx(x.mean() - b.mean() - half) and w.high == pytest.approx(x.mean() - b.mean() + half)
    covered = sum(
        (lambda d: d.low <= 10.0 <= d.high)(an.welch_difference(g.normal(10, 1, 8), g.normal(0, 5, 20))) for _ in range(1000)
    )
    assert abs(covered / 1000 - 0.95) < 0.025


def test_proportion_intervals_at_zero_replications_are_the_whole_range():
    for method in ("wilson", "exact"):
        p, lo, hi = an.proportion_ci(0, 0, method=method)
        assert math.isnan(p) and (lo, hi) == (0.0, 1.0)


def test_proportion_intervals_at_one_replication_match_the_formulas():
    z2 = stats.norm.ppf(0.975) ** 2
    # Wilson with k = 0, n = 1: [0, z²/(1 + z²)]; Clopper–Pearson: [0, 1 − 0.025^(1/1)] = [0, 0.975]
    assert an.proportion_ci(0, 1, method="wilson") == pytest.approx((0.0, 0.0, z2 / (1 + z2)))
    assert an.proportion_ci(0, 1, method="exact") == pytest.approx((0.0, 0.0, 0.975))
    assert an.proportion_ci(1, 1, method="wilson") == pytest.approx((1.0, 1 / (1 + z2), 1.0))
    assert an.proportion_ci(1, 1, method="exact") == pytest.approx((1.0, 0.025, 1.0))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 500), frac=st.floats(0, 1), method=st.sampled_from(["wilson", "exact"]))
def test_proportion_interval_contains_estimate_inside_unit_interval(n, frac, method):
    k = int(round(frac * n))
    p, lo, hi = an.proportion_ci(k, n, method=method)
    assert 0.0 <= lo <= p <= hi <= 1.0
    assert hi - lo > 0


# ----------------------------------------------------------------------------- comparison on results


def _summary(scenario: str, reps: int, values: np.ndarray, design_point: int = 0, **factors) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "scenario": scenario,
            "design_point": design_point,
            "replication": np.arange(reps),
            "seed": np.arange(reps) + 100,
            "emergency_person_nights": values,
            "total_cost_eur": values * 10.0,
        }
    )
    for k, v in factors.items():
        df[f"factor:{k}"] = v
    return df


def test_paired_comparison_pairs_by_replication_not_row_order():
    g = rng(4)
    reps = 12
    base_values = g.normal(1e6, 2e5, reps)
    variant = base_values + 5000 + g.normal(0, 100, reps)
    summary = pd.concat([_summary("baseline", reps, base_values), _summary("longer", reps, variant)], ignore_index=True)
    summary = summary.sample(frac=1.0, random_state=np.random.RandomState(0)).reset_index(drop=True)  # rows in any order
    res = Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame())
    table = an.paired_comparison(res).set_index("metric")
    row = table.loc["emergency_person_nights"]
    assert row["arm"] == "longer" and row["baseline"] == "baseline" and row["n_pairs"] == reps
    assert row["ci_low"] < 5000 < row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 500  # only the 100-sd noise is left after pairing
    assert row["variance_reduction"] > 0.99


def test_sweep_arms_pair_with_the_baseline_at_the_same_factor_level():
    reps = 4
    parts, dp = [], 0
    for scenario, extra in (("baseline", 0.0), ("cycle_4y", 1.0)):
        for inflow, level in ((18000, 100.0), (35000, 900.0)):
            parts.append(
                _summary(
                    scenario,
                    reps,
                    np.full(reps, level + extra) + np.arange(reps),
                    dp,
                    **{"inflow.first_applications_per_year": inflow},
                )
            )
            dp += 1
    res = Results(summary=pd.concat(parts, ignore_index=True), timeseries=pd.DataFrame(), cycles=pd.DataFrame())
    table = an.paired_comparison(res, metrics=["emergency_person_nights"])
    assert len(table) == 2
    assert set(table["arm"]) == {"cycle_4y [first_applications_per_year=18000]", "cycle_4y [first_applications_per_year=35000]"}
    assert (table["mean_diff"] == 1.0).all()  # crossing the inflow levels would give ±799
    assert all(a.split(" ")[1] == b.split(" ")[1] for a, b in zip(table["arm"], table["baseline"]))


def _daily(scenario: str, reps_days_above: list[int], level: int, days: int = 365) -> pd.DataFrame:
    frames = []
    for r, above in enumerate(reps_days_above):
        e = np.full(days, level - 10)
        e[:above] = level + 10
        df = pd.DataFrame({c: 0 for c in COLUMNS}, index=range(days))
        df["occupancy_emergency"] = e
        df.insert(0, "day", np.arange(days))
        df.insert(0, "date", pd.date_range("2026-01-01", periods=days))
        df.insert(0, "replication", r)
        df.insert(0, "design_point", 0)
        df.insert(0, "scenario", scenario)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_risk_counts_replications_above_an_emergency_level():
    ts = _daily("baseline", [0, 10, 200], level=1000)
    summary = pd.DataFrame(
        {
            "scenario": "baseline",
            "design_point": 0,
            "replication": [0, 1, 2],
            "ac_days_above_norm": [0, 31, 400],
            "person_nights_outside": [0.0, 0.0, 5.0],
        }
    )
    res = Results(summary=summary, timeseries=ts, cycles=pd.DataFrame())
    table = an.risk_table(res, an.RiskSettings(emergency_levels=(1000,), emergency_days=90, ac_days=30)).set_index("event")
    assert table.loc["emergency shelter > 1,000 persons on any day", "with_event"] == 2
    assert table.loc["emergency shelter > 1,000 persons for > 90 days", "with_event"] == 1
    assert table.loc["Ter Apel above norm for > 30 days", "with_event"] == 2
    assert table.loc["anyone sleeps outside", "with_event"] == 1
    assert (table["replications"] == 3).all()
    assert ((table["ci_low"] <= table["probability"]) & (table["probability"] <= table["ci_high"])).all()


def test_risk_on_a_monthly_series_weights_rows_by_their_days():
    ts = _daily("baseline", [0, 10, 200], level=1000)
    monthly = ts.assign(month=ts["date"].dt.to_period("M").dt.to_timestamp()).groupby(
        ["scenario", "design_point", "replication", "month"]
    )
    monthly = (
        monthly.agg(occupancy_emergency=("occupancy_emergency", "mean"), days=("day", "size"))
        .reset_index()
        .rename(columns={"month": "date"})
    )
    summary = pd.DataFrame({"scenario": "baseline", "design_point": 0, "replication": [0, 1, 2]})
    settings_ = an.RiskSettings(emergency_levels=(1000,), emergency_days=90)
    table = an.risk_table(Results(summary=summary, timeseries=monthly, cycles=pd.DataFrame()), settings_).set_index("event")
    # 10 days above in January is not a January mean above the level; 200 days make 6 whole months (181 days) above
    assert table.loc["emergency shelter > 1,000 persons (period mean) in any period", "with_event"] == 1
    assert table.loc["emergency shelter > 1,000 persons (period mean) for > 90 days", "with_event"] == 1
    assert any("period means" in n for n in settings_.notes)


def test_exceedance_is_the_empirical_survival_function():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert an.exceedance(v, np.array([0.0, 1.0, 2.5, 4.0])).tolist() == [1.0, 0.75, 0.5, 0.0]


# ----------------------------------------------------------------------------- sensitivity and discovery


def test_sobol_indices_of_the_ishigami_function(tmp_path):
    """SALib's Sobol analysis on a sweep-shaped result recovers the Ishigami function's known indices."""
    from sim.experiment import Experiment, unit_sample

    exp = Experiment.model_validate(
        {
            "name": "ishigami",
            "scenarios": ["base.toml"],
            "replications": 1,
            "root_seed": 3,
            "design": {"kind": "sobol", "samples": 1024},
            "factors": [{"key": k, "distribution": "uniform", "low": 0.0, "high": 1.0} for k in ("a.x1", "a.x2", "a.x3")],
        }
    )
    unit = unit_sample(exp)
    x = -math.pi + 2 * math.pi * unit
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    summary = pd.DataFrame({"scenario": "base", "design_point": np.arange(len(y)), "replication": 0, "y": y})
    manifest = sweep_manifest(exp)
    sens, note = an.sensitivity(
        Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame(), manifest=manifest), outputs=("y",)
    )
    assert "Sobol" in note
    got = sens.set_index(["factor", "index"])["value"]
    # analytic values (Ishigami a=7, b=0.1): S1 = .314, .442, 0; ST = .558, .442, .244
    for (f, k), want in {
        ("a.x1", "S1"): 0.314,
        ("a.x2", "S1"): 0.442,
        ("a.x3", "S1"): 0.0,
        ("a.x1", "ST"): 0.558,
        ("a.x2", "ST"): 0.442,
        ("a.x3", "ST"): 0.244,
    }.items():
        assert got[(f, k)] == pytest.approx(want, abs=0.06), (f, k)


def test_no_sensitivity_for_a_factorial_design():
    from sim.experiment import Experiment

    summary = _summary("baseline", 3, np.ones(3))
    exp = Experiment.model_validate({"name": "grid", "scenarios": ["base.toml"], "replications": 3})
    res = Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame(), manifest=sweep_manifest(exp))
    sens, note = an.sensitivity(res)
    assert sens.empty and "full_factorial" in note


def test_cart_box_finds_the_box_that_drives_the_output():
    g = rng(5)
    n = 200
    a, b = g.uniform(0, 1, n), g.uniform(0, 1, n)
    # high only where a > 0.8 (a fifth of the points, so the top quarter cut falls between the two groups); b irrelevant
    y = np.where(a > 0.8, 1000.0, 0.0) + g.normal(0, 1, n)
    summary = pd.DataFrame(
        {
            "scenario": "s",
            "design_point": np.arange(n),
            "replication": 0,
            "emergency_person_nights": y,
            "factor:x.a": a,
            "factor:x.b": b,
        }
    )
    res = Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame())
    boxes, note = an.cart_boxes(res, threshold=500.0)
    assert len(boxes), note
    best = boxes.iloc[0]
    assert best["density"] > 0.95 and best["coverage"] > 0.95
    assert "x.a >" in best["conditions"]
    threshold = float(best["conditions"].split("x.a >")[1].split()[0])
    assert abs(threshold - 0.8) < 0.05


def test_box_measures_count_what_lies_inside():
    """100 cases, 25 of interest; a box of 20 cases holds 15 of them: coverage 15/25, density 15/20, mass 20/100."""
    inside = np.zeros(100, bool)
    inside[:20] = True
    of_interest = np.zeros(100, bool)
    of_interest[5:30] = True
    m = an.box_measures(inside, of_interest)
    assert (m.coverage, m.density, m.mass) == pytest.approx((0.6, 0.75, 0.2))


def test_cart_box_measures_on_a_grid_with_a_known_box():
    """On a 10 × 10 grid the cases of interest are the box a ≥ 7, b ≥ 5 (15 cases) with two holes, plus three strays.

    The box holds 15 cases (mass 0.15), 13 of them of interest (density 13/15), out of 16 cases of interest
    in all (coverage 13/16); a depth-2 tree finds exactly that box.
    """
    a, b = (g.ravel().astype(float) for g in np.meshgrid(np.arange(10), np.arange(10), indexing="ij"))
    interest = (a >= 7) & (b >= 5)
    for hole in ((7, 5), (9, 9)):
        interest[(a == hole[0]) & (b == hole[1])] = False
    for stray in ((0, 0), (3, 9), (5, 2)):
        interest[(a == stray[0]) & (b == stray[1])] = True
    summary = pd.DataFrame(
        {
            "scenario": "s",
            "design_point": np.arange(100),
            "replication": 0,
            "emergency_person_nights": np.where(interest, 1000.0, 0.0),
            "factor:x.a": a,
            "factor:x.b": b,
        }
    )
    res = Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame())
    boxes, note = an.cart_boxes(res, threshold=500.0)
    assert "CART" in note
    best = boxes.iloc[0]
    assert best["conditions"] == "x.a > 6.5 and x.b > 4.5"
    assert best["design_points"] == 15
    assert (best["coverage"], best["density"], best["mass"]) == pytest.approx((13 / 16, 13 / 15, 0.15))


# ----------------------------------------------------------------------------- loading and the CLI


def _write_run(d: Path, name: str, values: np.ndarray) -> None:
    d.mkdir(parents=True)
    reps = len(values)
    pd.DataFrame(
        {
            "scenario": name,
            "replication": np.arange(reps),
            "seed": np.arange(reps),
            "emergency_person_nights": values,
            "ac_days_above_norm": np.zeros(reps, int),
            "person_nights_outside": np.zeros(reps),
        }
    ).to_parquet(d / "summary.parquet")
    write_run_manifest(d, name, reps)


def test_compare_reads_a_directory_of_runs_with_clashing_names(tmp_path, capsys):
    # two runs of the same scenario file with --set: same scenario name, told apart by their directories
    _write_run(tmp_path / "runs" / "baseline", "baseline", np.array([10.0, 20.0, 30.0]))
    _write_run(tmp_path / "runs" / "more_ind", "baseline", np.array([8.0, 17.0, 29.0]))
    res = an.load_dir(tmp_path / "runs")
    assert sorted(res.summary["scenario"].unique()) == ["baseline", "more_ind"]
    assert cli_main(["compare", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    paired = pd.read_csv(tmp_path / "out" / "paired_differences.csv")
    row = paired[paired["metric"] == "emergency_person_nights"].iloc[0]
    assert row["mean_diff"] == pytest.approx(-2.0)
    assert (tmp_path / "out" / "risk.csv").exists()
    assert "more_ind − baseline" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv_tail, key",
    [
        (["--baseline", "nonexistent"], "--baseline"),
        (["--emergency-levels", "lots"], "--emergency-levels"),
        (["--ac-days", "-1"], "--ac-days"),
    ],
)
def test_compare_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, argv_tail, key):
    _write_run(tmp_path / "runs" / "baseline", "baseline", np.array([1.0, 2.0]))
    out = tmp_path / "out"
    assert cli_main(["compare", str(tmp_path / "runs"), "--out", str(out), *argv_tail]) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err
    assert not out.exists()


def test_compare_on_a_directory_without_results_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli_main(["compare", str(tmp_path / "empty")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    assert cli_main(["compare", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "empty" / "analysis").exists()


def test_morris_elementary_effects_of_a_linear_function():
    """For y = 10·u1 + 1·u2 on the unit cube every elementary effect is the slope: μ* = (10, 1, 0), σ = 0."""
    from sim.experiment import Experiment, unit_sample

    exp = Experiment.model_validate(
        {
            "name": "linear",
            "scenarios": ["base.toml"],
            "replications": 1,
            "root_seed": 5,
            "design": {"kind": "morris", "samples": 10, "morris_levels": 4},
            "factors": [{"key": k, "distribution": "uniform", "low": 0.0, "high": 1.0} for k in ("a.u1", "a.u2", "a.u3")],
        }
    )
    unit = unit_sample(exp)
    summary = pd.DataFrame(
        {"scenario": "base", "design_point": np.arange(len(unit)), "replication": 0, "y": 10 * unit[:, 0] + 1 * unit[:, 1]}
    )
    manifest = sweep_manifest(exp)
    sens, note = an.sensitivity(
        Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame(), manifest=manifest), outputs=("y",)
    )
    assert "Morris" in note
    got = sens.set_index(["factor", "index"])["value"]
    assert [got[(f, "mu_star")] for f in ("a.u1", "a.u2", "a.u3")] == pytest.approx([10.0, 1.0, 0.0], abs=1e-9)
    assert [got[(f, "sigma")] for f in ("a.u1", "a.u2", "a.u3")] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


def test_sensitivity_refuses_an_incomplete_sweep():
    from sim.experiment import Experiment, unit_sample

    exp = Experiment.model_validate(
        {
            "name": "linear",
            "scenarios": ["base.toml"],
            "replications": 1,
            "root_seed": 5,
            "design": {"kind": "morris", "samples": 4},
            "factors": [{"key": "a.u1", "distribution": "uniform", "low": 0.0, "high": 1.0}],
        }
    )
    n = len(unit_sample(exp))
    summary = pd.DataFrame({"scenario": "base", "design_point": np.arange(n - 1), "replication": 0, "y": np.zeros(n - 1)})
    manifest = sweep_manifest(exp)
    sens, note = an.sensitivity(
        Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame(), manifest=manifest), outputs=("y",)
    )
    assert sens.empty and "resume" in note
