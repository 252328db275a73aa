"""gridbook: path-integrating RNNs, grid cells and the analysis behind the book.

The public API is re-exported here; see each module for details.
"""

from gridbook.config import (
    PROFILE_DEVIATIONS,
    PROFILES,
    AnalysisConfig,
    ConfigError,
    ModelConfig,
    RunConfig,
    TargetConfig,
    TaskConfig,
    TrainConfig,
    profile_config,
)

__version__ = "0.1.0"

__all__ = [
    "PROFILES",
    "PROFILE_DEVIATIONS",
    "AnalysisConfig",
    "ConfigError",
    "ModelConfig",
    "RunConfig",
    "TargetConfig",
    "TaskConfig",
    "TrainConfig",
    "profile_config",
]
