"""Reading finished runs back from the run store: one run, its trained network, and the results and units tables."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from gridbook.analysis.pipeline import NETWORK_SUMMARY, UNIT_COLUMNS
from gridbook.config import RunConfig
from gridbook.errors import CorruptRunError
from gridbook.files import atomic_write_bytes
from gridbook.runs.store import DONE, NULL_FILE, RESULTS, RunRecord, RunStore, as_store

__all__ = ["SUMMARY_COLUMNS", "load_network", "load_results", "load_run", "load_units", "write_results_table"]


def load_run(store: RunStore | str | Path | None, run_id: str, checkpoint: bool = False) -> RunRecord:
    """One finished run as the :class:`RunRecord` that was written: ``config``, ``metrics`` (dict), ``ratemaps``
    (:class:`gridbook.analysis.ratemaps.RateMaps`), ``units`` (a DataFrame, one row per unit) and ``null`` (its
    :class:`gridbook.analysis.null.ShuffleNull`, None for a run without one); ``checkpoint`` holds
    the checkpoint file's bytes when asked for (``checkpoint=True``), else None (:func:`load_network` loads the
    network itself; a record without its checkpoint cannot be written back)."""
    import pandas as pd

    from gridbook.analysis.null import ShuffleNull
    from gridbook.analysis.ratemaps import RateMaps

    if getattr(store, "is_bundle", False):
        raise ValueError(f"run {run_id}: {store.root} is a bundle, which keeps no weights and only its runs' best "
                         "maps; read them with Bundle.maps, its tables with load_results and load_units")
    store = as_store(store)
    store.require_done(run_id)
    run_dir = store.run_dir(run_id)
    try:
        with np.load(run_dir / "ratemaps.npz") as data:
            ratemaps = RateMaps(maps=data["maps"], occupancy=data["occupancy"], x_edges=data["x_edges"],
                                y_edges=data["y_edges"])
        units = pd.read_parquet(run_dir / "units.parquet")
        null = None
        if (run_dir / NULL_FILE).is_file():
            with np.load(run_dir / NULL_FILE) as data:
                null = ShuffleNull(shifts=data["shifts"], scores=data["scores"], score_form=str(data["score_form"]),
                                   n_batches=int(data["n_batches"]),
                                   units=data["units"] if "units" in data.files else None)
        weights = (run_dir / "checkpoint.pt").read_bytes() if checkpoint else None
    except (OSError, ValueError, KeyError) as err:
        raise CorruptRunError(f"run {run_id}: rate maps or units do not load ({err})") from None
    return RunRecord(config=store.read_config(run_id), metrics=store.read_metrics(run_id), ratemaps=ratemaps,
                     units=units, checkpoint=weights, null=null)


def load_network(store: RunStore | str | Path | None, run_id: str, device: Any = None):
    """A stored run's trained network, as the one-network ``TrainResult`` of
    :func:`gridbook.nets.checkpoints.load_checkpoint`:
    ``result.networks`` (K = 1), ``result.targets[0]``, ``result.history[0]``; ``evaluate_networks(result)``
    re-evaluates it. ``device``: default CUDA when available."""
    import torch

    from gridbook.nets.checkpoints import load_checkpoint

    store = as_store(store)
    store.require_done(run_id)
    try:  # TorchVersion (a str) is allowed so that checkpoints recording torch.__version__ load with weights_only
        with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
            return load_checkpoint(store.run_dir(run_id) / "checkpoint.pt", device=device)
    except Exception as err:  # torch raises many types for a damaged file
        raise CorruptRunError(f"run {run_id}: checkpoint.pt does not load ({err})") from None


# ---- tables -------------------------------------------------------------------------------------------------------
BUNDLE_ONLY = ("steps_done", "group_size", "group_train_seconds", "null_score_p50", "null_score_p95")  # a bundle's
# extra columns (gridbook.runs.bundle), left out where a bundle reads as a store
SUMMARY_COLUMNS = ("decoding_error_cm", "decoder_floor_cm", "decoding_error_fine_cm", "decoder_floor_fine_cm", "loss",
                   "diverged", *NETWORK_SUMMARY, "train_seconds")


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


def load_results(store: RunStore | str | Path | None = None, run_ids: Iterable[str] | None = None):
    """One row per finished run: ``run_id``, the flat config columns and :data:`SUMMARY_COLUMNS`.

    ``run_ids`` keeps only those runs, in that order (runs not finished are left out; see
    :func:`gridbook.runs.spec.spec_run_ids` for the runs of a sweep spec); None: every finished run, sorted by id.
    A corrupt run is left out with a warning (a sweep redoes it). Reads only: :func:`write_results_table` writes the
    table to the store.
    """
    import pandas as pd

    if getattr(store, "is_bundle", False):  # an evidence bundle (gridbook.runs.bundle) reads as a store
        return store.results(run_ids=run_ids).drop(columns=["spec", *BUNDLE_ONLY], errors="ignore")
    store = as_store(store)
    wanted = store.run_ids() if run_ids is None else list(dict.fromkeys(run_ids))
    rows = []
    for run_id in wanted:
        if not (store.run_dir(run_id) / DONE).exists():
            continue  # not finished: does not exist for readers
        try:
            rows.append(_result_row(store, run_id))
        except CorruptRunError as err:
            warnings.warn(f"skipping a corrupt run (a sweep will redo it): {err}", stacklevel=2)
    columns = ["run_id", *RunConfig().to_flat(), *SUMMARY_COLUMNS]
    table = pd.DataFrame(rows, columns=columns)
    table["diverged"] = table["diverged"].astype(bool)
    return table


def write_results_table(store: RunStore | str | Path | None = None) -> Path:
    """Write the table of every finished run (:func:`load_results`) to ``results.parquet`` at the store's root,
    atomically, for readers outside Python; returns its path. Tuple-valued config fields (sigma_range,
    surround_range) are written as JSON strings."""
    store = as_store(store)
    table = load_results(store)
    for name in ("sigma_range", "surround_range"):
        table[name] = table[name].map(lambda v: None if v is None else json.dumps(list(v)))
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    store.root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(store.root / RESULTS, buffer.getvalue())
    return store.root / RESULTS


def load_units(store: RunStore | str | Path | None = None, run_ids: Iterable[str] | None = None):
    """Per-unit table: ``run_id``, ``unit`` and :data:`UNIT_COLUMNS`, over the given (default: all finished) runs."""
    import pandas as pd

    if getattr(store, "is_bundle", False):
        return store.units(run_ids)
    store = as_store(store)
    run_ids = store.done_run_ids() if run_ids is None else list(run_ids)
    frames = []
    for run_id in run_ids:
        store.require_done(run_id)
        try:
            frame = pd.read_parquet(store.run_dir(run_id) / "units.parquet")
        except (OSError, ValueError) as err:
            raise CorruptRunError(f"run {run_id}: units.parquet does not load ({err})") from None
        frame.insert(0, "run_id", run_id)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["run_id", "unit", *UNIT_COLUMNS])
    return pd.concat(frames, ignore_index=True)
