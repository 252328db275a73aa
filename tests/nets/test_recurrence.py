"""The hand-written Elman recurrence and the mixed-precision product (gridbook/recurrence.py)."""

from __future__ import annotations

import pytest
import torch

from gridbook.nets.recurrence import ElmanRecurrence, mixed_bmm

K, T, B, NG = 2, 4, 3, 5


def _elman_inputs(seed: int = 0, mask: bool = False):
    gen = torch.Generator().manual_seed(seed)
    drive = torch.randn(K, T, B, NG, generator=gen, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(K, B, NG, generator=gen, dtype=torch.float64, requires_grad=True)
    weight = (0.5 * torch.randn(K, NG, NG, generator=gen, dtype=torch.float64)).requires_grad_()
    keep = (torch.rand(K, B, NG, generator=gen) > 0.3).double() / 0.7 if mask else None
    return drive, h0, weight, keep


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("mask", [False, True])
def test_elman_backward_passes_gradcheck_in_float64(activation, mask):
    drive, h0, weight, keep = _elman_inputs(mask=mask)
    assert torch.autograd.gradcheck(lambda d, h, w: ElmanRecurrence.apply(d, h, w, keep, activation)[0],
                                    (drive, h0, weight))


def test_elman_forward_is_the_recurrence():
    drive, h0, weight, _ = _elman_inputs(seed=1)
    hidden, hidden_low = ElmanRecurrence.apply(drive, h0, weight, None, "tanh")  # (K, T, B, NG), None
    assert hidden_low is None
    h = h0
    for t in range(T):
        h = torch.tanh(drive[:, t] + torch.bmm(h, weight))
        torch.testing.assert_close(hidden[:, t], h)


@pytest.mark.parametrize("mask", [False, True])
def test_bfloat16_elman_gives_its_cast_state_and_the_gradients_of_the_plain_loop(mask):
    drive, h0, weight, keep = (x if x is None else x.detach().float() for x in _elman_inputs(seed=3, mask=mask))
    low = torch.bfloat16
    leaves = [x.clone().requires_grad_() for x in (drive, h0, weight)]
    hidden, hidden_low = ElmanRecurrence.apply(*leaves, keep, "relu", low)
    assert hidden_low.dtype == low and torch.equal(hidden_low, hidden.to(low))
    readout = torch.randn(K, T, B, NG, generator=torch.Generator().manual_seed(4))
    ((hidden_low.float() * readout).sum() + hidden.square().sum()).backward()  # both outputs' gradients count
    plain = [x.clone().requires_grad_() for x in (drive, h0, weight)]
    h, states = plain[1] if keep is None else plain[1] * keep, []
    for t in range(T):
        h = torch.relu(plain[0][:, t] + mixed_bmm(h, plain[2], low))
        states.append(h)
        h = h if keep is None else h * keep
    loop = torch.stack(states, 1)
    torch.testing.assert_close(hidden, loop, rtol=0, atol=0)
    ((loop.to(low).float() * readout).sum() + loop.square().sum()).backward()
    for mine, theirs in zip(leaves, plain, strict=True):
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=3e-2, atol=1e-2)  # bfloat16 roundings


def test_bmm_float32_is_torch_bmm_and_bfloat16_is_close_and_float32_out():
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(3, 7, 16, generator=gen), torch.randn(3, 16, 5, generator=gen)
    assert torch.equal(mixed_bmm(a, b, torch.float32), torch.bmm(a, b))
    low = mixed_bmm(a, b, torch.bfloat16)
    assert low.dtype == torch.float32 and not torch.equal(low, torch.bmm(a, b))
    torch.testing.assert_close(low, torch.bmm(a, b), atol=0.1, rtol=2e-2)
