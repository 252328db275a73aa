"""Devices: which one to train on (:func:`pick_device`), and CPU tuning for training: malloc that keeps freed memory
for reuse, and denormal floats flushed to zero.

Both tunings are deterministic, so a seed still gives the same network on every run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

import torch

_MALLOC_TUNED = False


def keep_freed_memory() -> bool:
    """On Linux with glibc, make malloc serve large blocks from its heap and keep freed memory for reuse
    (``mallopt(M_MMAP_MAX, 0)``, ``mallopt(M_TRIM_THRESHOLD, 1 GiB)``); returns whether it did.

    PyTorch allocates and frees its large CPU buffers (activations, gradients) every training step; by default glibc
    maps each one afresh, and the kernel then faults in and zeroes every page (measured here: ~15% of a step's CPU
    time at K = 8, Ng = 256). Process-wide and permanent (memory is not returned to the system); training on the
    CPU calls it once. Set the environment variable ``GRIDBOOK_MALLOC_TUNING=0`` to skip it.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED or os.environ.get("GRIDBOOK_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return _MALLOC_TUNED
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4  # glibc's malloc.h
        _MALLOC_TUNED = bool(libc.mallopt(m_mmap_max, 0)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):  # not glibc
        _MALLOC_TUNED = False
    return _MALLOC_TUNED


@contextlib.contextmanager
def flush_denormals():
    """Flush denormal floats to zero while inside (on CPUs that support it; values below 1e-38 in float32, 1e-308 in
    float64 become 0): arithmetic on denormals is several times slower (exponentials of very negative numbers in
    softmax targets and losses, near-zero correlations in grid scoring)."""
    flushing = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushing:
            torch.set_flush_denormal(False)


@contextlib.contextmanager
def cpu_speedups(device: torch.device):
    """On the CPU: :func:`keep_freed_memory`, and :func:`flush_denormals` while inside."""
    if device.type != "cpu":
        yield
        return
    keep_freed_memory()
    with flush_denormals():
        yield


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else cuda if available, else mps, else cpu."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
