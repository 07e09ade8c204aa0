"""``opvangsim app``: a local web page for policy advisers — choose a proposal, run it, read the answer.

The page (Panel, in :mod:`sim.app.page`) offers the levers of the Spreidingswet
as plain controls (:mod:`sim.app.levers`), runs the proposal against its
starting point as a study (:mod:`sim.app.proposal`, through
:func:`sim.study.run_study`), and gives the answer first in words, then in
figures (:mod:`sim.app.answer`), in Dutch or English (:mod:`sim.app.i18n`).

The server listens on 127.0.0.1 only, and the page loads nothing from
elsewhere: nothing leaves the machine. Panel is imported when the command
runs, not when the command line starts (``opvangsim --help`` stays fast).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.errors import UserInputError, require_range
from sim.executors import PER_USABLE_CORE
from sim.scenario import SCENARIO_DIR

DEFAULT_PORT = 5006
LOCALHOST = "127.0.0.1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free port)")
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"local worker processes for the runs (default: {PER_USABLE_CORE})",
    )
    how.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on a running Dask scheduler instead")
    p.add_argument(
        "--scenarios", default=str(SCENARIO_DIR), help="directory of the starting scenarios (default: the shipped ones)"
    )
    p.add_argument("--cache", default="results/app", help="where proposals and their results are kept (default results/app)")
    p.add_argument("--language", choices=("nl", "en"), default="nl", help="the page's language at first (default nl)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")


def executor_factory(workers: int | None, scheduler: str | None):
    """A function making a fresh executor for each run, and its description.

    Runs never go in the page's own process (the model would hold its interpreter): one worker
    process at least, or a Dask scheduler.
    """
    from sim.executors import DaskExecutor, ProcessExecutor, usable_cores

    if scheduler:
        return (lambda: DaskExecutor(scheduler=scheduler)), f"Dask scheduler {scheduler}"
    n = max(1, int(workers or usable_cores()))
    return (lambda: ProcessExecutor(n)), f"{n} local worker process{'es' if n > 1 else ''}"


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (for --port 0)."""
    import socket

    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def main(args: argparse.Namespace) -> int:
    require_range("--workers", args.workers, 1)
    require_range("--port", args.port, 0, 65535)
    scenarios = Path(args.scenarios)
    if not scenarios.is_dir() or not any(scenarios.glob("*.toml")):
        raise UserInputError("--scenarios", f"{scenarios} is not a directory of scenario files (*.toml)")
    from sim.app.levers import load_start, scenario_files

    load_start(next(iter(scenario_files(scenarios).values())))  # the page opens on it: refused here with its message
    import panel as pn

    from sim.app.page import AppConfig, make_page

    port = args.port or _free_port()
    executor, label = executor_factory(args.workers, args.scheduler)
    config = AppConfig(scenarios.resolve(), Path(args.cache).resolve(), executor, label, args.language)
    try:
        server = pn.serve(
            {"/": make_page(config)},
            port=port,
            address=LOCALHOST,
            websocket_origin=[f"{LOCALHOST}:{port}", f"localhost:{port}"],
            show=False,
            start=False,
            title="opvangsim",
            verbose=False,
        )
    except OSError as exc:
        raise UserInputError("--port", f"cannot listen on {LOCALHOST}:{port} ({exc.strerror or exc})") from None
    url = f"http://{LOCALHOST}:{server.port}/"
    print(f"opvangsim app: {url}  (runs on {label}; Ctrl-C stops)", flush=True)
    if not args.no_browser:
        import webbrowser

        server.io_loop.add_callback(webbrowser.open, url)
    server.start()
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        print("opvangsim app: stopped", file=sys.stderr)
    return 0
