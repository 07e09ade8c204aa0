"""Files the user names: reading inputs and checking outputs, with one clear message each.

Every scenario and experiment file is read by :func:`read_text`, which turns
what can go wrong (no such file, a directory, no permission, a binary or
non-UTF-8 file) into a :class:`~sim.scenario.ScenarioError` naming the file.
Output locations are checked by :func:`check_output_directory` and
:func:`check_output_file` *before* any work, so a run never computes results
it then cannot write. :func:`file_digest` fingerprints the data files a
scenario reads, so a resumed sweep can tell that one changed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

from sim.errors import UserInputError


def _reason(exc: OSError) -> str:
    return {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EISDIR: "is a directory, not a file",
        errno.ENOTDIR: "a part of the path is a file, not a directory",
        errno.ENOENT: "file not found",
        errno.EROFS: "read-only file system",
    }.get(exc.errno, exc.strerror or str(exc))


def read_text(path: str | Path, error) -> str:
    """The text of a UTF-8 file, or ``error(message)`` raised for a file that cannot be read as text.

    ``error`` builds the exception (a :class:`ScenarioError` for the file), so callers decide
    which file and key path the message names.
    """
    path = Path(path)
    if path.is_dir():
        raise error("is a directory, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(_reason(exc) if exc.errno != errno.ENOENT else "file not found") from None
    if b"\0" in data:
        raise error("is a binary file, not a text (TOML) file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes ("missing" for a file that cannot be read: it then differs from any digest)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return "missing"
    return h.hexdigest()


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (as anything: a file too)."""
    probe = path
    while not os.path.lexists(probe) and probe.parent != probe:
        probe = probe.parent
    return probe


def check_output_directory(path: str | Path, option: str) -> None:
    """Refuse an output directory that cannot be made or written: a file, under a file, or not writable.

    Nothing is left behind (an empty directory is made and removed again to be sure a write
    would work); ``option`` (e.g. ``--out``) is named in the message.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserInputError(option, f"{path} is a file, not a directory")
    anchor = _nearest_existing(path.absolute())
    if not anchor.is_dir():
        raise UserInputError(option, f"cannot make {path}: {anchor} is a file, not a directory")
    what = "write in" if anchor == path.absolute() else f"make {path} in"
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise UserInputError(option, f"cannot {what} {anchor} (permission denied)")
    # access() can say yes where a write fails (root, read-only or pseudo file systems, ACLs): try one
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".opvangsim-probe-", dir=anchor))
    except OSError as exc:
        raise UserInputError(option, f"cannot {what} {anchor} ({_reason(exc)})") from None


def check_output_file(path: str | Path, option: str) -> None:
    """Refuse an output file that cannot be written: a directory, under a file, or in a directory not writable."""
    path = Path(path)
    if path.is_dir():
        raise UserInputError(option, f"{path} is a directory, not a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserInputError(option, f"cannot overwrite {path} (permission denied)")
    check_output_directory(path.parent if str(path.parent) else Path("."), option)
