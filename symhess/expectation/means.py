r"""Gaussian expectations with means: pre-activations with hidden biases, symbolically.

Place in the package: engine, expectation. With hidden biases the pre-activations
:math:`u=a\cdot x+m_1`, :math:`v=b\cdot x+m_2` are not centred:
:math:`(u,v)\sim N\big((m_1,m_2),[[q_1,c],[c,q_2]]\big)`. Shifting a mean shifts the argument, so

.. math::

    E[\sigma^{(a)}(u)\,\tau^{(b)}(v)] = \partial_{m_1}^a\partial_{m_2}^b\,E[\sigma(u)\,\tau(v)],\qquad
    E[G^{(n)}(h)] = \partial_m^n E[G(h)],\quad h\sim N(m,q),

and one base formula per activation pair gives every derivative order (for ReLU the derivatives
:math:`\Theta,\delta,\delta',\dots` are distributions and these identities are their definition
under the Gaussian, exactly as Stein's lemma treats the kink in the centred case). Stein's lemma is
unchanged by the means: :math:`E[x_jg(u,v)]=a_jE[\partial_ug]+b_jE[\partial_vg]`.

Routes, in order (a route that returns ``None`` hands over to the next):

1. **closed form**: the activation's ``gaussian_pair_means`` / ``gaussian_single_means`` hooks
   (ReLU and erf through the bivariate normal distribution function :math:`\Phi_2`);
2. **exact moments** for two polynomials: :math:`E[p(m_1+X)\,r(m_2+Y)]` expanded in the centred
   :math:`(X,Y)` and integrated by Isserlis' theorem;
3. ``None``: the numeric layer (:mod:`symhess.kernels.means`) integrates smooth activations by
   quadrature with shifted nodes and refuses the rest.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..activations import Activation
from .moments import expect_polynomial_pair, univariate_moment

__all__ = ["MEAN_ARGS", "SINGLE_ARGS", "pair_expectation_means", "single_expectation_means", "m1", "m2", "m"]

m1, m2, m = sp.symbols("m1 m2 m", real=True)
_q1, _q2, _q = sp.symbols("q1 q2 q", positive=True)
_c = sp.Symbol("c", real=True)
#: arguments of a pair formula with means, in this order
MEAN_ARGS = (m1, m2, _q1, _q2, _c)
#: arguments of a single (one-variable) formula with a mean
SINGLE_ARGS = (m, _q)
_X, _Y = sp.symbols("X Y", real=True)


def _poly_at(act: Activation, order: int, shift: sp.Expr, var: sp.Symbol) -> sp.Poly:
    """:math:`\\sigma^{(order)}(shift + var)` as a polynomial in ``var``."""
    return sp.Poly(sp.expand(act.derivative(order, shift + var)), var)


@lru_cache(maxsize=None)
def _base_pair(act: Activation, partner: Activation | None) -> sp.Expr | None:
    """:math:`E[\\sigma(u)\\tau(v)]` with means by the first route that answers, or ``None``."""
    expr = act.gaussian_pair_means(*MEAN_ARGS, partner=partner)
    if expr is not None:
        return expr
    tau = act if partner is None else partner
    if act.is_polynomial and tau.is_polynomial:
        return expect_polynomial_pair(_poly_at(act, 0, m1, _X), _poly_at(tau, 0, m2, _Y), _q1, _q2, _c)
    return None


@lru_cache(maxsize=None)
def pair_expectation_means(act: Activation, a: int, b: int, partner: Activation | None = None) -> sp.Expr | None:
    r""":math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]` as an expression in :data:`MEAN_ARGS`, or ``None``.

    Parameters
    ----------
    act, partner : Activation
        :math:`\sigma` and :math:`\tau` (``partner`` ``None``: :math:`\tau=\sigma`).
    a, b : int
        Derivative orders.

    Returns
    -------
    sympy.Expr or None
        ``None`` when neither a closed form nor exact moments exist (the numeric layer then decides).
    """
    if partner is not None and partner == act:
        partner = None
    tau = act if partner is None else partner
    if act.is_polynomial and tau.is_polynomial:  # exact moments of the derivatives themselves: shorter
        return expect_polynomial_pair(_poly_at(act, a, m1, _X), _poly_at(tau, b, m2, _Y), _q1, _q2, _c)
    # the highest lower order with a formula of its own, then derivatives in the means
    starts = sorted(((i, j) for i in range(a + 1) for j in range(b + 1)), key=lambda t: -(t[0] + t[1]))
    for i, j in starts:
        if (i, j) == (0, 0):
            break
        expr = act.gaussian_pair_means(*MEAN_ARGS, partner=partner, orders=(i, j))
        if expr is not None:
            return sp.diff(expr, m1, a - i, m2, b - j) if (a - i) or (b - j) else expr
    base = _base_pair(act, partner)
    if base is None:
        return None
    return sp.diff(base, m1, a, m2, b) if a or b else base


@lru_cache(maxsize=None)
def single_expectation_means(act: Activation, orders: tuple[int, ...], n: int = 0) -> sp.Expr | None:
    r""":math:`E[(\prod_k\sigma^{(o_k)})^{(n)}(h)]`, :math:`h\sim N(m,q)`, in :data:`SINGLE_ARGS`, or ``None``.

    ``orders`` has one entry (:math:`E[\sigma^{(o+n)}(h)]`) or two (a product at the same point, the
    diagonal of a Hessian block). Routes: the ``gaussian_single_means`` hook, exact moments for a
    polynomial, and for two factors the pair formula at :math:`m_1=m_2=m`, :math:`q_1=q_2=c=q` when
    the activation is not singular for parallel units (ReLU's pair derivatives diverge there; its hook
    gives the products).
    """
    orders = tuple(int(o) for o in orders)
    if len(orders) == 1:
        orders, n = (orders[0] + n,), 0
    if act.is_polynomial:
        prod = sp.Integer(1)
        for o in orders:
            prod *= act.derivative(o, m + _X)
        poly = sp.Poly(sp.expand(sp.diff(prod, _X, n) if n else prod), _X)
        return sp.expand(sum(coef * univariate_moment(k, _q) for (k,), coef in poly.terms()))
    expr = act.gaussian_single_means(orders, m, _q)
    if expr is None and len(orders) == 1 and orders[0] > 0:
        base = act.gaussian_single_means((0,), m, _q)
        expr = None if base is None else sp.diff(base, m, orders[0])
    if expr is None and len(orders) == 2 and not act.singular_at_parallel:
        pair = pair_expectation_means(act, orders[0], orders[1])
        if pair is not None:
            expr = pair.subs({m1: m, m2: m, _q1: _q, _q2: _q, _c: _q})
            # the diagonal derivative: d/dm of the product at one point
            return sp.diff(expr, m, n) if n else expr
    if expr is None:
        return None
    return sp.diff(expr, m, n) if n else expr
