"""The book pipeline (gridbook.book.build) and the book configuration."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from gridbook.book import build as book
from gridbook.errors import ConfigError
from gridbook.runs.options import ExecutionOptions
from gridbook.runs.spec import expand_spec

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


# ---- configuration ------------------------------------------------------------------------------------------------
def test_jupytext_pairs_ipynb_with_myst_markdown():
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    path = find_jupytext_configuration_file(str(ROOT / "notebooks"))
    assert Path(path) == ROOT / "jupytext.toml"
    config = load_jupytext_configuration_file(path)
    assert config.default_formats(str(ROOT / "notebooks" / "x.ipynb")) == "ipynb,md:myst"


def test_toc_lists_exactly_the_chapter_notebooks():
    assert book.toc_chapters(ROOT)[:2] == ["intro", "methods"]
    assert sorted(book.toc_chapters(ROOT)) == sorted(p.stem for p in CHAPTER_SOURCES)


def test_book_config_never_executes_and_serves_mathjax_locally():
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert book.MATHJAX_EXTENSION in config["sphinx"]["extra_extensions"]
    assert "://" not in config["sphinx"]["config"]["mathjax_path"]
    assert config["bibtex_bibfiles"] == ["references.bib"]


def test_every_citation_in_the_book_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), re.M))
    texts = [p.read_text() for p in [*CHAPTER_SOURCES, ROOT / "book" / "index.md"]]
    cited = {k.strip() for t in texts for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", t) for k in group.split(",")}
    assert cited, "the book cites nothing"
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def test_unknown_chapter_and_parameter_are_rejected(tmp_path):
    root = _book_copy(tmp_path)
    with pytest.raises(ConfigError, match="chapter='nope' is invalid; allowed values: intro, methods"):
        book.build_book("smoke", chapters=["nope"], root=root)
    with pytest.raises(ConfigError, match="parameter 'sigmas' is not a parameter of chapter"):
        book.build_book("smoke", chapters=["intro"], params={"sigmas": [0.1]}, root=root)


def test_a_parameter_of_the_wrong_shape_is_refused_before_anything_runs(tmp_path):
    root = _book_copy(tmp_path)
    with pytest.raises(ConfigError, match=r"^parameter sigmas='abc' is invalid; allowed values: a list of numbers"):
        book.build_book("smoke", chapters=["sensitivity"], params={"sigmas": "abc"}, root=root, store=tmp_path / "r")
    with pytest.raises(ConfigError, match=r"^parameter seeds='abc' is invalid"):
        book.build_book("smoke", chapters=["sensitivity"], params={"seeds": "abc"}, root=root, store=tmp_path / "r")
    assert not (tmp_path / "r").exists()  # nothing trained


@pytest.mark.slow
def test_build_intro_at_smoke_profile_then_a_failing_chapter_keeps_the_pages(tmp_path):
    root = _book_copy(tmp_path, extra_chapter="broken")
    (root / "notebooks" / "broken.md").write_text(
        "# Broken\n\n```{code-cell} ipython3\n:tags: [parameters]\n\nprofile = 'quick'\nstore = 'runs'\nseeds = [0]\n"
        "```\n\n```{code-cell} ipython3\nraise ValueError(f'boom at {profile}')\n```\n")
    index = book.build_book("smoke", chapters=["intro"], params={"seeds": [4]}, root=root, log=lambda _: None)

    assert index == root / "book" / "_build" / "html" / "index.html" and index.is_file()
    intro = nbformat.read(root / "book" / "chapters" / "intro.ipynb", as_version=4)
    assert intro.metadata["gridbook"]["parameters"]["seeds"] == [4]
    page = (root / "book" / "_build" / "html" / "chapters" / "intro.html").read_text()
    assert "<strong>smoke</strong> profile" in page and "1. </span>Introduction" in page
    assert "not been executed yet" in (root / "book" / "_build" / "html" / "chapters" / "methods.html").read_text()
    assert (root / "book" / "_build" / "html" / "_static" / "mathjax" / "tex-chtml.js").is_file()

    failure = r"chapter 'broken' failed in cell \[3\] \(raise ValueError.*\): ValueError: boom at smoke"
    with pytest.raises(book.ChapterError, match=failure):
        book.build_book("smoke", chapters=["broken"], root=root, log=lambda _: None)
    assert (root / "book" / "_build" / "failed" / "broken.ipynb").is_file()
    assert book.is_executed(root / "book" / "chapters" / "intro.ipynb")
    assert not book.is_executed(root / "book" / "chapters" / "broken.ipynb")  # still the stub


def test_train_ahead_trains_each_shared_run_once(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "_toc.yml").write_text("format: jb-book\nroot: index\n")  # a repository root
    chapters = tmp_path / "sweeps" / "chapters"
    chapters.mkdir(parents=True)
    (chapters / "one.smoke.yaml").write_text("profile: smoke\nparameters:\n  target: {values: [dos, cartesian]}\n")
    (chapters / "two.smoke.yaml").write_text("profile: smoke\nparameters:\n  target: {value: dos}\n")
    lines = []
    book._train_ahead(["one", "two", "three"], "smoke", tmp_path / "runs", tmp_path, log=lines.append)
    assert re.match(r"gridbook book: 2 runs of 2 chapters ready \(2 trained now, 0 reused, 0 failed\)", lines[-1])
    assert len(list((tmp_path / "runs").glob("*/DONE"))) == 2
    book._train_ahead(["two"], "smoke", tmp_path / "runs", tmp_path, log=lines.append)
    assert "(0 trained now, 1 reused, 0 failed)" in lines[-1]


@pytest.mark.slow
def test_the_book_trains_ahead_on_a_dask_cluster_and_reports_its_times(tmp_path):
    """`gridbook book --executor dask --workers 2`: the train-ahead sweep runs on a Dask LocalCluster of 2 workers,
    the plan comes first, and the build ends with the table of times."""
    root = _book_copy(tmp_path)
    shutil.copytree(ROOT / "sweeps", root / "sweeps")
    lines = []
    book.build_book(profile="smoke", chapters=["task_success"], store=tmp_path / "runs", root=root,
                    html_output=False, log=lines.append,
                    options=ExecutionOptions(executor="dask", workers=2, progress=False))
    ready = next(line for line in lines if "runs of 1 chapters ready" in line)
    n_runs = len(expand_spec(root / "sweeps" / "chapters" / "task_success.smoke.yaml"))  # ahead; the chapter adds
    assert f"gridbook book: {n_runs} runs of 1 chapters ready ({n_runs} trained now" in ready  # its smoke search
    assert lines[0] == "gridbook book: training ahead the networks of 1 chapters (smoke profile)"
    table = lines[-1].splitlines()
    assert table[0] == "gridbook book: time taken" and table[-1].split()[0] == "total"
    assert [row.split()[0] for row in table[1:-1]] == ["training", "chapter"]


def test_book_command_takes_the_sweep_execution_options(capsys):
    from gridbook.cli.main import main

    assert main(["book", "--executor", "slurm"]) == 2
    assert "executor='slurm' is invalid; allowed values: local, dask" in capsys.readouterr().err
    assert main(["book", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--scheduler needs --executor dask" in capsys.readouterr().err
