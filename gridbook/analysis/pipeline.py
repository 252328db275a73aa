"""The one analysis of a trained network: rate maps -> grid scores -> periods and orientations -> a per-run summary.

:func:`analyse_network` is what a sweep stores for every run (:mod:`gridbook.runs.jobs`) and what the benchmarks
measure, so that a number in the book and a number in ``benchmarks/RESULTS.md`` come from the same code:

1. rate maps of every hidden unit over the evaluation positions (``analysis.n_bins`` bins per side of the task's box,
   optional NaN-aware smoothing; :func:`gridbook.analysis.ratemaps.compute_ratemaps`);
2. grid scores of every map, both score60 forms and score90 (:func:`gridbook.analysis.scores.grid_scores`);
3. grid period and orientation from each map's autocorrelogram (:func:`gridbook.analysis.periods.grid_properties`);
4. the per-run summary (:func:`summarize_units`): the best unit's scores, the fraction of units above each of the
   paper's thresholds, the main period of the units above the period threshold, and the participation ratio of the
   maps;
5. with a shuffle null (``analysis.n_shuffles`` > 0; :mod:`gridbook.analysis.null`), the run's chance level and the
   fractions of units above it and grid-like (:func:`gridbook.analysis.null.null_summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gridbook.analysis.null import (
    NULL_SUMMARY,
    ShuffledMapAccumulator,
    ShuffleNull,
    draw_shifts,
    draw_units,
    null_summary,
    shuffle_null,
)
from gridbook.analysis.periods import grid_properties, main_period_mode
from gridbook.analysis.predictivity import participation_ratio
from gridbook.analysis.ratemaps import RateMapAccumulator, RateMaps, compute_ratemaps
from gridbook.analysis.scores import grid_scores
from gridbook.config import RunConfig
from gridbook.nets.checkpoints import TrainResult
from gridbook.nets.evaluate import BatchMetrics, evaluation_batches, evaluation_walks, network_metrics
from gridbook.paper import PERIOD_SCORE_THRESHOLD, SCORE_THRESHOLDS

__all__ = ["NETWORK_SUMMARY", "UNIT_COLUMNS", "NetworkAnalysis", "analyse_network", "analyse_ratemaps",
           "evaluate_ratemaps", "maps_participation_ratio", "summarize_units"]

UNIT_COLUMNS = ("score60_mean", "score60_min_max", "score90", "period_m", "orientation_deg")  # per unit
NETWORK_SUMMARY = ("best_score60_min_max", "best_score60_mean", *(f"frac_units_above_{t}" for t in SCORE_THRESHOLDS),
                   "period_mode_m", "participation_ratio", *NULL_SUMMARY)  # per run, from the units, maps and null


@dataclass(frozen=True)
class NetworkAnalysis:
    """One network's analysis: ``ratemaps`` (U maps with occupancy and bin edges), ``units`` (each of
    :data:`UNIT_COLUMNS` -> a (U,) array), ``summary`` (each of :data:`NETWORK_SUMMARY` -> a float) and the ``null``
    the units were judged against (None: no null, and the null's summary is NaN)."""

    ratemaps: RateMaps
    units: dict[str, np.ndarray]
    summary: dict[str, float]
    null: ShuffleNull | None = None


def analyse_network(positions, activations, config: RunConfig, device=None) -> NetworkAnalysis:
    """Rate maps, scores, periods and summary of one network's hidden units.

    positions: (N, 2) m, activations: (N, U), e.g. from :func:`gridbook.nets.evaluate.evaluate_networks`. The box and
    the analysis settings (``n_bins``, ``smooth_sigma_bins``) are the run config's. ``device``: where the scores are
    computed (default: the activations' device).
    """
    maps = compute_ratemaps(positions, activations, n_bins=config.analysis.n_bins,
                            box=(config.task.box_width, config.task.box_height),
                            smooth_sigma_bins=config.analysis.smooth_sigma_bins)
    return analyse_ratemaps(maps, device=device)


def analyse_ratemaps(maps: RateMaps, device=None, null: ShuffleNull | None = None) -> NetworkAnalysis:
    """Scores, periods and summary of one network's rate maps, judged against its shuffle ``null`` when given (steps
    2-5 of :func:`analyse_network`; the null of :func:`evaluate_ratemaps`)."""
    scores = grid_scores(maps.maps, device=device)
    properties = grid_properties(maps.maps, bin_size_m=maps.bin_size_m[0], device=device)
    units = {"score60_mean": scores.score60_mean, "score60_min_max": scores.score60_min_max,
             "score90": scores.score90, "period_m": properties.period_m,
             "orientation_deg": properties.orientation_deg}
    summary = {**summarize_units(units), "participation_ratio": maps_participation_ratio(maps.maps),
               **null_summary(units["score60_min_max"], null)}
    return NetworkAnalysis(ratemaps=maps, units=units, summary=summary, null=null)


def evaluate_ratemaps(result: TrainResult, n_batches: int | None = None, seed: int = 12345,
                      indices: Sequence[int] | None = None, n_shuffles: int | None = None,
                      shuffle_seed: int = 0) -> list[dict]:
    """:func:`gridbook.nets.evaluate.evaluate_networks` with each network's hidden units binned into rate maps batch by
    batch (:class:`~gridbook.analysis.ratemaps.RateMapAccumulator`: memory O(units x bins), not O(positions x
    units)); the maps equal :func:`compute_ratemaps` of ``evaluate_networks``' positions and activations. One dict per
    network: ``ratemaps`` (the run config's ``analysis.n_bins`` over its task's box, smoothed by
    ``analysis.smooth_sigma_bins``), ``n_samples``, ``decoding_error_cm``, ``loss``, ``decoder_floor_cm``, and
    ``null``: None, or with ``n_shuffles`` > 0 (None: each config's ``analysis.n_shuffles``) the
    :class:`~gridbook.analysis.null.ShuffleNull` of that many circular shifts by whole batches
    (:func:`~gridbook.analysis.null.draw_shifts` from ``shuffle_seed``), binned in the same pass and smoothed and
    scored as the real maps, for the units of :func:`~gridbook.analysis.null.draw_units` (``analysis.null_units``:
    0 = every unit)."""
    chosen = list(range(len(result.configs))) if indices is None else list(indices)
    configs = [result.configs[i] for i in chosen]
    device = result.networks.decoder.device
    boxes = [(c.task.box_width, c.task.box_height) for c in configs]
    maps = [RateMapAccumulator(c.model.n_hidden, c.analysis.n_bins, box, device) for c, box in zip(configs, boxes,
                                                                                                    strict=True)]
    shuffles = [c.analysis.n_shuffles if n_shuffles is None else n_shuffles for c in configs]
    nulls: list[ShuffledMapAccumulator | None] = [None] * len(chosen)
    null_units: list[np.ndarray | None] = [None] * len(chosen)  # the units of each null (None: every unit)
    walks = None
    if any(shuffles):  # the null needs every batch's positions before the first activations
        walks = evaluation_walks(configs, n_batches, seed, device)
        null_units = [draw_units(c.model.n_hidden, c.analysis.null_units, shuffle_seed) for c in configs]
        nulls = [ShuffledMapAccumulator(c.model.n_hidden if units is None else len(units),
                                        [w.position.reshape(-1, 2) for w in batches],
                                        draw_shifts(len(batches), n, shuffle_seed), c.analysis.n_bins, box, device)
                 if n else None
                 for c, batches, box, n, units in zip(configs, walks, boxes, shuffles, null_units, strict=True)]
    unit_index = [None if u is None else torch.as_tensor(u, device=device) for u in null_units]  # once, not per batch
    metrics: list[list[BatchMetrics]] = [[] for _ in chosen]  # the numbers of each batch, not its activations
    for batch in evaluation_batches(result, chosen, n_batches, seed, walks):
        k = batch.network
        activations = batch.hidden.reshape(-1, batch.hidden.shape[-1]).float()  # (T B, Ng)
        maps[k].add(batch.walks.position.reshape(-1, 2), activations)
        if nulls[k] is not None:
            nulls[k].add(batch.index, activations if unit_index[k] is None else activations[:, unit_index[k]])
        metrics[k].append(batch.metrics)
    out = [{"ratemaps": m.ratemaps(c.analysis.smooth_sigma_bins), "n_samples": int(m.counts.sum()),
            **network_metrics(b)} for m, c, b in zip(maps, configs, metrics, strict=True)]
    for k, (entry, config) in enumerate(zip(out, configs, strict=True)):
        null, nulls[k] = nulls[k], None  # the shifted sums (S x bins x U floats) go as soon as they are scored
        smooth = config.analysis.smooth_sigma_bins
        entry["null"] = None if null is None else shuffle_null(null, smooth_sigma_bins=smooth, units=null_units[k])
    return out


def summarize_units(units: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The per-run summary of a per-unit table (columns score60_min_max, score60_mean, period_m): the best unit's
    scores (NaN if no unit has a score), the fraction of scored units above each of the paper's thresholds, and the
    main period (:func:`gridbook.analysis.periods.main_period_mode`) of the units above the period threshold."""
    min_max = np.asarray(units["score60_min_max"], dtype=float)  # (U,)
    mean = np.asarray(units["score60_mean"], dtype=float)  # (U,)
    finite = np.isfinite(min_max)
    summary = {
        "best_score60_min_max": float(np.nanmax(min_max)) if finite.any() else float("nan"),
        "best_score60_mean": float(np.nanmax(mean)) if np.isfinite(mean).any() else float("nan"),
    }
    for threshold in SCORE_THRESHOLDS:
        summary[f"frac_units_above_{threshold}"] = float(np.mean(min_max[finite] > threshold)) if finite.any() else 0.0
    scored = finite & (min_max > PERIOD_SCORE_THRESHOLD)
    summary["period_mode_m"] = main_period_mode(np.asarray(units["period_m"], dtype=float)[scored])
    return summary


def maps_participation_ratio(maps: np.ndarray) -> float:
    """:func:`gridbook.analysis.predictivity.participation_ratio` of (U, ny, nx) rate maps, NaN where it is not
    defined: a diverged network (no finite or infinite values) or fewer than two bins visited by every unit."""
    if not np.isfinite(maps).any() or np.isinf(maps).any():
        return float("nan")
    try:
        return float(participation_ratio(maps))
    except ValueError:
        return float("nan")
