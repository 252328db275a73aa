"""The analysis of one network: rate maps, scores, periods and the per-run summary, against the parts run alone."""

import dataclasses

import numpy as np
import pytest

from gridbook.analysis.periods import grid_properties
from gridbook.analysis.pipeline import (
    NETWORK_SUMMARY,
    UNIT_COLUMNS,
    analyse_network,
    analyse_ratemaps,
    evaluate_ratemaps,
    maps_participation_ratio,
    summarize_units,
)
from gridbook.analysis.predictivity import participation_ratio
from gridbook.analysis.ratemaps import compute_ratemaps
from gridbook.analysis.scores import grid_scores
from gridbook.nets.evaluate import evaluate_networks
from gridbook.nets.trainer import train_networks
from gridbook.profiles import profile_config

SCORES = np.array([0.2, 0.5, 0.9, 1.3, np.nan])  # min-max score60 of 5 units
PERIODS = np.array([0.9, 0.4, 0.4, 0.4, np.nan])  # m


def test_analyse_network_equals_its_parts():
    config = profile_config("smoke", n_bins=12)
    rng = np.random.default_rng(0)
    positions = rng.uniform(-1.1, 1.1, (5000, 2))  # m
    activations = np.maximum(np.cos(positions @ rng.normal(0, 6, (2, 7))), 0)  # (N, 7) spatially tuned units
    result = analyse_network(positions, activations, config)
    maps = compute_ratemaps(positions, activations, n_bins=12, box=(2.2, 2.2))
    np.testing.assert_array_equal(result.ratemaps.maps, maps.maps)
    scores, props = grid_scores(maps.maps), grid_properties(maps.maps, bin_size_m=maps.bin_size_m[0])
    assert tuple(result.units) == UNIT_COLUMNS and tuple(result.summary) == NETWORK_SUMMARY
    np.testing.assert_array_equal(result.units["score60_min_max"], scores.score60_min_max)
    np.testing.assert_array_equal(result.units["period_m"], props.period_m)
    assert result.summary["participation_ratio"] == participation_ratio(maps.maps)
    assert result.summary["best_score60_min_max"] == np.nanmax(scores.score60_min_max)


def test_summary_of_units():
    summary = summarize_units({"score60_min_max": SCORES, "score60_mean": SCORES - 0.1, "period_m": PERIODS})
    assert summary["best_score60_min_max"] == 1.3 and summary["best_score60_mean"] == pytest.approx(1.2)
    assert summary["frac_units_above_0.3"] == 3 / 4  # NaN unit excluded
    assert summary["frac_units_above_0.8"] == 2 / 4 and summary["frac_units_above_1.2"] == 1 / 4
    assert summary["period_mode_m"] == 0.4  # units scoring > 0.3 all have period 0.4
    empty = summarize_units({"score60_min_max": [np.nan], "score60_mean": [np.nan], "period_m": [np.nan]})
    assert np.isnan(empty["best_score60_min_max"]) and empty["frac_units_above_0.8"] == 0.0
    assert np.isnan(empty["period_mode_m"])


def test_participation_ratio_of_diverged_or_unvisited_maps_is_nan():
    assert np.isnan(maps_participation_ratio(np.full((3, 4, 4), np.nan)))
    assert np.isnan(maps_participation_ratio(np.full((3, 4, 4), np.inf)))
    one_bin = np.full((3, 4, 4), np.nan)
    one_bin[:, 0, 0] = [1.0, 2.0, 3.0]
    assert np.isnan(maps_participation_ratio(one_bin))


def test_streamed_evaluation_gives_the_maps_of_the_whole_evaluation():
    configs = [profile_config("smoke", seed=s, n_hidden=16, n_place_cells=16, batch_size=8, seq_len=5, n_steps=2,
                              n_bins=10, eval_batches=3) for s in (0, 1)]
    result = train_networks(configs, device="cpu", progress=False)
    whole = evaluate_networks(result, indices=[1])
    (streamed,) = evaluate_ratemaps(result, indices=[1])
    maps = compute_ratemaps(whole[0]["positions"], whole[0]["activations"], n_bins=10, box=(2.2, 2.2))
    np.testing.assert_array_equal(streamed["ratemaps"].maps, maps.maps)
    np.testing.assert_array_equal(streamed["ratemaps"].occupancy, maps.occupancy)
    assert streamed["n_samples"] == 3 * 5 * 8 == len(whole[0]["positions"])
    assert streamed["decoding_error_cm"] == whole[0]["decoding_error_cm"] and streamed["loss"] == whole[0]["loss"]
    scored = analyse_ratemaps(streamed["ratemaps"])
    np.testing.assert_array_equal(scored.units["score60_min_max"],
                                  analyse_network(whole[0]["positions"], whole[0]["activations"],
                                                  configs[1]).units["score60_min_max"])


def test_streamed_evaluation_bins_the_shuffle_null_in_the_same_pass():
    config = profile_config("smoke", n_hidden=8, n_place_cells=16, batch_size=20, seq_len=10, n_steps=2, n_bins=8,
                            eval_batches=4, n_shuffles=0)
    result = train_networks([config], device="cpu", progress=False)
    (streamed,) = evaluate_ratemaps(result, n_shuffles=3, shuffle_seed=5)
    (whole,) = evaluate_networks(result)
    positions, activations = whole["positions"].reshape(4, 200, 2), whole["activations"].reshape(4, 200, 8)
    null = streamed["null"]
    assert sorted(null.shifts.tolist()) == [1, 2, 3] and null.scores.shape == (3, 8) and null.n_batches == 4
    for j, shift in enumerate(null.shifts):
        moved = np.concatenate([positions[(b + shift) % 4] for b in range(4)])
        maps = compute_ratemaps(moved, activations.reshape(-1, 8), n_bins=8, box=(2.2, 2.2)).maps
        np.testing.assert_allclose(null.scores[j], grid_scores(maps).score60_min_max, atol=1e-4)
    assert evaluate_ratemaps(result)[0]["null"] is None  # the config asks for none (n_shuffles 0)
    (from_config,) = evaluate_ratemaps(dataclasses.replace(result, configs=[config.replace(n_shuffles=3)]),
                                       shuffle_seed=5)
    np.testing.assert_array_equal(from_config["null"].scores, null.scores)  # None: the config's n_shuffles
    judged = analyse_ratemaps(streamed["ratemaps"], null=null)
    assert judged.null is null and judged.summary["null_score_p99"] == null.percentile()
    assert np.isnan(analyse_ratemaps(streamed["ratemaps"]).summary["frac_units_grid_like"])  # no null, no verdict
    (some,) = evaluate_ratemaps(dataclasses.replace(result, configs=[config.replace(n_shuffles=3, null_units=3)]),
                                shuffle_seed=5)
    units = some["null"].units  # three of the eight units, drawn from the seed; their scores are those of all
    assert units.shape == (3,) and len(set(units.tolist())) == 3 and units.tolist() == sorted(units.tolist())
    np.testing.assert_allclose(some["null"].scores, null.scores[:, units], atol=1e-6)
    assert evaluate_ratemaps(dataclasses.replace(result, configs=[config.replace(n_shuffles=3, null_units=8)]),
                             shuffle_seed=5)[0]["null"].units is None  # as many as there are: every unit
