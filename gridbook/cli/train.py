"""``gridbook train``: train one network from a profile plus overrides, print its decoding error, save it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gridbook.config import DEFAULT_PROFILE, PROFILES
from gridbook.errors import ConfigError
from gridbook.nets.devices import pick_device
from gridbook.nets.evaluate import evaluate_networks
from gridbook.nets.trainer import train_networks
from gridbook.profiles import profile_config

CLI_FIELDS = {  # option -> flat config field
    "target": "target", "sigma": "sigma", "surround_scale": "surround_scale", "arch": "arch",
    "activation": "activation", "optimizer": "optimizer", "lr": "lr", "n_hidden": "n_hidden",
    "n_place_cells": "n_place_cells", "steps": "n_steps", "seed": "seed", "batch_size": "batch_size",
    "seq_len": "seq_len", "weight_decay": "weight_decay",
}


def register_cli(subparsers: Any) -> None:
    """``gridbook train``: train one network, print progress and its final decoding error, save it to --out."""
    parser = subparsers.add_parser("train", help="train one path-integrating network and save it",
                                   description="Train one network from a profile plus overrides; writes "
                                   "config.yaml, checkpoint.pt (resumed if it exists) and metrics.json to --out.")
    parser.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE,
                        help=f"preset to start from (default {DEFAULT_PROFILE})")
    kinds = {"sigma": float, "surround_scale": float, "lr": float, "weight_decay": float}
    for option in CLI_FIELDS:
        kind = kinds.get(option, int if option in ("n_hidden", "n_place_cells", "steps", "seed", "batch_size",
                                                   "seq_len") else str)
        parser.add_argument("--" + option.replace("_", "-"), dest=option, type=kind, default=None,
                            help=f"config field {CLI_FIELDS[option]}")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="any flat config field, e.g. --set input_dropout=0.5 (repeatable; applied last)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    parser.add_argument("--eval-batches", type=int, default=None, help="evaluation batches (default: config's)")
    parser.add_argument("--out", default="runs/train", help="output directory (default runs/train)")
    parser.set_defaults(func=_cli_train)


def _parse_overrides(args: argparse.Namespace) -> dict[str, Any]:
    import yaml

    overrides = {CLI_FIELDS[o]: getattr(args, o) for o in CLI_FIELDS if getattr(args, o) is not None}
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r} is invalid; allowed values: KEY=VALUE with KEY a config field")
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides


def _cli_train(args: argparse.Namespace) -> int:
    import json

    config = profile_config(args.profile, **_parse_overrides(args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(config.to_yaml())
    device = pick_device(args.device)
    print(f"gridbook train: run {config.run_id()} ({config.model.arch}, Ng={config.model.n_hidden}, "
          f"target {config.target.target}, {config.train.n_steps} steps) on {device}", flush=True)
    result = train_networks([config], device=str(device), checkpoint=out / "checkpoint.pt")
    evaluation = evaluate_networks(result, n_batches=args.eval_batches)[0]
    n_traj = evaluation["positions"].shape[0] // config.task.seq_len
    metrics = {"run_id": config.run_id(), "decoding_error_cm": evaluation["decoding_error_cm"],
               "loss": evaluation["loss"], "diverged": result.diverged[0], "steps_done": result.steps_done,
               "train_seconds": result.train_seconds, "device": result.device}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    status = " (diverged)" if result.diverged[0] else ""
    print(f"final decoding error: {evaluation['decoding_error_cm']:.2f} cm on {n_traj} evaluation trajectories"
          f"{status}; training took {result.train_seconds:.1f} s; saved to {out}", flush=True)
    return 0
