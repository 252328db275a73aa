"""The sensitivity chapter (R3): grid-score threshold percentages per sigma, and the sigma sweep split from the
surround one. Pure functions on the tables of :mod:`gridbook.runs.load` and on arrays; the notebook holds prose,
parameters and calls."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gridbook.paper import (
    SCORE_THRESHOLDS,
    SURROUND_SCALE,
)

__all__ = [
    'split_surround_sweep', 'threshold_percentages',
]


def threshold_percentages(results, thresholds: Sequence[float] = SCORE_THRESHOLDS, by: str = "sigma"):
    """Percentage of units above each score threshold, per value of ``by``: mean, min and max over the runs (seeds).

    ``results`` is a ``load_results`` table (columns ``frac_units_above_<t>``). Returns a DataFrame indexed by ``by``
    with columns ``(threshold, stat)`` for stat in mean, min, max, and ``runs``.
    """
    import pandas as pd

    missing = [t for t in thresholds if f"frac_units_above_{t}" not in results.columns]
    if missing:
        raise ValueError(f"thresholds {missing} have no frac_units_above_<t> column; allowed values: "
                         f"{', '.join(map(str, SCORE_THRESHOLDS))}")
    grouped = results.groupby(by)
    parts = {(t, stat): 100 * getattr(grouped[f"frac_units_above_{t}"], stat)()
             for t in thresholds for stat in ("mean", "min", "max")}
    table = pd.DataFrame(parts)
    table[("runs", "")] = grouped.size()
    return table.sort_index()


def split_surround_sweep(results, surround_scale: float = SURROUND_SCALE):
    """A sensitivity table split in two: the sigma sweep (runs at ``surround_scale``, the paper's s = 2) and the
    surround sweep (every run at the sigma of the runs with another s). Returns ``(sigma_runs, surround_runs)``;
    the second is empty when no run changes s."""
    at_s = np.isclose(results["surround_scale"].astype(float), surround_scale)
    sigma_runs = results.loc[at_s].reset_index(drop=True)
    others = results.loc[~at_s]
    if len(others) == 0:
        return sigma_runs, others.reset_index(drop=True)
    same_sigma = np.isin(results["sigma"].round(4), others["sigma"].round(4).unique())
    return sigma_runs, results.loc[same_sigma].reset_index(drop=True)
