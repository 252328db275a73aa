"""Claims on runs: which sweep is training a run now, so that two sweeps on one store never train it twice.

A sweep claims each run it is about to train with an atomic claim file, ``<store>/.claims/<run_id>.json``, created
with ``O_CREAT | O_EXCL`` (one creator wins, on a local disk and on NFS alike). The file holds the claimant's host,
pid, owner token and start time, and a heartbeat: the job being trained rewrites it (atomically) with its step every
few seconds, which is also where a sweep reads the progress of its running jobs, and the sweep renews the claims of
the jobs it has queued every minute. A claim is *stale*, and may be taken
over, when its process is gone (same host, pid not alive) or its heartbeat is older than ``stale_seconds`` (default
:data:`STALE_SECONDS`, or ``$GRIDBOOK_CLAIM_STALE_SECONDS``). A takeover happens under a short lock file, re-reading
the claim first, so that two sweeps cannot both take over the same stale claim. A finished run (its DONE marker)
needs no claim; claims are removed when their job ends, whether it succeeded or failed.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gridbook.files import atomic_write_text

__all__ = ["CLAIMS", "STALE_SECONDS", "Claim", "ClaimBook"]

CLAIMS = ".claims"  # folder of claim files at the store's root
STALE_SECONDS = float(os.environ.get("GRIDBOOK_CLAIM_STALE_SECONDS", "600"))  # a heartbeat older than this is stale
LOCK_STALE_SECONDS = 60.0  # a takeover lock older than this was left by a dead process
KEEP_ALIVE_SECONDS = 60.0  # a sweep renews the claims of its queued runs this often (well under STALE_SECONDS)


@dataclass(frozen=True)
class Claim:
    """Who trains a run: ``owner`` (one token per sweep), ``host``, ``pid``, ``started`` and ``heartbeat`` (Unix
    times), and the progress of its job: ``step`` of ``n_steps`` for ``label`` (e.g. "4 dos rnn networks")."""

    run_id: str
    owner: str
    host: str
    pid: int
    started: float
    heartbeat: float
    step: int = 0
    n_steps: int = 0
    label: str = ""

    def alive(self, stale_seconds: float = STALE_SECONDS, now: float | None = None) -> bool:
        """Whether the claimant is still at work: its process exists (when on this host) and its heartbeat is
        recent."""
        now = time.time() if now is None else now
        if self.host == socket.gethostname() and not _pid_alive(self.pid):
            return False
        return now - self.heartbeat <= stale_seconds


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


class ClaimBook:
    """The claims of one sweep (``owner``) on one store's runs."""

    def __init__(self, store_root: str | Path, owner: str | None = None, stale_seconds: float | None = None) -> None:
        self.folder = Path(store_root) / CLAIMS
        self.owner = owner or uuid.uuid4().hex
        self.stale_seconds = STALE_SECONDS if stale_seconds is None else float(stale_seconds)

    def __reduce__(self):  # picklable, for worker processes
        return (ClaimBook, (str(self.folder.parent), self.owner, self.stale_seconds))

    def path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    def read(self, run_id: str) -> Claim | None:
        """The claim on a run, or None (no claim, or a file being replaced: read again later)."""
        try:
            return Claim(**json.loads(self.path(run_id).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _new(self, run_id: str, **progress: Any) -> Claim:
        now = time.time()
        return Claim(run_id=run_id, owner=self.owner, host=socket.gethostname(), pid=os.getpid(), started=now,
                     heartbeat=now, **progress)

    def acquire(self, run_ids: Iterable[str]) -> list[str]:
        """Claim each run that nobody holds (or whose claim is stale); returns the run ids now held by this book."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return [run_id for run_id in run_ids if self._acquire_one(run_id)]

    def _acquire_one(self, run_id: str) -> bool:
        """Create the claim file whole: written to a temporary file, then hard-linked to its name, which fails if
        the name exists (so no reader ever sees a half-written claim)."""
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{run_id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps(asdict(self._new(run_id))))
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, self.path(run_id))
            return True
        except FileExistsError:
            pass
        finally:
            Path(tmp).unlink(missing_ok=True)
        current = self.read(run_id)
        if current is not None and (current.owner == self.owner or current.alive(self.stale_seconds)):
            return current.owner == self.owner
        if current is None and self._recent(run_id):  # being replaced right now, or unreadable but fresh
            return False
        return self._take_over(run_id, current)

    def _recent(self, run_id: str) -> bool:
        try:
            return time.time() - self.path(run_id).stat().st_mtime <= self.stale_seconds
        except OSError:
            return False

    def _take_over(self, run_id: str, seen: Claim | None) -> bool:
        """Replace a stale claim, under a lock, if it is still the one seen."""
        lock = self.path(run_id).with_suffix(".lock")
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime > LOCK_STALE_SECONDS:
                    lock.unlink(missing_ok=True)  # left by a process that died mid-takeover; try again next time
            except OSError:
                pass
            return False
        try:
            os.close(fd)
            if self.read(run_id) != seen:  # someone else changed it meanwhile: not stale any more
                return False
            atomic_write_text(self.path(run_id), json.dumps(asdict(self._new(run_id))))
            return True
        finally:
            lock.unlink(missing_ok=True)

    def heartbeat(self, run_ids: Iterable[str], step: int, n_steps: int, label: str = "") -> None:
        """Record a job's progress on the claims this book holds (a claim taken over by another sweep is left)."""
        for run_id in run_ids:
            current = self.read(run_id)
            if current is None or current.owner != self.owner:
                continue
            update = {**asdict(current), "heartbeat": time.time(), "step": int(step), "n_steps": int(n_steps),
                      "label": label}
            atomic_write_text(self.path(run_id), json.dumps(update))

    def touch(self, run_ids: Iterable[str]) -> None:
        """Renew the heartbeat of this book's claims, keeping their progress (for runs queued but not started)."""
        for run_id in run_ids:
            current = self.read(run_id)
            if current is not None and current.owner == self.owner:
                atomic_write_text(self.path(run_id), json.dumps({**asdict(current), "heartbeat": time.time()}))

    @contextmanager
    def kept_alive(self, run_ids: Callable[[], Iterable[str]], interval: float | None = None):
        """While inside, a daemon thread renews the claims ``run_ids()`` names (the runs a sweep has queued or is
        training) every ``interval`` seconds (default: a minute, or a third of the stale time if that is shorter), so
        that waiting in a queue never makes a claim look stale. A failed renewal is retried at the next turn."""
        stop = threading.Event()
        interval = min(KEEP_ALIVE_SECONDS, self.stale_seconds / 3) if interval is None else interval

        def loop() -> None:
            while not stop.wait(interval):
                try:
                    self.touch(list(run_ids()))
                except OSError:  # a busy or briefly unreachable file system: try again next time
                    continue

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=5)

    def holds(self, run_id: str) -> bool:
        current = self.read(run_id)
        return current is not None and current.owner == self.owner

    def release(self, run_ids: Iterable[str]) -> None:
        """Remove this book's claims on the runs (others' claims are left)."""
        for run_id in run_ids:
            if self.holds(run_id):
                self.path(run_id).unlink(missing_ok=True)
