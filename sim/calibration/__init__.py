"""Calibration to history: ``opvangsim calibrate`` (ABC-SMC with pyabc) and the rolling-origin evaluation.

- :mod:`sim.calibration.priors`: the priors file (``calibration/priors.toml``), validated like a scenario;
- :mod:`sim.calibration.abc`: summary statistics, distance, simulator and a reproducible pyabc sampler;
- :mod:`sim.calibration.run`: one calibration and what it writes to ``calibration/<name>/``;
- :mod:`sim.calibration.command`: the command line;
- :mod:`sim.calibration.evaluate`: rolling-origin forecasts scored with scoringrules (``opvangsim backtest --evaluate``).

Scenarios use a posterior through ``[parameters] posterior`` (:mod:`sim.posterior`).
"""

from sim.calibration.command import add_arguments, main

__all__ = ["add_arguments", "main"]
