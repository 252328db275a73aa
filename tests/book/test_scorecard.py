"""The scorecard's verdict rules on hand-made result tables."""

from __future__ import annotations

import pandas as pd
import pytest

from gridbook.book import scorecard as sc


def results(**columns):
    return pd.DataFrame(columns)


def test_r1_verdicts():
    good = results(decoding_error_cm=[5.0, 6.0, 20.0], best_score60_min_max=[0.1, 0.9, 0.2])
    assert sc.r1_row(good, "quick").verdict == sc.REPRODUCED  # 2/3 learn, 1/2 of those grid
    grids = results(decoding_error_cm=[5.0, 6.0], best_score60_min_max=[0.9, 0.9])
    assert sc.r1_row(grids, "quick").verdict == sc.PARTLY
    bad = results(decoding_error_cm=[50.0, 60.0], best_score60_min_max=[0.9, 0.9])
    assert sc.r1_row(bad, "quick").verdict == sc.NOT_REPRODUCED
    empty = sc.r1_row(results(decoding_error_cm=[], best_score60_min_max=[]), "smoke")
    assert (empty.verdict, empty.reason, empty.runs) == (sc.NOT_REPRODUCED, "no runs", 0)


@pytest.mark.parametrize("scores, verdict", [([0.9, 0.5, 0.1], sc.REPRODUCED), ([0.6, 0.5, 0.1], sc.PARTLY),
                                             ([0.4, 0.5, 0.1], sc.NOT_REPRODUCED)])
def test_r2_verdicts(scores, verdict):
    table = results(target=["dos", "gaussian", "cartesian"], best_score60_min_max=scores)
    row = sc.r2_row(table, "quick")
    assert row.verdict == verdict and row.runs == 3 and row.chapter == "target_encoding"


@pytest.mark.parametrize("fracs, verdict", [([0.0, 0.3, 0.1], sc.REPRODUCED), ([0.2, 0.3, 0.1], sc.PARTLY),
                                            ([0.4, 0.3, 0.1], sc.NOT_REPRODUCED)])
def test_r3_verdicts(fracs, verdict):
    table = results(sigma=[0.11, 0.12, 0.13], surround_scale=[2.0] * 3, **{"frac_units_above_0.3": fracs})
    assert sc.r3_row(table, "quick").verdict == verdict


def test_r3_spike_within_the_seed_spread_is_only_partly():
    """12 cm is 3x its neighbours on average, but one seed at 11 cm swings by 40 points: no spike."""
    table = results(sigma=[0.11, 0.11, 0.12, 0.12, 0.13, 0.13], surround_scale=[2.0] * 6,
                    **{"frac_units_above_0.3": [0.0, 0.4, 0.6, 0.6, 0.0, 0.0]})
    row = sc.r3_row(table, "quick")
    assert row.verdict == sc.PARTLY and row.reason == "12 cm is highest, by less than the seed spread"
    assert "lead 40.0 points, seed spread up to 40.0" in row.ours
    steady = table.assign(**{"frac_units_above_0.3": [0.1, 0.1, 0.6, 0.6, 0.0, 0.0]})
    assert sc.r3_row(steady, "quick").verdict == sc.REPRODUCED


def test_r3_ignores_runs_of_the_surround_sweep():
    flat = results(sigma=[0.11, 0.12, 0.13, 0.12], surround_scale=[2.0, 2.0, 2.0, 3.0],
                   **{"frac_units_above_0.3": [0.3, 0.3, 0.3, 0.9]})
    row = sc.r3_row(flat, "quick")
    assert row.verdict == sc.NOT_REPRODUCED and "30.0 / 30.0 / 30.0" in row.ours


def test_r3_needs_the_three_widths():
    table = results(sigma=[0.10, 0.12], surround_scale=[2.0, 2.0], **{"frac_units_above_0.3": [0.0, 0.5]})
    assert sc.r3_row(table, "quick").reason == "no comparison"


def test_r4_verdicts():
    rising = pd.DataFrame({"main mode (m)": [0.30, 0.33, 0.36]}, index=[0.10, 0.12, 0.14])
    assert sc.r4_row(rising, pd.Series([1, 1, 1]), "quick", 3).verdict == sc.REPRODUCED
    assert sc.r4_row(rising, pd.Series([1, 2, 1]), "quick", 3).verdict == sc.PARTLY
    jumping = pd.DataFrame({"main mode (m)": [0.30, 0.45]}, index=[0.10, 0.12])
    assert sc.r4_row(jumping, pd.Series([1, 1]), "quick", 2).verdict == sc.PARTLY  # ratio 1.5 >= 1.25
    falling = pd.DataFrame({"main mode (m)": [0.40, 0.30]}, index=[0.10, 0.12])
    assert sc.r4_row(falling, pd.Series([1, 1]), "quick", 2).verdict == sc.NOT_REPRODUCED
    one = pd.DataFrame({"main mode (m)": [0.40]}, index=[0.10])
    assert sc.r4_row(one, pd.Series([1]), "quick", 2).verdict == sc.NOT_REPRODUCED


@pytest.mark.parametrize("scores, verdict", [([0.9, 0.3], sc.REPRODUCED), ([0.7, 0.3], sc.PARTLY),
                                             ([0.9, 0.95], sc.NOT_REPRODUCED)])
def test_r5_verdicts(scores, verdict):
    assert sc.r5_row(results(target=["dos", "dog"], best_score60_min_max=scores), "quick").verdict == verdict


def test_r6_verdicts():
    base = dict(sigma_range=[None, (0.06, 0.18), None], surround_range=[None, (1.5, 2.5), None],
                fields_lambda=[0.0, 0.0, 2.0])
    lost = results(**base, decoding_error_cm=[5.0, 6.0, 7.0], best_score60_min_max=[1.0, 0.2, 0.3])
    assert sc.r6_row(lost, "quick").verdict == sc.REPRODUCED
    unlearned = results(**base, decoding_error_cm=[5.0, 60.0, 7.0], best_score60_min_max=[1.0, 0.2, 0.3])
    assert sc.r6_row(unlearned, "quick").verdict == sc.PARTLY
    kept = results(**base, decoding_error_cm=[5.0, 6.0, 7.0], best_score60_min_max=[1.0, 1.1, 0.3])
    assert sc.r6_row(kept, "quick").verdict == sc.NOT_REPRODUCED


@pytest.mark.parametrize("pred, verdict", [([0.1, 0.2, 0.3, 0.4], sc.REPRODUCED), ([0.3, 0.1, 0.2, 0.4], sc.PARTLY),
                                           ([0.4, 0.3, 0.2, 0.1], sc.NOT_REPRODUCED)])
def test_r7_verdicts(pred, verdict):
    table = pd.DataFrame({"participation_ratio": [1.0, 2.0, 3.0, 4.0], "predictivity": pred})
    assert sc.r7_row(table, "quick", 4).verdict == verdict


def test_table_and_bad_verdict():
    flat = results(sigma=[0.11, 0.12, 0.13], surround_scale=[2.0] * 3, **{"frac_units_above_0.3": [0.0, 0.3, 0.1]})
    rows = [sc.r3_row(flat, "smoke")]
    table = sc.scorecard_table(rows)
    assert list(table.index) == ["R3"] and table.loc["R3", "ours"].startswith("% units > 0.3: 0.0 / 30.0 / 10.0")
    with pytest.raises(ValueError, match="verdict='maybe' is invalid"):
        sc._row("R1", "x", "quick", 1, "maybe", "y")
