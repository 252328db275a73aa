"""What the chapters of the book share: the profile box every chapter shows, and small analyses of the part-2
chapters (score fractions per sigma, period tables, theory maps over a parameter grid, survival curves, conditions of
the heterogeneity sweep and the predictivity table).

Pure functions on the tables of :mod:`gridbook.runs.store` (``load_results`` / ``load_units``) and on arrays; the
notebooks hold prose, parameters and calls only.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gridbook.analysis.periods import period_modes
from gridbook.analysis.theory import optimal_wavenumber, pattern_forms, predicted_grid_period
from gridbook.config import PROFILE_DEVIATIONS, PROFILE_OVERRIDES, PROFILES
from gridbook.errors import check_choice, check_int
from gridbook.paper import SCORE_THRESHOLDS, SPIKE_SIGMA_M


# ---- the profile box ----------------------------------------------------------------------------------------------
def deviation_table(profile: str):
    """Where ``profile`` departs from the paper, as a DataFrame (field, paper, this profile, why)."""
    import pandas as pd

    check_choice("profile", profile, PROFILES)
    rows = [(f, str(p), str(v), why) for f, p, v, why in PROFILE_DEVIATIONS[profile]]
    return pd.DataFrame(rows, columns=["field", "paper", f"{profile} profile", "why"])


def profile_box_html(profile: str, n_runs: int) -> str:
    """The HTML of :func:`profile_box` (an admonition the book theme styles)."""
    check_choice("profile", profile, PROFILES)
    check_int("n_runs", n_runs, 0)
    runs = "no trained networks" if n_runs == 0 else f"{n_runs} trained network{'s' * (n_runs != 1)}"
    rows = "".join(
        f"<tr><td><code>{html.escape(str(f))}</code></td><td>{html.escape(str(p))}</td>"
        f"<td>{html.escape(str(v))}</td><td>{html.escape(why)}</td></tr>"
        for f, p, v, why in PROFILE_DEVIATIONS[profile])
    overrides = ", ".join(f"{k}={v}" for k, v in PROFILE_OVERRIDES[profile].items())
    return (
        f'<div class="admonition note gridbook-profile">'
        f'<p class="admonition-title">Built with the <strong>{profile}</strong> profile: {runs}</p>'
        f"<p>Where the <code>{profile}</code> profile departs from the paper "
        f"(overrides: <code>{html.escape(overrides)}</code>):</p>"
        f'<table class="table"><thead><tr><th>field</th><th>paper</th><th>{profile}</th><th>why</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div>")


def profile_box(profile: str, n_runs: int):
    """A box naming the profile that built a chapter, its run count and the profile's deviations from the paper
    (from :data:`gridbook.config.PROFILE_DEVIATIONS`); an IPython display object."""
    from IPython.display import HTML

    return HTML(profile_box_html(profile, n_runs))


# ---- part-2 analyses ----------------------------------------------------------------------------------------------
def threshold_percentages(results, thresholds: Sequence[float] = SCORE_THRESHOLDS, by: str = "sigma"):
    """Percentage of units above each score threshold, per value of ``by``: mean, min and max over the runs (seeds).

    ``results`` is a ``load_results`` table (columns ``frac_units_above_<t>``). Returns a DataFrame indexed by ``by``
    with columns ``(threshold, stat)`` for stat in mean, min, max, and ``runs``.
    """
    import pandas as pd

    missing = [t for t in thresholds if f"frac_units_above_{t}" not in results.columns]
    if missing:
        raise ValueError(f"thresholds {missing} have no frac_units_above_<t> column; allowed values: "
                         f"{', '.join(map(str, SCORE_THRESHOLDS))}")
    grouped = results.groupby(by)
    parts = {(t, stat): 100 * getattr(grouped[f"frac_units_above_{t}"], stat)()
             for t in thresholds for stat in ("mean", "min", "max")}
    table = pd.DataFrame(parts)
    table[("runs", "")] = grouped.size()
    return table.sort_index()


def split_surround_sweep(results, surround_scale: float = 2.0):
    """A sensitivity table split in two: the sigma sweep (runs at ``surround_scale``, the paper's s = 2) and the
    surround sweep (every run at the sigma of the runs with another s). Returns ``(sigma_runs, surround_runs)``;
    the second is empty when no run changes s."""
    at_s = np.isclose(results["surround_scale"].astype(float), surround_scale)
    sigma_runs = results.loc[at_s].reset_index(drop=True)
    others = results.loc[~at_s]
    if len(others) == 0:
        return sigma_runs, others.reset_index(drop=True)
    same_sigma = np.isin(results["sigma"].round(4), others["sigma"].round(4).unique())
    return sigma_runs, results.loc[same_sigma].reset_index(drop=True)


def spike_contrast(curve, at: float = SPIKE_SIGMA_M) -> float:
    """How much a curve (a Series indexed by sigma) stands out at ``at``: its value there minus the larger of its two
    neighbours' values (NaN when ``at`` or a neighbour is missing). Positive: a peak at ``at``."""
    index = np.asarray(curve.index, dtype=float)
    where = np.flatnonzero(np.isclose(index, at))
    if where.size != 1 or where[0] == 0 or where[0] == index.size - 1:
        return float("nan")
    i = int(where[0])
    values = np.asarray(curve, dtype=float)
    return float(values[i] - max(values[i - 1], values[i + 1]))


def grid_unit_periods(units, results, score_threshold: float = 0.3, by: str = "sigma"):
    """The grid-like units (``score60_min_max > score_threshold`` and a finite period) with ``by`` and ``seed``
    joined from ``results``."""
    merged = units.merge(results[["run_id", by, "seed"]], on="run_id")
    keep = (merged["score60_min_max"] > score_threshold) & np.isfinite(merged["period_m"].astype(float))
    return merged.loc[keep].reset_index(drop=True)


def safe_modes(periods) -> np.ndarray:
    """:func:`gridbook.analysis.scores.period_modes`, or the single value (one distinct period) or nothing."""
    values = np.asarray(periods, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([])
    if values.size < 2 or np.ptp(values) == 0:
        return np.array([float(values[0])])
    return period_modes(values)


def period_table(grid_units, by: str = "sigma"):
    """Per value of ``by``: number of grid-like units, their kernel-density modes (m), the main mode (the mode
    nearest the median period) and the number of modes."""
    import pandas as pd

    rows = []
    for value, group in grid_units.groupby(by):
        periods = group["period_m"].to_numpy(dtype=float)
        modes = safe_modes(periods)
        main = float(modes[np.argmin(np.abs(modes - np.median(periods)))]) if modes.size else float("nan")
        rows.append({by: value, "grid units": len(group), "modes (m)": tuple(np.round(modes, 3)),
                     "n modes": int(modes.size), "main mode (m)": main})
    return pd.DataFrame(rows, columns=[by, "grid units", "modes (m)", "n modes", "main mode (m)"]).set_index(by)


def modes_per_run(grid_units):
    """Number of period modes within each network (run): more than one would be several modules in one network."""
    import pandas as pd

    counts = {run_id: int(safe_modes(g["period_m"]).size) for run_id, g in grid_units.groupby("run_id")}
    return pd.Series(counts, name="n modes", dtype=int)


def surround_std(sigma: Any, surround_scale: Any, convention: str = "variance_ratio") -> np.ndarray:
    """Surround standard deviation (m) for a centre width ``sigma`` and surround scale ``s`` under a convention of
    :data:`gridbook.config.SURROUND_CONVENTIONS`: ``variance_ratio`` sqrt(s) sigma (Sorscher), ``std_ratio`` s sigma."""
    if convention not in ("variance_ratio", "std_ratio"):
        raise ValueError(f"convention={convention!r} is invalid; allowed values: std_ratio, variance_ratio")
    sigma, s = np.asarray(sigma, dtype=float), np.asarray(surround_scale, dtype=float)
    return sigma * (np.sqrt(s) if convention == "variance_ratio" else s)


def theory_maps(sigma: Any, surround_scale: Any, a_e: Any = 1.0, a_i: Any = 1.0, cell_density: float = 1.0,
                convention: str = "variance_ratio", dim: int = 2) -> dict[str, np.ndarray]:
    """The closed-form k* (rad/m), the hexagonal period it predicts (m) and the pattern-forming condition of the DoG
    interaction, broadcast over arrays of ``sigma`` (m), ``surround_scale``, ``a_e`` and ``a_i`` (e.g. meshgrids).

    The condition ``f~(k*) > 1`` is for a field of unit neuron density; ``cell_density`` (cells per m^2, or per m in
    1-D) scales the interaction, so the threshold is ``1 / cell_density``.
    """
    if not cell_density > 0:
        raise ValueError(f"cell_density={cell_density!r} is invalid; allowed values: > 0 (cells per m^dim)")
    sigma_i = surround_std(sigma, surround_scale, convention)
    k_star = np.asarray(optimal_wavenumber(a_e, a_i, sigma, sigma_i, dim=dim), dtype=float)
    forms = np.asarray(pattern_forms(a_e, a_i, sigma, sigma_i, dim=dim, threshold=1.0 / cell_density))
    with np.errstate(divide="ignore", invalid="ignore"):
        period = np.where(k_star > 0, 4 * math.pi / (math.sqrt(3) * np.where(k_star > 0, k_star, 1.0)), np.nan)
    return {"k_star": k_star, "period_m": period, "forms": forms}


def theory_periods(config, sigmas: Sequence[float], seed: int = 0, n_grid: int = 44):
    """Predicted grid period (m) at each sigma: from the peak of the Fourier power of the target's own place-cell
    correlation (Sorscher et al.'s theory, exact for the encoder trained on) and from the closed-form DoG k* (2-D),
    with the other fields of ``config`` (a RunConfig) kept. Returns a DataFrame indexed by sigma."""
    import pandas as pd
    import torch

    from gridbook.analysis.theory import place_cell_covariance, place_cell_peak_wavenumber
    from gridbook.task.targets import make_target

    rows = []
    for sigma in sigmas:
        cfg = config.replace(sigma=float(sigma))
        encoder = make_target(cfg.target, cfg.task, torch.Generator().manual_seed(seed))
        box = (cfg.task.box_width, cfg.task.box_height)
        k_code = place_cell_peak_wavenumber(place_cell_covariance(encoder, n_grid=n_grid, box=box))
        k_dog = float(optimal_wavenumber(1.0, 1.0, sigma, float(surround_std(sigma, cfg.target.surround_scale,
                                                                            cfg.target.surround_convention)), dim=2))
        rows.append({"sigma": float(sigma), "k place code (rad/m)": k_code,
                     "period place code (m)": float(predicted_grid_period(k_code)) if k_code > 0 else float("nan"),
                     "k* closed form (rad/m)": k_dog, "period closed form (m)": float(predicted_grid_period(k_dog))})
    return pd.DataFrame(rows).set_index("sigma")


def survival_curve(scores, grid) -> np.ndarray:
    """Fraction of the finite ``scores`` strictly above each value of ``grid`` (NaN if there are none)."""
    scores = np.asarray(scores, dtype=float)
    scores = scores[np.isfinite(scores)]
    grid = np.asarray(grid, dtype=float)
    if scores.size == 0:
        return np.full(grid.shape, np.nan)
    return (scores[None, :] > grid[:, None]).mean(axis=1)


def heterogeneity_condition(row) -> str:
    """Name of a heterogeneity-sweep run's place-cell condition from its config columns."""
    parts = []
    if row.get("sigma_range") is not None and not _is_nan(row.get("sigma_range")):
        parts.append("sigma ~ U" + str(tuple(row["sigma_range"])))
    if row.get("surround_range") is not None and not _is_nan(row.get("surround_range")):
        parts.append("s ~ U" + str(tuple(row["surround_range"])))
    if float(row.get("fields_lambda") or 0) > 0:
        parts.append(f"multi-field (lambda {float(row['fields_lambda']):g})")
    return ", ".join(parts) if parts else "baseline (one sigma, one s)"


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def run_label(row, fields: Sequence[str]) -> str:
    """A short label naming a run by the given config fields, e.g. ``dos/relu`` (``untrained`` when n_steps = 0)."""
    label = "/".join(str(row[f]) for f in fields)
    return label + (" untrained" if int(row.get("n_steps", 1)) == 0 else "")


def predictivity_table(store, results, target_maps, label_fields: Sequence[str] = ("target", "activation"),
                       n_splits: int = 10, seed: int = 0):
    """Participation ratio of each run's rate maps and their neural predictivity of ``target_maps`` (C, n, n; the
    same bins as the runs' maps). One row per run: run_id, label, trained, participation_ratio, predictivity."""
    import pandas as pd

    from gridbook.analysis.predictivity import neural_predictivity, participation_ratio
    from gridbook.runs.load import load_run

    rows = []
    for row in results.to_dict("records"):
        maps = load_run(store, row["run_id"])["ratemaps"].maps  # (U, n, n), NaN unvisited
        maps = maps[np.nanstd(maps.reshape(len(maps), -1), axis=1) > 0]  # silent units carry no dimension
        pr = participation_ratio(maps) if len(maps) else float("nan")
        pred = neural_predictivity(maps, target_maps, n_splits=n_splits, seed=seed).median if len(maps) else math.nan
        rows.append({"run_id": row["run_id"], "label": run_label(row, label_fields), "trained": row["n_steps"] > 0,
                     "participation_ratio": pr, "predictivity": pred})
    return pd.DataFrame(rows, columns=["run_id", "label", "trained", "participation_ratio", "predictivity"])


def random_feature_table(target_maps, n_features: int, dims: Sequence[int], n_splits: int = 10, seed: int = 0):
    """Participation ratio and neural predictivity of random-feature maps spanning each of ``dims`` dimensions."""
    import pandas as pd

    from gridbook.analysis.predictivity import neural_predictivity, participation_ratio, random_feature_maps

    n_bins = int(np.asarray(target_maps).shape[-1])
    rows = []
    for d in dims:
        maps = random_feature_maps(n_features, int(d), n_bins=n_bins, seed=seed)  # (F, n, n)
        rows.append({"label": f"random features, {d} dims", "dims": int(d), "participation_ratio":
                     participation_ratio(maps), "predictivity":
                     neural_predictivity(maps, target_maps, n_splits=n_splits, seed=seed).median})
    return pd.DataFrame(rows, columns=["label", "dims", "participation_ratio", "predictivity"])
