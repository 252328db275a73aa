"""``gridbook scorecard``: the verdict on each of the paper's results R1-R7 from a run store, as text or JSON."""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from typing import Any

from gridbook.config import DEFAULT_PROFILE, PROFILES
from gridbook.errors import check_choice

WRAP = 100  # characters per line of the text form


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def scorecard_rows(store: str | None, profile: str, seeds: list[int] | None = None) -> list[dict[str, Any]]:
    """One dict per result: result, chapter, paper, ours, profile, runs, verdict, reason and the rule in words."""
    from gridbook.book.scorecard import RULES, scorecard_from_store
    from gridbook.runs.store import as_store

    check_choice("profile", profile, PROFILES)
    table = scorecard_from_store(as_store(store), profile, seeds=seeds)
    return [{"result": result, **{k: _clean(v) for k, v in row.items()}, "rule": RULES[result]}
            for result, row in table.to_dict("index").items()]


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The text form: per result a header line (result, verdict, runs) and the paper's figure, ours, the reason and
    the rule, each wrapped."""
    lines = []
    for row in rows:
        lines.append(f"{row['result']}  {row['verdict'].upper()}  ({row['runs']} runs, {row['profile']} profile, "
                     f"chapter {row['chapter']})")
        for label in ("paper", "ours", "reason", "rule"):
            lines += textwrap.wrap(str(row[label]), WRAP, initial_indent=f"  {label + ':':8}",
                                   subsequent_indent=" " * 10)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _command(args: argparse.Namespace) -> int:
    seeds = None if args.seeds is None else [int(s) for s in args.seeds.split(",")]
    rows = scorecard_rows(args.store, args.profile, seeds)
    print(json.dumps(rows, indent=1) if args.json else format_rows(rows), end="" if not args.json else "\n")
    return 0


def register_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scorecard", help="the verdict on each of the paper's results R1-R7 from a run store",
        description="Judge each of the paper's results R1-R7 on the runs of the chapters' sweep specs at a profile "
                    "that the run store holds (nothing is trained), by the rules of gridbook.book.scorecard: the "
                    "paper's figure, ours, the verdict, the reason and the rule. The scorecard chapter shows the "
                    "same table.")
    parser.add_argument("--store", default=None, help="run store directory (default: $GRIDBOOK_STORE or ./runs)")
    parser.add_argument("--profile", default=DEFAULT_PROFILE, help=f"{', '.join(PROFILES)} (default {DEFAULT_PROFILE})")
    parser.add_argument("--seeds", default=None, help="the seeds the chapters used, e.g. 0,1,2 (default: each "
                                                      "chapter's spec)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.set_defaults(func=_command)
