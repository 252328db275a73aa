"""Options that several commands share: where training runs (``--executor``, ``--scheduler``, ``--workers``,
``--device``), with one meaning and one set of errors for ``gridbook sweep`` and ``gridbook book``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gridbook.runs.options import EXECUTORS, ExecutionOptions

__all__ = ["STORE_HELP", "add_execution_options", "checked_store", "default_store", "execution_options"]

STORE_HELP = "run store (default: $GRIDBOOK_STORE, else runs/ in the checkout you are in, else ./runs)"


def default_store() -> str:
    """The run store every command uses when given none: ``$GRIDBOOK_STORE``, else ``runs/`` at the root of the
    checkout the current folder is in (where ``book/_toc.yml`` is), else ``./runs``."""
    if os.environ.get("GRIDBOOK_STORE"):
        return os.environ["GRIDBOOK_STORE"]
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "book" / "_toc.yml").is_file():
            return str(folder / "runs")
    return "runs"


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """Add --executor, --scheduler, --workers and --device to a command."""
    parser.add_argument("--executor", default="local", help=f"{' or '.join(EXECUTORS)} (default local)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: min(cores, jobs))")
    parser.add_argument("--device", default=None, help="torch device for training (default: cuda if available)")


def checked_store(path: str, option: str = "--store") -> str:
    """A run store a command will write to, checked before anything runs: one line for a file, a folder that cannot
    be made, or a read-only one."""
    from gridbook.errors import UserError

    store = Path(path)
    if store.exists() and not store.is_dir():
        raise UserError(f"{option} {store} is a file; allowed values: a run store directory (created if missing)")
    try:
        store.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{option} {store}: cannot create the run store ({err.strerror})") from None
    if not os.access(store, os.W_OK):
        raise UserError(f"{option} {store} is read-only; allowed values: a writable run store directory")
    return str(store)


def execution_options(args: argparse.Namespace, **more: Any) -> ExecutionOptions:
    """The parsed options (and ``more`` fields) as :class:`~gridbook.runs.options.ExecutionOptions`; one-line errors
    for an unknown executor, fewer than one worker, or a scheduler without Dask."""
    return ExecutionOptions(executor=args.executor, scheduler=args.scheduler, workers=args.workers,
                            device=args.device, **more)
