"""Evaluation: trained networks run on fresh trajectories, their hidden units and decoding error collected."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from gridbook.config import RunConfig
from gridbook.nets.checkpoints import TrainResult
from gridbook.nets.devices import cpu_speedups
from gridbook.nets.models import BatchedRecurrentNetworks
from gridbook.nets.optim import network_losses
from gridbook.task.targets import TargetEncoder
from gridbook.task.trajectories import sample_trajectory_batches

__all__ = ["evaluate_networks"]


@torch.no_grad()
def evaluate_networks(result: TrainResult, n_batches: int | None = None, seed: int = 12345,
                      indices: Sequence[int] | None = None) -> list[dict]:
    """Run networks on fresh trajectories (no dropout, no gradients); one dict per network (``indices``: a subset):
    ``positions`` (N, 2) float32 m, ``activations`` (N, Ng) float32 hidden units h_t, ``decoding_error_cm``,
    ``loss`` (target loss). N = n_batches * seq_len * batch_size; ``n_batches`` defaults to each network's
    ``analysis.eval_batches``. Trajectories come from a generator seeded with ``seed`` (one per distinct task, so
    networks with the same task see the same trajectories). The networks run in their training precision
    (``TrainConfig.precision``: bfloat16 networks are evaluated with bfloat16 matrix products)."""
    chosen = list(range(len(result.configs))) if indices is None else list(indices)
    net = result.networks if indices is None else result.networks.subset(chosen)
    configs, targets = [result.configs[i] for i in chosen], [result.targets[i] for i in chosen]
    device = net.decoder.device
    wanted = [n_batches or c.analysis.eval_batches for c in configs]
    out = [{"positions": [], "activations": [], "errors": [], "losses": []} for _ in chosen]
    was_training = net.training
    net.eval()
    with cpu_speedups(device):
        _evaluate_batches(net, configs, targets, wanted, seed, out)
    net.train(was_training)
    return [{"positions": np.concatenate(o["positions"]).astype(np.float32),
             "activations": np.concatenate(o["activations"]).astype(np.float32),
             "decoding_error_cm": float(np.mean(o["errors"])), "loss": float(np.mean(o["losses"]))} for o in out]


def _evaluate_batches(net: BatchedRecurrentNetworks, configs: list[RunConfig], targets: list[TargetEncoder],
                      wanted: list[int], seed: int, out: list[dict[str, list]]) -> None:
    device = net.decoder.device
    task_keys = [repr(c.task) for c in configs]
    tasks = {key: c.task for key, c in zip(task_keys, configs, strict=True)}
    n_batches = max(wanted)
    sampled = {key: sample_trajectory_batches(task, [torch.Generator().manual_seed(seed)], n_batches, device=device)[0]
               for key, task in tasks.items()}  # per task, its batches (each simulated as sample_trajectories would)
    for batch in range(n_batches):
        walks = [sampled[key][batch] for key in task_keys]
        velocity = torch.stack([w.velocity for w in walks])  # (K, T, B, 2)
        codes = torch.stack([t.encode(torch.cat([w.init_position[None], w.position]))
                             for t, w in zip(targets, walks, strict=True)])  # (K, T + 1, B, Np)
        hidden, output = net(velocity, codes[:, 0])
        losses = network_losses(targets, output, codes[:, 1:])  # (K,)
        for k, (target, walk) in enumerate(zip(targets, walks, strict=True)):
            if batch >= wanted[k]:
                continue
            out[k]["positions"].append(walk.position.reshape(-1, 2).cpu().numpy())
            out[k]["activations"].append(hidden[k].reshape(-1, net.n_hidden).float().cpu().numpy())
            out[k]["errors"].append(float((target.decode(output[k]) - walk.position).norm(dim=-1).mean() * 100))
            out[k]["losses"].append(float(losses[k]))
