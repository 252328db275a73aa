"""The Fourier theory: closed forms against numerical transforms, the place-cell spectra, pattern formation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gridbook.analysis.periods import grid_properties
from gridbook.analysis.scores import grid_scores
from gridbook.analysis.theory import (
    FourierPower,
    dog_fourier_1d,
    dog_fourier_2d,
    dog_interaction,
    fourier_power,
    grid_positions,
    nonnegative_pattern,
    optimal_wavenumber,
    pattern_forms,
    peak_wavenumber,
    place_cell_covariance,
    place_cell_peak_wavenumber,
    predicted_grid_period,
    radial_average,
)
from gridbook.config import RunConfig
from gridbook.task.targets import make_target

# (a_e, a_i, sigma_e, sigma_i): the paper's example (sigma 0.12, s = 2 as a std ratio) and three general DoGs
DOG_CASES = [(1.0, 1.0, 0.12, 0.24), (2.0, 1.0, 0.1, 0.3), (1.0, 3.0, 0.05, 0.08), (5.0, 1.0, 0.2, 0.5)]
BOX_FUNDAMENTAL = 2 * math.pi / 2.2  # rad/m: the lowest non-zero wavenumber a 2.2 m box resolves


def numerical_transform_1d(params, n=20000, dx=0.01):
    """Continuous FT of the sampled kernel: real FFT of f on a wrapped grid times dx. Returns (k, f~)."""
    x = np.fft.fftfreq(n, 1 / (n * dx))  # m, x = 0 at index 0
    return np.fft.rfftfreq(n, dx) * 2 * np.pi, np.fft.rfft(dog_interaction(x, *params)).real * dx


def numerical_transform_2d(params, n=512, dx=0.04):
    """Continuous 2-D FT of the sampled isotropic kernel as a centred FourierPower (signed values)."""
    x = np.fft.fftfreq(n, 1 / (n * dx))
    spectrum = np.fft.fft2(dog_interaction(np.hypot(x[None, :], x[:, None]), *params)).real * dx * dx
    k = np.fft.fftfreq(n, dx) * 2 * np.pi
    return FourierPower(power=np.fft.fftshift(spectrum), k=np.fft.fftshift(k))


def encoder(target, convention="variance_ratio", seed=0, **overrides):
    cfg = RunConfig().replace(target=target, surround_convention=convention, **overrides)
    return make_target(cfg.target, cfg.task, torch.Generator().manual_seed(seed))


# ---- closed forms --------------------------------------------------------------------------------------------------
def test_worked_example_matches_paper_formula():
    sigma, s = 0.12, 2.0
    k1 = optimal_wavenumber(1.0, 1.0, sigma, s * sigma)
    assert k1 == pytest.approx(math.sqrt(6 * math.log(s) / ((s**2 - 1) * sigma**2)), rel=1e-12)
    assert k1 == pytest.approx(9.8, abs=0.05)  # PAPER.md 6: k* ~ 9.8 rad/m, wavelength ~ 0.64 m
    assert 2 * math.pi / k1 == pytest.approx(0.64, abs=0.005)
    k2 = optimal_wavenumber(1.0, 1.0, sigma, s * sigma, dim=2)
    assert k2 == pytest.approx(math.sqrt(8 * math.log(s) / ((s**2 - 1) * sigma**2)), rel=1e-12)


@pytest.mark.parametrize("params", DOG_CASES)
def test_closed_form_peak_matches_numerical_fft_1d(params):
    k, transform = numerical_transform_1d(params)
    assert peak_wavenumber(k, transform) == pytest.approx(optimal_wavenumber(*params), rel=0.02)
    # the exact transform carries sqrt(2 pi); the paper's form drops it
    assert transform[50] == pytest.approx(dog_fourier_1d(k[50], *params, exact=True), rel=1e-6)
    assert dog_fourier_1d(k[50], *params, exact=True) == pytest.approx(
        math.sqrt(2 * math.pi) * dog_fourier_1d(k[50], *params), rel=1e-12)


@pytest.mark.parametrize("params", DOG_CASES)
def test_closed_form_peak_matches_numerical_fft_2d(params):
    power = numerical_transform_2d(params)
    k, profile = radial_average(power)
    assert peak_wavenumber(k, profile) == pytest.approx(optimal_wavenumber(*params, dim=2), rel=0.02)
    centre = power.k.size // 2
    assert power.power[centre, centre + 3] == pytest.approx(
        dog_fourier_2d(power.k[centre + 3], *params, exact=True), rel=1e-6)


def test_no_positive_root_gives_zero_or_nan():
    assert optimal_wavenumber(1.0, 0.0, 0.12, 0.24) == 0.0  # a Gaussian peaks at k = 0
    assert optimal_wavenumber(1.0, 0.01, 0.12, 0.24) == 0.0  # surround too weak: centre still wins
    assert optimal_wavenumber(1.0, 1.0, 0.24, 0.12) == 0.0  # surround narrower than centre, f~(0) > 0
    assert math.isnan(optimal_wavenumber(0.0, 1.0, 0.12, 0.24))  # pure inhibition: sup at k -> inf
    assert math.isnan(optimal_wavenumber(1.0, 10.0, 0.24, 0.12))  # narrow strong surround: f~ < 0, sup at inf
    k, transform = numerical_transform_1d((1.0, 0.01, 0.12, 0.24))
    assert peak_wavenumber(k, transform) == 0.0


def test_optimal_wavenumber_broadcasts():
    ks = optimal_wavenumber(np.array([1.0, 2.0, 3.0]), 1.0, 0.12, 0.24)
    assert ks.shape == (3,)
    assert ks[0] == pytest.approx(optimal_wavenumber(1.0, 1.0, 0.12, 0.24))
    assert np.all(np.diff(ks) < 0)  # more excitation pulls the peak towards the centre


def test_pattern_forms_agrees_with_growth_rates_of_discretised_dynamics():
    """r' = -r + f * r on a fine 1-D grid of unit density: mode k grows at (dx * FFT f)(k) - 1."""
    for amplitude in (1.0, 5.0, 8.0, 10.0, 30.0):
        params = (amplitude, amplitude, 0.12, 0.24)
        k, transform = numerical_transform_1d(params)
        best = int(np.argmax(transform))
        grows = best > 0 and transform[best] - 1 > 0
        assert pattern_forms(*params) == grows, amplitude
    assert not pattern_forms(1.0, 0.0, 0.12, 0.24)  # a Gaussian never forms a pattern
    # the paper's written form (constants dropped) needs sqrt(2 pi) times larger amplitudes for the same threshold
    params = (10.0, 10.0, 0.12, 0.24)
    assert pattern_forms(*params) and not pattern_forms(*params, exact=False)
    scaled = 10.0 * math.sqrt(2 * math.pi)
    assert pattern_forms(scaled, scaled, 0.12, 0.24, exact=False)


def test_predicted_period_matches_scored_lattice():
    k = optimal_wavenumber(1.0, 1.0, 0.12, 0.24)
    period = predicted_grid_period(k)
    assert period == pytest.approx(4 * math.pi / (math.sqrt(3) * k))
    xy = grid_positions(44)
    angles = np.deg2rad([10.0, 70.0, 130.0])
    lattice = sum(np.cos(k * (xy[:, 0] * np.cos(a) + xy[:, 1] * np.sin(a))) for a in angles).reshape(44, 44)
    measured = grid_properties(lattice[None], bin_size_m=0.05).period_m[0]
    assert measured == pytest.approx(period, rel=0.05)
    assert predicted_grid_period(0.0) == math.inf


@pytest.mark.parametrize(("call", "match"), [
    (lambda: optimal_wavenumber(1.0, 1.0, -0.12, 0.24), "sigma_e"),
    (lambda: optimal_wavenumber(1.0, -1.0, 0.12, 0.24), "a_i"),
    (lambda: optimal_wavenumber(1.0, 1.0, 0.12, 0.24, dim=3), "dim"),
    (lambda: predicted_grid_period(-1.0), "k="),
    (lambda: grid_positions(44, box=(2.2, 1.0)), "box"),
    (lambda: fourier_power(np.zeros((4, 5)), 0.05), "square"),
    (lambda: peak_wavenumber(np.arange(3.0), np.arange(4.0)), "same length"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- the place-cell second-moment matrix --------------------------------------------------------------------------
def test_correlation_is_translation_average_of_second_moment():
    cov = place_cell_covariance(encoder("dos", n_place_cells=64), n_grid=12)
    sigma = cov.second_moment()  # (144, 144)
    np.testing.assert_allclose(sigma, sigma.T)
    n = cov.n_grid
    images = sigma.reshape(n, n, n, n)  # [y, x, y', x']
    for dy, dx in [(0, 0), (2, -3), (-5, 1)]:
        brute = np.mean([images[y, x, y + dy, x + dx] for y in range(n) for x in range(n)
                         if 0 <= y + dy < n and 0 <= x + dx < n])
        assert cov.correlation[n - 1 + dy, n - 1 + dx] == pytest.approx(brute, rel=1e-9)


@pytest.mark.parametrize("convention", ["variance_ratio", "std_ratio"])
def test_dos_spectrum_is_a_ring_and_true_dog_is_centre_peaked(convention):
    sigma, s = 0.12, 2.0
    dos = place_cell_peak_wavenumber(place_cell_covariance(encoder("dos", convention)))
    dog = place_cell_peak_wavenumber(place_cell_covariance(encoder("dog", convention)))
    gaussian = place_cell_peak_wavenumber(place_cell_covariance(encoder("gaussian", convention)))
    assert gaussian == 0.0
    assert dog < BOX_FUNDAMENTAL  # within the box's resolution of k = 0
    assert dos > 2 * BOX_FUNDAMENTAL
    # far from walls the DoS is an area-normalised DoG (each softmax sums to one): its power peaks at the 2-D k*
    surround = s * sigma if convention == "std_ratio" else math.sqrt(s) * sigma
    expected = optimal_wavenumber(1 / sigma**2, 1 / surround**2, sigma, surround, dim=2)
    assert dos == pytest.approx(expected, rel=0.05)


def test_heterogeneous_and_multifield_codes_are_supported():
    for overrides in ({"sigma_range": (0.06, 0.18), "surround_range": (1.5, 2.5)}, {"fields_lambda": 2.0}):
        cov = place_cell_covariance(encoder("dos", **overrides), n_grid=20)
        assert cov.code.shape == (400, 512)
        assert np.isfinite(place_cell_peak_wavenumber(cov))


# ---- pattern formation ----------------------------------------------------------------------------------------------
def test_nonnegative_pattern_is_hexagonal_for_dos_and_not_for_gaussian():
    dos_cov = place_cell_covariance(encoder("dos"))
    dos = nonnegative_pattern(dos_cov)
    gaussian = nonnegative_pattern(encoder("gaussian"), n_steps=100)
    for result in (dos, gaussian):
        assert result.pattern.min() >= 0
        assert np.linalg.norm(result.pattern) == pytest.approx(1.0)
        assert np.all(np.diff(result.objective) >= -1e-12 * np.abs(result.objective).max())  # ascent
    scores = grid_scores(np.stack([dos.pattern, gaussian.pattern])).score60_min_max
    assert scores[0] > 0.8
    assert scores[1] < 0.3
    period = grid_properties(dos.pattern[None], dos.bin_size_m).period_m[0]
    assert period == pytest.approx(predicted_grid_period(place_cell_peak_wavenumber(dos_cov)), rel=0.1)


def test_nonnegative_pattern_rejects_bad_sizes():
    cov = place_cell_covariance(encoder("dos", n_place_cells=32), n_grid=8)
    with pytest.raises(ValueError, match="n_grid"):
        nonnegative_pattern(cov, n_grid=4)
    with pytest.raises(ValueError, match="n_steps"):
        nonnegative_pattern(cov, n_steps=0)


def test_grid_wavenumber_inverts_the_period():
    from gridbook.analysis.theory import grid_wavenumber

    periods = np.array([0.3, 0.64, 1.2])
    np.testing.assert_allclose(predicted_grid_period(grid_wavenumber(periods)), periods)
    assert grid_wavenumber(4 * np.pi / np.sqrt(3)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="period"):
        grid_wavenumber(0.0)
