"""The training path runs where only torch and the scientific stack are (a lent GPU's python3): with dask,
distributed, papermill, jupytext, matplotlib and the book layer blocked, a smoke sweep trains, evaluates and stores."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = ("dask", "distributed", "papermill", "jupytext", "matplotlib", "gridbook.book", "jupyter_book", "nbformat")

SCRIPT = textwrap.dedent("""
    import sys, importlib.abc

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in {blocked!r}):
                raise ImportError(f"blocked for this test: {{name}}")

    sys.meta_path.insert(0, Block())
    from gridbook.runs.sweep import run_sweep
    from gridbook.runs.load import load_results
    spec = {{"profile": "smoke", "parameters": {{"target": {{"values": ["dos", "cartesian"]}},
                                                "streams": {{"value": "counter"}}}}, "seeds": [0]}}
    summary = run_sweep(spec, store=sys.argv[1], workers=1, progress=False)
    assert (summary.done, summary.failed) == (2, 0), summary
    assert len(load_results(sys.argv[1])) == 2
    import gridbook
    assert gridbook.profile_config("smoke").model.n_hidden == 32
    print("ok", sorted(m for m in sys.modules if m.split(".")[0] in ("matplotlib", "dask", "papermill")))
""")


def test_a_smoke_sweep_runs_with_the_book_and_cluster_packages_blocked(tmp_path):
    script = SCRIPT.format(blocked=BLOCKED)
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "runs")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok []"


def loaded_after(module: str, watched: set[str]) -> str:
    """(the packages of ``watched`` that importing ``module`` loads, whether it loads the book layer), in a fresh
    interpreter."""
    code = (f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(watched)!r})), "
            "'gridbook.book' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_importing_the_networks_loads_no_pandas_or_book():
    assert loaded_after("gridbook.nets.trainer", {"pandas", "matplotlib", "dask", "scipy"}) == "[] False"


def test_the_command_line_starts_without_torch_or_the_book():
    assert loaded_after("gridbook.cli.main", {"torch", "pandas", "matplotlib", "papermill"}) == "[] False"
    version = subprocess.run([sys.executable, "-m", "gridbook", "--version"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert version.stdout.startswith("gridbook ") and version.returncode == 0
