"""A chapter's parameters: its ``parameters`` cell (defaults) and the ``-p NAME VALUE`` values of ``gridbook book``."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from gridbook.errors import ConfigError

REQUIRED_PARAMETERS = ("profile", "store", "seeds")  # every chapter's parameters cell defines these

__all__ = ["REQUIRED_PARAMETERS", "notebook_parameters", "parameter_cells",
           "parse_param_value", "parse_params", "read_chapter"]


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
    """Default values of the chapter's ``parameters`` cell (literal assignments only). Raises ValueError unless
    there is exactly one such cell."""
    cells = parameter_cells(read_chapter(path))
    if len(cells) != 1:
        raise ValueError(f"{path}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    defaults: dict[str, Any] = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    defaults[target.id] = ast.literal_eval(node.value)
    return defaults
