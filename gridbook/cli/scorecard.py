"""``gridbook scorecard``: the verdict on each of the paper's results R1-R7 from a run store, as text or JSON."""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from typing import Any

from gridbook.cli.options import STORE_HELP, default_store
from gridbook.config import DEFAULT_PROFILE, PROFILES
from gridbook.errors import UserError, check_choice

WRAP = 100  # characters per line of the text form


SMOKE_NOTE = "smoke runs carry no science: they check that the code runs; judge at --profile quick or above"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def _rows(table, source: str) -> list[dict[str, Any]]:
    from gridbook.book.scorecard import RULES

    return [{"result": result, "source": source, **{k: _clean(v) for k, v in row.items()}, "rule": RULES[result]}
            for result, row in table.to_dict("index").items()]


def rows_from_store(store: str | None, profile: str, seeds: list[int] | None = None) -> list[dict[str, Any]]:
    """One dict per result: result, chapter, paper, ours, profile, runs, verdict, reason, values (the numbers) and
    the rule in words. A store that is missing, a file or holds no finished run is an error, not a verdict."""
    from gridbook.book.scorecard import scorecard_from_store
    from gridbook.runs.store import as_store

    check_choice("profile", profile, PROFILES)
    store = as_store(store)
    if not store.root.exists() or not store.root.is_dir():
        raise UserError(f"--store {store.root} {'is a file' if store.root.exists() else 'does not exist'}; allowed "
                        "values: a run store (a directory of runs; train with gridbook sweep or gridbook book)")
    if not store.done_run_ids():
        raise UserError(f"--store {store.root} holds no finished run to judge; train with gridbook sweep or "
                        "gridbook book")
    return _rows(scorecard_from_store(store, profile, seeds=seeds), "here")


def rows_from_bundles(evidence: str) -> list[dict[str, Any]]:
    """The rows of the bundle ``evidence`` (a directory; ``committed`` for every bundle under evidence/)."""
    from gridbook.book.bundles import evidence_bundles
    from gridbook.book.compare import scorecard_from_bundle

    bundles = evidence_bundles(None if evidence == "committed" else evidence)
    return [row for bundle in bundles for row in _rows(scorecard_from_bundle(bundle), bundle.label())]


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The text form: per result a header line (result, verdict, runs) and the paper's figure, ours, the reason and
    the rule, each wrapped."""
    lines = []
    for row in rows:
        verdict = "NO VERDICT (smoke)" if row["profile"] == "smoke" else row["verdict"].upper()
        source = "" if row.get("source", "here") == "here" else f"{row['source']}: "
        lines.append(f"{row['result']}  {verdict}  ({source}{row['runs']} runs, {row['profile']} profile, "
                     f"chapter {row['chapter']})")
        for label in ("paper", "ours", "reason", "rule"):
            lines += textwrap.wrap(str(row[label]), WRAP, initial_indent=f"  {label + ':':8}",
                                   subsequent_indent=" " * 10)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _command(args: argparse.Namespace) -> int:
    try:
        seeds = None if args.seeds is None else [int(s) for s in args.seeds.split(",")]
    except ValueError:
        raise UserError(f"--seeds {args.seeds!r} is invalid; allowed values: integers separated by commas, e.g. "
                        "0,1,2") from None
    store = args.store or default_store()
    rows = rows_from_bundles(args.evidence) if args.evidence else rows_from_store(store, args.profile, seeds)
    if args.json:
        note = {"note": SMOKE_NOTE} if any(r["profile"] == "smoke" for r in rows) else {}
        print(json.dumps([{**r, **note} for r in rows], indent=1))
    else:
        if any(r["profile"] == "smoke" for r in rows):
            print(SMOKE_NOTE + "\n")
        print(format_rows(rows), end="")
    return 0


def register_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scorecard", help="the verdict on each of the paper's results R1-R7 from a run store",
        description="Judge each of the paper's results R1-R7 on the runs of the chapters' sweep specs at a profile "
                    "that the run store holds (nothing is trained), by the rules of gridbook.book.scorecard: the "
                    "paper's figure, ours, the verdict, the reason and the rule. The scorecard chapter shows the "
                    "same table.")
    parser.add_argument("--store", default=None, help=STORE_HELP)
    parser.add_argument("--profile", default=DEFAULT_PROFILE, help=f"{', '.join(PROFILES)} (default {DEFAULT_PROFILE})")
    parser.add_argument("--seeds", default=None, help="the seeds the chapters used, e.g. 0,1,2 (default: each "
                                                      "chapter's spec)")
    parser.add_argument("--evidence", default=None, metavar="DIR",
                        help="judge an evidence bundle instead of the store (a bundle directory, or 'committed' for "
                             "every bundle under evidence/)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON (numbers in 'values')")
    parser.set_defaults(func=_command)
