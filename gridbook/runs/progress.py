"""What a sweep tells its user while it trains: the plan, then a line at least every 30 s (a tqdm bar on a
terminal) naming the jobs being trained, their step, the time elapsed and the time left.

The running jobs' steps come from their claims' heartbeats (:mod:`gridbook.runs.claims`), so the same report works
for jobs in this process, in worker processes and on Dask workers that share the store. The time left is the cost
still to train (:func:`gridbook.runs.planning.run_cost`, the running jobs counted by their step) at the speed seen so
far, and at least the time the slowest running job still needs at its own pace (at the end of a sweep, one job may
run alone); before the first heartbeat it is the planning estimate.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from gridbook.config import RunConfig
from gridbook.runs.claims import ClaimBook
from gridbook.runs.planning import estimated_seconds, run_cost

__all__ = ["LINE_SECONDS", "SweepProgress", "clock", "job_label"]

LINE_SECONDS = 30.0  # off a terminal, a progress line at least this often


SMOOTHING = 1 / 3  # how far each new estimate of the time left moves the printed one


def clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) of a duration."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def job_label(group: Sequence[RunConfig]) -> str:
    """A short name of a batched job, e.g. ``4 dos rnn networks`` or ``2 networks (dos, gaussian) gru``."""
    targets = sorted({c.target.target for c in group})
    what = targets[0] if len(targets) == 1 else f"({', '.join(targets)})"
    return f"{len(group)} {what} {group[0].model.arch} network{'s' * (len(group) != 1)}"


class SweepProgress:
    """Progress of one sweep's jobs. ``start(groups)``, then ``started(group)`` / ``finished(group)`` as jobs run;
    a daemon thread prints (``log``) or draws the bar while it trains. ``enabled=None``: a bar on a terminal, lines
    otherwise; ``False``: silent."""

    def __init__(self, claims: ClaimBook, enabled: bool | None = None, log: Callable[[str], Any] | None = None,
                 interval: float | None = None) -> None:
        self.claims = claims
        self.enabled = enabled is not False
        self.use_bar = bool(enabled) if enabled is not None else sys.stderr.isatty()
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.interval = (2.0 if self.use_bar else LINE_SECONDS) if interval is None else interval
        self.lock = threading.Lock()
        self.running: dict[int, tuple[list[RunConfig], float]] = {}  # id(group) -> (group, start time)
        self.first_seen: dict[int, tuple[float, float]] = {}  # id(group) -> (fraction, time) at its first step seen
        self.total = self.done = 0.0
        self.networks = self.networks_done = 0
        self.workers = 1
        self.begun = time.perf_counter()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.bar = None

    # -- events
    def start(self, groups: Sequence[Sequence[RunConfig]], workers: int = 1) -> None:
        self.workers = max(1, workers)
        self.total = sum(run_cost(c) for g in groups for c in g)
        self.networks = sum(len(g) for g in groups)
        self.begun = time.perf_counter()
        if not self.enabled or not groups:
            return
        if self.use_bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=round(self.total), unit="step", desc="training", file=sys.stderr,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}")
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def add(self, groups: Sequence[Sequence[RunConfig]]) -> None:
        """More jobs (runs taken over from another sweep)."""
        with self.lock:
            self.total += sum(run_cost(c) for g in groups for c in g)
            self.networks += sum(len(g) for g in groups)
            if self.bar is not None:
                self.bar.total = round(self.total)

    def drop(self, configs: Sequence[RunConfig]) -> None:
        """Runs left to another sweep."""
        with self.lock:
            self.total -= sum(run_cost(c) for c in configs)
            self.networks -= len(configs)
            if self.bar is not None:
                self.bar.total = round(self.total)

    def started(self, group: Sequence[RunConfig]) -> None:
        with self.lock:
            self.running[id(group)] = (list(group), time.perf_counter())

    def finished(self, group: Sequence[RunConfig], written: int | None = None) -> None:
        """A job ended, having written ``written`` of its runs (default all); its cost counts as work done either
        way (runs of a failed job that are queued again come back through :meth:`add`)."""
        with self.lock:
            self.running.pop(id(group), None)
            self.first_seen.pop(id(group), None)
            self.done += sum(run_cost(c) for c in group)
            self.networks_done += len(group) if written is None else written
        self.report(force=self.use_bar)  # off a terminal: one line an interval, with counts, not one a job

    def close(self) -> None:
        if self.enabled and self.bar is None and self.thread is not None:
            self.report(force=True)  # the last counts
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.bar is not None:
            self.bar.close()

    # -- reporting
    def _loop(self) -> None:
        while not self.stop_event.wait(self.interval):
            self.report(force=True)

    def snapshot(self) -> tuple[float, list[str], float]:
        """(cost trained so far, a description of each running job: label and step, the longest time any running
        job still needs at its own pace so far).

        A job's pace is measured from the first time a step of it was seen, not from its submission: a job may
        wait in a pool's queue for a worker long after it was submitted, and its claim says step 0 until then."""
        now = time.perf_counter()
        with self.lock:
            done, jobs, longest = self.done, [], 0.0
            for key, (group, _) in self.running.items():
                claim = self.claims.read(group[0].run_id())
                if claim is not None and claim.n_steps:
                    fraction = claim.step / claim.n_steps
                    done += fraction * sum(run_cost(c) for c in group)
                    jobs.append(f"{job_label(group)} step {claim.step}/{claim.n_steps}")
                    if fraction > 0:
                        fraction0, seen = self.first_seen.setdefault(key, (fraction, now))
                        if fraction > fraction0:
                            longest = max(longest, (now - seen) * (1 - fraction) / (fraction - fraction0))
                else:
                    jobs.append(f"{job_label(group)} waiting for a worker")
        return done, jobs, longest

    def smooth(self, left: float) -> float:
        """The time left, smoothed: the last estimate counted down by the time since, moved a third of the way to
        the new one (a job finishing or starting makes the raw estimate jump; the printed one should not)."""
        now = time.perf_counter()
        previous = getattr(self, "_left", None)
        if previous is not None and math.isfinite(left):
            last, then = previous
            left = max(0.0, last - (now - then)) + SMOOTHING * (left - max(0.0, last - (now - then)))
        self._left = (left, now)
        return left

    def report(self, force: bool = False) -> None:
        if not self.enabled or not force:
            return
        done, jobs, longest = self.snapshot()
        elapsed = time.perf_counter() - self.begun
        left = (self.total - done) * elapsed / done if done > 0 else estimated_seconds(self.total, self.workers)
        left = max(left, longest)  # the last jobs run on fewer workers than the sweep's average
        left = self.smooth(left)
        if self.bar is not None:
            self.bar.n = round(done)
            self.bar.set_postfix_str("; ".join(jobs) or "idle", refresh=True)
            return
        self.log(f"sweep: {self.networks_done}/{self.networks} networks trained; "
                 + (f"training {'; '.join(jobs)}; " if jobs else "")
                 + f"{clock(elapsed)} elapsed, about {clock(left)} left")
