"""Compiled loops for the chain's daily bookkeeping (numba).

Every day each part of the chain updates the records of a few hundred people: who sits where, who moved,
how many places of each type are taken. As numpy calls on such short arrays, each step costs about a
microsecond of call overhead whatever its length, and a step needs ten or more of them; as one loop
compiled by numba (``@jit``), it costs one call. The loops do the same integer and copy operations in the
same order, so results are the same as numpy's, to the bit.

What a call costs beyond its loop (measured in a run, where each call meets cold caches): numba checks each
argument's type (a tuple of arrays costs more than the arrays one by one) and wraps each array, about 1-3 us a
call; and every array a kernel hands back to Python costs a Python call inside numba (it fetches the array's
type, ``numba_unpickle``), about 1.4 us each. So a kernel called every day hands back numbers, or writes into
arrays its caller keeps, rather than returning new arrays (a 10-year baseline run made 57,927 such hand-backs;
now 6,991), and one call does what two would.

Kernels compile on their first call and are cached next to their module (``__pycache__``), so only a
machine's first run pays for compiling (about ten seconds). A kernel must not call itself: numba caches a
recursive kernel, but the copy loaded from the cache crashed (walk a stack of its own instead, as
:func:`sim.capacity.cycle.numpy_sum` does). ``NUMBA_DISABLE_JIT=1`` runs them as plain Python,
which is slow but lets a debugger step through them.

A cached kernel is used only while the sources it was compiled from are unchanged: its own module and every
module of the package that module imports from, and so on (:func:`sources_stamp`). numba's own check reads the
kernel's module alone, and a kernel keeps the compiled kernels it calls in other modules, and the constants it
imports, as they were when it was compiled: after an edit to only ``sim/people.py``, placement's cached loops ran
the old ``scan_queue``. The check applies to the package's modules (:func:`watch_package`), cached where numba
would cache them (``NUMBA_CACHE_DIR``, ``__pycache__``, or the user's cache directory).
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
from pathlib import Path

from numba import njit
from numba.core import caching

PACKAGE = Path(__file__).resolve().parent

_roots: dict[str, Path] = {}  # package name -> its directory, for packages whose kernels are stamped by their imports
# an import statement, once comments and line continuations are gone: ``from`` a module (relative or not) and the
# names, in parentheses or not, or ``import`` modules. One in a docstring counts too: a stamp may cover too much,
# which costs a recompile, never too little.
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)|import[ \t]+([^\n]*))", re.M)


def watch_package(root: Path) -> None:
    """Stamp the cached kernels of the package in directory ``root`` by their sources and what they import
    from the package (:func:`sources_stamp`); this package's are, from its import."""
    _roots[root.name] = Path(root).resolve()


def _module_file(name: str) -> Path | None:
    """The source file of module ``name`` in a watched package (a package's ``__init__.py``), if it is one."""
    root = _roots.get(name.split(".")[0])
    if root is None:
        return None
    base = root.parent.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _absolute(module: str, path: Path) -> str:
    """The module a ``from`` statement in the file at ``path`` names (``.x``, ``..``: relative to that file's package)."""
    level = len(module) - len(module.lstrip("."))
    if level == 0:
        return module
    root = next((r for r in _roots.values() if path.is_relative_to(r)), None)
    if root is None:
        return module.lstrip(".")
    package = list(path.relative_to(root.parent).parts[:-1])  # a module's package; __init__'s is its own
    return ".".join(package[: len(package) - (level - 1)] + [m for m in module.lstrip(".").split(".") if m])


@functools.cache
def _imported(path: Path, mtime_ns: int, size: int) -> frozenset[Path]:
    """Source files of the watched packages' modules that the module at ``path`` (as of ``mtime_ns`` and ``size``)
    imports from, anywhere in it (lazy imports too), including submodules imported by name (``from sim.reception
    import placement``). Not the packages above a module: their ``__init__`` gives a kernel nothing unless it is
    imported from itself."""
    text = re.sub(r"#[^\n]*", "", path.read_text(encoding="utf-8")).replace("\\\n", " ")
    out = set()
    for module, names, plain in _IMPORT.findall(text):
        if module:
            module = _absolute(module, path)
            candidates = [module] + [f"{module}.{n.split(' as ')[0].strip()}" for n in names.strip("()").split(",") if n.strip()]
        else:
            candidates = [m.split(" as ")[0].strip() for m in plain.split(",")]
        out.update(found for found in map(_module_file, candidates) if found is not None)
    return frozenset(out)


@functools.cache
def _file_digest(path: Path, mtime_ns: int, size: int) -> bytes:
    return hashlib.sha256(str(path).encode() + b"\0" + path.read_bytes()).digest()


def _version(path: Path) -> tuple[Path, int, int]:
    """A file and what tells its versions apart (as numba's own stamp does): read again once it changes, in a
    process that reloads an edited module too."""
    st = path.stat()
    return path, st.st_mtime_ns, st.st_size


def sources_stamp(path: Path) -> str:
    """A digest of the source at ``path`` and of every watched module it imports from, transitively: what a
    cached kernel of that module was compiled from."""
    seen, todo = set(), [path.resolve()]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(_imported(*_version(current)) - seen)
    return hashlib.sha256(b"".join(_file_digest(*_version(file)) for file in sorted(seen))).hexdigest()


def _watched(py_file: str) -> bool:
    path = Path(py_file).resolve()
    return any(path.is_relative_to(root) for root in _roots.values())


def _stamped(locator: type) -> type:
    """numba's cache locator ``locator`` for the watched packages' modules, stamped by :func:`sources_stamp`."""

    class Stamped(locator):
        def get_source_stamp(self):
            if getattr(sys, "frozen", False):  # a frozen application: numba stamps by its executable
                return super().get_source_stamp()
            return sources_stamp(Path(self._py_file))

        @classmethod
        def from_function(cls, py_func, py_file):
            return super().from_function(py_func, py_file) if _watched(py_file) else None

    Stamped.__name__ = Stamped.__qualname__ = f"Stamped{locator.__name__}"
    return Stamped


def _numba(name: str) -> type:
    """numba's caching class ``name`` (older numbas, 0.60 among them, name the locators with a leading underscore)."""
    return getattr(caching, name, None) or getattr(caching, "_" + name)


def _register_locators() -> None:
    """Put the stamped locators ahead of numba's, in numba's order (a cache directory the user set, then
    ``__pycache__``, then the user's cache directory). Once per process."""
    impl = _numba("CacheImpl")
    if any(getattr(c, "_sim_stamped", False) for c in impl._locator_classes):
        return
    ours = [_stamped(_numba(name)) for name in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]
    for c in ours:
        c._sim_stamped = True
    impl._locator_classes[:0] = ours


watch_package(PACKAGE)
_register_locators()

jit = njit(cache=True)  # decorator: compile in nopython mode, cache the machine code on disk
