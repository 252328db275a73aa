"""The circular-shift null: shifted maps are the maps of the shifted pairing, scored by the one scorer."""

import numpy as np
import pytest

from gridbook.analysis.null import (
    ShuffledMapAccumulator,
    ShuffleNull,
    draw_shifts,
    draw_units,
    grid_like,
    null_summary,
    shuffle_null,
)
from gridbook.analysis.ratemaps import compute_ratemaps
from gridbook.analysis.scores import grid_scores

BOX = (2.2, 2.2)


def stream(n_batches=6, per_batch=3000, seed=0):
    """Positions (n, N_b, 2) m and activations (n, N_b, 3): a grid cell, a place-free noisy unit, a constant."""
    rng = np.random.default_rng(seed)
    positions = rng.uniform(-1.1, 1.1, (n_batches, per_batch, 2))
    angles = np.deg2rad([0, 60, 120])
    waves = np.stack([np.cos(angles), np.sin(angles)]) * 2 * np.pi / 0.45  # (2, 3) rad/m: a 0.52 m lattice
    grid = np.maximum(np.cos(positions @ waves).sum(-1), 0)  # (n, N_b) a rectified hexagonal lattice
    noise = rng.gamma(2.0, size=(n_batches, per_batch))
    activations = np.stack([grid, noise, np.ones_like(noise)], -1).astype(np.float32)
    return positions, activations


def test_shifted_maps_are_the_maps_of_the_shifted_pairing_and_scored_by_the_scorer():
    positions, activations = stream()
    shifts = [1, 4]
    acc = ShuffledMapAccumulator(3, list(positions), shifts, n_bins=12, box=BOX)
    for b in range(6):
        acc.add(b, activations[b])
    null = shuffle_null(acc)
    for j, shift in enumerate(shifts):
        moved = np.concatenate([positions[(b + shift) % 6] for b in range(6)])
        expected = compute_ratemaps(moved, activations.reshape(-1, 3), n_bins=12, box=BOX)
        np.testing.assert_allclose(acc.maps(j), expected.maps, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(null.scores[j], grid_scores(expected.maps).score60_min_max, atol=1e-4)
    real = compute_ratemaps(positions.reshape(-1, 2), activations.reshape(-1, 3), n_bins=12, box=BOX)
    np.testing.assert_array_equal(acc.grid.counts.numpy().reshape(12, 12), real.occupancy)  # occupancy kept


def test_a_grid_cell_beats_its_null_and_a_place_free_unit_does_not():
    positions, activations = stream(n_batches=12, per_batch=4000, seed=1)
    acc = ShuffledMapAccumulator(3, list(positions), draw_shifts(12, 11), n_bins=20, box=BOX)
    for b in range(12):
        acc.add(b, activations[b])
    null = shuffle_null(acc)
    real = grid_scores(compute_ratemaps(positions.reshape(-1, 2), activations.reshape(-1, 3), n_bins=20,
                                        box=BOX).maps).score60_min_max
    assert isinstance(null, ShuffleNull) and null.scores.shape == (11, 3) and null.n_batches == 12
    assert real[0] > 0.8 and real[0] > np.nanmax(null.scores[:, 0])  # the lattice is gone once shifted
    noise_null = null.scores[:, 1]  # the place-free unit: its real map is one more draw of its shuffles
    assert real[1] < 0.8 and noise_null.min() <= real[1] <= noise_null.max()
    assert ShuffleNull(null.shifts, null.scores[:, 1:2], "min_max", 12).percentile(100) == noise_null.max()
    assert (null.scores[:, 2] == 0).all()  # a constant map scores 0 (its autocorrelogram is 0) under every shift


def test_draw_shifts_and_bad_input():
    shifts = draw_shifts(200, 100, seed=3)
    assert shifts.size == 100 == np.unique(shifts).size and shifts.min() >= 1 and shifts.max() <= 199
    assert np.array_equal(shifts, draw_shifts(200, 100, seed=3)) and not np.array_equal(shifts, draw_shifts(200, 100))
    with pytest.raises(ValueError, match="n_shuffles=5 is invalid; allowed values: 1 .. n_batches - 1"):
        draw_shifts(5, 5)
    with pytest.raises(ValueError, match="n_batches=1 is invalid"):
        draw_shifts(1, 1)
    positions, activations = stream(n_batches=3, per_batch=10)
    with pytest.raises(ValueError, match="shifts=.* is invalid; allowed values: .* 1 .. 2"):
        ShuffledMapAccumulator(3, list(positions), [3], n_bins=4, box=BOX)
    acc = ShuffledMapAccumulator(3, list(positions), [1], n_bins=4, box=BOX)
    with pytest.raises(ValueError, match=r"activations of batch 0 must have shape \(10, 3\)"):
        acc.add(0, activations[0, :, :2])
    with pytest.raises(ValueError, match="score_form='best' is invalid"):
        shuffle_null(acc, score_form="best")


def test_grid_like_needs_both_the_paper_threshold_and_the_null():
    scores = np.array([0.5, 0.85, 0.95, 1.3, np.nan])
    np.testing.assert_array_equal(grid_like(scores, 0.2), [False, True, True, True, False])  # the null below 0.8
    np.testing.assert_array_equal(grid_like(scores, 0.9), [False, False, True, True, False])  # coarse maps: above
    np.testing.assert_array_equal(grid_like(scores, 1.5), [False] * 5)  # chance beats every unit: none is grid-like
    with pytest.raises(ValueError, match="null_threshold=nan is invalid; allowed values: a finite score"):
        grid_like(scores, float("nan"))


def test_null_summary_counts_units_above_chance_and_grid_like_units():
    null = ShuffleNull(np.arange(1, 101), np.tile(np.linspace(0, 0.99, 100)[:, None], (1, 2)), "min_max", 101)
    p99 = null.percentile()
    assert p99 == pytest.approx(np.percentile(np.linspace(0, 0.99, 100), 99))
    summary = null_summary(np.array([0.3, 0.97, 0.99, 1.2, np.nan]), null)
    assert summary == {"null_score_p99": p99, "frac_units_above_null": 0.5, "frac_units_grid_like": 0.5}
    place_like = null_summary(np.array([0.6, 0.7]), ShuffleNull(np.array([1]), np.array([[0.1, 0.2]]), "min_max", 2))
    assert place_like["frac_units_above_null"] == 1.0 and place_like["frac_units_grid_like"] == 0.0  # lenient null
    assert all(np.isnan(v) for v in null_summary(np.array([1.0]), None).values())
    assert np.isnan(null_summary(np.array([np.nan]), null)["frac_units_grid_like"])


def test_draw_units_draws_distinct_sorted_units_or_none_for_all():
    units = draw_units(256, 64, seed=0)
    assert units.shape == (64,) and len(set(units.tolist())) == 64 and (np.diff(units) > 0).all()
    np.testing.assert_array_equal(units, draw_units(256, 64, seed=0))
    assert not np.array_equal(units, draw_units(256, 64, seed=1))
    assert draw_units(256, 0) is None and draw_units(32, 64) is None
    with pytest.raises(ValueError, match="null_units=-1 is invalid"):
        draw_units(256, -1)
