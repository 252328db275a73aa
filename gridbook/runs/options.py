"""How a sweep executes, as one frozen value: :class:`ExecutionOptions` (the executor, its workers and scheduler, the
device, the job size, the progress lines, and a budgeted run's deadline). ``gridbook sweep``, ``gridbook book`` and
``gridbook evidence`` build one from their command lines, and :func:`gridbook.runs.sweep.run_sweep` passes it down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from gridbook.errors import ConfigError, UserError, check_choice, check_int

__all__ = ["EXECUTORS", "ExecutionOptions", "execution_fields"]

EXECUTORS = ("local", "dask")  # where jobs run: processes on this machine, or a Dask cluster


@dataclass(frozen=True)
class ExecutionOptions:
    """Where and how a sweep's jobs run. Validated when made: one line naming the field and its allowed values."""

    executor: str = "local"  # one of EXECUTORS
    workers: int | None = None  # processes (None: min(cores, jobs), 1 on a GPU) or Dask workers of a LocalCluster
    scheduler: str | None = None  # a Dask scheduler's address (executor "dask"); None: a LocalCluster
    device: str | None = None  # torch device of the training (None: cuda when available)
    group_size: int | Callable[[Any], int] | None = None  # networks a job (None: 32 on a GPU, 1 on a CPU), or a
    # function of a run's config (a budgeted run sizes each shape's jobs)
    progress: bool | None = None  # the plan and a line every 30 s (None: a bar on a terminal; False: silent)
    deadline: float | None = None  # a time.monotonic() after which no job starts (the evidence run's budget)
    keep_order: bool = False  # jobs start in the runs' order (priority), not longest first
    job_seconds: Callable[[list], float] | None = None  # a job's estimated wall time: none starts past the deadline

    def __post_init__(self) -> None:
        check_choice("executor", self.executor, EXECUTORS)
        if self.workers is not None:
            check_int("workers", self.workers, 1)
        if self.scheduler and self.executor != "dask":
            raise UserError("--scheduler needs --executor dask")
        if isinstance(self.group_size, bool) or not (self.group_size is None or callable(self.group_size)
                                                      or isinstance(self.group_size, int) and self.group_size >= 1):
            raise ConfigError(f"group_size={self.group_size!r} is invalid; allowed values: an integer >= 1")

    @classmethod
    def of(cls, options: ExecutionOptions | None = None, **changes: Any) -> ExecutionOptions:
        """``options`` (default: the defaults) with ``changes``; an unknown name raises naming the allowed ones."""
        unknown = sorted(set(changes) - set(execution_fields()))
        if unknown:
            raise ConfigError(f"unknown execution option {unknown[0]!r}; allowed: {', '.join(execution_fields())}")
        base = options or cls()
        return cls(**{**{f: getattr(base, f) for f in execution_fields()}, **changes})


def execution_fields() -> tuple[str, ...]:
    """The names of :class:`ExecutionOptions`' fields."""
    return tuple(f.name for f in fields(ExecutionOptions))
