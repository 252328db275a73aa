"""Slow, obviously-correct per-unit grid scoring: the reference that the batched scorer in
gridbook.analysis.scores must match.

One map at a time, straight from the definitions (DeepMind's GridScorer, grid-cells/scores.py):
- SAC: for every lag a double loop takes the overlapping parts of the map and its shifted copy, keeps the bins
  visited in both, and takes their Pearson correlation (np.corrcoef); undefined lags (fewer than ``min_overlap``
  bins, or a part whose variance is at most 1e-10 times the whole map's, i.e. constant to round-off) are 0;
- the SAC is rotated with ``scipy.ndimage.rotate(sac, angle, reshape=False)`` for each angle;
- ring masks are built like DeepMind's ``circle_mask``; correlations inside each ring as in
  ``get_grid_scores_for_mask``.
Imported by tests/analysis/test_scores.py and by benchmarks/score_throughput.py (via sys.path). No gridbook imports.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

ANGLES = (30, 45, 60, 90, 120, 135, 150)


def reference_sac(rate_map: np.ndarray, min_overlap: int = 2) -> np.ndarray:
    """(ny, nx) map with NaN -> (2ny-1, 2nx-1) SAC, one lag at a time."""
    ny, nx = rate_map.shape
    sac = np.zeros((2 * ny - 1, 2 * nx - 1))
    visited = rate_map[np.isfinite(rate_map)]
    constant = 1e-10 * (np.var(visited) if visited.size else 0.0)  # a part varying less than this is constant
    for dy in range(-(ny - 1), ny):
        for dx in range(-(nx - 1), nx):
            # part a = map[y, x], part b = map[y + dy, x + dx], over the y, x where both indices are inside
            a = rate_map[max(0, -dy) : ny - max(0, dy), max(0, -dx) : nx - max(0, dx)]
            b = rate_map[max(0, dy) : ny + min(0, dy), max(0, dx) : nx + min(0, dx)]
            both = np.isfinite(a) & np.isfinite(b)
            va, vb = a[both], b[both]
            if va.size < min_overlap or np.var(va) <= constant or np.var(vb) <= constant:
                continue
            sac[ny - 1 + dy, nx - 1 + dx] = np.corrcoef(va, vb)[0, 1]
    return sac


def reference_ring_masks(n: int) -> list[np.ndarray]:
    """DeepMind's ring masks: circle(outer * n) minus circle(0.2 * n) on a (2n-1)^2 grid of integer offsets."""
    size = 2 * n - 1

    def circle(radius: float) -> np.ndarray:
        x = np.linspace(-(n - 1), n - 1, size)
        return np.sqrt(x[None, :] ** 2 + x[:, None] ** 2) <= radius

    return [circle(outer * n) & ~circle(0.2 * n) for outer in np.linspace(0.4, 1.0, num=10).tolist()]


def reference_scores_from_sac(sac: np.ndarray, n: int) -> dict[str, float]:
    """Best-ring score60 (mean and min-max forms) and score90 of one SAC."""
    rotated = {angle: scipy.ndimage.rotate(sac, angle, reshape=False) for angle in ANGLES}
    per_ring = {"mean": [], "min_max": [], "s90": []}
    for mask in reference_ring_masks(n):
        ring = sac[mask]
        mean = ring.mean()
        centred = ring - mean
        variance = np.mean(centred**2) + 1e-5
        c = {angle: np.mean(centred * (rotated[angle][mask] - mean)) / variance for angle in ANGLES}
        per_ring["mean"].append((c[60] + c[120]) / 2 - (c[30] + c[90] + c[150]) / 3)
        per_ring["min_max"].append(min(c[60], c[120]) - max(c[30], c[90], c[150]))
        per_ring["s90"].append(c[90] - (c[45] + c[135]) / 2)
    return {
        "score60_mean": max(per_ring["mean"]),
        "score60_min_max": max(per_ring["min_max"]),
        "score90": max(per_ring["s90"]),
        "best_ring_min_max": int(np.argmax(per_ring["min_max"])),
    }


def reference_scores(rate_map: np.ndarray, min_overlap: int = 2) -> dict[str, float]:
    """Grid scores of one square (n, n) map."""
    return reference_scores_from_sac(reference_sac(rate_map, min_overlap), rate_map.shape[0])
