"""Deep networks: symbolic model, exact/float expected Hessians, ranks, counting (independent routes)."""

from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.deep.coefficients import deep_coefficient_jacobian, deep_linear_hessian, linear_jacobian
from symhess.deep.model import DeepNet
from symhess.deep.weights import deep_teacher, n_parameters, rational_deep_teacher

QUAD = "quadratic:eps=1/2"


def _fmpq_to_sympy(M: flint.fmpq_mat) -> sp.Matrix:
    return sp.Matrix(M.nrows(), M.ncols(), lambda i, j: sp.Rational(int(M[i, j].p), int(M[i, j].q)))


def _gaussian_expectation(expr: sp.Expr, xs) -> sp.Expr:
    """E over x ~ N(0, I) of a polynomial, by Isserlis moments of each monomial (independent of symhess)."""
    poly = sp.Poly(sp.expand(expr), *xs)
    total = sp.Integer(0)
    for exps, coeff in poly.terms():
        m = sp.Integer(1)
        for e in exps:
            m *= 0 if e % 2 else sp.factorial2(e - 1)
        total += coeff * m
    return total


def _sympy_expected_hessian(widths, act, Ws) -> sp.Matrix:
    net = DeepNet(widths, act)
    subs = {s: sp.Rational(int(w.p), int(w.q)) for W, Wq in zip(net.weights, Ws) for s, w in zip(W, Wq.ravel())}
    GN = net.gauss_newton.subs(subs)
    return GN.applyfunc(lambda e: _gaussian_expectation(e, list(net.x)))


# -- 1. the symbolic model ----------------------------------------------------------------------------------


def test_deepnet_two_layer_is_twolayernet():
    deep = DeepNet((2, 3, 1), "erf")
    two = symhess.TwoLayerNet(2, 3, "erf")
    ren = {s: t for s, t in zip(two.theta, deep.theta)}
    ren.update({s: t for s, t in zip(two.x, deep.x)})
    assert sp.simplify(two.output.xreplace(ren) - deep.output[0]) == 0
    assert len(deep.theta) == two.n_params


def test_deepnet_hessian_matches_finite_differences():
    net = DeepNet((2, 2, 2), "tanh")
    rng = np.random.default_rng(0)
    vals = dict(zip(net.theta, rng.normal(size=net.n_params)))
    vals.update(dict(zip(net.theta_teacher, rng.normal(size=net.n_params))))
    vals.update(dict(zip(net.x, rng.normal(size=2))))
    loss = sp.lambdify(net.theta, net.loss.subs({k: v for k, v in vals.items() if k not in net.theta}))
    H = np.array(net.hessian.subs(vals).evalf(), dtype=float)
    t0 = np.array([vals[s] for s in net.theta])
    h = 1e-4
    P = len(t0)
    Hfd = np.empty((P, P))
    for i in range(P):
        for j in range(P):
            e_i, e_j = np.eye(P)[i] * h, np.eye(P)[j] * h
            Hfd[i, j] = (loss(*(t0 + e_i + e_j)) - loss(*(t0 + e_i - e_j)) - loss(*(t0 - e_i + e_j))
                         + loss(*(t0 - e_i - e_j))) / (4 * h * h)
    assert np.allclose(H, Hfd, atol=1e-5)
    # at the optimum the residual part vanishes
    assert sp.simplify(net.hessian_at_optimum - net.gauss_newton) == sp.zeros(P, P)


def test_deepnet_rejects_bad_widths():
    with pytest.raises(ValueError, match="at least two"):
        DeepNet((3,), "linear")
    with pytest.raises(TypeError):
        DeepNet((3, 2.5, 1), "linear")
    with pytest.raises(ValueError, match="hidden layers"):
        DeepNet((3, 2, 2, 1), ["linear"])
