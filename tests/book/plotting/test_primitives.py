"""Plot panels (gridbook.book.plotting.primitives): each returns its figure, honours ax=/fig=, and draws the
expected artists (Agg backend)."""

from __future__ import annotations

import matplotlib.pyplot as plt  # the Agg backend comes from tests/conftest.py (MPLBACKEND)
import numpy as np
import pytest

from gridbook.book import plotting


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_set_style_changes_rcparams():
    with plt.rc_context({"axes.spines.top": True}):  # restored afterwards for the other tests
        plotting.set_style()
        assert plt.rcParams["axes.spines.top"] is False


def test_ratemap_grid_one_axis_per_map_with_scores_in_titles():
    maps = np.random.default_rng(0).random((5, 6, 6))
    maps[0, 0, 0] = np.nan
    fig = plotting.ratemap_grid(maps, scores=[0.1, 0.25, -0.3, 1.234, 0.0], titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 5  # the sixth grid slot is removed
    assert [ax.get_title() for ax in fig.axes] == ["a 0.10", "b 0.25", "c -0.30", "d 1.23", "e 0.00"]
    assert all(len(ax.images) == 1 for ax in fig.axes)
    given = plt.figure()
    assert plotting.ratemap_grid(maps[:2], fig=given) is given and len(given.axes) == 2
    with pytest.raises(ValueError, match="scores"):
        plotting.ratemap_grid(maps, scores=[1.0])
    with pytest.raises(ValueError, match="units, ny, nx"):
        plotting.ratemap_grid(maps[0])


def test_score_distributions_hist_and_precomputed_kde():
    fig, ax = plt.subplots()
    groups = {"dos": np.array([0.1, 0.9, 1.2, np.nan]), "gaussian": np.array([-0.2, 0.0, 0.1])}
    assert plotting.score_distributions(groups, ax=ax, threshold=0.8) is fig
    assert len(ax.patches) == 2  # one step histogram per group
    assert len(ax.lines) == 1  # the threshold line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dos", "gaussian"]
    x = np.linspace(-1, 2, 7)
    fig = plotting.score_distributions({"a": (x, np.exp(-x**2)), "b": (x, x**2)}, kind="kde")
    assert len(fig.axes[0].lines) == 2
    np.testing.assert_array_equal(fig.axes[0].lines[1].get_ydata(), x**2)
    with pytest.raises(ValueError, match="kind"):
        plotting.score_distributions(groups, kind="violin")
    with pytest.raises(ValueError, match="precomputed"):
        plotting.score_distributions(groups, kind="kde")


def test_period_histogram_marks_modes():
    fig, ax = plt.subplots()
    assert plotting.period_histogram(np.array([0.3, 0.31, 0.5, np.nan]), modes=[0.3, 0.5], ax=ax, bins=5) is fig
    assert len(ax.patches) == 5 and len(ax.lines) == 2
    assert [line.get_xdata()[0] for line in ax.lines] == [0.3, 0.5]


def test_fourier_power_image_and_radial_profile():
    power = np.random.default_rng(2).random((9, 9))
    fig, ax = plt.subplots()
    assert plotting.fourier_power_image(power, (-20.0, 20.0), ax=ax, k_max=15.0, k_star=9.8) is fig
    assert ax.images[0].get_extent() == [-20.0, 20.0, -20.0, 20.0]
    assert ax.get_xlim() == (-15.0, 15.0) and len(ax.patches) == 1
    with pytest.raises(ValueError, match="k_extent"):
        plotting.fourier_power_image(power, (1.0, 2.0, 3.0))
    k = np.linspace(0, 30, 31)
    fig = plotting.radial_profile(k, 2 * np.exp(-k), k_star=9.8, label="gaussian", normalise=True)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.lines[0].get_ydata().max() == pytest.approx(1.0)


def test_trajectory_plot_draws_box_and_paths():
    positions = np.random.default_rng(3).uniform(-1, 1, size=(20, 15, 2))
    fig, ax = plt.subplots()
    assert plotting.trajectory_plot(positions, box=(2.2, 2.2), ax=ax, max_paths=4) is fig
    assert len(ax.lines) == 4 and len(ax.patches) == 1
    assert len(plotting.trajectory_plot(positions[:, 0]).axes[0].lines) == 1
    with pytest.raises(ValueError, match="positions"):
        plotting.trajectory_plot(np.zeros((5, 3)))


def test_tuning_curves_one_line_per_curve():
    x = np.linspace(-1.1, 1.1, 50)
    values = np.stack([np.exp(-(x - c) ** 2 / 0.02) for c in (-0.5, 0.0, 0.5)], axis=1)
    fig, ax = plt.subplots()
    assert plotting.tuning_curves(x, values, ax=ax, labels=["a", "b", "c"]) is fig
    assert len(ax.lines) == 4  # three curves and the zero line
    with pytest.raises(ValueError, match="labels"):
        plotting.tuning_curves(x, values, labels=["a"])
    with pytest.raises(ValueError, match="values"):
        plotting.tuning_curves(x, values[:10])
