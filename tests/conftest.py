"""Shared small scenarios for the chain tests.

A *small* scenario is the national chain scaled down about 25-fold: no
municipal places file, a handful of scheduled locations of every type, a few
thousand arrivals a year, and no Spreidingswet cycle (tested on its own), so
that a half-year run takes a fraction of a second and hypothesis can try many.
Tests import :func:`small_scenario` directly (hypothesis cannot use
function-scoped fixtures) or take the ``small`` fixture.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sim.scenario import Scenario, _deep_merge, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"

# Locations that exist on the start date (opened before it) and their sizes (places).
SMALL_LOCATIONS = [
    {"type": "durable", "places": 1000, "opens": "2025-01-01"},
    {"type": "temporary", "places": 150, "opens": "2025-01-01", "closes": "2026-04-01"},
    {"type": "emergency", "places": 250, "opens": "2025-01-01", "closes": "2026-03-01"},
    {"type": "amv", "places": 120, "opens": "2025-01-01"},
]

SMALL = {
    "name": "small",
    "start_date": "2026-01-01",
    "horizon_years": 0.5,
    "inflow": {"first_applications_per_year": 3000, "family_reunification_per_year": 1500},
    "registration": {
        "centres": [
            {
                "name": "AC",
                "slots": 40,
                "norm_persons": 200,
                "physical_limit_persons": 260,
                "penalty_eur_per_day": 1000,
                "penalty_cap_eur": 20_000,
                "chairs_persons": 15,
                "night_shelter_places": 20,
            }
        ],
        "transfer_limit_per_day": 40,
    },
    "reception": {
        "emergency": {
            "size_places": [30, 80],
            "offers_per_week": 3.0,
            "half_saturation_persons": 80,
            "ceiling_places": 1000,
            "open_trigger_persons": 10,
            "close_buffer_persons": 50,
            "lead_time_days": [7, 21],
            "lease_days": [60, 240],
            "min_lease_days": 60,
        },
        "consolidation_moves_per_day": 30,
    },
    "procedure": {"decisions_per_week": 50},
    "housing": {"task_per_half_year": 1000},
    "initial_state": {
        "use_municipal_places": False,
        "ac_occupancy": 100,
        "occupancy_durable": 800,
        "occupancy_temporary": 100,
        "occupancy_emergency": 200,
        "occupancy_amv": 100,
        "status_holders_waiting": 200,
        "awaiting_departure": 60,
    },
    "capacity": {"scheduled": SMALL_LOCATIONS, "spreidingswet": {"enabled": False}},
}


def small_dict(**sections) -> dict:
    """The small scenario as a dict, with ``sections`` merged in (e.g. ``procedure={"decisions_per_week": 80}``)."""
    return _deep_merge(SMALL, sections)  # the loader's own merge, as `extends` would do it


def small_scenario(**sections) -> Scenario:
    """The small scenario, validated, with ``sections`` merged in."""
    return scenario_from_dict(small_dict(**sections))


@pytest.fixture
def small() -> Scenario:
    return small_scenario()


# ----------------------------------------------------------------------------- a real browser

CHROMIUM = Path("/usr/bin/chromium")  # .ci/run installs Debian's chromium; the tests that need it skip without it


def chromium_args(user_data: Path, width: int = 1280, height: int = 2000) -> list[str]:
    """Headless Chromium with its own profile, no network chatter, a window of ``width`` × ``height`` CSS pixels."""
    return [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={user_data}",
        f"--window-size={width},{height}",
    ]


def run_chromium(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)


def sweep_manifest(experiment):
    """The manifest of a sweep of ``experiment`` with no design point recorded (for frames a test makes by hand)."""
    from sim.manifest import SweepManifest

    return SweepManifest(
        experiment_name=experiment.name or "test",
        experiment_file=f"{experiment.name}.toml",
        experiment_hash="test",
        package_version="test",
        model_code_digest="test",
        created="",
        root_seed=experiment.root_seed,
        replications=experiment.replications,
        n_design_points=0,
        factors=[f.key for f in experiment.factors],
        outputs=experiment.outputs,
        resolved={"experiment": experiment, "design_points": []},
    )


def write_run_manifest(directory: Path, name: str, replications: int, root_seed: int = 1) -> None:
    """A valid ``manifest.json`` of ``opvangsim run`` for a results directory a test writes by hand."""
    from sim.manifest import RunManifest, write_manifest
    from sim.streams import replication_seed

    scenario = Scenario(name=name)
    manifest = RunManifest(
        scenario_name=name,
        scenario=scenario.canonical(),
        scenario_digest=scenario.digest(),
        scenario_file=f"{name}.toml",
        root_seed=root_seed,
        replications=replications,
        seeds=[replication_seed(root_seed, r) for r in range(replications)],
        package_version="test",
    )
    write_manifest(directory, manifest)
