"""The methods chapter: the target codes of a line of positions, per target. Pure functions on the tables of
:mod:`gridbook.runs.load` and on arrays; the notebook holds prose, parameters and calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gridbook.task.targets import make_target

__all__ = [
    'UnitCode', 'unit_codes',
]


@dataclass(frozen=True)
class UnitCode:
    """One output unit of a target code: its value over the box (``image`` (n, n), image order, on ``axis`` (n,) m
    along both x and y) and along x through the unit's centre (``cut`` (n,))."""

    axis: np.ndarray
    image: np.ndarray
    cut: np.ndarray


def unit_codes(config, targets: Sequence[str], seed: int = 0, n_points: int = 89) -> dict[str, UnitCode]:
    """For each target (with the other fields of ``config``, a RunConfig, and centres drawn from ``seed``), the code
    of the output unit nearest the box centre (unit 0 for codes without centres) on an ``n_points`` grid."""
    half_width = config.task.box_width / 2
    axis = np.linspace(-half_width, half_width, n_points)  # (n,) m
    grid = torch.tensor(np.stack(np.meshgrid(axis, axis), axis=-1), dtype=torch.float32)  # (n, n, 2) m
    codes = {}
    for name in targets:
        encoder = make_target(config.replace(target=name).target, config.task, torch.Generator().manual_seed(seed))
        unit = 0 if encoder.centres is None else int(encoder.centres.norm(dim=-1).argmin())
        image = encoder.encode(grid)[..., unit].numpy()  # (n, n)
        centre_y = 0.0 if encoder.centres is None else float(encoder.centres[unit, 1])
        codes[name] = UnitCode(axis=axis, image=image, cut=image[int(np.abs(axis - centre_y).argmin())])
    return codes
