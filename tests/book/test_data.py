"""A chapter's sweep spec with the notebook's overrides."""

from __future__ import annotations

import yaml

from gridbook.book import data as book


def test_chapter_spec_applies_seed_and_parameter_overrides(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (tmp_path / "sweeps" / "chapters").mkdir(parents=True)
    spec = {"seeds": [0], "parameters": {"target": {"value": "dos"}},
            "blocks": [{"parameters": {"sigma": {"values": [0.1]}, "target": {"value": "dog"}}, "seeds": [3]}]}
    (tmp_path / "sweeps" / "chapters" / "demo.smoke.yaml").write_text(yaml.safe_dump(spec))
    data = book.chapter_spec("demo", "smoke", seeds=[1, 2], start=tmp_path, target=["gaussian"], sigma=None)
    assert data["seeds"] == [1, 2] and "seeds" not in data["blocks"][0]
    assert data["parameters"]["target"] == data["blocks"][0]["parameters"]["target"] == {"values": ["gaussian"]}
    assert data["blocks"][0]["parameters"]["sigma"] == {"values": [0.1]}


def test_chapter_runs_train_what_is_missing_then_only_read(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (tmp_path / "sweeps" / "chapters").mkdir(parents=True)
    spec = {"parameters": {"n_hidden": {"value": 8}, "n_place_cells": {"value": 8}, "n_steps": {"value": 2},
                           "sigma": {"values": [0.12, 0.2]}}}
    (tmp_path / "sweeps" / "chapters" / "demo.smoke.yaml").write_text(yaml.safe_dump(spec))
    trained = book.chapter_runs("demo", "smoke", tmp_path / "runs", start=tmp_path)
    assert trained.summary.done == 2 and list(trained.results["sigma"]) == [0.12, 0.2]
    again = book.chapter_runs("demo", "smoke", tmp_path / "runs", start=tmp_path, train=False)
    assert again.summary is None and list(again.results["run_id"]) == list(trained.results["run_id"])
    units = again.units("sigma")
    assert len(units) == 16 and set(units["sigma"]) == {0.12, 0.2}
    run_id = again.results["run_id"][1]
    assert again.config(run_id).target.sigma == 0.2
    rows = units[units["unit"].isin([3, 5])]
    maps = again.unit_maps(rows)
    assert maps.shape == (4, 12, 12) and again.unit_maps(rows.iloc[:0]).shape == (0, 0, 0)
    assert book.chapter_runs("demo", "smoke", tmp_path / "runs", start=tmp_path, train=False, sigma=[0.3]).results.empty
