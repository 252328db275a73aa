"""Reading finished runs back from the run store: one run, its trained network, and the results and units tables."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from gridbook.config import RunConfig
from gridbook.errors import CorruptRunError
from gridbook.files import atomic_write_bytes
from gridbook.paper import SCORE_THRESHOLDS
from gridbook.runs.store import DONE, RESULTS, UNIT_COLUMNS, RunStore

__all__ = ["SUMMARY_COLUMNS", "load_network", "load_results", "load_run", "load_units"]


def _as_store(store: RunStore | str | Path | None) -> RunStore:
    return store if isinstance(store, RunStore) else RunStore(store)


def _require_done(store: RunStore, run_id: str) -> None:
    state = store.status(run_id)
    if state == "corrupt":
        store.verify(run_id)  # raises CorruptRunError naming the file
    if state != "done":
        raise FileNotFoundError(f"run {run_id} is not a finished run in {store.root} (status: {state})")


def load_run(store: RunStore | str | Path | None, run_id: str) -> dict[str, Any]:
    """One finished run: ``{"run_id", "config": RunConfig, "metrics": dict, "ratemaps": RateMaps,
    "units": DataFrame}``."""
    import pandas as pd

    from gridbook.analysis.ratemaps import RateMaps

    store = _as_store(store)
    _require_done(store, run_id)
    run_dir = store.run_dir(run_id)
    try:
        with np.load(run_dir / "ratemaps.npz") as data:
            ratemaps = RateMaps(maps=data["maps"], occupancy=data["occupancy"], x_edges=data["x_edges"],
                                y_edges=data["y_edges"])
        units = pd.read_parquet(run_dir / "units.parquet")
    except (OSError, ValueError, KeyError) as err:
        raise CorruptRunError(f"run {run_id}: rate maps or units do not load ({err})") from None
    return {"run_id": run_id, "config": store.read_config(run_id), "metrics": store.read_metrics(run_id),
            "ratemaps": ratemaps, "units": units}


def load_network(store: RunStore | str | Path | None, run_id: str, device: Any = None):
    """A stored run's trained network, as the one-network ``TrainResult`` of ``gridbook.nets.trainer.load_checkpoint``:
    ``result.networks`` (K = 1), ``result.targets[0]``, ``result.history[0]``; ``evaluate_networks(result)``
    re-evaluates it. ``device``: default CUDA when available."""
    import torch

    from gridbook.nets.checkpoints import load_checkpoint

    store = _as_store(store)
    _require_done(store, run_id)
    try:  # TorchVersion (a str) is allowed so that checkpoints recording torch.__version__ load with weights_only
        with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
            return load_checkpoint(store.run_dir(run_id) / "checkpoint.pt", device=device)
    except Exception as err:  # torch raises many types for a damaged file
        raise CorruptRunError(f"run {run_id}: checkpoint.pt does not load ({err})") from None


# ---- tables -------------------------------------------------------------------------------------------------------
SUMMARY_COLUMNS = ("decoding_error_cm", "loss", "diverged", "best_score60_min_max", "best_score60_mean",
                   *(f"frac_units_above_{t}" for t in SCORE_THRESHOLDS), "period_mode_m", "participation_ratio",
                   "train_seconds")


def _spec_run_ids(spec: Any, profile: str | None) -> list[str]:
    from gridbook.runs.spec import expand_spec

    return [c.run_id() for c in expand_spec(spec, profile=profile)]


def _result_row(store: RunStore, run_id: str) -> dict[str, Any]:
    config = store.verify(run_id)
    metrics = store.read_metrics(run_id)
    row: dict[str, Any] = {"run_id": run_id}
    for key, value in config.to_flat().items():
        row[key] = tuple(value) if isinstance(value, list) else value
    for key in SUMMARY_COLUMNS:
        value = metrics.get(key)
        row[key] = bool(value) if key == "diverged" else (float("nan") if value is None else float(value))
    return row


def load_results(store: RunStore | str | Path | None = None, spec: Any = None, profile: str | None = None,
                 write: bool = True):
    """One row per finished run: flat config columns, ``run_id`` and :data:`SUMMARY_COLUMNS`.

    ``spec`` (a spec path or dict, expanded with ``profile``) keeps only the runs that spec makes. The table of
    all finished runs is also written atomically to ``results.parquet`` at the store's root (``write=False``: not).
    Tuple-valued config fields (sigma_range, surround_range) are stored as strings in the parquet file.
    """
    import pandas as pd

    store = _as_store(store)
    rows = []
    for run_id in store.run_ids():
        if not (store.run_dir(run_id) / DONE).exists():
            continue  # not finished: does not exist for readers
        try:
            rows.append(_result_row(store, run_id))
        except CorruptRunError as err:
            warnings.warn(f"skipping a corrupt run (a sweep will redo it): {err}", stacklevel=2)
    columns = ["run_id", *RunConfig().to_flat(), *SUMMARY_COLUMNS]
    table = pd.DataFrame(rows, columns=columns)
    table["diverged"] = table["diverged"].astype(bool)
    if write and store.root.is_dir():
        on_disk = table.copy()
        for name in ("sigma_range", "surround_range"):
            on_disk[name] = on_disk[name].map(lambda v: None if v is None else json.dumps(list(v)))
        buffer = io.BytesIO()
        on_disk.to_parquet(buffer, index=False)
        atomic_write_bytes(store.root / RESULTS, buffer.getvalue())
    if spec is not None:
        wanted = _spec_run_ids(spec, profile)
        table = table.set_index("run_id").reindex([r for r in wanted if r in set(table["run_id"])]).reset_index()
    return table.reset_index(drop=True)


def load_units(store: RunStore | str | Path | None = None, run_ids: Iterable[str] | None = None):
    """Per-unit table: ``run_id``, ``unit`` and :data:`UNIT_COLUMNS`, over the given (default: all finished) runs."""
    import pandas as pd

    store = _as_store(store)
    run_ids = store.done_run_ids() if run_ids is None else list(run_ids)
    frames = []
    for run_id in run_ids:
        _require_done(store, run_id)
        try:
            frame = pd.read_parquet(store.run_dir(run_id) / "units.parquet")
        except (OSError, ValueError) as err:
            raise CorruptRunError(f"run {run_id}: units.parquet does not load ({err})") from None
        frame.insert(0, "run_id", run_id)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["run_id", "unit", *UNIT_COLUMNS])
    return pd.concat(frames, ignore_index=True)
