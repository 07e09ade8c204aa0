"""Executors: serial, local processes and Dask distributed behind one interface.

Every executor is a context manager with ``workers`` (how many runs can go at
once), ``label`` and ``imap_unordered(fn, items)``, which yields ``fn(item)``
for every item as each finishes, in completion order. ``opvangsim run``,
``backtest`` and ``sweep`` all send chunks of runs (:mod:`sim.jobs`) through
them, so there is one way replications run in parallel. Because a run's seed
depends only on its replication number (common random numbers), which executor
ran it, and in what order, never changes its numbers.

Worker processes started here die with the process that started them: a
killed ``opvangsim`` leaves no worker computing for nobody. A Dask sweep
watches its cluster: when every worker is gone, or the scheduler is, for
``patience`` seconds, it stops with :class:`~sim.errors.ExecutorLost` instead
of waiting forever.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.errors import ExecutorLost, UserInputError, require_range
from sim.memory import frozen_heap

PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_SECONDS = 0.5
DEFAULT_DASK_PATIENCE_SECONDS = 60.0
MAX_LOCAL_WORKERS = 1024
PER_USABLE_CORE = "one per core this process may use"  # how the help names the default number of local workers


def usable_cores() -> int:
    """The cores this process may run on: those of its CPU affinity where the system has one (a batch job on a
    cluster node gets a few of the node's cores, and ``os.cpu_count()`` counts them all), else every core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this system (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def die_with_parent(parent_pid: int) -> None:
    """Make this worker process end when ``parent_pid`` (the process that started it) ends.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread also polls the parent's pid, which covers other systems.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="opvangsim-parent-watch", daemon=True).start()


def _process_worker_init(parent_pid: int) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it (and ends the workers), so a
    # worker ignores it instead of printing a traceback; SIGTERM ends a worker at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent_pid)
    # the parent's objects arrive frozen (ProcessExecutor.__enter__); thawed, each run freezes what is alive
    # at its start (sim.memory.frozen_heap), the worker's own objects too: measured, runs took ~8 % longer
    # in a worker that kept the parent's freezing (bench_sweep's pool process, 1.85 s vs 2.02 s for 8 runs)
    gc.unfreeze()


class SerialExecutor:
    """Runs every item in this process, one after the other (for debugging and as the reference)."""

    workers = 1
    label = "serial"

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            yield fn(item)


class ProcessExecutor:
    """A local process pool (default: one process per core this process may use, :func:`usable_cores`)."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, int(workers or usable_cores()))
        self.label = f"{self.workers} local process{'es' if self.workers > 1 else ''}"
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        # this process's collections while the workers run (writing parts) skip the objects alive now: a full
        # collection walked ~200,000 of them (~90 ms) every few parts, on a core the workers need
        self._frozen = frozen_heap()
        self._frozen.__enter__()
        self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_process_worker_init, initargs=(os.getpid(),))
        return self

    def __exit__(self, exc_type, *exc) -> None:
        assert self._pool is not None
        try:
            if exc_type is not None:
                # an interrupt, SIGTERM or an error: end the workers now instead of letting them finish
                # their chunks for nobody (shutdown alone cancels only what has not started)
                processes = list(getattr(self._pool, "_processes", {}).values())
                for process in processes:
                    process.kill()
                for process in processes:
                    process.join()
                # A worker killed while it sent a result leaves half a message in the result pipe, and the pool's
                # manager thread then waits for the rest for ever (and shutdown for that thread: found when a
                # cancelled proposal in the app never ended). With the workers dead this process holds the pipe's
                # last writing end; closing it turns that wait into an end of file, which the pool handles as a
                # broken pool, and its thread ends.
                writer = getattr(getattr(self._pool, "_result_queue", None), "_writer", None)
                if writer is not None:
                    writer.close()
            self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)
            self._pool = None
        finally:
            self._frozen.__exit__(None, None, None)

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        assert self._pool is not None, "use the executor as a context manager"
        # keep a bounded number of chunks in flight so an interrupt loses little queued work
        pending: set = set()
        todo = iter(items)
        limit = 2 * self.workers
        for item in todo:
            pending.add(self._pool.submit(fn, item))
            if len(pending) >= limit:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    raise ExecutorLost(
                        "a worker process died while running (killed from outside, or out of memory?); "
                        f"{len(pending) + 1} task(s) of runs unfinished"
                    ) from None
                nxt = next(todo, None)
                if nxt is not None:
                    pending.add(self._pool.submit(fn, nxt))
                yield result


class QuietTeardown(logging.Filter):
    """Drops a Dask worker's report that its heartbeat found the scheduler's connection closed (logged with a
    traceback, at ERROR, by distributed's ``Worker.heartbeat``). A LocalCluster that closes while a worker's
    heartbeat is on the way makes the worker print it at the end of a sweep (seen once in about 40 clusters). Our
    own workers' scheduler lives in the sweep's process: a lost one is said in one line there (the watchdog of
    :meth:`DaskExecutor.imap_unordered`), as the client's own reports are silenced for the same reason."""

    MESSAGE = "Failed to communicate with scheduler during heartbeat"

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.MESSAGE)


class _DieWithClient:
    """A Dask worker plugin for the LocalCluster's workers: their processes end with the process that started
    them, and they do not report the scheduler's closing with a traceback (:class:`QuietTeardown`)."""

    name = "opvangsim-die-with-parent"

    def __init__(self, parent_pid: int):
        self.parent_pid = parent_pid

    def setup(self, worker) -> None:
        die_with_parent(self.parent_pid)
        log = logging.getLogger("distributed.worker")
        if not any(isinstance(f, QuietTeardown) for f in log.filters):
            log.addFilter(QuietTeardown())

    def teardown(self, worker) -> None:
        return None


# A worker's event loop takes the GIL from the run for its periodic callbacks: the tick that watches for a
# blocked loop (every 20 ms by default), the system monitor (500 ms) and the memory monitor (100 ms). A
# sweep needs none of them often; less often, the pure-Python run keeps the GIL longer (bench_sweep.py). A
# worker past its memory limit is then paused or ended up to a second later (a run needs < 500 MB).
QUIET_WORKER = {
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


class DaskExecutor:
    """Dask distributed: an existing scheduler (``tcp://host:port``) or a ``LocalCluster`` of ``n_local`` workers.

    ``patience``: seconds without any worker, or without the scheduler, after which the
    executor gives up with :class:`ExecutorLost` (finished runs are kept by the caller).
    """

    def __init__(self, scheduler: str | None = None, n_local: int | None = None, patience: float | None = None):
        if (scheduler is None) == (n_local is None):
            raise ValueError("give exactly one of scheduler and n_local")
        self.scheduler = scheduler
        self.n_local = n_local
        self.patience = DEFAULT_DASK_PATIENCE_SECONDS if patience is None else float(patience)
        self.workers = n_local or 1
        self.label = f"Dask scheduler {scheduler}" if scheduler else f"Dask LocalCluster ({n_local} workers)"
        self._cluster = None
        self._client = None

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster  # imported here: only Dask runs pay its import time

        # the client logs a lost scheduler with tracebacks while it tries to reconnect; the watchdog in
        # imap_unordered says the same in one line, so its own reports are silenced while we use it
        client_log = logging.getLogger("distributed.client")
        self._client_log_level = client_log.level
        client_log.setLevel(logging.CRITICAL)

        try:
            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout="20s")
                except (OSError, TimeoutError, ValueError) as exc:
                    raise UserInputError(
                        "--scheduler",
                        f"cannot reach a Dask scheduler at {self.scheduler} ({exc}); start one with `dask scheduler`",
                    ) from None
                n = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
                self.workers = max(1, n)
            else:
                # one single-threaded worker process per run slot: the model is pure Python and holds the GIL.
                # Dask's sampling profiler walks the task thread's stack every 10 ms, which slows a pure-Python
                # run by ~6 % (measured in benchmarks/bench_sweep.py); a sweep does not need it.
                import dask
                from distributed.diagnostics.plugin import WorkerPlugin

                class DieWithClient(_DieWithClient, WorkerPlugin):
                    pass

                # The nanny sets MALLOC_TRIM_THRESHOLD_ in its workers' environment by default; setting it at all
                # stops glibc from adapting its mmap threshold, so every array of the run is mapped and unmapped
                # afresh: measured, a run took ~35 % more CPU in a Dask worker (and in a plain process with that
                # variable set) than without it. None unsets it (dask-worker.yaml does the same for workers
                # started by hand); the nanny's other variables (one BLAS thread) stay.
                settings = {
                    "distributed.worker.profile.enabled": False,
                    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                    **QUIET_WORKER,
                }
                with dask.config.set(settings):
                    self._cluster = LocalCluster(
                        n_workers=self.n_local,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        # without a dashboard the scheduler still serves its health pages over HTTP, by default on port
                        # 8787: a second local cluster at the same time (two sweeps at once) then warned that the port
                        # was taken. Any free port on this host, as its workers' own servers take.
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.ERROR,  # not a warning per task cancelled by Ctrl-C or SIGTERM
                    )
                self._client = Client(self._cluster)
                # our own worker processes (not a shared cluster's) end when this process ends, however it ends
                self._client.register_plugin(DieWithClient(os.getpid()))
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)  # close what was started; restores the client's log level
            raise
        return self

    def __exit__(self, exc_type, *exc) -> None:
        quick = exc_type is not None  # an interrupt, SIGTERM, a lost cluster: do not wait for running tasks
        if quick:
            # tearing down a cluster mid-task makes Dask (and asyncio, for its futures) log every broken
            # connection with a traceback; the reason was said in one line already. Silenced for good:
            # those reports come late (at garbage collection) and would only repeat it.
            for name in ("distributed", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        try:
            if quick and self._cluster is not None:
                # our LocalCluster's workers end first, before they can miss their scheduler and say so
                for nanny in list(self._cluster.workers.values()):
                    try:
                        os.kill(nanny.pid, signal.SIGKILL)
                    except (ProcessLookupError, TypeError, AttributeError):  # gone already, or never started
                        pass
            if self._client is not None:
                self._client.close(timeout=1 if quick else None)
            if self._cluster is not None:
                self._cluster.close(timeout=1 if quick else None)
        except Exception:
            if not quick:  # on the way out of an error already raised, closing is best effort
                raise
        finally:
            logging.getLogger("distributed.client").setLevel(self._client_log_level)
        self._client = self._cluster = None

    def _alive(self) -> tuple[bool, str]:
        """Whether the cluster can still run something, and if not, what is missing."""
        client = self._client
        if client.status != "running":
            return False, f"the Dask scheduler {self.scheduler or '(LocalCluster)'} is unreachable"
        try:
            n = len(client.scheduler_info()["workers"])
        except Exception:  # the scheduler went away between the two questions
            return False, f"the Dask scheduler {self.scheduler or '(LocalCluster)'} is unreachable"
        return (n > 0), "there is no Dask worker (all gone, or none started)"

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from concurrent.futures import CancelledError

        from distributed import wait as dask_wait

        assert self._client is not None, "use the executor as a context manager"
        where = self.scheduler or "of the LocalCluster"
        # pure=False: a chunk is a run to do, not a value to deduplicate by hash
        futures = [self._client.submit(fn, item, pure=False) for item in items]
        pending = set(futures)
        unhealthy_since: float | None = None
        try:
            while pending:
                try:
                    done, pending = dask_wait(pending, timeout=1.0, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                except CancelledError:  # the client cancels every future when it loses the scheduler
                    raise ExecutorLost(
                        f"lost the connection to the Dask scheduler {where}; {len(pending)} task(s) of runs unfinished"
                    ) from None
                except Exception as exc:
                    raise ExecutorLost(f"lost the Dask scheduler {where} ({_first_line(exc)})") from None
                for fut in done:
                    try:
                        result = fut.result()
                    except CancelledError:
                        raise ExecutorLost(
                            f"lost the connection to the Dask scheduler {where}; {len(pending) + 1} task(s) of runs unfinished"
                        ) from None
                    except Exception as exc:  # run_chunk records a run's errors: what raises here is the cluster
                        raise ExecutorLost(f"Dask could not run a task ({_first_line(exc)})") from None
                    fut.release()
                    yield result
                if done:
                    unhealthy_since = None
                    continue
                ok, why = self._alive()
                if ok:
                    unhealthy_since = None
                elif unhealthy_since is None:
                    unhealthy_since = time.monotonic()
                elif time.monotonic() - unhealthy_since > self.patience:
                    raise ExecutorLost(f"{why} for {self.patience:.0f} s; {len(pending)} task(s) of runs unfinished")
        finally:
            for fut in futures:
                fut.cancel()


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split())
    return f"{type(exc).__name__}: {text[:200]}"


def add_executor_arguments(parser, default_workers: int | None, at_most: str | None = None) -> None:
    """The options that choose an executor (``--workers``, ``--serial``, ``--dask-local``, ``--scheduler``), and the
    command's number of local workers when none is asked for (None: one per core this process may use,
    :func:`usable_cores`; ``at_most``: what caps it, for the help, e.g. "one per replication")."""
    default = PER_USABLE_CORE if default_workers is None else str(default_workers)
    parser.set_defaults(default_workers=default_workers)
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"local worker processes (default: {default}{f', at most {at_most}' if at_most else ''})",
    )
    how.add_argument("--serial", action="store_true", help="run in this process, one run after the other")
    how.add_argument("--dask-local", type=int, metavar="N", help="run on a Dask LocalCluster of N workers")
    how.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on a running Dask scheduler")
    parser.add_argument(
        "--dask-patience",
        type=float,
        default=DEFAULT_DASK_PATIENCE_SECONDS,
        metavar="SECONDS",
        help=f"with Dask: stop when no worker (or no scheduler) was there for this long (default {DEFAULT_DASK_PATIENCE_SECONDS:.0f})",
    )


def executor_from_args(args, runs: int | None = None):
    """The executor the command-line options ask for; without one, the command's default number of local workers
    (:func:`add_executor_arguments`).

    ``runs``: how many runs there are at most (no more local processes are started than that).
    """
    require_range("--workers", args.workers, 1, MAX_LOCAL_WORKERS)
    require_range("--dask-local", args.dask_local, 1, MAX_LOCAL_WORKERS)
    if not args.dask_patience > 0:
        raise UserInputError("--dask-patience", f"must be > 0 seconds, got {args.dask_patience}")
    workers = args.workers if args.workers is not None else args.default_workers
    if runs is not None:
        workers = min(workers or usable_cores(), runs)
    return make_executor(
        serial=args.serial, workers=workers, dask_local=args.dask_local, scheduler=args.scheduler, patience=args.dask_patience
    )


def make_executor(
    serial: bool = False,
    workers: int | None = None,
    dask_local: int | None = None,
    scheduler: str | None = None,
    patience: float | None = None,
):
    """The executor the command-line options ask for (serial, processes, or Dask)."""
    if scheduler:
        return DaskExecutor(scheduler=scheduler, patience=patience)
    if dask_local:
        return DaskExecutor(n_local=dask_local, patience=patience)
    if serial or workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
