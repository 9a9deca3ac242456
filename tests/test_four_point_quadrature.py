"""Numeric four-point Gaussian expectations (tensor trapezoidal rule after C = A A^T).

Independent routes: the erf closed form (Saad & Solla's I4, forced through the numeric route), Monte Carlo
(5 sigma) for tanh, and Monte Carlo of the per-sample SGD update for the eta^2 term of the equations.
"""

from __future__ import annotations

import numpy as np
import pytest

import symhess
from symhess.errors import NoClosedFormError, SymhessAccuracyError
from symhess.kernels.codegen import compile_four_point_kernel
from symhess.kernels.four_point_quadrature import DEFAULT_RTOL, gaussian_four_point_quadrature
from symhess.two_layer.online import OrderParameterODE, order_parameters

_IDX = [(0, 0), (1, 1), (2, 2), (3, 3), (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def _covariances(seed, n=12, scale=1.0):
    rng = np.random.default_rng(seed)
    out = []
    for r in (1, 2, 3, 4) * (n // 4):
        B = rng.standard_normal((4, r)) * scale / np.sqrt(r)
        out.append(B @ B.T)
    return np.array(out)


@pytest.mark.parametrize("orders", [(1, 1, 0, 0), (0, 0, 0, 0)])
@pytest.mark.parametrize("seed", [0, 1])
def test_erf_through_the_numeric_route_matches_the_closed_form(orders, seed):
    act = symhess.activation("erf")
    C = _covariances(seed, scale=0.8)   # ranks 1 to 4
    kernel = compile_four_point_kernel(act, (orders,))
    exact = kernel(*(C[:, a, b] for a, b in _IDX))[orders]
    val, est = gaussian_four_point_quadrature(act, orders, C, with_error=True)
    err = np.abs(val - exact)
    assert np.all(err <= est)                                   # the estimate bounds the true error
    assert np.all(est <= DEFAULT_RTOL * np.maximum(np.abs(exact), 1e-3))                   # and is small
    assert err.max() < 1e-8


def test_estimate_bounds_the_error_of_tanh_against_a_finer_rule():
    act = symhess.activation("tanh")
    C = _covariances(2, n=4, scale=0.8)   # one covariance of each rank
    val, est = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, with_error=True)
    ref = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, step=0.3, rtol=np.inf)
    assert np.all(np.abs(val - ref) <= est) and est.max() < 1e-6


def test_tanh_matches_monte_carlo():
    act = symhess.activation("tanh")
    rng = np.random.default_rng(3)
    C = np.array([[1.0, 0.3, 0.5, -0.2], [0.3, 0.8, 0.1, 0.4], [0.5, 0.1, 1.1, 0.2], [-0.2, 0.4, 0.2, 0.9]])
    y = rng.standard_normal((2_000_000, 4)) @ np.linalg.cholesky(C).T
    d, s = act.numeric(1), act.numeric(0)
    samples = d(y[:, 0]) * d(y[:, 1]) * s(y[:, 2]) * s(y[:, 3])
    mc, se = samples.mean(), samples.std() / np.sqrt(len(samples))
    val = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C)
    assert abs(val - mc) < 5 * se and abs(val) > 20 * se


def test_singular_covariance_and_a_coincident_quadruple():
    # y1 = y2 = y3 = y4 ~ N(0, q): I4 = E[tanh'(y)^2 tanh(y)^2], a one-dimensional integral
    act = symhess.activation("tanh")
    q = 0.7
    val = gaussian_four_point_quadrature(act, (1, 1, 0, 0), np.full((4, 4), q))
    x, w = np.polynomial.hermite_e.hermegauss(200)
    y = np.sqrt(q) * x
    ref = np.sum(w * act.numeric(1)(y) ** 2 * np.tanh(y) ** 2) / w.sum()
    assert val == pytest.approx(ref, rel=1e-9, abs=1e-14)


def test_unresolved_covariance_raises_instead_of_returning():
    act = symhess.activation("tanh")
    with pytest.raises(SymhessAccuracyError, match="error estimate"):
        gaussian_four_point_quadrature(act, (1, 1, 0, 0), 3.0 * np.eye(4) + 1.0, step=1.2)


def test_kinked_activation_is_refused_with_a_clear_message():
    with pytest.raises(NoClosedFormError, match="not smooth"):
        compile_four_point_kernel(symhess.activation("relu"), ((1, 1, 0, 0),))


def test_tanh_second_order_term_matches_monte_carlo():
    act = symhess.activation("tanh")
    rng = np.random.default_rng(5)
    Wt, vt = symhess.teacher(6, 1, rng=2)
    W, v = symhess.teacher(6, 2, rng=3)
    Q, R, T = order_parameters(W, Wt)
    full = OrderParameterODE(act, T, vt, 2, lr=1.0, lr_v=1.0)
    first = OrderParameterODE(act, T, vt, 2, lr=1.0, lr_v=1.0, second_order=False)
    second = full.unpack(full.rhs(full.pack(Q, R, v)))[0] - first.unpack(first.rhs(first.pack(Q, R, v)))[0]
    x = rng.standard_normal((1_000_000, 6))
    lam, nu = x @ W.T, x @ Wt.T
    e = act.numeric(0)(lam) @ v - act.numeric(0)(nu) @ vt
    g = act.numeric(1)(lam) * v
    samples = (g[:, :, None] * g[:, None, :]) * (e**2)[:, None, None]
    mc, err = samples.mean(0), samples.std(0) / np.sqrt(len(x))
    assert np.all(np.abs(second - mc) < 5 * err + 1e-12)
    assert np.abs(second).max() > 20 * err.max()
