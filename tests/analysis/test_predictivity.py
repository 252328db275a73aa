"""Participation ratio, neural predictivity, the simulated MEC population and random-feature baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gridbook.analysis.predictivity import (
    neural_predictivity,
    participation_ratio,
    random_feature_maps,
    ridge_fit_predict,
    simulate_mec_population,
)
from gridbook.analysis.scores import grid_scores


def fourier_maps(k, n=16):
    """k zero-mean, mutually orthogonal maps of equal variance (distinct cosine modes), shape (k, n, n)."""
    x = np.arange(n)
    modes = [(1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (3, 0)][:k]
    return np.stack([np.cos(2 * np.pi * (a * x[None, :] + b * x[:, None]) / n) for a, b in modes])


# ---- participation ratio ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_participation_ratio_of_k_orthogonal_equal_variance_maps_is_k(k):
    assert participation_ratio(fourier_maps(k)) == pytest.approx(k, rel=1e-10)


def test_participation_ratio_exact_cases():
    maps = fourier_maps(2)
    # eigenvalues in ratio 1 : 4 -> (1 + 4)^2 / (1 + 16)
    assert participation_ratio(maps * np.array([1.0, 2.0])[:, None, None]) == pytest.approx(25 / 17, rel=1e-10)
    # duplicated units, offsets and a rotation of the population leave the spectrum's shape unchanged
    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    mixed = np.einsum("ij,jyx->iyx", rotation, maps) + 3.0
    assert participation_ratio(np.concatenate([mixed, mixed])) == pytest.approx(2.0, rel=1e-10)
    # rank one: every unit a multiple of one map
    assert participation_ratio(np.stack([maps[0], -2 * maps[0], 0.5 * maps[0]])) == pytest.approx(1.0)


def test_participation_ratio_of_activations_and_nan_bins():
    maps = fourier_maps(3)
    activations = maps.reshape(3, -1).T  # (samples, units)
    assert participation_ratio(activations, units_axis=1) == pytest.approx(3.0, rel=1e-10)
    assert participation_ratio(torch.tensor(activations), units_axis=-1) == pytest.approx(3.0, rel=1e-10)
    # a bin NaN in one unit is dropped for all units: garbage in the other units' copy of that bin changes nothing
    dropped = np.ones(maps.shape[1:], bool)
    dropped[0, :] = False  # one full row of bins: orthogonality holds on the remaining rows
    with_nan = maps.copy()
    with_nan[0, 0, :] = np.nan
    with_nan[1:, 0, :] = 1e6
    expected = participation_ratio(maps[:, dropped][:, None, :])
    assert participation_ratio(with_nan) == pytest.approx(expected, rel=1e-10)


def test_participation_ratio_rejects_bad_input():
    with pytest.raises(ValueError, match="units_axis"):
        participation_ratio(np.zeros((3, 4)), units_axis=2)
    with pytest.raises(ValueError, match="at least 2"):
        participation_ratio(np.full((3, 4), np.nan))
    with pytest.raises(ValueError, match="shape"):
        participation_ratio(np.zeros(5))


# ---- neural predictivity --------------------------------------------------------------------------------------------
def test_ridge_matches_normal_equations_in_primal_and_dual():
    rng = np.random.default_rng(0)
    for n_features in (5, 40):  # primal (U <= n) and dual (U > n) branches
        x, y, x_test = rng.normal(size=(20, n_features)), rng.normal(size=(20, 3)), rng.normal(size=(7, n_features))
        xc, yc = x - x.mean(0), y - y.mean(0)
        weights = np.linalg.pinv(xc.T @ xc + 0.5 * np.eye(n_features)) @ xc.T @ yc
        expected = (x_test - x.mean(0)) @ weights + y.mean(0)
        np.testing.assert_allclose(ridge_fit_predict(x, y, x_test, 0.5), expected, rtol=1e-8, atol=1e-10)


def test_predictivity_of_the_target_itself_is_one():
    population = simulate_mec_population(n_modules=2, cells_per_module=8, n_spatial=8, n_bins=20, seed=3)
    result = neural_predictivity(population.maps, population.maps, alpha=1e-6)
    assert result.median == pytest.approx(1.0, abs=1e-6)
    assert result.per_split_r.shape == (10, 24)
    assert result.n_train_bins == 80 and result.n_test_bins == 320  # 20% of 400 bins


def test_unrelated_features_predict_nothing():
    population = simulate_mec_population(n_modules=2, cells_per_module=8, n_spatial=8, n_bins=20, seed=3)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(8, 20, 20))
    assert abs(neural_predictivity(noise, population.maps).median) < 0.15


def test_higher_dimensional_random_features_predict_better():
    """The R7 mechanism: predictivity rises with the dimensionality of the model's rate maps alone."""
    population = simulate_mec_population(seed=0)
    medians, ratios = [], []
    for dims in (4, 16, 64):
        features = random_feature_maps(256, dims, seed=1)
        ratios.append(participation_ratio(features))
        medians.append(neural_predictivity(features, population.maps).median)
    assert ratios[0] < ratios[1] < ratios[2]
    assert medians[0] < medians[1] < medians[2]
    assert medians[2] - medians[0] > 0.2


def test_nan_bins_are_dropped_and_splits_are_seeded():
    population = simulate_mec_population(n_modules=1, cells_per_module=6, n_spatial=4, n_bins=12, seed=0)
    model = random_feature_maps(16, 8, n_bins=12, seed=2)
    model_nan = model.copy()
    model_nan[3, 0, :] = np.nan  # row 0 unvisited
    first = neural_predictivity(model_nan, population.maps, seed=5)
    again = neural_predictivity(model_nan, population.maps, seed=5)
    np.testing.assert_array_equal(first.per_split_r, again.per_split_r)
    assert first.n_train_bins + first.n_test_bins == 12 * 11
    trimmed = neural_predictivity(model[:, 1:, :], population.maps[:, 1:, :], seed=5)
    np.testing.assert_allclose(first.per_split_r, trimmed.per_split_r)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"target_maps": np.zeros((3, 5, 5))}, "bins"),
    ({"n_splits": 0}, "n_splits"),
    ({"train_fraction": 1.0}, "train_fraction"),
    ({"alpha": -1.0}, "alpha"),
])
def test_predictivity_rejects_bad_input(kwargs, match):
    args = {"model_maps": np.ones((2, 4, 4)), "target_maps": np.ones((3, 4, 4)), **kwargs}
    with pytest.raises(ValueError, match=match):
        neural_predictivity(**args)


# ---- the simulated population and random features ------------------------------------------------------------------
def test_simulated_population_layout_and_modules():
    population = simulate_mec_population(n_modules=3, cells_per_module=5, n_spatial=4, ratio=1.4, spacing0=0.3,
                                         noise=0.0, seed=7)
    assert population.maps.shape == (19, 44, 44)
    assert population.is_grid.sum() == 15 and population.module.tolist() == [0] * 5 + [1] * 5 + [2] * 5 + [-1] * 4
    assert np.isnan(population.spacing_m[~population.is_grid]).all()
    module_spacing = [np.median(population.spacing_m[population.module == m]) for m in range(3)]
    np.testing.assert_allclose(np.diff(np.log(module_spacing)), np.log(1.4), atol=0.05)
    assert population.maps.min() >= 0  # no noise: rectified rates
    scores = grid_scores(population.maps).score60_min_max
    assert np.all(scores[population.is_grid] > 0.8)
    assert np.median(scores[~population.is_grid]) < 0.3  # smoothed random fields: some score by chance, most not
    np.testing.assert_allclose(population.x_edges[[0, -1]], [-1.1, 1.1])


def test_simulated_grid_maps_are_bin_averages_not_point_samples():
    kw = dict(n_modules=1, cells_per_module=3, n_spatial=0, noise=0.0, spacing0=0.25, seed=4)
    fine = simulate_mec_population(n_bins=40, supersample=1, **kw).maps  # (3, 40, 40): 5.5 cm point samples
    coarse = simulate_mec_population(n_bins=20, supersample=2, **kw).maps  # 11 cm bins, 2 x 2 points each
    np.testing.assert_allclose(coarse, fine.reshape(3, 20, 2, 20, 2).mean(axis=(2, 4)), atol=1e-12)
    point = simulate_mec_population(n_bins=20, supersample=1, **kw).maps  # the centre alone: aliased
    assert np.abs(point - coarse).max() > 0.1 and point.max() > coarse.max()  # peaks are blurred by averaging
    with pytest.raises(ValueError, match="supersample=0 is invalid; allowed values: an integer >= 1"):
        simulate_mec_population(supersample=0)


def test_simulated_population_is_seeded_and_noisy():
    a = simulate_mec_population(cells_per_module=4, n_spatial=4, seed=1)
    b = simulate_mec_population(cells_per_module=4, n_spatial=4, seed=1)
    c = simulate_mec_population(cells_per_module=4, n_spatial=4, seed=2)
    np.testing.assert_array_equal(a.maps, b.maps)
    assert not np.allclose(a.maps, c.maps)
    clean = simulate_mec_population(cells_per_module=4, n_spatial=4, seed=1, noise=0.0)
    residual = (a.maps - clean.maps) / clean.maps.max(axis=(1, 2), keepdims=True)
    assert residual.std() == pytest.approx(0.1, rel=0.05)


def test_random_features_have_exact_rank_and_unit_variance():
    features = random_feature_maps(64, 6, n_bins=16, seed=0)
    flat = features.reshape(64, -1)
    assert np.linalg.matrix_rank(flat - flat.mean(1, keepdims=True), tol=1e-8) == 6
    np.testing.assert_allclose(flat.std(axis=1), 1.0)
    assert participation_ratio(random_feature_maps(2000, 6, n_bins=16, seed=0)) == pytest.approx(6, rel=0.05)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: simulate_mec_population(ratio=0.0), "ratio"),
    (lambda: simulate_mec_population(n_modules=0, n_spatial=0), "empty"),
    (lambda: simulate_mec_population(noise=-0.1), "noise"),
    (lambda: random_feature_maps(0, 3), "n_features"),
    (lambda: random_feature_maps(10, 0), "dims"),
    (lambda: random_feature_maps(10, 3, n_bins=2), "n_bins"),
])
def test_generators_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
