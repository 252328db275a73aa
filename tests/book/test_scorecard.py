"""The scorecard's verdict rules on hand-made result tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridbook.book import scorecard as sc


def results(**columns):
    return pd.DataFrame(columns)


def test_r1_verdicts():
    good = results(decoding_error_cm=[5.0, 6.0, 20.0], frac_units_grid_like=[0.0, 0.05, 0.0])
    assert sc.r1_row(good, "quick").verdict == sc.REPRODUCED  # 2/3 learn, 1/2 of those have a grid-like unit
    grids = results(decoding_error_cm=[5.0, 6.0], frac_units_grid_like=[0.1, 0.02])
    assert sc.r1_row(grids, "quick").verdict == sc.PARTLY
    bad = results(decoding_error_cm=[50.0, 60.0], frac_units_grid_like=[0.1, 0.1])
    assert sc.r1_row(bad, "quick").verdict == sc.NOT_REPRODUCED
    floor_bound = results(decoding_error_cm=[14.8, 15.2], decoding_error_fine_cm=[6.0, 7.0],
                          frac_units_grid_like=[0, 0])
    assert sc.r1_row(floor_bound, "quick").verdict == sc.REPRODUCED  # the top-3 floor (8 cm) no longer decides
    empty = sc.r1_row(results(decoding_error_cm=[], frac_units_grid_like=[]), "smoke")
    assert (empty.verdict, empty.reason, empty.runs) == (sc.NOT_JUDGED, "no runs", 0)


def test_r1_says_which_runs_it_judged():
    runs = results(decoding_error_cm=[5.0, 6.0, 20.0], frac_units_grid_like=[0.0, 0.05, 0.0])
    searched = sc.r1_row(runs, "quick", population=True)
    assert searched.ours.startswith("population search: 0.67 of 3 runs learn") and "hand-picked" not in searched.reason
    picked = sc.r1_row(runs, "quick")
    assert picked.ours.startswith("task-success runs:")
    assert "no population search (sweeps/searches/population.quick.yaml)" in picked.reason


DOS_MANY = [0.10, 0.12, 0.11]  # fraction of grid-like units in three seeds
FEW = [0.0, 0.01, 0.0]


@pytest.mark.parametrize("dos, other, verdict, reason", [
    (DOS_MANY, FEW, sc.REPRODUCED, "dos's interval lies above every other condition's"),
    ([0.10, 0.0, 0.11], FEW, sc.PARTLY, "dos has the most grid-like units, but the intervals overlap"),
    ([0.10], [0.0], sc.PARTLY, "dos has the most grid-like units, but only one seed"),
    (FEW, DOS_MANY, sc.NOT_REPRODUCED, "dos does not have the most grid-like units"),  # the claim is false
    ([0.0, 0.0], [0.0, 0.0], sc.NOT_REPRODUCED, "dos does not have the most grid-like units"),
])
def test_r2_judges_grid_like_fractions_against_seed_intervals(dos, other, verdict, reason):
    table = results(target=["dos"] * len(dos) + ["gaussian"] * len(other) + ["sod"],
                    frac_units_grid_like=[*dos, *other, 0.5])  # the SoD is not judged by R2
    row = sc.r2_row(table, "quick")
    assert (row.verdict, row.reason, row.chapter) == (verdict, reason, "target_encoding")
    assert row.ours.startswith("grid-like units, % (mean [95% CI] over seeds): dos ") and "sod" not in row.ours


def test_r2_needs_every_compared_target_to_beat_and_a_null():
    table = results(target=["dos"] * 3 + ["gaussian"] * 3 + ["cartesian"] * 3,
                    frac_units_grid_like=[*DOS_MANY, *FEW, 0.09, 0.13, 0.12])
    assert sc.r2_row(table, "quick").verdict == sc.NOT_REPRODUCED  # the Cartesian code has as many
    no_null = results(target=["dos", "gaussian"], frac_units_grid_like=[0.1, np.nan])
    row = sc.r2_row(no_null, "quick")
    assert (row.verdict, row.ours) == (sc.NOT_REPRODUCED, "runs without a shuffle null")


def sigma_sweep(at_11, at_12, at_13, surround=None):
    """Runs of the sensitivity sweep: one per seed and width, fractions of grid-like units as given."""
    fracs = [*at_11, *at_12, *at_13]
    sigma = [0.11] * len(at_11) + [0.12] * len(at_12) + [0.13] * len(at_13)
    return results(sigma=sigma, surround_scale=[2.0] * len(fracs), frac_units_grid_like=fracs)


@pytest.mark.parametrize("at_11, at_12, at_13, verdict, reason", [
    ([0.0, 0.01, 0.0], DOS_MANY, [0.02, 0.0, 0.01], sc.REPRODUCED,
     "sigma 12 cm's interval lies above every other condition's"),
    ([0.0, 0.7], [0.7, 0.7], [0.0, 0.0], sc.PARTLY,  # one seed at 11 cm swings by 70 points
     "sigma 12 cm has the most grid-like units, but the intervals overlap"),
    ([0.06, 0.07], [0.10, 0.11], [0.0, 0.01], sc.PARTLY,  # separated, but no spike: 12 cm < 2x 11 cm
     "sigma 12 cm has the most grid-like units, but it is not 2x both neighbours (no spike)"),
    ([0.1], [0.3], [0.1], sc.PARTLY, "sigma 12 cm has the most grid-like units, but only one seed"),
    (DOS_MANY, DOS_MANY, DOS_MANY, sc.NOT_REPRODUCED, "sigma 12 cm does not have the most grid-like units"),
])
def test_r3_verdicts(at_11, at_12, at_13, verdict, reason):
    row = sc.r3_row(sigma_sweep(at_11, at_12, at_13), "quick")
    assert (row.verdict, row.reason) == (verdict, reason)


def test_r3_ignores_runs_of_the_surround_sweep_and_needs_the_three_widths():
    table = sigma_sweep([0.0, 0.01], [0.1, 0.11], [0.0, 0.0])
    with_s = pd.concat([table, results(sigma=[0.12] * 2, surround_scale=[3.0] * 2, frac_units_grid_like=[0, 0])])
    assert sc.r3_row(with_s, "quick") == sc.r3_row(table, "quick")
    missing = results(sigma=[0.10, 0.12], surround_scale=[2.0, 2.0], frac_units_grid_like=[0.0, 0.5])
    assert sc.r3_row(missing, "quick").reason == "no comparison"


def network_periods(sigmas, period_of, units=20, two_modules=(), seed=0):
    """Grid units of one network per sigma: ``units`` periods around ``period_of(sigma)`` (m), or around two modules
    a factor 1.4 apart for the sigmas in ``two_modules``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, sigma in enumerate(sigmas):
        centres = [period_of(sigma)] if sigma not in two_modules else [period_of(sigma), 1.4 * period_of(sigma)]
        periods = np.concatenate([rng.normal(c, 0.01, units // len(centres)) for c in centres])
        rows += [{"run_id": f"r{i}", "sigma": sigma, "period_m": p} for p in periods]
    return pd.DataFrame(rows)


SIGMAS = (0.10, 0.11, 0.12, 0.13, 0.14, 0.16)


def test_r4_verdicts():
    rising = network_periods(SIGMAS, lambda s: 3.5 * s)
    row = sc.r4_row(rising, "quick", 6)
    assert (row.verdict, row.reason) == (sc.REPRODUCED, "the period rises with sigma; one module per network")
    assert "Spearman rho(sigma, period) = 1.00 over 6 networks (permutation p = 0.001)" in row.ours
    assert "0 of 6 networks testable for modules have two (BIC)" in row.ours and "(biological 1.4)" in row.ours
    modules = sc.r4_row(network_periods(SIGMAS, lambda s: 3.5 * s, two_modules=(0.12,)), "quick", 6)
    assert (modules.verdict, modules.reason) == (sc.PARTLY, "the period rises with sigma; a network has two modules")
    flat = sc.r4_row(network_periods(SIGMAS, lambda s: 0.5 + 0.001 * np.sin(100 * s)), "quick", 6)  # false claim
    assert flat.verdict == sc.PARTLY and flat.reason.startswith("no significant rise")
    both_false = network_periods(SIGMAS, lambda s: 0.5 - s, two_modules=SIGMAS)
    assert sc.r4_row(both_false, "quick", 6).verdict == sc.NOT_REPRODUCED
    few = network_periods(SIGMAS, lambda s: 3.5 * s, units=4)  # too few units per network to test modules
    assert sc.r4_row(few, "quick", 6).reason.endswith("no network has enough grid units to test for modules")
    assert sc.r4_row(rising[rising.sigma < 0.12], "quick", 2).reason == "fewer than three networks with grid units"
    assert sc.r4_row(rising, "quick", 0).reason == "no runs"


def test_r5_verdicts():
    table = results(target=["dos"] * 3 + ["dog"] * 3 + ["general_dog"], frac_units_grid_like=[*DOS_MANY, *FEW, 0.9])
    assert sc.r5_row(table, "quick").verdict == sc.REPRODUCED  # general DoGs are shown, not judged
    swapped = table.assign(target=["dog"] * 3 + ["dos"] * 3 + ["general_dog"])
    assert sc.r5_row(swapped, "quick").verdict == sc.NOT_REPRODUCED  # the claim is false
    assert sc.r5_row(table[table.target != "dog"], "quick").reason == "no comparison"


def test_r6_verdicts():
    base = dict(sigma_range=[None] * 3 + [(0.06, 0.18)] * 3 + [None] * 3,
                surround_range=[None] * 9, fields_lambda=[0.0] * 6 + [2.0] * 3)
    lost = results(**base, decoding_error_cm=[5.0] * 9, frac_units_grid_like=[*DOS_MANY, *FEW, *FEW])
    assert sc.r6_row(lost, "quick").verdict == sc.REPRODUCED
    unlearned = lost.assign(decoding_error_cm=[5.0] * 3 + [60.0] * 3 + [5.0] * 3)
    row = sc.r6_row(unlearned, "quick")
    assert row.verdict == sc.PARTLY and row.reason.endswith("not every heterogeneous condition learns (median error "
                                                            "< 10 cm)")
    kept = lost.assign(frac_units_grid_like=[*DOS_MANY, *DOS_MANY, *FEW])  # widths keep the grid units: false
    assert sc.r6_row(kept, "quick").verdict == sc.NOT_REPRODUCED


@pytest.mark.parametrize("pred, verdict, reason", [
    ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], sc.REPRODUCED, "rho >= 0.5 and p < 0.05"),  # p = 1/720
    ([0.1, 0.2, 0.3], sc.PARTLY, "rho >= 0.5, but p >= 0.05: as likely as a chance ordering"),  # p = 1/6
    ([0.3, 0.1, 0.2, 0.4, 0.6, 0.5], sc.PARTLY, "rho >= 0.5, but p >= 0.05: as likely as a chance ordering"),
    ([0.6, 0.5, 0.4, 0.3, 0.2, 0.1], sc.NOT_REPRODUCED, "rho < 0.5"),  # the claim is false
])
def test_r7_verdicts(pred, verdict, reason):
    table = pd.DataFrame({"participation_ratio": np.arange(1.0, len(pred) + 1), "predictivity": pred})
    row = sc.r7_row(table, "quick", len(pred))
    assert (row.verdict, row.reason) == (verdict, reason) and "one-sided permutation p = " in row.ours


def test_table_and_bad_verdict():
    rows = [sc.r3_row(sigma_sweep([0.0], [0.3], [0.1]), "smoke")]
    table = sc.scorecard_table(rows)
    assert list(table.index) == ["R3"] and table.loc["R3", "ours"] == (
        "grid-like units, % (mean [95% CI] over seeds): sigma 11 cm 0.0 (1 seed, no interval); sigma 12 cm 30.0 "
        "(1 seed, no interval); sigma 13 cm 10.0 (1 seed, no interval)")
    with pytest.raises(ValueError, match="verdict='maybe' is invalid"):
        sc._row("R1", "x", "quick", 1, "maybe", "y")
