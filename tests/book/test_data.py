"""A chapter's sweep spec with the notebook's overrides."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from gridbook.book import data as book

ROOT = Path(__file__).resolve().parents[2]


CHAPTER_SOURCES = sorted((ROOT / "notebooks").glob("*.md"))


# ---- end to end ---------------------------------------------------------------------------------------------------
def _book_copy(tmp_path: Path, extra_chapter: str | None = None) -> Path:
    """A minimal checkout: book/ (without build outputs) and notebooks/, optionally one more chapter in the toc."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("_build", "*.ipynb"))
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("*.ipynb"))
    if extra_chapter:
        toc = yaml.safe_load((root / "book" / "_toc.yml").read_text())
        toc["parts"][0]["chapters"].append({"file": f"chapters/{extra_chapter}"})
        (root / "book" / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    return root


def test_chapter_spec_applies_seed_and_parameter_overrides(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (tmp_path / "sweeps" / "chapters").mkdir(parents=True)
    spec = {"seeds": [0], "parameters": {"target": {"value": "dos"}},
            "blocks": [{"parameters": {"sigma": {"values": [0.1]}, "target": {"value": "dog"}}, "seeds": [3]}]}
    (tmp_path / "sweeps" / "chapters" / "demo.smoke.yaml").write_text(yaml.safe_dump(spec))
    data = book.chapter_spec("demo", "smoke", seeds=[1, 2], start=tmp_path, target=["gaussian"], sigma=None)
    assert data["seeds"] == [1, 2] and "seeds" not in data["blocks"][0]
    assert data["parameters"]["target"] == data["blocks"][0]["parameters"]["target"] == {"values": ["gaussian"]}
    assert data["blocks"][0]["parameters"]["sigma"] == {"values": [0.1]}
