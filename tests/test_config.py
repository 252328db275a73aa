import pytest

from gridbook.config import FIELD_SECTION, RunConfig
from gridbook.errors import ConfigError
from gridbook.profiles import PROFILE_DEVIATIONS, PROFILE_OVERRIDES, profile_config


def test_defaults_are_the_papers():
    c = RunConfig()
    assert c.task.box_width == 2.2 and c.task.dt == 0.02 and c.task.seq_len == 20 and c.task.batch_size == 200
    assert c.target.target == "dos" and c.target.sigma == 0.12 and c.target.surround_scale == 2.0
    assert c.target.n_place_cells == 512 and c.train.lr == 1e-4 and c.train.weight_decay == 1e-4


def test_flat_and_dotted_replace():
    c = RunConfig().replace(sigma=0.1, **{"model.arch": "gru"})
    assert c.target.sigma == 0.1 and c.model.arch == "gru"
    assert c.to_flat()["sigma"] == 0.1


def test_round_trips_keep_the_hash():
    c = profile_config("quick", sigma=0.13, sigma_range=[0.06, 0.18], seed=3)
    assert RunConfig.from_dict(c.to_dict()) == c
    assert RunConfig.from_dict(c.to_flat()) == c
    assert RunConfig.from_yaml(c.to_yaml()) == c
    assert RunConfig.from_dict(c.to_dict()).run_id() == c.run_id()


def test_hash_changes_with_any_field():
    base = RunConfig()
    assert base.replace(seed=1).run_id() != base.run_id()
    assert base.replace(sigma=0.121).run_id() != base.run_id()
    assert len(base.run_id()) == 16


def test_hash_covers_only_fields_that_differ_from_the_defaults(monkeypatch):
    import hashlib
    import json

    import gridbook.config as config_module

    config = RunConfig().replace(sigma=0.13, seed=2)
    text = json.dumps({"defaults": config_module.DEFAULTS_VERSION,
                       "changed": {"target.sigma": 0.13, "train.seed": 2}}, sort_keys=True, separators=(",", ":"))
    assert config.run_id() == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert RunConfig().replace(sigma=0.12).run_id() == RunConfig().run_id()  # setting a default changes nothing
    before = config.run_id()
    monkeypatch.setattr(config_module, "DEFAULTS_VERSION", config_module.DEFAULTS_VERSION + 1)
    assert config.run_id() != before  # a changed default's value invalidates every id


def test_int_given_for_float_hashes_the_same():
    assert RunConfig().replace(lr=1).run_id() == RunConfig().replace(lr=1.0).run_id()


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("sigma", 0.0, r"sigma=0.0 is invalid; allowed values: > 0"),
        ("sigma", -1.0, r"sigma=-1.0 is invalid"),
        ("surround_scale", 1.0, r"surround_scale=1.0 is invalid for target 'dos'; allowed values: > 1"),
        ("target", "banana", r"target='banana' is invalid; allowed values: cartesian, .*dos"),
        ("arch", "transformer", r"arch='transformer' is invalid; allowed values: rnn, lstm, gru, ugrnn, srnn"),
        ("optimizer", "lbfgs", r"optimizer='lbfgs' is invalid; allowed values: adam"),
        ("input_dropout", 1.0, r"input_dropout=1.0 is invalid; allowed values: 0 <= p < 1"),
        ("n_hidden", 0, r"n_hidden=0 is invalid; allowed values: an integer >= 1"),
        ("sigma_range", (0.2, 0.1), r"sigma_range=\(0.2, 0.1\) is invalid"),
        ("surround_range", (0.5, 2.0), r"surround_range=\(0.5, 2.0\) is invalid"),
        ("periodic", "yes", r"periodic='yes' is invalid; allowed values: true, false"),
        ("precision", "float16", r"precision='float16' is invalid; allowed values: float32, bfloat16"),
        ("fine_decoder", "cosine", r"fine_decoder='cosine' is invalid; allowed values: nearest, correlation"),
        ("n_shuffles", -1, r"n_shuffles=-1 is invalid; allowed values: an integer >= 0"),
        ("n_shuffles", 50, r"n_shuffles=50 is invalid with eval_batches=50; allowed values: 0 .. 49"),
    ],
)
def test_bad_values_name_field_and_allowed_values(key, value, match):
    with pytest.raises(ConfigError, match=match):
        RunConfig().replace(**{key: value})


def test_unknown_keys_raise():
    with pytest.raises(ConfigError, match=r"unknown config key 'sigmaa'; allowed keys: .*sigma"):
        RunConfig().replace(sigmaa=0.1)
    with pytest.raises(ConfigError, match=r"unknown config key 'model.sigma'"):
        RunConfig().replace(**{"model.sigma": 0.1})
    with pytest.raises(ConfigError, match=r"unknown config key 'nope'"):
        RunConfig.from_dict({"nope": 1})


def test_profiles_override_only_known_fields_and_list_deviations():
    for name, overrides in PROFILE_OVERRIDES.items():
        assert set(overrides) <= set(FIELD_SECTION)
        c = profile_config(name)
        for key, value in overrides.items():
            assert c.to_flat()[key] == value
        assert PROFILE_DEVIATIONS[name]
    with pytest.raises(ConfigError, match=r"profile='fast' is invalid; allowed values: smoke, quick, gpu, paper"):
        profile_config("fast")


def test_precision_is_float32_by_default_and_part_of_the_shape_key():
    base = profile_config("paper")
    assert base.train.precision == "float32" and RunConfig().train.precision == "float32"
    assert base.replace(precision="float32").run_id() == base.run_id()  # the new field leaves stored ids alone
    mixed = base.replace(precision="bfloat16")
    assert mixed.run_id() != base.run_id() and mixed.shape_key() != base.shape_key()
    assert "bfloat16" in mixed.shape_key()
    assert profile_config("quick").train.precision == "bfloat16"  # a stated deviation of the quick profile
    assert "precision" in {row[0] for row in PROFILE_DEVIATIONS["quick"]}
