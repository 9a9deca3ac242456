r"""Exact Gaussian moments (Isserlis / Wick) for polynomial expectations.

Place in the package: engine, Gaussian expectations (SymPy only).

For :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])`, counting the pairings with :math:`k` cross pairs,

.. math::

    E[u^m v^n] = \sum_{k} \binom{m}{k}\binom{n}{k} k!\, c^k\,(m-k-1)!!\,q_1^{(m-k)/2}\,
    (n-k-1)!!\,q_2^{(n-k)/2},

the sum running over :math:`k\le\min(m,n)` with :math:`m-k` and :math:`n-k` even. For
:math:`x\sim N(0,I)`, :math:`E[\prod_j x_j^{\alpha_j}] = \prod_j (\alpha_j-1)!!` (zero if any
:math:`\alpha_j` is odd).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["bivariate_moment", "univariate_moment", "expect_polynomial_pair", "expect_standard_normal"]


def _dfact(n: int) -> int:
    return 1 if n <= 0 else int(sp.factorial2(n))


@lru_cache(maxsize=None)
def bivariate_moment(m: int, n: int, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
    r""":math:`E[u^m v^n]` for a centred Gaussian pair, exactly (Isserlis)."""
    total = sp.Integer(0)
    for k in range(min(m, n) + 1):
        if (m - k) % 2 or (n - k) % 2:
            continue
        total += (
            sp.binomial(m, k) * sp.binomial(n, k) * sp.factorial(k) * c**k
            * _dfact(m - k - 1) * q1 ** sp.Rational(m - k, 2)
            * _dfact(n - k - 1) * q2 ** sp.Rational(n - k, 2)
        )
    return total


def univariate_moment(n: int, q: sp.Expr) -> sp.Expr:
    r""":math:`E[h^n]` for :math:`h\sim N(0,q)`: :math:`(n-1)!!\,q^{n/2}` for even ``n``, else 0."""
    return sp.Integer(0) if n % 2 else _dfact(n - 1) * q ** sp.Rational(n, 2)


def expect_polynomial_pair(p_u: sp.Poly, p_v: sp.Poly, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
    r""":math:`E[p_u(u)\,p_v(v)]` for polynomials given as :class:`sympy.Poly` in one variable each."""
    total = sp.Integer(0)
    for (m,), a in p_u.terms():
        for (n,), b in p_v.terms():
            total += a * b * bivariate_moment(m, n, q1, q2, c)
    return sp.expand(total)


def expect_standard_normal(expr: sp.Expr, xs: list[sp.Symbol]) -> sp.Expr:
    r""":math:`E_x[\text{expr}]` for a polynomial in independent standard normals ``xs``, exactly.

    This is the brute-force route used to check the pair-kernel route: expand the polynomial and
    replace every monomial :math:`\prod_j x_j^{\alpha_j}` by :math:`\prod_j(\alpha_j-1)!!`.

    Raises
    ------
    ValueError
        If ``expr`` is not a polynomial in ``xs``.
    """
    try:
        poly = sp.Poly(sp.expand(expr), *xs)
    except sp.PolynomialError as exc:
        raise ValueError(f"expression is not a polynomial in the inputs {xs}: {exc}") from exc
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        if any(p % 2 for p in powers):
            continue
        weight = 1
        for p in powers:
            weight *= _dfact(p - 1)
        total += coeff * weight
    return total
