"""The screened correlation search gives the full float32 product's argmax: peaked, flattened and random outputs on
the DoS, true-DoG and Gaussian codes; the full product serves outputs with too many candidates."""

from __future__ import annotations

import pytest
import torch

from gridbook.config import profile_config
from gridbook.task import lookup
from gridbook.task.lookup import best_correlated_rows, best_table_rows
from gridbook.task.targets import make_target


def _templates(name):
    config = profile_config("quick", target=name)
    target = make_target(config.target, config.task, torch.Generator().manual_seed(0))
    return target, target.correlation_table()[1]


def _outputs(code: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
    logits = code.log()
    return {"noisy": logits + 0.5 * torch.randn(code.shape, generator=generator), "flattened": 0.3 * logits,
            "sharpened": 3 * logits, "exact": logits, "random": torch.randn(code.shape, generator=generator)}


def _assert_same_argmax(probs, templates, screened):
    scores = probs @ templates.T  # (N, G) the full float32 product
    full = scores.argmax(-1)
    chosen, best = scores.gather(1, screened[:, None])[:, 0], scores.gather(1, full[:, None])[:, 0]
    # the same row, or one whose float32 score ties the best within float32 rounding
    assert torch.all((screened == full) | ((best - chosen).abs() <= 1e-6 * best.abs().clamp_min(1e-3)))
    assert (screened == full).float().mean() > 0.99


@pytest.mark.parametrize("name", ["dos", "dog", "gaussian"])
def test_screened_search_equals_the_full_product(name):
    target, templates = _templates(name)
    generator = torch.Generator().manual_seed(1)
    positions = (torch.rand(3000, 2, generator=generator) - 0.5) * 2.2  # m
    for output in _outputs(target.encode(positions), generator).values():
        probs = torch.softmax(output, -1)
        _assert_same_argmax(probs, templates, best_correlated_rows(probs, templates))
    assert torch.equal(best_table_rows(probs, templates), (probs @ templates.T).argmax(-1))


def test_the_full_product_serves_outputs_with_too_many_candidates(monkeypatch):
    target, templates = _templates("dos")
    generator = torch.Generator().manual_seed(2)
    probs = torch.softmax(target.encode((torch.rand(800, 2, generator=generator) - 0.5) * 2.2).log(), -1)
    calls = []
    monkeypatch.setattr(lookup, "LOOKUP_CHUNK", 200 * templates.shape[0])  # chunks of 200 outputs
    monkeypatch.setattr(lookup, "MAX_CANDIDATES", 0)  # every screen has too many candidates
    original = lookup._screened
    monkeypatch.setattr(lookup, "_screened", lambda *args: calls.append(1) or original(*args))
    assert torch.equal(best_correlated_rows(probs, templates), (probs @ templates.T).argmax(-1))
    assert len(calls) == 1  # after the first chunk falls back, the later chunks skip the screen


def test_without_its_bound_the_bf16_screen_would_miss_the_best_row():
    target, templates = _templates("dog")
    generator = torch.Generator().manual_seed(3)
    code = target.encode((torch.rand(2000, 2, generator=generator) - 0.5) * 2.2)
    probs = torch.softmax(_outputs(code, generator)["noisy"], -1)
    bf16 = (probs.bfloat16() @ templates.bfloat16().T).float().argmax(-1)
    assert (bf16 != (probs @ templates.T).argmax(-1)).float().mean() > 0.05


def test_uncentred_tables_and_empty_inputs():
    with pytest.raises(ValueError, match="templates must be centred"):
        best_correlated_rows(torch.rand(3, 4), torch.eye(4))
    centred = torch.eye(4) - 0.25
    assert best_correlated_rows(torch.zeros(0, 4), centred).shape == (0,)
    assert best_table_rows(torch.zeros(0, 4), torch.eye(4)).shape == (0,)
    assert torch.equal(best_correlated_rows(torch.eye(4), centred), torch.arange(4))
