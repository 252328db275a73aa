import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_store import fake_record

from gridbook.cli.main import main
from gridbook.config import profile_config
from gridbook.errors import ConfigError
from gridbook.nets.evaluate import evaluate_networks
from gridbook.runs.load import load_network, load_results, load_run
from gridbook.runs.planning import plan_groups
from gridbook.runs.spec import expand_spec, spec_run_ids, stated_run_count
from gridbook.runs.store import RunStore
from gridbook.runs.sweep import run_sweep

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted((REPO / "sweeps").glob("*.yaml")) + sorted((REPO / "sweeps" / "chapters").glob("*.yaml"))
FAMILIES = ("cartesian", "hd_cartesian", "polar", "gaussian", "dos", "dog", "sod", "general_dog", "heterogeneous",
            "multifield", "sigma_sensitivity")
CHAPTERS = ("task_success", "target_encoding", "sensitivity", "modules", "dos_vs_dog", "heterogeneity",
            "predictivity")
FAKE = "test_sweeps:fake_run_group"


def fake_run_group(configs):
    """Stand-in trainer: counts what it trains (GRIDBOOK_FAKE_COUNTER) and raises for sigma ==
    GRIDBOOK_FAKE_FAIL_SIGMA."""
    counter, fail = os.environ.get("GRIDBOOK_FAKE_COUNTER"), os.environ.get("GRIDBOOK_FAKE_FAIL_SIGMA")
    if fail and any(c.target.sigma == float(fail) for c in configs):
        raise RuntimeError(f"fake failure at sigma {fail}")
    records = []
    for config in configs:
        if counter:
            with open(counter, "a") as handle:
                handle.write(config.run_id() + "\n")
        records.append(fake_record(config))
    return records


def counting_trainer(configs):
    """The real train-and-evaluate, counting what it trains in GRIDBOOK_FAKE_COUNTER (and 0.1 s slower per run)."""
    from gridbook.runs.jobs import train_and_evaluate

    with open(os.environ["GRIDBOOK_FAKE_COUNTER"], "a") as handle:
        handle.write("".join(c.run_id() + "\n" for c in configs))
    time.sleep(0.1 * len(configs))
    return train_and_evaluate(configs)


def write_spec(tmp_path, spec, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec) if isinstance(spec, dict) else spec)
    return path


def counts(path):
    return pd.Series(Path(path).read_text().split()).value_counts().to_dict() if Path(path).exists() else {}


# ---- specs ----------------------------------------------------------------------------------------------------------
def test_grid_is_the_product_in_order_with_profile_and_seeds():
    spec = {"profile": "smoke", "seeds": [0, 1],
            "parameters": {"target": {"values": ["gaussian", "dos"]}, "sigma": {"values": [0.1, 0.2]}}}
    runs = expand_spec(spec)
    assert [(r.target.target, r.target.sigma, r.train.seed) for r in runs] == [
        (t, s, seed) for t in ("gaussian", "dos") for s in (0.1, 0.2) for seed in (0, 1)]
    assert runs[0] == profile_config("smoke", target="gaussian", sigma=0.1, seed=0)  # the smoke profile first
    assert expand_spec(spec, profile="quick")[-1] == profile_config("quick", sigma=0.2, seed=1)  # the argument wins
    assert expand_spec({"parameters": {"n_hidden": {"value": 7}}})[0] == profile_config("quick", n_hidden=7)


def test_blocks_are_a_deduplicated_union_over_shared_parameters():
    spec = {"profile": "smoke", "parameters": {"target": {"value": "dos"}, "sigma": {"value": 0.12}},
            "blocks": [{"parameters": {"sigma": {"values": [0.11, 0.12]}}},
                       {"parameters": {"target.sigma": {"values": [0.12, 0.13]}, "arch": {"value": "gru"}}},
                       {"parameters": {}, "seeds": [0, 5]}]}
    runs = expand_spec(spec)
    assert [(r.target.sigma, r.model.arch, r.train.seed) for r in runs] == [
        (0.11, "rnn", 0), (0.12, "rnn", 0), (0.12, "gru", 0), (0.13, "gru", 0), (0.12, "rnn", 5)]
    assert len({r.run_id() for r in runs}) == len(runs)


def test_random_search_is_seeded_and_in_range():
    spec = {"profile": "smoke", "method": "random", "count": 40, "seed": 3, "parameters": {
        "lr": {"distribution": "log_uniform", "min": 1e-4, "max": 5e-3},
        "sigma": {"distribution": "uniform", "min": 0.08, "max": 0.2},
        "seq_len": {"distribution": "int_uniform", "min": 20, "max": 22},
        "arch": {"values": ["rnn", "gru"]}}}
    runs = expand_spec(spec)
    assert runs == expand_spec(spec) and runs != expand_spec({**spec, "seed": 4})
    lrs = np.array([r.train.lr for r in runs])
    assert len(runs) == 40 and (lrs >= 1e-4).all() and (lrs <= 5e-3).all()
    assert (np.log(lrs) < np.log(1e-4) + 0.5 * np.log(50)).any() and (lrs > 1e-3).any()  # log-spread, not linear
    assert {r.task.seq_len for r in runs} == {20, 21, 22} and {r.model.arch for r in runs} == {"rnn", "gru"}
    assert all(0.08 <= r.target.sigma <= 0.2 for r in runs)


@pytest.mark.parametrize("spec, message", [
    ({"parameters": {"sigmaa": {"value": 0.1}}}, r"spec.yaml: parameters: unknown parameter 'sigmaa'; allowed "
                                                  r"parameters: .*sigma"),
    ({"parameters": {"sigma": {"value": "wide"}}}, r"spec.yaml: parameters: sigma='wide' is invalid; allowed "
                                                    r"values: a number"),
    ({"parameters": {"arch": {"values": ["rnn", "transformer"]}}}, r"arch='transformer' is invalid; allowed values: "
                                                                    r"rnn, lstm, gru, ugrnn, srnn"),
    ({"parameters": {"seed": {"values": []}}}, r"parameters.seed.values is empty"),
    ({"method": "bayes"}, r"spec.yaml: method='bayes' is invalid; allowed values: grid, random"),
    ({"method": "random", "count": 2, "parameters": {"lr": {"distribution": "normal", "min": 0, "max": 1}}},
     r"parameters.lr.distribution='normal' is invalid; allowed values: uniform, log_uniform, int_uniform"),
    ({"parameters": {"lr": {"distribution": "uniform", "min": 0.1, "max": 1}}}, r"needs method: random"),
    ({"method": "random", "parameters": {"seed": {"values": [1]}}}, r"count=None is invalid"),
    ({"method": "random", "count": 1, "parameters": {"lr": {"distribution": "log_uniform", "min": 0, "max": 1}}},
     r"lr.min=0 is invalid for log_uniform; allowed values: > 0"),
    ({"parameters": {"sigma": 0.1}}, r"parameters.sigma: expected a mapping with one of value, values"),
    ({"parameters": {"sigma": {"value": 0.1, "values": [0.2]}}}, r"give exactly one of value, values, distribution"),
    ({"seeds": [0], "parameters": {"seed": {"value": 1}}}, r"either seeds or the parameter seed"),
    ({"blocks": []}, r"blocks must be a non-empty list"),
    ({"blocks": [{"parameters": {"sigma": {"value": 1}}, "colour": 1}]}, r"blocks\[0\]: unknown key 'colour'"),
    ({"profile": "huge"}, r"profile='huge' is invalid; allowed values: smoke, quick, paper"),
    ({"parametres": {}}, r"unknown key 'parametres'; allowed keys: name, description, profile"),
])
def test_spec_errors_name_the_file_the_key_and_the_allowed_values(tmp_path, spec, message):
    with pytest.raises(ConfigError, match=message):
        expand_spec(write_spec(tmp_path, spec))


def test_missing_spec_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="spec file not found: .*nope.yaml"):
        expand_spec(tmp_path / "nope.yaml")


def test_shipped_specs_exist_and_state_their_run_counts():
    names = {p.name for p in SPECS}
    assert {f"{f}.yaml" for f in FAMILIES} <= names
    assert {f"{c}.{size}.yaml" for c in CHAPTERS for size in ("quick", "smoke", "paper")} <= names
    for path in SPECS:
        runs = expand_spec(path)
        assert stated_run_count(path) == len(runs), path.name
        profile = path.name.split(".")[1] if path.parent.name == "chapters" else "paper"
        trained = [r for r in runs if r.train.n_steps != 0]  # n_steps 0: an untrained baseline (predictivity)
        assert len(trained) == len(runs) or path.name.startswith("predictivity."), path.name
        assert all(r.train.n_steps == profile_config(profile).train.n_steps for r in trained), path.name
        assert all(r.model.n_hidden == profile_config(profile).model.n_hidden for r in runs), path.name
        if profile == "smoke":
            assert 2 <= len(runs) <= 4, path.name
        elif profile == "quick":
            assert len(runs) <= 12, path.name


def test_quick_chapters_share_runs_and_fit_the_book_budget():
    """The quick book trains the union of its chapters' runs once (gridbook book trains them ahead): at most the
    cost of 20 float32 RNN networks (GRU steps weigh 2.6, bf16 0.55), i.e. ~27 min on 2 cores (RESULTS.md)."""
    from gridbook.runs.planning import run_cost

    runs = {c.run_id(): c for p in SPECS if p.name.endswith(".quick.yaml") for c in expand_spec(p)}
    n_steps = profile_config("quick").train.n_steps
    assert sum(run_cost(c) for c in runs.values()) / n_steps <= 20
    uses = sum(len(expand_spec(p)) for p in SPECS if p.name.endswith(".quick.yaml"))
    assert uses >= 1.5 * len(runs)  # chapters reuse each other's networks


def test_groups_are_balanced_across_workers_most_expensive_first():
    from gridbook.runs.planning import run_cost

    rnn = [profile_config("quick", seed=s) for s in range(17)]
    gru = [profile_config("quick", arch="gru", seed=0)]
    untrained = [profile_config("quick", n_steps=0, seed=0)]
    groups = plan_groups(rnn + gru + untrained, workers=2)
    costs = [sum(run_cost(c) for c in g) for g in groups]
    assert costs == sorted(costs, reverse=True)
    assert max(costs) <= sum(costs) / 4 + run_cost(rnn[0])  # no job holds much more than a quarter of the work
    assert sorted(c.run_id() for g in groups for c in g) == sorted(c.run_id() for c in rnn + gru + untrained)
    assert all(len({c.shape_key() for c in g}) == 1 for g in groups)
    assert [len(g) for g in plan_groups(rnn, workers=1)] == [17]  # one worker (or a GPU): one big batch


def test_groups_share_a_shape_are_capped_and_split_for_idle_workers():
    runs = expand_spec({"profile": "smoke", "parameters": {"arch": {"values": ["rnn", "gru"]},
                                                           "seed": {"values": list(range(5))}}})
    groups = plan_groups(runs, group_size=3)
    assert [len(g) for g in groups] == [3, 2, 3, 2]
    assert all(len({c.shape_key() for c in g}) == 1 for g in groups)
    assert sorted(len(g) for g in plan_groups(runs[:5], group_size=32, workers=4)) == [1, 1, 1, 1, 1]
    with pytest.raises(ConfigError, match="group_size=0 is invalid"):
        plan_groups(runs, group_size=0)


# ---- execution with a stand-in trainer ---------------------------------------------------------------------------
SMALL = {"profile": "smoke", "parameters": {"target": {"value": "dos"}, "sigma": {"values": [0.11, 0.12, 0.13]}},
         "seeds": [0, 1]}


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


def test_dry_run_lists_runs_and_trains_nothing(tmp_path, capsys):
    spec = write_spec(tmp_path, SMALL)
    assert main(["sweep", str(spec), "--store", str(tmp_path / "runs"), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{spec}: 6 runs in 1 batched job (0 already done")
    assert out[1].split() == ["run_id", "status", "sigma", "seed"] and len(out) == 8
    assert out[2].split()[1:] == ["missing", "0.11", "0"] and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, message", [
    (["--store", "S"], "parameters: unknown parameter 'sigmaa'"),
    (["--executor", "slurm"], "unknown executor 'slurm'; allowed values: local, dask"),
    (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at"),
])
def test_cli_errors_are_one_line_without_traceback(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setattr("gridbook.runs.executors.DASK_CONNECT_TIMEOUT_S", 1.0)
    monkeypatch.setenv("GRIDBOOK_STORE", str(tmp_path / "default-store"))  # never the checkout's own runs/
    bad = write_spec(tmp_path, {"parameters": {"sigmaa": {"value": 1}}}, "bad.yaml")
    good = write_spec(tmp_path, SMALL)
    spec = bad if "sigmaa" in message else good
    args = [a.replace("S", str(tmp_path / "runs")) if a == "S" else a for a in args]
    assert main(["sweep", str(spec), *args, "--run-group", FAKE]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert err.startswith("gridbook sweep: error: ")


@pytest.mark.parametrize("spec, message", [
    ({"parameters": {"n_hidden": {"value": "big"}}}, "n_hidden='big' is invalid; allowed values: an integer"),
    ({"parameters": {"sigma": {"values": []}}}, "parameters.sigma.values is empty"),
    (None, "spec file not found"),
])
def test_cli_spec_errors(tmp_path, capsys, spec, message):
    path = write_spec(tmp_path, spec) if spec else tmp_path / "missing.yaml"
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    with pytest.raises((ConfigError, FileNotFoundError)):  # --debug shows the traceback instead
        main(["--debug", "sweep", str(path), "--dry-run"])


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
    summary = run_sweep(spec, store=tmp_path / "runs", workers=1, progress=False)
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
               "--group-size", "2", "--run-group", "test_sweeps:counting_trainer"]
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
