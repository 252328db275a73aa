"""The evidence run: its cost model and plan, the deadline, bad input, and the CPU dry run of every stage."""

from __future__ import annotations

import time

import pytest
import torch
from sweep_helpers import SMALL, fake_run_group

from gridbook.cli.main import main
from gridbook.errors import UserError
from gridbook.profiles import profile_config
from gridbook.runs.bundle import Bundle
from gridbook.runs.calibration import MAX_JOB_SECONDS, CostModel
from gridbook.runs.evidence import (
    MIN_BUDGET,
    evidence_specs,
    plan_specs,
    run_evidence,
    staged_steps,
)
from gridbook.runs.spec import expand_spec
from gridbook.runs.sweep import run_sweep

CALIBRATION = {"eval_s_per_network": 0.02, "steps": [
    {"case": "quick shape", "K": 32, "step_s": 0.004, "n_hidden": 256, "n_outputs": 256},
    {"case": "quick shape", "K": 256, "step_s": 0.012, "n_hidden": 256, "n_outputs": 256},
    {"case": "gated (gru)", "K": 32, "step_s": 0.010, "n_hidden": 256, "n_outputs": 256},
    {"case": "gated (gru)", "K": 128, "step_s": 0.030, "n_hidden": 256, "n_outputs": 256}]}


def test_the_cost_model_fits_steps_and_sizes_jobs_within_their_limit():
    model = CostModel(CALIBRATION, workers=2)
    quick = profile_config("gpu")
    assert model.step_seconds(quick, 32) == pytest.approx(0.004)
    assert model.step_seconds(quick, 256) == pytest.approx(0.012)
    gru, lstm = quick.replace(arch="gru"), quick.replace(arch="lstm")
    assert model.step_seconds(lstm, 64) == pytest.approx(model.step_seconds(gru, 64) * 4 / 3)
    wide = quick.replace(n_hidden=1024, n_place_cells=512)
    assert model.step_seconds(wide, 32) > 3 * model.step_seconds(quick, 32)  # the products scale, not the launches
    for config in (quick, gru, quick.replace(n_steps=8000)):
        k = model.group_size(config)
        assert model.job_seconds([config] * k) <= MAX_JOB_SECONDS
        assert k == 256 or model.job_seconds([config] * (k + 8)) > MAX_JOB_SECONDS or k + 8 > 256


def test_the_plan_fills_the_budget_in_priority_order():
    specs = [(label, path, spec) for label, path, spec in evidence_specs("sweeps/evidence")]
    model = CostModel(CALIBRATION, workers=2)
    plan = plan_specs(specs, "gpu", model, 60.0, workers=3)
    assert [p["spec"] for p in plan] == ["E1", "E2", "E3", "E4"]  # E5 is staged: it trains beside them
    first_short = next(i for i, p in enumerate(plan) if p["planned"] < p["runs"])
    assert all(p["planned"] == 0 for p in plan[first_short + 1:])
    assert sum(p["estimated_s"] for p in plan) <= 60.0
    assert plan_specs(specs, "gpu", model, 1e9, workers=3)[2]["planned"] == 1000


def test_evidence_specs_expand_to_the_counts_they_state():
    counts = {label: len(expand_spec(spec)) for label, _, spec in evidence_specs("sweeps/evidence")}
    assert counts == {"E1": 260, "E2": 340, "E3": 1000, "E4": 200, "E5": 9}
    assert staged_steps(evidence_specs("sweeps/evidence")[-1][2], "smoke") == [20, 40, 60]


def test_no_job_starts_that_would_end_after_the_deadline(tmp_path):
    summary = run_sweep(SMALL, store=tmp_path / "runs", run_group=fake_run_group, workers=1, progress=False,
                        group_size=1, deadline=time.monotonic() + 5, job_seconds=lambda job: 60.0)
    assert (summary.done, summary.not_started) == (0, summary.total)
    summary = run_sweep(SMALL, store=tmp_path / "runs", run_group=fake_run_group, workers=1, progress=False,
                        group_size=1, deadline=time.monotonic() + 60, job_seconds=lambda job: 0.1)
    assert (summary.done, summary.not_started) == (summary.total, 0)


def test_bad_input_is_one_line(tmp_path, capsys):
    with pytest.raises(UserError, match="--budget 10 is too short"):
        run_evidence("smoke", "cpu", 10, tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        run_evidence("smoke", "cpu", MIN_BUDGET, tmp_path / "file")
    with pytest.raises(UserError, match="not a directory of evidence specs"):
        run_evidence("smoke", "cpu", MIN_BUDGET, tmp_path / "out", specs_dir=tmp_path / "none")
    with pytest.raises(UserError, match="--device 'tpu' is invalid; allowed values: cuda, cuda:N, cpu"):
        run_evidence("smoke", "tpu", MIN_BUDGET, tmp_path / "out")
    if not torch.cuda.is_available():
        assert main(["evidence", "run", "--device", "cuda", "--budget", "300", "--out", str(tmp_path / "o")]) == 2
        assert capsys.readouterr().err.strip().count("\n") == 0  # one line
    assert main(["evidence", "verify", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_the_cpu_dry_run_runs_every_stage_and_packs_a_bundle(tmp_path, capsys):
    report = run_evidence("smoke", "cpu", 170, tmp_path / "out", workers=2)
    bundle = Bundle(report["bundle"])
    counts = bundle.results()["spec"].value_counts()
    assert counts["E1"] > 0 and counts.get("E5", 0) > 0 and "error" not in report
    assert report["wall_s"]["stage1"] < 90
    assert {"calibration", "plan", "networks", "environment"} <= set(bundle.provenance)
    assert main(["evidence", "show", str(report["bundle"])]) == 0
    shown = capsys.readouterr().out
    assert "E1:" in shown and "device:" in shown
