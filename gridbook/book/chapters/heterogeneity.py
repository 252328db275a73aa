"""The heterogeneity chapter (R6): its conditions (baseline, heterogeneous, multi-field) and survival curves. Pure
functions on the tables of :mod:`gridbook.runs.load` and on arrays; the notebook holds prose, parameters and calls."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    'BASELINE_CONDITION', 'heterogeneity_condition', 'is_baseline', 'survival_curve',
]


def survival_curve(scores, grid) -> np.ndarray:
    """Fraction of the finite ``scores`` strictly above each value of ``grid`` (NaN if there are none)."""
    scores = np.asarray(scores, dtype=float)
    scores = scores[np.isfinite(scores)]
    grid = np.asarray(grid, dtype=float)
    if scores.size == 0:
        return np.full(grid.shape, np.nan)
    return (scores[None, :] > grid[:, None]).mean(axis=1)


BASELINE_CONDITION = "baseline (one sigma, one s)"  # the heterogeneity sweep's homogeneous place cells


def is_baseline(row) -> bool:
    """Whether a heterogeneity-sweep run (a results row) has the paper's homogeneous place cells: one width, one
    surround scale, one field per cell."""
    return (_is_unset(row.get("sigma_range")) and _is_unset(row.get("surround_range"))
            and not float(row.get("fields_lambda") or 0) > 0)


def heterogeneity_condition(row) -> str:
    """Name of a heterogeneity-sweep run's place-cell condition from its config columns."""
    if is_baseline(row):
        return BASELINE_CONDITION
    parts = []
    if not _is_unset(row.get("sigma_range")):
        parts.append("sigma ~ U" + str(tuple(row["sigma_range"])))
    if not _is_unset(row.get("surround_range")):
        parts.append("s ~ U" + str(tuple(row["surround_range"])))
    if float(row.get("fields_lambda") or 0) > 0:
        parts.append(f"multi-field (lambda {float(row['fields_lambda']):g})")
    return ", ".join(parts)


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
