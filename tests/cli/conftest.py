import sys
from pathlib import Path

# the command tests reuse the sweep tests' stand-in trainers and spec files (tests/runs/sweep_helpers.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runs"))
