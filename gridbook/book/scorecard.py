"""The reproduction scorecard: one row per result R1-R7 of Schaeffer, Khona & Fiete (2022), built from the run
store's tables, with the verdict decided by the rules below (never by hand).

Every ``rN_row`` takes ``load_results`` DataFrames (and, where needed, ``load_units`` or a predictivity table) and
returns a :class:`ScorecardRow`. The chapters state their verdicts through the same functions, so each rule has one
definition; :data:`RULES` says each in words (the scorecard chapter prints them). A result with no runs to judge is
"not reproduced" with the reason "no runs".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from gridbook.analysis.periods import period_trend
from gridbook.analysis.predictivity import simulate_mec_population
from gridbook.book.chapters import (
    grid_unit_periods,
    is_baseline,
    modes_per_run,
    period_table,
    predictivity_rank_correlation,
    predictivity_table,
    spike_contrast,
    split_surround_sweep,
    threshold_percentages,
)
from gridbook.book.data import chapter_runs
from gridbook.paper import (
    ERROR_THRESHOLD_CM,
    GRID_SCORE_THRESHOLD,
    NON_GRID_TARGETS,
    RESULTS,
    SCORE_THRESHOLDS,
    SPIKE_NEIGHBOURS_M,
    SPIKE_SIGMA_M,
    SURROUND_SCALE,
)

REPRODUCED, PARTLY, NOT_REPRODUCED = "reproduced", "partly", "not reproduced"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED)
SPIKE_FACTOR = 2.0  # R3: the value at 12 cm must be at least this many times both neighbours'
MODULE_RATIO_CUTOFF = 1.25  # R4: mode ratios below this are "not the biological ~1.4" (the paper saw 1.0-1.15)
R7_STRONG = 0.5  # R7: Spearman rho at or above this counts as "higher PR, higher predictivity"

RULES: dict[str, str] = {  # each rule in words, with the constants it uses
    "R1": f"reproduced if at least half of the runs learn (error < {ERROR_THRESHOLD_CM:g} cm) and at most half of "
          f"those have a unit above {GRID_SCORE_THRESHOLD}; partly if one of the two holds.",
    "R2": f"reproduced if some DoS run has a unit above {GRID_SCORE_THRESHOLD} and no Cartesian, polar or Gaussian "
          "run has one; partly if DoS's best unit merely outscores every other target's best unit.",
    "R3": f"with the percentage of units above {SCORE_THRESHOLDS[0]} averaged over seeds at each sigma (s = "
          f"{SURROUND_SCALE:g}), reproduced if the value at {100 * SPIKE_SIGMA_M:.0f} cm is positive, at least "
          f"{SPIKE_FACTOR:g} times both neighbours' ({', '.join(f'{100 * s:.0f}' for s in SPIKE_NEIGHBOURS_M)} cm) and "
          f"ahead of the larger by more than the largest spread across seeds; partly if {100 * SPIKE_SIGMA_M:.0f} cm "
          "is merely the highest of the three.",
    "R4": "reproduced if the main period mode rises with sigma, every network has one mode and the ratios of modes "
          f"at neighbouring sigma stay below {MODULE_RATIO_CUTOFF}; partly if only the rise holds.",
    "R5": f"reproduced if some DoS run has a unit above {GRID_SCORE_THRESHOLD} and no true-DoG run has one; partly "
          "if DoS's best unit merely outscores the true DoG's.",
    "R6": f"reproduced if the baseline has a unit above {GRID_SCORE_THRESHOLD} and every heterogeneous or "
          "multi-field run learns without one; partly if every heterogeneous run's best unit scores below the "
          "baseline's best.",
    "R7": "reproduced if the Spearman correlation of predictivity with participation ratio across the trained and "
          f"untrained networks is at least {R7_STRONG}; partly if it is positive.",
}


@dataclass(frozen=True)
class ScorecardRow:
    """One result's line: the paper's figure, ours (a sentence from computed values), the profile and run count,
    and the verdict with the reason the rule gave."""
    result: str
    chapter: str
    paper: str
    ours: str
    profile: str
    runs: int
    verdict: str
    reason: str


def _row(result: str, ours: str, profile: str, runs: int, verdict: str, reason: str) -> ScorecardRow:
    if verdict not in VERDICTS:
        raise ValueError(f"verdict={verdict!r} is invalid; allowed values: {', '.join(VERDICTS)}")
    chapter, paper = RESULTS[result]
    return ScorecardRow(result, chapter, paper, ours, profile, int(runs), verdict, reason)


def _no_runs(result: str, profile: str) -> ScorecardRow:
    return _row(result, "no runs", profile, 0, NOT_REPRODUCED, "no runs")


def _has_grid(results) -> np.ndarray:
    return (results["best_score60_min_max"].astype(float) > GRID_SCORE_THRESHOLD).to_numpy()


def _best(results, mask) -> float:
    values = results.loc[mask, "best_score60_min_max"].astype(float)
    return float(values.max()) if values.notna().any() else float("nan")


def r1_row(results, profile: str) -> ScorecardRow:
    """R1 from the task-success sweep's results."""
    if len(results) == 0:
        return _no_runs("R1", profile)
    learned = (results["decoding_error_cm"].astype(float) < ERROR_THRESHOLD_CM).to_numpy()
    frac_learned = float(learned.mean())
    frac_grid = float(_has_grid(results)[learned].mean()) if learned.any() else float("nan")
    most_learn = frac_learned >= 0.5
    few_grid = learned.any() and frac_grid <= 0.5
    ours = (f"{frac_learned:.2f} of {len(results)} runs learn; of those, {frac_grid:.2f} have a unit > "
            f"{GRID_SCORE_THRESHOLD}")
    verdict = REPRODUCED if most_learn and few_grid else PARTLY if most_learn or few_grid else NOT_REPRODUCED
    reason = f"learned {frac_learned:.2f} (need >= 0.5), grid | learned {frac_grid:.2f} (need <= 0.5)"
    return _row("R1", ours, profile, len(results), verdict, reason)


def _dos_versus(results, result: str, other, name: str, possessive: str, profile: str) -> ScorecardRow:
    """The shared rule of R2 and R5: reproduced when only DoS runs have a grid unit, partly when DoS's best unit
    still outscores the others' best, not reproduced otherwise."""
    dos = (results["target"] == "dos").to_numpy()
    if not dos.any() or not other.any():
        return _no_runs(result, profile) if len(results) == 0 else _row(
            result, f"DoS or {name} missing", profile, len(results), NOT_REPRODUCED, "no comparison")
    grid = _has_grid(results)
    best_dos, best_other = _best(results, dos), _best(results, other)
    ours = f"best unit: DoS {best_dos:.2f}, {name} {best_other:.2f}"
    if grid[dos].any() and not grid[other].any():
        verdict, reason = REPRODUCED, f"only DoS has a unit > {GRID_SCORE_THRESHOLD}"
    elif best_dos > best_other:
        verdict, reason = PARTLY, "DoS's best unit scores highest, but the threshold does not separate them"
    else:
        verdict, reason = NOT_REPRODUCED, f"DoS's best unit does not outscore {possessive}"
    return _row(result, ours, profile, len(results), verdict, reason)


def r2_row(results, profile: str) -> ScorecardRow:
    """R2 from the target-encoding sweep's results (column ``target``)."""
    other = results["target"].isin(NON_GRID_TARGETS).to_numpy()
    return _dos_versus(results, "R2", other, "the other targets", "the other targets'", profile)


def r3_row(results, profile: str, threshold: float = SCORE_THRESHOLDS[0]) -> ScorecardRow:
    """R3 from the sensitivity sweep: percentage of units above ``threshold`` (mean over seeds) at 11, 12, 13 cm."""
    if len(results) == 0:
        return _no_runs("R3", profile)
    results = split_surround_sweep(results, surround_scale=SURROUND_SCALE)[0]  # the sigma sweep at s = 2
    table = threshold_percentages(results, (threshold,), by="sigma")
    curve = table[(threshold, "mean")]
    wanted = (SPIKE_SIGMA_M, *SPIKE_NEIGHBOURS_M)
    if not all(any(math.isclose(s, w) for s in curve.index) for w in wanted):
        return _row("R3", "sigma 11, 12 and 13 cm not all swept", profile, len(results), NOT_REPRODUCED,
                    "no comparison")
    at = {w: float(curve[[math.isclose(s, w) for s in curve.index]].iloc[0]) for w in wanted}
    centre, neighbours = at[SPIKE_SIGMA_M], max(at[w] for w in SPIKE_NEIGHBOURS_M)
    contrast = spike_contrast(curve, at=SPIKE_SIGMA_M)
    spread = float((table[(threshold, "max")] - table[(threshold, "min")]).max())
    low, high = SPIKE_NEIGHBOURS_M
    ours = (f"% units > {threshold}: {at[low]:.1f} / {centre:.1f} / {at[high]:.1f} at "
            f"{100 * low:.0f} / {100 * SPIKE_SIGMA_M:.0f} / {100 * high:.0f} cm; lead {contrast:.1f} points, "
            f"seed spread up to {spread:.1f}")
    if centre > 0 and centre >= SPIKE_FACTOR * neighbours and contrast > spread:
        verdict, reason = REPRODUCED, (f"12 cm is at least {SPIKE_FACTOR:g}x both neighbours and leads by more than "
                                       "the seed spread")
    elif centre > neighbours:
        verdict, reason = PARTLY, ("12 cm is highest but not a spike" if contrast > spread else
                                   "12 cm is highest, by less than the seed spread")
    else:
        verdict, reason = NOT_REPRODUCED, "12 cm does not stand out"
    return _row("R3", ours, profile, len(results), verdict, reason)


def r4_row(period_table, modes_per_run, profile: str, runs: int) -> ScorecardRow:
    """R4 from :func:`gridbook.book.chapters.period_table` (index sigma, column ``main mode (m)``) and
    :func:`gridbook.book.chapters.modes_per_run` (number of modes per network)."""
    if runs == 0:
        return _no_runs("R4", profile)
    trend = period_trend(period_table.index, period_table["main mode (m)"]) if len(period_table) else None
    if trend is None or trend.sigma_m.size < 2:
        n_sigma = 0 if trend is None else trend.sigma_m.size
        return _row("R4", f"grid periods at {n_sigma} sigma value(s)", profile, runs, NOT_REPRODUCED,
                    "fewer than two sigma values with grid-like units")
    single = bool((np.asarray(modes_per_run) == 1).all())
    low_ratio = bool((trend.ratios < MODULE_RATIO_CUTOFF).all())
    ours = (f"period slope {trend.slope:.2f} m per m of sigma; neighbour ratios "
            f"{', '.join(f'{r:.2f}' for r in trend.ratios)}; "
            f"{int((np.asarray(modes_per_run) > 1).sum())} of {len(modes_per_run)} networks multimodal")
    if trend.slope > 0 and single and low_ratio:
        verdict, reason = REPRODUCED, "period rises with sigma, one mode per network, ratios below the biological"
    elif trend.slope > 0:
        verdict, reason = PARTLY, "period rises with sigma" + ("" if single else "; some networks multimodal") + (
            "" if low_ratio else f"; a ratio >= {MODULE_RATIO_CUTOFF}")
    else:
        verdict, reason = NOT_REPRODUCED, "period does not rise with sigma"
    return _row("R4", ours, profile, runs, verdict, reason)


def r5_row(results, profile: str) -> ScorecardRow:
    """R5 from the DoS-versus-DoG sweep's results."""
    dog = (results["target"] == "dog").to_numpy()
    return _dos_versus(results, "R5", dog, "true DoG", "true DoG's", profile)


def r6_row(results, profile: str) -> ScorecardRow:
    """R6 from the heterogeneity sweep's results (columns sigma_range, surround_range, fields_lambda)."""
    if len(results) == 0:
        return _no_runs("R6", profile)
    base = np.array([is_baseline(r) for r in results.to_dict("records")])
    if not base.any() or base.all():
        return _row("R6", "baseline or heterogeneous runs missing", profile, len(results), NOT_REPRODUCED,
                    "no comparison")
    grid = _has_grid(results)
    learned = (results["decoding_error_cm"].astype(float) < ERROR_THRESHOLD_CM).to_numpy()
    best_base, best_het = _best(results, base), _best(results, ~base)
    ours = (f"best unit: baseline {best_base:.2f}, heterogeneous {best_het:.2f}; heterogeneous runs learning: "
            f"{int(learned[~base].sum())} of {int((~base).sum())}")
    if grid[base].any() and learned[~base].all() and not grid[~base].any():
        verdict, reason = REPRODUCED, "baseline has grid units; heterogeneous runs learn without them"
    elif best_het < best_base:
        verdict, reason = PARTLY, "heterogeneous runs score below the baseline"
    else:
        verdict, reason = NOT_REPRODUCED, "heterogeneous runs do not lose grid units"
    return _row("R6", ours, profile, len(results), verdict, reason)


def r7_row(predictivity, profile: str, runs: int) -> ScorecardRow:
    """R7 from a table of networks with columns participation_ratio and predictivity
    (:func:`gridbook.book.chapters.predictivity_table`)."""
    rho, n_networks = predictivity_rank_correlation(predictivity)
    if runs == 0:
        return _no_runs("R7", profile)
    if n_networks < 3:
        return _row("R7", f"{n_networks} networks", profile, runs, NOT_REPRODUCED, "fewer than 3 networks")
    ours = f"Spearman rho(PR, predictivity) = {rho:.2f} over {n_networks} networks"
    if rho >= R7_STRONG:
        verdict, reason = REPRODUCED, f"rho >= {R7_STRONG}"
    elif rho > 0:
        verdict, reason = PARTLY, f"0 < rho < {R7_STRONG}"
    else:
        verdict, reason = NOT_REPRODUCED, "rho <= 0"
    return _row("R7", ours, profile, runs, verdict, reason)


def scorecard_table(rows):
    """The scorecard as a DataFrame indexed by result."""
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows]).set_index("result")


SCORECARD_CHAPTERS = tuple(chapter for chapter, _ in RESULTS.values())  # R1-R7's chapters, in order


def scorecard_from_store(store, profile: str, seeds=None):
    """The R1-R7 table from the run store: each chapter's runs (its sweep spec at ``profile``, nothing trained),
    turned into rows by :func:`r1_row` ... :func:`r7_row`. R7 compares predictivity on the simulated MEC population."""
    import pandas as pd

    runs = {name: chapter_runs(name, profile, store, seeds=seeds, train=False) for name in SCORECARD_CHAPTERS}
    res = {name: chapter.results for name, chapter in runs.items()}
    grid_units = grid_unit_periods(runs["modules"].units(), res["modules"])
    pred = res["predictivity"]
    if len(pred):
        population = simulate_mec_population(n_bins=int(pred["n_bins"].iloc[0]))
        pred_table = predictivity_table(runs["predictivity"].store, pred, population.maps)
    else:
        pred_table = pd.DataFrame(columns=["participation_ratio", "predictivity"])
    rows = [r1_row(res["task_success"], profile), r2_row(res["target_encoding"], profile),
            r3_row(res["sensitivity"], profile),
            r4_row(period_table(grid_units), modes_per_run(grid_units), profile, len(res["modules"])),
            r5_row(res["dos_vs_dog"], profile), r6_row(res["heterogeneity"], profile),
            r7_row(pred_table, profile, len(pred))]
    return scorecard_table(rows)
