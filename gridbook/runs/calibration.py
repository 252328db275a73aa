"""Stage 1 of the evidence run (:mod:`gridbook.runs.evidence`): where it runs, a smoke sweep on the device, and the
calibration (the bf16 matmul peak, network-steps per second by shape and K, the evaluation's seconds per network),
and the cost model that the plan and the deadline read from it (:class:`CostModel`)."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gridbook.files import git_commit, gridbook_version
from gridbook.runs.sweep import run_sweep

__all__ = ["GPU_GROUP_MAX", "MAX_JOB_SECONDS", "CostModel", "calibrate", "environment", "matmul_peak",
           "smoke_sweep", "step_seconds"]

MAX_JOB_SECONDS = 150.0  # a job's planned length, at most (and half of stage 2): jobs come in at least two waves
DEFAULT_EVAL_S = 0.25  # seconds a network's evaluation, when stage 1 had no time to measure it
GATED_FACTOR = 6.0  # a gated step's cost in plain ones, when stage 1 had no time to measure it (CPU, Ng 256)
GPU_GROUP_MAX = 256  # networks per job on a GPU, at most (beyond, a quick step is bandwidth-bound: no gain)


def _now() -> float:
    return time.monotonic()


# ---- stage 1 ---------------------------------------------------------------------------------------------------------
def environment(device: str) -> dict[str, Any]:
    """Where the evidence was made: device, torch, CUDA, Python, gridbook version and commit, cores."""
    import torch

    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else (platform.processor() or "cpu")
    return {"device": name, "device_type": device, "torch": torch.__version__, "cuda": torch.version.cuda,
            "python": platform.python_version(), "gridbook": gridbook_version(), "commit": git_commit(),
            "cores": os.cpu_count()}


def matmul_peak(device: str) -> float:
    """bf16 matmul TFLOP/s on ``device`` (8192^3 on a GPU, 1024^3 on a CPU; mean of 5 after 2 warm-ups)."""
    import torch

    n = 8192 if device.startswith("cuda") else 1024
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(2):
        torch.mm(a, b)
    _sync(device)
    start = time.perf_counter()
    for _ in range(5):
        torch.mm(a, b)
    _sync(device)
    return 2 * n**3 * 5 / (time.perf_counter() - start) / 1e12


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def step_seconds(configs: list, device: str, n_steps: int) -> float:
    """Seconds per batched training step of ``configs`` (same shape) on ``device``, after 2 warm-up steps."""
    import torch

    from gridbook.nets.trainer import Trainer

    trainer = Trainer(configs, torch.device(device), None)
    for _ in range(3):
        trainer.train_step(record=False)
    _sync(device)
    start = time.perf_counter()
    for _ in range(n_steps):
        trainer.train_step(record=False)
    _sync(device)
    return (time.perf_counter() - start) / n_steps


def evaluation_seconds(configs: list, device: str) -> float:
    """Seconds per network of the batched evaluation and analysis of ``configs`` (trained 2 steps)."""
    from gridbook.analysis.batched import analyse_networks
    from gridbook.nets.trainer import train_networks

    result = train_networks([c.replace(n_steps=2) for c in configs], device=device, progress=False)
    start = time.perf_counter()
    analyse_networks(result)
    _sync(device)
    return (time.perf_counter() - start) / len(configs)


def calibrate(profile: str | None, device: str, staged: list, deadline: float,
              log: Callable[[str], Any]) -> dict[str, Any]:
    """Stage 1's measurements: the bf16 peak, network-steps per second at the profile's shape for several K (and a
    gated cell's, and the staged spec's shape), and the evaluation's seconds per network. Stops at ``deadline``."""
    import torch

    from gridbook.profiles import profile_config

    gpu = device.startswith("cuda")
    out: dict[str, Any] = {"peak_bf16_tflops": matmul_peak(device), "steps": [], "skipped": []}
    log(f"evidence: bf16 matmul peak {out['peak_bf16_tflops']:.1f} TFLOP/s")
    base = profile_config(profile or "gpu", streams="counter", code_table=0.0)  # the specs' own: gpu
    quick = [("quick shape", base, k) for k in ((32, 128, 256) if gpu else (1, 4))]
    later = [("gated (gru)", base.replace(arch="gru"), k) for k in ((32, 128) if gpu else (1, 2))]
    if staged:
        later.append(("staged shape", staged[0], len(staged)))
    _time_steps(quick, device, deadline, out, log)
    k_eval = 64 if gpu else 2  # the evaluation next: without it no job can be sized
    if _now() < deadline:
        evaluation_seconds([base.replace(seed=s) for s in range(2)], device)  # once: operators, FFT plans, caches
        out["eval_s_per_network"] = evaluation_seconds([base.replace(seed=s) for s in range(k_eval)], device)
        log(f"evidence: evaluation {out['eval_s_per_network']:.3f} s a network (K={k_eval})")
    else:
        out["skipped"].append("evaluation")
    _time_steps(later, device, deadline, out, log)
    if gpu:
        torch.cuda.empty_cache()  # the workers of stage 2 take the memory
    return out


def _time_steps(cases: list, device: str, deadline: float, out: dict[str, Any], log: Callable[[str], Any]) -> None:
    """Time each (name, config, K) case's training step into ``out["steps"]`` (skipped past ``deadline``)."""
    import torch

    from gridbook.nets.models import step_flops

    gpu = device.startswith("cuda")
    for name, config, k in cases:
        if _now() > deadline:
            out["skipped"].append(f"{name} K={k}")
            continue
        configs = [config.replace(seed=s) for s in range(k)]
        seconds = step_seconds(configs, device, 10 if gpu else 3)
        flops = step_flops(config) * k / seconds / 1e12
        row = {"case": name, "K": k, "n_hidden": config.model.n_hidden, "n_outputs": config.target.code_size,
               "arch": config.model.arch, "step_s": seconds, "net_steps_per_s": k / seconds, "tflops": flops,
               "mfu": flops / out["peak_bf16_tflops"]}
        out["steps"].append(row)
        log(f"evidence: {name} K={k}: {seconds * 1e3:.1f} ms a step, {k / seconds:,.0f} network-steps/s, "
            f"MFU {row['mfu']:.1%}")
        if gpu:
            torch.cuda.empty_cache()


def smoke_sweep(device: str, root: Path, log: Callable[[str], Any]) -> None:
    """A tiny sweep on the device, through the whole path (train, evaluate, store); raises if a run failed."""
    spec = {"profile": "smoke", "parameters": {"target": {"values": ["dos", "cartesian"]},
                                               "streams": {"value": "counter"}}, "seeds": [0, 1]}
    summary = run_sweep(spec, store=root, device=device, workers=1, progress=False)
    if summary.failed or summary.done + summary.skipped != summary.total:
        raise RuntimeError(f"the smoke sweep on {device} failed: {summary.failed_runs}")
    log(f"evidence: smoke sweep on {device}: {summary.total} runs in {summary.wall_seconds:.1f} s")


class CostModel:
    """Seconds of training steps and jobs, from the calibration: a batched step of K networks costs ``a + b K``,
    fitted on the two smallest and largest K measured for plain (rnn, srnn) and for gated cells (the GRU; the LSTM
    and UGRNN scale by their gate count), and scaled by the products' size for other widths. A job of K networks
    costs its steps plus K evaluations, times ``workers`` (the jobs of several workers share the device: each runs
    about that much slower than alone). ``window``: the seconds of stage 2; a job is planned within half of it
    (and within MAX_JOB_SECONDS), so that jobs come in at least two waves."""

    def __init__(self, calibration: Mapping[str, Any], workers: int = 1, window: float = math.inf) -> None:
        self.contention = max(1, workers)
        self.max_job = min(MAX_JOB_SECONDS, window / 2)
        rows = calibration.get("steps") or []
        self.eval_s = float(calibration.get("eval_s_per_network", DEFAULT_EVAL_S))
        self.lines = {}
        for case in ("quick shape", "gated (gru)"):
            points = sorted((r["K"], r["step_s"]) for r in rows if r["case"] == case)
            if not points:
                continue
            (k0, t0), (k1, t1) = points[0], points[-1]
            slope = (t1 - t0) / (k1 - k0) if k1 > k0 else t0 / k0
            self.lines[case] = (max(0.0, t0 - slope * k0), max(slope, 1e-9), points[0][0])
        quick = [r for r in rows if r["case"] == "quick shape"]
        self.reference = (quick[0]["n_hidden"], quick[0]["n_outputs"]) if quick else (256, 256)

    def step_seconds(self, config, k: int) -> float:
        """Seconds of one batched step of ``k`` networks shaped like ``config``."""
        gated = config.model.arch not in ("rnn", "srnn")
        line = self.lines.get("gated (gru)" if gated else "quick shape")
        factor = 1.0
        if line is None and gated and "quick shape" in self.lines:
            line, factor = self.lines["quick shape"], GATED_FACTOR
        if line is None:
            return math.inf
        intercept, slope, _ = line
        ng, np_ = config.model.n_hidden, config.target.code_size
        size = (ng**2 + 2 * ng * np_) / (self.reference[0] ** 2 + 2 * self.reference[0] * self.reference[1])
        gates = {"lstm": 4 / 3, "ugrnn": 2 / 3}.get(config.model.arch, 1.0)
        return (intercept + slope * k * max(1.0, size)) * gates * factor

    def job_seconds(self, job: list) -> float:
        """Estimated wall time of a job (same-shape configs)."""
        config = job[0]
        return self.contention * (config.train.n_steps * self.step_seconds(config, len(job)) + len(job) * self.eval_s)

    def group_size(self, config) -> int:
        """The job size of ``config``'s shape: the K (8 .. GPU_GROUP_MAX, in steps of 8) with the most networks a
        second among those whose job stays within ``max_job`` (8 when none does)."""
        best, best_rate = 8, 0.0
        for k in range(8, GPU_GROUP_MAX + 1, 8):
            seconds = self.job_seconds([config] * k)
            if seconds <= self.max_job and k / seconds > best_rate:
                best, best_rate = k, k / seconds
        return best
