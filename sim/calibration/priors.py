"""Priors of the calibrated parameters: a TOML file (``calibration/priors.toml``), validated like a scenario.

Each ``[[prior]]`` names a dotted scenario key (as for ``--set``), a bounded
distribution over ``[low, high]`` (uniform, loguniform, triangular or
truncnormal, as a sweep's factors) and the source of its range in the terms of
``docs/sources.md`` ("estimate: ..." with its reasoning, or a citation of one of its sections).
A file with an unknown key, an impossible range, a key the scenario schema does
not have, or bounds outside the schema's own bounds is refused with one message
(file, key path, what is allowed).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError, field_validator, model_validator

from sim.experiment import Factor, _experiment_error
from sim.params import Strict, param, source_problems
from sim.posterior import concrete_data
from sim.scenario import Scenario, ScenarioError, apply_overrides, read_toml, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PRIORS = ROOT / "calibration" / "priors.toml"


class Prior(Factor):
    """One calibrated parameter: a dotted scenario key with a bounded distribution and the source of its range."""

    source: str = param(
        ...,
        unit="-",
        desc="where the range comes from: 'estimate: <reasoning>' or a `sources §<anchor>` citation",
        source="model choice",
        min_length=1,
    )

    @model_validator(mode="after")
    def _bounded(self) -> Prior:
        if self.distribution is None:
            raise ValueError(
                "a prior needs distribution = 'uniform' | 'loguniform' | 'triangular' | 'truncnormal' with low and high"
            )
        return self

    @field_validator("source")
    @classmethod
    def _cites(cls, v: str) -> str:
        from sim.docs import source_anchors

        problems = source_problems(v, set(source_anchors()))
        if problems:
            raise ValueError("; ".join(problems))
        return v

    def scipy_args(self) -> tuple[str, tuple[float, ...], dict[str, float]]:
        """The prior as a scipy.stats distribution: (name, shape arguments, loc and scale), as pyabc.RV takes it."""
        lo, hi = float(self.low), float(self.high)
        if self.distribution == "uniform":
            return "uniform", (), {"loc": lo, "scale": hi - lo}
        if self.distribution == "loguniform":
            return "loguniform", (lo, hi), {}
        if self.distribution == "triangular":
            return "triang", ((self.mode - lo) / (hi - lo),), {"loc": lo, "scale": hi - lo}
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        return "truncnorm", (a, b), {"loc": self.mean, "scale": self.sd}

    def scipy(self):
        """The prior as a frozen scipy.stats distribution."""
        from scipy import stats

        name, args, kwargs = self.scipy_args()
        return getattr(stats, name)(*args, **kwargs)


class Priors(Strict):
    """A priors file: the calibrated parameters."""

    description: str = param("", unit="-", desc="what these priors are for", source="model choice")
    prior: list[Prior] = param(..., unit="-", desc="one entry per calibrated parameter", source="model choice", min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Priors:
        keys = [p.key for p in self.prior]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"a key appears twice: {', '.join(twice)}")
        return self

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.prior]


def value_text(prior: Prior, value: float) -> str:
    """A prior's value as a ``--set`` value: whole numbers for integer keys."""
    return str(int(round(value))) if prior.integer else repr(float(value))


def load_priors(path: str | Path, scenario: Scenario) -> Priors:
    """Read and validate a priors file against the scenario it calibrates (every key, both bounds)."""
    path = Path(path)
    data = read_toml(path)
    try:
        priors = Priors.model_validate(data)
    except ValidationError as exc:
        raise _experiment_error(exc, path, Priors) from None
    base = concrete_data(scenario)
    for i, p in enumerate(priors.prior):
        for bound in ("low", "high"):
            value = getattr(p, bound)
            try:
                scenario_from_dict(apply_overrides(base, [f"{p.key}={value_text(p, value)}"]), check_data_files=False)
            except ScenarioError as exc:
                raise ScenarioError(path, f"prior.{i}.{bound}", f"{p.key} = {value:g}: {exc.key_path}: {exc.message}") from None
    return priors
