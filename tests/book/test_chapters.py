"""Helpers of the part-2 chapters on hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gridbook.book import chapters


def test_threshold_percentages_and_spike():
    results = pd.DataFrame({"sigma": [0.11, 0.11, 0.12, 0.13], "frac_units_above_0.3": [0.1, 0.3, 0.5, 0.0]})
    table = chapters.threshold_percentages(results, (0.3,))
    assert table.loc[0.11, (0.3, "mean")] == pytest.approx(20.0)
    assert table.loc[0.11, (0.3, "max")] == pytest.approx(30.0) and table.loc[0.11, ("runs", "")] == 2
    assert chapters.spike_contrast(table[(0.3, "mean")]) == pytest.approx(30.0)
    assert math.isnan(chapters.spike_contrast(table[(0.3, "mean")], at=0.13))
    with pytest.raises(ValueError, match="thresholds"):
        chapters.threshold_percentages(results, (0.5,))


def test_periods_and_modes():
    units = pd.DataFrame({"run_id": ["a"] * 3 + ["b"] * 2, "score60_min_max": [0.5, 0.1, 0.6, 0.9, 0.9],
                          "period_m": [0.4, 0.9, 0.4, 0.5, np.nan]})
    results = pd.DataFrame({"run_id": ["a", "b"], "sigma": [0.12, 0.14], "seed": [0, 0]})
    grid = chapters.grid_unit_periods(units, results)
    assert list(grid["period_m"]) == [0.4, 0.4, 0.5]
    table = chapters.period_table(grid)
    assert table.loc[0.12, "main mode (m)"] == 0.4 and table.loc[0.14, "grid units"] == 1
    assert chapters.modes_per_run(grid).to_dict() == {"a": 1, "b": 1}


def test_theory_maps_and_survival():
    maps = chapters.theory_maps(np.array([0.12]), np.array([1.0 + 1e-9, 4.0]).reshape(2, 1) * 0 + 4.0, a_i=0.0)
    assert np.all(maps["k_star"] == 0) and not maps["forms"].any()  # a Gaussian: no ring
    ring = chapters.theory_maps(0.12, 4.0, convention="std_ratio", cell_density=1e6)
    expected = math.sqrt(8 * math.log(4.0) / (15 * 0.12**2))  # 2-D, a_E = a_I = 1, sI = 4 sE
    assert float(ring["k_star"]) == pytest.approx(expected) and bool(ring["forms"])
    with pytest.raises(ValueError, match="surround_convention='x' is invalid"):
        chapters.theory_maps(0.12, 2.0, convention="x")
    np.testing.assert_array_equal(chapters.survival_curve([0.1, 0.5, np.nan], [0.0, 0.3, 0.6]), [1.0, 0.5, 0.0])


def test_condition_names():
    assert chapters.heterogeneity_condition({"sigma_range": None, "surround_range": None,
                                             "fields_lambda": 0.0}).startswith("baseline")
    assert chapters.heterogeneity_condition({"sigma_range": (0.06, 0.18), "surround_range": None,
                                             "fields_lambda": 2.0}) == "sigma ~ U(0.06, 0.18), multi-field (lambda 2)"


def test_split_surround_sweep_separates_the_s_block():
    table = pd.DataFrame({"sigma": [0.11, 0.12, 0.12, 0.12], "surround_scale": [2.0, 2.0, 1.5, 3.0],
                          "run_id": list("abcd")})
    sigma_runs, surround_runs = chapters.split_surround_sweep(table)
    assert list(sigma_runs["run_id"]) == ["a", "b"]
    assert list(surround_runs["run_id"]) == ["b", "c", "d"]  # every s at the surround sweep's sigma
    only_sigma, none = chapters.split_surround_sweep(table.iloc[:2])
    assert len(only_sigma) == 2 and len(none) == 0
