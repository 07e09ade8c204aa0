"""Verification against queueing theory and flow balances (sim.verification), each with a fixed seed.

Run alone with ``pytest -m verification``. The tolerance of each check is stated
in the check itself (sim/verification.py) and printed on failure.
"""

import functools
import math

import pytest

from sim import verification as v

pytestmark = pytest.mark.verification


def _assert(check):
    assert check.passed, (
        f"{check.name}: theory {check.theory:.4g}, simulated {check.simulated:.4g}, tolerance ±{check.tolerance:.3g} {check.unit} ({check.detail})"
    )


def test_erlang_c_formula_known_values():
    # Textbook values: M/M/1 waits with probability ρ; M/M/2 with a = 1 waits with probability 1/3.
    assert math.isclose(v.erlang_c(1, 0.7), 0.7)
    assert math.isclose(v.erlang_c(2, 1.0), 1 / 3)
    # M/M/1: Wq = ρ / (μ − λ)
    assert math.isclose(v.mmc_wait_days(0.5, 1.0, 1), 0.5 / 0.5)


def test_mmck_distribution_is_mm1k_geometric():
    # M/M/1/K: P(n) ∝ ρ^n for n = 0..K
    p = v.mmck_distribution(0.5, 1.0, 1, 4)
    rho = 0.5
    expected = [rho**n for n in range(5)]
    total = sum(expected)
    assert p == pytest.approx([e / total for e in expected])


def test_erlang_c_registration_wait():
    _assert(v.erlang_c_registration())


def test_centre_above_norm_probability():
    _assert(v.centre_above_norm())


@functools.lru_cache(maxsize=1)
def _little_checks():
    # the eight checks come from three runs: compute them once
    return tuple(v.little_checks())


@pytest.mark.parametrize("index", range(8))
def test_littles_law(index):
    _assert(_little_checks()[index])


def test_flow_balance_housing_and_departure():
    for check in v.flow_balance_checks():
        _assert(check)
