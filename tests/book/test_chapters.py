"""Helpers of the part-2 chapters on hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gridbook.book import chapters
from gridbook.profiles import profile_config


def test_threshold_percentages():
    results = pd.DataFrame({"sigma": [0.11, 0.11, 0.12, 0.13], "frac_units_above_0.3": [0.1, 0.3, 0.5, 0.0]})
    table = chapters.threshold_percentages(results, (0.3,))
    assert table.loc[0.11, (0.3, "mean")] == pytest.approx(20.0)
    assert table.loc[0.11, (0.3, "max")] == pytest.approx(30.0) and table.loc[0.11, ("runs", "")] == 2
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


UNITS = pd.DataFrame({"run_id": ["a", "a", "b", "b", "c"], "unit": [0, 1, 0, 1, 0],
                      "score60_min_max": [0.9, 0.1, np.nan, 0.85, 0.2], "target": ["dos", "dos", "dos", "dos", "dog"]})
RESULTS = pd.DataFrame({"run_id": ["a", "b", "c"], "target": ["dos", "dos", "dog"],
                        "decoding_error_cm": [4.0, 12.0, 30.0], "best_score60_min_max": [0.9, 0.85, 0.2],
                        "a_i": [1.0, 1.0, 2.0], "null_score_p99": [0.7, 0.9, 0.5],
                        "frac_units_above_null": [0.5, 0.4, 0.2], "frac_units_grid_like": [0.5, 0.2, 0.0]})


def test_unit_fractions_count_unscored_units_as_below_and_average_the_runs_null_fractions():
    table = chapters.unit_fractions(UNITS, RESULTS, by="target", score_threshold=0.8, error_threshold_cm=10.0)
    assert table.loc["dos", "runs"] == 2 and table.loc["dos", "units"] == 4
    assert table.loc["dos", "above_threshold"] == 2 / 4 and table.loc["dog", "above_threshold"] == 0.0
    assert table.loc["dos", "grid_like"] == pytest.approx(0.35) and table.loc["dos", "null_p99"] == pytest.approx(0.8)
    assert table.loc["dos", "above_null"] == pytest.approx(0.45) and table.loc["dog", "grid_like"] == 0.0
    assert table.loc["dos", "best_score"] == 0.9 and table.loc["dos", "median error (cm)"] == 8.0
    assert table.loc["dos", "learned"] == 0.5 and table.loc["dog", "learned"] == 0.0


def test_best_units_and_score_densities():
    best = chapters.best_units(UNITS, by="target")
    assert list(zip(best["target"], best["score60_min_max"], strict=True)) == [("dog", 0.2), ("dos", 0.9)]
    grid = np.linspace(-1, 2, 31)
    densities = chapters.score_densities(UNITS, by="target", grid=grid)
    assert list(densities) == ["dos (3 units)"]  # the DoG's one score makes no density
    x, density = densities["dos (3 units)"]
    assert x is grid and density.shape == (31,) and (density >= 0).all()


def test_target_labels_and_swept_values():
    assert list(chapters.target_labels(RESULTS.assign(target=["dos", "general_dog", "dog"]))) == [
        "dos", "general DoG a_I=1.0", "dog"]
    table = chapters.swept_values(RESULTS, ("target", "a_i"))
    assert table.loc["target", "values swept"] == "dog, dos" and table.loc["a_i", "values swept"] == "1.0, 2.0"


def test_task_success_table_beside_the_paper():
    table = chapters.task_success_table(RESULTS, error_threshold_cm=10.0, score_thresholds=(0.8,))
    assert table.loc["dos", "learned"] == 0.5 and table.loc["dos", "grid > 0.8 | learned"] == 1.0
    assert math.isnan(table.loc["dog", "grid > 0.8 | learned"])  # no DoG run learned
    assert table.loc["dos", "grid-like | learned"] == 1.0  # run a (learned) has grid-like units
    chance = chapters.task_success_table(RESULTS.assign(frac_units_grid_like=[0.0, 0.2, 0.0]), 10.0, (0.8,))
    assert chance.loc["dos", "grid-like | learned"] == 0.0 and chance.loc["dos", "grid > 0.8 | learned"] == 1
    assert table.loc["dos", "paper learned"] == 0.93 and table.loc["dog", "paper grid > 0.8 | learned"] == 0.16


def test_periods_by_sigma_and_rank_correlation():
    grid_units = pd.DataFrame({"sigma": [0.12, 0.12, 0.14], "period_m": [0.5, 0.5, 0.6]})
    groups = chapters.periods_by(grid_units)
    np.testing.assert_array_equal(groups[0.12][0], [0.5, 0.5])
    np.testing.assert_array_equal(groups[0.12][1], [0.5])
    np.testing.assert_array_equal(groups[0.14][1], [0.6])
    table = pd.DataFrame({"participation_ratio": [1.0, 2.0, 3.0, np.nan], "predictivity": [0.1, 0.3, 0.2, 0.9]})
    assert chapters.predictivity_rank_correlation(table) == (pytest.approx(0.5), 3)
    rho, n = chapters.predictivity_rank_correlation(table.iloc[:2])
    assert math.isnan(rho) and n == 2


def test_unit_codes_and_spectra_of_real_encoders():
    config = profile_config("smoke")
    codes = chapters.unit_codes(config, ["cartesian", "gaussian"], n_points=11)
    assert codes["cartesian"].image.shape == (11, 11) and codes["cartesian"].axis[0] == -1.1
    np.testing.assert_allclose(codes["cartesian"].cut, codes["cartesian"].axis, atol=1e-6)  # unit 0 is x
    assert codes["gaussian"].image.max() == codes["gaussian"].cut.max()  # the cut passes through the centre
    spectra = chapters.place_code_spectra(config, {"DoS": "dos", "Gaussian": "gaussian"})
    assert spectra["Gaussian"].peak_k == 0.0 and spectra["DoS"].peak_k > 0  # the DoS spectrum is a ring

