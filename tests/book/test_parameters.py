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


def test_chapter_parameters_read_defaults_comments_and_examples(tmp_path):
    path = tmp_path / "demo.md"
    header = (ROOT / "notebooks" / "intro.md").read_text().split("# Introduction")[0]  # a real chapter's front matter
    path.write_text(header + '# Demo\n\n```{code-cell} ipython3\n:tags: [parameters]\n\n'
                    'profile = "quick"  # smoke | quick | paper\n'
                    'store = "runs"  # run store\nseeds = None  # training seeds, e.g. [0, 1, 2]; None: the spec\'s\n'
                    'sigmas = None  # widths (m), e.g. [0.1, 0.11]\nsteps = 300  # steps of the demo\n'
                    'target = None  # a target, e.g. dos\n```\n')
    found = book.chapter_parameters(path)
    assert [(p.name, p.default, p.example) for p in found] == [
        ("profile", "quick", None), ("store", "runs", None), ("seeds", None, [0, 1, 2]), ("sigmas", None, [0.1, 0.11]),
        ("steps", 300, None), ("target", None, "dos")]
    assert found[4].comment == "steps of the demo"
    text = book.rerun_text("demo", path)
    assert 'gridbook book --chapter demo -p sigmas "[0.1, 0.11]"' in text  # the chapter's own before seeds
    assert "- `steps` (default `300`): steps of the demo" in text and "`store`" not in text.split("options):")[1]
    assert book.rerun_command("demo", found[2], profile="smoke") == 'gridbook book --chapter demo --profile smoke ' \
                                                                   '-p seeds "[0, 1, 2]"'


@pytest.mark.parametrize("path", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_every_chapter_closes_with_its_rerun_command(path):
    assert path.read_text().rstrip().endswith(f'book.rerun_hint("{path.stem}", profile)\n```')
    text = book.rerun_text(path.stem, path)
    command = text.split("```bash\n")[1].split("\n")[0]
    assert command.startswith(f"gridbook book --chapter {path.stem}")
    if " -p " in command:  # the example value parses back as the parameter's YAML value
        from gridbook.book.parameters import parse_param_value

        name, value = command.split(" -p ")[1].split(" ", 1)
        example = next(p.example for p in book.chapter_parameters(path) if p.name == name)
        assert parse_param_value(value.strip('"')) == example
