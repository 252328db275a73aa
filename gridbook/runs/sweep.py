"""Running a sweep: train and evaluate every run of one or more specs that the store lacks (:func:`run_sweep`), then
refresh the store's ``results.parquet``."""

from __future__ import annotations

import errno
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridbook.errors import UserError
from gridbook.runs.executors import execute_groups
from gridbook.runs.load import write_results_table
from gridbook.runs.options import ExecutionOptions
from gridbook.runs.spec import expand_spec
from gridbook.runs.store import as_store

__all__ = ["SweepSummary", "run_sweep"]


# ---- running ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepSummary:
    """What one ``run_sweep`` call did. ``done``: trained now; ``skipped``: already finished in the store;
    ``by_others``: finished meanwhile by another sweep on the store; ``held``: still held by another sweep (only when
    the sweep did not wait for them)."""

    total: int
    done: int
    skipped: int
    failed: int
    diverged: int
    wall_seconds: float
    store: str
    failed_runs: tuple[tuple[str, str], ...] = field(default=())  # (run_id, error line)
    by_others: int = 0
    held: int = 0
    not_started: int = 0  # runs a deadline left unstarted

    def table(self) -> str:
        wall = time.strftime("%H:%M:%S", time.gmtime(self.wall_seconds))
        head = f"{'runs':>6} {'done':>6} {'skipped':>8} {'failed':>7} {'diverged':>9}  {'wall time':>9}"
        row = f"{self.total:>6} {self.done:>6} {self.skipped:>8} {self.failed:>7} {self.diverged:>9}  {wall:>9}"
        lines = [head, row, f"store: {self.store}"]
        if self.by_others or self.held:
            lines.append(f"trained by another sweep on the store: {self.by_others}; still held by one: {self.held}")
        lines += [f"failed {run_id}: {error}" for run_id, error in self.failed_runs]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def run_sweep(spec: str | Path | Mapping[str, Any] | list, profile: str | None = None, store: Any = None,
              options: ExecutionOptions | None = None, run_group: Callable | str | None = None, verify: bool = False,
              wait_for_others: bool = True, log: Callable[[str], Any] | None = None,
              **execution: Any) -> SweepSummary:
    """Train and evaluate every run of ``spec`` that the store does not hold yet; returns a :class:`SweepSummary`.

    ``spec`` may also be a list of specs: their runs (deduplicated by run id) then train as one sweep, so runs of
    the same shape from different specs share batched jobs.

    ``options``: where and how the jobs run (:class:`~gridbook.runs.options.ExecutionOptions`: executor "local",
    processes on this machine, ``workers`` defaulting to min(cores, jobs) and 1 on a GPU, or "dask" with a
    ``scheduler`` address or a LocalCluster; ``group_size`` networks per batched job, default 32 on a GPU and 1 on a
    CPU; ``device``; ``progress``; a budgeted run's ``deadline``...). ``execution``: the same fields by name, on top
    of ``options``. ``run_group``: the function (or "module:function" path) that trains and evaluates a list of
    same-shape configs into RunRecords; default :func:`gridbook.runs.jobs.train_and_evaluate`. ``verify``: checksum
    every stored file before skipping a run. Runs that raise are recorded in the store (failed.json) and retried by
    the next sweep.

    Progress (``progress``: the plan, then a line at least every 30 s, a bar on a terminal) is written with ``log``
    (default: stderr). Runs that another sweep on the same store is training are left to it; this sweep waits for
    them (``wait_for_others``) and takes over any that stall.
    """
    options = ExecutionOptions.of(options, **execution)
    progress = options.progress
    start = time.perf_counter()
    specs = spec if isinstance(spec, list) else [spec]
    configs = list({c.run_id(): c for s in specs for c in expand_spec(s, profile)}.values())
    store = as_store(store)
    states = {c.run_id(): store.status(c.run_id(), deep=verify) for c in configs}
    pending = [c for c in configs if states[c.run_id()] != "done"]
    for config in pending:  # a corrupt run is not finished for anyone: without its marker it is trained again
        if states[config.run_id()] == "corrupt":
            store.invalidate(config.run_id())
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    if progress is not False:
        log(f"sweep: {len(configs)} runs, {len(configs) - len(pending)} of them already in {store.root}")
    try:
        outcome = execute_groups(pending, store, options, run_group=run_group, wait_for_others=wait_for_others,
                                 log=log)
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        raise UserError(f"no space left on the device of the store {store.root}: the runs finished so far are intact "
                        "(each is written whole or not at all); free some space and run the sweep again") from None
    if outcome.done:
        write_results_table(store)
    return SweepSummary(total=len(configs), done=len(outcome.done), skipped=len(configs) - len(pending),
                        failed=len(outcome.failed), diverged=sum(bool(d.get("diverged")) for d in outcome.done),
                        wall_seconds=time.perf_counter() - start, store=str(store.root),
                        failed_runs=tuple(outcome.failed), by_others=len(outcome.by_others), held=len(outcome.held),
                        not_started=len(outcome.not_started))
