"""The gridbook sweep command: dry runs and one-line errors."""

import pytest
from sweep_helpers import FAKE, REPO, SMALL, write_spec

from gridbook.cli.main import main
from gridbook.errors import ConfigError


def test_dry_run_lists_runs_and_trains_nothing(tmp_path, capsys):
    spec = write_spec(tmp_path, SMALL)
    assert main(["sweep", str(spec), "--store", str(tmp_path / "runs"), "--dry-run", "--group-size", "32"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{spec}: 6 runs in 1 batched job (0 already done")
    assert out[1].split() == ["run_id", "status", "sigma", "seed"] and len(out) == 8
    assert out[2].split()[1:] == ["missing", "0.11", "0"] and not (tmp_path / "runs").exists()

@pytest.mark.parametrize("args, message", [
    (["--store", "S"], "parameters: unknown parameter 'sigmaa'"),
    (["--executor", "slurm"], "executor='slurm' is invalid; allowed values: local, dask"),
    (["--workers", "0"], "workers=0 is invalid; allowed values: an integer >= 1"),
    (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at"),
])
def test_cli_errors_are_one_line_without_traceback(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setattr("gridbook.runs.pools.DASK_CONNECT_TIMEOUT_S", 1.0)
    monkeypatch.setenv("GRIDBOOK_STORE", str(tmp_path / "default-store"))  # never the checkout's own runs/
    bad = write_spec(tmp_path, {"parameters": {"sigmaa": {"value": 1}}}, "bad.yaml")
    good = write_spec(tmp_path, SMALL)
    spec = bad if "sigmaa" in message else good
    args = [a.replace("S", str(tmp_path / "runs")) if a == "S" else a for a in args]
    assert main(["sweep", str(spec), *args, "--run-group", FAKE]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("sweep: ")]  # the plan may come first
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in err
    assert errors[0].startswith("gridbook sweep: error: ")


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


def test_a_store_that_is_a_file_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the spec's path
    (tmp_path / "file").write_text("x")
    for command in (["sweep", "sweeps/chapters/debate.smoke.yaml"], ["book", "--chapter", "intro"]):
        assert main([*command, "--store", str(tmp_path / "file")]) == 2
        err = capsys.readouterr().err
        assert "is a file; allowed values: a run store directory" in err and err.count("\n") == 1
