"""Evaluation: trained networks run on fresh trajectories, their hidden units and decoding error collected."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gridbook.config import RunConfig
from gridbook.nets.checkpoints import TrainResult
from gridbook.nets.devices import cpu_speedups
from gridbook.nets.optim import network_losses
from gridbook.task.trajectories import Trajectories, sample_trajectory_batches

__all__ = ["DECODE_BATCHES", "FLOOR_BATCHES", "BatchMetrics", "EvaluationBatch", "evaluate_networks",
           "evaluation_batches", "evaluation_walks", "network_metrics"]

FLOOR_BATCHES = 10  # evaluation batches (40k positions at quick) on which the decoders' floors and the fine decoder's
# error are measured (lookup decoding is costly)
DECODE_BATCHES = 25  # evaluation batches (100k positions at quick) on which the decoding error is measured: the
# lookup decoder (true DoG, multi-field codes) costs ~0.3 s a batch, and the mean error of 100k positions is settled


@dataclass(frozen=True)
class BatchMetrics:
    """One network's numbers on one evaluation batch."""

    decoding_error_cm: float | None  # mean distance from the decoded to the true position (first DECODE_BATCHES), cm
    loss: float  # the target loss
    decoder_floor_cm: float | None  # the decoder's error on the exact code here (first FLOOR_BATCHES batches), cm
    fine_error_cm: float | None = None  # the same batches decoded by the target's decode_fine, cm
    fine_floor_cm: float | None = None  # decode_fine's error on the exact code, cm


@dataclass(frozen=True)
class EvaluationBatch:
    """One network's share of one evaluation batch (:func:`evaluation_batches`)."""

    index: int  # the batch's index in the evaluation stream
    network: int  # the network's position in ``chosen``
    walks: Trajectories  # the batch's walks (positions (T, B, 2) m)
    hidden: torch.Tensor  # (T, B, Ng) hidden units h_t
    metrics: BatchMetrics  # its decoding error, loss and decoder floor (keep these, not the batch, to stream)


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
    out = [{"positions": [], "activations": [], "metrics": []} for _ in chosen]
    for batch in evaluation_batches(result, chosen, n_batches, seed):
        mine = out[batch.network]
        mine["positions"].append(batch.walks.position.reshape(-1, 2).cpu().numpy())
        mine["activations"].append(batch.hidden.reshape(-1, batch.hidden.shape[-1]).float().cpu().numpy())
        mine["metrics"].append(batch.metrics)
    return [{"positions": np.concatenate(o["positions"]).astype(np.float32),
             "activations": np.concatenate(o["activations"]).astype(np.float32), **network_metrics(o["metrics"])}
            for o in out]


def _error_cm(decoded: torch.Tensor, true: torch.Tensor) -> float:
    """Mean distance (cm) of decoded (..., 2) from true (..., 2) positions (m)."""
    return float((decoded - true).norm(dim=-1).mean() * 100)


def network_metrics(batches: Sequence[BatchMetrics]) -> dict[str, float]:
    """A network's evaluation metrics from its batches': ``decoding_error_cm``, ``loss``, ``decoder_floor_cm``,
    ``decoding_error_fine_cm`` and ``decoder_floor_fine_cm`` (means over the batches that have them)."""
    def mean(name: str) -> float:
        values = [getattr(b, name) for b in batches if getattr(b, name) is not None]
        return float(np.mean(values)) if values else float("nan")

    return {"decoding_error_cm": mean("decoding_error_cm"), "loss": mean("loss"),
            "decoder_floor_cm": mean("decoder_floor_cm"), "decoding_error_fine_cm": mean("fine_error_cm"),
            "decoder_floor_fine_cm": mean("fine_floor_cm")}


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
                       walks: list[list[Trajectories]] | None = None) -> Iterator[EvaluationBatch]:
    """The evaluation of :func:`evaluate_networks`, batch by batch: an :class:`EvaluationBatch` for every batch and
    each network of ``chosen`` (indices into ``result``) that still wants batches. The walks are
    :func:`evaluation_walks` (``walks``: those of the chosen networks, when the caller has drawn them already).
    The decoding error is measured on the first :data:`DECODE_BATCHES` batches (None after), the loss on every batch.
    On the first :data:`FLOOR_BATCHES` batches the target's decoder is also run on the exact code of the true
    positions (:meth:`~gridbook.task.encoder.TargetEncoder.output_of_code`): its error there is the decoder's
    floor, the error a perfect network would have."""
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
                        true = walk.position  # (T, B, 2) m
                        loss = float(losses[k])
                        error = _error_cm(target.decode(output[k]), true) if batch < DECODE_BATCHES else None
                        metrics = BatchMetrics(error, loss, None)
                        if batch < FLOOR_BATCHES:
                            exact = target.output_of_code(codes[k, 1:])  # (T, B, Np) the ideal output
                            floor = _error_cm(target.decode(exact), true)
                            method = configs[k].analysis.fine_decoder
                            if target.fine_is_decode(method):  # one decoding serves both (a lookup costs ~0.3 s)
                                metrics = BatchMetrics(error, loss, floor, error, floor)
                            else:
                                fine = _error_cm(target.decode_fine(output[k], method), true)
                                fine_floor = _error_cm(target.decode_fine(exact, method), true)
                                metrics = BatchMetrics(error, loss, floor, fine, fine_floor)
                        yield EvaluationBatch(batch, k, walk, hidden[k], metrics)
    finally:
        net.train(was_training)
