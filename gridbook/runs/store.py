"""The run store: one directory per trained network, written atomically (read back by :mod:`gridbook.runs.load`).

Layout (``root`` defaults to ``$GRIDBOOK_STORE`` or ``./runs``)::

    root/<run_id>/config.yaml      RunConfig.to_yaml(); run_id = config.run_id() (its content hash)
    root/<run_id>/checkpoint.pt    the trained network, in gridbook.nets.checkpoints' format (load_network)
    root/<run_id>/metrics.json     decoding error (cm), loss, diverged, timings, device, versions, git commit
    root/<run_id>/ratemaps.npz     maps (U, ny, nx) float32 (NaN = unvisited), occupancy (ny, nx), x_edges, y_edges (m)
    root/<run_id>/units.parquet    one row per unit: score60_mean, score60_min_max, score90, period_m, orientation_deg
    root/<run_id>/null.npz         when the config asks for a shuffle null (analysis.n_shuffles > 0): shifts (S,),
                                   scores (S, U) min-max score60 of each shifted map, n_batches, score_form
    root/<run_id>/DONE             written last: the size and sha256 of every file above
    root/<run_id>/failed.json      instead of DONE when the run raised: error and traceback
    root/results.parquet           the table load_results() returns, written after every sweep
    root/.claims/<run_id>.json     while a sweep trains the run: who trains it (gridbook.runs.claims)

Every file is written to a temporary file in the same directory, flushed, fsynced and renamed over its final
name, and the directory is fsynced. A run directory without a valid DONE does not exist for readers: a sweep
redoes it. A run whose DONE disagrees with its files (sizes; checksums of the small files, or of all files with
``deep=True``), or whose config does not hash to its directory name, is *corrupt* and is redone as well.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import traceback as _traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gridbook.analysis.null import ShuffleNull
from gridbook.analysis.pipeline import UNIT_COLUMNS
from gridbook.config import RunConfig
from gridbook.errors import CorruptRunError
from gridbook.files import (
    atomic_write_bytes,
    atomic_write_text,
    fsync_dir,
    git_commit,
    package_versions,
    sha256_hex,
    strict_json,
    utc_now,
)

RUN_FILES = ("config.yaml", "checkpoint.pt", "metrics.json", "ratemaps.npz", "units.parquet")
NULL_FILE = "null.npz"  # a run's shuffle null (gridbook.analysis.null), when its config asks for one
SMALL_FILES = ("config.yaml", "metrics.json", "units.parquet", NULL_FILE)  # checksummed on every status check
DONE, FAILED, RESULTS = "DONE", "failed.json", "results.parquet"
RUN_ID = re.compile(r"^[0-9a-f]{16}$")
STORE_ENV = "GRIDBOOK_STORE"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class RunRecord:
    """Everything a sweep stores about one trained and evaluated network.

    ``metrics`` holds at least decoding_error_cm, loss, diverged, train_seconds, device and participation_ratio;
    ``units`` maps each of :data:`UNIT_COLUMNS` to a (U,) array; ``ratemaps`` is a
    :class:`gridbook.analysis.ratemaps.RateMaps` (or anything with maps/occupancy/x_edges/y_edges); ``checkpoint`` is
    the checkpoint file's bytes (:func:`gridbook.nets.checkpoints.checkpoint_bytes`) or a
    ``torch.save``-able dict; ``null`` the :class:`gridbook.analysis.null.ShuffleNull` the units were judged against
    (required when ``config.analysis.n_shuffles`` > 0, else None). :func:`gridbook.runs.load.load_run` reads a stored
    run back as a RunRecord (its ``units`` a DataFrame with a ``unit`` column, its checkpoint read only when asked
    for).
    """

    config: RunConfig
    metrics: Mapping[str, Any]
    ratemaps: Any
    units: Mapping[str, np.ndarray]
    checkpoint: bytes | Mapping[str, Any] | None = field(default_factory=dict)
    null: ShuffleNull | None = None

    @property
    def run_id(self) -> str:
        """The run's id in the store: its config's content hash."""
        return self.config.run_id()


# ---- the store ------------------------------------------------------------------------------------------------------
class RunStore:
    """A directory of run directories. Cheap to construct; every method reads the file system afresh."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root if root is not None else os.environ.get(STORE_ENV, "runs")).expanduser()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    def __reduce__(self):  # picklable by path, for worker processes
        return (RunStore, (str(self.root),))

    def run_dir(self, run_id: str) -> Path:
        return self.root / run_id

    def run_ids(self) -> list[str]:
        """Every run directory present (finished or not), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if RUN_ID.match(p.name) and p.is_dir())

    # ---- state ------------------------------------------------------------------------------------------------
    def status(self, run_id: str, deep: bool = False) -> str:
        """"done", "missing", "partial" (no DONE: killed or in progress), "failed" or "corrupt".

        ``deep=True`` also checksums the checkpoint and rate maps (slow for big stores).
        """
        run_dir = self.run_dir(run_id)
        if not run_dir.is_dir():
            return "missing"
        if not (run_dir / DONE).exists():
            return "failed" if (run_dir / FAILED).exists() else "partial"
        try:
            self.verify(run_id, deep=deep)
        except CorruptRunError:
            return "corrupt"
        return "done"

    def verify(self, run_id: str, deep: bool = False) -> RunConfig:
        """The run's config; raises :class:`CorruptRunError` (naming the run and the file) unless the run's files
        match its DONE marker and its config hashes to its directory name."""
        run_dir = self.run_dir(run_id)
        try:
            marker = json.loads((run_dir / DONE).read_text())
            files = marker["files"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise CorruptRunError(f"run {run_id}: unreadable {DONE} marker ({err})") from None
        config = self.read_config(run_id)
        wanted = (*RUN_FILES, NULL_FILE) if config.analysis.n_shuffles else RUN_FILES
        for name in wanted:
            path = run_dir / name
            expected = files.get(name) if isinstance(files, dict) else None
            if expected is None or not path.is_file():
                raise CorruptRunError(f"run {run_id}: {name} is missing")
            if path.stat().st_size != expected.get("size"):
                raise CorruptRunError(f"run {run_id}: {name} has {path.stat().st_size} bytes, "
                                      f"DONE recorded {expected.get('size')}")
            if (deep or name in SMALL_FILES) and sha256_hex(path.read_bytes()) != expected.get("sha256"):
                raise CorruptRunError(f"run {run_id}: {name} does not match its checksum")
        if config.run_id() != run_id:
            raise CorruptRunError(f"run {run_id}: config.yaml hashes to {config.run_id()}, not its directory name")
        return config

    def require_done(self, run_id: str) -> None:
        """Raise unless the run is finished: :class:`CorruptRunError` naming the file for a corrupt run, else
        FileNotFoundError with the run's status."""
        state = self.status(run_id)
        if state == "corrupt":
            self.verify(run_id)  # raises CorruptRunError naming the file
        if state != "done":
            raise FileNotFoundError(f"run {run_id} is not a finished run in {self.root} (status: {state})")

    def read_config(self, run_id: str) -> RunConfig:
        try:
            data = yaml.load((self.run_dir(run_id) / "config.yaml").read_text(), Loader=_Loader)
            return RunConfig.from_dict(data or {})
        except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError) as err:
            raise CorruptRunError(f"run {run_id}: config.yaml does not load ({err})") from None

    def done_run_ids(self) -> list[str]:
        return [r for r in self.run_ids() if self.status(r) == "done"]

    # ---- writing ----------------------------------------------------------------------------------------------
    def _fresh_dir(self, run_id: str) -> Path:
        """The run's directory, emptied of anything an earlier attempt left (DONE is removed first)."""
        run_dir = self.run_dir(run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / DONE).unlink(missing_ok=True)
        fsync_dir(run_dir)
        for path in run_dir.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        fsync_dir(self.root)
        return run_dir

    def write_run(self, record: RunRecord) -> str:
        """Store one run; returns its run_id. DONE is written last, so a kill at any point leaves no done run."""
        import pandas as pd
        import torch

        config = record.config
        run_id = config.run_id()
        if record.checkpoint is None:
            raise ValueError(f"run {run_id}: the record has no checkpoint (read with load_run(..., checkpoint=False)); "
                             "load it with checkpoint=True to write it back")
        if (record.null is None) != (config.analysis.n_shuffles == 0):
            raise ValueError(f"run {run_id}: null={'None' if record.null is None else 'a ShuffleNull'} does not match "
                             f"n_shuffles={config.analysis.n_shuffles} (a null exactly when n_shuffles > 0)")
        run_dir = self._fresh_dir(run_id)
        maps = record.ratemaps
        metrics = dict(record.metrics)
        metrics.setdefault("versions", package_versions())
        metrics.setdefault("git_commit", git_commit())
        metrics["run_id"] = run_id
        metrics["written_at"] = utc_now()

        if isinstance(record.checkpoint, (bytes, bytearray)):
            checkpoint_bytes = bytes(record.checkpoint)
        else:
            buffer = io.BytesIO()
            torch.save(dict(record.checkpoint), buffer)
            checkpoint_bytes = buffer.getvalue()
        ratemaps = io.BytesIO()
        np.savez(ratemaps, maps=np.asarray(maps.maps, dtype=np.float32),
                 occupancy=np.asarray(maps.occupancy), x_edges=np.asarray(maps.x_edges, dtype=np.float64),
                 y_edges=np.asarray(maps.y_edges, dtype=np.float64))
        table = pd.DataFrame({c: np.asarray(record.units[c], dtype=np.float64) for c in UNIT_COLUMNS})
        table.insert(0, "unit", np.arange(len(table), dtype=np.int32))
        units = io.BytesIO()
        table.to_parquet(units, index=False)
        payloads = {
            "config.yaml": config.to_yaml().encode(),
            "checkpoint.pt": checkpoint_bytes,
            "metrics.json": strict_json(metrics).encode(),
            "ratemaps.npz": ratemaps.getvalue(),
            "units.parquet": units.getvalue(),
        }
        if record.null is not None:
            null = io.BytesIO()
            np.savez(null, shifts=np.asarray(record.null.shifts, dtype=np.int64),
                     scores=np.asarray(record.null.scores, dtype=np.float32),
                     n_batches=np.int64(record.null.n_batches), score_form=np.str_(record.null.score_form),
                     **({} if record.null.units is None else {"units": np.asarray(record.null.units, dtype=np.int64)}))
            payloads[NULL_FILE] = null.getvalue()
        for name, data in payloads.items():
            atomic_write_bytes(run_dir / name, data)
        marker = {"run_id": run_id, "finished_at": utc_now(),
                  "files": {n: {"size": len(d), "sha256": sha256_hex(d)} for n, d in payloads.items()}}
        atomic_write_text(run_dir / DONE, json.dumps(marker, indent=1))
        return run_id

    def invalidate(self, run_id: str) -> None:
        """Take a run out of the finished ones (its DONE marker goes first, atomically): a sweep then redoes it. For
        a run that fails its checksums (``gridbook sweep --verify``)."""
        (self.run_dir(run_id) / DONE).unlink(missing_ok=True)
        fsync_dir(self.run_dir(run_id))

    def write_failure(self, config: RunConfig, error: BaseException | str, traceback: str | None = None) -> str:
        """Record a run that raised: failed.json with the error and traceback, and no DONE (a sweep retries it)."""
        run_id = config.run_id()
        run_dir = self._fresh_dir(run_id)
        if isinstance(error, BaseException):
            message = f"{type(error).__name__}: {error}"
            traceback = traceback or "".join(_traceback.format_exception(error))
        else:
            message = str(error)
        atomic_write_text(run_dir / "config.yaml", config.to_yaml())
        atomic_write_text(run_dir / FAILED, strict_json({"run_id": run_id, "error": message,
                                                        "traceback": traceback or "", "failed_at": utc_now()}))
        return run_id

    def failure(self, run_id: str) -> dict[str, Any] | None:
        """The failed.json of a failed run, or None."""
        path = self.run_dir(run_id) / FAILED
        if (self.run_dir(run_id) / DONE).exists() or not path.exists():
            return None
        return json.loads(path.read_text())

    # ---- reading ----------------------------------------------------------------------------------------------
    def read_metrics(self, run_id: str) -> dict[str, Any]:
        try:
            return json.loads((self.run_dir(run_id) / "metrics.json").read_text())
        except (OSError, ValueError) as err:
            raise CorruptRunError(f"run {run_id}: metrics.json does not load ({err})") from None


def as_store(store: RunStore | str | Path | None) -> RunStore:
    """A :class:`RunStore` from a store, a path, or None (``$GRIDBOOK_STORE``, else ``./runs``)."""
    return store if isinstance(store, RunStore) else RunStore(store)
