"""The gridbook train command: a one-run store, every check before anything is written, one-line errors."""

from __future__ import annotations

import os

import pytest

from gridbook.cli.main import main as cli_main
from gridbook.runs.load import load_network, load_run
from gridbook.runs.store import RunStore

TINY = ["--profile", "smoke", "--target", "dos", "--sigma", "0.12", "--steps", "4", "--seed", "0", "--device", "cpu",
        "--set", "n_hidden=16", "--set", "batch_size=8", "--set", "seq_len=5"]


def test_train_writes_a_one_run_store_that_load_run_reads(tmp_path, capsys):
    out = tmp_path / "store"
    assert cli_main(["train", *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "final decoding error:" in printed and "step 4/4" in printed
    (run_id,) = RunStore(out).done_run_ids()
    record = load_run(out, run_id)
    assert record.config.model.n_hidden == 16 and record.config.target.sigma == 0.12
    assert load_network(out, run_id, device="cpu").steps_done == 4
    assert not any((out / ".train").iterdir())  # the resume checkpoint goes once the run is stored


def test_a_refused_train_writes_nothing(tmp_path, capsys):
    out = tmp_path / "store"
    assert cli_main(["train", *TINY, "--out", str(out)]) == 0
    (done,) = RunStore(out).done_run_ids()
    before = {p: p.read_bytes() for p in (out / done).iterdir()}
    for extra, message in ((["--set", "nonsense=1"], "unknown config key 'nonsense'"),
                           (["--set", "lr"], "--set 'lr' is invalid"),
                           (["--steps", "0"], "--steps 0 is invalid; allowed values: an integer >= 1"),
                           (["--device", "tpu"], "--device 'tpu' is invalid; allowed values: cpu, cuda"),
                           (["--set", "n_hidden=10000000"], "training needs at least")):
        assert cli_main(["train", *TINY, *extra, "--target", "gaussian", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert RunStore(out).done_run_ids() == [done]
    assert {p: p.read_bytes() for p in (out / done).iterdir()} == before


def test_bad_outputs_and_damaged_checkpoints_are_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert cli_main(["train", *TINY, "--out", str(tmp_path / "file")]) == 2
    assert "--out" in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert cli_main(["train", *TINY, "--out", str(locked)]) == 2
        assert "read-only" in capsys.readouterr().err
    out = tmp_path / "store"
    (out / ".train").mkdir(parents=True)
    from gridbook.profiles import profile_config

    config = profile_config("smoke", target="dos", sigma=0.12, n_steps=4, seed=0, n_hidden=16, batch_size=8,
                            seq_len=5)
    (out / ".train" / f"{config.run_id()}.pt").write_bytes(b"PK\x03\x04 truncated")
    assert cli_main(["train", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "does not load" in err and "delete it" in err and err.count("\n") == 1


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is here")
def test_cuda_without_a_gpu_is_one_line(tmp_path, capsys):
    assert cli_main(["train", *TINY[:-8], "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "sees no CUDA GPU" in capsys.readouterr().err
