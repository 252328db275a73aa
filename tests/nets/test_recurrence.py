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
    assert torch.autograd.gradcheck(lambda d, h, w: ElmanRecurrence.apply(d, h, w, keep, activation),
                                    (drive, h0, weight))


def test_elman_forward_is_the_recurrence():
    drive, h0, weight, _ = _elman_inputs(seed=1)
    hidden = ElmanRecurrence.apply(drive, h0, weight, None, "tanh")  # (K, T, B, NG)
    h = h0
    for t in range(T):
        h = torch.tanh(drive[:, t] + torch.bmm(h, weight))
        torch.testing.assert_close(hidden[:, t], h)


def test_bmm_float32_is_torch_bmm_and_bfloat16_is_close_and_float32_out():
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(3, 7, 16, generator=gen), torch.randn(3, 16, 5, generator=gen)
    assert torch.equal(mixed_bmm(a, b, torch.float32), torch.bmm(a, b))
    low = mixed_bmm(a, b, torch.bfloat16)
    assert low.dtype == torch.float32 and not torch.equal(low, torch.bmm(a, b))
    torch.testing.assert_close(low, torch.bmm(a, b), atol=0.1, rtol=2e-2)
