"""The circular-shift null of grid scores: each unit's activations paired with the positions of other batches.

Grid-cell physiology judges a cell's grid score against a shuffle of its own data: the spike train is shifted in time
against the animal's path, circularly, by at least some tens of seconds, and the rate map of the shifted data is
scored; a cell counts as a grid cell when its score exceeds the 99th (or 95th) percentile of its shuffles (Sargolini
et al. 2006; Langston et al. 2010). Here the evaluation stream is ``n`` batches of trajectories; shift ``s``
(``1 <= s < n``) pairs batch ``b``'s activations with the positions of batch ``(b + s) mod n``: a circular shift by
whole batches, so by at least one batch of trajectories. Every shift uses every position once, so its maps have
the real maps' occupancy; only the pairing of activity with place is broken.

:class:`ShuffledMapAccumulator` bins the shifted maps batch by batch, alongside the real ones (memory: shifts x bins x
units floats); :func:`shuffle_null` scores them with the same scorer as the real maps
(:func:`gridbook.analysis.scores.grid_scores`, in float32) into a :class:`ShuffleNull`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gridbook.analysis.ratemaps import RateMapAccumulator
from gridbook.analysis.scores import grid_scores
from gridbook.paper import GRID_SCORE_THRESHOLD, SCORE_FORMS
from gridbook.profiles import N_SHUFFLES

__all__ = ["NULL_PERCENTILE", "NULL_SUMMARY", "ShuffleNull", "ShuffledMapAccumulator", "draw_shifts",
           "draw_units", "grid_like", "null_summary", "shuffle_null"]

NULL_PERCENTILE = 99.0  # a unit beats chance when its score exceeds this percentile of its run's null
NULL_SUMMARY = ("null_score_p99", "frac_units_above_null", "frac_units_grid_like")  # per run (:func:`null_summary`)


@dataclass(frozen=True)
class ShuffleNull:
    """The grid scores of one run's shuffled maps.

    shifts: (S,) the batch shifts. scores: (S, U) each unit's score60 in ``score_form`` under each shift (NaN where
    a map has no score). n_batches: the evaluation batches the shifts wrap around. units: (U,) the network's units
    whose shifted maps were scored (``AnalysisConfig.null_units``), or None for every unit.
    """

    shifts: np.ndarray  # (S,) batches
    scores: np.ndarray  # (S, U)
    score_form: str
    n_batches: int
    units: np.ndarray | None = None  # (U,) unit indices, None = all

    def percentile(self, q: float = NULL_PERCENTILE) -> float:
        """The ``q``-th percentile of the null scores pooled over shifts and units (NaN if none is finite)."""
        finite = self.scores[np.isfinite(self.scores)]
        return float(np.percentile(finite, q)) if finite.size else float("nan")


def grid_like(scores, null_threshold: float, threshold: float = GRID_SCORE_THRESHOLD) -> np.ndarray:
    """The one rule for a *grid-like* unit: its min-max score60 exceeds both the paper's ``threshold`` (0.8) and
    ``null_threshold``, its run's :data:`NULL_PERCENTILE`-th null percentile (:meth:`ShuffleNull.percentile`).
    scores: (U,); returns (U,) bool, False where a score is NaN. Raises on a NaN ``null_threshold``: without a null
    no unit can be judged against chance."""
    if not np.isfinite(null_threshold):
        raise ValueError(f"null_threshold={null_threshold!r} is invalid; allowed values: a finite score (the run's "
                         "null percentile; a run without a null has no grid-like units to count)")
    scores = np.asarray(scores, dtype=float)  # (U,)
    with np.errstate(invalid="ignore"):
        return (scores > threshold) & (scores > null_threshold)


def null_summary(scores, null: ShuffleNull | None) -> dict[str, float]:
    """The per-run numbers of :data:`NULL_SUMMARY` for the units' min-max scores (U,) against ``null``: the null's
    :data:`NULL_PERCENTILE`-th percentile, the fraction of scored units above it (beating chance, grid or not: smooth
    place-like maps beat a shuffle too), and the fraction that are :func:`grid_like`. All NaN without a null (or
    without a finite null score), and the fractions NaN when no unit has a score."""
    threshold = float("nan") if null is None else null.percentile()
    scores = np.asarray(scores, dtype=float)  # (U,)
    scored = scores[np.isfinite(scores)]
    if not np.isfinite(threshold) or not scored.size:
        return {"null_score_p99": threshold, "frac_units_above_null": float("nan"),
                "frac_units_grid_like": float("nan")}
    return {"null_score_p99": threshold, "frac_units_above_null": float(np.mean(scored > threshold)),
            "frac_units_grid_like": float(np.mean(grid_like(scored, threshold)))}


def draw_units(n_units: int, n_chosen: int, seed: int = 0) -> np.ndarray | None:
    """``n_chosen`` distinct unit indices of ``n_units`` drawn uniformly (sorted), from ``seed``; None (every unit)
    when ``n_chosen`` is 0 or at least ``n_units``."""
    if not isinstance(n_chosen, (int, np.integer)) or n_chosen < 0:
        raise ValueError(f"null_units={n_chosen!r} is invalid; allowed values: an integer >= 0 (0 = every unit)")
    if n_chosen == 0 or n_chosen >= n_units:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_units, size=int(n_chosen), replace=False))


def draw_shifts(n_batches: int, n_shuffles: int = N_SHUFFLES, seed: int = 0) -> np.ndarray:
    """``n_shuffles`` distinct batch shifts drawn uniformly from 1 .. n_batches - 1 (sorted), from ``seed``."""
    if not isinstance(n_batches, (int, np.integer)) or n_batches < 2:
        raise ValueError(f"n_batches={n_batches!r} is invalid; allowed values: an integer >= 2 (a shift moves by at "
                         "least one batch)")
    if not isinstance(n_shuffles, (int, np.integer)) or not 1 <= n_shuffles <= n_batches - 1:
        raise ValueError(f"n_shuffles={n_shuffles!r} is invalid; allowed values: 1 .. n_batches - 1 "
                         f"({n_batches - 1}): the distinct shifts of {n_batches} batches")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(np.arange(1, n_batches), size=int(n_shuffles), replace=False))


class ShuffledMapAccumulator:
    """Rate maps of the circular shifts ``shifts`` of a stream of ``len(batch_positions)`` batches.

    ``batch_positions``: every batch's positions (each (N_b, 2) m), known before the activations arrive.
    ``add(b, activations)`` takes batch ``b``'s activations (N_b, U) and bins them, for each shift ``s``, at the
    positions of batch ``(b + s) mod n``. Sums are float32 (S x bins x U: 200 MB for 100 shifts of 256 units on
    44 x 44 bins); the real maps keep their float64 :class:`~gridbook.analysis.ratemaps.RateMapAccumulator`.
    """

    def __init__(self, n_units: int, batch_positions, shifts, n_bins=44, box=(2.2, 2.2), device=None) -> None:
        self.grid = RateMapAccumulator(n_units, n_bins, box, device)  # bins and occupancy of every position
        self.bins = [self.grid.bins(p) for p in batch_positions]  # per batch (N_b,) flat bin index
        for bins in self.bins:
            self.grid.counts += torch.bincount(bins, minlength=self.grid.counts.numel())
        self.shifts = np.asarray(shifts, dtype=np.int64)
        n = len(self.bins)
        if self.shifts.ndim != 1 or not self.shifts.size or self.shifts.min() < 1 or self.shifts.max() >= n:
            raise ValueError(f"shifts={shifts!r} is invalid; allowed values: a non-empty list of batch shifts in "
                             f"1 .. {n - 1}")
        self.sums = torch.zeros(self.shifts.size, self.grid.counts.numel(), n_units, dtype=torch.float32,
                                device=self.grid.device)  # (S, bins, U)

    @property
    def n_batches(self) -> int:
        return len(self.bins)

    def add(self, batch: int, activations) -> None:
        """Bin batch ``batch``'s activations (N_b, U) under every shift."""
        act = torch.as_tensor(activations, device=self.grid.device).float()
        n = self.n_batches
        if act.shape != (self.bins[batch].numel(), self.grid.n_units):
            raise ValueError(f"activations of batch {batch} must have shape "
                             f"({self.bins[batch].numel()}, {self.grid.n_units}), got {tuple(act.shape)}")
        for j, shift in enumerate(self.shifts.tolist()):
            self.sums[j].index_add_(0, self.bins[(batch + shift) % n], act)

    def maps(self, shift_index: int, smooth_sigma_bins: float = 0.0) -> np.ndarray:
        """(U, ny, nx) float32 maps of the ``shift_index``-th shift, NaN where no position fell, smoothed as the real
        maps are (:func:`~gridbook.analysis.ratemaps.gaussian_smooth_nan`)."""
        # the counts are the real maps' (every shift uses every position once)
        return self.grid.mean_maps(self.sums[shift_index], smooth_sigma_bins).float().cpu().numpy()


def shuffle_null(accumulator: ShuffledMapAccumulator, score_form: str = "min_max", smooth_sigma_bins: float = 0.0,
                 device=None, units: np.ndarray | None = None) -> ShuffleNull:
    """Score every shifted map (smoothed by ``smooth_sigma_bins``, as the real maps) with
    :func:`~gridbook.analysis.scores.grid_scores` in float32, one shift at a time (2-3x faster than float64; the
    scores agree to ~1e-4, far below the spread of a null), without the square score's rotations."""
    if score_form not in SCORE_FORMS:
        raise ValueError(f"score_form={score_form!r} is invalid; allowed values: {', '.join(SCORE_FORMS)}")
    scores = np.stack([grid_scores(accumulator.maps(j, smooth_sigma_bins), device=device, dtype=torch.float32,
                                   score90=False).score60(score_form)
                       for j in range(accumulator.shifts.size)])  # (S, U)
    return ShuffleNull(shifts=accumulator.shifts.copy(), scores=scores, score_form=score_form,
                       n_batches=accumulator.n_batches, units=None if units is None else np.asarray(units))
