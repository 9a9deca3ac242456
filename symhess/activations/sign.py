r"""Discontinuous units ``sign`` (:math:`\mathrm{sign}(z)`) and ``step`` (:math:`\Theta(z)`): the loss exists, the Hessian does not.

Place in the package: engine, activations. The base kernels are the degree-0 arc-cosine kernels
(Cho & Saul 2009),

.. math::

    E[\mathrm{sign}(u)\,\mathrm{sign}(v)] = 1-\frac2\pi\arccos\rho,\qquad
    E[\Theta(u)\Theta(v)] = \frac12-\frac1{2\pi}\arccos\rho,\qquad \rho=\frac c{\sqrt{q_1q_2}},

so :func:`symhess.population_loss` works (it needs only :math:`K_{00}` and :math:`E[\sigma^2]`).

**Which Hessian blocks exist.** :math:`\sigma'=2\delta` (sign) or :math:`\delta` (step). The
:math:`vv` block :math:`E[\sigma(u)\sigma(v)]` exists. The blocks with a :math:`W` derivative do
*not* exist at the optimum: a student unit parallel to its teacher unit enters the loss through
:math:`\arccos\rho\approx\|\delta w_\perp\|/\|w\|`, a cone (Lipschitz but not differentiable) in the
student's weights, and the Gauss–Newton diagonal :math:`E[\sigma'(w\cdot x)^2]` is the square of a
delta, infinite. Rather than return a number that cannot be right, every expectation with a
derivative order :math:`\ge1` raises :class:`~symhess.errors.NoClosedFormError` naming this; so do
:func:`symhess.expected_hessian`, :func:`symhess.population_gradient` and ``derive_blocks`` (which
derive every block).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..errors import NoClosedFormError
from ..symbols import z
from .base import Activation, RankRule
from .registry import register_activation

__all__ = ["Sign", "Step"]


class _Discontinuous(Activation):
    undefined_at_zero: ClassVar[bool] = True
    #: (E[sigma sigma] at correlation rho = 1, weight of arccos(rho) in K00)
    _k00: ClassVar[tuple] = (sp.Integer(1), sp.Integer(1))

    def _no_derivatives(self, what: str):
        raise NoClosedFormError(
            f"{what} of {self.spec!r} does not exist: its derivative is a multiple of the Dirac delta, so the "
            "Hessian blocks with a W derivative (WW, Wv) diverge at the optimum (the loss has a cone "
            "|angle(w_i, w_i*)| at every teacher unit) and E[sigma'(w.x)^2] is infinite; only the loss "
            "(population_loss) and E[sigma(u) sigma(v)] (the vv block) are available"
        )

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        top, weight = self._k00
        return top - weight * sp.acos(c / sp.sqrt(q1 * q2)) / sp.pi

    def gaussian_pair(self, a: int, b: int, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr | None:
        if a == 0 and b == 0:
            return self.pair_kernel(q1, q2, c)
        self._no_derivatives(f"E[sigma^({a})(u) sigma^({b})(v)]")

    def gaussian_single(self, a: int, b: int, m: int, q: sp.Expr) -> sp.Expr | None:
        if (a, b, m) == (0, 0, 0):
            return self._k00[0]
        self._no_derivatives(f"E[(sigma^({a}) sigma^({b}))^({m})(h)]")

    @property
    def is_polynomial(self) -> bool:
        return False

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule | None:
        self._no_derivatives("the Hessian rank at the optimum")


@register_activation
@dataclass(frozen=True)
class Sign(_Discontinuous):
    r""":math:`\sigma(z)=\mathrm{sign}(z)`; :math:`K_{00}=1-\frac2\pi\arccos\rho=\frac2\pi\arcsin\rho`."""

    name: ClassVar[str] = "sign"
    examples: ClassVar[tuple[str, ...]] = ('sign',)
    _k00: ClassVar[tuple] = (sp.Integer(1), sp.Integer(2))

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.sign(x)


@register_activation
@dataclass(frozen=True)
class Step(_Discontinuous):
    r""":math:`\sigma(z)=\Theta(z)` (Heaviside); :math:`K_{00}=\frac12-\frac1{2\pi}\arccos\rho`."""

    name: ClassVar[str] = "step"
    examples: ClassVar[tuple[str, ...]] = ('step',)
    _k00: ClassVar[tuple] = (sp.Rational(1, 2), sp.Rational(1, 2))

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.Heaviside(x)
