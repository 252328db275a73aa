"""The chapters' figures (gridbook.book.plotting.figures): each draws what it is given on its own or a given figure."""

from __future__ import annotations

import matplotlib.pyplot as plt  # the Agg backend comes from tests/conftest.py (MPLBACKEND)
import numpy as np
import pandas as pd
import pytest

from gridbook import book, plotting, profile_config
from gridbook.analysis.synthetic import HEXAGONAL, lattice_map


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_walk_and_target_code_panels():
    paths = np.cumsum(np.random.default_rng(0).normal(0, 0.01, (30, 4, 2)), axis=0)  # (T+1, B, 2) m
    given = plt.figure()
    fig = plotting.walk_panels({"a": paths, "b": paths[:, :2]}, box=(2.2, 2.2), fig=given)
    assert fig is given and [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert len(fig.axes[0].lines) == 4 + 1 and len(fig.axes[1].lines) == 2 + 1  # paths and the start dots
    codes = book.unit_codes(profile_config("smoke"), ["cartesian", "dos"], n_points=9)
    fig = plotting.target_code_panels(codes)
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == "cartesian"
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), codes["dos"].image)


def test_grid_score_demo_masks_the_sacs_by_ring():
    maps = {"hex": lattice_map(12, 4, HEXAGONAL), "noise": np.random.default_rng(1).normal(size=(12, 12))}
    sacs = np.random.default_rng(2).normal(size=(2, 23, 23))
    rings = np.zeros((2, 23, 23), bool)
    rings[:, 5:10, 5:10] = True
    fig = plotting.grid_score_demo(maps, sacs, [{30: sacs[0]}, {30: sacs[1]}], rings, np.array([1.234, -0.5]))
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "hex: score60 = 1.23"
    shown = np.ma.filled(fig.axes[1].images[0].get_array(), np.nan)  # imshow masks NaN
    assert np.isnan(shown[0, 0]) and shown[6, 6] == sacs[0, 6, 6]


def test_best_units_scores_and_distributions():
    maps = np.random.default_rng(3).random((3, 6, 6))
    fig = plotting.best_unit_panels(maps, maps, ["a", "b", "c"])
    assert len(fig.axes) == 6 and [ax.get_title() for ax in fig.axes] == ["a", "b", "c", "", "", ""]
    np.testing.assert_array_equal(fig.axes[4].images[0].get_array(), maps[1])  # the second unit's SAC
    fig = plotting.scores_and_best_maps({"dos": np.array([0.1, 0.9]), "dog": np.array([0.0, 0.2])}, maps[:2],
                                        ["dos", "dog"], threshold=0.8)
    assert len(fig.axes) == 3 and len(fig.axes[0].patches) == 2


def test_task_success_and_heterogeneity_figures():
    table = pd.DataFrame({"learned": [0.5, 1.0], "paper learned": [0.9, 0.2], "grid > 0.8 | learned": [0.0, 1.0],
                          "paper grid > 0.8 | learned": [0.1, 0.9]}, index=["gaussian", "dos"])
    fig = plotting.task_success_bars(table, "grid > 0.8 | learned", 10.0, "title")
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 4
    grid = np.linspace(-1, 2, 5)
    fig = plotting.success_and_survival({"baseline": 4.0, "multi": 30.0}, {"baseline": np.ones(5)}, grid, 10.0, 0.8)
    assert len(fig.axes[0].patches) == 2 and len(fig.axes[1].lines) == 2  # one curve and the threshold


def test_sensitivity_and_module_figures():
    fig = plotting.threshold_curves({"score > 0.3": ([11, 12, 13], [1.0, 5.0, 2.0])},
                                    {"score > 0.3": ([11, 12], [1.0, 6.0])}, marker_x=12)
    assert len(fig.axes[0].lines) == 3
    groups = {0.12: (np.array([0.3, 0.31, 0.5]), np.array([0.3])), 0.14: (np.array([0.4]), np.array([0.4]))}
    assert len(plotting.period_histograms(groups).axes) == 2
    modes = pd.Series([0.3, 0.33, np.nan], index=[0.10, 0.12, 0.14])
    theory = pd.DataFrame({"period place code (m)": [0.3, 0.32, 0.34], "period closed form (m)": [0.2, 0.22, 0.24]},
                          index=[0.10, 0.12, 0.14])
    fig = plotting.period_trend_figure([0.1, 0.12], [0.3, 0.33], modes, theory, np.array([1.1]), 1.4)
    assert len(fig.axes[1].patches) == 1  # one ratio, between the two sigma values with a mode


def test_theory_and_predictivity_figures():
    x, y = np.meshgrid(np.linspace(0.1, 0.2, 4), np.linspace(1.5, 3.0, 4))
    maps = book.theory_maps(x, y)
    fig = plotting.theory_map_panels([(x, y, maps, "sigma", "s", "one"), (x, y, maps, "a", "b", "two")],
                                     log_axes=(False, True))
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["one", "two"]
    assert (fig.axes[0].get_xscale(), fig.axes[1].get_xscale()) == ("linear", "log")
    patterns = {"a": np.random.default_rng(4).random((8, 8))}
    assert plotting.pattern_panels(patterns, [0.5]).axes[0].get_title() == "a: grid score 0.50"
    table = pd.DataFrame({"kind": ["trained", "random features"], "participation_ratio": [2.0, 8.0],
                          "predictivity": [0.1, 0.3], "label": ["net", "rf"]})
    fig = plotting.predictivity_scatter(table, "t")
    assert len(fig.axes[0].lines) == 3 and len(fig.axes[0].texts) == 2  # trained, untrained (empty), random
