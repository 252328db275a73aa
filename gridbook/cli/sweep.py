"""``gridbook sweep``: train and evaluate every run of a sweep spec into the run store (or list them)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from gridbook.cli.options import STORE_HELP, add_execution_options, checked_store, default_store, execution_options
from gridbook.config import PROFILES


def _dry_run(spec: str, profile: str | None, store_root: str | None, group_size: int) -> int:
    from gridbook.runs.planning import plan_groups
    from gridbook.runs.spec import expand_spec, varying_parameters
    from gridbook.runs.store import RunStore

    configs = expand_spec(spec, profile)
    store = RunStore(store_root)
    shown = varying_parameters(configs)
    states = [store.status(c.run_id()) for c in configs]
    n_jobs = len(plan_groups(configs, group_size))
    print(f"{spec}: {len(configs)} runs in {n_jobs} batched job{'s' if n_jobs != 1 else ''} "
          f"({sum(s == 'done' for s in states)} already done in {store.root})")
    rows = [["run_id", "status", *shown]]
    for config, state in zip(configs, states, strict=True):
        rows.append([config.run_id(), state, *(str(config.to_flat()[k]) for k in shown)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    try:
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        sys.stdout.flush()
    except BrokenPipeError:  # `gridbook sweep ... --dry-run | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _command(args: argparse.Namespace) -> int:
    from gridbook.runs.executors import job_group_size
    from gridbook.runs.sweep import run_sweep

    options = execution_options(args, group_size=args.group_size)
    args.store = args.store or default_store()
    if not args.dry_run:
        checked_store(args.store)
    if args.dry_run:
        size = job_group_size(args.group_size, options.executor, options.device)
        return _dry_run(args.spec, args.profile, args.store, size)
    summary = run_sweep(args.spec, profile=args.profile, store=args.store, options=options,
                        run_group=args.run_group, verify=args.verify)
    print(summary.table())
    return 1 if summary.failed else 0


def register_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep", help="train and evaluate every run of a sweep spec into the run store",
        description="Train and evaluate every run of a sweep spec (YAML) that the run store does not hold yet. "
                    "Finished runs are skipped, so an interrupted sweep resumes where it stopped.")
    parser.add_argument("spec", help="sweep spec YAML file (see sweeps/)")
    parser.add_argument("--profile", default=None, help=f"override the spec's profile ({', '.join(PROFILES)})")
    parser.add_argument("--store", default=None, help=STORE_HELP)
    add_execution_options(parser)
    parser.add_argument("--group-size", type=int, default=None,
                        help="networks per batched training job (default: 32 on a GPU, 1 on a CPU)")
    parser.add_argument("--verify", action="store_true", help="checksum every stored file before skipping a run")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and their status; train nothing")
    parser.add_argument("--run-group", default=None, metavar="MODULE:FUNCTION",
                        help="advanced: a custom train-and-evaluate function (configs -> RunRecords)")
    parser.set_defaults(func=_command)
