r"""Hermite-expanded activations :math:`\sigma(z)=\sum_{k=0}^{n}c_k\,\mathrm{He}_k(z)` (probabilists' Hermite).

Place in the package: engine, activations. :math:`\mathrm{He}_k` are the *probabilists'* Hermite
polynomials (:math:`\mathrm{He}_0=1`, :math:`\mathrm{He}_1=z`, :math:`\mathrm{He}_2=z^2-1`,
:math:`\mathrm{He}_{k+1}=z\mathrm{He}_k-k\mathrm{He}_{k-1}`), orthogonal under :math:`N(0,1)` with
:math:`E[\mathrm{He}_j\mathrm{He}_k]=k!\,\delta_{jk}`. ``coeffs = [c_0, c_1, ..., c_n]`` starts at
:math:`\mathrm{He}_0` (a nonzero :math:`c_0` is a constant term :math:`\sigma(0)\neq0`).

The activation is a polynomial, so every Gaussian expectation is exact (Isserlis' theorem, symbolic
coefficients allowed), for every derivative order. At unit variances Mehler's formula gives the
base kernel directly,

.. math::

    E[\sigma(u)\sigma(v)] = \sum_k c_k^2\,k!\,c^k\qquad(q_1=q_2=1),

which the tests use as an independent check of the moment route (and :math:`\mathrm{He}_k'=k\,\mathrm{He}_{k-1}`
for the derivative orders). Counting: the polynomial rules of :mod:`symhess.two_layer.counting`
apply through the monomial coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..errors import ActivationParameterError
from ..symbols import z
from .base import Activation, to_exact
from .registry import register_activation

__all__ = ["Hermite", "hermite_he"]


def hermite_he(k: int, x: sp.Expr) -> sp.Expr:
    r"""Probabilists' Hermite polynomial :math:`\mathrm{He}_k(x)`, expanded."""
    prev, cur = sp.Integer(1), x
    if k == 0:
        return prev
    for n in range(1, k):
        prev, cur = cur, sp.expand(x * cur - n * prev)
    return cur


@register_activation
@dataclass(frozen=True)
class Hermite(Activation):
    r""":math:`\sigma(z)=\sum_{k=0}^nc_k\mathrm{He}_k(z)`, ``coeffs = [c_0, ..., c_n]``.

    Parameters
    ----------
    coeffs : sequence of numbers or sympy symbols
        Coefficients of :math:`\mathrm{He}_0, \mathrm{He}_1, \dots` (default ``[0, 1]``: :math:`z`).
    """

    name: ClassVar[str] = "hermite"
    examples: ClassVar[tuple[str, ...]] = ('hermite:coeffs=[0.2,1,0.3]',)
    coeffs: tuple = (sp.Integer(0), sp.Integer(1))

    def __post_init__(self) -> None:
        raw = self.coeffs
        if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
            raise ActivationParameterError(
                f"hermite coeffs={raw!r} must be a sequence [c0, c1, ...] of the coefficients of He_0, He_1, ..."
            )
        coeffs = tuple(to_exact(v, f"coeffs[{i}]") for i, v in enumerate(raw))
        while len(coeffs) > 1 and coeffs[-1] == 0:
            coeffs = coeffs[:-1]
        if all(cf == 0 for cf in coeffs[1:]):
            raise ActivationParameterError(
                f"hermite coeffs={list(raw)!r} need a nonzero coefficient of degree >= 1 (a constant unit has no Hessian)"
            )
        object.__setattr__(self, "coeffs", coeffs)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.expand(sp.Add(*[cf * hermite_he(k, x) for k, cf in enumerate(self.coeffs)]))
