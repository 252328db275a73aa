"""The place-cell codes of PAPER.md section 3 as pure functions of squared distances: one definition of each formula,
used by one target (:mod:`gridbook.task.targets`) and by K targets stacked on a leading axis
(:mod:`gridbook.task.stacked`).

Every function takes ``d2`` (..., Np) squared distances (m^2) from each position to each cell's nearest field, and
per-cell widths that broadcast against it: (Np,) for one target, (K, 1, Np) for K stacked ones. Amplitudes are
floats or tensors broadcasting the same way. ``out``, when given, receives the code (it may be ``d2``'s shape only).
"""

from __future__ import annotations

import torch

__all__ = ["dog_code", "dos_code", "field_squared_distances", "gaussian_code", "shift_normalise", "sod_code"]


def field_squared_distances(pos: torch.Tensor, fields: torch.Tensor, periodic: bool = False,
                            box: tuple[float, float] | None = None) -> torch.Tensor:
    """pos (K, N, 2) m, fields (K, F, Np, 2) m -> (K, N, Np) m^2: each position's squared distance to each cell's
    nearest field (minimum-image distances in a periodic ``box``). Non-periodic distances are
    ``|p|^2 + |c|^2 - 2 p.c`` as one batched matrix product (~4x faster than forming (N, Np, 2) differences)."""
    d2 = None
    for slot in fields.unbind(1):  # (K, Np, 2) m per field slot: memory stays at (K, N, Np)
        if periodic:
            size = torch.tensor(box, dtype=pos.dtype, device=pos.device)  # (2,) m
            diff = (pos[:, :, None, :] - slot[:, None]).abs()  # (K, N, Np, 2) m
            slot_d2 = torch.minimum(diff, size - diff).square().sum(-1)  # (K, N, Np) m^2
        else:
            slot_d2 = torch.baddbmm(slot.square().sum(-1)[:, None, :], pos, slot.transpose(1, 2), alpha=-2)
            slot_d2.add_(pos.square().sum(-1, keepdim=True)).clamp_(min=0)  # (K, N, Np) m^2
        d2 = slot_d2 if d2 is None else torch.minimum(d2, slot_d2)
    return d2


def shift_normalise(diff: torch.Tensor) -> torch.Tensor:
    """Sorscher's normalisation, in place on ``diff`` (..., Np): add |min| over cells, divide by the sum (uniform
    where the sum is 0). No host synchronisation (the uniform fill is a masked write, not a test)."""
    shifted = diff.add_(diff.amin(-1, keepdim=True).abs())  # (..., Np) >= 0
    total = shifted.sum(-1, keepdim=True)  # (..., 1)
    shifted.div_(total.clamp_min(1e-30))
    return shifted.masked_fill_(total <= 0, 1.0 / shifted.shape[-1])


def gaussian_code(d2: torch.Tensor, sigmas: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Gaussian place cells: ``softmax(-d2 / 2 sigma^2)`` over cells."""
    code = torch.softmax(d2 * (-0.5 / sigmas.square()), dim=-1)  # (..., Np)
    return code if out is None else out.copy_(code)


def dos_code(d2: torch.Tensor, sigmas: torch.Tensor, surround_sigmas: torch.Tensor,
             out: torch.Tensor | None = None) -> torch.Tensor:
    """DoS (Sorscher et al.'s "DoG"): ``softmax(-d2 / 2 sigma^2) - softmax(-d2 / 2 sigma_s^2)``, shifted by |min|
    over cells and divided by the sum."""
    centre = torch.softmax(d2 * (-0.5 / sigmas.square()), dim=-1)  # (..., Np)
    surround = torch.softmax(d2 * (-0.5 / surround_sigmas.square()), dim=-1)  # (..., Np)
    return shift_normalise(torch.sub(centre, surround, out=centre if out is None else out))


def dog_code(d2: torch.Tensor, sigmas: torch.Tensor, surround_sigmas: torch.Tensor, a_e=1.0, a_i=1.0,
             out: torch.Tensor | None = None) -> torch.Tensor:
    """(General) difference of Gaussians: ``a_e exp(-d2 / 2 sigma^2) - a_i exp(-d2 / 2 sigma_s^2)``, shifted by
    |min| over cells and divided by the sum (``a_e = a_i = 1``: the paper's true DoG)."""
    centre = torch.exp(d2 * (-0.5 / sigmas.square())).mul_(a_e)  # (..., Np)
    surround = torch.exp(d2 * (-0.5 / surround_sigmas.square())).mul_(a_i)  # (..., Np)
    return shift_normalise(torch.sub(centre, surround, out=centre if out is None else out))


def sod_code(d2: torch.Tensor, sigmas: torch.Tensor, surround_sigmas: torch.Tensor,
             out: torch.Tensor | None = None) -> torch.Tensor:
    """SoD: ``softmax(-d2 / 2 sigma^2 + d2 / 2 sigma_s^2)`` over cells."""
    code = torch.softmax(-d2 / (2 * sigmas.square()) + d2 / (2 * surround_sigmas.square()), dim=-1)
    return code if out is None else out.copy_(code)
