r"""Rectified linear unit :math:`\sigma(z)=\max(0,z)`: arc-cosine closed forms.

Place in the package: engine, activations. The base kernel is the degree-1 arc-cosine kernel
(Cho & Saul 2009),

.. math::

    E[\sigma(u)\sigma(v)] = \frac{1}{2\pi}\Big(\sqrt{q_1q_2-c^2} + c\,\arccos(-\rho)\Big),
    \qquad \rho = \frac{c}{\sqrt{q_1q_2}} ,

(:math:`\arccos(-\rho)=\pi-\arccos\rho`, written so that it stays accurate as :math:`\rho\to-1`).
As :math:`\rho\to-1` the two terms cancel (the kernel is :math:`O((1+\rho)^{3/2})`): its absolute
accuracy stays at rounding level, its relative accuracy degrades like :math:`\epsilon/(1+\rho)`.

and the derivative pairs follow by Price's theorem; no ``DiracDelta`` ever reaches a kernel.
Pair kernels with second derivatives are singular as :math:`|\rho|\to1` (parallel hidden units):
the singular terms cancel in every Hessian entry, and for (numerically) parallel units their sum
takes its limit, zero (see :mod:`symhess.two_layer.pairs`). On the diagonal (a unit with itself) the products of ReLU pieces
are well defined (:math:`\Theta^2=\Theta`, :math:`\Theta\,\sigma=\sigma`, :math:`\delta\,\sigma=0`)
and :meth:`ReLU.gaussian_single` gives their expectations. The derivative at 0 is undefined, so a
zero row of ``W`` is rejected.

References
----------
Y. Cho and L. K. Saul, "Kernel methods for deep learning", NeurIPS 2009.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..symbols import z
from .base import Activation, RankRule
from .bivariate_normal import BivariateNormalCDF, normal_cdf, normal_pdf
from .registry import register_activation

__all__ = ["ReLU"]

_SINGLE = {
    # (a, b, m): E[(sigma^(a) sigma^(b))^(m)(h)] / table entry as a function of q
    (0, 0, 0): lambda q: q / 2,  # E[relu^2]
    (1, 0, 1): lambda q: sp.Rational(1, 2),  # (Theta relu)' = relu' = Theta
    (0, 1, 1): lambda q: sp.Rational(1, 2),
    (1, 1, 0): lambda q: sp.Rational(1, 2),  # Theta^2 = Theta
    (1, 1, 2): lambda q: sp.Integer(0),  # E[Theta''] = E[delta'] = 0
    (2, 0, 0): lambda q: sp.Integer(0),  # delta(h) relu(h) = 0
    (0, 2, 0): lambda q: sp.Integer(0),
    (2, 0, 2): lambda q: sp.Integer(0),
    (0, 2, 2): lambda q: sp.Integer(0),
    (1, 0, 0): lambda q: sp.sqrt(q) / sp.sqrt(2 * sp.pi),  # E[relu]
}


@register_activation
@dataclass(frozen=True)
class ReLU(Activation):
    r""":math:`\sigma(z) = \max(0, z)`; its derivative is the Heaviside step :math:`\Theta(z)`."""

    name: ClassVar[str] = "relu"
    unit_family: ClassVar[str | None] = "relu-like"
    examples: ClassVar[tuple[str, ...]] = ("relu",)
    singular_at_parallel: ClassVar[bool] = True
    undefined_at_zero: ClassVar[bool] = True
    positively_homogeneous: ClassVar[bool] = True
    #: pair kernels that diverge like 1/sqrt(q1 q2 - c^2); for exactly (anti)parallel units their
    #: combination in every Stein template tends to 0 (sigma'' is a pure delta at 0), so they drop out
    parallel_singular_keys: ClassVar[frozenset] = frozenset({(2, 2), (3, 1), (1, 3), (4, 0), (0, 4)})

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.Max(0, x)

    def derivative(self, order: int, x: sp.Expr = z) -> sp.Expr:
        if order == 0:
            return self.expr(x)
        if order == 1:
            return sp.Heaviside(x)
        return sp.diff(sp.Heaviside(z), z, order - 1).subs(z, x)

    @property
    def is_polynomial(self) -> bool:
        return False

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule:
        r""":math:`N_hN_i` for :math:`N_i\ge2`; for :math:`N_i=1`, 2 (1 if :math:`N_h=1`) (exact).

        Upper bound: positive homogeneity :math:`(w_i, v_i)\to(\lambda w_i, v_i/\lambda)` gives :math:`N_h`
        exact null vectors. Lower bound (:math:`N_i\ge2`, no two rows parallel or antiparallel,
        :math:`v_i\ne0`): :math:`\Theta(w_i\cdot x)x_j=\frac12x_j+\frac12\mathrm{sign}(w_i\cdot x)x_j`, and the
        even parts :math:`\mathrm{sign}(w_i\cdot x)x_j` are independent because each is singular on its own
        hyperplane. For :math:`N_i=1`, :math:`f` is linear on each half-line: 2 dimensions when the
        :math:`w_i` take both signs (1 when they share one).
        """
        value = (1 if n_hidden == 1 else 2) if n_in == 1 else n_hidden * n_in
        return RankRule(value, "ReLU homogeneity", "exact",
                        "N_h N_i (N_i >= 2; teacher rows pairwise non-parallel); 2 for N_i = 1 (w_i of both signs)")

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        root = sp.sqrt(q1 * q2 - c**2)
        return (root + c * sp.acos(-c / sp.sqrt(q1 * q2))) / (2 * sp.pi)

    def gaussian_pair(self, a: int, b: int, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr | None:
        r"""Simplified Price derivatives of the arc-cosine kernel, :math:`S=\sqrt{q_1q_2-c^2}`."""
        root = sp.sqrt(q1 * q2 - c**2)
        table = {
            (0, 0): self.pair_kernel(q1, q2, c),
            (1, 1): sp.acos(-c / sp.sqrt(q1 * q2)) / (2 * sp.pi),
            (2, 0): root / (2 * sp.pi * q1),
            (0, 2): root / (2 * sp.pi * q2),
            (2, 2): 1 / (2 * sp.pi * root),
            (3, 1): -c / (2 * sp.pi * q1 * root),
            (1, 3): -c / (2 * sp.pi * q2 * root),
            (4, 0): (2 * c**2 - q1 * q2) / (2 * sp.pi * q1**2 * root),
            (0, 4): (2 * c**2 - q1 * q2) / (2 * sp.pi * q2**2 * root),
        }
        return table.get((a, b))

    def gaussian_single(self, a: int, b: int, m: int, q: sp.Expr) -> sp.Expr | None:
        rule = _SINGLE.get((a, b, m))
        return None if rule is None else rule(q)

    def gaussian_pair_means(self, m1, m2, q1, q2, c, partner=None, orders=(0, 0)):
        r""":math:`E[\sigma(u)\sigma(v)]` with means, through :math:`\Phi_2` (Owen's T numerically).

        With :math:`u=m_1+\sqrt{q_1}X`, :math:`v=m_2+\sqrt{q_2}Y`, :math:`a_i=m_i/\sqrt{q_i}`,
        :math:`\rho=c/\sqrt{q_1q_2}`, :math:`r=\sqrt{1-\rho^2}`, :math:`t_{12}=(a_2-\rho a_1)/r`,
        :math:`t_{21}=(a_1-\rho a_2)/r` and :math:`A=\{X>-a_1,Y>-a_2\}`,
        :math:`P(A)=\Phi_2(a_1,a_2;\rho)`, Stein's lemma gives
        :math:`E[X1_A]=\varphi(a_1)\Phi(t_{12})+\rho\varphi(a_2)\Phi(t_{21})`,
        :math:`E[XY1_A]=\rho P(A)+\varphi(a_1)(r\varphi(t_{12})-\rho a_1\Phi(t_{12}))-\rho a_2\varphi(a_2)\Phi(t_{21})`,
        and :math:`E[\sigma(u)\sigma(v)]=E[uv1_A]`. The derivatives :math:`\Theta` and
        :math:`\delta^{(n)}` are distributions: their expectations are the derivatives in the means
        (Stein's lemma), as in the centred case.
        """
        if partner is not None and partner != self:
            return None
        s1, s2 = sp.sqrt(q1), sp.sqrt(q2)
        a1, a2 = m1 / s1, m2 / s2
        rho = c / (s1 * s2)
        r = sp.sqrt(1 - rho**2)
        t12, t21 = (a2 - rho * a1) / r, (a1 - rho * a2) / r
        P = BivariateNormalCDF(a1, a2, rho)
        # shorter forms of some derivative orders: Theta Theta -> P(A); delta(u) g(v) -> p_u(0) E[g(v) | u = 0]
        shorter = {
            (1, 1): P,
            (1, 0): m2 * P + s2 * (normal_pdf(a2) * normal_cdf(t21) + rho * normal_pdf(a1) * normal_cdf(t12)),
            (0, 1): m1 * P + s1 * (normal_pdf(a1) * normal_cdf(t12) + rho * normal_pdf(a2) * normal_cdf(t21)),
            (2, 1): normal_pdf(a1) / s1 * normal_cdf(t12),
            (1, 2): normal_pdf(a2) / s2 * normal_cdf(t21),
            (2, 0): normal_pdf(a1) / s1 * s2 * ((a2 - rho * a1) * normal_cdf(t12) + r * normal_pdf(t12)),
            (0, 2): normal_pdf(a2) / s2 * s1 * ((a1 - rho * a2) * normal_cdf(t21) + r * normal_pdf(t21)),
            (2, 2): normal_pdf(a1) * normal_pdf(t12) / (s1 * s2 * r),
        }
        if tuple(orders) != (0, 0):
            return shorter.get(tuple(orders))
        ex = normal_pdf(a1) * normal_cdf(t12) + rho * normal_pdf(a2) * normal_cdf(t21)
        ey = normal_pdf(a2) * normal_cdf(t21) + rho * normal_pdf(a1) * normal_cdf(t12)
        exy = (rho * P + normal_pdf(a1) * (r * normal_pdf(t12) - rho * a1 * normal_cdf(t12))
               - rho * a2 * normal_pdf(a2) * normal_cdf(t21))
        return m1 * m2 * P + m1 * s2 * ey + s1 * m2 * ex + s1 * s2 * exy

    def gaussian_single_means(self, orders, m, q):
        r""":math:`E[\sigma(h)]=m\Phi(a)+\sqrt q\varphi(a)`, :math:`a=m/\sqrt q`, and the products
        :math:`\sigma^2`, :math:`\Theta\sigma=\sigma`, :math:`\Theta^2=\Theta`, :math:`\delta\sigma=0`."""
        s = sp.sqrt(q)
        a = m / s
        relu = m * normal_cdf(a) + s * normal_pdf(a)
        table = {
            (0,): relu,
            (1,): normal_cdf(a),
            (0, 0): (m**2 + q) * normal_cdf(a) + m * s * normal_pdf(a),
            (0, 1): relu,
            (1, 1): normal_cdf(a),
            (0, 2): sp.Integer(0),
        }
        return table.get(tuple(sorted(orders)))
