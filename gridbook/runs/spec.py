"""Sweep specifications (Weights & Biases shape) and their expansion into runs.

A spec is a YAML file (or dict)::

    # runs: 12                  <- every shipped spec states how many runs it makes at its own profile
    profile: quick              # profile whose overrides apply first (``--profile`` overrides it); default quick
    method: grid                # grid (Cartesian product, in the order written) | random (``count`` draws)
    seeds: [0, 1, 2]            # shorthand: every run of every block is repeated once per training seed
    parameters:                 # flat RunConfig field names (``sigma``) or dotted ones (``target.sigma``)
      target: {value: dos}
      sigma: {values: [0.11, 0.12, 0.13]}
      lr: {distribution: log_uniform, min: 1.0e-4, max: 5.0e-3}   # random only
    blocks:                     # optional: the runs are the union over blocks (deduplicated by run_id);
      - name: wide              #   each block's parameters are merged over the top-level ones, and a block may
        parameters: {...}       #   set its own method, count, seed and seeds
    count: 100                  # draws per random block
    seed: 0                     # seeds the random search (NOT the training seed: that is the parameter ``seed``)
    staged: [5000, 10000]       # optional, for the evidence run (gridbook.runs.evidence): its runs train once, in
                                #   order, and are evaluated and stored at each of these step counts the budget allows

Distributions (random search only): ``uniform`` (min..max), ``log_uniform`` (min and max are the values
themselves, not their logarithms as in W&B's ``log_uniform``; i.e. W&B's ``log_uniform_values``) and
``int_uniform`` (integers min..max inclusive). Sampled floats are rounded to 6 significant digits. Spec parameters
override the profile, so a paper spec run with ``--profile smoke`` keeps the values it sets explicitly.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gridbook.config import DEFAULT_PROFILE, FIELD_SECTION, PROFILES, SECTIONS, RunConfig
from gridbook.errors import ConfigError
from gridbook.profiles import profile_config

METHODS = ("grid", "random")
DISTRIBUTIONS = ("uniform", "log_uniform", "int_uniform")
SPEC_KEYS = ("name", "description", "profile", "method", "parameters", "blocks", "count", "seed", "seeds", "staged")
BLOCK_KEYS = ("name", "method", "parameters", "count", "seed", "seeds")
PARAMETER_KEYS = ("value", "values", "distribution", "min", "max")
RUN_COUNT_COMMENT = re.compile(r"^#\s*runs:\s*(\d+)", re.MULTILINE)


# ---- specs ----------------------------------------------------------------------------------------------------------
def load_spec(spec: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The spec as a dict and a label for error messages (its path, or ``<spec>`` for a dict)."""
    if isinstance(spec, Mapping):
        return dict(spec), "<spec>"
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"spec file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a spec must be a mapping with keys {', '.join(SPEC_KEYS)}")
    return data, str(path)


def _flat_name(name: str, where: str) -> str:
    if name in FIELD_SECTION:
        return name
    section, _, flat = str(name).partition(".")
    if section in SECTIONS and FIELD_SECTION.get(flat) == section:
        return flat
    raise ConfigError(f"{where}: unknown parameter {name!r}; allowed parameters: {', '.join(sorted(FIELD_SECTION))}")


def _field_kind(name: str) -> str:
    section = SECTIONS[FIELD_SECTION[name]]
    return str(next(f.type for f in section.__dataclass_fields__.values() if f.name == name))


def _check_number(value: Any, where: str, integer: bool = False) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if not ok or isinstance(value, bool) or not math.isfinite(value):
        raise ConfigError(f"{where}={value!r} is invalid; allowed values: {'an integer' if integer else 'a number'}")


def _parse_parameter(name: str, spec: Any, method: str, where: str) -> dict[str, Any]:
    """Validate one parameter's spec; returns it with a ``kind`` of value, values or distribution."""
    where = f"{where}.{name}"
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: expected a mapping with one of value, values, distribution "
                          f"(e.g. {{values: [...]}}), got {spec!r}")
    unknown = sorted(set(spec) - set(PARAMETER_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(PARAMETER_KEYS)}")
    kinds = [k for k in ("value", "values", "distribution") if k in spec]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: give exactly one of value, values, distribution (got {kinds or 'none'})")
    kind = kinds[0]
    if kind == "value":
        return {"kind": "value", "values": [spec["value"]]}
    if kind == "values":
        values = spec["values"]
        if not isinstance(values, list):
            raise ConfigError(f"{where}.values: expected a list, got {values!r}")
        if not values:
            raise ConfigError(f"{where}.values is empty: an empty grid makes no runs; give at least one value")
        return {"kind": "values", "values": list(values)}
    dist = spec["distribution"]
    if dist not in DISTRIBUTIONS:
        raise ConfigError(f"{where}.distribution={dist!r} is invalid; allowed values: {', '.join(DISTRIBUTIONS)}")
    if method != "random":
        raise ConfigError(f"{where}: a distribution needs method: random; grid search takes value or values")
    field_kind = _field_kind(name)
    if field_kind not in ("int", "float"):
        raise ConfigError(f"{where}: {name} is a {field_kind} field; distributions need a numeric parameter")
    if dist == "uniform" and field_kind == "int":
        raise ConfigError(f"{where}.distribution=uniform is invalid for the integer field {name}; "
                          "allowed values: int_uniform")
    for bound in ("min", "max"):
        if bound not in spec:
            raise ConfigError(f"{where}: distribution {dist} needs min and max")
        _check_number(spec[bound], f"{where}.{bound}", integer=dist == "int_uniform")
    low, high = spec["min"], spec["max"]
    if low > high:
        raise ConfigError(f"{where}: min={low!r} > max={high!r}; allowed values: min <= max")
    if dist == "log_uniform" and low <= 0:
        raise ConfigError(f"{where}.min={low!r} is invalid for log_uniform; allowed values: > 0 (min and max "
                          "are the values themselves, not their logarithms)")
    return {"kind": "distribution", "distribution": dist, "min": low, "max": high}


def _sample(param: dict[str, Any], rng: np.random.Generator) -> Any:
    if param["kind"] != "distribution":
        return param["values"][int(rng.integers(len(param["values"])))]
    low, high = param["min"], param["max"]
    if param["distribution"] == "int_uniform":
        return int(rng.integers(low, high + 1))
    if param["distribution"] == "uniform":
        value = rng.uniform(low, high)
    else:
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return float(f"{value:.6g}")


def _check_seeds(seeds: Any, where: str) -> list[int] | None:
    if seeds is None:
        return None
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError(f"{where}={seeds!r} is invalid; allowed values: a non-empty list of integers >= 0")
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise ConfigError(f"{where}: seed {s!r} is invalid; allowed values: integers >= 0")
    return seeds


def _block_runs(block: dict[str, Any], shared: dict[str, Any], index: int, label: str,
                base: RunConfig) -> list[RunConfig]:
    where = f"{label}: blocks[{index}]" + (f" ({block['name']})" if block.get("name") else "") if index >= 0 else label
    unknown = sorted(set(block) - set(BLOCK_KEYS if index >= 0 else SPEC_KEYS))
    if unknown:
        allowed = BLOCK_KEYS if index >= 0 else SPEC_KEYS
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(allowed)}")
    method = block.get("method", shared.get("method", "grid"))
    if method not in METHODS:
        raise ConfigError(f"{where}: method={method!r} is invalid; allowed values: {', '.join(METHODS)}")
    raw: dict[str, Any] = {}
    for source, params in (("parameters", shared.get("parameters")), ("parameters", block.get("parameters"))):
        if params is None:
            continue
        if not isinstance(params, Mapping):
            raise ConfigError(f"{where}: parameters must be a mapping of parameter name to spec, got {params!r}")
        for name, spec in params.items():
            raw[_flat_name(name, f"{where}: {source}")] = spec
    params = {name: _parse_parameter(name, spec, method, f"{where}: parameters") for name, spec in raw.items()}
    seeds = _check_seeds(block.get("seeds", shared.get("seeds")), f"{where}: seeds")
    if seeds is not None and "seed" in params:
        raise ConfigError(f"{where}: give either seeds or the parameter seed, not both")
    names = list(params)
    if method == "grid":
        grid = itertools.product(*(params[n]["values"] for n in names))
        combos = [dict(zip(names, values, strict=True)) for values in grid]
    else:
        count = block.get("count", shared.get("count"))
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(f"{where}: count={count!r} is invalid; method random needs count, an integer >= 1")
        sample_seed = block.get("seed", shared.get("seed", 0))
        _check_number(sample_seed, f"{where}: seed", integer=True)
        rng = np.random.default_rng([abs(sample_seed), max(index, 0)])
        combos = [{n: _sample(params[n], rng) for n in names} for _ in range(count)]
    if seeds is not None:
        combos = [{**combo, "seed": s} for combo in combos for s in seeds]
    runs = []
    for combo in combos:
        try:
            runs.append(base.replace(**combo))
        except ConfigError as err:
            shown = ", ".join(f"{k}={v!r}" for k, v in combo.items())
            raise ConfigError(f"{where}: parameters: {err} (in the run {shown})") from None
    return runs


def expand_spec(spec: str | Path | Mapping[str, Any], profile: str | None = None) -> list[RunConfig]:
    """The runs a spec makes, in spec order, without duplicates. ``profile`` overrides the spec's ``profile:``."""
    data, label = load_spec(spec)
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise ConfigError(f"{label}: unknown key {unknown[0]!r}; allowed keys: {', '.join(SPEC_KEYS)}")
    chosen = profile if profile is not None else data.get("profile", DEFAULT_PROFILE)
    if chosen not in PROFILES:
        key = "--profile" if profile is not None else "profile"
        raise ConfigError(f"{label}: {key}={chosen!r} is invalid; allowed values: {', '.join(PROFILES)}")
    base = profile_config(chosen)
    blocks = data.get("blocks")
    if blocks is None:
        runs = _block_runs(data, {}, -1, label, base)
    else:
        if not isinstance(blocks, list) or not blocks:
            raise ConfigError(f"{label}: blocks must be a non-empty list of blocks (each with parameters)")
        shared = {k: v for k, v in data.items() if k != "blocks"}
        runs = []
        for i, block in enumerate(blocks):
            if not isinstance(block, Mapping):
                raise ConfigError(f"{label}: blocks[{i}] must be a mapping with keys {', '.join(BLOCK_KEYS)}")
            runs.extend(_block_runs(dict(block), shared, i, label, base))
    unique: dict[str, RunConfig] = {}
    for run in runs:
        unique.setdefault(run.run_id(), run)
    return list(unique.values())


def spec_run_ids(spec: str | Path | Mapping[str, Any], profile: str | None = None) -> list[str]:
    """The run ids of the runs a spec makes, in spec order (e.g. to select them from the store's tables)."""
    return [config.run_id() for config in expand_spec(spec, profile)]


def stated_run_count(path: str | Path) -> int | None:
    """The ``# runs: N`` a spec file states in its comments, or None."""
    match = RUN_COUNT_COMMENT.search(Path(path).read_text())
    return int(match.group(1)) if match else None


def varying_parameters(configs: list[RunConfig]) -> list[str]:
    """The flat field names whose values differ between the configs (spec order of fields)."""
    flats = [c.to_flat() for c in configs]
    return [k for k in (flats[0] if flats else {}) if len({repr(f[k]) for f in flats}) > 1]
