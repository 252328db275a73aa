"""Recurrent path integrators, K networks of one shape at a time (weights stacked on a leading model axis).

Every architecture has the frame of Sorscher et al.'s "RNN" (PAPER.md section 2): a bias-free linear *encoder* maps
the target code at the start position to the initial hidden state, the recurrent layer integrates the 2-D velocity
input, and a bias-free linear *decoder* reads the target code out of the hidden state at every step.
The recurrent layers (``h`` the hidden state, ``x`` the velocity input, ``act`` the configured activation,
``s`` the logistic sigmoid):

* ``rnn`` (Sorscher): ``h_t = act(W x_t + U h_{t-1})``, no bias.
* ``srnn`` (Keras' ``SimpleRNN``, the "simple RNN" of the mec code the paper builds on): as ``rnn`` plus a bias.
* ``lstm``: gates i, f, o and candidate g; ``c_t = s(f) c_{t-1} + s(i) act(g)``, ``h_t = s(o) act(c_t)``;
  the initial cell state c_0 comes from a second encoder head (as in the mec and DeepMind codes); forget-gate bias
  starts at 1 (Keras' ``unit_forget_bias``).
* ``gru`` (reset gate applied after the recurrent product, Keras' TF2 default and PyTorch's form, without a separate
  recurrent bias): ``z, r = s(.)``, ``n = act(W_n x + b_n + r * (U_n h))``, ``h_t = (1 - z) n + z h_{t-1}``.
* ``ugrnn`` (Collins et al. 2017): ``g = s(W_g x + U_g h + b_g)``, ``c = act(W_c x + U_c h + b_c)``,
  ``h_t = g h_{t-1} + (1 - g) c``; the gate bias starts at 1 (TensorFlow's ``UGRNNCell`` adds a constant 1).

The hidden units reported for rate maps are ``h_t`` after the activation (for the LSTM, its output ``h_t``).

Initialisation, per network from that network's own ``torch.Generator`` (drawn on the CPU, so the same seed gives the
same weights on every device): the recurrent matrix ``U`` (each gate's ``Ng x Ng`` block) uses the configured
initializer (``glorot_uniform``, ``glorot_normal`` = Keras' truncated normal, ``orthogonal``), the swept
hyperparameter of the paper; the encoder, input and decoder weights are Glorot-uniform (Keras' ``Dense`` default),
the encoder's multiplied by ``encoder_init_scale``; biases start at zero except the gate biases above.
Draw order per network: encoder, (LSTM cell encoder), input weights, decoder, recurrent blocks (last, so the
initializer choice changes no other weight).

Dropout follows Keras' recurrent-layer semantics: ``input_dropout`` drops velocity components and
``recurrent_dropout`` drops units of ``h_{t-1}`` in the recurrent product, with one mask per trajectory held fixed
over the sequence, scaled by 1 / (1 - p). Masks come from :meth:`BatchedRecurrentNetworks.dropout_masks`.

The ``rnn``/``srnn`` recurrence runs through a hand-written backward pass
(:class:`gridbook.nets.recurrence.ElmanRecurrence`) that forms the recurrent weight gradient as one matrix product
over all time steps; the gated cells use autograd.

Mixed precision (``TrainConfig.precision = "bfloat16"``, the ``matmul_dtype`` of :class:`BatchedRecurrentNetworks`):
every matrix product but the velocity input's (inner size 2: no gain, and it keeps the velocities exact) -- encoders,
recurrence forward and backward, decoder -- takes bfloat16 operands
(:func:`mixed_bmm`: the product accumulates in float32 inside the kernel and is rounded to bfloat16 on output) and its
result is cast back to float32; weights, the hidden state (drive + product, added in float32), activations, the loss
and the optimizer stay float32. With float32 (the default) the code path is the plain float32 one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import torch
from torch import nn

from gridbook.config import ACTIVATIONS, INITIALIZERS, ModelConfig, RunConfig
from gridbook.errors import ConfigError, check_choice
from gridbook.nets.recurrence import MATMUL_DTYPES, ElmanRecurrence, activation_segments, mixed_bmm

__all__ = ["GATES", "MATMUL_DTYPES", "RANDOM_STREAMS", "BatchedRecurrentNetworks", "ElmanRecurrence", "init_matrix",
           "network_generator", "parameter_shapes", "step_flops", "weight_count"]

GATES = {"rnn": 1, "srnn": 1, "ugrnn": 2, "gru": 3, "lstm": 4}  # recurrent blocks per architecture
HAS_BIAS = {"rnn": False, "srnn": True, "ugrnn": True, "gru": True, "lstm": True}


_ACTIVATION = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}


# ---- seeds -------------------------------------------------------------------------------------------------------
RANDOM_STREAMS = ("init", "target", "trajectories", "dropout")  # independent random streams of one network


def network_generator(seed: int, stream: str) -> torch.Generator:
    """The CPU generator of one random stream of the network with ``TrainConfig.seed = seed``.

    Each stream (``init`` weights, ``target`` draws, training ``trajectories``, ``dropout`` masks) is seeded with
    the first 8 bytes (little-endian, top bit cleared) of ``sha256(f"gridbook/{stream}/{seed}")``, so the streams
    are independent, and a network's randomness depends on its own seed only -- not on which other networks share
    its batch.
    """
    if stream not in RANDOM_STREAMS:
        raise ValueError(f"stream={stream!r} is invalid; allowed values: {', '.join(RANDOM_STREAMS)}")
    digest = hashlib.sha256(f"gridbook/{stream}/{int(seed)}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))


# ---- shapes ---------------------------------------------------------------------------------------------------------
def parameter_shapes(arch: str, n_hidden: int, n_outputs: int, n_inputs: int = 2) -> dict[str, tuple[int, ...]]:
    """The parameter shapes of one network, in initialisation order: encoder (Np, Ng), LSTM cell encoder (Np, Ng),
    input weight (2, G Ng), recurrent weight (Ng, G Ng), bias (G Ng,) (all but ``rnn``), decoder (Np, Ng)."""
    check_choice("arch", arch, GATES)
    ng, np_, gn = n_hidden, n_outputs, GATES[arch] * n_hidden
    shapes: dict[str, tuple[int, ...]] = {"encoder": (np_, ng)}
    if arch == "lstm":
        shapes["cell_encoder"] = (np_, ng)
    shapes["input_weight"] = (n_inputs, gn)
    shapes["recurrent_weight"] = (ng, gn)
    if HAS_BIAS[arch]:
        shapes["bias"] = (gn,)
    shapes["decoder"] = (np_, ng)
    return shapes


def weight_count(config: RunConfig) -> int:
    """The number of trained weights of one network of ``config`` (every parameter of :func:`parameter_shapes`)."""
    shapes = parameter_shapes(config.model.arch, config.model.n_hidden, config.target.code_size)
    return sum(math.prod(shape) for shape in shapes.values())


def step_flops(config: RunConfig) -> float:
    """Matrix-product FLOPs (2 m n k each) of one network's training step: the forward pass (encoder, velocity input,
    recurrence, decoder), then the backward pass (input and weight gradients of the recurrence and the decoder, weight
    gradients only of the encoder and the input weights, whose inputs need none)."""
    ng, np_, gates = config.model.n_hidden, config.target.code_size, GATES[config.model.arch]
    rows = config.task.seq_len * config.task.batch_size  # T B
    recurrent, decoder = 2 * rows * ng * gates * ng, 2 * rows * ng * np_
    inputs = 2 * rows * 2 * gates * ng
    encoder = 2 * config.task.batch_size * np_ * ng * (2 if config.model.arch == "lstm" else 1)
    return float(3 * (recurrent + decoder) + 2 * (encoder + inputs))


# ---- initialisers -------------------------------------------------------------------------------------------------
def init_matrix(shape: tuple[int, int], initializer: str, generator: torch.Generator) -> torch.Tensor:
    """A (fan_in, fan_out) float32 CPU matrix drawn from ``generator``.

    ``glorot_uniform``: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). ``glorot_normal``: Keras' form, a normal of std
    sqrt(2 / (fan_in + fan_out)) / 0.8796 truncated at two standard deviations. ``orthogonal``: QR of a standard
    normal matrix with the sign correction of Saxe et al. (orthonormal rows or columns).
    """
    check_choice("initializer", initializer, INITIALIZERS)
    fan_in, fan_out = shape
    weight = torch.empty(shape, dtype=torch.float32)
    if initializer == "glorot_uniform":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return torch.nn.init.uniform_(weight, -bound, bound, generator=generator)
    if initializer == "glorot_normal":
        std = math.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978
        return torch.nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std, generator=generator)
    return torch.nn.init.orthogonal_(weight, generator=generator)


# ---- the batched networks -----------------------------------------------------------------------------------------
class BatchedRecurrentNetworks(nn.Module):
    """K recurrent networks of one shape, trained as one batched computation.

    Parameters (leading axis K = network): ``encoder`` (K, Np, Ng); ``cell_encoder`` (K, Np, Ng), LSTM only;
    ``input_weight`` (K, 2, G Ng); ``recurrent_weight`` (K, Ng, G Ng) (G = :data:`GATES` blocks, gate order as in
    the module docstring); ``bias`` (K, G Ng), all but ``rnn``; ``decoder`` (K, Np, Ng) (torch's Linear layout,
    the faster one for the readout product).

    ``configs``: one :class:`ModelConfig` per network; ``arch`` and ``n_hidden`` must agree (per-network
    activation, initializer, dropout and encoder scale may differ; networks of one activation side by side cost
    least). ``n_outputs``: Np, the target code size (the encoder's input and the decoder's output).
    ``generators``: one CPU ``torch.Generator`` per network for
    the initial weights, or None for zero weights that a state dict will overwrite. ``matmul_dtype``: the operand
    dtype of the matrix products (float32, or bfloat16 for mixed precision; parameters stay float32).
    """

    def __init__(self, configs: Sequence[ModelConfig], n_outputs: int,
                 generators: Sequence[torch.Generator] | None = None, n_inputs: int = 2,
                 matmul_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        configs = list(configs)
        if not configs:
            raise ValueError("configs must hold at least one ModelConfig")
        first = configs[0]
        for name in ("arch", "n_hidden"):
            values = sorted({str(getattr(c, name)) for c in configs})
            if len(values) > 1:
                raise ConfigError(f"{name} differs between networks ({', '.join(values)}); networks trained "
                                  "together must share arch and n_hidden")
        check_choice("arch", first.arch, GATES)
        for config in configs:
            check_choice("activation", config.activation, ACTIVATIONS)
        if generators is not None and len(generators) != len(configs):
            raise ValueError(f"got {len(generators)} generators for {len(configs)} networks")
        self.configs = configs
        self.arch = first.arch
        self.activations = [c.activation for c in configs]
        self.activation = first.activation if len(set(self.activations)) == 1 else "mixed"
        self.segments = activation_segments(self.activations)  # contiguous runs of one activation
        self.n_networks, self.n_hidden = len(configs), first.n_hidden
        self.n_outputs, self.n_inputs = n_outputs, n_inputs
        self.n_gates = GATES[self.arch]
        self.input_dropout = [c.input_dropout for c in configs]
        self.recurrent_dropout = [c.recurrent_dropout for c in configs]
        self.fused_recurrence = True  # rnn/srnn: hand-written backward (False: plain autograd, for tests)
        if matmul_dtype not in MATMUL_DTYPES.values():
            raise ConfigError(f"matmul_dtype={matmul_dtype!r} is invalid; allowed values: "
                              f"{', '.join(map(str, MATMUL_DTYPES.values()))}")
        self.matmul_dtype = matmul_dtype

        shapes = self.parameter_shapes()
        if generators is None:
            stacked = {name: torch.zeros((self.n_networks, *shape)) for name, shape in shapes.items()}
        else:
            per_net = [self._init_one(cfg, gen) for cfg, gen in zip(configs, generators, strict=True)]
            stacked = {name: torch.stack([p[name] for p in per_net]) for name in shapes}
        for name, value in stacked.items():
            self.register_parameter(name, nn.Parameter(value.contiguous()))

    @classmethod
    def from_configs(cls, configs: Sequence[RunConfig], initialise: bool = True) -> BatchedRecurrentNetworks:
        """The networks of full run configs, initialised from each one's ``init`` stream
        (:func:`network_generator`), or zeros with ``initialise=False`` (for loading weights). The matmul dtype is
        the configs' ``train.precision`` (which must agree)."""
        configs = list(configs)
        sizes = sorted({c.target.code_size for c in configs})
        if len(sizes) > 1:
            raise ConfigError(f"target code size differs between networks ({sizes}); networks trained together "
                              "must share it")
        precisions = sorted({c.train.precision for c in configs})
        if len(precisions) > 1:
            raise ConfigError(f"precision differs between networks ({', '.join(precisions)}); networks trained "
                              "together must share it")
        generators = [network_generator(c.train.seed, "init") for c in configs] if initialise else None
        return cls([c.model for c in configs], sizes[0], generators, matmul_dtype=MATMUL_DTYPES[precisions[0]])

    # -- construction
    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-network parameter shapes, in initialisation order (:func:`parameter_shapes`)."""
        return parameter_shapes(self.arch, self.n_hidden, self.n_outputs, self.n_inputs)

    def _init_one(self, cfg: ModelConfig, gen: torch.Generator) -> dict[str, torch.Tensor]:
        ng, np_, n_in, n_gates = self.n_hidden, self.n_outputs, self.n_inputs, self.n_gates
        out = {"encoder": init_matrix((np_, ng), "glorot_uniform", gen) * cfg.encoder_init_scale}
        if self.arch == "lstm":
            out["cell_encoder"] = init_matrix((np_, ng), "glorot_uniform", gen) * cfg.encoder_init_scale
        out["input_weight"] = torch.cat([init_matrix((n_in, ng), "glorot_uniform", gen) for _ in range(n_gates)], 1)
        out["decoder"] = init_matrix((ng, np_), "glorot_uniform", gen).T.contiguous()  # stored (Np, Ng)
        # last, so that the initializer choice leaves every other weight's draw unchanged
        out["recurrent_weight"] = torch.cat([init_matrix((ng, ng), cfg.initializer, gen) for _ in range(n_gates)], 1)
        if HAS_BIAS[self.arch]:
            bias = torch.zeros(n_gates, ng)
            if self.arch == "lstm":
                bias[1] = 1.0  # forget gate (order i, f, g, o)
            elif self.arch == "ugrnn":
                bias[0] = 1.0  # update gate (order g, c)
            out["bias"] = bias.reshape(-1)
        return out

    def subset(self, indices: Sequence[int]) -> BatchedRecurrentNetworks:
        """A new module holding copies of the networks at ``indices`` (in that order)."""
        index = torch.as_tensor(list(indices), dtype=torch.long)
        device = self.decoder.device
        sub = BatchedRecurrentNetworks([self.configs[i] for i in index.tolist()], self.n_outputs, None, self.n_inputs,
                                       matmul_dtype=self.matmul_dtype)
        sub.load_state_dict({k: v.detach()[index.to(device)].clone() for k, v in self.state_dict().items()})
        sub.fused_recurrence = self.fused_recurrence
        return sub.to(device)

    # -- dropout
    def dropout_masks(self, generators: Sequence[torch.Generator], batch_size: int,
                      device: str | torch.device | None = None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Inverted-dropout masks for one batch: input (K, B, n_inputs) and recurrent (K, B, Ng), or None where no
        network drops. Network k draws from ``generators[k]`` (a CPU generator) only when its rate is > 0."""
        device = device if device is not None else self.decoder.device

        def masks(rates: list[float], width: int) -> torch.Tensor | None:
            if not any(p > 0 for p in rates):
                return None
            out = torch.ones(self.n_networks, batch_size, width)
            for k, p in enumerate(rates):
                if p > 0:
                    keep = torch.rand((batch_size, width), generator=generators[k]) >= p  # (B, width)
                    out[k] = keep.float() / (1.0 - p)
            return out.to(device)

        return masks(self.input_dropout, self.n_inputs), masks(self.recurrent_dropout, self.n_hidden)

    # -- forward
    def forward(self, velocity: torch.Tensor, init_code: torch.Tensor, input_mask: torch.Tensor | None = None,
                recurrent_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """velocity (K, T, B, 2) and init_code (K, B, Np) -> hidden (K, T, B, Ng), output (K, T, B, Np).

        ``output`` is the raw readout (logits for cross-entropy targets). Masks from :meth:`dropout_masks`.
        """
        n_net, n_time, n_batch, n_in = velocity.shape
        if n_net != self.n_networks or n_in != self.n_inputs or init_code.shape != (n_net, n_batch, self.n_outputs):
            raise ValueError(f"expected velocity (K={self.n_networks}, T, B, {self.n_inputs}) and init_code "
                             f"(K, B, {self.n_outputs}); got {tuple(velocity.shape)} and {tuple(init_code.shape)}")
        if input_mask is not None:
            velocity = velocity * input_mask[:, None]  # (K, T, B, 2)
        dtype = self.matmul_dtype
        flat_velocity = velocity.reshape(n_net, n_time * n_batch, n_in)  # (K, T B, 2): inner size 2, kept float32
        drive = torch.bmm(flat_velocity, self.input_weight)  # (K, T B, G Ng)
        if HAS_BIAS[self.arch]:
            drive = drive + self.bias[:, None]
        drive = drive.reshape(n_net, n_time, n_batch, -1)  # (K, T, B, G Ng)
        h0 = mixed_bmm(init_code, self.encoder, dtype)  # (K, B, Ng)
        hidden_low = None  # (K, T, B, Ng) hidden cast to the matmul dtype, where the recurrence made it
        if self.arch in ("rnn", "srnn"):
            if self.fused_recurrence:
                hidden, hidden_low = ElmanRecurrence.apply(drive, h0, self.recurrent_weight, recurrent_mask,
                                                           self.activations, dtype)
            else:
                hidden = self._gated_loop(drive, h0, None, recurrent_mask)
        else:
            c0 = mixed_bmm(init_code, self.cell_encoder, dtype) if self.arch == "lstm" else None  # (K, B, Ng)
            hidden = self._gated_loop(drive, h0, c0, recurrent_mask)
        readout = hidden if hidden_low is None else hidden_low  # the readout's operand, cast once
        flat = readout.reshape(n_net, n_time * n_batch, self.n_hidden)  # (K, T B, Ng)
        output = mixed_bmm(flat, self.decoder.transpose(1, 2), dtype)  # (K, T B, Np)
        return hidden, output.reshape(n_net, n_time, n_batch, self.n_outputs)

    def _activate(self, x: torch.Tensor) -> torch.Tensor:
        """Each network's activation of x (K, ...), out of place (autograd)."""
        if len(self.segments) == 1:
            return _ACTIVATION[self.activations[0]](x)
        return torch.cat([_ACTIVATION[name](x[start:stop]) for start, stop, name in self.segments])

    def _gated_loop(self, drive: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None,
                    mask: torch.Tensor | None) -> torch.Tensor:
        """Autograd time loop for every architecture. drive (K, T, B, G Ng), h (K, B, Ng) -> (K, T, B, Ng)."""
        act, weight, arch = self._activate, self.recurrent_weight, self.arch
        dtype = self.matmul_dtype
        low = dtype != torch.float32  # the weight is cast in every step, so its gradients are summed in float32
        sig = torch.sigmoid
        states = []
        for t in range(drive.shape[1]):
            prev = h if mask is None else h * mask  # (K, B, Ng)
            if arch == "gru":
                rec = mixed_bmm(prev, weight, dtype)  # (K, B, 3 Ng)
                xz, xr, xn = drive[:, t].chunk(3, dim=-1)
                hz, hr, hn = rec.chunk(3, dim=-1)
                z, r = sig(xz + hz), sig(xr + hr)
                h = (1 - z) * act(xn + r * hn) + z * h
            else:
                pre = drive[:, t] + mixed_bmm(prev, weight, dtype) if low else torch.baddbmm(drive[:, t], prev, weight)
                if arch in ("rnn", "srnn"):
                    h = act(pre)
                elif arch == "ugrnn":
                    g, cand = pre.chunk(2, dim=-1)
                    g = sig(g)
                    h = g * h + (1 - g) * act(cand)
                else:  # lstm
                    i, f, cand, o = pre.chunk(4, dim=-1)
                    c = sig(f) * c + sig(i) * act(cand)
                    h = sig(o) * act(c)
            states.append(h)
        return torch.stack(states, dim=1)

    def extra_repr(self) -> str:
        text = (f"K={self.n_networks}, arch={self.arch!r}, activation={self.activation!r}, Ng={self.n_hidden}, "
                f"Np={self.n_outputs}")
        return text if self.matmul_dtype == torch.float32 else f"{text}, matmul_dtype={self.matmul_dtype}"
