r"""Error-function activation :math:`\sigma(z) = \mathrm{erf}(s z + t)` (scale :math:`s`, shift :math:`t`, default 0).

Place in the package: engine, activations. The base kernel is the arcsine kernel (Williams 1997):

.. math::

    E[\mathrm{erf}(su)\,\mathrm{erf}(sv)] = \frac{2}{\pi}\arcsin
    \frac{2s^2 c}{\sqrt{(1+2s^2q_1)(1+2s^2q_2)}} ,

and every derivative pair follows from it by Price's theorem in the expectation layer, giving
the determinant forms with :math:`\tilde\Delta = (1+2s^2q_1)(1+2s^2q_2)-4s^4c^2`. The
Saad–Solla convention :math:`\mathrm{erf}(z/\sqrt2)` (also Goldt et al.'s nn2pp and
MLPGradientFlow.jl's ``sigmoid2``) is ``"erf:scale=1/sqrt(2)"``, exact, also available by the
name ``"saad_solla_erf"``.

With a shift, :math:`\mathrm{erf}(su+t)=\mathrm{erf}\big(s(u+t/s)\big)`: every Gaussian expectation is the
centred erf's expectation with means :math:`t/s` on each unit, in closed form through the bivariate
normal distribution function :math:`\Phi_2` (:meth:`Erf.gaussian_pair_means`), which is not elementary.

References
----------
C. K. I. Williams, "Computing with infinite networks", NeurIPS 1997.
D. Saad and S. A. Solla, Phys. Rev. E 52, 4225 (1995).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..errors import ActivationParameterError
from ..symbols import scale as scale_symbol, z
from .base import GAUSSIAN_EXPONENTS_PROOF, Activation, RankRule, full_rank_rule, to_exact
from .bivariate_normal import BivariateNormalCDF, normal_cdf, normal_pdf
from .registry import register_activation, register_alias

__all__ = ["Erf"]


@register_activation
@dataclass(frozen=True)
class Erf(Activation):
    r""":math:`\sigma(z) = \mathrm{erf}(s z + t)`, ``scale`` :math:`s > 0` (default 1), ``shift`` :math:`t` (default 0).

    Parameters
    ----------
    scale : positive number or sympy expression
        Input scale; ``scale=sympy.sqrt(2)/2`` (or the strings ``"1/sqrt(2)"``, ``"sqrt(2)/2"``, both
        exact) is the Saad–Solla ``erf(z/sqrt(2))`` convention, also named ``"saad_solla_erf"``.
    shift : finite real number or sympy expression
        Offset inside the error function (``"erf:scale=2,shift=1/2"``). At ``shift=0`` the activation,
        its spec (``"erf"``, ``"erf:scale=2"``) and its formulas are those of the centred erf; otherwise
        every expectation is the centred one with means :math:`t/s` (closed forms through :math:`\Phi_2`).
    """

    name: ClassVar[str] = "erf"
    unit_family: ClassVar[str | None] = "gaussian tail"
    examples: ClassVar[tuple[str, ...]] = ("erf", "erf:scale=0.5", "erf:scale=2,shift=1/2")
    scale: sp.Expr = sp.Integer(1)
    shift: sp.Expr = sp.Integer(0)

    def __post_init__(self) -> None:
        val = to_exact(self.scale, "scale")  # strings exactly: "1/sqrt(2)" -> sqrt(2)/2
        if val.is_positive is False or (val.is_number and not val > 0):
            raise ActivationParameterError(f"erf scale={self.scale!r} must be positive")
        object.__setattr__(self, "scale", val)
        t = to_exact(self.shift, "shift")  # non-finite values raise here
        if t.is_real is False or (t.is_number and not t.is_real):
            raise ActivationParameterError(f"erf shift={self.shift!r} must be a finite real number")
        object.__setattr__(self, "shift", t)

    @property
    def params(self) -> dict[str, object]:
        """``scale``, and ``shift`` only where it is not 0 (so ``"erf"``, ``"erf:scale=2"`` stay as they are)."""
        out = {"scale": self.scale}
        if self.shift != 0:
            out["shift"] = self.shift
        return out

    @property
    def is_shifted(self) -> bool:
        """Whether the shift :math:`t` is not (known to be) zero."""
        return self.shift != 0

    def centred(self) -> "Erf":
        r"""The same scale without shift: :math:`\mathrm{erf}(sz)`."""
        return Erf(scale=self.scale)

    def mean_shift(self) -> sp.Expr:
        r""":math:`t/s`: :math:`\mathrm{erf}(su+t)=\mathrm{erf}(s(u+t/s))`, the mean added to each pre-activation."""
        return self.shift / self.scale

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.erf(self.scale * x + self.shift)

    def variance_scale(self) -> float:
        r""":math:`s^2`: ``erf(s z)`` at variance :math:`q` is ``erf(z)`` at variance :math:`s^2 q`."""
        self.require_numeric()
        try:
            return float(self.scale**2)
        except OverflowError:
            return float("inf")

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule:
        r"""Full rank :math:`P=N_h(N_i+1)` (Couto et al., Sec. 5, conjectured it; proved for generic teachers).

        The gradient functions restricted to a generic line are polynomials times Gaussians with
        distinct exponents, hence independent; the proof is written out with the bias counting
        rules (:mod:`symhess.two_layer.bias_counting`, Theorem 1). With a shift :math:`t\ne0` the units
        :math:`\mathrm{erf}(s\,w_i\cdot x+t)` are erf units with equal hidden biases :math:`t`, which are
        generic there (nonzero, and :math:`(sw_i,t)\ne\pm(sw_k,t)` for distinct rows); Theorem 1 makes the
        larger family with the bias gradients independent, so its subset is too: full rank again, although the
        shifted erf is neither odd nor even.
        """
        return RankRule(*full_rank_rule(n_in, n_hidden, GAUSSIAN_EXPONENTS_PROOF + "; float64 ranks undercount (smallest "
                                        "eigenvalues down to 1e-35 of the largest for N_i = 1)"))

    def symbolic_parameters(self) -> dict[str, object]:
        """``scale`` becomes the symbol :math:`s`, a nonzero ``shift`` the symbol :math:`t`."""
        out: dict[str, object] = {"scale": scale_symbol}
        if self.is_shifted:
            out["shift"] = _SHIFT
        return out

    def determinant_alpha(self) -> sp.Expr | None:
        r""":math:`\alpha=2s^2`: the kernel is :math:`\frac2\pi\arcsin(\alpha Q_{ik}/\sqrt{(1+\alpha Q_{ii})(1+\alpha Q_{kk})})`.

        ``None`` with a shift: the formulas are then written with :math:`\Phi_2`, not with :math:`\tilde\Delta`.
        """
        return None if self.is_shifted else 2 * self.scale**2

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr | None:
        if self.is_shifted:  # odd pairs do not vanish: Price's theorem from K_00 is not enough (gaussian_pair)
            return None
        s2 = self.scale**2
        return 2 / sp.pi * sp.asin(2 * s2 * c / sp.sqrt((1 + 2 * s2 * q1) * (1 + 2 * s2 * q2)))

    def gaussian_pair(self, a: int, b: int, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr | None:
        r""":math:`K_{ab}` of the shifted erf: the centred erf with means :math:`t/s` (``None`` without shift: Price).

        .. math::

            E[\sigma^{(a)}(u)\sigma^{(b)}(v)] = \partial_{m_1}^a\partial_{m_2}^b
            E[\mathrm{erf}(s(u+m_1))\,\mathrm{erf}(s(v+m_2))]\Big|_{m_1=m_2=t/s},

        the right side from :meth:`gaussian_pair_means` of :math:`\mathrm{erf}(sz)` (through :math:`\Phi_2`).
        """
        if not self.is_shifted:
            return None
        mu = self.mean_shift()
        return self.centred()._pair_means_orders(a, b, mu, mu, q1, q2, c, None)

    def cross_pair(self, other: "Erf", a: int, b: int, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        r""":math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]`, :math:`(u,v)` centred, for two erf units of any scales and shifts.

        :math:`\tau(z)=\mathrm{erf}(s_2z+t_2)`: the centred pair of scales :math:`s_1, s_2` with means
        :math:`t_1/s_1, t_2/s_2` (:meth:`gaussian_pair_means`), derivatives in the means.
        """
        partner = None if other.centred() == self.centred() else other.centred()
        return self.centred()._pair_means_orders(a, b, self.mean_shift(), other.mean_shift(), q1, q2, c, partner)

    def _pair_means_orders(self, a, b, m1, m2, q1, q2, c, partner) -> sp.Expr:
        """Centred erf pair of orders (a, b) with means: the highest hook order, then derivatives in the means."""
        M1, M2 = sp.Dummy("m1", real=True), sp.Dummy("m2", real=True)
        for i, j in sorted(((i, j) for i in range(min(a, 1) + 1) for j in range(min(b, 1) + 1)),
                           key=lambda t: -(t[0] + t[1])):
            expr = self.gaussian_pair_means(M1, M2, q1, q2, c, partner=partner, orders=(i, j))
            if expr is not None:
                break
        if (a - i) or (b - j):
            expr = sp.diff(expr, M1, a - i, M2, b - j)
        return expr.xreplace({M1: m1, M2: m2})

    def gaussian_single(self, a: int, b: int, m: int, q: sp.Expr) -> sp.Expr | None:
        r"""Closed forms needed on the diagonal: :math:`E[\sigma^2]` and :math:`E[\sigma'^2]`.

        With a shift every :math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]` is :math:`\partial_\mu^m` of the
        centred pair with means at :math:`u=v` (:math:`q_1=q_2=c=q`, :math:`m_1=m_2=\mu`), at :math:`\mu=t/s`;
        the pair is finite there (:math:`|\rho|=2s^2q/(1+2s^2q)<1`).
        """
        if self.is_shifted:
            M = sp.Dummy("mu", real=True)
            expr = self.centred()._pair_means_orders(a, b, M, M, q, q, q, None)
            if m:
                expr = sp.diff(expr, M, m)
            return expr.xreplace({M: self.mean_shift()})
        s2 = self.scale**2
        if (a, b, m) == (0, 0, 0):
            return 2 / sp.pi * sp.asin(2 * s2 * q / (1 + 2 * s2 * q))
        if (a, b, m) == (1, 1, 0):
            return 4 * s2 / (sp.pi * sp.sqrt(1 + 4 * s2 * q))
        return None

    def gaussian_pair_means(self, m1, m2, q1, q2, c, partner=None, orders=(0, 0)):
        r""":math:`E[\mathrm{erf}(s_1u)\,\mathrm{erf}(s_2v)]` with means, through :math:`\Phi_2`.

        :math:`\mathrm{erf}(y)=E[\mathrm{sign}(\sqrt2y-N)]` for :math:`N\sim N(0,1)`, so with independent
        :math:`N_1,N_2` and :math:`Y_i=\sqrt2s_iu_i-N_i\sim N(\mu_i,\varsigma_i^2)`,
        :math:`\mu_i=\sqrt2s_im_i`, :math:`\varsigma_i^2=1+2s_i^2q_i`,
        :math:`\mathrm{Cov}(Y_1,Y_2)=2s_1s_2c`:

        .. math::

            E[\mathrm{erf}(s_1u)\mathrm{erf}(s_2v)] = 4\Phi_2\Big(\frac{\mu_1}{\varsigma_1},\frac{\mu_2}{\varsigma_2};
            \frac{2s_1s_2c}{\varsigma_1\varsigma_2}\Big) - 2\Phi\Big(\frac{\mu_1}{\varsigma_1}\Big)
            - 2\Phi\Big(\frac{\mu_2}{\varsigma_2}\Big) + 1,

        which at zero means is the arcsine kernel. ``partner`` may be erf of another scale. Shifts
        add to the means: :math:`\mathrm{erf}(s_iu+t_i)=\mathrm{erf}(s_i(u+t_i/s_i))`.
        """
        other = self if partner is None else partner
        if not isinstance(other, Erf):
            return None
        if self.is_shifted or other.is_shifted:
            p = None if partner is None or partner == self else other.centred()
            return self.centred().gaussian_pair_means(
                m1 + self.mean_shift(), m2 + other.mean_shift(), q1, q2, c, partner=p, orders=orders)
        s2_ = self.scale
        if partner is not None and partner != self:
            s2_ = partner.scale
        s1_ = self.scale
        v1, v2 = sp.sqrt(1 + 2 * s1_**2 * q1), sp.sqrt(1 + 2 * s2_**2 * q2)
        h, k = sp.sqrt(2) * s1_ * m1 / v1, sp.sqrt(2) * s2_ * m2 / v2
        rho = 2 * s1_ * s2_ * c / (v1 * v2)
        if tuple(orders) == (1, 1):  # 4 d_h d_k Phi_2 = 4 phi_2(h, k; rho), times dh/dm1 dk/dm2
            r = sp.sqrt(1 - rho**2)
            return 8 * s1_ * s2_ / (v1 * v2) * normal_pdf(h) * normal_pdf((k - rho * h) / r) / r
        if tuple(orders) in ((1, 0), (0, 1)):  # d/dm of 4 Phi_2 - 2 Phi(h) - 2 Phi(k)
            r = sp.sqrt(1 - rho**2)
            if tuple(orders) == (1, 0):
                return sp.sqrt(2) * s1_ / v1 * normal_pdf(h) * (4 * normal_cdf((k - rho * h) / r) - 2)
            return sp.sqrt(2) * s2_ / v2 * normal_pdf(k) * (4 * normal_cdf((h - rho * k) / r) - 2)
        if tuple(orders) != (0, 0):
            return None
        return 4 * BivariateNormalCDF(h, k, rho) - 2 * normal_cdf(h) - 2 * normal_cdf(k) + 1

    def gaussian_single_means(self, orders, m, q):
        r""":math:`E[\mathrm{erf}(sh+t)]=\mathrm{erf}\big((sm+t)/\sqrt{1+2s^2q}\big)`; products come from the pair at :math:`u=v`."""
        if tuple(orders) == (0,):
            return sp.erf((self.scale * m + self.shift) / sp.sqrt(1 + 2 * self.scale**2 * q))
        return None

    def gaussian_four_point(self, orders: tuple[int, int, int, int], C: sp.Matrix) -> sp.Expr | None:
        r"""Saad and Solla's :math:`I_4 = E[\sigma'(y_1)\sigma'(y_2)\sigma(y_3)\sigma(y_4)]`, orders (1, 1, 0, 0).

        With :math:`\tilde C = 2s^2C` and :math:`\sigma'(y_1)\sigma'(y_2) = \frac{4s^2}{\pi}
        e^{-(\tilde y_1^2+\tilde y_2^2)/2}`, the Gaussian factor tilts the law of :math:`(y_3, y_4)`:

        .. math::

            I_4 = \frac{8s^2}{\pi^2}\,\frac{1}{\sqrt{\Lambda_4}}
            \arcsin\frac{\Lambda_0}{\sqrt{\Lambda_1\Lambda_2}},\qquad
            \Lambda_4 = (1+\tilde C_{11})(1+\tilde C_{22})-\tilde C_{12}^2,

        where :math:`\Lambda_0/\Lambda_4`, :math:`\Lambda_1/\Lambda_4 - 1`, :math:`\Lambda_2/\Lambda_4 - 1`
        are the covariance and variances of :math:`(\tilde y_3,\tilde y_4)` under the tilted law,
        :math:`\tilde C_{34} - \tilde C_{3,12}(I+\tilde C_{12,12})^{-1}\tilde C_{12,4}` and its
        diagonal analogues (Saad & Solla 1995, eq. A5, for :math:`s = 1/\sqrt2`).
        """
        if tuple(orders) != (1, 1, 0, 0) or self.is_shifted:  # the tilt formula holds for centred units only
            return None
        t = 2 * self.scale**2
        c11, c22, c33, c44 = (t * C[k, k] for k in range(4))
        c12, c13, c14, c23, c24, c34 = (t * C[i, j] for i, j in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)))
        lam4 = (1 + c11) * (1 + c22) - c12**2
        lam0 = lam4 * c34 - c23 * c24 * (1 + c11) - c13 * c14 * (1 + c22) + c12 * (c13 * c24 + c14 * c23)
        lam1 = lam4 * (1 + c33) - c23**2 * (1 + c11) - c13**2 * (1 + c22) + 2 * c12 * c13 * c23
        lam2 = lam4 * (1 + c44) - c24**2 * (1 + c11) - c14**2 * (1 + c22) + 2 * c12 * c14 * c24
        return 4 * t / sp.pi**2 / sp.sqrt(lam4) * sp.asin(lam0 / sp.sqrt(lam1 * lam2))


register_alias("saad_solla_erf", "erf:scale=1/sqrt(2)")

#: the paper-style symbol of a symbolic shift
_SHIFT = sp.Symbol("t", real=True)
