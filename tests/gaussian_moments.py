"""Exact Gaussian expectations of polynomials, independent of symhess (a reference for the tests).

E over x ~ N(0, I) of a polynomial, monomial by monomial: E[x_j^k] = (k - 1)!! for even k and 0 for odd k
(Isserlis), the coordinates independent.
"""

from __future__ import annotations

import sympy as sp


def gaussian_expectation(expr: sp.Expr, xs) -> sp.Expr:
    """E over x ~ N(0, I) of the polynomial ``expr`` in the symbols ``xs``, exactly."""
    poly = sp.Poly(sp.expand(expr), *xs)
    total = sp.Integer(0)
    for exps, coeff in poly.terms():
        m = sp.Integer(1)
        for e in exps:
            m *= 0 if e % 2 else sp.factorial2(e - 1)
        total += coeff * m
    return total
