"""``gridbook evidence run|pack|verify|show``: the budgeted evidence run, and its bundles (pack a store, check one,
say in a few lines what one holds and where it came from)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

from gridbook.config import PROFILES
from gridbook.errors import UserError, check_choice


def _run(args: argparse.Namespace) -> int:
    from gridbook.runs.evidence import run_evidence

    if args.profile is not None:
        check_choice("profile", args.profile, PROFILES)
    command = "gridbook " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = run_evidence(args.profile, args.device, args.budget, args.out, specs_dir=args.specs,
                          workers=args.workers, command=command)
    print(report["bundle"], flush=True)
    code = 1 if report.get("error") else 0
    if report["running"]:  # jobs past the budget: do not wait for them (their runs are not in the bundle)
        sys.stderr.flush()
        os._exit(code)
    return code


def _pack(args: argparse.Namespace) -> int:
    from gridbook.runs.bundle import pack_store
    from gridbook.runs.store import RunStore

    store = RunStore(args.store)
    if not store.root.is_dir():
        raise UserError(f"store {store.root} is not a directory of runs")
    if not store.done_run_ids():
        raise UserError(f"store {store.root} holds no finished run to pack")
    print(pack_store(store, args.dir, provenance={"command": "gridbook evidence pack " + " ".join(sys.argv[3:])}))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from gridbook.runs.bundle import Bundle

    bundle = Bundle(args.dir)
    print(f"{bundle.root}: bundle format {bundle.manifest['format']}, {len(bundle.results())} runs, checksums good")
    return 0


def show_lines(path: str) -> list[str]:
    """A bundle's provenance and counts in a few lines."""
    from gridbook.runs.bundle import Bundle

    bundle = Bundle(path)
    prov, results = bundle.provenance, bundle.results()
    env = prov.get("environment") or {}
    lines = [f"{bundle.root}: {len(results)} runs, packed {prov.get('packed_at', '?')}",
             f"  device: {env.get('device', '?')} (torch {env.get('torch', '?')}, CUDA {env.get('cuda')}), gridbook "
             f"{env.get('gridbook', '?')} at {str(env.get('commit'))[:10]}",
             f"  command: {prov.get('command', '?')}"]
    wall = prov.get("wall_s") or {}
    if wall:
        lines.append("  wall time: " + ", ".join(f"{k} {float(v):.0f} s" for k, v in wall.items()))
    for spec, group in results.groupby("spec"):
        steps = sorted(set(group["n_steps"]))
        lines.append(f"  {spec}: {len(group)} networks, seeds {group['seed'].nunique()}, steps "
                     f"{', '.join(f'{s:,}' for s in steps)}")
    return lines


def _show(args: argparse.Namespace) -> int:
    print("\n".join(show_lines(args.dir)))
    return 0


def register_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser("evidence", help="the budgeted evidence run (a GPU loan) and its bundles",
                                   description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="stage 1 (environment, smoke sweep, calibration), stage 2 (the specs of "
                                       "sweeps/evidence/, planned to fit), then pack a bundle into OUT/bundle")
    run.add_argument("--profile", default=None, help=f"run every spec at this profile ({', '.join(PROFILES)}; "
                                                     "default: each spec's own; smoke: a dry run)")
    run.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    run.add_argument("--budget", type=float, required=True, help="seconds for everything, packing included")
    run.add_argument("--out", required=True, help="output directory (store/, bundle/, calibration.json)")
    run.add_argument("--specs", default=None, help="directory of evidence specs (default sweeps/evidence)")
    run.add_argument("--workers", type=int, default=None, help="processes training at once (default 3 on a GPU)")
    run.set_defaults(func=_run)
    pack = verbs.add_parser("pack", help="pack the finished runs of a store into a bundle directory")
    pack.add_argument("store")
    pack.add_argument("dir")
    pack.set_defaults(func=_pack)
    verify = verbs.add_parser("verify", help="check a bundle's checksums, format version and columns")
    verify.add_argument("dir")
    verify.set_defaults(func=_verify)
    show = verbs.add_parser("show", help="a bundle's provenance and counts")
    show.add_argument("dir")
    show.set_defaults(func=_show)
