r"""The ABReLU family :math:`\sigma(z)=a\min(z,0)+b\max(z,0)`: leaky ReLU and the absolute value.

Place in the package: engine, activations. Special points: :math:`(a,b)=(0,1)` is ReLU (kept as its
own activation ``"relu"``, whose kernels coincide with ``"abrelu:a=0,b=1"``), :math:`(\alpha,1)` is
the leaky ReLU ``"leaky_relu:slope=alpha"`` and :math:`(-1,1)` is ``"abs"``.

**Closed forms.** With :math:`r(z)=\max(z,0)`, :math:`\sigma(z)=b\,r(z)-a\,r(-z)`, and
:math:`\frac{d^n}{dz^n}r(-z)=(-1)^nr^{(n)}(-z)`. The pair :math:`(u,-v)` has covariance :math:`-c`, so
every derivative pair is a combination of the ReLU (arc-cosine) pair kernels
:math:`R_{ab}(q_1,q_2,c)` at :math:`\pm c`:

.. math::

    K_{mn}(q_1,q_2,c) = E[\sigma^{(m)}(u)\sigma^{(n)}(v)] = \big(b^2+(-1)^{m+n}a^2\big)R_{mn}(q_1,q_2,c)
        - ab\big((-1)^m+(-1)^n\big)R_{mn}(q_1,q_2,-c)

(derivative orders :math:`m, n`; slopes :math:`a, b`). For :math:`(m,n)=(0,0)` this is the Cho–Saul degree-1 arc-cosine kernel of the family,

.. math::

    K_{00} = \frac{(a-b)^2}{2\pi}\sqrt{q_1q_2-c^2}
        + c\Big(\frac{a^2+b^2}{2}-\frac{(a-b)^2}{2\pi}\arccos\rho\Big),

and :math:`K_{11}=\frac{a^2+b^2}{2}-\frac{(a-b)^2}{2\pi}\arccos\rho` (the degree-0 arc-cosine kernel,
:math:`\rho=c/\sqrt{q_1q_2}`). The kernels are *evaluated* in the first form, the ReLU kernels at
:math:`\pm c`: each ReLU kernel is accurate at its own end (:math:`\arccos(-\rho)` as
:math:`\rho\to-1`), whereas :math:`\tfrac12-\arccos(\rho)/(2\pi)` cancels catastrophically there.
Every key the Hessian uses — :math:`K_{00},K_{11},K_{20},K_{22},K_{31},K_{40}` and their mirror
images — is given in closed form; other keys return ``None``.

**The kink.** :math:`\sigma'=b\Theta(z)+a\Theta(-z)`, :math:`\sigma''=(b-a)\delta(z)`,
:math:`\sigma'''=(b-a)\delta'(z)`. The Hessian treats them as distributions under the Gaussian
measure, exactly as for ReLU: a term :math:`E[\delta(u)g(v)]` is the density of :math:`u` at 0 times
the conditional expectation of :math:`g`, a finite smooth function of the covariance, and it
*contributes* (e.g. :math:`K_{20}=(b-a)^2\sqrt{q_1q_2-c^2}/(2\pi q_1)`, the residual blocks'
:math:`K_{40}`). Equivalently, every entry is the derivative of the closed-form population loss,
which is twice continuously differentiable wherever no two units of the student and the teacher
are parallel (checked against finite differences of the loss in the tests). For a unit with itself
the products are taken pointwise before the expectation (:math:`\Theta(z)\Theta(-z)=0`,
:math:`\delta(z)\sigma(z)=0` since :math:`\sigma(0)=0`). Pair kernels with a :math:`\delta` on both
sides diverge like :math:`1/\sqrt{q_1q_2-c^2}` for (anti)parallel units; their sum in every Stein
template tends to zero, and the parallel limit is taken as for ReLU
(:mod:`symhess.two_layer.pairs`). The derivative at 0 is undefined unless :math:`a=b`, so a zero row
of ``W`` is rejected; :math:`a=b` (the linear unit :math:`az`) is rejected: use ``"linear"``.

References
----------
Y. Cho and L. K. Saul, "Kernel methods for deep learning", NeurIPS 2009.
R. Tsuchida, F. Roosta-Khorasani and M. Gallagher, "Invariance of weight distributions in rectified
MLPs", ICML 2018 (the leaky-ReLU kernel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..errors import ActivationParameterError, InvalidParameterError
from ..symbols import z
from .base import Activation, RankRule, to_exact
from .registry import register_activation
from .relu import _SINGLE as _RELU_SINGLE, ReLU

__all__ = ["ABReLU", "LeakyReLU", "Abs", "abrelu_rank"]

_RELU = ReLU()


def abrelu_rank(n_in: int, n_hidden: int, a: sp.Expr, b: sp.Expr) -> tuple[int, str, str, str, str]:
    r"""Generic rank at the optimum for :math:`\sigma=a\min(z,0)+b\max(z,0)`, :math:`a\neq b`.

    With :math:`\sigma(z)=\alpha z+\beta|z|`, :math:`\alpha=\frac{a+b}2`, :math:`\beta=\frac{b-a}2\neq0`:

    * upper bound :math:`N_hN_i`: positive homogeneity :math:`\sigma(\lambda z)=\lambda\sigma(z)`
      (:math:`\lambda>0`) makes :math:`(w_i,v_i)\to(\lambda w_i,v_i/\lambda)` a symmetry, one null
      vector per unit (:math:`\partial f/\partial v_i=\sum_jW_{ij}\,\partial f/\partial W_{ij}/v_i`);
    * lower bound (:math:`N_i\ge2`, rows pairwise non-(anti)parallel, :math:`v_i\neq0`): the
      :math:`W`-gradients :math:`v_i(\alpha+\beta\,\mathrm{sign}(w_i\cdot x))x_j` are independent,
      because a vanishing combination forces each jump :math:`2\beta\sum_jc_{ij}x_j` across the
      hyperplane :math:`w_i\cdot x=0` to vanish on it (:math:`c_i\parallel w_i`), and the remaining
      :math:`\sum_i\mu_i|w_i\cdot x|` is linear only if every :math:`\mu_i=0` (each has its own kink).

    For :math:`N_i=1` the functions live in :math:`\mathrm{span}\{x,|x|\}`: 2 when the :math:`w_i`
    take both signs (:math:`N_h\ge2`), 1 for :math:`N_h=1`; for ``abs`` (:math:`\alpha=0`) only
    :math:`|x|`, so 1.
    """
    if n_in == 1:
        if a + b == 0:
            return 1, "abs on one input", "exact", "1 (every gradient is a multiple of |x|)", ""
        value = 1 if n_hidden == 1 else 2
        return value, "ABReLU homogeneity", "exact", "2 for N_i = 1 (w_i of both signs), 1 if N_h = 1", ""
    return (n_hidden * n_in, "ABReLU homogeneity", "exact",
            "N_h N_i = P - N_h (N_i >= 2; teacher rows pairwise non-parallel)",
            "positive homogeneity sigma(l z) = l sigma(z) gives one rescaling null vector per hidden unit")


class _ABReLUBase(Activation):
    r"""Shared closed forms of :math:`\sigma(z)=a\min(z,0)+b\max(z,0)`; subclasses define :attr:`ab`."""

    unit_family: ClassVar[str | None] = "relu-like"

    singular_at_parallel: ClassVar[bool] = True
    undefined_at_zero: ClassVar[bool] = True
    parallel_singular_keys: ClassVar[frozenset] = ReLU.parallel_singular_keys

    @property
    def ab(self) -> tuple[sp.Expr, sp.Expr]:  # pragma: no cover - abstract
        raise NotImplementedError

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        a, b = self.ab
        return b * sp.Max(0, x) - a * sp.Max(0, -x)

    def derivative(self, order: int, x: sp.Expr = z) -> sp.Expr:
        a, b = self.ab
        if order < 0:
            raise InvalidParameterError(f"derivative order={order} must be >= 0")
        if order == 0:
            return self.expr(x)
        if order == 1:
            return b * sp.Heaviside(x) + a * sp.Heaviside(-x)
        return (b - a) * sp.diff(sp.Heaviside(z), z, order - 1).subs(z, x)

    @property
    def is_polynomial(self) -> bool:
        return False

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        return self.gaussian_pair(0, 0, q1, q2, c)

    def gaussian_pair(self, a: int, b: int, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr | None:
        r""":math:`K_{mn}=(b^2+(-1)^{m+n}a^2)R_{mn}(c)-ab((-1)^m+(-1)^n)R_{mn}(-c)` (orders m, n = ``a``, ``b`` here; slopes from :attr:`ab`)."""
        plus = _RELU.gaussian_pair(a, b, q1, q2, c)
        if plus is None:
            return None
        sa, sb = self.ab
        same = sb**2 + (-1) ** (a + b) * sa**2
        cross = -sa * sb * ((-1) ** a + (-1) ** b)
        out = same * plus
        if cross != 0:
            out = out + cross * _RELU.gaussian_pair(a, b, q1, q2, -c)
        return sp.factor_terms(out)

    def gaussian_single(self, a: int, b: int, m: int, q: sp.Expr) -> sp.Expr | None:
        r"""One-unit expectations, products taken pointwise: :math:`\sigma\sigma'=b^2r(h)-a^2r(-h)`, :math:`\sigma'^2=b^2\Theta(h)+a^2\Theta(-h)`."""
        sa, sb = self.ab
        key = (a, b, m)
        if key == (0, 0, 0):
            return (sa**2 + sb**2) * q / 2
        if key in ((1, 0, 1), (0, 1, 1), (1, 1, 0)):
            return (sa**2 + sb**2) / 2
        if key == (1, 0, 0) or key == (0, 1, 0):
            return (sb**2 - sa**2) * sp.sqrt(q) / sp.sqrt(2 * sp.pi)
        if key in _RELU_SINGLE and _RELU_SINGLE[key](q) == 0:
            # E[(sigma'^2)''] = (b^2 - a^2) E[delta'(h)] = 0; delta(h) sigma(h) = 0 since sigma(0) = 0
            return sp.Integer(0)
        return None

    def gaussian_pair_means(self, m1, m2, q1, q2, c, partner=None, orders=(0, 0)):
        r"""With means: :math:`\sigma^{(k)}(z)=b\,r^{(k)}(z)-a(-1)^kr^{(k)}(-z)` and :math:`-u` has mean :math:`-m_1`,

        .. math::

            K_{kl} = b^2R_{kl}(m_1,m_2,c)-ab(-1)^lR_{kl}(m_1,-m_2,-c)-ab(-1)^kR_{kl}(-m_1,m_2,-c)
                +a^2(-1)^{k+l}R_{kl}(-m_1,-m_2,c),

        :math:`R_{kl}` the ReLU expectations with means (:meth:`ReLU.gaussian_pair_means`), at the orders
        where ReLU has a formula of its own (the others follow by differentiating in the means).
        """
        if partner is not None and partner != self:
            return None
        k, l = orders
        R = lambda x1, x2, cc: _RELU.gaussian_pair_means(x1, x2, q1, q2, cc, orders=orders)  # noqa: E731
        if R(m1, m2, c) is None:
            return None
        sa, sb = self.ab
        return (sb**2 * R(m1, m2, c) - sa * sb * (-1) ** l * R(m1, -m2, -c)
                - sa * sb * (-1) ** k * R(-m1, m2, -c) + sa**2 * (-1) ** (k + l) * R(-m1, -m2, c))

    def gaussian_single_means(self, orders, m, q):
        r""":math:`E[\sigma]=bE[r(h)]-aE[r(-h)]` and the pointwise products :math:`\sigma^2=b^2r(h)^2+a^2r(-h)^2`,
        :math:`\sigma\sigma'=b^2r(h)-a^2r(-h)`, :math:`\sigma'^2=b^2\Theta(h)+a^2\Theta(-h)`, :math:`\sigma\sigma''=0`."""
        sa, sb = self.ab
        key = tuple(sorted(orders))
        signs = {(0,): (sb, -sa), (0, 0): (sb**2, sa**2), (0, 1): (sb**2, -sa**2), (1, 1): (sb**2, sa**2)}
        if key == (0, 2):
            return sp.Integer(0)
        if key not in signs:
            return None
        plus, minus = signs[key]
        return plus * _RELU.gaussian_single_means(key, m, q) + minus * _RELU.gaussian_single_means(key, -m, q)

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule | None:
        """See :func:`abrelu_rank`."""
        return RankRule(*abrelu_rank(n_in, n_hidden, *self.ab))


def _slope(value: object, name: str) -> sp.Expr:
    val = to_exact(value, name)
    if not val.is_real and val.is_real is not None:
        raise ActivationParameterError(f"{name}={value!r} must be real")
    return val


@register_activation
@dataclass(frozen=True)
class ABReLU(_ABReLUBase):
    r""":math:`\sigma(z)=a\min(z,0)+b\max(z,0)`, slopes ``a`` (for :math:`z<0`) and ``b`` (for :math:`z>0`), :math:`a\neq b`.

    Parameters
    ----------
    a, b : number or sympy expression
        The two slopes (defaults 0 and 1: ReLU). ``a == b`` is the linear unit and is rejected.
    """

    name: ClassVar[str] = "abrelu"
    examples: ClassVar[tuple[str, ...]] = ('abrelu:a=-0.3,b=1.2',)
    a: sp.Expr = sp.Integer(0)
    b: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        a, b = _slope(self.a, "a"), _slope(self.b, "b")
        if sp.simplify(a - b) == 0:
            raise ActivationParameterError(
                f"abrelu a={self.a!r}, b={self.b!r}: equal slopes give the linear unit a*z; use 'linear'"
            )
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)

    @property
    def ab(self) -> tuple[sp.Expr, sp.Expr]:
        return self.a, self.b


@register_activation
@dataclass(frozen=True)
class LeakyReLU(_ABReLUBase):
    r"""Leaky ReLU :math:`\sigma(z)=\max(z,0)+\alpha\min(z,0)` = ``abrelu:a=slope,b=1``.

    Parameters
    ----------
    slope : number or sympy expression
        :math:`\alpha`, the slope for :math:`z<0` (default 1/100, PyTorch's); ``slope=1`` is rejected.
    """

    name: ClassVar[str] = "leaky_relu"
    examples: ClassVar[tuple[str, ...]] = ('leaky_relu',)
    slope: sp.Expr = sp.Rational(1, 100)

    def __post_init__(self) -> None:
        val = _slope(self.slope, "slope")
        if sp.simplify(val - 1) == 0:
            raise ActivationParameterError("leaky_relu slope=1 is the linear unit z; use 'linear'")
        object.__setattr__(self, "slope", val)

    @property
    def ab(self) -> tuple[sp.Expr, sp.Expr]:
        return self.slope, sp.Integer(1)


@register_activation
@dataclass(frozen=True)
class Abs(_ABReLUBase):
    r""":math:`\sigma(z)=|z|` = ``abrelu:a=-1,b=1`` (even: :math:`(w_i,v_i)\to(-w_i,v_i)` is a discrete symmetry)."""

    name: ClassVar[str] = "abs"
    examples: ClassVar[tuple[str, ...]] = ('abs',)

    @property
    def ab(self) -> tuple[sp.Expr, sp.Expr]:
        return sp.Integer(-1), sp.Integer(1)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.Abs(x)
