"""Training throughput: the reference implementation's way vs gridbook's batched trainer, on this machine.

Measures network-training steps per second (one step = one network, one batch of Np 512, B 200, T 20) for

(a) a baseline written the way the reference (Sorscher et al.'s PyTorch code) does it: trajectories made in numpy
    with a Python loop over time, then moved to torch; place-cell targets from a broadcast (T, B, Np, 2) distance
    tensor; ``torch.nn.RNN`` plus ``Linear`` encoder/decoder; one network at a time; the loss step running the
    forward pass twice (once for the loss, once for the decoded position), Adam;
(b) gridbook's batched trainer (``gridbook.nets.trainer``) with K = 1, 8, 32 networks trained together,

at Ng 256 and 1024. It also times the machine's matmul peak (a large ``torch.mm`` loop) and prints the achieved
model GFLOP/s of (b) (matrix products of the forward and backward passes, 2 m n k each) as a fraction of it.

    python benchmarks/train_throughput.py            # full run (minutes; run it on an otherwise idle machine)
    python benchmarks/train_throughput.py --quick    # one timed step per case, to check that it works
    python benchmarks/train_throughput.py --precision bfloat16   # (b) with bf16 matmuls; (a) stays float32

The baseline runs first: gridbook's CPU speed-ups (malloc tuning, denormal flushing; see ``gridbook.nets.trainer``) are
process-wide once training has started.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import numpy as np
import torch
from torch import nn

from gridbook.nets.devices import cpu_speedups
from gridbook.nets.models import step_flops
from gridbook.nets.trainer import Trainer
from gridbook.profiles import profile_config

NP, BATCH, SEQ = 512, 200, 20
CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


# ---- (a) the reference's way ----------------------------------------------------------------------------------------
class ReferencePlaceCells:
    """Sorscher et al.'s DoS place cells: centres uniform in the box, activations from a broadcast distance tensor."""

    def __init__(self, rng: np.random.Generator, sigma: float = 0.12, surround_scale: float = 2.0,
                 box: float = 2.2) -> None:
        self.sigma, self.surround_scale = sigma, surround_scale
        self.us = torch.tensor(rng.uniform(-box / 2, box / 2, (NP, 2)), dtype=torch.float32)  # (Np, 2) m
        self.softmax = nn.Softmax(dim=-1)

    def get_activation(self, pos: torch.Tensor) -> torch.Tensor:
        d = torch.abs(pos[:, :, None, :] - self.us[None, None, ...]).float()  # (T, B, Np, 2)
        norm2 = (d**2).sum(-1)
        outputs = self.softmax(-norm2 / (2 * self.sigma**2))
        outputs -= self.softmax(-norm2 / (2 * self.surround_scale * self.sigma**2))
        min_output, _ = outputs.min(-1, keepdim=True)
        outputs += torch.abs(min_output)
        outputs /= outputs.sum(-1, keepdim=True)
        return outputs

    def get_nearest_cell_pos(self, activation: torch.Tensor, k: int = 3) -> torch.Tensor:
        _, idxs = torch.topk(activation, k=k)
        return self.us[idxs].mean(-2)


def reference_trajectories(rng: np.random.Generator, batch: int = BATCH, samples: int = SEQ, box: float = 2.2):
    """Sorscher et al.'s random walk in numpy: vectorised over the batch, a Python loop over time."""
    dt, sigma, b, border = 0.02, 11.52, 0.13 * 2 * np.pi, 0.03
    position = np.zeros([batch, samples + 2, 2])
    head_dir = np.zeros([batch, samples + 2])
    position[:, 0] = rng.uniform(-box / 2 + border, box / 2 - border, (batch, 2))
    head_dir[:, 0] = rng.uniform(0, 2 * np.pi, batch)
    velocity = np.zeros([batch, samples + 2])
    random_turn = rng.normal(0, sigma, [batch, samples + 1])
    random_vel = rng.rayleigh(b, [batch, samples + 1])
    for t in range(samples + 1):
        v = random_vel[:, t]
        x, y = position[:, t, 0], position[:, t, 1]
        dists = np.stack([box / 2 - x, box / 2 - y, box / 2 + x, box / 2 + y])
        d_wall, wall = dists.min(0), dists.argmin(0)
        a_wall = np.mod(head_dir[:, t] - wall * np.pi / 2 + np.pi, 2 * np.pi) - np.pi
        near = (d_wall < border) & (np.abs(a_wall) < np.pi / 2)
        turn = np.where(near, np.sign(a_wall) * (np.pi / 2 - np.abs(a_wall)), 0.0)
        v = np.where(near, v * 0.25, v)
        turn = turn + dt * random_turn[:, t]
        velocity[:, t] = v * dt
        position[:, t + 1] = position[:, t] + velocity[:, t, None] * np.stack(
            [np.cos(head_dir[:, t]), np.sin(head_dir[:, t])], -1)
        head_dir[:, t + 1] = head_dir[:, t] + turn
    head_dir = np.mod(head_dir + np.pi, 2 * np.pi) - np.pi
    ego_v, target_hd = velocity[:, 1:-1], head_dir[:, 1:-1]
    v = np.stack([ego_v * np.cos(target_hd), ego_v * np.sin(target_hd)], -1)
    to_t = lambda a: torch.tensor(a, dtype=torch.float32).transpose(0, 1)  # noqa: E731  (B, T, .) -> (T, B, .)
    return to_t(v), to_t(position[:, 2:]), torch.tensor(position[:, 1], dtype=torch.float32)


class ReferenceRNN(nn.Module):
    """Sorscher et al.'s model: encoder, torch.nn.RNN (ReLU, no bias), decoder; the forward pass runs twice."""

    def __init__(self, n_hidden: int, place_cells: ReferencePlaceCells, weight_decay: float = 1e-4) -> None:
        super().__init__()
        self.encoder = nn.Linear(NP, n_hidden, bias=False)
        self.RNN = nn.RNN(input_size=2, hidden_size=n_hidden, nonlinearity="relu", bias=False)
        self.decoder = nn.Linear(n_hidden, NP, bias=False)
        self.softmax = nn.Softmax(dim=-1)
        self.place_cells, self.weight_decay = place_cells, weight_decay

    def predict(self, inputs):
        v, p0 = inputs
        g, _ = self.RNN(v, self.encoder(p0)[None])
        return self.decoder(g)

    def compute_loss(self, inputs, pc_outputs, pos):
        preds = self.predict(inputs)
        yhat = self.softmax(self.predict(inputs))
        loss = -(pc_outputs * torch.log(yhat)).sum(-1).mean()
        loss = loss + self.weight_decay * (self.RNN.weight_hh_l0**2).sum()
        pred_pos = self.place_cells.get_nearest_cell_pos(preds)
        err = torch.sqrt(((pos - pred_pos) ** 2).sum(-1)).mean()
        return loss, err


def time_reference(n_hidden: int, warmup: int, steps: int) -> dict:
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    cells = ReferencePlaceCells(rng)
    model = ReferenceRNN(n_hidden, cells)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    data_seconds = total_seconds = 0.0
    for step in range(warmup + steps):
        start = clock()
        v, pos, init_pos = reference_trajectories(rng)
        pc_outputs = cells.get_activation(pos)
        init_actv = cells.get_activation(init_pos[None]).squeeze()
        made = clock()
        model.zero_grad()
        loss, err = model.compute_loss((v, init_actv), pc_outputs, pos)
        loss.backward()
        optimizer.step()
        loss.item(), err.item()
        if step >= warmup:
            data_seconds += made - start
            total_seconds += clock() - start
    return {"ms_per_step": 1e3 * total_seconds / steps, "data_ms": 1e3 * data_seconds / steps}


# ---- (b) gridbook's batched trainer ----------------------------------------------------------------------------------
def model_flops(n_hidden: int) -> float:
    """Matrix-product FLOPs of one network-step at this benchmark's shape (:func:`gridbook.nets.models.step_flops`)."""
    return step_flops(profile_config("paper", n_hidden=n_hidden, n_place_cells=NP, batch_size=BATCH, seq_len=SEQ))


def time_batched(n_networks: int, n_hidden: int, warmup: int, steps: int, precision: str = "float32") -> dict:
    configs = [profile_config("paper", n_hidden=n_hidden, n_place_cells=NP, batch_size=BATCH, seq_len=SEQ,
                              target="dos", sigma=0.12, lr=1e-4, seed=k, precision=precision)
               for k in range(n_networks)]
    device = torch.device("cpu")
    trainer = Trainer(configs, device, None)
    with cpu_speedups(device):
        for _ in range(warmup):
            trainer.train_step(record=False)
        start = clock()
        for _ in range(steps):
            trainer.train_step(record=False)
        seconds = (clock() - start) / steps
    return {"ms_per_step": 1e3 * seconds, "gflops": n_networks * model_flops(n_hidden) / seconds / 1e9}


def matmul_peak(seconds: float, size: int = 2048, dtype: torch.dtype = torch.float32, timer=None) -> float:
    """GFLOP/s of a ``torch.mm`` loop of ``size`` x ``size`` matrices, best of three (``timer``: default the
    benchmark's clock)."""
    timer = timer or clock
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    torch.mm(a, b)
    best = 0.0
    for _ in range(3):
        count, start = 0, timer()
        while timer() - start < seconds / 3:
            torch.mm(a, b)
            count += 1
        best = max(best, 2 * size**3 * count / (timer() - start) / 1e9)
    return best


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one warm-up and one timed step per case")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 1024], help="Ng values (default 256 1024)")
    parser.add_argument("--networks", type=int, nargs="+", default=[1, 8, 32], help="K values (default 1 8 32)")
    parser.add_argument("--clock", choices=CLOCK, default="wall",
                        help="wall time (default), or this process's CPU time: with --threads 1, a fair comparison "
                        "on a machine that others are using")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                        help="matmul precision of the batched trainer (b) (TrainConfig.precision; default float32); "
                        "the reference (a) always runs in float32")
    args = parser.parse_args()
    global clock
    clock = CLOCK[args.clock]
    if args.threads:
        torch.set_num_threads(args.threads)
    warmup, steps, peak_seconds = (1, 1, 0.6) if args.quick else (2, 5, 6.0)
    print(f"# training throughput, {datetime.date.today()}, {cpu_name()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads, {args.clock} clock"
          f"{' (--quick)' if args.quick else ''}; (b) precision {args.precision}")
    print(f"Np {NP}, batch {BATCH}, sequence {SEQ}; {steps} timed steps after {warmup} warm-up per case\n")
    reference = {}
    for n_hidden in args.hidden:
        reference[n_hidden] = time_reference(n_hidden, warmup, steps)
    peak = matmul_peak(peak_seconds)
    print(f"matmul peak (torch.mm 2048 x 2048, float32): {peak:.0f} GFLOP/s")
    peak_b = peak  # the peak of (b)'s precision: its "of peak" column
    if args.precision == "bfloat16":
        peak_b = matmul_peak(peak_seconds, dtype=torch.bfloat16)
        print(f"matmul peak (torch.mm 2048 x 2048, bfloat16): {peak_b:.0f} GFLOP/s ((b)'s \"of peak\" is of this)")
    print()
    print("| Ng | trainer | K | ms/step | network-steps/s | per-network speed-up vs (a) | GFLOP/s | of peak |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n_hidden in args.hidden:
        ref = reference[n_hidden]
        ref_rate = 1e3 / ref["ms_per_step"]
        ref_gflops = model_flops(n_hidden) * ref_rate / 1e9  # counting one forward pass, as for (b)
        print(f"| {n_hidden} | (a) reference (data {ref['data_ms']:.0f} ms) | 1 | {ref['ms_per_step']:.0f} | "
              f"{ref_rate:.2f} | 1.00 | {ref_gflops:.0f} | {ref_gflops / peak:.0%} |")
        for n_networks in args.networks:
            out = time_batched(n_networks, n_hidden, warmup, steps, args.precision)
            rate = n_networks * 1e3 / out["ms_per_step"]
            label = "(b) batched" + (" bf16" if args.precision == "bfloat16" else "")
            print(f"| {n_hidden} | {label} | {n_networks} | {out['ms_per_step']:.0f} | {rate:.2f} | "
                  f"{rate / ref_rate:.2f} | {out['gflops']:.0f} | {out['gflops'] / peak_b:.0%} |", flush=True)
    print("\ntargets: (b) K=32, Ng 256 per-network speed-up >= 2.5; (b) at Ng 1024 >= 80% of the matmul peak")


if __name__ == "__main__":
    main()
