"""Evidence bundles: a read-only, compact, checksummed set of slim runs that travels (from a lent GPU, a long CPU sweep)
and that the book reads years later, with where it came from.

A bundle is a directory::

    provenance.json   format version; device, torch and CUDA versions, gridbook version and commit; the command, the
                      date, the wall time of each stage; the networks and steps of each spec
    runs.parquet      one row per run: run_id, spec (the evidence spec it was trained for), the flat config columns
                      (tuples as JSON text), SUMMARY_COLUMNS, RUN_EXTRA metrics and the null's percentiles
    units.parquet     one row per unit: run_id, unit, UNIT_COLUMNS (float32)
    maps.npz          float16 rate maps of each run's best units (by min-max score60): run_ids (R,), units (R, k),
                      maps (R, k, ny, nx) (NaN = unvisited), task index (R,) into occupancy (O, ny, nx), x_edges
                      (O, nx + 1) and y_edges (O, ny + 1) m
    MANIFEST.json     format version and the size and sha256 of every file above (written last)

No weights. :func:`pack_store` writes one from a run store; :func:`verify_bundle` checks it; :class:`Bundle` reads it
back (its tables as :func:`gridbook.runs.load.load_results` and :func:`~gridbook.runs.load.load_units` give them).
A bundle that fails its manifest is not read at all: one line names the file and what is wrong.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gridbook.analysis.pipeline import UNIT_COLUMNS
from gridbook.config import RunConfig
from gridbook.errors import UserError
from gridbook.files import atomic_write_bytes, atomic_write_text, sha256_hex, utc_now
from gridbook.runs.load import BUNDLE_ONLY, SUMMARY_COLUMNS, load_results, load_run
from gridbook.runs.store import RunStore, as_store

__all__ = ["BUNDLE_FILES", "BUNDLE_FORMAT", "MANIFEST", "MAX_BUNDLE_BYTES", "NULL_QUANTILES", "RUN_EXTRA", "Bundle",
           "pack_store", "verify_bundle"]

BUNDLE_FORMAT = 1  # bump when a file's layout changes; readers refuse other versions
BUNDLE_FILES = ("provenance.json", "runs.parquet", "units.parquet", "maps.npz")  # MANIFEST.json lists these
MANIFEST = "MANIFEST.json"
MAX_BUNDLE_BYTES = 64 * 2**20  # a bundle is committed: at most 64 MiB
MAPS_BYTES = 32 * 2**20  # the maps' share of that, before compression
TOP_UNITS = 16  # maps kept per run, at most (fewer when the runs are many)
RUN_EXTRA = BUNDLE_ONLY[:3]  # metrics kept beside SUMMARY_COLUMNS
NULL_QUANTILES = (50, 95)  # percentiles of each run's null kept (its 99th is SUMMARY_COLUMNS' null_score_p99)
TUPLE_FIELDS = tuple(k for k, v in RunConfig().to_flat().items() if k.endswith("_range"))  # tuples in configs


def _null_columns() -> list[str]:
    return [f"null_score_p{q}" for q in NULL_QUANTILES]


# ---- packing --------------------------------------------------------------------------------------------------------
def _frame_bytes(frame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    return buffer.getvalue()


def pack_store(store: RunStore | str | Path, out: str | Path, specs: Mapping[str, Sequence[str]] | None = None,
               provenance: Mapping[str, Any] | None = None, top_units: int = TOP_UNITS) -> Path:
    """Pack the finished runs of ``store`` into a bundle at ``out`` (created; must not hold a bundle already).

    ``specs``: label -> run ids (the evidence specs they were trained for; a run in several keeps the first label);
    None: every finished run, labelled "store". ``provenance``: written into provenance.json beside the format
    version and the packing date. ``top_units``: maps kept per run (fewer when the runs are many, so the maps stay
    within :data:`MAPS_BYTES`)."""
    import pandas as pd

    store, out = as_store(store), Path(out)
    if (out / MANIFEST).exists():
        raise UserError(f"{out} already holds a bundle; pack into a new directory")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; allowed values: a directory (created if missing)")
    labels: dict[str, str] = {}
    for label, run_ids in (specs or {"store": store.done_run_ids()}).items():
        for run_id in run_ids:
            labels.setdefault(run_id, label)
    results = load_results(store, run_ids=list(labels))
    records = [load_run(store, run_id) for run_id in results["run_id"]]
    results.insert(1, "spec", [labels[r] for r in results["run_id"]])
    for name in TUPLE_FIELDS:
        results[name] = results[name].map(lambda v: json.dumps(list(v)) if isinstance(v, (list, tuple)) else None)
    for name in RUN_EXTRA:
        results[name] = [float(r.metrics.get(name, math.nan)) for r in records]
    for q, name in zip(NULL_QUANTILES, _null_columns(), strict=True):
        results[name] = [r.null.percentile(q) if r.null is not None else math.nan for r in records]
    units = pd.concat([r.units.assign(run_id=r.config.run_id()) for r in records] or [pd.DataFrame()],
                      ignore_index=True)
    units = units.reindex(columns=["run_id", "unit", *UNIT_COLUMNS])
    units = units.astype({"unit": np.int32, **{c: np.float32 for c in UNIT_COLUMNS}})
    payloads = {"runs.parquet": _frame_bytes(results), "units.parquet": _frame_bytes(units),
                "maps.npz": _maps_bytes(records, top_units)}
    payloads["provenance.json"] = json.dumps({"format": BUNDLE_FORMAT, "packed_at": utc_now(),
                                              "runs": len(results), **(provenance or {})}, indent=1,
                                             default=str).encode()
    while sum(map(len, payloads.values())) > MAX_BUNDLE_BYTES and top_units > 1:  # fewer maps a run, not no bundle
        top_units //= 2
        payloads["maps.npz"] = _maps_bytes(records, top_units)
    total = sum(map(len, payloads.values()))
    if total > MAX_BUNDLE_BYTES:
        raise UserError(f"the bundle would hold {total / 2**20:.1f} MiB; allowed: at most "
                        f"{MAX_BUNDLE_BYTES / 2**20:.0f} MiB (pack fewer runs or fewer maps per run)")
    out.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_FILES:
        atomic_write_bytes(out / name, payloads[name])
    manifest = {"format": BUNDLE_FORMAT, "files": {n: {"size": len(payloads[n]), "sha256": sha256_hex(payloads[n])}
                                                   for n in BUNDLE_FILES}}
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1))
    return out


def _maps_bytes(records: Sequence[Any], top_units: int) -> bytes:
    """maps.npz of each run's best ``k`` units (k <= top_units, within MAPS_BYTES), float16."""
    if not records:
        return _npz(run_ids=np.array([], dtype=str))
    first = records[0].ratemaps.maps
    per_map = first.shape[1] * first.shape[2] * 2  # float16 bytes
    k = max(1, min(top_units, first.shape[0], MAPS_BYTES // max(1, per_map * len(records))))
    tasks: dict[bytes, int] = {}
    occupancy, x_edges, y_edges, task_index, units, maps = [], [], [], [], [], []
    for record in records:
        scores = np.nan_to_num(np.asarray(record.units["score60_min_max"], dtype=float), nan=-np.inf)
        best = np.sort(np.argsort(-scores, kind="stable")[:k])  # (k,) the run's best units, in unit order
        rm = record.ratemaps
        key = np.asarray(rm.occupancy).tobytes() + np.asarray(rm.x_edges).tobytes() + np.asarray(rm.y_edges).tobytes()
        if key not in tasks:
            tasks[key] = len(tasks)
            occupancy.append(np.asarray(rm.occupancy, dtype=np.int32))
            x_edges.append(np.asarray(rm.x_edges))
            y_edges.append(np.asarray(rm.y_edges))
        task_index.append(tasks[key])
        units.append(best.astype(np.int32))
        maps.append(np.asarray(rm.maps)[best].astype(np.float16))
    return _npz(run_ids=np.array([r.config.run_id() for r in records]), units=np.stack(units), maps=np.stack(maps),
                task=np.array(task_index, dtype=np.int32), occupancy=np.stack(occupancy), x_edges=np.stack(x_edges),
                y_edges=np.stack(y_edges))


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


# ---- checking -------------------------------------------------------------------------------------------------------
def verify_bundle(path: str | Path) -> dict[str, Any]:
    """The bundle's manifest, after checking it: the directory exists, its format is :data:`BUNDLE_FORMAT`, every
    file it lists is there with its size and sha256, and the tables hold the columns readers need. Raises
    :class:`~gridbook.errors.UserError` with one line naming the file and what is wrong."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"evidence {path} does not exist; allowed values: a bundle directory (gridbook evidence pack)")
    if not path.is_dir():
        raise UserError(f"evidence {path} is a file; allowed values: a bundle directory (gridbook evidence pack)")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"{path / MANIFEST}: not a readable bundle manifest ({type(err).__name__})") from None
    if manifest.get("format") != BUNDLE_FORMAT:
        raise UserError(f"{path / MANIFEST}: bundle format {manifest.get('format')!r} is unknown; this gridbook reads "
                        f"format {BUNDLE_FORMAT}")
    files = manifest.get("files") or {}
    for name in BUNDLE_FILES:
        entry, file = files.get(name), path / name
        if entry is None or not file.is_file():
            raise UserError(f"{file}: missing from the bundle")
        data = file.read_bytes()
        if len(data) != entry.get("size"):
            raise UserError(f"{file}: {len(data)} bytes, the manifest records {entry.get('size')} (truncated?)")
        if sha256_hex(data) != entry.get("sha256"):
            raise UserError(f"{file}: does not match its checksum (damaged)")
    import pandas as pd

    needed = {"runs.parquet": ["run_id", "spec", *RunConfig().to_flat(), *SUMMARY_COLUMNS],
              "units.parquet": ["run_id", "unit", *UNIT_COLUMNS]}
    for name, columns in needed.items():
        present = set(pd.read_parquet(path / name, columns=None).columns)
        missing = [c for c in columns if c not in present]
        if missing:
            raise UserError(f"{path / name}: lacks the column(s) {', '.join(missing)} that the book reads")
    return manifest


# ---- reading --------------------------------------------------------------------------------------------------------
class Bundle:
    """A verified bundle, read-only, that reads as a run store: ``load_results``, ``load_units`` and the book's
    chapter runs accept it (``is_bundle``). ``results()`` and ``units()`` are the tables of
    :func:`~gridbook.runs.load.load_results` and :func:`~gridbook.runs.load.load_units` (plus the ``spec`` column),
    ``maps(run_id)`` the stored maps of a run's best units, ``provenance`` the provenance dict."""

    is_bundle = True  # read functions duck-type on this (the run-store layer does not import bundles)

    def __init__(self, path: str | Path) -> None:
        self.root = Path(path)
        self.manifest = verify_bundle(self.root)
        self.provenance = json.loads((self.root / "provenance.json").read_text())
        self._results = None

    def __repr__(self) -> str:
        return f"Bundle({str(self.root)!r})"

    def results(self, run_ids: Sequence[str] | None = None, spec: str | None = None):
        """One row per run (``run_id``, ``spec``, the flat config, SUMMARY_COLUMNS...), as load_results gives them:
        tuple fields as tuples. ``run_ids`` keeps those of them the bundle holds, in that order; ``spec`` those of
        one evidence spec."""
        import pandas as pd

        if self._results is None:
            table = pd.read_parquet(self.root / "runs.parquet")
            for name in TUPLE_FIELDS:
                table[name] = table[name].map(lambda v: tuple(json.loads(v)) if isinstance(v, str) else None)
            table["diverged"] = table["diverged"].astype(bool)
            self._results = table
        table = self._results
        if spec is not None:
            table = table[table["spec"] == spec]
        if run_ids is not None:
            order = {run_id: i for i, run_id in enumerate(dict.fromkeys(run_ids))}
            table = table[table["run_id"].isin(order)]
            table = table.iloc[np.argsort(table["run_id"].map(order).to_numpy(), kind="stable")]
        return table.reset_index(drop=True).copy()

    def units(self, run_ids: Sequence[str] | None = None):
        """Per-unit table (``run_id``, ``unit``, UNIT_COLUMNS), over ``run_ids`` (default: every run)."""
        import pandas as pd

        table = pd.read_parquet(self.root / "units.parquet")
        if run_ids is None:
            return table
        order = {run_id: i for i, run_id in enumerate(run_ids)}
        table = table[table["run_id"].isin(order)]
        return table.iloc[np.argsort(table["run_id"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)

    def maps(self, run_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(units (k,), maps (k, ny, nx) float32) of a run's best units; KeyError for a run not in the bundle."""
        with np.load(self.root / "maps.npz") as data:
            where = np.nonzero(data["run_ids"] == run_id)[0]
            if not where.size:
                raise KeyError(f"run {run_id} is not in {self.root}")
            return data["units"][where[0]], data["maps"][where[0]].astype(np.float32)

    def unit_map(self, run_id: str, unit: int) -> np.ndarray:
        """The (ny, nx) map of one of a run's stored units; KeyError naming what the bundle keeps otherwise."""
        units, maps = self.maps(run_id)
        where = np.nonzero(units == int(unit))[0]
        if not where.size:
            raise KeyError(f"run {run_id}: unit {unit} is not among the {len(units)} best units whose maps "
                           f"{self.root} keeps ({', '.join(map(str, units))})")
        return maps[where[0]]

    # -- the read side of a run store
    def run_ids(self) -> list[str]:
        return sorted(self.results()["run_id"])

    def done_run_ids(self) -> list[str]:
        return self.run_ids()

    def status(self, run_id: str, deep: bool = False) -> str:
        return "done" if run_id in set(self.results()["run_id"]) else "missing"

    def require_done(self, run_id: str) -> None:
        if self.status(run_id) != "done":
            raise FileNotFoundError(f"run {run_id} is not in the bundle {self.root}")

    def read_config(self, run_id: str) -> RunConfig:
        self.require_done(run_id)
        row = self.results([run_id]).iloc[0]
        flat = {k: row[k].item() if hasattr(row[k], "item") else row[k] for k in RunConfig().to_flat()}
        return RunConfig().replace(**{k: None if k in TUPLE_FIELDS and not isinstance(v, tuple) else v
                                      for k, v in flat.items()})

    def seeds(self) -> list[int]:
        """The training seeds of the bundle's runs."""
        return sorted({int(s) for s in self.results()["seed"]})

    def label(self) -> str:
        """Its provenance in a few words: device, date, runs and seeds."""
        env = self.provenance.get("environment") or {}
        date = str(self.provenance.get("started_at") or self.provenance.get("packed_at") or "?")[:10]
        seeds = self.seeds()
        span = f"seeds {seeds[0]}-{seeds[-1]}" if seeds else "no runs"
        return f"{env.get('device', 'unknown device')}, {date}, {len(self.results())} networks, {span}"
