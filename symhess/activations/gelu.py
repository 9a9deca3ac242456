r"""Gaussian error linear unit :math:`\sigma(z)=z\,\Phi(z)` (GELU, exact form, not the tanh approximation).

Place in the package: engine, activations. With :math:`f(z)=\mathrm{erf}(z/\sqrt2)`,
:math:`\sigma(z)=\tfrac z2+\tfrac z2f(z)`; the cross terms are odd, so
:math:`K_{00}=\tfrac c4+\tfrac14E[uv\,f(u)f(v)]`, and Stein's lemma twice reduces the last term to
the arcsine kernel :math:`A` of :math:`f` and its Price derivatives:
:math:`E[uvff]=q_1(cA_{20}+q_2A_{11})+cA_{00}+c(cA_{11}+q_2A_{02})`. Simplified (Tsuchida, Pearce,
van der Heide, Roosta and Gallagher 2021),

.. math::

    K_{00}=\frac c4+\frac1{2\pi}\Big(\frac{c^2+q_1q_2\delta^2}{(1+q_1)(1+q_2)\,\delta}
        + c\arcsin\frac{c}{\sqrt{(1+q_1)(1+q_2)}}\Big),\qquad \delta^2=(1+q_1)(1+q_2)-c^2 .

:math:`\delta^2\ge1+q_1+q_2>0` on the whole covariance cone, so :math:`K_{00}` is real-analytic there
(parallel units included); every derivative pair the Hessian needs follows exactly by Price's
theorem, and the one-unit expectations by :math:`q_1=q_2=c=q`. No quadrature is used.

References
----------
R. Tsuchida, T. Pearce, C. van der Heide, F. Roosta and M. Gallagher, "Avoiding kernel fixed points:
computing with ELU and GELU infinite networks", AAAI 2021.
D. Hendrycks and K. Gimpel, "Gaussian error linear units (GELUs)", arXiv:1606.08415.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..symbols import z
from .base import GAUSSIAN_EXPONENTS_PROOF, Activation, RankRule, full_rank_rule
from .registry import register_activation

__all__ = ["GELU"]


@register_activation
@dataclass(frozen=True)
class GELU(Activation):
    r""":math:`\sigma(z)=z\Phi(z)=\tfrac z2\big(1+\mathrm{erf}(z/\sqrt2)\big)`."""

    name: ClassVar[str] = "gelu"
    unit_family: ClassVar[str | None] = "gaussian tail"
    examples: ClassVar[tuple[str, ...]] = ('gelu',)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return x * (1 + sp.erf(x / sp.sqrt(2))) / 2

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        p = (1 + q1) * (1 + q2)
        delta = sp.sqrt(p - c**2)
        return c / 4 + ((c**2 + q1 * q2 * (p - c**2)) / (p * delta) + c * sp.asin(c / sp.sqrt(p))) / (2 * sp.pi)

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule | None:
        """Full rank :math:`P` (proved for generic teachers: two derivatives along a line leave Gaussians times polynomials)."""
        return RankRule(*full_rank_rule(n_in, n_hidden, GAUSSIAN_EXPONENTS_PROOF))

    def gaussian_single(self, a: int, b: int, m: int, q: sp.Expr) -> sp.Expr | None:
        r""":math:`E[\sigma(h)^2]=\frac q4+\frac{q}{2\pi}\big(\frac{2q}{(1+q)\sqrt{1+2q}}+\arcsin\frac q{1+q}\big)`; others by Price."""
        if (a, b, m) == (0, 0, 0):
            return q / 4 + q / (2 * sp.pi) * (2 * q / ((1 + q) * sp.sqrt(1 + 2 * q)) + sp.asin(q / (1 + q)))
        return None
