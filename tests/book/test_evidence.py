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
