"""Stacked codes: K targets' codes at once equal each target's own code."""

from __future__ import annotations

import pytest
import torch

from gridbook.config import TargetConfig, TaskConfig
from gridbook.task.code_table import CodeTable
from gridbook.task.stacked import StackedCodes
from gridbook.task.targets import make_target


def target(seed: int, periodic: bool = False, **fields):
    config = TargetConfig(n_place_cells=24, **fields)
    return make_target(config, TaskConfig(periodic=periodic), torch.Generator().manual_seed(seed))


KINDS = [dict(target="dos"), dict(target="gaussian", sigma=0.2), dict(target="dog"), dict(target="normalised_dog"),
         dict(target="general_dog", a_e=2.0, a_i=0.5), dict(target="sod"), dict(target="dos", sigma=0.1),
         dict(target="gaussian", sigma_range=(0.06, 0.18)), dict(target="dos", fields_lambda=2.0),
         dict(target="dog", surround_range=(1.5, 2.5), surround_convention="std_ratio")]


@pytest.mark.parametrize("periodic", [False, True])
def test_stacked_codes_equal_each_targets_code(periodic):
    targets = [target(k, periodic, **kind) for k, kind in enumerate(KINDS)]
    stacked = StackedCodes(targets)
    assert len(stacked.groups) < len(targets) and not stacked.singles  # kinds were stacked
    pos = (torch.rand(len(targets), 3, 5, 2, generator=torch.Generator().manual_seed(1)) - 0.5) * 2.2  # m
    codes = stacked.encode(pos)  # (K, 3, 5, Np)
    for k, one in enumerate(targets):
        torch.testing.assert_close(codes[k], one.encode(pos[k]), atol=1e-6, rtol=1e-5)


def test_one_group_in_order_is_written_in_place_and_others_encode_alone():
    same = [target(k, target="dos") for k in range(3)]
    assert StackedCodes(same).whole
    mixed = [CodeTable(same[0], 0.05), same[1], make_target(TargetConfig(target="hd_cartesian", n_place_cells=24),
                                                            TaskConfig(), torch.Generator().manual_seed(0))]
    stacked = StackedCodes(mixed)
    assert stacked.singles == [0, 2] and not stacked.whole
    pos = torch.zeros(3, 4, 2)
    codes = stacked.encode(pos)
    for k, source in enumerate(mixed):
        torch.testing.assert_close(codes[k], source.encode(pos[k]), atol=1e-6, rtol=1e-5)


def test_targets_of_different_code_sizes_do_not_stack():
    with pytest.raises(ValueError, match="share their code size"):
        StackedCodes([target(0, target="dos"), make_target(TargetConfig(target="cartesian"), TaskConfig(),
                                                           torch.Generator())])
