"""The panels the book's figures are made of: rate maps, autocorrelograms, score distributions, period histograms,
Fourier spectra, paths and tuning curves. Every function draws precomputed arrays, computes no analysis, takes
``ax=None`` (or ``fig=None`` for multi-panel figures) and returns the figure it drew on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from gridbook.paper import BOX_M

__all__ = ["RATEMAP_CMAP", "fourier_power_image", "new_axes", "period_histogram", "radial_profile",
           "ratemap_grid", "score_distributions", "set_style", "show_image",
           "trajectory_plot", "tuning_curves"]

RATEMAP_CMAP = "jet"  # the convention of the grid-cell literature (Sorscher, Banino, the paper)


def set_style() -> None:
    """The book's matplotlib style: small clean axes, no top/right spines, readable fonts."""
    plt.rcParams.update({
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "font.size": 9,
        "axes.titlesize": 9,
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.interpolation": "nearest",
        "figure.constrained_layout.use": True,
    })


def new_axes(ax: Axes | None, figsize: tuple[float, float] = (3.2, 2.6)) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure of ``figsize`` inches with one axis."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def show_image(ax: Axes, image: np.ndarray, cmap: str, **kwargs: Any) -> None:
    """An image in image order (``origin="lower"``), nearest-neighbour, without ticks; NaN left blank."""
    ax.imshow(np.asarray(image, dtype=float), origin="lower", cmap=cmap, interpolation="nearest", **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


def ratemap_grid(maps: np.ndarray, scores: Sequence[float] | np.ndarray | None = None,
                 titles: Sequence[str] | None = None, ncols: int = 8, fig: Figure | None = None,
                 cmap: str = RATEMAP_CMAP, panel_size: float = 1.1) -> Figure:
    """Rate maps (U, ny, nx) in a grid of ``ncols`` columns, one axis per map; ``scores`` (U,) go in the titles
    (after ``titles`` if both are given). Each map is scaled to its own range."""
    maps = np.asarray(maps, dtype=float)
    if maps.ndim != 3:
        raise ValueError(f"maps has shape {maps.shape}; allowed values: (units, ny, nx)")
    n = maps.shape[0]
    for name, values in (("scores", scores), ("titles", titles)):
        if values is not None and len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries for {n} maps; they must match")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(figsize=(panel_size * ncols, panel_size * nrows + 0.2))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.remove()
            continue
        show_image(ax, maps[i], cmap)
        parts = []
        if titles is not None:
            parts.append(str(titles[i]))
        if scores is not None:
            parts.append(f"{float(scores[i]):.2f}")
        if parts:
            ax.set_title(" ".join(parts), fontsize=7, pad=2)
    return fig


def score_distributions(scores_by_group: Mapping[str, Any], kind: str = "hist", ax: Axes | None = None,
                        bins: int | np.ndarray = 30, threshold: float | None = None,
                        xlabel: str = "grid score", title: str | None = None,
                        figsize: tuple[float, float] = (3.2, 2.6)) -> Figure:
    """One distribution per group, overlaid.

    ``kind="hist"``: values are 1-D arrays of scores, drawn as step histograms normalised to densities (NaN dropped).
    ``kind="kde"``: values are precomputed ``(x, density)`` pairs (estimating a density is analysis), drawn as lines.
    ``threshold`` draws a dashed vertical line (e.g. the 0.8 grid-cell criterion). ``figsize``: of a new figure.
    """
    if kind not in ("hist", "kde"):
        raise ValueError(f"kind={kind!r} is invalid; allowed values: hist, kde")
    fig, ax = new_axes(ax, figsize)
    for label, values in scores_by_group.items():
        if kind == "hist":
            values = np.asarray(values, dtype=float)
            ax.hist(values[np.isfinite(values)], bins=bins, density=True, histtype="step", label=str(label))
        else:
            if not (isinstance(values, (tuple, list)) and len(values) == 2):
                raise ValueError(f"group {label!r}: kind='kde' needs a precomputed (x, density) pair")
            ax.plot(np.asarray(values[0]), np.asarray(values[1]), label=str(label))
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    if scores_by_group:
        ax.legend()
    return fig


def period_histogram(periods: np.ndarray, modes: Sequence[float] | np.ndarray | None = None, ax: Axes | None = None,
                     bins: int | np.ndarray = 30, unit: str = "m") -> Figure:
    """Histogram of grid periods (NaN dropped) with precomputed modes marked by vertical lines."""
    fig, ax = new_axes(ax)
    periods = np.asarray(periods, dtype=float)
    ax.hist(periods[np.isfinite(periods)], bins=bins, color="0.6")
    for mode in np.atleast_1d(modes if modes is not None else []):
        ax.axvline(float(mode), color="C3", linewidth=1.2)
    ax.set_xlabel(f"grid period ({unit})")
    ax.set_ylabel("units")
    return fig


def fourier_power_image(power: np.ndarray, k_extent: Sequence[float], ax: Axes | None = None,
                        k_max: float | None = None, k_star: float | None = None, cmap: str = "magma") -> Figure:
    """A centred 2-D power spectrum; ``k_extent`` is ``(kmin, kmax)`` (both axes) or ``(left, right, bottom, top)``
    in rad/m. ``k_max`` zooms to ``|k| <= k_max``; ``k_star`` draws the predicted ring."""
    fig, ax = new_axes(ax, (2.8, 2.6))
    extent = tuple(float(v) for v in k_extent)
    if len(extent) == 2:
        extent = extent + extent
    if len(extent) != 4:
        raise ValueError(f"k_extent={k_extent!r} is invalid; allowed values: (kmin, kmax) or "
                         "(left, right, bottom, top)")
    ax.imshow(np.asarray(power, dtype=float), origin="lower", extent=extent, cmap=cmap, interpolation="nearest")
    if k_max is not None:
        ax.set_xlim(-k_max, k_max)
        ax.set_ylim(-k_max, k_max)
    if k_star is not None:
        ax.add_patch(Circle((0, 0), float(k_star), fill=False, color="w", linestyle="--", linewidth=0.8))
    ax.set_xlabel("$k_x$ (rad/m)")
    ax.set_ylabel("$k_y$ (rad/m)")
    return fig


def radial_profile(k: np.ndarray, power: np.ndarray, ax: Axes | None = None, k_star: float | None = None,
                   label: str | None = None, normalise: bool = False) -> Figure:
    """A radial power profile against wavenumber (rad/m); ``k_star`` marks a predicted peak; ``normalise`` divides
    by the maximum (display only) so several profiles share an axis."""
    fig, ax = new_axes(ax)
    power = np.asarray(power, dtype=float)
    if normalise:
        power = power / np.nanmax(np.abs(power))
    ax.plot(np.asarray(k, dtype=float), power, label=label)
    if k_star is not None:
        ax.axvline(float(k_star), color="k", linestyle="--", linewidth=0.8)
    ax.set_xlabel("$|k|$ (rad/m)")
    ax.set_ylabel("power")
    if label is not None:
        ax.legend()
    return fig


def trajectory_plot(positions: np.ndarray, box: tuple[float, float] = BOX_M, ax: Axes | None = None,
                    max_paths: int = 10) -> Figure:
    """Paths (T, 2) or (T, B, 2) in metres inside the box (centred on the origin); at most ``max_paths`` drawn."""
    positions = np.asarray(positions, dtype=float)
    if positions.ndim == 2:
        positions = positions[:, None, :]
    if positions.ndim != 3 or positions.shape[-1] != 2:
        raise ValueError(f"positions has shape {positions.shape}; allowed values: (T, 2) or (T, B, 2)")
    fig, ax = new_axes(ax, (2.8, 2.8))
    width, height = box
    ax.add_patch(Rectangle((-width / 2, -height / 2), width, height, fill=False, color="k", linewidth=1))
    for b in range(min(max_paths, positions.shape[1])):
        ax.plot(positions[:, b, 0], positions[:, b, 1], linewidth=0.8)
    ax.set_xlim(-0.55 * width, 0.55 * width)
    ax.set_ylim(-0.55 * height, 0.55 * height)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    return fig


def tuning_curves(x: np.ndarray, values: np.ndarray, ax: Axes | None = None, labels: Sequence[str] | None = None,
                  xlabel: str = "position (m)", ylabel: str = "target activity") -> Figure:
    """Tuning curves along a 1-D slice: ``values`` (N, K) at positions ``x`` (N,), one line per curve (e.g. a few
    place cells of a target encoder evaluated on a line through the box)."""
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != x.shape[0]:
        raise ValueError(f"values has shape {values.shape} for {x.shape[0]} positions; allowed values: (N, K)")
    if labels is not None and len(labels) != values.shape[1]:
        raise ValueError(f"labels has {len(labels)} entries for {values.shape[1]} curves; they must match")
    fig, ax = new_axes(ax)
    for j in range(values.shape[1]):
        ax.plot(x, values[:, j], label=None if labels is None else str(labels[j]))
    ax.axhline(0, color="0.7", linewidth=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if labels is not None:
        ax.legend()
    return fig
