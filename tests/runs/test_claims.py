"""Claims: one sweep trains a run at a time; stale claims are taken over; two sweeps on one store share the work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sweep_helpers import REPO, write_spec

from gridbook.runs.claims import ClaimBook
from gridbook.runs.store import RunStore


def test_a_run_is_claimed_by_one_book_at_a_time(tmp_path):
    first, second = ClaimBook(tmp_path), ClaimBook(tmp_path)
    assert first.acquire(["a", "b"]) == ["a", "b"]
    assert second.acquire(["a", "b", "c"]) == ["c"]
    assert first.acquire(["a"]) == ["a"]  # a book re-acquiring its own claim keeps it
    claim = first.read("a")
    assert claim.owner == first.owner and claim.pid == os.getpid() and claim.alive()
    second.release(["a"])  # not its claim: left alone
    assert first.holds("a")
    first.release(["a"])
    assert first.read("a") is None and second.acquire(["a"]) == ["a"]


def test_heartbeats_record_progress_and_keep_a_claim_alive(tmp_path):
    book = ClaimBook(tmp_path, stale_seconds=0.5)
    book.acquire(["a"])
    time.sleep(0.6)
    assert not book.read("a").alive(0.5)  # no heartbeat for longer than the stale time
    book.heartbeat(["a"], 120, 400, "2 dos rnn networks")
    claim = book.read("a")
    assert claim.alive(0.5) and (claim.step, claim.n_steps, claim.label) == (120, 400, "2 dos rnn networks")
    ClaimBook(tmp_path).heartbeat(["a"], 999, 1000)  # another book's heartbeat does not touch this claim
    assert book.read("a").step == 120


def test_stale_claims_are_taken_over_once(tmp_path):
    dead = ClaimBook(tmp_path)
    dead.acquire(["a", "b"])
    claim = json.loads(dead.path("a").read_text())
    dead.path("a").write_text(json.dumps({**claim, "pid": 2**22 + 12345}))  # a process that is gone
    dead.path("b").write_text(json.dumps({**claim, "run_id": "b", "host": "elsewhere", "heartbeat": 0.0}))
    taker, late = ClaimBook(tmp_path), ClaimBook(tmp_path)
    assert taker.acquire(["a", "b"]) == ["a", "b"]
    assert late.acquire(["a", "b"]) == []  # the new claims are alive
    assert not dead.holds("a") and taker.holds("b")


def sweep_command(spec, store):
    return [sys.executable, "-m", "gridbook", "sweep", str(spec), "--store", str(store), "--workers", "1",
            "--group-size", "1", "--run-group", "sweep_helpers:slow_run_group"]


def sweep_env(tmp_path, sleep):
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "runs"), str(REPO)]),
            "GRIDBOOK_FAKE_COUNTER": str(tmp_path / "trained.txt"), "GRIDBOOK_FAKE_SLEEP": str(sleep),
            "GRIDBOOK_CLAIM_STALE_SECONDS": "600"}


def trained(tmp_path):
    return [line.split() for line in (tmp_path / "trained.txt").read_text().splitlines()]


SPEC = {"profile": "smoke", "parameters": {"sigma": {"values": [0.10, 0.11, 0.12, 0.13, 0.14, 0.15]}},
        "seeds": [0, 1]}


def test_two_sweeps_on_one_store_train_every_run_once(tmp_path):
    spec, store = write_spec(tmp_path, SPEC), tmp_path / "runs"
    env = sweep_env(tmp_path, 0.4)
    sweeps = [subprocess.Popen(sweep_command(spec, store), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True) for _ in range(2)]
    outputs = [s.communicate(timeout=120)[0] for s in sweeps]
    assert [s.returncode for s in sweeps] == [0, 0], outputs
    runs = [run_id for _, run_id in trained(tmp_path)]
    assert len(runs) == 12 and len(set(runs)) == 12  # each of the 12 runs trained once
    assert len({pid for pid, _ in trained(tmp_path)}) == 2  # and the work was shared
    assert len(RunStore(store).done_run_ids()) == 12 and not list((store / ".claims").glob("*.json"))


def test_a_killed_sweep_loses_nothing(tmp_path):
    spec, store = write_spec(tmp_path, SPEC), tmp_path / "runs"
    env = sweep_env(tmp_path, 0.5)
    first = subprocess.Popen(sweep_command(spec, store), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while not (tmp_path / "trained.txt").exists() and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.Popen(sweep_command(spec, store), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    time.sleep(1.0)
    os.killpg(first.pid, signal.SIGKILL)  # mid-run: its claims stay behind, its pid is gone
    first.wait()
    output = second.communicate(timeout=120)[0]
    assert second.returncode == 0, output
    assert len(RunStore(store).done_run_ids()) == 12  # every run finished, by one sweep or the other
    by_pid = {}
    for pid, run_id in trained(tmp_path):
        by_pid.setdefault(run_id, []).append(pid)
    assert len(by_pid) == 12
    # no run trained by both, but the one the first sweep may have been finishing when it was killed
    assert sum(len(set(pids)) > 1 for pids in by_pid.values()) <= 1


def test_queued_claims_are_kept_alive(tmp_path):
    book = ClaimBook(tmp_path, stale_seconds=0.3)
    book.acquire(["a", "b"])
    book.heartbeat(["a"], 7, 9, "job")
    with book.kept_alive(lambda: ["a"], interval=0.05):
        time.sleep(0.5)
        assert book.read("a").alive(0.3) and not book.read("b").alive(0.3)
    assert book.read("a").step == 7  # renewing keeps the progress


def test_an_unreadable_claim_is_not_taken_over_while_fresh(tmp_path):
    book = ClaimBook(tmp_path, stale_seconds=0.3)
    book.folder.mkdir(parents=True)
    book.path("a").write_text("")  # a claim caught half-written, or damaged
    assert book.acquire(["a"]) == []
    old = time.time() - 10
    os.utime(book.path("a"), (old, old))
    assert book.acquire(["a"]) == ["a"] and book.holds("a")  # stale and unreadable: taken over
    assert not [p for p in book.folder.iterdir() if p.suffix == ".tmp"]  # no temporary file left behind
