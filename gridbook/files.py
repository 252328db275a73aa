"""Durable files and provenance for the run store and the training checkpoints: atomic writes (temporary file,
fsync, rename, fsync of the directory), checksums, timestamps and strict JSON, and the versions and git commit
recorded with every run."""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import importlib.metadata
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "fsync_dir", "git_commit", "gridbook_version",
           "package_versions", "sha256_hex", "strict_json", "utc_now"]


# ---- atomic files -------------------------------------------------------------------------------------------------
def fsync_dir(path: str | Path) -> None:
    """Make a rename or unlink inside ``path`` durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=1)
def current_umask() -> int:
    """The process's umask (read by setting it and setting it back, once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write ``path`` through ``write(handle)`` so that readers see either the old file or the whole new one, never a
    part: a temporary file in the same directory, flushed and fsynced, renamed over ``path``, then the directory
    fsynced. The temporary file is removed if ``write`` raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes owner-only files; a shared store follows the umask
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def strict_json(metrics: Mapping[str, Any]) -> str:
    """Strict JSON (NaN and inf written as null), numpy scalars and arrays as plain numbers and lists."""

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, np.ndarray)):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        return value

    return json.dumps(clean(metrics), indent=1, default=str)


# ---- provenance ---------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the gridbook source tree: ``$GRIDBOOK_COMMIT`` when set (a copy of the tree without its git
    directory, such as a lent GPU's), else ``git rev-parse HEAD``; None when neither says."""
    if os.environ.get("GRIDBOOK_COMMIT"):
        return os.environ["GRIDBOOK_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    import torch

    return {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__,
            "gridbook": gridbook_version()}


def gridbook_version() -> str:
    """The installed gridbook's version (from the package metadata), else the checkout's ``pyproject.toml`` (a tree
    run with ``PYTHONPATH=.``), else "unknown"."""
    try:
        return importlib.metadata.version("gridbook")
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.M) if pyproject.is_file() else None
        return found.group(1) if found else "unknown"
