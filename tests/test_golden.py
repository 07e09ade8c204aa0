"""Golden regression results: the four fixed runs of :mod:`sim.golden` give their stored digests.

A change that alters a model result fails here, naming the frames and columns that moved. If
the change is meant, regenerate with ``python -m sim.golden --update`` and say why in the commit.
"""

from __future__ import annotations

import json

import pytest

from sim import golden


@pytest.mark.parametrize("case", list(golden.CASES))
def test_golden_results_are_unchanged(case):
    path = golden.path_of(case)
    assert path.exists(), f"{path} missing: run python -m sim.golden --update"
    diff = golden.differences(json.loads(path.read_text()), golden.CASES[case]())
    assert not diff, f"{case} changed (regenerate with python -m sim.golden --update and say why):\n" + "\n".join(diff[:40])


def test_the_comparison_names_what_changed():
    a = {"digests": {"summary": {"x": "1", "y": "2"}}, "numbers": {"m": 1.0}}
    b = {"digests": {"summary": {"x": "1", "y": "3"}, "cycles": {}}, "numbers": {"m": 2.0}}
    assert golden.differences(a, a) == []
    assert set(golden.differences(a, b)) == {"summary.y: changed", "cycles: new", "m: 1.0 -> 2.0"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in golden.SCENARIOS.glob("*.toml")))
def test_every_shipped_scenario_runs_its_whole_horizon(name):
    """A lease keyed -1 once crashed only in year 7 of the baseline: run each shipped scenario to its end."""
    from sim.model import simulate
    from sim.scenario import load_scenario

    r = simulate(load_scenario(golden.SCENARIOS / f"{name}.toml"), seed=3)
    assert len(r.timeseries) == load_scenario(golden.SCENARIOS / f"{name}.toml").horizon_days
