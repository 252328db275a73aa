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
from gridbook.task.lookup import stacked_table_rows
from gridbook.task.place_codes import dog_code, dos_code, field_squared_distances, gaussian_code, sod_code
from gridbook.task.targets import (
    DifferenceOfGaussians,
    DifferenceOfSoftmaxes,
    GaussianPlaceCells,
    NormalisedDoG,
    PlaceCellTarget,
    SoftmaxOfDifferences,
    correlation_templates,
    lookup_grid,
)

__all__ = ["StackedCodes", "StackedDecoders"]


def _group_key(target: object) -> tuple | None:
    """Targets with equal keys stack into one group; None: encoded on its own."""
    if type(target) not in (GaussianPlaceCells, DifferenceOfSoftmaxes, DifferenceOfGaussians, SoftmaxOfDifferences,
                            NormalisedDoG):
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
        if self.kind is NormalisedDoG:  # amplitudes per cell: 1 / sigma^2, 1 / sigma_s^2
            self.a_e, self.a_i = 1.0 / self.sigmas.square(), 1.0 / self.surround_sigmas.square()  # (Kg, 1, Np)

    def encode(self, pos: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """pos (Kg, N, 2) m -> the codes (Kg, N, Np), written into ``out``."""
        d2 = field_squared_distances(pos, self.fields, self.periodic, self.box)  # (Kg, N, Np) m^2
        if self.kind is GaussianPlaceCells:
            return gaussian_code(d2, self.sigmas, out)
        if self.kind is DifferenceOfSoftmaxes:
            return dos_code(d2, self.sigmas, self.surround_sigmas, out)
        if self.kind in (DifferenceOfGaussians, NormalisedDoG):
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


class StackedDecoders:
    """The decoders of K targets (exact targets, one per network) applied to K networks' outputs at once.

    ``decode`` is each target's :meth:`~gridbook.task.encoder.TargetEncoder.decode`: the top-k rule of place-cell
    targets (non-periodic, same k) as one ``topk`` over the stacked outputs; lookup decoding as one batched product
    per network block against the networks' stacked tables (:func:`~gridbook.task.lookup.stacked_table_rows`, the
    full float32 product); any other target on its own. ``decode_fine`` likewise, for the run's fine decoder.
    Outputs (K, ..., Np) -> positions (K, ..., 2) m.
    """

    def __init__(self, targets: Sequence[TargetEncoder], table_block: int = 64,
                 stacked_tables: bool | None = None) -> None:
        self.targets = list(targets)
        # lookups by stacked tables and one batched full product (default off the CPU); on a CPU each target's own
        # screened search (gridbook.task.lookup.ScreenedSearch) is faster and gives the same rows
        device = self.targets[0].device if self.targets else torch.device("cpu")
        self.stacked_tables = device.type != "cpu" if stacked_tables is None else stacked_tables
        self.places = [k for k, t in enumerate(self.targets) if isinstance(t, PlaceCellTarget)]
        self.top_k: dict[int, list[int]] = {}  # k of the top-k rule -> networks decoded by it together
        self.lookup: list[int] = []  # networks whose decode is the nearest code
        self.singles: list[int] = []
        for k, target in enumerate(self.targets):
            if isinstance(target, PlaceCellTarget) and target.decode_method == "top_k" and not target.periodic:
                self.top_k.setdefault(target.decode_top_k, []).append(k)
            elif isinstance(target, PlaceCellTarget) and target.decode_method == "lookup":
                self.lookup.append(k)
            else:
                self.singles.append(k)
        boxes = {self.targets[k].box for k in self.places}
        if len(boxes) > 1:
            raise ValueError(f"place-cell targets of one job must share their box; got {sorted(boxes)}")
        self.table_block = table_block  # networks whose tables are encoded at once
        self._tables: dict[str, tuple[torch.Tensor, torch.Tensor | None]] = {}
        self.place_index = {k: i for i, k in enumerate(self.places)}  # network -> its row among place-cell ones
        if self.places:
            device = self.targets[self.places[0]].device
            self.centres = torch.stack([self.targets[k].centres for k in self.places])  # (Kp, Np, 2) m
            self.grid = lookup_grid(self.targets[self.places[0]].box, device)  # (G, 2) m

    def tables(self, decoder: str) -> tuple[torch.Tensor, float, torch.Tensor | None]:
        """(tables (Kp, G, Np) of the place-cell networks in order, scale, offsets (Kp, G) or None) of
        ``decoder``: the nearest code's (codes, scale 2, offsets |code|^2) or the correlation's (unit templates);
        built once, ``table_block`` networks at a time."""
        if decoder not in self._tables:
            codes = []
            for start in range(0, len(self.places), self.table_block):
                block = [self.targets[k] for k in self.places[start : start + self.table_block]]
                grid = self.grid[None].expand(len(block), -1, -1)  # (Kb, G, 2) m
                encoded = StackedCodes(block).encode(grid)  # (Kb, G, Np)
                codes.append(encoded if decoder == "nearest" else correlation_templates(encoded))
            table = torch.cat(codes)  # (Kp, G, Np)
            offsets = table.square().sum(-1) if decoder == "nearest" else None  # (Kp, G)
            self._tables[decoder] = (table, offsets)
        table, offsets = self._tables[decoder]
        return table, 2.0 if decoder == "nearest" else 1.0, offsets

    def _table_decode(self, output: torch.Tensor, members: list[int], decoder: str, out: torch.Tensor) -> None:
        """Write into ``out[members]`` the best grid point of ``decoder`` for each of their outputs' softmax."""
        if not members:
            return
        if not self.stacked_tables:
            for k in members:
                out[k] = self.targets[k].decode_fine(output[k], decoder)
            return
        table, scale, offsets = self.tables(decoder)
        rows = torch.tensor([self.place_index[k] for k in members], device=table.device)
        index = torch.tensor(members, device=output.device)
        n_out = output.shape[-1]
        probs = torch.softmax(output[index].float(), dim=-1).reshape(len(members), -1, n_out)  # (Km, N, Np)
        best = stacked_table_rows(probs, table[rows], scale, None if offsets is None else offsets[rows])  # (Km, N)
        out[index] = self.grid[best].reshape(len(members), *output.shape[1:-1], 2)

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        """Each network's ``decode`` of its outputs (K, ..., Np) -> (K, ..., 2) m."""
        out = torch.empty(*output.shape[:-1], 2, device=output.device)
        for top_k, members in self.top_k.items():
            index = torch.tensor(members, device=output.device)
            rows = torch.tensor([self.place_index[k] for k in members], device=output.device)
            picked = torch.topk(output[index], top_k, dim=-1).indices  # (Km, ..., k)
            flat = picked.reshape(len(members), -1)  # (Km, N k)
            centres = torch.gather(self.centres[rows], 1, flat[..., None].expand(-1, -1, 2))  # (Km, N k, 2) m
            out[index] = centres.reshape(*picked.shape, 2).mean(-2)
        self._table_decode(output, self.lookup, "nearest", out)
        for k in self.singles:
            out[k] = self.targets[k].decode(output[k])
        return out

    def decode_fine(self, output: torch.Tensor, methods: Sequence[str]) -> torch.Tensor:
        """Each network's ``decode_fine(output, methods[k])`` (K, ..., Np) -> (K, ..., 2) m."""
        out = torch.empty(*output.shape[:-1], 2, device=output.device)
        for decoder in ("nearest", "correlation"):
            self._table_decode(output, [k for k in self.places if methods[k] == decoder], decoder, out)
        for k, target in enumerate(self.targets):
            if k not in self.place_index:
                out[k] = target.decode_fine(output[k], methods[k])
        return out
