"""Cached compiled kernels (sim.compiled) are used only while what they were compiled from is unchanged: their own
module and every module of the package it imports from, transitively."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sim.compiled
from sim.compiled import PACKAGE, _imported, _version, sources_stamp

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


def _twice(root: Path, name: str, watched: bool, edit_to: int | None = None) -> list[int]:
    """``caller.twice()`` in a fresh process, with the package's kernels stamped by their imports or not (numba's
    own check); with ``edit_to``, the callee's module is then edited to return that, both modules are reloaded
    (as an interactive session's autoreload does) and ``twice()`` runs again."""
    script = textwrap.dedent(
        f"""
        import importlib, sys
        from pathlib import Path
        sys.path[:0] = [{str(PACKAGE.parent)!r}, {str(root)!r}]
        from sim.compiled import watch_package
        if {watched}:
            watch_package(Path({str(root / name)!r}))
        import {name}.callee, {name}.caller
        print({name}.caller.twice())
        if {edit_to is not None}:
            Path({name}.callee.__file__).write_text("from sim.compiled import jit\\n@jit\\ndef step():\\n    return {edit_to}\\n")
            importlib.reload({name}.callee)
            importlib.reload({name}.caller)
            print({name}.caller.twice())
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return [int(v) for v in out.stdout.split()]


def test_a_cached_kernel_runs_the_callee_of_another_module_as_it_now_is(tmp_path):
    """A compiled loop calling a compiled function of another module, both cached, runs that function as its
    source now says after an edit to that module only; numba's own check (the caller's module alone) runs the
    cached old one, which is why the package stamps its kernels by their imports."""
    for name, watched in (("watched", True), ("unwatched", False)):
        pkg = _package(tmp_path, name, 1)
        assert _twice(tmp_path, name, watched) == [2]
        assert list((pkg / "__pycache__").glob("caller.twice-*.nbi")), "the caller's kernel should be cached"
        _callee(pkg, 5)  # only the callee's module changes
        got = _twice(tmp_path, name, watched)
        # numba's own check runs the old callee (were numba to check imports itself, the stamp would be redundant)
        assert got == ([10] if watched else [2]), (name, got)


def test_a_module_edited_and_reloaded_in_a_running_process_gets_its_kernels_recompiled(tmp_path):
    """An interactive session that edits a module and reloads it runs the new source: the stamp reads a file
    again once it has changed, not once per process."""
    _package(tmp_path, "reloaded", 1)
    assert _twice(tmp_path, "reloaded", True) == [2]  # cached
    assert _twice(tmp_path, "reloaded", True, edit_to=7) == [2, 14]


def test_the_stamp_covers_the_modules_a_kernel_module_imports_from_and_no_others():
    """Placement's loops call people's and locations' loops and read their constants: their sources are in the
    stamp; the command line, which no kernel reads, is not."""
    closure, todo = set(), [PACKAGE / "reception" / "placement.py"]
    while todo:
        path = todo.pop()
        if path not in closure:
            closure.add(path)
            todo.extend(_imported(*_version(path)))
    assert {PACKAGE / "people.py", PACKAGE / "reception" / "locations.py", PACKAGE / "compiled.py"} <= closure
    assert PACKAGE / "cli.py" not in closure
    assert sources_stamp(PACKAGE / "people.py") != sources_stamp(PACKAGE / "reception" / "placement.py")


def test_imports_are_found_however_they_are_written(tmp_path, monkeypatch):
    """Parenthesised over several lines with comments (a parenthesis in one), relative, continued with a
    backslash, aliased, lazy inside a function: each module imported from counts, and a module outside the
    watched packages does not."""
    pkg = tmp_path / "tricky"
    for mod in ("a", "b", "c", "d", "e", "f", "sub/__init__", "sub/g", "sub/h"):
        (pkg / f"{mod}.py").parent.mkdir(parents=True, exist_ok=True)
        (pkg / f"{mod}.py").write_text("")
    (pkg / "sub" / "main.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from tricky import (a,  # the first (of two)
                b)
            from ..c import x
            from . import g
            from .h import y
            from tricky.d import \\
                z
            import tricky.e as e, os

            def later():
                from tricky import f
            """
        )
    )
    monkeypatch.setitem(sim.compiled._roots, "tricky", pkg.resolve())
    found = {str(p.relative_to(pkg.resolve())) for p in _imported(*_version((pkg / "sub" / "main.py").resolve()))}
    assert found == {"a.py", "b.py", "c.py", "d.py", "e.py", "f.py", "sub/__init__.py", "sub/g.py", "sub/h.py"}
