"""Grid period and orientation from the autocorrelogram, the modes of a period distribution and its trend."""

from __future__ import annotations

import numpy as np
import pytest

from gridbook.analysis.periods import (
    BIC_EVIDENCE,
    grid_properties,
    main_period_mode,
    mode_ratio_intervals,
    mode_ratios,
    module_test,
    period_modes,
    period_trend,
)
from gridbook.analysis.scores import grid_scores, spatial_autocorrelogram
from gridbook.analysis.synthetic import lattice_map

HEX_CASES = [(20, 7, 10, False), (20, 10, 47, True), (30, 7, 25, True), (30, 10, 0, False), (30, 14, 33, True)]



def hexagonal_map(n, period, orientation_deg, phase=(0.0, 0.0), rectified=False):
    """A hexagonal lattice of spacing ``period`` bins, lattice vectors at orientation_deg + k 60, a peak ``phase``
    bins from the centre."""
    angles = [orientation_deg + 30 + 60 * j for j in range(3)]
    origin = ((n - 1) / 2 + phase[0], (n - 1) / 2 + phase[1])
    return lattice_map(n, period * np.sqrt(3) / 2, angles, origin=origin, rectified=rectified)


@pytest.mark.parametrize("n,period,orientation,rectified", HEX_CASES)
def test_hexagonal_lattice_scores_above_one_with_its_period_and_orientation(n, period, orientation, rectified):
    rate_map = hexagonal_map(n, period, orientation, (1.3, -0.7), rectified)[None]
    scores = grid_scores(rate_map)
    assert scores.score60_mean[0] > 1.0
    assert scores.score60("min_max")[0] > 0.8
    props = grid_properties(rate_map, bin_size_m=0.05)
    assert props.period_bins[0] == pytest.approx(period, rel=0.05)
    assert props.period_m[0] == pytest.approx(0.05 * period, rel=0.05)
    assert abs((props.orientation_deg[0] - orientation + 30) % 60 - 30) < 3
    assert 0 <= props.orientation_deg[0] < 60
    assert props.period_spread_bins[0] < 0.05 * period and props.orientation_spread_deg[0] < 3


def test_grid_properties_are_nan_without_six_peaks_and_reuse_sacs():
    maps = np.stack([np.full((16, 16), 2.0), hexagonal_map(16, 6, 12)])
    props = grid_properties(maps, bin_size_m=0.1)
    assert np.isnan(props.period_bins[0]) and np.isnan(props.orientation_deg[0]) and np.isnan(props.period_m[0])
    again = grid_properties(maps, bin_size_m=0.1, sacs=spatial_autocorrelogram(maps))
    np.testing.assert_array_equal(props.period_bins, again.period_bins)
    assert props.period_m[1] == pytest.approx(0.1 * props.period_bins[1])
    with pytest.raises(ValueError, match="bin_size_m"):
        grid_properties(maps, bin_size_m=0)


def test_period_modes_of_a_bimodal_sample():
    rng = np.random.default_rng(4)
    periods = np.concatenate([rng.normal(0.4, 0.03, 300), rng.normal(0.56, 0.04, 200), [np.nan]])
    modes = period_modes(periods)
    assert modes.shape == (2,)
    assert modes[0] == pytest.approx(0.4, abs=0.02) and modes[1] == pytest.approx(0.56, abs=0.02)
    np.testing.assert_allclose(mode_ratios(modes), [modes[1] / modes[0]])
    assert period_modes(rng.normal(1.0, 0.05, 200)).shape == (1,)
    np.testing.assert_allclose(mode_ratios([0.6, 0.3, 0.42]), [1.4, 0.6 / 0.42])


def test_period_modes_of_too_few_periods_and_errors():
    assert period_modes([]).size == 0 and period_modes([np.nan]).size == 0
    np.testing.assert_array_equal(period_modes([0.3, np.nan]), [0.3])
    np.testing.assert_array_equal(period_modes([0.3, 0.3, 0.3]), [0.3])
    with pytest.raises(ValueError, match="grid_points=2 is invalid"):
        period_modes([0.3, 0.4], grid_points=2)
    with pytest.raises(ValueError, match="positive"):
        mode_ratios([0.0, 0.3])


def test_main_period_mode_is_the_mode_nearest_the_median():
    rng = np.random.default_rng(5)
    periods = np.concatenate([rng.normal(0.4, 0.02, 300), rng.normal(0.8, 0.02, 100)])  # median in the 0.4 mode
    assert main_period_mode(periods) == pytest.approx(0.4, abs=0.01)
    assert main_period_mode(np.concatenate([periods, rng.normal(0.8, 0.02, 400)])) == pytest.approx(0.8, abs=0.01)
    assert main_period_mode([0.5]) == 0.5 and np.isnan(main_period_mode([]))



def test_period_trend_sorts_drops_nan_and_keeps_the_order_of_sigma():
    trend = period_trend([0.14, 0.10, 0.12, 0.16], [0.36, 0.30, 0.33, np.nan])
    np.testing.assert_array_equal(trend.sigma_m, [0.10, 0.12, 0.14])
    assert trend.slope == pytest.approx(1.5)
    np.testing.assert_allclose(trend.ratios, [1.1, 0.36 / 0.33])  # neighbouring sigma, not sorted periods
    falling = period_trend([0.10, 0.12], [0.4, 0.3])
    assert falling.slope < 0 and falling.ratios[0] == pytest.approx(0.75)
    one = period_trend([0.10], [0.3])
    assert np.isnan(one.slope) and one.ratios.size == 0
    with pytest.raises(ValueError, match="pair up"):
        period_trend([0.1, 0.2], [0.3])


def test_module_test_finds_two_modules_a_ratio_apart_and_one_in_a_single_cloud():
    rng = np.random.default_rng(0)
    one = module_test(rng.normal(0.5, 0.02, 40))
    assert one.n_modules == 1 and one.n_units == 40 and one.delta_bic < BIC_EVIDENCE
    two = module_test(np.r_[rng.normal(0.40, 0.01, 20), rng.normal(0.56, 0.015, 20)])  # ratio 1.4
    assert two.n_modules == 2 and two.delta_bic > BIC_EVIDENCE
    few = module_test([0.4, 0.56, np.nan, 0.41])
    assert (few.n_modules, few.n_units) == (1, 3) and np.isnan(few.delta_bic)


def test_mode_ratio_intervals_hold_the_ratio_of_the_main_modes():
    rng = np.random.default_rng(1)
    groups = [rng.normal(0.40, 0.01, 40), rng.normal(0.56, 0.01, 40)]
    ((ratio, low, high),) = mode_ratio_intervals(groups)
    assert ratio == pytest.approx(main_period_mode(groups[1]) / main_period_mode(groups[0]))
    assert low <= ratio <= high and 1.3 < low and high < 1.5
    assert mode_ratio_intervals([groups[0]]).shape == (0, 3)
