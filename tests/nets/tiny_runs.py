"""Shared helpers of the tests next to this file."""

from __future__ import annotations

import torch

from gridbook.nets.models import BatchedRecurrentNetworks
from gridbook.nets.trainer import train_networks
from gridbook.profiles import profile_config


def tiny(**overrides):
    base = dict(n_hidden=16, n_place_cells=16, batch_size=8, seq_len=5, n_steps=3, eval_batches=1, n_shuffles=0)
    return profile_config("smoke", **{**base, **overrides})


def train(configs, **kwargs):
    return train_networks(configs, device="cpu", progress=False, **kwargs)


def assert_same_weights(a: BatchedRecurrentNetworks, k: int, b: BatchedRecurrentNetworks, j: int, atol=1e-5):
    for name, value in a.state_dict().items():
        torch.testing.assert_close(value[k], b.state_dict()[name][j], atol=atol, rtol=1e-5, msg=name)


def _one_sgd_step(configs):
    start = BatchedRecurrentNetworks.from_configs(configs)
    end = train(configs).networks
    return {name: end.state_dict()[name] - value for name, value in start.state_dict().items()}, start
