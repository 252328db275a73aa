"""The executable book: run the chapter notebooks and build the HTML (the ``gridbook book`` command).

Pipeline, per chapter: ``notebooks/NAME.md`` (a MyST-markdown notebook) -> jupytext -> papermill with the chapter's
parameters (``profile``, ``store`` and any ``-p NAME VALUE``) -> ``book/chapters/NAME.ipynb``; then one
``jupyter-book build book/`` with ``execute_notebooks: "off"`` and warnings as errors, which re-reads only the pages
whose notebooks changed. The chapters and their order come from ``book/_toc.yml`` (entries ``chapters/NAME``).

Which chapters run: all chapters of the toc when no chapter is named; otherwise only the named ones. A toc chapter
that was never executed gets a stub page ("not built yet") so the book still builds; a later run executes it.
A chapter that fails stops everything with the chapter's name and the failing cell's error; its partly executed
notebook goes to ``book/_build/failed/``, and the pages built before stay as they were.

The profile box every chapter shows is in :mod:`gridbook.book.profile`; a chapter's runs in :mod:`gridbook.book.data`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from gridbook.book.bundles import evidence_bundles
from gridbook.book.data import find_root, sweep_spec
from gridbook.book.kernels import DEFAULT_KERNEL, chapter_kernel_manager, ensure_kernel, kernel_environment
from gridbook.book.parameters import (
    chapter_parameters,
    check_param,
    notebook_parameters,
    parameter_cells,
    read_chapter,
    rerun_text,
)
from gridbook.config import DEFAULT_PROFILE, PROFILES
from gridbook.errors import ChapterError, ConfigError, UserError, check_choice
from gridbook.runs.options import ExecutionOptions
from gridbook.runs.progress import clock
from gridbook.runs.store import STORE_ENV
from gridbook.runs.sweep import run_sweep

CHAPTER_PREFIX = "chapters/"  # toc entries of executed chapters: book/chapters/NAME.ipynb
MATHJAX_EXTENSION = "sphinx-mathjax-offline"  # pip package that ships MathJax 3.2.2 for offline pages

def rerun_hint(chapter: str, profile: str | None = None, root: str | Path | None = None):
    """The closing note of a chapter page (an IPython Markdown object): the exact command that rebuilds it with other
    parameter values, and its parameters (:func:`gridbook.book.parameters.rerun_text`)."""
    from IPython.display import Markdown

    return Markdown(rerun_text(chapter, find_root(root) / "notebooks" / f"{chapter}.md", profile))


def toc_chapters(root: str | Path | None = None) -> list[str]:
    """Names of the executed chapters listed in ``book/_toc.yml``, in reading order."""
    root = find_root(root)
    toc = yaml.safe_load((root / "book" / "_toc.yml").read_text())
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            entry = node.get("file")
            if isinstance(entry, str) and entry.startswith(CHAPTER_PREFIX):
                names.append(entry[len(CHAPTER_PREFIX):].removesuffix(".ipynb"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return names


# ---- running chapters ---------------------------------------------------------------------------------------------



def _stub_notebook(name: str, source: Path):
    import nbformat

    title = next((line.lstrip("# ").strip() for line in source.read_text().splitlines() if line.startswith("# ")),
                 name)
    text = (f"# {title}\n\n```{{note}}\nThis chapter has not been executed yet. Build it with\n"
            f"`gridbook book --chapter {name}`.\n```\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    nb.metadata["gridbook"] = {"stub": True}
    return nb


def is_executed(path: Path) -> bool:
    """Whether ``path`` is an executed chapter (not missing, not a stub)."""
    import nbformat

    if not path.is_file():
        return False
    return not nbformat.read(path, as_version=4).metadata.get("gridbook", {}).get("stub", False)


def execute_chapter(name: str, parameters: dict[str, Any], root: Path, kernel: str = DEFAULT_KERNEL) -> Path:
    """Execute ``notebooks/NAME.md`` with ``parameters`` into ``book/chapters/NAME.ipynb`` and return that path.
    On failure raises :class:`ChapterError`; the previous page stays and the failed notebook goes to
    ``book/_build/failed/NAME.ipynb``."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = root / "notebooks" / f"{name}.md"
    target = root / "book" / "chapters" / f"{name}.ipynb"
    work = root / "book" / "_build" / "executing" / f"{name}.ipynb"
    failed = root / "book" / "_build" / "failed" / f"{name}.ipynb"
    kernel_log = root / "book" / "_build" / "logs" / f"{name}.kernel.log"  # the kernel's own messages
    kernel_log.unlink(missing_ok=True)
    for path in (target, work, failed):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with kernel_environment():
            papermill.execute_notebook(read_chapter(source), str(work), parameters=parameters, kernel_name=kernel,
                                       language="python", progress_bar=False, cwd=str(root),
                                       kernel_manager_class=chapter_kernel_manager(kernel_log))
    except PapermillExecutionError as err:
        shutil.move(work, failed)
        first_line = next((line for line in err.source.splitlines() if line.strip()), "")[:80]
        raise ChapterError(f"chapter {name!r} failed in cell [{err.exec_count}] ({first_line}): {err.ename}: "
                           f"{err.evalue} (executed notebook with the traceback: {failed})") from None
    except Exception as err:  # kernel died, papermill itself failed...
        if work.exists():
            shutil.move(work, failed)
        raise ChapterError(f"chapter {name!r} failed: {type(err).__name__}: {err} (the kernel's log: {kernel_log})") \
            from err
    nb = nbformat.read(work, as_version=4)
    for cell in parameter_cells(nb):  # the injected cell right below shows the values used
        cell.metadata.setdefault("tags", []).append("remove-cell")
    nb.metadata["gridbook"] = {"stub": False, "parameters": parameters}
    nbformat.write(nb, target)
    work.unlink()
    return target


def build_html(root: Path, quiet: bool = True) -> Path:
    """``jupyter-book build book/`` (incremental, warnings are errors); returns the path of index.html."""
    import importlib.util

    if importlib.util.find_spec(MATHJAX_EXTENSION) is None:
        raise UserError(f"the book serves MathJax offline from the pip package {MATHJAX_EXTENSION!r}: "
                        f"pip install {MATHJAX_EXTENSION}")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(root / "book"), "-W", "-n",
               "--keep-going"]
    if not Path(command[0]).exists():
        command[:1] = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]
    if quiet:
        command.append("-q")
    with kernel_environment():
        done = subprocess.run(command, cwd=root, capture_output=quiet, text=True)
    if done.returncode != 0:
        detail = (done.stdout + done.stderr).strip()[-4000:] if quiet else "see the messages above"
        raise UserError(f"jupyter-book build failed (warnings count as errors):\n{detail}")
    return root / "book" / "_build" / "html" / "index.html"


def build_book(profile: str = DEFAULT_PROFILE, chapters: Sequence[str] | None = None,
               params: dict[str, Any] | None = None,
               store: str | Path | None = None, root: str | Path | None = None, kernel: str = DEFAULT_KERNEL,
               html_output: bool = True, log=print, options: ExecutionOptions | None = None,
               evidence: str | Path | None = None) -> Path:
    """Execute the chosen chapters (all of the toc when ``chapters`` is None) at ``profile`` with ``params`` and
    build the HTML; returns the path of ``index.html`` (without ``html_output``: the executed notebooks' folder).
    ``params`` go to the chapters whose parameters cell names
    them; a name no chosen chapter knows is an error. ``store`` defaults to ``$GRIDBOOK_STORE``, else ``runs/`` in
    the repository root. ``options``: where and how the chapters' networks are trained before any chapter executes
    (:class:`~gridbook.runs.options.ExecutionOptions`, as :func:`gridbook.runs.sweep.run_sweep` takes them). Ends
    with a table of the time each step took. ``evidence``: the bundle the chapters show beside their re-run (a
    directory, or "none"); None: every bundle committed under ``evidence/``."""
    check_choice("profile", profile, PROFILES)
    root = find_root(root)
    params = dict(params or {})
    available = toc_chapters(root)
    chosen = list(available if chapters is None else dict.fromkeys(chapters))
    for name in chosen:
        if name not in available:
            check_choice("chapter", name, available)
    sources = {name: root / "notebooks" / f"{name}.md" for name in available}
    for name, source in sources.items():
        if not source.is_file():
            raise FileNotFoundError(f"book/_toc.yml lists chapter {name!r} but {source} does not exist")
    defaults = {name: notebook_parameters(sources[name]) for name in chosen}
    for name in chosen:  # each value against the chapter's parameters cell, before anything runs
        for parameter in chapter_parameters(sources[name]):
            if parameter.name in params:
                check_param(parameter, params[parameter.name])
    unknown = [p for p in params if not any(p in d for d in defaults.values())]
    if unknown:
        known = sorted({p for d in defaults.values() for p in d} - {"profile", "store", "evidence"})
        raise ConfigError(f"parameter {unknown[0]!r} is not a parameter of chapter(s) {', '.join(chosen)}; "
                          f"allowed values: {', '.join(known)}")
    if evidence is not None:
        bundles = evidence_bundles(evidence, root)  # checked now: one line, before anything runs
        evidence = str(bundles[0].root.resolve()) if bundles else "none"
    store = store if store is not None else os.environ.get(STORE_ENV)  # as gridbook.runs.store does
    store_path = Path(store).expanduser().resolve() if store else root / "runs"
    kernel = ensure_kernel(kernel)
    for name in available:  # stubs keep links and numbering intact for chapters never executed
        target = root / "book" / "chapters" / f"{name}.ipynb"
        if name not in chosen and not target.is_file():
            import nbformat

            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(_stub_notebook(name, sources[name]), target)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    _train_ahead([n for n in chosen if not any(p in defaults[n] for p in params)], profile, store_path, root, log,
                 options)
    timings["training (all chapters' networks)"] = time.perf_counter() - start
    chapters_start = time.perf_counter()
    for number, name in enumerate(chosen, 1):
        values = {"profile": profile, "store": str(store_path),
                  **({"evidence": evidence} if evidence is not None and "evidence" in defaults[name] else {}),
                  **{k: v for k, v in params.items() if k in defaults[name]}}
        start = time.perf_counter()
        spent = time.perf_counter() - chapters_start
        left = f", about {clock(spent / (number - 1) * (len(chosen) - number + 1))} left" if number > 1 else ""
        log(f"gridbook book: executing {name} ({number}/{len(chosen)}{left}; "
            f"{', '.join(f'{k}={v}' for k, v in values.items())})")
        execute_chapter(name, values, root, kernel)
        timings[f"chapter {name}"] = time.perf_counter() - start
    index = root / "book" / "chapters"  # without HTML: where the executed notebooks are
    if html_output:
        start = time.perf_counter()
        index = build_html(root)
        timings["HTML (jupyter-book)"] = time.perf_counter() - start
    log(timing_table(timings))
    return index


def timing_table(timings: dict[str, float]) -> str:
    """The build's closing table: the time of each step (m:ss) and their total."""
    width = max(map(len, [*timings, "total"]))
    rows = [f"  {name:<{width}}  {clock(seconds):>8}" for name, seconds in timings.items()]
    return "\n".join(["gridbook book: time taken", *rows, f"  {'total':<{width}}  {clock(sum(timings.values())):>8}"])


def _train_ahead(chapters: Sequence[str], profile: str, store: Path, root: Path, log=print,
                 options: ExecutionOptions | None = None) -> None:
    """Train the runs of these chapters' sweep specs that the store lacks as one sweep before any chapter executes:
    runs shared between chapters train once, and runs of one shape share balanced batched jobs across the cores.
    (Chapters given their own parameters are left out: they train their own runs.) A run that fails here is
    retried by its chapter, whose error then names it. ``options``: where and how they train."""
    specs = [p for p in (sweep_spec(n, profile, root) for n in chapters) if p.is_file()]
    if specs:
        start = time.perf_counter()
        log(f"gridbook book: training ahead the networks of {len(specs)} chapters ({profile} profile)")
        summary = run_sweep([str(p) for p in specs], profile=profile, store=store,
                            log=lambda line: log(f"gridbook book: {line}"), options=options)
        log(f"gridbook book: {summary.total} runs of {len(specs)} chapters ready ({summary.done} trained now, "
            f"{summary.skipped} reused, {summary.failed} failed) in {time.perf_counter() - start:.1f} s")
