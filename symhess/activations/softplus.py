r"""Softplus :math:`\log(1+e^z)` and SiLU (swish) :math:`z\,\sigma(z)`: no closed forms, numerical expectations.

Place in the package: engine, activations. Both grow linearly for :math:`z\to+\infty`, so they do not
saturate (:meth:`~symhess.activations.base.Activation.saturation` is ``None``): the quadrature
(:mod:`symhess.kernels.quadrature`) integrates them on the Gaussian's scale, with a step that resolves the
poles of the logistic function at :math:`z=i\pi(2k+1)` (strip half-width :math:`\pi` for both; softplus has
logarithmic branch points there). That needs :math:`O(\sqrt q)` nodes per dimension, so at variances
beyond a few thousand the quadrature raises :class:`~symhess.errors.SymhessAccuracyError` instead of
returning a number that may be wrong.

Derivatives: :math:`\operatorname{softplus}^{(n)}=\sigma^{(n-1)}` and
:math:`\operatorname{silu}^{(n)}(z)=z\,\sigma^{(n)}(z)+n\,\sigma^{(n-1)}(z)`, evaluated through the
tail-accurate :func:`~symhess.activations.sigmoid.sigmoid_derivatives`. Counting: full rank, a conjecture
proved (point evaluation) on the instances the tests draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from ..symbols import z
from .base import Activation, RankRule, full_rank_rule, singular_hyperplane_proof
from .registry import register_activation
from .sigmoid import sigmoid_derivatives

__all__ = ["Softplus", "SiLU"]


@register_activation
@dataclass(frozen=True)
class Softplus(Activation):
    r""":math:`\sigma(z)=\log(1+e^z)` (expectations by quadrature)."""

    name: ClassVar[str] = "softplus"
    unit_family: ClassVar[str | None] = "poles"
    examples: ClassVar[tuple[str, ...]] = ("softplus",)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.log(1 + sp.exp(x))

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule:
        r"""Full rank :math:`P=N_h(N_i+1)` (proved for generic teachers through the complex branch-points of the unit)."""
        return RankRule(*full_rank_rule(n_in, n_hidden, singular_hyperplane_proof("branch-point")))

    def analytic_strip(self) -> float:
        r"""Branch points at :math:`z=i\pi(2k+1)`: analytic for :math:`|\operatorname{Im}z|<\pi`."""
        return math.pi

    def numeric_derivatives(self, orders: tuple[int, ...], x: np.ndarray) -> dict[int, np.ndarray]:
        r""":math:`\log(1+e^x)` by ``logaddexp`` (no overflow) and :math:`\sigma^{(n-1)}` for :math:`n\ge1`."""
        x = np.asarray(x, dtype=float)
        lower = tuple(sorted({n - 1 for n in orders if n > 0}))
        d = sigmoid_derivatives(lower, x) if lower else {}
        return {n: (np.logaddexp(0.0, x) if n == 0 else d[n - 1]) for n in orders}


@register_activation
@dataclass(frozen=True)
class SiLU(Activation):
    r""":math:`\sigma(z)=z/(1+e^{-z})`, SiLU or swish (expectations by quadrature)."""

    name: ClassVar[str] = "silu"
    unit_family: ClassVar[str | None] = "poles"
    examples: ClassVar[tuple[str, ...]] = ("silu",)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return x / (1 + sp.exp(-x))

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule:
        r"""Full rank :math:`P=N_h(N_i+1)` (proved for generic teachers through the complex poles of the unit)."""
        return RankRule(*full_rank_rule(n_in, n_hidden, singular_hyperplane_proof("pole")))

    def analytic_strip(self) -> float:
        r"""Poles at :math:`z=i\pi(2k+1)`: analytic for :math:`|\operatorname{Im}z|<\pi`."""
        return math.pi

    def numeric_derivatives(self, orders: tuple[int, ...], x: np.ndarray) -> dict[int, np.ndarray]:
        r""":math:`x\,\sigma^{(n)}(x)+n\,\sigma^{(n-1)}(x)`."""
        x = np.asarray(x, dtype=float)
        need = tuple(sorted({n for n in orders} | {n - 1 for n in orders if n > 0}))
        d = sigmoid_derivatives(need, x)
        return {n: x * d[n] + (n * d[n - 1] if n > 0 else 0.0) for n in orders}
