"""The levers of the page: which scenario keys a policy adviser sets, and how a proposal is made of them.

A *proposal* is a starting scenario file (any shipped scenario) with lever
values. Every lever names the scenario key it sets; its unit, one-line
explanation and source come from the schema (:func:`sim.scenario.field_docs`),
so the page says what ``docs/parameters.md`` says. The run length, the
evaluation window and the replications apply to both arms of the comparison
(the study's ``set`` and ``evaluation``); the threshold of Ter Apel's days
above its norm only changes how the results are read.

Bad values are refused by the schema with the command line's message: each
lever is checked on its own against the starting scenario, so a message stands
next to the control that caused it (:func:`check`).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from sim.calendar import DAYS_PER_YEAR
from sim.errors import UserInputError
from sim.scenario import DATA_DIR, Scenario, ScenarioError, apply_overrides, read_scenario_data, scenario_from_dict

SPREIDINGSWET = "capacity.spreidingswet"
Kind = Literal["int", "float", "bool", "date", "optional_date", "choice"]


@dataclass(frozen=True)
class Lever:
    """A control of the page: ``name`` (its id), the scenario ``key`` it sets, the kind of value, and where it acts.

    ``scope``: "scenario" (the proposal only), "study" (both arms: run length, window, replications) or
    "reading" (how the results are read; nothing is run again when it changes).
    """

    name: str
    key: str
    kind: Kind
    scope: Literal["scenario", "study", "reading"] = "scenario"
    group: str = ""  # levers shown (and checked) together, e.g. the period of political uncertainty


LEVERS: tuple[Lever, ...] = (
    Lever("deadline", f"{SPREIDINGSWET}.deadline_after_months", "float"),
    Lever("cycle", f"{SPREIDINGSWET}.cycle_years", "int"),
    Lever("enforced", f"{SPREIDINGSWET}.enforcement.enforced", "bool"),
    Lever("uncertainty", f"{SPREIDINGSWET}.political_uncertainty", "bool", group="uncertainty"),
    Lever("uncertainty_start", f"{SPREIDINGSWET}.political_uncertainty.start", "date", group="uncertainty"),
    Lever("uncertainty_end", f"{SPREIDINGSWET}.political_uncertainty.end", "date", group="uncertainty"),
    Lever("incentive", f"{SPREIDINGSWET}.incentive_eur_per_durable_place", "float"),
    Lever("amv_size", f"{SPREIDINGSWET}.amv_location_max_size", "int"),
    Lever("reserve", f"{SPREIDINGSWET}.emergency_reserve_places", "int"),
    Lever("inflow_path", "inflow", "choice", group="inflow"),
    Lever("inflow_level", "inflow.first_applications_per_year", "float", group="inflow"),
    Lever("horizon", "horizon_years", "float", scope="study"),
    Lever("window_from", "evaluation.from_date", "optional_date", scope="study", group="window"),
    Lever("window_to", "evaluation.to_date", "optional_date", scope="study", group="window"),
    Lever("replications", "replications", "int", scope="study"),
    Lever("year_ac_days", "year_ac_days", "int", scope="reading"),
)
BY_NAME = {lever.name: lever for lever in LEVERS}
DEFAULT_REPLICATIONS = 8
DEFAULT_YEAR_AC_DAYS = 30  # as `opvangsim compare --year-ac-days`


@dataclass(frozen=True)
class InflowPath:
    """A shape of the inflow over the run, applied to the chosen level of first applications."""

    name: str
    trend_per_year: float | None  # inflow.trend_per_year; None: as the starting scenario has it
    surge_share: float  # extra first applications over 26 weeks from 1 July of the second year, as a share of the level
    source: str


SURGE_WEEKS = 26
INFLOW_PATHS: tuple[InflowPath, ...] = (
    InflowPath("as_start", None, 0.0, "the starting scenario's own inflow"),
    InflowPath("steady", 0.0, 0.0, "scenario choice: the level, every year"),
    InflowPath(
        "rising",
        0.2,
        0.0,
        "scenario choice like 2021–2023: 24,740 to 38,400 first applications in two years (sources §inflow-per-year)",
    ),
    InflowPath(
        "falling", -0.2, 0.0, "scenario choice like 2023–2025: about 38,400 to 24,000 in two years (sources §inflow-per-year)"
    ),
    InflowPath(
        "surge",
        0.0,
        1.0,
        "scenario choice like 2015: 43,095 first applications, about twice the 2018–19 level, most of them in the "
        "second half-year (sources §inflow-per-year)",
    ),
)
PATHS = {p.name: p for p in INFLOW_PATHS}


# --------------------------------------------------------------------------- documentation from the schema


@functools.cache
def _schema_rows() -> dict[str, dict[str, Any]]:
    from sim.scenario import field_docs
    from sim.study import Study

    rows = {r["key"]: r for r in field_docs()}
    rows.update({f"study.{r['key']}": r for r in field_docs(Study)})
    return rows


@dataclass(frozen=True)
class LeverDoc:
    unit: str
    description: str  # the schema's one-line description (English)
    source: str


def lever_doc(lever: Lever) -> LeverDoc:
    """Unit, explanation and source of a lever, as the schema declares them (docs/parameters.md says the same)."""
    rows = _schema_rows()
    if lever.name == "replications":
        r = rows["study.replications"]
        return LeverDoc("runs", r["description"] + "; replication r of both arms uses the same seeds", r["source"])
    if lever.name == "year_ac_days":
        return LeverDoc(
            "days",
            "Ter Apel above its norm for more than this many days in a calendar year counts as a bad year",
            "scenario choice",
        )
    if lever.name == "uncertainty":
        r = rows[f"{SPREIDINGSWET}.political_uncertainty.start"]
        return LeverDoc("on/off", "a period in which withdrawal of the law is debated", r["source"])
    if lever.name == "inflow_path":
        return LeverDoc("-", "the shape of the inflow over the run, from the level below", "scenario choice")
    if lever.name == "horizon":  # set for both arms, as horizon_years or, for a scenario that ends on a date, as end_date
        r = rows["horizon_years"]
        return LeverDoc(r["unit"], "length of the run of both arms", r["source"])
    r = rows[lever.key]
    return LeverDoc(r["unit"], r["description"], r["source"])


# --------------------------------------------------------------------------- values of a scenario


def _get(obj: Any, key: str) -> Any:
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def start_values(scenario: Scenario) -> dict[str, Any]:
    """The lever values a starting scenario has: what the page shows before anything is changed."""
    from sim.capacity.cycle import add_months

    law = scenario.capacity.spreidingswet
    pu = law.political_uncertainty
    out: dict[str, Any] = {}
    for lever in LEVERS:
        if lever.scope == "scenario" and lever.kind != "choice" and lever.group != "uncertainty":
            out[lever.name] = _get(scenario, lever.key)
    out["uncertainty"] = pu.start is not None
    # when off, the period offered is the shipped variant's: from the first estimate to its deadline
    out["uncertainty_start"] = pu.start or law.first_estimate_date
    out["uncertainty_end"] = pu.end or add_months(law.first_estimate_date, law.deadline_after_months)
    out["inflow_path"] = "as_start"
    out["horizon"] = round(scenario.horizon_days / DAYS_PER_YEAR, 2)
    out["window_from"] = scenario.evaluation.from_date
    out["window_to"] = scenario.evaluation.to_date
    out["replications"] = DEFAULT_REPLICATIONS
    out["year_ac_days"] = DEFAULT_YEAR_AC_DAYS
    return out


# --------------------------------------------------------------------------- making a proposal


def _drop(data: dict, key: str) -> None:
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.get(part, {})
        if not isinstance(node, dict):
            return
    node.pop(parts[-1], None)


def toml_value(value: Any) -> str:
    """``value`` as TOML writes it (what ``--set KEY=VALUE`` reads back): 36, 0.2, true, 2027-07-01, [...], {...}."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, int, float)):
        return value.isoformat() if isinstance(value, dt.date) else repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)  # None and the like: the schema refuses it with its own message


def lever_overrides(lever: Lever, values: dict[str, Any], start: Scenario) -> tuple[list[str], list[str]]:
    """What a scenario lever does to the starting file: ``--set`` overrides (``key=value``), and keys it removes
    (political uncertainty switched off: no period, whatever the starting file said)."""
    if lever.scope != "scenario" or lever.name in ("uncertainty_start", "uncertainty_end"):  # the dates go with the switch
        return [], []
    if lever.name == "uncertainty":
        if values["uncertainty"]:
            return [f"{lever.key}.{k}={toml_value(values['uncertainty_' + k])}" for k in ("start", "end")], []
        return [], [f"{lever.key}.start", f"{lever.key}.end"]
    if lever.name == "inflow_path":
        path = PATHS.get(values["inflow_path"])
        if path is None:
            raise ScenarioError(None, "inflow", f"unknown inflow path {values['inflow_path']!r}; one of {', '.join(PATHS)}")
        if path.trend_per_year is None:
            return [], []
        shocks = []
        if path.surge_share > 0:
            persons = int(round(path.surge_share * float(values["inflow_level"] or 0)))
            start_day = dt.date(start.start_date.year + 1, 7, 1)
            shocks.append({"start": start_day, "weeks": SURGE_WEEKS, "persons": persons, "category": "first"})
        sets = ['inflow.mode="rate"', f"inflow.trend_per_year={path.trend_per_year}", f"inflow.shocks={toml_value(shocks)}"]
        return sets, []
    return [f"{lever.key}={toml_value(values[lever.name])}"], []


def apply_levers(
    data: dict, levers: list[Lever], values: dict[str, Any], start: Scenario, file: Path, origins: dict | None = None
) -> dict:
    """``data`` (a scenario file's) with ``levers`` applied as the command line applies ``--set`` (``origins`` notes them)."""
    data = copy.deepcopy(data)
    sets = []
    for lever in levers:
        more, removed = lever_overrides(lever, values, start)
        sets += more
        for key in removed:
            _drop(data, key)
    return apply_overrides(data, sets, file, origins)


def study_overrides(values: dict[str, Any], start: Scenario) -> list[str]:
    """The run length as a ``--set`` override of both arms: ``horizon_years``, or ``end_date`` where the
    starting scenario ends on a date (its horizon_years would be ignored)."""
    years = values["horizon"]
    if start.end_date is not None:
        try:
            end = start.start_date + dt.timedelta(days=int(round(float(years) * DAYS_PER_YEAR)))
        except (TypeError, ValueError, OverflowError):
            return [f"horizon_years={years}"]
        return [f"end_date={end.isoformat()}"]
    return [f"horizon_years={years}"]


def window_overrides(values: dict[str, Any]) -> list[str]:
    """The evaluation window as ``--set`` overrides (what a study's ``[evaluation]`` gives every arm)."""
    return [
        f"evaluation.{k}={values[n].isoformat()}"
        for n, k in (("window_from", "from_date"), ("window_to", "to_date"))
        if values[n]
    ]


def proposal_data(
    start_data: dict, values: dict[str, Any], start: Scenario, name: str = "proposal", file: Path | None = None
) -> dict:
    """The proposal as the TOML data of a scenario file: the starting file's data with every scenario lever set."""
    data = apply_levers(start_data, list(LEVERS), values, start, file)
    data["name"] = name
    parts = [
        f"{BY_NAME[n].key.split('.')[-1] if n != 'inflow_path' else 'inflow path'} = {values[n]}" for n in changed(values, start)
    ]
    data["description"] = "; ".join(parts) or "The starting scenario, unchanged."
    return data


def changed(values: dict[str, Any], start: Scenario) -> list[str]:
    """Names of the scenario levers whose value differs from the starting scenario's."""
    before = start_values(start)
    out = []
    for lever in LEVERS:
        if lever.scope != "scenario" or values.get(lever.name) == before.get(lever.name):
            continue
        if lever.group == "uncertainty" and lever.name != "uncertainty" and not values["uncertainty"]:
            continue
        out.append(lever.name)
    return out


def portable(data: dict, source_file: Path) -> dict:
    """``data`` with its data-file names made to work from any directory.

    A name the scenario resolves next to its own file is rewritten relative to ``sim/data`` when it
    lies there (where every scenario also looks), else as an absolute path.
    """
    data = copy.deepcopy(data)
    for section, key in (("inflow", "replay_file"), ("initial_state", "municipalities_file")):
        name = data.get(section, {}).get(key)
        if not isinstance(name, str) or Path(name).is_absolute():
            continue
        beside = (source_file.parent / name).resolve()
        if not beside.exists():
            continue  # found in sim/data already
        try:
            data[section][key] = beside.relative_to(DATA_DIR.resolve()).as_posix()
        except ValueError:
            data[section][key] = str(beside)
    # a posterior is found next to the scenario file only (sim.posterior.posterior_path): made absolute
    name = data.get("parameters", {}).get("posterior")
    if isinstance(name, str) and not Path(name).is_absolute():
        data["parameters"]["posterior"] = str((source_file.parent / name).resolve())
    return data


# --------------------------------------------------------------------------- checking


def scenario_files(directory: Path) -> dict[str, Path]:
    """The scenario files in ``directory`` by stem, ``baseline`` first: the starting points the page offers."""
    files = sorted(Path(directory).glob("*.toml"), key=lambda p: (p.stem != "baseline", p.stem))
    return {p.stem: p.resolve() for p in files}


class Start(NamedTuple):
    """A starting scenario file: its TOML data (``extends`` resolved), the scenario, and which file wrote each value."""

    data: dict
    scenario: Scenario
    origins: dict


def load_start(path: Path) -> Start:
    """A starting scenario file, read once while it is unchanged."""
    path = Path(path)
    return _load_start(path, path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=32)
def _load_start(path: Path, mtime_ns: int) -> Start:
    data, origins = read_scenario_data(path)
    return Start(data, scenario_from_dict(data, path, origins=origins), origins)


@dataclass
class Checked:
    """The outcome of :func:`check`: a message per lever (the command line's text), and one for what no single lever causes."""

    errors: dict[str, str]
    general: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general


def _validate(start: Start, file: Path, levers: list[Lever], values: dict[str, Any], sets: list[str], check_files: bool) -> None:
    """Validate the starting file with ``levers`` and ``sets`` applied, as ``opvangsim validate FILE --set ...`` does."""
    origins = dict(start.origins)
    data = apply_levers(start.data, levers, values, start.scenario, file, origins)
    data = apply_overrides(data, sets, file, origins)
    scenario_from_dict(data, file, check_data_files=check_files, origins=origins)


def check(start_file: Path, values: dict[str, Any]) -> Checked:
    """Check a proposal: every lever alone against the starting scenario (its message goes next to it), then all together.

    The messages are the command line's for the same values (``opvangsim validate FILE --set KEY=VALUE``):
    the file, the key path (``--set`` and the key, for a value the page set) and what is allowed.
    """
    start = load_start(start_file)
    run_length = study_overrides(values, start.scenario)
    errors: dict[str, str] = {}
    for lever in LEVERS:
        slot = lever.group if lever.group in ("uncertainty", "window", "inflow") else lever.name
        if slot in errors:
            continue
        try:
            if lever.scope == "scenario":
                _validate(start, start_file, [lever], values, [], check_files=False)
            elif lever.name == "horizon":  # the data files must cover the run (a replayed inflow ends)
                _validate(start, start_file, [], values, run_length, check_files=True)
            elif lever.group == "window":
                _validate(start, start_file, [], values, run_length + window_overrides(values), check_files=False)
            elif lever.name == "replications":
                _check_replications(values["replications"])
            elif lever.name == "year_ac_days" and not (isinstance(values["year_ac_days"], int) and values["year_ac_days"] >= 0):
                raise ScenarioError(None, "--year-ac-days", "must be ≥ 0 days")  # opvangsim compare's message
        except UserInputError as exc:
            errors[slot] = str(exc)
    general = ""
    if not errors:
        try:
            _validate(start, start_file, list(LEVERS), values, run_length + window_overrides(values), check_files=True)
        except UserInputError as exc:
            general = str(exc)
    return Checked(errors, general)


def _check_replications(value: Any) -> None:
    """The study file's rule for ``replications`` (what ``opvangsim validate`` says of a study file)."""
    from pydantic import ValidationError

    from sim.scenario import _format_error
    from sim.study import Study

    try:
        Study.model_validate({"baseline": "baseline.toml", "variants": ["proposal.toml"], "replications": value})
    except ValidationError as exc:
        key, message = _format_error(exc.errors()[0])
        raise ScenarioError("study.toml", key, message) from None
