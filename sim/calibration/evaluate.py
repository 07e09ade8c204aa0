"""Rolling-origin evaluation (``opvangsim backtest --evaluate``): calibrate up to an origin, forecast, score.

For each origin T inside the shipped history (the ends of 2017, 2019 and 2021)
the 2015 back-test is calibrated on the observations up to T only (a smaller
budget than the default, stated in the output), then run from 2015 with the
posterior (one replication per particle, each taking the particle its seed
draws) to 24 months after T, and every shipped observation after T and up to
24 months later (never after 2022: those years are held out) is scored:

- CRPS of the ensemble (``scoringrules.crps_ensemble``), also divided by the
  observed value so that measures of different sizes can be averaged;
- whether the observation lies inside the 50 % and 90 % bands;
- the absolute percentage error of the median (its median over points is the MdAPE);

next to two reference forecasts: *persistence* (the last observation of the
same measure on or before T) and a *seasonal naive* forecast (the observation
of the same measure nearest to one year before the target date, within 45 days,
on or before T). A point forecast's CRPS is its absolute error. Lower bounds are
not scored (a bound is not a value to score against). Lead times are binned:
up to 6 months, 6–12 and 12–24 months.

The scored points and the forecast fans are stored in ``docs/evaluation/`` (small
CSV files); ``python -m sim.docs`` builds the table and the figure of
``docs/validation.md`` from them without running anything.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.backtest import CALIBRATION_END, load_observations
from sim.calibration.run import CALIBRATION_DIR, calibrate
from sim.scenario import SCENARIO_DIR, ScenarioError, load_scenario

ORIGINS = (dt.date(2017, 12, 31), dt.date(2019, 12, 31), dt.date(2021, 12, 31))
HORIZON_MONTHS = (6, 12, 24)
EVALUATION_DIR = Path(__file__).resolve().parents[2] / "docs" / "evaluation"
POINTS_FILE = EVALUATION_DIR / "rolling_origin_points.csv"
FANS_FILE = EVALUATION_DIR / "rolling_origin_fans.csv"
SETTINGS_FILE = EVALUATION_DIR / "rolling_origin_settings.csv"
SCENARIO = SCENARIO_DIR / "backtest_2015.toml"
# the evaluation's smaller budget (three calibrations): population × generations
EVAL_POPULATION = 30
EVAL_GENERATIONS = 3
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SEASONAL_WINDOW_DAYS = 45
FAN_MEASURES = ("occupancy_total", "status_holders_waiting")


def horizon_bin(lead_days: float) -> int:
    """The lead-time bin (months) of a target ``lead_days`` after the origin."""
    months = lead_days / 30.4375
    return next(h for h in HORIZON_MONTHS if months <= h + 1e-9)


def persistence(observations: pd.DataFrame, measure: str, origin: pd.Timestamp) -> float:
    """The last observation of ``measure`` on or before the origin (NaN if none)."""
    o = observations[(observations["measure"] == measure) & (observations["date"] <= origin)]
    return float(o.sort_values("date")["value"].iloc[-1]) if len(o) else np.nan


def seasonal_naive(observations: pd.DataFrame, measure: str, origin: pd.Timestamp, target: pd.Timestamp) -> float:
    """The observation of ``measure`` nearest to a year before ``target``, within the window, on or before the origin."""
    o = observations[(observations["measure"] == measure) & (observations["date"] <= origin)]
    if len(o) == 0:
        return np.nan
    gap = (o["date"] - (target - pd.Timedelta(days=365))).abs().dt.days
    best = gap.idxmin()
    return float(o.loc[best, "value"]) if gap[best] <= SEASONAL_WINDOW_DAYS else np.nan


def score_points(timeseries: pd.DataFrame, observations: pd.DataFrame, origin: dt.date, last: dt.date) -> pd.DataFrame:
    """One row per scored observation after ``origin`` up to ``last``: the ensemble's quantiles, CRPS,
    band coverage and error, and the two reference forecasts with their CRPS (= absolute error)."""
    import scoringrules as sr

    T = pd.Timestamp(origin)
    refs = observations[observations["kind"] != "lower_bound"]
    targets = refs[(refs["date"] > T) & (refs["date"] <= pd.Timestamp(last))]
    rows = []
    for ob in targets.itertuples(index=False):
        ens = timeseries.loc[timeseries["date"] == ob.date, ob.measure].to_numpy(float)
        if len(ens) == 0:
            continue
        q = np.quantile(ens, FAN_QUANTILES)
        lead = (ob.date - T).days
        p = persistence(refs, ob.measure, T)
        s = seasonal_naive(refs, ob.measure, T, ob.date)
        crps = float(sr.crps_ensemble(ob.value, ens))
        rows.append(
            {
                "origin": origin.isoformat(),
                "date": ob.date.date().isoformat(),
                "measure": ob.measure,
                "observed": float(ob.value),
                "lead_days": lead,
                "horizon_months": horizon_bin(lead),
                **{f"q{int(round(100 * a)):02d}": float(v) for a, v in zip(FAN_QUANTILES, q)},
                "crps": crps,
                "in_50": bool(q[1] <= ob.value <= q[3]),
                "in_90": bool(q[0] <= ob.value <= q[4]),
                "ape": abs(q[2] - ob.value) / ob.value,
                "persistence": p,
                "persistence_crps": abs(p - ob.value),
                "seasonal": s,
                "seasonal_crps": abs(s - ob.value),
            }
        )
    return pd.DataFrame(rows)


def fans(timeseries: pd.DataFrame, origin: dt.date) -> pd.DataFrame:
    """Monthly quantiles over replications of the fan measures, from a year before the origin to the end."""
    ts = timeseries[timeseries["date"] >= pd.Timestamp(origin) - pd.DateOffset(years=1)]
    ts = ts[ts["date"].dt.day.isin((1, 15))]  # two days a month: enough for a fan, small to store
    out = []
    for measure in FAN_MEASURES:
        q = ts.groupby("date")[measure].quantile(list(FAN_QUANTILES)).unstack()
        q.columns = [f"q{int(round(100 * a)):02d}" for a in q.columns]
        q = q.reset_index()
        q.insert(0, "measure", measure)
        q.insert(0, "origin", origin.isoformat())
        out.append(q)
    return pd.concat(out, ignore_index=True)


def summary_table(points: pd.DataFrame) -> pd.DataFrame:
    """Per origin and horizon bin, and over all origins per bin: coverage, MdAPE and mean relative CRPS of
    the model and the references (over the points where a reference exists, the model's on the same points)."""
    p = points.assign(rel_crps=points["crps"] / points["observed"])
    p["rel_persistence"] = p["persistence_crps"] / p["observed"]
    p["rel_seasonal"] = p["seasonal_crps"] / p["observed"]
    rows = []
    groups = [
        *(((o, h), g) for (o, h), g in p.groupby(["origin", "horizon_months"])),
        *((("all", h), g) for h, g in p.groupby("horizon_months")),
    ]
    for (origin, h), g in groups:
        has_p, has_s = g["persistence"].notna(), g["seasonal"].notna()
        rows.append(
            {
                "origin": origin,
                "horizon_months": int(h),
                "points": len(g),
                "coverage_50": float(g["in_50"].mean()),
                "coverage_90": float(g["in_90"].mean()),
                "mdape": float(g["ape"].median()),
                "rel_crps": float(g["rel_crps"].mean()),
                "points_persistence": int(has_p.sum()),
                "rel_crps_on_persistence_points": float(g.loc[has_p, "rel_crps"].mean()) if has_p.any() else np.nan,
                "rel_crps_persistence": float(g.loc[has_p, "rel_persistence"].mean()) if has_p.any() else np.nan,
                "mdape_persistence": float(g.loc[has_p, "rel_persistence"].median()) if has_p.any() else np.nan,
                "points_seasonal": int(has_s.sum()),
                "rel_crps_on_seasonal_points": float(g.loc[has_s, "rel_crps"].mean()) if has_s.any() else np.nan,
                "rel_crps_seasonal": float(g.loc[has_s, "rel_seasonal"].mean()) if has_s.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


def evaluate(
    scenario_file: Path,
    population: int,
    generations: int,
    seed: int,
    executor,
    out_dir: Path = EVALUATION_DIR,
    calibration_dir: Path = CALIBRATION_DIR,
    origins: tuple[dt.date, ...] = ORIGINS,
    quiet: bool = False,
    fresh: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibrate up to each origin, forecast 24 months with the posterior, score; write the CSV files.

    ``executor`` (sim.executors) runs the calibrations and the forecasts, one after the other."""
    from sim.backtest import run_replications
    from sim.calibration.priors import DEFAULT_PRIORS, load_priors

    observations = load_observations()
    observations = observations[observations["date"] <= pd.Timestamp(CALIBRATION_END)]  # held-out years never read
    all_points, all_fans, settings = [], [], []
    for origin in origins:
        scenario = load_scenario(scenario_file, [f"end_date={origin + dt.timedelta(days=1)}"])
        if origin <= scenario.start_date:
            raise ScenarioError(scenario_file, "start_date", f"the back-test must start before the origin {origin}")
        priors = load_priors(DEFAULT_PRIORS, scenario)
        name = f"evaluate_{origin.year}"
        print(
            f"origin {origin}: calibrating {scenario.name} up to it ({population} particles × {generations} generations)",
            file=sys.stderr,
        )
        cal = calibrate(
            scenario,
            origin,
            priors,
            calibration_dir / name,
            executor,
            population=population,
            generations=generations,
            seed=seed,
            quiet=quiet,
            fresh=fresh,
            command=f"opvangsim backtest --evaluate (origin {origin})",
        )
        last = min(origin + dt.timedelta(days=round(HORIZON_MONTHS[-1] * 30.4375)), CALIBRATION_END)
        posterior_path = (cal.path / "posterior.parquet").resolve()
        forecast = load_scenario(
            scenario_file, [f"end_date={last + dt.timedelta(days=1)}", f'parameters.posterior="{posterior_path}"']
        )
        replications = len(cal.posterior)
        print(f"origin {origin}: forecasting to {last} with the posterior ({replications} replications)", file=sys.stderr)
        ts = run_replications(forecast, replications, seed, executor)
        all_points.append(score_points(ts, observations, origin, last))
        all_fans.append(fans(ts, origin))
        settings.append(
            {
                "origin": origin.isoformat(),
                "scenario": Path(scenario_file).name,
                "population": population,
                "generations": generations,
                "seed": seed,
                "replications": replications,
                "forecast_to": last.isoformat(),
                "final_epsilon": cal.manifest["generation_table"][-1]["epsilon"],
            }
        )
    points = pd.concat(all_points, ignore_index=True)
    fan = pd.concat(all_fans, ignore_index=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    points.to_csv(out_dir / POINTS_FILE.name, index=False, float_format="%.6g")
    fan.to_csv(out_dir / FANS_FILE.name, index=False, float_format="%.6g")
    pd.DataFrame(settings).to_csv(out_dir / SETTINGS_FILE.name, index=False, float_format="%.6g")
    return points, fan


def main(args, executor) -> int:
    """``opvangsim backtest --evaluate`` on ``executor``."""
    scenario = Path(args.scenario)
    if scenario.resolve() == (SCENARIO_DIR / "backtest_2022.toml").resolve():
        scenario = SCENARIO  # the default back-test starts in 2022: the origins need the one from 2015
    population = args.population or EVAL_POPULATION
    generations = args.generations or EVAL_GENERATIONS
    points, _ = evaluate(scenario, population, generations, args.seed, executor, quiet=args.quiet, fresh=args.fresh)
    table = summary_table(points)
    print(format_summary(table))
    print(
        f"\nwritten to {POINTS_FILE.parent}/ ({POINTS_FILE.name}, {FANS_FILE.name}, {SETTINGS_FILE.name}); run `python -m sim.docs` for docs/validation.md"
    )
    return 0


def format_summary(table: pd.DataFrame) -> str:
    """The summary as text (coverage and MdAPE in per cent; CRPS relative to the observed value)."""
    head = f"{'origin':<10} {'h (m)':>5} {'n':>3} {'cov50':>6} {'cov90':>6} {'MdAPE':>6} {'CRPS/obs':>8} {'persist.':>8} {'seasonal':>8}"
    lines = [head, "-" * len(head)]
    for r in table.itertuples(index=False):
        lines.append(
            f"{r.origin:<10} {r.horizon_months:>5} {r.points:>3} {100 * r.coverage_50:>5.0f}% {100 * r.coverage_90:>5.0f}% "
            f"{100 * r.mdape:>5.1f}% {r.rel_crps:>8.3f} {_f(r.rel_crps_persistence):>8} {_f(r.rel_crps_seasonal):>8}"
        )
    return "\n".join(lines)


def _f(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.3f}"
