"""gridbook: path-integrating RNNs, grid cells and the analysis behind the book.

The public API, by layer (each layer imports only from the ones before it; see ``docs/architecture.md``):

* foundations: run configs and profiles (:mod:`gridbook.config`), the paper's numbers (:mod:`gridbook.paper`),
  errors (:mod:`gridbook.errors`);
* :mod:`gridbook.task`: random walks and the target codes of positions;
* :mod:`gridbook.nets`: batched recurrent networks, training, checkpoints and evaluation;
* :mod:`gridbook.analysis`: rate maps, grid scores, periods, theory, predictivity and the one analysis of a network;
* :mod:`gridbook.runs`: the run store, sweep specs and sweeps;
* :mod:`gridbook.book`: the book's chapters, scorecard and figures (``book`` and ``plotting`` below).

The chapters import only the names listed in ``__all__``.

The package face is lazy (PEP 562): ``import gridbook`` loads nothing but this table, and ``gridbook.NAME`` imports
the one module that defines NAME on first use. So ``import gridbook.nets`` loads only the layers below the networks
(no pandas, matplotlib, dask or the book), as on a GPU machine that has only torch and the scientific stack.
"""

from __future__ import annotations

import importlib
from typing import Any

# the public names, by the module that defines them (the chapters import only these)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "gridbook.analysis.null": (
        "NULL_PERCENTILE", "ShuffledMapAccumulator", "ShuffleNull", "draw_shifts", "draw_units", "grid_like",
        "null_summary", "shuffle_null",
    ),
    "gridbook.analysis.periods": (
        "GridProperties", "PeriodTrend", "grid_properties", "main_period_mode", "mode_ratios", "period_modes",
        "period_trend",
    ),
    "gridbook.analysis.pipeline": ("NetworkAnalysis", "analyse_network", "analyse_ratemaps", "evaluate_ratemaps",),
    "gridbook.analysis.predictivity": (
        "PredictivityResult", "SimulatedPopulation", "neural_predictivity", "participation_ratio",
        "random_feature_maps", "simulate_mec_population",
    ),
    "gridbook.analysis.ratemaps": (
        "RateMapAccumulator", "RateMaps", "bin_centres", "compute_ratemaps", "gaussian_smooth_nan",
    ),
    "gridbook.analysis.scores": ("GridScores", "grid_scores", "ring_masks", "rotate_sac", "spatial_autocorrelogram",),
    "gridbook.analysis.synthetic": ("HEXAGONAL", "SQUARE", "lattice_map", "smooth_random_fields",),
    "gridbook.analysis.theory": (
        "dog_fourier_1d", "dog_fourier_2d", "fourier_power", "nonnegative_pattern", "optimal_wavenumber",
        "pattern_forms", "place_cell_covariance", "place_cell_peak_wavenumber", "predicted_grid_period",
        "radial_average",
    ),
    "gridbook.book": ("plotting",),
    "gridbook.config": ("PROFILES", "AnalysisConfig", "ModelConfig", "RunConfig", "TargetConfig", "TaskConfig",
                        "TrainConfig"),
    "gridbook.profiles": ("N_SHUFFLES", "PROFILE_DEVIATIONS", "profile_config"),
    "gridbook.errors": ("ChapterError", "ConfigError", "CorruptRunError", "UserError",),
    "gridbook.files": ("gridbook_version",),
    "gridbook.nets.checkpoints": ("TrainResult", "load_checkpoint", "save_checkpoint",),
    "gridbook.nets.evaluate": ("evaluate_networks",),
    "gridbook.nets.models": ("BatchedRecurrentNetworks", "weight_count",),
    "gridbook.nets.trainer": ("train_networks",),
    "gridbook.runs.load": ("load_network", "load_results", "load_run", "load_units", "write_results_table",),
    "gridbook.runs.spec": ("expand_spec", "spec_run_ids",),
    "gridbook.runs.store": ("RunRecord", "RunStore",),
    "gridbook.runs.sweep": ("SweepSummary", "run_sweep",),
    "gridbook.task.code_table": ("CodeTable", "table_error",),
    "gridbook.task.targets": (
        "CartesianTarget", "DifferenceOfGaussians", "DifferenceOfSoftmaxes", "GaussianPlaceCells",
        "HighDimCartesianTarget", "HighDimPolarTarget", "PlaceCellTarget", "SoftmaxOfDifferences", "TargetEncoder",
        "make_target", "surround_sigma",
    ),
    "gridbook.task.trajectories": ("Trajectories", "sample_trajectories",),
}
_SUBMODULES = ("book", "paper",)  # subpackages and modules reached as gridbook.NAME
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [*_SUBMODULES, *_WHERE]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name == "__version__":
        from gridbook.files import gridbook_version

        value = gridbook_version()
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
