"""Dimensionality and neural predictivity (PAPER.md section 5, result R7).

* :func:`participation_ratio` -- ``(sum lambda)^2 / sum lambda^2`` of the PCA eigenvalues of a population.
* :func:`neural_predictivity` -- Nayebi et al.'s measure: ridge regression from model rate maps to target rate maps
  on random 20% of the spatial bins, Pearson r per target cell on the held-out bins, mean over splits, median over
  cells.
* :func:`simulate_mec_population` -- a **simulated stand-in** for recorded medial entorhinal cortex (no recorded data
  is available to this project): multi-module grid cells plus non-grid spatial cells plus measurement noise.
* :func:`random_feature_maps` -- random smooth rate maps of a chosen dimensionality, the baseline that shows
  predictivity growing with dimensionality alone.

Rate maps are ``(units, ...)`` arrays whose trailing axes are spatial bins (e.g. ``(U, ny, nx)``); NaN marks
unvisited bins. Everything is numpy float64 and seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PredictivityResult", "SimulatedPopulation", "neural_predictivity", "participation_ratio",
           "random_feature_maps", "ridge_fit_predict", "simulate_mec_population"]

from gridbook.analysis.ratemaps import bin_centres, bin_edges
from gridbook.analysis.synthetic import smooth_random_fields
from gridbook.analysis.theory import grid_wavenumber
from gridbook.paper import BIOLOGICAL_MODULE_RATIO, BOX_M, RATEMAP_BINS


# ---- helpers -------------------------------------------------------------------------------------------------------
def _as_units_by_bins(maps: Any, name: str) -> np.ndarray:
    if hasattr(maps, "detach"):  # torch tensor
        maps = maps.detach().cpu().numpy()
    array = np.asarray(maps, dtype=np.float64)
    if array.ndim < 2:
        raise ValueError(f"{name} has shape {array.shape}; allowed values: (units, bins...) with at least 2 axes")
    return array.reshape(array.shape[0], -1)


def _finite_bins(*arrays: np.ndarray) -> np.ndarray:
    keep = np.ones(arrays[0].shape[1], dtype=bool)
    for array in arrays:
        keep &= np.isfinite(array).all(axis=0)
    return keep


# ---- participation ratio -------------------------------------------------------------------------------------------
def participation_ratio(data: Any, units_axis: int = 0) -> float:
    """Participation ratio ``(sum lambda)^2 / sum lambda^2`` of the covariance eigenvalues across units.

    ``data`` is rate maps ``(U, bins...)`` (``units_axis=0``, the default: bins are the samples) or activations
    ``(N, U)`` (``units_axis=1``: time points are the samples). Samples (bins) that are NaN in any unit are dropped;
    each unit is centred over the remaining samples. Computed as ``tr(C)^2 / ||C||_F^2`` on the smaller of the
    unit-by-unit and sample-by-sample Gram matrices (both have the same non-zero eigenvalues). Ranges from 1 (one
    direction) to the number of units (isotropic); NaN if every unit is constant.
    """
    array = np.asarray(data.detach().cpu().numpy() if hasattr(data, "detach") else data, dtype=np.float64)
    if array.ndim < 2:
        raise ValueError(f"data has shape {array.shape}; allowed values: (units, bins...) or (samples, units)")
    if units_axis not in (0, 1, -1):
        raise ValueError(f"units_axis={units_axis!r} is invalid; allowed values: 0 (rate maps), 1 or -1 (activations)")
    if units_axis != 0:
        if array.ndim != 2:
            raise ValueError(f"activations must be (samples, units); got shape {array.shape}")
        array = array.T
    x = array.reshape(array.shape[0], -1)  # (U, B)
    x = x[:, _finite_bins(x)]
    if x.shape[1] < 2:
        raise ValueError(f"data has {x.shape[1]} sample(s) with no NaN in any unit; at least 2 are needed")
    x = x - x.mean(axis=1, keepdims=True)
    gram = x @ x.T if x.shape[0] <= x.shape[1] else x.T @ x  # same non-zero eigenvalues
    total = float(np.trace(gram))
    if total <= 0:
        return float("nan")
    return total**2 / float((gram**2).sum())


# ---- neural predictivity -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PredictivityResult:
    """per_split_r: (n_splits, C) held-out Pearson r per split and target cell (NaN where a cell or its prediction is
    constant on the test bins); per_cell_r: (C,) mean over splits; median: median over cells (NaN cells ignored);
    n_train_bins / n_test_bins: bins per split after dropping NaN bins."""

    per_split_r: np.ndarray
    per_cell_r: np.ndarray
    median: float
    n_train_bins: int
    n_test_bins: int


def _pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denominator = np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=0) / denominator, np.nan)


def ridge_fit_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge regression with an intercept (features and targets centred on the training set), closed form.

    ``W = (X^T X + alpha I)^-1 X^T Y`` on centred data, solved in the primal (features <= samples) or the equivalent
    dual ``X^T (X X^T + alpha I)^-1 Y``. The intercept is not penalised (as in scikit-learn's ``Ridge``).
    Shapes: x_train (n, U), y_train (n, C), x_test (m, U) -> (m, C).
    """
    x_mean, y_mean = x_train.mean(axis=0), y_train.mean(axis=0)
    xc, yc = x_train - x_mean, y_train - y_mean
    n, u = xc.shape
    if u <= n:
        weights = np.linalg.solve(xc.T @ xc + alpha * np.eye(u), xc.T @ yc)  # (U, C)
    else:
        weights = xc.T @ np.linalg.solve(xc @ xc.T + alpha * np.eye(n), yc)  # (U, C)
    return (x_test - x_mean) @ weights + y_mean


def neural_predictivity(model_maps: Any, target_maps: Any, n_splits: int = 10, train_fraction: float = 0.2,
                        alpha: float = 1.0, seed: int = 0) -> PredictivityResult:
    """Nayebi et al.'s neural predictivity of ``target_maps`` (C, bins...) from ``model_maps`` (U, bins...).

    Bins are the samples: bins that are NaN in any model or target map are dropped, then each of ``n_splits`` seeded
    random splits trains ridge regression (``alpha``, intercept) on ``train_fraction`` of the bins and scores the
    Pearson r between predicted and true maps of each target cell on the other bins. Paper: 10 splits, 20% train,
    alpha = 1.
    """
    x_all = _as_units_by_bins(model_maps, "model_maps")
    y_all = _as_units_by_bins(target_maps, "target_maps")
    if x_all.shape[1] != y_all.shape[1]:
        raise ValueError(f"model_maps has {x_all.shape[1]} bins per unit but target_maps has {y_all.shape[1]}; "
                         "both must be rate maps over the same bins")
    if not isinstance(n_splits, int) or n_splits < 1:
        raise ValueError(f"n_splits={n_splits!r} is invalid; allowed values: an integer >= 1")
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction={train_fraction!r} is invalid; allowed values: 0 < fraction < 1")
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha={alpha!r} is invalid; allowed values: a finite number >= 0")
    keep = _finite_bins(x_all, y_all)
    x, y = x_all[:, keep].T, y_all[:, keep].T  # (B, U), (B, C)
    n_bins = x.shape[0]
    n_train = int(round(train_fraction * n_bins))
    if n_train < 2 or n_bins - n_train < 2:
        raise ValueError(f"{n_bins} usable bins give {n_train} training and {n_bins - n_train} test bins; "
                         "at least 2 of each are needed")
    rng = np.random.default_rng(seed)
    per_split = np.empty((n_splits, y.shape[1]))
    for s in range(n_splits):
        order = rng.permutation(n_bins)
        train, test = order[:n_train], order[n_train:]
        prediction = ridge_fit_predict(x[train], y[train], x[test], alpha)  # (m, C)
        per_split[s] = _pearson_columns(prediction, y[test])
    per_cell = per_split.mean(axis=0)
    median = float(np.nanmedian(per_cell)) if np.isfinite(per_cell).any() else float("nan")
    return PredictivityResult(per_split_r=per_split, per_cell_r=per_cell, median=median,
                              n_train_bins=n_train, n_test_bins=n_bins - n_train)


# ---- a simulated MEC population --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimulatedPopulation:
    """Rate maps of a simulated MEC-like population (NOT recorded data).

    maps: (C, n, n) float64 image order (``maps[c, iy, ix]``), no NaN; x_edges, y_edges: (n+1,) m;
    is_grid: (C,) bool; module: (C,) int, -1 for non-grid cells; spacing_m, orientation_rad: (C,), NaN for non-grid.
    """

    maps: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray
    is_grid: np.ndarray
    module: np.ndarray
    spacing_m: np.ndarray
    orientation_rad: np.ndarray


def _bin_grid(n_bins: int, box: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(n_bins, int) or n_bins < 4:
        raise ValueError(f"n_bins={n_bins!r} is invalid; allowed values: an integer >= 4")
    x_edges, y_edges = bin_edges(n_bins, box)  # the rate maps' bins
    xx, yy = np.meshgrid(bin_centres(x_edges), bin_centres(y_edges))  # (n, n) [iy, ix] m
    return xx, yy, x_edges, y_edges


def simulate_mec_population(n_modules: int = 4, cells_per_module: int = 32, spacing0: float = 0.3,
                            ratio: float = BIOLOGICAL_MODULE_RATIO, n_spatial: int = 64, noise: float = 0.1,
                            n_bins: int = RATEMAP_BINS, box: tuple[float, float] = BOX_M, spacing_jitter: float = 0.03,
                            orientation_jitter_deg: float = 3.0, field_sigma: float = 0.12, supersample: int = 4,
                            seed: int = 0) -> SimulatedPopulation:
    """Rate maps of a simulated medial entorhinal population: a stand-in, since no recorded MEC data is available.

    Grid cells: ``n_modules`` modules of ``cells_per_module`` cells; module ``m`` has spacing ``spacing0 *
    ratio^m`` (m; biological ratio ~1.4) and a random orientation; each cell gets a uniform random phase, spacing
    jitter ``x (1 + N(0, spacing_jitter))``, orientation jitter ``N(0, orientation_jitter_deg)`` and a peak rate in
    U(0.5, 1.5). A grid map is the rectified sum of three cosines at 60 degrees (Solstad et al. 2006; the same model
    as RatInABox's ``GridCells``), ``rate = max(0, sum_j cos(k_j . (x - phase)) / 3)`` with ``|k_j| = 4 pi /
    (sqrt(3) spacing)``, averaged over ``supersample`` x ``supersample`` points spread evenly within each bin, as a
    network's rate map averages its activity over the positions that fall in a bin (1: the bin centre alone, which
    aliases periods near twice the bin size).
    Non-grid spatial cells: ``n_spatial`` rectified, Gaussian-smoothed random fields (smoothing ``field_sigma`` m),
    irregular multi-peaked maps with peak rates in U(0.5, 1.5).
    Measurement noise: independent Gaussian noise per bin with standard deviation ``noise`` times each cell's peak rate.
    The grid cells are written here rather than taken from RatInABox because their rate maps are closed-form at the
    bins and the library would add two dependencies (ratinabox, shapely) for a few lines.
    """
    for name, value in (("n_modules", n_modules), ("cells_per_module", cells_per_module), ("n_spatial", n_spatial)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name}={value!r} is invalid; allowed values: an integer >= 0")
    if not isinstance(supersample, int) or supersample < 1:
        raise ValueError(f"supersample={supersample!r} is invalid; allowed values: an integer >= 1")
    if n_modules * cells_per_module + n_spatial == 0:
        raise ValueError("the population is empty; allowed values: n_modules * cells_per_module + n_spatial >= 1")
    for name, value in (("spacing0", spacing0), ("ratio", ratio), ("field_sigma", field_sigma)):
        if not value > 0:
            raise ValueError(f"{name}={value!r} is invalid; allowed values: > 0")
    for name, value in (("noise", noise), ("spacing_jitter", spacing_jitter),
                        ("orientation_jitter_deg", orientation_jitter_deg)):
        if not value >= 0:
            raise ValueError(f"{name}={value!r} is invalid; allowed values: >= 0")
    xx, yy, x_edges, y_edges = _bin_grid(n_bins, box)
    rng = np.random.default_rng(seed)
    n_grid = n_modules * cells_per_module
    module = np.repeat(np.arange(n_modules), cells_per_module)  # (G,)
    module_orientation = rng.uniform(0, math.pi / 3, n_modules)
    spacing = spacing0 * ratio**module * (1 + spacing_jitter * rng.standard_normal(n_grid))  # (G,) m
    orientation = module_orientation[module] + np.deg2rad(orientation_jitter_deg) * rng.standard_normal(n_grid)
    phase = rng.uniform(-0.5, 0.5, (n_grid, 2)) * np.array(box, dtype=float)  # (G, 2) m
    wavenumber = grid_wavenumber(spacing)  # (G,) rad/m
    angles = orientation[:, None] + np.array([0.0, math.pi / 3, 2 * math.pi / 3])  # (G, 3)
    kx, ky = wavenumber[:, None] * np.cos(angles), wavenumber[:, None] * np.sin(angles)  # (G, 3)
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5  # (q,) in bins, around each centre
    ys = (yy[:, 0][:, None] + offsets * (y_edges[1] - y_edges[0])).ravel()  # (n q,) m
    xs = (xx[0][:, None] + offsets * (x_edges[1] - x_edges[0])).ravel()  # (n q,) m
    fine_x, fine_y = np.meshgrid(xs, ys)  # (n q, n q) [iy, ix] m
    dx = fine_x[None] - phase[:, 0, None, None]  # (G, n q, n q) m
    dy = fine_y[None] - phase[:, 1, None, None]
    fine = np.zeros((n_grid, *fine_x.shape))
    for j in range(3):  # one cosine at a time: (G, n q, n q) each
        fine += np.cos(kx[:, j, None, None] * dx + ky[:, j, None, None] * dy)
    fine = np.maximum(fine / 3, 0.0)  # (G, n q, n q), peak 1
    grid_maps = fine.reshape(n_grid, n_bins, supersample, n_bins, supersample).mean(axis=(2, 4))  # (G, n, n)
    sigma_bins = field_sigma / (float(box[0]) / n_bins)
    spatial_maps = np.maximum(smooth_random_fields(rng, n_spatial, n_bins, sigma_bins), 0.0)  # (S, n, n)
    spatial_maps /= np.maximum(spatial_maps.max(axis=(1, 2), keepdims=True), 1e-12)
    maps = np.concatenate([grid_maps, spatial_maps]) * rng.uniform(0.5, 1.5, (n_grid + n_spatial, 1, 1))
    peak = maps.max(axis=(1, 2), keepdims=True)
    maps = maps + noise * peak * rng.standard_normal(maps.shape)
    nan = np.full(n_spatial, np.nan)
    return SimulatedPopulation(
        maps=maps, x_edges=x_edges, y_edges=y_edges,
        is_grid=np.concatenate([np.ones(n_grid, bool), np.zeros(n_spatial, bool)]),
        module=np.concatenate([module, np.full(n_spatial, -1)]),
        spacing_m=np.concatenate([spacing, nan]), orientation_rad=np.concatenate([orientation, nan]))


def random_feature_maps(n_features: int, dims: int, n_bins: int = RATEMAP_BINS, box: tuple[float, float] = BOX_M,
                        field_sigma: float = 0.08, seed: int = 0) -> np.ndarray:
    """Random rate maps (n_features, n, n) that span exactly ``dims`` dimensions.

    ``dims`` smooth random fields (Gaussian-smoothed white noise, smoothing ``field_sigma`` m) are orthonormalised
    over bins (zero mean, equal variance); each feature is a random Gaussian combination of them, scaled to unit
    standard deviation over bins. The population's covariance has rank ``dims`` and its participation ratio approaches
    ``dims`` as ``n_features`` grows (a Wishart spectrum: about ``dims * n / (n + dims)``).
    """
    if not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"n_features={n_features!r} is invalid; allowed values: an integer >= 1")
    if not isinstance(dims, int) or not 1 <= dims < n_bins * n_bins:
        raise ValueError(f"dims={dims!r} is invalid; allowed values: an integer in 1 .. n_bins^2 - 1")
    if not field_sigma > 0:
        raise ValueError(f"field_sigma={field_sigma!r} is invalid; allowed values: > 0 (m)")
    _bin_grid(n_bins, box)  # validates
    rng = np.random.default_rng(seed)
    fields = smooth_random_fields(rng, dims, n_bins, field_sigma / (float(box[0]) / n_bins)).reshape(dims, -1)  # (D, B)
    basis, _ = np.linalg.qr(fields.T)  # (B, D) orthonormal, each column zero mean (inputs were centred)
    features = rng.standard_normal((n_features, dims)) @ basis.T  # (F, B)
    features /= features.std(axis=1, keepdims=True)
    return features.reshape(n_features, n_bins, n_bins)
