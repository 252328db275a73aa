import math

import pytest
import torch

from gridbook.config import TARGETS, TargetConfig, TaskConfig
from gridbook.errors import ConfigError
from gridbook.paper import MSE_TARGETS
from gridbook.task.targets import (
    CartesianTarget,
    DifferenceOfGaussians,
    DifferenceOfSoftmaxes,
    GaussianPlaceCells,
    HighDimCartesianTarget,
    HighDimPolarTarget,
    NormalisedDoG,
    SoftmaxOfDifferences,
    make_target,
    surround_sigma,
)

TASK = TaskConfig()
HALF = TASK.box_width / 2


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def build(seed=0, task=TASK, **fields):
    return make_target(TargetConfig(**fields), task, gen(seed))


def positions(n, seed=1, half=HALF):
    """n uniform positions in the box plus its four corners and four wall midpoints. (n + 8, 2) m"""
    edge = torch.tensor([[1, 1], [1, -1], [-1, 1], [-1, -1], [1, 0], [-1, 0], [0, 1], [0, -1]]) * half
    return torch.cat([(torch.rand(n, 2, generator=gen(seed)) - 0.5) * 2 * half, edge])


PLACE_CELL_CASES = {
    "gaussian": dict(target="gaussian"),
    "dos": dict(target="dos"),
    "dos_std_ratio": dict(target="dos", surround_convention="std_ratio", surround_scale=1.5),
    "dog": dict(target="dog"),
    "general_dog": dict(target="general_dog", a_e=3.0, a_i=0.5),
    "sod": dict(target="sod"),
    "dos_heterogeneous": dict(target="dos", sigma_range=(0.06, 0.18), surround_range=(1.5, 2.5)),
    "dos_multifield": dict(target="dos", fields_lambda=2.0),
    "gaussian_multifield_heterogeneous": dict(target="gaussian", fields_lambda=3.0, sigma_range=(0.06, 0.18)),
}


# ---- codes ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", PLACE_CELL_CASES)
def test_place_cell_targets_are_distributions(case):
    target = build(**PLACE_CELL_CASES[case])
    pos = (torch.rand(20, 200, 2, generator=gen(2)) - 0.5) * 2 * HALF  # (T, B, 2) as in training
    code = target.encode(pos)
    assert code.shape == (20, 200, 512) and code.dtype == torch.float32
    assert (code >= 0).all()
    torch.testing.assert_close(code.sum(-1), torch.ones(20, 200), atol=1e-5, rtol=0)
    edge = target.encode(positions(0))  # corners and walls
    assert (edge >= 0).all() and torch.allclose(edge.sum(-1), torch.ones(8), atol=1e-5)


@pytest.mark.parametrize("case", ["dos", "dog", "general_dog", "dos_heterogeneous", "dos_multifield"])
def test_shifted_targets_have_a_zero_minimum(case):
    code = build(**PLACE_CELL_CASES[case]).encode(positions(500))
    assert code.amin(-1).abs().max() < 1e-7  # shifted by |min|: the least active cell is exactly 0


def test_dos_matches_its_formula_by_hand():
    target = DifferenceOfSoftmaxes(5, 0.3, gen(), surround_scale=3.0, surround_convention="std_ratio")
    pos = torch.tensor([0.2, -0.1])
    d2 = ((target.centres.double() - pos.double()) ** 2).sum(-1)
    diff = torch.softmax(-d2 / (2 * 0.3**2), 0) - torch.softmax(-d2 / (2 * 0.9**2), 0)
    expected = (diff + diff.min().abs()) / (diff + diff.min().abs()).sum()
    torch.testing.assert_close(target.encode(pos).double(), expected, atol=1e-6, rtol=0)


def test_dog_and_sod_match_their_formulas_by_hand():
    pos = torch.tensor([-0.4, 0.3])
    dog = DifferenceOfGaussians(6, 0.2, gen(), a_e=2.0, a_i=0.7, surround_scale=2.0)  # variance_ratio
    d2 = ((dog.centres.double() - pos.double()) ** 2).sum(-1)
    raw = 2.0 * torch.exp(-d2 / (2 * 0.2**2)) - 0.7 * torch.exp(-d2 / (2 * 2.0 * 0.2**2))
    expected = (raw + raw.min().abs()) / (raw + raw.min().abs()).sum()
    torch.testing.assert_close(dog.encode(pos).double(), expected, atol=1e-6, rtol=0)
    sod = SoftmaxOfDifferences(6, 0.2, gen(), surround_scale=2.0)
    expected = torch.softmax(-d2 / (2 * 0.2**2) + d2 / (2 * 2.0 * 0.2**2), 0)
    torch.testing.assert_close(sod.encode(pos).double(), expected, atol=1e-6, rtol=0)


def test_gaussian_target_peaks_at_the_nearest_centre():
    target = build(target="gaussian")
    pos = positions(3000)
    nearest = torch.cdist(pos, target.centres).argmin(-1)
    assert torch.equal(target.encode(pos).argmax(-1), nearest)


def test_dos_favours_the_nearest_cell_and_true_dog_the_farthest():
    # DoS: softmax_narrow >= softmax_wide at the nearest cell and <= at the farthest (exact, from the partition sums).
    # True DoG: exp(-d2/2s^2) - exp(-d2/2s_s^2) <= 0 with 0 at d = 0 and d -> inf, so after the shift the farthest
    # cells get MORE target mass than the nearest one wherever no centre sits on the position: top-k decoding fails.
    pos = positions(2000)
    dos, dog = build(target="dos"), build(target="dog")
    assert torch.equal(dos.centres, dog.centres)
    dist = torch.cdist(pos, dos.centres)
    near, far = dist.argmin(-1, keepdim=True), dist.argmax(-1, keepdim=True)
    dos_code, dog_code = dos.encode(pos), dog.encode(pos)
    assert (dos_code.gather(-1, near) > dos_code.gather(-1, far)).all()
    assert (dog_code.gather(-1, near) < dog_code.gather(-1, far)).float().mean() > 0.99


def test_periodic_place_cells_use_minimum_image_distances():
    target = build(task=TaskConfig(periodic=True), target="gaussian")
    pos = target.centres + torch.tensor([HALF * 2 - 0.01, 0.0])  # one box over, 1 cm away
    d2 = target.squared_distances(pos)
    torch.testing.assert_close(d2.diagonal(), torch.full((512,), 1e-4), atol=2e-6, rtol=0)


# ---- decoding ---------------------------------------------------------------------------------------------------
# Tolerances. Cartesian codes decode exactly up to float32 (< 1e-4 m). The paper's top-3 rule with Np = 512 random
# centres in a 2.2 m box is limited by the centres' spacing: mean error ~4.1 cm, 95th percentile ~8 cm, and a rare
# tail where fewer than 3 cells have a positive DoS; we test mean < 5 cm (6 cm heterogeneous) and p95 < 10 cm.
# Lookup decoding (2 cm grid) is within ~2 cm (mean ~0.8 cm): we test mean < 1 cm and max < 2.5 cm.
@pytest.mark.parametrize("case", ["cartesian", "hd_cartesian", "hd_polar"])
def test_cartesian_and_polar_codes_decode_exactly(case):
    target = build(target=case)
    pos = positions(3000)
    assert target.loss_kind == "mse" and target.centres is None
    assert (target.decode(target.encode(pos)) - pos).norm(dim=-1).max() < 1e-4


@pytest.mark.parametrize("case,method,mean_cm,p95_cm,max_cm", [
    ("gaussian", "top_k", 5.0, 10.0, None),
    ("dos", "top_k", 5.0, 10.0, None),
    ("dos_std_ratio", "top_k", 5.0, 10.0, None),
    ("general_dog", "top_k", 5.0, 10.0, None),
    ("sod", "top_k", 5.0, 10.0, None),
    ("dos_heterogeneous", "top_k", 6.0, 12.0, None),
    ("dog", "lookup", 1.0, None, 2.5),
    ("dos_multifield", "lookup", 1.0, None, 2.5),
    ("gaussian_multifield_heterogeneous", "lookup", 1.0, None, 2.5),
])
def test_place_cell_codes_decode_to_their_position(case, method, mean_cm, p95_cm, max_cm):
    target = build(**PLACE_CELL_CASES[case])
    assert target.decode_method == method
    pos = positions(1000).reshape(-1, 4, 2)  # (N, 4, 2): decode keeps leading dimensions
    decoded = target.decode(target.ideal_output(pos))
    assert decoded.shape == pos.shape
    err_cm = (decoded - pos).norm(dim=-1).flatten() * 100
    assert err_cm.mean() < mean_cm
    if p95_cm is not None:
        assert err_cm.quantile(0.95) < p95_cm
    if max_cm is not None:
        assert err_cm.max() < max_cm


@pytest.mark.parametrize("case", sorted(PLACE_CELL_CASES))
def test_both_fine_decoders_read_the_exact_code_within_the_lookup_grid(case):
    target = build(**PLACE_CELL_CASES[case])
    pos = positions(1000)
    for method in ("nearest", "correlation"):
        err_cm = (target.decode_fine(target.ideal_output(pos), method) - pos).norm(dim=-1) * 100
        assert err_cm.mean() < 1.0 and err_cm.max() < 2.5  # the 2 cm grid: its points lie <= 1.4 cm away


def test_the_correlation_decoder_returns_a_grid_point_from_its_own_exact_code():
    target = build(target="dos")
    grid, _ = target.lookup_table()
    pos = grid[torch.randint(len(grid), (500,), generator=gen(2))]  # (500, 2) m, points of the 2 cm grid
    assert torch.equal(target.decode_correlation(target.ideal_output(pos)), pos)  # a code correlates 1 with itself


def test_a_flatter_output_misleads_the_nearest_code_but_not_the_correlation():
    """A network's softmax can be flatter than its target code. At half the code's log-scale, the nearest code in
    Euclidean distance lies far away (towards the flatter codes near the walls); the best-correlated one does not."""
    target = build(target="dos")
    pos = positions(1000, half=0.9 * HALF)
    flat = 0.5 * target.ideal_output(pos)  # softmax(flat) = code^0.5, renormalised: same peak, less contrast
    nearest = (target.decode_fine(flat, "nearest") - pos).norm(dim=-1) * 100
    correlation = (target.decode_fine(flat, "correlation") - pos).norm(dim=-1) * 100
    assert nearest.mean() > 50 and correlation.mean() < 2


def test_an_unknown_fine_decoder_is_refused():
    with pytest.raises(ValueError, match=r"fine_decoder='cosine' is invalid; allowed values: nearest, correlation"):
        build(target="dos").decode_fine(torch.zeros(3, 512), "cosine")


def test_top_k_decode_is_the_mean_of_the_k_most_active_centres():
    target = GaussianPlaceCells(10, 0.1, gen(), decode_top_k=2)
    logits = torch.zeros(10)
    logits[3], logits[7] = 5.0, 4.0
    torch.testing.assert_close(target.decode(logits), (target.centres[3] + target.centres[7]) / 2)


def test_periodic_top_k_decode_averages_across_the_edge():
    target = build(task=TaskConfig(periodic=True), target="gaussian")
    pos = torch.tensor([[HALF - 0.005, HALF - 0.005], [-HALF + 0.005, 0.3]])
    gap = target.decode(target.ideal_output(pos)) - pos
    gap = torch.remainder(gap + HALF, 2 * HALF) - HALF  # minimum image
    assert gap.norm(dim=-1).max() < 0.1


# ---- heterogeneity and multiple fields --------------------------------------------------------------------------
def test_heterogeneous_draws_respect_their_ranges():
    target = build(target="dos", n_place_cells=2000, sigma_range=(0.06, 0.18), surround_range=(1.5, 2.5))
    for values, (low, high) in ((target.sigmas, (0.06, 0.18)), (target.surround_scales, (1.5, 2.5))):
        assert values.min() >= low and values.max() <= high
        assert values.min() < low + 0.02 * (high - low) and values.max() > high - 0.02 * (high - low)
        assert values.mean().item() == pytest.approx((low + high) / 2, abs=0.03 * (high - low))
    torch.testing.assert_close(target.surround_sigmas, target.sigmas * target.surround_scales.sqrt())
    homogeneous = build(target="dos")
    assert torch.equal(homogeneous.sigmas, torch.full((512,), 0.12))
    assert torch.equal(homogeneous.surround_scales, torch.full((512,), 2.0))


@pytest.mark.parametrize("lam", [2.0, 3.0])
def test_multi_field_counts_are_one_plus_poisson(lam):
    target = build(target="gaussian", n_place_cells=4000, fields_lambda=lam)
    counts = target.n_fields.double()
    assert counts.min() == 1
    assert counts.mean().item() == pytest.approx(1 + lam, abs=4 * math.sqrt(lam / 4000))
    assert counts.var().item() == pytest.approx(lam, rel=0.1)
    assert target.fields.shape[0] == int(counts.max())
    assert build(target="gaussian").fields.shape[0] == 1


def test_each_field_is_a_zero_distance_point_of_its_cell():
    target = build(target="dos", n_place_cells=64, fields_lambda=2.0)
    for slot in range(target.fields.shape[0]):
        d2 = target.squared_distances(target.fields[slot])  # (Np, Np): position = cell j's field in this slot
        # |p|^2 + |c|^2 - 2 p.c in float32 leaves ~1e-7 m^2 (0.3 mm) at zero distance; sigma^2 is 1.4e-2 m^2
        assert d2.diagonal().max() < 1e-6
    first = target.fields[0]
    unused = torch.arange(target.fields.shape[0])[:, None] >= target.n_fields[None, :]  # (F, Np)
    assert torch.equal(target.fields[unused], first.expand_as(target.fields)[unused])
    torch.testing.assert_close(target.centres, first)


# ---- surround conventions ---------------------------------------------------------------------------------------
def test_surround_conventions():
    assert surround_sigma(0.12, 2.0, "variance_ratio") == pytest.approx(0.12 * math.sqrt(2))
    assert surround_sigma(0.12, 2.0, "std_ratio") == pytest.approx(0.24)
    assert surround_sigma(0.12, 2.0) == pytest.approx(0.12 * math.sqrt(2))  # the default is Sorscher's code
    default = build(target="dos")
    std = build(target="dos", surround_convention="std_ratio")
    torch.testing.assert_close(default.surround_sigmas, torch.full((512,), 0.12 * math.sqrt(2)))
    torch.testing.assert_close(std.surround_sigmas, torch.full((512,), 0.24))
    assert not torch.equal(default.encode(positions(10)), std.encode(positions(10)))


# ---- loss -------------------------------------------------------------------------------------------------------
def test_cross_entropy_loss_by_hand():
    target = build(target="dos", n_place_cells=3)
    output = torch.tensor([[[1.0, 2.0, 3.0]], [[0.0, 0.0, -1.0]]])  # (2, 1, 3)
    code = torch.tensor([[[0.2, 0.3, 0.5]], [[1.0, 0.0, 0.0]]])
    lse1 = math.log(math.e + math.e**2 + math.e**3)
    lse2 = math.log(2 + math.exp(-1))
    first = -(0.2 * (1 - lse1) + 0.3 * (2 - lse1) + 0.5 * (3 - lse1))
    second = -(0.0 - lse2)
    assert target.loss(output, code).item() == pytest.approx((first + second) / 2, rel=1e-6)


def test_mse_loss_by_hand():
    target = CartesianTarget()
    output, code = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[0.0, 4.0], [1.0, 1.0]])
    assert target.loss(output, code).item() == pytest.approx((1 + 4 + 1 + 1) / 4)


def test_ideal_output_minimises_the_loss():
    target = build(target="dos", n_place_cells=64)
    pos = positions(50)
    code = target.encode(pos)
    best = target.loss(target.ideal_output(pos), code)
    entropy = -(code * code.clamp_min(1e-30).log()).sum(-1).mean()
    assert best.item() == pytest.approx(entropy.item(), abs=1e-5)
    assert target.loss(target.ideal_output(pos) + 0.1 * torch.randn(code.shape, generator=gen()), code) > best


# ---- construction -----------------------------------------------------------------------------------------------
CLASSES = {"cartesian": CartesianTarget, "hd_cartesian": HighDimCartesianTarget, "hd_polar": HighDimPolarTarget,
           "gaussian": GaussianPlaceCells, "dos": DifferenceOfSoftmaxes, "dog": DifferenceOfGaussians,
           "general_dog": DifferenceOfGaussians, "sod": SoftmaxOfDifferences, "normalised_dog": NormalisedDoG}


@pytest.mark.parametrize("name", TARGETS)
def test_make_target_builds_every_target(name):
    target = build(target=name, n_place_cells=32)
    assert type(target) is CLASSES[name] and target.name == name
    assert target.n_outputs == (2 if name == "cartesian" else 32)
    assert target.loss_kind == ("mse" if name in MSE_TARGETS else "cross_entropy")
    assert target.loss_kind == TargetConfig(target=name).loss_kind
    assert target.encode(positions(5)).shape == (13, target.n_outputs)
    assert target.to("cpu") is target


def test_true_dog_ignores_the_config_amplitudes():
    dog = build(target="dog", a_e=5.0, a_i=0.2)
    assert (dog.a_e, dog.a_i) == (1.0, 1.0)
    general = build(target="general_dog", a_e=5.0, a_i=0.2)
    assert (general.a_e, general.a_i) == (5.0, 0.2)


def test_same_seed_same_target_and_shared_centres():
    assert torch.equal(build(seed=4).centres, build(seed=4).centres)
    assert not torch.equal(build(seed=4).centres, build(seed=5).centres)
    assert torch.equal(build(seed=4, target="gaussian").centres, build(seed=4, target="sod").centres)
    assert torch.equal(build(seed=4, target="hd_cartesian").weights, build(seed=4, target="hd_cartesian").weights)
    assert (build(target="dos").centres.abs() <= HALF).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_target_equals_cpu_target():
    cpu = make_target(TargetConfig(fields_lambda=2.0), TASK, gen(3))
    gpu = make_target(TargetConfig(fields_lambda=2.0), TASK, gen(3), device="cuda")
    pos = positions(100)
    torch.testing.assert_close(gpu.encode(pos.cuda()).cpu(), cpu.encode(pos), atol=1e-6, rtol=1e-5)
    assert torch.equal(gpu.decode(gpu.ideal_output(pos.cuda())).cpu(), cpu.decode(cpu.ideal_output(pos)))


@pytest.mark.parametrize("factory,match", [
    (lambda: GaussianPlaceCells(512, 0.0, gen()), r"sigma=0.0 is invalid; allowed values: > 0"),
    (lambda: GaussianPlaceCells(0, 0.12, gen()), r"n_place_cells=0 is invalid; allowed values: an integer >= 1"),
    (lambda: DifferenceOfSoftmaxes(512, 0.12, gen(), surround_scale=1.0),
     r"surround_scale=1.0 is invalid for target 'dos'; allowed values: > 1"),
    (lambda: SoftmaxOfDifferences(512, 0.12, gen(), surround_scale=0.5),
     r"surround_scale=0.5 is invalid for target 'sod'; allowed values: > 1"),
    (lambda: DifferenceOfSoftmaxes(512, 0.12, gen(), surround_convention="banana"),
     r"surround_convention='banana' is invalid; allowed values: std_ratio, variance_ratio"),
    (lambda: GaussianPlaceCells(512, 0.12, gen(), sigma_range=(0.2, 0.1)),
     r"sigma_range=\(0.2, 0.1\) is invalid; allowed values: None or \(a, b\) with 0.0 < a <= b"),
    (lambda: DifferenceOfSoftmaxes(512, 0.12, gen(), surround_range=(0.5, 2.0)),
     r"surround_range=\(0.5, 2.0\) is invalid; allowed values: None or \(a, b\) with 1.0 < a <= b"),
    (lambda: GaussianPlaceCells(512, 0.12, gen(), fields_lambda=-1.0),
     r"fields_lambda=-1.0 is invalid; allowed values: >= 0"),
    (lambda: GaussianPlaceCells(8, 0.12, gen(), decode_top_k=9),
     r"decode_top_k=9 is invalid; allowed values: 1..n_place_cells \(8\)"),
    (lambda: GaussianPlaceCells(8, 0.12, gen(), decode_method="argmax"),
     r"decode_method='argmax' is invalid; allowed values: top_k, lookup"),
    (lambda: DifferenceOfGaussians(8, 0.12, gen(), a_e=-1.0), r"a_e=-1.0 is invalid; allowed values: >= 0"),
    (lambda: HighDimCartesianTarget(1, gen()), r"n_place_cells=1 is invalid; allowed values: an integer >= 2"),
    (lambda: HighDimPolarTarget(16, gen(), von_mises_kappa=-1.0),
     r"von_mises_kappa=-1.0 is invalid; allowed values: >= 0"),
    (lambda: build(target="banana"), r"target='banana' is invalid; allowed values: cartesian, hd_cartesian, .*dos"),
    (lambda: surround_sigma(0.1, 2.0, "variance"), r"surround_convention='variance' is invalid; allowed values"),
])
def test_bad_values_raise_naming_field_and_allowed_values(factory, match):
    with pytest.raises(ConfigError, match=match):
        factory()


def test_bad_position_shape_raises():
    with pytest.raises(ValueError, match=r"pos must have shape \(\.\.\., 2\)"):
        build(target="dos").encode(torch.zeros(4, 3))


def test_the_registry_names_every_target_once_and_each_has_its_encoder():
    from gridbook.config import TARGET_KINDS, TARGETS, TargetConfig, TaskConfig, loss_kind
    from gridbook.paper import MSE_TARGETS
    from gridbook.task.targets import PLACE_CELL_CLASSES, make_target

    assert TARGETS == tuple(TARGET_KINDS)
    assert {t for t, k in TARGET_KINDS.items() if k.loss == "mse"} == set(MSE_TARGETS)  # the paper's list
    assert {t for t, k in TARGET_KINDS.items() if k.place_cells} == set(PLACE_CELL_CLASSES)
    for name, kind in TARGET_KINDS.items():
        encoder = make_target(TargetConfig(target=name, n_place_cells=8), TaskConfig(), torch.Generator())
        assert encoder.name == name and encoder.loss_kind == kind.loss == loss_kind(name)
        assert encoder.n_outputs == (kind.code_size or 8)
        if kind.place_cells:
            assert type(encoder).has_surround == kind.surround


def test_the_normalised_dog_peaks_at_each_cells_own_field_as_the_true_dog_does_not():
    from gridbook.config import TargetConfig, TaskConfig
    from gridbook.task.targets import make_target

    def code_at_centres(name):
        target = make_target(TargetConfig(target=name, n_place_cells=64), TaskConfig(),
                             torch.Generator().manual_seed(3))
        return target, target.encode(target.centres)  # (Np, Np): row i = the code at cell i's centre

    normalised, code = code_at_centres("normalised_dog")
    assert (code.argmax(-1) == torch.arange(64)).float().mean() > 0.95 and normalised.decode_method == "top_k"
    true, code = code_at_centres("dog")
    assert (code.argmax(-1) == torch.arange(64)).float().mean() < 0.5 and true.decode_method == "lookup"
    a_e, a_i = normalised.amplitudes()
    torch.testing.assert_close(a_e / a_i, torch.full((64,), 2.0))  # s = 2 as a variance ratio
