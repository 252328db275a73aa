"""Grid-score throughput: batched scorer (gridbook.analysis.scores.grid_scores) against the per-unit reference.

Scores N units of n x n maps (default 1024 units of 44 x 44, the paper's bins) with the batched scorer, and a subset
(default 32 units) with the slow per-unit reference in tests/analysis/reference_scores.py (numpy per-lag SAC, one
scipy.ndimage.rotate per angle), whose time is extrapolated per unit. Checks that both agree on the subset and prints
units per second and the speed-up. The maps mix hexagonal lattices, smoothed noise and maps with unvisited bins.

    python benchmarks/score_throughput.py [--units 1024] [--bins 44] [--reference-units 32] [--threads 1]

The first batched call builds the rotation operators for this map size (cached afterwards); it is timed separately.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "analysis"))
from reference_scores import reference_scores  # noqa: E402

from gridbook.analysis.scores import grid_scores  # noqa: E402


def make_maps(units: int, n: int, seed: int = 0) -> np.ndarray:
    """(units, n, n): a third hexagonal lattices, a third smoothed noise, a third lattices with unvisited bins."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    maps = np.empty((units, n, n))
    for u in range(units):
        kind = u % 3
        if kind == 1:
            maps[u] = ndi.gaussian_filter(rng.normal(size=(n, n)), rng.uniform(0.5, 3))
            continue
        period, orientation = rng.uniform(5, n / 2), rng.uniform(0, 60)
        k, x0, y0 = 4 * np.pi / (np.sqrt(3) * period), *rng.uniform(0, n, 2)
        waves = np.radians(orientation + 30 + 60 * np.arange(3))
        field = sum(np.cos(k * (np.cos(w) * (xx - x0) + np.sin(w) * (yy - y0))) for w in waves)
        maps[u] = np.maximum(field, 0) + 0.3 * rng.normal(size=(n, n))
        if kind == 2:
            maps[u][rng.random((n, n)) < 0.1] = np.nan
    return maps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1024)
    parser.add_argument("--bins", type=int, default=44)
    parser.add_argument("--reference-units", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the batched scorer")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    maps = make_maps(args.units, args.bins)

    start = time.perf_counter()
    grid_scores(maps[:2], device=args.device)  # builds and caches the operators for this size
    build_s = time.perf_counter() - start
    batched_s = []
    for _ in range(3):
        start = time.perf_counter()
        scores = grid_scores(maps, device=args.device)
        if args.device != "cpu":
            torch.cuda.synchronize()
        batched_s.append(time.perf_counter() - start)
    batched_s = min(batched_s)

    subset = maps[: args.reference_units]
    start = time.perf_counter()
    reference = [reference_scores(m) for m in subset]
    reference_per_unit = (time.perf_counter() - start) / len(subset)
    worst = max(abs(r["score60_min_max"] - s) for r, s in zip(reference, scores.score60_min_max, strict=False))

    batched_rate, reference_rate = args.units / batched_s, 1 / reference_per_unit
    print(f"machine: {platform.processor() or platform.machine()}, torch threads {args.threads}, device {args.device}")
    print(f"maps: {args.units} units of {args.bins} x {args.bins} bins")
    print(f"operator build (first call, cached after): {build_s:.2f} s")
    print(f"batched:   {batched_s:.2f} s for {args.units} units = {batched_rate:,.0f} units/s (best of 3)")
    print(f"reference: {reference_per_unit * 1e3:.0f} ms per unit over {len(subset)} units "
          f"= {reference_rate:.2f} units/s")
    print(f"speed-up: {batched_rate / reference_rate:.0f}x; "
          f"max |score60_min_max difference| on the subset: {worst:.1e}")
    print(f"| {args.units} x {args.bins}^2 | {batched_rate:,.0f} | {reference_rate:.2f} | "
          f"{batched_rate / reference_rate:.0f}x | {worst:.0e} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
