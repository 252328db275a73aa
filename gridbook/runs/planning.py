"""Planning a sweep: which runs train together as one batched job, and how the jobs are balanced across workers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from gridbook.config import RunConfig
from gridbook.errors import ConfigError

__all__ = ["ARCH_STEP_COST", "CPU_GROUP_SIZE", "CPU_SECONDS_PER_STEP", "EVAL_BATCH_COST", "FINE_DECODER_COST",
           "GPU_GROUP_SIZE", "NULL_SHUFFLE_COST", "PRECISION_STEP_COST", "REFERENCE_SHAPE", "STEP_FIXED_SHARE",
           "default_group_size", "estimated_cpu_minutes", "estimated_seconds", "plan_groups", "run_cost"]


# ---- planning: which runs train together -------------------------------------------------------------------------
# Networks per batched job, by default. A GPU wants many networks at once to fill it. A CPU does not: each quick
# network reads its own ~200 MB code table and its own weights, and per network a step is fastest alone. Measured
# 2026-12-02 on the project's 2-core CPU, both cores training, quick DoS, bfloat16: 16.5 ms per network-step at K = 1,
# 18.2 at K = 2, 19.1 at K = 8 (benchmarks/HISTORY.md).
GPU_GROUP_SIZE = 32
CPU_GROUP_SIZE = 1
# Relative cost of one training step per network, by architecture (CPU, Ng 256). The rnn/srnn recurrence has a
# hand-written backward pass; the gated cells run through autograd. gru measured 2026-12-02 (a quick DoS GRU step
# ~6x a quick DoS RNN step, benchmarks/HISTORY.md); ugrnn and lstm scaled from it by their gate counts.
ARCH_STEP_COST = {"rnn": 1.0, "srnn": 1.0, "ugrnn": 4.5, "gru": 6.0, "lstm": 7.5}
PRECISION_STEP_COST = {"float32": 1.0, "bfloat16": 0.55}  # bf16 matrix products: ~1.8x faster steps (CPU, Ng 256)
STEP_FIXED_SHARE = 0.35  # share of the reference step that does not scale with the products' size (element-wise work,
# per-time-step overheads): a Cartesian RNN (Np 2) steps at ~0.6 of a DoS RNN, not at its 0.34 of the products
# Evaluation, in reference steps: each evaluation batch (forward pass, binning, decoding), each shuffle of the null (one
# set of 256 unit maps of 44 x 44 bins, binned and scored), and the lookup decodings of the fine decoder.
EVAL_BATCH_COST = 0.5
NULL_SHUFFLE_COST = 6.0
FINE_DECODER_COST = 150.0  # place-cell codes: 20 lookups of ~0.3 s (the output and the exact code, FLOOR_BATCHES)
# The reference step: a float32 RNN of the quick profile's shape (Ng 256, Np 256, batch 200, sequence 20). Other
# shapes cost in proportion to their products' size, (Ng^2 + 2 Ng Np) x batch x sequence, beyond the fixed share.
REFERENCE_SHAPE = (256, 256, 200, 20)  # Ng, Np, batch, sequence
CPU_SECONDS_PER_STEP = 0.035  # one reference step on one core of the project's 2-core CPU with the other core busy,
# one network a job (CPU_GROUP_SIZE). 2026-12-02: 0.04 predicted the quick book's sweep in jobs of ~10 networks (40 min
# predicted, 38:16 measured); one network a job steps in 16.5 ms against 19.1 ms at K = 8 (both cores training), 0.86x


def run_cost(config: RunConfig) -> float:
    """Estimated cost of training and evaluating one run, in reference network-steps (a float32 RNN step of the
    quick profile's shape), weighted by architecture, precision and the size of the products, plus evaluation (its
    batches, its null's shuffles and, for place-cell codes, the fine decoder's lookups)."""
    def size(n_hidden: int, n_outputs: int, batch: int, seq_len: int) -> float:
        return (n_hidden**2 + 2 * n_hidden * n_outputs) * batch * seq_len

    shape = size(config.model.n_hidden, config.target.code_size, config.task.batch_size, config.task.seq_len)
    scale = shape / size(*REFERENCE_SHAPE)
    step = ARCH_STEP_COST.get(config.model.arch, 1.0) * PRECISION_STEP_COST.get(config.train.precision, 1.0)
    train = step * config.train.n_steps * (STEP_FIXED_SHARE + (1 - STEP_FIXED_SHARE) * scale)
    analysis = config.analysis
    units = config.model.n_hidden if analysis.null_units == 0 else min(analysis.null_units, config.model.n_hidden)
    null = NULL_SHUFFLE_COST * analysis.n_shuffles * units / 256 * (analysis.n_bins / 44) ** 2
    fine = FINE_DECODER_COST * config.target.n_place_cells / 256 if config.target.loss_kind == "cross_entropy" else 0.0
    return train + EVAL_BATCH_COST * analysis.eval_batches * scale + null + fine


def estimated_seconds(cost: float, workers: int) -> float:
    """Wall-clock seconds of ``cost`` reference steps (:func:`run_cost`) on ``workers`` CPU cores, at the measured
    speed of the reference step (:data:`CPU_SECONDS_PER_STEP`); a planning figure, and a busy machine is slower."""
    return cost * CPU_SECONDS_PER_STEP / max(1, workers)


def estimated_cpu_minutes(configs: Sequence[RunConfig], workers: int) -> float:
    """Wall-clock minutes to train and evaluate ``configs`` on ``workers`` CPU cores (:func:`estimated_seconds`)."""
    return estimated_seconds(sum(run_cost(c) for c in configs), workers) / 60


def default_group_size(gpu: bool) -> int:
    """Networks per batched job when the caller does not say: :data:`GPU_GROUP_SIZE` on a GPU, else
    :data:`CPU_GROUP_SIZE`."""
    return GPU_GROUP_SIZE if gpu else CPU_GROUP_SIZE


def plan_groups(configs: Sequence[RunConfig], group_size: int | Callable[[RunConfig], int] = GPU_GROUP_SIZE,
                workers: int = 1, keep_order: bool = False) -> list[list[RunConfig]]:
    """Batched training jobs: runs sharing ``shape_key()``, at most ``group_size`` each (or ``group_size(config)``
    for the shape of ``config``: a budgeted run sizes each shape's jobs by its own step cost).

    With ``workers`` > 1 the jobs are also balanced: any job costing more than 1/(2 workers) of the whole
    (:func:`run_cost`) is split into near-equal parts, and the jobs come most expensive first, so that no worker is
    left with one long job while the others idle. A sweep on a CPU asks for :data:`CPU_GROUP_SIZE` networks a job
    (:func:`default_group_size`). ``keep_order``: the jobs come in the order of their first run in ``configs``
    instead (a budgeted sweep whose runs are listed by priority, :mod:`gridbook.runs.evidence`).
    """
    size_of = group_size if callable(group_size) else (lambda _: group_size)
    by_shape: dict[tuple, list[RunConfig]] = {}
    for config in configs:
        by_shape.setdefault(config.shape_key(), []).append(config)
    groups = []
    for runs in by_shape.values():
        size = size_of(runs[0])
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigError(f"group_size={size!r} is invalid; allowed values: an integer >= 1")
        groups += [runs[i:i + size] for i in range(0, len(runs), size)]
    if workers <= 1 or not groups:
        return [_by_rule(job) for job in groups]
    costs = [[run_cost(c) for c in group] for group in groups]
    share = sum(map(sum, costs)) / (2 * workers)
    balanced = []  # (cost, job)
    for group, cost in zip(groups, costs, strict=True):
        parts = 1 if keep_order else min(len(group), max(1, math.ceil(sum(cost) / share - 1e-9)))
        bounds = np.linspace(0, len(group), parts + 1).round().astype(int)
        balanced += [(sum(cost[a:b]), group[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    if keep_order:
        position = {id(c): i for i, c in enumerate(configs)}
        jobs = [job for _, job in sorted(balanced, key=lambda pair: min(position[id(c)] for c in pair[1]))]
    else:
        jobs = [job for _, job in sorted(balanced, key=lambda pair: -pair[0])]
    return [_by_rule(job) for job in jobs]


def _by_rule(job: list[RunConfig]) -> list[RunConfig]:
    """A job's runs with networks of one activation and optimizer next to each other (stable): each contiguous run
    of them is one in-place op per step (gridbook.nets.models, gridbook.nets.optim)."""
    return sorted(job, key=lambda c: (c.model.activation, c.train.optimizer))
