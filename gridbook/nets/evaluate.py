"""Evaluation: trained networks run on fresh trajectories, their hidden units and decoding error collected."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from gridbook.config import RunConfig
from gridbook.nets.checkpoints import TrainResult
from gridbook.nets.devices import cpu_speedups
from gridbook.nets.optim import network_losses
from gridbook.task.trajectories import Trajectories, sample_trajectory_batches

__all__ = ["evaluate_networks", "evaluation_batches", "evaluation_walks"]


@torch.no_grad()
def evaluate_networks(result: TrainResult, n_batches: int | None = None, seed: int = 12345,
                      indices: Sequence[int] | None = None) -> list[dict]:
    """Run networks on fresh trajectories (no dropout, no gradients); one dict per network (``indices``: a subset):
    ``positions`` (N, 2) float32 m, ``activations`` (N, Ng) float32 hidden units h_t, ``decoding_error_cm``,
    ``loss`` (target loss). N = n_batches * seq_len * batch_size; ``n_batches`` defaults to each network's
    ``analysis.eval_batches``. Trajectories come from a generator seeded with ``seed`` (one per distinct task, so
    networks with the same task see the same trajectories). The networks run in their training precision
    (``TrainConfig.precision``: bfloat16 networks are evaluated with bfloat16 matrix products).
    :func:`gridbook.analysis.pipeline.evaluate_ratemaps` gives the same evaluation with rate maps instead of the
    (N, Ng) activations."""
    chosen = list(range(len(result.configs))) if indices is None else list(indices)
    out = [{"positions": [], "activations": [], "errors": [], "losses": []} for _ in chosen]
    for _, k, walk, hidden, error, loss in evaluation_batches(result, chosen, n_batches, seed):
        out[k]["positions"].append(walk.position.reshape(-1, 2).cpu().numpy())
        out[k]["activations"].append(hidden.reshape(-1, hidden.shape[-1]).float().cpu().numpy())
        out[k]["errors"].append(error)
        out[k]["losses"].append(loss)
    return [{"positions": np.concatenate(o["positions"]).astype(np.float32),
             "activations": np.concatenate(o["activations"]).astype(np.float32),
             "decoding_error_cm": float(np.mean(o["errors"])), "loss": float(np.mean(o["losses"]))} for o in out]


def evaluation_walks(configs: Sequence[RunConfig], n_batches: int | None = None, seed: int = 12345,
                     device: str | torch.device | None = None) -> list[list[Trajectories]]:
    """The evaluation walks of each config: ``n_batches`` (default its ``analysis.eval_batches``) batches from a
    generator seeded with ``seed``, one stream per distinct task (so configs with the same task get the same walks)."""
    wanted = [n_batches or c.analysis.eval_batches for c in configs]
    tasks = {repr(c.task): c.task for c in configs}
    total = max(wanted)
    sampled = {key: sample_trajectory_batches(task, [torch.Generator().manual_seed(seed)], total, device=device)[0]
               for key, task in tasks.items()}  # per task, its batches (each simulated as sample_trajectories would)
    return [sampled[repr(c.task)][:n] for c, n in zip(configs, wanted, strict=True)]


@torch.no_grad()
def evaluation_batches(result: TrainResult, chosen: Sequence[int], n_batches: int | None = None, seed: int = 12345,
                       walks: list[list[Trajectories]] | None = None,
                       ) -> Iterator[tuple[int, int, Trajectories, torch.Tensor, float, float]]:
    """The evaluation of :func:`evaluate_networks`, batch by batch: for every batch and each network of ``chosen``
    (indices into ``result``) that still wants batches, ``(batch, k, walks, hidden, decoding_error_cm, loss)`` with
    ``k`` the position in ``chosen`` and ``hidden`` (T, B, Ng) that batch's hidden units. The walks are
    :func:`evaluation_walks` (``walks``: those of the chosen networks, when the caller has drawn them already)."""
    chosen = list(chosen)
    net = result.networks if chosen == list(range(len(result.configs))) else result.networks.subset(chosen)
    configs, targets = [result.configs[i] for i in chosen], [result.targets[i] for i in chosen]
    device = net.decoder.device
    sampled = walks if walks is not None else evaluation_walks(configs, n_batches, seed, device)
    total = max(len(walks) for walks in sampled)
    was_training = net.training
    net.eval()
    try:
        with cpu_speedups(device):
            for batch in range(total):
                walks = [chunk[min(batch, len(chunk) - 1)] for chunk in sampled]  # finished networks: any walk
                velocity = torch.stack([w.velocity for w in walks])  # (K, T, B, 2)
                codes = torch.stack([t.encode(torch.cat([w.init_position[None], w.position]))
                                     for t, w in zip(targets, walks, strict=True)])  # (K, T + 1, B, Np)
                hidden, output = net(velocity, codes[:, 0])
                losses = network_losses(targets, output, codes[:, 1:])  # (K,)
                for k, (target, walk) in enumerate(zip(targets, walks, strict=True)):
                    if batch < len(sampled[k]):
                        error = float((target.decode(output[k]) - walk.position).norm(dim=-1).mean() * 100)
                        yield batch, k, walk, hidden[k], error, float(losses[k])
    finally:
        net.train(was_training)
