r"""Exact rank of the expected Hessian at the optimum for polynomial activations and integer teachers.

Place in the package: outputs, checking (private). The per-pair block formulas of
:func:`symhess.derive_blocks` are polynomials with rational coefficients in the overlaps, so at an
integer teacher every entry is a rational number; the matrix is scaled to integers and its rank
computed exactly with python-flint (``fmpz_mat.rank``, fraction-free elimination).
"""

from __future__ import annotations

from functools import lru_cache
from math import lcm

import sympy as sp

from ..activations import Activation
from ..errors import NoClosedFormError
from ..two_layer.blocks import BASIS_SYMBOLS, derive_blocks
from ..symbols import Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, delta_jl

__all__ = ["exact_hessian", "exact_rank", "entry_degree", "check_exact_activation"]

_OVERLAPS = (Q_ii, Q_kk, Q_ik)
_BASIS_ARGS = (W_ij, W_il, W_kj, W_kl, delta_jl)


def check_exact_activation(act: Activation) -> None:
    """Raise unless ``act`` is a polynomial with rational coefficients (exact ranks need one)."""
    if not act.is_polynomial:
        raise NoClosedFormError(
            f"exact ranks need a polynomial activation; {act.spec!r} is not one. For erf, tanh or relu "
            "the rank is numerical (symhess.two_layer.rank) and a counting rule cannot be checked exactly"
        )
    coeffs = act.polynomial_coeffs()
    bad = [cf for cf in coeffs if not (cf.is_Rational)]
    if bad:
        raise NoClosedFormError(
            f"exact ranks need rational activation coefficients; {act.spec!r} has {bad} (give numbers, "
            "e.g. 'quadratic:eps=0.5')"
        )


def entry_degree(act: Activation) -> int:
    r"""Degree of every Hessian entry as a polynomial in the weights :math:`(W, v)`: :math:`2n` for degree :math:`n`."""
    return 2 * int(act.degree)


def _poly_terms(expr: sp.Expr, gens) -> list[tuple[tuple[int, ...], sp.Rational]]:
    if expr == 0:
        return []
    poly = sp.Poly(sp.expand(expr), *gens)
    return [(m, sp.Rational(cf)) for m, cf in poly.terms()]


@lru_cache(maxsize=None)
def _tables(act: Activation):
    """Per block: basis -> polynomial terms of the pair and the diagonal coefficients, and a denominator."""
    blocks = derive_blocks(act, "gauss_newton")
    out = {}
    den = 1
    for name, blk in blocks.items():
        pair = {b: _poly_terms(cf, _OVERLAPS) for b, cf in blk.coefficients.items()}
        diag = {b: _poly_terms(cf, (Q_ii,)) for b, cf in blk.diagonal.items()}
        for terms in list(pair.values()) + list(diag.values()):
            for _, cf in terms:
                den = lcm(den, int(cf.q))
        basis = {b: sp.lambdify(_BASIS_ARGS, BASIS_SYMBOLS[b], modules=[{}]) for b in set(pair) | set(diag)}
        out[name] = (pair, diag, basis)
    return out, den


def _eval(terms, values, den: int) -> int:
    total = 0
    for mono, cf in terms:
        t = int(cf.p) * (den // int(cf.q))
        for x, e in zip(values, mono):
            if e:
                t *= x**e
        total += t
    return total


def exact_hessian(act: Activation, W: list[list[int]], v: list[int]) -> tuple[list[list[int]], int]:
    r"""The expected Hessian at the optimum for integer weights, exactly: ``(D * H as ints, D)``.

    .. math::

        H = E_x[\nabla_\theta f\,\nabla_\theta f^\top],\qquad \theta = (W_{\text{row-major}}, v),

    assembled entry by entry from the per-pair formulas of :func:`symhess.derive_blocks`
    (:math:`i\ne k`: ``coefficients``; :math:`i=k`: ``diagonal``), times the common denominator of
    the coefficients (which leaves the rank unchanged).

    Parameters
    ----------
    act : Activation
        A polynomial activation with rational coefficients.
    W : list of lists of int
        Shape ``(Nh, Ni)``.
    v : list of int
        Shape ``(Nh,)``.
    """
    check_exact_activation(act)
    (tables, den) = _tables(act)
    Nh, Ni = len(W), len(W[0])
    P = Nh * Ni + Nh
    Q = [[sum(a * b for a, b in zip(W[i], W[k])) for k in range(Nh)] for i in range(Nh)]
    coef: dict[tuple[str, str, int, int], int] = {}
    for name, (pair, diag, _) in tables.items():
        for i in range(Nh):
            for k in range(Nh):
                if i == k:
                    for b, terms in diag.items():
                        coef[(name, b, i, k)] = _eval(terms, (Q[i][i],), den)
                else:
                    for b, terms in pair.items():
                        coef[(name, b, i, k)] = _eval(terms, (Q[i][i], Q[k][k], Q[i][k]), den)
    H = [[0] * P for _ in range(P)]
    ww_pair, ww_diag, ww_basis = tables["WW"]
    wv_pair, wv_diag, wv_basis = tables["Wv"]
    for i in range(Nh):
        for k in range(Nh):
            names = ww_diag if i == k else ww_pair
            for j in range(Ni):
                for l in range(Ni):
                    args = (W[i][j], W[i][l], W[k][j], W[k][l], 1 if j == l else 0)
                    val = sum(coef[("WW", b, i, k)] * ww_basis[b](*args) for b in names)
                    H[i * Ni + j][k * Ni + l] = v[i] * v[k] * val
            wnames = wv_diag if i == k else wv_pair
            for j in range(Ni):
                args = (W[i][j], W[i][j], W[k][j], W[k][j], 1)
                val = v[i] * sum(coef[("Wv", b, i, k)] * wv_basis[b](*args) for b in wnames)
                H[i * Ni + j][Nh * Ni + k] = val
                H[Nh * Ni + k][i * Ni + j] = val
            H[Nh * Ni + i][Nh * Ni + k] = coef[("vv", "1", i, k)]
    return H, den


def exact_rank(act: Activation, W: list[list[int]], v: list[int]) -> int:
    r"""Rank over :math:`\mathbb Q` of :func:`exact_hessian` (python-flint, fraction-free elimination)."""
    import flint

    H, _ = exact_hessian(act, W, v)
    return int(flint.fmpz_mat(H).rank())
