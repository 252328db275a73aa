"""The paper's constants, thresholds and figures, in one place, each with its source.

The paper is R. Schaeffer, M. Khona and I. R. Fiete, *No Free Lunch from Deep Learning in Neuroscience: A Case Study
through Models of the Entorhinal-Hippocampal Circuit*, NeurIPS 2022 ("the paper"); it builds on the code of Sorscher
et al. (2019, 2023) and on DeepMind's grid score (Banino et al. 2018). Section numbers refer to ``PAPER.md``, the
project's summary of the paper. The training defaults of a run (dt, speeds, Np, Ng, learning rate, ...) are the fields
of :mod:`gridbook.config`, each commented with its paper value; this module holds the numbers that the analysis, the
verdicts and the book share.
"""

from __future__ import annotations

__all__ = [
    "BIOLOGICAL_MODULE_RATIO", "BOX_M", "DECODE_TOP_K", "ERROR_THRESHOLD_CM", "GRID_SCORE_THRESHOLD",
    "MEDIAN_GPU_HOURS", "MSE_TARGETS", "NON_GRID_TARGETS", "N_NETWORKS", "PAPER_MODE_RATIOS", "PERIOD_SCORE_THRESHOLD",
    "RATEMAP_BINS", "RESULTS", "SCORE_FORMS", "SCORE_THRESHOLDS", "SIGMA_M", "SPIKE_NEIGHBOURS_M", "SPIKE_SIGMA_M",
    "SURROUND_SCALE", "TASK_SUCCESS", "AUTHORS_GAUSSIAN_ABOVE_THRESHOLD",
]

# ---- the debate after the paper (Sorscher et al. 2022's response; Schaeffer et al. 2023's rebuttal) -------------
# The authors' released table of their Gaussian-target runs: runs with a unit whose min-max score exceeds 0.8, of all
# (70 of 661, 10.6%), as gridbook's issue on the debate quotes it; not checked against the table here.
AUTHORS_GAUSSIAN_ABOVE_THRESHOLD = (70, 661)

# ---- the task (section 2; Sorscher et al.'s defaults, used by the paper) ----------------------------------------
BOX_M = (2.2, 2.2)  # (width, height) of the square box in metres, origin at the centre, non-periodic walls
MSE_TARGETS = ("cartesian", "hd_cartesian", "hd_polar")  # learned with a squared error; place-cell targets: softmax CE
DECODE_TOP_K = 3  # position = mean centre of the 3 most active predicted place cells

# ---- the place-cell targets (section 3) ----------------------------------------------------------------------------
SIGMA_M = 0.12  # place-cell width sigma of the DoS target, m
SURROUND_SCALE = 2.0  # surround scale s of the DoS target

# ---- analysis (section 5) ------------------------------------------------------------------------------------------
RATEMAP_BINS = 44  # rate maps of 44 x 44 bins of 5 cm (Sorscher et al. used 20 x 20)
SCORE_FORMS = ("min_max", "mean")  # score60 forms: the paper's min-max, and DeepMind's default mean form
GRID_SCORE_THRESHOLD = 0.8  # a unit is grid-like when its min-max score60 exceeds this
SCORE_THRESHOLDS = (0.3, 0.8, 1.2)  # the paper's thresholds on the min-max score60 (0.8 is the main one)
PERIOD_SCORE_THRESHOLD = 0.3  # grid periods and orientations are measured on units scoring above this
ERROR_THRESHOLD_CM = 10.0  # a network has "learned to path integrate" when its decoding error is below this (cm)

# ---- the results (sections 1 and 4) --------------------------------------------------------------------------------
N_NETWORKS = 11_608  # networks trained for the NeurIPS version
MEDIAN_GPU_HOURS = 2.1  # the authors' median training time per network at Ng = 1024, GPU-hours
NON_GRID_TARGETS = ("cartesian", "hd_cartesian", "hd_polar", "gaussian")  # R2: these readouts give no grid units
SPIKE_SIGMA_M = 0.12  # R3: sigma = 12 cm gives grid units ...
SPIKE_NEIGHBOURS_M = (0.11, 0.13)  # ... and 11 and 13 cm give none (m)
PAPER_MODE_RATIOS = (1.0, 1.15)  # R4: ratios of period modes at neighbouring sigma in the paper's networks
BIOLOGICAL_MODULE_RATIO = 1.4  # R4: ratio of neighbouring grid-module periods in rodents (Stensola et al. 2012)

# The task-success bar chart (section 4), per target: networks trained, fraction with decoding error < 10 cm, and of
# those the fraction whose best unit scores > 0.8 (values read off the published chart).
TASK_SUCCESS: dict[str, tuple[int, float, float]] = {
    "cartesian": (2516, 0.65, 0.0),
    "hd_cartesian": (3793, 0.54, 0.005),
    "hd_polar": (1171, 0.72, 0.24),
    "gaussian": (1265, 0.90, 0.08),
    "dog": (1103, 0.17, 0.16),
    "dos": (1689, 0.93, 0.91),
    "sod": (71, 1.0, 0.04),
}

# Result -> (the book's chapter, the paper's finding in a sentence); section 1 and the figures of section 4.
RESULTS: dict[str, tuple[str, str]] = {
    "R1": ("task_success", "11,608 networks: ~0.17-1.0 learn per target; of those, ~0-0.24 have a unit > 0.8 except "
           "DoS (0.91)"),
    "R2": ("target_encoding", "Cartesian, polar, Gaussian: no grid units; DoS: grid units (0.91 of learned runs)"),
    "R3": ("sensitivity", "grid units at sigma = 12 cm, none at 11 or 13 cm"),
    "R4": ("modules", "period grows ~linearly with sigma; one period per network; mode ratios ~1.0-1.15 "
           "(biology ~1.4)"),
    "R5": ("dos_vs_dog", "true DoG: no grids (0.16 of learned runs > 0.8 over all DoG sweeps); DoS: grids"),
    "R6": ("heterogeneity", "heterogeneous widths/surrounds or multi-field cells: path integration, no grid units"),
    "R7": ("predictivity", "higher participation ratio, higher neural predictivity"),
}
