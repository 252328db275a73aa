"""``gridbook train``: train one network from a profile plus overrides, print its decoding error, store it as a run of
a run store (the format every reader of the store takes)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gridbook.cli.options import STORE_HELP, default_store
from gridbook.config import DEFAULT_PROFILE, PROFILES
from gridbook.errors import ConfigError, UserError
from gridbook.profiles import profile_config

CLI_FIELDS = {  # option -> flat config field
    "target": "target", "sigma": "sigma", "surround_scale": "surround_scale", "arch": "arch",
    "activation": "activation", "optimizer": "optimizer", "lr": "lr", "n_hidden": "n_hidden",
    "n_place_cells": "n_place_cells", "steps": "n_steps", "seed": "seed", "batch_size": "batch_size",
    "seq_len": "seq_len", "weight_decay": "weight_decay",
}


def register_cli(subparsers: Any) -> None:
    """``gridbook train``: train one network, print progress and its final decoding error, store it under --out."""
    parser = subparsers.add_parser("train", help="train one path-integrating network and store it",
                                   description="Train one network from a profile plus overrides, evaluate it and "
                                   "store it in the run store --out (--out/<run id>/, read by gridbook.load_run); "
                                   "an interrupted run resumes from --out/.train/<run id>.pt. Nothing is written "
                                   "before every check passes.")
    parser.add_argument("--profile", default=DEFAULT_PROFILE,
                        help=f"preset to start from: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})")
    kinds = {"sigma": float, "surround_scale": float, "lr": float, "weight_decay": float}
    for option in CLI_FIELDS:
        kind = kinds.get(option, int if option in ("n_hidden", "n_place_cells", "steps", "seed", "batch_size",
                                                   "seq_len") else str)
        parser.add_argument("--" + option.replace("_", "-"), dest=option, type=kind, default=None,
                            help=f"config field {CLI_FIELDS[option]}")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="any flat config field, e.g. --set input_dropout=0.5 (repeatable; applied last)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N, mps (default: best available)")
    parser.add_argument("--out", default=None, help="the " + STORE_HELP + " to store the run in")
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


def check_device(device: str | None) -> str:
    """The torch device to train on, or a one-line error: an unknown device, or CUDA/MPS that this torch lacks."""
    import torch

    from gridbook.nets.devices import pick_device

    if device is None:
        return str(pick_device(None))
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UserError(f"--device {device!r} is invalid; allowed values: cpu, cuda, cuda:N, mps") from None
    if dev.type not in ("cpu", "cuda", "mps"):
        raise UserError(f"--device {device!r} is invalid; allowed values: cpu, cuda, cuda:N, mps")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {device}: this torch ({torch.__version__}) sees no CUDA GPU; allowed values "
                        "here: cpu")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError(f"--device {device}: no MPS device here; allowed values here: cpu")
    return str(dev)


def training_bytes(config) -> int:
    """A lower bound on the memory training one network of ``config`` takes: its weights and Adam's two moments,
    and the (T, B, Ng) activations the step keeps (about six copies) and the (T, B, Np) outputs (about four)."""
    ng, np_ = config.model.n_hidden, config.target.code_size
    gates = {"rnn": 1, "srnn": 1, "ugrnn": 2, "gru": 3, "lstm": 4}[config.model.arch]
    weights = ng * gates * ng + 2 * np_ * ng + 2 * gates * ng
    rows = config.task.seq_len * config.task.batch_size
    return 4 * (4 * weights + rows * (6 * gates * ng + 4 * np_))


def _memory_bytes(device: str) -> int:
    import torch

    if device.startswith("cuda"):
        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory)
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def _cli_train(args: argparse.Namespace) -> int:
    from gridbook.errors import CorruptRunError
    from gridbook.runs.jobs import train_and_evaluate
    from gridbook.runs.store import RunStore

    try:
        config = profile_config(args.profile, **_parse_overrides(args))
    except ConfigError as err:  # name the option the user typed, not the config field behind it
        text = str(err)
        for option, name in CLI_FIELDS.items():
            if text.startswith(f"{name}=") and getattr(args, option) is not None:
                text = f"--{option.replace('_', '-')} " + text.removeprefix(f"{name}=")
        raise ConfigError(text) from None
    if config.train.n_steps < 1:
        raise UserError(f"--steps {config.train.n_steps} is invalid; allowed values: an integer >= 1 (train trains; "
                        "an untrained network comes from a sweep spec with n_steps: 0)")
    device = check_device(args.device)
    needed, available = training_bytes(config), _memory_bytes(device)
    if needed > available:
        raise UserError(f"--n-hidden {config.model.n_hidden}: training needs at least {needed / 2**30:.1f} GiB, "
                        f"{device} has {available / 2**30:.1f} GiB; allowed values: a smaller network")
    out = Path(args.out or default_store())
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; allowed values: a run store directory (created if missing)")
    try:
        (out / ".train").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {out}: cannot create the run store ({err.strerror})") from None
    if not os.access(out, os.W_OK) or not os.access(out / ".train", os.W_OK):
        raise UserError(f"--out {out} is read-only; allowed values: a writable run store directory")
    store, run_id = RunStore(out), config.run_id()
    checkpoint = out / ".train" / f"{run_id}.pt"
    print(f"gridbook train: run {run_id} ({config.model.arch}, Ng={config.model.n_hidden}, target "
          f"{config.target.target}, {config.train.n_steps} steps) on {device}", flush=True)
    try:
        (record,) = train_and_evaluate([config], device=device, checkpoint=checkpoint, quiet=False)
    except CorruptRunError as err:  # a damaged checkpoint to resume from
        raise UserError(str(err)) from None
    store.write_run(record)
    checkpoint.unlink(missing_ok=True)
    metrics = record.metrics
    status = " (diverged)" if metrics["diverged"] else ""
    print(f"final decoding error: {metrics['decoding_error_cm']:.2f} cm (fine decoder "
          f"{metrics['decoding_error_fine_cm']:.2f} cm){status}; training took {metrics['train_seconds']:.1f} s; "
          f"stored as {store.run_dir(run_id)}", flush=True)
    return 0
