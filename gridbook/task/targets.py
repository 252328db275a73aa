"""Supervised readout targets: every position encoding of PAPER.md section 3, with its loss and its decoder.

A :class:`TargetEncoder` ``encode``s positions (m) into the code the network is trained to output, computes the
``loss`` of a raw network output against it, and ``decode``s a position from a raw output. Place-cell targets
(:class:`GaussianPlaceCells`, :class:`DifferenceOfSoftmaxes`, :class:`DifferenceOfGaussians`,
:class:`SoftmaxOfDifferences`) use softmax cross-entropy; :class:`CartesianTarget`, :class:`HighDimCartesianTarget`
and :class:`HighDimPolarTarget` use MSE. The surround width follows a named convention, see :func:`surround_sigma`
(default ``"variance_ratio"``, Sorscher's code). All random draws come from the passed ``torch.Generator`` in a
fixed order (place-cell centres first, so place-cell targets built from one seed share their centres), on the
generator's device, then move to ``device``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from gridbook.config import (
    DEFAULT_SURROUND_CONVENTION,
    FINE_DECODERS,
    SURROUND_CONVENTIONS,
    TARGETS,
    TargetConfig,
    TaskConfig,
)
from gridbook.errors import ConfigError, check_choice, check_int, check_positive, check_range
from gridbook.paper import BOX_M, DECODE_TOP_K, SURROUND_SCALE
from gridbook.task.affine_targets import CartesianTarget, HighDimCartesianTarget, HighDimPolarTarget
from gridbook.task.encoder import TargetEncoder, as_positions
from gridbook.task.lookup import ScreenedSearch
from gridbook.task.place_codes import dog_code, dos_code, field_squared_distances, gaussian_code, sod_code

__all__ = ["CartesianTarget", "DifferenceOfGaussians", "DifferenceOfSoftmaxes", "GaussianPlaceCells",
           "HighDimCartesianTarget", "HighDimPolarTarget", "NormalisedDoG", "PLACE_CELL_CLASSES", "PlaceCellTarget",
           "SoftmaxOfDifferences", "TargetEncoder",
           "correlation_templates", "lookup_grid", "make_target", "surround_sigma"]

LOOKUP_SPACING = 0.02  # m; grid spacing of the code lookup table used by lookup decoding


def surround_sigma(sigma: Any, surround_scale: Any, convention: str = DEFAULT_SURROUND_CONVENTION) -> Any:
    """Surround width sigma_s (m) from the centre width sigma (m) and the surround scale s.

    ``"variance_ratio"`` (Sorscher et al.'s code; the default): s is a variance ratio, ``sigma_s = sqrt(s) sigma``.
    ``"std_ratio"`` (the paper's final code): s is a width ratio, ``sigma_s = s sigma``.
    Works on floats and tensors alike.
    """
    check_choice("surround_convention", convention, SURROUND_CONVENTIONS)
    return sigma * surround_scale if convention == "std_ratio" else sigma * surround_scale**0.5


def lookup_grid(box: tuple[float, float], device: str | torch.device | None = None) -> torch.Tensor:
    """(G, 2) m: the lookup decoders' grid of spacing :data:`LOOKUP_SPACING` over a box centred at the origin (x
    major, y fastest; 12,321 points for the paper's 2.2 m box)."""
    axes = [torch.linspace(-s / 2, s / 2, max(2, round(s / LOOKUP_SPACING) + 1)) for s in box]
    return torch.cartesian_prod(axes[0], axes[1]).to(device)  # (G, 2) m


def correlation_templates(codes: torch.Tensor) -> torch.Tensor:
    """Codes (..., G, Np) centred over cells and scaled to unit norm: the correlation decoder's templates."""
    centred = codes - codes.mean(-1, keepdim=True)  # (..., G, Np)
    return centred / centred.norm(dim=-1, keepdim=True).clamp_min(1e-30)


def _uniform(generator: torch.Generator, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    draw = torch.rand(shape, generator=generator, dtype=torch.float64, device=generator.device).cpu()
    return low + (high - low) * draw


# ---- place cells (cross-entropy) ----------------------------------------------------------------------------------
class PlaceCellTarget(TargetEncoder):
    """Base of the place-cell targets: centres, per-cell widths, optional surrounds and extra fields.

    Parameters: ``n_place_cells`` (Np), ``sigma`` (m), ``generator``; keyword options ``box`` ((W, H) m),
    ``periodic`` (minimum-image distances), ``sigma_range`` (per-cell sigma ~ U(a, b), replaces ``sigma``),
    ``fields_lambda`` (each cell has 1 + Poisson(lambda) fields; its d2 is to the nearest one), ``decode_top_k``,
    ``decode_method`` (``"top_k"``, ``"lookup"`` or None = the class's choice, see :meth:`decode`).

    Attributes: ``centres`` (Np, 2) m = each cell's first field; ``fields`` (F, Np, 2) m, slot f holding each cell's
    f-th field (cells with fewer fields repeat their first, which leaves the nearest-field distance unchanged);
    ``n_fields`` (Np,) field counts; ``sigmas`` (Np,) m; surround targets also ``surround_scales`` (Np,) and
    ``surround_sigmas`` (Np,) m.

    Draw order from the generator: centres, per-cell sigma, per-cell s, field counts, extra field centres.
    """

    has_surround = False

    def __init__(self, n_place_cells: int, sigma: float, generator: torch.Generator, *,
                 box: tuple[float, float] = BOX_M, periodic: bool = False,
                 sigma_range: tuple[float, float] | None = None, fields_lambda: float = 0.0,
                 surround_scale: float = SURROUND_SCALE, surround_convention: str = DEFAULT_SURROUND_CONVENTION,
                 surround_range: tuple[float, float] | None = None, decode_top_k: int = DECODE_TOP_K,
                 decode_method: str | None = None, device: str | torch.device | None = None) -> None:
        super().__init__(device)
        check_int("n_place_cells", n_place_cells, 1)
        check_positive("sigma", sigma)
        check_positive("box_width", box[0])
        check_positive("box_height", box[1])
        check_range("sigma_range", sigma_range)
        check_positive("fields_lambda", fields_lambda, strict=False)
        check_int("decode_top_k", decode_top_k, 1)
        if decode_top_k > n_place_cells:
            raise ConfigError(f"decode_top_k={decode_top_k!r} is invalid; allowed values: 1..n_place_cells "
                              f"({n_place_cells})")
        if decode_method is not None:
            check_choice("decode_method", decode_method, ("top_k", "lookup"))
        if self.has_surround:
            check_choice("surround_convention", surround_convention, SURROUND_CONVENTIONS)
            if not (isinstance(surround_scale, (int, float)) and surround_scale > 1):
                raise ConfigError(f"surround_scale={surround_scale!r} is invalid for target {self.name!r}; "
                                  "allowed values: > 1")
            check_range("surround_range", surround_range, low=1.0)
        self.n_outputs = n_place_cells
        self.box = (float(box[0]), float(box[1]))
        self.periodic = bool(periodic)
        self.decode_top_k = decode_top_k
        self.fields_lambda = float(fields_lambda)
        self.surround_convention = surround_convention

        half = torch.tensor(self.box, dtype=torch.float64) / 2
        centres = _uniform(generator, (n_place_cells, 2), -0.5, 0.5) * 2 * half  # (Np, 2) m
        sigmas = (_uniform(generator, (n_place_cells,), *sigma_range) if sigma_range is not None
                  else torch.full((n_place_cells,), float(sigma), dtype=torch.float64))  # (Np,) m
        if self.has_surround:
            scales = (_uniform(generator, (n_place_cells,), *surround_range) if surround_range is not None
                      else torch.full((n_place_cells,), float(surround_scale), dtype=torch.float64))  # (Np,)
            self.surround_scales = scales.float().to(self.device)  # (Np,)
            self.surround_sigmas = surround_sigma(sigmas, scales, surround_convention).float().to(self.device)
        n_fields = torch.ones(n_place_cells, dtype=torch.float64)  # (Np,)
        if self.fields_lambda > 0:
            rates = torch.full((n_place_cells,), self.fields_lambda, dtype=torch.float64, device=generator.device)
            n_fields = 1 + torch.poisson(rates, generator=generator).cpu()  # (Np,)
        n_slots = int(n_fields.max())
        extra = _uniform(generator, (n_slots - 1, n_place_cells, 2), -0.5, 0.5) * 2 * half  # (F-1, Np, 2) m
        slot = torch.arange(1, n_slots, dtype=torch.float64)[:, None, None]  # (F-1, 1, 1)
        extra = torch.where(slot < n_fields[None, :, None], extra, centres)  # unused slots repeat the first field
        self.centres = centres.float().to(self.device)  # (Np, 2) m
        self.fields = torch.cat([centres[None], extra]).float().to(self.device)  # (F, Np, 2) m
        self.n_fields = n_fields.long().to(self.device)  # (Np,)
        self.sigmas = sigmas.float().to(self.device)  # (Np,) m
        self.decode_method = decode_method or ("lookup" if self.fields.shape[0] > 1 or not self._peaks_at_field()
                                               else "top_k")
        self._lookup: tuple[torch.Tensor, torch.Tensor] | None = None
        self._templates: tuple[torch.Tensor, torch.Tensor] | None = None
        self._searches: dict[str, tuple[torch.Tensor, ScreenedSearch]] = {}  # decoder -> (grid, its search)

    # -- subclasses define the code from nearest-field squared distances, written into ``out`` when given
    def _code(self, d2: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def _peaks_at_field(self) -> bool:
        """Whether a cell's code is largest at its field centre (so top-k decoding is meaningful)."""
        return True

    def squared_distances(self, pos: Any) -> torch.Tensor:
        """pos (..., 2) m -> (..., Np) m^2 squared distance from each position to each cell's nearest field
        (:func:`~gridbook.task.place_codes.field_squared_distances`)."""
        pos = as_positions(pos, self.device)
        flat = pos.reshape(1, -1, 2)  # (1, N, 2) m
        d2 = field_squared_distances(flat, self.fields[None], self.periodic, self.box)[0]  # (N, Np) m^2
        return d2.reshape(*pos.shape[:-1], d2.shape[-1])

    def encode(self, pos: Any) -> torch.Tensor:
        """pos (..., 2) m -> (..., Np) target distribution over place cells."""
        return self._code(self.squared_distances(pos))

    def encode_into(self, pos: Any, out: torch.Tensor) -> torch.Tensor:
        return self._code(self.squared_distances(pos), out)

    # -- decoding
    def decode(self, output: torch.Tensor) -> torch.Tensor:
        """Raw output (..., Np) (logits) -> position (..., 2) m, by ``self.decode_method``:

        ``"top_k"`` (the paper's rule, default for single-field cells whose code peaks at the field centre): mean of
        the centres of the ``decode_top_k`` most active outputs (circular mean per axis in a periodic box). With
        Np = 512 its error on the exact code is ~4 cm on average (the centres' spacing); where fewer than k cells
        have a positive DoS, far cells (target ~0) enter the top k and the error is large (~0.03% of positions).
        ``"lookup"`` (default for multi-field cells, whose top-k centres are ambiguous, and for a DoG whose code is
        not largest at the field centre, e.g. the true DoG, whose top-k cells are the FARTHEST ones): the position of
        the nearest code, in Euclidean distance between ``softmax(output)`` and ``encode`` on a grid of spacing
        ``LOOKUP_SPACING`` (2 cm) over the box; on the exact code its error is < 2 cm. Cost ~Np x G multiply-adds
        per position (G = 12,321 grid points for the paper's box): use a GPU for large evaluations.
        """
        if self.decode_method == "top_k":
            return self.decode_top_k_centres(output)
        return self.decode_lookup(output)

    def decode_fine(self, output: torch.Tensor, method: str = "nearest") -> torch.Tensor:
        """A decoder with a floor < 2 cm on the exact code, whatever ``decode_method`` (the paper's top-3 rule errs
        by ~4 cm (Np = 512) to ~8 cm (Np = 256) on the exact DoS code): ``method`` ``"nearest"``
        (:meth:`decode_lookup`) or ``"correlation"`` (:meth:`decode_correlation`)."""
        check_choice("fine_decoder", method, FINE_DECODERS)
        return self.decode_lookup(output) if method == "nearest" else self.decode_correlation(output)

    def fine_is_decode(self, method: str = "nearest") -> bool:
        return method == "nearest" and self.decode_method == "lookup"

    def decode_top_k_centres(self, output: torch.Tensor) -> torch.Tensor:
        """The paper's decoder: mean centre of the ``decode_top_k`` largest outputs. (..., Np) -> (..., 2) m."""
        idx = torch.topk(output, self.decode_top_k, dim=-1).indices  # (..., k)
        chosen = self.centres[idx]  # (..., k, 2) m
        if not self.periodic:
            return chosen.mean(-2)
        box = torch.tensor(self.box, dtype=chosen.dtype, device=chosen.device)
        phase = chosen / box * (2 * math.pi)  # (..., k, 2) rad
        mean_phase = torch.atan2(torch.sin(phase).mean(-2), torch.cos(phase).mean(-2))  # (..., 2) rad in [-pi, pi]
        return mean_phase / (2 * math.pi) * box

    def lookup_table(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(grid positions (G, 2) m, codes (G, Np)) on :func:`lookup_grid`; built once, then cached."""
        if self._lookup is None:
            grid = lookup_grid(self.box, self.device)  # (G, 2) m
            codes = torch.cat([self.encode(chunk) for chunk in grid.split(4096)])  # (G, Np)
            self._lookup = (grid, codes)
        return self._lookup

    def correlation_table(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(grid positions (G, 2) m, templates (G, Np)): :func:`correlation_templates` of the lookup table's codes;
        built once, then cached."""
        if self._templates is None:
            grid, codes = self.lookup_table()
            self._templates = (grid, correlation_templates(codes))
        return self._templates

    def decode_correlation(self, output: torch.Tensor) -> torch.Tensor:
        """Best-correlated code in the lookup table: the grid point whose code, centred over cells, has the largest
        Pearson correlation with ``softmax(output)``. Correlation ignores the output's mean and scale, so an output
        flatter or sharper than the code (a network's softmax at another temperature) decodes where its pattern over
        cells matches, where the nearest code in Euclidean distance (:meth:`decode_lookup`) is pulled towards codes
        of that flatness. (..., Np) -> (..., 2) m; floor on the exact code < 2 cm (the 2 cm grid)."""
        # a template sums to 0 over cells, so probs . template is the centred probs' dot product; dividing by the
        # centred probs' norm (one number per row) would not change the row's argmax
        return self._best_grid_point(output, "correlation")

    def decode_lookup(self, output: torch.Tensor) -> torch.Tensor:
        """Nearest code in the lookup table (Euclidean, on ``softmax(output)``). (..., Np) -> (..., 2) m."""
        return self._best_grid_point(output, "nearest")

    def _best_grid_point(self, output: torch.Tensor, decoder: str) -> torch.Tensor:
        """The grid point of the best score of ``decoder`` ("nearest" or "correlation") for each output's softmax,
        by the exact screened search (:class:`~gridbook.task.lookup.ScreenedSearch`, built once per decoder).
        (..., Np) -> (..., 2) m."""
        if decoder not in self._searches:
            if decoder == "correlation":
                grid, templates = self.correlation_table()  # (G, 2), (G, Np)
                search = ScreenedSearch(templates)
            else:  # -|p - c|^2 up to |p|^2, which is the same for every grid point
                grid, codes = self.lookup_table()  # (G, 2), (G, Np)
                search = ScreenedSearch(codes, scale=2.0, offset=codes.square().sum(-1))
            self._searches[decoder] = (grid, search)
        grid, search = self._searches[decoder]
        probs = torch.softmax(output.float(), dim=-1).reshape(-1, self.n_outputs)  # (N, Np)
        return grid[search(probs)].reshape(*output.shape[:-1], 2)  # (..., 2) m

    def to(self, device: str | torch.device) -> PlaceCellTarget:
        super().to(device)
        self._lookup = self._templates = None
        self._searches = {}
        return self

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_place_cells={self.n_outputs}, sigma~{self.sigmas.mean().item():.3g} m, "
                f"max_fields={self.fields.shape[0]}, decode={self.decode_method!r}, device={self.device})")


class GaussianPlaceCells(PlaceCellTarget):
    """``softmax(-d2 / 2 sigma^2)`` over cells (per-cell sigma when heterogeneous)."""

    name = "gaussian"

    def _code(self, d2: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return gaussian_code(d2, self.sigmas, out)


class DifferenceOfSoftmaxes(PlaceCellTarget):
    """DoS (Sorscher et al.'s "DoG"): ``softmax(-d2 / 2 sigma^2) - softmax(-d2 / 2 sigma_s^2)``, shifted by |min| over
    cells and divided by the sum. sigma_s from :func:`surround_sigma` with ``surround_convention`` (default
    ``"variance_ratio"``, Sorscher's code: sigma_s = sqrt(s) sigma; ``"std_ratio"``: sigma_s = s sigma)."""

    name, has_surround = "dos", True

    def _code(self, d2: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return dos_code(d2, self.sigmas, self.surround_sigmas, out)


class DifferenceOfGaussians(PlaceCellTarget):
    """``a_e exp(-d2 / 2 sigma^2) - a_i exp(-d2 / 2 sigma_s^2)``, shifted by |min| over cells and divided by the sum.

    ``a_e = a_i = 1`` (the defaults) is the paper's true DoG; other amplitudes give its general DoG.
    sigma_s from :func:`surround_sigma` with ``surround_convention`` (default ``"variance_ratio"``).
    With ``a_e <= a_i`` the code is NOT largest at the field centre (the true DoG is 0 at the centre and at infinity
    and negative in between, so after the shift far cells tie with the nearest one); such targets decode by lookup.
    """

    name, has_surround = "dog", True

    def __init__(self, n_place_cells: int, sigma: float, generator: torch.Generator, *, a_e: float = 1.0,
                 a_i: float = 1.0, **options: Any) -> None:
        check_positive("a_e", a_e, strict=False)
        check_positive("a_i", a_i, strict=False)
        self.a_e, self.a_i = float(a_e), float(a_i)
        if (self.a_e, self.a_i) != (1.0, 1.0):
            self.name = "general_dog"
        super().__init__(n_place_cells, sigma, generator, **options)

    def _peaks_at_field(self) -> bool:
        return self.a_e > self.a_i

    def _code(self, d2: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return dog_code(d2, self.sigmas, self.surround_sigmas, self.a_e, self.a_i, out)


class NormalisedDoG(DifferenceOfGaussians):
    """The response's DoG (Sorscher et al. 2022): each Gaussian with its normalising prefactor,
    ``exp(-d2 / 2 sigma^2) / (2 pi sigma^2) - exp(-d2 / 2 sigma_s^2) / (2 pi sigma_s^2)``, shifted by |min| over
    cells and divided by the sum: a general DoG with a_e / a_i = (sigma_s / sigma)^2 per cell (= s in the variance-
    ratio convention), so a cell's code peaks at its own field (the true DoG, a_e = a_i, does not)."""

    name, has_surround = "normalised_dog", True

    def __init__(self, n_place_cells: int, sigma: float, generator: torch.Generator, **options: Any) -> None:
        super().__init__(n_place_cells, sigma, generator, **options)
        self.name = "normalised_dog"

    def _peaks_at_field(self) -> bool:
        return True

    def amplitudes(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(a_e, a_i) per cell (Np,): 1 / sigma^2 and 1 / sigma_s^2 (the common 1 / 2 pi cancels in the
        normalisation)."""
        return 1.0 / self.sigmas.square(), 1.0 / self.surround_sigmas.square()

    def _code(self, d2: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        a_e, a_i = self.amplitudes()
        return dog_code(d2, self.sigmas, self.surround_sigmas, a_e, a_i, out)


class SoftmaxOfDifferences(PlaceCellTarget):
    """SoD: ``softmax(-d2 / 2 sigma^2 + d2 / 2 sigma_s^2)`` over cells; sigma_s from :func:`surround_sigma`."""

    name, has_surround = "sod", True

    def _code(self, d2: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return sod_code(d2, self.sigmas, self.surround_sigmas, out)


PLACE_CELL_CLASSES: dict[str, type[PlaceCellTarget]] = {  # the encoders of TARGET_KINDS' place-cell entries
    "gaussian": GaussianPlaceCells,
    "dos": DifferenceOfSoftmaxes,
    "dog": DifferenceOfGaussians,
    "general_dog": DifferenceOfGaussians,
    "sod": SoftmaxOfDifferences,
    "normalised_dog": NormalisedDoG,
}


def make_target(target: TargetConfig, task: TaskConfig, generator: torch.Generator,
                device: str | torch.device | None = None) -> TargetEncoder:
    """Build the encoder named by ``target.target`` (a value of :data:`gridbook.config.TARGETS`).

    ``"dog"`` is the true DoG (a_e = a_i = 1 whatever the config's amplitudes); ``"general_dog"`` uses ``a_e, a_i``.
    Place-cell targets live in the task's box (and use minimum-image distances when ``task.periodic``).
    """
    check_choice("target", target.target, TARGETS)
    n = target.n_place_cells
    if target.target == "cartesian":
        return CartesianTarget(device)
    if target.target == "hd_cartesian":
        return HighDimCartesianTarget(n, generator, device=device)
    if target.target == "hd_polar":
        return HighDimPolarTarget(n, generator, target.von_mises_kappa, device=device)
    options: dict[str, Any] = dict(
        box=(task.box_width, task.box_height), periodic=task.periodic, sigma_range=target.sigma_range,
        fields_lambda=target.fields_lambda, decode_top_k=target.decode_top_k, device=device)
    cls = PLACE_CELL_CLASSES[target.target]
    if cls.has_surround:
        options.update(surround_scale=target.surround_scale, surround_convention=target.surround_convention,
                       surround_range=target.surround_range)
    if target.target == "general_dog":
        options.update(a_e=target.a_e, a_i=target.a_i)
    encoder = cls(n, target.sigma, generator, **options)
    encoder.name = target.target
    return encoder
