"""Where a sweep's jobs run: in this process (:class:`InlinePool`), in spawned worker processes that end with
their sweep (:class:`ProcessPool`), or on a Dask cluster (:class:`DaskPool`). :mod:`gridbook.runs.executors` submits
jobs to one of them and waits for the first to finish."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from gridbook.errors import UserError

__all__ = ["DASK_CONNECT_TIMEOUT_S", "PARENT_POLL_SECONDS", "DaskPool", "InlinePool", "ProcessPool", "set_threads"]

DASK_CONNECT_TIMEOUT_S = float(os.environ.get("GRIDBOOK_DASK_CONNECT_TIMEOUT", "5"))  # seconds


def set_threads(threads: int | None) -> None:
    """Torch threads of this process (None: torch's default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


PARENT_POLL_SECONDS = 1.0  # how often a worker looks whether the sweep that started it is still alive


def _init_worker(threads: int | None, parent: int | None = None) -> None:
    set_threads(threads)
    if parent is not None:  # a worker ends when its sweep dies (kill -9 leaves no orphans training on)
        import threading

        threading.Thread(target=_end_with_parent, args=(parent,), daemon=True, name="gridbook-parent").start()


def _end_with_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


# ---- pools ------------------------------------------------------------------------------------------------------
class InlinePool:
    """Runs each job in this process when submitted (workers=1): no start-up cost, plain tracebacks."""

    max_in_flight = 1

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except Exception as err:
            future.set_exception(err)
        return future

    def wait_first(self, futures: Sequence) -> list:
        return list(futures)

    def exception(self, future: Any) -> BaseException | None:
        return future.exception()

    def close(self) -> None:
        pass


class ProcessPool(InlinePool):
    """Spawned worker processes, each with ``threads`` torch threads; a pool broken by a dead worker is replaced."""

    def __init__(self, workers: int, threads: int | None) -> None:
        self.workers, self.threads = workers, threads
        self.max_in_flight = 2 * workers
        self.pool = self._new()

    def _new(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_init_worker, initargs=(self.threads, os.getpid()))

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        try:
            return self.pool.submit(fn, *args)
        except cf.process.BrokenProcessPool:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new()
            return self.pool.submit(fn, *args)

    def wait_first(self, futures: Sequence) -> list:
        return list(cf.wait(futures, return_when=cf.FIRST_COMPLETED).done)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskPool:
    """A Dask client on an existing scheduler, or on a LocalCluster of single-threaded worker processes."""

    def __init__(self, workers: int, scheduler: str | None, timeout: float | None = None) -> None:
        import logging

        from distributed import Client, LocalCluster

        self.cluster = None
        timeout = DASK_CONNECT_TIMEOUT_S if timeout is None else timeout
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=f"{timeout}s")
            except (OSError, TimeoutError, ValueError) as err:
                raise UserError(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s "
                                f"({str(err).splitlines()[0] if str(err) else type(err).__name__}); start one "
                                "(`dask scheduler`) or leave out --scheduler to use a local cluster") from None
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        self.max_in_flight = sys.maxsize

    def submit(self, fn: Callable, *args: Any):
        return self.client.submit(fn, *args, pure=False, retries=1)

    def wait_first(self, futures: Sequence) -> list:
        from distributed import wait

        return list(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def exception(self, future: Any) -> BaseException | None:
        if future.status == "finished":
            return None
        try:
            return future.exception()
        except BaseException as err:  # cancelled or lost
            return err

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
