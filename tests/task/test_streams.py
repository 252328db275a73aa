"""Counter streams: the hash against a plain-integer reference, the uniforms' law, and independence from neighbours."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gridbook.config import TaskConfig
from gridbook.task.streams import (
    MASK32,
    StreamKeys,
    counter_walk_noise,
    counter_walks,
    lowbias32,
    mul32,
    uniform_draws,
)


def reference_lowbias32(x: int) -> int:
    """Wellons' lowbias32 on Python integers (unbounded, masked by hand)."""
    x &= MASK32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & MASK32
    x ^= x >> 15
    x = (x * 0x846CA68B) & MASK32
    return x ^ (x >> 16)


def test_mul32_is_the_product_modulo_2_to_the_32_without_overflow():
    values = [0, 1, 2**31 - 1, 2**31, 2**32 - 1, 123456789, 3141592653]
    x = torch.tensor(values, dtype=torch.int64)
    for constant in (0x7FEB352D, 0x846CA68B, 0xFFFFFFFF):
        assert mul32(x, constant).tolist() == [(v * constant) % 2**32 for v in values]


def test_lowbias32_equals_the_integer_reference():
    values = [0, 1, 2, 0xDEADBEEF, 2**32 - 1, 987654321]
    assert lowbias32(torch.tensor(values)).tolist() == [reference_lowbias32(v) for v in values]
    assert reference_lowbias32(1) != 1  # the reference hashes


def test_uniforms_are_uniform_in_the_open_interval():
    draws = uniform_draws(StreamKeys([0, 1], "trajectories"), "speed", 7, 200_000).numpy()  # (2, n)
    assert draws.min() > 0 and draws.max() < 1
    for row in draws:
        assert abs(row.mean() - 0.5) < 0.005 and abs(row.var() - 1 / 12) < 0.002
        counts = np.histogram(row, bins=20, range=(0, 1))[0]
        assert counts.min() > 0.95 * len(row) / 20 and counts.max() < 1.05 * len(row) / 20


def test_draws_depend_on_seed_stream_sub_stream_and_batch_but_not_on_neighbours():
    pair = StreamKeys([3, 5], "trajectories")
    alone = StreamKeys([5], "trajectories")
    torch.testing.assert_close(uniform_draws(pair, "start", 11, 50)[1], uniform_draws(alone, "start", 11, 50)[0],
                               rtol=0, atol=0)
    base = uniform_draws(alone, "start", 11, 50)
    for other in (uniform_draws(alone, "start", 12, 50), uniform_draws(alone, "heading", 11, 50),
                  uniform_draws(StreamKeys([5], "dropout"), "start", 11, 50),
                  uniform_draws(StreamKeys([6], "trajectories"), "start", 11, 50)):
        assert not torch.equal(base, other)
        assert abs(np.corrcoef(base[0].numpy(), other[0].numpy())[0, 1]) < 0.5


def test_a_networks_walks_do_not_depend_on_the_networks_beside_it():
    task = TaskConfig(batch_size=8, seq_len=5)
    both = counter_walks(task, StreamKeys([0, 9], "trajectories"), batch=4)
    alone = counter_walks(task, StreamKeys([9], "trajectories"), batch=4)
    torch.testing.assert_close(both.position[:, 8:], alone.position, rtol=0, atol=0)
    torch.testing.assert_close(both.velocity[:, 8:], alone.velocity, rtol=0, atol=0)
    half = torch.tensor([task.box_width, task.box_height]) / 2
    assert bool((both.position.abs() <= half).all())
    path = both.init_position + torch.cumsum(both.velocity, 0) / task.velocity_input_scale  # (T, K B, 2) m
    torch.testing.assert_close(path, both.position, atol=1e-5, rtol=0)


def test_walk_noise_has_the_walks_laws():
    task = TaskConfig()
    noise = counter_walk_noise(task, StreamKeys([1], "trajectories"), batch=0, n_batch=20_000, n_steps=2)
    assert abs(float(noise.turn_noise.mean())) < 0.02 * task.turn_sigma
    assert float(noise.turn_noise.std()) == pytest.approx(task.turn_sigma, rel=0.02)
    rayleigh_mean = task.speed_scale * np.sqrt(np.pi / 2)
    assert float(noise.speed.mean()) == pytest.approx(rayleigh_mean, rel=0.02)
    assert float(noise.heading.min()) >= 0 and float(noise.heading.max()) < 2 * np.pi


def test_bad_sub_stream_and_batch_are_refused():
    keys = StreamKeys([0], "dropout")
    with pytest.raises(ValueError, match="sub='nope' is invalid; allowed values: start"):
        uniform_draws(keys, "nope", 0, 3)
    with pytest.raises(ValueError, match="batch=-1 is invalid"):
        uniform_draws(keys, "start", -1, 3)


def test_a_chunk_of_counters_draws_each_counters_walks():
    task = TaskConfig(batch_size=4, seq_len=3)
    keys = StreamKeys([2, 7], "trajectories")
    chunk = counter_walks(task, keys, [5, 6, 7])  # walkers (k M + m) B + b
    alone = counter_walks(task, keys, 6)  # walkers k B + b
    for k in range(2):
        mine = slice((k * 3 + 1) * 4, (k * 3 + 2) * 4)
        torch.testing.assert_close(chunk.position[:, mine], alone.position[:, k * 4:(k + 1) * 4], rtol=0,
                                   atol=1e-12)
    draws = uniform_draws(keys, "speed", [5, 6], 10)  # (K, M, n)
    torch.testing.assert_close(draws[:, 1], uniform_draws(keys, "speed", 6, 10), rtol=0, atol=0)
