r"""Hyperbolic tangent :math:`\sigma(z)=\tanh(z)`: no closed form, numerical expectations.

Place in the package: engine, activations. No closed-form hooks are given, so every Gaussian expectation falls back to
quadrature (:mod:`symhess.kernels.quadrature`), with a :class:`~symhess.errors.QuadratureWarning`. The
quadrature uses the poles of tanh at :math:`\pm i\pi/2` (:meth:`Tanh.analytic_strip`) and its saturation
at :math:`\pm1` with derivatives falling like :math:`e^{-2|t|}` (:meth:`Tanh.saturation`) to integrate on
the activation's own length scale, so the expectations are accurate at every weight scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np
import sympy as sp

from ..symbols import z
from .base import Activation, RankRule, full_rank_rule, singular_hyperplane_proof
from .registry import register_activation

__all__ = ["Tanh"]


@lru_cache(maxsize=None)
def _sech2_polynomial(order: int) -> np.ndarray:
    r"""Coefficients (low to high) of :math:`p_n` with :math:`\tanh^{(n)} = \operatorname{sech}^2\,p_n(\tanh)`, :math:`n\ge1`.

    :math:`p_1=1` and :math:`p_{n+1}(T)=(1-T^2)\,p_n'(T)-2T\,p_n(T)`, from :math:`T'=1-T^2=\operatorname{sech}^2`.
    """
    P = np.polynomial.Polynomial
    p = P([1.0])
    for _ in range(order - 1):
        p = P([1.0, 0.0, -1.0]) * p.deriv() - P([0.0, 2.0]) * p
    return p.coef


@register_activation
@dataclass(frozen=True)
class Tanh(Activation):
    r""":math:`\sigma(z)=\tanh(z)` (expectations by quadrature)."""

    name: ClassVar[str] = "tanh"
    unit_family: ClassVar[str | None] = "poles"
    examples: ClassVar[tuple[str, ...]] = ("tanh",)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.tanh(x)

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule:
        r"""Full rank :math:`P=N_h(N_i+1)` (proved for generic teachers through the complex poles of the unit)."""
        return RankRule(*full_rank_rule(n_in, n_hidden, singular_hyperplane_proof("pole")))

    def analytic_strip(self) -> float:
        r"""Poles of :math:`\tanh` at :math:`z = i\pi(k + 1/2)`: analytic for :math:`|\operatorname{Im} z| < \pi/2`."""
        return math.pi / 2

    def saturation(self) -> tuple[float, float, float]:
        r""":math:`\tanh t\to\pm1` with :math:`|\tanh t\mp1|\le2e^{-2|t|}`; every derivative is :math:`\operatorname{sech}^2 t` times a polynomial in :math:`\tanh t`."""
        return (-1.0, 1.0, 2.0)

    def numeric_derivatives(self, orders: tuple[int, ...], x: np.ndarray) -> dict[int, np.ndarray]:
        r""":math:`\tanh^{(n)}(x)=\operatorname{sech}^2x\;p_n(\tanh x)`: ``exp`` and ``expm1`` once for all orders.

        :math:`\operatorname{sech}^2x=4e^{-2|x|}/(1+e^{-2|x|})^2` keeps full relative accuracy in the tails
        (``1 - tanh(x)**2`` loses it for :math:`|x|\gtrsim 5`).
        """
        x = np.asarray(x, dtype=float)
        m2x = np.abs(x)  # e = exp(-2|x|) gives sech^2 (and tanh with expm1) for every order at once
        m2x *= -2.0
        e = np.exp(m2x)
        ope = e + 1.0
        out = {}
        T = None
        if any(n != 1 for n in orders):
            T = np.expm1(m2x, out=m2x)  # 1 - e without cancellation near 0
            T /= ope
            np.negative(T, out=T)
            np.copysign(T, x, out=T)
        if any(n > 0 for n in orders):
            S = e * 4.0
            ope *= ope
            S /= ope
        for n in orders:
            if n == 0:
                out[n] = T
                continue
            coef = _sech2_polynomial(n)
            if coef.size == 1:
                out[n] = S * coef[0] if coef[0] != 1.0 else S.copy()
                continue
            acc = T * coef[-1]  # Horner: ((c_k T + c_{k-1}) T + ...) + c_0
            rest = coef[-2::-1]
            for j, cf in enumerate(rest):
                if cf:
                    acc += cf
                if j < rest.size - 1:
                    acc *= T
            acc *= S
            out[n] = acc
        return out
