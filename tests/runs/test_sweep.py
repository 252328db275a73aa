"""Sweeps: skipping, redoing, failures, Dask, the real trainer, and a killed sweep resumed."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import FAKE, REPO, SMALL, counts, fake_run_group, write_spec

from gridbook.cli.main import main
from gridbook.nets.evaluate import evaluate_networks
from gridbook.profiles import profile_config
from gridbook.runs.load import load_network, load_results, load_run
from gridbook.runs.spec import expand_spec, spec_run_ids
from gridbook.runs.store import RunStore
from gridbook.runs.sweep import run_sweep


def test_sweep_runs_skips_finished_runs_and_redoes_corrupt_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDBOOK_FAKE_COUNTER", str(tmp_path / "trained.txt"))
    store = RunStore(tmp_path / "runs")
    first = run_sweep(SMALL, store=store, run_group=fake_run_group, workers=1, progress=False, group_size=4)
    assert (first.total, first.done, first.skipped, first.failed, first.diverged) == (6, 6, 0, 0, 0)
    again = run_sweep(SMALL, store=store, run_group=fake_run_group, workers=1, progress=False)
    assert (again.done, again.skipped) == (0, 6) and set(counts(tmp_path / "trained.txt").values()) == {1}
    victim = expand_spec(SMALL)[2].run_id()
    with open(store.run_dir(victim) / "ratemaps.npz", "r+b") as handle:
        handle.truncate(100)
    repaired = run_sweep(SMALL, store=store, run_group=fake_run_group, workers=1, progress=False)
    assert (repaired.done, repaired.skipped) == (1, 5) and counts(tmp_path / "trained.txt")[victim] == 2
    assert store.status(victim) == "done" and len(load_results(store, run_ids=spec_run_ids(SMALL))) == 6

def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDBOOK_FAKE_FAIL_SIGMA", "0.13")
    spec = write_spec(tmp_path, SMALL)
    code = main(["sweep", str(spec), "--store", str(tmp_path / "runs"), "--workers", "1", "--run-group", FAKE])
    out = capsys.readouterr().out
    assert code == 1 and "failed" in out and "RuntimeError: fake failure at sigma 0.13" in out
    store = RunStore(tmp_path / "runs")
    states = {c.target.sigma: store.status(c.run_id()) for c in expand_spec(spec)}
    assert states == {0.11: "done", 0.12: "done", 0.13: "failed"}  # the job was retried run by run
    failure = store.failure(expand_spec(spec)[-1].run_id())
    assert "fake failure" in failure["error"] and "Traceback" in failure["traceback"]
    monkeypatch.delenv("GRIDBOOK_FAKE_FAIL_SIGMA")
    summary = run_sweep(spec, store=store, run_group=FAKE, workers=1, progress=False)
    assert (summary.done, summary.skipped, summary.failed) == (2, 4, 0)

def test_dask_local_cluster_with_two_workers_trains_real_networks(tmp_path):
    spec = {**SMALL, "seeds": [0]}
    summary = run_sweep(spec, store=tmp_path / "runs", executor="dask", workers=2, progress=False)
    assert (summary.done, summary.failed, summary.skipped) == (3, 0, 0)
    table = load_results(tmp_path / "runs")
    assert sorted(table["sigma"]) == [0.11, 0.12, 0.13] and table["decoding_error_cm"].notna().all()
    metrics = [RunStore(tmp_path / "runs").read_metrics(r) for r in table["run_id"]]
    assert sorted(m["group_size"] for m in metrics) == [1, 1, 1]  # one job of 3, balanced over 2 workers

# ---- the real trainer ---------------------------------------------------------------------------------------------
def test_end_to_end_smoke_sweep_with_the_real_trainer(tmp_path):
    spec = {"profile": "smoke", "parameters": {"target": {"values": ["cartesian", "dos"]}}, "seeds": [0, 1]}
    summary = run_sweep(spec, store=tmp_path / "runs", workers=1, progress=False, group_size=32)  # batched, as on a GPU
    assert (summary.total, summary.done, summary.failed) == (4, 4, 0)
    table = load_results(tmp_path / "runs", run_ids=spec_run_ids(spec))
    assert list(table["run_id"]) == [c.run_id() for c in expand_spec(spec)]
    assert table["decoding_error_cm"].between(0, 400).all() and (table["participation_ratio"] >= 1).all()
    assert table["best_score60_min_max"].between(-2, 2).all() and table["frac_units_above_0.3"].between(0, 1).all()
    run = load_run(tmp_path / "runs", table["run_id"][3])
    smoke = profile_config("smoke")
    n_units, n_bins = smoke.model.n_hidden, smoke.analysis.n_bins
    assert run.ratemaps.maps.shape == (n_units, n_bins, n_bins) and len(run.units) == n_units
    assert run.metrics["group_size"] == 2 and run.metrics["steps_done"] == smoke.train.n_steps
    assert run.metrics["decoder_floor_cm"] > 0  # the decoder's error on the exact code, recorded with every run
    network = load_network(tmp_path / "runs", table["run_id"][3], device="cpu")
    again = evaluate_networks(network)[0]  # the stored weights and target give back the stored evaluation
    assert again["decoding_error_cm"] == pytest.approx(run.metrics["decoding_error_cm"], rel=1e-6)

def test_batched_and_single_training_give_the_same_table(tmp_path):
    batched = run_sweep(SMALL, store=tmp_path / "batched", workers=1, progress=False, group_size=32)
    single = run_sweep(SMALL, store=tmp_path / "single", workers=1, progress=False, group_size=1)
    assert batched.done == single.done == 6
    pd.testing.assert_frame_equal(load_results(tmp_path / "batched").drop(columns="train_seconds"),
                                  load_results(tmp_path / "single").drop(columns="train_seconds"))

# ---- killed and resumed ----------------------------------------------------------------------------------------------
def test_sigkill_then_resume_keeps_finished_runs_and_matches_an_uninterrupted_sweep(tmp_path):
    """Two local worker processes train real networks; the whole process group is killed once runs exist; the
    sweep is resumed in one process."""
    spec = write_spec(tmp_path, {**SMALL, "seeds": [0, 1, 2]})  # 9 runs of one shape
    store = RunStore(tmp_path / "killed")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "runs"), str(REPO)]),
           "GRIDBOOK_FAKE_COUNTER": str(tmp_path / "trained.txt")}
    command = [sys.executable, "-m", "gridbook", "sweep", str(spec), "--store", str(store.root), "--workers", "2",
               "--group-size", "2", "--run-group", "sweep_helpers:counting_trainer"]
    log = open(tmp_path / "killed.log", "w+")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.time() + 120
    while not store.done_run_ids() and time.time() < deadline:  # wait until the sweep writes runs
        assert process.poll() is None, (tmp_path / "killed.log").read_text()
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 0.15))
    os.killpg(process.pid, signal.SIGKILL)  # the sweep and its workers, mid-write or not
    process.wait()
    log.close()
    finished = {r: [(store.run_dir(r) / f).stat().st_mtime_ns for f in ("DONE", "checkpoint.pt")]
                for r in store.done_run_ids()}
    assert 0 < len(finished) < 9, (tmp_path / "killed.log").read_text()
    assert len(load_results(store)) == len(finished)  # runs without DONE are not counted
    resume = [*command[:command.index("--workers") + 1], "1", *command[command.index("--workers") + 2:]]
    subprocess.run(resume, env=env, check=True, capture_output=True)  # resumed in one process
    trained = counts(tmp_path / "trained.txt")
    assert all(trained[r] == 1 for r in finished)  # not retrained
    assert all([(store.run_dir(r) / f).stat().st_mtime_ns for f in ("DONE", "checkpoint.pt")] == t
               for r, t in finished.items())  # untouched
    resumed = load_results(store).drop(columns="train_seconds")
    uninterrupted = run_sweep(spec, store=tmp_path / "clean", workers=1, progress=False)
    assert uninterrupted.done == 9 and len(resumed) == 9
    pd.testing.assert_frame_equal(resumed, load_results(tmp_path / "clean").drop(columns="train_seconds"))


def test_verify_retrains_a_run_whose_checkpoint_was_overwritten_in_place(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDBOOK_FAKE_COUNTER", str(tmp_path / "trained.txt"))
    store = RunStore(tmp_path / "runs")
    run_sweep(SMALL, store=store, run_group=fake_run_group, workers=1, progress=False)
    victim = expand_spec(SMALL)[1].run_id()
    path = store.run_dir(victim) / "checkpoint.pt"
    data = bytearray(path.read_bytes())
    data[:200] = bytes(200)  # same size, other bytes
    path.write_bytes(bytes(data))
    assert store.status(victim) == "done" and store.status(victim, deep=True) == "corrupt"
    repaired = run_sweep(SMALL, store=store, run_group=fake_run_group, workers=1, progress=False, verify=True)
    assert (repaired.done, repaired.by_others) == (1, 0) and counts(tmp_path / "trained.txt")[victim] == 2
    assert store.status(victim, deep=True) == "done"
    again = run_sweep(SMALL, store=store, run_group=fake_run_group, workers=1, progress=False, verify=True)
    assert again.done == 0 and counts(tmp_path / "trained.txt")[victim] == 2


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_workers_end_when_their_sweep_is_killed(tmp_path):
    spec = write_spec(tmp_path, {**SMALL, "seeds": [0, 1, 2]})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "runs"), str(REPO)]),
           "GRIDBOOK_FAKE_COUNTER": str(tmp_path / "trained.txt")}
    command = [sys.executable, "-m", "gridbook", "sweep", str(spec), "--store", str(tmp_path / "runs"), "--workers",
               "2", "--group-size", "1", "--run-group", "sweep_helpers:counting_trainer"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(_children(process.pid)) < 2 and time.time() < deadline:  # the workers (and the resource tracker)
        time.sleep(0.1)
    workers = _children(process.pid)
    assert len(workers) >= 2
    os.kill(process.pid, signal.SIGKILL)  # the sweep alone, not its process group
    process.wait()
    deadline = time.time() + 30
    while any(Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text().lower()
              for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()
             and "zombie" not in Path(f"/proc/{w}/status").read_text().lower()]
    assert not alive, f"workers {alive} outlived their sweep"


def test_a_full_disk_is_one_line_and_leaves_finished_runs_intact(tmp_path, monkeypatch):
    import errno

    from gridbook.errors import UserError
    from gridbook.runs import store as store_module

    store = RunStore(tmp_path / "runs")
    first = run_sweep(SMALL, store=store, run_group=fake_run_group, workers=1, progress=False)
    finished = {r: (store.run_dir(r) / "DONE").read_bytes() for r in store.done_run_ids()}
    more = {**SMALL, "seeds": [7]}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module, "atomic_write_bytes", full)  # the runs' files
    monkeypatch.setattr(store_module, "atomic_write_text", full)  # their markers and failure records
    with pytest.raises(UserError, match=r"^no space left on the device of the store .*finished so far are intact"):
        run_sweep(more, store=store, run_group=fake_run_group, workers=1, progress=False)
    assert first.done == len(finished) and {r: (store.run_dir(r) / "DONE").read_bytes()
                                             for r in store.done_run_ids()} == finished
