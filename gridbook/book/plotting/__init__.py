"""Figures for the book. Every function draws precomputed arrays or tables, computes no analysis, takes ``ax=None``
(or ``fig=None`` for multi-panel figures) and returns the figure it drew on.

:mod:`~gridbook.book.plotting.primitives` holds the panels (rate maps, autocorrelograms, distributions, spectra,
paths); :mod:`~gridbook.book.plotting.figures` composes them into the chapters' figures. Rate maps and images are drawn
in image order with ``origin="lower"`` (``maps[u, iy, ix]``); NaN bins (unvisited) are left blank.
"""

from gridbook.book.plotting.figures import (
    best_unit_panels,
    grid_score_demo,
    pattern_panels,
    period_histograms,
    period_trend_figure,
    predictivity_scatter,
    scores_and_best_maps,
    spectrum_panels,
    success_and_survival,
    target_code_panels,
    task_success_bars,
    theory_map_panels,
    threshold_curves,
    walk_panels,
)
from gridbook.book.plotting.primitives import (
    fourier_power_image,
    period_histogram,
    radial_profile,
    ratemap_grid,
    score_distributions,
    set_style,
    trajectory_plot,
    tuning_curves,
)

__all__ = [
    "best_unit_panels", "fourier_power_image", "grid_score_demo", "pattern_panels", "period_histogram",
    "period_histograms", "period_trend_figure", "predictivity_scatter", "radial_profile", "ratemap_grid",
    "score_distributions", "scores_and_best_maps", "set_style", "spectrum_panels",
    "success_and_survival", "target_code_panels", "task_success_bars", "theory_map_panels", "threshold_curves",
    "trajectory_plot", "tuning_curves", "walk_panels",
]
