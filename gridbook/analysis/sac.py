"""Spatial autocorrelogram (SAC) of rate maps, batched over units, via FFT.

The SAC of an n_y x n_x map at lag (dy, dx) is the Pearson correlation between the map and its copy shifted by
(dy, dx), taken over the bins where both are visited (not NaN); lags run from -(n - 1) to n - 1, so the SAC is
(2 n_y - 1) x (2 n_x - 1) with zero lag at index (n_y - 1, n_x - 1). This is the definition of DeepMind's
``GridScorer.calculate_sac`` (grid-cells/scores.py), which the grid score is defined on.

Every sum the Pearson correlation needs at every lag (overlap count, sums and sums of squares of both parts, cross
sum) is a cross-correlation of the NaN-masked map, its square and the visited mask, so all lags of all units come
from seven batched FFTs. Values equal the per-lag computation (tests/reference_scores.py) to ~1e-10, and to ~1e-6 at
the far corner lags where a few overlapping bins barely vary (FFT round-off is relative to the whole map). When the
maps share their visited bins and every bin is visited (a run's maps from a long evaluation), each lag's overlap is
a rectangle: the overlap counts are exact products, part a's sums and sums of squares are ``rows @ map @ cols.T``
with 0/1 matrices, and only the cross sum needs an FFT (one forward and one inverse transform a map; closer to the
per-lag computation, ~1e-7 at the far lags).

Lags where the correlation is undefined are set to 0, not NaN: fewer than ``min_overlap`` overlapping visited bins,
or an overlapping part whose variance is at most 1e-10 times the variance of the whole map (constant to within
round-off; e.g. the far tail of a single Gaussian field, where the FFT sums cannot resolve the values). Zero is what
DeepMind's scorer puts there (``np.nan_to_num``), and it lets the SAC be rotated by spline interpolation. The default
``min_overlap=2`` is DeepMind's behaviour (it thresholds nothing; one overlapping bin has zero variance). Raising it
(e.g. to 20) silences noisy far lags, but changes scores: the grid score's outermost rings reach lags with only
about n - sqrt(2 n) overlapping bins (35 at n = 44, 14 at n = 20).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import torch

# a per-lag variance below this fraction of the map's variance counts as zero (FFT round-off is ~1e-15 in float64,
# ~1e-7 in float32)
_ZERO_VARIANCE = {torch.float64: 1e-10, torch.float32: 1e-6}
DTYPES = (torch.float64, torch.float32)  # the SAC's and the grid score's arithmetic
_UNITS_PER_CHUNK = 64


def _fast_length(minimum: int) -> int:
    """Smallest 2^a 3^b 5^c >= minimum (FFT sizes with large prime factors are several times slower)."""
    best = 2 * minimum
    power2 = 1
    while power2 < best:
        power3 = power2
        while power3 < best:
            power5 = power3
            while power5 < best:
                if power5 >= minimum:
                    best = power5
                power5 *= 5
            power3 *= 3
        power2 *= 2
    return best


def _rfft2(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Real 2-D FFT over the last two axes, zero-padded to ``size``; scipy.fft on the CPU (about 2x faster)."""
    if x.device.type == "cpu":
        return torch.from_numpy(scipy.fft.rfft2(x.numpy(), s=size))
    return torch.fft.rfft2(x, s=size)


def _irfft2(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if x.device.type == "cpu":
        return torch.from_numpy(scipy.fft.irfft2(x.numpy(), s=size))
    return torch.fft.irfft2(x, s=size)


def as_map_tensor(maps, device=None, name: str = "maps", dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(U, ny, nx) maps (numpy or torch) as a ``dtype`` tensor (float64, or float32: see :func:`sac_tensor`) on
    ``device`` (default: the input's device or CPU)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is invalid; allowed values: {', '.join(map(str, DTYPES))}")
    tensor = maps if isinstance(maps, torch.Tensor) else torch.as_tensor(np.asarray(maps, dtype=np.float64))
    if tensor.ndim != 3:
        raise ValueError(f"{name} must have shape (units, ny, nx), got {tuple(tensor.shape)}; "
                         "for one map use maps[None]")
    if min(tensor.shape[1:]) < 2:
        raise ValueError(f"{name} must have at least 2 bins per side, got shape {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.double()
    return tensor.to(device=device if device is not None else tensor.device, dtype=dtype)


def spatial_autocorrelogram(maps, min_overlap: int = 2, device=None) -> np.ndarray:
    """NaN-aware spatial autocorrelogram of every map: (U, ny, nx) -> (U, 2 ny - 1, 2 nx - 1) float64.

    ``sac[u, ny - 1 + dy, nx - 1 + dx]`` is the Pearson correlation of ``maps[u]`` with itself shifted by (dy, dx)
    bins over the visited bins both cover; 0 where undefined or fewer than ``min_overlap`` bins overlap (see the
    module docstring). Computed with torch on ``device`` (default: the input's).
    """
    return sac_tensor(maps, min_overlap=min_overlap, device=device).cpu().numpy()


def sac_tensor(maps, min_overlap: int = 2, device=None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """As :func:`spatial_autocorrelogram` but returns a tensor on the compute device. ``dtype=torch.float32`` runs
    the FFTs and products in float32 (about 4x faster on the CPU; correlations agree with float64 to ~1e-5, and lags
    whose overlapping part varies by less than 1e-6 of the map's variance count as undefined, so far tails of smooth
    fields that float32 cannot resolve give 0, not a correlation of round-off)."""
    if isinstance(min_overlap, bool) or not isinstance(min_overlap, (int, np.integer)) or min_overlap < 2:
        raise ValueError(f"min_overlap={min_overlap!r} is invalid; allowed values: an int >= 2")
    x = as_map_tensor(maps, device, dtype=dtype)  # (U, ny, nx)
    units, ny, nx = x.shape
    chunk = _UNITS_PER_CHUNK if x.device.type == "cpu" else 8 * _UNITS_PER_CHUNK  # cache-sized blocks on the CPU
    if units <= chunk:
        return _sac_block(x, min_overlap)
    return torch.cat([_sac_block(x[start : start + chunk], min_overlap) for start in range(0, units, chunk)])


def _overlap_rows(n: int, dtype: torch.dtype, device) -> torch.Tensor:
    """(2n - 1, n) 0/1: row d + n - 1 marks the bins i of a fully visited side of n bins whose partner i + d is
    inside too (lag d from -(n - 1) to n - 1), so ``rows @ map @ cols.T`` sums part a over every lag's overlap."""
    lag = torch.arange(-(n - 1), n, device=device)[:, None]  # (2n-1, 1)
    bins = torch.arange(n, device=device)[None, :]  # (1, n)
    return ((bins + lag >= 0) & (bins + lag < n)).to(dtype)


def _sac_block(x: torch.Tensor, min_overlap: int) -> torch.Tensor:
    units, ny, nx = x.shape
    visited = torch.isfinite(x)
    mask = visited.to(x.dtype)  # (U, ny, nx)
    count = mask.sum(dim=(1, 2), keepdim=True).clamp_min(1)
    # Pearson correlation at each lag is invariant to a per-map affine rescaling: standardise for conditioning
    values = torch.where(visited, x, 0.0)
    mean = values.sum(dim=(1, 2), keepdim=True) / count
    values = (values - mean) * mask
    scale = (values.square().sum(dim=(1, 2), keepdim=True) / count).sqrt()
    values = values / torch.where(scale > 0, scale, 1.0)  # (U, ny, nx) mean 0, variance 1 over visited bins

    size = (_fast_length(2 * ny - 1), _fast_length(2 * nx - 1))  # >= 2n - 1: no wrap-around for lags up to n - 1

    # out[s] = sum_x a(x) b(x + s) for (a, b) = (m, m), (v, m), (v^2, m), (v, v); m visited mask, v masked values
    def lagged(spectra: torch.Tensor) -> torch.Tensor:  # (..., Fy, Fx//2+1) -> (..., 2ny-1, 2nx-1), lag 0 centred
        out = _irfft2(spectra, size)  # (..., Fy, Fx): lag s at index s mod F
        out = torch.roll(out, shifts=(ny - 1, nx - 1), dims=(-2, -1))  # lag -(n - 1) first
        return out[..., : 2 * ny - 1, : 2 * nx - 1]

    # the maps of one run share their visited bins (the occupancy): then one mask's transform serves them all
    shared = bool((visited == visited[:1]).all())
    if shared and bool(visited[0].all()):  # every bin visited: the overlap at each lag is a rectangle
        rows, cols = _overlap_rows(ny, x.dtype, x.device), _overlap_rows(nx, x.dtype, x.device)  # (2n-1, n)
        overlap = rows.sum(1)[:, None] * cols.sum(1)[None, :]  # (2ny-1, 2nx-1) exact bin counts
        sum_a, square_a = rows @ torch.stack([values, values * values]) @ cols.T  # (U, 2ny-1, 2nx-1) each
        f_value = _rfft2(values, size)  # (U, Fy, Fx//2+1)
        cross = lagged(torch.mul(f_value.conj(), f_value))  # (U, 2ny-1, 2nx-1)
    else:
        f_value, f_square = _rfft2(torch.stack([values, values * values]), size)  # (2, U, Fy, Fx//2+1)
        f_mask = _rfft2(mask[:1] if shared else mask, size)  # (1 or U, Fy, Fx//2+1)
        overlap = lagged(f_mask.conj() * f_mask).round()  # (1 or U, ...) visited bins both parts cover
        spectra = torch.empty((3, *f_value.shape), dtype=f_value.dtype, device=f_value.device)
        torch.mul(f_value.conj(), f_mask, out=spectra[0])
        torch.mul(f_square.conj(), f_mask, out=spectra[1])
        torch.mul(f_value.conj(), f_value, out=spectra[2])
        sum_a, square_a, cross = lagged(spectra).unbind(0)  # part a = map(x), part b = map(x + s), over the overlap
    inverse = 1.0 / overlap.clamp_min(1)
    mean_a = sum_a.mul_(inverse)
    var_a = square_a.mul_(inverse).addcmul_(mean_a, mean_a, value=-1)
    # part b at lag s is part a at lag -s: sum_x m(x) v(x + s) = sum_y v(y) m(y - s)
    mean_b, var_b = torch.flip(mean_a, dims=(1, 2)), torch.flip(var_a, dims=(1, 2))
    covariance = cross.mul_(inverse).addcmul_(mean_a, mean_b, value=-1)
    zero = _ZERO_VARIANCE[x.dtype]
    undefined = (overlap < min_overlap) | (var_a <= zero) | (var_b <= zero)
    correlation = covariance.div_(var_a.mul_(var_b).clamp_min_(zero**2).sqrt_()).clamp_(-1.0, 1.0)
    return correlation.masked_fill_(undefined, 0.0)  # (U, 2ny-1, 2nx-1)
