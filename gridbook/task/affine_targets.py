"""The MSE readout targets of PAPER.md section 3: Cartesian (x, y), random affine (high-dimensional Cartesian) and
polar codes, each with its decoder. Importable from :mod:`gridbook.task.targets` as well."""

from __future__ import annotations

import math
from typing import Any

import torch

from gridbook.errors import check_int, check_positive
from gridbook.task.encoder import TargetEncoder, as_positions

__all__ = ["CartesianTarget", "HighDimCartesianTarget", "HighDimPolarTarget"]


# ---- Cartesian and polar codes (MSE) ------------------------------------------------------------------------------
class CartesianTarget(TargetEncoder):
    """Output (x, y) in metres, MSE loss, decode = identity."""

    name, n_outputs = "cartesian", 2

    def encode(self, pos: Any) -> torch.Tensor:
        return as_positions(pos, self.device).clone()  # (..., 2) m

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        return output  # (..., 2) m


class HighDimCartesianTarget(TargetEncoder):
    """``n_outputs`` random affine functions of (x, y): ``code = pos @ weights.T + bias``, MSE loss.

    weights (n, 2) 1/m and bias (n,) are standard normal draws from the generator. Decoding is least squares:
    ``pos = (output - bias) @ pinv(weights).T``, exact for a noiseless code.
    """

    name = "hd_cartesian"

    def __init__(self, n_outputs: int, generator: torch.Generator, device: str | torch.device | None = None) -> None:
        super().__init__(device)
        check_int("n_place_cells", n_outputs, 2)
        self.n_outputs = n_outputs
        draw = torch.randn((n_outputs, 3), generator=generator, dtype=torch.float64, device=generator.device).cpu()
        self.weights = draw[:, :2].float().to(self.device)  # (n, 2) 1/m
        self.bias = draw[:, 2].float().to(self.device)  # (n,)
        self.decoder = torch.linalg.pinv(draw[:, :2]).float().to(self.device)  # (2, n) m

    def encode(self, pos: Any) -> torch.Tensor:
        return as_positions(pos, self.device) @ self.weights.T + self.bias  # (..., n)

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        return (output - self.bias) @ self.decoder.T  # (..., 2) m


class HighDimPolarTarget(TargetEncoder):
    """Half the units affine in the radius r, half von Mises in the angle theta; MSE loss.

    Radial units (the first ``n // 2``): ``a_j r + c_j`` with standard normal a_j, c_j from the generator.
    Angular units (the other ``n - n // 2 = M``): ``exp(kappa cos(theta - mu_j))`` with ``mu_j = 2 pi j / M`` evenly
    spread over the circle (paper: kappa = 1; kappa = 0 carries no angle information).
    Decoding: r by least squares on the radial half, theta by the circular mean ``atan2(sum o_j sin mu_j,
    sum o_j cos mu_j)`` of the angular half (exact for a noiseless code up to aliasing of order I_{M-1}(kappa)),
    then ``(r cos theta, r sin theta)``.
    """

    name = "hd_polar"

    def __init__(self, n_outputs: int, generator: torch.Generator, von_mises_kappa: float = 1.0,
                 device: str | torch.device | None = None) -> None:
        super().__init__(device)
        check_int("n_place_cells", n_outputs, 2)
        check_positive("von_mises_kappa", von_mises_kappa, strict=False)
        self.n_outputs, self.kappa = n_outputs, float(von_mises_kappa)
        self.n_radial = n_outputs // 2
        n_angular = n_outputs - self.n_radial
        draw = torch.randn((self.n_radial, 2), generator=generator, dtype=torch.float64, device=generator.device)
        self.radial_weights = draw[:, 0].cpu().float().to(self.device)  # (n_radial,) 1/m
        self.radial_bias = draw[:, 1].cpu().float().to(self.device)  # (n_radial,)
        self.preferred_angles = (torch.arange(n_angular, dtype=torch.float32) * (2 * math.pi / n_angular)).to(
            self.device)  # (M,) rad

    def encode(self, pos: Any) -> torch.Tensor:
        pos = as_positions(pos, self.device)  # (..., 2) m
        radius = pos.norm(dim=-1, keepdim=True)  # (..., 1) m
        angle = torch.atan2(pos[..., 1:], pos[..., :1])  # (..., 1) rad
        radial = radius * self.radial_weights + self.radial_bias  # (..., n_radial)
        angular = torch.exp(self.kappa * torch.cos(angle - self.preferred_angles))  # (..., M)
        return torch.cat([radial, angular], dim=-1)  # (..., n)

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        radial, angular = output[..., : self.n_radial], output[..., self.n_radial:]  # (..., n_radial), (..., M)
        w = self.radial_weights
        radius = ((radial - self.radial_bias) @ w / (w @ w)).clamp_min(0.0)  # (...,) m
        angle = torch.atan2(angular @ torch.sin(self.preferred_angles),
                            angular @ torch.cos(self.preferred_angles))  # (...,) rad
        return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=-1)  # (..., 2) m
