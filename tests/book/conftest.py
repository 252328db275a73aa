import sys
from pathlib import Path

# the bundle tests reuse the sweep tests' stand-in trainer (tests/runs/sweep_helpers.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runs"))
