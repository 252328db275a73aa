"""The profile box every chapter shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gridbook.book import profile as book
from gridbook.config import PROFILE_DEVIATIONS, PROFILES
from gridbook.errors import ConfigError

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


# ---- the profile box ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
def test_profile_box_names_profile_runs_and_every_deviation(profile):
    text = book.profile_box(profile, n_runs=7).data
    assert f"<strong>{profile}</strong> profile: 7 trained networks" in text
    for name, paper_value, value, _ in PROFILE_DEVIATIONS[profile]:
        assert f"<code>{name}</code></td><td>{paper_value}</td><td>{value}</td>" in text
    assert book.deviation_table(profile)["field"].tolist() == [d[0] for d in PROFILE_DEVIATIONS[profile]]


def test_profile_box_rejects_bad_input():
    assert "no trained networks" in book.profile_box_html("quick", 0)
    assert "1 trained network<" in book.profile_box_html("quick", 1)
    with pytest.raises(ConfigError, match="profile='fast' is invalid; allowed values: smoke, quick, paper"):
        book.profile_box("fast", 1)
    with pytest.raises(ConfigError, match="n_runs=-1 is invalid"):
        book.profile_box("quick", -1)
