"""Executors: serial, local processes and Dask distributed behind one interface.

Every executor is a context manager with ``workers`` (how many runs can go at
once) and ``imap_unordered(fn, items)``, which yields ``fn(item)`` for every
item as each finishes, in completion order. The sweep sends *chunks* of runs as
items, so short runs are not dominated by task overhead. Because a run's seed
depends only on its replication number (common random numbers), which executor
ran it, and in what order, never changes its numbers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from sim.scenario import ScenarioError


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
    """A local process pool (default: one process per core)."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.label = f"{self.workers} local process{'es' if self.workers > 1 else ''}"
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        self._pool = ProcessPoolExecutor(max_workers=self.workers)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        # on an interrupt, drop what has not started instead of finishing the whole queue
        assert self._pool is not None
        self._pool.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
        self._pool = None

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
                nxt = next(todo, None)
                if nxt is not None:
                    pending.add(self._pool.submit(fn, nxt))
                yield fut.result()


class DaskExecutor:
    """Dask distributed: an existing scheduler (``tcp://host:port``) or a ``LocalCluster`` of ``n_local`` workers."""

    def __init__(self, scheduler: str | None = None, n_local: int | None = None):
        if (scheduler is None) == (n_local is None):
            raise ValueError("give exactly one of scheduler and n_local")
        self.scheduler = scheduler
        self.n_local = n_local
        self.workers = n_local or 1
        self.label = f"Dask scheduler {scheduler}" if scheduler else f"Dask LocalCluster ({n_local} workers)"
        self._cluster = None
        self._client = None

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster  # imported here: only Dask runs pay its import time

        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ScenarioError(
                    None,
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

            with dask.config.set({"distributed.worker.profile.enabled": False}):
                self._cluster = LocalCluster(n_workers=self.n_local, threads_per_worker=1, processes=True, dashboard_address=None)
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from distributed import as_completed

        assert self._client is not None, "use the executor as a context manager"
        # pure=False: a chunk is a run to do, not a value to deduplicate by hash
        futures = [self._client.submit(fn, item, pure=False) for item in items]
        try:
            for fut in as_completed(futures):
                yield fut.result()
                fut.release()
        finally:
            for fut in futures:
                fut.cancel()


def make_executor(serial: bool = False, workers: int | None = None, dask_local: int | None = None, scheduler: str | None = None):
    """The executor the command-line options ask for (serial, processes, or Dask)."""
    if scheduler:
        return DaskExecutor(scheduler=scheduler)
    if dask_local:
        return DaskExecutor(n_local=dask_local)
    if serial:
        return SerialExecutor()
    return ProcessExecutor(workers)
