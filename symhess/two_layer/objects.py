r"""The expected Hessian over exact or ball-arithmetic numbers: one compiler, one assembly.

Place in the package: the two-layer teacher-student family. The float pipeline (:mod:`symhess.two_layer.assemble`) compiles the
per-pair formulas to NumPy. The same formulas are evaluated here over two other number systems,
held in NumPy *object* arrays:

* :class:`RationalDomain` — exact rationals (``flint.fmpq``), for polynomial activations at
  rational weights (the exact rank over :math:`\mathbb Q`);
* :class:`BallDomain` — real balls (``flint.arb``, rigorous error bounds at a chosen precision),
  for closed forms with square roots and arcsines (the certified rank of erf and ReLU networks).

:func:`compile_object_expr` turns a SymPy expression into a closure over a domain (a direct walk of
the expression tree: no ``lambdify``, no floats anywhere), and
:func:`assemble_gauss_newton` is the object-array twin of the dense float assembly,

.. math::

    [H_{WW}]_{(ij),(kl)} = v_iv_k\big(C^{\delta}_{ik}\delta_{jl} + C^{aa}_{ik}W_{ij}W_{il}
      + C^{bb}_{ik}W_{kj}W_{kl} + C^{ab}_{ik}(W_{ij}W_{kl}+W_{kj}W_{il})\big),\\
    [H_{Wv}]_{(ij),k} = v_i\big(C^{a}_{ik}W_{ij} + C^{b}_{ik}W_{kj}\big),\qquad
    [H_{vv}]_{ik} = C^{1}_{ik},

with the coefficients :math:`C` of :func:`symhess.two_layer.blocks.derive_blocks` (Gauss–Newton part,
which is the whole Hessian at the optimum) evaluated for every pair of hidden units; a unit paired
with itself uses the one-variable (diagonal) formulas.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import flint
import numpy as np
import sympy as sp

from ..activations import Activation
from ..errors import NoClosedFormError
from .blocks import derive_blocks
from ..linalg.certify import arb_precision
from ..symbols import Q_ii, Q_ik, Q_kk

__all__ = [
    "RationalDomain", "BallDomain", "RATIONAL", "BALL", "compile_object_expr", "arb_precision",
    "pair_coefficients", "assemble_gauss_newton", "elementwise",
]


def elementwise(fn: Callable, x: object) -> object:
    """Apply a scalar function to every entry of an object array (or to a scalar)."""
    if isinstance(x, np.ndarray):
        return np.frompyfunc(fn, 1, 1)(x)
    return fn(x)


class RationalDomain:
    """Exact rationals (``flint.fmpq``): only polynomial (rational-function) expressions evaluate."""

    name = "rational"

    @staticmethod
    def rational(p: int, q: int) -> flint.fmpq:
        return flint.fmpq(p, q)

    def pi(self):
        raise NoClosedFormError("pi is irrational: this expression cannot be evaluated exactly over Q")

    def power(self, x: object, p: int, q: int) -> object:
        raise NoClosedFormError(f"the power x**({p}/{q}) is not rational in general: no exact evaluation over Q")

    def function(self, name: str, x: object) -> object:
        raise NoClosedFormError(f"{name}(...) is transcendental: no exact evaluation over Q")


class BallDomain:
    """Real balls (``flint.arb``) at the current ``flint.ctx.prec``: every operation is rigorous."""

    name = "arb"

    @staticmethod
    def rational(p: int, q: int) -> flint.arb:
        return flint.arb(flint.fmpq(p, q))

    @staticmethod
    def pi() -> flint.arb:
        return flint.arb.pi()

    @staticmethod
    def power(x: object, p: int, q: int) -> object:
        if q == 2:  # half-integer powers through sqrt / rsqrt (tighter than exp(log))
            def half(t):
                root = t.sqrt() if p > 0 else t.rsqrt()
                return root ** abs(p)
            return elementwise(half, x)
        e = flint.arb(flint.fmpq(p, q))
        return elementwise(lambda t: t**e, x)

    @staticmethod
    def function(name: str, x: object) -> object:
        if name == "Heaviside":
            return elementwise(_certified_heaviside, x)
        method = {"asin": "asin", "acos": "acos", "atan": "atan", "exp": "exp", "log": "log", "erf": "erf",
                  "erfc": "erfc", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "sin": "sin", "cos": "cos",
                  "Abs": "__abs__"}.get(name)
        if method is None:
            raise NoClosedFormError(f"{name}(...) has no ball-arithmetic evaluation in symhess")
        return elementwise(lambda t: getattr(t, method)(), x)


def _certified_sign(t: flint.arb) -> int:
    if t > 0:
        return 1
    if t < 0:
        return -1
    raise ValueError(f"the sign of {t} is not decided at this precision (the point lies on a kink)")


def _certified_heaviside(t: flint.arb) -> flint.arb:
    return flint.arb(1 if _certified_sign(t) > 0 else 0)


RATIONAL = RationalDomain()
BALL = BallDomain()


def _compile(expr: sp.Expr, index: dict) -> Callable:
    """Closure ``node(domain, values) -> value`` for one expression node."""
    if expr.is_Symbol:
        if expr not in index:
            raise ValueError(f"symbol {expr} is not an argument {tuple(index)}; give it a numeric value first")
        pos = index[expr]
        return lambda d, vals: vals[pos]
    if expr.is_Rational:
        p, q = int(expr.p), int(expr.q)
        return lambda d, vals: d.rational(p, q)
    if expr is sp.pi:
        return lambda d, vals: d.pi()
    if expr.is_Number:
        raise NoClosedFormError(f"number {expr} is a float, not exact; use sympy.Rational")
    if expr.is_Add or expr.is_Mul:
        kids = [_compile(a, index) for a in expr.args]
        if expr.is_Add:
            def add(d, vals):
                out = kids[0](d, vals)
                for k in kids[1:]:
                    out = out + k(d, vals)
                return out
            return add

        def mul(d, vals):
            out = kids[0](d, vals)
            for k in kids[1:]:
                out = out * k(d, vals)
            return out
        return mul
    if expr.is_Pow:
        base, ex = expr.args
        kid = _compile(base, index)
        if ex.is_Integer:
            n = int(ex)
            return lambda d, vals: kid(d, vals) ** n
        if ex.is_Rational:
            p, q = int(ex.p), int(ex.q)
            return lambda d, vals: d.power(kid(d, vals), p, q)
        raise NoClosedFormError(f"power {expr} with a non-rational exponent is not supported")
    if isinstance(expr, sp.Max) and len(expr.args) == 2 and sp.S.Zero in expr.args:
        other = expr.args[0] if expr.args[1] == 0 else expr.args[1]
        kid = _compile(other, index)
        return lambda d, vals: kid(d, vals) * d.function("Heaviside", kid(d, vals))
    if isinstance(expr, sp.Function):
        name = type(expr).__name__
        kid = _compile(expr.args[0], index)
        return lambda d, vals: d.function(name, kid(d, vals))
    raise NoClosedFormError(f"cannot evaluate {type(expr).__name__} node {expr} over exact or ball numbers")


def compile_object_expr(expr: sp.Expr, args: tuple) -> Callable:
    """Compile a SymPy expression into ``fn(domain, *values)`` over exact or ball numbers.

    ``values`` may be scalars or NumPy object arrays (broadcast like NumPy arrays).

    Examples
    --------
    >>> import sympy as sp, flint
    >>> x = sp.Symbol("x")
    >>> compile_object_expr(x**2 / 3 + 1, (x,))(RATIONAL, flint.fmpq(1, 2))
    13/12
    """
    index = {a: i for i, a in enumerate(args)}
    root = _compile(sp.sympify(expr), index)
    return lambda domain, *values: root(domain, values)


@lru_cache(maxsize=None)
def _compiled_blocks(act: Activation) -> dict:
    """Compiled Gauss–Newton coefficients: block -> basis -> (pair fn, diagonal fn or None)."""
    out = {}
    for name, formula in derive_blocks(act, "gauss_newton").items():
        routes = set(formula.routes.values())
        if "quadrature" in routes:
            raise NoClosedFormError(
                f"the expected Hessian of {act.spec!r} has no closed form (its Gaussian integrals are done by "
                "quadrature), so it cannot be evaluated exactly or in ball arithmetic; certify its rank with "
                "the point-evaluation route instead (hessian_rank(..., certify='points'))"
            )
        out[name] = {
            basis: (compile_object_expr(cf, (Q_ii, Q_kk, Q_ik)),
                    compile_object_expr(formula.diagonal[basis], (Q_ii,)) if basis in formula.diagonal else None)
            for basis, cf in formula.coefficients.items()
        }
    return out


def pair_coefficients(act: Activation, Q: np.ndarray, domain) -> dict[str, dict[str, np.ndarray]]:
    r"""Coefficient matrices ``block -> basis -> (Nh, Nh)`` object array for all pairs of units.

    Off-diagonal pairs use the two-unit formulas at :math:`(Q_{ii}, Q_{kk}, Q_{ik})`; the diagonal uses
    the one-unit formulas at :math:`Q_{ii}` (the two-unit formulas may be singular there, e.g. ReLU).
    """
    Nh = Q.shape[0]
    diag = np.array([Q[i, i] for i in range(Nh)], dtype=object)
    rows, cols = np.nonzero(~np.eye(Nh, dtype=bool))
    qa, qb, qc = diag[rows], diag[cols], Q[rows, cols]
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, bases in _compiled_blocks(act).items():
        out[name] = {}
        for basis, (pair_fn, diag_fn) in bases.items():
            mat = np.empty((Nh, Nh), dtype=object)
            if rows.size:
                vals = pair_fn(domain, qa, qb, qc)
                mat[rows, cols] = vals if isinstance(vals, np.ndarray) else [vals] * rows.size
            dvals = diag_fn(domain, diag) if diag_fn is not None else 0
            for i in range(Nh):
                mat[i, i] = dvals[i] if isinstance(dvals, np.ndarray) else dvals
            out[name][basis] = mat
    return out


def _is_zero(mat: np.ndarray) -> bool:
    return all(x == 0 for x in mat.ravel())


def assemble_gauss_newton(W: np.ndarray, v: np.ndarray, coeffs: dict[str, dict[str, np.ndarray]]) -> np.ndarray:
    """Dense ``(P, P)`` object array of the Gauss–Newton Hessian from per-pair coefficient matrices.

    ``W`` (Nh, Ni) and ``v`` (Nh,) are object arrays of domain numbers; see the module docstring.
    """
    Nh, Ni = W.shape
    m = Nh * Ni
    vv = np.multiply.outer(v, v)
    cww = {b: c * vv for b, c in coeffs["WW"].items() if not _is_zero(c)}
    ww = np.zeros((Nh, Ni, Nh, Ni), dtype=object)
    if "delta" in cww:
        eye = np.eye(Ni, dtype=np.int64).astype(object)
        ww += cww["delta"][:, None, :, None] * eye[None, :, None, :]
    Wo = W[:, :, None] * W[:, None, :]  # [i, j, l] = W_ij W_il
    if "aa" in cww:
        ww += cww["aa"][:, None, :, None] * Wo[:, :, None, :]
    if "bb" in cww:
        ww += cww["bb"][:, None, :, None] * Wo.transpose(1, 0, 2)[None, :, :, :]
    if "ab" in cww:
        cross = W[:, :, None, None] * W[None, None, :, :] + W.T[None, :, :, None] * W[:, None, None, :]
        ww += cww["ab"][:, None, :, None] * cross
    cwv = coeffs["Wv"]
    wv = (v[:, None] * cwv["a"])[:, None, :] * W[:, :, None] + (v[:, None] * cwv["b"])[:, None, :] * W.T[None, :, :]
    H = np.empty((m + Nh, m + Nh), dtype=object)
    H[:m, :m] = ww.reshape(m, m)
    H[:m, m:] = wv.reshape(m, Nh)
    H[m:, :m] = H[:m, m:].T
    H[m:, m:] = coeffs["vv"]["1"]
    return H
