"""A chapter's parameters cell and the -p values of gridbook book."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gridbook.book import parameters as book
from gridbook.config import PROFILES
from gridbook.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


CHAPTER_SOURCES = sorted((ROOT / "notebooks").glob("*.md"))


@pytest.mark.parametrize("path", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_chapter_is_a_myst_notebook_with_one_parameters_cell(path):
    header = yaml.safe_load(path.read_text().split("---")[1])
    assert header["jupytext"]["text_representation"]["format_name"] == "myst"
    defaults = book.notebook_parameters(path)  # raises unless exactly one parameters cell
    assert set(book.REQUIRED_PARAMETERS) <= set(defaults), f"{path.name} lacks {book.REQUIRED_PARAMETERS}"
    assert defaults["profile"] in PROFILES


def test_notebook_parameters_rejects_two_parameters_cells(tmp_path):
    cell = "```{code-cell} ipython3\n:tags: [parameters]\n\nprofile = 'quick'\n```\n\n"
    path = tmp_path / "double.md"
    path.write_text("# Double\n\n" + cell + cell)
    with pytest.raises(ValueError, match="exactly one cell tagged 'parameters', found 2"):
        book.notebook_parameters(path)


# ---- parameters ---------------------------------------------------------------------------------------------------
def test_param_values_are_parsed_as_yaml():
    assert book.parse_params([("sigmas", "[0.1, 0.11]"), ("n", "3"), ("target", "dos"), ("flag", "true"),
                              ("nothing", "null")]) == {"sigmas": [0.1, 0.11], "n": 3, "target": "dos", "flag": True,
                                                        "nothing": None}


@pytest.mark.parametrize(("pairs", "message"), [
    ([("sigmas", "[0.1,")], "not valid YAML"),
    ([("bad-name", "1")], "parameter name 'bad-name' is invalid"),
    ([("profile", "smoke")], "use --profile"),
    ([("x", "1"), ("x", "2")], "given twice"),
])
def test_bad_params_are_rejected(pairs, message):
    with pytest.raises(ConfigError, match=message):
        book.parse_params(pairs)
