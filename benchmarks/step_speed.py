"""Training speed at the quick shape: today's gridbook against the package at a base commit, side by side in one run.

One network-step = one network, one batch (quick profile: DoS, Ng 256, Np 256, batch 200, sequence 20). For each K
(networks trained together) and precision, worker processes time ``gridbook.train_networks`` with the package of
``git archive BASE gridbook`` and with today's, alternately, ``--repeats`` times each; the parent also measures the
matmul peak (``train_throughput.matmul_peak``: ``torch.mm`` of 2048 x 2048, float32 and bfloat16, on the same
threads) in between. The figures are medians.

The same workers also time the step's matrix products alone (``products_seconds``: the ``step_flops`` products at
their shapes and operand dtype, back to back): no rewrite of the rest of the step can go below that time, so
``base / products alone`` is the largest speed-up any rewrite can reach without changing the products themselves,
and ``step_flops / products alone`` is the share of the 2048 x 2048 peak that this step's shapes allow.

Each timing runs ``train_networks`` for ``--steps`` steps (history recorded only at the 10% milestones, as in a sweep)
and clocks from the end of its first step (``on_progress`` at step 1) to the end, so set-up (targets, code tables,
lookup tables) is left out; a package without ``on_progress`` (the base commit, whose set-up is cheap and steady) is
timed as the difference of runs of ``--steps`` and twice as many steps. (Until 2026-12-02 both were timed so; a code
table's build, ~0.3 s with variable page faults, does not cancel within 20 steps.) The clock is the worker's CPU time
by default (``--clock cpu``): the figure is per CPU-second, fair on a shared machine.

    python benchmarks/step_speed.py                       # K 1 and 8, bfloat16 and float32, 3 repeats (~10 min)
    python benchmarks/step_speed.py --networks 1 --precisions bfloat16 --repeats 1 --steps 10   # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


# ---- in a worker process -------------------------------------------------------------------------------------------
def worker(args: argparse.Namespace) -> None:
    """Print the seconds per batched step of ``args.networks`` quick networks with the gridbook on sys.path."""
    import torch

    from gridbook import profile_config, train_networks

    torch.set_num_threads(args.threads)
    clock = CLOCKS[args.clock]

    def seconds_per_step(n_steps: int) -> float:
        configs = [profile_config("quick", seed=s, precision=args.precision, n_steps=n_steps)
                   for s in range(args.networks)]
        marks: dict[str, float] = {}

        def mark(step: int, _: int) -> None:
            if step == 1:
                marks["first"] = clock()  # set-up and the first step are done

        train_networks(configs, device="cpu", progress=False, eval_every=n_steps, on_progress=mark)
        return (clock() - marks["first"]) / (n_steps - 1)

    def difference(n_steps: int) -> float:  # a package without on_progress (the base): set-up is cheap and steady
        def seconds(steps: int) -> float:
            configs = [profile_config("quick", seed=s, precision=args.precision, n_steps=steps)
                       for s in range(args.networks)]
            start = clock()
            train_networks(configs, device="cpu", progress=False, eval_every=steps)
            return clock() - start

        return (seconds(2 * n_steps) - seconds(n_steps)) / n_steps

    if args.products:
        print(json.dumps({"step_seconds": products_seconds(args.networks, args.precision, args.steps, clock)}))
        return
    timed = seconds_per_step if "on_progress" in inspect.signature(train_networks).parameters else difference
    timed(3)  # warm-up: allocator, kernels
    print(json.dumps({"step_seconds": timed(args.steps + 1) if timed is seconds_per_step else timed(args.steps)}))


def products_seconds(k: int, precision: str, n_steps: int, clock) -> float:
    """Seconds per batched step of the quick step's matrix products alone, at their shapes and operand dtype, with
    nothing between them: the floor no rewrite of the rest of the step can go below (``step_flops`` counts the same
    products). Forward: encoder, velocity input, T recurrent products, readout; backward: readout input and weight
    gradients, T - 1 recurrent state gradients, h0's gradient, the recurrent, encoder and input weight gradients."""
    import torch

    low = torch.bfloat16 if precision == "bfloat16" else torch.float32
    n_t, n_b, n_g, n_p = 20, 200, 256, 256  # the quick shape (sequence, batch, Ng, Np)
    rows = n_t * n_b

    def rand(*shape, dtype=low):
        return torch.randn(k, *shape).to(dtype)

    code, weight, state = rand(n_b, n_p), rand(n_g, n_g), rand(n_b, n_g)  # (K, B, Np), (K, Ng, Ng), (K, B, Ng)
    hidden, delta, out_grad = rand(rows, n_g), rand(rows, n_g), rand(rows, n_p)  # (K, T B, .)
    velocity, v_weight = rand(rows, 2, dtype=torch.float32), rand(2, n_g, dtype=torch.float32)  # inner size 2: f32
    decoder = rand(n_p, n_g)  # (K, Np, Ng)

    def step() -> None:
        torch.bmm(code, weight)  # h0 = code @ encoder
        torch.bmm(velocity, v_weight)  # drive
        for _ in range(n_t):
            torch.bmm(state, weight)  # recurrence
        torch.bmm(hidden, decoder.transpose(1, 2))  # readout
        torch.bmm(out_grad, decoder)  # dL/dhidden
        torch.bmm(out_grad.transpose(1, 2), hidden)  # dL/ddecoder
        for _ in range(n_t - 1):
            torch.bmm(state, weight.transpose(1, 2))  # state gradients
        torch.bmm(state, weight.transpose(1, 2))  # dL/dh0
        torch.bmm(hidden.transpose(1, 2), delta)  # dL/dU over all T B rows
        torch.bmm(code.transpose(1, 2), state)  # dL/dencoder
        torch.bmm(velocity.transpose(1, 2), delta.float())  # dL/dinput weight

    for _ in range(3):
        step()
    start = clock()
    for _ in range(n_steps):
        step()
    return (clock() - start) / n_steps


# ---- the parent ------------------------------------------------------------------------------------------------------
def base_tree(commit: str, root: Path) -> Path:
    """``git archive commit gridbook`` unpacked under ``root``; returns the directory to put on sys.path."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "gridbook"], check=True,
                             capture_output=True).stdout
    target = root / commit
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as handle:
        handle.write(archive)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(target, filter="data")
    return target


def time_version(path: Path, networks: int, precision: str, args: argparse.Namespace,
                 products: bool = False) -> float:
    env = {**os.environ, "PYTHONPATH": str(path), "OMP_NUM_THREADS": str(args.threads)}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--networks", str(networks),
               "--precisions", precision, "--steps", str(args.steps), "--threads", str(args.threads),
               "--clock", args.clock, *(["--products"] if products else [])]
    out = subprocess.run(command, env=env, cwd=tempfile.gettempdir(), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["step_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="5e7e2a2", help="the commit to compare with (default 5e7e2a2)")
    parser.add_argument("--networks", type=int, nargs="+", default=[1, 8], help="K values (default 1 8)")
    parser.add_argument("--precisions", nargs="+", default=["bfloat16", "float32"], choices=("bfloat16", "float32"))
    parser.add_argument("--repeats", type=int, default=3, help="timings per version and case (default 3)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps (default 40)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker (default 1)")
    parser.add_argument("--clock", choices=CLOCKS, default="cpu", help="CPU time (default) or wall time")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--products", action="store_true", help=argparse.SUPPRESS)  # worker: the products alone
    args = parser.parse_args()
    if args.worker:
        args.networks, args.precision = args.networks[0], args.precisions[0]
        worker(args)
        return

    sys.path.insert(0, str(REPO))
    import torch
    from train_throughput import matmul_peak  # the benchmarks' one matmul peak (this file's folder is on sys.path)

    from gridbook import profile_config
    from gridbook.nets.models import step_flops

    torch.set_num_threads(args.threads)
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16}

    flops = step_flops(profile_config("quick"))
    with tempfile.TemporaryDirectory() as tmp:
        versions = {args.base: base_tree(args.base, Path(tmp)), "today": REPO}
        cases = [(k, p) for p in args.precisions for k in args.networks]
        times: dict[tuple, list[float]] = {}
        peaks: dict[str, list[float]] = {"float32": [], "bfloat16": []}
        for repeat in range(args.repeats):
            for dtype in peaks:
                peaks[dtype].append(matmul_peak(3.0, dtype=dtypes[dtype], timer=CLOCKS[args.clock]))
            for k, precision in cases:
                for name, path in versions.items():
                    seconds = time_version(path, k, precision, args) / k  # per network-step
                    times.setdefault((k, precision, name), []).append(seconds)
                    print(f"repeat {repeat + 1}: K={k} {precision} {name}: {seconds * 1e3:.2f} ms per network-step",
                          file=sys.stderr, flush=True)
                seconds = time_version(REPO, k, precision, args, products=True) / k
                times.setdefault((k, precision, "products"), []).append(seconds)
    peak = {dtype: statistics.median(values) for dtype, values in peaks.items()}
    print(f"# quick-shape training step, {datetime.date.today()}, {os.cpu_count()} cores, {args.threads} thread(s), "
          f"{args.clock} clock, medians of {args.repeats}; {flops / 1e9:.2f} GFLOP per network-step; "
          f"matmul peak {peak['bfloat16']:.0f} GFLOP/s bf16, {peak['float32']:.0f} GFLOP/s float32")
    print(f"| K | precision | {args.base} ms | today ms | speed-up | today GFLOP/s | of that precision's matmul peak "
          f"| products alone ms | their share of the peak | largest speed-up ({args.base} / products alone) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k, precision in cases:
        old = statistics.median(times[(k, precision, args.base)])
        new = statistics.median(times[(k, precision, "today")])
        floor = statistics.median(times[(k, precision, "products")])
        rate = flops / new / 1e9
        print(f"| {k} | {precision} | {old * 1e3:.2f} | {new * 1e3:.2f} | {old / new:.2f}x | {rate:.0f} | "
              f"{rate / peak[precision]:.0%} | {floor * 1e3:.2f} | {flops / floor / 1e9 / peak[precision]:.0%} | "
              f"{old / floor:.2f}x |")


if __name__ == "__main__":
    main()
