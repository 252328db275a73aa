"""Sweep specs: grids, blocks, random search, errors, and the shipped specs."""

import numpy as np
import pytest
from sweep_helpers import CHAPTERS, FAMILIES, SPECS, write_spec

from gridbook.errors import ConfigError
from gridbook.profiles import profile_config
from gridbook.runs.spec import expand_spec, stated_run_count


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
    ({"profile": "huge"}, r"profile='huge' is invalid; allowed values: smoke, quick, gpu, paper"),
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
        profile = path.name.split(".")[1] if path.parent.name in ("chapters", "searches") else "paper"
        trained = [r for r in runs if r.train.n_steps != 0]  # n_steps 0: an untrained baseline (predictivity)
        assert len(trained) == len(runs) or path.name.startswith("predictivity."), path.name
        assert all(r.train.n_steps == profile_config(profile).train.n_steps for r in trained), path.name
        assert all(r.model.n_hidden == profile_config(profile).model.n_hidden for r in runs), path.name
        if profile == "smoke":
            assert 2 <= len(runs) <= 4, path.name
        elif profile == "quick" and path.parent.name == "chapters":
            assert len(runs) <= 20, path.name

def test_quick_chapters_share_runs_and_fit_the_book_budget():
    """The quick book trains the union of its chapters' runs once (gridbook book trains them ahead): at the planner's
    measured speed (gridbook.runs.planning) they fit in 41 of the book's 45 minutes on 2 cores, leaving 4 for set-up,
    the chapters and the HTML."""
    from gridbook.runs.planning import estimated_cpu_minutes

    quick = [p for p in SPECS if p.name.endswith(".quick.yaml") and p.parent.name == "chapters"]
    runs = {c.run_id(): c for p in quick for c in expand_spec(p)}
    assert estimated_cpu_minutes(list(runs.values()), workers=2) <= 41
    uses = sum(len(expand_spec(p)) for p in quick)
    assert uses >= 1.5 * len(runs)  # chapters reuse each other's networks
