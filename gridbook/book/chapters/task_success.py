"""The task-success chapter (R1): the swept values and the table of learned and grid-like runs per target. Pure
functions on the tables of :mod:`gridbook.runs.load` and on arrays; the notebook holds prose, parameters and calls."""

from __future__ import annotations

from collections.abc import Sequence

from gridbook.book.evidence import learned as learned_runs
from gridbook.paper import (
    ERROR_THRESHOLD_CM,
    GRID_SCORE_THRESHOLD,
    SCORE_THRESHOLDS,
    TASK_SUCCESS,
)

__all__ = [
    'swept_values', 'task_success_table',
]


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
