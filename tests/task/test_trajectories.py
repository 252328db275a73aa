import dataclasses
import math

import pytest
import torch

from gridbook.config import TaskConfig
from gridbook.errors import ConfigError
from gridbook.task.trajectories import Trajectories, sample_trajectories, sample_trajectory_batches, wall_avoidance

TASK = TaskConfig()
RAYLEIGH_MEAN = TASK.speed_scale * math.sqrt(math.pi / 2)  # m/s


def walk(task=TASK, seed=0, **kwargs):
    return sample_trajectories(task, torch.Generator().manual_seed(seed), **kwargs)


@pytest.fixture(scope="module")
def big():
    """100,000 steps of the paper's walk."""
    return walk(batch_size=5000, seq_len=20)


def step_starts(traj: Trajectories) -> torch.Tensor:
    """(T, B, 2) position at the start of each step."""
    return torch.cat([traj.init_position[None], traj.position[:-1]])


def wall_distance(pos: torch.Tensor, task=TASK) -> torch.Tensor:
    return torch.minimum(task.box_width / 2 - pos[..., 0].abs(), task.box_height / 2 - pos[..., 1].abs())


def test_shapes_dtypes_and_defaults():
    traj = walk()
    T, B = TASK.seq_len, TASK.batch_size
    assert traj.velocity.shape == (T, B, 2) and traj.position.shape == (T, B, 2)
    assert traj.init_position.shape == (B, 2) and traj.heading.shape == (T, B) and traj.speed.shape == (T, B)
    assert all(x.dtype == torch.float32 and x.device.type == "cpu" for x in dataclasses.astuple(traj))
    short = walk(batch_size=3, seq_len=7)
    assert (short.seq_len, short.batch_size) == (7, 3)


def test_positions_never_leave_the_box(big):
    half = torch.tensor([TASK.box_width / 2, TASK.box_height / 2], dtype=torch.float32)
    assert (big.position.abs() <= half).all() and (big.init_position.abs() <= half).all()


def test_small_box_clamps_steps_and_stays_inside():
    task = dataclasses.replace(TASK, box_width=0.3, box_height=0.2)
    traj = walk(task, batch_size=2000, seq_len=30)
    half = torch.tensor([0.15, 0.1], dtype=torch.float32)
    assert (traj.position.abs() <= half).all()
    assert (traj.position.abs() == half).any(-1).float().mean() > 0.01  # clamping really happened
    recon = traj.init_position + traj.velocity.cumsum(0)  # clamped steps report the displacement actually made
    torch.testing.assert_close(recon, traj.position, atol=2e-6, rtol=0)


def test_input_is_displacement_times_scale():
    scaled = walk(dataclasses.replace(TASK, velocity_input_scale=50.0), seed=3)
    plain = walk(seed=3)
    torch.testing.assert_close(scaled.position, plain.position, atol=0, rtol=0)
    torch.testing.assert_close(scaled.velocity, plain.velocity * 50.0, atol=1e-6, rtol=1e-6)
    recon = plain.init_position + plain.velocity.cumsum(0)
    torch.testing.assert_close(recon, plain.position, atol=2e-6, rtol=0)
    torch.testing.assert_close(plain.velocity.norm(dim=-1), plain.speed * TASK.dt, atol=1e-6, rtol=1e-5)


def test_speed_away_from_walls_is_rayleigh(big):
    far = wall_distance(step_starts(big)) > 0.2  # no slow-down, and no step is long enough to be clamped
    speed = big.speed[far].double()
    assert far.sum() > 50_000
    assert speed.mean().item() == pytest.approx(RAYLEIGH_MEAN, rel=0.01)
    assert speed.square().mean().item() == pytest.approx(2 * TASK.speed_scale**2, rel=0.02)  # E[v^2] = 2 b^2


def test_heading_changes_away_from_walls_have_std_dt_turn_sigma(big):
    turn = torch.remainder(big.heading[1:] - big.heading[:-1] + math.pi, 2 * math.pi) - math.pi  # (T-1, B)
    far = wall_distance(step_starts(big)[:-1]) > TASK.border_region + 0.01  # start of the step that turned
    assert turn[far].std().item() == pytest.approx(TASK.dt * TASK.turn_sigma, rel=0.02)
    assert abs(turn[far].mean().item()) < 0.005


def test_wall_slowdown_and_turn(big):
    starts = step_starts(big).reshape(-1, 2).double()
    near, _ = wall_avoidance(starts, big.heading.reshape(-1).double(), TASK.box_width, TASK.box_height,
                             TASK.border_region)
    assert near.sum() > 1000
    # slowed to 0.25 of the Rayleigh mean (a clamped step is shorter still)
    assert big.speed.reshape(-1)[near].mean().item() / RAYLEIGH_MEAN == pytest.approx(TASK.border_slowdown, abs=0.02)


def test_wall_avoidance_rule_exactly():
    pos = torch.tensor([[1.09, 0.0], [1.09, 0.0], [0.0, -1.08], [0.0, 0.0], [-1.09, 0.5]], dtype=torch.float64)
    hd = torch.tensor([0.3, 2.0, -math.pi / 2 + 0.1, 0.0, math.pi - 0.2], dtype=torch.float64)
    near, turn = wall_avoidance(pos, hd, 2.2, 2.2, 0.03)
    assert near.tolist() == [True, False, True, False, True]
    torch.testing.assert_close(turn, torch.tensor([math.pi / 2 - 0.3, 0, math.pi / 2 - 0.1, 0, -(math.pi / 2 - 0.2)],
                                                  dtype=torch.float64))


def test_start_positions_and_headings_are_uniform(big):
    x = big.init_position.double()
    assert x.mean(0).abs().max().item() < 0.03
    torch.testing.assert_close(x.var(0), torch.full((2,), 2.2**2 / 12, dtype=torch.float64), rtol=0.05, atol=0)
    assert big.heading.min() >= -math.pi and big.heading.max() < math.pi
    assert big.heading[0].double().mean().abs() < 0.1 and big.heading[0].double().cos().mean().abs() < 0.05


def test_same_seed_same_walk_other_seed_other_walk():
    a, b, c = walk(seed=7), walk(seed=7), walk(seed=8)
    for name in ("velocity", "position", "init_position", "heading", "speed"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.position, c.position)


def test_generator_state_advances():
    gen = torch.Generator().manual_seed(0)
    first, second = sample_trajectories(TASK, gen), sample_trajectories(TASK, gen)
    assert not torch.equal(first.position, second.position)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_walk_equals_cpu_walk():
    cpu, gpu = walk(seed=5), walk(seed=5, device="cuda")
    assert gpu.position.device.type == "cuda"
    assert torch.equal(cpu.position, gpu.position.cpu()) and torch.equal(cpu.velocity, gpu.velocity.cpu())


def test_periodic_box_wraps():
    task = dataclasses.replace(TASK, periodic=True, box_width=0.5, box_height=0.4)
    traj = walk(task, batch_size=1000, seq_len=40)
    half = torch.tensor([0.25, 0.2], dtype=torch.float32)
    assert (traj.position.abs() <= half).all()
    unwrapped = traj.init_position + traj.velocity.cumsum(0)
    assert (unwrapped.abs() > half).any(-1).float().mean() > 0.3  # many walkers crossed an edge
    box = 2 * half.double()
    wrapped = torch.remainder(unwrapped.double() + box / 2, box) - box / 2
    gap = torch.remainder(wrapped - traj.position.double() + box / 2, box) - box / 2  # minimum-image difference
    assert gap.abs().max() < 1e-5
    # no wall avoidance: the speed is Rayleigh everywhere, also at the edges
    assert traj.speed.double().mean().item() == pytest.approx(RAYLEIGH_MEAN, rel=0.02)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, r"batch_size=0 is invalid; allowed values: an integer >= 1"),
    ({"seq_len": 2.5}, r"seq_len=2.5 is invalid; allowed values: an integer >= 1"),
])
def test_bad_sizes_raise(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        walk(**kwargs)


def test_bad_task_raises():
    with pytest.raises(ConfigError, match=r"dt=0.0 is invalid; allowed values: > 0"):
        walk(dataclasses.replace(TASK, dt=0.0))


def test_path_is_the_start_then_every_position():
    walks = sample_trajectories(TaskConfig(batch_size=3, seq_len=4), torch.Generator().manual_seed(0))
    path = walks.path()
    assert path.shape == (5, 3, 2)
    torch.testing.assert_close(path[0], walks.init_position)
    torch.testing.assert_close(path[1:], walks.position)


@pytest.mark.parametrize("periodic", [False, True])
def test_batches_simulated_together_equal_batches_sampled_one_by_one(periodic):
    task = dataclasses.replace(TASK, periodic=periodic, batch_size=16, seq_len=7)
    together = sample_trajectory_batches(task, [torch.Generator().manual_seed(s) for s in (0, 1, 2)], n_batches=4)
    assert [len(chunk) for chunk in together] == [4, 4, 4]
    for seed, chunk in zip((0, 1, 2), together, strict=True):
        generator = torch.Generator().manual_seed(seed)
        for batch in chunk:
            alone = sample_trajectories(task, generator)
            for name in ("velocity", "position", "init_position", "heading", "speed"):
                torch.testing.assert_close(getattr(batch, name), getattr(alone, name), rtol=0, atol=1e-6, msg=name)
    other = sample_trajectory_batches(task, [torch.Generator().manual_seed(0)], n_batches=2)[0]
    assert not torch.equal(other[0].position, other[1].position)  # each batch has its own walks


def test_batches_need_a_positive_count():
    with pytest.raises(ConfigError, match="n_batches"):
        sample_trajectory_batches(TASK, [torch.Generator()], n_batches=0)
