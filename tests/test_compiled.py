"""Cached compiled kernels (sim.compiled) are used only while what they were compiled from is unchanged: their own
module and every module of the package it imports from, transitively."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sim.compiled import PACKAGE, _imported, sources_stamp

CALLER = """
from sim.compiled import jit
from {pkg}.callee import step


@jit
def twice():
    return step() + step()
"""


def _package(root: Path, name: str, value: int) -> Path:
    """A package ``name`` under ``root``: ``caller.twice`` (compiled) calls ``callee.step`` (compiled) in
    another module, which returns ``value``."""
    pkg = root / name
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "caller.py").write_text(CALLER.format(pkg=name))
    _callee(pkg, value)
    return pkg


def _callee(pkg: Path, value: int) -> None:
    (pkg / "callee.py").write_text(f"from sim.compiled import jit\n\n\n@jit\ndef step():\n    return {value}\n")


def _twice(root: Path, name: str, watched: bool) -> int:
    """``caller.twice()`` in a fresh process, with the package's kernels stamped by their imports or not (numba's
    own check)."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(root)!r})
        from sim.compiled import watch_package
        if {watched}:
            watch_package(Path({str(root / name)!r}))
        from {name}.caller import twice
        print(twice())
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return int(out.stdout.split()[-1])


def test_a_cached_kernel_runs_the_callee_of_another_module_as_it_now_is(tmp_path):
    """A compiled loop calling a compiled function of another module, both cached, runs that function as its
    source now says after an edit to that module only; numba's own check (the caller's module alone) runs the
    cached old one, which is why the package stamps its kernels by their imports."""
    for name, watched in (("watched", True), ("unwatched", False)):
        pkg = _package(tmp_path, name, 1)
        assert _twice(tmp_path, name, watched) == 2
        assert list((pkg / "__pycache__").glob("caller.twice-*.nbi")), "the caller's kernel should be cached"
        _callee(pkg, 5)  # only the callee's module changes
        got = _twice(tmp_path, name, watched)
        assert got == (10 if watched else 2), (name, got)


def test_the_stamp_covers_the_modules_a_kernel_module_imports_from_and_no_others():
    """Placement's loops call people's and locations' loops and read their constants: their sources are in the
    stamp; the command line, which no kernel reads, is not. The stamp is read once per process."""
    closure, todo = set(), [PACKAGE / "reception" / "placement.py"]
    while todo:
        path = todo.pop()
        if path not in closure:
            closure.add(path)
            todo.extend(_imported(path))
    assert {PACKAGE / "people.py", PACKAGE / "reception" / "locations.py", PACKAGE / "compiled.py"} <= closure
    assert PACKAGE / "cli.py" not in closure
    assert sources_stamp(PACKAGE / "people.py") != sources_stamp(PACKAGE / "reception" / "placement.py")
