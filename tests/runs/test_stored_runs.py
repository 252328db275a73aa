"""Runs stored by an earlier gridbook stay valid: tests/data/store_5e7e2a2 holds three smoke runs written at commit
5e7e2a2, before the package was split into layers. Their ids, files, networks and numbers must read back unchanged,
and a sweep must reuse them without training."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from gridbook.analysis.pipeline import analyse_network
from gridbook.nets.evaluate import evaluate_networks
from gridbook.profiles import profile_config
from gridbook.runs.load import load_network, load_results, load_run
from gridbook.runs.store import RunRecord, RunStore
from gridbook.runs.sweep import run_sweep

OLD_STORE = Path(__file__).resolve().parents[1] / "data" / "store_5e7e2a2"
NO_NULL = {"n_shuffles": 0, "fine_decoder": "nearest"}  # the smoke profile has a shuffle null and the correlation
# fine decoder since; these runs were made without a null and with the nearest-code one
OLD_RUNS = {  # run id at 5e7e2a2 -> the flat overrides of the smoke profile that make it
    "4f4cd7521a199f07": NO_NULL,
    "ef90df4297ea6f34": {"arch": "gru", **NO_NULL},
    "89e41eca2170c9a8": {"sigma_range": (0.06, 0.18), "surround_range": (1.5, 2.5), **NO_NULL},
}


@pytest.fixture
def store(tmp_path):
    return RunStore(shutil.copytree(OLD_STORE, tmp_path / "runs"))


def test_run_ids_and_checksums_are_unchanged(store):
    for run_id, overrides in OLD_RUNS.items():
        assert profile_config("smoke", **overrides).run_id() == run_id
        assert store.status(run_id, deep=True) == "done"


def test_old_runs_load_as_records_and_networks_that_reproduce_their_numbers(store):
    for run_id in OLD_RUNS:
        run = load_run(store, run_id)
        assert isinstance(run, RunRecord) and run.run_id == run_id
        network = load_network(store, run_id, device="cpu")
        evaluation = evaluate_networks(network)[0]  # same evaluation seed and batches as when the run was stored
        assert evaluation["decoding_error_cm"] == pytest.approx(run.metrics["decoding_error_cm"], rel=1e-6)
        analysis = analyse_network(evaluation["positions"], evaluation["activations"], run.config)
        np.testing.assert_allclose(analysis.ratemaps.maps, run.ratemaps.maps, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(analysis.units["score60_min_max"], run.units["score60_min_max"], atol=1e-6)
        assert analysis.summary["best_score60_min_max"] == pytest.approx(run.metrics["best_score60_min_max"])


def test_a_sweep_over_old_runs_trains_nothing(store):
    spec = {"profile": "smoke", "parameters": {"n_shuffles": {"value": 0}, "fine_decoder": {"value": "nearest"}},
            "blocks": [{"parameters": {}}, {"parameters": {"arch": {"value": "gru"}}},
                       {"parameters": {"sigma_range": {"value": [0.06, 0.18]},
                                       "surround_range": {"value": [1.5, 2.5]}}}]}
    summary = run_sweep(spec, store=store, run_group="no_such_module:never_called", progress=False)
    assert (summary.total, summary.skipped, summary.done, summary.failed) == (3, 3, 0, 0)
    assert sorted(load_results(store)["run_id"]) == sorted(OLD_RUNS)
