"""Device choice."""

from __future__ import annotations

import torch

from gridbook.nets.devices import pick_device


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device().type in ("cpu", "cuda", "mps")
