"""Grid scores (DeepMind convention), batched over units. Periods and orientations: :mod:`gridbook.analysis.periods`.

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
~1e-12 (tests/analysis/reference_scores.py; tests/analysis/test_scores.py checks it).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp
import torch
from scipy import special

from gridbook.analysis.sac import as_map_tensor, sac_tensor, spatial_autocorrelogram
from gridbook.nets.devices import flush_denormals
from gridbook.paper import SCORE_FORMS

__all__ = [
    "ANGLES",
    "HEXAGONAL_ANGLES",
    "INNER_RADIUS",
    "OUTER_RADII",
    "GridScores",
    "grid_scores",
    "grid_scores_from_sacs",
    "ring_masks",
    "rotate_sac",
    "spatial_autocorrelogram",
]

ANGLES = (30, 45, 60, 90, 120, 135, 150)  # degrees, DeepMind's corr_angles
HEXAGONAL_ANGLES = (30, 60, 90, 120, 150)  # the angles score60 uses (score90 adds 45 and 135)
INNER_RADIUS = 0.2  # ring inner radius, fraction of n (bins per side of the map)
OUTER_RADII = tuple(np.linspace(0.4, 1.0, num=10).tolist())  # ring outer radii, fractions of n
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


def rotate_sac(sac, angle_deg: float) -> np.ndarray:
    """An autocorrelogram (2n-1, 2n-1) rotated by ``angle_deg`` about its centre exactly as the grid score rotates it:
    ``scipy.ndimage.rotate(sac, angle, reshape=False)`` (cubic spline with its prefilter, zeros outside)."""
    return ndi.rotate(np.asarray(sac, dtype=np.float64), angle_deg, reshape=False, order=3)


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
    """For n x n maps: ring bins (R,), ring masks (10, R), prefilter (2n-1, 2n-1), rotation (7 * R, (2n-1)^2).

    Row k * R + r of the rotation operator gives ring bin rows[r] of the SAC rotated by ANGLES[k] (angle-major: each
    angle's rows are one block).
    """
    size = 2 * n - 1
    masks = ring_masks(n).reshape(len(OUTER_RADII), -1)
    rows = np.nonzero(masks.any(axis=0))[0]
    prefilter = ndi.spline_filter1d(np.eye(size), order=3, axis=0, mode="constant", output=np.float64)
    rotation = sp.vstack([_interpolation_operator(size, angle, rows) for angle in ANGLES]).tocsr()
    return rows, masks[:, rows].astype(np.float64), prefilter, rotation


@functools.lru_cache(maxsize=8)
def _torch_operators(n: int, device: str, dtype: torch.dtype = torch.float64, angles: tuple = ANGLES) -> tuple:
    """The scoring operators as ``dtype`` tensors on ``device``, the rotation's rows for ``angles`` only; the rotation
    stays a scipy matrix on the CPU (faster there)."""
    rows, masks, prefilter, rotation = _scoring_operators(n)
    if angles != ANGLES:
        blocks = [np.arange(rows.size) + ANGLES.index(angle) * rows.size for angle in angles]
        rotation = rotation[np.concatenate(blocks)]
    rotation = rotation.astype(np.float32) if dtype == torch.float32 else rotation
    if torch.device(device).type != "cpu":
        coo = rotation.tocoo()
        index = torch.as_tensor(np.stack([coo.row, coo.col]))
        with torch.sparse.check_sparse_tensor_invariants(False), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            rotation = torch.sparse_coo_tensor(index, coo.data, coo.shape).coalesce().to_sparse_csr().to(device)
    as_tensor = functools.partial(torch.as_tensor, device=device)
    masks, prefilter = as_tensor(masks, dtype=dtype), as_tensor(prefilter, dtype=dtype)
    # the prefilter's far entries decay as 0.27^k; below the dtype's normal range they would be denormal (and make
    # every product ~10x slower): they are zero to the dtype's precision anyway
    prefilter = torch.where(prefilter.abs() < torch.finfo(dtype).tiny, 0.0, prefilter)
    return as_tensor(rows), masks, prefilter, rotation


# ---- grid scores ---------------------------------------------------------------------------------------------
def grid_scores(maps, device=None, min_overlap: int = 2, dtype: torch.dtype = torch.float64,
                score90: bool = True) -> GridScores:
    """Grid scores of (U, n, n) rate maps (NaN = unvisited), batched over units; torch on ``device``.

    min_overlap: see :func:`gridbook.analysis.sac.spatial_autocorrelogram` (the default 2 reproduces DeepMind's scorer).
    dtype: float64 (default), or float32 for bulk scoring such as shuffle nulls (2-3x faster on the CPU; scores
    agree with float64 to ~1e-5, tests/analysis/test_scores.py). score90: False skips the 45 and 135 degree rotations
    that only the square score needs (the shuffle null scores score60 alone); score90 is then NaN and best_ring_90 -1.
    """
    tensor = as_map_tensor(maps, device, dtype=dtype)
    if tensor.shape[1] != tensor.shape[2] or tensor.shape[1] < 4:
        raise ValueError(f"maps must be square (units, n, n) with n >= 4 for grid scores, got {tuple(tensor.shape)}")
    with flush_denormals():  # near-zero correlations and spline weights would otherwise slow every product
        return grid_scores_from_sacs(sac_tensor(tensor, min_overlap=min_overlap, dtype=dtype), device=tensor.device,
                                     dtype=dtype, score90=score90)


def grid_scores_from_sacs(sacs, device=None, dtype: torch.dtype = torch.float64, score90: bool = True) -> GridScores:
    """Grid scores from precomputed SACs (U, 2n-1, 2n-1) (no NaN: undefined lags must already be 0), computed in
    ``dtype`` (see :func:`grid_scores`, also for ``score90``)."""
    sacs = as_map_tensor(sacs, device, name="sacs", dtype=dtype)
    units, size, width = sacs.shape
    if size != width or size % 2 == 0 or size < 7:
        raise ValueError(f"sacs must have shape (units, 2n-1, 2n-1) with n >= 4, got {tuple(sacs.shape)}")
    if not torch.isfinite(sacs).all():
        raise ValueError("sacs contain NaN or infinite values; set undefined lags to 0 as spatial_autocorrelogram does")
    n = (size + 1) // 2
    angles = ANGLES if score90 else HEXAGONAL_ANGLES
    rows, masks, prefilter, rotation = _torch_operators(n, str(sacs.device), dtype, angles)
    n_rings, n_angles, n_ring_bins = masks.shape[0], len(angles), rows.numel()
    area = masks.sum(dim=1)[:, None]  # (10, 1) bins per ring
    corr = torch.empty(n_angles, n_rings, units, dtype=dtype, device=sacs.device)  # c_a per angle, ring and unit
    step = _UNITS_PER_CHUNK if sacs.device.type == "cpu" else 64 * _UNITS_PER_CHUNK  # cache-sized blocks on a CPU
    for start in range(0, units, step):
        block = sacs[start : start + step]  # (Uc, S, S)
        chunk = block.shape[0]
        # spline coefficients P X P^T of each SAC X, laid out (S, S, Uc): two single products and one transposition
        right = (block.reshape(chunk * size, size) @ prefilter.T).reshape(chunk, size, size)  # (Uc, S, S): X P^T
        coefficients = (prefilter @ right.permute(1, 2, 0).reshape(size, size * chunk)).reshape(size * size, chunk)
        if isinstance(rotation, sp.spmatrix | sp.sparray):
            rotated = torch.from_numpy(rotation @ coefficients.numpy())  # (A*R, Uc), angle-major
        else:
            rotated = rotation @ coefficients
        rotated = rotated.reshape(n_angles, n_ring_bins, chunk)  # (A, R, Uc)
        sac = block.reshape(chunk, -1)[:, rows].T.contiguous()  # (R, Uc)
        ring_sac = masks @ sac  # (10, Uc)
        mean = ring_sac / area  # (10, Uc) ring mean of the unrotated SAC
        variance = (masks @ sac.square()) / area - mean.square() + 1e-5  # (10, Uc)
        ring_rot = masks @ rotated  # (A, 10, Uc)
        ring_product = masks @ (rotated * sac)  # (A, 10, Uc); the broadcast over the leading axis vectorises well
        cross = (ring_product - mean * ring_rot - mean * ring_sac) / area + mean.square()  # (A, 10, Uc)
        corr[:, :, start : start + chunk] = cross / variance
    c = dict(zip(angles, corr.double().cpu().numpy(), strict=True))  # angle -> (10, U)
    s60_mean = (c[60] + c[120]) / 2 - (c[30] + c[90] + c[150]) / 3  # (10, U)
    s60_min_max = np.minimum(c[60], c[120]) - np.maximum(c[30], np.maximum(c[90], c[150]))
    forms = (s60_mean, s60_min_max, *([c[90] - (c[45] + c[135]) / 2] if score90 else []))  # (10, U) each
    best = [np.argmax(s, axis=0) for s in forms]
    pick = [np.take_along_axis(s, b[None], axis=0)[0] for s, b in zip(forms, best, strict=True)]
    if not score90:  # no square score without its rotations
        best.append(np.full(units, -1))
        pick.append(np.full(units, np.nan))
    return GridScores(pick[0], pick[1], pick[2], best[0], best[1], best[2])
