"""The best code of a lookup table for each output: the full float32 product, or an exact screened search.

Lookup decoding (:meth:`~gridbook.task.targets.PlaceCellTarget.decode_lookup`,
:meth:`~gridbook.task.targets.PlaceCellTarget.decode_correlation`) picks, for each output's probabilities p, the table
row g with the largest score ``scale * p . t_g - offset_g``. Over the 12,321 rows of the 2 cm table that is a
(N, Np) x (Np, G) product, ~25 GFLOP per 4,000 outputs: :func:`best_table_rows`.

For correlation templates (rows centred over cells, so ``p . t_g = q . t_g`` with the centred probabilities
``q = p - mean(p)``), :func:`best_correlated_rows` gives the same argmax at a fraction of the cost:

1. every score in bfloat16 from the centred q (operands rounded to 8 significant bits, products summed in float32,
   the result rounded to bfloat16): ``s~_g``, off from ``q . t_g`` by at most ``e = SCREEN_ERROR |q|_2 max_g |t_g|_2``
   (the operands' and the result's roundings bounded by Cauchy-Schwarz, with a margin for the float32 sums). Centring
   matters: the scores and their rounding then scale with q, not with p's mean, so a flat output is screened as
   finely as a peaked one;
2. a row can beat the best only if ``s~_g >= max_h s~_h - 2 e``: these candidates (a handful of neighbouring grid
   points for most outputs) are scored again in float32 from p, and the best of them is the answer;
3. a chunk whose outputs average more than :data:`MAX_CANDIDATES` candidates (outputs of an untrained network on a
   nearly flat code) is scored by the full product, and so are the call's later chunks.

So every answer is the full product's float32 argmax (up to ties within float32 rounding, which two float32 sums in
another order may also break either way); only the time changes. tests/task/test_lookup.py checks it on peaked,
flattened and random outputs of the DoS and true-DoG codes.
"""

from __future__ import annotations

import torch

__all__ = ["LOOKUP_CHUNK", "MAX_CANDIDATES", "SCREEN_ERROR", "best_correlated_rows", "best_table_rows"]

LOOKUP_CHUNK = 1 << 22  # max (outputs x table rows) scores held at once
SCREEN_ERROR = 4 * 2.0**-8  # bound on |bf16 score - score| / (|q|_2 |t|_2): 3 roundings of 2^-8, plus margin
MAX_CANDIDATES = 64  # mean candidates per output above which a chunk is scored by the full product


def best_table_rows(probs: torch.Tensor, table: torch.Tensor, scale: float = 1.0,
                    offset: torch.Tensor | None = None) -> torch.Tensor:
    """Row index of the largest ``scale * probs @ table.T - offset`` for each row of probs (N, Np), by the full
    float32 product in chunks of :data:`LOOKUP_CHUNK` scores; table (G, Np), offset (G,) or None. -> (N,) long."""
    chunk = max(1, LOOKUP_CHUNK // table.shape[0])
    best = [torch.argmax(_scores(part, table, scale, offset), dim=-1) for part in probs.split(chunk)]
    return torch.cat(best) if best else torch.zeros(0, dtype=torch.long, device=table.device)


def best_correlated_rows(probs: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
    """``best_table_rows(probs, templates)`` by the screened search (module docstring). templates (G, Np): rows
    centred over cells (each sums to 0). -> (N,) long."""
    if templates.numel() and float(templates.sum(-1).abs().max()) > 1e-4 * float(templates.abs().sum(-1).max()):
        raise ValueError("templates must be centred over cells (each row summing to 0) for the screened search; "
                         "use best_table_rows for other tables")
    chunk = max(1, LOOKUP_CHUNK // templates.shape[0])
    low = templates.to(torch.bfloat16)  # (G, Np)
    norm = float(templates.norm(dim=-1).max()) if templates.numel() else 0.0
    best, screening = [], True
    for part in probs.split(chunk):
        rows = _screened(part, templates, low, norm) if screening else None
        if rows is None:  # too many candidates: this chunk and the rest of these outputs (one network's) in full
            screening = False
            rows = torch.argmax(part @ templates.T, dim=-1)
        best.append(rows)
    return torch.cat(best) if best else torch.zeros(0, dtype=torch.long, device=templates.device)


def _scores(probs: torch.Tensor, table: torch.Tensor, scale: float, offset: torch.Tensor | None) -> torch.Tensor:
    scores = probs @ table.T  # (n, G)
    if scale != 1.0:
        scores.mul_(scale)
    return scores if offset is None else scores.sub_(offset)


def _screened(probs: torch.Tensor, templates: torch.Tensor, low: torch.Tensor, norm: float) -> torch.Tensor | None:
    """The screened search of one chunk, or None when its outputs average more than MAX_CANDIDATES candidates."""
    n_rows, n_table = probs.shape[0], templates.shape[0]
    centred = probs - probs.mean(-1, keepdim=True)  # (n, Np): q . t = p . t for centred t
    approx = centred.to(torch.bfloat16) @ low.T  # (n, G) bf16
    error = SCREEN_ERROR * norm * centred.norm(dim=-1)  # (n,) bound on |approx - q . t|
    floor = approx.amax(-1).float() - 2 * error  # (n,) below this no row can be the best
    rows, cols = torch.nonzero(approx >= floor[:, None], as_tuple=True)  # (C,) each: the candidates
    if rows.numel() > MAX_CANDIDATES * n_rows:
        return None
    exact = (probs[rows] * templates[cols]).sum(-1)  # (C,) float32
    top = torch.full((n_rows,), -torch.inf, device=probs.device).scatter_reduce_(0, rows, exact, "amax")
    winner = torch.where(exact == top[rows], cols, n_table)  # (C,): the row's best, else past the end
    first = torch.full((n_rows,), n_table, device=probs.device, dtype=torch.long)
    return first.scatter_reduce_(0, rows, winner, "amin")  # (n,) the first best row, as argmax picks
