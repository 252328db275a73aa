"""The scorecard across sources: a result judged on the runs re-run here and on each evidence bundle's, side by
side (:func:`side_by_side`, the chapters), the whole scorecard from a bundle (:func:`scorecard_from_bundle`), and
the verdict of record, from the largest evidence (:func:`record_of`, the scorecard chapter)."""

from __future__ import annotations

from gridbook.book.bundles import bundle_runs
from gridbook.book.chapters import grid_unit_periods
from gridbook.book.data import ChapterRuns
from gridbook.book.scorecard import (
    NOT_JUDGED,
    SCORECARD_CHAPTERS,
    ScorecardRow,
    no_runs,
    r1_row,
    r2_row,
    r3_row,
    r4_row,
    r5_row,
    r6_row,
    scorecard_rows,
    scorecard_table,
)
from gridbook.errors import check_choice
from gridbook.paper import RESULTS

__all__ = ["BADGE_COLOURS", "NO_SCIENCE", "chapter_row", "judged", "record_of", "scorecard_from_bundle",
           "side_by_side", "verdict_table"]

BADGE_COLOURS = {"reproduced": "#2e7d32", "partly": "#b26a00", "not reproduced": "#c62828",
                 "not judged": "#757575", "supported": "#2e7d32", "undecided": "#b26a00",
                 "not supported": "#c62828"}  # verdict (of a result or a debate claim) -> badge background

NO_SCIENCE = ("smoke",)  # profiles whose runs only check that the code runs: their verdicts are no evidence


def judged(verdict: str, profile: str | None) -> bool:
    """Whether a verdict is evidence: a rule judged runs (not "not judged") of a profile that carries science."""
    return verdict != NOT_JUDGED and profile not in NO_SCIENCE


def chapter_row(result: str, runs: ChapterRuns) -> ScorecardRow:
    """A result's row from its chapter's runs (a store's or a bundle's), by the rule of :func:`scorecard_rows`
    (R1 on those runs; R7 not judged from a bundle)."""
    res, profile = runs.results, runs.profile
    if result == "R4":
        return r4_row(grid_unit_periods(runs.units(), res), profile, len(res))
    if result == "R7":
        bundle = getattr(runs.store, "is_bundle", False)
        return scorecard_rows({"predictivity": runs}.get, profile, maps=not bundle, only="R7")[0] if len(res) \
            else no_runs("R7", profile)
    rule = {"R1": r1_row, "R2": r2_row, "R3": r3_row, "R5": r5_row, "R6": r6_row}
    check_choice("result", result, RESULTS)
    return rule[result](res, profile)


def side_by_side(result: str, here: ChapterRuns, others: list[tuple[str, ChapterRuns]]):
    """The result judged on the runs re-run here and on each bundle's (``others``: label, runs), one row per
    source -- where its networks were trained, profile, runs, seeds, ours, verdict -- and a sentence that says
    plainly whether the sources agree and which is the verdict of record (the one that judged the most runs)."""
    import pandas as pd

    sources = [(f"re-run here ({here.profile} profile)", here), *others]
    rows = [(label, runs, chapter_row(result, runs)) for label, runs in sources]
    table = pd.DataFrame([{"trained": label, "profile": runs.profile, "runs": row.runs,
                           "seeds": int(runs.results["seed"].nunique()) if len(runs.results) else 0,
                           "ours": row.ours, "verdict": row.verdict} for label, runs, row in rows])
    evidence = [(label, row) for label, runs, row in rows if judged(row.verdict, runs.profile)]
    if len(rows) == 1:
        return table, "No evidence bundle is committed: the verdict above is the only one."
    if not evidence:
        return table, "No source has runs this rule can judge (smoke runs are no evidence)."
    label, record = max(evidence, key=lambda pair: pair[1].runs)
    verdicts = {row.verdict for _, row in evidence}
    if len(verdicts) == 1:
        sentence = f"Every source that judged it agrees: **{record.verdict}**."
    else:
        sentence = (f"**The sources disagree** ({'; '.join(f'{lab}: {row.verdict}' for lab, row in evidence)}). The "
                    f"verdict of record is the largest evidence's: **{record.verdict}** ({label}, {record.runs} "
                    "runs).")
    return table, sentence


def scorecard_from_bundle(bundle):
    """The R1-R7 table from an evidence bundle (:func:`gridbook.book.bundles.bundle_runs`): the chapters'
    conditions at the bundle's seeds; R1 from its E3 population search where it holds one; R7 not judged (a bundle
    keeps only its runs' best maps). The ``profile`` column is the profile of the bundle's chapter runs."""
    runs = {name: bundle_runs(name, bundle) for name in SCORECARD_CHAPTERS}
    profile = max((r.profile for r in runs.values()), key=[r.profile for r in runs.values()].count)
    population = bundle.results(spec="E3").drop(columns=["spec"])
    return scorecard_table(scorecard_rows(runs.__getitem__, profile, population, maps=False))


def record_of(here, bundles: dict[str, object]):
    """The scorecard at a glance: for each result the paper's figure, the verdict re-run here and in each bundle
    (``bundles``: label -> its scorecard table), and the *verdict of record*, from the source that judged the
    most runs (a bundle on a tie; smoke runs are no evidence); ``agree`` says whether every source that judged it
    gave it."""
    import pandas as pd

    rows = []
    for result in here.index:
        sources = {"here": here.loc[result], **{label: table.loc[result] for label, table in bundles.items()}}
        counted = {k: v for k, v in sources.items() if judged(v["verdict"], v.get("profile"))}
        best = max(counted, key=lambda k: (int(counted[k]["runs"]), k != "here")) if counted else "here"
        row = {"result": result, "paper": here.loc[result, "paper"],
               **{f"verdict ({k})": v["verdict"] for k, v in sources.items()},
               **{f"runs ({k})": int(v["runs"]) for k, v in sources.items()},
               "verdict of record": sources[best]["verdict"] if counted else NOT_JUDGED, "from": best,
               "agree": len({v["verdict"] for v in counted.values()}) <= 1}
        rows.append(row)
    return pd.DataFrame(rows).set_index("result")


def verdict_table(frame, precision: int | None = None):
    """A table whose verdict cells (any column named ``verdict...``) are coloured badges (:data:`BADGE_COLOURS`);
    the rest as :func:`gridbook.book.profile.table` shows tables."""
    from gridbook.book.profile import table

    def badge(value) -> str:
        colour = BADGE_COLOURS.get(str(value))
        return (f"background-color: {colour}; color: white; font-weight: 600; border-radius: 0.6em; "
                "text-align: center") if colour else ""

    columns = [c for c in frame.columns if str(c).startswith("verdict")]
    return table(frame, precision=precision).map(badge, subset=columns)
