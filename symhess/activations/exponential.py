r"""Exponential units: ``exp`` (:math:`e^{sz}`) and the Gaussian bump ``gaussian`` (:math:`e^{-s^2z^2/2}`).

Place in the package: engine, activations. Both base kernels are Gaussian integrals in closed form,

.. math::

    E[e^{su}e^{sv}] = e^{s^2(q_1+q_2+2c)/2},\qquad
    E[e^{-s^2u^2/2}e^{-s^2v^2/2}] = \det(I+s^2\Sigma)^{-1/2}
        = \big((1+s^2q_1)(1+s^2q_2)-s^4c^2\big)^{-1/2},

smooth (real-analytic) in :math:`(q_1,q_2,c)` on the whole covariance cone, parallel units
included (:math:`\det(I+s^2\Sigma)\ge1`). Every derivative pair follows exactly by Price's theorem
(the derivatives of :math:`e^{-s^2z^2/2}` are Hermite polynomials times the bump) and the
one-unit expectations by :math:`q_1=q_2=c=q`. No quadrature is used.

**Rank.** The gradient functions are :math:`v_ix_je^{sw_i\cdot x}` and :math:`e^{sw_i\cdot x}` (exp),
:math:`-s^2v_ix_j(w_i\cdot x)e^{-s^2(w_i\cdot x)^2/2}` and :math:`e^{-s^2(w_i\cdot x)^2/2}` (gaussian):
polynomials times exponentials of pairwise distinct linear (quadratic) forms, linearly independent
for pairwise distinct rows (distinct up to sign for the even bump), nonzero rows and :math:`v_i\ne0`.
So the Hessian at the optimum has full rank :math:`P` (exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..symbols import z
from .base import Activation, RankRule
from .registry import register_activation
from .trigonometric import _positive, full_rank_rule

__all__ = ["Exp", "Gaussian"]


@register_activation
@dataclass(frozen=True)
class Exp(Activation):
    r""":math:`\sigma(z)=e^{sz}`.

    Parameters
    ----------
    scale : positive number
        :math:`s` (default 1).
    """

    name: ClassVar[str] = "exp"
    unit_family: ClassVar[str | None] = "exp"
    examples: ClassVar[tuple[str, ...]] = ('exp:scale=0.5',)
    scale: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _positive(self.scale, "scale", "exp"))

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.exp(self.scale * x)

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        return sp.exp(self.scale**2 * (q1 + q2 + 2 * c) / 2)

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule | None:
        return RankRule(*full_rank_rule(n_in, n_hidden, "gradients are polynomials times exp(s w_i.x) with distinct w_i"))


@register_activation
@dataclass(frozen=True)
class Gaussian(Activation):
    r""":math:`\sigma(z)=e^{-s^2z^2/2}` (even unit).

    Parameters
    ----------
    scale : positive number
        :math:`s` (default 1: :math:`e^{-z^2/2}`).
    """

    name: ClassVar[str] = "gaussian"
    unit_family: ClassVar[str | None] = "gaussian tail"
    examples: ClassVar[tuple[str, ...]] = ('gaussian',)
    scale: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _positive(self.scale, "scale", "gaussian"))

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.exp(-self.scale**2 * x**2 / 2)

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        s2 = self.scale**2
        return 1 / sp.sqrt((1 + s2 * q1) * (1 + s2 * q2) - s2**2 * c**2)

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule | None:
        return RankRule(*full_rank_rule(n_in, n_hidden, "gradients are polynomials times exp(-s^2 (w_i.x)^2 / 2) with "
                                              "distinct quadratic forms (rows distinct up to sign)"))
