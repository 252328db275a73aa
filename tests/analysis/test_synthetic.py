"""Synthetic maps with known answers: plane-wave lattices and smooth random fields."""

import numpy as np
import pytest

from gridbook.analysis.periods import grid_properties
from gridbook.analysis.scores import grid_scores
from gridbook.analysis.synthetic import HEXAGONAL, SQUARE, lattice_map, smooth_random_fields


def test_lattices_peak_at_their_origin_with_the_stated_spacing():
    hexagonal = lattice_map(30, 8, HEXAGONAL, origin=(10.0, 12.0))
    assert hexagonal.shape == (30, 30) and hexagonal[12, 10] == pytest.approx(3.0)  # three waves in phase
    spacing = grid_properties(hexagonal[None], bin_size_m=1.0).period_bins[0]
    assert spacing == pytest.approx(8 * 2 / np.sqrt(3), rel=0.03)
    square = lattice_map((20, 30), 6, SQUARE)
    assert square.shape == (20, 30) and square[0, 0] == 2.0 and square[6, 6] == pytest.approx(2.0)
    assert lattice_map(12, 5, rectified=True).min() == 0.0


def test_a_hexagonal_lattice_is_grid_like_and_a_square_one_is_not():
    scores = grid_scores(np.stack([lattice_map(30, 8, HEXAGONAL), lattice_map(30, 8, SQUARE)]))
    assert scores.score60_min_max[0] > 1.0 and scores.score60_min_max[1] < 0


def test_smooth_random_fields_are_z_scored_and_seeded():
    fields = smooth_random_fields(np.random.default_rng(0), 3, 16, sigma_bins=2.0)
    assert fields.shape == (3, 16, 16)
    np.testing.assert_allclose(fields.mean(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(fields.std(axis=(1, 2)), 1)
    np.testing.assert_array_equal(fields, smooth_random_fields(np.random.default_rng(0), 3, 16, sigma_bins=2.0))


def test_bad_wavelength_is_rejected():
    with pytest.raises(ValueError, match="wavelength_bins=0 is invalid"):
        lattice_map(10, 0)
