"""Train the paper's contrasts under the quick profile and print one row per network.

Rows: DoS (sigma 0.12) vs Gaussian, Cartesian and true DoG targets, heterogeneous DoS place cells
(sigma ~ U(0.06, 0.18), s ~ U(1.5, 2.5)), and DoS at other widths (grid period vs sigma), over several seeds.
Networks that share ``RunConfig.shape_key()`` train together as one batched job.

    python benchmarks/quick_contrasts.py --seeds 0,1,2 --sigmas 0.10,0.14 --threads 2
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np
import torch
from grid_eval import GRID_THRESHOLD, SteppedJob

from gridbook.profiles import profile_config

HETEROGENEOUS = {"sigma_range": (0.06, 0.18), "surround_range": (1.5, 2.5)}  # the paper's ranges (PAPER.md s3)


def contrast_rows(seeds: list[int], sigmas: list[float], sigma_seeds: list[int]) -> list[tuple[str, dict]]:
    """(label, flat overrides of the quick profile) for every network of the table."""
    rows = []
    for label, over in [("dos", {"target": "dos"}), ("gaussian", {"target": "gaussian"}),
                        ("cartesian", {"target": "cartesian"}), ("dog (true)", {"target": "dog"}),
                        ("dos heterogeneous", {"target": "dos", **HETEROGENEOUS})]:
        rows += [(label, {**over, "seed": s}) for s in seeds]
    for sigma in sigmas:
        rows += [(f"dos sigma={sigma:.2f}", {"target": "dos", "sigma": sigma, "seed": s}) for s in sigma_seeds]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the main rows (comma-separated)")
    parser.add_argument("--sigmas", default="0.10,0.14", help="extra DoS widths in m for the period-vs-sigma rows")
    parser.add_argument("--sigma-seeds", default="0", help="seeds of the extra-width rows")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the quick profile's)")
    parser.add_argument("--targets", default=None, help="only rows whose label starts with one of these (comma)")
    parser.add_argument("--every", type=int, default=0, help="also print a progress evaluation every N steps")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    sigmas = [float(s) for s in args.sigmas.split(",")] if args.sigmas else []
    rows = contrast_rows(seeds, sigmas, [int(s) for s in args.sigma_seeds.split(",")])
    if args.targets:
        rows = [r for r in rows if r[0].startswith(tuple(args.targets.split(",")))]
    extra = {} if args.steps is None else {"n_steps": args.steps}
    configs = [profile_config("quick", **over, **extra) for _, over in rows]
    groups = defaultdict(list)
    for i, config in enumerate(configs):
        groups[config.shape_key()].append(i)
    print(f"{len(rows)} networks in {len(groups)} batched jobs, {configs[0].train.n_steps} steps each", flush=True)
    print(f"{'target':<20} {'seed':>4} {'error cm':>9} {'best score':>10} {'% > 0.8':>8} {'period m':>9}")
    for indices in groups.values():
        start = time.perf_counter()
        job = SteppedJob([configs[i] for i in indices])
        horizon = configs[indices[0]].train.n_steps
        while job.step < horizon:
            job.advance(min(args.every or horizon, horizon - job.step))
            if job.step < horizon:
                cells = [f"{rows[i][0]} s{rows[i][1]['seed']}: {s.error_cm:.1f} cm, best {s.best:.2f}, "
                         f"{100 * s.fraction:.1f}%" for i, s in zip(indices, job.evaluate(), strict=True)]
                print(f"# step {job.step} ({job.train_seconds:.0f} s): " + " | ".join(cells), flush=True)
        for i, summary in zip(indices, job.evaluate(with_periods=True), strict=True):
            period = f"{np.median(summary.periods_m):.2f}" if summary.periods_m.size else "-"
            print(f"{rows[i][0]:<20} {rows[i][1]['seed']:>4} {summary.error_cm:>9.1f} {summary.best:>10.2f} "
                  f"{100 * summary.fraction:>8.1f} {period:>9}", flush=True)
        print(f"# job of {len(indices)} networks: {job.train_seconds:.0f} s training, "
              f"{time.perf_counter() - start:.0f} s in all", flush=True)
    print(f"# grid unit: min-max score60 > {GRID_THRESHOLD}; period = median over grid units with six SAC peaks")


if __name__ == "__main__":
    main()
