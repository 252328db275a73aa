"""Sentences a chapter states about its runs' chance level, computed from the results table (never typed)."""

from __future__ import annotations

import numpy as np

from gridbook.analysis.null import NULL_PERCENTILE
from gridbook.paper import GRID_SCORE_THRESHOLD

__all__ = ["chance_sentence"]


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
