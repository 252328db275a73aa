"""The chapters' figures, composed from the panels of :mod:`gridbook.book.plotting.primitives`.

Each function draws precomputed values (tables and arrays from :mod:`gridbook.book.chapters` and the analysis), computes
no analysis, takes ``fig=None`` (a new figure) or a figure to draw on, and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gridbook.book.plotting.primitives import (
    RATEMAP_CMAP,
    fourier_power_image,
    period_histogram,
    radial_profile,
    score_distributions,
    show_image,
    trajectory_plot,
    tuning_curves,
)

__all__ = ["best_unit_panels", "grid_score_demo", "pattern_panels", "period_histograms", "period_trend_figure",
           "predictivity_scatter", "scores_and_best_maps", "spectrum_panels", "success_and_survival",
           "task_success_bars", "theory_map_panels", "threshold_curves", "target_code_panels", "walk_panels"]


def _figure(fig: Figure | None, figsize: tuple[float, float]) -> Figure:
    return plt.figure(figsize=figsize) if fig is None else fig


# ---- methods ---------------------------------------------------------------------------------------------------------
def walk_panels(paths: Mapping[str, np.ndarray], box: tuple[float, float], fig: Figure | None = None) -> Figure:
    """One panel per ``{title: paths (T+1, B, 2) m}``, each path from its start (a dot) inside the box."""
    fig = _figure(fig, (4.5 * len(paths), 4.4))
    for ax, (title, path) in zip(fig.subplots(1, len(paths), squeeze=False)[0], paths.items(), strict=True):
        trajectory_plot(path, box=box, ax=ax, max_paths=path.shape[1])
        ax.plot(path[0, :, 0], path[0, :, 1], "k.", ms=4)
        ax.set_title(title)
    fig.suptitle("The random walk of the path-integration task (dots: start)")
    return fig


def target_code_panels(codes: Mapping[str, Any], fig: Figure | None = None) -> Figure:
    """Per target, one output unit's code over the box (top) and along x through its centre (bottom); ``codes`` maps
    names to :class:`gridbook.book.chapters.UnitCode`."""
    fig = _figure(fig, (2.1 * len(codes), 4.4))
    axes = fig.subplots(2, len(codes), squeeze=False, gridspec_kw={"height_ratios": [1, 0.7]})
    for k, (name, code) in enumerate(codes.items()):
        extent = (code.axis[0], code.axis[-1], code.axis[0], code.axis[-1])
        show_image(axes[0, k], code.image, "viridis", extent=extent)
        axes[0, k].set_title(name)
        tuning_curves(code.axis, code.cut, ax=axes[1, k], xlabel="x (m)", ylabel="")
        axes[1, k].set_yticks([])
    fig.suptitle("Target code of one output unit: over the box (top) and along x through its centre (bottom)")
    return fig


def grid_score_demo(maps: Mapping[str, np.ndarray], sacs: np.ndarray, rotated: Sequence[Mapping[float, np.ndarray]],
                    rings: np.ndarray, scores: np.ndarray, fig: Figure | None = None) -> Figure:
    """One row per map: the map, its SAC and the SAC's rotations (``rotated[u]``: ``{angle: SAC}``), the SACs shown
    inside the map's best ring (``rings`` (U, 2n-1, 2n-1) bool); ``scores`` (U,) min-max score60 in the titles."""
    n_cols = 2 + max(len(r) for r in rotated)
    fig = _figure(fig, (2.4 * n_cols, 2.5 * len(maps)))
    axes = fig.subplots(len(maps), n_cols, squeeze=False)
    for u, (name, image) in enumerate(maps.items()):
        show_image(axes[u, 0], image, RATEMAP_CMAP)
        axes[u, 0].set_title(f"{name}: score60 = {scores[u]:.2f}")
        panels = {"SAC": sacs[u], **{f"rotated {a:g}\N{DEGREE SIGN}": s for a, s in rotated[u].items()}}
        for ax, (title, sac) in zip(axes[u, 1:], panels.items(), strict=True):
            show_image(ax, np.where(rings[u], sac, np.nan), RATEMAP_CMAP)
            ax.set_title(title)
    fig.suptitle("Grid score: the SAC and its rotations inside the best ring")
    return fig


# ---- best units and their scores ------------------------------------------------------------------------------------
def best_unit_panels(maps: Sequence[np.ndarray], sacs: Sequence[np.ndarray], titles: Sequence[str],
                     fig: Figure | None = None) -> Figure:
    """One column per unit: its rate map (top) and its autocorrelogram (bottom)."""
    fig = _figure(fig, (2.6 * max(len(maps), 1), 5.4))
    axes = fig.subplots(2, max(len(maps), 1), squeeze=False)
    for k, (image, sac, title) in enumerate(zip(maps, sacs, titles, strict=True)):
        show_image(axes[0, k], image, RATEMAP_CMAP)
        axes[0, k].set_title(title)
        show_image(axes[1, k], sac, RATEMAP_CMAP)
    return fig


def scores_and_best_maps(scores_by_group: Mapping[str, np.ndarray], maps: Sequence[np.ndarray],
                         titles: Sequence[str], threshold: float, fig: Figure | None = None) -> Figure:
    """Left: the score distribution of each group (histograms, ``threshold`` dashed); right: the best unit of each."""
    fig = _figure(fig, (11, 3.6))
    left, right = fig.add_gridspec(1, 2, width_ratios=[1.4, 1])
    score_distributions(scores_by_group, ax=fig.add_subplot(left), threshold=threshold,
                        xlabel="grid score (min-max form)")
    inner = right.subgridspec(1, max(len(maps), 1))
    for k, (image, title) in enumerate(zip(maps, titles, strict=True)):
        ax = fig.add_subplot(inner[0, k])
        show_image(ax, image, RATEMAP_CMAP)
        ax.set_title(title)
    return fig


# ---- task success and heterogeneity ---------------------------------------------------------------------------------
def task_success_bars(table, threshold_label: str, error_threshold_cm: float, title: str,
                      fig: Figure | None = None) -> Figure:
    """Per target, the fraction of runs that learn and of those the fraction with a unit above the threshold, each
    beside the paper's (grey); ``table`` from :func:`gridbook.book.chapters.task_success_table`."""
    fig = _figure(fig, (11, 4))
    axes = fig.subplots(1, 2, sharey=True)
    table[["learned", "paper learned"]].plot.bar(ax=axes[0], rot=30, color=["C0", "0.7"])
    table[[threshold_label, f"paper {threshold_label}"]].plot.bar(ax=axes[1], rot=30, color=["C1", "0.7"])
    axes[0].set(title=f"fraction with error < {error_threshold_cm:g} cm", ylabel="fraction of runs", ylim=(0, 1.05))
    axes[1].set(title=f"of those, fraction with {threshold_label.split(' |')[0]}")
    fig.suptitle(title)
    return fig


def success_and_survival(errors: Mapping[str, float], survival: Mapping[str, np.ndarray], grid: np.ndarray,
                         error_threshold_cm: float, score_threshold: float, fig: Figure | None = None) -> Figure:
    """Left: the median decoding error per condition (dashed: the task-success threshold); right: the fraction of
    units scoring above each value of ``grid`` per condition (precomputed survival curves)."""
    fig = _figure(fig, (12, 4))
    axes = fig.subplots(1, 2)
    axes[0].barh(list(errors), list(errors.values()), color="C0")
    axes[0].axvline(error_threshold_cm, color="k", ls="--", lw=1)
    axes[0].set(xlabel="decoding error (cm, median over runs)", title="Path integration")
    for name, curve in survival.items():
        axes[1].plot(grid, curve, label=name)
    axes[1].axvline(score_threshold, color="k", ls="--", lw=1)
    axes[1].set(xlabel="grid score s", ylabel="fraction of units with score > s", yscale="log", title="Score survival")
    axes[1].legend(fontsize=8)
    return fig


# ---- sensitivity and modules ----------------------------------------------------------------------------------------
def threshold_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
                     points: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None, xlabel: str = "sigma (cm)",
                     marker_x: float | None = None, title: str = "", ax=None,
                     figsize: tuple[float, float] = (7, 4)) -> Figure:
    """Per threshold label, a line ``(x, mean %)`` and optionally each run's dots ``(x, %)``; ``marker_x`` draws a
    dotted vertical line (e.g. the paper's 12 cm). ``figsize``: of a new figure."""
    fig = ax.figure if ax is not None else plt.figure(figsize=figsize)
    ax = ax if ax is not None else fig.add_subplot()
    for k, (label, (x, y)) in enumerate(curves.items()):
        ax.plot(x, y, "o-" if points is None else "-", color=f"C{k}", label=label)
        if points is not None and label in points:
            ax.plot(*points[label], "o", color=f"C{k}", alpha=0.5, ms=4)
    if marker_x is not None:
        ax.axvline(marker_x, color="0.6", ls=":", lw=1)
    ax.set(xlabel=xlabel, ylabel="% of units above threshold", title=title)
    ax.legend()
    return fig


def period_histograms(groups: Mapping[float, tuple[np.ndarray, np.ndarray]], fig: Figure | None = None) -> Figure:
    """One histogram of grid periods per sigma (m -> ``(periods, modes)``), the modes marked."""
    fig = _figure(fig, (3 * max(len(groups), 1), 2.8))
    for ax, (sigma, (periods, modes)) in zip(fig.subplots(1, len(groups), squeeze=False)[0], groups.items(),
                                             strict=True):
        period_histogram(periods, modes, ax=ax, bins=15)
        ax.set_title(f"sigma = {100 * sigma:.0f} cm ({len(periods)} units)")
    return fig


def period_trend_figure(unit_sigma: np.ndarray, unit_period: np.ndarray, main_modes: Any, theory: Any,
                        ratios: np.ndarray, biological_ratio: float, fig: Figure | None = None) -> Figure:
    """Left: each grid-like unit's period against sigma, the main mode per sigma (a Series indexed by sigma) and the
    theory's periods (a table indexed by sigma); right: the ratios of main modes at neighbouring sigma."""
    fig = _figure(fig, (11, 4))
    axes = fig.subplots(1, 2)
    ax = axes[0]
    ax.plot(100 * np.asarray(unit_sigma), unit_period, ".", color="0.7", label="grid-like units")
    ax.plot(100 * main_modes.index, main_modes.to_numpy(), "o-", color="C0", label="main mode")
    ax.plot(100 * theory.index, theory["period place code (m)"], "--", color="C3", label="theory: place-code spectrum")
    ax.plot(100 * theory.index, theory["period closed form (m)"], ":", color="C2", label="theory: closed-form DoG k*")
    ax.set(xlabel="sigma (cm)", ylabel="grid period (m)", title="Grid period against place-cell width")
    ax.legend(fontsize=8)
    sigmas = main_modes.dropna().index
    names = [f"{100 * a:.0f}->{100 * b:.0f}" for a, b in zip(sigmas[:-1], sigmas[1:], strict=True)]
    axes[1].bar(names, ratios, color="C0")
    axes[1].axhline(biological_ratio, color="k", ls="--", lw=1, label=f"biological ~{biological_ratio}")
    axes[1].axhline(1.0, color="0.6", lw=1)
    axes[1].set(xlabel="neighbouring sigma (cm)", ylabel="ratio of main modes", title="Mode ratios", ylim=(0, 2))
    axes[1].legend()
    return fig


# ---- theory (DoS versus DoG) ----------------------------------------------------------------------------------------
def theory_map_panels(panels: Sequence[tuple[np.ndarray, np.ndarray, Mapping[str, np.ndarray], str, str, str]],
                      log_axes: Sequence[bool] = (), fig: Figure | None = None) -> Figure:
    """One contour map of k* (rad/m) per ``(x, y, theory_maps, xlabel, ylabel, title)``, hatched where no pattern
    forms and outlined at the edge of the pattern-forming region; ``log_axes[i]`` draws panel i on log axes."""
    fig = _figure(fig, (5.5 * len(panels), 4))
    for i, (ax, (x, y, maps, xlabel, ylabel, title)) in enumerate(zip(fig.subplots(1, len(panels), squeeze=False)[0],
                                                                       panels, strict=True)):
        filled = ax.contourf(x, y, np.nan_to_num(maps["k_star"]), levels=12, cmap="viridis")
        ax.contourf(x, y, (~maps["forms"]).astype(float), levels=[0.5, 1.5], colors="none", hatches=["//"])
        ax.contour(x, y, maps["forms"].astype(float), levels=[0.5], colors="w", linewidths=1)
        fig.colorbar(filled, ax=ax, label="k* (rad/m)")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        if i < len(log_axes) and log_axes[i]:
            ax.set(xscale="log", yscale="log")
    return fig


def spectrum_panels(spectra: Mapping[str, Any], k_max: float = 40.0, fig: Figure | None = None) -> Figure:
    """Per code, the Fourier magnitude of its correlation kernel (its peak ring dashed), then all radial profiles
    normalised on one axis; ``spectra`` maps names to :class:`gridbook.book.chapters.CodeSpectrum`."""
    fig = _figure(fig, (3.5 * (len(spectra) + 1), 3.2))
    axes = fig.subplots(1, len(spectra) + 1, squeeze=False)[0]
    for ax, (name, spectrum) in zip(axes, spectra.items(), strict=False):
        fourier_power_image(spectrum.power.power, spectrum.power.k_extent, ax=ax, k_max=k_max,
                            k_star=spectrum.peak_k or None)
        ax.set_title(f"{name}: peak |k| = {spectrum.peak_k:.1f} rad/m", fontsize=9)
        radial_profile(spectrum.k, spectrum.profile, ax=axes[-1], label=name, normalise=True)
    axes[-1].set_xlim(0, k_max)
    return fig


def pattern_panels(patterns: Mapping[str, np.ndarray], scores: Sequence[float], fig: Figure | None = None) -> Figure:
    """The optimal non-negative pattern of each code with its grid score."""
    fig = _figure(fig, (3 * len(patterns), 3))
    for ax, (name, pattern), score in zip(fig.subplots(1, len(patterns), squeeze=False)[0], patterns.items(), scores,
                                          strict=True):
        show_image(ax, pattern, RATEMAP_CMAP)
        ax.set_title(f"{name}: grid score {score:.2f}")
    return fig


# ---- predictivity ---------------------------------------------------------------------------------------------------
def predictivity_scatter(table, title: str, ax=None) -> Figure:
    """Predictivity against participation ratio (log axis), one marker per kind (trained, untrained, random
    features), each point labelled; ``table`` from :func:`gridbook.book.chapters.predictivity_comparison`."""
    fig = ax.figure if ax is not None else plt.figure(figsize=(7, 4.5))
    ax = ax if ax is not None else fig.add_subplot()
    for kind, marker in (("trained", "o"), ("untrained", "s"), ("random features", "^")):
        part = table[table["kind"] == kind]
        ax.plot(part["participation_ratio"], part["predictivity"], marker, ls="none", label=kind)
        for row in part.itertuples():
            ax.annotate(row.label, (row.participation_ratio, row.predictivity), fontsize=7, alpha=0.7)
    ax.set(xscale="log", xlabel="participation ratio of rate maps", ylabel="neural predictivity (median r)",
           title=title)
    ax.legend()
    return fig
