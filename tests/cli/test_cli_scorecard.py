"""gridbook scorecard: the scorecard chapter's table on the command line, as text or JSON."""

from __future__ import annotations

import json

from sweep_helpers import FAKE

from gridbook.book.data import chapter_spec, search_runs
from gridbook.book.scorecard import RULES, r2_row
from gridbook.cli.main import main
from gridbook.runs.load import load_results
from gridbook.runs.spec import spec_run_ids
from gridbook.runs.sweep import run_sweep


def test_a_missing_empty_or_file_store_is_an_error_not_a_verdict(tmp_path, capsys):
    assert main(["scorecard", "--store", str(tmp_path / "none"), "--profile", "quick", "--json"]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["scorecard", "--store", str(tmp_path / "empty"), "--profile", "quick"]) == 2
    assert "holds no finished run" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["scorecard", "--store", str(tmp_path / "file"), "--profile", "quick"]) == 2
    assert capsys.readouterr().err.strip().endswith("train with gridbook sweep or gridbook book)")
    assert main(["scorecard", "--seeds", "a,b"]) == 2
    assert "--seeds 'a,b' is invalid" in capsys.readouterr().err


def test_rows_are_the_rules_verdicts_on_the_stored_runs(tmp_path, capsys):
    store = tmp_path / "runs"
    spec = chapter_spec("target_encoding", "smoke")
    run_sweep(spec, profile="smoke", store=store, run_group=FAKE, workers=1, progress=False)
    expected = r2_row(load_results(store, spec_run_ids(spec, "smoke")), "smoke")
    assert main(["scorecard", "--store", str(store), "--profile", "smoke", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    (row,) = [r for r in rows if r["result"] == "R2"]
    assert (row["ours"], row["verdict"], row["reason"], row["runs"]) == (expected.ours, expected.verdict,
                                                                        expected.reason, expected.runs)
    dos = expected.values["grid_like_percent"]["dos"]
    assert row["values"]["grid_like_percent"]["dos"]["mean"] == dos["mean"] and "no science" in row["note"]
    assert row["values"]["grid_like_percent"]["dos"]["low"] is None  # NaN (one seed) is null in JSON
    assert [r["result"] for r in rows] == list(RULES)
    assert main(["scorecard", "--store", str(store), "--profile", "smoke"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("smoke runs carry no science")
    assert f"R2  NO VERDICT (smoke)  ({expected.runs} runs, smoke profile, chapter target_encoding)" in text
    assert "  rule:   " in text and "  paper:  " in text


def test_bad_profile_is_one_line_naming_the_allowed_values(capsys):
    assert main(["scorecard", "--profile", "fast"]) == 2
    assert capsys.readouterr().err.strip() == ("gridbook scorecard: error: profile='fast' is invalid; allowed "
                                               "values: smoke, quick, gpu, paper")


def test_r1_is_judged_on_the_population_search_once_the_store_holds_it(tmp_path, capsys):
    store = tmp_path / "runs"
    run_sweep(chapter_spec("task_success", "smoke"), profile="smoke", store=store, run_group=FAKE, workers=1,
              progress=False)

    def r1() -> dict:
        assert main(["scorecard", "--store", str(store), "--profile", "smoke", "--json"]) == 0
        return next(r for r in json.loads(capsys.readouterr().out) if r["result"] == "R1")

    before = r1()
    assert before["ours"].startswith("task-success runs:") and "no population search" in before["reason"]
    population = search_runs("population", "smoke", store)
    assert len(population.results) == 0  # read only: nothing trained
    run_sweep(population.spec, profile="smoke", store=store, run_group=FAKE, workers=1, progress=False)
    after = r1()
    assert after["ours"].startswith("population search:") and after["runs"] == 4
