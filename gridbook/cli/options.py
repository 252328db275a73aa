"""Options that several commands share: where training runs (``--executor``, ``--scheduler``, ``--workers``,
``--device``), with one meaning and one set of errors for ``gridbook sweep`` and ``gridbook book``."""

from __future__ import annotations

import argparse
from typing import Any

from gridbook.runs.options import EXECUTORS, ExecutionOptions

__all__ = ["add_execution_options", "execution_options"]


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """Add --executor, --scheduler, --workers and --device to a command."""
    parser.add_argument("--executor", default="local", help=f"{' or '.join(EXECUTORS)} (default local)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: min(cores, jobs))")
    parser.add_argument("--device", default=None, help="torch device for training (default: cuda if available)")


def execution_options(args: argparse.Namespace, **more: Any) -> ExecutionOptions:
    """The parsed options (and ``more`` fields) as :class:`~gridbook.runs.options.ExecutionOptions`; one-line errors
    for an unknown executor, fewer than one worker, or a scheduler without Dask."""
    return ExecutionOptions(executor=args.executor, scheduler=args.scheduler, workers=args.workers,
                            device=args.device, **more)
