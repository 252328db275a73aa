"""Rate maps: exact means on hand-made data, NaN where unvisited, edges, occupancy, NaN-aware smoothing, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.stats
import torch

from gridbook.analysis.ratemaps import (
    RateMapAccumulator,
    RateMaps,
    bin_centres,
    compute_ratemaps,
    gaussian_smooth_nan,
)


def test_hand_made_example_gives_exact_means_and_nan_where_unvisited():
    # box 2 m x 1 m centred at 0, 2 x 2 bins: x edges -1, 0, 1; y edges -0.5, 0, 0.5
    positions = np.array([[-0.5, -0.25], [-0.7, -0.1], [0.5, -0.25], [0.9, 0.4], [0.1, 0.3], [0.6, 0.2]])
    activations = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 0.0], [2.0, 1.0], [4.0, 2.0], [6.0, 3.0]])
    rm = compute_ratemaps(positions, activations, n_bins=2, box=(2.0, 1.0))
    assert isinstance(rm, RateMaps) and rm.maps.dtype == np.float32 and rm.maps.shape == (2, 2, 2)
    expected = np.array([[[2.0, 5.0], [np.nan, 4.0]], [[15.0, 0.0], [np.nan, 2.0]]])  # maps[u, iy, ix]
    np.testing.assert_array_equal(rm.maps, expected.astype(np.float32))
    np.testing.assert_array_equal(rm.occupancy, [[2, 1], [0, 3]])
    np.testing.assert_array_equal(rm.x_edges, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(rm.y_edges, [-0.5, 0.0, 0.5])
    assert rm.bin_size_m == (1.0, 0.5) and rm.n_units == 2


def test_non_square_grid_and_walls():
    positions = np.array([[-1.5, -1.0], [1.5, 1.0], [0.0, 0.0]])  # two corners (on the walls) and the centre
    rm = compute_ratemaps(positions, np.array([[1.0], [2.0], [3.0]]), n_bins=(3, 2), box=(3.0, 2.0))
    assert rm.maps.shape == (1, 2, 3) and rm.occupancy.shape == (2, 3)
    np.testing.assert_array_equal(rm.maps[0], [[1.0, np.nan, np.nan], [np.nan, 3.0, 2.0]])
    np.testing.assert_allclose(bin_centres(rm.x_edges), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(bin_centres(rm.y_edges), [-0.5, 0.5])


def test_random_samples_match_scipy_binned_statistic_and_occupancy_sums_to_n():
    rng = np.random.default_rng(0)
    positions = rng.uniform(-1.1, 1.1, size=(5000, 2))
    activations = rng.normal(size=(5000, 7)).astype(np.float32)
    rm = compute_ratemaps(positions, activations, n_bins=20, box=(2.2, 2.2))
    assert rm.occupancy.sum() == 5000
    for u in (0, 6):  # binned_statistic_2d(y, x) gives [iy, ix] image order
        expected = scipy.stats.binned_statistic_2d(positions[:, 1], positions[:, 0], activations[:, u], "mean",
                                                   bins=20, range=((-1.1, 1.1), (-1.1, 1.1))).statistic
        np.testing.assert_allclose(rm.maps[u], expected, rtol=1e-5, atol=1e-6)
    counts, _, _ = np.histogram2d(positions[:, 1], positions[:, 0], bins=20, range=((-1.1, 1.1), (-1.1, 1.1)))
    np.testing.assert_array_equal(rm.occupancy, counts)
    np.testing.assert_allclose(rm.x_edges, np.linspace(-1.1, 1.1, 21))


def test_torch_input_matches_numpy_input():
    rng = np.random.default_rng(1)
    positions, activations = rng.uniform(-1, 1, size=(400, 2)), rng.normal(size=(400, 5)).astype(np.float32)
    a = compute_ratemaps(positions, activations, n_bins=8, box=(2, 2))
    b = compute_ratemaps(torch.as_tensor(positions), torch.as_tensor(activations), n_bins=8, box=(2, 2))
    np.testing.assert_array_equal(a.maps, b.maps)
    np.testing.assert_array_equal(a.occupancy, b.occupancy)


def test_smoothing_keeps_constant_maps_and_nan_bins():
    rng = np.random.default_rng(2)
    positions = rng.uniform(-1, 1, size=(3000, 2))
    positions = positions[~((positions[:, 0] < -0.3) & (positions[:, 1] > 0.2))]  # an unvisited corner
    activations = np.stack([np.full(len(positions), 2.5), rng.normal(size=len(positions))], axis=1)
    raw = compute_ratemaps(positions, activations, n_bins=16, box=(2, 2))
    smooth = compute_ratemaps(positions, activations, n_bins=16, box=(2, 2), smooth_sigma_bins=1.5)
    assert np.isnan(raw.maps).any()
    np.testing.assert_array_equal(np.isnan(smooth.maps), np.isnan(raw.maps))
    np.testing.assert_allclose(smooth.maps[0][np.isfinite(smooth.maps[0])], 2.5, rtol=1e-6)
    assert np.nanstd(smooth.maps[1]) < 0.6 * np.nanstd(raw.maps[1])
    np.testing.assert_array_equal(smooth.occupancy, raw.occupancy)


def test_smoothing_is_the_normalised_convolution():
    rng = np.random.default_rng(3)
    maps = rng.normal(size=(2, 10, 12))
    maps[0, 2:5, 3:7] = np.nan
    maps[1, rng.random((10, 12)) < 0.2] = np.nan
    sigma = 1.3
    got = gaussian_smooth_nan(torch.as_tensor(maps), sigma).numpy()
    for rate_map, smoothed in zip(maps, got, strict=True):
        visited = np.isfinite(rate_map)
        num = ndi.gaussian_filter(np.where(visited, rate_map, 0.0), sigma, mode="constant", truncate=4.0)
        den = ndi.gaussian_filter(visited.astype(float), sigma, mode="constant", truncate=4.0)
        np.testing.assert_allclose(smoothed, np.where(visited, num / den, np.nan), atol=1e-12)
    unsmoothed = torch.as_tensor(maps)
    assert gaussian_smooth_nan(unsmoothed, 0.0) is unsmoothed


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"positions": np.zeros((5, 3))}, r"positions must have shape \(N, 2\)"),
        ({"activations": np.zeros((4, 2))}, r"activations must have shape \(N, U\) with N = 5"),
        ({"activations": np.zeros(5)}, r"activations must have shape \(N, U\)"),
        ({"n_bins": 1}, "n_bins=1 is invalid; allowed values: >= 2"),
        ({"n_bins": 2.5}, "n_bins=2.5 is invalid"),
        ({"n_bins": (4, 4, 4)}, "n_bins=.* is invalid"),
        ({"box": (2.0, -1.0)}, "box=.* is invalid"),
        ({"box": 2.0}, "box=2.0 is invalid"),
        ({"smooth_sigma_bins": -1.0}, "smooth_sigma_bins=-1.0 is invalid"),
        ({"positions": np.full((5, 2), 1.5)}, "outside the box"),
        ({"positions": np.full((5, 2), np.nan)}, "NaN"),
    ],
)
def test_bad_input_raises_with_a_clear_message(kwargs, match):
    args = {"positions": np.zeros((5, 2)), "activations": np.zeros((5, 2)), "n_bins": 4, "box": (2.0, 2.0)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        compute_ratemaps(**args)


def test_bin_centres_rejects_bad_edges():
    with pytest.raises(ValueError, match="edges"):
        bin_centres(np.array([1.0]))


def test_bin_edges_are_the_rate_maps_edges():
    from gridbook.analysis.ratemaps import bin_edges

    x, y = bin_edges((4, 2), box=(2.0, 1.0))
    np.testing.assert_array_equal(x, [-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(y, [-0.5, 0.0, 0.5])
    maps = compute_ratemaps(np.zeros((3, 2)), np.ones((3, 1)), n_bins=(4, 2), box=(2.0, 1.0))
    np.testing.assert_array_equal(maps.x_edges, x)


@pytest.mark.parametrize("smooth", [0.0, 1.5])
def test_maps_streamed_batch_by_batch_equal_maps_computed_at_once(smooth):
    rng = np.random.default_rng(3)
    positions = rng.uniform(-1.1, 1.1, (5000, 2))
    activations = rng.gamma(2.0, size=(5000, 7)).astype(np.float32)
    whole = compute_ratemaps(positions, activations, n_bins=12, box=(2.2, 2.2), smooth_sigma_bins=smooth)
    stream = RateMapAccumulator(7, n_bins=12, box=(2.2, 2.2))
    for start in range(0, 5000, 777):  # uneven batches
        stream.add(positions[start : start + 777], torch.from_numpy(activations[start : start + 777]))
    streamed = stream.ratemaps(smooth_sigma_bins=smooth)
    np.testing.assert_array_equal(streamed.maps, whole.maps)
    np.testing.assert_array_equal(streamed.occupancy, whole.occupancy)
    assert stream.sums.shape == (144, 7)  # O(bins x units), whatever the number of samples
    first = RateMapAccumulator(7, n_bins=12, box=(2.2, 2.2))
    first.add(positions[:777], activations[:777])
    assert not np.array_equal(first.ratemaps().occupancy, whole.occupancy)


def test_accumulator_rejects_bad_batches():
    stream = RateMapAccumulator(3, n_bins=4, box=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"activations must have shape \(N, 3\)"):
        stream.add(np.zeros((5, 2)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="N = 5 samples like positions"):
        stream.add(np.zeros((5, 2)), np.zeros((6, 3)))
    with pytest.raises(ValueError, match="outside the box"):
        stream.add(np.full((1, 2), 0.9), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="n_units=0 is invalid"):
        RateMapAccumulator(0)
