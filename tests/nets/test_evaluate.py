"""Evaluation of trained networks on fresh trajectories."""

from __future__ import annotations

import numpy as np
from tiny_runs import tiny, train

from gridbook.nets.evaluate import evaluate_networks


def test_evaluate_networks_outputs(tmp_path):
    result = train([tiny(seed=0), tiny(seed=1, velocity_input_scale=10.0)])
    evaluations = evaluate_networks(result, n_batches=2)
    assert len(evaluations) == 2
    for evaluation in evaluations:
        assert evaluation["positions"].shape == (2 * 5 * 8, 2) and evaluation["positions"].dtype == np.float32
        assert evaluation["activations"].shape == (80, 16) and evaluation["activations"].dtype == np.float32
        assert evaluation["decoding_error_cm"] > 0 and np.isfinite(evaluation["loss"])
        assert np.abs(evaluation["positions"]).max() <= 1.1
    np.testing.assert_array_equal(evaluations[0]["positions"], evaluations[1]["positions"])  # same walks, same seed
    again = evaluate_networks(result, n_batches=2, indices=[1])
    np.testing.assert_allclose(again[0]["activations"], evaluations[1]["activations"], rtol=1e-5, atol=1e-6)
    assert len(evaluate_networks(result)[0]["positions"]) == 40  # default: analysis.eval_batches = 1
    other = evaluate_networks(result, n_batches=2, seed=1)[0]["positions"]
    assert not np.array_equal(other, evaluations[0]["positions"])
