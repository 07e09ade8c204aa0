"""opvangsim: a discrete-event simulation of the Dutch asylum reception chain.

from sim import load_scenario, simulate, replication_seed
scenario = load_scenario("scenarios/baseline.toml")
result = simulate(scenario, seed=replication_seed(1, 0), replication=0)  # `opvangsim run ... --seed 1`, replication 0
result.timeseries, result.summary

The names are imported on first use (PEP 562), so that ``import sim`` and
``opvangsim --help`` do not pay for the model's imports (scipy, pandas).
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opvangsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

_LAZY = {
    "Result": "sim.model",
    "simulate": "sim.model",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "load_scenario": "sim.scenario",
    "replication_seed": "sim.streams",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
