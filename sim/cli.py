"""Command line: ``opvangsim run | validate | sweep | compare | report | backtest | study | app | calibrate``.

Bad input (a scenario or experiment file that cannot be used, a command-line
option out of range, an output location that cannot be written) prints one
message naming the file or option, the key path and what is allowed, and exits
with status 2 without a traceback and without writing anything. A Dask cluster
that goes away ends a sweep with status 3 (finished runs are kept); SIGTERM
ends any command as Ctrl-C does (worker processes stopped, the sweep lock
released), with status 143.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

from sim.errors import (
    EXIT_BAD_INPUT,
    EXIT_EXECUTOR_LOST,
    EXIT_TERMINATED,
    ExecutorLost,
    RunFailed,
    Terminated,
    UserInputError,
)

# Subcommands implemented elsewhere: module with add_arguments(parser) and main(args) -> int.
PLUGINS = {
    "sweep": ("sim.sweep", "run every design point × replication of an experiment file"),
    "compare": ("sim.analysis", "paired differences of every scenario against the baseline"),
    "report": ("sim.report", "a self-contained HTML report of a results directory"),
    "backtest": ("sim.backtest", "run the 2022 back-test and compare with observations"),
    "study": ("sim.study", "run a baseline and variants alike (same seeds, window), then compare and report"),
    "app": ("sim.app", "a local web page: choose a proposal, run it against its starting point, read the answer"),
    "calibrate": ("sim.calibration", "ABC-SMC calibration of the behaviour parameters against history up to a cut-off"),
}


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error reported as bad input: one line, exit status 2."""

    def error(self, message: str):
        print(f"opvangsim: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _add_run(sub) -> None:
    from sim.executors import add_executor_arguments

    p = sub.add_parser("run", help="run a scenario with replications and write results")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.add_argument("--replications", "-r", type=int, default=1, help="number of replications (default 1)")
    p.add_argument("--out", help="output directory (default results/<scenario name>)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set procedure.decisions_per_week=500",
    )
    p.add_argument("--until", help="end date (YYYY-MM-DD), shorthand for --set end_date=...")
    add_executor_arguments(p, None, at_most="one per replication")
    p.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check a scenario or experiment file and exit")
    p.add_argument("file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; a plugin's module is imported, and its options added, only for ``command``.

    ``opvangsim --help`` thus lists every command without importing the model,
    the analysis or matplotlib (under a second instead of several).
    """
    parser = Parser(
        prog="opvangsim", description="Simulate the Dutch asylum reception chain and the Spreidingswet capacity cycle."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    _add_run(sub)
    _add_validate(sub)
    for name, (module, help_text) in PLUGINS.items():
        p = sub.add_parser(name, help=help_text)
        if name == command:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(_plugin=mod)
    return parser


def _command(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def cmd_validate(args) -> int:
    from pathlib import Path

    from sim.scenario import read_toml

    path = Path(args.file)
    head = read_toml(path)  # the one reader: a clear message for a missing, binary or unreadable file
    if "design" in head or "factors" in head or "scenarios" in head:  # only experiment files list scenarios
        from sim.experiment import load_experiment

        exp = load_experiment(path, args.overrides)
        print(f"{path}: valid experiment '{exp.name}'")
        return 0
    if "variants" in head:  # only study files have variants
        from sim.study import load_study, resolve

        study = load_study(path, args.overrides)
        arms = resolve(study)
        print(f"{path}: valid study '{study.name}' ({', '.join(a.name for a in arms)})")
        return 0
    from sim.scenario import load_scenario

    scenario = load_scenario(path, args.overrides)
    print(
        f"{path}: valid scenario '{scenario.name}' ({scenario.horizon_days} days from {scenario.start_date}, digest {scenario.digest()[:12]})"
    )
    return 0


def _raise_terminated(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(_command(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error, already printed on one line (2)
        return int(exc.code or 0)
    if args.version:
        from sim import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return EXIT_BAD_INPUT
    # SIGTERM unwinds like Ctrl-C, so worker pools are torn down and the sweep lock is released
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        if args.command == "run":
            from sim.runner import cmd_run

            return cmd_run(args)
        if args.command == "validate":
            return cmd_validate(args)
        return args._plugin.main(args)
    except UserInputError as exc:
        print(f"opvangsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ExecutorLost as exc:
        print(
            f"opvangsim: error: {exc}. Finished runs are kept: run the same command again to resume.",
            file=sys.stderr,
        )
        return EXIT_EXECUTOR_LOST
    except RunFailed as exc:
        print(f"opvangsim: error: {exc}\nnothing was written.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("opvangsim: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("opvangsim: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
