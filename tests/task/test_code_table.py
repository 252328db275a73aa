"""Codes read from a table equal the exact codes within the table's stated error, and training uses them only when
asked."""

from __future__ import annotations

import pytest
import torch

from gridbook.errors import ConfigError
from gridbook.profiles import profile_config
from gridbook.task.code_table import CodeTable, table_error, training_code
from gridbook.task.targets import make_target


def _target(**overrides):
    config = profile_config("quick", **overrides)
    return make_target(config.target, config.task, torch.Generator().manual_seed(0))


def test_the_table_holds_the_exact_code_at_its_grid_points():
    target = _target()
    table = CodeTable(target, 0.01)
    (nx, ny), (hx, hy) = table.shape, table.spacing
    assert (nx, ny) == (221, 221) and hx == pytest.approx(0.01) and hy == pytest.approx(0.01)
    ix, iy = torch.tensor([0, 17, 220]), torch.tensor([5, 200, 220])
    points = torch.stack([-1.1 + ix * hx, -1.1 + iy * hy], 1)  # (3, 2) m, on the grid
    exact = target.encode(points)
    # float32 puts a grid point up to ~1e-7 m off the grid, a ~1e-5 share of the next point's code in its
    # interpolation (~3e-7 here, depending on the CPU's rounding); the next grid point's code differs by far more
    torch.testing.assert_close(table.encode(points), exact, rtol=0, atol=1e-6)
    assert (target.encode(points + torch.tensor([hx, 0.0])) - exact).abs().max() > 1e-4


@pytest.mark.parametrize("overrides", [{}, {"target": "dog"}, {"sigma_range": (0.06, 0.18)}, {"fields_lambda": 2.0},
                                       {"target": "gaussian"}, {"periodic": True}])
def test_between_grid_points_the_table_is_within_its_stated_error(overrides):
    target = _target(**overrides)
    error = table_error(target, 0.005, n_positions=4000)
    assert error["max_abs"] < 0.05 and error["mean_tv"] < 2e-3  # 5 mm: the quick profile's spacing
    assert error["rel_signal"] < 2e-3  # also against the code's variation across cells (the true DoG has little)
    coarse = table_error(target, 0.04, n_positions=4000)
    assert coarse["mean_tv"] > 4 * error["mean_tv"]  # the measure sees a coarser table


def test_interpolated_codes_are_distributions():
    target = _target()
    pos = (torch.rand(500, 2, generator=torch.Generator().manual_seed(1)) - 0.5) * 2.2
    code = CodeTable(target, 0.005).encode(pos)  # (500, Np)
    assert code.shape == (500, 256) and bool((code >= 0).all())
    torch.testing.assert_close(code.sum(-1), torch.ones(500), atol=1e-5, rtol=0)


def test_training_tabulates_place_cell_codes_only_when_asked():
    place = _target()
    assert training_code(place, 0.0) is place
    assert isinstance(training_code(place, 0.005), CodeTable)
    cartesian = _target(target="cartesian")
    assert training_code(cartesian, 0.005) is cartesian  # affine codes are exact and cheap


def test_invalid_spacing_is_refused():
    with pytest.raises(ConfigError, match="code_table=-0.01 is invalid"):
        profile_config("quick", code_table=-0.01)
    with pytest.raises(ConfigError, match="code_table"):
        CodeTable(_target(), 0.0)
    with pytest.raises(ValueError, match="only place-cell codes are tabulated"):
        CodeTable(_target(target="cartesian"), 0.01)
