"""`opvangsim --help` starts in well under a second: the command line imports the model, the analysis
and matplotlib only for the command that needs them (sim/__init__.py and sim/cli.py import lazily)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "scipy",
    "pandas",
    "matplotlib",
    "sklearn",
    "SALib",
    "dask",
    "simpy",
    "panel",
    "bokeh",
    "sim.model",
    "sim.analysis",
    "sim.report",
)


def _imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('MODULES')\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    modules = done.stdout.split("MODULES\n", 1)
    assert len(modules) == 2, f"the probe did not get to the end: {done.stdout[-300:]} {done.stderr[-300:]}"
    return [m for m in modules[1].split() if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_help_imports_neither_the_model_nor_the_analysis():
    code = (
        "import contextlib, io, sim.cli\nhelp = io.StringIO()\n"
        "with contextlib.redirect_stdout(help), contextlib.suppress(SystemExit):\n    sim.cli.main(['--help'])\n"
        "assert 'compare' in help.getvalue() and 'study' in help.getvalue()"
    )
    assert _imported_after(code) == []


def test_import_sim_is_light_and_its_names_load_on_first_use():
    assert _imported_after("import sim") == []
    heavy = _imported_after("import sim\nsim.simulate")
    assert "sim.model" in heavy


def test_a_subcommand_still_gets_its_options():
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "compare", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0 and "--unpaired" in done.stdout and "--from" in done.stdout
