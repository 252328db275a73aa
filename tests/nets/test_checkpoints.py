"""Checkpoints: save and load, resume, and one network of a batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_runs import assert_same_weights, tiny, train

from gridbook.errors import ConfigError
from gridbook.nets.checkpoints import checkpoint_bytes, load_checkpoint, save_checkpoint
from gridbook.nets.evaluate import evaluate_networks
from gridbook.nets.trainer import Trainer


def test_bfloat16_precision_survives_checkpoints_and_evaluation(tmp_path):
    config = tiny(precision="bfloat16")
    result = train([config], checkpoint=tmp_path / "run.pt")
    loaded = load_checkpoint(tmp_path / "run.pt", device="cpu")
    assert loaded.networks.matmul_dtype == torch.bfloat16 and loaded.configs[0].train.precision == "bfloat16"
    (evaluation,) = evaluate_networks(result)
    assert evaluation["activations"].dtype == np.float32 and np.isfinite(evaluation["decoding_error_cm"])
    with pytest.raises(ConfigError, match="precision"):
        tiny(precision="half")
    with pytest.raises(ConfigError, match="shape_key"):
        train([tiny(), tiny(seed=1, precision="bfloat16")])


def test_checkpoint_resume_equals_uninterrupted_training(tmp_path):
    configs = [tiny(seed=s, n_steps=6, recurrent_dropout=0.3, input_dropout=0.2) for s in (0, 1)]
    straight = train(configs, eval_every=1)
    path = tmp_path / "ck.pt"
    first = train([c.replace(n_steps=3) for c in configs], checkpoint=path, eval_every=1)
    assert path.exists() and first.steps_done == 3
    resumed = train(configs, checkpoint=path, eval_every=1)
    assert resumed.steps_done == 6
    for name, value in straight.networks.state_dict().items():
        assert torch.equal(value, resumed.networks.state_dict()[name]), name
    assert resumed.history == straight.history
    for mine, theirs in zip(straight.optimizer_state["state"], resumed.optimizer_state["state"], strict=True):
        assert all(torch.equal(mine[key], theirs[key]) for key in mine)
    assert load_checkpoint(path).steps_done == 6  # saved at the end


def test_resume_inside_a_chunk_of_walks_equals_uninterrupted_training(tmp_path):
    configs = [tiny(seed=s, n_steps=6) for s in (0, 1)]
    straight = train(configs, eval_every=1)
    trainer = Trainer(configs, torch.device("cpu"), None)
    for _ in range(3):
        trainer.train_step(record=True)
    state = trainer.result().generator_states[0]
    assert (state["walks_used"], state["walk_chunk"]) == (3, 6)  # stopped half-way through the chunk of 6 batches
    save_checkpoint(trainer.result(), tmp_path / "ck.pt")
    resumed = train(configs, checkpoint=tmp_path / "ck.pt", eval_every=1)
    for name, value in straight.networks.state_dict().items():
        assert torch.equal(value, resumed.networks.state_dict()[name]), name
    assert resumed.history == straight.history


def test_resume_refuses_a_checkpoint_of_other_configs(tmp_path):
    path = tmp_path / "ck.pt"
    train([tiny(seed=0)], checkpoint=path)
    with pytest.raises(ConfigError, match="network 0 differs in sigma"):
        train([tiny(seed=0, sigma=0.2)], checkpoint=path)
    with pytest.raises(ConfigError, match="n_steps=2 is invalid.*already trained 3 steps"):
        train([tiny(seed=0, n_steps=2)], checkpoint=path)


def test_checkpoint_round_trip_keeps_everything(tmp_path):
    result = train([tiny(seed=3, arch="lstm"), tiny(seed=4, arch="lstm", target="sod")], eval_every=1)
    loaded = load_checkpoint(save_checkpoint(result, tmp_path / "a" / "ck.pt"))
    assert [c.run_id() for c in loaded.configs] == [c.run_id() for c in result.configs]
    assert loaded.history == result.history and loaded.steps_done == 3 and loaded.diverged == [False, False]
    assert_same_weights(loaded.networks, 1, result.networks, 1, atol=0)
    assert torch.equal(loaded.targets[1].centres, result.targets[1].centres)
    torch.save({"format": "other"}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a gridbook training checkpoint"):
        load_checkpoint(tmp_path / "bad.pt")


def test_save_checkpoint_writes_checkpoint_bytes_atomically(tmp_path):
    result = train([tiny(seed=0), tiny(seed=1)])
    path = save_checkpoint(result, tmp_path / "sub" / "checkpoint.pt")
    assert path.read_bytes() == checkpoint_bytes(result)
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]  # no temporary file left behind
    one = result.network(1)
    assert one.configs == [result.configs[1]] and one.optimizer_state == {} and one.networks.n_networks == 1
    assert_same_weights(result.networks, 1, load_checkpoint(save_checkpoint(one, tmp_path / "one.pt")).networks, 0)


def test_a_failed_checkpoint_write_keeps_the_previous_file(tmp_path, monkeypatch):
    result = train([tiny()])
    path = save_checkpoint(result, tmp_path / "checkpoint.pt")
    before = path.read_bytes()

    def broken_save(payload, handle):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr("gridbook.nets.checkpoints.torch.save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(result, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
