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
from dataclasses import dataclass

import torch

from gridbook.config import RunConfig, TaskConfig
from gridbook.errors import check_int

__all__ = ["Trajectories", "sample_trajectories", "wall_avoidance"]


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


def sample_trajectories(task: TaskConfig, generator: torch.Generator, batch_size: int | None = None,
                        seq_len: int | None = None, device: str | torch.device | None = None) -> Trajectories:
    """Sample ``batch_size`` random walks of ``seq_len`` steps (defaults: the task's), on ``device`` (default CPU).

    Deterministic given the generator's state: the same seed gives the same walk on every device.
    See the module docstring for the burn-in step, clamping and periodic conventions.
    """
    RunConfig(task=task)  # validates the task section (raises ConfigError naming the field)
    n_batch = task.batch_size if batch_size is None else batch_size
    n_seq = task.seq_len if seq_len is None else seq_len
    check_int("batch_size", n_batch, 1)
    check_int("seq_len", n_seq, 1)
    n_steps = n_seq + 1  # one burn-in step, as in Sorscher et al.
    width, height, dt = task.box_width, task.box_height, task.dt

    # all random numbers first, from the generator only, in a fixed order
    gen_device = generator.device
    f64 = torch.float64

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=generator, dtype=f64, device=gen_device).cpu()

    start = (uniform(n_batch, 2) - 0.5) * torch.tensor([width, height], dtype=f64)  # (B, 2) m
    heading = uniform(n_batch) * (2 * math.pi)  # (B,) rad
    turn_noise = torch.randn((n_steps, n_batch), generator=generator, dtype=f64, device=gen_device).cpu()  # (S, B)
    turn_noise = turn_noise * task.turn_sigma  # (S, B) rad/s
    # Rayleigh(scale) by inversion: scale * sqrt(-2 log U), U in (0, 1]
    drawn_speed = task.speed_scale * torch.sqrt(-2.0 * torch.log1p(-uniform(n_steps, n_batch)))  # (S, B) m/s

    half = torch.tensor([width / 2, height / 2], dtype=f64)  # (2,) m
    position = start  # (B, 2) m
    positions = torch.empty((n_steps, n_batch, 2), dtype=f64)  # (S, B, 2) m, after each step
    displacements = torch.empty((n_steps, n_batch, 2), dtype=f64)  # (S, B, 2) m
    headings = torch.empty((n_steps, n_batch), dtype=f64)  # (S, B) rad
    for t in range(n_steps):
        speed = drawn_speed[t]  # (B,) m/s
        if task.periodic:
            turn = torch.zeros_like(heading)
        else:
            near_wall, turn = wall_avoidance(position, heading, width, height, task.border_region)
            speed = torch.where(near_wall, speed * task.border_slowdown, speed)
        turn = turn + dt * turn_noise[t]  # (B,) rad
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
