"""The base class of the supervised readout targets (see :mod:`gridbook.task.targets`)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from gridbook.config import loss_kind


def as_positions(pos: Any, device: torch.device) -> torch.Tensor:
    """Positions as a float32 tensor (..., 2) in metres on ``device``; raises unless the last axis is (x, y)."""
    pos = torch.as_tensor(pos, dtype=torch.float32, device=device)
    if pos.shape[-1:] != (2,):
        raise ValueError(f"pos must have shape (..., 2) in metres; got {tuple(pos.shape)}")
    return pos


class TargetEncoder:
    """Base class. Attributes: ``name`` (a value of :data:`gridbook.config.TARGETS`), ``loss_kind``
    (``"cross_entropy"`` or ``"mse"``), ``n_outputs``, ``centres`` ((Np, 2) m place-cell centres, or None), ``device``.
    """

    name: str = ""
    n_outputs: int = 0
    centres: torch.Tensor | None = None

    def __init__(self, device: str | torch.device | None = None) -> None:
        self.device = torch.device(device if device is not None else "cpu")

    @property
    def loss_kind(self) -> str:
        """The loss of this code (:func:`gridbook.config.loss_kind`)."""
        return loss_kind(self.name)

    def encode(self, pos: Any) -> torch.Tensor:
        """pos (..., 2) m -> target code (..., n_outputs)."""
        raise NotImplementedError

    def encode_into(self, pos: Any, out: torch.Tensor) -> torch.Tensor:
        """:meth:`encode` written into ``out`` (..., n_outputs); returns ``out``. Subclasses may write their last step
        there directly (saving a copy)."""
        return out.copy_(self.encode(pos))

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        """Raw network output (..., n_outputs) (logits for cross-entropy targets) -> position (..., 2) m."""
        raise NotImplementedError

    def decode_fine(self, output: torch.Tensor, method: str = "nearest") -> torch.Tensor:
        """The decoder a network is judged by: one whose error on the exact code (its floor) is at most a few cm, so
        that the decoder, not the network, never decides whether a network learned. ``method``: the run's
        ``AnalysisConfig.fine_decoder``, for place-cell codes (the nearest code, or the best-correlated one); the
        affine codes decode exactly by :meth:`decode` whatever it is. (..., n_outputs) -> (..., 2) m."""
        return self.decode(output)

    def fine_is_decode(self, method: str = "nearest") -> bool:
        """Whether :meth:`decode_fine` with ``method`` is :meth:`decode` for this target (then one decoding serves
        both)."""
        return True

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Scalar mean loss: softmax cross-entropy ``-(target * log_softmax(output)).sum(-1).mean()`` or MSE."""
        if self.loss_kind == "cross_entropy":
            return -(target * F.log_softmax(output, dim=-1)).sum(-1).mean()
        return F.mse_loss(output, target)

    def ideal_output(self, pos: Any) -> torch.Tensor:
        """A raw output that minimises the loss at ``pos``: :meth:`output_of_code` of its code."""
        return self.output_of_code(self.encode(pos))

    def output_of_code(self, code: torch.Tensor) -> torch.Tensor:
        """The raw output (..., n_outputs) that minimises the loss against ``code``: the code itself (MSE), or its log
        (cross-entropy; clamped at 1e-30 so zero targets give finite logits)."""
        return torch.log(code.clamp_min(1e-30)) if self.loss_kind == "cross_entropy" else code

    def _tensors(self) -> list[str]:
        return [k for k, v in vars(self).items() if isinstance(v, torch.Tensor)]

    def to(self, device: str | torch.device) -> TargetEncoder:
        """Move every tensor to ``device``; returns self."""
        self.device = torch.device(device)
        for key in self._tensors():
            setattr(self, key, getattr(self, key).to(self.device))
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_outputs={self.n_outputs}, loss_kind={self.loss_kind!r}, device={self.device})"
