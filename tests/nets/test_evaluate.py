"""Evaluation of trained networks on fresh trajectories."""

from __future__ import annotations

import numpy as np
from tiny_runs import tiny, train

from gridbook.nets import evaluate
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


def test_the_decoders_floor_is_its_error_on_the_exact_code():

    configs = [tiny(seed=0, target="cartesian"), tiny(seed=0, n_place_cells=256, decode_top_k=3),
               tiny(seed=0, target="dog", n_place_cells=64)]
    for config in configs:
        result = train([config])
        batches = list(evaluate.evaluation_batches(result, [0], n_batches=evaluate.FLOOR_BATCHES + 2))
        floors = [b.metrics.decoder_floor_cm for b in batches]
        assert all(f is not None for f in floors[: evaluate.FLOOR_BATCHES]) and floors[-2:] == [None, None]
        target, walk = result.targets[0], batches[0].walks
        expected = (target.decode(target.output_of_code(target.encode(walk.position))) - walk.position).norm(dim=-1)
        assert floors[0] == float(expected.mean() * 100)  # the decoder on the exact code of the true positions
        metrics = evaluate.network_metrics([b.metrics for b in batches])
        assert metrics["decoder_floor_cm"] == np.mean(floors[: evaluate.FLOOR_BATCHES])
        exact = target.output_of_code(target.encode(walk.position))
        fine = (target.decode_fine(exact, config.analysis.fine_decoder) - walk.position).norm(dim=-1)
        assert batches[0].metrics.fine_floor_cm == float(fine.mean() * 100)
        assert batches[-1].metrics.fine_error_cm is None
        assert metrics["decoding_error_fine_cm"] == np.mean([b.metrics.fine_error_cm for b in batches[:-2]])
        if config.target.target == "cartesian":
            assert metrics["decoder_floor_cm"] < 1e-4 and metrics["decoder_floor_fine_cm"] < 1e-4  # the position
            first = [b.metrics.decoding_error_cm for b in batches[: evaluate.FLOOR_BATCHES]]
            assert metrics["decoding_error_fine_cm"] == np.mean(first)  # decode_fine is decode for affine codes
        elif config.target.target == "dos":
            assert 4 < metrics["decoder_floor_cm"] < 15  # 256 random centres: the top-3 mean errs by ~8 cm
            assert metrics["decoder_floor_fine_cm"] < 3  # the fine decoder is not the bottleneck
        else:
            assert metrics["decoder_floor_cm"] < 2.5 and metrics["decoder_floor_fine_cm"] < 2.5  # lookup, 2 cm grid
    assert {"decoder_floor_cm", "decoding_error_fine_cm"} <= set(evaluate_networks(train([tiny()]))[0])


def test_the_decoding_error_is_measured_on_the_first_decode_batches_and_the_loss_on_all():
    result = train([tiny(seed=0)])
    batches = list(evaluate.evaluation_batches(result, [0], n_batches=evaluate.DECODE_BATCHES + 2))
    errors = [b.metrics.decoding_error_cm for b in batches]
    assert all(e is not None for e in errors[:-2]) and errors[-2:] == [None, None]
    metrics = evaluate.network_metrics([b.metrics for b in batches])
    assert metrics["decoding_error_cm"] == np.mean(errors[:-2])
    assert metrics["loss"] == np.mean([b.metrics.loss for b in batches])
