"""Wall-clock time until a DoS network first meets goal (1) of issue 4, under the quick profile and under the paper's
settings at the same size.

Goal (1): decoding error < 10 cm AND at least 5% of hidden units with min-max grid score > 0.8 (20 x 20 rate maps of
the quick profile's evaluation). K networks (seeds) train together as one batched job; per-network time is the job's
training time divided by K. Evaluation time is not counted (it is printed separately). Training runs for the profile's
own ``n_steps`` horizon (its learning-rate schedule depends on it), evaluated every N steps, and stops early once
every network of the job has met the goal, or when the training time exceeds T.

    python benchmarks/time_to_grid.py --seeds 0,1,2 --k 3 --every 500 --max-seconds 1200 --threads 2
"""

from __future__ import annotations

import argparse
import time

import torch
from grid_eval import SteppedJob

from gridbook.config import RunConfig
from gridbook.profiles import profile_config

# "paper" = the paper's settings (lr 1e-4 constant, input and encoder scales 1, ...) at the quick profile's size and
# evaluation, so that only the recipe differs.
SAME_SIZE_FIELDS = ("n_hidden", "n_place_cells", "n_bins", "eval_batches")


def recipe_configs(recipe: str, seeds: list[int], n_steps: int | None) -> list[RunConfig]:
    quick = profile_config("quick")
    steps = {"n_steps": n_steps} if n_steps else {}
    if recipe == "quick":
        return [profile_config("quick", seed=s, **steps) for s in seeds]
    if recipe == "paper":
        size = {name: quick.to_flat()[name] for name in SAME_SIZE_FIELDS}
        return [RunConfig().replace(**size, seed=s, n_steps=n_steps or quick.train.n_steps) for s in seeds]
    raise ValueError(f"recipe={recipe!r} is invalid; allowed values: quick, paper")


def time_to_goal(configs: list[RunConfig], every: int, max_seconds: float) -> None:
    job = SteppedJob(configs)
    k = len(configs)
    met: dict[int, tuple[int, float]] = {}
    eval_seconds = 0.0
    horizon = configs[0].train.n_steps
    while job.step < horizon and job.train_seconds < max_seconds and len(met) < k:
        job.advance(min(every, horizon - job.step))
        start = time.perf_counter()
        summaries = job.evaluate()
        eval_seconds += time.perf_counter() - start
        cells = []
        for i, summary in enumerate(summaries):
            if summary.goal_met and i not in met:
                met[i] = (job.step, job.train_seconds / k)
            cells.append(f"seed {configs[i].train.seed}: {summary.error_cm:5.1f} cm, best {summary.best:4.2f}, "
                         f"{100 * summary.fraction:4.1f}% > 0.8")
        print(f"  step {job.step:6d}  train {job.train_seconds:7.0f} s ({job.train_seconds / k:6.0f} s/network) | "
              + " | ".join(cells), flush=True)
    for i, config in enumerate(configs):
        if i in met:
            step, seconds = met[i]
            print(f"  seed {config.train.seed}: goal met at step {step}, {seconds:.0f} s per network "
                  f"({seconds * k:.0f} s for the job of {k})")
        else:
            print(f"  seed {config.train.seed}: not met within {job.train_seconds / k:.0f} s per network "
                  f"({job.step} steps)")
    print(f"  ({eval_seconds:.0f} s of evaluation not counted)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-seconds", "-T", type=float, default=900.0, help="training-time limit per job (s)")
    parser.add_argument("--every", "-N", type=int, default=500, help="evaluate every N steps")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--k", type=int, default=3, help="networks trained together per job")
    parser.add_argument("--recipes", default="quick,paper", help="comma-separated: quick, paper")
    parser.add_argument("--steps", type=int, default=None, help="training horizon (default: the quick profile's)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    for recipe in args.recipes.split(","):
        for start in range(0, len(seeds), args.k):
            group = seeds[start : start + args.k]
            configs = recipe_configs(recipe, group, args.steps)
            print(f"{recipe}: seeds {group} (K={len(group)}), horizon {configs[0].train.n_steps} steps, "
                  f"threads {torch.get_num_threads()}", flush=True)
            time_to_goal(configs, args.every, args.max_seconds)


if __name__ == "__main__":
    main()
