"""``opvangsim study``: a baseline and variants run alike, resumable and cancellable, then compared.

The study must give exactly the numbers of the README's shell loop (one
``opvangsim run`` per scenario file with the same seed and replications).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main as cli_main
from sim.executors import SerialExecutor
from sim.store import load_results
from sim.study import StudyCancelled, load_study, run_study

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ARMS = ("baseline", "cycle_4y", "deadline_plus_24m")
QUARTER = "horizon_years=0.1"


def _study_file(d: Path, replications: int = 2) -> Path:
    f = d / "quarter.toml"
    f.write_text(
        'name = "quarter"\n'
        f'baseline = "{SCENARIOS / "baseline.toml"}"\n'
        f"variants = [{', '.join(repr(str(SCENARIOS / f'{a}.toml')).replace(chr(39), chr(34)) for a in ARMS[1:])}]\n"
        f'replications = {replications}\nroot_seed = 5\nset = ["{QUARTER}"]\n'
    )
    return f


@pytest.fixture(scope="module")
def loop_and_study(tmp_path_factory) -> tuple[Path, Path]:
    """The README's shell loop (one `opvangsim run` per file, the same seed) and the study of the same files."""
    d = tmp_path_factory.mktemp("study")
    for arm in ARMS:
        assert (
            cli_main(
                [
                    "run",
                    str(SCENARIOS / f"{arm}.toml"),
                    "--set",
                    QUARTER,
                    "-r",
                    "2",
                    "--seed",
                    "5",
                    "--quiet",
                    "--out",
                    str(d / "loop" / arm),
                ]
            )
            == 0
        )
    assert cli_main(["study", str(_study_file(d)), "--out", str(d / "study"), "--serial", "--quiet"]) == 0
    return d / "loop", d / "study"


def _metrics(s: pd.DataFrame) -> pd.DataFrame:
    drop = [c for c in s.columns if c in ("scenario", "design_point", "run_seconds") or c.startswith("factor:")]
    return s.drop(columns=drop).sort_values("replication").reset_index(drop=True)


def test_a_study_gives_exactly_the_numbers_of_the_shell_loop(loop_and_study, capsys):
    loop, study = loop_and_study
    for arm in ARMS:
        a, b = _metrics(load_results(loop / arm).summary), _metrics(load_results(study / arm).summary)
        pd.testing.assert_frame_equal(a[b.columns], b, check_dtype=False)
    capsys.readouterr()
    assert cli_main(["compare", str(loop), "--out", str(loop / "analysis")]) == 0
    by_loop = pd.read_csv(loop / "analysis" / "paired_differences.csv")
    by_study = pd.read_csv(study / "analysis" / "paired_differences.csv")
    pd.testing.assert_frame_equal(by_loop, by_study)
    assert (study / "report" / "report.html").is_file()
    text = (study / "report" / "report.html").read_text()
    assert text.index("cycle_4y") < text.index("deadline_plus_24m")  # the order the study gives, not alphabetical


def test_a_cancelled_study_keeps_its_runs_and_resumes_to_the_same_numbers(loop_and_study, tmp_path):
    _, whole = loop_and_study
    study = load_study(_study_file(tmp_path))
    seen: list[tuple[int, int, str]] = []

    def progress(done: int, total: int, arm: str) -> None:
        seen.append((done, total, arm))

    with pytest.raises(StudyCancelled):
        run_study(study, tmp_path / "out", SerialExecutor(), progress=progress, cancel=lambda: len(seen) >= 4)
    kept = sum(len(load_results(tmp_path / "out" / a).summary) for a in ARMS if (tmp_path / "out" / a / "manifest.json").exists())
    assert 1 <= kept < 6
    assert not (tmp_path / "out" / "report").exists()
    seen.clear()
    out = run_study(study, tmp_path / "out", SerialExecutor(), progress=progress)
    assert out == tmp_path / "out"
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and done[0] == kept and seen[-1][:2] == (6, 6)
    for arm in ARMS:
        pd.testing.assert_frame_equal(_metrics(load_results(out / arm).summary), _metrics(load_results(whole / arm).summary))
    assert (out / "report" / "report.html").is_file()


def test_a_study_file_with_a_missing_variant_or_two_arms_of_one_name_is_refused(tmp_path, capsys):
    f = _study_file(tmp_path)
    assert cli_main(["validate", str(f)]) == 0
    assert "valid study 'quarter' (baseline, cycle_4y, deadline_plus_24m)" in capsys.readouterr().out
    f.write_text(f.read_text().replace("cycle_4y.toml", "cycle_5y.toml"))
    assert cli_main(["study", str(f), "--out", str(tmp_path / "out"), "--serial", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "variants.0" in err and "cycle_5y.toml" in err and "Traceback" not in err
    f.write_text(f.read_text().replace("cycle_5y.toml", "baseline.toml"))
    assert cli_main(["study", str(f), "--out", str(tmp_path / "out"), "--serial", "--quiet"]) == 2
    assert "two arms are named 'baseline'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_variant_can_be_the_baseline_with_overrides(tmp_path):
    """What a page for policy advisers needs: a proposal is the baseline file with lever values."""
    f = tmp_path / "proposal.toml"
    f.write_text(
        f'baseline = "{SCENARIOS / "baseline.toml"}"\n'
        f'replications = 1\nset = ["horizon_years=0.1"]\n'
        f'[[variants]]\nfile = "{SCENARIOS / "baseline.toml"}"\nname = "deadline_36m"\n'
        'set = ["capacity.spreidingswet.deadline_after_months=36"]\n'
    )
    from sim.study import resolve

    arms = resolve(load_study(f))
    assert [a.name for a in arms] == ["baseline", "deadline_36m"]
    assert arms[1].overrides[-1] == "capacity.spreidingswet.deadline_after_months=36"
    assert arms[0].digest != arms[1].digest


def test_a_study_directory_is_not_reused_for_other_arms_unless_fresh(loop_and_study, tmp_path, capsys):
    _, done = loop_and_study
    f = _study_file(tmp_path)
    f.write_text(f.read_text().replace(f', "{SCENARIOS / "deadline_plus_24m.toml"}"', ""))
    out = tmp_path / "out"
    import shutil

    shutil.copytree(done, out)
    assert cli_main(["study", str(f), "--out", str(out), "--serial", "--quiet"]) == 2
    assert "holds a study of the arms baseline, cycle_4y, deadline_plus_24m" in capsys.readouterr().err
    assert cli_main(["study", str(f), "--out", str(out), "--serial", "--quiet", "--fresh"]) == 0
    assert not (out / "deadline_plus_24m").exists() and (out / "cycle_4y" / "manifest.json").exists()
    assert cli_main(["study", str(f), "--out", str(loop_and_study[0] / "baseline"), "--serial", "--quiet"]) == 2
    assert "is not the results of a study" in capsys.readouterr().err
