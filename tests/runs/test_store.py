import dataclasses
import json
import os

import numpy as np
import pandas as pd
import pytest

from gridbook.analysis.null import ShuffleNull, null_summary
from gridbook.analysis.pipeline import summarize_units
from gridbook.analysis.ratemaps import RateMaps
from gridbook.errors import CorruptRunError
from gridbook.files import atomic_write_bytes
from gridbook.profiles import profile_config
from gridbook.runs.load import SUMMARY_COLUMNS, load_results, load_run, load_units, write_results_table
from gridbook.runs.spec import spec_run_ids
from gridbook.runs.store import DONE, NULL_FILE, RUN_FILES, RunRecord, RunStore

SCORES = np.array([0.2, 0.5, 0.9, 1.3, np.nan])  # min-max score60 of 5 units
PERIODS = np.array([0.9, 0.4, 0.4, 0.4, np.nan])  # m


def fake_record(config, n_units=5, n_bins=None):
    """A deterministic stand-in for a trained and evaluated network (no training); maps of the config's n_bins."""
    n_bins = config.analysis.n_bins if n_bins is None else n_bins
    rng = np.random.default_rng(config.train.seed + 1000 * config.target.n_place_cells)
    maps = rng.normal(size=(n_units, n_bins, n_bins)).astype(np.float32)  # (U, ny, nx)
    maps[:, 0, 0] = np.nan  # one unvisited bin
    occupancy = np.full((n_bins, n_bins), 3, dtype=np.int64)
    occupancy[0, 0] = 0
    edges = np.linspace(-1.1, 1.1, n_bins + 1)
    units = {"score60_mean": SCORES[:n_units] - 0.1, "score60_min_max": SCORES[:n_units],
             "score90": np.zeros(n_units), "period_m": PERIODS[:n_units], "orientation_deg": np.full(n_units, 7.0)}
    metrics = {"decoding_error_cm": 4.0 + config.train.seed, "loss": 1.5, "diverged": config.train.seed == 3,
               **summarize_units(units), "participation_ratio": 2.5, "train_seconds": 0.0, "device": "cpu"}
    checkpoint = {"format": "fake", "weights": np.arange(4.0) + config.train.seed}
    n_shuffles = config.analysis.n_shuffles
    null = ShuffleNull(np.arange(1, n_shuffles + 1), rng.uniform(0, 0.9, (n_shuffles, n_units)).astype(np.float32),
                       "min_max", config.analysis.eval_batches) if n_shuffles else None
    metrics.update(null_summary(units["score60_min_max"], null))
    return RunRecord(config=config, metrics=metrics, ratemaps=RateMaps(maps, occupancy, edges, edges),
                     units=units, checkpoint=checkpoint, null=null)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs")


def config(seed=0, **kw):
    return profile_config("smoke", seed=seed, **kw)


def test_round_trip(store):
    record = fake_record(config(seed=1))
    run_id = store.write_run(record)
    assert run_id == record.config.run_id() == record.run_id and store.status(run_id) == "done"
    run = load_run(store, run_id)
    assert isinstance(run, RunRecord) and run.run_id == run_id and run.checkpoint is None
    whole = load_run(store, run_id, checkpoint=True)
    assert whole.checkpoint == (store.run_dir(run_id) / "checkpoint.pt").read_bytes()
    with pytest.raises(ValueError, match="has no checkpoint"):
        store.write_run(run)  # nothing is lost: the stored run stays as it was
    assert store.status(run_id, deep=True) == "done"
    assert store.write_run(whole) == run_id and store.status(run_id, deep=True) == "done"  # a round trip
    assert run.config == record.config
    np.testing.assert_array_equal(run.ratemaps.maps, record.ratemaps.maps)  # NaN in the same places
    assert run.ratemaps.maps.dtype == np.float32 and np.isnan(run.ratemaps.maps[:, 0, 0]).all()
    np.testing.assert_array_equal(run.ratemaps.occupancy, record.ratemaps.occupancy)
    np.testing.assert_array_equal(run.ratemaps.x_edges, record.ratemaps.x_edges)
    metrics = run.metrics
    assert metrics["decoding_error_cm"] == 5.0 and metrics["diverged"] is False
    assert set(metrics["versions"]) >= {"torch", "numpy", "gridbook"} and "git_commit" in metrics
    assert list(run.units.columns) == ["unit", "score60_mean", "score60_min_max", "score90", "period_m",
                                          "orientation_deg"]
    np.testing.assert_array_equal(run.units["score60_min_max"], SCORES)


def test_the_null_is_stored_with_its_run_and_required_when_the_config_asks_for_one(store):
    with_null = fake_record(config(seed=2, eval_batches=4, n_shuffles=3))
    run_id = store.write_run(with_null)
    assert sorted(os.listdir(store.run_dir(run_id))) == sorted([*RUN_FILES, NULL_FILE, DONE])
    null = load_run(store, run_id).null
    np.testing.assert_array_equal(null.scores, with_null.null.scores)
    np.testing.assert_array_equal(null.shifts, [1, 2, 3])
    assert (null.score_form, null.n_batches) == ("min_max", 4) and null.percentile() == with_null.null.percentile()
    assert load_results(store)["frac_units_grid_like"].iloc[0] == with_null.metrics["frac_units_grid_like"]
    (store.run_dir(run_id) / NULL_FILE).unlink()
    assert store.status(run_id) == "corrupt"
    with pytest.raises(CorruptRunError, match="null.npz is missing"):
        store.verify(run_id)
    with pytest.raises(ValueError, match="null=None does not match n_shuffles=3"):
        store.write_run(RunRecord(with_null.config, with_null.metrics, with_null.ratemaps, with_null.units,
                                  with_null.checkpoint, null=None))
    some = fake_record(config(seed=3, eval_batches=4, n_shuffles=3))
    some = RunRecord(some.config, some.metrics, some.ratemaps, some.units, some.checkpoint,
                     null=dataclasses.replace(some.null, units=np.arange(some.null.scores.shape[1])))
    np.testing.assert_array_equal(load_run(store, store.write_run(some)).null.units, some.null.units)
    assert null.units is None  # a null of every unit stores no unit list
    without = fake_record(config(seed=2, n_shuffles=0))
    assert without.null is None and load_run(store, store.write_run(without)).null is None
    with pytest.raises(ValueError, match="null=a ShuffleNull does not match n_shuffles=0"):
        store.write_run(RunRecord(without.config, without.metrics, without.ratemaps, without.units,
                                  without.checkpoint, null=with_null.null))


def test_atomic_writes_leave_no_temporary_files(store, tmp_path):
    run_id = store.write_run(fake_record(config()))
    assert sorted(os.listdir(store.run_dir(run_id))) == sorted([*RUN_FILES, NULL_FILE, DONE])  # smoke has a null
    load_results(store)
    load_run(store, run_id)
    load_units(store)
    assert os.listdir(store.root) == [run_id]  # reading writes nothing
    write_results_table(store)
    assert sorted(os.listdir(store.root)) == sorted([run_id, "results.parquet"])
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # fails while writing
    assert target.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["file.bin", "runs"]


def test_run_without_done_does_not_exist(store):
    run_id = store.write_run(fake_record(config()))
    (store.run_dir(run_id) / DONE).unlink()
    assert store.status(run_id) == "partial"
    assert len(load_results(store)) == 0 and store.done_run_ids() == []
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        load_run(store, run_id)


@pytest.mark.parametrize("damage", ["truncate_maps", "garble_metrics", "delete_units", "garble_done", "edit_config"])
def test_corruption_is_detected_and_rewriting_repairs_it(store, damage):
    record = fake_record(config())
    run_dir = store.run_dir(store.write_run(record))
    if damage == "truncate_maps":
        data = (run_dir / "ratemaps.npz").read_bytes()
        (run_dir / "ratemaps.npz").write_bytes(data[: len(data) // 2])
    elif damage == "garble_metrics":  # same size, different bytes
        size = (run_dir / "metrics.json").stat().st_size
        (run_dir / "metrics.json").write_bytes(b"x" * size)
    elif damage == "delete_units":
        (run_dir / "units.parquet").unlink()
    elif damage == "garble_done":
        (run_dir / DONE).write_text("{not json")
    else:  # a config that no longer hashes to the directory name, with a DONE made to match it
        text = record.config.replace(sigma=0.2).to_yaml().encode()
        (run_dir / "config.yaml").write_bytes(text)
        marker = json.loads((run_dir / DONE).read_text())
        import hashlib

        marker["files"]["config.yaml"] = {"size": len(text), "sha256": hashlib.sha256(text).hexdigest()}
        (run_dir / DONE).write_text(json.dumps(marker))
    assert store.status(run_dir.name) == "corrupt"
    with pytest.warns(UserWarning, match=f"skipping a corrupt run.*{run_dir.name}"):
        assert len(load_results(store)) == 0
    with pytest.raises(CorruptRunError, match=run_dir.name):
        load_run(store, run_dir.name)
    store.write_run(record)
    assert store.status(run_dir.name) == "done"


def test_deep_verification_checksums_large_files(store):
    run_dir = store.run_dir(store.write_run(fake_record(config())))
    data = bytearray((run_dir / "checkpoint.pt").read_bytes())
    data[-5] ^= 0xFF  # same size, one byte flipped
    (run_dir / "checkpoint.pt").write_bytes(bytes(data))
    assert store.status(run_dir.name) == "done"  # the quick check reads sizes of large files only
    assert store.status(run_dir.name, deep=True) == "corrupt"


def test_failures_are_recorded_and_cleared_by_a_later_success(store):
    cfg = config()
    try:
        raise RuntimeError("boom")
    except RuntimeError as err:
        store.write_failure(cfg, err)
    assert store.status(cfg.run_id()) == "failed"
    failure = store.failure(cfg.run_id())
    assert failure["error"] == "RuntimeError: boom" and "Traceback" in failure["traceback"]
    store.write_run(fake_record(cfg))
    assert store.status(cfg.run_id()) == "done" and store.failure(cfg.run_id()) is None
    assert not (store.run_dir(cfg.run_id()) / "failed.json").exists()


def test_load_results_columns_values_and_spec_filter(store):
    for seed in range(4):
        store.write_run(fake_record(config(seed=seed)))
    table = load_results(store)
    flat = list(config().to_flat())
    assert list(table.columns) == ["run_id", *flat, *SUMMARY_COLUMNS]
    assert len(table) == 4 and sorted(table["seed"]) == [0, 1, 2, 3]
    row = table.set_index("seed").loc[3]
    assert row["decoding_error_cm"] == 7.0 and row["diverged"] and row["best_score60_min_max"] == 1.3
    assert row["frac_units_above_0.8"] == 0.5 and row["period_mode_m"] == 0.4 and row["participation_ratio"] == 2.5
    on_disk = pd.read_parquet(write_results_table(store))
    assert list(on_disk["run_id"]) == list(table["run_id"])
    spec = {"profile": "smoke", "parameters": {"seed": {"values": [2, 1, 9]}}}
    filtered = load_results(store, run_ids=spec_run_ids(spec))
    assert list(filtered["seed"]) == [2, 1]  # in the spec's order; seed 9 never ran
    units = load_units(store, run_ids=filtered["run_id"])
    assert list(units.columns) == ["run_id", "unit", "score60_mean", "score60_min_max", "score90", "period_m",
                                   "orientation_deg"]
    assert len(units) == 10 and set(units["run_id"]) == set(filtered["run_id"])


def test_store_root_defaults_to_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDBOOK_STORE", str(tmp_path / "elsewhere"))
    assert RunStore().root == tmp_path / "elsewhere"
    monkeypatch.delenv("GRIDBOOK_STORE")
    assert str(RunStore().root) == "runs"
    assert load_results(RunStore(tmp_path / "empty")).empty
