"""Optimisation of K stacked networks: the fused per-network loss and torch.optim's update rules, batched.

:class:`BatchedOptimizer` is torch.optim's update rules and defaults (Adam betas (0.9, 0.999), eps 1e-8; RMSprop
alpha 0.99, eps 1e-8; Adagrad eps 1e-10; plain SGD), written over stacked parameters with a per-network learning
rate; :func:`network_losses` is each network's target loss; :func:`scheduled_lr` the learning-rate schedule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from gridbook.config import OPTIMIZERS
from gridbook.errors import check_choice
from gridbook.task.targets import TargetEncoder

__all__ = ["OPTIMIZER_DEFAULTS", "BatchedOptimizer", "SoftCrossEntropy", "network_losses", "scheduled_lr"]

OPTIMIZER_DEFAULTS = {"adam": {"betas": (0.9, 0.999), "eps": 1e-8}, "rmsprop": {"alpha": 0.99, "eps": 1e-8},
                      "adagrad": {"eps": 1e-10}, "sgd": {}}


# ---- losses -------------------------------------------------------------------------------------------------------
class SoftCrossEntropy(torch.autograd.Function):
    """Per-network mean softmax cross-entropy ``-(code * log_softmax(logits)).sum(-1).mean()`` with a fused backward.

    logits, code (K, R, P) -> (K,). Computed as ``mean(sum(code) logsumexp(logits)) - sum(code * logits) / R`` from
    one fused softmax; when a gradient is needed, the forward pass also forms it, ``(softmax(logits) sum(code) -
    code) / R``, in the softmax buffer, and the backward pass only scales it. ``per_network`` (default: on a CPU)
    runs one network at a time, so its rows stay in cache; elsewhere (a GPU) all networks go in one pass, where K
    passes would cost K times the kernel launches.
    """

    @staticmethod
    def forward(ctx, logits, code, per_network=None):  # noqa: D102
        n_net, n_rows, _ = logits.shape
        per_network = logits.device.type == "cpu" if per_network is None else per_network
        losses = logits.new_empty(n_net)  # (K,)
        probs = torch.empty_like(logits)  # (K, R, P), becomes dloss_k / dlogits
        for z, y, prob, loss in zip(*((logits, code, probs, losses) if per_network else
                                      ([logits], [code], [probs], [losses])), strict=True):  # (R, P) or (K, R, P)
            torch.ops.aten._softmax.out(z, -1, False, out=prob)
            peak = prob.amax(-1)  # (..., R) the largest probability, 1 / sum exp(z - top)
            top = z.amax(-1)  # (..., R) the largest logit (reductions without indices: ~4x faster than max + gather)
            log_total = -peak.log()  # (..., R) log sum exp(z - top)
            code_sum = y.sum(-1)  # (..., R)
            cross = (y * z).sum((-2, -1)) if not per_network else torch.dot(y.reshape(-1), z.reshape(-1))
            loss.copy_(((code_sum * (top + log_total)).sum(-1) - cross) / n_rows)
            if ctx.needs_input_grad[0]:
                prob.mul_((code_sum / n_rows)[..., None]).sub_(y, alpha=1 / n_rows)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(probs)
        return losses

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_loss):  # noqa: D102
        (grad,) = ctx.saved_tensors  # (K, R, P) dloss_k / dlogits
        if not bool((grad_loss == 1).all()):
            grad.mul_(grad_loss[:, None, None])
        return grad, None, None


def network_losses(targets: Sequence[TargetEncoder], output: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """Target loss of each network: output, code (K, T, B, P) -> (K,). Uses the fused cross-entropy where every
    target uses the base class's softmax cross-entropy, else each target's own ``loss``."""
    n_net, n_out = output.shape[0], output.shape[-1]
    if all(t.loss_kind == "cross_entropy" and type(t).loss is TargetEncoder.loss for t in targets):
        return SoftCrossEntropy.apply(output.reshape(n_net, -1, n_out), code.reshape(n_net, -1, n_out))
    return torch.stack([target.loss(output[k], code[k]) for k, target in enumerate(targets)])


# ---- optimizers ---------------------------------------------------------------------------------------------------
class BatchedOptimizer:
    """torch.optim's adam / rmsprop / sgd / adagrad (defaults: :data:`OPTIMIZER_DEFAULTS`, no momentum, no built-in
    weight decay) over parameters stacked on a leading network axis, with a learning rate per network.

    ``name``: one optimizer for every network, or one per network (networks of one job may differ: each contiguous
    run of one optimizer is updated by its rule on its slice of the stacked parameters and state).
    ``step(grads, lr)`` takes the gradients and the learning rates ``lr`` (K floats; 0 freezes a network).
    """

    def __init__(self, name: str | Sequence[str], params: Sequence[torch.Tensor]) -> None:
        self.params, self.step_count = list(params), 0
        n_net = self.params[0].shape[0] if self.params else 0
        names = [name] * n_net if isinstance(name, str) else list(name)
        for each in names:
            check_choice("optimizer", each, OPTIMIZERS)
        self.names = names
        self.name = names[0] if len(set(names)) == 1 else "mixed"
        self.runs: list[tuple[int, int, str]] = []  # contiguous runs of one optimizer over the network axis
        for k, each in enumerate(names):
            if self.runs and self.runs[-1][2] == each:
                self.runs[-1] = (self.runs[-1][0], k + 1, each)
            else:
                self.runs.append((k, k + 1, each))
        buffers = {"adam": ("exp_avg", "exp_avg_sq"), "rmsprop": ("square_avg",), "adagrad": ("sum",), "sgd": ()}
        wanted = list(dict.fromkeys(b for each in set(names) for b in buffers[each]))
        self.state = [{b: torch.zeros_like(p, memory_format=torch.contiguous_format) for b in sorted(wanted)}
                      for p in self.params]

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor], lr: Sequence[float]) -> None:
        self.step_count += 1
        t = self.step_count
        beta1, beta2 = OPTIMIZER_DEFAULTS["adam"]["betas"]
        # float64, as torch.optim computes step_size
        factors = [-rate / (1 - beta1**t) if each == "adam" else -float(rate) for rate, each in
                   zip(lr, self.names, strict=True)]
        bias2_sqrt = math.sqrt(1 - beta2**t)
        device = self.params[0].device
        factor = torch.tensor(factors, dtype=torch.float32, device=device)  # (K,)
        for param, grad, state in zip(self.params, grads, self.state, strict=True):
            scale = factor.view(-1, *([1] * (param.dim() - 1)))  # (K, 1, ...)
            for start, stop, each in self.runs:
                whole = (start, stop) == (0, param.shape[0])
                part = slice(start, stop)
                p, g, s = (param, grad, scale) if whole else (param[part], grad[part], scale[part])
                buffers = state if whole else {key: value[part] for key, value in state.items()}
                _update(each, p, g, s, buffers, bias2_sqrt)

    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name if self.name != "mixed" else list(self.names), "step_count": self.step_count,
                "state": [{k: v.detach().cpu() for k, v in s.items()} for s in self.state]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state["name"]
        names = [saved] * len(self.names) if isinstance(saved, str) else list(saved)
        if names != self.names or len(state["state"]) != len(self.state):
            raise ValueError(f"optimizer state of {saved!r} does not fit optimizer {self.name!r}")
        self.step_count = int(state["step_count"])
        for mine, stored in zip(self.state, state["state"], strict=True):
            for key, value in stored.items():
                mine[key].copy_(value)


def _update(name: str, param: torch.Tensor, grad: torch.Tensor, scale: torch.Tensor, state: dict[str, torch.Tensor],
            bias2_sqrt: float) -> None:
    """One update of ``name``'s rule, in place, on (a slice of) stacked parameters; ``scale`` (K, 1, ...) holds
    -lr (Adam: -lr / (1 - beta1^t))."""
    opts = OPTIMIZER_DEFAULTS[name]
    if name == "sgd":
        param.add_(grad * scale)
        return
    if name == "adam":
        (beta1, beta2), eps = opts["betas"], opts["eps"]
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        numer, denom = state["exp_avg"], (state["exp_avg_sq"].sqrt() / bias2_sqrt).add_(eps)
    elif name == "rmsprop":
        state["square_avg"].mul_(opts["alpha"]).addcmul_(grad, grad, value=1 - opts["alpha"])
        numer, denom = grad, state["square_avg"].sqrt().add_(opts["eps"])
    else:  # adagrad
        state["sum"].addcmul_(grad, grad, value=1)
        numer, denom = grad, state["sum"].sqrt().add_(opts["eps"])
    param.add_(torch.mul(numer, scale).div_(denom))


def scheduled_lr(lr: float, lr_final: float, step: int, n_steps: int) -> float:
    """The learning rate of 0-based ``step``: ``lr`` when ``lr_final`` is 0 (the paper's constant rate), else a cosine
    decay from ``lr`` at step 0 to ``lr_final`` at ``n_steps`` (the quick profile's schedule, issue 4)."""
    if lr_final <= 0 or n_steps <= 0:
        return lr
    return lr_final + (lr - lr_final) * 0.5 * (1 + math.cos(math.pi * min(step / n_steps, 1.0)))
