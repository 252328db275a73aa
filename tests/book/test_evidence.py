"""Sentences about chance, computed from a results table."""

import numpy as np
import pandas as pd

from gridbook.book import evidence

RESULTS = pd.DataFrame({"null_score_p99": [0.7, 0.9, 0.5], "frac_units_above_null": [0.5, 0.4, 0.2],
                        "frac_units_grid_like": [0.5, 0.2, 0.0]})


def test_chance_sentence_states_the_nulls_range_and_fractions_or_their_absence():
    text = evidence.chance_sentence(RESULTS)
    assert text == ("Chance, for these 3 runs: the 99th percentile of each run's shuffle null lies between 0.50 and "
                    "0.90, on both sides of the paper's 0.8. On average 36.7% of a run's units beat their null and "
                    "23.3% are grid-like (above both).")
    high = RESULTS.assign(null_score_p99=[0.85, 0.9, 1.0])
    assert "above the paper's 0.8" in evidence.chance_sentence(high)
    no_null = RESULTS.assign(null_score_p99=np.nan)
    assert evidence.chance_sentence(no_null).startswith("These runs have no shuffle null")


def test_learned_is_judged_by_the_fine_decoder_and_old_runs_by_their_own():
    table = pd.DataFrame({"decoding_error_cm": [15.0, 15.0, 5.0, 12.0],  # the top-3 rule's floor is ~8 cm
                          "decoding_error_fine_cm": [6.0, 14.0, 4.0, np.nan]})  # the last run predates the metric
    np.testing.assert_array_equal(evidence.judged_error_cm(table), [6.0, 14.0, 4.0, 12.0])
    np.testing.assert_array_equal(evidence.learned(table), [True, False, True, False])
    np.testing.assert_array_equal(evidence.learned(table, error_threshold_cm=13.0), [True, False, True, True])
    old = table.drop(columns="decoding_error_fine_cm")
    np.testing.assert_array_equal(evidence.learned(old), [False, False, True, False])


def test_decoder_sentence_gives_both_decoders_floors_and_errors():
    table = pd.DataFrame({"decoder_floor_fine_cm": [1.0, 1.2], "decoder_floor_cm": [8.0, 8.4],
                          "decoding_error_fine_cm": [6.0, 7.0], "decoding_error_cm": [14.0, 15.0]})
    assert evidence.decoder_sentence(table) == (
        "Decoders, medians over these 2 runs: the fine decoder the runs are judged by errs by 1.1 cm on the exact code "
        "(its floor) and by 6.5 cm on the networks' outputs; the targets' own decoders (the paper's top-3 rule where "
        "the code peaks at the field) by 8.2 cm and 14.5 cm.")
    old = table.assign(decoder_floor_fine_cm=np.nan)
    assert evidence.decoder_sentence(old).startswith("These runs predate the fine decoder")
    assert evidence.decoder_sentence(table.drop(columns="decoder_floor_cm")).startswith("These runs do not record")


def test_fine_decoder_errors_read_the_exact_code_and_tell_the_decoders_apart_on_a_flatter_one():
    from gridbook.profiles import profile_config

    errors = evidence.fine_decoder_errors(profile_config("smoke", target="dos", n_place_cells=256), scales=(1.0, 0.5),
                                          n_positions=300)
    assert set(errors) == {1.0, 0.5} and set(errors[1.0]) == {"nearest", "correlation"}
    assert max(errors[1.0].values()) < 1.0  # the exact code: both within the 2 cm grid
    assert errors[0.5]["nearest"] > 50 > 2 > errors[0.5]["correlation"]  # halved logits: only correlation holds
