"""The modules chapter (R4): grid units' periods per sigma, their table and modes, and theory's periods. Pure functions
on the tables of :mod:`gridbook.runs.load` and on arrays; the notebook holds prose, parameters and calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gridbook.analysis.periods import main_period_mode, period_modes
from gridbook.analysis.theory import (
    optimal_wavenumber,
    place_cell_covariance,
    place_cell_peak_wavenumber,
    predicted_grid_period,
)
from gridbook.paper import (
    PERIOD_SCORE_THRESHOLD,
    RATEMAP_BINS,
)
from gridbook.task.targets import make_target, surround_sigma

__all__ = [
    'grid_unit_periods', 'period_table', 'periods_by', 'theory_periods',
]


def grid_unit_periods(units, results, score_threshold: float = PERIOD_SCORE_THRESHOLD, by: str = "sigma"):
    """The grid-like units (``score60_min_max > score_threshold`` and a finite period) with ``by`` and ``seed``
    joined from ``results``."""
    merged = units.merge(results[["run_id", by, "seed"]], on="run_id")
    keep = (merged["score60_min_max"] > score_threshold) & np.isfinite(merged["period_m"].astype(float))
    return merged.loc[keep].reset_index(drop=True)


def period_table(grid_units, by: str = "sigma"):
    """Per value of ``by``: number of grid-like units, their kernel-density modes (m), the main mode
    (:func:`gridbook.analysis.periods.main_period_mode`) and the number of modes."""
    import pandas as pd

    rows = []
    for value, group in grid_units.groupby(by):
        periods = group["period_m"].to_numpy(dtype=float)
        modes = period_modes(periods)
        rows.append({by: value, "grid units": len(group), "modes (m)": tuple(np.round(modes, 3)),
                     "n modes": int(modes.size), "main mode (m)": main_period_mode(periods)})
    return pd.DataFrame(rows, columns=[by, "grid units", "modes (m)", "n modes", "main mode (m)"]).set_index(by)


def theory_periods(config, sigmas: Sequence[float], seed: int = 0, n_grid: int = RATEMAP_BINS):
    """Predicted grid period (m) at each sigma: from the peak of the Fourier power of the target's own place-cell
    correlation (Sorscher et al.'s theory, exact for the encoder trained on) and from the closed-form DoG k* (2-D),
    with the other fields of ``config`` (a RunConfig) kept. Returns a DataFrame indexed by sigma."""
    import pandas as pd

    rows = []
    for sigma in sigmas:
        cfg = config.replace(sigma=float(sigma))
        encoder = make_target(cfg.target, cfg.task, torch.Generator().manual_seed(seed))
        box = (cfg.task.box_width, cfg.task.box_height)
        k_code = place_cell_peak_wavenumber(place_cell_covariance(encoder, n_grid=n_grid, box=box))
        sigma_s = surround_sigma(float(sigma), cfg.target.surround_scale, cfg.target.surround_convention)
        k_dog = float(optimal_wavenumber(1.0, 1.0, sigma, sigma_s, dim=2))
        rows.append({"sigma": float(sigma), "k place code (rad/m)": k_code,
                     "period place code (m)": float(predicted_grid_period(k_code)) if k_code > 0 else float("nan"),
                     "k* closed form (rad/m)": k_dog, "period closed form (m)": float(predicted_grid_period(k_dog))})
    return pd.DataFrame(rows).set_index("sigma")


def periods_by(grid_units, by: str = "sigma") -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    """Per value of ``by``: the periods (m) of its grid-like units and their kernel-density modes
    (:func:`gridbook.analysis.periods.period_modes`)."""
    groups = {}
    for value, group in grid_units.groupby(by):
        periods = group["period_m"].to_numpy(dtype=float)
        groups[value] = (periods, period_modes(periods))
    return groups
