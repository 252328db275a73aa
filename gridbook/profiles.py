"""Profiles: named sets of flat overrides of the paper's defaults (``smoke``, ``quick``, ``paper``), every place each
departs from the paper with the reason (:data:`PROFILE_DEVIATIONS`), and :func:`profile_config`.

The defaults themselves, with the paper's values cited field by field, are :mod:`gridbook.config`'s dataclasses.
"""

from __future__ import annotations

from typing import Any

from gridbook.config import (
    DEFAULT_PROFILE,
    DEFAULT_SURROUND_CONVENTION,
    PROFILES,
    AnalysisConfig,
    RunConfig,
)
from gridbook.errors import check_choice

# ---- profiles -------------------------------------------------------------------------------------------------
EVIDENCE_EVAL_BATCHES = 200  # evaluation batches at the quick and paper profiles: 800k positions, 200 null shifts
CODE_TABLE_M = 0.005  # m; the quick profile's training codes come from a table of this spacing (TrainConfig.code_table)
NULL_UNITS = 64  # units whose shifted maps make the quick profile's null (AnalysisConfig.null_units)
# every profile's AnalysisConfig.fine_decoder (why: benchmarks/HISTORY.md, "The fine decoder: the best-correlated code",
# 2026-12-02)
FINE_DECODER = "correlation"
N_SHUFFLES = 100  # shuffles of each run's null at the quick and paper profiles (grid-cell physiology: 100-1000)
# Each profile is a set of flat overrides of the paper defaults. The quick profile's recipe was searched for grid units
# on a 2-core CPU in minutes; its measurements are in benchmarks/HISTORY.md. Np = 256 learns faster than the
# paper's 512 but its top-3 decoder errs by 8.3 cm on the exact DoS code (4.2 cm with 512), which bounds the error.
PROFILE_OVERRIDES: dict[str, dict[str, Any]] = {
    "paper": {"n_hidden": 1024, "eval_batches": EVIDENCE_EVAL_BATCHES, "n_shuffles": N_SHUFFLES,
              "fine_decoder": FINE_DECODER},
    "quick": {
        "n_hidden": 256, "n_place_cells": 256, "lr": 3e-3, "lr_final": 1e-4, "velocity_input_scale": 50.0,
        "encoder_init_scale": 20.0, "n_steps": 4000, "eval_batches": EVIDENCE_EVAL_BATCHES, "n_shuffles": N_SHUFFLES,
        "null_units": NULL_UNITS, "precision": "bfloat16", "code_table": CODE_TABLE_M, "fine_decoder": FINE_DECODER,
    },
    # the quick recipe on a GPU: exact codes (a table saves nothing there) and walks drawn on the device
    "gpu": {"code_table": 0.0, "streams": "counter"},
    "smoke": {
        "n_hidden": 32, "n_place_cells": 32, "batch_size": 16, "lr": 1e-3, "velocity_input_scale": 50.0,
        "encoder_init_scale": 20.0, "n_steps": 20, "n_bins": 12, "eval_batches": 2, "n_shuffles": 1,
        "fine_decoder": FINE_DECODER,
    },
}

# (field, paper value, profile value, reason) for every place a profile departs from the paper.
_SURROUND_DEVIATION = (
    "surround_convention", "std_ratio", DEFAULT_SURROUND_CONVENTION,
    "the paper's final code reads the DoS surround scale s as a width ratio (surround std s sigma = 24 cm); gridbook "
    "follows Sorscher et al.'s code, which the paper starts from, and reads it as a variance ratio (sqrt(s) sigma = "
    "17 cm); set surround_convention='std_ratio' for the paper's reading (PAPER.md section 3)")
_EVIDENCE_DEVIATIONS = [
    ("eval_batches", AnalysisConfig.eval_batches, EVIDENCE_EVAL_BATCHES,
     "800,000 evaluation positions (Sorscher et al. used 200,000, the authors' code 10,000): about 400 per 5 cm bin "
     "of the 44 x 44 maps, and 200 batches for the shuffle null to shift"),
    ("n_shuffles", "none", N_SHUFFLES,
     "each run's chance level: its activations shifted against its positions by whole batches, 100 times, and "
     "scored; a unit counts as grid-like when its score beats both the paper's 0.8 and the 99th percentile of that "
     "null"),
    ("fine_decoder", "top-3 only", FINE_DECODER, "learned = error < 10 cm under a decoder with a floor < 2 cm: for "
     "place-cell codes the best-correlated code on a 2 cm grid (methods chapter); top-3 reported beside it"),
]
PROFILE_DEVIATIONS: dict[str, list[tuple[str, Any, Any, str]]] = {
    "paper": [("n_hidden", 1024, 1024, "the paper's sweeps use Ng = 1024 (Sorscher used 4096)"), _SURROUND_DEVIATION,
              *_EVIDENCE_DEVIATIONS],
    "quick": [
        _SURROUND_DEVIATION,
        ("n_hidden", 1024, 256, "4x fewer units: a 2-core CPU trains one network in minutes"),
        ("n_place_cells", 512, 256, "half the decoder cost, and grid units and low error come in fewer steps than "
         "with 512; cost: the top-3 decoder's floor on the exact DoS code is 8.3 cm (4.2 cm with 512)"),
        ("lr", 1e-4, 3e-3, "30x larger Adam step: grid units (min-max score > 0.8) appear within ~1,000 steps"),
        ("lr_final", "constant lr", 1e-4, "cosine decay from lr to the paper's 1e-4 at the last step; the small late "
         "steps bring the decoding error down in the last third"),
        ("velocity_input_scale", 1.0, 50.0, "per-step displacements (~1.6 cm) are tiny inputs; scaling them "
         "speeds learning without changing the task"),
        ("encoder_init_scale", 1.0, 20.0, "a stronger initial-state code makes the start position readable early"),
        ("n_steps", 200_000, 4000, "a training budget of minutes, not GPU-hours (1/50 of the paper's steps)"),
        ("precision", "float32", "bfloat16", "bf16 matrix products (float32 weights, state, loss, optimizer) halve the "
         "step time on CPUs with bf16 units; 6 seeds at 4,000 steps: error +0.8 cm (sd 1.7), grid fraction -0.4 "
         "points against float32 (benchmarks/HISTORY.md)"),
        ("null_units", "every unit", NULL_UNITS, "the null is pooled over units and shifts: 64 random units x 100 "
         "shifts = 6,400 shuffled maps settle its 99th percentile at a quarter of the cost of all 256 units"),
        ("code_table", "exact", CODE_TABLE_M, "training reads each place-cell code from a table of 5 mm spacing by "
         "bilinear interpolation, several times cheaper on a CPU than the exact code (benchmarks/HISTORY.md); "
         "evaluation, maps and decoders use the exact code; the methods chapter computes the table's error "
         "(gridbook.table_error)"),
        *_EVIDENCE_DEVIATIONS,
    ],
    "smoke": [("everything", "paper", "tiny", "CI only: checks that the code runs, shows no science")],
}
_GPU_STREAMS = ("streams", "its own", "counter", "training walks and dropout masks are drawn on the device for every "
                "network of a job at once, from a hash of (seed, step, element) (gridbook.task.streams): the same law "
                "as the quick profile's CPU generators, other draws, so a gpu network is not the quick network of "
                "the same seed")
PROFILE_DEVIATIONS["gpu"] = [d for d in PROFILE_DEVIATIONS["quick"] if d[0] != "code_table"] + [_GPU_STREAMS]


PROFILE_OVERRIDES["gpu"] = {**PROFILE_OVERRIDES["quick"], **PROFILE_OVERRIDES["gpu"]}  # quick, then its own


def profile_config(profile: str = DEFAULT_PROFILE, **overrides: Any) -> RunConfig:
    """The :class:`RunConfig` of a named profile, with optional flat overrides on top."""
    check_choice("profile", profile, PROFILES)
    return RunConfig().replace(**{**PROFILE_OVERRIDES[profile], **overrides})
