"""Every parameter acts: perturb each field of the scenario schema on a short run and the outputs change.

A field that changes nothing is either dead (remove it) or decorative (say so): the few that only
describe are listed in DESCRIPTIVE with the reason. Each field is perturbed in a world where its
mechanism is at work (WORLDS; e.g. the Spreidingswet's fields in a national run that spans a cycle, a
responsive IND's fields with production_mode = 'responsive'), and the outputs compared are the run's
summary, its daily time series and its cycle rows, with the same seed.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import json
import re
from typing import Any

import pandas as pd
import pytest
from conftest import BASELINE, SMALL

from sim.model import simulate
from sim.scenario import MISSING, Scenario, ScenarioError, _deep_merge, field_docs, lookup, read_toml, scenario_from_dict

# Fields that describe and do not act, with the reason.
DESCRIPTIVE = {
    "name": "a label in outputs and reports",
    "description": "a label in reports",
    "registration.centres[].name": "a label (the centre's name in outputs)",
    "capacity.spreidingswet.project_types.*.source": "documents where a project type's numbers come from",
    "inflow.replay_file": "names a file: its contents act (the back-test replays it; golden results)",
    "initial_state.municipalities_file": "names a file: its contents act (every national run reads it)",
    "parameters.posterior": "names a file: its particles act (tests/test_calibration.py: replications run with the drawn values)",
    "parameters.fixed": "acts only with a posterior: keeps the scenario's own values of those keys (tests/test_calibration.py)",
    "capacity.scheduled[].municipality": "where a scheduled location is: acts only on the Spreidingswet's count, which a scheduled location enters only when it is durable and its municipality has a task",
}

# A stressed small world: two centres (a second one with room, for the buses), a shock, a request, an
# outcome change, a task and production change, a responsive-capable IND; one year.
STRESSED = _deep_merge(
    SMALL,
    {
        "horizon_years": 1.0,
        "evaluation": {"from_date": "2026-03-01"},
        "inflow": {
            "first_applications_per_year": 4500,
            "shocks": [{"start": "2026-05-01", "weeks": 4, "persons": 400}],
        },
        "registration": {
            "centres": [
                {**SMALL["registration"]["centres"][0], "share_of_arrivals": 0.9},
                {
                    "name": "B",
                    "share_of_arrivals": 0.1,
                    "slots": 10,
                    "norm_persons": 100,
                    "physical_limit_persons": 120,
                    "chairs_persons": 5,
                    "night_shelter_places": 5,
                },
            ],
            "overflow_transport_per_day": 30,
        },
        "reception": {
            "emergency": {"offers_per_week": 2.0, "half_saturation_persons": 200},
            "requests": [{"date": "2026-04-01", "kind": "crisis", "places": 150, "units": 3}],
            "acquisition": {"min_gap_places": 50, "max_places_per_year": 1500},
        },
        "procedure": {
            "decisions_per_week": 60,
            "production_changes": [{"date": "2026-06-01", "decisions_per_week": 70}],
            "outcome_changes": [{"date": "2026-05-01", "permit": 0.5, "rejection": 0.3, "dublin": 0.2}],
            "family": {
                "applications_per_year": 1500,
                "decisions_per_week": 25,
                "initial_backlog": 500,
                "production_changes": [{"date": "2026-06-01", "decisions_per_week": 30}],
            },
        },
        "housing": {"task_changes": [{"date": "2026-07-01", "persons_per_half_year": 1200}]},
        "capacity": {
            "scheduled": [
                *SMALL["capacity"]["scheduled"],
                {"type": "crisis", "places": 60, "opens": "2026-02-01", "closes": "2026-10-01"},
            ]
        },
    },
)


def national(**over) -> dict:
    """The baseline scaled down about tenfold (places, people, inflow), two years: a cycle runs to its deadline.
    Its parameters are its own, not drawn from the baseline's posterior: a drawn value would replace the one
    perturbed."""
    data = read_toml(BASELINE)
    data.pop("parameters", None)
    return _deep_merge(
        data,
        _deep_merge(
            {
                "end_date": "2028-01-01",
                "inflow": {"first_applications_per_year": 2500, "family_reunification_per_year": 1600},
                "registration": {
                    "transfer_limit_per_day": 60,
                    "centres": [{"slots": 60, "norm_persons": 200, "physical_limit_persons": 230}],
                },
                "reception": {
                    "emergency": {"half_saturation_persons": 200, "close_buffer_persons": 150, "size_places": [20, 150]}
                },
                "procedure": {
                    "decisions_per_week": 42,
                    "family": {"applications_per_year": 1200, "decisions_per_week": 23, "initial_backlog": 1200},
                },
                "housing": {"task_per_half_year": 1300},
                "initial_state": {
                    "regular_places_scale": 0.1,
                    "emergency_places_scale": 0.1,
                    "ac_places_in_regular": 200,
                    "ac_occupancy": 180,
                    "occupancy_durable": 4050,
                    "occupancy_emergency": 2400,
                    "occupancy_amv": 230,
                    "status_holders_waiting": 1700,
                    "awaiting_departure": 500,
                },
                "capacity": {"spreidingswet": {"first_cycle_tasks": "estimate", "report_municipalities": True}},
            },
            over,
        ),
    )


def enforced(**over) -> dict:
    return national(**_deep_merge({"capacity": {"spreidingswet": {"enforcement": {"enforced": True}}}}, over))


def tight_centre(**over) -> dict:
    """The scaled-down national world with a small application centre that overflows: pressure is felt."""
    centre = {
        "registration": {
            "transfer_limit_per_day": 25,
            "centres": [{"slots": 60, "norm_persons": 60, "physical_limit_persons": 80}],
        }
    }
    return national(**_deep_merge(centre, over))


def responsive(**over) -> dict:
    ind = {"procedure": {"production_mode": "responsive", "responsive_lag_days": 20, "responsive_target_weeks": 8}}
    return _deep_merge(STRESSED, _deep_merge(ind, over))


def calm() -> dict:
    """The small world at a lower inflow over 1.5 years: emergency locations are found, then no longer needed."""
    search = {"offers_per_week": 6.0, "half_saturation_persons": 50, "lease_days": [60, 400], "min_lease_days": 60}
    return _deep_merge(
        SMALL, {"horizon_years": 1.5, "inflow": {"first_applications_per_year": 2500}, "reception": {"emergency": search}}
    )


def stressed(**over) -> dict:
    return _deep_merge(STRESSED, over)


FAMILY_ARRIVALS = {"procedure": {"family": {"drives_arrivals": True}}}

# Which world a field acts in, and what else it needs (first match wins; keys use [] for list items).
WORLDS: list[tuple[str, Any]] = [
    ("capacity.spreidingswet.enforcement.strategic_waiting_share_enforced", enforced),
    ("capacity.spreidingswet.enforcement.compulsion_delay_months", enforced),
    ("capacity.spreidingswet.decision_after_months", enforced),
    ("capacity.spreidingswet.enforcement.pressure_*", tight_centre),
    ("capacity.spreidingswet.enforcement.late_start_probability", lambda: national(end_date="2030-01-01")),
    (
        "capacity.spreidingswet.political_uncertainty.*",
        lambda: national(capacity={"spreidingswet": {"political_uncertainty": {"start": "2026-03-01", "end": "2027-01-01"}}}),
    ),
    (
        "capacity.spreidingswet.first_cycle_*",
        lambda: national(capacity={"spreidingswet": {"first_cycle_tasks": "split", "first_cycle_national_task": 9600}}),
    ),
    (
        "capacity.spreidingswet.amv_location_max_size",
        lambda: national(capacity={"spreidingswet": {"first_cycle_tasks": "task_2026"}}),
    ),
    ("capacity.spreidingswet.count_pipeline_within_months", lambda: national(end_date="2029-06-01")),
    (
        "capacity.spreidingswet.emergency_request_duration_days",
        lambda: national(end_date="2029-01-01", capacity={"spreidingswet": {"first_cycle_tasks": "task_2026"}}),
    ),
    ("capacity.spreidingswet.project_types.*.weight", lambda: long_deadline()),
    # emergency projects' leases are ended early by COA when not needed: the lifespan shows when COA keeps them
    (
        "capacity.spreidingswet.project_types.emergency.lifespan_years",
        lambda: _deep_merge(
            one_type_world("capacity.spreidingswet.project_types.emergency.x"),
            {
                "capacity": {"spreidingswet": {"first_cycle_tasks": "estimate"}},
                "reception": {"emergency": {"close_buffer_persons": 0, "min_lease_days": 730}},
            },
        ),
    ),
    ("capacity.spreidingswet.project_types.*", None),  # see one_type_world
    ("capacity.spreidingswet.cycle_years", lambda: national(end_date="2030-06-01")),
    (
        "capacity.spreidingswet.emergency_request_*",
        lambda: national(end_date="2028-06-01", capacity={"spreidingswet": {"first_cycle_tasks": "task_2026"}}),
    ),
    ("capacity.spreidingswet.forecast_trend_window_days", lambda: national(end_date="2028-06-01")),
    ("capacity.spreidingswet.*", national),
    ("initial_state.use_municipal_places", stressed),
    ("initial_state.occupancy_temporary", stressed),
    ("initial_state.*", national),
    ("reception.acquisition.*", lambda: national(capacity={"spreidingswet": {"enabled": False}})),
    ("reception.emergency.min_lease_days", calm),
    ("reception.emergency.close_buffer_persons", calm),
    ("reception.emergency.open_trigger_persons", calm),
    (
        "registration.centres[].service_cv",
        lambda: stressed(
            registration={
                "centres": [
                    {**STRESSED["registration"]["centres"][0], "service_distribution": "lognormal"},
                    STRESSED["registration"]["centres"][1],
                ]
            }
        ),
    ),
    ("procedure.responsive_max_per_week", lambda: responsive(procedure={"responsive_max_per_week": 75})),
    (
        "procedure.first_share_of_all_decisions",
        lambda: stressed(procedure={"production_changes": [{"date": "2026-06-01", "decisions_per_week": 70, "counts": "all"}]}),
    ),
    ("procedure.responsive_*", responsive),
    ("procedure.production_mode", responsive),
    ("procedure.legal_term_days", national),
    ("procedure.family.travel_days", lambda: stressed(**FAMILY_ARRIVALS)),
    ("procedure.family.persons_per_approval", lambda: stressed(**FAMILY_ARRIVALS)),
    ("procedure.family.approval_share", lambda: stressed(**FAMILY_ARRIVALS)),
    ("housing.task_backlog_share", lambda: stressed(horizon_years=1.5)),
    # the matching delay binds only where homes are there for everyone past it (nareizigers take part of a small task)
    ("housing.matching_delay_days", lambda: stressed(housing={"task_per_half_year": 5000})),
    ("housing.task_changes*", lambda: stressed(housing={"task_mode": "series"})),
    (
        "inflow.mode",
        lambda: _deep_merge(
            read_toml(BASELINE.parent / "backtest_2022.toml"),
            {
                "end_date": "2022-03-01",
                "inflow": {"mode": "rate", "replay_file": "history/inflow_replay.csv"},
                "parameters": {"posterior": None},  # its own parameters: a drawn one would hide the perturbation
            },
        ),
    ),
    (
        "inflow.replay_scale",
        lambda: _deep_merge(
            read_toml(BASELINE.parent / "backtest_2022.toml"),
            {
                "end_date": "2022-03-01",
                "inflow": {"replay_file": "history/inflow_replay.csv"},
                "parameters": {"posterior": None},
            },
        ),
    ),
    ("*", stressed),
]

# Values to try where the generic candidates cannot be guessed from the type.
SPECIAL = {
    "capacity.spreidingswet.first_cycle_tasks": ["task_2026", "estimate"],
    "capacity.spreidingswet.first_cycle_province_tasks": [{"Drenthe": 900, "Zeeland": 100}],
    "capacity.spreidingswet.socio_economic_column": ["regular_places_2025_11"],
    "capacity.spreidingswet.count_min_lifespan_years": [10.0, 2.0],
    "capacity.spreidingswet.project_types.*.lifespan_years": [2.0, 4.0],
    "capacity.spreidingswet.project_types.*.location_type": ["temporary", "durable"],
    "capacity.spreidingswet.project_types.*.cv": [0.9, 0.1],
    "capacity.scheduled.4.closes": ["2026-08-01"],
    "capacity.scheduled.4.type": ["emergency", "durable"],
}
# Which list item a field of list items is perturbed in (default: the first).
LIST_INDEX = {"capacity.scheduled": 4}

# A key path that must be set for a field to be perturbed at all (a None default with a meaning).
SET_FIRST = {
    "end_date": "2026-09-01",
    "procedure.responsive_until": "2026-06-01",
    "evaluation.to_date": "2026-11-01",
    "capacity.spreidingswet.socio_economic_column": "population_2024_01_01",
    "registration.centres.0.penalty_from_date": "2026-05-01",
}


def leaf_fields() -> list[dict]:
    """Every field of the schema that holds a value (not a section), with list items and dict entries."""
    return [
        r
        for r in field_docs()
        if r["unit"] != "list" and not (isinstance(r["default"], dict) and r["key"].endswith("project_types"))
    ]


def long_deadline() -> dict:
    """The national world with four years to the deadline: every project type is chosen at times."""
    law = {"first_cycle_tasks": "task_2026", "report_after_months": 9, "decision_after_months": 10.7, "deadline_after_months": 48}
    return national(end_date="2029-01-01", capacity={"spreidingswet": law})


def one_type_world(key: str) -> dict:
    """The national world in which municipalities build only the project type of ``key``, whatever the time
    left (type-choice rule off), and the whole published task: every field of that type is at work (its
    stages last, appeals and delays happen: a zero gate would hide the field behind it)."""
    name = key.split(".")[3]
    defaults = Scenario().capacity.spreidingswet.project_types
    types = {n: {**t.model_dump(mode="json"), "weight": 1.0 if n == name else 0.0} for n, t in defaults.items()}
    mine = types[name]
    for stage in ("site_and_council", "participation", "permit", "appeal", "construction"):
        mine[stage]["mean_months"] = mine[stage]["mean_months"] or 1.0
    mine["appeal_probability"] = mine["appeal_probability"] or 0.5
    mine["delay_probability"] = mine["delay_probability"] or 0.5
    if mine["delay_months"][1] == 0:
        mine["delay_months"] = [1.0, 2.0]
    return national(
        end_date="2029-01-01",
        capacity={"spreidingswet": {"type_choice_rule": False, "first_cycle_tasks": "task_2026", "project_types": types}},
    )


def world_for(key: str) -> dict:
    for pattern, make in WORLDS:
        if fnmatch.fnmatchcase(key, pattern):
            return one_type_world(key) if make is None else make()
    raise AssertionError(key)


def dotted(key: str) -> str:
    """A field_docs key ('a.b[].c') as a --set path into a world's list item ('a.b.0.c', or LIST_INDEX's)."""
    head, sep, tail = key.partition("[].")
    return f"{head}.{LIST_INDEX.get(head, 0)}.{tail}" if sep else key


def get(data: dict, path: str, scenario: Scenario) -> Any:
    """The value at ``path``: as the world writes it, else the validated scenario's (the schema default)."""
    for source in (data, scenario.model_dump(mode="json")):
        node = lookup(source, path)
        if node is not MISSING:
            return copy.deepcopy(node)
    raise KeyError(path)


def put(data: dict, path: str, value: Any, scenario: Scenario) -> dict:
    """``data`` with ``path`` set to ``value``; sections the world does not write are filled in first with
    the defaults of ``scenario`` (the world validated): a partial entry of a model with required fields would
    not validate."""
    data = copy.deepcopy(data)
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = node[int(part)]
            continue
        if part not in node:
            node[part] = get(data, ".".join(parts[: i + 1]), scenario)
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def candidates(value: Any, annotation_row: dict) -> list[Any]:
    """Values to try instead of ``value``, most natural first."""
    bounds = annotation_row["bounds"]
    if isinstance(value, bool):
        return [not value]
    literal = re.findall(r"'([^']*)'", bounds) if "|" in bounds else []
    if literal:
        return [v for v in literal if v != value]
    if isinstance(value, (int, float)):
        out = [value * 1.5, value * 0.5, value + 1, value + 0.25, value - 0.25, 0.5, 2, 10] if value else [1, 0.5, 0.1, 10, 100]
        out = [int(round(v)) if isinstance(value, int) else v for v in out]
        return list(dict.fromkeys(v for v in out if v != value))
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        lo, hi = value
        typ = type(lo)
        return [[typ(lo), typ(hi * 1.5 if hi else 1)], [typ(lo * 0.5), typ(hi)], [typ(lo), typ(lo)], [typ(hi), typ(hi)]]
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):  # seasonal factors
        return [[*value[6:], *value[:6]]]
    if isinstance(value, (dt.date, str)) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        return [
            str(dt.date.fromisoformat(str(value)) + dt.timedelta(days=60)),
            str(dt.date.fromisoformat(str(value)) - dt.timedelta(days=30)),
        ]
    if isinstance(value, dict) and value and all(isinstance(v, (int, float)) for v in value.values()):
        first = next(iter(value))
        return [{**value, first: value[first] * 3 + 1}]
    if isinstance(value, str) and annotation_row["unit"] == "CBS code":
        return ["GM0363"]
    return []


_REFERENCE: dict[str, tuple] = {}


def outputs(data: dict) -> tuple:
    """Summary, time series and cycle rows of one run (seed 3); a world's reference run is computed once."""
    text = json.dumps(data, sort_keys=True, default=str)
    if text in _REFERENCE:
        return _REFERENCE[text]
    r = simulate(scenario_from_dict(data), seed=3)
    out = (r.summary, r.timeseries, r.cycles)
    if len(_REFERENCE) < 64:
        _REFERENCE[text] = out
    return out


def coupled(path: str, data: dict, scenario: Scenario) -> list[tuple[str, Any]] | None:
    """Shares that must sum to one move together: (path, value) pairs that shift 0.05 to or from a sibling."""
    parent, _, leaf = path.rpartition(".")
    if leaf in ("permit", "rejection", "dublin"):
        other = "rejection" if leaf != "rejection" else "permit"
        mine, theirs = get(data, path, scenario), get(data, f"{parent}.{other}", scenario)
        step = 0.05 if theirs >= 0.05 else -0.05
        return [(path, round(mine + step, 6)), (f"{parent}.{other}", round(theirs - step, 6))]
    if leaf == "share_of_arrivals":
        a, b = path, path.replace(".0.", ".1.")
        return [(a, round(get(data, a, scenario) - 0.05, 6)), (b, round(get(data, b, scenario) + 0.05, 6))]
    return None


def same(a: tuple, b: tuple) -> bool:
    sa, sb = a[0], b[0]
    if set(sa) != set(sb) or any(not (sa[k] == sb[k] or (pd.isna(sa[k]) and pd.isna(sb[k]))) for k in sa):
        return False
    return a[1].equals(b[1]) and a[2].equals(b[2])


def is_descriptive(key: str) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in DESCRIPTIVE)


FIELDS = [r for r in leaf_fields() if not is_descriptive(r["key"])]


@pytest.mark.parametrize("row", FIELDS, ids=[r["key"] for r in FIELDS])
def test_every_parameter_acts(row):
    key = row["key"]
    base = world_for(key)
    path = dotted(key)
    if path in SET_FIRST:
        base = put(base, path, SET_FIRST[path], scenario_from_dict(base))
    scenario = scenario_from_dict(base)
    value = get(base, path, scenario)
    tried = []
    reference = outputs(base)
    moves = coupled(path, base, scenario)
    special = next((v for pattern, v in SPECIAL.items() if fnmatch.fnmatchcase(path, pattern)), None)
    options = [moves] if moves else [[(path, c)] for c in (special or candidates(value, row)) if c != value]
    for option in options:
        changed = base
        for p, v in option:
            changed = put(changed, p, v, scenario)
        try:
            result = outputs(changed)
        except (ScenarioError, ValueError):  # not a valid world (e.g. fewer places than people in them on day 0)
            continue
        tried.append(option[0][1])
        if not same(result, reference):
            return
        if len(tried) >= 2:
            break
    assert tried, f"{key}: no valid value to try besides {value!r}"
    pytest.fail(
        f"{key} = {value!r} changed nothing when set to {tried} (remove it, make it act, or list it in DESCRIPTIVE with a reason)"
    )


def test_descriptive_fields_exist():
    keys = [r["key"] for r in leaf_fields()]
    for pattern in DESCRIPTIVE:
        assert any(fnmatch.fnmatchcase(k, pattern) for k in keys), f"DESCRIPTIVE lists {pattern}, which is not a field"


def test_the_worlds_are_valid_scenarios():
    for _pattern, make in WORLDS:
        world = one_type_world("capacity.spreidingswet.project_types.modular.weight") if make is None else make()
        assert scenario_from_dict(world).horizon_days > 0
