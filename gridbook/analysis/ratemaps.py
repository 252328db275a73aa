"""Rate maps: mean activation of every unit per spatial bin, for all units at once.

A rate map is the mean of a unit's activation over the evaluation samples that fall in each bin of a square grid
laid over the box (paper: 44 x 44 bins of 5 cm in a 2.2 m box; Sorscher et al.: 20 x 20). The box is centred at the
origin, as the trajectories are: x in [-W/2, W/2], y in [-H/2, H/2]. Bins that no sample visited are NaN.

Binning is one scatter-add (``index_add_``) over samples on the device of the input tensor, not a loop over units.
Optional Gaussian smoothing is a *normalised convolution*: ``smooth(value * visited) / smooth(visited)``, so unvisited
bins neither pull visited neighbours towards zero nor get filled in (they stay NaN).

Maps are in image order, ``maps[u, iy, ix]`` with ``iy`` along y: ``imshow(maps[u], origin="lower")`` shows them
the right way up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gridbook.paper import BOX_M, RATEMAP_BINS

# samples binned per index_add_ call (bounds the float64 copy of the activations)
_CHUNK_ELEMENTS = 2**24
# positions this far outside the box (as a fraction of its size) are clipped onto the wall; further ones raise
_OUTSIDE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class RateMaps:
    """Rate maps of U units on an ny x nx grid.

    maps: (U, ny, nx) float32, mean activation per bin, NaN where unvisited (image order ``maps[u, iy, ix]``).
    occupancy: (ny, nx) int64, number of samples per bin.
    x_edges: (nx + 1,) float64 bin edges along x, metres. y_edges: (ny + 1,) along y, metres.
    """

    maps: np.ndarray
    occupancy: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray

    @property
    def n_units(self) -> int:
        return self.maps.shape[0]

    @property
    def bin_size_m(self) -> tuple[float, float]:
        """(width, height) of one bin in metres."""
        return float(self.x_edges[1] - self.x_edges[0]), float(self.y_edges[1] - self.y_edges[0])


def bin_centres(edges: np.ndarray) -> np.ndarray:
    """Centres of the bins delimited by ``edges`` (n + 1,) -> (n,)."""
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2:
        raise ValueError(f"edges must be a 1-D array of at least 2 values, got shape {edges.shape}")
    return 0.5 * (edges[:-1] + edges[1:])


def bin_edges(n_bins: int | tuple[int, int], box: tuple[float, float] = BOX_M) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) bin edges in metres, (nx + 1,) and (ny + 1,), of an n_bins grid over a box centred at the origin."""
    nx, ny = _bin_counts(n_bins)
    width, height = _box_size(box)
    return np.linspace(-width / 2, width / 2, nx + 1), np.linspace(-height / 2, height / 2, ny + 1)


def _bin_counts(n_bins: int | tuple[int, int]) -> tuple[int, int]:
    """(nx, ny) from an int (square grid) or an (nx, ny) pair."""
    pair = (n_bins, n_bins) if np.ndim(n_bins) == 0 else tuple(n_bins)
    if len(pair) != 2 or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in pair):
        raise ValueError(f"n_bins={n_bins!r} is invalid; allowed values: an int >= 2 or a pair (nx, ny) of them")
    if min(pair) < 2:
        raise ValueError(f"n_bins={n_bins!r} is invalid; allowed values: >= 2 bins per side")
    return int(pair[0]), int(pair[1])


def _box_size(box: tuple[float, float]) -> tuple[float, float]:
    try:
        width, height = (float(b) for b in box)
    except (TypeError, ValueError):
        raise ValueError(f"box={box!r} is invalid; allowed values: a pair (width, height) of metres > 0") from None
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        raise ValueError(f"box={box!r} is invalid; allowed values: a pair (width, height) of metres > 0")
    return width, height


def _bin_index(coord: torch.Tensor, size: float, n: int, name: str) -> torch.Tensor:
    """Bin index in [0, n) of coordinates (N,) in a span [-size/2, size/2] m."""
    half, tol = size / 2, _OUTSIDE_TOLERANCE * size
    if coord.numel() and (coord.min() < -half - tol or coord.max() > half + tol):
        raise ValueError(
            f"positions: {name} spans [{float(coord.min()):.4g}, {float(coord.max()):.4g}] m, outside the box "
            f"[{-half:.4g}, {half:.4g}] m; pass the box the trajectories were sampled in (box=(width, height), "
            "centred at the origin)"
        )
    index = torch.floor((coord.double() + half) * (n / size)).long()
    return index.clamp_(0, n - 1)


def gaussian_smooth_nan(maps: torch.Tensor, sigma_bins: float) -> torch.Tensor:
    """NaN-aware Gaussian smoothing of (U, ny, nx) maps by normalised convolution; NaN bins stay NaN.

    Each visited bin becomes ``sum_k g(k) v(k) / sum_k g(k)`` over the *visited* bins k, with g a Gaussian of
    ``sigma_bins`` bins truncated at 4 sigma as in scipy.ndimage.gaussian_filter, zero outside the grid.
    A constant map stays constant.
    """
    if sigma_bins < 0 or not math.isfinite(sigma_bins):
        raise ValueError(f"smooth_sigma_bins={sigma_bins!r} is invalid; allowed values: >= 0 (0 = no smoothing)")
    if sigma_bins == 0:
        return maps
    radius = max(1, int(4 * sigma_bins + 0.5))  # as scipy.ndimage.gaussian_filter(truncate=4)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64, device=maps.device)
    kernel = torch.exp(-0.5 * (offsets / sigma_bins) ** 2)
    kernel = kernel / kernel.sum()
    visited = torch.isfinite(maps)
    stacked = torch.stack([torch.where(visited, maps, 0.0).double(), visited.double()], dim=1)  # (U, 2, ny, nx)
    units, _, ny, nx = stacked.shape
    flat = stacked.reshape(units * 2, 1, ny, nx)
    flat = F.conv2d(flat, kernel.view(1, 1, -1, 1), padding=(radius, 0))  # along y, zero outside the box
    flat = F.conv2d(flat, kernel.view(1, 1, 1, -1), padding=(0, radius))  # along x
    value_sum, weight_sum = flat.reshape(units, 2, ny, nx).unbind(dim=1)
    smoothed = value_sum / weight_sum.clamp_min(1e-300)
    return torch.where(visited, smoothed, torch.nan).to(maps.dtype)


class RateMapAccumulator:
    """Rate maps accumulated batch by batch: memory O(units x bins), whatever the number of samples.

    ``add(positions, activations)`` bins one batch ((N, 2) m, (N, U)) into float64 sums and counts on the
    activations' device; :meth:`ratemaps` gives the maps of everything added so far. Adding the samples in batches
    gives exactly the maps of :func:`compute_ratemaps` on all of them at once (the same float64 sums, in the same
    order).
    """

    def __init__(self, n_units: int, n_bins: int | tuple[int, int] = RATEMAP_BINS, box: tuple[float, float] = BOX_M,
                 device: str | torch.device | None = None) -> None:
        self.nx, self.ny = _bin_counts(n_bins)
        self.width, self.height = _box_size(box)
        if not isinstance(n_units, (int, np.integer)) or n_units < 1:
            raise ValueError(f"n_units={n_units!r} is invalid; allowed values: an integer >= 1")
        self.n_units, self.device = int(n_units), torch.device(device if device is not None else "cpu")
        self.sums = torch.zeros(self.ny * self.nx, self.n_units, dtype=torch.float64, device=self.device)  # (bins, U)
        self.counts = torch.zeros(self.ny * self.nx, dtype=torch.int64, device=self.device)  # (bins,)

    def bins(self, positions) -> torch.Tensor:
        """The flat bin index (N,) (row-major image order) of positions (N, 2) m; raises for positions outside the
        box (beyond a 0.1% tolerance) or not finite."""
        pos = positions if isinstance(positions, torch.Tensor) else torch.as_tensor(np.asarray(positions))
        pos = pos.to(self.device)
        if pos.ndim != 2 or pos.shape[1] != 2:
            raise ValueError(f"positions must have shape (N, 2) (x, y in metres), got {tuple(pos.shape)}")
        if not torch.isfinite(pos).all():
            raise ValueError("positions contain NaN or infinite values")
        ix = _bin_index(pos[:, 0], self.width, self.nx, "x")  # (N,)
        iy = _bin_index(pos[:, 1], self.height, self.ny, "y")  # (N,)
        return iy * self.nx + ix

    def add(self, positions, activations) -> None:
        """Bin one batch: positions (N, 2) m, activations (N, U) (numpy or torch)."""
        act = activations if isinstance(activations, torch.Tensor) else torch.as_tensor(np.asarray(activations))
        act = act.to(self.device)
        if act.ndim != 2 or act.shape[1] != self.n_units:
            raise ValueError(f"activations must have shape (N, {self.n_units}), got {tuple(act.shape)}")
        if not (act.is_floating_point() or act.dtype in (torch.int32, torch.int64)):
            raise ValueError(f"activations must be numeric, got dtype {act.dtype}")
        flat_bin = self.bins(positions)  # (N,)
        if act.shape[0] != flat_bin.shape[0]:
            raise ValueError(f"activations must have shape (N, U) with N = {flat_bin.shape[0]} samples like "
                             f"positions, got {tuple(act.shape)}")
        self.counts += torch.bincount(flat_bin, minlength=self.ny * self.nx)
        chunk = max(1, _CHUNK_ELEMENTS // self.n_units)
        for start in range(0, act.shape[0], chunk):
            self.sums.index_add_(0, flat_bin[start : start + chunk], act[start : start + chunk].double())

    def mean_maps(self, sums: torch.Tensor, smooth_sigma_bins: float = 0.0) -> torch.Tensor:
        """(U, ny, nx) float64 means of per-bin ``sums`` (bins, U) over this grid's counts, NaN where no sample fell,
        optionally smoothed (NaN-aware); :meth:`ratemaps` applies it to the accumulated sums."""
        means = sums.double() / self.counts.unsqueeze(1).clamp_min(1)  # (bins, U)
        means[self.counts == 0] = torch.nan
        return gaussian_smooth_nan(means.T.reshape(sums.shape[1], self.ny, self.nx), float(smooth_sigma_bins))

    def ratemaps(self, smooth_sigma_bins: float = 0.0) -> RateMaps:
        """The maps of the samples added so far (NaN where none fell), optionally smoothed (NaN-aware)."""
        maps = self.mean_maps(self.sums, smooth_sigma_bins)
        edges = bin_edges((self.nx, self.ny), (self.width, self.height))
        return RateMaps(maps=maps.float().cpu().numpy(),
                        occupancy=self.counts.reshape(self.ny, self.nx).cpu().numpy().astype(np.int64),
                        x_edges=edges[0], y_edges=edges[1])


def compute_ratemaps(
    positions,
    activations,
    n_bins: int | tuple[int, int] = RATEMAP_BINS,
    box: tuple[float, float] = BOX_M,
    smooth_sigma_bins: float = 0.0,
) -> RateMaps:
    """Mean activation per spatial bin for every unit at once.

    positions: (N, 2) metres, (x, y), inside the box centred at the origin (numpy array or torch tensor).
    activations: (N, U) activations of U units at those positions (numpy or torch; binned on its device).
    n_bins: bins per side (int) or (nx, ny). box: (width, height) in metres. smooth_sigma_bins: NaN-aware Gaussian
    smoothing of the maps in bins (0 = none).
    Positions within 0.1% of the box size outside it are put in the wall bins; positions further out raise.
    Accumulation is in float64; the returned maps are float32 numpy arrays, NaN where no sample fell.
    For samples that arrive in batches, :class:`RateMapAccumulator` gives the same maps in O(units x bins) memory.
    """
    act = activations if isinstance(activations, torch.Tensor) else torch.as_tensor(np.asarray(activations))
    if act.ndim != 2:
        raise ValueError(f"activations must have shape (N, U), got {tuple(act.shape)}")
    accumulator = RateMapAccumulator(act.shape[1], n_bins, box, device=act.device)
    accumulator.add(positions, act)
    return accumulator.ratemaps(smooth_sigma_bins)
