"""Numeric four-point Gaussian expectations (one variable integrated out, then a trapezoidal lattice).

Independent routes: the erf closed form (Saad & Solla's I4, forced through the numeric route), exact
Isserlis moments of polynomial activations, the full four-dimensional lattice (method="full", no
reduction), one- and two-dimensional Gauss-Hermite rules where arguments coincide, Monte Carlo (5 sigma)
for tanh, and Monte Carlo of the per-sample SGD update for the eta^2 term of the equations.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

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


def _erf_i4(C):
    act = symhess.activation("erf")
    return compile_four_point_kernel(act, ((1, 1, 0, 0),))(*(C[..., a, b] for a, b in _IDX))[(1, 1, 0, 0)]


@pytest.mark.parametrize("method, seed", [("reduced", 0), ("reduced", 1), ("full", 1)])
def test_erf_through_the_numeric_route_matches_the_closed_form(method, seed):
    act = symhess.activation("erf")
    C = _covariances(seed, scale=0.8)   # ranks 1 to 4
    exact = _erf_i4(C)
    val, est = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, with_error=True, method=method)
    err = np.abs(val - exact)
    assert np.all(err <= est)                                   # the estimate bounds the true error
    assert np.all(est <= DEFAULT_RTOL * np.maximum(np.abs(exact), 1e-3))                   # and is small
    assert np.all(err <= 1e-8 * np.abs(exact))


def _with_coincidences(C, rng):
    """Copies of C with argument 2 equal to 1, 4 equal to 3, or both (as in I4(i, i, l, m))."""
    out = []
    for pairs in ([(1, 0)], [(3, 2)], [(1, 0), (3, 2)], [(2, 0)], [(3, 0), (2, 1)]):
        D = C.copy()
        for a, b in pairs:
            D[a, :], D[:, a] = D[b, :], D[:, b]
            D[a, a] = D[b, b]
        out.append(D)
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.05, 1.2), rank=st.integers(1, 4),
       coincide=st.integers(0, 5), near=st.sampled_from([0.0, 1e-10, 1e-6, 1e-3]))
def test_reduced_route_matches_the_erf_closed_form_for_all_covariances(seed, scale, rank, coincide, near):
    # all ranks, coincident arguments, and near-singular covariances (a rank-r matrix plus near * I)
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((4, rank)) * scale / np.sqrt(rank)
    C = B @ B.T + near * scale**2 * np.eye(4)
    if coincide:
        C = _with_coincidences(C, rng)[coincide - 1]
    act = symhess.activation("erf")
    exact = float(_erf_i4(C))
    val, est = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, with_error=True)
    err = abs(float(val) - exact)
    assert err <= float(est) + 1e-300
    assert err <= 1e-8 * abs(exact) + 1e-15


@pytest.mark.parametrize("orders", [(1, 1, 0, 0), (0, 0, 0, 0), (2, 1, 1, 0), (0, 1, 2, 3)])
def test_reduced_route_is_exact_for_polynomials(orders):
    # exact Isserlis moments (an independent route) for every rank and pattern of coinciding arguments; a
    # quadratic at moderate variance keeps the integrand's polynomial growth negligible beyond the lattice's
    # radius (the truncation there is not part of the estimate: activations growing at most linearly)
    act = symhess.activation("poly:coeffs=[1/3,1,-1/2]")
    exact_kernel = compile_four_point_kernel(act, (orders,))
    rng = np.random.default_rng(11)
    C = _covariances(4, n=8, scale=0.35)
    C = np.concatenate([C, np.array([D for c in C[3::4] for D in _with_coincidences(c, rng)])])
    exact = exact_kernel(*(C[:, a, b] for a, b in _IDX))[orders]
    val, est = gaussian_four_point_quadrature(act, orders, C, with_error=True)
    err = np.abs(val - exact)
    assert np.all(err <= 1e-10 * np.maximum(np.abs(exact), 1.0))
    # up to rounding and the lattice's cut at radius 8.6 (not part of the estimate; this integrand grows)
    assert np.all(err <= est + 1e-11 * np.maximum(np.abs(exact), 1.0))


def test_estimate_bounds_the_error_of_tanh_against_a_finer_rule():
    act = symhess.activation("tanh")
    C = _covariances(2, n=8, scale=0.8)   # two covariances of each rank
    C = np.concatenate([C, np.array(_with_coincidences(C[-1], None))])
    val, est = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, with_error=True)
    ref = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, step=0.25, rtol=np.inf)
    assert np.all(np.abs(val - ref) <= est) and np.all(est < 1e-7 * np.abs(ref))
    # and the full lattice, an independent computation, agrees (ranks 3 and 4)
    full = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C[[2, 7]], method="full")
    assert np.all(np.abs(full - ref[[2, 7]]) < 1e-9 * np.abs(ref[[2, 7]]))


def test_coincident_arguments_against_gauss_hermite():
    # y1 = y2 and y3 = y4: I4 = E[tanh'(u)^2 tanh(w)^2] over a correlated pair (u, w), a 2-D integral
    act = symhess.activation("tanh")
    q1, q2, c = 0.9, 1.1, 0.4
    C = np.array([[q1, q1, c, c], [q1, q1, c, c], [c, c, q2, q2], [c, c, q2, q2]])
    val = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C)
    x, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    L = np.linalg.cholesky(np.array([[q1, c], [c, q2]]))
    X, Y = np.meshgrid(x, x, indexing="ij")
    u, v = L[0, 0] * X, L[1, 0] * X + L[1, 1] * Y
    ref = np.sum(np.outer(w, w) * act.numeric(1)(u) ** 2 * np.tanh(v) ** 2)
    assert val == pytest.approx(ref, rel=1e-10)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        gaussian_four_point_quadrature(symhess.activation("tanh"), (1, 1, 0, 0), np.eye(4), method="fast")


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
    C = 3.0 * np.eye(4) + 1.0
    with pytest.raises(SymhessAccuracyError, match="error estimate"):
        gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, step=1.2, method="full")
    with pytest.raises(SymhessAccuracyError, match="error estimate"):
        gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, rtol=1e-16)      # out of reach
    # the reduced route refines a coarse step where its estimate misses the tolerance
    coarse, est = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, step=1.2, with_error=True)
    fine = gaussian_four_point_quadrature(act, (1, 1, 0, 0), C, step=0.3, rtol=np.inf)
    assert abs(coarse - fine) <= est <= DEFAULT_RTOL * abs(fine)


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


def test_cross_pair_quadrature_against_closed_forms():
    # two erf scales: the arcsine closed form; tanh with itself: the pair quadrature of symhess.kernels.quadrature
    from symhess.kernels.codegen import compile_cross_pair_kernel, compile_pair_kernel
    from symhess.kernels.four_point_quadrature import gaussian_cross_pair_quadrature

    q1, q2 = np.array([0.7, 1.2, 0.5, 2.0]), np.array([0.9, 0.4, 0.5, 0.3])
    c = np.array([0.3, -0.5, 0.5, 0.0])                          # the third pair is rank one (u = v)
    keys = ((0, 0), (1, 1), (2, 0), (1, 2))
    for a1, a2, kernel in (("erf", "erf:scale=1/sqrt(2)", None), ("tanh", "tanh", None)):
        s1, s2 = symhess.activation(a1), symhess.activation(a2)
        exact = (compile_cross_pair_kernel(s1, s2, keys) if a1 != a2 else compile_pair_kernel(s1, keys))(q1, q2, c)
        for a, b in keys:
            val, est = gaussian_cross_pair_quadrature(s1, a, s2, b, q1, q2, c, with_error=True)
            assert np.all(np.abs(val - exact[(a, b)]) <= 1e-12 + est)
            assert np.all(est < 1e-10)
    with pytest.raises(TypeError, match="Activation"):
        gaussian_four_point_quadrature(symhess.activation("tanh"), (1, 1, 0, 0), np.eye(4), acts=("tanh",) * 4)


def test_large_variance_is_refused_not_allocated():
    # the smoothing's node count grows like the conditional standard deviation; beyond the memory budget
    # the route must refuse with a named error (it once tried to allocate terabytes and was killed)
    from symhess.activations import activation
    from symhess.errors import SymhessAccuracyError
    from symhess.kernels.four_point_quadrature import gaussian_cross_pair_quadrature

    with pytest.raises(SymhessAccuracyError, match="budget"):
        gaussian_cross_pair_quadrature(activation("tanh"), 1, activation("erf"), 0,
                                       np.array([1e5]), np.array([1.0]), np.array([0.3]))
