"""The gridbook train command."""

from __future__ import annotations

from gridbook.cli.main import main as cli_main
from gridbook.nets.checkpoints import load_checkpoint


def test_cli_train_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["train", "--profile", "smoke", "--target", "dos", "--sigma", "0.12", "--steps", "4", "--seed", "0",
            "--device", "cpu", "--set", "n_hidden=16", "--set", "batch_size=8", "--set", "seq_len=5", "--out",
            str(out)]
    assert cli_main(args) == 0
    printed = capsys.readouterr().out
    assert "final decoding error:" in printed and " cm " in printed and "step 4/4" in printed
    assert {p.name for p in out.iterdir()} == {"config.yaml", "checkpoint.pt", "metrics.json"}
    saved = load_checkpoint(out / "checkpoint.pt")
    assert saved.configs[0].model.n_hidden == 16 and saved.configs[0].target.sigma == 0.12
    assert cli_main(args[:-2] + ["--set", "nonsense=1", "--out", str(out)]) == 2
    assert "unknown config key 'nonsense'" in capsys.readouterr().err
    assert cli_main(args[:-2] + ["--set", "lr", "--out", str(out)]) == 2
    assert "--set 'lr' is invalid" in capsys.readouterr().err
