"""What the chapters of the book share: small analyses of the part-2 chapters (score fractions per sigma, period
tables, theory maps over a parameter grid, survival curves, conditions of the heterogeneity sweep and the
predictivity table).

Pure functions on the tables of :mod:`gridbook.runs.load` (``load_results`` / ``load_units``) and on arrays; the
notebooks hold prose, parameters and calls only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gridbook.analysis.periods import main_period_mode, period_modes
from gridbook.analysis.pipeline import maps_participation_ratio
from gridbook.analysis.stats import rank_correlation_test
from gridbook.analysis.theory import (
    FourierPower,
    PlaceCellCovariance,
    fourier_power,
    optimal_wavenumber,
    pattern_forms,
    place_cell_covariance,
    place_cell_peak_wavenumber,
    predicted_grid_period,
    radial_average,
)
from gridbook.book.evidence import judged_error_cm
from gridbook.book.evidence import learned as learned_runs
from gridbook.config import DEFAULT_SURROUND_CONVENTION
from gridbook.paper import (
    ERROR_THRESHOLD_CM,
    GRID_SCORE_THRESHOLD,
    PERIOD_SCORE_THRESHOLD,
    RATEMAP_BINS,
    SCORE_THRESHOLDS,
    SURROUND_SCALE,
    TASK_SUCCESS,
)
from gridbook.task.targets import make_target, surround_sigma


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


def split_surround_sweep(results, surround_scale: float = SURROUND_SCALE):
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


def grid_unit_periods(units, results, score_threshold: float = PERIOD_SCORE_THRESHOLD, by: str = "sigma"):
    """The grid-like units (``score60_min_max > score_threshold`` and a finite period) with ``by`` and ``seed``
    joined from ``results``."""
    merged = units.merge(results[["run_id", by, "seed"]], on="run_id")
    keep = (merged["score60_min_max"] > score_threshold) & np.isfinite(merged["period_m"].astype(float))
    return merged.loc[keep].reset_index(drop=True)


def period_table(grid_units, by: str = "sigma"):
    """Per value of ``by``: number of grid-like units, their kernel-density modes (m), the main mode
    (:func:`gridbook.analysis.periods.main_period_mode`) and the number of modes."""
    import pandas as pd

    rows = []
    for value, group in grid_units.groupby(by):
        periods = group["period_m"].to_numpy(dtype=float)
        modes = period_modes(periods)
        rows.append({by: value, "grid units": len(group), "modes (m)": tuple(np.round(modes, 3)),
                     "n modes": int(modes.size), "main mode (m)": main_period_mode(periods)})
    return pd.DataFrame(rows, columns=[by, "grid units", "modes (m)", "n modes", "main mode (m)"]).set_index(by)


def theory_maps(sigma: Any, surround_scale: Any, a_e: Any = 1.0, a_i: Any = 1.0, cell_density: float = 1.0,
                convention: str = DEFAULT_SURROUND_CONVENTION, dim: int = 2) -> dict[str, np.ndarray]:
    """The closed-form k* (rad/m), the hexagonal period it predicts (m) and the pattern-forming condition of the DoG
    interaction, broadcast over arrays of ``sigma`` (m), ``surround_scale``, ``a_e`` and ``a_i`` (e.g. meshgrids).

    The condition ``f~(k*) > 1`` is for a field of unit neuron density; ``cell_density`` (cells per m^2, or per m in
    1-D) scales the interaction, so the threshold is ``1 / cell_density``.
    """
    if not cell_density > 0:
        raise ValueError(f"cell_density={cell_density!r} is invalid; allowed values: > 0 (cells per m^dim)")
    sigma_i = surround_sigma(np.asarray(sigma, dtype=float), np.asarray(surround_scale, dtype=float), convention)
    k_star = np.asarray(optimal_wavenumber(a_e, a_i, sigma, sigma_i, dim=dim), dtype=float)
    forms = np.asarray(pattern_forms(a_e, a_i, sigma, sigma_i, dim=dim, threshold=1.0 / cell_density))
    with np.errstate(divide="ignore", invalid="ignore"):
        period = np.where(k_star > 0, predicted_grid_period(np.where(k_star > 0, k_star, 1.0)), np.nan)
    return {"k_star": k_star, "period_m": period, "forms": forms}


def theory_periods(config, sigmas: Sequence[float], seed: int = 0, n_grid: int = RATEMAP_BINS):
    """Predicted grid period (m) at each sigma: from the peak of the Fourier power of the target's own place-cell
    correlation (Sorscher et al.'s theory, exact for the encoder trained on) and from the closed-form DoG k* (2-D),
    with the other fields of ``config`` (a RunConfig) kept. Returns a DataFrame indexed by sigma."""
    import pandas as pd

    rows = []
    for sigma in sigmas:
        cfg = config.replace(sigma=float(sigma))
        encoder = make_target(cfg.target, cfg.task, torch.Generator().manual_seed(seed))
        box = (cfg.task.box_width, cfg.task.box_height)
        k_code = place_cell_peak_wavenumber(place_cell_covariance(encoder, n_grid=n_grid, box=box))
        sigma_s = surround_sigma(float(sigma), cfg.target.surround_scale, cfg.target.surround_convention)
        k_dog = float(optimal_wavenumber(1.0, 1.0, sigma, sigma_s, dim=2))
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


BASELINE_CONDITION = "baseline (one sigma, one s)"  # the heterogeneity sweep's homogeneous place cells


def is_baseline(row) -> bool:
    """Whether a heterogeneity-sweep run (a results row) has the paper's homogeneous place cells: one width, one
    surround scale, one field per cell."""
    return (_is_unset(row.get("sigma_range")) and _is_unset(row.get("surround_range"))
            and not float(row.get("fields_lambda") or 0) > 0)


def heterogeneity_condition(row) -> str:
    """Name of a heterogeneity-sweep run's place-cell condition from its config columns."""
    if is_baseline(row):
        return BASELINE_CONDITION
    parts = []
    if not _is_unset(row.get("sigma_range")):
        parts.append("sigma ~ U" + str(tuple(row["sigma_range"])))
    if not _is_unset(row.get("surround_range")):
        parts.append("s ~ U" + str(tuple(row["surround_range"])))
    if float(row.get("fields_lambda") or 0) > 0:
        parts.append(f"multi-field (lambda {float(row['fields_lambda']):g})")
    return ", ".join(parts)


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def run_label(row, fields: Sequence[str]) -> str:
    """A short label naming a run by the given config fields, e.g. ``dos/relu`` (``untrained`` when n_steps = 0)."""
    label = "/".join(str(row[f]) for f in fields)
    return label + (" untrained" if int(row.get("n_steps", 1)) == 0 else "")


def predictivity_table(store, results, target_maps, label_fields: Sequence[str] = ("target", "activation"),
                       n_splits: int = 10, seed: int = 0):
    """Participation ratio of each run's rate maps and their neural predictivity of ``target_maps`` (C, n, n; the
    same bins as the runs' maps). One row per run: run_id, label, trained, participation_ratio, predictivity."""
    import pandas as pd

    from gridbook.analysis.predictivity import neural_predictivity
    from gridbook.runs.load import load_run

    rows = []
    for row in results.to_dict("records"):
        maps = load_run(store, row["run_id"]).ratemaps.maps  # (U, n, n), NaN unvisited
        maps = maps[np.nanstd(maps.reshape(len(maps), -1), axis=1) > 0]  # silent units carry no dimension
        pr = maps_participation_ratio(maps) if len(maps) else float("nan")
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


# ---- the target codes (methods) --------------------------------------------------------------------------------------
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


# ---- unit tables ---------------------------------------------------------------------------------------------------
def unit_fractions(units, results, by: str, score_threshold: float = GRID_SCORE_THRESHOLD,
                   error_threshold_cm: float | None = None):
    """Per value of ``by`` (a column of both tables): runs, units, the fraction of units whose min-max score exceeds
    ``score_threshold`` alone (``above_threshold``; units without a score count as below), the runs' mean null
    percentile (``null_p99``), mean fractions of units above their run's null (``above_null``) and grid-like
    (``grid_like``: above both; :func:`gridbook.analysis.null.grid_like`; NaN without a null), the best unit's score
    and the median decoding error; with ``error_threshold_cm`` also the fraction of runs that learned."""
    flagged = units.assign(above=units["score60_min_max"] > score_threshold)
    table = flagged.groupby(by).agg(runs=("run_id", "nunique"), units=("unit", "size"),
                                    above_threshold=("above", "mean"), best_score=("score60_min_max", "max"))
    null = results.groupby(by)[["null_score_p99", "frac_units_above_null", "frac_units_grid_like"]].mean()
    table = table.join(null.set_axis(["null_p99", "above_null", "grid_like"], axis=1))
    errors = results.assign(judged=judged_error_cm(results)).groupby(by)["judged"]  # cm, the fine decoder's
    table = table.join(errors.median().rename("median error (cm)"))
    table = table.join(results.groupby(by)["decoding_error_cm"].median().rename("median error, target's decoder (cm)"))
    if error_threshold_cm is not None:
        learned = results.assign(learned=learned_runs(results, error_threshold_cm))
        table["learned"] = learned.groupby(by)["learned"].mean()
    return table


def best_units(units, by: str, score: str = "score60_min_max"):
    """The highest-scoring unit of each value of ``by`` (rows of ``units``), in ascending order of score."""
    return units.dropna(subset=[score]).sort_values(score).groupby(by).tail(1)


def score_densities(units, by: str, grid, score: str = "score60_min_max") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Gaussian kernel densities of the units' scores per value of ``by``, on ``grid``:
    ``{"name (n units)": (grid, density)}``; groups whose scores take fewer than two distinct values are left out
    (a density needs two)."""
    from scipy.stats import gaussian_kde

    grid = np.asarray(grid, dtype=float)
    densities = {}
    for name, group in units.groupby(by):
        scores = group[score].dropna().to_numpy()  # (U,)
        if len(np.unique(scores)) > 1:
            densities[f"{name} ({len(scores)} units)"] = (grid, gaussian_kde(scores)(grid))
    return densities


def target_labels(table):
    """A label per row naming its target, with the inhibitory amplitude for general DoGs (``general DoG a_I=2.0``)."""
    general = "general DoG a_I=" + table["a_i"].astype(str)
    return np.where(table["target"] == "general_dog", general, table["target"])


# ---- task success ----------------------------------------------------------------------------------------------------
def swept_values(results, columns: Sequence[str]):
    """The values each column takes in ``results``, as a one-column table indexed by column name."""
    import pandas as pd

    values = [", ".join(map(str, sorted(results[c].unique()))) for c in columns]
    return pd.DataFrame({"values swept": values}, index=list(columns))


def task_success_table(results, error_threshold_cm: float = ERROR_THRESHOLD_CM,
                       score_thresholds: Sequence[float] = SCORE_THRESHOLDS):
    """Per target: runs, the fraction that learned (error below ``error_threshold_cm``), and of those the fraction
    whose best unit exceeds each score threshold (the paper's 0.8 always among them) and that have a grid-like unit
    (above 0.8 and the run's null); beside them the paper's bar chart (:data:`gridbook.paper.TASK_SUCCESS`). Columns
    ``grid > T | learned`` and ``grid-like | learned``; no rows without runs."""
    import pandas as pd

    thresholds = sorted({*map(float, score_thresholds), GRID_SCORE_THRESHOLD})
    learned = results.assign(learned=learned_runs(results, error_threshold_cm))
    rows = {}
    for target, group in learned.groupby("target"):
        row = {"runs": len(group), "learned": group["learned"].mean()}
        best = group.loc[group["learned"], "best_score60_min_max"]
        row.update({f"grid > {t:g} | learned": (best > t).mean() if len(best) else float("nan") for t in thresholds})
        like = group.loc[group["learned"], "frac_units_grid_like"].astype(float)
        rows[target] = {**row, "grid-like | learned": (like > 0).mean() if like.notna().any() else float("nan")}
    ours = pd.DataFrame.from_dict(rows, orient="index", columns=["runs", "learned", *(
        f"grid > {t:g} | learned" for t in thresholds), "grid-like | learned"])
    paper = pd.DataFrame(TASK_SUCCESS, index=["paper runs", "paper learned",
                                              f"paper grid > {GRID_SCORE_THRESHOLD:g} | learned"]).T
    return ours.join(paper, how="left")


# ---- periods, spectra and predictivity -------------------------------------------------------------------------------
def periods_by(grid_units, by: str = "sigma") -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    """Per value of ``by``: the periods (m) of its grid-like units and their kernel-density modes
    (:func:`gridbook.analysis.periods.period_modes`)."""
    groups = {}
    for value, group in grid_units.groupby(by):
        periods = group["period_m"].to_numpy(dtype=float)
        groups[value] = (periods, period_modes(periods))
    return groups


@dataclass(frozen=True)
class CodeSpectrum:
    """A place code's translation-averaged correlation (``covariance``), the Fourier magnitude of its kernel
    (``power``), the radial profile of that magnitude (``k`` rad/m, ``profile``) and its peak (``peak_k`` rad/m)."""

    covariance: PlaceCellCovariance
    power: FourierPower
    k: np.ndarray
    profile: np.ndarray
    peak_k: float


def place_code_spectra(config, codes: dict[str, str], seed: int = 0) -> dict[str, CodeSpectrum]:
    """The :class:`CodeSpectrum` of each target code (``{label: target name}``) with the other fields of ``config``
    (a RunConfig); the place-cell centres are drawn from ``seed``."""
    spectra = {}
    for label, target in codes.items():
        cfg = config.replace(target=target)
        covariance = place_cell_covariance(make_target(cfg.target, cfg.task, torch.Generator().manual_seed(seed)))
        power = fourier_power(covariance.kernel, covariance.bin_size_m)
        k, profile = radial_average(power)
        spectra[label] = CodeSpectrum(covariance, power, k, profile, place_cell_peak_wavenumber(covariance))
    return spectra


def predictivity_rank_correlation(table) -> tuple[float, int]:
    """The Spearman correlation of ``predictivity`` with ``participation_ratio`` over the rows where both are known,
    and the number of those rows (NaN with fewer than 3; :func:`gridbook.analysis.stats.rank_correlation_test`)."""
    test = rank_correlation_test(table["participation_ratio"], table["predictivity"])
    return test.rho, test.n


def predictivity_comparison(models, baselines):
    """The networks' predictivity table (:func:`predictivity_table`) and the random-feature baselines
    (:func:`random_feature_table`) as one table with a ``kind`` column: trained, untrained or random features."""
    import pandas as pd

    kinds = models.assign(kind=models["trained"].map({True: "trained", False: "untrained"}))
    return pd.concat([kinds, baselines.assign(kind="random features")], ignore_index=True)
