"""The evidence run: one budgeted command that turns a lent GPU's minutes into a bundle of evidence.

``gridbook evidence run --device cuda --budget SECONDS --out DIR`` (:func:`run_evidence`; each spec at its own
profile, or ``--profile smoke`` for a dry run):

* **Stage 1** (at most :data:`STAGE1_SECONDS`): the environment (device, torch, CUDA); a smoke sweep on the device
  (the whole train-evaluate-store path); the bf16 matmul peak; a calibration of network-steps per second at the
  profile's shape for several K, of a gated cell, of the staged spec's shape, and of the evaluation's seconds per
  network.
* **Stage 2**: the specs of ``sweeps/evidence/`` (E1, E2, ... in name order) are planned from the calibration, and
  the plan is printed: how many runs of each spec the rest of the budget holds, at what group size and on how many
  workers. A spec with ``staged:`` steps (E5, the paper's shape) trains in a process of its own beside the others,
  once, evaluated and stored at each of its step counts that the budget allows. The other specs train as one
  sweep whose jobs keep the specs' priority order, under a deadline after which no job starts.
* **Packing**: whatever finished, crash or not, is packed into ``DIR/bundle``
  (:func:`gridbook.runs.bundle.pack_store`) with its provenance: the command, the date, each stage's wall time,
  the networks and steps of each spec.

Everything but the device is the same on a CPU: ``--device cpu --profile smoke`` runs every stage in minutes, and CI
runs it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from gridbook.errors import UserError
from gridbook.files import utc_now
from gridbook.runs.bundle import pack_store
from gridbook.runs.calibration import CostModel, calibrate, environment, smoke_sweep
from gridbook.runs.jobs import train_and_evaluate
from gridbook.runs.spec import expand_spec
from gridbook.runs.store import RunStore
from gridbook.runs.sweep import run_sweep

__all__ = ["MIN_BUDGET", "PACK_SECONDS", "STAGE1_SECONDS", "evidence_specs", "run_evidence"]

STAGE1_SECONDS = 90.0  # environment, smoke sweep, calibration
PACK_SECONDS = 45.0  # kept back at the end for packing the bundle
MIN_BUDGET = STAGE1_SECONDS + PACK_SECONDS + 30.0  # below this nothing of stage 2 would fit
JOB_MARGIN = 10.0  # jobs must look like ending this long before packing starts (estimates are estimates)
GPU_WORKERS = 2  # processes sharing a GPU: one launches kernels while another's run
EVIDENCE_DIR = "sweeps/evidence"


def _now() -> float:
    return time.monotonic()


# ---- specs and the plan ----------------------------------------------------------------------------------------------
def evidence_specs(directory: str | Path) -> list[tuple[str, Path, dict[str, Any]]]:
    """(label, path, spec) of every ``*.yaml`` in ``directory``, in name order; the label is the name up to its first
    dot (``E1.chapters.yaml`` -> ``E1``)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"--specs {directory} is not a directory of evidence specs")
    specs = []
    for path in sorted(directory.glob("*.yaml")):
        specs.append((path.name.split(".")[0], path, yaml.safe_load(path.read_text()) or {}))
    if not specs:
        raise UserError(f"--specs {directory} holds no *.yaml spec")
    return specs


def plan_specs(specs: list[tuple[str, Path, dict[str, Any]]], profile: str | None, model: CostModel,
               seconds: float, workers: int) -> list[dict[str, Any]]:
    """How many runs of each (non-staged) spec the ``seconds`` look like holding, in priority order, at the cost
    model's job sizes (the jobs of ``workers`` processes share the device, so a run's cost does not shrink with
    them). A printed estimate: the sweep itself starts every job that looks like ending before the deadline."""
    seen: set[str] = set()
    planned, used = [], 0.0
    for label, path, spec in specs:
        if spec.get("staged"):
            continue
        configs = [c for c in expand_spec(spec, profile) if c.run_id() not in seen]
        seen.update(c.run_id() for c in configs)
        costs = [model.job_seconds([c] * model.group_size(c)) / model.group_size(c) for c in configs]
        fit = 0
        for cost in costs:
            if used + cost > seconds:
                break
            used += cost
            fit += 1
        planned.append({"spec": label, "path": str(path), "runs": len(configs), "planned": fit,
                        "estimated_s": sum(costs[:fit])})
    return planned


# ---- stage 2 ---------------------------------------------------------------------------------------------------------
def staged_steps(spec: Mapping[str, Any], profile: str | None) -> list[int]:
    """The step counts a staged spec's runs are stored at: its ``staged`` list, or at the smoke profile 1, 2 and 3
    times the smoke profile's steps (a dry run exercises the path, not the science)."""
    if profile == "smoke":
        from gridbook.profiles import profile_config

        return [n * profile_config("smoke").train.n_steps for n in (1, 2, 3)]
    return sorted(int(s) for s in spec["staged"])


def run_staged(spec: dict[str, Any], profile: str | None, store_root: str, device: str, deadline_wall: float,
               log_path: str) -> None:
    """Train a staged spec's runs once, in one batched job, evaluating and storing them at each of its ``staged``
    step counts that fits before ``deadline_wall`` (a ``time.time()``; the next stage must look like finishing
    by then, at the rate measured so far). Runs in its own process; writes progress lines to ``log_path``."""
    def log(line: str) -> None:
        with open(log_path, "a") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    store = RunStore(store_root)
    base = expand_spec(spec, profile)
    checkpoint = Path(store_root) / ".staged" / f"{base[0].run_id()}.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    done, rate = 0, None  # steps trained, seconds per step so far
    for steps in staged_steps(spec, profile):
        if rate is not None and time.time() + (steps - done) * rate * 1.15 > deadline_wall:
            log(f"staged: stopping before {steps} steps (about {(steps - done) * rate:.0f} s; the deadline is near)")
            break
        start = time.time()
        try:
            records = train_and_evaluate([c.replace(n_steps=steps) for c in base], device=device,
                                         checkpoint=checkpoint)
        except Exception:  # noqa: BLE001 -- a stage that fails leaves the stages before it stored
            log(f"staged: stage {steps} failed\n{traceback.format_exc()}")
            break
        for record in records:
            store.write_run(record)
        rate = (time.time() - start) / max(1, steps - done)
        done = steps
        log(f"staged: {len(records)} runs stored at {steps} steps ({time.time() - start:.0f} s)")


def _stage2(specs, profile: str | None, device: str, store: RunStore, calibration: dict, deadline: float,
            workers: int, log: Callable[[str], Any], report: dict[str, Any]) -> None:
    seconds = max(0.0, deadline - _now())
    staged = [(label, spec) for label, _, spec in specs if spec.get("staged")]
    processes = []
    log_path = store.root / "staged.log"
    for label, spec in staged:
        context = multiprocessing.get_context("spawn")
        process = context.Process(target=run_staged, args=(spec, profile, str(store.root), device,
                                                           time.time() + seconds, str(log_path)), daemon=True)
        process.start()
        processes.append((label, process))
        log(f"evidence: {label} (stored at {staged_steps(spec, profile)} steps) trains beside the others until the "
            "deadline")
    model = CostModel(calibration, workers, seconds)
    plan = plan_specs(specs, profile, model, seconds, workers)
    gpu = device.startswith("cuda")
    size = model.group_size if gpu else 1
    report["plan"], report["workers"] = plan, workers
    for entry in plan:
        log(f"evidence: plan {entry['spec']}: about {entry['planned']} of {entry['runs']} new runs fit "
            f"(about {entry['estimated_s']:.0f} s)")
    sizes = sorted({model.group_size(c) for _, _, spec in specs if not spec.get("staged")
                    for c in expand_spec(spec, profile)[:1]}) if gpu else [1]
    log(f"evidence: jobs of {'/'.join(map(str, sizes))} networks on {workers} worker(s); no job starts that would "
        f"end after {seconds:.0f} s from now")
    specs_in_order = [entry["path"] for entry in plan]
    if specs_in_order:
        summary = run_sweep(specs_in_order, profile=profile, store=store, device=device, workers=workers,
                            group_size=size, progress=None, log=log, deadline=deadline, keep_order=True,
                            job_seconds=model.job_seconds)
        report["sweep"] = {"done": summary.done, "failed": summary.failed, "not_started": summary.not_started,
                           "wall_s": summary.wall_seconds}
    for label, process in processes:
        process.join(timeout=max(1.0, deadline - _now() + 5))
        if process.is_alive():
            process.terminate()
            log(f"evidence: {label} was stopped at the deadline")
    if log_path.exists():
        for line in log_path.read_text().splitlines():
            log(f"evidence: {line}")


def run_evidence(profile: str | None, device: str, budget: float, out: str | Path,
                 specs_dir: str | Path | None = None,
                 workers: int | None = None, command: str = "",
                 log: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Stages 1 and 2 and the packing, within ``budget`` seconds; returns the run's report (``bundle``: the bundle's
    path, ``out/bundle``; ``error``: what failed, if anything; ``running``: whether stage 2 still had jobs in
    flight at the end). Stage 1 failing skips stage 2 (the empty bundle records the error); stage 2 failing or
    overrunning packs what finished."""
    started, wall = _now(), {}
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; allowed values: a directory (created if missing)")
    if budget < MIN_BUDGET:
        raise UserError(f"--budget {budget:g} is too short; allowed values: >= {MIN_BUDGET:g} seconds (stage 1 "
                        f"{STAGE1_SECONDS:g} s, packing {PACK_SECONDS:g} s, and time to train)")
    _check_device(device)
    specs = evidence_specs(specs_dir or _repo() / EVIDENCE_DIR)
    out.mkdir(parents=True, exist_ok=True)
    store = RunStore(out / "store")
    end = started + budget
    report: dict[str, Any] = {"environment": environment(device), "profile": profile, "budget_s": budget,
                              "command": command, "started_at": utc_now()}
    log("evidence: " + json.dumps(report["environment"]))
    workers = workers or (GPU_WORKERS if device.startswith("cuda") else max(1, (os.cpu_count() or 1)))
    stage = _now()
    try:
        smoke_sweep(device, out / "smoke", log)
        staged = [c for _, _, spec in specs if spec.get("staged") for c in expand_spec(spec, profile)]
        report["calibration"] = calibrate(profile, device, staged, stage + STAGE1_SECONDS, log)
        (out / "calibration.json").write_text(json.dumps(report["calibration"], indent=1))
    except Exception as err:  # noqa: BLE001 -- stage 1 failing stops the run early (the loan's rerun rule)
        report["error"] = f"stage 1: {type(err).__name__}: {err}"
        log(f"evidence: stage 1 failed ({report['error']})\n{traceback.format_exc()}")
    wall["stage1"] = _now() - stage
    stage = _now()
    worker = None
    if "error" not in report:
        def stage2() -> None:
            try:
                _stage2(specs, profile, device, store, report["calibration"], end - PACK_SECONDS - JOB_MARGIN,
                        workers, log, report)
            except Exception as err:  # noqa: BLE001 -- whatever finished is packed below
                report["error"] = f"stage 2: {type(err).__name__}: {err}"
                log(f"evidence: stage 2 failed ({report['error']}); packing what finished\n{traceback.format_exc()}")

        # stage 2 runs in a thread the packing does not wait for beyond the budget: a job that overruns its
        # estimate cannot cost the bundle (the store is atomic: a run is in it whole or not at all)
        worker = threading.Thread(target=stage2, daemon=True, name="evidence-stage2")
        worker.start()
        worker.join(timeout=max(0.0, end - PACK_SECONDS - _now()))
        if worker.is_alive():
            report["stage2_cut"] = "jobs still running at the budget's end were left out of the bundle"
            log(f"evidence: {report['stage2_cut']}")
        wall["stage2"] = _now() - stage
    stage = _now()
    labelled = {label: [c.run_id() for c in _spec_configs(spec, profile, store)] for label, _, spec in specs}
    counts = {label: len(ids) for label, ids in labelled.items()}
    report.update(wall_s=wall, networks=counts, steps=_steps(store, labelled))
    bundle = pack_store(store, out / "bundle", specs=labelled, provenance={**report, "wall_s": dict(wall)})
    wall["pack"] = _now() - stage
    (out / "report.json").write_text(json.dumps({**report, "wall_s": wall}, indent=1, default=str))
    shown = ", ".join(f"{k} {v}" for k, v in counts.items())
    unique = len({run_id for ids in labelled.values() for run_id in ids})
    log(f"evidence: packed {unique} runs into {bundle} (finished runs per spec, a run in several counted in each: "
        f"{shown}); stage times "
        f"{', '.join(f'{k} {v:.0f} s' for k, v in wall.items())}")
    return {**report, "bundle": bundle, "running": worker is not None and worker.is_alive()}


def _spec_configs(spec: dict[str, Any], profile: str | None, store: RunStore) -> list:
    """The finished runs of a spec in the store (a staged spec's at every step count it reached)."""
    configs = expand_spec(spec, profile)
    if spec.get("staged"):
        configs = [c.replace(n_steps=s) for s in staged_steps(spec, profile) for c in configs]
    return [c for c in configs if store.status(c.run_id()) == "done"]


def _steps(store: RunStore, labelled: Mapping[str, list[str]]) -> dict[str, list[int]]:
    """The distinct step counts of each spec's finished runs."""
    return {label: sorted({store.read_config(r).train.n_steps for r in ids}) for label, ids in labelled.items()}


def _check_device(device: str) -> None:
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: this torch ({torch.__version__}) sees no CUDA GPU; allowed values "
                        "here: cpu")
    if not (device.startswith("cuda") or device == "cpu"):
        raise UserError(f"--device {device!r} is invalid; allowed values: cuda, cuda:N, cpu")


def _repo() -> Path:
    return Path(__file__).resolve().parents[2]
