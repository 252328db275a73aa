"""The Jupyter kernels that execute the chapters: the kernel's environment, its installation, and a kernel manager
that keeps the kernel's own log (start-up notices, shutdown messages) out of the build's output, in a log file.

Cell errors never go through that log: they come back as messages, and :func:`gridbook.book.build.execute_chapter`
reports them with the chapter's name. The kernel talks to papermill over local IPC sockets, not TCP.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from gridbook.errors import UserError

__all__ = ["DEFAULT_KERNEL", "chapter_kernel_manager", "ensure_kernel", "kernel_environment"]

DEFAULT_KERNEL = "python3"


@contextmanager
def kernel_environment():
    """Kernels inherit os.environ: without MPLBACKEND (``Agg`` would make inline figures vanish)."""
    saved = os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


def ensure_kernel(name: str = DEFAULT_KERNEL) -> str:
    """Make sure the Jupyter kernel ``name`` exists; installs ``python3`` for this interpreter when missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        if name != DEFAULT_KERNEL:
            available = ", ".join(sorted(KernelSpecManager().find_kernel_specs()))
            raise UserError(f"kernel={name!r} is not installed; available: {available or 'none'}") from None
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", name],
                       check=True, capture_output=True)
    return name


def chapter_kernel_manager(log_path: Path) -> type:
    """A kernel manager class (for papermill's ``kernel_manager_class``) whose kernels use IPC transport and write
    their own stdout and stderr to ``log_path`` (appended), not to the terminal of the build."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ChapterKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self) -> str:
            return "ipc" if sys.platform != "win32" else "tcp"

        async def start_kernel(self, **kwargs):  # noqa: D102
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "ab") as log:  # the kernel process keeps its own copy of the descriptor
                kwargs.setdefault("stdout", log)
                kwargs.setdefault("stderr", log)
                return await super().start_kernel(**kwargs)

    return ChapterKernelManager
