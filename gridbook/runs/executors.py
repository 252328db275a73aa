"""Executing a sweep: batched train-and-evaluate jobs on local processes or Dask, each writing its runs to the store.

A job is a list of runs sharing ``RunConfig.shape_key()``. It runs :func:`run_group_task` wherever the executor puts
it: the job's ``run_group`` function (default :func:`train_and_evaluate`) turns the configs into
:class:`~gridbook.runs.store.RunRecord` s, and the job writes them to the store itself, so only small summaries travel
back (on a cluster the store must be on a file system every worker sees). A job that raises is retried as single
runs, so one bad configuration cannot fail its neighbours; a single run that raises is recorded in the store as
failed (error and traceback in failed.json) and the sweep goes on.
"""

from __future__ import annotations

import importlib
import os
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gridbook.config import RunConfig
from gridbook.errors import RunGroupError
from gridbook.runs.claims import ClaimBook
from gridbook.runs.jobs import train_and_evaluate
from gridbook.runs.options import ExecutionOptions
from gridbook.runs.planning import default_group_size, estimated_cpu_minutes, plan_groups
from gridbook.runs.pools import DaskPool, InlinePool, ProcessPool, set_threads
from gridbook.runs.progress import SweepProgress, job_label
from gridbook.runs.store import RunStore


@dataclass
class ExecutionOutcome:
    done: list[dict[str, Any]] = field(default_factory=list)  # one small summary per run written now
    failed: list[tuple[str, str]] = field(default_factory=list)  # (run_id, error line)
    by_others: list[str] = field(default_factory=list)  # runs another sweep on the store finished meanwhile
    held: list[str] = field(default_factory=list)  # runs another sweep still holds (when not waiting for them)
    not_started: list[str] = field(default_factory=list)  # runs whose jobs the deadline left unstarted


# ---- one job, wherever it runs --------------------------------------------------------------------------------------
def resolve_run_group(run_group: Callable | str | None) -> Callable:
    """A callable from a callable, a "module:function" path, or None (the default :func:`train_and_evaluate`)."""
    if run_group is None:
        return train_and_evaluate
    if callable(run_group):
        return run_group
    module, _, name = str(run_group).partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueError(f"run_group={run_group!r} is invalid; allowed values: a callable or 'module:function' "
                         f"({err})") from None


def run_group_task(configs: list[RunConfig], store_root: str, run_group: Callable | str | None,
                   threads: int | None, device: str | None, claims: ClaimBook | None = None) -> list[dict[str, Any]]:
    """Train, evaluate and store one job; returns one small summary per run. Raises RunGroupError on failure.

    With ``claims`` (the sweep's :class:`~gridbook.runs.claims.ClaimBook`), the trainer's progress is the claims'
    heartbeat, a run is written only while this sweep still holds its claim, and the claims are released once the
    runs are written (a job that raises keeps them: the sweep retries its runs or records them as failed).
    """
    expected = [c.run_id() for c in configs]
    try:
        set_threads(threads)
        func = resolve_run_group(run_group)
        start = time.perf_counter()
        if func is train_and_evaluate:
            label = job_label(configs)
            beat = (lambda step, n: claims.heartbeat(expected, step, n, label)) if claims is not None else None
            records = func(list(configs), device=device, on_progress=beat)
        else:
            records = func(list(configs))
        if [r.config.run_id() for r in records] != expected:
            raise ValueError(f"run_group returned runs {[r.config.run_id() for r in records]}, expected {expected}")
        store = RunStore(store_root)
        seconds = (time.perf_counter() - start) / max(1, len(records))
        summaries = []
        for record in records:
            if claims is not None and not claims.holds(record.run_id):
                continue  # another sweep took this run over (this one looked stalled): it writes the run
            store.write_run(record)
            summaries.append({"run_id": record.run_id, "diverged": bool(record.metrics.get("diverged")),
                              "seconds": seconds})
        if claims is not None:
            claims.release(expected)
        return summaries
    except Exception as err:
        raise RunGroupError(f"{type(err).__name__}: {err}", traceback.format_exc()) from None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _uses_gpu(device: str | None) -> bool:
    if device is not None:
        return not str(device).startswith("cpu")
    import torch

    return torch.cuda.is_available()


def job_group_size(group_size: int | None, executor: str = "local", device: str | None = None) -> int:
    """Networks per batched job of a sweep: ``group_size``, or when None the default for where it trains
    (:func:`~gridbook.runs.planning.default_group_size`: many on a local GPU, one on a CPU)."""
    if group_size is not None:
        return group_size
    return default_group_size(executor == "local" and _uses_gpu(device))


# ---- the loop -----------------------------------------------------------------------------------------------------
def execute_groups(pending: list[RunConfig], store: RunStore, options: ExecutionOptions | None = None,
                   run_group: Callable | str | None = None, wait_for_others: bool = True,
                   log: Callable[[str], Any] | None = None) -> ExecutionOutcome:
    """Run every pending config through ``run_group`` in batched jobs and write the results to ``store``, as
    ``options`` (:class:`~gridbook.runs.options.ExecutionOptions`) say.

    ``group_size``: networks per job (default :func:`~gridbook.runs.planning.default_group_size`: 32 on a GPU, 1 on
    a CPU, where a network steps fastest alone).

    Each job's runs are claimed just before it starts (:mod:`gridbook.runs.claims`): runs another sweep holds are
    left to it, so two sweeps on one store share the work. Once this sweep's jobs are done it waits for the runs
    others hold (``wait_for_others``; else they are reported in ``outcome.held``), and trains any whose claim goes
    stale or is dropped without the run being finished.

    A budgeted run (``deadline``, ``job_seconds``) reports the runs of the jobs it did not start in
    ``outcome.not_started``; the jobs in flight finish.
    """
    options = options or ExecutionOptions()
    executor, workers, scheduler, device = options.executor, options.workers, options.scheduler, options.device
    group_size, progress, deadline = options.group_size, options.progress, options.deadline
    keep_order, job_seconds = options.keep_order, options.job_seconds
    outcome = ExecutionOutcome()
    if not pending:
        return outcome
    store.root.mkdir(parents=True, exist_ok=True)
    claims = ClaimBook(store.root)
    held: list[RunConfig] = []
    cores = _cores()
    gpu = executor == "local" and _uses_gpu(device)
    wanted = workers or (1 if gpu else cores)
    groups = plan_groups(pending, job_group_size(group_size, executor, device), wanted if not scheduler else 1,
                         keep_order=keep_order)
    n_workers = max(1, min(wanted, len(groups)))
    threads = None if gpu else max(1, cores // n_workers)
    report = SweepProgress(claims, progress, log)
    if report.enabled and groups:
        where = (f"on the Dask scheduler {scheduler}" if scheduler else
                 f"on {n_workers} {'GPU ' if gpu else ''}worker{'s' * (n_workers != 1)}")
        minutes = estimated_cpu_minutes([c for g in groups for c in g], n_workers)
        estimate = f"about {minutes:.0f} min" if minutes >= 1 else "under a minute"
        estimate = "" if gpu or executor == "dask" else f", {estimate} at the CPU speed in benchmarks/HISTORY.md"
        report.log(f"sweep: training {sum(map(len, groups))} networks in {len(groups)} batched job"
                   f"{'s' * (len(groups) != 1)} {where}{estimate}")
    task_args = (str(store.root.resolve()), run_group, None, device, claims)
    if executor == "dask":
        pool: Any = DaskPool(n_workers, scheduler)
        task_args = (str(store.root.resolve()), run_group, None if scheduler else threads, device, claims)
    elif n_workers == 1:
        pool = InlinePool()
    else:
        pool = ProcessPool(n_workers, threads)
    if deadline is not None:  # a job submitted is a job started: none waits in the pool past its start check
        pool.max_in_flight = min(pool.max_in_flight, n_workers)
    report.start(groups, n_workers)
    queue, running = deque(groups), {}
    submitting: list[RunConfig] = []  # the job being submitted (an inline job runs during its submission)

    def queued() -> list[str]:  # the runs of the jobs submitted and not finished (the keep-alive thread reads them)
        return [c.run_id() for group in [*list(running.values()), list(submitting)] for c in group]

    try:
        with claims.kept_alive(queued):
            while queue or running or held:
                if deadline is not None and time.monotonic() > deadline:
                    outcome.not_started.extend(c.run_id() for group in queue for c in group)
                    report.drop([c for group in queue for c in group])
                    queue.clear()
                    held = []
                    if not running:
                        break
                while queue and len(running) < pool.max_in_flight:
                    if (deadline is not None and job_seconds is not None
                            and time.monotonic() + job_seconds(queue[0]) > deadline):
                        late = queue.popleft()
                        outcome.not_started.extend(c.run_id() for c in late)
                        report.drop(late)
                        continue
                    group = _claimed(queue.popleft(), store, claims, held, report, outcome)
                    if group:
                        report.started(group)
                        submitting[:] = group
                        running[pool.submit(run_group_task, group, *task_args)] = group
                        submitting.clear()
                if not running:
                    held = _take_over_or_wait(held, store, claims, queue, report, outcome, wait_for_others)
                    continue
                for future in pool.wait_first(list(running)):
                    group = running.pop(future)
                    retried = len(queue)
                    written = _settle(group, future, pool, store, claims, queue, held, outcome)
                    report.finished(group, written)
                    report.add(list(queue)[: len(queue) - retried])  # runs of a failed job, queued again
    finally:
        report.close()
        pool.close()
        claims.release([c.run_id() for c in pending])
    return outcome


HELD_POLL_SECONDS = 5.0  # how often a sweep looks at the runs another sweep holds


def _claimed(group: list[RunConfig], store: RunStore, claims: ClaimBook, held: list[RunConfig],
             report: SweepProgress, outcome: ExecutionOutcome) -> list[RunConfig]:
    """The runs of a job this sweep could claim and that are still to train: runs another sweep holds are added to
    ``held``, runs another sweep finished meanwhile to ``outcome.by_others``."""
    mine = set(claims.acquire([c.run_id() for c in group]))
    finished = [c for c in group if c.run_id() in mine and store.status(c.run_id()) == "done"]
    claims.release(c.run_id() for c in finished)
    outcome.by_others.extend(c.run_id() for c in finished)
    others = [c for c in group if c.run_id() not in mine]
    if others:
        held.extend(others)
    report.drop(others + finished)
    return [c for c in group if c.run_id() in mine and c not in finished]


def _take_over_or_wait(held: list[RunConfig], store: RunStore, claims: ClaimBook, queue: deque,
                       report: SweepProgress, outcome: ExecutionOutcome, wait: bool) -> list[RunConfig]:
    """The held runs still to wait for: finished ones leave the list, ones whose claim is stale or gone are claimed
    and queued here; with ``wait=False`` the rest are reported in ``outcome.held`` and the list is emptied."""
    still = []
    for config in held:
        run_id = config.run_id()
        if store.status(run_id) == "done":
            outcome.by_others.append(run_id)
        elif claims.acquire([run_id]):
            queue.append([config])
            report.add([[config]])
        else:
            still.append(config)
    if still and not queue:
        if not wait:
            outcome.held.extend(c.run_id() for c in still)
            return []
        time.sleep(HELD_POLL_SECONDS)
    return still


def _settle(group: list[RunConfig], future: Any, pool: Any, store: RunStore, claims: ClaimBook, queue: deque,
            held: list[RunConfig], outcome: ExecutionOutcome) -> int:
    """Record a finished job and return how many of its runs it wrote. A job that raised is queued again run by run
    at the front of ``queue`` (runs another sweep took over meanwhile go to ``held``); a single run that raised is
    recorded as failed in the store."""
    error = pool.exception(future)
    if error is None:
        written = future.result()
        outcome.done.extend(written)
        return len(written)
    finished = [c for c in group if store.status(c.run_id()) == "done"]
    rest = [c for c in group if c not in finished]
    outcome.done.extend({"run_id": c.run_id(), "diverged": bool(store.read_metrics(c.run_id()).get("diverged"))}
                        for c in finished)
    if len(rest) > 1:  # isolate the run that raised: retry the job's runs one by one
        mine = set(claims.acquire([c.run_id() for c in rest]))
        queue.extendleft(reversed([[c] for c in rest if c.run_id() in mine]))
        held.extend(c for c in rest if c.run_id() not in mine)
        return len(finished)
    for config in rest:
        message, trace = _describe(error)
        store.write_failure(config, message, trace)
        outcome.failed.append((config.run_id(), message))
    return len(finished)


def _describe(error: BaseException) -> tuple[str, str]:
    """(one-line message, traceback text) of a job's exception, unwrapping RunGroupError."""
    if isinstance(error, RunGroupError) and len(error.args) == 2:
        return str(error.args[0]), str(error.args[1])
    return f"{type(error).__name__}: {error}", "".join(traceback.format_exception(error))
