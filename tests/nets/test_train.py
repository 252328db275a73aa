"""The batched trainer: batch vs alone, divergence, optimizers, checkpoints, evaluation and the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gridbook.cli.main import main as cli_main
from gridbook.config import OPTIMIZERS, profile_config
from gridbook.errors import ConfigError
from gridbook.nets.checkpoints import load_checkpoint, save_checkpoint
from gridbook.nets.devices import pick_device
from gridbook.nets.evaluate import evaluate_networks
from gridbook.nets.models import GATES, BatchedRecurrentNetworks, network_generator
from gridbook.nets.optim import BatchedOptimizer, network_losses, scheduled_lr
from gridbook.nets.trainer import train_networks
from gridbook.task.targets import make_target


def tiny(**overrides):
    base = dict(n_hidden=16, n_place_cells=16, batch_size=8, seq_len=5, n_steps=3, eval_batches=1)
    return profile_config("smoke", **{**base, **overrides})


def train(configs, **kwargs):
    return train_networks(configs, device="cpu", progress=False, **kwargs)


def assert_same_weights(a: BatchedRecurrentNetworks, k: int, b: BatchedRecurrentNetworks, j: int, atol=1e-5):
    for name, value in a.state_dict().items():
        torch.testing.assert_close(value[k], b.state_dict()[name][j], atol=atol, rtol=1e-5, msg=name)


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


def test_bfloat16_precision_survives_checkpoints_and_evaluation(tmp_path):
    config = tiny(precision="bfloat16")
    result = train([config], checkpoint=tmp_path / "run.pt")
    loaded = load_checkpoint(tmp_path / "run.pt", device="cpu")
    assert loaded.networks.matmul_dtype == torch.bfloat16 and loaded.configs[0].train.precision == "bfloat16"
    (evaluation,) = evaluate_networks(result)
    assert evaluation["activations"].dtype == np.float32 and np.isfinite(evaluation["decoding_error_cm"])
    with pytest.raises(ConfigError, match="precision"):
        tiny(precision="half")
    with pytest.raises(ConfigError, match="shape_key"):
        train([tiny(), tiny(seed=1, precision="bfloat16")])


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


def test_checkpoint_resume_equals_uninterrupted_training(tmp_path):
    configs = [tiny(seed=s, n_steps=6, recurrent_dropout=0.3, input_dropout=0.2) for s in (0, 1)]
    straight = train(configs, eval_every=1)
    path = tmp_path / "ck.pt"
    first = train([c.replace(n_steps=3) for c in configs], checkpoint=path, eval_every=1)
    assert path.exists() and first.steps_done == 3
    resumed = train(configs, checkpoint=path, eval_every=1)
    assert resumed.steps_done == 6
    for name, value in straight.networks.state_dict().items():
        assert torch.equal(value, resumed.networks.state_dict()[name]), name
    assert resumed.history == straight.history
    for mine, theirs in zip(straight.optimizer_state["state"], resumed.optimizer_state["state"], strict=True):
        assert all(torch.equal(mine[key], theirs[key]) for key in mine)
    assert load_checkpoint(path).steps_done == 6  # saved at the end


def test_resume_refuses_a_checkpoint_of_other_configs(tmp_path):
    path = tmp_path / "ck.pt"
    train([tiny(seed=0)], checkpoint=path)
    with pytest.raises(ConfigError, match="network 0 differs in sigma"):
        train([tiny(seed=0, sigma=0.2)], checkpoint=path)
    with pytest.raises(ConfigError, match="n_steps=2 is invalid.*already trained 3 steps"):
        train([tiny(seed=0, n_steps=2)], checkpoint=path)


def test_checkpoint_round_trip_keeps_everything(tmp_path):
    result = train([tiny(seed=3, arch="lstm"), tiny(seed=4, arch="lstm", target="sod")], eval_every=1)
    loaded = load_checkpoint(save_checkpoint(result, tmp_path / "a" / "ck.pt"))
    assert [c.run_id() for c in loaded.configs] == [c.run_id() for c in result.configs]
    assert loaded.history == result.history and loaded.steps_done == 3 and loaded.diverged == [False, False]
    assert_same_weights(loaded.networks, 1, result.networks, 1, atol=0)
    assert torch.equal(loaded.targets[1].centres, result.targets[1].centres)
    torch.save({"format": "other"}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a gridbook training checkpoint"):
        load_checkpoint(tmp_path / "bad.pt")


def test_configs_of_different_shapes_cannot_train_together():
    with pytest.raises(ConfigError, match=r"configs\[1\].shape_key\(\).*differs.*must share shape_key"):
        train([tiny(), tiny(n_hidden=32)])
    with pytest.raises(ConfigError, match="configs is empty"):
        train([])
    mixed = train([tiny(target="dos"), tiny(target="gaussian", seed=1)])  # one loss family: batchable
    assert mixed.diverged == [False, False]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_batched_optimizers_match_torch_optim(name):
    gen = torch.Generator().manual_seed(0)
    lrs = [1e-2, 3e-3]
    stacked = torch.randn(2, 3, 4, generator=gen)
    singles = [stacked[k].clone().requires_grad_() for k in range(2)]
    reference = [getattr(torch.optim, {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD", "adagrad": "Adagrad"}[name])(
        [p], lr=lr) for p, lr in zip(singles, lrs, strict=True)]
    optimizer = BatchedOptimizer(name, [stacked])
    for _ in range(5):
        grad = torch.randn(2, 3, 4, generator=gen)
        optimizer.step([grad], lrs)
        for k, (param, opt) in enumerate(zip(singles, reference, strict=True)):
            param.grad = grad[k].clone()
            opt.step()
    for k in range(2):
        torch.testing.assert_close(stacked[k], singles[k].detach(), rtol=1e-6, atol=1e-7)
    before = stacked.clone()
    optimizer.step([torch.randn(2, 3, 4, generator=gen)], [0.0, 1e-2])  # learning rate 0 freezes network 0
    assert torch.equal(stacked[0], before[0]) and not torch.equal(stacked[1], before[1])
    with pytest.raises(ConfigError, match="optimizer='lbfgs'.*adam"):
        BatchedOptimizer("lbfgs", [stacked])


def test_fused_cross_entropy_equals_the_targets_loss():
    config = tiny()
    targets = [make_target(config.target, config.task, network_generator(s, "target")) for s in (0, 1)]
    positions = torch.rand(2, 5, 8, 2) * 2 - 1
    code = torch.stack([t.encode(p) for t, p in zip(targets, positions, strict=True)])  # (K, T, B, Np)
    logits = (3 * torch.randn(2, 5, 8, 16)).requires_grad_()
    fused = network_losses(targets, logits, code)
    (grad_fused,) = torch.autograd.grad(fused.sum(), logits)
    reference = torch.stack([t.loss(logits[k], code[k]) for k, t in enumerate(targets)])
    (grad_reference,) = torch.autograd.grad(reference.sum(), logits)
    torch.testing.assert_close(fused, reference, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grad_fused, grad_reference, rtol=1e-5, atol=1e-8)


def _one_sgd_step(configs):
    start = BatchedRecurrentNetworks.from_configs(configs)
    end = train(configs).networks
    return {name: end.state_dict()[name] - value for name, value in start.state_dict().items()}, start


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


def test_history_and_progress_lines(capsys):
    result = train_networks([tiny(n_steps=40)], device="cpu", progress=None, eval_every=7)  # stderr: no terminal
    expected = set(range(7, 41, 7)) | set(range(4, 41, 4))
    assert result.history[0]["step"] == sorted(expected)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10 and lines[-1].startswith("step 40/40: loss ") and "diverged 0/1" in lines[-1]
    train_networks([tiny(n_steps=2)], device="cpu", progress=True)
    captured = capsys.readouterr()
    assert "training 1 networks" in captured.err and captured.out == ""


def test_scheduled_lr_is_constant_or_a_cosine_to_lr_final():
    assert [scheduled_lr(1e-2, 0.0, step, 100) for step in (0, 50, 100)] == [1e-2] * 3
    assert scheduled_lr(1e-2, 1e-4, 0, 100) == pytest.approx(1e-2, rel=1e-12)
    assert scheduled_lr(1e-2, 1e-4, 50, 100) == pytest.approx((1e-2 + 1e-4) / 2, rel=1e-12)
    assert scheduled_lr(1e-2, 1e-4, 100, 100) == pytest.approx(1e-4, rel=1e-12)
    runs = [train([tiny(optimizer="sgd", lr=0.1, n_steps=n, lr_final=f)]).networks.state_dict()
            for n, f in ((1, 0.0), (2, 0.0), (2, 1e-9))]  # SGD: step 0 at lr 0.1 in all; step 1 at 0.1 vs ~0.05
    ratio = scheduled_lr(0.1, 1e-9, 1, 2) / 0.1
    assert ratio == pytest.approx(0.5, rel=1e-7)
    for name, first in runs[0].items():
        torch.testing.assert_close(runs[2][name] - first, ratio * (runs[1][name] - first), atol=1e-6, rtol=1e-4)


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device().type in ("cpu", "cuda", "mps")


def test_cli_train_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["train", "--profile", "smoke", "--target", "dos", "--sigma", "0.12", "--steps", "4", "--seed", "0",
            "--device", "cpu", "--set", "n_hidden=16", "--set", "batch_size=8", "--set", "seq_len=5", "--out",
            str(out)]
    assert cli_main(args) == 0
    printed = capsys.readouterr().out
    assert "final decoding error:" in printed and " cm " in printed and "step 4/4" in printed
    assert {p.name for p in out.iterdir()} == {"config.yaml", "checkpoint.pt", "metrics.json"}
    saved = load_checkpoint(out / "checkpoint.pt")
    assert saved.configs[0].model.n_hidden == 16 and saved.configs[0].target.sigma == 0.12
    assert cli_main(args[:-2] + ["--set", "nonsense=1", "--out", str(out)]) == 2
    assert "unknown config key 'nonsense'" in capsys.readouterr().err
    assert cli_main(args[:-2] + ["--set", "lr", "--out", str(out)]) == 2
    assert "--set 'lr' is invalid" in capsys.readouterr().err
