"""The screened lookup search gives the full float32 product's argmax: peaked, flattened and random outputs of the DoS,
true-DoG and Gaussian codes, for the correlation and the nearest-code scores; the full product serves outputs with
too many candidates."""

from __future__ import annotations

import pytest
import torch

from gridbook.profiles import profile_config
from gridbook.task import lookup
from gridbook.task.lookup import best_table_rows, full_table_rows
from gridbook.task.targets import make_target


def _target(name):
    config = profile_config("quick", target=name)
    return make_target(config.target, config.task, torch.Generator().manual_seed(0))


def _outputs(code: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
    logits = code.log()
    return {"noisy": logits + 0.5 * torch.randn(code.shape, generator=generator), "flattened": 0.3 * logits,
            "sharpened": 3 * logits, "exact": logits, "random": torch.randn(code.shape, generator=generator)}


def _assert_same_argmax(probs, table, scale, offset, screened):
    offset = torch.zeros(table.shape[0]) if offset is None else offset
    full = (scale * probs @ table.T - offset).argmax(-1)  # (N,) the full float32 product's rows
    exact = scale * probs.double() @ table.double().T - offset.double()  # (N, G) float64 scores
    # any float32 evaluation of a score is within gamma * (its terms' magnitudes) of the exact one (Np terms)
    gamma = 2 * table.shape[1] * 2.0**-24 * (scale * probs.double() @ table.double().abs().T + offset.abs()).amax(-1)
    lost = exact.amax(-1) - exact.gather(1, screened[:, None])[:, 0]  # (N,) >= 0
    assert torch.all(lost <= gamma)  # the best row, up to float32 rounding
    assert (screened == full).float().mean() > 0.99  # and nearly always the full product's own choice


@pytest.mark.parametrize("name", ["dos", "dog", "gaussian"])
def test_screened_search_equals_the_full_product(name):
    target = _target(name)
    _, codes = target.lookup_table()
    _, templates = target.correlation_table()
    norm2 = codes.square().sum(-1)
    generator = torch.Generator().manual_seed(1)
    positions = (torch.rand(1000, 2, generator=generator) - 0.5) * 2.2  # m
    for output in _outputs(target.encode(positions), generator).values():
        probs = torch.softmax(output, -1)
        _assert_same_argmax(probs, templates, 1.0, None, best_table_rows(probs, templates))
        _assert_same_argmax(probs, codes, 2.0, norm2, best_table_rows(probs, codes, 2.0, norm2))
    assert torch.equal(full_table_rows(probs, templates), (probs @ templates.T).argmax(-1))


def test_the_full_product_serves_outputs_with_too_many_candidates(monkeypatch):
    target = _target("dos")
    _, templates = target.correlation_table()
    generator = torch.Generator().manual_seed(2)
    probs = torch.softmax(target.encode((torch.rand(800, 2, generator=generator) - 0.5) * 2.2).log(), -1)
    calls = []
    monkeypatch.setattr(lookup, "LOOKUP_CHUNK", 200 * templates.shape[0])  # chunks of 200 outputs
    monkeypatch.setattr(lookup, "MAX_CANDIDATES", 0)  # every screen has too many candidates
    original = lookup.ScreenedSearch._screened
    monkeypatch.setattr(lookup.ScreenedSearch, "_screened", lambda *args: calls.append(1) or original(*args))
    assert torch.equal(best_table_rows(probs, templates), (probs @ templates.T).argmax(-1))
    assert len(calls) == 1  # after the first chunk falls back, the later chunks skip the screen


def test_without_its_bound_the_bf16_screen_would_miss_the_best_row():
    target = _target("dog")
    _, templates = target.correlation_table()
    generator = torch.Generator().manual_seed(3)
    code = target.encode((torch.rand(2000, 2, generator=generator) - 0.5) * 2.2)
    probs = torch.softmax(_outputs(code, generator)["noisy"], -1)
    bf16 = (probs.bfloat16() @ templates.bfloat16().T).float().argmax(-1)
    assert (bf16 != (probs @ templates.T).argmax(-1)).float().mean() > 0.05


def test_small_cases_and_bad_scale():
    table = torch.eye(4)
    assert torch.equal(best_table_rows(torch.eye(4) * 0.7 + 0.075, table), torch.arange(4))
    assert torch.equal(best_table_rows(torch.full((1, 4), 0.25), table, 2.0, torch.tensor([0.3, 0.1, 0.2, 0.4])),
                       torch.tensor([1]))
    assert best_table_rows(torch.zeros(0, 4), table).shape == full_table_rows(torch.zeros(0, 4), table).shape == (0,)
    with pytest.raises(ValueError, match="scale=0 is invalid"):
        best_table_rows(torch.eye(4), table, 0)
