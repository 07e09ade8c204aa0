"""opvangsim: a discrete-event simulation of the Dutch asylum reception chain.

from sim import load_scenario, simulate
result = simulate(load_scenario("scenarios/baseline.toml"), seed=1)
result.timeseries, result.summary
"""

from importlib.metadata import PackageNotFoundError, version

from sim.model import Result, simulate
from sim.scenario import Scenario, ScenarioError, load_scenario

try:
    __version__ = version("opvangsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["Result", "Scenario", "ScenarioError", "load_scenario", "simulate", "__version__"]
