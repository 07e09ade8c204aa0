"""Errors a user can fix, and the exit statuses the command line maps them to.

:class:`UserInputError` is a problem with what the user gave that is not a
scenario or experiment file: a command-line option, an output directory, a
results directory. :class:`sim.scenario.ScenarioError` (a file, a key path
and what is allowed) is a kind of it. The command line prints either as one
line and exits with :data:`EXIT_BAD_INPUT`, before any work and without
writing anything.
"""

from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_EXECUTOR_LOST = 3  # the Dask workers or scheduler went away; finished runs are kept, run again to resume
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process ended by SIGTERM


MAX_SEED = 2**63 - 1  # seeds are stored as 64-bit integers


class UserInputError(Exception):
    """Something the user gave cannot be used: ``subject`` (an option such as ``--out``, or a path) and why."""

    def __init__(self, subject: str, message: str):
        self.subject = subject
        self.message = _one_line(str(message))
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{_one_line(self.subject)}: {self.message}" if self.subject else self.message


def _one_line(text: str) -> str:
    """Whitespace (line breaks from a library's message or a user's value) as single spaces."""
    return " ".join(text.split())


class ExecutorLost(Exception):
    """The executor can no longer run anything (every Dask worker gone, the scheduler lost).

    Runs that finished before are kept; the message says how to resume.
    """


class RunFailed(Exception):
    """A replication of ``opvangsim run`` or ``backtest`` raised (a defect, not bad input): names it, its seed
    and the error, with the worker's traceback."""


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM, so that ``finally`` blocks and
    context managers (worker pools, the sweep lock) clean up as they do for Ctrl-C."""


def require_range(option: str, value: int | None, minimum: int, maximum: int | None = None) -> None:
    """Refuse a command-line number below ``minimum`` or above ``maximum`` (``None``: the option was not given)."""
    if value is not None and value < minimum:
        raise UserInputError(option, f"must be ≥ {minimum}, got {value}")
    if value is not None and maximum is not None and value > maximum:
        raise UserInputError(option, f"must be ≤ {maximum:,}, got {value:,}")
