r"""Independent numerical routes for checking a Hessian entry or a Gaussian expectation at one point.

Place in the package: outputs, checking (imports activations, expectation, kernels).

symhess's block formulas come from Stein's lemma plus closed forms (Price's theorem, Isserlis
moments). A check that only compared against them would inherit their mistakes, so a mismatch is
re-evaluated here by routes that share none of those steps:

* **polynomial activations** — the defining integrand of the entry (for example
  :math:`v_iv_k\,\sigma'(w_i\cdot x)\,\sigma'(w_k\cdot x)\,x_jx_l` for :math:`H_{WW}`) is expanded as a
  polynomial in :math:`x` and averaged exactly, monomial by monomial
  (:func:`symhess.expectation.moments.expect_standard_normal`);
* **smooth activations** — Gaussian conditioning instead of Stein's lemma: with
  :math:`A=\binom{w_i}{w_k}`, :math:`G=AA^\top`,

  .. math::

      E[x\mid u,v] = A^\top G^{-1}\binom{u}{v},\qquad
      \mathrm{Cov}[x\mid u,v] = I - A^\top G^{-1}A,

  so :math:`E[F(u,v)x_jx_l] = E\big[F(u,v)\,(m_jm_l + C_{jl})\big]` is a two-dimensional Gaussian
  integral, done by tensor Gauss–Hermite quadrature (``NODES`` per dimension) in double precision.

The same quadrature evaluates the unevaluated expectations of activations without a closed form
(``E_tanh(a, b, q1, q2, c)``) when a formula is checked numerically.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any, Callable, Mapping

import mpmath as mp
import numpy as np
import sympy as sp

from ..activations import Activation
from ..errors import QuadratureWarning
from ..expectation.moments import expect_standard_normal
from ..expectation.pairs import quadrature_nodes
from ..kernels.quadrature import gauss_hermite_pair, gauss_hermite_single
from ..symbols import eps, scale, z

__all__ = ["NODES", "QUADRATURE_TOL", "quadrature_modules", "integrand", "independent_entry",
           "independent_pair", "is_smooth", "instantiate"]

#: Gauss–Hermite nodes per dimension for expectations without a closed form
NODES = 256
#: relative tolerance used when a value comes from that quadrature
QUADRATURE_TOL = 1e-8

#: the defining integrand of each block entry: (prefactor, alpha, beta, number of x factors)
_INTEGRANDS = {
    ("gauss_newton", "WW"): ("v_i v_k", 1, 1, 2),
    ("gauss_newton", "Wv"): ("v_i", 1, 0, 1),
    ("gauss_newton", "vv"): ("1", 0, 0, 0),
    ("residual", "WW"): ("v_i v_k", 2, 0, 2),
    ("residual", "Wv"): ("v_k", 1, 0, 1),
}


def integrand(part: str, block: str) -> tuple[str, int, int, int]:
    r"""Prefactor and derivative orders of the defining integrand of a block entry.

    .. math::

        [H_{WW}]_{(ij),(kl)} = v_iv_k\,E[\sigma'(u)\sigma'(v)x_jx_l],\quad
        [H_{Wv}]_{(ij),k} = v_i\,E[\sigma'(u)\sigma(v)x_j],\quad
        [H_{vv}]_{ik} = E[\sigma(u)\sigma(v)]

    at the optimum (eqs. 3–5 with :math:`e=0`); the residual part per residual unit :math:`k` with
    signed output weight :math:`v_k` is :math:`v_iv_k E[\sigma''(u)\sigma(v)x_jx_l]` and
    :math:`v_k E[\sigma'(u)\sigma(v)x_j]`.
    """
    return _INTEGRANDS[(part, block)]


def instantiate(act: Activation, values: Mapping[sp.Symbol, Any]) -> Activation:
    """The activation with symbolic parameters (``epsilon``, ``s``) replaced by values."""
    params = {}
    changed = False
    for name, val in act.params.items():
        if isinstance(val, sp.Basic) and val.free_symbols:
            val = val.xreplace({k: sp.nsimplify(v) for k, v in values.items() if k in (eps, scale)})
            changed = True
        elif isinstance(val, tuple) and any(isinstance(x, sp.Basic) and x.free_symbols for x in val):
            val = tuple(x.xreplace(dict(values)) for x in val)
            changed = True
        params[name] = val
    return type(act)(**params) if changed else act


def is_smooth(act: Activation, orders: int = 2) -> bool:
    """True when the derivatives up to ``orders`` are ordinary functions (no Heaviside, Max, DiracDelta)."""
    for n in range(orders + 1):
        expr = act.derivative(n, z)
        if expr.has(sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min, sp.Abs, sp.Piecewise, sp.sign):
            return False
    return True


# -- quadrature for unevaluated expectations -----------------------------------------------------
def _gh_pair(act, a, b, x1, x2, xc) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuadratureWarning)
        return float(gauss_hermite_pair(act, int(a), int(b), float(x1), float(x2), float(xc), n=NODES))


def _gh_single(act, a, b, m, x) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuadratureWarning)
        return float(gauss_hermite_single(act, int(a), int(b), int(m), float(x), n=2 * NODES))


@lru_cache(maxsize=None)
def _modules_for(act: Activation) -> tuple[tuple[str, Callable], ...]:
    pair_node, single_node = quadrature_nodes(act)
    return (
        (pair_node.__name__, lambda a, b, x1, x2, xc: mp.mpf(_gh_pair(act, a, b, x1, x2, xc))),
        (single_node.__name__, lambda a, b, m, x: mp.mpf(_gh_single(act, a, b, m, x))),
    )


def quadrature_modules(expr: sp.Expr) -> dict[str, Callable]:
    """``lambdify`` implementations of the quadrature nodes that occur in ``expr`` (mpmath in, mpmath out)."""
    from ..expectation.pairs import GaussianQuadrature

    out: dict[str, Callable] = {}
    for node in expr.atoms(GaussianQuadrature):
        act = type(node).activation
        if act is not None:
            out.update(dict(_modules_for(act)))
    return out


# -- independent values ---------------------------------------------------------------------------
def _rational_vector(vec) -> list[sp.Rational]:
    return [sp.nsimplify(x) if not isinstance(x, sp.Basic) else x for x in vec]


def _exact_entry(act, pref, alpha, beta, n_x, w_i, w_k, j, l, same) -> sp.Expr:
    n = len(w_i)
    xs = list(sp.symbols(f"xi0:{n}", real=True))
    u = sum(wt * xt for wt, xt in zip(w_i, xs))
    v = u if same else sum(wt * xt for wt, xt in zip(w_k, xs))
    body = sp.expand(act.derivative(alpha, u) * act.derivative(beta, v))
    if n_x >= 1:
        body = body * xs[j]
    if n_x == 2:
        body = body * xs[l]
    return pref * expect_standard_normal(sp.expand(body), xs)


def _gh_entry(act, alpha, beta, n_x, w_i, w_k, j, l, same, nodes: int = NODES) -> float:
    fa, fb = act.numeric(alpha), act.numeric(beta)
    wi = np.array([float(x) for x in w_i])
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    if same:
        qi = wi @ wi
        u = np.sqrt(qi) * x
        m_coef = wi / qi  # E[x | u] = w_i u / q
        cov = np.eye(len(wi)) - np.outer(wi, wi) / qi
        f = fa(u) * fb(u)
        if n_x == 0:
            return float(f @ w)
        mj = m_coef[j] * u
        if n_x == 1:
            return float((f * mj) @ w)
        ml = m_coef[l] * u
        return float((f * (mj * ml + cov[j, l])) @ w)
    wk = np.array([float(xx) for xx in w_k])
    A = np.vstack([wi, wk])
    G = A @ A.T
    Ginv = np.linalg.inv(G)
    M = A.T @ Ginv  # (n, 2): E[x | u, v] = M @ (u, v)
    cov = np.eye(len(wi)) - A.T @ Ginv @ A
    q1, q2, cc = G[0, 0], G[1, 1], G[0, 1]
    s1 = np.sqrt(q1)
    slope, tau = cc / s1, np.sqrt(max(q2 - cc * cc / q1, 0.0))
    Z1, Z2 = np.meshgrid(x, x, indexing="ij")
    U = s1 * Z1
    V = slope * Z1 + tau * Z2
    Wt = np.outer(w, w)
    F = fa(U) * fb(V)
    if n_x == 0:
        return float(np.sum(F * Wt))
    mj = M[j, 0] * U + M[j, 1] * V
    if n_x == 1:
        return float(np.sum(F * mj * Wt))
    ml = M[l, 0] * U + M[l, 1] * V
    return float(np.sum(F * (mj * ml + cov[j, l]) * Wt))


def independent_entry(
    act: Activation, part: str, block: str, info: Mapping[str, Any], values: Mapping[sp.Symbol, Any]
) -> dict[str, Any] | None:
    """Value of one Hessian entry at a sampled network by a route independent of symhess's formulas.

    Parameters
    ----------
    act : Activation
        The activation (symbolic parameters are replaced by their sampled values).
    part, block : str
        ``"gauss_newton"``/``"residual"`` and ``"WW"``/``"Wv"``/``"vv"``.
    info : dict
        The sampled network: ``w_i``, ``w_k``, ``j``, ``l``, ``v_i``, ``v_k``, ``same_unit``.
    values : dict
        Sampled symbol values (for activation parameters).

    Returns
    -------
    dict or None
        ``{"route": ..., "value": ...}``, or None where no independent route applies (non-smooth
        activations).
    """
    act = instantiate(act, values)
    pref_name, alpha, beta, n_x = integrand(part, block)
    v_i, v_k = sp.nsimplify(info["v_i"]), sp.nsimplify(info["v_k"])
    pref = {"v_i v_k": v_i * v_k, "v_i": v_i, "v_k": v_k, "1": sp.Integer(1)}[pref_name]
    w_i, w_k = _rational_vector(info["w_i"]), _rational_vector(info["w_k"])
    same, j, l = bool(info["same_unit"]), int(info["j"]), int(info["l"])
    if act.is_polynomial and not any(isinstance(p, sp.Basic) and p.free_symbols for p in act.params.values()):
        value = _exact_entry(act, pref, alpha, beta, n_x, w_i, w_k, j, l, same)
        return {"route": "exact Gaussian moments of the defining integrand, expanded in x (Isserlis)",
                "value": value, "exact": True}
    if not is_smooth(act, max(alpha, beta)):
        return None
    value = float(pref) * _gh_entry(act, alpha, beta, n_x, w_i, w_k, j, l, same)
    return {"route": f"Gaussian conditioning on (w_i.x, w_k.x) and {NODES}x{NODES} Gauss-Hermite quadrature "
                     "of the defining integrand", "value": value, "exact": False}


def independent_pair(act: Activation, a: int, b: int, q1v, q2v, cv, values: Mapping[sp.Symbol, Any]) -> dict | None:
    r""":math:`E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` at one covariance by an independent route (see module)."""
    act = instantiate(act, values)
    if act.is_polynomial:
        x1, x2 = sp.symbols("xi1 xi2", real=True)
        q1r, q2r, cr = (sp.nsimplify(t) for t in (q1v, q2v, cv))
        # u = sqrt(q1) x1, v = (c/sqrt(q1)) x1 + sqrt(q2 - c^2/q1) x2: exact in sqrt-extended rationals
        u = sp.sqrt(q1r) * x1
        v = cr / sp.sqrt(q1r) * x1 + sp.sqrt(q2r - cr**2 / q1r) * x2
        body = sp.expand(act.derivative(a, u) * act.derivative(b, v))
        value = sp.nsimplify(sp.expand(expect_standard_normal(body, [x1, x2])))
        return {"route": "exact Gaussian moments of sigma^(a)(u) sigma^(b)(v) in standard normals", "value": value,
                "exact": True}
    if not is_smooth(act, max(a, b)):
        return None
    return {"route": f"{NODES}x{NODES} Gauss-Hermite quadrature of sigma^(a)(u) sigma^(b)(v)",
            "value": _gh_pair(act, a, b, q1v, q2v, cv), "exact": False}
