"""Bad input: one message naming the file (or option) and the key path, exit status 2, no traceback, nothing written.

Every case of the table runs for ``validate``, ``run`` and ``sweep`` (the scenario wrapped in an
experiment file) unless the option it uses does not exist for a command. Each invocation calls
``sim.cli.main`` in this process and asserts: status 2, one line on stderr that starts with
``opvangsim: error:`` and names the file and key path, no traceback, and the directory exactly
as it was (nothing written, no ``results/``). Problems a run would only meet after starting
(a file it cannot write) are refused before any work too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import BASELINE, ROOT

from sim.cli import main

MUNICIPALITIES = ROOT / "sim" / "data" / "municipalities.csv"
REPLAY = ROOT / "sim" / "data" / "history" / "inflow_replay.csv"
BINARY = bytes(range(256)) * 4
ALL = ("validate", "run", "sweep")
RUN_SWEEP = ("run", "sweep")


@dataclass(frozen=True)
class Case:
    name: str
    text: str | bytes | None = ""  # bad.toml; extends the baseline unless it says `extends` itself; None: no file
    args: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()  # what the message must name, besides the file
    file: str = "bad.toml"  # the file (or option) the message must name first
    commands: tuple[str, ...] = ALL
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # other files; None makes a directory
    target: str = "bad.toml"  # the file given to the command
    raw: bool = False  # bad.toml as written, without the `extends` line


def replay(months: list[str], header: str = "month,first_applications,family_reunification") -> str:
    return header + "\n" + "\n".join(f"{m},1000,300" for m in months) + "\n"


ONE_LINE_REPLAY = '[inflow]\nmode = "replay"\nreplay_file = "{}"\n'
MUNIS = '[initial_state]\nmunicipalities_file = "{}"\n'

CASES = [
    # ---------------------------------------------------------------- reading the file (issue 13 item 3)
    Case("missing_file", None, target="absent.toml", file="absent.toml", expect=("not found",)),
    Case("directory_as_scenario", None, target="adir", file="adir", files={"adir": None}, expect=("is a directory",)),
    Case("binary_file", BINARY, raw=True, expect=("binary",)),
    Case("latin1_file", 'name = "caf\xe9"\n'.encode("latin-1"), raw=True, expect=("not UTF-8",)),
    Case("utf16_file", 'name = "x"\n'.encode("utf-16"), raw=True, expect=("binary",)),
    Case("not_toml_missing_value", "horizon_years = \n", expect=("not valid TOML",)),
    Case("not_toml_unclosed_table", "[inflow\n", expect=("not valid TOML",)),
    Case("not_toml_duplicate_key", "name = 'a'\nname = 'b'\n", expect=("not valid TOML",)),
    Case("not_toml_bare_word", "horizon_years = ten\n", expect=("not valid TOML",)),
    Case("empty_key", '"" = 1\n', expect=("unknown key",)),
    Case("extends_missing", 'extends = "nothere.toml"\n', expect=("extends", "nothere.toml")),
    Case("extends_directory", 'extends = "adir"\n', files={"adir": None}, expect=("extends", "directory")),
    Case("extends_itself", 'extends = "bad.toml"\n', expect=("extends", "circular")),
    Case(
        "extends_circular_pair",
        'extends = "other.toml"\n',
        files={"other.toml": 'extends = "bad.toml"\n'},
        file="other.toml",
        expect=("extends", "circular"),
    ),
    Case("extends_not_a_string", "extends = 3\n", expect=("extends", "must be a file name")),
    # ---------------------------------------------------------------- validate and run agree (issue 13 item 5)
    Case(
        "start_occupancy_above_places",
        "[initial_state]\noccupancy_durable = 60000\n",
        expect=("initial_state.occupancy_durable", "places open on the start date"),
    ),
    Case(
        "start_amv_above_places",
        "[initial_state]\noccupancy_amv = 9000\n",
        expect=("initial_state.occupancy_amv", "places open on the start date"),
    ),
    Case("extends_empty_string", 'extends = ""\n', expect=("extends", "must be a file name")),
    Case("extends_binary_file", 'extends = "bin.toml"\n', files={"bin.toml": BINARY}, file="bin.toml", expect=("binary",)),
    Case(
        "extends_bad_toml",
        'extends = "parent.toml"\n',
        files={"parent.toml": "[inflow\n"},
        file="parent.toml",
        expect=("not valid TOML",),
    ),
    # an error inside an extended file is reported against that file (issue 13 item 10)
    Case(
        "error_in_extended_file",
        'extends = "parent.toml"\nname = "child"\n',
        files={"parent.toml": f'extends = "{BASELINE.as_posix()}"\n[inflow]\nfirst_applications_per_year = -5\n'},
        file="parent.toml: inflow.first_applications_per_year",
    ),
    Case(
        "typo_in_extended_file",
        'extends = "parent.toml"\nname = "child"\n',
        files={"parent.toml": f'extends = "{BASELINE.as_posix()}"\n[procedure]\ndecisions_per_wek = 5\n'},
        file="parent.toml: procedure.decisions_per_wek",
        expect=("did you mean 'decisions_per_week'",),
    ),
    Case(
        "child_overrides_a_good_parent_value_badly",
        'extends = "parent.toml"\n[inflow]\namv_share_of_first = 2.0\n',
        files={"parent.toml": f'extends = "{BASELINE.as_posix()}"\n[inflow]\namv_share_of_first = 0.1\n'},
        file="bad.toml: inflow.amv_share_of_first",
    ),
    # ---------------------------------------------------------------- the schema
    Case(
        "unknown_key",
        "[inflow]\nfrist_applications_per_year = 30000\n",
        expect=("inflow.frist_applications_per_year", "did you mean 'first_applications_per_year'"),
    ),
    Case("unknown_section", "[inflw]\nfirst_applications_per_year = 30000\n", expect=("inflw", "did you mean 'inflow'")),
    Case("unknown_top_level_key", "horizon = 5\n", expect=("horizon", "unknown key")),
    Case("wrong_type_string_for_number", 'horizon_years = "ten"\n', expect=("horizon_years",)),
    Case("wrong_type_table_for_number", "horizon_years = {a = 1}\n", expect=("horizon_years",)),
    Case("wrong_type_list_for_section", "inflow = [1, 2]\n", expect=("inflow",)),
    Case("wrong_type_date", 'start_date = "yesterday"\n', expect=("start_date",)),
    Case("negative_horizon", "horizon_years = -1\n", expect=("horizon_years",)),
    Case("horizon_above_limit", "horizon_years = 51\n", expect=("horizon_years",)),
    Case(
        "negative_size",
        '[[capacity.scheduled]]\ntype = "durable"\nplaces = -5\nopens = 2026-02-01\n',
        expect=("capacity.scheduled.0.places",),
    ),
    Case(
        "unknown_location_type",
        '[[capacity.scheduled]]\ntype = "castle"\nplaces = 5\nopens = 2026-02-01\n',
        expect=("capacity.scheduled.0.type",),
    ),
    Case("share_above_one", "[inflow]\namv_share_of_first = 1.5\n", expect=("inflow.amv_share_of_first",)),
    Case("negative_share", "[inflow]\namv_share_of_first = -0.1\n", expect=("inflow.amv_share_of_first",)),
    Case("unknown_mode", '[inflow]\nmode = "sometimes"\n', expect=("inflow.mode", "sometimes")),
    Case("replay_without_file", '[inflow]\nmode = "replay"\n', expect=("inflow", "replay_file")),
    Case("seasonal_factors_wrong_length", "[inflow]\nseasonal_factors = [1.0, 1.0]\n", expect=("inflow.seasonal_factors",)),
    Case(
        "end_before_start",
        "start_date = 2026-01-01\nend_date = 2025-06-01\n",
        expect=("end_date", "must be after start_date"),
        file="bad.toml: end_date",
    ),
    Case(
        "closes_before_opens",
        '[[capacity.scheduled]]\ntype = "durable"\nplaces = 50\nopens = 2026-05-01\ncloses = 2026-02-01\n',
        expect=("capacity.scheduled.0", "closes"),
    ),
    Case(
        "outcomes_not_summing_to_one",
        "[procedure.outcomes]\npermit = 0.9\nrejection = 0.9\ndublin = 0.1\n",
        expect=("procedure.outcomes",),
    ),
    Case(
        "error_two_extends_up",
        'extends = "parent.toml"\n',
        files={
            "parent.toml": 'extends = "grandparent.toml"\nname = "parent"\n',
            "grandparent.toml": f'extends = "{BASELINE.as_posix()}"\n[procedure]\ndecisions_per_week = -3\n',
        },
        file="grandparent.toml: procedure.decisions_per_week",
    ),
    Case("end_date_far_away", "end_date = 9999-01-01\n", expect=("end_date", "50 years")),
    Case(
        "physical_limit_below_norm",
        "[[registration.centres]]\nnorm_persons = 2000\nphysical_limit_persons = 100\n",
        expect=("registration.centres.0", "physical_limit_persons"),
    ),
    Case(
        "centre_shares_not_summing_to_one",
        args=("--set", "registration.centres.0.share_of_arrivals=0.5"),
        expect=("registration", "sum to 1"),
    ),
    Case(
        "shock_of_zero_weeks",
        "[[inflow.shocks]]\nstart = 2026-03-01\nweeks = 0\npersons = 100\n",
        expect=("inflow.shocks.0.weeks",),
    ),
    Case("shock_without_start", "[[inflow.shocks]]\nweeks = 3\npersons = 100\n", expect=("inflow.shocks.0.start", "required")),
    Case("negative_replay_scale", "[inflow]\nreplay_scale = -1\n", expect=("inflow.replay_scale",)),
    Case(
        "cycle_dates_out_of_order",
        "[capacity.spreidingswet]\nreport_after_months = 20\n",
        expect=("capacity.spreidingswet", "out of order"),
    ),
    Case(
        "political_uncertainty_ends_before_it_starts",
        "[capacity.spreidingswet.political_uncertainty]\nstart = 2027-01-01\nend = 2026-06-01\n",
        expect=("capacity.spreidingswet.political_uncertainty",),
    ),
    Case(
        "evaluation_window_outside_the_run",
        "[evaluation]\nfrom_date = 2040-01-01\n",
        expect=("evaluation.from_date", "outside the run"),
    ),
    Case(
        "more_waiting_than_in_locations",
        "[initial_state]\nstatus_holders_waiting = 9000000\n",
        expect=("initial_state", "status_holders_waiting"),
    ),
    Case("cycle_years_zero", "[capacity.spreidingswet]\ncycle_years = 0\n", expect=("capacity.spreidingswet.cycle_years",)),
    Case(
        "unknown_project_location_type",
        '[capacity.spreidingswet.project_types.modular]\nlocation_type = "castle"\n',
        expect=("location_type",),
    ),
    # ---------------------------------------------------------------- values run would crash on (issue 13 item 1)
    Case(
        "infinite_arrivals",
        "[inflow]\nfirst_applications_per_year = inf\n",
        expect=("inflow.first_applications_per_year", "finite"),
    ),
    Case("huge_arrivals", "[inflow]\nfirst_applications_per_year = 1e300\n", expect=("inflow.first_applications_per_year",)),
    Case(
        "nan_seasonal_factor",
        "[inflow]\nseasonal_factors = [1, 1, 1, nan, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        expect=("inflow.seasonal_factors.3",),
    ),
    Case(
        "huge_seasonal_factor",
        "[inflow]\nseasonal_factors = [1, 1, 1, 1e300, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        expect=("inflow.seasonal_factors",),
    ),
    Case("huge_slots", args=("--set", f"registration.centres.0.slots={10**30}"), expect=("registration.centres.0.slots",)),
    Case("too_many_slots", args=("--set", "registration.centres.0.slots=5000000"), expect=("registration.centres.0.slots",)),
    Case("slots_infinite", args=("--set", "registration.centres.0.slots=inf"), expect=("registration.centres.0.slots",)),
    Case(
        "infinite_production_change",
        "[[procedure.production_changes]]\ndate = 2026-06-01\ndecisions_per_week = inf\n",
        expect=("procedure.production_changes.0.decisions_per_week",),
    ),
    Case(
        "huge_shock",
        f"[[inflow.shocks]]\nstart = 2026-03-01\nweeks = 4\npersons = {10**30}\n",
        expect=("inflow.shocks.0.persons",),
    ),
    Case(
        "huge_province_task",
        '[capacity.spreidingswet]\nfirst_cycle_tasks = "split"\nfirst_cycle_national_task = 1000\n'
        f"first_cycle_province_tasks = {{Drenthe = {10**20}}}\n",
        expect=("first_cycle_province_tasks.Drenthe",),
    ),
    Case("horizon_true", "horizon_years = true\n", expect=("horizon_years", "not true")),
    Case(
        "bools_for_numbers_in_a_list",
        "[inflow]\nseasonal_factors = [true, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        expect=("inflow.seasonal_factors",),
    ),
    Case("horizon_nan", args=("--set", "horizon_years=nan"), expect=("horizon_years",)),
    Case(
        "forecast_error_sd_inf",
        "[capacity.spreidingswet]\nforecast_error_sd = inf\n",
        expect=("capacity.spreidingswet.forecast_error_sd",),
    ),
    Case(
        "forecast_error_sd_huge",
        "[capacity.spreidingswet]\nforecast_error_sd = 1e6\n",
        expect=("capacity.spreidingswet.forecast_error_sd",),
    ),
    Case("pressure_boost_huge", "[reception.emergency]\npressure_boost = 1e12\n", expect=("reception.emergency.pressure_boost",)),
    Case(
        "negative_emergency_reserve",
        "[capacity.spreidingswet]\nemergency_reserve_places = -500\n",
        expect=("emergency_reserve_places",),
    ),
    Case(
        "negative_lateness_aversion",
        "[capacity.spreidingswet]\nlateness_aversion_per_month = -0.5\n",
        expect=("capacity.spreidingswet.lateness_aversion_per_month",),
    ),
    Case(
        "inverted_delay_range",
        "[capacity.spreidingswet.project_types.modular]\ndelay_months = [12, 6]\n",
        expect=("project_types.modular.delay_months", "low ≤ high"),
    ),
    Case(
        # the gamma's shape 1/cv² divided by zero when a run started (found by the input fuzz)
        "stage_variation_too_small_to_be_any",
        "[capacity.spreidingswet.project_types.new_build.appeal]\ncv = 1e-308\n",
        expect=("project_types.new_build.appeal.cv", "give 0"),
    ),
    Case(
        "inverted_request_duration",
        "[capacity.spreidingswet]\nemergency_request_duration_days = [365, 182]\n",
        expect=("emergency_request_duration_days", "low ≤ high"),
    ),
    Case(
        "inverted_lead_time", "[reception.emergency]\nlead_time_days = [56, 7]\n", expect=("reception.emergency.lead_time_days",)
    ),
    Case("realisation_mean_at_its_ceiling", "[housing]\nrealisation_mean = 1.5\n", expect=("housing.realisation_mean",)),
    Case(
        "unknown_first_cycle_tasks_column",
        '[capacity.spreidingswet]\nfirst_cycle_tasks = "task_2099"\n',
        expect=("capacity.spreidingswet.first_cycle_tasks", "task_2099"),
    ),
    Case(
        "unknown_socio_economic_column",
        '[capacity.spreidingswet]\nsocio_economic_column = "wealth"\n',
        expect=("capacity.spreidingswet.socio_economic_column", "wealth"),
    ),
    Case(
        "text_socio_economic_column",
        '[capacity.spreidingswet]\nsocio_economic_column = "province"\n',
        expect=("capacity.spreidingswet.socio_economic_column", "numbers"),
    ),
    Case(
        "unknown_ac_municipality",
        '[initial_state]\nac_municipality = "GM9999"\n',
        expect=("initial_state.ac_municipality", "GM9999"),
    ),
    Case(
        "unknown_province_in_split",
        '[capacity.spreidingswet]\nfirst_cycle_tasks = "split"\nfirst_cycle_national_task = 1000\n'
        "first_cycle_province_tasks = {Atlantis = 10}\n",
        expect=("first_cycle_province_tasks", "Atlantis"),
    ),
    Case(
        "unknown_scheduled_municipality",
        '[[capacity.scheduled]]\ntype = "durable"\nplaces = 50\nopens = 2026-02-01\nmunicipality = "GM9999"\n',
        expect=("capacity.scheduled.0.municipality", "GM9999"),
    ),
    Case(
        "unknown_project_type_in_mix",
        "[reception.acquisition]\nproject_mix = {castle = 1.0}\n",
        expect=("reception.acquisition.project_mix", "castle"),
    ),
    Case("huge_replications", args=("-r", str(10**15)), file="--replications", expect=("≤",), commands=RUN_SWEEP),
    Case("huge_seed", args=("--seed", str(10**20)), file="--seed", expect=("≤",), commands=("run",)),
    Case("huge_workers", args=("--workers", str(10**6)), file="--workers", expect=("≤",), commands=RUN_SWEEP),
    # ---------------------------------------------------------------- data files a scenario reads
    Case("missing_replay_csv", ONE_LINE_REPLAY.format("nowhere.csv"), expect=("inflow.replay_file", "nowhere.csv")),
    Case(
        "malformed_replay_csv",
        ONE_LINE_REPLAY.format("garbage.csv"),
        files={"garbage.csv": 'this is,not\n"a replay\nseries'},
        expect=("inflow.replay_file", "garbage.csv"),
    ),
    Case(
        "replay_csv_is_a_directory",
        ONE_LINE_REPLAY.format("adir"),
        files={"adir": None},
        expect=("inflow.replay_file",),
    ),
    Case(
        "replay_csv_is_binary",
        ONE_LINE_REPLAY.format("bin.csv"),
        files={"bin.csv": BINARY},
        expect=("inflow.replay_file", "bin.csv"),
    ),
    Case(
        "replay_csv_lacks_a_column",
        ONE_LINE_REPLAY.format("short.csv"),
        files={"short.csv": replay(["2026-01"], "month,first_applications,x")},
        expect=("inflow.replay_file", "lacks column"),
    ),
    Case(
        "replay_csv_too_short",
        ONE_LINE_REPLAY.format("short.csv"),
        files={"short.csv": replay(["2026-01", "2026-02"])},
        expect=("inflow.replay_file", "covers 2026-01 to 2026-02"),
    ),
    Case(
        "replay_csv_bad_month",
        ONE_LINE_REPLAY.format("short.csv"),
        files={"short.csv": replay(["January"])},
        expect=("inflow.replay_file", "YYYY-MM"),
    ),
    Case("missing_municipalities", MUNIS.format("nowhere.csv"), expect=("initial_state.municipalities_file", "nowhere.csv")),
    Case(
        "municipalities_lack_columns",
        MUNIS.format("munis.csv"),
        files={"munis.csv": "code,name\n1,x\n"},
        expect=("initial_state.municipalities_file", "lacks column"),
    ),
    Case(
        "municipalities_negative_population",
        MUNIS.format("munis.csv"),
        files={"munis.csv": "cbs_code,name,province,population_2024_01_01\nGM0001,a,Drenthe,-5\n"},
        expect=("initial_state.municipalities_file", "population_2024_01_01"),
    ),
    Case(
        "municipalities_binary",
        MUNIS.format("munis.csv"),
        files={"munis.csv": BINARY},
        expect=("initial_state.municipalities_file",),
    ),
    # ---------------------------------------------------------------- --set (issue 13 item 10)
    Case(
        "set_without_value",
        args=("--set", "inflow.first_applications_per_year"),
        expect=("inflow.first_applications_per_year", "key=value"),
    ),
    Case(
        "set_empty_key_part",
        args=("--set", "inflow..first_applications_per_year=3"),
        expect=("--set inflow..first",),
    ),
    Case("set_empty_key", args=("--set", "=3"), expect=("--set", "dotted key")),
    Case("set_wrong_type", args=("--set", "procedure.decisions_per_week=lots"), expect=("procedure.decisions_per_week",)),
    Case(
        "set_unknown_key",
        args=("--set", "procedure.decisions_per_wek=500"),
        expect=("procedure.decisions_per_wek", "did you mean 'decisions_per_week'"),
    ),
    Case("set_unknown_section", args=("--set", "inflw.x=1"), expect=("inflw",)),
    Case(
        "set_index_out_of_range",
        args=("--set", "registration.centres.5.slots=1"),
        expect=("registration.centres.5", "out of range"),
    ),
    Case(
        "set_index_not_a_number",
        args=("--set", "registration.centres.x.slots=1"),
        expect=("registration.centres.x",),
    ),
    Case(
        "set_into_a_value",
        args=("--set", "horizon_years.x=1"),
        expect=("horizon_years", "is a value, not a section"),
    ),
    Case("set_bad_date", args=("--set", "start_date=2026-13-01"), expect=("start_date",)),
    Case("set_negative_count", args=("--set", "registration.centres.0.slots=-1"), expect=("registration.centres.0.slots",)),
    # ---------------------------------------------------------------- command-line options (named as options)
    Case("workers_zero", args=("--workers", "0"), file="--workers", expect=("≥ 1",), commands=RUN_SWEEP),
    Case("workers_negative", args=("--workers", "-2"), file="--workers", expect=("≥ 1",), commands=RUN_SWEEP),
    Case("workers_not_a_number", args=("--workers", "abc"), file="--workers", commands=RUN_SWEEP),
    Case("dask_local_zero", args=("--dask-local", "0"), file="--dask-local", commands=RUN_SWEEP),
    Case("dask_patience_zero", args=("--dask-patience", "0"), file="--dask-patience", commands=RUN_SWEEP),
    Case("dask_patience_nan", args=("--dask-patience", "nan"), file="--dask-patience", commands=RUN_SWEEP),
    Case("workers_and_serial", args=("--workers", "2", "--serial"), file="--serial", commands=RUN_SWEEP),
    Case("seed_negative", args=("--seed", "-1"), file="--seed", expect=("≥ 0",), commands=("run",)),
    Case("seed_not_a_number", args=("--seed", "1.5"), file="--seed", commands=("run",)),
    Case("replications_zero", args=("--replications", "0"), file="--replications", commands=RUN_SWEEP),
    Case("replications_negative", args=("-r", "-3"), file="--replications", commands=RUN_SWEEP),
    Case("chunk_zero", args=("--chunk", "0"), file="--chunk", commands=("sweep",)),
    Case("until_not_a_date", args=("--until", "2026-13-01"), file="--until", expect=("YYYY-MM-DD",), commands=("run",)),
    Case("until_before_start", args=("--until", "2025-01-01"), file="--until", expect=("after start_date",), commands=("run",)),
    Case("unknown_option", args=("--frobnicate",), file="unrecognized arguments", expect=("--frobnicate",)),
    # ---------------------------------------------------------------- where results go (issue 13 item 4)
    Case("out_is_a_file", args=("--out", "afile"), files={"afile": "x"}, file="--out", expect=("afile",), commands=RUN_SWEEP),
    Case(
        "out_under_a_file",
        args=("--out", "afile/sub"),
        files={"afile": "x"},
        file="--out",
        expect=("afile", "is a file"),
        commands=RUN_SWEEP,
    ),
    Case(
        "out_deep_under_a_file",
        args=("--out", "afile/a/b/c"),
        files={"afile": "x"},
        file="--out",
        expect=("is a file",),
        commands=RUN_SWEEP,
    ),
    Case(
        "out_not_empty",
        args=("--out", "full"),
        files={"full": None, "full/keep.txt": "mine"},
        file="--out",
        expect=("full",),
        commands=RUN_SWEEP,
    ),
]


def _numbers(value, prefix: tuple[str, ...] = ()):
    """Key paths of every number of the default scenario (list items by index, as --set addresses them)."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name != "source_file":
                yield from _numbers(getattr(value, name), (*prefix, name))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, (*prefix, str(k)))
    elif isinstance(value, (list, tuple)) and value and isinstance(value[0], BaseModel):
        for i, v in enumerate(value):
            yield from _numbers(v, (*prefix, str(i)))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield ".".join(prefix)


def _every_number_infinite() -> list[Case]:
    from sim.scenario import Scenario

    return [Case(f"inf:{key}", args=("--set", f"{key}=inf"), expect=(f"--set {key}", "finite")) for key in _numbers(Scenario())]


INFINITE = _every_number_infinite()


def write_case(d: Path, case: Case) -> Path:
    for name, content in case.files.items():
        p = d / name
        if content is None:
            p.mkdir(parents=True)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    if case.text is not None:
        text = case.text
        if isinstance(text, bytes):
            (d / "bad.toml").write_bytes(text)
        else:
            head = "" if case.raw or text.startswith("extends") else f'extends = "{BASELINE.as_posix()}"\n'
            (d / "bad.toml").write_text(head + text)
    (d / "exp.toml").write_text(f'scenarios = ["{case.target}"]\nreplications = 1\n')
    return d / case.target


def argv(command: str, d: Path, case: Case) -> list[str]:
    if command == "validate":
        return ["validate", str(d / case.target), *case.args]
    executor = [] if {"--workers", "--dask-local", "--serial"} & set(case.args) else ["--serial"]
    if command == "run":
        return ["run", str(d / case.target), "--out", str(d / "out"), "--quiet", *executor, *case.args]
    return ["sweep", str(d / "exp.toml"), "--out", str(d / "out"), "--quiet", *executor, *case.args]


def tree(d: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(d)), p.stat().st_size if p.is_file() else -1) for p in d.rglob("*"))


INVOCATIONS = sum(len(case.commands) for case in CASES + INFINITE)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_one_line_naming_file_and_key_exit_2_and_nothing_written(tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)  # so the default results/<name>/ would land here if anything were written
    write_case(tmp_path, case)
    for command in case.commands:
        assert_refused(tmp_path, capsys, case, command)


@pytest.mark.parametrize("case", INFINITE, ids=[c.name for c in INFINITE])
def test_every_number_of_the_schema_set_to_infinity_is_refused_by_every_command(tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)
    write_case(tmp_path, case)
    for command in ALL:
        assert_refused(tmp_path, capsys, case, command)


def assert_refused(d: Path, capsys, case: Case, command: str) -> None:
    """The command ends with status 2 and one line naming the file and key, and leaves ``d`` as it was."""
    before = tree(d)
    assert main(argv(command, d, case)) == 2, command
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, f"{command}: {err}"
    assert err.startswith("opvangsim: error: ") and "Traceback" not in err, f"{command}: {err}"
    assert case.file in err, f"{command}: {case.file!r} not in: {err}"
    for part in case.expect:
        assert part in err, f"{command}: {part!r} not in: {err}"
    assert captured.out == "", command
    assert tree(d) == before, command


def test_the_table_covers_every_class_and_is_large_enough():
    assert len(CASES) >= 120 and len(INFINITE) >= 100 and INVOCATIONS >= 900
    names = " ".join(c.name for c in CASES)
    for kind in (
        "binary",
        "directory",
        "extends",
        "extended_file",
        "replay",
        "municipalities",
        "set_",
        "workers",
        "seed",
        "out_",
    ):
        assert kind in names


# ---------------------------------------------------------------- permissions: need a process without root's override

PERMISSION_CASES = {
    "unreadable_scenario": ("bad.toml", ["validate", "bad.toml"], "bad.toml: permission denied"),
    "unreadable_extended_file": ("parent.toml", ["validate", "bad.toml"], "parent.toml: permission denied"),
    "unreadable_replay_csv": ("inflow.csv", ["validate", "bad.toml"], "inflow.replay_file"),
    "unreadable_scenario_in_a_sweep": (
        "bad.toml",
        ["sweep", "exp.toml", "--serial", "--out", "out"],
        "bad.toml: permission denied",
    ),
    "unwritable_out_for_run": ("ro", ["run", "ok.toml", "--out", "ro/out", "--until", "2026-01-10"], "--out: cannot make ro/out"),
    "unwritable_out_for_sweep": ("ro", ["sweep", "okexp.toml", "--serial", "--out", "ro/out"], "--out: cannot make ro/out"),
}

# Runs every case's command in one interpreter (each in its own directory) and reports status and stderr.
RUN_CASES = """
import contextlib, io, json, os, sys
from sim.cli import main
out = []
for cwd, argv in json.loads(sys.argv[1]):
    os.chdir(cwd)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    out.append([code, err.getvalue()])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def permission_results(tmp_path_factory):
    """Each case's status and stderr, run as this user or, for root, as root without the capability
    to ignore permissions (so that a file without read permission is unreadable for it too)."""
    import json

    if os.geteuid() == 0 and not Path("/usr/bin/setpriv").exists():
        pytest.skip("running as root without setpriv: permissions cannot be taken away")
    jobs, trees, locked = [], {}, []
    for case, (victim, command, _) in sorted(PERMISSION_CASES.items()):
        d = tmp_path_factory.mktemp(case)
        (d / "parent.toml").write_text(
            f'extends = "{BASELINE.as_posix()}"\nstart_date = 2022-01-01\nend_date = 2022-03-01\n'
            '[inflow]\nmode = "replay"\nreplay_file = "inflow.csv"\n'
        )
        (d / "inflow.csv").write_text(REPLAY.read_text())
        (d / "bad.toml").write_text('extends = "parent.toml"\n')
        (d / "ok.toml").write_text(f'extends = "{BASELINE.as_posix()}"\n')
        (d / "exp.toml").write_text('scenarios = ["bad.toml"]\nreplications = 1\n')
        (d / "okexp.toml").write_text('scenarios = ["ok.toml"]\nreplications = 1\nset = ["end_date=2026-01-10"]\n')
        (d / "ro").mkdir()
        target = d / victim
        target.chmod(0o555 if target.is_dir() else 0o000)
        locked.append(target)
        trees[case] = (d, tree(d))
        jobs.append([str(d), command])
    prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-c", RUN_CASES, json.dumps(jobs)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
    finally:
        for target in locked:
            target.chmod(0o755 if target.is_dir() else 0o644)
    assert proc.returncode == 0, proc.stderr
    results = dict(zip(sorted(PERMISSION_CASES), json.loads(proc.stdout.strip().splitlines()[-1])))
    return {case: (*results[case], *trees[case]) for case in results}


@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(PERMISSION_CASES))
def test_files_without_permission_are_bad_input(permission_results, case):
    code, err, d, before = permission_results[case]
    err = err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert PERMISSION_CASES[case][2] in err, err
    assert tree(d) == before


@pytest.mark.integration
def test_the_installed_command_prints_no_traceback(tmp_path):
    case = CASES[[c.name for c in CASES].index("unknown_key")]
    f = write_case(tmp_path, case)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(f), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert "bad.toml: inflow.frist_applications_per_year: unknown key; did you mean 'first_applications_per_year'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_set_into_a_list_the_file_does_not_write_starts_from_the_default_list(tmp_path):
    """`--set registration.centres.0.slots=500` on a file without `centres` means the default list's first centre."""
    from sim.scenario import Scenario, load_scenario

    f = tmp_path / "plain.toml"
    f.write_text('name = "plain"\n')
    s = load_scenario(f, ["registration.centres.0.slots=500"])
    default = Scenario().registration.centres
    assert s.registration.centres[0].slots == 500
    assert len(s.registration.centres) == len(default)
    assert s.registration.centres[1:] == default[1:]
    assert s.registration.centres[0].model_copy(update={"slots": default[0].slots}) == default[0]


def test_a_sweep_refuses_up_front_a_design_point_whose_start_state_does_not_fit(tmp_path, capsys):
    """A factor that puts more people in durable places than are open on day 0: the sweep names the design
    point and the key before anything runs (exit 2, nothing written), as validate and run would."""
    from sim.cli import main

    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'scenarios = ["{ROOT / "scenarios" / "baseline.toml"}"]\nreplications = 1\nset = ["end_date=2026-02-01"]\n'
        '[[factors]]\nkey = "initial_state.occupancy_durable"\nlevels = [40000, 60000]\n'
    )
    out = tmp_path / "out"
    assert main(["sweep", str(exp), "--serial", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "occupancy_durable" in err[0] and "60000" in err[0], err
    assert not out.exists()


@pytest.mark.integration
def test_counting_instructions_without_valgrind_says_so_in_one_line(tmp_path):
    """The benchmark's --instructions needs valgrind, a system package; without it: one line, status 2."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_baseline.py"), "--instructions"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(tmp_path)},  # a PATH without valgrind
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "bench_baseline: --instructions needs valgrind on the PATH (a system package, e.g. apt install valgrind)"
    ]
    assert proc.stdout == ""
