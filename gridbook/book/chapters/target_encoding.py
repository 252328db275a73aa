"""What the target-encoding chapter (R2) and its neighbours compute from unit tables: fractions above thresholds, best
units, score densities. Pure functions on the tables of :mod:`gridbook.runs.load` and on arrays; the notebook holds
prose, parameters and calls."""

from __future__ import annotations

import numpy as np

from gridbook.book.evidence import judged_error_cm
from gridbook.book.evidence import learned as learned_runs
from gridbook.paper import (
    GRID_SCORE_THRESHOLD,
)

__all__ = [
    'best_units', 'score_densities', 'unit_fractions',
]


def unit_fractions(units, results, by: str, score_threshold: float = GRID_SCORE_THRESHOLD,
                   error_threshold_cm: float | None = None):
    """Per value of ``by`` (a column of both tables): runs, units, the fraction of units whose min-max score exceeds
    ``score_threshold`` alone (``above_threshold``; units without a score count as below), the runs' mean null
    percentile (``null_p99``), mean fractions of units above their run's null (``above_null``) and grid-like
    (``grid_like``: above both; :func:`gridbook.analysis.null.grid_like`; NaN without a null), the best unit's score
    and the median decoding error; with ``error_threshold_cm`` also the fraction of runs that learned."""
    flagged = units.assign(above=units["score60_min_max"] > score_threshold)
    table = flagged.groupby(by).agg(runs=("run_id", "nunique"), units=("unit", "size"),
                                    above_threshold=("above", "mean"), best_score=("score60_min_max", "max"))
    null = results.groupby(by)[["null_score_p99", "frac_units_above_null", "frac_units_grid_like"]].mean()
    table = table.join(null.set_axis(["null_p99", "above_null", "grid_like"], axis=1))
    errors = results.assign(judged=judged_error_cm(results)).groupby(by)["judged"]  # cm, the fine decoder's
    table = table.join(errors.median().rename("median error (cm)"))
    table = table.join(results.groupby(by)["decoding_error_cm"].median().rename("median error, target's decoder (cm)"))
    if error_threshold_cm is not None:
        learned = results.assign(learned=learned_runs(results, error_threshold_cm))
        table["learned"] = learned.groupby(by)["learned"].mean()
    return table


def best_units(units, by: str, score: str = "score60_min_max"):
    """The highest-scoring unit of each value of ``by`` (rows of ``units``), in ascending order of score."""
    return units.dropna(subset=[score]).sort_values(score).groupby(by).tail(1)


def score_densities(units, by: str, grid, score: str = "score60_min_max") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Gaussian kernel densities of the units' scores per value of ``by``, on ``grid``:
    ``{"name (n units)": (grid, density)}``; groups whose scores take fewer than two distinct values are left out
    (a density needs two)."""
    from scipy.stats import gaussian_kde

    grid = np.asarray(grid, dtype=float)
    densities = {}
    for name, group in units.groupby(by):
        scores = group[score].dropna().to_numpy()  # (U,)
        if len(np.unique(scores)) > 1:
            densities[f"{name} ({len(scores)} units)"] = (grid, gaussian_kde(scores)(grid))
    return densities
