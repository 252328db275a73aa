"""What a sweep reports while it trains: the plan, the running jobs' steps from their heartbeats, time left."""

from __future__ import annotations

import time

from sweep_helpers import FAKE, SMALL

from gridbook.profiles import profile_config
from gridbook.runs.claims import ClaimBook
from gridbook.runs.progress import SweepProgress, clock, job_label
from gridbook.runs.sweep import run_sweep


def test_clock_and_job_labels():
    assert (clock(0), clock(59.6), clock(61), clock(3725)) == ("0:00", "1:00", "1:01", "1:02:05")
    assert job_label([profile_config("smoke", seed=s) for s in range(4)]) == "4 dos rnn networks"
    mixed = [profile_config("smoke", target=t, arch="gru") for t in ("gaussian", "dos")]
    assert job_label(mixed) == "2 (dos, gaussian) gru networks"


def test_lines_name_the_running_jobs_their_step_and_the_time_left(tmp_path):
    claims, lines = ClaimBook(tmp_path), []
    groups = [[profile_config("smoke", seed=s) for s in range(2)], [profile_config("smoke", seed=9)]]
    report = SweepProgress(claims, enabled=None, log=lines.append, interval=0.05)
    report.use_bar = False
    report.start(groups, workers=1)
    claims.acquire([c.run_id() for c in groups[0]])
    report.started(groups[0])
    claims.heartbeat([c.run_id() for c in groups[0]], 10, 20, job_label(groups[0]))
    time.sleep(0.3)
    report.finished(groups[0])
    report.close()
    assert any("0/3 networks trained; training 2 dos rnn networks step 10/20;" in line for line in lines)
    assert lines[-1].startswith("sweep: 2/3 networks trained; ") and "elapsed, about" in lines[-1]
    silent = []
    quiet = SweepProgress(claims, enabled=False, log=silent.append, interval=0.01)
    quiet.start(groups)
    quiet.report(force=True)
    quiet.close()
    assert silent == []


def test_the_time_left_is_at_least_what_the_slowest_running_job_needs(tmp_path):
    claims, lines = ClaimBook(tmp_path), []
    group = [profile_config("smoke", seed=3)]
    report = SweepProgress(claims, enabled=True, log=lines.append, interval=60)
    report.use_bar = False
    report.start([group], workers=2)
    report.started(group)
    report.first_seen[id(group)] = (0.0, time.perf_counter() - 100.0)  # at step 0 100 s ago; the sweep just now
    claims.acquire([group[0].run_id()])
    claims.heartbeat([group[0].run_id()], 1, 4, job_label(group))
    report.report(force=True)
    report.close()
    assert lines[-1].endswith("about 5:00 left"), lines[-1]  # 3 more quarters at 100 s each, not the sweep's pace


def test_a_job_that_waited_in_the_queue_is_paced_from_its_first_step_not_its_submission(tmp_path):
    claims, lines = ClaimBook(tmp_path), []
    group = [profile_config("smoke", seed=4)]
    report = SweepProgress(claims, enabled=True, log=lines.append, interval=60)
    report.use_bar = False
    report.start([group], workers=2)
    report.started(group)
    report.running[id(group)] = (group, time.perf_counter() - 3000.0)  # submitted 50 min ago, queued since
    claims.acquire([group[0].run_id()])
    claims.heartbeat([group[0].run_id()], 1, 4000, job_label(group))  # its worker has just begun
    report.report(force=True)
    report.close()
    left = lines[-1].split("about ")[1]
    assert left.count(":") == 1, lines[-1]  # minutes, not the 833 h that 3000 s for its first step implies


def test_a_sweep_states_its_plan_first(tmp_path):
    lines = []
    summary = run_sweep(SMALL, store=tmp_path / "runs", run_group=FAKE, workers=1, group_size=2, progress=None,
                        log=lines.append)
    assert summary.done == 6
    assert lines[0] == f"sweep: 6 runs, 0 of them already in {tmp_path / 'runs'}"
    assert lines[1].startswith("sweep: training 6 networks in 3 batched jobs on 1 worker, ")
    assert lines[1].endswith("at the CPU speed in benchmarks/HISTORY.md")
    again = []
    run_sweep(SMALL, store=tmp_path / "runs", run_group=FAKE, workers=1, progress=None, log=again.append)
    assert again == [f"sweep: 6 runs, 6 of them already in {tmp_path / 'runs'}"]


def test_on_a_terminal_the_progress_is_a_bar(tmp_path, capsys):
    claims = ClaimBook(tmp_path)
    groups = [[profile_config("smoke", seed=s) for s in range(2)]]
    report = SweepProgress(claims, enabled=True, interval=0.05)
    report.start(groups)
    claims.acquire([c.run_id() for c in groups[0]])
    report.started(groups[0])
    claims.heartbeat([c.run_id() for c in groups[0]], 5, 20, job_label(groups[0]))
    time.sleep(0.3)
    assert report.bar is not None and report.bar.n == round(report.total * 5 / 20)
    report.finished(groups[0])
    report.close()
    err = capsys.readouterr().err
    assert "training:" in err and "2 dos rnn networks step 5/20" in err


def test_off_a_terminal_finished_jobs_print_no_line_each_and_the_time_left_is_smoothed(tmp_path):
    claims, lines = ClaimBook(tmp_path), []
    groups = [[profile_config("smoke", seed=s)] for s in range(6)]
    report = SweepProgress(claims, enabled=True, log=lines.append, interval=60)  # no interval line in this test
    report.use_bar = False
    report.start(groups, workers=1)
    for group in groups[:5]:
        report.started(group)
        report.finished(group)
    assert lines == []  # five networks finished: no line each
    first = report.smooth(100.0)
    jumped = report.smooth(10.0)  # the raw estimate falls tenfold at once
    assert first == 100.0 and 60 < jumped < 100  # the printed one moves a third of the way
    report.close()
    assert len(lines) == 1 and lines[0].startswith("sweep: 5/6 networks trained; ")  # the last counts
