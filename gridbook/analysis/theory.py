"""Fourier theory of grid formation (PAPER.md section 6, result R5).

Two views of why a difference-of-softmaxes (DoS) target gives grids and a true difference of Gaussians (DoG) does not:

* **Turing instability of a DoG interaction.** The linearised dynamics ``r' = -r + f * r`` with the translation
  invariant kernel ``f(dx) = a_e exp(-dx^2 / 2 sigma_e^2) - a_i exp(-dx^2 / 2 sigma_i^2)`` grow the Fourier mode ``k``
  at rate ``f~(k) - 1``. :func:`dog_fourier_1d` / :func:`dog_fourier_2d` give ``f~``, :func:`optimal_wavenumber` its
  maximiser ``k*`` in closed form, :func:`pattern_forms` the condition ``k* != 0 and f~(k*) > 1`` and
  :func:`predicted_grid_period` the period ``4 pi / (sqrt(3) k*)`` of the hexagonal lattice made of three plane waves of
  wavenumber ``k*``.
* **Sorscher et al.'s pattern-formation view.** With ``P`` the place-cell code (positions x cells) and
  ``Sigma = P P^T``, the grid scale is set by the peak of Sigma's Fourier transform, and the non-negative leading
  pattern of Sigma is a hexagonal lattice when that transform is a ring. :func:`place_cell_covariance` computes P,
  Sigma and the translation-averaged correlation for any target encoder of the trainer; :func:`fourier_power`,
  :func:`radial_average` and :func:`peak_wavenumber` locate the peak; :func:`nonnegative_pattern` finds the pattern.

Units: positions and widths in metres, wavenumbers in rad/m, periods in metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gridbook.paper import BOX_M, RATEMAP_BINS

__all__ = ["FourierPower", "NonnegativePattern", "PlaceCellCovariance", "annulus_strength", "dog_fourier_1d",
           "dog_fourier_2d",
           "dog_interaction", "fourier_power", "grid_positions", "grid_wavenumber", "nonnegative_pattern",
           "optimal_wavenumber", "pattern_forms", "peak_wavenumber", "place_cell_covariance",
           "place_cell_peak_wavenumber", "predicted_grid_period", "radial_average"]

_SQRT_2PI = math.sqrt(2 * math.pi)


# ---- the DoG interaction and its Fourier transform ---------------------------------------------------------------
def _check_dog(a_e: Any, a_i: Any, sigma_e: Any, sigma_i: Any) -> tuple[np.ndarray, ...]:
    arrays = [np.asarray(v, dtype=float) for v in (a_e, a_i, sigma_e, sigma_i)]
    for name, value in zip(("a_e", "a_i"), arrays[:2], strict=True):
        if not np.all(np.isfinite(value) & (value >= 0)):
            raise ValueError(f"{name}={value!r} is invalid; allowed values: finite numbers >= 0")
    for name, value in zip(("sigma_e", "sigma_i"), arrays[2:], strict=True):
        if not np.all(np.isfinite(value) & (value > 0)):
            raise ValueError(f"{name}={value!r} is invalid; allowed values: finite numbers > 0 (m)")
    return tuple(arrays)


def _scalar_or_array(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


def dog_interaction(distance: Any, a_e: float, a_i: float, sigma_e: float, sigma_i: float) -> np.ndarray:
    """The kernel ``f(d) = a_e exp(-d^2 / 2 sigma_e^2) - a_i exp(-d^2 / 2 sigma_i^2)`` at distances ``d`` (m)."""
    a_e, a_i, sigma_e, sigma_i = _check_dog(a_e, a_i, sigma_e, sigma_i)
    d2 = np.asarray(distance, dtype=float) ** 2
    return a_e * np.exp(-d2 / (2 * sigma_e**2)) - a_i * np.exp(-d2 / (2 * sigma_i**2))


def _dog_fourier(k: Any, a_e: Any, a_i: Any, sigma_e: Any, sigma_i: Any, dim: int, exact: bool) -> np.ndarray:
    a_e, a_i, sigma_e, sigma_i = _check_dog(a_e, a_i, sigma_e, sigma_i)
    k2 = np.asarray(k, dtype=float) ** 2
    value = (a_e * sigma_e**dim * np.exp(-(sigma_e**2) * k2 / 2)
             - a_i * sigma_i**dim * np.exp(-(sigma_i**2) * k2 / 2))
    return value * (_SQRT_2PI**dim if exact else 1.0)


def dog_fourier_1d(k: Any, a_e: Any, a_i: Any, sigma_e: Any, sigma_i: Any, exact: bool = False) -> float | np.ndarray:
    """1-D Fourier transform of the DoG kernel at wavenumbers ``k`` (rad/m).

    ``exact=False`` is the paper's form with constants dropped, ``a_e s_e exp(-s_e^2 k^2/2) - a_i s_i exp(..)``;
    ``exact=True`` is the continuous transform ``integral f(x) exp(-i k x) dx``, i.e. the same times ``sqrt(2 pi)``.
    Broadcasts over all arguments.
    """
    return _scalar_or_array(_dog_fourier(k, a_e, a_i, sigma_e, sigma_i, dim=1, exact=exact))


def dog_fourier_2d(k: Any, a_e: Any, a_i: Any, sigma_e: Any, sigma_i: Any, exact: bool = False) -> float | np.ndarray:
    """2-D (radial) Fourier transform of the isotropic DoG kernel at ``|k|`` (rad/m).

    Prefactors are ``sigma^2`` instead of ``sigma``; ``exact=True`` multiplies by ``2 pi`` (the continuous transform).
    """
    return _scalar_or_array(_dog_fourier(k, a_e, a_i, sigma_e, sigma_i, dim=2, exact=exact))


def optimal_wavenumber(a_e: Any, a_i: Any, sigma_e: Any, sigma_i: Any, dim: int = 1) -> float | np.ndarray:
    """The wavenumber ``k*`` (rad/m) that maximises the DoG transform over ``k >= 0``, in closed form.

    Setting ``d f~ / d(k^2) = 0`` gives ``k*^2 = 2 / (s_e^2 - s_i^2) ln(a_e s_e^(dim+2) / (a_i s_i^(dim+2)))``
    (PAPER.md 6: ``s^3`` in 1-D, ``s^4`` in 2-D). That stationary point is the maximum only when the surround is the
    wider Gaussian (``sigma_i > sigma_e``) and the root is real and positive; otherwise the maximum over ``k >= 0``
    is at the centre and ``k* = 0`` (e.g. a Gaussian, ``a_i = 0``). Where ``f~`` has no finite maximiser at all (its
    supremum 0 is approached as ``k -> inf``: ``a_e = 0``, or a surround at least as narrow and as strong as the
    centre) the result is NaN. Broadcasts over all arguments.
    """
    if dim not in (1, 2):
        raise ValueError(f"dim={dim!r} is invalid; allowed values: 1, 2")
    a_e, a_i, sigma_e, sigma_i = _check_dog(a_e, a_i, sigma_e, sigma_i)
    with np.errstate(divide="ignore", invalid="ignore"):
        k2 = 2 * np.log(a_e * sigma_e ** (dim + 2) / (a_i * sigma_i ** (dim + 2))) / (sigma_e**2 - sigma_i**2)
        ring = (sigma_e < sigma_i) & (a_e > 0) & (a_i > 0) & (k2 > 0)
        k_star = np.where(ring, np.sqrt(np.where(ring, k2, 0.0)), 0.0)
    no_maximum = (a_e == 0) | ((sigma_e >= sigma_i) & (a_e * sigma_e**dim < a_i * sigma_i**dim))
    return _scalar_or_array(np.where(no_maximum, np.nan, k_star))


def pattern_forms(a_e: Any, a_i: Any, sigma_e: Any, sigma_i: Any, dim: int = 1, exact: bool = True,
                  threshold: float = 1.0) -> bool | np.ndarray:
    """Whether the DoG interaction forms a periodic pattern: ``k* > 0`` and ``f~(k*) > threshold``.

    What is tested, precisely: the mode ``exp(i k x)`` of ``r' = -r + f * r`` grows at rate ``f~(k) - 1`` when
    ``f~`` is the continuous Fourier transform of the kernel for a field of unit neuron density; this is
    ``exact=True`` (the default), where ``f~`` carries the ``sqrt(2 pi)`` (1-D) or ``2 pi`` (2-D) factor. The location
    ``k*`` does not depend on these constants but the threshold does: ``exact=False`` tests the paper's written form
    (constants dropped) against the same threshold, which needs amplitudes ``sqrt(2 pi)`` (1-D) or ``2 pi`` (2-D)
    times larger. A different neuron density rescales ``a_e, a_i`` (equivalently ``threshold``).
    """
    k_star = np.asarray(optimal_wavenumber(a_e, a_i, sigma_e, sigma_i, dim=dim))
    value = np.asarray(_dog_fourier(np.nan_to_num(k_star), a_e, a_i, sigma_e, sigma_i, dim=dim, exact=exact))
    forms = np.isfinite(k_star) & (np.nan_to_num(k_star) > 0) & (value > threshold)
    return bool(forms) if forms.ndim == 0 else forms


def grid_wavenumber(period: Any) -> float | np.ndarray:
    """The wavenumber (rad/m) of the three plane waves that make a hexagonal lattice of ``period`` (m):
    ``4 pi / (sqrt(3) period)``, the inverse of :func:`predicted_grid_period`."""
    period = np.asarray(period, dtype=float)
    if np.any(period <= 0):
        raise ValueError(f"period={period!r} is invalid; allowed values: periods > 0 (m)")
    return _scalar_or_array(4 * math.pi / (math.sqrt(3) * period))


def predicted_grid_period(k: Any) -> float | np.ndarray:
    """Period (m) of the hexagonal lattice made of three plane waves of wavenumber ``k`` (rad/m): ``4 pi/(sqrt(3) k)``.

    ``k = 0`` gives ``inf`` (no pattern), NaN stays NaN.
    """
    k = np.asarray(k, dtype=float)
    if np.any(k < 0):
        raise ValueError(f"k={k!r} is invalid; allowed values: wavenumbers >= 0 (rad/m)")
    with np.errstate(divide="ignore"):
        return _scalar_or_array(4 * math.pi / (math.sqrt(3) * k))


# ---- the place-cell second-moment matrix ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceCellCovariance:
    """The place-cell code on a grid of positions and its translation-averaged correlation.

    code: (n*n, Np) float64, the encoder's output at ``positions``; positions: (n*n, 2) m, bin centres in image order
    (row index = y bin, column = x bin, origin at the box centre); bin_size_m: grid spacing (m).
    correlation: (2n-1, 2n-1) ``C(d) = mean over x of sum_i P_i(x) P_i(x + d)``, the average of ``Sigma(x, x + d)``
    over the positions where both ``x`` and ``x + d`` lie in the box, lag ``d = 0`` at the centre pixel.
    background: the constant that ``C`` approaches at large lags (median of ``C`` over ``0.8 L < |d| < L``).
    kernel: ``(C - background) * Hann(|d| / L)``, the translation-invariant interaction used for Fourier analysis and
    pattern formation (``L`` = box side).
    """

    code: np.ndarray  # (n*n, Np)
    positions: np.ndarray  # (n*n, 2) m
    n_grid: int
    bin_size_m: float
    correlation: np.ndarray  # (2n-1, 2n-1)
    background: float
    kernel: np.ndarray  # (2n-1, 2n-1)

    def second_moment(self) -> np.ndarray:
        """``Sigma = P P^T`` (n*n, n*n) over positions."""
        return self.code @ self.code.T

    def lags(self) -> np.ndarray:
        """Lag axis (2n-1,) in metres, for both axes of ``correlation`` and ``kernel``."""
        return (np.arange(2 * self.n_grid - 1) - (self.n_grid - 1)) * self.bin_size_m


def grid_positions(n_grid: int, box: tuple[float, float] = BOX_M) -> np.ndarray:
    """Bin centres (n*n, 2) in metres of an n x n grid over a square box centred on the origin, image order."""
    if not isinstance(n_grid, int) or n_grid < 4:
        raise ValueError(f"n_grid={n_grid!r} is invalid; allowed values: an integer >= 4")
    width, height = (float(v) for v in box)
    if not (width > 0 and math.isclose(width, height)):
        raise ValueError(f"box={box!r} is invalid; allowed values: a square (width == height > 0), in metres")
    centres = (np.arange(n_grid) + 0.5) * width / n_grid - width / 2  # (n,) m
    xx, yy = np.meshgrid(centres, centres)  # (n, n): [iy, ix]
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def place_cell_covariance(encoder: Any, n_grid: int = RATEMAP_BINS,
                          box: tuple[float, float] = BOX_M) -> PlaceCellCovariance:
    """Evaluate any target encoder (``encode(pos (..., 2)) -> (..., Np)``) on a grid and build its correlation.

    The correlation is the translation average of ``Sigma = P P^T`` over the non-periodic box, computed for all lags at
    once as the sum over cells of zero-padded FFT autocorrelations divided by the number of overlapping positions.
    Offsets shared by all cells (a target's shift-by-minimum and sum normalisation) add a constant to ``C`` and so only
    to ``k = 0``; the stored ``kernel`` removes that constant and tapers the lags where few positions overlap.
    """
    positions = grid_positions(n_grid, box)
    device = getattr(getattr(encoder, "centres", None), "device", None)
    with torch.no_grad():
        pos = torch.as_tensor(positions, dtype=torch.float32, device=device)
        code = encoder.encode(pos)  # (n*n, Np)
    code = np.asarray(code.detach().cpu().numpy() if torch.is_tensor(code) else code, dtype=np.float64)
    if code.ndim != 2 or code.shape[0] != positions.shape[0]:
        raise ValueError(f"encoder.encode returned shape {code.shape}; expected ({positions.shape[0]}, n_outputs)")
    n = n_grid
    m = 2 * n - 1
    maps = code.T.reshape(-1, n, n)  # (Np, n, n) image order
    summed = np.fft.irfft2((np.abs(np.fft.rfft2(maps, s=(m, m))) ** 2).sum(0), s=(m, m))  # (m, m) lag 0 at [0, 0]
    overlap = np.fft.irfft2(np.abs(np.fft.rfft2(np.ones((n, n)), s=(m, m))) ** 2, s=(m, m))
    correlation = np.fft.fftshift(summed / np.round(overlap))  # (m, m), lag 0 at the centre
    bin_size = float(box[0]) / n
    lag = (np.arange(m) - (n - 1)) * bin_size
    radius = np.hypot(lag[None, :], lag[:, None])  # (m, m) m
    side = float(box[0])
    far = (radius > 0.8 * side) & (radius < side)
    background = float(np.median(correlation[far]))
    window = np.where(radius < side, 0.5 * (1 + np.cos(np.pi * radius / side)), 0.0)
    return PlaceCellCovariance(code=code, positions=positions, n_grid=n, bin_size_m=bin_size,
                               correlation=correlation, background=background,
                               kernel=(correlation - background) * window)


# ---- Fourier power and its peak ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FourierPower:
    """Centred (``fftshift``) Fourier magnitude of a real 2-D image: ``power[iy, ix]`` at ``(k[ix], k[iy])`` rad/m;
    ``k`` is the same axis for x and y (square images and bins). For a correlation image this is a power spectrum."""

    power: np.ndarray  # (M, M)
    k: np.ndarray  # (M,) rad/m

    @property
    def k_extent(self) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)`` for ``imshow(power, extent=..., origin="lower")``."""
        half = (self.k[1] - self.k[0]) / 2
        return (self.k[0] - half, self.k[-1] + half, self.k[0] - half, self.k[-1] + half)


def fourier_power(image: np.ndarray, bin_size_m: float, pad_factor: int = 4) -> FourierPower:
    """Magnitude of the 2-D Fourier transform of a real, symmetric image (a correlation or kernel) in rad/m.

    The image is zero-padded to ``pad_factor`` times its size, which samples the same spectrum ``pad_factor`` times
    more finely (spacing ``2 pi / (pad_factor * M * bin)``). For a correlation ``C``, this is the Fourier transform of
    Sigma in Sorscher et al.'s sense (the power spectrum of the place-cell tuning curves); it is real and, for a
    second-moment matrix, non-negative up to the taper, so the magnitude is reported. The DC bin is kept.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or image.shape[0] != image.shape[1]:
        raise ValueError(f"image shape {image.shape} is invalid; allowed values: a square 2-D array")
    if not (bin_size_m > 0):
        raise ValueError(f"bin_size_m={bin_size_m!r} is invalid; allowed values: > 0 (m)")
    if not isinstance(pad_factor, int) or pad_factor < 1:
        raise ValueError(f"pad_factor={pad_factor!r} is invalid; allowed values: an integer >= 1")
    size = pad_factor * image.shape[0]
    spectrum = np.abs(np.fft.fft2(image, s=(size, size)))  # (M, M); |.| removes the phase of the lag offset
    k = np.fft.fftshift(np.fft.fftfreq(size, d=bin_size_m)) * 2 * math.pi  # (M,) rad/m
    return FourierPower(power=np.fft.fftshift(spectrum), k=k)


def radial_average(power: FourierPower) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the power over rings of width ``dk`` (the grid spacing) centred on ``0, dk, 2 dk, ...``.

    Returns (k (R,) rad/m, profile (R,)), up to the largest ring fully inside the spectrum (the Nyquist wavenumber).
    Ring 0 holds the DC bin alone.
    """
    dk = power.k[1] - power.k[0]
    kx, ky = np.meshgrid(power.k, power.k)
    ring = np.rint(np.hypot(kx, ky) / dk).astype(int).ravel()
    n_rings = int(np.floor(np.abs(power.k).max() / dk))
    keep = ring < n_rings
    sums = np.bincount(ring[keep], weights=power.power.ravel()[keep], minlength=n_rings)
    counts = np.bincount(ring[keep], minlength=n_rings)
    return np.arange(n_rings) * dk, sums / counts


def peak_wavenumber(k: np.ndarray, profile: np.ndarray) -> float:
    """Location (rad/m) of the maximum of a sampled profile, refined by a parabola through the top three samples.

    A maximum at the first sample (``k = 0`` for a radial profile) is returned as that sample's ``k``.
    """
    k = np.asarray(k, dtype=float)
    profile = np.asarray(profile, dtype=float)
    if k.shape != profile.shape or k.ndim != 1 or k.size < 3:
        raise ValueError(f"k {k.shape} and profile {profile.shape} must be 1-D of the same length >= 3")
    i = int(np.nanargmax(profile))
    if i == 0 or i == k.size - 1:
        return float(k[i])
    left, centre, right = profile[i - 1], profile[i], profile[i + 1]
    curvature = left - 2 * centre + right
    shift = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    return float(k[i] + shift * (k[i + 1] - k[i]))


def place_cell_peak_wavenumber(cov: PlaceCellCovariance, pad_factor: int = 4) -> float:
    """Peak (rad/m) of the radial profile of the Fourier transform of a place code's correlation kernel."""
    k, profile = radial_average(fourier_power(cov.kernel, cov.bin_size_m, pad_factor))
    return peak_wavenumber(k, profile)


def annulus_strength(cov: PlaceCellCovariance, pad_factor: int = 4) -> float:
    """How far a place code's correlation spectrum is a ring (Sorscher et al.'s condition for grids): the largest
    value of its radial Fourier profile over the profile at the smallest nonzero wavenumber. 1 for a spectrum that
    falls from the centre outwards (a Gaussian's); above 1 when it peaks on a ring away from the centre (the DoS's)."""
    _, profile = radial_average(fourier_power(cov.kernel, cov.bin_size_m, pad_factor))
    return float(np.nanmax(profile[1:]) / profile[1]) if profile.size > 2 and profile[1] > 0 else float("nan")


# ---- Sorscher's pattern formation ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NonnegativePattern:
    """The non-negative leading pattern ``g`` (n, n) of a translation-invariant kernel on a periodic grid.

    pattern: >= 0 with unit norm; objective: ``g^T K g`` before each step (non-decreasing); bin_size_m: spacing (m);
    step_size: the ascent step ``eta``.
    """

    pattern: np.ndarray  # (n, n)
    objective: np.ndarray  # (n_steps,)
    bin_size_m: float
    step_size: float


def nonnegative_pattern(source: Any, n_grid: int = 64, n_steps: int = 300, seed: int = 0,
                        code_grid: int = RATEMAP_BINS, box: tuple[float, float] = BOX_M) -> NonnegativePattern:
    """Maximise ``g^T Sigma g`` over ``g >= 0, ||g|| = 1`` by projected gradient ascent (Sorscher et al. 2019/2023).

    ``source`` is a :class:`PlaceCellCovariance` or a target encoder (then ``place_cell_covariance(source, code_grid,
    box)`` is computed first). As in Sorscher et al.'s code, Sigma is replaced by its translation average: the
    ``kernel`` of the covariance is laid on a periodic ``n_grid x n_grid`` grid of the same bin size (lags wrapped), so
    ``Sigma g`` is an FFT convolution and each step costs one FFT pair (a run takes about a second on a CPU). The
    dense, non-averaged Sigma of a few hundred random centres instead gives a single localised bump for every target
    (checked while writing this module), because the optimum then locks onto local clusters of centres.

    Each step is ``g <- relu(g + eta K g) / ||.||`` with ``eta = 1 / max |K~|``. Then ``I + eta K`` is positive
    semi-definite and the step maximises its linearisation over the constraint set, so by convexity the objective
    ``g^T K g`` never decreases (a projected power iteration). Starts from seeded uniform noise.

    The torus side (``n_grid`` bins) should hold a few lattice periods; a hexagonal lattice cannot tile a square torus
    exactly, so some sizes and seeds settle into a lattice with defects (lower grid score).
    """
    if not isinstance(source, PlaceCellCovariance):
        source = place_cell_covariance(source, n_grid=code_grid, box=box)
    if not isinstance(n_grid, int) or n_grid < 8:
        raise ValueError(f"n_grid={n_grid!r} is invalid; allowed values: an integer >= 8")
    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps={n_steps!r} is invalid; allowed values: an integer >= 1")
    kernel = source.kernel  # (m, m), lag 0 at the centre
    half = kernel.shape[0] // 2
    wrapped = (np.arange(kernel.shape[0]) - half) % n_grid
    torus = np.zeros((n_grid, n_grid))
    np.add.at(torus, (wrapped[:, None], wrapped[None, :]), kernel)  # periodic summation of the kernel
    spectrum = np.fft.rfft2(torus).real  # symmetric kernel -> real transform
    step = 1.0 / np.abs(spectrum).max()
    rng = np.random.default_rng(seed)
    g = rng.random((n_grid, n_grid))
    g /= np.linalg.norm(g)
    objective = np.empty(n_steps)
    for t in range(n_steps):
        kg = np.fft.irfft2(np.fft.rfft2(g) * spectrum, s=g.shape)  # (n, n) = K g
        objective[t] = float((g * kg).sum())
        g = np.maximum(g + step * kg, 0.0)
        g /= np.linalg.norm(g)
    return NonnegativePattern(pattern=g, objective=objective, bin_size_m=source.bin_size_m, step_size=step)
