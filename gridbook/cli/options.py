"""Options that several commands share: where training runs (``--executor``, ``--scheduler``, ``--workers``,
``--device``), with one meaning and one set of errors for ``gridbook sweep`` and ``gridbook book``."""

from __future__ import annotations

import argparse
from typing import Any

from gridbook.errors import UserError, check_choice, check_int
from gridbook.runs.executors import EXECUTORS

__all__ = ["add_execution_options", "execution_options"]


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """Add --executor, --scheduler, --workers and --device to a command."""
    parser.add_argument("--executor", default="local", help=f"{' or '.join(EXECUTORS)} (default local)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: min(cores, jobs))")
    parser.add_argument("--device", default=None, help="torch device for training (default: cuda if available)")


def execution_options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed options as keyword arguments of :func:`gridbook.runs.sweep.run_sweep`; one-line errors for an
    unknown executor, fewer than one worker, or a scheduler without Dask."""
    check_choice("executor", args.executor, EXECUTORS)
    if args.workers is not None:
        check_int("workers", args.workers, 1)
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    return {"executor": args.executor, "scheduler": args.scheduler, "workers": args.workers, "device": args.device}
