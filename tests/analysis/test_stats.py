"""Seed spread: bootstrap intervals over seeds, and the rule that one interval lies above another."""

import numpy as np
import pytest

from gridbook.analysis.stats import SeedCI, ci_above, rank_correlation_test, seed_ci


def test_interval_of_equal_seeds_is_a_point_and_of_one_seed_is_missing():
    same = seed_ci([0.2, 0.2, 0.2])
    assert (same.mean, same.low, same.high, same.n) == pytest.approx((0.2, 0.2, 0.2, 3))
    one = seed_ci([0.3, np.nan])  # NaN values are not seeds
    assert one.mean == 0.3 and one.n == 1 and np.isnan(one.low) and np.isnan(one.high)
    assert one.text(100) == "30.0 (1 seed, no interval)"
    assert seed_ci([]).n == 0 and np.isnan(seed_ci([]).mean)


def test_interval_holds_the_mean_within_the_range_and_is_reproducible():
    values = [0.1, 0.3, 0.2, 0.6]
    ci = seed_ci(values)
    assert ci.mean == pytest.approx(0.3) and 0.1 <= ci.low < ci.mean < ci.high <= 0.6
    assert ci == seed_ci(values) and ci.text(100) == f"30.0 [{100 * ci.low:.1f}, {100 * ci.high:.1f}] (4 seeds)"
    two = seed_ci([0.0, 1.0])  # resamples of 2 seeds: means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4
    assert (two.low, two.high) == (0.0, 1.0)
    with pytest.raises(ValueError, match="level=1.5 is invalid; allowed values: 0 < level < 1"):
        seed_ci(values, level=1.5)


def test_ci_above_needs_separated_intervals_from_at_least_two_seeds_each():
    high, low = seed_ci([0.10, 0.12, 0.11]), seed_ci([0.0, 0.01, 0.0])
    assert ci_above(high, low) and not ci_above(low, high)
    assert not ci_above(seed_ci([0.10, 0.0, 0.11]), low)  # overlapping: a seed without grid units
    assert not ci_above(seed_ci([0.5]), low)  # one seed: no interval, so never "above"
    assert not ci_above(SeedCI(0.5, 0.4, 0.6, 3), SeedCI(0.45, 0.3, 0.45, 3))  # 0.4 <= 0.45: not above
    assert ci_above(SeedCI(0.5, 0.46, 0.6, 3), SeedCI(0.45, 0.3, 0.45, 3))


def test_rank_correlation_test_is_exact_for_few_pairs_and_one_sided():
    rising = rank_correlation_test([1, 2, 3, 4, 5, 6], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert (rising.rho, rising.n) == (pytest.approx(1.0), 6) and rising.p_value == pytest.approx(1 / 720)  # 6! pairings
    falling = rank_correlation_test([1, 2, 3, 4], [4, 3, 2, 1])
    assert falling.rho == pytest.approx(-1.0) and falling.p_value == pytest.approx(1.0)  # rho > 0 is the alternative
    assert np.isnan(rank_correlation_test([1, 2, np.nan], [1, 2, 3]).rho)  # 2 pairs left
    with pytest.raises(ValueError, match="x has 2 values but y has 3"):
        rank_correlation_test([1, 2], [1, 2, 3])
