"""Counter-based random streams: every random number of a network a pure function of (seed, stream, batch, element).

The default streams (``TrainConfig.streams = "generator"``) are one CPU ``torch.Generator`` per network and stream
(:func:`gridbook.nets.models.network_generator`), drawn network by network: exact and simple, but K networks cost K
draws a batch, which on a GPU costs more than the networks' own step. ``streams = "counter"`` (the ``gpu`` profile)
draws instead from a hash of a counter, on the device, for every network at once:

    u = hash(key(seed, stream), sub-stream, batch, element) / 2^32 + 2^-33        in (0, 1)

``key`` is the first 8 bytes of ``sha256("gridbook/{stream}/{seed}")`` (the generator streams' seeds), split into two
32-bit words; ``batch`` is the training step (so a run resumes anywhere without a generator state); ``element`` the
draw's index. The hash is Wellons' ``lowbias32`` (two xor-shift-multiply rounds, full avalanche), applied in a chain,
in int64 arithmetic that never overflows, so the integers are the same on every device and the uniforms differ
between devices by nothing. A network's draws depend on its own seed only, not on the networks beside it.
Normals are Box-Muller pairs, Rayleigh speeds an inversion, as :func:`gridbook.task.trajectories.draw_walk_noise`
does with a generator.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import torch

from gridbook.config import TaskConfig
from gridbook.task.trajectories import Trajectories, WalkNoise, simulate_walks

__all__ = ["MASK32", "STREAM_SUBS", "StreamKeys", "counter_walks", "lowbias32", "mul32", "uniform_draws"]

MASK32 = 0xFFFFFFFF
STREAM_SUBS = {"start": 1, "heading": 2, "turn_radius": 3, "turn_angle": 4, "speed": 5, "input_dropout": 6,
               "recurrent_dropout": 7}  # sub-streams of one network's stream; each draws its own elements


def mul32(x: torch.Tensor, constant: int) -> torch.Tensor:
    """``(x * constant) mod 2^32`` for int64 tensors holding values in [0, 2^32), without int64 overflow: the constant
    is split into 16-bit halves, so every product stays below 2^48."""
    low, high = constant & 0xFFFF, constant >> 16
    return (x * low + (((x * high) & 0xFFFF) << 16)) & MASK32


def lowbias32(x: torch.Tensor) -> torch.Tensor:
    """Wellons' ``lowbias32`` integer hash of int64 tensors holding 32-bit values (returned in [0, 2^32))."""
    x = x & MASK32
    x = x ^ (x >> 16)
    x = mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


class StreamKeys:
    """The counter-stream keys of K networks for one named stream (``"trajectories"``, ``"dropout"``...):
    ``low`` and ``high`` (K,) int64 words of ``sha256("gridbook/{stream}/{seed}")``'s first 8 bytes (the same bytes
    that seed that network's generator stream), on ``device``."""

    def __init__(self, seeds: Sequence[int], stream: str, device: str | torch.device | None = None) -> None:
        words = []
        for seed in seeds:
            digest = hashlib.sha256(f"gridbook/{stream}/{int(seed)}".encode()).digest()
            value = int.from_bytes(digest[:8], "little") & (2**63 - 1)
            words.append((value & MASK32, value >> 32))
        data = torch.tensor(words, dtype=torch.int64).reshape(-1, 2)  # (K, 2)
        self.low, self.high = data[:, 0].to(device), data[:, 1].to(device)  # (K,) each
        self.stream = stream

    def __len__(self) -> int:
        return self.low.shape[0]


def uniform_draws(keys: StreamKeys, sub: str, batch: int | Sequence[int], n: int) -> torch.Tensor:
    """(K, n) float64 uniforms in (0, 1) of sub-stream ``sub`` (a key of :data:`STREAM_SUBS`) at counter ``batch``
    (a training step), elements 0 .. n - 1, on the keys' device; for a sequence of M counters, (K, M, n) (each
    counter's draws the same as alone)."""
    if sub not in STREAM_SUBS:
        raise ValueError(f"sub={sub!r} is invalid; allowed values: {', '.join(STREAM_SUBS)}")
    batches = [batch] if isinstance(batch, int) else list(batch)
    if not batches or not all(0 <= int(b) <= MASK32 for b in batches):
        raise ValueError(f"batch={batch!r} is invalid; allowed values: 0 .. 2^32 - 1")
    device = keys.low.device
    base = lowbias32(keys.high ^ lowbias32(keys.low ^ STREAM_SUBS[sub]))  # (K,) per network and sub-stream
    counters = torch.tensor(batches, dtype=torch.int64, device=device)  # (M,)
    base = lowbias32(base[:, None] ^ counters[None])  # (K, M) per batch
    element = torch.arange(n, dtype=torch.int64, device=device)  # (n,)
    bits = lowbias32(lowbias32(element ^ base[..., None]) ^ keys.low[:, None, None])  # (K, M, n) in [0, 2^32)
    draws = (bits.double() + 0.5) / 2.0**32
    return draws[:, 0] if isinstance(batch, int) else draws


def _normal_draws(keys: StreamKeys, batches: list[int], n: int) -> torch.Tensor:
    """(K, M, n) float64 standard normals (Box-Muller of two uniform sub-streams)."""
    radius = torch.sqrt(-2.0 * torch.log(uniform_draws(keys, "turn_radius", batches, n)))
    return radius * torch.cos((2 * math.pi) * uniform_draws(keys, "turn_angle", batches, n))


def counter_walk_noise(task: TaskConfig, keys: StreamKeys, batch: int | Sequence[int], n_batch: int,
                       n_steps: int) -> WalkNoise:
    """The random numbers of ``n_batch`` walks of ``n_steps`` steps (burn-in included) for each of K networks at
    counter ``batch`` (or each of M counters), as one :class:`WalkNoise` of K x M x n_batch walkers (network-major,
    then counter) on the keys' device: the counter-stream twin of
    :func:`gridbook.task.trajectories.draw_walk_noise`."""
    batches = [batch] if isinstance(batch, int) else list(batch)
    n_net, n_counters = len(keys), len(batches)
    walkers = n_net * n_counters * n_batch
    box = torch.tensor([task.box_width, task.box_height], dtype=torch.float64, device=keys.low.device)
    start = (uniform_draws(keys, "start", batches, 2 * n_batch).reshape(walkers, 2) - 0.5) * box  # (W, 2) m
    heading = uniform_draws(keys, "heading", batches, n_batch).reshape(-1) * (2 * math.pi)  # (W,) rad

    def per_step(draws: torch.Tensor) -> torch.Tensor:  # (K, M, S B) -> (S, K M B), walker (k M + m) B + b
        return draws.reshape(n_net, n_counters, n_steps, n_batch).permute(2, 0, 1, 3).reshape(n_steps, walkers)

    turn_noise = per_step(_normal_draws(keys, batches, n_steps * n_batch)) * task.turn_sigma  # (S, W) rad/s
    uniform = uniform_draws(keys, "speed", batches, n_steps * n_batch)
    speed = per_step(task.speed_scale * torch.sqrt(-2.0 * torch.log1p(-uniform)))  # (S, W) m/s, Rayleigh
    return WalkNoise(start, heading, turn_noise, speed)


def counter_walks(task: TaskConfig, keys: StreamKeys, batch: int | Sequence[int], n_batch: int | None = None,
                  seq_len: int | None = None) -> Trajectories:
    """The walks of K networks at counter ``batch`` (or each of M counters: a trainer draws a chunk of steps at once,
    with the launches of one), simulated on the keys' device in one go: a :class:`Trajectories` whose batch axis
    holds network k's ``n_batch`` walks of counter m at ``(k M + m) n_batch ..`` (velocity (T, K M B, 2), position
    (T, K M B, 2) m...). Network k's walks at a counter depend on its seed and that counter only."""
    n_batch = task.batch_size if n_batch is None else n_batch
    seq_len = task.seq_len if seq_len is None else seq_len
    noise = counter_walk_noise(task, keys, batch, n_batch, seq_len + 1)  # + 1: the burn-in step
    return simulate_walks(task, noise, keys.low.device)
