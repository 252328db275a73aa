"""Shared by the benchmark scripts: step a batched training job by hand and summarise its grid units.

Uses ``gridbook.nets.trainer._Trainer`` (the trainer's per-step state) so that a job can be evaluated every N steps
without
restarting it; the learning-rate schedule therefore follows the configs' own ``n_steps`` exactly as
:func:`gridbook.nets.trainer.train_networks` would.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gridbook.analysis.pipeline import analyse_network
from gridbook.config import RunConfig
from gridbook.nets.evaluate import evaluate_networks
from gridbook.nets.trainer import Trainer
from gridbook.paper import GRID_SCORE_THRESHOLD

GRID_THRESHOLD = GRID_SCORE_THRESHOLD  # min-max grid score above which a unit counts as a grid unit
ERROR_GOAL_CM = 10.0  # "learned to path integrate" (PAPER.md section 2)
FRACTION_GOAL = 0.05  # goal (1) of issue 4: at least 5% of units above GRID_THRESHOLD


@dataclass(frozen=True)
class GridSummary:
    """One evaluated network: decoding error (cm), min-max grid scores of all units, grid periods (m)."""

    error_cm: float
    scores: np.ndarray  # (Ng,) min-max score60, NaN replaced by -inf
    periods_m: np.ndarray  # (n,) periods of the units above GRID_THRESHOLD with six SAC peaks
    maps: np.ndarray  # (Ng, n, n) rate maps

    @property
    def best(self) -> float:
        return float(self.scores.max())

    @property
    def fraction(self) -> float:
        return float((self.scores > GRID_THRESHOLD).mean())

    @property
    def goal_met(self) -> bool:
        return self.error_cm < ERROR_GOAL_CM and self.fraction >= FRACTION_GOAL


class SteppedJob:
    """K same-shape networks trained together, advanced a given number of steps at a time."""

    def __init__(self, configs: Sequence[RunConfig], device: str = "cpu") -> None:
        self.configs = list(configs)
        self.trainer = Trainer(self.configs, torch.device(device), None)
        self.train_seconds = 0.0

    @property
    def step(self) -> int:
        return self.trainer.step

    def advance(self, n_steps: int) -> None:
        start = time.perf_counter()
        for _ in range(n_steps):
            self.trainer.train_step(record=False)
        self.train_seconds += time.perf_counter() - start

    def evaluate(self, with_periods: bool = False) -> list[GridSummary]:
        result = self.trainer.result()
        summaries = []
        for config, ev in zip(self.configs, evaluate_networks(result), strict=True):
            analysis = analyse_network(ev["positions"], ev["activations"], config)
            scores = np.nan_to_num(analysis.units["score60_min_max"], nan=-np.inf)  # (Ng,)
            periods = np.empty(0)
            if with_periods:
                periods = analysis.units["period_m"][scores > GRID_THRESHOLD]
                periods = periods[np.isfinite(periods)]
            rm = analysis.ratemaps
            summaries.append(GridSummary(ev["decoding_error_cm"], scores, periods, rm.maps))
        return summaries
