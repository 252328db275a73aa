"""The batched trainer: batch vs alone, divergence, clipping, weight decay, history."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tiny_runs import _one_sgd_step, assert_same_weights, tiny, train

from gridbook.errors import ConfigError
from gridbook.nets.models import GATES
from gridbook.nets.trainer import Trainer, train_networks
from gridbook.task.code_table import CodeTable


@pytest.mark.parametrize("arch", tuple(GATES))
def test_networks_trained_together_equal_networks_trained_alone(arch):
    configs = [tiny(arch=arch, seed=0, lr=1e-3, grad_clip=0.05),
               tiny(arch=arch, seed=1, lr=3e-3, input_dropout=0.5, weight_decay=0.0),
               tiny(arch=arch, seed=2, lr=1e-2, recurrent_dropout=0.5, initializer="orthogonal")]
    together = train(configs, eval_every=1)
    for k, config in enumerate(configs):
        alone = train([config], eval_every=1)
        assert_same_weights(together.networks, k, alone.networks, 0)
        np.testing.assert_allclose(together.history[k]["loss"], alone.history[0]["loss"], rtol=1e-5)
        np.testing.assert_allclose(together.history[k]["error_cm"], alone.history[0]["error_cm"], rtol=1e-4)
    assert together.steps_done == 3 and together.history[0]["step"] == [1, 2, 3]
    assert together.diverged == [False] * 3


def test_bfloat16_networks_trained_together_match_networks_trained_alone():
    configs = [tiny(seed=0, lr=1e-3, precision="bfloat16"),
               tiny(seed=1, lr=3e-3, recurrent_dropout=0.5, precision="bfloat16"),
               tiny(seed=2, lr=1e-2, target="gaussian", precision="bfloat16")]
    together = train(configs, eval_every=1)
    assert together.networks.matmul_dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in together.networks.parameters())
    full = train([c.replace(precision="float32") for c in configs], eval_every=1)
    assert not torch.equal(full.networks.recurrent_weight, together.networks.recurrent_weight)  # bf16 was used
    for k, config in enumerate(configs):
        alone = train([config], eval_every=1)
        assert_same_weights(together.networks, k, alone.networks, 0, atol=1e-3)
        np.testing.assert_allclose(together.history[k]["loss"], alone.history[0]["loss"], rtol=1e-2)
        np.testing.assert_allclose(together.history[k]["loss"], full.history[k]["loss"], rtol=2e-2)


def test_loss_and_error_decrease_on_a_tiny_problem():
    config = tiny(target="gaussian", sigma=0.3, n_place_cells=32, n_hidden=32, batch_size=16, lr=1e-2, n_steps=150)
    history = train([config], eval_every=1).history[0]
    assert np.mean(history["loss"][-10:]) < 0.75 * np.mean(history["loss"][:10])
    assert np.mean(history["error_cm"][-10:]) < 0.5 * np.mean(history["error_cm"][:10])


def test_a_diverged_network_is_frozen_while_the_others_go_on():
    configs = [tiny(optimizer="sgd", lr=lr, seed=k, n_steps=6) for k, lr in enumerate([1e-2, 1e9, 1e-2])]
    result = train(configs, eval_every=1)
    assert result.diverged == [False, True, False]
    assert math.isnan(result.history[1]["loss"][-1])
    shorter = train([c.replace(n_steps=4) for c in configs])
    assert shorter.diverged == [False, True, False]
    assert_same_weights(result.networks, 1, shorter.networks, 1, atol=0)  # frozen since it diverged
    for k in (0, 2):
        assert all(torch.isfinite(p[k]).all() for p in result.networks.parameters())
        assert np.isfinite(result.history[k]["loss"]).all()
        assert_same_weights(result.networks, k, train([configs[k]]).networks, 0)  # unaffected by its neighbour


def test_configs_of_different_shapes_cannot_train_together():
    with pytest.raises(ConfigError, match=r"configs\[1\].shape_key\(\).*differs.*must share shape_key"):
        train([tiny(), tiny(n_hidden=32)])
    with pytest.raises(ConfigError, match="configs is empty"):
        train([])
    mixed = train([tiny(target="dos"), tiny(target="gaussian", seed=1)])  # one loss family: batchable
    assert mixed.diverged == [False, False]


def test_grad_clip_bounds_each_networks_own_update_norm():
    configs = [tiny(optimizer="sgd", lr=1.0, n_steps=1, grad_clip=clip) for clip in (1e-3, 0.0)]
    delta, _ = _one_sgd_step(configs)
    norms = [math.sqrt(sum(float(d[k].square().sum()) for d in delta.values())) for k in range(2)]
    assert norms[0] == pytest.approx(1e-3, rel=1e-3) and norms[1] > 1e-2
    for d in delta.values():  # same seed, same gradient: the clipped update is the scaled unclipped one
        torch.testing.assert_close(d[0], d[1] * (1e-3 / norms[1]), atol=1e-6, rtol=1e-3)  # float32 ulp of weights


def test_weight_decay_pulls_only_the_recurrent_matrix():
    configs = [tiny(optimizer="sgd", lr=0.5, n_steps=1, weight_decay=wd) for wd in (0.0, 0.1)]
    delta, start = _one_sgd_step(configs)
    for name, d in delta.items():
        expected = -0.5 * 2 * 0.1 * start.state_dict()[name][1] if name == "recurrent_weight" else 0 * d[0]
        torch.testing.assert_close(d[1] - d[0], expected, atol=1e-6, rtol=1e-4, msg=name)


def test_history_and_progress_lines(capsys):
    result = train_networks([tiny(n_steps=40)], device="cpu", progress=None, eval_every=7)  # stderr: no terminal
    expected = set(range(7, 41, 7)) | set(range(4, 41, 4))
    assert result.history[0]["step"] == sorted(expected)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10 and lines[-1].startswith("step 40/40: loss ") and "diverged 0/1" in lines[-1]
    train_networks([tiny(n_steps=2)], device="cpu", progress=True)
    captured = capsys.readouterr()
    assert "training 1 networks" in captured.err and captured.out == ""


def test_training_reads_codes_from_a_table_only_when_the_config_asks():
    configs = [tiny(seed=0, code_table=0.01), tiny(seed=1), tiny(seed=2, target="cartesian", code_table=0.01)]
    trainer = Trainer(configs[:2], torch.device("cpu"), None)
    assert isinstance(trainer.code_sources[0], CodeTable) and trainer.code_sources[1] is trainer.targets[1]
    _, position, codes = trainer.batch()  # codes (K, T + 1, B, Np)
    walk = trainer.walks[0][0]
    start_and_path = torch.cat([walk.init_position[None], walk.position])  # (T + 1, B, 2) m
    torch.testing.assert_close(codes[0], trainer.code_sources[0].encode(start_and_path), rtol=0, atol=0)
    other = trainer.walks[1][0]
    torch.testing.assert_close(codes[1], trainer.targets[1].encode(torch.cat([other.init_position[None],
                                                                              other.position])), rtol=0, atol=0)
    assert not torch.equal(codes[0], trainer.targets[0].encode(start_and_path))  # the table is not the exact code
    cartesian = Trainer(configs[2:], torch.device("cpu"), None)
    assert cartesian.code_sources[0] is cartesian.targets[0]


def test_counter_streams_train_a_network_alike_in_any_company_and_across_a_resume(tmp_path):
    configs = [tiny(seed=0, streams="counter", input_dropout=0.5),
               tiny(seed=1, streams="counter", target="gaussian", recurrent_dropout=0.5),
               tiny(seed=2, streams="counter", target="dog")]
    together = train(configs, eval_every=1)
    for k, config in enumerate(configs):
        assert_same_weights(together.networks, k, train([config], eval_every=1).networks, 0, atol=0)
    assert not torch.equal(together.networks.decoder[0],
                           train([configs[0].replace(streams="generator")]).networks.decoder[0])
    checkpoint = tmp_path / "resume.pt"
    train_networks([c.replace(n_steps=1) for c in configs], device="cpu", progress=False, checkpoint=checkpoint)
    resumed = train_networks(configs, device="cpu", progress=False, checkpoint=checkpoint)
    for k in range(3):
        assert_same_weights(together.networks, k, resumed.networks, k, atol=0)


def test_counter_dropout_masks_drop_at_their_rate_and_rescale():
    trainer = Trainer([tiny(seed=0, streams="counter", input_dropout=0.5, recurrent_dropout=0.25, batch_size=400),
                       tiny(seed=1, streams="counter", batch_size=400)], torch.device("cpu"), None)
    inputs, recurrent = trainer.dropout_masks()  # (K, B, 2), (K, B, Ng)
    assert set(inputs[0].unique().tolist()) == {0.0, 2.0} and bool((inputs[1] == 1).all())
    assert float((recurrent[0] == 0).float().mean()) == pytest.approx(0.25, abs=0.03)
    assert float(recurrent[0].mean()) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("arch", ["rnn", "gru"])
def test_networks_of_other_activations_and_optimizers_train_together_as_alone(arch):
    configs = [tiny(arch=arch, seed=0, activation="tanh", optimizer="rmsprop"),
               tiny(arch=arch, seed=1, activation="relu", optimizer="adam"),
               tiny(arch=arch, seed=2, activation="relu", optimizer="sgd", lr=0.1),
               tiny(arch=arch, seed=3, activation="sigmoid", optimizer="adagrad", lr=0.05)]
    assert len({c.shape_key() for c in configs}) == 1
    together = train(configs, eval_every=1)
    assert together.networks.activation == "mixed" and len(together.networks.segments) == 3  # two relu side by side
    for k, config in enumerate(configs):
        assert_same_weights(together.networks, k, train([config], eval_every=1).networks, 0)
