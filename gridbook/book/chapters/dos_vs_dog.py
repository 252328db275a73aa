"""The DoS-versus-DoG chapter (R5): theory maps over (a_E, a_I), the place codes' spectra, the targets' labels. Pure
functions on the tables of :mod:`gridbook.runs.load` and on arrays; the notebook holds prose, parameters and calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gridbook.analysis.theory import (
    FourierPower,
    PlaceCellCovariance,
    fourier_power,
    optimal_wavenumber,
    pattern_forms,
    place_cell_covariance,
    place_cell_peak_wavenumber,
    predicted_grid_period,
    radial_average,
)
from gridbook.config import DEFAULT_SURROUND_CONVENTION
from gridbook.task.targets import make_target, surround_sigma

__all__ = [
    'CodeSpectrum', 'place_code_spectra', 'target_labels', 'theory_maps',
]


def theory_maps(sigma: Any, surround_scale: Any, a_e: Any = 1.0, a_i: Any = 1.0, cell_density: float = 1.0,
                convention: str = DEFAULT_SURROUND_CONVENTION, dim: int = 2) -> dict[str, np.ndarray]:
    """The closed-form k* (rad/m), the hexagonal period it predicts (m) and the pattern-forming condition of the DoG
    interaction, broadcast over arrays of ``sigma`` (m), ``surround_scale``, ``a_e`` and ``a_i`` (e.g. meshgrids).

    The condition ``f~(k*) > 1`` is for a field of unit neuron density; ``cell_density`` (cells per m^2, or per m in
    1-D) scales the interaction, so the threshold is ``1 / cell_density``.
    """
    if not cell_density > 0:
        raise ValueError(f"cell_density={cell_density!r} is invalid; allowed values: > 0 (cells per m^dim)")
    sigma_i = surround_sigma(np.asarray(sigma, dtype=float), np.asarray(surround_scale, dtype=float), convention)
    k_star = np.asarray(optimal_wavenumber(a_e, a_i, sigma, sigma_i, dim=dim), dtype=float)
    forms = np.asarray(pattern_forms(a_e, a_i, sigma, sigma_i, dim=dim, threshold=1.0 / cell_density))
    with np.errstate(divide="ignore", invalid="ignore"):
        period = np.where(k_star > 0, predicted_grid_period(np.where(k_star > 0, k_star, 1.0)), np.nan)
    return {"k_star": k_star, "period_m": period, "forms": forms}


def target_labels(table):
    """A label per row naming its target, with the inhibitory amplitude for general DoGs (``general DoG a_I=2.0``)."""
    general = "general DoG a_I=" + table["a_i"].astype(str)
    return np.where(table["target"] == "general_dog", general, table["target"])


@dataclass(frozen=True)
class CodeSpectrum:
    """A place code's translation-averaged correlation (``covariance``), the Fourier magnitude of its kernel
    (``power``), the radial profile of that magnitude (``k`` rad/m, ``profile``) and its peak (``peak_k`` rad/m)."""

    covariance: PlaceCellCovariance
    power: FourierPower
    k: np.ndarray
    profile: np.ndarray
    peak_k: float


def place_code_spectra(config, codes: dict[str, str], seed: int = 0) -> dict[str, CodeSpectrum]:
    """The :class:`CodeSpectrum` of each target code (``{label: target name}``) with the other fields of ``config``
    (a RunConfig); the place-cell centres are drawn from ``seed``."""
    spectra = {}
    for label, target in codes.items():
        cfg = config.replace(target=target)
        covariance = place_cell_covariance(make_target(cfg.target, cfg.task, torch.Generator().manual_seed(seed)))
        power = fourier_power(covariance.kernel, covariance.bin_size_m)
        k, profile = radial_average(power)
        spectra[label] = CodeSpectrum(covariance, power, k, profile, place_cell_peak_wavenumber(covariance))
    return spectra
