"""Evidence bundles: a packed smoke store reads back equal, and every damage is named in one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gridbook.errors import UserError
from gridbook.runs.bundle import BUNDLE_FORMAT, Bundle, pack_store, verify_bundle
from gridbook.runs.load import load_results, load_run, load_units
from gridbook.runs.sweep import run_sweep


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundle")
    spec = {"profile": "smoke", "parameters": {"target": {"values": ["dos", "gaussian"]}}, "seeds": [0, 1]}
    run_sweep(spec, store=root / "runs", workers=1, progress=False, group_size=4)
    ids = sorted(load_results(root / "runs")["run_id"])
    out = pack_store(root / "runs", root / "bundle", specs={"E1": ids[:3], "E2": ids[3:]},
                     provenance={"device": "test"}, top_units=4)
    return root / "runs", out, ids


def test_a_bundle_reads_back_what_the_store_holds(packed):
    store, out, ids = packed
    bundle = Bundle(out)
    assert bundle.provenance["device"] == "test" and bundle.provenance["format"] == BUNDLE_FORMAT
    results, stored = bundle.results(), load_results(store)
    assert sorted(results["run_id"]) == ids and list(results["spec"]).count("E1") == 3
    merged = stored.merge(results, on="run_id", suffixes=("", "_b"))
    for column in stored.columns.drop("run_id"):
        pd.testing.assert_series_equal(merged[column], merged[f"{column}_b"], check_names=False,
                                       check_dtype=False)
    units = bundle.units(ids[::-1])
    assert list(dict.fromkeys(units["run_id"])) == ids[::-1]
    reference = load_units(store, ids[::-1])
    np.testing.assert_array_equal(units["unit"], reference["unit"])
    np.testing.assert_allclose(units["score60_min_max"], reference["score60_min_max"].astype(np.float32))
    chosen, maps = bundle.maps(ids[0])
    full = load_run(store, ids[0]).ratemaps.maps
    assert len(chosen) == 4
    np.testing.assert_allclose(maps, full[chosen], rtol=1e-3, atol=1e-4)
    with pytest.raises(KeyError, match="not in"):
        bundle.maps("0" * 16)


def test_packing_twice_into_one_directory_is_refused(packed):
    store, out, _ = packed
    with pytest.raises(UserError, match="already holds a bundle"):
        pack_store(store, out)


def copy_bundle(out, tmp_path):
    target = tmp_path / "copy"
    target.mkdir(parents=True)
    for file in out.iterdir():
        (target / file.name).write_bytes(file.read_bytes())
    return target


def test_damage_is_named_in_one_line(packed, tmp_path):
    _, out, _ = packed
    flipped = copy_bundle(out, tmp_path / "a")
    data = bytearray((flipped / "units.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (flipped / "units.parquet").write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"units.parquet: does not match its checksum"):
        Bundle(flipped)
    truncated = copy_bundle(out, tmp_path / "b")
    (truncated / "maps.npz").write_bytes((truncated / "maps.npz").read_bytes()[:100])
    with pytest.raises(UserError, match=r"maps.npz: 100 bytes, the manifest records"):
        verify_bundle(truncated)
    future = copy_bundle(out, tmp_path / "c")
    manifest = json.loads((future / "MANIFEST.json").read_text())
    (future / "MANIFEST.json").write_text(json.dumps({**manifest, "format": 99}))
    with pytest.raises(UserError, match="bundle format 99 is unknown"):
        verify_bundle(future)
    with pytest.raises(UserError, match="does not exist"):
        verify_bundle(tmp_path / "nowhere")
    with pytest.raises(UserError, match="is a file"):
        verify_bundle(future / "MANIFEST.json")


def test_a_bundle_lacking_a_column_the_book_reads_is_refused(packed, tmp_path):
    _, out, _ = packed
    lacking = copy_bundle(out, tmp_path)
    table = pd.read_parquet(lacking / "runs.parquet").drop(columns=["decoding_error_cm"])
    table.to_parquet(lacking / "runs.parquet", index=False)
    manifest = json.loads((lacking / "MANIFEST.json").read_text())
    data = (lacking / "runs.parquet").read_bytes()
    from gridbook.files import sha256_hex

    manifest["files"]["runs.parquet"] = {"size": len(data), "sha256": sha256_hex(data)}
    (lacking / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="lacks the column.*decoding_error_cm"):
        verify_bundle(lacking)
