"""The job a sweep runs by default: train same-shape configs as one batched computation, then evaluate and analyse
each network into a :class:`~gridbook.runs.store.RunRecord` (:func:`train_and_evaluate`)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import numpy as np

from gridbook.config import RunConfig
from gridbook.files import utc_now
from gridbook.nets.checkpoints import checkpoint_bytes
from gridbook.runs.store import RunRecord

__all__ = ["train_and_evaluate"]


# ---- the real train-and-evaluate job ---------------------------------------------------------------------------------
def _participation_ratio(maps: np.ndarray) -> float:
    from gridbook.analysis.predictivity import participation_ratio

    if not np.isfinite(maps).any() or np.isinf(maps).any():  # a diverged network
        return float("nan")
    try:
        return float(participation_ratio(maps))
    except ValueError:  # fewer than two bins visited by every unit
        return float("nan")


def train_and_evaluate(configs: Sequence[RunConfig], device: str | None = None) -> list[RunRecord]:
    """Train same-shape configs as one batched job, then evaluate each network: rate maps, grid scores,
    periods and orientations, participation ratio. The default ``run_group`` of a sweep."""
    from gridbook.analysis.periods import grid_properties
    from gridbook.analysis.ratemaps import compute_ratemaps
    from gridbook.analysis.scores import grid_scores
    from gridbook.nets.evaluate import evaluate_networks
    from gridbook.nets.trainer import train_networks

    started = utc_now()
    with contextlib.redirect_stdout(io.StringIO()):  # the trainer's per-10% lines; the sweep reports progress
        result = train_networks(list(configs), device=device, progress=False)
    evaluations = evaluate_networks(result)
    records = []
    for k, (config, evaluation) in enumerate(zip(configs, evaluations, strict=True)):
        maps = compute_ratemaps(evaluation["positions"], evaluation["activations"], n_bins=config.analysis.n_bins,
                                box=(config.task.box_width, config.task.box_height),
                                smooth_sigma_bins=config.analysis.smooth_sigma_bins)
        scores = grid_scores(maps.maps)
        properties = grid_properties(maps.maps, bin_size_m=maps.bin_size_m[0])
        units = {"score60_mean": scores.score60_mean, "score60_min_max": scores.score60_min_max,
                 "score90": scores.score90, "period_m": properties.period_m,
                 "orientation_deg": properties.orientation_deg}
        metrics = {
            "decoding_error_cm": float(evaluation["decoding_error_cm"]), "loss": float(evaluation["loss"]),
            "diverged": bool(result.diverged[k]), "participation_ratio": _participation_ratio(maps.maps),
            "train_seconds": result.train_seconds / len(configs), "group_train_seconds": result.train_seconds,
            "group_size": len(configs), "steps_done": int(result.steps_done), "device": str(result.device),
            "started_at": started, "finished_at": utc_now(),
        }
        records.append(RunRecord(config=config, metrics=metrics, ratemaps=maps, units=units,
                                 checkpoint=checkpoint_bytes(result.network(k))))
    return records
