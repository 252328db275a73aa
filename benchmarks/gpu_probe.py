"""The GPU path as it stands, measured in one short run on a lent GPU (the loan issue's step 2).

Run on the device machine with its own ``python3`` (torch 2.11, no dask or jupyter), from the checkout:

    PYTHONPATH=. python3 benchmarks/gpu_probe.py --out $OUT/probe.json      # ~3 minutes on an H200

What it measures, each under a deadline so the whole run ends in time (``--budget`` seconds):

1. the device, torch and CUDA versions; the bf16 and float32 matmul peaks (8192^3 ``torch.mm``, CUDA events);
2. today's training step (``gridbook.nets.trainer.Trainer.train_step``, the code a sweep runs) at the quick shape
   (Ng 256, Np 256, batch 200, sequence 20, bf16) for several K, with exact codes (``code_table = 0``) and with the
   quick profile's code table; the share of the step spent drawing the batch (walks and codes, ``Trainer.batch``);
   the step's matrix products alone (the floor); GPU memory at each K;
3. the paper shape (Ng 1024, Np 512, float32 and bf16) for a few K; a gated cell (GRU) at the quick shape;
4. the evaluation of one quick network on the device: streamed maps with the null (``evaluate_ratemaps``) and the
   scores (``analyse_ratemaps``).

Every figure is a wall time with ``torch.cuda.synchronize()`` around it; MFU is ``step_flops`` (the matrix products'
FLOPs) per second over the measured bf16 peak.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridbook.config import profile_config  # noqa: E402
from gridbook.nets.models import step_flops  # noqa: E402
from gridbook.nets.trainer import Trainer  # noqa: E402

RESULTS: dict = {"cases": [], "errors": []}
DEVICE = torch.device("cuda")  # --device cpu: a dry run of the script here
START = time.perf_counter()


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def elapsed() -> float:
    return time.perf_counter() - START


def matmul_peak(dtype: torch.dtype, n: int = 8192, reps: int = 10) -> float:
    """TFLOP/s of an n^3 torch.mm on random data (mean of ``reps`` after 3 warm-ups, CUDA events)."""
    n = n if DEVICE.type == "cuda" else 512  # a dry run on a CPU
    a, b = torch.randn(n, n, device=DEVICE, dtype=dtype), torch.randn(n, n, device=DEVICE, dtype=dtype)
    for _ in range(3):
        torch.mm(a, b)
    if DEVICE.type != "cuda":
        sync()
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        return 2 * n**3 * reps / (time.perf_counter() - start) / 1e12
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        torch.mm(a, b)
    end.record()
    sync()
    return 2 * n**3 * reps / (start.elapsed_time(end) / 1e3) / 1e12


def time_steps(configs, n_steps: int = 16, warm: int = 3) -> dict:
    """Seconds per batched step of today's trainer, and of its batch draw alone, after ``warm`` steps (16 timed steps
    hold exactly one refill of the walks, WALK_CHUNK = 16, as a long run does)."""
    if DEVICE.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer = Trainer(configs, DEVICE, None)
    for _ in range(warm):
        trainer.train_step(record=False)
    sync()
    start = time.perf_counter()
    for _ in range(n_steps):
        trainer.train_step(record=False)
    sync()
    step = (time.perf_counter() - start) / n_steps
    start = time.perf_counter()
    for _ in range(n_steps):
        trainer.batch()
    sync()
    batch = (time.perf_counter() - start) / n_steps
    peak = torch.cuda.max_memory_allocated() / 2**30 if DEVICE.type == "cuda" else None
    return {"step_s": step, "batch_s": batch, "peak_gib": peak}


def products_alone(k: int, n_g: int, n_p: int, dtype: torch.dtype, n_t: int = 20, n_b: int = 200,
                   reps: int = 10) -> float:
    """Seconds per step of the step's matrix products alone at their shapes (the floor under any rewrite)."""
    rows = n_t * n_b

    def rand(*shape):
        return torch.randn(k, *shape, device=DEVICE).to(dtype)

    code, weight, state = rand(n_b, n_p), rand(n_g, n_g), rand(n_b, n_g)  # (K, B, Np), (K, Ng, Ng), (K, B, Ng)
    hidden, delta, out_grad = rand(rows, n_g), rand(rows, n_g), rand(rows, n_p)  # (K, T B, .)
    encoder, decoder = rand(n_p, n_g), rand(n_p, n_g)  # (K, Np, Ng)

    def step():
        torch.bmm(code, encoder)
        for _ in range(n_t):
            torch.bmm(state, weight)
        torch.bmm(hidden, decoder.transpose(1, 2))
        torch.bmm(out_grad, decoder)
        torch.bmm(out_grad.transpose(1, 2), hidden)
        for _ in range(n_t):
            torch.bmm(state, weight.transpose(1, 2))
        torch.bmm(hidden.transpose(1, 2), delta)

    for _ in range(2):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(reps):
        step()
    sync()
    return (time.perf_counter() - start) / reps


def case(name: str, shape: dict, ks: list[int], n_steps: int, peak: float, deadline: float,
         products: bool = True) -> None:
    for k in ks:
        if elapsed() > deadline:
            RESULTS["errors"].append(f"{name} K={k}: skipped, past the deadline ({deadline:.0f} s)")
            continue
        try:
            configs = [profile_config("quick", seed=s, **shape) for s in range(k)]
            timing = time_steps(configs, n_steps)
            flops = step_flops(configs[0]) * k
            row = {"case": name, "K": k, **shape, **timing, "net_steps_per_s": k / timing["step_s"],
                   "mfu_bf16": flops / timing["step_s"] / (peak * 1e12)}
            if products:
                dtype = torch.bfloat16 if shape.get("precision", "bfloat16") == "bfloat16" else torch.float32
                row["products_s"] = products_alone(k, configs[0].model.n_hidden, configs[0].target.code_size, dtype)
            RESULTS["cases"].append(row)
            print(json.dumps(row), flush=True)
            del configs
            if DEVICE.type == "cuda":
                torch.cuda.empty_cache()
        except Exception as err:  # noqa: BLE001 -- a probe records what failed and goes on
            RESULTS["errors"].append(f"{name} K={k}: {type(err).__name__}: {err}")
            print(traceback.format_exc(), file=sys.stderr, flush=True)


def evaluation(deadline: float) -> None:
    if elapsed() > deadline:
        RESULTS["errors"].append("evaluation: skipped, past the deadline")
        return
    from gridbook.analysis.pipeline import analyse_ratemaps, evaluate_ratemaps
    from gridbook.nets.trainer import train_networks

    config = profile_config("quick", n_steps=20, code_table=0.0)
    result = train_networks([config], device=DEVICE, progress=False)
    sync()
    start = time.perf_counter()
    (entry,) = evaluate_ratemaps(result)
    sync()
    maps_s = time.perf_counter() - start
    start = time.perf_counter()
    analyse_ratemaps(entry["ratemaps"], device=DEVICE, null=entry["null"])
    sync()
    RESULTS["evaluation"] = {"maps_and_null_s": maps_s, "scores_s": time.perf_counter() - start,
                             "eval_batches": config.analysis.eval_batches, "n_shuffles": config.analysis.n_shuffles,
                             "null_units": config.analysis.null_units}
    print(json.dumps(RESULTS["evaluation"]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="probe.json")
    parser.add_argument("--budget", type=float, default=200.0, help="seconds; later cases are skipped past it")
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu for a dry run of the script")
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 8, 32, 128, 512], help="K at the quick shape")
    parser.add_argument("--paper-ks", type=int, nargs="+", default=[1, 8, 32], help="K at the paper shape")
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation of one network")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    name = torch.cuda.get_device_name(0) if DEVICE.type == "cuda" else platform.processor()
    loaded = sorted(m for m in ("dask", "distributed", "papermill", "jupytext", "matplotlib", "pandas")
                    if m in sys.modules)
    RESULTS["env"] = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
                      "device": name, "heavy_modules_loaded": loaded}
    print(json.dumps(RESULTS["env"]), flush=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    RESULTS["peak_tflops"] = {"bfloat16": matmul_peak(torch.bfloat16), "float32": matmul_peak(torch.float32, 4096, 5)}
    print(json.dumps(RESULTS["peak_tflops"]), flush=True)
    peak = RESULTS["peak_tflops"]["bfloat16"]
    budget = args.budget
    try:
        paper = {"n_hidden": 1024, "n_place_cells": 512, "code_table": 0.0}
        case("quick exact codes", {"code_table": 0.0}, args.ks, 16, peak, 0.35 * budget)
        case("quick code table", {}, args.ks[2:4], 16, peak, 0.45 * budget, products=False)
        case("paper shape bf16", paper, args.paper_ks, 16, peak, 0.6 * budget)
        case("paper shape float32", {**paper, "precision": "float32"}, args.paper_ks[1:2], 16, peak, 0.65 * budget)
        case("quick gru", {"arch": "gru", "code_table": 0.0}, args.ks[1:2] + [8 * args.ks[1]], 16, peak,
             0.7 * budget, products=False)
        if not args.no_eval:
            evaluation(0.8 * budget)
    except Exception as err:  # noqa: BLE001
        RESULTS["errors"].append(f"{type(err).__name__}: {err}")
        traceback.print_exc()
    RESULTS["wall_s"] = elapsed()
    Path(args.out).write_text(json.dumps(RESULTS, indent=1))
    print(json.dumps({"errors": RESULTS["errors"], "wall_s": RESULTS["wall_s"]}), flush=True)


if __name__ == "__main__":
    main()
