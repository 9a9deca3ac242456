r"""Logistic sigmoid :math:`\sigma(z)=1/(1+e^{-z})`: no closed form, numerical expectations.

Place in the package: engine, activations. No closed-form hooks are given, so every Gaussian expectation
falls back to quadrature (:mod:`symhess.kernels.quadrature`), with a
:class:`~symhess.errors.QuadratureWarning`. The quadrature uses the poles of the sigmoid at
:math:`z=i\pi(2k+1)` (:meth:`Sigmoid.analytic_strip`) and its saturation at 0 and 1 with derivatives
falling like :math:`e^{-|t|}` (:meth:`Sigmoid.saturation`), so the expectations are accurate at every
weight scale.

:math:`\sigma(z)=\tfrac12(1+\tanh(z/2))`: the constant offset :math:`\tfrac12` makes the unit neither odd nor
even; it has no continuous symmetry either, and full rank at the optimum is a conjecture, proved (point
evaluation) on the instances the tests draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np
import sympy as sp
from scipy import special

from ..errors import InvalidParameterError
from ..symbols import z
from .base import Activation, RankRule, full_rank_rule, singular_hyperplane_proof
from .registry import register_activation

__all__ = ["Sigmoid", "sigmoid_derivatives"]


@lru_cache(maxsize=None)
def _logistic_polynomial(order: int) -> np.ndarray:
    r"""Coefficients (low to high) of :math:`p_n` with :math:`\sigma^{(n)}=\sigma(1-\sigma)\,p_n(\sigma)`, :math:`n\ge1`.

    :math:`p_1=1` and :math:`p_{n+1}(S)=(1-2S)\,p_n(S)+S(1-S)\,p_n'(S)`, from :math:`\sigma'=\sigma(1-\sigma)`.
    """
    P = np.polynomial.Polynomial
    p = P([1.0])
    for _ in range(order - 1):
        p = P([1.0, -2.0]) * p + P([0.0, 1.0, -1.0]) * p.deriv()
    return p.coef


def sigmoid_derivatives(orders: tuple[int, ...], x: np.ndarray) -> dict[int, np.ndarray]:
    r""":math:`\{n:\sigma^{(n)}(x)\}` with full relative accuracy in both tails.

    :math:`\sigma^{(n)}=\sigma(1-\sigma)\,p_n(\sigma)` for :math:`n\ge1`, with
    :math:`\sigma(1-\sigma)=e^{-|x|}/(1+e^{-|x|})^2` (``expit(x) * (1 - expit(x))`` loses all relative
    accuracy for :math:`x\gtrsim 37`); :math:`p_n(0)=1`, :math:`p_n(1)=(-1)^{n-1}`, so the polynomial factor
    does not cancel in the tails.
    """
    x = np.asarray(x, dtype=float)
    out: dict[int, np.ndarray] = {}
    S = special.expit(x)
    if any(n > 0 for n in orders):
        e = np.exp(-np.abs(x))
        D = e / (1.0 + e) ** 2
    for n in orders:
        if n < 0:
            raise InvalidParameterError(f"derivative order must be >= 0, got {n}")
        if n == 0:
            out[n] = S.copy()
            continue
        coef = _logistic_polynomial(n)
        acc = np.full(x.shape, coef[-1])
        for cf in coef[-2::-1]:
            acc = acc * S + cf
        out[n] = acc * D
    return out


@register_activation
@dataclass(frozen=True)
class Sigmoid(Activation):
    r""":math:`\sigma(z)=1/(1+e^{-z})`, the logistic function (expectations by quadrature)."""

    name: ClassVar[str] = "sigmoid"
    unit_family: ClassVar[str | None] = "poles"
    examples: ClassVar[tuple[str, ...]] = ("sigmoid",)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return 1 / (1 + sp.exp(-x))

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule:
        r"""Full rank :math:`P=N_h(N_i+1)` (proved for generic teachers through the complex poles of the unit)."""
        return RankRule(*full_rank_rule(n_in, n_hidden, singular_hyperplane_proof("pole")))

    def analytic_strip(self) -> float:
        r"""Poles at :math:`z=i\pi(2k+1)`: analytic for :math:`|\operatorname{Im}z|<\pi`."""
        return math.pi

    def saturation(self) -> tuple[float, float, float]:
        r""":math:`\sigma\to0` and :math:`1` with :math:`|\sigma(t)-\lim|\le e^{-|t|}`; every derivative is :math:`\sigma(1-\sigma)\le e^{-|t|}` times a polynomial in :math:`\sigma`."""
        return (0.0, 1.0, 1.0)

    def numeric_derivatives(self, orders: tuple[int, ...], x: np.ndarray) -> dict[int, np.ndarray]:
        r""":math:`\sigma^{(n)}=\sigma(1-\sigma)\,p_n(\sigma)`, accurate in the tails (:func:`sigmoid_derivatives`)."""
        return sigmoid_derivatives(tuple(orders), x)
