"""Networks per batched job on a CPU: per-network step time at K networks a job, with every core training.

A sweep on a CPU runs one job per core. This benchmark starts ``--concurrent`` worker processes at once (default:
every core), each training K quick networks together (``benchmarks/step_speed.py``'s worker: quick DoS, Ng 256,
Np 256, batch 200, sequence 20, one thread, clocked from the end of the first step), for each K of ``--networks``,
alternately, ``--repeats`` times. It prints the median milliseconds per network-step (a job's step time / K) and
each K's ratio to the first K. ``gridbook.runs.planning.CPU_GROUP_SIZE`` is chosen from it.

    python benchmarks/group_size.py                        # K 1 2 8, bfloat16, 3 repeats (~5 min on 2 cores)
    python benchmarks/group_size.py --networks 1 4 --repeats 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEP_SPEED = Path(__file__).resolve().parent / "step_speed.py"


def time_concurrently(networks: int, args: argparse.Namespace) -> list[float]:
    """Seconds per network-step of each of ``args.concurrent`` jobs of ``networks`` networks run at the same time."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, str(STEP_SPEED), "--worker", "--networks", str(networks), "--precisions",
               args.precision, "--steps", str(args.steps), "--threads", "1", "--clock", "cpu"]
    jobs = [subprocess.Popen(command, env=env, cwd=tempfile.gettempdir(), stdout=subprocess.PIPE, text=True)
            for _ in range(args.concurrent)]
    outputs = [job.communicate()[0] for job in jobs]
    if any(job.returncode for job in jobs):
        raise RuntimeError(f"a worker failed at K = {networks}")
    return [json.loads(out.strip().splitlines()[-1])["step_seconds"] / networks for out in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, nargs="+", default=[1, 2, 8], help="K values (default 1 2 8)")
    parser.add_argument("--precision", default="bfloat16", choices=("bfloat16", "float32"))
    parser.add_argument("--concurrent", type=int, default=os.cpu_count() or 1,
                        help="jobs training at once (default: every core)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over the K values (default 3)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per job (default 40)")
    args = parser.parse_args()
    times: dict[int, list[float]] = {k: [] for k in args.networks}
    for repeat in range(args.repeats):
        for k in args.networks:
            times[k] += time_concurrently(k, args)
            print(f"repeat {repeat + 1}: K={k}: {statistics.median(times[k]) * 1e3:.2f} ms per network-step so far",
                  file=sys.stderr, flush=True)
    first = statistics.median(times[args.networks[0]])
    print(f"# networks per job, {datetime.date.today()}, {os.cpu_count()} cores, {args.concurrent} jobs at once, "
          f"one thread each, CPU clock, quick DoS, {args.precision}, medians of {args.repeats} x {args.concurrent}")
    print(f"| K | ms per network-step | against K = {args.networks[0]} |")
    print("|---|---|---|")
    for k in args.networks:
        median = statistics.median(times[k])
        print(f"| {k} | {median * 1e3:.2f} | {median / first:.2f}x |")


if __name__ == "__main__":
    main()
