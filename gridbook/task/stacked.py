"""The exact codes of K targets at once: place-cell targets of one kind stacked on a leading network axis.

:class:`StackedCodes` holds K targets (one per network of a batched job). Place-cell targets of the same kind, field
count and box are one *group*: their fields (Kg, F, Np, 2), widths (Kg, 1, Np) and amplitudes (Kg, 1, 1) are stacked
once, and a group's codes are one batched squared-distance product and one call of the kind's code function
(:mod:`gridbook.task.place_codes`, the same functions a single target uses). Any other target (the affine codes, or a
code table) is encoded network by network. The codes equal each target's own ``encode`` up to float32 rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from gridbook.task.encoder import TargetEncoder
from gridbook.task.place_codes import dog_code, dos_code, field_squared_distances, gaussian_code, sod_code
from gridbook.task.targets import (
    DifferenceOfGaussians,
    DifferenceOfSoftmaxes,
    GaussianPlaceCells,
    PlaceCellTarget,
    SoftmaxOfDifferences,
)

__all__ = ["StackedCodes"]


def _group_key(target: object) -> tuple | None:
    """Targets with equal keys stack into one group; None: encoded on its own."""
    if type(target) not in (GaussianPlaceCells, DifferenceOfSoftmaxes, DifferenceOfGaussians, SoftmaxOfDifferences):
        return None
    assert isinstance(target, PlaceCellTarget)
    return type(target), target.fields.shape, target.periodic, target.box, str(target.device)


class _Group:
    """Stacked parameters of place-cell targets of one kind (``members``: their network indices)."""

    def __init__(self, members: list[int], targets: list[PlaceCellTarget]) -> None:
        first = targets[0]
        self.kind, self.periodic, self.box = type(first), first.periodic, first.box
        self.members = members
        self.index = torch.tensor(members, device=first.device)  # (Kg,)
        self.fields = torch.stack([t.fields for t in targets])  # (Kg, F, Np, 2) m
        self.sigmas = torch.stack([t.sigmas for t in targets])[:, None]  # (Kg, 1, Np) m
        if first.has_surround:
            self.surround_sigmas = torch.stack([t.surround_sigmas for t in targets])[:, None]  # (Kg, 1, Np) m
        if self.kind is DifferenceOfGaussians:
            self.a_e = torch.tensor([t.a_e for t in targets], device=first.device)[:, None, None]  # (Kg, 1, 1)
            self.a_i = torch.tensor([t.a_i for t in targets], device=first.device)[:, None, None]  # (Kg, 1, 1)

    def encode(self, pos: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """pos (Kg, N, 2) m -> the codes (Kg, N, Np), written into ``out``."""
        d2 = field_squared_distances(pos, self.fields, self.periodic, self.box)  # (Kg, N, Np) m^2
        if self.kind is GaussianPlaceCells:
            return gaussian_code(d2, self.sigmas, out)
        if self.kind is DifferenceOfSoftmaxes:
            return dos_code(d2, self.sigmas, self.surround_sigmas, out)
        if self.kind is DifferenceOfGaussians:
            return dog_code(d2, self.sigmas, self.surround_sigmas, self.a_e, self.a_i, out)
        return sod_code(d2, self.sigmas, self.surround_sigmas, out)


class StackedCodes:
    """The codes of K targets (``sources``: targets, or anything with ``encode_into`` such as a code table) for
    positions stacked on a network axis. ``n_outputs``: the common code size."""

    def __init__(self, sources: Sequence[TargetEncoder]) -> None:
        self.sources = list(sources)
        sizes = {s.n_outputs for s in self.sources}
        if len(sizes) != 1:
            raise ValueError(f"targets of one job must share their code size; got {sorted(sizes)}")
        self.n_outputs = sizes.pop()
        keyed: dict[tuple, list[int]] = {}
        self.singles: list[int] = []
        for k, source in enumerate(self.sources):
            key = _group_key(source)
            if key is None:
                self.singles.append(k)
            else:
                keyed.setdefault(key, []).append(k)
        self.groups = [_Group(members, [self.sources[k] for k in members]) for members in keyed.values()]
        self.whole = len(self.groups) == 1 and self.groups[0].members == list(range(len(self.sources)))

    def encode_into(self, pos: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """pos (K, ..., 2) m -> codes (K, ..., Np) written into ``out``; returns ``out``."""
        n_net = pos.shape[0]
        flat_pos = pos.reshape(n_net, -1, 2)  # (K, N, 2) m
        flat_out = out.view(n_net, -1, self.n_outputs)  # (K, N, Np)
        if self.whole:  # one group of every network in order: written in place
            self.groups[0].encode(flat_pos, flat_out)
            return out
        for group in self.groups:
            flat_out.index_copy_(0, group.index, group.encode(flat_pos[group.index], None))
        for k in self.singles:
            self.sources[k].encode_into(pos[k], out[k])
        return out

    def encode(self, pos: torch.Tensor) -> torch.Tensor:
        """pos (K, ..., 2) m -> codes (K, ..., Np) float32."""
        out = torch.empty(*pos.shape[:-1], self.n_outputs, device=pos.device)
        return self.encode_into(pos, out)
