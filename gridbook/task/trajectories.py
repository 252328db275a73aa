"""Sorscher et al.'s random walk in a box: the path-integration task's inputs and positions.

The walk (PAPER.md section 2; Sorscher et al.'s ``trajectory_generator.py``), per trajectory:

* start uniform in the box (origin at the centre), heading uniform in [0, 2 pi);
* every step draws a speed ``v ~ Rayleigh(speed_scale)`` (m/s) and a turn noise ``Normal(0, turn_sigma)`` (rad/s);
* non-periodic box: if the distance to the nearest wall is below ``border_region`` and the heading points towards
  that wall (``|a| < pi/2`` with ``a`` the heading relative to the wall's outward normal, wrapped to [-pi, pi)),
  the heading turns by ``sign(a) (pi/2 - |a|)`` (to run parallel to the wall) and the speed is multiplied by
  ``border_slowdown``; the turn is applied *after* the step, as in the reference;
* ``position += v dt (cos hd, sin hd)``; ``hd += turn + dt * noise``.

Conventions of this implementation:

* **Burn-in step.** As in Sorscher's code, the walk takes one step before the sequence starts: ``init_position`` is
  the position after that first step, and the ``seq_len`` steps of the sequence follow it. So ``position[t]`` is the
  position after step ``t`` of the sequence and ``velocity[t]`` is the displacement of that same step.
* **Clamping (the one deviation).** A fast step taken just outside the border region can cross a wall in the
  reference code. Here positions are clamped to the box after every step, so they never leave it; the velocity input
  of a clamped step is the displacement actually made, so ``init_position + cumsum(velocity) / velocity_input_scale
  == position`` holds exactly (up to float32 rounding) for every trajectory.
* **Periodic box.** No wall avoidance; positions are wrapped into [-W/2, W/2) x [-H/2, H/2); velocities are the
  unwrapped displacements.
* **Velocity input** = displacement per step in metres times ``task.velocity_input_scale`` (the reference feeds
  ``v dt (cos hd, sin hd)``, i.e. scale 1).
* **Randomness.** Every random number comes from the passed ``torch.Generator`` (drawn on the generator's device,
  CPU for a default generator). The walk itself is simulated in float64 on the CPU -- it is tiny and sequential,
  and this makes it bit-identical whatever ``device`` the result is moved to -- and returned as float32 on
  ``device``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gridbook.config import RunConfig, TaskConfig
from gridbook.errors import check_int

__all__ = ["Trajectories", "WalkNoise", "draw_walk_noise", "sample_trajectories", "sample_trajectory_batches",
           "simulate_walks", "wall_avoidance"]


@dataclass(frozen=True)
class Trajectories:
    """A batch of random-walk sequences (float32 tensors on one device).

    velocity: (T, B, 2) network input: displacement of each step (m) x ``task.velocity_input_scale``.
    position: (T, B, 2) m, position AFTER each step.
    init_position: (B, 2) m, position before the first step of the sequence (after the burn-in step).
    heading: (T, B) rad in [-pi, pi), heading of each step (direction of motion before any clamping).
    speed: (T, B) m/s, length of each step's actual displacement / dt (includes wall slow-down and clamping).
    """

    velocity: torch.Tensor  # (T, B, 2) displacement (m) x velocity_input_scale
    position: torch.Tensor  # (T, B, 2) m
    init_position: torch.Tensor  # (B, 2) m
    heading: torch.Tensor  # (T, B) rad
    speed: torch.Tensor  # (T, B) m/s

    @property
    def seq_len(self) -> int:
        return int(self.position.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.position.shape[1])

    def path(self) -> torch.Tensor:
        """(T + 1, B, 2) m: the start position followed by the position after every step."""
        return torch.cat([self.init_position[None], self.position])

    def to(self, device: str | torch.device) -> Trajectories:
        return Trajectories(*(getattr(self, name).to(device) for name in
                              ("velocity", "position", "init_position", "heading", "speed")))


def wrap_angle(angle: torch.Tensor) -> torch.Tensor:
    """Angles wrapped into [-pi, pi)."""
    return torch.remainder(angle + math.pi, 2 * math.pi) - math.pi


def wall_avoidance(position: torch.Tensor, heading: torch.Tensor, box_width: float, box_height: float,
                   border_region: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorscher's ``avoid_wall``: which walkers are near a wall and heading into it, and their turn angle.

    position (B, 2) m, heading (B,) rad -> is_near_wall (B,) bool, turn (B,) rad (0 where not near a wall).
    The nearest wall is the argmin of the distances [W/2 - x, H/2 - y, W/2 + x, H/2 + y] (first one on ties), whose
    outward normals point at angles 0, pi/2, pi, 3 pi/2.
    """
    x, y = position[:, 0], position[:, 1]  # (B,) m
    dists = torch.stack([box_width / 2 - x, box_height / 2 - y, box_width / 2 + x, box_height / 2 + y])  # (4, B) m
    d_wall, wall = dists.min(dim=0)  # (B,) m, (B,) index of the nearest wall
    theta = wall.to(heading.dtype) * (math.pi / 2)  # (B,) rad, wall normal
    a_wall = wrap_angle(heading - theta)  # (B,) rad in [-pi, pi)
    is_near_wall = (d_wall < border_region) & (a_wall.abs() < math.pi / 2)  # (B,)
    turn = torch.where(is_near_wall, torch.sign(a_wall) * (math.pi / 2 - a_wall.abs()), torch.zeros_like(a_wall))
    return is_near_wall, turn


@dataclass(frozen=True)
class WalkNoise:
    """The random numbers of a batch of walks (float64 CPU tensors), drawn by :func:`draw_walk_noise`.

    start: (B, 2) m; heading: (B,) rad; turn_noise: (S, B) rad/s; speed: (S, B) m/s (Rayleigh draws); S = T + 1.
    """

    start: torch.Tensor  # (B, 2) m
    heading: torch.Tensor  # (B,) rad
    turn_noise: torch.Tensor  # (S, B) rad/s
    speed: torch.Tensor  # (S, B) m/s

    @staticmethod
    def cat(parts: Sequence[WalkNoise]) -> WalkNoise:
        """The walks of ``parts`` side by side, as one batch (in order)."""
        return WalkNoise(torch.cat([p.start for p in parts]), torch.cat([p.heading for p in parts]),
                         torch.cat([p.turn_noise for p in parts], 1), torch.cat([p.speed for p in parts], 1))


def draw_walk_noise(task: TaskConfig, generator: torch.Generator, n_batch: int, n_steps: int) -> WalkNoise:
    """Every random number of ``n_batch`` walks of ``n_steps`` steps (burn-in included), from ``generator`` only,
    in a fixed order: start, heading, turn noise, speed."""
    gen_device = generator.device
    f64 = torch.float64

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=generator, dtype=f64, device=gen_device).cpu()

    start = (uniform(n_batch, 2) - 0.5) * torch.tensor([task.box_width, task.box_height], dtype=f64)  # (B, 2) m
    heading = uniform(n_batch) * (2 * math.pi)  # (B,) rad
    turn_noise = torch.randn((n_steps, n_batch), generator=generator, dtype=f64, device=gen_device).cpu()  # (S, B)
    turn_noise = turn_noise * task.turn_sigma  # (S, B) rad/s
    # Rayleigh(scale) by inversion: scale * sqrt(-2 log U), U in (0, 1]
    speed = task.speed_scale * torch.sqrt(-2.0 * torch.log1p(-uniform(n_steps, n_batch)))  # (S, B) m/s
    return WalkNoise(start, heading, turn_noise, speed)


def simulate_walks(task: TaskConfig, noise: WalkNoise,
                   device: str | torch.device | None = None) -> Trajectories:
    """The walks driven by ``noise`` (float64, each walker independent of the others), simulated on the noise's
    device (the CPU for :func:`draw_walk_noise`'s), as float32 :class:`Trajectories` on ``device`` (default CPU),
    without the burn-in step."""
    n_steps, n_batch = noise.speed.shape
    width, height, dt = task.box_width, task.box_height, task.dt
    here = {"dtype": torch.float64, "device": noise.speed.device}
    half = torch.tensor([width / 2, height / 2], **here)  # (2,) m
    position, heading = noise.start, noise.heading  # (B, 2) m, (B,) rad
    positions = torch.empty((n_steps, n_batch, 2), **here)  # (S, B, 2) m, after each step
    displacements = torch.empty((n_steps, n_batch, 2), **here)  # (S, B, 2) m
    headings = torch.empty((n_steps, n_batch), **here)  # (S, B) rad
    for t in range(n_steps):
        speed = noise.speed[t]  # (B,) m/s
        if task.periodic:
            turn = torch.zeros_like(heading)
        else:
            near_wall, turn = wall_avoidance(position, heading, width, height, task.border_region)
            speed = torch.where(near_wall, speed * task.border_slowdown, speed)
        turn = turn + dt * noise.turn_noise[t]  # (B,) rad
        step = (speed * dt)[:, None] * torch.stack([torch.cos(heading), torch.sin(heading)], dim=-1)  # (B, 2) m
        if task.periodic:
            new_position = torch.remainder(position + step + half, 2 * half) - half  # (B, 2) m, wrapped
            displacements[t] = step
        else:
            new_position = torch.minimum(torch.maximum(position + step, -half), half)  # (B, 2) m, clamped
            displacements[t] = new_position - position
        positions[t] = new_position
        headings[t] = heading
        position = new_position
        heading = heading + turn

    out = {"dtype": torch.float32, "device": device if device is not None else "cpu"}
    seq_displacement = displacements[1:]  # (T, B, 2) m
    return Trajectories(
        velocity=(seq_displacement * task.velocity_input_scale).to(**out),  # (T, B, 2)
        position=positions[1:].to(**out),  # (T, B, 2) m
        init_position=positions[0].to(**out),  # (B, 2) m
        heading=wrap_angle(headings[1:]).to(**out),  # (T, B) rad
        speed=(seq_displacement.norm(dim=-1) / dt).to(**out),  # (T, B) m/s
    )


def _sizes(task: TaskConfig, batch_size: int | None, seq_len: int | None) -> tuple[int, int]:
    RunConfig(task=task)  # validates the task section (raises ConfigError naming the field)
    n_batch = task.batch_size if batch_size is None else batch_size
    n_seq = task.seq_len if seq_len is None else seq_len
    check_int("batch_size", n_batch, 1)
    check_int("seq_len", n_seq, 1)
    return n_batch, n_seq


def sample_trajectories(task: TaskConfig, generator: torch.Generator, batch_size: int | None = None,
                        seq_len: int | None = None, device: str | torch.device | None = None) -> Trajectories:
    """Sample ``batch_size`` random walks of ``seq_len`` steps (defaults: the task's), on ``device`` (default CPU).

    Deterministic given the generator's state: the same seed gives the same walk on every device.
    See the module docstring for the burn-in step, clamping and periodic conventions.
    """
    n_batch, n_seq = _sizes(task, batch_size, seq_len)
    return simulate_walks(task, draw_walk_noise(task, generator, n_batch, n_seq + 1), device)  # + 1: burn-in


def sample_trajectory_batches(task: TaskConfig, generators: Sequence[torch.Generator], n_batches: int,
                              batch_size: int | None = None, seq_len: int | None = None,
                              device: str | torch.device | None = None) -> list[list[Trajectories]]:
    """``n_batches`` calls of :func:`sample_trajectories` per generator, simulated as one batch of walks.

    ``out[g][m]`` equals the m-th ``sample_trajectories(task, generators[g], ...)`` in a row (the same random
    numbers, drawn in the same order; the positions agree to float64 rounding before the float32 cast). One simulation
    of ``len(generators) * n_batches * batch_size`` walkers costs a fraction of as many small ones: the time loop's
    overhead is paid once.
    """
    n_batch, n_seq = _sizes(task, batch_size, seq_len)
    check_int("n_batches", n_batches, 1)
    noise = [draw_walk_noise(task, gen, n_batch, n_seq + 1) for gen in generators for _ in range(n_batches)]
    walks = simulate_walks(task, WalkNoise.cat(noise), device)
    parts = [Trajectories(velocity=walks.velocity[:, i:i + n_batch], position=walks.position[:, i:i + n_batch],
                          init_position=walks.init_position[i:i + n_batch], heading=walks.heading[:, i:i + n_batch],
                          speed=walks.speed[:, i:i + n_batch]) for i in range(0, len(noise) * n_batch, n_batch)]
    return [parts[g * n_batches:(g + 1) * n_batches] for g in range(len(generators))]
