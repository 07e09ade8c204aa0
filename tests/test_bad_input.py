"""Bad input: one message naming the file and the key path, exit status 2, no traceback, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASELINE, ROOT

from sim.cli import main

# (name, scenario text, extra arguments, what the message must name besides the file)
CASES = [
    (
        "unknown_key",
        "[inflow]\nfrist_applications_per_year = 30000\n",
        [],
        ["inflow.frist_applications_per_year", "did you mean 'first_applications_per_year'"],
    ),
    ("unknown_section", "[inflw]\nfirst_applications_per_year = 30000\n", [], ["inflw", "did you mean 'inflow'"]),
    ("wrong_type", 'horizon_years = "ten"\n', [], ["horizon_years"]),
    (
        "negative_size",
        '[[capacity.scheduled]]\ntype = "durable"\nplaces = -5\nopens = 2026-02-01\n',
        [],
        ["capacity.scheduled.0.places"],
    ),
    ("share_above_one", "[inflow]\namv_share_of_first = 1.5\n", [], ["inflow.amv_share_of_first"]),
    (
        "end_before_start",
        "start_date = 2026-01-01\nend_date = 2025-06-01\n",
        [],
        ["bad.toml: end_date: end_date (2025-06-01) must be after start_date"],
    ),
    (
        "closes_before_opens",
        '[[capacity.scheduled]]\ntype = "durable"\nplaces = 50\nopens = 2026-05-01\ncloses = 2026-02-01\n',
        [],
        ["capacity.scheduled.0", "closes"],
    ),
    ("missing_replay_csv", '[inflow]\nmode = "replay"\nreplay_file = "nowhere.csv"\n', [], ["inflow.replay_file", "nowhere.csv"]),
    (
        "malformed_replay_csv",
        '[inflow]\nmode = "replay"\nreplay_file = "garbage.csv"\n',
        [],
        ["inflow.replay_file", "garbage.csv"],
    ),
    ("missing_extends", 'extends = "nothere.toml"\n', [], ["extends", "nothere.toml"]),
    (
        "set_without_value",
        "",
        ["--set", "inflow.first_applications_per_year"],
        ["inflow.first_applications_per_year", "key=value"],
    ),
    ("set_empty_key_part", "", ["--set", "inflow..first_applications_per_year=3"], ["inflow..first_applications_per_year"]),
    ("set_wrong_type", "", ["--set", "procedure.decisions_per_week=lots"], ["procedure.decisions_per_week"]),
    (
        "set_unknown_key",
        "",
        ["--set", "procedure.decisions_per_wek=500"],
        ["procedure.decisions_per_wek", "did you mean 'decisions_per_week'"],
    ),
]


def write_case(d: Path, text: str) -> Path:
    (d / "garbage.csv").write_text('this is,not\n"a replay\nseries')
    f = d / "bad.toml"
    f.write_text(f'extends = "{BASELINE.as_posix()}"\n' + text if "extends" not in text else text)
    return f


@pytest.mark.parametrize("name, text, extra, names", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_gets_one_message_exit_2_no_traceback_and_nothing_written(
    tmp_path, monkeypatch, capsys, name, text, extra, names, command
):
    monkeypatch.chdir(tmp_path)  # so the default results/<name>/ would land here if anything were written
    f = write_case(tmp_path, text)
    out = tmp_path / "out"
    argv = [command, str(f), *extra] + (["--out", str(out), "--quiet"] if command == "run" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert "bad.toml" in err
    for part in names:
        assert part in err, f"{part!r} not in: {err}"
    assert not out.exists() and not (tmp_path / "results").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "garbage.csv"]


def test_a_missing_scenario_file_is_bad_input(tmp_path, capsys):
    assert main(["run", str(tmp_path / "absent.toml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "absent.toml" in err and "not found" in err
    assert not (tmp_path / "out").exists()


def test_the_installed_command_prints_no_traceback(tmp_path):
    f = write_case(tmp_path, "[inflow]\nfrist_applications_per_year = 30000\n")
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
