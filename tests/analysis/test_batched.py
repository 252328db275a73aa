"""K networks evaluated and analysed at once equal the network-by-network pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gridbook.analysis.batched import analyse_networks, evaluate_stacked, shares_evaluation
from gridbook.analysis.pipeline import analyse_ratemaps, evaluate_ratemaps
from gridbook.nets.trainer import train_networks
from gridbook.profiles import profile_config
from gridbook.task.stacked import StackedDecoders

METRICS = ("decoding_error_cm", "loss", "decoder_floor_cm", "decoding_error_fine_cm", "decoder_floor_fine_cm",
           "n_samples")


@pytest.fixture(scope="module")
def trained():
    configs = [profile_config("smoke", seed=s, target=t, n_steps=10, eval_batches=12, n_shuffles=5, null_units=8,
                              n_bins=16, streams="counter", fine_decoder=f)
               for s, t, f in [(0, "dos", "correlation"), (1, "gaussian", "nearest"), (2, "dog", "correlation"),
                               (3, "sod", "correlation")]]
    return train_networks(configs, device="cpu", progress=False)


def test_stacked_evaluation_and_analysis_equal_the_per_network_pipeline(trained):
    old = evaluate_ratemaps(trained)
    for k, (entry, analysis) in enumerate(analyse_networks(trained)):
        for key in METRICS:
            assert entry[key] == pytest.approx(old[k][key], rel=1e-6), key
        np.testing.assert_array_equal(entry["ratemaps"].maps, old[k]["ratemaps"].maps)
        np.testing.assert_array_equal(entry["null"].shifts, old[k]["null"].shifts)
        np.testing.assert_allclose(entry["null"].scores, old[k]["null"].scores, atol=1e-4)
        reference = analyse_ratemaps(old[k]["ratemaps"], null=old[k]["null"])
        for key, values in reference.units.items():
            np.testing.assert_allclose(analysis.units[key], values, atol=1e-9, err_msg=key)
        for key, value in reference.summary.items():
            assert analysis.summary[key] == pytest.approx(value, abs=1e-4, nan_ok=True), key


def test_stacked_lookup_tables_decode_as_each_targets_screened_search(trained):
    output = torch.randn(4, 3, 7, trained.networks.n_outputs, generator=torch.Generator().manual_seed(2))
    methods = ["correlation", "nearest", "correlation", "nearest"]
    stacked = StackedDecoders(trained.targets, stacked_tables=True)
    assert stacked.stacked_tables and not StackedDecoders(trained.targets).stacked_tables  # CPU default: screened
    torch.testing.assert_close(stacked.decode_fine(output, methods),
                               StackedDecoders(trained.targets).decode_fine(output, methods))
    for k, target in enumerate(trained.targets):
        torch.testing.assert_close(stacked.decode(output)[k], target.decode(output[k]))


def test_networks_that_do_not_share_their_evaluation_are_analysed_one_by_one():
    configs = [profile_config("smoke", seed=0, n_steps=2), profile_config("smoke", seed=1, n_steps=2, n_bins=10)]
    assert not shares_evaluation(configs) and shares_evaluation(configs[:1])
    result = train_networks(configs, device="cpu", progress=False)
    with pytest.raises(ValueError, match="do not share their evaluation"):
        evaluate_stacked(result)
    analysed = analyse_networks(result)
    assert [a.ratemaps.maps.shape[1] for _, a in analysed] == [12, 10]
