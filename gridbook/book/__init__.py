"""The executable book: building it (:mod:`~gridbook.book.build`), each chapter's runs (:mod:`~gridbook.book.data`),
the profile box (:mod:`~gridbook.book.profile`), what the chapters compute from their tables
(:mod:`~gridbook.book.chapters`), the verdict rules of the scorecard (:mod:`~gridbook.book.scorecard`) and the figures
(:mod:`~gridbook.book.plotting`). The chapters call only the names exported here and in :mod:`gridbook`."""

from gridbook.book import plotting
from gridbook.book.build import build_book, rerun_hint
from gridbook.book.bundles import bundle_runs, committed_bundles, evidence_bundles, evidence_runs
from gridbook.book.chapters import (
    BASELINE_CONDITION,
    CodeSpectrum,
    UnitCode,
    best_units,
    grid_unit_periods,
    heterogeneity_condition,
    is_baseline,
    period_table,
    periods_by,
    place_code_spectra,
    predictivity_comparison,
    predictivity_rank_correlation,
    predictivity_table,
    random_feature_table,
    run_label,
    score_densities,
    split_surround_sweep,
    survival_curve,
    swept_values,
    target_labels,
    task_success_table,
    theory_maps,
    theory_periods,
    threshold_percentages,
    unit_codes,
    unit_fractions,
)
from gridbook.book.compare import chapter_row, record_of, scorecard_from_bundle, side_by_side, verdict_table
from gridbook.book.data import ChapterRuns, chapter_runs, chapter_spec, search_runs
from gridbook.book.debate import (
    DEBATE_RULES,
    annulus_strengths,
    debate_record,
    debate_rows,
    debate_table,
    false_positive_sentence,
    rescore_protocols,
    standard_runs,
    underpowered_sentence,
)
from gridbook.book.evidence import chance_sentence, decoder_sentence, fine_decoder_errors, judged_error_cm, learned
from gridbook.book.profile import deviation_table, profile_box, profile_box_html, table, threshold_table
from gridbook.book.scorecard import (
    NOT_JUDGED,
    RULES,
    VERDICTS,
    ScorecardRow,
    r1_row,
    r2_row,
    r3_row,
    r4_row,
    r5_row,
    r6_row,
    r7_row,
    rules_details,
    scorecard_from_store,
    verdict_sentence,
)
from gridbook.errors import ChapterError

__all__ = [
    "DEBATE_RULES", "annulus_strengths", "debate_record", "debate_rows", "debate_table", "false_positive_sentence",
    "rescore_protocols", "standard_runs", "underpowered_sentence",
    "NOT_JUDGED", "threshold_table", "bundle_runs", "chapter_row", "committed_bundles", "evidence_bundles",
    "evidence_runs", "record_of",
    "scorecard_from_bundle", "side_by_side", "verdict_table", "rules_details", "verdict_sentence",
    "BASELINE_CONDITION", "is_baseline", "ChapterError", "ChapterRuns", "CodeSpectrum", "RULES", "ScorecardRow",
    "UnitCode", "VERDICTS", "best_units", "build_book", "chance_sentence", "decoder_sentence", "fine_decoder_errors",
    "judged_error_cm", "learned", "chapter_runs", "chapter_spec", "search_runs", "deviation_table",
    "grid_unit_periods", "heterogeneity_condition", "period_table", "periods_by", "place_code_spectra", "plotting",
    "predictivity_comparison", "predictivity_rank_correlation", "predictivity_table", "profile_box",
    "profile_box_html", "r1_row", "r2_row", "r3_row", "r4_row", "r5_row", "r6_row", "r7_row", "random_feature_table",
    "rerun_hint", "run_label", "score_densities", "scorecard_from_store", "split_surround_sweep", "survival_curve",
    "swept_values", "table", "target_labels", "task_success_table", "theory_maps", "theory_periods",
    "threshold_percentages", "unit_codes", "unit_fractions",
]
