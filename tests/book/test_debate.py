"""The debate's rules: each on a case where its claim holds and one where it is false."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridbook.book import debate as db


def runs(rows):
    """A results table of the columns the rules read, with the book's standard place cells."""
    base = dict(arch="rnn", activation="relu", target="dos", sigma=0.12, surround_scale=2.0,
                surround_convention="variance_ratio", sigma_range=None, surround_range=None, fields_lambda=0.0,
                n_steps=4000, n_hidden=256, best_score60_min_max=0.5)
    return pd.DataFrame([{**base, **row} for row in rows])


def grid(predicted, other, n=4):
    rows = []
    for activation in ("relu", "tanh"):
        for target in ("gaussian", "dos"):
            value = predicted if (activation, target) == ("relu", "dos") else other
            rows += [dict(activation=activation, target=target, frac_units_grid_like=value + 0.001 * s)
                     for s in range(n)]
    return runs(rows)


RING = {"gaussian": 1.0, "dos": 15.0}


def test_d1_nonnegativity_and_the_ring():
    assert db.d1_row(grid(0.10, 0.0), RING).verdict == db.SUPPORTED
    assert db.d1_row(grid(0.0, 0.10), RING).verdict == db.NOT_SUPPORTED  # the claim is false
    assert db.d1_row(runs([]), RING).verdict == db.NOT_JUDGED


def test_d2_the_normalised_dog():
    def table(ndog, dos, dog):
        return runs([dict(target=t, frac_units_grid_like=v + 0.001 * s) for t, v in
                     (("normalised_dog", ndog), ("dos", dos), ("dog", dog)) for s in range(4)])

    assert db.d2_row(table(0.08, 0.08, 0.0)).verdict == db.SUPPORTED
    assert db.d2_row(table(0.01, 0.10, 0.0)).verdict == db.NOT_SUPPORTED  # the DoS lies above it
    assert db.d2_row(table(0.0, 0.10, 0.05)).verdict == db.NOT_SUPPORTED  # no more than the true DoG
    assert db.d2_row(runs([dict(target="dos", frac_units_grid_like=0.1)])).verdict == db.NOT_JUDGED


def sweep(at12, at11, at13, seeds):
    return runs([dict(sigma=w, frac_units_grid_like=v + 0.001 * s) for w, v in ((0.12, at12), (0.11, at11),
                                                                            (0.13, at13)) for s in range(seeds)])


def test_d3_the_dips_and_their_power():
    assert db.d3_row(sweep(0.10, 0.01, 0.01, 6)).verdict == db.SUPPORTED
    assert db.d3_row(sweep(0.01, 0.10, 0.10, 6)).verdict == db.NOT_SUPPORTED  # 12 cm below both: no dips
    assert db.d3_row(sweep(0.10, 0.01, 0.20, 6)).verdict == db.UNDECIDED  # one dip only
    row = db.d3_row(sweep(0.10, 0.01, 0.01, 3))  # 3 seeds a side: no permutation p below 0.05
    assert row.verdict == db.NOT_JUDGED and row.reason.startswith("underpowered")


def test_d4_the_annulus_as_a_predictor():
    rng = np.random.default_rng(0)
    has = rng.random(60) < 0.5
    results = runs([dict(frac_units_grid_like=0.1 if h else 0.0) for h in has])
    assert db.d4_row(results, np.where(has, 10.0, 1.0) + rng.random(60)).verdict == db.SUPPORTED
    assert db.d4_row(results, rng.random(60)).verdict in (db.NOT_SUPPORTED, db.UNDECIDED)  # no relation
    assert db.d4_row(results, np.where(has, 1.0, 10.0)).verdict == db.NOT_SUPPORTED  # the claim is false


def test_d5_measurement():
    def rescored(authors, ours):
        return pd.DataFrame([dict(run_id=f"r{i}", target="gaussian", protocol=p, grid=v)
                             for i in range(10) for p, v in (("authors", i < 10 * authors), ("ours", i < 10 * ours))])

    assert db.d5_row(rescored(0.5, 0.1)).verdict == db.SUPPORTED
    assert db.d5_row(rescored(0.1, 0.1)).verdict == db.NOT_SUPPORTED
    assert "3 of 10" in db.false_positive_sentence(rescored(0.3, 0.0))


def test_verdicts_are_checked_and_smoke_is_no_evidence():
    with pytest.raises(ValueError, match="verdict='maybe' is invalid"):
        db.debate_row("D1", "x", 1, "maybe", "x")
    here = db.debate_table([db.debate_row("D1", "x", 50, db.SUPPORTED, "x")])
    there = db.debate_table([db.debate_row("D1", "x", 10, db.NOT_SUPPORTED, "x")])
    assert db.debate_record(here, {"B": there})["from"].iloc[0] == "here"
    assert db.debate_record(here, {"B": there}, profile="smoke")["from"].iloc[0] == "B"
