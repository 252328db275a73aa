"""A chapter's parameters: its ``parameters`` cell (defaults) and the ``-p NAME VALUE`` values of ``gridbook book``."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gridbook.config import DEFAULT_PROFILE
from gridbook.errors import ConfigError

REQUIRED_PARAMETERS = ("profile", "store", "seeds")  # every chapter's parameters cell defines these
EXAMPLE = re.compile(r"e\.g\. (\[[^\]]*\]|\"[^\"]*\"|[-\w.]+)")  # a comment's example value, after "e.g."

__all__ = ["EXAMPLE", "REQUIRED_PARAMETERS", "ChapterParameter", "chapter_parameters", "check_param",
           "notebook_parameters", "parameter_cells", "parse_param_value", "parse_params", "read_chapter",
           "rerun_command", "rerun_text"]


def parse_param_value(text: str) -> Any:
    """A ``-p`` value parsed as YAML: ``"[0.1, 0.11]"`` -> list, ``"0.12"`` -> float, ``"dos"`` -> str."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"parameter value {text!r} is not valid YAML: {err}") from None


def parse_params(pairs: Iterable[Sequence[str]] | None) -> dict[str, Any]:
    """``[("sigmas", "[0.1, 0.11]"), ...]`` -> ``{"sigmas": [0.1, 0.11]}``. ``profile``/``store`` have own options."""
    params: dict[str, Any] = {}
    for name, value in pairs or ():
        if not name.isidentifier():
            raise ConfigError(f"parameter name {name!r} is invalid; allowed values: a Python identifier")
        if name in ("profile", "store"):
            raise ConfigError(f"parameter {name!r} has its own option: use --{name}")
        if name in params:
            raise ConfigError(f"parameter {name!r} is given twice")
        params[name] = parse_param_value(value)
    return params


def read_chapter(path: str | Path):
    """The notebook (nbformat node) of a MyST-markdown chapter, read through jupytext."""
    import jupytext

    return jupytext.read(str(path), fmt="md:myst")


def parameter_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """Default values of the chapter's ``parameters`` cell (literal assignments only; :func:`chapter_parameters`).
    Raises ValueError unless there is exactly one such cell."""
    return {parameter.name: parameter.default for parameter in chapter_parameters(path)}


@dataclass(frozen=True)
class ChapterParameter:
    """One assignment of a chapter's parameters cell: its ``name``, ``default`` value, the ``comment`` after it, and
    the ``example`` value that comment gives after "e.g." (None when it gives none)."""

    name: str
    default: Any
    comment: str
    example: Any = None


def chapter_parameters(path: str | Path) -> list[ChapterParameter]:
    """The parameters of a chapter (``notebooks/NAME.md``), in the order of its parameters cell."""
    cells = parameter_cells(read_chapter(path))
    if len(cells) != 1:
        raise ValueError(f"{path}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    source = cells[0].source
    comments = {token.start[0]: token.string.lstrip("# ").strip()
                for token in tokenize.generate_tokens(io.StringIO(source).readline) if token.type == tokenize.COMMENT}
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            comment = comments.get(node.lineno, "")
            example = EXAMPLE.search(comment)
            found.append(ChapterParameter(node.targets[0].id, ast.literal_eval(node.value), comment,
                                          _literal(example.group(1)) if example else None))
    return found


def _kind(value: Any) -> str:
    """The shape of a value in words: "a list of numbers", "a number", "true or false", "text"..."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        inner = {_kind(v) for v in value}
        return f"a list of {inner.pop().removeprefix('a ').removesuffix('text') or 'texts'}s" if len(inner) == 1 \
            else "a list"
    return type(value).__name__


def check_param(parameter: ChapterParameter, value: Any) -> None:
    """A ``-p`` value against the parameter's default and example, before any chapter runs: None (the default) or a
    value shaped like the example (or like a non-None default). One line naming the parameter otherwise."""
    like = parameter.example if parameter.example is not None else parameter.default
    if value is None or like is None:
        return
    ok = _kind(value) == _kind(like) or (_kind(like) == "a number" and isinstance(value, (int, float))
                                         and not isinstance(value, bool))
    if isinstance(like, (list, tuple)) and isinstance(value, (list, tuple)) and not value:
        ok = True
    if not ok:
        example = f", e.g. {parameter.example!r}" if parameter.example is not None else ""
        raise ConfigError(f"parameter {parameter.name}={value!r} is invalid; allowed values: {_kind(like)}{example} "
                          "(or null for the default)")


def _literal(text: str) -> Any:
    """A Python literal, or the text itself when it is a bare word (``e.g. dos``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def rerun_command(chapter: str, parameter: ChapterParameter, profile: str | None = None) -> str:
    """The ``gridbook book`` command that rebuilds ``chapter`` with ``parameter`` set to its example value."""
    value = yaml.safe_dump(parameter.example, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()
    quoted = f'"{value}"' if re.search(r"[\s\[\]{}:,*]", value) else value
    profile_option = f" --profile {profile}" if profile and profile != DEFAULT_PROFILE else ""
    return f"gridbook book --chapter {chapter}{profile_option} -p {parameter.name} {quoted}"


def rerun_text(chapter: str, path: str | Path, profile: str | None = None) -> str:
    """Markdown that closes a chapter: the command that rebuilds it with other values (from the first parameter whose
    comment gives an example, the chapter's own before ``seeds``), and every parameter with its default and meaning."""
    parameters = [p for p in chapter_parameters(path) if p.name not in ("profile", "store")]
    examples = sorted((p for p in parameters if p.example is not None), key=lambda p: p.name == "seeds")
    lines = ["**Re-running this chapter.** Rebuild this page with other values of its parameters, e.g.", "",
             "```bash", rerun_command(chapter, examples[0], profile) if examples else
             f"gridbook book --chapter {chapter}", "```", "",
             "Its parameters (`-p NAME VALUE`, the value read as YAML; `--profile` and `--store` have their own "
             "options):", ""]
    lines += [f"- `{p.name}` (default `{p.default!r}`): {p.comment}" for p in parameters]
    return "\n".join(lines)
