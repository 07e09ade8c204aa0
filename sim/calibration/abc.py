"""ABC-SMC with pyabc: the simulator, the summary statistics, the distance and a reproducible sampler.

Summary statistics are the simulated values at the observed points up to the
cut-off (:class:`Targets`): one replication per particle, with its seed drawn
from pyabc's sampling state and recorded next to the statistics. The distance
(:class:`Distance`) is the mean absolute relative error over the points (a lower
bound counts only when the simulation falls below it), with the nights people
slept outside Ter Apel counted as nights: the share of observed nights outside
on which the simulation has nobody outside, or the reverse, is one term.

pyabc's own parallel samplers reseed their workers from the operating system,
so two calibrations with the same seed differ. :class:`ReproducibleSampler`
instead gives candidate ``i`` of round ``k`` of generation ``t`` the seed
``SeedSequence([root, t, k, i])`` and accepts candidates in that order, on any
executor of :mod:`sim.executors` (local processes or Dask): the same seed gives
the same posterior, and a resumed calibration continues as an uninterrupted one.
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass

import cloudpickle
import numpy as np
import pandas as pd
from pyabc.sampler import Sampler
from pyabc.transition import MultivariateNormalTransition

from sim.calibration.priors import Priors, value_text
from sim.posterior import concrete_data
from sim.scenario import Scenario, apply_overrides, scenario_from_dict

OUTSIDE = "sleeping_outside"


@dataclass(frozen=True)
class Targets:
    """The observed points a calibration fits: inside the run and not after the cut-off."""

    days: np.ndarray  # day of the run of each point
    measures: tuple[str, ...]
    observed: np.ndarray
    lower_bound: np.ndarray  # bool: the observation is a lower bound
    dates: tuple[str, ...]

    @classmethod
    def from_observations(cls, observations: pd.DataFrame, scenario: Scenario, until: pd.Timestamp) -> Targets:
        start = pd.Timestamp(scenario.start_date)
        end = start + pd.Timedelta(days=scenario.horizon_days)
        obs = observations[(observations["date"] >= start) & (observations["date"] < end) & (observations["date"] <= until)]
        obs = obs.sort_values(["measure", "date"], kind="stable")
        return cls(
            days=((obs["date"] - start).dt.days).to_numpy(np.int64),
            measures=tuple(obs["measure"]),
            observed=obs["value"].to_numpy(float),
            lower_bound=(obs["kind"] == "lower_bound").to_numpy(bool),
            dates=tuple(d.date().isoformat() for d in obs["date"]),
        )

    def __len__(self) -> int:
        return len(self.days)

    def simulated(self, timeseries: pd.DataFrame) -> np.ndarray:
        """The simulated values at the observed points (one run's daily time series)."""
        out = np.empty(len(self.days))
        for measure in set(self.measures):
            sel = np.array([m == measure for m in self.measures])
            out[sel] = timeseries[measure].to_numpy(float)[self.days[sel]]
        return out

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"date": self.dates, "measure": self.measures, "observed": self.observed, "lower_bound": self.lower_bound}
        )


class Distance:
    """Mean absolute relative error over the observed points; the nights outside Ter Apel as one count term."""

    def __init__(self, targets: Targets):
        self.obs = targets.observed
        self.lower = targets.lower_bound
        self.outside = np.array([m == OUTSIDE for m in targets.measures])
        self.nights_observed = int(np.count_nonzero(self.obs[self.outside] > 0))

    def terms(self, sim: np.ndarray) -> np.ndarray:
        """One error per observed point (relative to its value), and one for the nights outside."""
        rest = ~self.outside
        obs, s = self.obs[rest], sim[rest]
        err = (s - obs) / obs
        err = np.where(self.lower[rest], np.maximum(-err, 0.0), np.abs(err))
        if self.nights_observed:
            nights = np.count_nonzero(sim[self.outside] > 0)
            err = np.append(err, abs(nights - self.nights_observed) / self.nights_observed)
        return err

    def __call__(self, x: dict, x0: dict) -> float:
        sim = np.asarray(x["v"], float)
        if not np.all(np.isfinite(sim)):
            return math.inf  # a run that failed is never accepted
        return float(np.mean(self.terms(sim)))


def to_values(priors: Priors, unit: dict) -> dict[str, float]:
    """A particle on the unit cube (each coordinate the prior's CDF of its parameter) as parameter values."""
    return {p.key: float(p.scipy().ppf(min(max(float(unit[p.key]), 0.0), 1.0))) for p in priors.prior}


class Simulator:
    """pyabc's model: one replication of the scenario with a particle's parameters, at the observed points.

    pyabc works on the unit cube: coordinate k of a particle is the prior's CDF of parameter k, so
    every prior is uniform there (a loguniform prior's density no longer varies 50-fold across its
    range) and the transition's kernels have comparable widths in every direction.
    """

    def __init__(self, scenario: Scenario, priors: Priors, targets: Targets):
        self.base = concrete_data(scenario)  # the particle sets the parameters
        self.priors = priors
        self.targets = targets

    def scenario(self, unit: dict) -> Scenario:
        """The scenario with a particle's values (integer keys rounded as the schema needs)."""
        values = to_values(self.priors, unit)
        overrides = [f"{p.key}={value_text(p, values[p.key])}" for p in self.priors.prior]
        return scenario_from_dict(apply_overrides(self.base, overrides), check_data_files=False)

    def __call__(self, parameters) -> dict:
        from sim.model import simulate

        # the run's seed comes from pyabc's sampling state (seeded per candidate by ReproducibleSampler)
        seed = int(np.random.randint(0, 2**62, dtype=np.int64))
        try:
            result = simulate(self.scenario(dict(parameters)), seed=seed)
            values = self.targets.simulated(result.timeseries)
        except Exception as exc:  # a failed run is rejected (infinite distance), not fatal to the calibration
            print(f"calibrate: a run failed (seed {seed}): {type(exc).__name__}: {exc}", file=sys.stderr)
            values = np.full(len(self.targets), np.nan)
        return {"v": values, "seed": seed}


class DefensiveTransition(MultivariateNormalTransition):
    """pyabc's multivariate normal kernel density, mixed with the prior (defensive importance sampling).

    A share of the proposals comes from the prior (uniform on the unit cube) and the proposal density
    is the mixture ``(1 - share) · KDE + share · prior``, so a particle's importance weight
    prior / proposal is at most 1 / share. With many parameters and a small population the plain
    kernel's weights collapse onto a handful of particles (an effective sample size of 1–8 of 60 on
    the 14 parameters of the back-test); the mixture keeps them spread (Hesterberg 1995, "Weighted
    average importance sampling and defensive mixture distributions", Technometrics 37).
    """

    def __init__(self, share: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.share = share

    def rvs_single(self):
        if np.random.random() < self.share:  # pyabc's sampling state, seeded per candidate
            return pd.Series(np.random.random(len(self.X.columns)), index=self.X.columns)
        return super().rvs_single()

    def pdf(self, x):
        return (1 - self.share) * super().pdf(x) + self.share  # the prior's density on the unit cube is 1


def candidate_seed(root: int, t: int, index: int) -> int:
    """The seed of candidate ``index`` of generation ``t`` (t = -1: a calibration sample from the prior)."""
    return int(np.random.SeedSequence([int(root), t + 1, index]).generate_state(1)[0])


def evaluate_candidates(item: tuple[bytes, list[tuple[int, int]]]) -> list[tuple[int, object]]:
    """Run candidates on a worker: each with pyabc's global state seeded by its own seed (pyabc draws from it)."""
    payload, jobs = item
    simulate_one = cloudpickle.loads(payload)
    out = []
    for index, seed in jobs:
        np.random.seed(seed)
        random.seed(seed)
        out.append((index, simulate_one()))
    return out


class ReproducibleSampler(Sampler):
    """Candidates in a fixed order with fixed seeds, on an executor of :mod:`sim.executors`.

    ``progress(t, accepted, evaluated, seconds, done)`` is called after each round of candidates and at
    the end of each generation (``t`` = -1 is a calibration sample from the prior), and
    ``progress.running(t, runs, accepted)`` as runs finish within a round.
    """

    def __init__(self, executor, root_seed: int, progress=None):
        super().__init__()
        self.executor = executor
        self.root_seed = int(root_seed)
        self.progress = progress
        self.acceptance = 0.5  # last generation's acceptance rate: sizes the first round of the next
        self.simulations = 0  # every run done, also those past the n-th acceptance of a round (wall time)

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        payload = cloudpickle.dumps(simulate_one)
        sample = self._create_empty_sample()
        accepted = evaluated = 0
        t0 = time.perf_counter()
        workers = max(1, int(getattr(self.executor, "workers", 1)))
        while accepted < n and evaluated < max_eval:
            # a round: the next m candidates in order (how many is only a matter of speed: the first n
            # accepted in candidate order are the same whatever the rounds' sizes)
            rate = 1.0 if all_accepted else max(self.acceptance, 0.02)
            m = max(workers, min(int(math.ceil((n - accepted) / rate * 1.1)), 20 * n))
            jobs = [(i, candidate_seed(self.root_seed, t, i)) for i in range(evaluated, evaluated + m)]
            size = max(1, math.ceil(m / (4 * workers)))
            items = [(payload, jobs[a : a + size]) for a in range(0, m, size)]
            results: dict[int, object] = {}
            for batch in self.executor.imap_unordered(evaluate_candidates, items):
                results.update(batch)
                if self.progress:
                    # counted over the whole generation: the rounds before this one and this one's finished runs
                    self.progress.running(t, evaluated + len(results), accepted + sum(p.accepted for p in results.values()))
            self.simulations += m
            for i, _ in jobs:  # in candidate order, whatever order they finished in
                particle = results[i]
                sample.append(particle)
                evaluated += 1
                if particle.accepted:
                    accepted += 1
                    if accepted == n:
                        break
            if self.progress:
                self.progress(t, accepted, evaluated, time.perf_counter() - t0, False)
        if not all_accepted and evaluated:
            self.acceptance = accepted / evaluated
        self.nr_evaluations_ = evaluated
        if sample.n_accepted < n:
            sample.ok = False
        if self.progress:
            self.progress(t, accepted, evaluated, time.perf_counter() - t0, True)
        return sample
