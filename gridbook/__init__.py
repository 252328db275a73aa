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
"""

from gridbook import book, paper
from gridbook.analysis.null import (
    NULL_PERCENTILE,
    ShuffledMapAccumulator,
    ShuffleNull,
    draw_shifts,
    draw_units,
    grid_like,
    null_summary,
    shuffle_null,
)
from gridbook.analysis.periods import (
    GridProperties,
    PeriodTrend,
    grid_properties,
    main_period_mode,
    mode_ratios,
    period_modes,
    period_trend,
)
from gridbook.analysis.pipeline import NetworkAnalysis, analyse_network, analyse_ratemaps, evaluate_ratemaps
from gridbook.analysis.predictivity import (
    PredictivityResult,
    SimulatedPopulation,
    neural_predictivity,
    participation_ratio,
    random_feature_maps,
    simulate_mec_population,
)
from gridbook.analysis.ratemaps import RateMapAccumulator, RateMaps, bin_centres, compute_ratemaps, gaussian_smooth_nan
from gridbook.analysis.scores import GridScores, grid_scores, ring_masks, rotate_sac, spatial_autocorrelogram
from gridbook.analysis.synthetic import HEXAGONAL, SQUARE, lattice_map, smooth_random_fields
from gridbook.analysis.theory import (
    dog_fourier_1d,
    dog_fourier_2d,
    fourier_power,
    nonnegative_pattern,
    optimal_wavenumber,
    pattern_forms,
    place_cell_covariance,
    place_cell_peak_wavenumber,
    predicted_grid_period,
    radial_average,
)
from gridbook.book import plotting
from gridbook.config import (
    N_SHUFFLES,
    PROFILE_DEVIATIONS,
    PROFILES,
    AnalysisConfig,
    ModelConfig,
    RunConfig,
    TargetConfig,
    TaskConfig,
    TrainConfig,
    profile_config,
)
from gridbook.errors import ChapterError, ConfigError, CorruptRunError, UserError
from gridbook.files import gridbook_version
from gridbook.nets.checkpoints import TrainResult, load_checkpoint, save_checkpoint
from gridbook.nets.evaluate import evaluate_networks
from gridbook.nets.models import BatchedRecurrentNetworks, weight_count
from gridbook.nets.trainer import train_networks
from gridbook.runs.load import load_network, load_results, load_run, load_units, write_results_table
from gridbook.runs.spec import expand_spec, spec_run_ids
from gridbook.runs.store import RunRecord, RunStore
from gridbook.runs.sweep import SweepSummary, run_sweep
from gridbook.task.code_table import CodeTable, table_error
from gridbook.task.targets import (
    CartesianTarget,
    DifferenceOfGaussians,
    DifferenceOfSoftmaxes,
    GaussianPlaceCells,
    HighDimCartesianTarget,
    HighDimPolarTarget,
    PlaceCellTarget,
    SoftmaxOfDifferences,
    TargetEncoder,
    make_target,
    surround_sigma,
)
from gridbook.task.trajectories import Trajectories, sample_trajectories

__version__ = gridbook_version()

__all__ = [
    "PROFILES", "PROFILE_DEVIATIONS", "AnalysisConfig", "ModelConfig", "RunConfig", "TargetConfig", "TaskConfig",
    "TrainConfig", "profile_config", "paper", "ChapterError", "ConfigError", "CorruptRunError", "UserError",
    "Trajectories", "sample_trajectories", "TargetEncoder", "PlaceCellTarget", "CartesianTarget",
    "HighDimCartesianTarget", "HighDimPolarTarget", "GaussianPlaceCells", "DifferenceOfSoftmaxes",
    "DifferenceOfGaussians", "SoftmaxOfDifferences", "make_target", "surround_sigma", "CodeTable", "table_error",
    "BatchedRecurrentNetworks", "weight_count", "TrainResult", "train_networks", "evaluate_networks",
    "save_checkpoint", "load_checkpoint", "RateMaps", "RateMapAccumulator", "bin_centres", "compute_ratemaps",
    "gaussian_smooth_nan", "GridScores", "grid_scores", "ring_masks", "rotate_sac", "spatial_autocorrelogram",
    "GridProperties", "PeriodTrend", "grid_properties", "main_period_mode", "mode_ratios", "period_modes",
    "period_trend", "HEXAGONAL", "SQUARE", "lattice_map", "smooth_random_fields", "NetworkAnalysis",
    "analyse_network", "analyse_ratemaps", "ShuffleNull", "ShuffledMapAccumulator", "draw_shifts", "draw_units",
    "shuffle_null", "grid_like", "null_summary", "N_SHUFFLES", "NULL_PERCENTILE", "evaluate_ratemaps",
    "dog_fourier_1d", "dog_fourier_2d", "fourier_power", "nonnegative_pattern", "optimal_wavenumber",
    "pattern_forms", "place_cell_covariance", "place_cell_peak_wavenumber", "predicted_grid_period",
    "radial_average", "PredictivityResult", "SimulatedPopulation", "neural_predictivity", "participation_ratio",
    "random_feature_maps", "simulate_mec_population", "RunStore", "RunRecord", "load_results", "load_units",
    "load_run", "load_network", "write_results_table", "expand_spec", "spec_run_ids", "SweepSummary", "run_sweep",
    "book", "plotting",
]
