"""gridbook: path-integrating RNNs, grid cells and the analysis behind the book.

The public API is re-exported here; see each module for details. Plot functions live in :mod:`gridbook.book.plotting`.
"""

from gridbook.analysis.periods import GridProperties, grid_properties, mode_ratios, period_modes
from gridbook.analysis.predictivity import (
    PredictivityResult,
    SimulatedPopulation,
    neural_predictivity,
    participation_ratio,
    random_feature_maps,
    simulate_mec_population,
)
from gridbook.analysis.ratemaps import RateMaps, bin_centres, compute_ratemaps, gaussian_smooth_nan
from gridbook.analysis.scores import GridScores, grid_scores, spatial_autocorrelogram
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
from gridbook.book.build import build_book, deviation_table, profile_box
from gridbook.config import (
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
from gridbook.errors import ChapterError, ConfigError
from gridbook.files import gridbook_version
from gridbook.nets.checkpoints import TrainResult, load_checkpoint, save_checkpoint
from gridbook.nets.evaluate import evaluate_networks
from gridbook.nets.models import BatchedRecurrentNetworks
from gridbook.nets.trainer import train_networks
from gridbook.runs.load import load_network, load_results, load_run, load_units
from gridbook.runs.spec import expand_spec
from gridbook.runs.store import RunRecord, RunStore
from gridbook.runs.sweep import SweepSummary, run_sweep
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
    "PROFILES", "PROFILE_DEVIATIONS", "AnalysisConfig", "ConfigError", "ModelConfig", "RunConfig", "TargetConfig",
    "TaskConfig", "TrainConfig", "profile_config",
    "Trajectories", "sample_trajectories",
    "TargetEncoder", "PlaceCellTarget", "CartesianTarget", "HighDimCartesianTarget", "HighDimPolarTarget",
    "GaussianPlaceCells", "DifferenceOfSoftmaxes", "DifferenceOfGaussians", "SoftmaxOfDifferences", "make_target",
    "surround_sigma",
    "RateMaps", "bin_centres", "compute_ratemaps", "gaussian_smooth_nan",
    "GridProperties", "GridScores", "grid_properties", "grid_scores", "mode_ratios", "period_modes",
    "spatial_autocorrelogram",
    "dog_fourier_1d", "dog_fourier_2d", "fourier_power", "nonnegative_pattern", "optimal_wavenumber",
    "pattern_forms", "place_cell_covariance", "place_cell_peak_wavenumber", "predicted_grid_period", "radial_average",
    "PredictivityResult", "SimulatedPopulation", "neural_predictivity", "participation_ratio", "random_feature_maps",
    "simulate_mec_population",
    "BatchedRecurrentNetworks", "TrainResult", "train_networks", "evaluate_networks", "save_checkpoint",
    "load_checkpoint",
    "RunStore", "RunRecord", "load_results", "load_units", "load_run", "load_network",
    "SweepSummary", "expand_spec", "run_sweep",
    "ChapterError", "build_book", "deviation_table", "profile_box",
    "plotting",
]
