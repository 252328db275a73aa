"""The book reads bundles: a chapter's runs and the scorecard from a packed store equal those from the store; the
verdict of record comes from the largest evidence."""

from __future__ import annotations

import pandas as pd
import pytest
from sweep_helpers import CHAPTERS, FAKE

from gridbook.book.bundles import bundle_runs, committed_bundles, evidence_bundles
from gridbook.book.compare import record_of, side_by_side
from gridbook.book.data import ChapterRuns, chapter_spec
from gridbook.book.scorecard import NOT_JUDGED, REPRODUCED, scorecard_rows, scorecard_table
from gridbook.errors import UserError
from gridbook.runs.bundle import Bundle, pack_store
from gridbook.runs.load import load_results
from gridbook.runs.spec import spec_run_ids
from gridbook.runs.sweep import run_sweep


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """A smoke store of every chapter's quick conditions (stand-in runs, seeds 0-1), and its bundle."""
    root = tmp_path_factory.mktemp("book-bundle")
    specs = [chapter_spec(name, "quick", seeds=[0, 1]) for name in CHAPTERS]
    run_sweep(specs, profile="smoke", store=root / "runs", run_group=FAKE, workers=1, progress=False)
    return root / "runs", Bundle(pack_store(root / "runs", root / "bundle", top_units=5))


def test_a_chapters_runs_and_the_scorecard_read_the_same_from_the_bundle(packed):
    store, bundle = packed

    def from_store(name: str) -> ChapterRuns:
        spec = chapter_spec(name, "quick", seeds=[0, 1])
        return ChapterRuns(name, "smoke", store, spec, load_results(store, spec_run_ids(spec, "smoke")), None)

    for name in CHAPTERS:
        mine, theirs = bundle_runs(name, bundle), from_store(name)
        assert mine.profile == "smoke" and len(mine.results) == len(theirs.results) > 0
        pd.testing.assert_frame_equal(mine.results, theirs.results, check_dtype=False)
        pd.testing.assert_frame_equal(mine.units(), theirs.units(), check_dtype=False, atol=1e-6)
    here = scorecard_table(scorecard_rows(from_store, "smoke", maps=False))
    there = scorecard_table(scorecard_rows(lambda n: bundle_runs(n, bundle), "smoke", maps=False))
    pd.testing.assert_frame_equal(here.drop(columns="values"), there.drop(columns="values"))
    assert here.loc["R7", "verdict"] == NOT_JUDGED  # a bundle keeps only its best maps


def test_the_verdict_of_record_comes_from_the_largest_evidence():
    def table(verdicts, runs):
        return pd.DataFrame({"paper": ["p"] * 3, "verdict": verdicts, "runs": runs}, index=["R1", "R2", "R3"])

    here = table([REPRODUCED, "partly", NOT_JUDGED], [10, 50, 0])
    record = record_of(here, {"H200": table(["not reproduced", "partly", REPRODUCED], [100, 20, 30])})
    assert list(record["from"]) == ["H200", "here", "H200"]
    assert list(record["verdict of record"]) == ["not reproduced", "partly", REPRODUCED]
    assert list(record["agree"]) == [False, True, True]  # a source that judged nothing does not disagree


def test_evidence_paths_are_checked_in_one_line(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        evidence_bundles(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        evidence_bundles(tmp_path / "file")
    assert evidence_bundles("none") == []
    assert [b.root.name for b in committed_bundles()] == [b.root.name for b in evidence_bundles()]


def test_smoke_verdicts_are_no_evidence_and_disagreement_is_said(packed):
    store, bundle = packed
    table_here = pd.DataFrame({"paper": ["p"], "verdict": [REPRODUCED], "runs": [500], "profile": ["smoke"]},
                              index=["R2"])
    table_bundle = pd.DataFrame({"paper": ["p"], "verdict": ["partly"], "runs": [10], "profile": ["gpu"]},
                                index=["R2"])
    record = record_of(table_here, {"B": table_bundle})
    assert (record.loc["R2", "from"], record.loc["R2", "agree"]) == ("B", True)  # smoke does not outvote
    runs = bundle_runs("target_encoding", bundle)
    dos_only = (runs.results["target"] == "dos").astype(float) * 0.5  # grid-like units in DoS runs alone
    quick = ChapterRuns(runs.chapter, "quick", store, runs.spec, runs.results.assign(frac_units_grid_like=dos_only),
                        None)
    other = ChapterRuns(runs.chapter, "gpu", bundle, runs.spec, runs.results.assign(frac_units_grid_like=0.0), None)
    table, sentence = side_by_side("R2", quick, [("elsewhere", other)])
    assert list(table["trained"]) == ["re-run here (quick profile)", "elsewhere"]
    assert list(table["verdict"]) == [REPRODUCED, "not reproduced"]
    assert sentence.startswith("**The sources disagree**") and "verdict of record" in sentence
