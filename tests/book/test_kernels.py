"""The chapters' kernels: installed when missing, over IPC, with their own log kept out of the build's output."""

from __future__ import annotations

import sys

import pytest

from gridbook.book import kernels
from gridbook.errors import UserError


def test_the_python3_kernel_exists_and_other_missing_kernels_are_an_error():
    assert kernels.ensure_kernel("python3") == "python3"
    with pytest.raises(UserError, match="kernel='no-such-kernel' is not installed"):
        kernels.ensure_kernel("no-such-kernel")


def test_chapter_kernels_use_ipc_and_log_to_their_file(tmp_path):
    manager = kernels.chapter_kernel_manager(tmp_path / "logs" / "demo.kernel.log")(kernel_name="python3")
    assert manager.transport == ("ipc" if sys.platform != "win32" else "tcp")


def test_the_kernel_environment_drops_the_agg_backend(monkeypatch):
    import os

    monkeypatch.setenv("MPLBACKEND", "Agg")
    with kernels.kernel_environment():
        assert "MPLBACKEND" not in os.environ
    assert os.environ["MPLBACKEND"] == "Agg"
