"""Training codes read from a table: a place-cell code tabulated once on a grid over the box, then interpolated.

The exact place-cell codes of PAPER.md section 3 cost ~10 passes over every (position, cell) pair: squared distances,
two softmaxes, the shift and the normalisation. On a CPU that is a fifth of a quick training step.
:class:`CodeTable` evaluates the exact code once on a grid of spacing h over the box and reads a position's code by
bilinear interpolation of its four grid neighbours (one fused ``embedding_bag``). A convex combination of codes is
still a code: non-negative, summing to one, so the cross-entropy keeps its meaning. The table is float32: a float16
table reads faster, but its rounding is ~1% of the true DoG code's variation across cells (a nearly flat code), and
one of three true-DoG networks trained on it failed to learn where the float32 table's twin did
(benchmarks/HISTORY.md).

Training reads codes from the table when ``TrainConfig.code_table`` = h > 0 (the quick profile). Evaluation, rate maps
and decoders always use the exact code. :func:`table_error` measures what the table changes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from gridbook.errors import check_positive
from gridbook.task.encoder import TargetEncoder, as_positions

__all__ = ["TABLE_DTYPE", "CodeTable", "TableError", "table_error", "training_code"]

TABLE_DTYPE = torch.float32  # storage of the tabulated codes
_BUILD_CHUNK = 4096  # grid points encoded at once while building a table


class CodeTable:
    """The code of ``target`` (a place-cell target, with a ``box``) on a grid of ``spacing`` (m) over the box.

    Attributes: ``spacing`` (m, the grid's actual spacing per axis: the box divided evenly, at most the asked one),
    ``shape`` (nx, ny) grid points, ``codes`` (nx ny, Np) float32, row ``ix * ny + iy`` for the point
    (-W/2 + ix hx, -H/2 + iy hy). Memory: nx ny Np x 4 bytes (a 2.2 m box at 5 mm, Np 256: ~200 MB).
    """

    def __init__(self, target: TargetEncoder, spacing: float) -> None:
        check_positive("code_table", spacing)
        box = getattr(target, "box", None)
        if box is None:
            raise ValueError(f"target {target.name!r} has no box: only place-cell codes are tabulated")
        self.target, self.box = target, (float(box[0]), float(box[1]))
        self.shape = tuple(max(2, math.ceil(side / spacing) + 1) for side in self.box)  # (nx, ny)
        self.spacing = tuple(side / (n - 1) for side, n in zip(self.box, self.shape, strict=True))  # (hx, hy) m
        axes = [torch.linspace(-side / 2, side / 2, n, device=target.device)
                for side, n in zip(self.box, self.shape, strict=True)]
        grid = torch.cartesian_prod(*axes)  # (nx ny, 2) m, iy fastest
        self.codes = torch.cat([target.encode(chunk).to(TABLE_DTYPE) for chunk in grid.split(_BUILD_CHUNK)])
        # (nx ny, Np) float32
        self.n_outputs = target.n_outputs

    def encode(self, pos: Any) -> torch.Tensor:
        """pos (..., 2) m -> (..., Np) float32, the bilinear interpolation of the tabulated code (positions outside
        the box read its edge)."""
        return self._interpolate(pos).float()

    def encode_into(self, pos: Any, out: torch.Tensor) -> torch.Tensor:
        """:meth:`encode` written into ``out`` (..., Np) (the cast to ``out``'s dtype happens in the copy); returns
        ``out``."""
        return out.copy_(self._interpolate(pos))

    def _interpolate(self, pos: Any) -> torch.Tensor:  # (..., 2) m -> (..., Np) in TABLE_DTYPE
        pos = as_positions(pos, self.codes.device)
        flat = pos.reshape(-1, 2)  # (N, 2) m
        (nx, ny), (hx, hy) = self.shape, self.spacing
        fx = ((flat[:, 0] + self.box[0] / 2) / hx).clamp_(0, nx - 1 - 1e-4)  # (N,) grid units
        fy = ((flat[:, 1] + self.box[1] / 2) / hy).clamp_(0, ny - 1 - 1e-4)  # (N,)
        ix, iy = fx.floor(), fy.floor()
        tx, ty = fx - ix, fy - iy  # (N,) in [0, 1)
        corner = ix.long() * ny + iy.long()  # (N,) row of the lower-left neighbour
        rows = torch.stack([corner, corner + 1, corner + ny, corner + ny + 1], 1)  # (N, 4)
        weights = torch.stack([(1 - tx) * (1 - ty), (1 - tx) * ty, tx * (1 - ty), tx * ty], 1)  # (N, 4)
        code = F.embedding_bag(rows, self.codes, per_sample_weights=weights.to(TABLE_DTYPE), mode="sum")  # (N, Np)
        return code.reshape(*pos.shape[:-1], self.n_outputs)


def training_code(target: TargetEncoder, spacing: float) -> TargetEncoder | CodeTable:
    """What training reads codes from: a :class:`CodeTable` of ``target`` when ``spacing`` > 0 and the target is a
    place-cell code (it has a box), else the target itself (the affine codes are cheap and exact)."""
    if spacing > 0 and getattr(target, "box", None) is not None:
        return CodeTable(target, spacing)
    return target


class TableError(dict):
    """What a table changes, on random positions in the box: ``max_abs`` (largest |table - exact| over positions
    and cells, divided by the largest exact code value), ``mean_tv`` (mean over positions of the total-variation
    distance 0.5 sum_i |table_i - exact_i| between the two codes, which are distributions over cells), ``rel_signal``
    (mean over positions of sum_i |table_i - exact_i| / sum_i |exact_i - mean_j exact_j|: the error against the
    code's variation across cells, the part that carries the position; a nearly flat code such as the true DoG has
    little of it), ``spacing_m`` and ``n_positions``."""


def table_error(target: TargetEncoder, spacing: float, n_positions: int = 20_000, seed: int = 0) -> TableError:
    """The error of ``CodeTable(target, spacing)`` against ``target.encode`` on ``n_positions`` uniform positions."""
    table = CodeTable(target, spacing)
    generator = torch.Generator().manual_seed(seed)
    box = torch.tensor(table.box)
    pos = (torch.rand(n_positions, 2, generator=generator) - 0.5) * box  # (N, 2) m
    exact, approx = target.encode(pos), table.encode(pos)  # (N, Np)
    diff = (approx - exact).abs()  # (N, Np)
    signal = (exact - exact.mean(-1, keepdim=True)).abs().sum(-1).clamp_min(1e-30)  # (N,)
    return TableError(max_abs=float(diff.max() / exact.abs().max()), mean_tv=float(0.5 * diff.sum(-1).mean()),
                      rel_signal=float((diff.sum(-1) / signal).mean()), spacing_m=float(spacing),
                      n_positions=n_positions)
