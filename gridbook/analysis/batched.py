"""The evaluation and analysis of K trained networks at once: what :mod:`gridbook.analysis.pipeline` does network by
network, with every network of a batched job in each step (the sweep's path, on a CPU and a GPU alike).

:func:`analyse_networks` runs every network on the same evaluation walks (one task: the walks depend on it and the
seed only), and per batch:

* one forward pass of all K networks; their codes stacked (:class:`~gridbook.task.stacked.StackedCodes`), losses
  fused, decoders stacked (:class:`~gridbook.task.stacked.StackedDecoders`) on the batches that measure them;
* the batch's positions binned once for all networks; the real maps' float64 sums (K, bins, Ng) take every network's
  activations in one ``index_add_``; with a shuffle null, the chosen units of every network (the same units and
  shifts for all: both are drawn from the shuffle seed) go into float32 shifted sums (S, bins, K Un), one
  ``index_add_`` per shift;
* then every network's maps are scored in blocks of :data:`SCORE_BLOCK` maps, periods read off the same SACs, and
  every null map scored likewise.

The numbers equal :func:`~gridbook.analysis.pipeline.evaluate_ratemaps` and
:func:`~gridbook.analysis.pipeline.analyse_ratemaps` network by network, up to float rounding
(tests/analysis/test_batched.py). Jobs whose networks do not share the evaluation (task, bins, batches, null) are
analysed network by network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from gridbook.analysis.null import ShuffleNull, draw_shifts, draw_units, null_summary
from gridbook.analysis.periods import grid_properties
from gridbook.analysis.pipeline import (
    NetworkAnalysis,
    analyse_ratemaps,
    evaluate_ratemaps,
    maps_participation_ratio,
    summarize_units,
)
from gridbook.analysis.ratemaps import RateMapAccumulator, gaussian_smooth_nan
from gridbook.analysis.sac import sac_tensor
from gridbook.analysis.scores import grid_scores, grid_scores_from_sacs
from gridbook.config import RunConfig
from gridbook.nets.checkpoints import TrainResult
from gridbook.nets.evaluate import DECODE_BATCHES, FLOOR_BATCHES, BatchMetrics, evaluation_walks, network_metrics
from gridbook.nets.optim import network_losses
from gridbook.task.stacked import StackedCodes, StackedDecoders

__all__ = ["SCORE_BLOCK", "analyse_maps", "analyse_networks", "evaluate_stacked", "shares_evaluation"]

SCORE_BLOCK = 1 << 15  # maps scored at once (their float32 SACs: ~1 GB at 44 x 44 bins)
_SUM_ELEMENTS = 1 << 27  # activations converted to float64 at once while binning (1 GiB)


def shares_evaluation(configs: Sequence[RunConfig]) -> bool:
    """Whether the networks of ``configs`` can be evaluated together: one task, and the same bins, smoothing,
    evaluation batches, shuffles and null units (their walks, bins and null draws are then the same)."""
    def key(c: RunConfig) -> tuple:
        a = c.analysis
        return repr(c.task), a.n_bins, a.smooth_sigma_bins, a.eval_batches, a.n_shuffles, a.null_units, a.score_form

    return len({key(c) for c in configs}) == 1


def _errors_cm(decoded: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """(K,) mean distance (cm) of decoded (K, T, B, 2) from true (T, B, 2) positions (m)."""
    return (decoded - true).norm(dim=-1).mean((1, 2)) * 100


@torch.no_grad()
def evaluate_stacked(result: TrainResult, n_batches: int | None = None, seed: int = 12345,
                     n_shuffles: int | None = None, shuffle_seed: int = 0) -> list[dict]:
    """:func:`~gridbook.analysis.pipeline.evaluate_ratemaps` of every network of ``result`` at once (they must
    :func:`shares_evaluation`): one dict per network with ``ratemaps``, ``n_samples``, the decoding metrics and
    ``null``."""
    configs, net = list(result.configs), result.networks
    if not shares_evaluation(configs):
        raise ValueError("the networks do not share their evaluation (task, bins, batches, null); "
                         "use gridbook.analysis.pipeline.evaluate_ratemaps")
    first, device, n_net = configs[0], net.decoder.device, len(configs)
    walks = evaluation_walks([first], n_batches, seed, device)[0]  # every network sees these batches
    n_hidden, box = first.model.n_hidden, (first.task.box_width, first.task.box_height)
    grid = RateMapAccumulator(n_hidden, first.analysis.n_bins, box, device)
    bins = [grid.bins(w.position.reshape(-1, 2)) for w in walks]  # per batch (N,) flat bin index
    for flat in bins:
        grid.counts += torch.bincount(flat, minlength=grid.counts.numel())
    sums = torch.zeros(n_net, grid.counts.numel(), n_hidden, dtype=torch.float64, device=device)  # (K, bins, Ng)
    shuffles = first.analysis.n_shuffles if n_shuffles is None else n_shuffles
    units = shifts = null_sums = None
    if shuffles:
        units = draw_units(n_hidden, first.analysis.null_units, shuffle_seed)  # the same units for every network
        shifts = draw_shifts(len(walks), shuffles, shuffle_seed)
        n_units = n_hidden if units is None else len(units)
        null_sums = torch.zeros(shifts.size, grid.counts.numel(), n_net * n_units, device=device)  # (S, bins, K Un)
    unit_index = None if units is None else torch.as_tensor(units, device=device)
    codes_of, decoders = StackedCodes(result.targets), StackedDecoders(result.targets)
    methods = [c.analysis.fine_decoder for c in configs]
    fine_is_decode = torch.tensor([t.fine_is_decode(m) for t, m in zip(result.targets, methods, strict=True)],
                                  device=device)  # (K,)
    rows: dict[str, list[torch.Tensor]] = {"error": [], "loss": [], "floor": [], "fine": [], "fine_floor": []}
    was_training = net.training
    net.eval()
    try:
        for b, walk in enumerate(walks):
            path = torch.cat([walk.init_position[None], walk.position])  # (T + 1, B, 2) m
            codes = codes_of.encode(path[None].expand(n_net, *path.shape).contiguous())  # (K, T + 1, B, Np)
            velocity = walk.velocity[None].expand(n_net, *walk.velocity.shape)  # (K, T, B, 2)
            hidden, output = net(velocity, codes[:, 0])  # (K, T, B, Ng), (K, T, B, Np)
            rows["loss"].append(network_losses(result.targets, output, codes[:, 1:]))  # (K,)
            if b < DECODE_BATCHES:
                rows["error"].append(_errors_cm(decoders.decode(output), walk.position))
            if b < FLOOR_BATCHES:
                exact = result.targets[0].output_of_code(codes[:, 1:])  # (K, T, B, Np) the ideal outputs
                floor = _errors_cm(decoders.decode(exact), walk.position)
                fine = _errors_cm(decoders.decode_fine(output, methods), walk.position)
                fine_floor = _errors_cm(decoders.decode_fine(exact, methods), walk.position)
                rows["floor"].append(floor)
                rows["fine"].append(torch.where(fine_is_decode, rows["error"][-1], fine))
                rows["fine_floor"].append(torch.where(fine_is_decode, floor, fine_floor))
            activations = hidden.reshape(n_net, -1, n_hidden).float()  # (K, N, Ng)
            step = max(1, _SUM_ELEMENTS // activations[0].numel())
            for k in range(0, n_net, step):
                sums[k : k + step].index_add_(1, bins[b], activations[k : k + step].double())
            if null_sums is not None:
                chosen = activations if unit_index is None else activations[:, :, unit_index]  # (K, N, Un)
                flat = chosen.permute(1, 0, 2).reshape(chosen.shape[1], -1)  # (N, K Un)
                for j, shift in enumerate(shifts.tolist()):
                    null_sums[j].index_add_(0, bins[(b + shift) % len(walks)], flat)
    finally:
        net.train(was_training)
    table = {name: torch.stack(values, 1).double().cpu().numpy() if values else np.zeros((n_net, 0))
             for name, values in rows.items()}  # name -> (K, batches)
    out = []
    for k, config in enumerate(configs):
        batches = [BatchMetrics(decoding_error_cm=float(table["error"][k, b]) if b < table["error"].shape[1] else None,
                                loss=float(table["loss"][k, b]),
                                decoder_floor_cm=float(table["floor"][k, b]) if b < table["floor"].shape[1] else None,
                                fine_error_cm=float(table["fine"][k, b]) if b < table["fine"].shape[1] else None,
                                fine_floor_cm=(float(table["fine_floor"][k, b]) if b < table["fine_floor"].shape[1]
                                               else None))
                   for b in range(len(walks))]
        grid.sums = sums[k]  # (bins, Ng): this network's sums, read by ratemaps()
        entry = {"ratemaps": grid.ratemaps(config.analysis.smooth_sigma_bins), "n_samples": int(grid.counts.sum()),
                 **network_metrics(batches), "null": None}
        out.append(entry)
    if null_sums is not None:
        scores = _null_scores(grid, null_sums, n_net, first.analysis.smooth_sigma_bins, first.analysis.score_form)
        for k, entry in enumerate(out):
            entry["null"] = ShuffleNull(shifts=shifts.copy(), scores=scores[:, k], score_form=first.analysis.score_form,
                                        n_batches=len(walks), units=None if units is None else np.asarray(units))
    return out


def _null_scores(grid: RateMapAccumulator, null_sums: torch.Tensor, n_net: int, smooth: float,
                 form: str) -> np.ndarray:
    """(S, K, Un) score60 (in ``form``) of every shifted map, smoothed as the real maps and scored in float32 without
    score90, in blocks of :data:`SCORE_BLOCK` maps, as :func:`~gridbook.analysis.null.shuffle_null` scores them."""
    n_shifts, n_bins, _ = null_sums.shape
    flat = null_sums.permute(0, 2, 1).reshape(-1, n_bins)  # (S K Un, bins): shift-major, then network, then unit
    scores = np.empty(flat.shape[0])
    visited = grid.counts > 0
    for start in range(0, flat.shape[0], SCORE_BLOCK):
        block = flat[start : start + SCORE_BLOCK].double() / grid.counts.clamp_min(1)  # (n, bins) means
        block = block.masked_fill_(~visited, torch.nan).reshape(-1, grid.ny, grid.nx)
        block = gaussian_smooth_nan(block, float(smooth)).float()
        scores[start : start + block.shape[0]] = grid_scores(block, dtype=torch.float32, score90=False).score60(form)
    return scores.reshape(n_shifts, n_net, -1)


def analyse_maps(entries: Sequence[dict]) -> list[NetworkAnalysis]:
    """:func:`~gridbook.analysis.pipeline.analyse_ratemaps` of several networks' evaluations (each with
    ``ratemaps`` and ``null``) at once: every unit's map scored in blocks of :data:`SCORE_BLOCK`, on the device of
    the SACs (a GPU when there is one), periods read off the same SACs."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    maps = np.concatenate([e["ratemaps"].maps for e in entries])  # (K U, n, n)
    units: dict[str, list[np.ndarray]] = {name: [] for name in ("score60_mean", "score60_min_max", "score90",
                                                                 "period_m", "orientation_deg")}
    bin_size = entries[0]["ratemaps"].bin_size_m[0]
    for start in range(0, maps.shape[0], SCORE_BLOCK):
        sacs = sac_tensor(maps[start : start + SCORE_BLOCK], device=device)  # (n, 2n-1, 2n-1) float64
        scores = grid_scores_from_sacs(sacs)
        properties = grid_properties(None, bin_size_m=bin_size, sacs=sacs.cpu().numpy())
        for name, values in (("score60_mean", scores.score60_mean), ("score60_min_max", scores.score60_min_max),
                             ("score90", scores.score90), ("period_m", properties.period_m),
                             ("orientation_deg", properties.orientation_deg)):
            units[name].append(values)
    table = {name: np.concatenate(values) for name, values in units.items()}
    out, start = [], 0
    for entry in entries:
        count = entry["ratemaps"].maps.shape[0]
        mine = {name: values[start : start + count] for name, values in table.items()}
        start += count
        summary = {**summarize_units(mine), "participation_ratio": maps_participation_ratio(entry["ratemaps"].maps),
                   **null_summary(mine["score60_min_max"], entry["null"])}
        out.append(NetworkAnalysis(ratemaps=entry["ratemaps"], units=mine, summary=summary, null=entry["null"]))
    return out


def analyse_networks(result: TrainResult) -> list[tuple[dict, NetworkAnalysis]]:
    """Every network of ``result`` evaluated and analysed: (its evaluation, its :class:`NetworkAnalysis`). Together
    (:func:`evaluate_stacked`, :func:`analyse_maps`) when the networks :func:`shares_evaluation`, else one by one
    (:func:`~gridbook.analysis.pipeline.evaluate_ratemaps`, :func:`~gridbook.analysis.pipeline.analyse_ratemaps`)."""
    if shares_evaluation(result.configs):
        evaluations = evaluate_stacked(result)
        return list(zip(evaluations, analyse_maps(evaluations), strict=True))
    evaluations = evaluate_ratemaps(result)
    return [(e, analyse_ratemaps(e["ratemaps"], null=e["null"])) for e in evaluations]
