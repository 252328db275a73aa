"""What the sweep tests share: the shipped specs, a small spec, stand-in trainers and spec files."""

import os
import time
from pathlib import Path

import pandas as pd
import yaml
from test_store import fake_record

REPO = Path(__file__).resolve().parents[2]


SPECS = (sorted((REPO / "sweeps").glob("*.yaml")) + sorted((REPO / "sweeps" / "chapters").glob("*.yaml"))
         + sorted((REPO / "sweeps" / "searches").glob("*.yaml")))


FAMILIES = ("cartesian", "hd_cartesian", "polar", "gaussian", "dos", "dog", "sod", "general_dog", "heterogeneous",
            "multifield", "sigma_sensitivity")


CHAPTERS = ("task_success", "target_encoding", "sensitivity", "modules", "dos_vs_dog", "heterogeneity",
            "predictivity")


FAKE = "sweep_helpers:fake_run_group"  # a run_group by module path, as the CLI takes it


def fake_run_group(configs):
    """Stand-in trainer: counts what it trains (GRIDBOOK_FAKE_COUNTER) and raises for sigma ==
    GRIDBOOK_FAKE_FAIL_SIGMA."""
    counter, fail = os.environ.get("GRIDBOOK_FAKE_COUNTER"), os.environ.get("GRIDBOOK_FAKE_FAIL_SIGMA")
    if fail and any(c.target.sigma == float(fail) for c in configs):
        raise RuntimeError(f"fake failure at sigma {fail}")
    records = []
    for config in configs:
        if counter:
            with open(counter, "a") as handle:
                handle.write(config.run_id() + "\n")
        records.append(fake_record(config))
    return records


def counting_trainer(configs):
    """The real train-and-evaluate, counting what it trains in GRIDBOOK_FAKE_COUNTER (and 0.1 s slower per run)."""
    from gridbook.runs.jobs import train_and_evaluate

    with open(os.environ["GRIDBOOK_FAKE_COUNTER"], "a") as handle:
        handle.write("".join(c.run_id() + "\n" for c in configs))
    time.sleep(0.1 * len(configs))
    return train_and_evaluate(configs)


def write_spec(tmp_path, spec, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec) if isinstance(spec, dict) else spec)
    return path


def counts(path):
    return pd.Series(Path(path).read_text().split()).value_counts().to_dict() if Path(path).exists() else {}


# ---- execution with a stand-in trainer ---------------------------------------------------------------------------
SMALL = {"profile": "smoke", "parameters": {"target": {"value": "dos"}, "sigma": {"values": [0.11, 0.12, 0.13]}},
         "seeds": [0, 1]}


def slow_run_group(configs):
    """Stand-in trainer that takes GRIDBOOK_FAKE_SLEEP seconds per run and appends "pid run_id" to
    GRIDBOOK_FAKE_COUNTER when it has trained one."""
    records = []
    for config in configs:
        time.sleep(float(os.environ.get("GRIDBOOK_FAKE_SLEEP", "0.3")))
        with open(os.environ["GRIDBOOK_FAKE_COUNTER"], "a") as handle:
            handle.write(f"{os.getpid()} {config.run_id()}\n")
        records.append(fake_record(config))
    return records
