"""Evidence bundles in the book: the bundles committed under ``evidence/`` (or the one ``--evidence`` names), and a
chapter's runs read from one of them as from a run store.

A bundle's runs are found by the chapter's own conditions: its quick sweep spec, with the bundle's seeds, expanded at
each profile; the profile whose run ids the bundle holds most of is the bundle's for that chapter (an H200 bundle's
chapter runs are the ``gpu`` profile's). Nothing is trained.
"""

from __future__ import annotations

from pathlib import Path

from gridbook.book.data import ChapterRuns, chapter_spec, find_root
from gridbook.config import PROFILES
from gridbook.errors import UserError
from gridbook.runs.bundle import MANIFEST, Bundle
from gridbook.runs.load import load_results
from gridbook.runs.spec import spec_run_ids

__all__ = ["EVIDENCE_DIR", "bundle_runs", "committed_bundles", "evidence_bundles", "evidence_runs"]

EVIDENCE_DIR = "evidence"  # committed bundles, one folder each: <device>-<yyyy-mm-dd>


def committed_bundles(root: str | Path | None = None) -> list[Bundle]:
    """Every bundle under ``evidence/`` of the repository, newest first (by the date it was made)."""
    folder = find_root(root) / EVIDENCE_DIR
    found = [Bundle(p) for p in sorted(folder.iterdir()) if (p / MANIFEST).is_file()] if folder.is_dir() else []
    return sorted(found, key=lambda b: str(b.provenance.get("started_at") or b.provenance.get("packed_at")),
                  reverse=True)


def evidence_bundles(evidence: str | Path | None = None, root: str | Path | None = None) -> list[Bundle]:
    """The bundles a page shows: the one ``evidence`` names (a bundle directory; checked, one line if it is not),
    ``"none"`` for none, or None for every committed one (:func:`committed_bundles`)."""
    if evidence is None:
        return committed_bundles(root)
    if str(evidence).lower() == "none":
        return []
    path = Path(evidence)
    if not path.is_absolute():
        path = find_root(root) / path if not path.exists() else path
    if not path.exists() or not path.is_dir():
        raise UserError(f"--evidence {evidence}: {'is a file' if path.exists() else 'does not exist'}; allowed "
                        "values: a bundle directory (gridbook evidence pack), or none")
    return [Bundle(path)]


def bundle_runs(chapter: str, bundle: Bundle, root: str | Path | None = None, **parameters) -> ChapterRuns:
    """A chapter's runs in ``bundle``: its quick spec's conditions (with the notebook's ``parameters``) at the
    bundle's seeds, expanded at the profile whose runs the bundle holds most of. ``results`` may be empty."""
    spec = chapter_spec(chapter, "quick", seeds=bundle.seeds() or None, start=root, **parameters)
    held = set(bundle.results()["run_id"])
    best, ids = "quick", []
    for profile in PROFILES:
        candidate = spec_run_ids(spec, profile)
        if sum(r in held for r in candidate) > sum(r in held for r in ids):
            best, ids = profile, candidate
    return ChapterRuns(chapter=chapter, profile=best, store=bundle, spec=spec, results=load_results(bundle, ids),
                       summary=None)


def evidence_runs(chapter: str, evidence: str | Path | None = None, root: str | Path | None = None,
                  **parameters) -> list[tuple[str, ChapterRuns]]:
    """(label, runs) of a chapter in each bundle a page shows (:func:`evidence_bundles`), labelled with its
    provenance (device, date, networks, seeds)."""
    return [(bundle.label(), bundle_runs(chapter, bundle, root, **parameters))
            for bundle in evidence_bundles(evidence, root)]
