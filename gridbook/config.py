"""Run configuration: frozen dataclasses with the paper's defaults, validation, hashing and profiles.

A run is described by one :class:`RunConfig` made of five sections (task, target, model, train, analysis).
Every field name is unique across sections, so a run can also be described by a *flat* dict
(``{"sigma": 0.12, "arch": "gru"}``); sweep specs and notebook parameters use these flat names.
Dotted names (``"target.sigma"``) are accepted too.

Defaults are the paper's (Schaeffer, Khona & Fiete 2022, building on Sorscher et al.); the comment on each field
cites the paper value. Profiles (``smoke``, ``quick``, ``paper``) are named overrides of these defaults; see
:data:`PROFILE_DEVIATIONS` for where each differs from the paper and why.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

from gridbook.errors import ConfigError, check_choice, check_int, check_positive, check_range
from gridbook.paper import BOX_M, DECODE_TOP_K, RATEMAP_BINS, SCORE_FORMS, SIGMA_M, SURROUND_SCALE


@dataclass(frozen=True)
class TargetKind:
    """What the rest of the package needs to know of a supervised target (one entry of :data:`TARGET_KINDS`, the
    one registry of targets; its encoder class is registered under the same name in :mod:`gridbook.task.targets`)."""

    loss: str  # "cross_entropy" (softmax against a distribution over place cells) or "mse"
    place_cells: bool  # a code of place cells with centres and widths (else an affine or polar code)
    surround: bool  # has a surround width from surround_scale (which must then be > 1)
    code_size: int | None = None  # a fixed output size (the Cartesian code's 2); None: n_place_cells
    about: str = ""  # the code in words


TARGET_KINDS: dict[str, TargetKind] = {  # PAPER.md section 3; the normalised DoG is the response's (Sorscher et al.)
    "cartesian": TargetKind("mse", False, False, 2, "(x, y)"),
    "hd_cartesian": TargetKind("mse", False, False, None, "Np random affine functions of (x, y)"),
    "hd_polar": TargetKind("mse", False, False, None, "half affine in radius, half von Mises in angle"),
    "gaussian": TargetKind("cross_entropy", True, False, None, "softmax(-d2 / 2 sigma^2)"),
    "dos": TargetKind("cross_entropy", True, True, None, "difference of softmaxes (Sorscher's 'DoG')"),
    "dog": TargetKind("cross_entropy", True, True, None, "true difference of Gaussians, a_e = a_i = 1"),
    "general_dog": TargetKind("cross_entropy", True, True, None, "a_e exp(..) - a_i exp(..)"),
    "sod": TargetKind("cross_entropy", True, True, None, "softmax of differences"),
    "normalised_dog": TargetKind("cross_entropy", True, True, None, "difference of normalised Gaussians, each "
                                 "with its 1 / (2 pi sigma^2)"),
}
TARGETS = tuple(TARGET_KINDS)
SURROUND_CONVENTIONS = ("std_ratio", "variance_ratio")
DEFAULT_SURROUND_CONVENTION = "variance_ratio"  # Sorscher et al.'s code reads s as a variance ratio (PAPER.md 3)
FINE_DECODERS = ("nearest", "correlation")  # AnalysisConfig.fine_decoder (gridbook.task.targets.PlaceCellTarget)
ARCHITECTURES = ("rnn", "lstm", "gru", "ugrnn", "srnn")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "orthogonal")
OPTIMIZERS = ("adam", "rmsprop", "sgd", "adagrad")
PROFILES = ("smoke", "quick", "gpu", "paper")
DEFAULT_PROFILE = "quick"  # the profile of `make book`, of `gridbook book` and of a spec that names none
PRECISIONS = ("float32", "bfloat16")  # TrainConfig.precision: the dtype of the matrix products' operands
STREAMS = ("generator", "counter")  # TrainConfig.streams: where training walks and dropout masks draw from


# Bump when the *value* of any field's default changes: run ids hash only non-default fields (``RunConfig.run_id``).
DEFAULTS_VERSION = 1


def loss_kind(target: str) -> str:
    """The target's loss (:data:`TARGET_KINDS`): ``"mse"`` for the Cartesian and polar codes, else
    ``"cross_entropy"`` (softmax cross-entropy against a place-cell distribution)."""
    check_choice("target", target, TARGETS)
    return TARGET_KINDS[target].loss


@dataclass(frozen=True)
class TaskConfig:
    """The path-integration task (Sorscher et al.'s random walk)."""

    box_width: float = BOX_M[0]  # m; paper 2.2 m square box
    box_height: float = BOX_M[1]  # m; paper 2.2 m
    periodic: bool = False  # paper: non-periodic walls
    dt: float = 0.02  # s; paper 0.02 s
    speed_scale: float = 0.13 * 2 * math.pi  # m/s; Rayleigh scale, paper 0.13*2*pi ~ 0.817 m/s
    turn_sigma: float = 11.52  # rad/s; std of the turn rate, paper 11.52
    border_region: float = 0.03  # m; wall-avoidance distance, paper 0.03 m
    border_slowdown: float = 0.25  # speed factor near a wall, paper 0.25
    seq_len: int = 20  # steps per trajectory, paper 20
    batch_size: int = 200  # trajectories per step, paper 200
    velocity_input_scale: float = 1.0  # input = displacement per step (m) x this; paper 1 (quick profile: 50)


@dataclass(frozen=True)
class TargetConfig:
    """The supervised readout target (place cells or a Cartesian/polar code)."""

    target: str = "dos"  # one of TARGETS; the paper's grid-producing target is "dos"
    n_place_cells: int = 512  # Np; paper 512
    sigma: float = SIGMA_M  # m; place-cell width, paper 0.12 m
    surround_scale: float = SURROUND_SCALE  # s; paper 2
    surround_convention: str = DEFAULT_SURROUND_CONVENTION  # Sorscher: surround std sqrt(s) sigma; "std_ratio": s sigma
    a_e: float = 1.0  # general DoG excitatory amplitude, paper 0.1..10
    a_i: float = 1.0  # general DoG inhibitory amplitude, paper 0.1..10
    sigma_range: tuple[float, float] | None = None  # heterogeneous widths U(a, b) in m; paper (0.06, 0.18)
    surround_range: tuple[float, float] | None = None  # heterogeneous s ~ U(a, b); paper (1.5, 2.5)
    fields_lambda: float = 0.0  # multi-field cells: 1 + Poisson(lambda) fields; paper 2 or 3 (0 = one field)
    von_mises_kappa: float = 1.0  # concentration for the high-dim polar code, paper 1
    decode_top_k: int = DECODE_TOP_K  # place-cell decoding: mean centre of the k most active cells, paper 3

    @property
    def loss_kind(self) -> str:
        """The loss of this target (:func:`loss_kind`)."""
        return loss_kind(self.target)

    @property
    def code_size(self) -> int:
        """The size of the target code (the network's output): the kind's fixed size (2 for ``cartesian``), else
        ``n_place_cells``."""
        kind = TARGET_KINDS.get(self.target)
        return (kind.code_size if kind else None) or self.n_place_cells


@dataclass(frozen=True)
class ModelConfig:
    """The recurrent network."""

    arch: str = "rnn"  # one of ARCHITECTURES; paper default Sorscher's vanilla RNN
    n_hidden: int = 4096  # Ng; Sorscher 4096, the paper's sweeps mostly 1024
    activation: str = "relu"  # one of ACTIVATIONS; paper default relu
    initializer: str = "glorot_uniform"  # one of INITIALIZERS
    input_dropout: float = 0.0  # paper swept {0, 0.5}
    recurrent_dropout: float = 0.0  # paper swept {0, 0.5}
    encoder_init_scale: float = 1.0  # multiplies the encoder's initial weights; paper 1 (quick profile: 20)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation."""

    optimizer: str = "adam"  # one of OPTIMIZERS; paper adam
    lr: float = 1e-4  # paper 1e-4
    lr_final: float = 0.0  # if > 0, cosine decay of lr to lr_final at n_steps; 0 = constant lr (paper: constant)
    weight_decay: float = 1e-4  # on the recurrent matrix only, paper 1e-4
    n_steps: int = 200_000  # paper 20 epochs x 10,000 steps
    grad_clip: float = 0.0  # max global grad norm per network; 0 = off (paper: off)
    seed: int = 0  # network init, trajectories and target draws; paper seeds 0-4
    # matmul precision; paper: float32. "bfloat16": bf16 matmuls with float32 weights, state and loss
    precision: str = "float32"
    # m; > 0: training reads place-cell codes from a table of this spacing by bilinear interpolation (a CPU speed-up,
    # gridbook.task.code_table); 0: the exact code at every position, as the paper computes it
    code_table: float = 0.0
    # random streams of training walks and dropout masks: "generator" (a CPU torch.Generator per network, drawn
    # network by network; the paper has its own) or "counter" (a counter-based hash drawn on the device for all
    # networks at once, gridbook.task.streams; the gpu profile). Both are deterministic per seed; they differ.
    streams: str = "generator"


@dataclass(frozen=True)
class AnalysisConfig:
    """Evaluation after training: rate maps and scores."""

    n_bins: int = RATEMAP_BINS  # bins per side of the rate map; paper 44 x 44 bins of 5 cm
    eval_batches: int = 50  # evaluation batches of batch_size trajectories for rate maps
    score_form: str = "min_max"  # "min_max" (paper) or "mean" (DeepMind default)
    smooth_sigma_bins: float = 0.0  # Gaussian smoothing of rate maps in bins before scoring; 0 = none
    n_shuffles: int = 0  # circular shifts of the evaluation batches scored as each run's chance level (the paper
    # has none; 0 = none); at most eval_batches - 1 (gridbook.analysis.null)
    null_units: int = 0  # units, drawn at random, whose shifted maps make the null; 0 = every unit
    fine_decoder: str = "nearest"  # place-cell outputs for the learn bar (the paper: top-3 only): "nearest" code or
    # best "correlation" with it over cells (gridbook.task.targets.PlaceCellTarget.decode_fine)


SECTIONS: dict[str, type] = {
    "task": TaskConfig,
    "target": TargetConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "analysis": AnalysisConfig,
}
# flat field name -> section name; field names are unique across sections
FIELD_SECTION: dict[str, str] = {f.name: s for s, cls in SECTIONS.items() for f in fields(cls)}
assert len(FIELD_SECTION) == sum(len(fields(c)) for c in SECTIONS.values()), "field names must be unique"


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one trained network. Its :meth:`run_id` names its directory in the run store."""

    task: TaskConfig = field(default_factory=TaskConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def __post_init__(self) -> None:
        self.validate()

    # ---- validation -------------------------------------------------------------------------------------------
    def validate(self) -> None:
        t, g, m, o, a = self.task, self.target, self.model, self.train, self.analysis
        for name in ("box_width", "box_height", "dt", "speed_scale", "velocity_input_scale"):
            check_positive(name, getattr(t, name))
        for name in ("turn_sigma", "border_region"):
            check_positive(name, getattr(t, name), strict=False)
        if not 0 <= t.border_slowdown <= 1:
            raise ConfigError(f"border_slowdown={t.border_slowdown!r} is invalid; allowed values: 0..1")
        for name in ("seq_len", "batch_size"):
            check_int(name, getattr(t, name), 1)
        check_choice("target", g.target, TARGETS)
        check_int("n_place_cells", g.n_place_cells, 2 if g.target in ("hd_cartesian", "hd_polar") else 1)
        check_positive("sigma", g.sigma)
        check_choice("surround_convention", g.surround_convention, SURROUND_CONVENTIONS)
        if TARGET_KINDS[g.target].surround and not g.surround_scale > 1:
            raise ConfigError(f"surround_scale={g.surround_scale!r} is invalid for target {g.target!r}; "
                              "allowed values: > 1")
        for name in ("a_e", "a_i", "von_mises_kappa"):
            check_positive(name, getattr(g, name), strict=False)
        check_range("sigma_range", g.sigma_range)
        check_range("surround_range", g.surround_range, low=1.0)
        check_positive("fields_lambda", g.fields_lambda, strict=False)
        check_int("decode_top_k", g.decode_top_k, 1)
        check_choice("arch", m.arch, ARCHITECTURES)
        check_int("n_hidden", m.n_hidden, 1)
        check_choice("activation", m.activation, ACTIVATIONS)
        check_choice("initializer", m.initializer, INITIALIZERS)
        for name in ("input_dropout", "recurrent_dropout"):
            if not 0 <= getattr(m, name) < 1:
                raise ConfigError(f"{name}={getattr(m, name)!r} is invalid; allowed values: 0 <= p < 1")
        check_positive("encoder_init_scale", m.encoder_init_scale)
        check_choice("optimizer", o.optimizer, OPTIMIZERS)
        check_positive("lr", o.lr)
        check_positive("lr_final", o.lr_final, strict=False)
        check_positive("weight_decay", o.weight_decay, strict=False)
        check_int("n_steps", o.n_steps, 0)
        check_positive("grad_clip", o.grad_clip, strict=False)
        check_int("seed", o.seed, 0)
        check_choice("precision", o.precision, PRECISIONS)
        check_positive("code_table", o.code_table, strict=False)
        check_choice("streams", o.streams, STREAMS)
        check_int("n_bins", a.n_bins, 4)
        check_int("eval_batches", a.eval_batches, 1)
        check_choice("score_form", a.score_form, SCORE_FORMS)
        check_positive("smooth_sigma_bins", a.smooth_sigma_bins, strict=False)
        check_int("n_shuffles", a.n_shuffles, 0)
        check_int("null_units", a.null_units, 0)
        check_choice("fine_decoder", a.fine_decoder, FINE_DECODERS)
        if a.n_shuffles > a.eval_batches - 1:
            raise ConfigError(f"n_shuffles={a.n_shuffles!r} is invalid with eval_batches={a.eval_batches}; allowed "
                              f"values: 0 .. {a.eval_batches - 1} (eval_batches - 1: the distinct shifts by whole "
                              "batches)")

    # ---- views and round trips --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested plain dict (tuples become lists), suitable for JSON/YAML."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def to_flat(self) -> dict[str, Any]:
        """Flat ``{field: value}`` dict over all sections."""
        return {k: v for section in self.to_dict().values() for k, v in section.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build from a nested dict (as written by :meth:`to_dict`) or a flat/dotted one. Unknown keys raise."""
        nested = all(isinstance(v, dict) for v in data.values()) and set(data) <= set(SECTIONS)
        flat = {f"{s}.{k}": v for s, sec in data.items() for k, v in sec.items()} if nested and data else data
        return cls().replace(**flat)

    def replace(self, **overrides: Any) -> RunConfig:
        """A copy with fields changed, by flat (``sigma``) or dotted (``target.sigma``) name. Unknown names raise."""
        per_section: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
        for key, value in overrides.items():
            section, name = _resolve_key(key)
            per_section[section][name] = _coerce(section, name, value)
        parts = {s: dataclasses.replace(getattr(self, s), **kw) if kw else getattr(self, s)
                 for s, kw in per_section.items()}
        return RunConfig(**parts)

    def run_id(self) -> str:
        """Stable content hash (16 hex characters) of the fields that differ from the defaults, by dotted name, plus
        :data:`DEFAULTS_VERSION`. A new field whose default keeps the old behaviour leaves every stored run's id
        unchanged; changing a default's value must bump :data:`DEFAULTS_VERSION`."""
        defaults = _default_dict()
        changed = {f"{s}.{k}": v for s, section in self.to_dict().items() for k, v in section.items()
                   if v != defaults[s][k]}
        text = json.dumps({"defaults": DEFAULTS_VERSION, "changed": changed}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def shape_key(self) -> tuple:
        """Runs with equal shape keys can train together as one batched K-network job (``gridbook.nets.trainer``): same
        loss family and target code size, arch, width, sequence, batch, step count, matmul precision and random
        streams. Everything else (target kind and parameters, activation, optimizer, seed, lr, weight decay,
        clipping, dropout, init) may differ; :func:`gridbook.runs.planning.plan_groups` puts networks of one
        activation and optimizer next to each other in a job."""
        t, g, m, o = self.task, self.target, self.model, self.train
        return (g.loss_kind, g.code_size, m.arch, m.n_hidden, t.seq_len, t.batch_size, o.n_steps, o.precision,
                o.streams)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> RunConfig:
        import yaml

        return cls.from_dict(yaml.safe_load(text) or {})


@functools.cache
def _default_dict() -> dict[str, dict[str, Any]]:
    return RunConfig().to_dict()


def _resolve_key(key: str) -> tuple[str, str]:
    if "." in key:
        section, name = key.split(".", 1)
        if section not in SECTIONS or FIELD_SECTION.get(name) != section:
            raise ConfigError(f"unknown config key {key!r}; allowed keys: {', '.join(sorted(FIELD_SECTION))} "
                              f"(optionally prefixed by their section: {', '.join(SECTIONS)})")
        return section, name
    if key not in FIELD_SECTION:
        raise ConfigError(f"unknown config key {key!r}; allowed keys: {', '.join(sorted(FIELD_SECTION))}")
    return FIELD_SECTION[key], key


def _coerce(section: str, name: str, value: Any) -> Any:
    """Light type coercion for values that arrive from YAML/JSON/CLI (ints for floats, lists for tuples)."""
    default = next(f for f in fields(SECTIONS[section]) if f.name == name)
    kind = str(default.type)
    if isinstance(value, list):
        value = tuple(value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind == "float" and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is invalid; allowed values: a number") from None
    if kind == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is invalid; allowed values: true, false")
    if kind == "str" and not isinstance(value, str):
        raise ConfigError(f"{name}={value!r} is invalid; allowed values: a string")
    if isinstance(value, tuple):
        value = tuple(float(v) for v in value)
    return value
