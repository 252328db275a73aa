"""Batched optimizers, the fused loss and the learning-rate schedule."""

from __future__ import annotations

import pytest
import torch
from tiny_runs import tiny, train

from gridbook.config import OPTIMIZERS
from gridbook.errors import ConfigError
from gridbook.nets.models import network_generator
from gridbook.nets.optim import BatchedOptimizer, network_losses, scheduled_lr
from gridbook.task.targets import make_target


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
