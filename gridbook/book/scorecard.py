"""The reproduction scorecard: one row per result R1-R7 of Schaeffer, Khona & Fiete (2022), built from the run
store's tables, with the verdict decided by the rules below (never by hand).

Every ``rN_row`` takes ``load_results`` DataFrames (and, where needed, ``load_units`` or a predictivity table) and
returns a :class:`ScorecardRow`. The chapters state their verdicts through the same functions, so each rule has one
definition; :data:`RULES` says each in words (the scorecard chapter prints them). A result with no runs to judge is
"not reproduced" with the reason "no runs".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from gridbook.analysis.null import NULL_PERCENTILE
from gridbook.analysis.periods import (
    BIC_EVIDENCE,
    MIN_UNITS_FOR_MODULES,
    main_period_mode,
    mode_ratio_intervals,
    module_test,
)
from gridbook.analysis.predictivity import simulate_mec_population
from gridbook.analysis.stats import CI_LEVEL, SeedCI, ci_above, rank_correlation_test, seed_ci
from gridbook.book.chapters import (
    BASELINE_CONDITION,
    grid_unit_periods,
    heterogeneity_condition,
    predictivity_table,
    split_surround_sweep,
)
from gridbook.book.data import ChapterRuns, chapter_runs, search_runs
from gridbook.book.evidence import judged_error_cm
from gridbook.book.evidence import learned as learned_runs
from gridbook.paper import (
    BIOLOGICAL_MODULE_RATIO,
    ERROR_THRESHOLD_CM,
    GRID_SCORE_THRESHOLD,
    NON_GRID_TARGETS,
    RESULTS,
    SPIKE_NEIGHBOURS_M,
    SPIKE_SIGMA_M,
    SURROUND_SCALE,
)

REPRODUCED, PARTLY, NOT_REPRODUCED = "reproduced", "partly", "not reproduced"
NOT_JUDGED = "not judged"  # no runs to judge (or a bundle without what the rule reads): no verdict either way
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_JUDGED)
SPIKE_FACTOR = 2.0  # R3: the value at 12 cm must be at least this many times both neighbours'
RISE_ALPHA = 0.05  # R4: the one-sided permutation p-value below which the period rises with sigma
R7_STRONG = 0.5  # R7: Spearman rho at or above this counts as "higher PR, higher predictivity"
R7_ALPHA = 0.05  # R7: ... when a random ordering of the networks reaches it with probability below this
GRID_LIKE = "frac_units_grid_like"  # per run: units above 0.8 and the run's null (gridbook.analysis.null.grid_like)
_GRID_LIKE_WORDS = (f"grid-like units (min-max score above {GRID_SCORE_THRESHOLD} and above the run's "
                    f"{NULL_PERCENTILE:g}th shuffle-null percentile)")
_SEED_WORDS = f"a {100 * CI_LEVEL:g}% bootstrap interval over seeds"
_LEARN_WORDS = (f"decoding error < {ERROR_THRESHOLD_CM:g} cm under a decoder whose floor on the exact code is a few "
                "cm: for place-cell codes the best-correlated code on a 2 cm grid at every profile")

RULES: dict[str, str] = {  # each rule in words, with the constants it uses
    "R1": f"on R1's population search where the store holds it (sweeps/searches), else on the task-success "
          f"chapter's runs: reproduced if at least half of the runs learn ({_LEARN_WORDS}) and at most half of "
          f"those have at least one of the {_GRID_LIKE_WORDS}; partly if one of the two holds.",
    "R2": f"with the fraction of {_GRID_LIKE_WORDS} per run and {_SEED_WORDS} per target: reproduced if DoS's "
          "interval lies above that of every Cartesian, polar and Gaussian target; partly if DoS merely has the "
          "highest mean fraction (overlapping intervals, or one seed); not reproduced otherwise or without a null.",
    "R3": f"with the fraction of {_GRID_LIKE_WORDS} per run at s = {SURROUND_SCALE:g} and {_SEED_WORDS} per "
          f"sigma: reproduced if the interval at {100 * SPIKE_SIGMA_M:.0f} cm lies above those at "
          f"{' and '.join(f'{100 * s:.0f}' for s in SPIKE_NEIGHBOURS_M)} cm and its mean is at least "
          f"{SPIKE_FACTOR:g} times both neighbours' (a spike); partly if {100 * SPIKE_SIGMA_M:.0f} cm merely has the "
          "highest mean.",
    "R4": "reproduced if each network's main grid period rises with sigma (Spearman rho > 0, one-sided permutation "
          f"p < {RISE_ALPHA}) and no network has two modules (a two-component mixture of its units' log periods "
          f"lowers the BIC by more than {BIC_EVIDENCE:g}; networks with fewer than {MIN_UNITS_FOR_MODULES} grid units "
          "are not tested, and at least one must be); partly if one of the two holds. The ratios of neighbouring "
          f"modes are shown against the biological {BIOLOGICAL_MODULE_RATIO} but not judged: the sweep's spacing in "
          "sigma sets them.",
    "R5": "the rule of R2 with the true DoG as the only other target: reproduced if DoS's interval of the fraction "
          "of grid-like units lies above the true DoG's; partly if DoS merely has the higher mean fraction.",
    "R6": f"with the fraction of {_GRID_LIKE_WORDS} and {_SEED_WORDS} per place-cell condition: reproduced if the "
          "homogeneous baseline's interval lies above that of every heterogeneous or multi-field condition and each "
          f"of those still learns (median {_LEARN_WORDS}); partly if the baseline merely has the "
          "highest mean fraction.",
    "R7": "reproduced if the Spearman correlation of predictivity with participation ratio across the trained and "
          f"untrained networks (random features shown apart, not counted) is at least {R7_STRONG} with a one-sided "
          f"permutation p-value below {R7_ALPHA}; partly if it is at least {R7_STRONG} but not significant.",
}


def rules_details() -> str:
    """The rules in words as a collapsed HTML list (``<details>``), escaped: the scorecard page opens with verdicts."""
    import html

    items = "".join(f"<li><b>{result}</b>: {html.escape(rule)}</li>" for result, rule in RULES.items())
    return f"<details><summary>The rules R1-R7 (open to read)</summary><ul>{items}</ul></details>"


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
    values: dict = field(default_factory=dict)  # the numbers behind ``ours`` (JSON-ready floats and ints)


def verdict_sentence(row: ScorecardRow) -> str:
    """The sentence every result chapter ends its judgement with: which rule, its verdict and the reason."""
    return f"The scorecard's rule (`gridbook.book.{row.result.lower()}_row`) says **{row.verdict}**: {row.reason}."


def _row(result: str, ours: str, profile: str, runs: int, verdict: str, reason: str,
         values: dict | None = None) -> ScorecardRow:
    if verdict not in VERDICTS:
        raise ValueError(f"verdict={verdict!r} is invalid; allowed values: {', '.join(VERDICTS)}")
    chapter, paper = RESULTS[result]
    return ScorecardRow(result, chapter, paper, ours, profile, int(runs), verdict, reason, values or {})


def no_runs(result: str, profile: str) -> ScorecardRow:
    return _row(result, "no runs", profile, 0, NOT_JUDGED, "no runs")


def _has_grid(results) -> np.ndarray:
    """Whether each run has at least one grid-like unit (False without a null)."""
    return (results[GRID_LIKE].astype(float) > 0).to_numpy()


def r1_row(results, profile: str, population: bool = False) -> ScorecardRow:
    """R1: most runs learn (fine-decoder error below the paper's bar), few of those have a grid-like unit; from R1's
    population search (``population=True``, the paper's design: a random search over its axes) or, where the store
    has none, from the task-success chapter's hand-picked runs (then said in the reason)."""
    if len(results) == 0:
        return no_runs("R1", profile)
    learned = learned_runs(results)
    frac_learned = float(learned.mean())
    frac_grid = float(_has_grid(results)[learned].mean()) if learned.any() else float("nan")
    most_learn = frac_learned >= 0.5
    few_grid = learned.any() and frac_grid <= 0.5
    source = "population search" if population else "task-success runs"
    ours = (f"{source}: {frac_learned:.2f} of {len(results)} runs learn; of those, {frac_grid:.2f} have a grid-like "
            "unit")
    verdict = REPRODUCED if most_learn and few_grid else PARTLY if most_learn or few_grid else NOT_REPRODUCED
    reason = f"learned {frac_learned:.2f} (need >= 0.5), grid | learned {frac_grid:.2f} (need <= 0.5)"
    if not population:
        reason += (f"; judged on the chapter's hand-picked runs: the store holds no population search "
                   f"(sweeps/searches/population.{profile}.yaml)")
    return _row("R1", ours, profile, len(results), verdict, reason,
                {"frac_learned": frac_learned, "frac_grid_of_learned": frac_grid, "population": population})


def condition_cis(results, labels) -> dict[str, SeedCI]:
    """The fraction of grid-like units per condition: each run's ``frac_units_grid_like`` grouped by ``labels`` (one
    label per row, e.g. the target), as the mean over seeds with its bootstrap interval
    (:func:`gridbook.analysis.stats.seed_ci`), in order of first appearance."""
    values = results[GRID_LIKE].astype(float).to_numpy()
    labels = np.asarray(labels, dtype=object)
    return {str(label): seed_ci(values[labels == label]) for label in dict.fromkeys(labels.tolist())}


def _lead_versus(results, result: str, labels, lead: str, others: list[str], profile: str,
                 extra: tuple[bool, str] | None = None) -> ScorecardRow:
    """The shared rule of R2, R5 and R6: the ``lead`` condition's fraction of grid-like units against each of
    ``others``, with seed intervals. Reproduced when the lead's interval lies above every other's (and ``extra``'s
    condition holds, if given: (holds, what fails otherwise)); partly when the lead's mean is merely the highest;
    not reproduced otherwise, or when a run has no null to count grid-like units against."""
    labels = np.asarray(labels, dtype=object)
    if not (labels == lead).any() or not others:
        return no_runs(result, profile) if len(results) == 0 else _row(
            result, f"{lead} or the conditions to compare missing", profile, len(results), NOT_JUDGED,
            "no comparison")
    compared = np.isin(labels, [lead, *others])
    if results.loc[compared, GRID_LIKE].astype(float).isna().any():
        return _row(result, "runs without a shuffle null", profile, len(results), NOT_REPRODUCED,
                    "grid-like units cannot be counted without a null (analysis.n_shuffles = 0)")
    cis = condition_cis(results.loc[compared], labels[compared])
    ours = "grid-like units, % (mean [95% CI] over seeds): " + "; ".join(
        f"{name} {ci.text(100)}" for name, ci in cis.items())
    top, rest = cis[lead], [cis[o] for o in others]
    if top.mean > 0 and all(ci_above(top, other) for other in rest) and (extra is None or extra[0]):
        verdict, reason = REPRODUCED, f"{lead}'s interval lies above every other condition's"
    elif top.mean > max(other.mean for other in rest):
        why = [] if all(ci_above(top, other) for other in rest) else [
            "only one seed" if min(ci.n for ci in (top, *rest)) < 2 else "the intervals overlap"]
        why += [] if extra is None or extra[0] else [extra[1]]
        verdict, reason = PARTLY, f"{lead} has the most grid-like units, but " + " and ".join(why)
    else:
        verdict, reason = NOT_REPRODUCED, f"{lead} does not have the most grid-like units"
    values = {"grid_like_percent": {name: {"mean": 100 * ci.mean, "low": 100 * ci.low, "high": 100 * ci.high,
                                           "seeds": ci.n} for name, ci in cis.items()}}
    return _row(result, ours, profile, len(results), verdict, reason, values)


def r2_row(results, profile: str) -> ScorecardRow:
    """R2 from the target-encoding sweep's results (columns ``target``, ``frac_units_grid_like``)."""
    present = results["target"].astype(str).tolist()
    others = [t for t in dict.fromkeys(present) if t in NON_GRID_TARGETS]
    return _lead_versus(results, "R2", present, "dos", others, profile)


def r3_row(results, profile: str) -> ScorecardRow:
    """R3 from the sensitivity sweep: the fraction of grid-like units per run at sigma = 11, 12 and 13 cm (s = 2),
    with seed intervals; 12 cm must lie above both neighbours and hold at least :data:`SPIKE_FACTOR` times their
    mean fraction."""
    if len(results) == 0:
        return no_runs("R3", profile)
    results = split_surround_sweep(results, surround_scale=SURROUND_SCALE)[0]  # the sigma sweep at s = 2
    wanted = (SPIKE_SIGMA_M, *SPIKE_NEIGHBOURS_M)
    sigma = results["sigma"].astype(float).to_numpy()
    labels = np.array([next((_sigma_label(w) for w in wanted if math.isclose(x, w)), "other") for x in sigma],
                      dtype=object)
    if not all((labels == _sigma_label(w)).any() for w in wanted):
        return _row("R3", "sigma 11, 12 and 13 cm not all swept", profile, len(results), NOT_JUDGED,
                    "no comparison")
    fractions = results[GRID_LIKE].astype(float).to_numpy()
    means = {w: float(np.nanmean(fractions[labels == _sigma_label(w)])) for w in wanted}
    spike = means[SPIKE_SIGMA_M] >= SPIKE_FACTOR * max(means[w] for w in SPIKE_NEIGHBOURS_M)
    return _lead_versus(results, "R3", labels, _sigma_label(SPIKE_SIGMA_M),
                        [_sigma_label(w) for w in SPIKE_NEIGHBOURS_M], profile,
                        extra=(spike, f"it is not {SPIKE_FACTOR:g}x both neighbours (no spike)"))


def _sigma_label(sigma_m: float) -> str:
    return f"sigma {100 * sigma_m:.0f} cm"


def r4_row(grid_units, profile: str, runs: int) -> ScorecardRow:
    """R4 from the modules sweep's grid units (:func:`gridbook.book.chapters.grid_unit_periods`: columns run_id,
    sigma, period_m): the rise of each network's main period with sigma (a permutation test of Spearman's rho),
    one module per network (:func:`gridbook.analysis.periods.module_test`), and the ratios of the main modes at
    neighbouring sigma against the biological 1.4 with intervals over units (reported, not judged: the sweep's
    spacing in sigma sets them)."""
    if runs == 0:
        return no_runs("R4", profile)
    per_run = grid_units.groupby("run_id").agg(sigma=("sigma", "first"), period=("period_m", main_period_mode))
    rank = rank_correlation_test(per_run["sigma"], per_run["period"])
    if rank.n < 3:
        return _row("R4", f"grid periods in {rank.n} network(s)", profile, runs, NOT_JUDGED,
                    "fewer than three networks with grid units")
    tests = [module_test(g["period_m"]) for _, g in grid_units.groupby("run_id")]
    testable = [t for t in tests if np.isfinite(t.delta_bic)]
    single = bool(testable) and all(t.n_modules == 1 for t in testable)
    rise = rank.rho > 0 and rank.p_value < RISE_ALPHA
    widths = sorted(grid_units["sigma"].unique())
    ratios = mode_ratio_intervals([grid_units.loc[grid_units["sigma"] == w, "period_m"] for w in widths])
    ours = (f"Spearman rho(sigma, period) = {rank.rho:.2f} over {rank.n} networks (permutation p = "
            f"{rank.p_value:.3f}); {sum(t.n_modules > 1 for t in testable)} of {len(testable)} networks testable for "
            f"modules have two (BIC); mode ratios at neighbouring sigma "
            + ", ".join(f"{r:.2f} [{lo:.2f}, {hi:.2f}]" for r, lo, hi in ratios)
            + f" (biological {BIOLOGICAL_MODULE_RATIO})")
    words = [("the period rises with sigma" if rise else f"no significant rise (p >= {RISE_ALPHA})"),
             ("one module per network" if single else "no network has enough grid units to test for modules"
              if not testable else "a network has two modules")]
    verdict = REPRODUCED if rise and single else PARTLY if rise or single else NOT_REPRODUCED
    values = {"rho": rank.rho, "p_value": rank.p_value, "networks": rank.n, "testable_for_modules": len(testable),
              "two_modules": sum(t.n_modules > 1 for t in testable),
              "mode_ratios": [[r, lo, hi] for r, lo, hi in ratios]}
    return _row("R4", ours, profile, runs, verdict, "; ".join(words), values)


def r5_row(results, profile: str) -> ScorecardRow:
    """R5 from the DoS-versus-DoG sweep's results: DoS against the true DoG (general DoGs are shown, not judged)."""
    present = results["target"].astype(str).tolist()
    return _lead_versus(results, "R5", present, "dos", ["dog"] if "dog" in present else [], profile)


def r6_row(results, profile: str) -> ScorecardRow:
    """R6 from the heterogeneity sweep's results (columns sigma_range, surround_range, fields_lambda): the
    baseline against each heterogeneous or multi-field condition, which must also learn (median error below
    the paper's bar) for the result to be reproduced."""
    if len(results) == 0:
        return no_runs("R6", profile)
    labels = [heterogeneity_condition(r) for r in results.to_dict("records")]
    others = [c for c in dict.fromkeys(labels) if c != BASELINE_CONDITION]
    errors = judged_error_cm(results)  # (R,) cm
    learn = all(np.nanmedian(errors[np.asarray(labels) == c]) < ERROR_THRESHOLD_CM for c in others)
    return _lead_versus(results, "R6", labels, BASELINE_CONDITION, others, profile,
                        extra=(learn, f"not every heterogeneous condition learns (median error < "
                                      f"{ERROR_THRESHOLD_CM:g} cm)"))


def r7_row(predictivity, profile: str, runs: int) -> ScorecardRow:
    """R7 from a table of networks (trained and untrained, no random features) with columns participation_ratio
    and predictivity (:func:`gridbook.book.chapters.predictivity_table`): Spearman's rho and its one-sided
    permutation p-value (:func:`gridbook.analysis.stats.rank_correlation_test`)."""
    if runs == 0:
        return no_runs("R7", profile)
    test = rank_correlation_test(predictivity["participation_ratio"], predictivity["predictivity"])
    if test.n < 3:
        return _row("R7", f"{test.n} networks", profile, runs, NOT_JUDGED, "fewer than 3 networks")
    ours = (f"Spearman rho(PR, predictivity) = {test.rho:.2f} over {test.n} networks (one-sided permutation p = "
            f"{test.p_value:.3f})")
    if test.rho >= R7_STRONG and test.p_value < R7_ALPHA:
        verdict, reason = REPRODUCED, f"rho >= {R7_STRONG} and p < {R7_ALPHA}"
    elif test.rho >= R7_STRONG:
        verdict, reason = PARTLY, f"rho >= {R7_STRONG}, but p >= {R7_ALPHA}: as likely as a chance ordering"
    else:
        verdict, reason = NOT_REPRODUCED, f"rho < {R7_STRONG}"
    return _row("R7", ours, profile, runs, verdict, reason, {"rho": test.rho, "p_value": test.p_value, "n": test.n})


def scorecard_table(rows):
    """The scorecard as a DataFrame indexed by result."""
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows]).set_index("result")


SCORECARD_CHAPTERS = tuple(chapter for chapter, _ in RESULTS.values())  # R1-R7's chapters, in order


def scorecard_rows(runs_of: Callable[[str], ChapterRuns], profile: str, population=None,
                   maps: bool = True, only: str | None = None) -> list[ScorecardRow]:
    """R1-R7 from each chapter's runs (``runs_of(chapter)``): :func:`r1_row` ... :func:`r7_row`. R1 from
    ``population`` (a population search's results) when given and not empty, else from the task-success runs. R7
    compares predictivity on the simulated MEC population, from every unit's maps: without them (``maps=False``, a
    bundle) it is not judged. ``only="R7"``: R7's row alone (its chapter's runs only)."""
    import pandas as pd

    runs = {name: runs_of(name) for name in (SCORECARD_CHAPTERS if only is None else ["predictivity"])}
    res = {name: chapter.results for name, chapter in runs.items()}
    pred = res["predictivity"]
    r7 = None
    if len(pred) and maps:
        simulated = simulate_mec_population(n_bins=int(pred["n_bins"].iloc[0]))
        pred_table = predictivity_table(runs["predictivity"].store, pred, simulated.maps)
    else:
        pred_table = pd.DataFrame(columns=["participation_ratio", "predictivity"])
        if len(pred):
            r7 = _row("R7", f"{len(pred)} runs, but not every unit's map", profile, len(pred), NOT_JUDGED,
                      "a bundle keeps only its runs' best maps; predictivity needs every unit's")
    if only == "R7":
        return [r7 or r7_row(pred_table, profile, len(pred))]
    has_population = population is not None and len(population)
    r1 = r1_row(population, profile, population=True) if has_population else r1_row(res["task_success"], profile)
    grid_units = grid_unit_periods(runs["modules"].units(), res["modules"])
    return [r1, r2_row(res["target_encoding"], profile),
            r3_row(res["sensitivity"], profile),
            r4_row(grid_units, profile, len(res["modules"])),
            r5_row(res["dos_vs_dog"], profile), r6_row(res["heterogeneity"], profile),
            r7 or r7_row(pred_table, profile, len(pred))]


def scorecard_from_store(store, profile: str, seeds=None):
    """The R1-R7 table from the run store: each chapter's runs (its sweep spec at ``profile``, nothing trained),
    turned into rows by :func:`scorecard_rows`; R1 from the population search where the store holds it."""
    population = search_runs("population", profile, store).results  # R1's search, where the store holds it
    return scorecard_table(scorecard_rows(lambda name: chapter_runs(name, profile, store, seeds=seeds, train=False),
                                          profile, population))
