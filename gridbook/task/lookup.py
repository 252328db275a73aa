"""The best code of a lookup table for each output: an exact argmax, screened by a bfloat16 product.

Lookup decoding (:meth:`~gridbook.task.targets.PlaceCellTarget.decode_lookup`,
:meth:`~gridbook.task.targets.PlaceCellTarget.decode_correlation`) picks, for each output's probabilities p, the table
row g with the largest score ``s_g = scale * p . t_g - offset_g``. Over the 12,321 rows of the 2 cm table that is a
(N, Np) x (Np, G) product, ~25 GFLOP per 4,000 outputs: :func:`full_table_rows`.

:class:`ScreenedSearch` (:func:`best_table_rows` for one call) gives the same argmax at a fraction of the cost. With
p and t_g centred over cells (``q = p - mean(p)``, ``d_g = t_g - mean(t_g)``), ``p . t_g = q . d_g + Np mean(p)
mean(t_g)``, so

1. every ``q . d_g`` in bfloat16 (operands rounded to 8 significant bits, products summed in float32, the result
   rounded to bfloat16), then the rest of the score in float32: ``s~_g``, off from ``s_g`` by at most
   ``e = scale * SCREEN_ERROR * |q|_2 * max_g |d_g|_2`` (the operands' and the result's roundings bounded by
   Cauchy-Schwarz, with a margin for the float32 sums) plus the float32 rounding of the rest. Centring matters: the
   bfloat16 part and its rounding then scale with the outputs' and codes' variation over cells, not with their
   means, so flat outputs and nearly flat codes (the true DoG's) are screened as finely as peaked ones;
2. a row can beat the best only if ``s~_g >= max_h s~_h - 2 e``: these candidates (a handful of neighbouring grid
   points for most outputs) are scored again in float32 as ``scale * p . t_g - offset_g``, and the best is the answer;
3. a chunk whose outputs average more than :data:`MAX_CANDIDATES` candidates (an untrained network's outputs) is
   scored by the full product, and so are the call's later chunks.

So every answer is the best row up to float32 rounding, as the full product's is: both pick a row whose exact score
is within twice the float32 error of a sum of Np terms of the best one. Where two rows are that close (the true DoG's
nearest codes can be, ~1e-8 apart), the two may pick differently; elsewhere they agree. Only the time changes.
tests/task/test_lookup.py checks it on peaked, flattened and random outputs of the DoS, true-DoG and Gaussian codes,
for both decoders' scores.
"""

from __future__ import annotations

import torch

__all__ = ["LOOKUP_CHUNK", "MAX_CANDIDATES", "SCREEN_ERROR", "STACKED_CHUNK", "ScreenedSearch", "best_table_rows",
           "full_table_rows", "stacked_table_rows"]

LOOKUP_CHUNK = 1 << 22  # max (outputs x table rows) scores held at once
STACKED_CHUNK = 1 << 28  # max (networks x outputs x table rows) scores held at once by stacked_table_rows (1 GiB)
SCREEN_ERROR = 4 * 2.0**-8  # bound on |bf16 q.d - q.d| / (|q|_2 |d|_2): 3 roundings of 2^-8, plus margin
MAX_CANDIDATES = 64  # mean candidates per output above which a chunk is scored by the full product
_FLOAT32_ERROR = 2.0**-20  # bound on the float32 rounding of the score's rest, relative to its largest term


def full_table_rows(probs: torch.Tensor, table: torch.Tensor, scale: float = 1.0,
                    offset: torch.Tensor | None = None) -> torch.Tensor:
    """Row index of the largest ``scale * probs @ table.T - offset`` for each row of probs (N, Np), by the full
    float32 product in chunks of :data:`LOOKUP_CHUNK` scores; table (G, Np), offset (G,) or None. -> (N,) long."""
    chunk = max(1, LOOKUP_CHUNK // max(1, table.shape[0]))
    best = [torch.argmax(_scores(part, table, scale, offset), dim=-1) for part in probs.split(chunk)]
    return torch.cat(best) if best else torch.zeros(0, dtype=torch.long, device=table.device)


def stacked_table_rows(probs: torch.Tensor, tables: torch.Tensor, scale: float = 1.0,
                       offsets: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`full_table_rows` for K networks at once, each with its own table: probs (K, N, Np), tables (K, G, Np),
    offsets (K, G) or None -> (K, N) long. The full float32 product (no screening: on a GPU one batched product beats
    the screen's candidate bookkeeping), in blocks of at most :data:`STACKED_CHUNK` scores."""
    n_net, n_rows, _ = probs.shape
    n_table = tables.shape[1]
    rows = max(1, min(n_rows, STACKED_CHUNK // max(1, n_table)))
    nets = max(1, STACKED_CHUNK // max(1, n_table * rows))
    best = torch.empty(n_net, n_rows, dtype=torch.long, device=probs.device)
    for k in range(0, n_net, nets):
        offset = None if offsets is None else offsets[k : k + nets, None, :]  # (Kc, 1, G)
        for start in range(0, n_rows, rows):
            scores = _scores(probs[k : k + nets, start : start + rows], tables[k : k + nets], scale, offset)
            best[k : k + nets, start : start + rows] = torch.argmax(scores, dim=-1)  # (Kc, n)
    return best


class ScreenedSearch:
    """The screened search (module docstring) for one table and score ``scale * p . t_g - offset_g``, prepared once:
    the rows' means, the centred rows in bfloat16 and their largest norm. ``search(probs)`` (N, Np) -> (N,) long,
    the rows :func:`full_table_rows` gives. table (G, Np), offset (G,) or None, scale > 0."""

    def __init__(self, table: torch.Tensor, scale: float = 1.0, offset: torch.Tensor | None = None) -> None:
        if not scale > 0:
            raise ValueError(f"scale={scale!r} is invalid; allowed values: a number > 0")
        self.table, self.scale, self.offset = table, float(scale), offset
        self.means = table.mean(-1)  # (G,)
        self.centred = (table - self.means[:, None]).to(torch.bfloat16)  # (G, Np) d_g
        self.norm = float(self.centred.float().norm(dim=-1).max()) if table.numel() else 0.0

    def __call__(self, probs: torch.Tensor) -> torch.Tensor:
        table, scale, offset = self.table, self.scale, self.offset
        if not probs.shape[0] or not table.shape[0]:
            return full_table_rows(probs, table, scale, offset)
        chunk = max(1, LOOKUP_CHUNK // table.shape[0])
        best = []
        for start in range(0, probs.shape[0], chunk):
            rows = self._screened(probs[start : start + chunk])
            if rows is None:  # too many candidates: this chunk and the rest of these outputs (one network's) in full
                best.append(full_table_rows(probs[start:], table, scale, offset))
                break
            best.append(rows)
        return torch.cat(best)

    def _screened(self, probs: torch.Tensor) -> torch.Tensor | None:
        """The screened search of one chunk, or None when its outputs average more than MAX_CANDIDATES candidates."""
        table, scale, offset, means = self.table, self.scale, self.offset, self.means
        n_rows, n_table = probs.shape[0], table.shape[0]
        mean_p = probs.mean(-1, keepdim=True)  # (n, 1)
        q = probs - mean_p  # (n, Np)
        approx = q.to(torch.bfloat16) @ self.centred.T  # (n, G) bf16 q . d
        # (n,) bound on the bf16 part's error, times scale, plus q's own float32 rounding (~2^-24 |p| per cell)
        error = scale * self.norm * (SCREEN_ERROR * q.norm(dim=-1) + _FLOAT32_ERROR * probs.norm(dim=-1))
        # the rest of the score, scale Np mean(p) mean(t_g) - offset_g: in float32, or, without an offset, bounded
        # and added to the error (centred templates: a rounding residue of ~1e-9)
        if offset is not None:
            rest = (scale * probs.shape[1] * mean_p * means).sub_(offset)  # (n, G)
            error = error + _FLOAT32_ERROR * float(rest.abs().max())
            approx = rest.add_(approx, alpha=scale)
        else:
            error = error + scale * probs.shape[1] * float(mean_p.abs().max()) * float(means.abs().max())
            approx = approx if scale == 1.0 else approx.float().mul_(scale)
        floor = approx.amax(-1).float() - 2 * error  # (n,) below this no row can be the best
        rows, cols = torch.nonzero(approx >= floor[:, None], as_tuple=True)  # (C,) each: the candidates
        if rows.numel() > MAX_CANDIDATES * n_rows:
            return None
        exact = (probs[rows] * table[cols]).sum(-1) * scale  # (C,) float32
        if offset is not None:
            exact -= offset[cols]
        top = torch.full((n_rows,), -torch.inf, device=probs.device).scatter_reduce_(0, rows, exact, "amax")
        winner = torch.where(exact == top[rows], cols, n_table)  # (C,): the row's best, else past the end
        first = torch.full((n_rows,), n_table, device=probs.device, dtype=torch.long)
        return first.scatter_reduce_(0, rows, winner, "amin")  # (n,) the first best row, as argmax picks


def best_table_rows(probs: torch.Tensor, table: torch.Tensor, scale: float = 1.0,
                    offset: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`full_table_rows` by the screened search (module docstring): the same rows. For repeated searches of one
    table, keep a :class:`ScreenedSearch`."""
    return ScreenedSearch(table, scale, offset)(probs)


def _scores(probs: torch.Tensor, table: torch.Tensor, scale: float, offset: torch.Tensor | None) -> torch.Tensor:
    scores = probs @ table.transpose(-1, -2)  # (n, G), or (K, n, G) for stacked tables
    if scale != 1.0:
        scores.mul_(scale)
    return scores if offset is None else scores.sub_(offset)
