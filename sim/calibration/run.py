"""One calibration: priors, targets, pyabc's ABC-SMC, and what it writes to ``calibration/<name>/``.

``calibration/<name>/`` holds

- ``manifest.json``: the cut-off, the scenario (digest and file), the priors as
  resolved, digests of the observations and input data, the targets, the seed,
  the budget (population, generations), the package version and model-code
  digest, and per generation its epsilon, acceptance rate and effective sample size;
- ``abc.db``: pyabc's database (every generation's particles, distances, statistics
  and the seed of each particle's run);
- ``posterior.parquet``: the last generation, one row per particle (the dotted
  keys as columns, plus ``weight``): what a scenario's ``[parameters] posterior`` reads;
- ``predictive.parquet``: the same particles' simulated values at the observed
  points (posterior predictive check), with each particle's seed and distance.

A calibration killed at any moment loses at most the generation it was in: run
the same command again and it continues from the last generation in the
database (pyabc's ``load``), to the same result an uninterrupted run gives. A
directory written with other settings is refused (``--fresh`` starts again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.backtest import CALIBRATION_END, OBSERVATIONS, load_observations
from sim.calibration.abc import DefensiveTransition, Distance, ReproducibleSampler, Simulator, Targets, to_values
from sim.calibration.priors import Priors, value_text
from sim.posterior import WEIGHT
from sim.scenario import Scenario, ScenarioError

CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "calibration"
# The default budget: measured on two cores (README, docs/model.md "Calibration").
DEFAULT_POPULATION = 60
DEFAULT_GENERATIONS = 4
DEFENSIVE_SHARE = 0.2  # share of proposals drawn from the prior (sim.calibration.abc.DefensiveTransition)


@dataclass
class Calibration:
    """What a finished calibration returns."""

    path: Path
    posterior: pd.DataFrame
    predictive: pd.DataFrame
    manifest: dict


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def identity(
    scenario: Scenario, until: dt.date, priors: Priors, targets: Targets, population: int, seed: int, shipped: bool = True
) -> dict:
    """The settings that decide a calibration's result: a resume must find the same."""
    from sim import __version__
    from sim.experiment import model_code_digest

    inputs = {}
    if scenario.inflow.mode == "replay" and scenario.inflow.replay_file:
        replay = scenario.resolve_path(scenario.inflow.replay_file)
        inputs[replay.name] = _sha256(replay)
    return {
        "cut_off": until.isoformat(),
        "scenario_name": scenario.name,
        "scenario_digest": scenario.digest(),
        "priors": priors.model_dump(mode="json"),
        "observations_file": OBSERVATIONS.name if shipped else "(given by the caller)",
        "observations_digest": _sha256(OBSERVATIONS) if shipped else None,
        "targets_digest": hashlib.sha256(targets.frame().to_csv(index=False).encode()).hexdigest(),
        "input_digests": inputs,
        "seed": int(seed),
        "population": int(population),
        "method": f"ABC-SMC on the prior's unit cube, defensive multivariate normal transition (prior share {DEFENSIVE_SHARE})",
        "package_version": __version__,
        "model_code_digest": model_code_digest(),
    }


def _pyabc_prior(priors: Priors):
    """The priors on the unit cube pyabc samples (each parameter's prior CDF; sim.calibration.abc.Simulator)."""
    import pyabc

    return pyabc.Distribution(**{p.key: pyabc.RV("uniform", 0, 1) for p in priors.prior})


class Progress:
    """One progress bar per generation on stderr: accepted particles, epsilon and acceptance rate."""

    def __init__(self, population: int, epsilon, quiet: bool):
        self.population = population
        self.epsilon = epsilon
        self.quiet = quiet
        self.bar = None
        self.lines: list[str] = []

    def _bar(self, t: int):
        from tqdm import tqdm

        if self.bar is None and not self.quiet:
            label = "prior sample" if t < 0 else f"generation {t}"
            self.bar = tqdm(total=self.population, desc=label, unit="particle", file=sys.stderr, leave=False)
        return self.bar

    def running(self, t: int, runs: int, accepted: int) -> None:
        """Runs finished so far in this generation (accepted counted in any order: an estimate until the round ends)."""
        bar = self._bar(t)
        if bar is not None:
            eps = self.epsilon(t) if t >= 0 else float("nan")
            bar.n = min(accepted, self.population)
            bar.set_postfix_str(f"ε {eps:.4g}, {runs} runs, acceptance {accepted / max(runs, 1):.0%}")

    def __call__(self, t: int, accepted: int, evaluated: int, seconds: float, done: bool) -> None:
        label = "prior sample" if t < 0 else f"generation {t}"
        eps = self.epsilon(t) if t >= 0 else float("nan")
        rate = accepted / evaluated if evaluated else 0.0
        bar = self._bar(t)
        if bar is not None:
            bar.n = accepted
            bar.set_postfix_str(f"ε {eps:.4g}, acceptance {rate:.0%}")
        if done:
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            line = f"{label}: ε {eps:.4g}, accepted {accepted} of {evaluated} ({rate:.0%}), {seconds:.0f} s"
            self.lines.append(line)
            if not self.quiet:
                print(line, file=sys.stderr, flush=True)


def calibrate(
    scenario: Scenario,
    until: dt.date,
    priors: Priors,
    out: Path,
    executor,
    population: int = DEFAULT_POPULATION,
    generations: int = DEFAULT_GENERATIONS,
    seed: int = 1,
    fresh: bool = False,
    quiet: bool = False,
    command: str = "",
    observations: pd.DataFrame | None = None,
) -> Calibration:
    """Run (or resume) an ABC-SMC calibration of ``priors`` against the observations up to ``until``.

    ``observations``: the points to fit (columns date, measure, value, kind); default the shipped ones.
    """
    import pyabc

    shipped = observations is None
    if shipped and until > CALIBRATION_END:
        raise ScenarioError(None, "--until", f"observations after {CALIBRATION_END} are held out: give a cut-off on or before it")
    end = scenario.start_date + dt.timedelta(days=scenario.horizon_days)
    if until >= end or until < scenario.start_date:
        raise ScenarioError(None, "--until", f"{until} lies outside the run ({scenario.start_date} to {end})")
    observations = load_observations() if shipped else observations
    targets = Targets.from_observations(observations, scenario, pd.Timestamp(until))
    if len(targets) == 0:
        raise ScenarioError(None, "--until", f"no observation between {scenario.start_date} and {until}: nothing to calibrate on")
    ident = identity(scenario, until, priors, targets, population, seed, shipped)
    out = Path(out)
    db = out / "abc.db"
    manifest_path = out / "manifest.json"
    if fresh and out.exists():
        shutil.rmtree(out)
    resume = manifest_path.exists() and db.exists()
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        differs = sorted(k for k in ident if old.get("identity", {}).get(k) != ident[k])
        if differs:
            raise ScenarioError(
                None,
                str(out),
                f"holds a calibration with other settings ({', '.join(differs)} differ); use --fresh to start again or another --name",
            )
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC).isoformat()
    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyabc's own log: our progress says the same, shorter
    # pyabc compares generation 1's epsilon with generation 0's infinite one (inf - inf): harmless, silenced
    warnings.filterwarnings("ignore", "invalid value encountered in scalar subtract", RuntimeWarning)

    simulator = Simulator(scenario, priors, targets)
    distance = Distance(targets)
    x0 = {"v": targets.observed, "seed": -1}
    with executor:
        sampler = ReproducibleSampler(executor, seed)
        abc = pyabc.ABCSMC(
            simulator,
            _pyabc_prior(priors),
            distance,
            population_size=population,
            sampler=sampler,
            transitions=DefensiveTransition(share=DEFENSIVE_SHARE),
            # generation 0 accepts every draw from the prior (no separate calibration sample); each later
            # epsilon is the weighted median distance of the generation before, also the first one after a resume
            eps=pyabc.epsilon.QuantileEpsilon(initial_epsilon="from_sample" if resume else np.inf, alpha=0.5),
        )
        progress = Progress(population, lambda t: abc.eps(t), quiet)
        sampler.progress = progress
        if resume:
            history = abc.load("sqlite:///" + str(db.resolve()), 1)
            done = history.max_t + 1
        else:
            history = abc.new("sqlite:///" + str(db.resolve()), x0)
            done = 0
        manifest = {
            "kind": "calibration",
            "identity": ident,
            "scenario_file": scenario.source_file,
            "generations": int(generations),
            "command": command,
            "targets": targets.frame().to_dict(orient="list"),
            "status": "running",
            "started": started,
        }
        manifest_path.write_text(json.dumps(manifest, indent=1, default=str))
        if done and not quiet:
            print(f"resuming {out}: {done} generation(s) in {db.name}", file=sys.stderr)
        t0 = time.perf_counter()
        if generations > done:
            history = abc.run(max_nr_populations=generations - done)
        wall = time.perf_counter() - t0
    posterior, predictive = _last_population(history, priors, targets)
    manifest.update(
        status="finished",
        finished=dt.datetime.now(dt.UTC).isoformat(),
        wall_seconds_this_session=round(wall, 1),
        simulations_this_session=sampler.simulations,
        generation_table=_generations(history),
        particles=len(posterior),
    )
    _write_frame(posterior, out / "posterior.parquet")
    _write_frame(predictive, out / "predictive.parquet")
    manifest_path.write_text(json.dumps(manifest, indent=1, default=str))
    return Calibration(out, posterior, predictive, manifest)


def _write_frame(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)  # one rename: a reader never sees half a file


def _last_population(history, priors: Priors, targets: Targets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last generation: parameters and weight per particle, and the particles' simulated values."""
    population = history.get_population()
    rows, pred = [], []
    names = [f"{m}@{d}" for m, d in zip(targets.measures, targets.dates)]
    for i, particle in enumerate(population.particles):
        on_scale = to_values(priors, particle.parameter)  # pyabc's particles live on the unit cube
        values = {p.key: float(value_text(p, on_scale[p.key])) for p in priors.prior}
        rows.append({**values, WEIGHT: float(particle.weight)})
        sim = np.asarray(particle.sum_stat["v"], float)
        pred.append(
            {
                "particle": i,
                WEIGHT: float(particle.weight),
                "seed": int(particle.sum_stat["seed"]),
                "distance": float(particle.distance),
                **dict(zip(names, sim)),
            }
        )
    posterior = pd.DataFrame(rows)
    posterior[WEIGHT] /= posterior[WEIGHT].sum()
    predictive = pd.DataFrame(pred)
    predictive[WEIGHT] /= predictive[WEIGHT].sum()
    return posterior, predictive


def _generations(history) -> list[dict]:
    """Per generation: epsilon, particles, evaluations, acceptance rate and effective sample size."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    out = []
    for row in pops.itertuples(index=False):
        if row.t < 0:
            continue
        _, w = history.get_distribution(t=int(row.t))
        n = len(w)
        out.append(
            {
                "generation": int(row.t),
                "epsilon": float(row.epsilon),
                "particles": n,
                "evaluations": int(row.samples),
                "acceptance_rate": n / row.samples if row.samples else None,
                "ess": float(effective_sample_size(np.asarray(w))),
            }
        )
    return out


def posterior_summary(posterior: pd.DataFrame) -> pd.DataFrame:
    """Per key: weighted mean and 5 %, 50 %, 95 % quantiles (the 90 % credible interval)."""
    from sim.analysis.stats import weighted_quantiles

    w = posterior[WEIGHT].to_numpy(float)
    rows = []
    for key in [c for c in posterior.columns if c != WEIGHT]:
        x = posterior[key].to_numpy(float)
        q05, q50, q95 = weighted_quantiles(x, w, (0.05, 0.5, 0.95))
        rows.append({"key": key, "mean": float(np.sum(w * x) / w.sum()), "q05": q05, "median": q50, "q95": q95})
    return pd.DataFrame(rows)
