"""The job a sweep runs by default: train same-shape configs as one batched computation, then evaluate and analyse
each network into a :class:`~gridbook.runs.store.RunRecord` (:func:`train_and_evaluate`)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gridbook.analysis.batched import analyse_networks
from gridbook.config import RunConfig
from gridbook.files import utc_now
from gridbook.nets.checkpoints import checkpoint_bytes
from gridbook.nets.trainer import train_networks
from gridbook.runs.store import RunRecord

__all__ = ["train_and_evaluate"]


# ---- the real train-and-evaluate job ---------------------------------------------------------------------------------
def train_and_evaluate(configs: Sequence[RunConfig], device: str | None = None,
                       on_progress: Callable[[int, int], Any] | None = None,
                       checkpoint: str | Path | None = None, quiet: bool = True) -> list[RunRecord]:
    """Train same-shape configs as one batched job, then evaluate every network on fresh trajectories, their rate
    maps streamed batch by batch, and analyse them, all networks of the job together where they share their
    evaluation (:func:`gridbook.analysis.batched.analyse_networks`). The default ``run_group`` of a sweep.
    ``on_progress(step, n_steps)``: the trainer's progress (:func:`gridbook.nets.trainer.train_networks`).
    ``checkpoint``: the trainer's checkpoint file, resumed from when it exists (the evidence run's staged training
    trains a network on from its last stage). ``quiet=False`` lets the trainer print its lines (one per 10% of the
    steps)."""
    started = utc_now()
    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():  # a sweep reports
        result = train_networks(list(configs), device=device, progress=False, on_progress=on_progress,
                                checkpoint=checkpoint)
    records = []
    for k, (config, (evaluation, analysis)) in enumerate(zip(configs, analyse_networks(result), strict=True)):
        metrics = {
            "decoding_error_cm": float(evaluation["decoding_error_cm"]), "loss": float(evaluation["loss"]),
            **{key: float(evaluation[key]) for key in ("decoder_floor_cm", "decoding_error_fine_cm",
                                                       "decoder_floor_fine_cm")},
            "diverged": bool(result.diverged[k]), **analysis.summary,
            "train_seconds": result.train_seconds / len(configs), "group_train_seconds": result.train_seconds,
            "group_size": len(configs), "steps_done": int(result.steps_done), "device": str(result.device),
            "started_at": started, "finished_at": utc_now(),
        }
        records.append(RunRecord(config=config, metrics=metrics, ratemaps=analysis.ratemaps, units=analysis.units,
                                 checkpoint=checkpoint_bytes(result.network(k)), null=analysis.null))
    return records
