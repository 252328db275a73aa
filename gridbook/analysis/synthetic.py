"""Synthetic rate maps whose answers are known: lattices of plane waves and smooth random fields.

They show what the grid score measures (the methods chapter), serve as baselines (random features of a chosen
dimension, :mod:`gridbook.analysis.predictivity`) and test the analysis against exact answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["HEXAGONAL", "SQUARE", "lattice_map", "smooth_random_fields"]

HEXAGONAL = (0.0, 60.0, 120.0)  # plane-wave directions (degrees) of a hexagonal lattice; its spacing is 2/sqrt(3) x
SQUARE = (0.0, 90.0)  # the wavelength; of a square lattice, whose spacing is the wavelength


def lattice_map(n: int | tuple[int, int], wavelength_bins: float, angles_deg: Sequence[float] = HEXAGONAL,
                origin: tuple[float, float] = (0.0, 0.0), rectified: bool = False) -> np.ndarray:
    """A sum of plane waves on an n x n map of bins: ``sum_j cos(2 pi / wavelength * (d . u_j))`` with ``u_j`` at
    ``angles_deg`` (counter-clockwise from +x, the column axis) and ``d`` the bin position (column, row) minus
    ``origin`` (bins), which is a peak. Three waves at 60 degrees make a hexagonal lattice of spacing
    ``2 wavelength / sqrt(3)`` whose lattice vectors point at the wave angles + 30 degrees; two at 90 degrees a square
    lattice. ``rectified`` keeps the positive part. Returns (ny, nx) float64, image order (``map[iy, ix]``)."""
    ny, nx = (n, n) if np.ndim(n) == 0 else n
    if not wavelength_bins > 0:
        raise ValueError(f"wavelength_bins={wavelength_bins!r} is invalid; allowed values: > 0 (bins)")
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float64)
    xx -= origin[0]
    yy -= origin[1]
    k = 2 * math.pi / wavelength_bins  # rad per bin
    field = sum(np.cos(k * (math.cos(math.radians(a)) * xx + math.sin(math.radians(a)) * yy)) for a in angles_deg)
    return np.maximum(field, 0.0) if rectified else field


def smooth_random_fields(rng: np.random.Generator, count: int, n_bins: int, sigma_bins: float) -> np.ndarray:
    """``count`` Gaussian-smoothed white-noise maps (count, n, n) (smoothing ``sigma_bins`` bins, reflecting at the
    border), each z-scored over its bins."""
    noise = rng.standard_normal((count, n_bins, n_bins))
    fields = gaussian_filter(noise, sigma=(0, sigma_bins, sigma_bins), mode="reflect")
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    return fields / fields.std(axis=(1, 2), keepdims=True)
