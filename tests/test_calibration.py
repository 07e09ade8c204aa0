"""Calibration (issue 12): ABC-SMC recovers known parameters, is reproducible and resumable; scenarios draw
replication r's parameters from a posterior by weight with the replication's seed, paired across scenarios;
bad posterior and priors files are one message, exit status 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT, small_dict, small_scenario

from sim.calibration.abc import Distance, Targets
from sim.calibration.priors import Priors, load_priors
from sim.calibration.run import calibrate, posterior_summary
from sim.cli import main
from sim.executors import ProcessExecutor, SerialExecutor
from sim.model import simulate
from sim.posterior import particle_index, posterior_path, with_particle
from sim.runner import run_replication
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict

KEYS = ("housing.realisation_mean", "departure.mean_delay_days")


def write_posterior(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path


def scenario_file(d: Path, posterior: str, extra: str = "", name: str = "a") -> Path:
    f = d / f"{name}.toml"
    f.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "{name}"\n{extra}\n[parameters]\nposterior = "{posterior}"\n')
    return f


@pytest.fixture
def posterior(tmp_path) -> Path:
    rows = [
        {KEYS[0]: 0.6, KEYS[1]: 60.0, "weight": 0.5},
        {KEYS[0]: 0.9, KEYS[1]: 200.0, "weight": 0.3},
        {KEYS[0]: 1.1, KEYS[1]: 300.0, "weight": 0.2},
        {KEYS[0]: 0.7, KEYS[1]: 100.0, "weight": 0.0},  # never drawn
    ]
    return write_posterior(tmp_path / "posterior.parquet", rows)


# --------------------------------------------------------------------------- scenarios drawing from a posterior


def test_replication_r_of_two_scenarios_takes_the_same_particle_and_its_values(tmp_path, posterior):
    a = load_scenario(scenario_file(tmp_path, posterior.name, name="a"), ["end_date=2026-01-15"])
    b = load_scenario(
        scenario_file(tmp_path, posterior.name, "[inflow]\nfirst_applications_per_year = 40000", name="b"),
        ["end_date=2026-01-15"],
    )
    table = pd.read_parquet(posterior)
    seen = []
    for r in range(12):
        _, sa, _ = run_replication(a, 7, r)
        _, sb, _ = run_replication(b, 7, r)
        assert sa["particle"] == sb["particle"], "paired replications must use the same particle"
        seen.append(sa["particle"])
        drawn, index = with_particle(a, sa["seed"])
        assert index == sa["particle"]
        assert drawn.housing.realisation_mean == table[KEYS[0]].iloc[index]
        assert drawn.departure.mean_delay_days == table[KEYS[1]].iloc[index]
    assert 3 not in seen, "a particle of weight 0 is never drawn"
    assert len(set(seen)) > 1, "replications draw different particles"
    # the same seed gives the same particle
    assert [run_replication(a, 7, r)[1]["particle"] for r in range(4)] == seen[:4]


def test_particles_are_drawn_in_proportion_to_their_weights():
    w = np.array([0.5, 0.3, 0.2, 0.0])
    draws = np.array([particle_index(w, s) for s in range(4000)])
    share = np.bincount(draws, minlength=4) / len(draws)
    # binomial standard error at n = 4000 is at most 0.008: 4 of them
    assert np.all(np.abs(share - w) < 0.032), share


def test_a_value_the_scenario_sets_wins_over_the_drawn_one(tmp_path, posterior):
    f = scenario_file(tmp_path, posterior.name, "[housing]\nrealisation_mean = 0.95")
    s = load_scenario(f, ["end_date=2026-01-15", "departure.mean_delay_days=33"])
    assert set(s.parameters.fixed) == set(KEYS)
    drawn, _ = with_particle(s, 123)
    assert drawn.housing.realisation_mean == 0.95 and drawn.departure.mean_delay_days == 33


def test_a_scenario_without_a_posterior_runs_as_before(small):
    assert "particle" not in simulate(small, seed=3).summary


BAD_POSTERIORS = [
    ("no_weight", [{KEYS[0]: 0.8}], "no 'weight' column"),
    ("negative_weight", [{KEYS[0]: 0.8, "weight": -1.0}, {KEYS[0]: 0.9, "weight": 2.0}], "weights must be finite numbers ≥ 0"),
    ("unknown_key", [{"housing.realisation_meen": 0.8, "weight": 1.0}], "housing.realisation_meen"),
    ("outside_bounds", [{KEYS[0]: 0.8, "weight": 1.0}, {KEYS[0]: 2.0, "weight": 1.0}], "housing.realisation_mean"),
    ("integer_key", [{"procedure.responsive_lag_days": 10.5, "weight": 1.0}], "procedure.responsive_lag_days"),
    ("empty", [], "no particles"),
]


@pytest.mark.parametrize("name, rows, message", BAD_POSTERIORS, ids=[b[0] for b in BAD_POSTERIORS])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_bad_posterior_file_is_one_message_and_exit_2(tmp_path, capsys, name, rows, message, command):
    p = tmp_path / "bad.parquet"
    frame = pd.DataFrame(rows) if rows else pd.DataFrame({KEYS[0]: [], "weight": []})
    frame.to_parquet(p, index=False)
    f = scenario_file(tmp_path, p.name)
    out = tmp_path / "out"
    assert main([command, str(f)] + (["--out", str(out), "--quiet"] if command == "run" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "a.toml: parameters.posterior" in err and message in err, err
    assert not out.exists()


def test_a_missing_or_unreadable_posterior_is_bad_input(tmp_path, capsys):
    assert main(["validate", str(scenario_file(tmp_path, "nowhere.parquet"))]) == 2
    assert "parameters.posterior: file not found" in capsys.readouterr().err
    (tmp_path / "text.parquet").write_text("not parquet")
    assert main(["validate", str(scenario_file(tmp_path, "text.parquet"))]) == 2
    assert "not a readable Parquet file" in capsys.readouterr().err


# --------------------------------------------------------------------------- priors and distance


def test_a_bad_priors_file_is_one_message_and_exit_2(tmp_path, capsys):
    scen = ROOT / "scenarios" / "backtest_2015.toml"
    cases = [
        (
            '[[prior]]\nkey = "housing.realisation_meen"\ndistribution = "uniform"\nlow = 0.5\nhigh = 1\nsource = "estimate"\n',
            "prior.0.low",
        ),
        (
            '[[prior]]\nkey = "housing.realisation_mean"\ndistribution = "uniform"\nlow = 0.5\nhigh = 3\nsource = "estimate"\n',
            "prior.0.high",
        ),
        (
            '[[prior]]\nkey = "housing.realisation_mean"\ndistribution = "uniform"\nlow = 0.5\nhigh = 1\nsource = "a guess"\n',
            "prior.0.source",
        ),
        (
            '[[prior]]\nkey = "housing.realisation_mean"\ndistribution = "uniform"\nlow = 0.5\nhigh = 1\nsorce = "estimate"\n',
            "prior.0.sorce",
        ),
    ]
    for text, where in cases:
        pri = tmp_path / "priors.toml"
        pri.write_text(text)
        argv = ["calibrate", str(scen), "--until", "2022-12-31", "--priors", str(pri), "--out-dir", str(tmp_path / "cal")]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"opvangsim: error: {pri}: {where}"), err
        assert not (tmp_path / "cal").exists()


def test_the_calibration_cut_off_never_reaches_the_held_out_years(tmp_path, capsys):
    argv = [
        "calibrate",
        str(ROOT / "scenarios" / "backtest_2022.toml"),
        "--until",
        "2023-06-30",
        "--out-dir",
        str(tmp_path / "cal"),
    ]
    assert main(argv) == 2
    assert "held out" in capsys.readouterr().err
    assert not (tmp_path / "cal").exists()


def test_the_distance_weighs_points_by_their_scale_lower_bounds_one_sided_and_counts_nights_outside():
    obs = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-01-10", "2026-01-20", "2026-01-11", "2026-01-12", "2026-01-13"]),
            "measure": ["occupancy_total", "status_holders_waiting", "sleeping_outside", "sleeping_outside", "sleeping_outside"],
            "value": [1000.0, 100.0, 300.0, 200.0, 100.0],
            "kind": ["exact", "lower_bound", "approximate", "approximate", "approximate"],
        }
    )
    t = Targets.from_observations(obs, small_scenario(), pd.Timestamp("2026-06-30"))
    d = Distance(t)
    order = list(t.measures)
    sim = np.zeros(len(t))
    sim[order.index("occupancy_total")] = 1100  # 10 % above
    sim[order.index("status_holders_waiting")] = 150  # above a lower bound: no error
    sim[[i for i, m in enumerate(order) if m == "sleeping_outside"][0]] = 5  # 1 of 3 observed nights outside
    assert d({"v": sim}, {}) == pytest.approx((0.1 + 0.0 + 2 / 3) / 3)
    sim[order.index("status_holders_waiting")] = 50  # half below the bound
    assert d({"v": sim}, {}) == pytest.approx((0.1 + 0.5 + 2 / 3) / 3)
    sim[0] = np.nan
    assert d({"v": sim}, {}) == np.inf


# --------------------------------------------------------------------------- ABC-SMC


THETA = 0.7  # the true housing.realisation_mean of the synthetic world


def synthetic(horizon_years: float = 0.25, every: int = 15) -> tuple[object, pd.DataFrame]:
    """A small world run with θ; its status holders and occupancy every ``every`` days as exact observations."""
    world = scenario_from_dict(small_dict(horizon_years=horizon_years, housing={"realisation_mean": THETA}))
    ts = simulate(world, seed=2024).timeseries
    days = np.arange(every, len(ts), every)
    rows = [
        {"date": pd.Timestamp(ts["date"].iloc[d]), "measure": m, "value": float(ts[m].iloc[d]), "kind": "exact"}
        for m in ("status_holders_waiting", "occupancy_total")
        for d in days
    ]
    base = scenario_from_dict(small_dict(horizon_years=horizon_years))  # the schema's 0.85: calibration must find θ
    return base, pd.DataFrame(rows)


def priors_for(keys: dict[str, tuple[float, float]]) -> Priors:
    return Priors(
        prior=[{"key": k, "distribution": "uniform", "low": lo, "high": hi, "source": "estimate"} for k, (lo, hi) in keys.items()]
    )


def _recover(tmp_path, keys, population, generations, horizon_years=0.25):
    base, obs = synthetic(horizon_years)
    until = base.start_date + dt.timedelta(days=base.horizon_days - 1)
    cal = calibrate(
        base,
        until,
        priors_for(keys),
        tmp_path / "cal",
        SerialExecutor(),
        population,
        generations,
        seed=5,
        quiet=True,
        observations=obs,
    )
    row = posterior_summary(cal.posterior).set_index("key").loc["housing.realisation_mean"]
    lo, hi = keys["housing.realisation_mean"]
    return row, (lo + 0.05 * (hi - lo), lo + 0.95 * (hi - lo))


def test_abc_recovers_a_known_parameter_of_a_small_synthetic_run(tmp_path):
    row, prior90 = _recover(tmp_path, {"housing.realisation_mean": (0.4, 1.2)}, population=16, generations=3)
    assert row.q05 <= THETA <= row.q95, row
    assert row.q95 - row.q05 < prior90[1] - prior90[0], "the data must narrow the prior"


@pytest.mark.slow
def test_abc_recovers_a_known_parameter_among_two(tmp_path):
    keys = {"housing.realisation_mean": (0.4, 1.2), "departure.mean_delay_days": (30.0, 360.0)}
    row, prior90 = _recover(tmp_path, keys, population=40, generations=4, horizon_years=0.5)
    assert row.q05 <= THETA <= row.q95, row
    assert row.q95 - row.q05 < 0.6 * (prior90[1] - prior90[0])


def test_same_seed_same_posterior_on_any_executor_and_after_a_resume(tmp_path):
    base, obs = synthetic()
    until = base.start_date + dt.timedelta(days=base.horizon_days - 1)
    pri = priors_for({"housing.realisation_mean": (0.4, 1.2), "departure.mean_delay_days": (30.0, 360.0)})
    args = dict(population=6, seed=11, quiet=True, observations=obs)
    straight = calibrate(base, until, pri, tmp_path / "a", SerialExecutor(), generations=3, **args)
    calibrate(base, until, pri, tmp_path / "b", ProcessExecutor(2), generations=2, **args)  # stopped after 2
    resumed = calibrate(base, until, pri, tmp_path / "b", ProcessExecutor(2), generations=3, **args)  # continues
    pd.testing.assert_frame_equal(straight.posterior, resumed.posterior)
    pd.testing.assert_frame_equal(straight.predictive, resumed.predictive)
    other = calibrate(base, until, pri, tmp_path / "c", SerialExecutor(), generations=1, **{**args, "seed": 12})
    first = calibrate(base, until, pri, tmp_path / "d", SerialExecutor(), generations=1, **args)
    assert not other.posterior.equals(first.posterior), "another seed gives another sample"
    # a directory written with other settings is refused, not mixed
    with pytest.raises(ScenarioError, match="other settings"):
        calibrate(base, until, pri, tmp_path / "a", SerialExecutor(), generations=3, **{**args, "population": 7})


def test_the_shipped_priors_are_valid_for_the_back_test():
    priors = load_priors(ROOT / "calibration" / "priors.toml", load_scenario(ROOT / "scenarios" / "backtest_2015.toml"))
    required = {
        "reception.emergency.offers_per_week",
        "reception.emergency.half_saturation_persons",
        "reception.emergency.extension_probability",
        "reception.emergency.refusal_probability",
        "housing.realisation_mean",
        "housing.realisation_sd",
        "housing.matching_delay_days",
        "departure.mean_delay_days",
        "departure.dublin_mean_delay_days",
        "procedure.responsive_target_weeks",
        "procedure.responsive_lag_days",
        "procedure.responsive_max_per_week",
    }
    assert required <= set(priors.keys)


def test_the_report_of_runs_that_used_a_posterior_shows_the_calibration_diagnostics(tmp_path):
    from sim.report import make_report

    base, obs = synthetic()
    until = base.start_date + dt.timedelta(days=base.horizon_days - 1)
    pri = priors_for({"housing.realisation_mean": (0.4, 1.2), "departure.mean_delay_days": (30.0, 360.0)})
    cal = calibrate(
        base, until, pri, tmp_path / "cal", SerialExecutor(), population=6, generations=2, seed=3, quiet=True, observations=obs
    )
    f = scenario_file(tmp_path, (cal.path / "posterior.parquet").as_posix())
    out = tmp_path / "run"
    assert main(["run", str(f), "--until", "2026-01-15", "-r", "4", "--out", str(out), "--quiet"]) == 0
    target, _, _ = make_report(out)
    page = target.read_text()
    assert "Calibration: cal" in page and "effective sample size" in page and 'href="calibration.html"' in page
    diagnostics = (target.parent / "calibration.html").read_text()
    assert "Posterior predictive check against the calibration data" in diagnostics
    assert diagnostics.count("<img src=") == 3  # marginals, correlations, predictive check
    figures = {p.name for p in (target.parent / "figures").iterdir()}
    assert {"calibration_marginals.png", "calibration_correlations.png", "calibration_predictive.png"} <= figures


# --------------------------------------------------------------------------- rolling-origin scoring


def test_rolling_origin_scores_against_observations_after_the_origin_with_both_references():
    from sim.calibration.evaluate import score_points, summary_table

    obs = pd.DataFrame(
        {
            "date": pd.to_datetime(["2018-06-01", "2019-01-10", "2019-05-01", "2019-06-20", "2019-07-01", "2020-03-01"]),
            "measure": ["occupancy_total"] * 4 + ["status_holders_waiting", "occupancy_total"],
            "value": [100.0, 110.0, 120.0, 130.0, 50.0, 999.0],
            "kind": ["exact", "exact", "exact", "exact", "lower_bound", "exact"],
        }
    )
    dates = pd.to_datetime(["2019-06-20", "2020-03-01"])
    # 100 replications: values 101..200 on every day
    ts = pd.DataFrame(
        [
            {"date": d, "replication": r, "occupancy_total": 101.0 + r, "status_holders_waiting": 1.0}
            for d in dates
            for r in range(100)
        ]
    )
    pts = score_points(ts, obs, dt.date(2019, 5, 1), dt.date(2020, 6, 1))
    assert list(pts["date"]) == ["2019-06-20", "2020-03-01"], "after the origin, not lower bounds, inside the window"
    first = pts.iloc[0]
    assert first["persistence"] == 120.0  # the last observation on or before the origin
    assert first["seasonal"] == 100.0  # 2018-06-01 is 19 days from a year before 2019-06-20
    assert first["in_50"] and first["in_90"]  # 130 lies between the 25 % and the 75 % quantile of 101..200
    assert not pts.iloc[1]["in_90"]  # 999 lies far above the ensemble
    assert pts.iloc[1]["seasonal"] != pts.iloc[1]["seasonal"]  # nothing within 45 days of 2019-03-01: NaN
    assert first["horizon_months"] == 6 and pts.iloc[1]["horizon_months"] == 12
    import scoringrules as sr

    assert first["crps"] == pytest.approx(float(sr.crps_ensemble(130.0, 101.0 + np.arange(100))))
    table = summary_table(pts)
    assert set(table["origin"]) == {"2019-05-01", "all"}


@pytest.mark.slow
def test_a_calibration_on_a_dask_cluster_gives_the_serial_posterior(tmp_path):
    from sim.executors import DaskExecutor

    base, obs = synthetic()
    until = base.start_date + dt.timedelta(days=base.horizon_days - 1)
    pri = priors_for({"housing.realisation_mean": (0.4, 1.2)})
    args = dict(population=6, generations=2, seed=4, quiet=True, observations=obs)
    serial = calibrate(base, until, pri, tmp_path / "s", SerialExecutor(), **args)
    dask = calibrate(base, until, pri, tmp_path / "d", DaskExecutor(n_local=2), **args)
    pd.testing.assert_frame_equal(serial.posterior, dask.posterior)


def test_a_variant_in_another_directory_finds_the_posterior_its_base_names(tmp_path, posterior):
    base = scenario_file(tmp_path, posterior.name, name="base")
    (tmp_path / "variants").mkdir()
    variant = tmp_path / "variants" / "v.toml"
    variant.write_text('extends = "../base.toml"\nname = "v"\n[inflow]\nfirst_applications_per_year = 30000\n')
    a, b = load_scenario(base, ["end_date=2026-01-15"]), load_scenario(variant, ["end_date=2026-01-15"])
    assert posterior_path(b).resolve() == posterior_path(a).resolve() == posterior.resolve()
    assert with_particle(b, 99)[0].housing.realisation_mean == with_particle(a, 99)[0].housing.realisation_mean


def _coin_particle():
    """A candidate accepted with probability 0.25 (pyabc's global state is seeded per candidate)."""
    import pyabc

    accepted = bool(np.random.random() < 0.25)
    return pyabc.Particle(m=0, parameter=pyabc.Parameter({"x": 0.0}), weight=1.0, sum_stat={}, distance=0.0, accepted=accepted)


def test_the_progress_counts_a_generations_acceptances_over_all_its_rounds():
    """Runs and acceptances shown while a generation goes on never fall back when a new round of candidates
    starts, and end at the generation's totals."""
    from sim.calibration.abc import ReproducibleSampler
    from sim.executors import SerialExecutor

    class Progress:
        def __init__(self):
            self.shown: list[tuple[int, int]] = []
            self.final: tuple[int, int] | None = None

        def running(self, t, runs, accepted):
            self.shown.append((runs, accepted))

        def __call__(self, t, accepted, evaluated, seconds, done):
            if done:
                self.final = (evaluated, accepted)

    progress = Progress()
    with SerialExecutor() as ex:
        sampler = ReproducibleSampler(ex, root_seed=3, progress=progress)
        sampler.acceptance = 0.9  # a first round far too small for a 25 % acceptance: several rounds follow
        sampler.sample_until_n_accepted(20, _coin_particle, t=1)
    runs, accepted = zip(*progress.shown)
    assert list(runs) == sorted(runs) and list(accepted) == sorted(accepted)
    assert progress.final is not None and accepted[-1] >= progress.final[1] == 20


@pytest.mark.parametrize("flag", [[], ["--fresh"]])
def test_backtest_evaluate_passes_fresh_to_each_origins_calibration(monkeypatch, flag):
    """A calibration of an origin made by an older model is refused with 'use --fresh': the option exists on
    `backtest --evaluate` and reaches the calibration (stopped at the first origin)."""
    import sim.calibration.evaluate as ev

    seen = {}

    class Stop(Exception):
        pass

    def fake_calibrate(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(ev, "calibrate", fake_calibrate)
    with pytest.raises(Stop):
        main(["backtest", "--evaluate", "--serial", "--quiet", *flag])
    assert seen["fresh"] is bool(flag)
