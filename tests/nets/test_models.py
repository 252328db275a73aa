"""Batched recurrent networks: shapes, per-network independence, the hand-written backward, initialisers, dropout."""

from __future__ import annotations

import math

import pytest
import torch

from gridbook.config import ACTIVATIONS, ModelConfig
from gridbook.errors import ConfigError
from gridbook.nets.models import (
    GATES,
    BatchedRecurrentNetworks,
    init_matrix,
    network_generator,
    parameter_shapes,
    step_flops,
    weight_count,
)
from gridbook.profiles import profile_config

ARCHS = tuple(GATES)
NG, NP, B, T = 16, 12, 6, 5


def make_networks(arch: str = "rnn", seeds=(0, 1, 2), activation: str = "relu", **model) -> BatchedRecurrentNetworks:
    configs = [ModelConfig(arch=arch, n_hidden=NG, activation=activation, **model) for _ in seeds]
    return BatchedRecurrentNetworks(configs, NP, [network_generator(s, "init") for s in seeds])


def inputs(k: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(k, T, B, 2, generator=gen), torch.randn(k, B, NP, generator=gen)


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_shapes_and_parameter_shapes(arch):
    net = make_networks(arch)
    hidden, output = net(*inputs(3))
    assert hidden.shape == (3, T, B, NG) and output.shape == (3, T, B, NP)
    assert net.recurrent_weight.shape == (3, NG, GATES[arch] * NG)
    assert ("bias" in dict(net.named_parameters())) == (arch != "rnn")
    assert ("cell_encoder" in dict(net.named_parameters())) == (arch == "lstm")


@pytest.mark.parametrize("arch", ARCHS)
def test_network_in_a_batch_equals_network_alone(arch):
    together = make_networks(arch, seeds=(4, 5, 6))
    velocity, code = inputs(3)
    hidden, output = together(velocity, code)
    for k, seed in enumerate((4, 5, 6)):
        alone = make_networks(arch, seeds=(seed,))
        for name, value in alone.state_dict().items():
            assert torch.equal(value[0], together.state_dict()[name][k]), name
        h1, o1 = alone(velocity[k:k + 1], code[k:k + 1])
        torch.testing.assert_close(h1[0], hidden[k], atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(o1[0], output[k], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("arch", ["rnn", "srnn"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_fused_elman_backward_matches_autograd(arch, activation, dropout):
    net = make_networks(arch, activation=activation, recurrent_dropout=dropout, input_dropout=dropout)
    velocity, code = inputs(3, seed=1)
    masks = net.dropout_masks([network_generator(s, "dropout") for s in range(3)], B)
    results = []
    for fused in (True, False):
        net.fused_recurrence = fused
        net.zero_grad()
        hidden, output = net(velocity, code, *masks)
        (hidden.sin().sum() + output.square().mean()).backward()
        results.append([hidden.detach(), output.detach()] + [p.grad.clone() for p in net.parameters()])
    for fused, plain in zip(*results, strict=True):
        torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activations_set_the_range_of_hidden_units(activation):
    hidden, _ = make_networks("rnn", activation=activation, encoder_init_scale=5.0)(*inputs(3))
    low, high = {"relu": (0, math.inf), "tanh": (-1, 1), "sigmoid": (0, 1), "linear": (-math.inf, math.inf)}[activation]
    assert hidden.min() >= low and hidden.max() <= high
    if activation in ("relu", "sigmoid"):
        assert hidden.min() < high  # not saturated everywhere
    if activation in ("tanh", "linear"):
        assert hidden.min() < 0 < hidden.max()


def test_orthogonal_initializer_gives_orthogonal_blocks():
    net = make_networks("lstm", initializer="orthogonal")
    for block in net.recurrent_weight.detach().split(NG, dim=2):  # (K, Ng, Ng) each gate
        eye = torch.eye(NG).expand(3, NG, NG)
        torch.testing.assert_close(block.transpose(1, 2) @ block, eye, atol=1e-5, rtol=0)


def test_glorot_initializers_have_their_ranges_and_variances():
    gen = torch.Generator().manual_seed(0)
    uniform = init_matrix((300, 500), "glorot_uniform", gen)
    bound = math.sqrt(6 / 800)
    assert uniform.abs().max() <= bound and uniform.abs().max() > 0.99 * bound
    assert uniform.var().item() == pytest.approx(bound**2 / 3, rel=0.02)
    normal = init_matrix((300, 500), "glorot_normal", gen)
    std = math.sqrt(2 / 800) / 0.87962566103423978  # Keras: truncated at 2 std, rescaled to variance 2 / fan sum
    assert normal.abs().max() <= 2 * std
    assert normal.var().item() == pytest.approx(2 / 800, rel=0.03)
    with pytest.raises(ConfigError, match="initializer='he'.*glorot_uniform"):
        init_matrix((3, 3), "he", gen)


@pytest.mark.parametrize("initializer", ["glorot_uniform", "glorot_normal", "orthogonal"])
def test_initializer_only_changes_the_recurrent_matrix(initializer):
    base = make_networks("gru")
    other = make_networks("gru", initializer=initializer)
    for name, value in base.state_dict().items():
        same = torch.equal(value, other.state_dict()[name])
        assert same == (name != "recurrent_weight" or initializer == "glorot_uniform"), name


def test_encoder_init_scale_multiplies_the_encoders():
    plain, scaled = make_networks("lstm"), make_networks("lstm", encoder_init_scale=20.0)
    for name in ("encoder", "cell_encoder"):
        torch.testing.assert_close(getattr(scaled, name), 20.0 * getattr(plain, name), rtol=1e-6, atol=0)
    torch.testing.assert_close(scaled.decoder, plain.decoder, rtol=0, atol=0)


def test_gate_biases_start_at_one_for_lstm_forget_and_ugrnn_update_gates():
    lstm, ugrnn, gru = make_networks("lstm"), make_networks("ugrnn"), make_networks("gru")
    assert torch.equal(lstm.bias[:, NG:2 * NG], torch.ones(3, NG)) and lstm.bias.sum() == 3 * NG
    assert torch.equal(ugrnn.bias[:, :NG], torch.ones(3, NG)) and ugrnn.bias.sum() == 3 * NG
    assert gru.bias.abs().sum() == 0


def test_network_generator_streams_are_deterministic_and_distinct():
    draw = lambda seed, stream: torch.rand(4, generator=network_generator(seed, stream))  # noqa: E731
    assert torch.equal(draw(3, "init"), draw(3, "init"))
    streams = [draw(3, s) for s in ("init", "target", "trajectories", "dropout")] + [draw(4, "init")]
    assert len({tuple(s.tolist()) for s in streams}) == len(streams)
    with pytest.raises(ValueError, match="stream='weights'.*trajectories"):
        network_generator(0, "weights")


def test_dropout_masks_rates_scaling_and_independence():
    net = make_networks("rnn", seeds=(0, 1), recurrent_dropout=0.5)
    assert net.dropout_masks([network_generator(s, "dropout") for s in (0, 1)], B)[0] is None  # no input dropout
    configs = [ModelConfig(n_hidden=400, recurrent_dropout=p) for p in (0.0, 0.25)]
    wide = BatchedRecurrentNetworks(configs, NP, [network_generator(s, "init") for s in (0, 1)])
    _, mask = wide.dropout_masks([network_generator(s, "dropout") for s in (0, 1)], 50)
    assert torch.equal(mask[0], torch.ones(50, 400))
    assert set(mask[1].unique().tolist()) == {0.0, torch.tensor(1 / 0.75).item()}
    assert (mask[1] == 0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    alone = BatchedRecurrentNetworks(configs[1:], NP, [network_generator(1, "init")])
    _, mask_alone = alone.dropout_masks([network_generator(1, "dropout")], 50)
    assert torch.equal(mask_alone[0], mask[1])


def test_networks_of_different_shapes_cannot_share_a_batch():
    configs = [ModelConfig(arch="rnn", n_hidden=NG), ModelConfig(arch="gru", n_hidden=NG)]
    with pytest.raises(ConfigError, match="arch differs between networks"):
        BatchedRecurrentNetworks(configs, NP, None)
    with pytest.raises(ConfigError, match="target code size differs"):
        BatchedRecurrentNetworks.from_configs([profile_config("smoke"), profile_config("smoke", target="cartesian")])
    with pytest.raises(ValueError, match="expected velocity"):
        make_networks()(*inputs(2))


def test_from_configs_and_subset():
    configs = [profile_config("smoke", seed=s) for s in (0, 7)]
    net = BatchedRecurrentNetworks.from_configs(configs)
    assert net.n_outputs == configs[0].target.code_size == 32
    assert torch.equal(net.decoder[1], BatchedRecurrentNetworks.from_configs(configs[1:]).decoder[0])
    sub = net.subset([1])
    velocity, code = torch.randn(2, T, B, 2), torch.randn(2, B, 32)
    torch.testing.assert_close(sub(velocity[1:], code[1:])[1][0], net(velocity, code)[1][1], atol=1e-6, rtol=1e-6)
    assert profile_config("smoke", target="cartesian").target.code_size == 2


# ---- mixed precision (bfloat16 matmul operands) -------------------------------------------------------------------
def _scaled_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """max |value - reference| relative to the reference's scale (its largest magnitude)."""
    return ((value - reference).abs().max() / reference.abs().max()).item()


def _relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """||value - reference|| / ||reference|| (Frobenius): relu units near 0 that switch on or off in bfloat16 make
    single gradient entries differ a lot, the gradient as a whole only a little."""
    return ((value - reference).norm() / reference.norm()).item()


def _run(net, velocity, code, masks=(None, None)):
    net.zero_grad()
    hidden, output = net(velocity, code, *masks)
    (hidden.sin().sum() + output.square().mean()).backward()
    return [hidden.detach(), output.detach()] + [p.grad.clone() for p in net.parameters()]


@pytest.mark.parametrize("arch", ARCHS)
def test_bfloat16_forward_and_gradients_are_close_to_float32(arch):
    full = make_networks(arch)
    half = make_networks(arch)
    half.matmul_dtype = torch.bfloat16
    assert all(p.dtype == torch.float32 for p in half.parameters())  # master weights stay float32
    velocity, code = inputs(3, seed=2)
    exact, mixed = _run(full, velocity, code), _run(half, velocity, code)
    assert all(m.dtype == torch.float32 for m in mixed)  # hidden state, output and gradients are float32
    assert not torch.equal(exact[1], mixed[1])  # the products really ran in bfloat16
    assert _scaled_error(mixed[0], exact[0]) < 2e-2 and _scaled_error(mixed[1], exact[1]) < 2e-2  # hidden, output
    for (name, _), e, m in zip(half.named_parameters(), exact[2:], mixed[2:], strict=True):
        assert _relative_error(m, e) < 0.1, name  # measured <= 0.06 (errors compound back through the T steps)


@pytest.mark.parametrize("arch", ["rnn", "srnn"])
@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_bfloat16_fused_elman_backward_matches_autograd_on_the_bfloat16_loop(arch, dropout):
    net = make_networks(arch, recurrent_dropout=dropout, input_dropout=dropout)
    net.matmul_dtype = torch.bfloat16
    velocity, code = inputs(3, seed=3)
    masks = net.dropout_masks([network_generator(s, "dropout") for s in range(3)], B)
    results = []
    for fused in (True, False):
        net.fused_recurrence = fused
        results.append(_run(net, velocity, code, masks))
    torch.testing.assert_close(results[0][0], results[1][0], atol=1e-5, rtol=1e-5)  # same bf16 forward
    names = ["hidden", "output"] + [name for name, _ in net.named_parameters()]
    for name, fused, plain in zip(names, *results, strict=True):
        assert _relative_error(fused, plain) < 1e-2, name  # measured <= 0.002 (dL/dU is one product, not T)


def test_bfloat16_networks_in_a_batch_match_networks_alone_and_subset_keeps_the_dtype():
    configs = [profile_config("smoke", seed=s, precision="bfloat16") for s in (0, 1, 2)]
    together = BatchedRecurrentNetworks.from_configs(configs)
    assert together.matmul_dtype == torch.bfloat16 and "bfloat16" in repr(together)
    assert BatchedRecurrentNetworks.from_configs(configs[:1]).matmul_dtype == torch.bfloat16
    velocity, code = torch.randn(3, T, B, 2), torch.randn(3, B, 32)
    _, output = together(velocity, code)
    for k in range(3):
        alone = together.subset([k])
        assert alone.matmul_dtype == torch.bfloat16
        assert _scaled_error(alone(velocity[k:k + 1], code[k:k + 1])[1][0], output[k]) < 1e-2
    with pytest.raises(ConfigError, match="precision differs"):
        BatchedRecurrentNetworks.from_configs([profile_config("smoke"), configs[1]])
    with pytest.raises(ConfigError, match="matmul_dtype"):
        BatchedRecurrentNetworks([ModelConfig(n_hidden=NG)], NP, None, matmul_dtype=torch.float16)


def test_weight_count_is_the_sum_of_the_parameter_shapes():
    config = profile_config("quick")  # rnn, Ng = Np = 256: recurrent + input + encoder + decoder
    assert weight_count(config) == 256 * 256 + 2 * 256 + 2 * 256 * 256
    net = BatchedRecurrentNetworks.from_configs([config.replace(arch="lstm")], initialise=False)
    assert weight_count(config.replace(arch="lstm")) == sum(p[0].numel() for p in net.parameters())
    assert parameter_shapes("gru", 4, 3)["recurrent_weight"] == (4, 12)
    with pytest.raises(ConfigError, match="arch='tcn' is invalid"):
        parameter_shapes("tcn", 4, 3)


def test_step_flops_counts_every_matrix_product():
    config = profile_config("smoke", n_hidden=4, n_place_cells=3, batch_size=2, seq_len=5)
    rows = 5 * 2
    forward = 2 * rows * 4 * 4 + 2 * rows * 4 * 3  # recurrence, decoder
    assert step_flops(config) == 3 * forward + 2 * (2 * 2 * 3 * 4 + 2 * rows * 2 * 4)  # + encoder, velocity input
    gru = config.replace(arch="gru")
    assert step_flops(gru) - step_flops(config) == 3 * 2 * rows * 4 * 2 * 4 + 2 * 2 * rows * 2 * 2 * 4
