"""Grid scores (DeepMind convention), grid period and orientation, and modes of a period distribution.

Grid score, as DeepMind's ``GridScorer`` (grid-cells/scores.py, Banino et al. 2018) computes it for an n x n map:
1. the spatial autocorrelogram (SAC, (2n-1) x (2n-1), :mod:`gridbook.analysis.sac`);
2. ten ring masks on the SAC, in bins from its centre: 0.2 n < d <= r n with r in linspace(0.4, 1.0, 10);
3. the SAC rotated by 30, 45, 60, 90, 120, 135 and 150 degrees exactly as ``scipy.ndimage.rotate(sac, angle,
   reshape=False)`` does (cubic B-spline, order 3, with its prefilter; mode "constant", cval 0);
4. inside each ring, the SAC and each rotated copy are centred by the unrotated SAC's ring mean, and
   c_a = mean_ring(sac_c * rot_c) / (mean_ring(sac_c^2) + 1e-5);
5. score60 = mean(c60, c120) - mean(c30, c90, c150) (DeepMind's default, "mean") or
   min(c60, c120) - max(c30, c90, c150) (the paper's, "min_max"); score90 = c90 - mean(c45, c135);
6. each score is the maximum over the rings; the index of the best ring is kept.

Batched route: spline rotation is linear in the SAC. Its prefilter is separable, a dense (2n-1) x (2n-1) matrix per
axis; the interpolation after it is a sparse matrix (16 weights per output bin) recovered exactly, once per map size
and angle, by rotating comb images of isolated pixels (``prefilter=False``) and attributing each output to the one
pixel of the comb inside its support. Only SAC bins inside the largest ring are kept. Scoring U units is then two
dense matmuls, one sparse matmul and a few ring sums, in torch on any device. Equal to the per-unit scipy route to
~1e-12 (tests/reference_scores.py; tests/test_scores.py checks it).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp
import scipy.stats
import torch
from scipy import special

from gridbook.analysis.sac import as_map_tensor, sac_tensor, spatial_autocorrelogram

__all__ = [
    "ANGLES",
    "INNER_RADIUS",
    "OUTER_RADII",
    "GridProperties",
    "GridScores",
    "grid_properties",
    "grid_scores",
    "grid_scores_from_sacs",
    "mode_ratios",
    "period_modes",
    "ring_masks",
    "spatial_autocorrelogram",
]

ANGLES = (30, 45, 60, 90, 120, 135, 150)  # degrees, DeepMind's corr_angles
INNER_RADIUS = 0.2  # ring inner radius, fraction of n (bins per side of the map)
OUTER_RADII = tuple(np.linspace(0.4, 1.0, num=10).tolist())  # ring outer radii, fractions of n
SCORE_FORMS = ("min_max", "mean")
_COMB_SPACING = 8  # > twice the cubic spline's support radius (2 bins) plus mirror reflection at the border
_UNITS_PER_CHUNK = 64


@dataclass(frozen=True)
class GridScores:
    """Grid scores of U units, each the maximum over the ten rings; best_ring_* are ring indices (0..9)."""

    score60_mean: np.ndarray  # (U,) DeepMind's default form
    score60_min_max: np.ndarray  # (U,) the paper's form
    score90: np.ndarray  # (U,) square-lattice score
    best_ring_mean: np.ndarray  # (U,) int
    best_ring_min_max: np.ndarray  # (U,) int
    best_ring_90: np.ndarray  # (U,) int

    def score60(self, form: str = "min_max") -> np.ndarray:
        """The hexagonal score in the named form: "min_max" (paper) or "mean" (DeepMind default)."""
        if form not in SCORE_FORMS:
            raise ValueError(f"form={form!r} is invalid; allowed values: {', '.join(SCORE_FORMS)}")
        return self.score60_min_max if form == "min_max" else self.score60_mean

    def best_ring(self, form: str = "min_max") -> np.ndarray:
        """Index of the ring giving score60 in the named form."""
        self.score60(form)
        return self.best_ring_min_max if form == "min_max" else self.best_ring_mean


@dataclass(frozen=True)
class GridProperties:
    """Grid geometry from the six SAC peaks nearest the centre; NaN where fewer than six peaks were found."""

    period_bins: np.ndarray  # (U,) mean distance of the six peaks from the SAC centre, bins
    period_m: np.ndarray  # (U,) the same in metres
    orientation_deg: np.ndarray  # (U,) circular mean of the peak angles modulo 60, in [0, 60)
    period_spread_bins: np.ndarray  # (U,) std of the six distances, bins
    orientation_spread_deg: np.ndarray  # (U,) std of the peak angles about the orientation (mod 60), degrees


# ---- ring masks and the rotation operator ----------------------------------------------------------------------
def ring_masks(n: int) -> np.ndarray:
    """(10, 2n-1, 2n-1) bool ring masks on the SAC of an n x n map: INNER_RADIUS n < d <= OUTER_RADII[k] n.

    d is the distance in bins from the SAC centre, computed in the same floating-point steps as DeepMind's
    ``circle_mask`` so that bins exactly on a radius fall on the same side.
    """
    size = 2 * n - 1
    offsets = np.linspace(-(n - 1), n - 1, size)
    distance = np.sqrt(offsets[None, :] ** 2 + offsets[:, None] ** 2)  # (2n-1, 2n-1) bins
    inner = distance <= INNER_RADIUS * n
    return np.stack([(distance <= outer * n) & ~inner for outer in OUTER_RADII])


def _rotation_source(size: int, angle: float, rows: np.ndarray) -> np.ndarray:
    """(2, R) input coordinates that scipy.ndimage.rotate(reshape=False) samples for the output bins ``rows``."""
    c, s = special.cosdg(angle), special.sindg(angle)
    matrix = np.array([[c, s], [-s, c]])
    centre = np.full(2, (size - 1) / 2)
    offset = centre - matrix @ centre
    out = np.stack(np.divmod(rows, size)).astype(np.float64)  # (2, R) (row, col)
    return matrix @ out + offset[:, None]


def _interpolation_operator(size: int, angle: float, rows: np.ndarray) -> sp.csr_matrix:
    """Sparse (R, size^2) map from prefiltered spline coefficients to the rotated image at the output bins ``rows``."""
    source = np.clip(_rotation_source(size, angle, rows), 0, size - 1)  # (2, R)
    k = _COMB_SPACING
    out_idx, in_idx, weights = [], [], []
    for a in range(min(k, size)):
        last_a = a + k * ((size - 1 - a) // k)
        near_row = np.clip(a + k * np.round((source[0] - a) / k), a, last_a).astype(np.int64)
        for b in range(min(k, size)):
            last_b = b + k * ((size - 1 - b) // k)
            near_col = np.clip(b + k * np.round((source[1] - b) / k), b, last_b).astype(np.int64)
            comb = np.zeros((size, size))
            comb[a::k, b::k] = 1.0
            response = ndi.rotate(comb, angle, reshape=False, order=3, prefilter=False).ravel()[rows]
            hit = response != 0
            out_idx.append(np.nonzero(hit)[0])
            in_idx.append(near_row[hit] * size + near_col[hit])
            weights.append(response[hit])
    coo = sp.coo_matrix(
        (np.concatenate(weights), (np.concatenate(out_idx), np.concatenate(in_idx))), shape=(rows.size, size**2)
    )
    return coo.tocsr()


@functools.lru_cache(maxsize=16)
def _scoring_operators(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix]:
    """For n x n maps: ring bins (R,), ring masks (10, R), prefilter (2n-1, 2n-1), rotation (R * 7, (2n-1)^2).

    Row r * 7 + k of the rotation operator gives ring bin rows[r] of the SAC rotated by ANGLES[k].
    """
    size = 2 * n - 1
    masks = ring_masks(n).reshape(len(OUTER_RADII), -1)
    rows = np.nonzero(masks.any(axis=0))[0]
    prefilter = ndi.spline_filter1d(np.eye(size), order=3, axis=0, mode="constant", output=np.float64)
    by_angle = sp.vstack([_interpolation_operator(size, angle, rows) for angle in ANGLES]).tocsr()
    interleave = (np.arange(len(ANGLES))[None, :] * rows.size + np.arange(rows.size)[:, None]).ravel()
    return rows, masks[:, rows].astype(np.float64), prefilter, by_angle[interleave]


@functools.lru_cache(maxsize=8)
def _torch_operators(n: int, device: str) -> tuple:
    """The scoring operators as tensors on ``device``; the rotation stays a scipy matrix on the CPU (faster there)."""
    rows, masks, prefilter, rotation = _scoring_operators(n)
    if torch.device(device).type != "cpu":
        coo = rotation.tocoo()
        index = torch.as_tensor(np.stack([coo.row, coo.col]))
        with torch.sparse.check_sparse_tensor_invariants(False), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            rotation = torch.sparse_coo_tensor(index, coo.data, coo.shape).coalesce().to_sparse_csr().to(device)
    as_tensor = functools.partial(torch.as_tensor, device=device)
    return as_tensor(rows), as_tensor(masks), as_tensor(prefilter), rotation


# ---- grid scores ---------------------------------------------------------------------------------------------
def grid_scores(maps, device=None, min_overlap: int = 2) -> GridScores:
    """Grid scores of (U, n, n) rate maps (NaN = unvisited), batched over units; torch on ``device``.

    min_overlap: see :func:`gridbook.analysis.sac.spatial_autocorrelogram` (the default 2 reproduces DeepMind's scorer).
    """
    tensor = as_map_tensor(maps, device)
    if tensor.shape[1] != tensor.shape[2] or tensor.shape[1] < 4:
        raise ValueError(f"maps must be square (units, n, n) with n >= 4 for grid scores, got {tuple(tensor.shape)}")
    return grid_scores_from_sacs(sac_tensor(tensor, min_overlap=min_overlap), device=tensor.device)


def grid_scores_from_sacs(sacs, device=None) -> GridScores:
    """Grid scores from precomputed SACs (U, 2n-1, 2n-1) (no NaN: undefined lags must already be 0)."""
    sacs = as_map_tensor(sacs, device, name="sacs")
    units, size, width = sacs.shape
    if size != width or size % 2 == 0 or size < 7:
        raise ValueError(f"sacs must have shape (units, 2n-1, 2n-1) with n >= 4, got {tuple(sacs.shape)}")
    if not torch.isfinite(sacs).all():
        raise ValueError("sacs contain NaN or infinite values; set undefined lags to 0 as spatial_autocorrelogram does")
    n = (size + 1) // 2
    rows, masks, prefilter, rotation = _torch_operators(n, str(sacs.device))
    n_rings, n_angles, n_ring_bins = masks.shape[0], len(ANGLES), rows.numel()
    area = masks.sum(dim=1)[:, None, None]  # (10, 1, 1) bins per ring
    corr = torch.empty(n_rings, n_angles, units, dtype=torch.float64, device=sacs.device)  # c_a per ring and unit
    for start in range(0, units, _UNITS_PER_CHUNK):
        block = sacs[start : start + _UNITS_PER_CHUNK]  # (Uc, S, S)
        chunk = block.shape[0]
        coefficients = (prefilter @ block @ prefilter.T).reshape(chunk, -1).T.contiguous()  # (S*S, Uc) spline coeffs
        if isinstance(rotation, sp.spmatrix | sp.sparray):
            rotated = torch.from_numpy(rotation @ coefficients.numpy())  # (R*7, Uc)
        else:
            rotated = rotation @ coefficients
        rotated = rotated.reshape(n_ring_bins, n_angles * chunk)  # (R, 7*Uc)
        sac = block.reshape(chunk, -1)[:, rows].T  # (R, Uc)
        mean = (masks @ sac / area[:, 0])[:, None, :]  # (10, 1, Uc) ring mean of the unrotated SAC
        variance = (masks @ sac.square())[:, None, :] / area - mean.square() + 1e-5  # (10, 1, Uc)
        ring_sac = (masks @ sac)[:, None, :]  # (10, 1, Uc)
        ring_rot = (masks @ rotated).reshape(n_rings, n_angles, chunk)  # (10, 7, Uc)
        product = (sac[:, None, :] * rotated.reshape(n_ring_bins, n_angles, chunk)).reshape(n_ring_bins, -1)
        ring_product = (masks @ product).reshape(n_rings, n_angles, chunk)  # (10, 7, Uc)
        cross = (ring_product - mean * ring_rot - mean * ring_sac) / area + mean.square()  # (10, 7, Uc)
        corr[:, :, start : start + chunk] = cross / variance
    c = dict(zip(ANGLES, corr.cpu().numpy().transpose(1, 0, 2), strict=True))  # angle -> (10, U)
    s60_mean = (c[60] + c[120]) / 2 - (c[30] + c[90] + c[150]) / 3  # (10, U)
    s60_min_max = np.minimum(c[60], c[120]) - np.maximum(c[30], np.maximum(c[90], c[150]))
    s90 = c[90] - (c[45] + c[135]) / 2
    best = [np.argmax(s, axis=0) for s in (s60_mean, s60_min_max, s90)]
    pick = [np.take_along_axis(s, b[None], axis=0)[0] for s, b in zip((s60_mean, s60_min_max, s90), best, strict=True)]
    return GridScores(pick[0], pick[1], pick[2], best[0], best[1], best[2])


# ---- grid period and orientation -----------------------------------------------------------------------------
def _refine(values: np.ndarray) -> np.ndarray:
    """Sub-bin offset of a peak from three samples (left, centre, right) by a parabola, clipped to +-0.5."""
    left, centre, right = values
    curvature = left - 2 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    return np.clip(offset, -0.5, 0.5)


def grid_properties(maps, bin_size_m: float, sacs=None, device=None) -> GridProperties:
    """Grid period, orientation and their spreads from the six SAC peaks nearest the centre, for every unit.

    Peaks are the SAC's strict local maxima over their 3 x 3 neighbourhood with positive correlation, excluding the
    central peak and the SAC border, refined to sub-bin position by a parabola through each axis' neighbours.
    period = mean distance of the six nearest peaks (bins, and metres via ``bin_size_m``); orientation = circular mean
    of their angles modulo 60 degrees, in [0, 60), angles counter-clockwise from the +x (column) axis with y along
    rows (``imshow(origin="lower")``). Spreads are the standard deviations of the six distances and of the angles'
    residuals about the orientation. Every value is NaN for a unit with fewer than six peaks. Pass ``sacs`` to reuse
    spatial_autocorrelogram's output. Score units first (the paper: score > 0.3); noise maps have peaks too.
    """
    if not (isinstance(bin_size_m, (int, float, np.floating)) and bin_size_m > 0 and math.isfinite(bin_size_m)):
        raise ValueError(f"bin_size_m={bin_size_m!r} is invalid; allowed values: a bin width in metres > 0")
    sacs = spatial_autocorrelogram(maps, device=device) if sacs is None else np.asarray(sacs, dtype=np.float64)
    if sacs.ndim != 3 or sacs.shape[1] != sacs.shape[2] or sacs.shape[1] % 2 == 0:
        raise ValueError(f"sacs must have shape (units, 2n-1, 2n-1), got {sacs.shape}")
    units, size = sacs.shape[0], sacs.shape[1]
    centre = (size - 1) // 2
    is_peak = (sacs == ndi.maximum_filter(sacs, size=(1, 3, 3), mode="constant", cval=-np.inf)) & (sacs > 0)
    is_peak[:, centre, centre] = False
    is_peak[:, [0, -1], :] = False
    is_peak[:, :, [0, -1]] = False
    unit, row, col = np.nonzero(is_peak)
    # strictness: a plateau (equal neighbour) is not a peak
    strict = np.ones(unit.size, dtype=bool)
    for dr, dc in ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)):
        strict &= sacs[unit, row + dr, col + dc] < sacs[unit, row, col]
    unit, row, col = unit[strict], row[strict], col[strict]
    dy = row - centre + _refine(np.stack([sacs[unit, row - 1, col], sacs[unit, row, col], sacs[unit, row + 1, col]]))
    dx = col - centre + _refine(np.stack([sacs[unit, row, col - 1], sacs[unit, row, col], sacs[unit, row, col + 1]]))
    distance = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(dy, dx))

    out = {name: np.full(units, np.nan) for name in ("period", "orientation", "period_spread", "orientation_spread")}
    order = np.lexsort((distance, unit))  # by unit, then by distance
    starts = np.searchsorted(unit[order], np.arange(units))
    stops = np.searchsorted(unit[order], np.arange(units), side="right")
    for u in np.nonzero(stops - starts >= 6)[0]:
        nearest = order[starts[u] : starts[u] + 6]
        d, theta = distance[nearest], angle[nearest]
        phase = np.angle(np.mean(np.exp(1j * np.radians(6 * theta))))  # circular mean of 6 theta
        orientation = np.degrees(phase) / 6 % 60
        residual = (theta - orientation + 30) % 60 - 30
        out["period"][u], out["period_spread"][u] = d.mean(), d.std()
        out["orientation"][u], out["orientation_spread"][u] = orientation, residual.std()
    return GridProperties(
        period_bins=out["period"],
        period_m=out["period"] * float(bin_size_m),
        orientation_deg=out["orientation"],
        period_spread_bins=out["period_spread"],
        orientation_spread_deg=out["orientation_spread"],
    )


# ---- period distributions ------------------------------------------------------------------------------------
def period_modes(periods, bandwidth=None, grid_points: int = 2048, min_density: float = 0.05) -> np.ndarray:
    """Modes (ascending) of the Gaussian kernel density of ``periods`` (NaN ignored).

    bandwidth: scipy.stats.gaussian_kde's ``bw_method`` (None = Scott's rule, a float = factor, or a callable).
    Modes are local maxima of the density on ``grid_points`` points spanning the data +- 3 kernel widths; maxima
    below ``min_density`` times the highest are dropped as ripples.
    """
    values = np.asarray(periods, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size < 2 or np.ptp(values) == 0:
        raise ValueError(f"periods must hold at least 2 distinct finite values, got {values.size} finite values")
    if grid_points < 3:
        raise ValueError(f"grid_points={grid_points!r} is invalid; allowed values: >= 3")
    kde = scipy.stats.gaussian_kde(values, bw_method=bandwidth)
    width = 3 * math.sqrt(float(kde.covariance[0, 0]))
    grid = np.linspace(values.min() - width, values.max() + width, grid_points)
    density = kde(grid)
    inner = density[1:-1]
    is_mode = (inner > density[:-2]) & (inner >= density[2:]) & (inner >= min_density * density.max())
    return grid[1:-1][is_mode]


def mode_ratios(modes) -> np.ndarray:
    """Ratios of consecutive modes, modes[k + 1] / modes[k] (the grid-module scale ratios; ~1.4 in rodents)."""
    modes = np.sort(np.asarray(modes, dtype=np.float64).ravel())
    if modes.size and not (modes > 0).all():
        raise ValueError("modes must be positive (periods) to take their ratios")
    return modes[1:] / modes[:-1]


# ---- per-run summaries of the per-unit table (the run store's results columns) ----------------------------------
SCORE_THRESHOLDS = (0.3, 0.8, 1.2)  # the paper's thresholds on the min-max score60
PERIOD_SCORE_THRESHOLD = 0.3  # periods are measured on units scoring above this (PAPER.md section 5)


def period_mode(periods: np.ndarray) -> float:
    """The most common grid period (m): the peak of a Gaussian kernel density of the finite periods (NaN if none)."""
    periods = np.asarray(periods, dtype=float)
    periods = periods[np.isfinite(periods)]
    if periods.size == 0:
        return float("nan")
    if periods.size < 3 or np.ptp(periods) == 0:
        return float(np.median(periods))
    grid = np.linspace(periods.min(), periods.max(), 512)
    return float(grid[np.argmax(scipy.stats.gaussian_kde(periods)(grid))])


def summarize_units(units: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The per-run summary columns of :func:`gridbook.runs.store.load_results` from a per-unit table."""
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
    summary["period_mode_m"] = period_mode(np.asarray(units["period_m"], dtype=float)[scored])
    return summary
