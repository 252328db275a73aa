"""The Elman recurrence with a hand-written backward pass, and the mixed-precision matrix product.

:class:`ElmanRecurrence` runs ``h_t = act(drive_t + (mask * h_{t-1}) U)`` for K networks at once and forms the
recurrent weight gradient as one batched product over all time steps (the ``rnn``/``srnn`` architectures of
:mod:`gridbook.nets.models`). :func:`mixed_bmm` is every product of the networks: plain float32, or bfloat16
operands with a float32 result (``TrainConfig.precision``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["MATMUL_DTYPES", "ElmanRecurrence", "activation_segments", "mixed_bmm"]

MATMUL_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}  # TrainConfig.precision -> operand dtype


def mixed_bmm(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``torch.bmm(a, b)`` with operands cast to ``dtype`` (a no-op for operands already in it), as float32."""
    if dtype == torch.float32:
        return torch.bmm(a, b)
    return torch.bmm(a.to(dtype), b.to(dtype)).float()


def activation_segments(activations: str | Sequence[str], n_networks: int | None = None) -> tuple:
    """The networks' activations as contiguous runs ``((start, stop, name), ...)`` over the network axis; a single
    name covers all ``n_networks``. Networks of one job may differ in activation: each run is one in-place op."""
    if isinstance(activations, str):
        return ((0, n_networks, activations),)
    runs: list[tuple[int, int, str]] = []
    for k, name in enumerate(activations):
        if runs and runs[-1][2] == name:
            runs[-1] = (runs[-1][0], k + 1, name)
        else:
            runs.append((k, k + 1, name))
    return tuple(runs)


def _activate_(step: torch.Tensor, activation: str) -> None:
    """step = act(step), in place."""
    if activation == "relu":
        step.relu_()
    elif activation == "tanh":
        step.tanh_()
    elif activation == "sigmoid":
        step.sigmoid_()


def _activation_grad_(grad: torch.Tensor, hidden: torch.Tensor, activation: str) -> None:
    """grad *= act'(pre-activation), in place, written from the post-activation ``hidden``."""
    if activation == "relu":
        torch.ops.aten.threshold_backward.grad_input(grad, hidden, 0, grad_input=grad)
    elif activation == "tanh":
        grad.mul_(1 - hidden.square())
    elif activation == "sigmoid":
        grad.mul_(hidden * (1 - hidden))


class ElmanRecurrence(torch.autograd.Function):
    """``h_t = act(drive_t + (mask * h_{t-1}) U)`` for t = 1..T with a hand-written backward pass.

    drive (K, T, B, Ng) input drive (input weights times velocity, plus bias); h0 (K, B, Ng); weight U (K, Ng, Ng);
    mask (K, B, Ng) recurrent-dropout mask or None; ``activation`` a name, or one per network
    (:func:`activation_segments`) -> (hidden (K, T, B, Ng) float32, hidden_low). ``matmul_dtype``
    (default float32): the operand dtype of every matrix product, forward and backward (see :func:`mixed_bmm`); the
    state stays float32. With a low ``matmul_dtype``, ``hidden_low`` is ``hidden`` cast to it, written step by step
    (the cast the next step's product needs anyway), for the readout's product; with float32 it is None. The backward
    pass runs the time loop for the state gradients only and forms dL/dU = sum_t h_{t-1}^T delta_t as one batched
    product over all T * B rows; the gradients of ``hidden`` and ``hidden_low`` add up.
    """

    @staticmethod
    def forward(ctx, drive, h0, weight, mask, activation, matmul_dtype=torch.float32):  # noqa: D102
        ctx.set_materialize_grads(False)
        n_time = drive.shape[1]
        hidden = drive.clone()  # (K, T, B, Ng) pre-activations, overwritten step by step with h_t
        segments = activation_segments(activation, drive.shape[0])
        h0 = h0 if mask is None else h0 * mask  # (K, B, Ng)
        low = matmul_dtype != torch.float32
        hidden_low = torch.empty(hidden.shape, dtype=matmul_dtype, device=hidden.device) if low else None
        weight_low = weight.to(matmul_dtype) if low else None  # cast once, not once per step
        prev = h0.to(matmul_dtype) if low else h0  # (K, B, Ng)
        for t in range(n_time):
            step = hidden[:, t]  # (K, B, Ng) view
            if low:
                step.add_(torch.bmm(prev, weight_low))  # float32 += low: the product's result upcast exactly
            else:
                step.baddbmm_(prev, weight)
            for start, stop, name in segments:
                _activate_(step[start:stop], name)
            if low:
                hidden_low[:, t].copy_(step)  # (K, B, Ng) cast
                prev = hidden_low[:, t] if mask is None else (step * mask).to(matmul_dtype)
            else:
                prev = step if mask is None else step * mask
        ctx.segments, ctx.matmul_dtype = segments, matmul_dtype
        ctx.save_for_backward(hidden, hidden_low, h0, weight, mask)
        return hidden, hidden_low

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_hidden, grad_hidden_low):  # noqa: D102
        hidden, hidden_low, h0, weight, mask = ctx.saved_tensors
        n_net, n_time, n_batch, n_hidden = hidden.shape
        grads = [grad for grad in (grad_hidden_low, grad_hidden) if grad is not None]
        delta = torch.empty_like(hidden)  # (K, T, B, Ng) becomes dL/d(pre-activation) = dL/d(drive)
        delta.copy_(grads[0]) if grads else delta.zero_()  # an upcast of a low-precision gradient is exact
        for grad in grads[1:]:
            delta.add_(grad)
        dtype = ctx.matmul_dtype
        low = dtype != torch.float32
        weight_t = weight.transpose(1, 2)  # (K, Ng, Ng)
        delta_low = None
        if low:
            weight_t = weight_t.to(dtype)  # cast once, not once per step
            delta_low = torch.empty(delta.shape, dtype=dtype, device=delta.device)  # (K, T, B, Ng) delta cast
        for t in reversed(range(n_time)):
            step = delta[:, t]  # (K, B, Ng): dL/dh_t from the readout, plus from step t + 1 below
            if t < n_time - 1:
                if low:
                    back = torch.bmm(delta_low[:, t + 1], weight_t)  # (K, B, Ng) low, upcast exactly below
                    step.add_(back) if mask is None else step.addcmul_(back, mask)
                elif mask is None:
                    step.baddbmm_(delta[:, t + 1], weight_t)
                else:
                    step.addcmul_(torch.bmm(delta[:, t + 1], weight_t), mask)
            for start, stop, name in ctx.segments:
                _activation_grad_(step[start:stop], hidden[start:stop, t], name)
            if low:
                delta_low[:, t].copy_(step)
        grad_h0 = grad_weight = None
        if ctx.needs_input_grad[1]:
            grad_h0 = mixed_bmm(delta_low[:, 0] if low else delta[:, 0], weight_t, dtype)  # (K, B, Ng)
            if mask is not None:
                grad_h0.mul_(mask)
        if ctx.needs_input_grad[2] and low:  # one low-precision product over all T steps (rounded once)
            if mask is None:
                prev = torch.cat([h0.to(dtype)[:, None], hidden_low[:, :-1]], 1)  # (K, T, B, Ng): h_{t-1}, cast
            else:
                prev = torch.cat([h0[:, None], hidden[:, :-1]], 1)  # (K, T, B, Ng): h_{t-1} for t = 1..T
                prev[:, 1:].mul_(mask[:, None])  # h0 is saved already masked
                prev = prev.to(dtype)
            prev = prev.reshape(n_net, n_time * n_batch, n_hidden)
            grad_weight = mixed_bmm(prev.transpose(1, 2), delta_low.reshape(n_net, n_time * n_batch, n_hidden), dtype)
        elif ctx.needs_input_grad[2]:  # float32: h0's term, then the rest accumulated in place (no concatenation)
            grad_weight = torch.bmm(h0.transpose(1, 2), delta[:, 0])  # (K, Ng, Ng)
            if n_time > 1:
                prev = hidden[:, :-1] if mask is None else hidden[:, :-1] * mask[:, None]  # (K, T-1, B, Ng)
                prev = prev.reshape(n_net, (n_time - 1) * n_batch, n_hidden)
                later = delta[:, 1:].reshape(n_net, (n_time - 1) * n_batch, n_hidden)
                grad_weight.baddbmm_(prev.transpose(1, 2), later)
        return delta, grad_h0, grad_weight, None, None, None
