"""What the chapters of the book compute: one module per chapter, each holding that chapter's helpers (pure functions
on the tables of :mod:`gridbook.runs.load` and on arrays; the notebooks hold prose, parameters and calls)."""

from gridbook.book.chapters.dos_vs_dog import CodeSpectrum, place_code_spectra, target_labels, theory_maps
from gridbook.book.chapters.heterogeneity import (
    BASELINE_CONDITION,
    heterogeneity_condition,
    is_baseline,
    survival_curve,
)
from gridbook.book.chapters.methods import UnitCode, unit_codes
from gridbook.book.chapters.modules import grid_unit_periods, period_table, periods_by, theory_periods
from gridbook.book.chapters.predictivity import (
    predictivity_comparison,
    predictivity_rank_correlation,
    predictivity_table,
    random_feature_table,
    run_label,
)
from gridbook.book.chapters.sensitivity import split_surround_sweep, threshold_percentages
from gridbook.book.chapters.target_encoding import best_units, score_densities, unit_fractions
from gridbook.book.chapters.task_success import swept_values, task_success_table

__all__ = [
    'BASELINE_CONDITION', 'CodeSpectrum', 'UnitCode', 'best_units', 'grid_unit_periods',
    'heterogeneity_condition', 'is_baseline', 'period_table', 'periods_by', 'place_code_spectra',
    'predictivity_comparison', 'predictivity_rank_correlation', 'predictivity_table',
    'random_feature_table', 'run_label', 'score_densities', 'split_surround_sweep', 'survival_curve',
    'swept_values', 'target_labels', 'task_success_table', 'theory_maps', 'theory_periods',
    'threshold_percentages', 'unit_codes', 'unit_fractions',
]
