"""Grid period and orientation from the autocorrelogram's six peaks, and modes of a period distribution.

Periods are measured on units that score as grid-like (PAPER.md section 5: score > 0.3); the modes of the period
distribution (kernel density) are the candidate grid modules, and their ratios are compared with the ~1.4 of rodents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndi
import scipy.stats

from gridbook.analysis.sac import spatial_autocorrelogram

__all__ = ["BIC_EVIDENCE", "MIN_UNITS_FOR_MODULES", "GridProperties", "ModuleTest", "PeriodTrend", "grid_properties",
           "main_period_mode", "mode_ratio_intervals", "mode_ratios", "module_test", "period_modes", "period_trend"]


@dataclass(frozen=True)
class GridProperties:
    """Grid geometry from the six SAC peaks nearest the centre; NaN where fewer than six peaks were found."""

    period_bins: np.ndarray  # (U,) mean distance of the six peaks from the SAC centre, bins
    period_m: np.ndarray  # (U,) the same in metres
    orientation_deg: np.ndarray  # (U,) circular mean of the peak angles modulo 60, in [0, 60)
    period_spread_bins: np.ndarray  # (U,) std of the six distances, bins
    orientation_spread_deg: np.ndarray  # (U,) std of the peak angles about the orientation (mod 60), degrees


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
    """Modes (ascending, m) of the Gaussian kernel density of ``periods`` (NaN ignored): the candidate modules.

    bandwidth: scipy.stats.gaussian_kde's ``bw_method`` (None = Scott's rule, a float = factor, or a callable).
    Modes are local maxima of the density on ``grid_points`` points spanning the data +- 3 kernel widths; maxima
    below ``min_density`` times the highest are dropped as ripples. No finite period gives no mode; one distinct
    value is its own single mode (a density needs two).
    """
    values = np.asarray(periods, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if grid_points < 3:
        raise ValueError(f"grid_points={grid_points!r} is invalid; allowed values: >= 3")
    if values.size == 0:
        return np.empty(0)
    if values.size < 2 or np.ptp(values) == 0:
        return values[:1].copy()
    kde = scipy.stats.gaussian_kde(values, bw_method=bandwidth)
    width = 3 * math.sqrt(float(kde.covariance[0, 0]))
    grid = np.linspace(values.min() - width, values.max() + width, grid_points)
    density = kde(grid)
    inner = density[1:-1]
    is_mode = (inner > density[:-2]) & (inner >= density[2:]) & (inner >= min_density * density.max())
    return grid[1:-1][is_mode]


def main_period_mode(periods) -> float:
    """The main grid period (m): of the :func:`period_modes`, the one nearest the median period (NaN if none).
    Nearest the median rather than the highest peak, so that a few outlying units cannot pick a spurious mode."""
    values = np.asarray(periods, dtype=np.float64).ravel()
    modes = period_modes(values)
    if modes.size == 0:
        return float("nan")
    return float(modes[np.argmin(np.abs(modes - np.median(values[np.isfinite(values)])))])


def mode_ratios(modes, ordered: bool = False) -> np.ndarray:
    """Ratios of consecutive modes, ``modes[k + 1] / modes[k]``: the grid-module scale ratios (~1.4 in rodents).
    The modes are sorted first, unless ``ordered`` (e.g. main modes in the order of the sigma they belong to)."""
    modes = np.asarray(modes, dtype=np.float64).ravel()
    modes = modes if ordered else np.sort(modes)
    if modes.size and not (modes > 0).all():
        raise ValueError("modes must be positive (periods) to take their ratios")
    return modes[1:] / modes[:-1]


@dataclass(frozen=True)
class PeriodTrend:
    """How a period (m) changes with the place-cell width: ``sigma_m`` (S,) ascending, ``period_m`` (S,) the period at
    each, ``slope`` (m of period per m of sigma, least squares; NaN with fewer than two points) and ``ratios`` (S-1,)
    of the periods at neighbouring sigma."""

    sigma_m: np.ndarray
    period_m: np.ndarray
    slope: float
    ratios: np.ndarray


def period_trend(sigma_m, period_m) -> PeriodTrend:
    """The :class:`PeriodTrend` of periods against sigma; pairs with a NaN period are left out."""
    sigma, period = np.asarray(sigma_m, dtype=np.float64).ravel(), np.asarray(period_m, dtype=np.float64).ravel()
    if sigma.shape != period.shape:
        raise ValueError(f"sigma_m has {sigma.size} values but period_m has {period.size}; they must pair up")
    keep = np.isfinite(sigma) & np.isfinite(period)
    order = np.argsort(sigma[keep], kind="stable")
    sigma, period = sigma[keep][order], period[keep][order]
    slope = float(np.polyfit(sigma, period, 1)[0]) if sigma.size > 1 else float("nan")
    return PeriodTrend(sigma_m=sigma, period_m=period, slope=slope, ratios=mode_ratios(period, ordered=True))


# ---- modules within one network -------------------------------------------------------------------------------
MIN_UNITS_FOR_MODULES = 10  # fewer grid units than this cannot tell one module from two
BIC_EVIDENCE = 10.0  # a BIC lower by more than this is strong evidence (Kass & Raftery 1995)


@dataclass(frozen=True)
class ModuleTest:
    """One network's test of one grid module against two: ``delta_bic`` = BIC(1 component) - BIC(2 components) of a
    Gaussian mixture on its units' log periods (NaN with fewer than :data:`MIN_UNITS_FOR_MODULES` units), and
    ``n_modules`` 2 when ``delta_bic`` exceeds :data:`BIC_EVIDENCE`, else 1; ``n_units`` the periods used."""

    delta_bic: float
    n_modules: int
    n_units: int


def module_test(periods, seed: int = 0) -> ModuleTest:
    """Whether one network's grid periods (m) form one module or two: the BIC of a one- and a two-component
    Gaussian mixture (scikit-learn) fitted to the log periods; the log, because module scales differ by ratios."""
    from sklearn.mixture import GaussianMixture

    values = np.asarray(periods, dtype=np.float64).ravel()
    values = values[np.isfinite(values) & (values > 0)]
    if values.size < MIN_UNITS_FOR_MODULES:
        return ModuleTest(float("nan"), 1, int(values.size))
    x = np.log(values)[:, None]  # (U, 1)
    bic = [GaussianMixture(k, n_init=3, random_state=seed, reg_covar=1e-6).fit(x).bic(x) for k in (1, 2)]
    delta = float(bic[0] - bic[1])
    return ModuleTest(delta, 2 if delta > BIC_EVIDENCE else 1, int(values.size))


def mode_ratio_intervals(periods_by_sigma, n_resamples: int = 200, level: float = 0.95,
                         seed: int = 0) -> np.ndarray:
    """The ratios of the :func:`main_period_mode` at neighbouring sigma with percentile-bootstrap intervals over
    units: ``periods_by_sigma`` is a list (ascending sigma) of each width's unit periods (m); returns (S-1, 3) rows of
    ratio, low, high."""
    groups = [np.asarray(p, dtype=np.float64)[np.isfinite(np.asarray(p, dtype=np.float64))] for p in periods_by_sigma]
    modes = np.array([main_period_mode(g) for g in groups])  # (S,)
    rng = np.random.default_rng(seed)
    draws = np.array([[main_period_mode(rng.choice(g, g.size)) if g.size else np.nan for g in groups]
                      for _ in range(n_resamples)])  # (n_resamples, S)
    ratios = draws[:, 1:] / draws[:, :-1]  # (n_resamples, S-1)
    low, high = np.nanpercentile(ratios, [50 * (1 - level), 50 * (1 + level)], axis=0) if len(groups) > 1 else (
        np.empty(0), np.empty(0))
    return np.stack([modes[1:] / modes[:-1], low, high], axis=1)
