"""Where a chapter's data comes from: the repository, the chapter's sweep spec at a profile with the notebook's
overrides, and the runs of that spec in the run store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gridbook.config import PROFILES, RunConfig
from gridbook.errors import check_choice
from gridbook.runs.load import load_results, load_run, load_units
from gridbook.runs.spec import spec_run_ids
from gridbook.runs.store import RunStore, as_store
from gridbook.runs.sweep import SweepSummary, run_sweep

__all__ = ["ChapterRuns", "chapter_runs", "chapter_spec", "find_root", "repo_path", "search_runs", "search_spec",
           "sweep_spec"]


def find_root(start: str | Path | None = None) -> Path:
    """The repository root: the nearest directory at or above ``start`` (default: cwd) holding ``book/_toc.yml``,
    else the checkout this package lives in."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents, Path(__file__).resolve().parents[2]):
        if (candidate / "book" / "_toc.yml").is_file():
            return candidate
    raise FileNotFoundError(f"no book/_toc.yml at or above {here}; run from the gridbook checkout")


def repo_path(relative: str | Path, start: str | Path | None = None) -> Path:
    """An absolute path for ``relative`` (as written from the repository root); absolute paths pass through.
    Notebooks use it so they run the same from papermill (cwd = root) and nbval (cwd = book/chapters)."""
    path = Path(relative)
    return path if path.is_absolute() else find_root(start) / path


def sweep_spec(chapter: str, profile: str, start: str | Path | None = None) -> Path:
    """The sweep spec of a chapter at a profile: ``sweeps/chapters/<chapter>.<profile>.yaml``."""
    check_choice("profile", profile, PROFILES)
    return repo_path(f"sweeps/chapters/{chapter}.{profile}.yaml", start)


def search_spec(name: str, profile: str, start: str | Path | None = None) -> Path:
    """The spec of a search at a profile: ``sweeps/searches/<name>.<profile>.yaml``. Searches are sweeps larger than
    the book's budget (R1's population search): no chapter trains them ahead; a chapter shows what the store holds."""
    check_choice("profile", profile, PROFILES)
    return repo_path(f"sweeps/searches/{name}.{profile}.yaml", start)


def chapter_spec(chapter: str, profile: str, seeds: list[int] | None = None, start: str | Path | None = None,
                 **parameters: Any) -> dict[str, Any]:
    """The chapter's sweep spec at ``profile`` as a dict, with the notebook's overrides applied: ``seeds`` (None:
    the spec's own) and flat parameters (``target=["dos", "gaussian"]``; None: the spec's own), set at the top level
    and in every block that sets them itself."""
    data = yaml.safe_load(sweep_spec(chapter, profile, start).read_text()) or {}
    blocks = data.get("blocks") or []
    if seeds is not None:  # replaces the spec's seeds, and any fixed training seed
        data["seeds"] = list(seeds)
        for section in (data, *blocks):
            (section.get("parameters") or {}).pop("seed", None)
        for block in blocks:
            block.pop("seeds", None)
    for name, value in parameters.items():
        if value is None:
            continue
        entry = {"values": list(value)} if isinstance(value, (list, tuple)) else {"value": value}
        data.setdefault("parameters", {})[name] = entry
        for block in blocks:
            if name in (block.get("parameters") or {}):
                block["parameters"][name] = entry
    return data


@dataclass(frozen=True)
class ChapterRuns:
    """The runs behind a chapter: its sweep ``spec`` (with the notebook's overrides) at ``profile``, the ``results``
    table of the spec's finished runs in the ``store`` (one row per run, :func:`gridbook.runs.load.load_results`),
    and the ``summary`` of the sweep that trained what the store lacked (None when nothing was asked to train)."""

    chapter: str
    profile: str
    store: RunStore
    spec: dict[str, Any]
    results: Any  # pandas.DataFrame
    summary: SweepSummary | None

    def units(self, *columns: str):
        """The per-unit table of the runs (:func:`gridbook.runs.load.load_units`), with the named ``results``
        columns (e.g. ``"target"``) joined on ``run_id``."""
        units = load_units(self.store, self.results["run_id"])
        return units.merge(self.results[["run_id", *columns]], on="run_id") if columns else units

    def unit_maps(self, rows) -> np.ndarray:
        """The rate maps (k, ny, nx) of the units named by ``rows`` (a table with ``run_id`` and ``unit`` columns, e.g.
        from :func:`gridbook.book.chapters.best_units`), in their order; each run is read once. NaN = unvisited."""
        if getattr(self.store, "is_bundle", False):  # a bundle keeps its runs' best maps
            maps = [self.store.unit_map(row.run_id, int(row.unit)) for row in rows.itertuples()]
            return np.stack(maps) if maps else np.empty((0, 0, 0))
        runs: dict[str, np.ndarray] = {}
        maps = []
        for row in rows.itertuples():
            if row.run_id not in runs:
                runs[row.run_id] = load_run(self.store, row.run_id).ratemaps.maps
            maps.append(runs[row.run_id][int(row.unit)])
        return np.stack(maps) if maps else np.empty((0, 0, 0))

    def config(self, run_id: str) -> RunConfig:
        """The full config of one run."""
        self.store.require_done(run_id)
        return self.store.read_config(run_id)


def chapter_runs(chapter: str, profile: str, store: RunStore | str | Path | None = None, seeds: list[int] | None = None,
                 train: bool = True, start: str | Path | None = None, **parameters: Any) -> ChapterRuns:
    """A chapter's runs: its spec at ``profile`` with the overrides (``seeds``, flat ``parameters``; see
    :func:`chapter_spec`), trained where the store lacks them (``train=False``: only read what is there), and their
    results table."""
    return _spec_runs(chapter, chapter_spec(chapter, profile, seeds=seeds, start=start, **parameters), profile, store,
                      train)


def _spec_runs(name: str, spec: dict[str, Any], profile: str, store: RunStore | str | Path | None,
               train: bool) -> ChapterRuns:
    """The runs of ``spec`` at ``profile`` in ``store``, trained first where it lacks them when ``train``."""
    store = as_store(store)
    summary = run_sweep(spec, profile=profile, store=store, progress=False) if train else None
    results = load_results(store, run_ids=spec_run_ids(spec, profile))
    return ChapterRuns(chapter=name, profile=profile, store=store, spec=spec, results=results, summary=summary)


def search_runs(name: str, profile: str, store: RunStore | str | Path | None = None, train: bool = False,
                start: str | Path | None = None) -> ChapterRuns:
    """A search's runs (:func:`search_spec`) that the store holds; with ``train=True`` it first trains what the store
    lacks (``gridbook sweep sweeps/searches/<name>.<profile>.yaml`` does the same from the shell)."""
    return _spec_runs(name, yaml.safe_load(search_spec(name, profile, start).read_text()) or {}, profile, store, train)
