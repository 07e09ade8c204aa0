"""The README works as written, in order, on a fresh clone.

Its Python block runs as a doctest. Its shell commands are too long to run
here (ten-year runs, thirty replications), so each is parsed by the real
command-line parser, its files are loaded and validated, and the directories
the commands write and read are followed in order: a command must not write
where an earlier one wrote (unless it resumes or is told to overwrite), and
must read only what an earlier one wrote.
"""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from sim import replication_seed, simulate
from sim.cli import _command, build_parser
from sim.cli import main as cli_main
from sim.experiment import load_experiment
from sim.scenario import load_scenario
from sim.study import load_study

README = ROOT / "README.md"


def test_the_readme_python_block_runs_as_a_doctest(monkeypatch):
    monkeypatch.chdir(ROOT)
    parser = doctest.DocTestParser()
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    tested = [b for b in blocks if ">>>" in b]
    assert tested, "the README has no doctest block"
    for i, block in enumerate(tested):
        test = parser.get_doctest(block, {}, f"README python block {i}", str(README), 0)
        result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test)
        assert result.failed == 0 and result.attempted > 0


def test_simulate_with_the_replication_seed_is_the_commands_replication(tmp_path):
    """What the README promises: replication r of `opvangsim run --seed S` is simulate(seed=replication_seed(S, r))."""
    out = tmp_path / "run"
    assert (
        cli_main(
            [
                "run",
                str(ROOT / "scenarios" / "baseline.toml"),
                "--set",
                "horizon_years=0.1",
                "-r",
                "2",
                "--seed",
                "3",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    by_cli = pd.read_parquet(out / "summary.parquet")
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml", ["horizon_years=0.1"])
    for r in (0, 1):
        summary = simulate(scenario, seed=replication_seed(3, r), replication=r).summary
        row = by_cli[by_cli["replication"] == r].iloc[0]
        assert {k: row[k] for k in summary} == pytest.approx(summary, nan_ok=True)
    other = simulate(scenario, seed=3).summary  # the root seed itself is another run
    assert other["emergency_person_nights"] != by_cli.loc[0, "emergency_person_nights"]


def _commands() -> list[str]:
    """Every `opvangsim ...` command of the README's shell blocks, in order, with shell loops unrolled."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        lines = block.replace("\\\n", " ").splitlines()
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            loop = re.match(r"for (\w+) in ([^;]+); do\s*(.*)", line)
            if loop:
                var, values, rest = loop.group(1), loop.group(2).split(), loop.group(3)
                one_line = re.match(r"(.*?);\s*done\b", rest)
                body = [one_line.group(1).strip()] if one_line else ([rest] if rest else [])
                while not one_line and not lines[i + 1].strip().startswith("done"):
                    i += 1
                    body.append(lines[i].strip())
                i += 0 if one_line else 1
                out += [b.replace(f"${var}", v) for v in values for b in body if b.startswith("opvangsim ")]
            else:
                out += [part.strip() for part in line.split("&&") if part.strip().startswith("opvangsim ")]
            i += 1
    return out


def test_the_readme_commands_parse_and_write_where_nothing_was_before(monkeypatch):
    monkeypatch.chdir(ROOT)
    commands = _commands()
    assert len(commands) >= 20
    written: dict[Path, tuple] = {}  # directory -> what wrote it (for a resume: the same thing)
    for n, cmd in enumerate(commands, start=1):
        argv = shlex.split(cmd, comments=True)[1:]
        try:
            args = build_parser(_command(argv)).parse_args(argv)
        except SystemExit:
            pytest.fail(f"README command {n} does not parse: {cmd}")
        where = f"README command {n} ({cmd})"
        if args.command == "run":
            scenario = load_scenario(args.scenario, args.overrides + ([f"end_date={args.until}"] if args.until else []))
            out = Path(args.out or f"results/{scenario.name}")
            assert out not in written or args.force, f"{where}: {out} was written by an earlier command; it would be refused"
            written[out] = ("run",)
        elif args.command in ("sweep", "study"):
            if args.command == "sweep":
                thing = load_experiment(args.experiment, args.overrides, args.replications)
            else:
                thing = load_study(args.study, args.overrides, args.replications)
            out = Path(args.out or f"results/{thing.name}")
            identity = (args.command, thing.model_dump_json())
            assert out not in written or written[out] == identity or args.fresh, f"{where}: {out} holds other results"
            written[out] = identity
        elif args.command in ("compare", "report"):
            d = Path(args.dir)  # a results directory, or one holding several (a collection)
            assert any(w == d or d in w.parents for w in written), f"{where}: reads {d}, which no earlier command wrote"
        elif args.command == "validate":
            assert Path(args.file).is_file(), f"{where}: no file {args.file}"
