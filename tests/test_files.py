"""Durable files and provenance: atomic writes, checksums, strict JSON, versions."""

import hashlib
import json
import math
import re

import numpy as np
import pytest

from gridbook.files import atomic_write, atomic_write_text, gridbook_version, sha256_hex, strict_json, utc_now


def test_an_atomic_write_that_fails_keeps_the_old_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "file.txt"
    atomic_write_text(path, "old")

    def broken(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["file.txt"]
    atomic_write(path, lambda handle: handle.write(b"new"))
    assert path.read_text() == "new"


def test_checksums_json_and_provenance():
    assert sha256_hex(b"grid") == hashlib.sha256(b"grid").hexdigest()
    text = strict_json({"a": float("nan"), "b": np.float32(1.5), "c": np.arange(2), "d": (math.inf, 2)})
    assert json.loads(text) == {"a": None, "b": 1.5, "c": [0, 1], "d": [None, 2]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", utc_now())
    assert gridbook_version() == "0.1.0"


def test_atomic_writes_follow_the_umask(tmp_path):
    import os

    from gridbook.files import atomic_write_bytes

    old = os.umask(0o027)
    try:
        from gridbook.files import current_umask

        current_umask.cache_clear()
        atomic_write_bytes(tmp_path / "shared.bin", b"x")
        assert (tmp_path / "shared.bin").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
        current_umask.cache_clear()
