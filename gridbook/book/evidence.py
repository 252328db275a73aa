"""The evidence rules every chapter shares: which runs *learned* (judged by a decoder that is not the bottleneck)
and what chance means for their units (sentences computed from the results table, never typed)."""

from __future__ import annotations

import numpy as np
import torch

from gridbook.analysis.null import NULL_PERCENTILE
from gridbook.config import FINE_DECODERS, RunConfig
from gridbook.paper import ERROR_THRESHOLD_CM, GRID_SCORE_THRESHOLD
from gridbook.task.targets import make_target

__all__ = ["chance_sentence", "decoder_sentence", "fine_decoder_errors", "judged_error_cm", "learned"]


def judged_error_cm(results) -> np.ndarray:
    """Each run's decoding error (cm) under its fine decoder (``decoding_error_fine_cm``: for place-cell codes the
    best-correlated or the nearest code on a 2 cm grid, ``AnalysisConfig.fine_decoder``, floor < 2 cm;
    :meth:`gridbook.task.encoder.TargetEncoder.decode_fine`), so that the
    decoder never decides whether a network learned. Runs stored before that metric existed have only the target's
    default decoder (``decoding_error_cm``; the paper's top-3 rule for DoS codes) and are judged by it."""
    default = results["decoding_error_cm"].astype(float).to_numpy()  # (R,)
    if "decoding_error_fine_cm" not in results:
        return default
    fine = results["decoding_error_fine_cm"].astype(float).to_numpy()  # (R,)
    return np.where(np.isfinite(fine), fine, default)


def learned(results, error_threshold_cm: float = ERROR_THRESHOLD_CM) -> np.ndarray:
    """Whether each run learned to path integrate: its :func:`judged_error_cm` below the paper's 10 cm."""
    return judged_error_cm(results) < error_threshold_cm


def chance_sentence(results) -> str:
    """What chance means for these runs: the range of their null percentiles (each run's activations shifted
    against its positions and scored; :mod:`gridbook.analysis.null`) against the paper's threshold, and the mean
    fractions of units above the null and grid-like. Says so when the runs have no null."""
    p99 = results["null_score_p99"].astype(float).to_numpy() if len(results) else np.array([])
    p99 = p99[np.isfinite(p99)]
    if not p99.size:
        return ("These runs have no shuffle null (`n_shuffles` = 0), so no unit here can be judged against chance: "
                f"a unit above {GRID_SCORE_THRESHOLD} alone is not evidence of a grid.")
    above = 100 * float(np.nanmean(results["frac_units_above_null"].astype(float)))
    grid = 100 * float(np.nanmean(results["frac_units_grid_like"].astype(float)))
    side = ("above" if p99.min() > GRID_SCORE_THRESHOLD else "below" if p99.max() <= GRID_SCORE_THRESHOLD
            else "on both sides of")
    return (f"Chance, for these {p99.size} runs: the {NULL_PERCENTILE:g}th percentile of each run's shuffle null "
            f"lies between {p99.min():.2f} and {p99.max():.2f}, {side} the paper's {GRID_SCORE_THRESHOLD}. On average "
            f"{above:.1f}% of a run's units beat their null and {grid:.1f}% are grid-like (above both).")


def decoder_sentence(results) -> str:
    """The decoders' floors for these runs (errors on the exact code of the true positions, medians over the runs)
    and their median errors: the fine decoder the runs are judged by, beside each target's own decoder (the paper's
    top-3 rule for codes that peak at the field)."""
    columns = ("decoder_floor_fine_cm", "decoder_floor_cm", "decoding_error_fine_cm", "decoding_error_cm")
    if not len(results) or any(c not in results for c in columns):
        return "These runs do not record their decoders' floors."
    fine_floor, own_floor, fine, own = (float(np.nanmedian(results[c].astype(float))) if results[c].notna().any()
                                        else float("nan") for c in columns)
    if not np.isfinite(fine_floor):
        return "These runs predate the fine decoder: they are judged by their targets' own decoders."
    return (f"Decoders, medians over these {len(results)} runs: the fine decoder the runs are judged by errs by "
            f"{fine_floor:.1f} cm on the exact code (its floor) and by {fine:.1f} cm on the networks' outputs; the "
            f"targets' own decoders (the paper's top-3 rule where the code peaks at the field) by {own_floor:.1f} cm "
            f"and {own:.1f} cm.")


def fine_decoder_errors(config: RunConfig, scales=(1.0, 0.5), n_positions: int = 2000,
                        seed: int = 0) -> dict[float, dict[str, float]]:
    """Mean error (cm) of each fine decoder (:data:`~gridbook.config.FINE_DECODERS`) on the exact code of
    ``config``'s target (its seed's cells) at ``n_positions`` uniform positions, with the code's logits times each of
    ``scales`` (below 1: a flatter softmax, as a network at a higher temperature outputs). {scale: {method: cm}}."""
    target = make_target(config.target, config.task, torch.Generator().manual_seed(config.train.seed))
    box = torch.tensor([config.task.box_width, config.task.box_height])  # m
    where = (torch.rand(n_positions, 2, generator=torch.Generator().manual_seed(seed)) - 0.5) * box  # (N, 2) m
    exact = target.ideal_output(where)  # (N, Np) logits of the exact code
    return {scale: {method: float((target.decode_fine(scale * exact, method) - where).norm(dim=-1).mean() * 100)
                    for method in FINE_DECODERS} for scale in scales}
