"""The package's structure, from its source: what import-linter's layer contracts (pyproject.toml, run by
`lint-imports` in `make test`) do not check. No private name is imported across modules, no import cycle (function
level imports included), modules stay under the house limit, and the chapters call only gridbook's public API in
short cells."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import gridbook

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gridbook"
MAX_MODULE_LINES = 400
MAX_CELL_LINES = 12
CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def gridbook_imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken or None, line) for every gridbook import of a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.startswith("gridbook")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("gridbook"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.append((submodule, None, node.lineno) if submodule in MODULES
                             else (node.module, alias.name, node.lineno))
    return found


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        edges = {target for target, _, _ in gridbook_imports(path) if target in MODULES and target != name}
        if path.name == "__init__.py":  # a package re-exporting its own children is not a cycle
            edges = {e for e in edges if not e.startswith(name + ".")} if name != "gridbook" else set()
        graph[name] = {e for e in edges if not name.startswith(e + ".")}  # importing a parent package initialises it
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_private_name_is_imported_across_modules():
    offences = [f"{name} line {line} takes {taken} from {source}"
                for name, path in MODULES.items() for source, taken, line in gridbook_imports(path)
                if taken and taken.startswith("_") and not taken.startswith("__") and source != name]
    assert offences == []


def test_the_private_name_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from gridbook.task.targets import _uniform\n")
    assert gridbook_imports(bad) == [("gridbook.task.targets", "_uniform", 2)]


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_check_can_fail():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_under_the_house_limit(name):
    assert len(MODULES[name].read_text().splitlines()) <= MAX_MODULE_LINES


# ---- the chapters ------------------------------------------------------------------------------------------------
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))


def code_cells(path: Path) -> list[str]:
    return [m.group(1) for m in CODE_CELL.finditer(path.read_text())]


def cell_source(cell: str) -> str:
    return "\n".join(line for line in cell.splitlines() if not line.startswith(":"))


def chapter_imports(source: str) -> list[tuple[str, str | None]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(node.module or "", a.name) for a in node.names]
    return found


def public_api_offences(source: str) -> list[str]:
    """Imports of a chapter cell that are not names of gridbook.__all__, or that draw without gridbook.plotting."""
    offences = []
    for module, name in chapter_imports(source):
        if module.startswith("gridbook") and (module != "gridbook" or name not in gridbook.__all__):
            offences.append(f"{module}.{name}" if name else module)
        if module.split(".")[0] == "matplotlib":
            offences.append(module)
    return offences


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_import_only_the_public_api_and_draw_through_plotting(path):
    offences = [o for cell in code_cells(path) for o in public_api_offences(cell_source(cell))]
    assert offences == []
    assert not any(re.search(r"\.imshow\(|plt\.", cell) for cell in code_cells(path))


def test_the_public_api_check_can_fail():
    assert public_api_offences("from gridbook.runs.load import load_results\nimport matplotlib.pyplot as plt\n"
                               "from gridbook import book, _private") == ["gridbook.runs.load.load_results",
                                                                          "matplotlib.pyplot", "gridbook._private"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_code_cells_are_short(path):
    long = []
    for cell in code_cells(path):
        if ":tags: [parameters]" in cell:
            continue
        lines = [line for line in cell.splitlines() if line.strip() and not line.strip().startswith((":", "#"))]
        if len(lines) > MAX_CELL_LINES:
            long.append(lines[0])
    assert long == []
