"""The debate after the paper, on one code base: each claim of Sorscher et al.'s response and of the authors'
rebuttal (PAPER.md's references; the issue that set these tests quotes their numbers) stated as a proposition and
judged by a rule in code on our networks, with the same scorer and null as the rest of the book.

Every ``dN_row`` takes tables (``load_results``-shaped; D4 a column of annulus strengths, D5 a table of rescored
runs) and returns a :class:`DebateRow`: the proposition, whose it is, our numbers, and the verdict -- "supported",
"not supported", "undecided" (the data cannot tell), or "not judged" (no runs to judge). :data:`DEBATE_RULES` says
each rule in words.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from gridbook.analysis.stats import CI_LEVEL, ci_above, difference_test, roc_auc, seed_ci
from gridbook.paper import AUTHORS_GAUSSIAN_ABOVE_THRESHOLD, GRID_SCORE_THRESHOLD, SPIKE_NEIGHBOURS_M, SPIKE_SIGMA_M

__all__ = ["AUC_BAR", "DEBATE_ALPHA", "DEBATE_CLAIMS", "DEBATE_RULES", "DEBATE_VERDICTS", "DebateRow",
           "MOVE_BAR", "NONNEGATIVE_ACTIVATIONS", "RING_BAR", "annulus_strengths", "d1_row", "d2_row",
           "d3_row", "d4_row", "d5_row", "debate_record", "debate_row", "debate_rows", "debate_table",
           "false_positive_sentence", "rescore_protocols", "standard_runs", "underpowered_sentence"]

SUPPORTED, NOT_SUPPORTED, UNDECIDED, NOT_JUDGED = "supported", "not supported", "undecided", "not judged"
DEBATE_VERDICTS = (SUPPORTED, NOT_SUPPORTED, UNDECIDED, NOT_JUDGED)
GRID_LIKE = "frac_units_grid_like"
NONNEGATIVE_ACTIVATIONS = ("relu", "sigmoid")  # activations whose rates cannot go below zero
RING_BAR = 2.0  # a target's annulus strength (gridbook.analysis.theory.annulus_strength) above this: a ring
DEBATE_ALPHA = 0.05  # D3: one-sided permutation p-value below which 12 cm has more grid-like units than a neighbour
AUC_BAR = 0.75  # D4: the annulus predicts emergence when the AUC's interval lies above this; not, when below
MOVE_BAR = 0.2  # D5: the headline moves when a target's fraction of runs with a unit > 0.8 changes this much

DEBATE_CLAIMS: dict[str, tuple[str, str]] = {  # claim -> (proposition, whose)
    "D1": ("grids need a nonnegative activation and a target whose correlation has its Fourier power on a ring",
           "the response (Sorscher et al.)"),
    "D2": ("a DoG whose Gaussians are each normalised (1 / 2 pi sigma^2) gives grids like the DoS",
           "the response (Sorscher et al.)"),
    "D3": ("the grid-like units dip at 11 and 13 cm against 12 cm", "the rebuttal (Schaeffer et al.)"),
    "D4": ("the annulus strength of a target's correlation predicts whether grid-like units emerge",
           "the response (Sorscher et al.)"),
    "D5": ("how grid units are measured moves the headline fractions", "this book's question to both"),
}
_CI = f"{100 * CI_LEVEL:g}% bootstrap interval over seeds"
DEBATE_RULES: dict[str, str] = {
    "D1": f"each run's fraction of grid-like units, pooled over the cells of the activation x target grid that the "
          f"theory predicts (activation in {', '.join(NONNEGATIVE_ACTIVATIONS)} and a target of annulus strength "
          f"> {RING_BAR:g}) and over the rest, with a {_CI}: supported if the predicted cells' interval lies above "
          "the rest's; not supported if the rest have at least as many on average; undecided otherwise.",
    "D2": f"the fraction of grid-like units with a {_CI} for the normalised DoG, the DoS and the true DoG: supported "
          "if the normalised DoG's interval lies above the true DoG's and the DoS's does not lie above it; not "
          "supported if the DoS's lies above it or it does not have more than the true DoG; undecided otherwise.",
    "D3": f"at s = 2 in the variance-ratio convention, the runs at 12 cm against those at 11 cm and at 13 cm, each a "
          f"one-sided permutation test over seeds of the fraction of grid-like units: supported if both p < "
          f"{DEBATE_ALPHA:g}; not supported if neither; undecided if one; not judged when the seeds are too few for "
          f"any p-value below {DEBATE_ALPHA:g}.",
    "D4": f"the ROC AUC of each run's target annulus strength for 'the run has a grid-like unit', over every run, "
          f"with a bootstrap interval over runs: supported if the interval lies above {AUC_BAR:g}; not supported if "
          "it lies below; undecided otherwise.",
    "D5": f"the same networks scored three ways (the authors': ~10,000 positions, 44 x 44 bins, a unit > "
          f"{GRID_SCORE_THRESHOLD:g}, no null; Sorscher et al.'s: 200,000 positions, 20 x 20 bins; ours: 800,000 "
          f"positions, 44 x 44 bins, the null): supported if some target's fraction of runs with a grid unit moves "
          f"by at least {MOVE_BAR:g} between two of them; not supported otherwise.",
}


@dataclass(frozen=True)
class DebateRow:
    """One claim's line: the proposition and whose it is, ours (from computed values), the runs, the verdict and
    the reason the rule gave."""

    claim: str
    proposition: str
    whose: str
    ours: str
    runs: int
    verdict: str
    reason: str


def debate_row(claim: str, ours: str, runs: int, verdict: str, reason: str) -> DebateRow:
    if verdict not in DEBATE_VERDICTS:
        raise ValueError(f"verdict={verdict!r} is invalid; allowed values: {', '.join(DEBATE_VERDICTS)}")
    proposition, whose = DEBATE_CLAIMS[claim]
    return DebateRow(claim, proposition, whose, ours, int(runs), verdict, reason)


def _no_runs(claim: str) -> DebateRow:
    return debate_row(claim, "no runs", 0, NOT_JUDGED, "no runs")


def _text(ci) -> str:
    """A pooled interval over runs: "8.3 [7.4, 9.1] (94 runs)"."""
    return f"{100 * ci.mean:.1f} [{100 * ci.low:.1f}, {100 * ci.high:.1f}] ({ci.n} runs)"


def _fractions(results, mask) -> np.ndarray:
    return results.loc[mask, GRID_LIKE].astype(float).to_numpy()


def d1_row(results, annulus: dict[str, float]) -> DebateRow:
    """D1 from runs over activations x targets (columns activation, target, frac_units_grid_like) and each target's
    annulus strength (``annulus``: target -> strength)."""
    if len(results) == 0:
        return _no_runs("D1")
    ring = results["target"].map(lambda t: annulus.get(str(t), math.nan) > RING_BAR)
    predicted = results["activation"].isin(NONNEGATIVE_ACTIVATIONS) & ring
    if not predicted.any() or predicted.all():
        return debate_row("D1", "the grid has no cell on one side of the prediction", len(results), NOT_JUDGED,
                    "no comparison")
    inside, outside = seed_ci(_fractions(results, predicted)), seed_ci(_fractions(results, ~predicted))
    ours = (f"grid-like units, % (mean [95% CI] over runs): predicted cells {_text(inside)}, the other cells "
            f"{_text(outside)}")
    if ci_above(inside, outside):
        return debate_row("D1", ours, len(results), SUPPORTED, "the predicted cells' interval lies above the rest's")
    if outside.mean >= inside.mean:
        return debate_row("D1", ours, len(results), NOT_SUPPORTED, "the other cells have at least as many")
    return debate_row("D1", ours, len(results), UNDECIDED, "more in the predicted cells, but the intervals overlap")


def d2_row(results) -> DebateRow:
    """D2 from runs of the normalised DoG, the DoS and the true DoG (column target)."""
    targets = results["target"].astype(str) if len(results) else None
    if targets is None or not {"normalised_dog", "dos", "dog"} <= set(targets):
        return _no_runs("D2") if len(results) == 0 else debate_row("D2", "normalised DoG, DoS or true DoG missing",
                                                             len(results), NOT_JUDGED, "no comparison")
    ci = {t: seed_ci(_fractions(results, targets == t)) for t in ("normalised_dog", "dos", "dog")}
    ours = "grid-like units, % (mean [95% CI] over seeds): " + "; ".join(f"{t} {c.text(100)}" for t, c in ci.items())
    above_dog, below_dos = ci_above(ci["normalised_dog"], ci["dog"]), ci_above(ci["dos"], ci["normalised_dog"])
    if above_dog and not below_dos:
        return debate_row("D2", ours, len(results), SUPPORTED, "above the true DoG, not below the DoS")
    if below_dos or ci["normalised_dog"].mean <= ci["dog"].mean:
        why = "the DoS's interval lies above it" if below_dos else "no more than the true DoG"
        return debate_row("D2", ours, len(results), NOT_SUPPORTED, why)
    return debate_row("D2", ours, len(results), UNDECIDED, "the intervals overlap")


def _dos_sweep(results):
    """The runs of the plain DoS sigma sweep: DoS, RNN, ReLU, one width and surround per cell, one field, s = 2."""
    plain = ((results["target"] == "dos") & (results["arch"] == "rnn") & (results["activation"] == "relu")
             & results["sigma_range"].isna() & results["surround_range"].isna()
             & (results["fields_lambda"].astype(float) == 0) & (results["surround_scale"].astype(float) == 2.0))
    return results[plain]


def d3_row(results) -> DebateRow:
    """D3 from a DoS sigma sweep at s = 2 (columns target, sigma, surround_scale, surround_convention,
    frac_units_grid_like...), judged in the variance-ratio convention (:func:`_dos_sweep` picks the plain runs)."""
    if len(results) == 0:
        return _no_runs("D3")
    sweep = _dos_sweep(results)
    sweep = sweep[sweep["surround_convention"] == "variance_ratio"]
    sigma = sweep["sigma"].astype(float).to_numpy()
    at = {w: _fractions(sweep, np.isclose(sigma, w)) for w in (SPIKE_SIGMA_M, *SPIKE_NEIGHBOURS_M)}
    if any(v.size < 2 for v in at.values()):
        return debate_row("D3", "fewer than two seeds at 11, 12 or 13 cm", len(sweep), NOT_JUDGED, "no comparison")
    smallest = max(1 / math.comb(at[SPIKE_SIGMA_M].size + at[w].size, at[w].size) for w in SPIKE_NEIGHBOURS_M)
    tests = {w: difference_test(at[SPIKE_SIGMA_M], at[w]) for w in SPIKE_NEIGHBOURS_M}
    ours = "; ".join(f"12 - {100 * w:.0f} cm: {100 * t.effect:+.1f} points [{100 * t.low:+.1f}, {100 * t.high:+.1f}], "
                     f"p = {t.p_value:.3f} ({t.n[0]} and {t.n[1]} seeds)" for w, t in tests.items())
    if smallest >= DEBATE_ALPHA:
        return debate_row("D3", ours, len(sweep), NOT_JUDGED, "underpowered: with these seeds no p-value can fall "
                          f"below {DEBATE_ALPHA:g} (the smallest is {smallest:.3f})")
    significant = [t.p_value < DEBATE_ALPHA for t in tests.values()]
    if all(significant):
        return debate_row("D3", ours, len(sweep), SUPPORTED, f"both dips have p < {DEBATE_ALPHA:g}")
    if not any(significant):
        return debate_row("D3", ours, len(sweep), NOT_SUPPORTED, f"neither dip has p < {DEBATE_ALPHA:g}")
    return debate_row("D3", ours, len(sweep), UNDECIDED, f"one dip has p < {DEBATE_ALPHA:g}, the other not")


def d4_row(results, strengths) -> DebateRow:
    """D4 from every run (column frac_units_grid_like) and each run's target annulus strength (``strengths``, one per
    row)."""
    if len(results) == 0:
        return _no_runs("D4")
    has_grid = results[GRID_LIKE].astype(float).fillna(0).to_numpy() > 0
    auc = roc_auc(strengths, has_grid)
    if not np.isfinite(auc.auc):
        return debate_row("D4", f"{auc.positives} runs with grid-like units, {auc.negatives} without", len(results),
                    NOT_JUDGED, "runs of only one outcome")
    ours = (f"ROC AUC {auc.auc:.2f} [{auc.low:.2f}, {auc.high:.2f}] over {len(results)} runs ({auc.positives} with "
            "grid-like units)")
    if auc.low > AUC_BAR:
        return debate_row("D4", ours, len(results), SUPPORTED, f"the interval lies above {AUC_BAR:g}")
    if auc.high < AUC_BAR:
        return debate_row("D4", ours, len(results), NOT_SUPPORTED, f"the interval lies below {AUC_BAR:g}")
    return debate_row("D4", ours, len(results), UNDECIDED, f"the interval holds {AUC_BAR:g}")


def d5_row(rescored) -> DebateRow:
    """D5 from a table of rescored runs (:func:`rescore_protocols`: columns target, protocol, best_score, grid)."""
    if len(rescored) == 0:
        return _no_runs("D5")
    fractions = rescored.groupby(["target", "protocol"])["grid"].mean().unstack()  # target x protocol
    spread = (fractions.max(axis=1) - fractions.min(axis=1)).fillna(0)
    ours = "; ".join(f"{t}: " + ", ".join(f"{p} {v:.2f}" for p, v in row.items()) for t, row in fractions.iterrows())
    runs = rescored["run_id"].nunique()
    if float(spread.max()) >= MOVE_BAR:
        return debate_row("D5", ours, runs, SUPPORTED, f"{spread.idxmax()} moves by {spread.max():.2f}")
    return debate_row("D5", ours, runs, NOT_SUPPORTED, f"no target moves by {MOVE_BAR:g} (largest {spread.max():.2f})")


PROTOCOLS = {"authors": (3, 44, False), "sorscher": (50, 20, False), "ours": (None, None, True)}  # batches, bins,
# null: the authors' ~10,000 positions (3 batches of 4,000), Sorscher et al.'s 200,000 (50), ours as stored


def rescore_protocols(store, results, device: str | None = None):
    """Each run of ``results`` (in ``store``) scored three ways (:data:`PROTOCOLS`): its network evaluated again on
    the authors' and Sorscher et al.'s number of positions and bins, without a null, and ours as stored. One row per
    run and protocol: run_id, target, protocol, best_score (the best unit's min-max score60), grid (the authors'
    rule, a unit above 0.8, for theirs; a grid-like unit, above 0.8 and the null, for ours)."""
    import pandas as pd

    from gridbook.analysis.pipeline import analyse_ratemaps, evaluate_ratemaps
    from gridbook.runs.load import load_network

    rows = []
    for row in results.to_dict("records"):
        result = load_network(store, row["run_id"], device=device or "cpu")
        for name, (batches, bins, null) in PROTOCOLS.items():
            if null:
                best, grid = float(row["best_score60_min_max"]), float(row[GRID_LIKE] or 0) > 0
            else:
                result.configs = [result.configs[0].replace(n_bins=bins, eval_batches=batches, n_shuffles=0)]
                (entry,) = evaluate_ratemaps(result)
                best = float(analyse_ratemaps(entry["ratemaps"]).summary["best_score60_min_max"])
                grid = best > GRID_SCORE_THRESHOLD
            rows.append({"run_id": row["run_id"], "target": row["target"], "protocol": name, "best_score": best,
                         "grid": grid})
    return pd.DataFrame(rows, columns=["run_id", "target", "protocol", "best_score", "grid"])


def annulus_strengths(results) -> np.ndarray:
    """Each run's target annulus strength (:func:`gridbook.analysis.theory.annulus_strength` of its place code's
    correlation, its target drawn with seed 0: the strength is a property of the code's kind and widths, not of the
    seed); 1 (no ring) for the affine codes. One value per row of ``results``; each distinct target computed once."""
    from gridbook.analysis.theory import annulus_strength, place_cell_covariance
    from gridbook.config import TARGET_KINDS, RunConfig
    from gridbook.nets.models import network_generator
    from gridbook.task.targets import make_target

    cache: dict[str, float] = {}
    fields = list(RunConfig().to_flat())
    out = []
    for row in results.to_dict("records"):
        flat = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items() if k in fields}
        config = RunConfig().replace(**{k: v for k, v in flat.items() if v is not None and v == v or k.endswith(
            "_range")})
        key = repr(config.target) + repr(config.task)
        if key not in cache:
            if TARGET_KINDS[config.target.target].place_cells:
                encoder = make_target(config.target, config.task, network_generator(0, "target"))
                cache[key] = annulus_strength(place_cell_covariance(encoder))
            else:
                cache[key] = 1.0
        out.append(cache[key])
    return np.asarray(out, dtype=float)


def standard_runs(results):
    """The runs trained on the paper's standard place cells but for the axis a claim varies: RNN, sigma = 12 cm,
    s = 2 in the variance-ratio convention, one width and surround per cell, one field, trained (n_steps > 0)."""
    keep = ((results["arch"] == "rnn") & np.isclose(results["sigma"].astype(float), SPIKE_SIGMA_M)
            & (results["surround_scale"].astype(float) == 2.0) & (results["surround_convention"] == "variance_ratio")
            & results["sigma_range"].isna() & results["surround_range"].isna()
            & (results["fields_lambda"].astype(float) == 0) & (results["n_steps"].astype(int) > 0))
    return results[keep]


def debate_rows(results, rescored=None) -> list[DebateRow]:
    """D1-D5 from every run a page has (``results``: the union of the chapters' tables, or a bundle's; the trained
    runs of its most common width) and, for D5, its rescored runs (None: not judged)."""
    import pandas as pd

    trained = results[results["n_steps"].astype(int) > 0]
    if len(trained):  # one recipe: the most common width (a bundle's paper-shape runs are judged apart)
        trained = trained[trained["n_hidden"] == trained["n_hidden"].mode().iloc[0]]
    standard = standard_runs(trained)
    grid = standard[standard["target"].isin(["cartesian", "gaussian", "dos", "dog", "normalised_dog"])]
    strengths = annulus_strengths(trained) if len(trained) else np.zeros(0)
    by_target = dict(zip(trained["target"].astype(str), strengths, strict=True)) if len(trained) else {}
    relu = standard[standard["activation"] == "relu"]
    return [d1_row(grid, by_target), d2_row(relu[relu["target"].isin(["normalised_dog", "dos", "dog"])]),
            d3_row(trained), d4_row(trained, strengths),
            d5_row(rescored if rescored is not None else
                   pd.DataFrame(columns=["run_id", "target", "protocol", "grid"]))]


def debate_table(rows):
    """The D rows as a DataFrame indexed by claim."""
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in rows]).set_index("claim")


def debate_record(here, theirs: dict, profile: str | None = None):
    """The claims at a glance: the verdict here and in each bundle (``theirs``: label -> its :func:`debate_table`)
    and the verdict of record, from the source that judged the most runs (a bundle on a tie; runs here at the smoke
    ``profile`` are no evidence)."""
    import pandas as pd

    rows = []
    for claim in here.index:
        sources = {"here": here.loc[claim], **{label: table.loc[claim] for label, table in theirs.items()}}
        judged = {k: v for k, v in sources.items() if v["verdict"] != NOT_JUDGED
                  and not (k == "here" and profile == "smoke")}
        best = max(judged, key=lambda k: (int(judged[k]["runs"]), k != "here")) if judged else "here"
        rows.append({"claim": claim, "proposition": here.loc[claim, "proposition"], "whose": here.loc[claim, "whose"],
                     **{f"verdict ({k})": v["verdict"] for k, v in sources.items()},
                     "verdict of record": sources[best]["verdict"] if judged else NOT_JUDGED, "from": best})
    return pd.DataFrame(rows).set_index("claim")


def false_positive_sentence(rescored) -> str:
    """The Gaussian target's false-positive rate (it has no ring: a 'grid unit' there is a false positive) under the
    authors' rule and under ours, beside the authors' own released table."""
    above, total = AUTHORS_GAUSSIAN_ABOVE_THRESHOLD
    theirs = (f"The authors' released table of Gaussian runs has {above} of {total} ({100 * above / total:.1f}%) with "
              f"a unit above {GRID_SCORE_THRESHOLD:g} (as quoted in gridbook's issue on the debate).")
    if rescored is None or not len(rescored) or not (rescored["target"] == "gaussian").any():
        return theirs + " No Gaussian runs were rescored here."
    gaussian = rescored[rescored["target"] == "gaussian"]
    rate = gaussian.groupby("protocol")["grid"].agg(["sum", "count"])
    ours = "; ".join(f"{p}'s way {int(r['sum'])} of {int(r['count'])} ({100 * r['sum'] / r['count']:.0f}%)"
                     for p, r in rate.iterrows())
    return f"{theirs} Our Gaussian runs with a grid unit: {ours}."


def underpowered_sentence(here, theirs: dict) -> str:
    """Which claims the runs here cannot judge, and whether a bundle does."""
    missing = [c for c in here.index if here.loc[c, "verdict"] == NOT_JUDGED]
    if not missing:
        return "Every claim is judged on the runs here."
    judged_elsewhere = {c: [label for label, t in theirs.items() if t.loc[c, "verdict"] != NOT_JUDGED]
                        for c in missing}
    elsewhere = {"D5": "a bundle keeps no weights: D5 is judged where the networks are"}
    parts = [f"{c} ({here.loc[c, 'reason']}; " + (f"judged in {', '.join(judged_elsewhere[c])}" if judged_elsewhere[c]
             else elsewhere.get(c, "in no bundle yet: the evidence run's E4 and E2 arms hold it")) + ")"
             for c in missing]
    return "Not judged on the runs here: " + "; ".join(parts) + "."
