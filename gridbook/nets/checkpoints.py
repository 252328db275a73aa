"""Checkpoints: a training result (weights, optimizer state, history, generator states, configs) saved and loaded.

A :class:`TrainResult` is what :func:`gridbook.nets.trainer.train_networks` returns; :func:`save_checkpoint` writes it
and :func:`load_checkpoint` reads it back (targets are rebuilt from the configs' seeds, which is deterministic).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gridbook.config import RunConfig
from gridbook.files import atomic_write
from gridbook.nets.devices import pick_device
from gridbook.nets.models import BatchedRecurrentNetworks, network_generator
from gridbook.task.targets import TargetEncoder, make_target

__all__ = ["CHECKPOINT_FORMAT", "TrainResult", "checkpoint_bytes", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "gridbook.train.v1"  # stored in every checkpoint file: do not change (stored runs hold it)


# ---- results ------------------------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """K trained networks. ``history[k]`` = {"step", "loss", "error_cm"} lists (the training batch's loss, and the
    decoding error on its first :data:`HISTORY_TRAJECTORIES` trajectories); ``optimizer_state`` and
    ``generator_states`` (per network: the "dropout" generator's state, the "trajectories" generator's state at the
    start of the current chunk of walks, and "walks_used" of its "walk_chunk" batches) make training resumable."""

    configs: list[RunConfig]
    networks: BatchedRecurrentNetworks
    targets: list[TargetEncoder]
    history: list[dict[str, list]]
    diverged: list[bool]
    train_seconds: float
    device: str
    steps_done: int
    optimizer_state: dict[str, Any] = field(default_factory=dict, repr=False)
    generator_states: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def network(self, k: int) -> TrainResult:
        """Network ``k`` alone, as a one-network result (its share of the training time; no optimizer state, since a
        stored run is finished)."""
        return TrainResult(configs=[self.configs[k]], networks=self.networks.subset([k]), targets=[self.targets[k]],
                           history=[self.history[k]], diverged=[bool(self.diverged[k])],
                           train_seconds=self.train_seconds / len(self.configs), device=str(self.device),
                           steps_done=int(self.steps_done), optimizer_state={},
                           generator_states=[self.generator_states[k]] if self.generator_states else [])


# ---- checkpoints --------------------------------------------------------------------------------------------------
def _payload(result: TrainResult) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT, "configs": [c.to_dict() for c in result.configs],
        "state_dict": {k: v.detach().cpu() for k, v in result.networks.state_dict().items()},
        "optimizer": result.optimizer_state, "generators": result.generator_states, "steps_done": result.steps_done,
        "history": result.history, "diverged": list(result.diverged), "train_seconds": result.train_seconds,
        "device": result.device, "torch_version": str(torch.__version__),
    }


def save_checkpoint(result: TrainResult, path: str | Path) -> Path:
    """Write ``result`` (weights, optimizer state, step, history, generator states, each network's full config)
    with ``torch.save``, atomically (:func:`gridbook.files.atomic_write`); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _payload(result)
    atomic_write(path, lambda handle: torch.save(payload, handle))
    return path


def checkpoint_bytes(result: TrainResult) -> bytes:
    """The bytes :func:`save_checkpoint` writes (a run store keeps them with the run)."""
    buffer = io.BytesIO()
    torch.save(_payload(result), buffer)
    return buffer.getvalue()


def load_checkpoint(path: str | Path, device: str | torch.device | None = None) -> TrainResult:
    """Read a :func:`save_checkpoint` file; targets are rebuilt from the configs' seeds (deterministic)."""
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a gridbook training checkpoint (format {payload.get('format')!r}, "
                         f"expected {CHECKPOINT_FORMAT!r})")
    dev = pick_device(device)
    configs = [RunConfig.from_dict(d) for d in payload["configs"]]
    targets = [make_target(c.target, c.task, network_generator(c.train.seed, "target"), device=dev) for c in configs]
    networks = BatchedRecurrentNetworks.from_configs(configs, initialise=False)
    networks.load_state_dict(payload["state_dict"])
    return TrainResult(configs, networks.to(dev), targets, payload["history"], list(payload["diverged"]),
                       float(payload["train_seconds"]), str(dev), int(payload["steps_done"]), payload["optimizer"],
                       payload["generators"])
