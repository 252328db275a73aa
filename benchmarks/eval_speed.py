"""Evaluation speed of one quick network: streamed 44 x 44 maps, the shuffle null, and lookup decoding.

For a quick-profile network (DoS, Ng 256, Np 256, bf16; trained for ``--steps`` steps: the cost does not depend on
the weights), on one thread with the CPU clock:

1. ``evaluate_ratemaps`` over ``--batches`` evaluation batches (200 x 4,000 positions) into 44 x 44 maps, then
   ``analyse_ratemaps`` (scores, periods, summary); the maps' memory against the activations' (N x U float32); the
   evaluation includes the decoders' floors and the fine decoder's error on the first 10 batches;
2. the same with ``--shuffles`` circular shifts (binned in the same pass, then scored): the null's extra cost, for
   every unit (the issue's measure) and for the quick profile's ``null_units`` random units;
3. lookup decoding (``PlaceCellTarget.decode_lookup``, used for the true DoG and multi-field codes) of 4,000 outputs
   of a quick true-DoG target (noisy copies of its exact code), and the fine decoder (``decode_correlation``, the
   screened search of ``gridbook.task.lookup``) of 4,000 noisy DoS outputs against the full product.

    python benchmarks/eval_speed.py                          # the issue's sizes (~2 min)
    python benchmarks/eval_speed.py --batches 20 --shuffles 10   # a quick look
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import resource
import time

import torch

from gridbook import analyse_ratemaps, evaluate_ratemaps, profile_config, train_networks
from gridbook.nets.devices import cpu_speedups
from gridbook.nets.models import network_generator
from gridbook.task.lookup import full_table_rows
from gridbook.task.targets import make_target

clock = time.process_time


def timed(function, *args, **kwargs):
    start = clock()
    out = function(*args, **kwargs)
    return out, clock() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="evaluation batches (default 200)")
    parser.add_argument("--bins", type=int, default=44, help="bins per side (default 44)")
    parser.add_argument("--shuffles", type=int, default=100, help="circular shifts of the null (default 100)")
    parser.add_argument("--steps", type=int, default=20, help="training steps before evaluating (default 20)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = profile_config("quick", n_steps=args.steps, n_bins=args.bins, eval_batches=args.batches,
                            n_shuffles=min(args.shuffles, args.batches - 1), null_units=0)
    result = train_networks([config], device="cpu", progress=False)
    n_units, samples = config.model.n_hidden, args.batches * config.task.seq_len * config.task.batch_size
    print(f"# evaluation of one quick network, {datetime.date.today()}, {os.cpu_count()} cores, {args.threads} "
          f"thread(s), CPU clock; {args.batches} batches = {samples:,} positions, {args.bins} x {args.bins} bins")

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux reports KiB)
    (plain,), evaluation = timed(evaluate_ratemaps, result, n_shuffles=0)  # the maps alone (quick has a null)
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    _, first = timed(analyse_ratemaps, plain["ratemaps"])  # builds the scorer's operators for this map size, once
    analysis, scoring = timed(analyse_ratemaps, plain["ratemaps"])
    map_bytes = args.bins**2 * n_units * 8
    print(f"| streamed maps: evaluation + binning | {evaluation:.2f} s |")
    print(f"| scores, periods, summary of {n_units} maps | {scoring:.2f} s ({first:.2f} s at a process's first "
          "map size: the scorer's operators) |")
    print(f"| maps, total (goal: at most 5 s) | {evaluation + scoring:.2f} s |")
    print(f"| memory: float64 map sums {map_bytes / 2**20:.1f} MiB, against the activations' "
          f"{samples * n_units * 4 / 2**20:.0f} MiB held before; the process's peak memory grew by {rss_growth:.0f} "
          "MiB during the evaluation |")

    (shuffled,), with_null = timed(evaluate_ratemaps, result, n_shuffles=args.shuffles)
    null = shuffled["null"]
    extra = with_null - evaluation
    print(f"| null: {args.shuffles} shifts x {n_units} units = {null.scores.size:,} maps, binned and scored | "
          f"{extra:.2f} s extra (goal: at most 20 s) |")
    print(f"| null's {99}th percentile | {null.percentile():.3f} (best real unit "
          f"{analysis.summary['best_score60_min_max']:.3f}) |")
    quick_units = profile_config("quick").analysis.null_units
    subset = dataclasses.replace(result, configs=[config.replace(null_units=quick_units)])
    (some,), with_some = timed(evaluate_ratemaps, subset, n_shuffles=args.shuffles)
    print(f"| null of the quick profile: {args.shuffles} shifts x {quick_units} random units = "
          f"{some['null'].scores.size:,} maps | {with_some - evaluation:.2f} s extra; 99th percentile "
          f"{some['null'].percentile():.3f} |")

    dog = profile_config("quick", target="dog")
    target = make_target(dog.target, dog.task, network_generator(0, "target"))
    generator = torch.Generator().manual_seed(0)
    positions = (torch.rand(4000, 2, generator=generator) - 0.5) * 2.2  # m
    outputs = target.ideal_output(positions) + 0.3 * torch.randn(4000, target.n_outputs, generator=generator)
    with cpu_speedups(torch.device("cpu")):
        target.decode_lookup(outputs[:10])  # builds the table
        _, lookup = timed(target.decode_lookup, outputs)
        _, codes = target.lookup_table()
        _, lookup_full = timed(full_table_rows, torch.softmax(outputs, -1), codes, 2.0, codes.square().sum(-1))
    print(f"| lookup decoding of 4,000 true-DoG outputs | {lookup:.3f} s screened, {lookup_full:.3f} s by the full "
          "product (goal: at most 0.05 s) |")

    # the fine decoder of every place-cell profile: the best-correlated code, screened, against the full product
    dos = make_target(config.target, config.task, network_generator(0, "target"))
    _, templates = dos.correlation_table()
    noisy = dos.encode(positions).log() + 0.5 * torch.randn(4000, dos.n_outputs, generator=generator)
    with cpu_speedups(torch.device("cpu")):
        _, screened = timed(dos.decode_correlation, noisy)
        _, full = timed(full_table_rows, torch.softmax(noisy, -1), templates)
    print(f"| correlation decoding of 4,000 noisy DoS outputs | {screened:.3f} s screened, {full:.3f} s by the full "
          f"product ({full / screened:.1f}x) |")


if __name__ == "__main__":
    main()
