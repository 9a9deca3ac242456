"""Architecture options of the two-layer network: correlated inputs (input_cov) and frozen groups (trainable).

Independent routes: exact SymPy differentiation of a small quadratic network with exact Gaussian
moments under Sigma (Isserlis), Monte Carlo with correlated inputs, finite differences of the
closed-form population loss, and the whitening identity as a property over random SPD Sigma
(near-singular ones included).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

import symhess
from symhess.errors import InvalidParameterError, ShapeError


def _spd(rng, n, cond=10.0):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.geomspace(1.0, 1.0 / cond, n)
    return (Q * lam) @ Q.T


def _sqrt(S):
    lam, U = np.linalg.eigh(S)
    return (U * np.sqrt(np.clip(lam, 0, None))) @ U.T


def _J(S, Nh):
    Ni = S.shape[0]
    J = np.eye(Nh * Ni + Nh)
    J[: Nh * Ni, : Nh * Ni] = np.kron(np.eye(Nh), S)
    return J


# ---------------------------------------------------------------- exact: SymPy + Isserlis under Sigma

def _isserlis(idx, S):
    """E[x_{i1} ... x_{in}] for x ~ N(0, S) by Isserlis' theorem (exact for rational S)."""
    if not idx:
        return sp.Integer(1)
    if len(idx) % 2:
        return sp.Integer(0)
    first, rest = idx[0], idx[1:]
    return sum(S[first, rest[m]] * _isserlis(rest[:m] + rest[m + 1:], S) for m in range(len(rest)))


def _gaussian_mean(expr, xs, S):
    poly = sp.Poly(sp.expand(expr), *xs)
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        idx = tuple(j for j, p in enumerate(powers) for _ in range(p))
        total += coeff * _isserlis(idx, S)
    return sp.expand(total)


def test_input_cov_hessian_and_gradient_equal_exact_sympy_differentiation():
    """Quadratic net, Nh=2, Ni=2, teacher != student: exact loss under Sigma differentiated by SymPy."""
    net = symhess.TwoLayerNet(2, 2, "quadratic:eps=1/2")
    S = sp.Matrix([[2, sp.Rational(1, 2)], [sp.Rational(1, 2), 1]])
    Wv = [[Fraction(1, 2), Fraction(-1, 3)], [Fraction(1, 5), Fraction(3, 4)]]
    vv = [Fraction(1, 1), Fraction(-2, 3)]
    Wt = [[Fraction(2, 5), Fraction(1, 7)], [Fraction(-1, 2), Fraction(1, 3)]]
    vt = [Fraction(3, 4), Fraction(1, 2)]
    teacher = {net.W_teacher[i, j]: sp.Rational(Wt[i][j]) for i in range(2) for j in range(2)}
    teacher.update({net.v_teacher[i]: sp.Rational(vt[i]) for i in range(2)})
    loss = _gaussian_mean(net.loss.subs(teacher), list(net.x), S)
    point = {net.W[i, j]: sp.Rational(Wv[i][j]) for i in range(2) for j in range(2)}
    point.update({net.v[i]: sp.Rational(vv[i]) for i in range(2)})
    theta = net.theta
    H_exact = np.array(sp.hessian(loss, theta).subs(point), dtype=float)
    g_exact = np.array([sp.diff(loss, t).subs(point) for t in theta], dtype=float)
    L_exact = float(loss.subs(point))
    Sf = np.array(S, dtype=float)
    W, v = np.array(Wv, dtype=float), np.array(vv, dtype=float)
    Wt_, vt_ = np.array(Wt, dtype=float), np.array(vt, dtype=float)
    act = "quadratic:eps=0.5"
    H = symhess.expected_hessian(act, W, v, W_teacher=Wt_, v_teacher=vt_, input_cov=Sf)
    np.testing.assert_allclose(H, H_exact, rtol=1e-12, atol=1e-13)
    g = symhess.population_gradient(act, W, v, Wt_, vt_, input_cov=Sf, method="expansion")
    np.testing.assert_allclose(g, g_exact, rtol=1e-12, atol=1e-13)
    assert symhess.population_loss(act, W, v, Wt_, vt_, input_cov=Sf) == pytest.approx(L_exact, rel=1e-12)
    op = symhess.hessian_operator(act, W, v, Wt_, vt_, input_cov=Sf)
    np.testing.assert_allclose(op @ np.eye(6), H_exact, rtol=1e-12, atol=1e-13)
    # the frozen-output problem (soft committee machine): the W rows/columns of the same exact Hessian
    HW = symhess.expected_hessian(act, W, v, W_teacher=Wt_, v_teacher=vt_, input_cov=Sf, trainable=("W",))
    np.testing.assert_allclose(HW, H_exact[:4, :4], rtol=1e-12, atol=1e-13)
    gv = symhess.population_gradient(act, W, v, Wt_, vt_, input_cov=Sf, trainable=("v",))
    np.testing.assert_allclose(gv, g_exact[4:], rtol=1e-12, atol=1e-13)
    # and the identity covariance really differs (the test can fail)
    assert np.abs(symhess.expected_hessian(act, W, v, W_teacher=Wt_, v_teacher=vt_) - H_exact).max() > 0.1


# ---------------------------------------------------------------- Monte Carlo with correlated inputs

def test_input_cov_gauss_newton_matches_monte_carlo_with_correlated_inputs():
    """E[grad f grad f^T] under N(0, Sigma) for erf by 4e5 correlated samples; tolerance 5 standard errors."""
    rng = np.random.default_rng(3)
    Nh, Ni, n = 2, 3, 400_000
    W, v = symhess.teacher(Ni, Nh, rng=1)
    Sigma = _spd(rng, Ni, cond=20.0) * 2.0
    x = rng.standard_normal((n, Ni)) @ np.linalg.cholesky(Sigma).T
    from scipy.special import erf
    z = x @ W.T  # (n, Nh)
    dsig = 2 / np.sqrt(np.pi) * np.exp(-z * z)
    grads = np.hstack([((v * dsig)[:, :, None] * x[:, None, :]).reshape(n, Nh * Ni), erf(z)])
    outer = grads[:, :, None] * grads[:, None, :]
    mc, se = outer.mean(0), outer.std(0) / np.sqrt(n)
    H = symhess.expected_hessian("erf", W, v, input_cov=Sigma)
    assert np.all(np.abs(H - mc) <= 5 * se + 1e-12)
    H_identity = symhess.expected_hessian("erf", W, v)
    assert np.any(np.abs(H_identity - mc) > 10 * se)  # the covariance is visible


def test_input_cov_loss_matches_monte_carlo():
    rng = np.random.default_rng(4)
    Nh, Ni, n = 3, 4, 400_000
    W, v = symhess.teacher(Ni, Nh, rng=2)
    Wt, vt = symhess.teacher(Ni, 2, rng=5)
    Sigma = np.abs(rng.standard_normal(Ni)) + 0.2
    x = rng.standard_normal((n, Ni)) * np.sqrt(Sigma)
    e = np.tanh(x @ W.T) @ v - np.tanh(x @ Wt.T) @ vt
    l = 0.5 * e * e
    with pytest.warns(symhess.QuadratureWarning):
        L = symhess.population_loss("tanh", W, v, Wt, vt, input_cov=Sigma)
    assert abs(L - l.mean()) <= 5 * l.std() / np.sqrt(n)


# ---------------------------------------------------------------- finite differences

@pytest.mark.parametrize("act", ["erf", "relu", "quadratic:eps=0.5"])
def test_input_cov_gradient_and_hessian_are_derivatives_of_the_loss(act):
    rng = np.random.default_rng(7)
    Nh, Ni = 2, 3
    W, v = symhess.teacher(Ni, Nh, rng=0)
    Wt, vt = symhess.teacher(Ni, 3, rng=1)
    Sigma = _spd(rng, Ni, cond=5.0)
    kw = dict(input_cov=Sigma, method="expansion")
    theta = np.concatenate([W.ravel(), v])
    P, h = theta.size, 1e-5

    def unpack(t):
        return t[: Nh * Ni].reshape(Nh, Ni), t[Nh * Ni:]

    g = symhess.population_gradient(act, W, v, Wt, vt, **kw)
    H = symhess.expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt, input_cov=Sigma)
    for p in range(P):
        e = np.zeros(P)
        e[p] = h
        lp = symhess.population_loss(act, *unpack(theta + e), Wt, vt, **kw)
        lm = symhess.population_loss(act, *unpack(theta - e), Wt, vt, **kw)
        assert (lp - lm) / (2 * h) == pytest.approx(g[p], abs=1e-7)
        gp = symhess.population_gradient(act, *unpack(theta + e), Wt, vt, **kw)
        gm = symhess.population_gradient(act, *unpack(theta - e), Wt, vt, **kw)
        np.testing.assert_allclose((gp - gm) / (2 * h), H[:, p], atol=1e-6)


# ---------------------------------------------------------------- the whitening identity, for all Sigma

@given(seed=st.integers(0, 2**31), Nh=st.integers(1, 3), Ni=st.integers(1, 4),
       log_cond=st.floats(0.0, 16.0), diagonal=st.booleans(),
       act=st.sampled_from(["erf", "relu", "linear", "quadratic:eps=0.5", "poly:coeffs=[0.5,0.3,0.2]"]),
       with_teacher=st.booleans())
def test_whitening_identity_for_random_spd_sigma(seed, Nh, Ni, log_cond, diagonal, act, with_teacher):
    """H_Sigma(W, v) = J H_I(W S, v) J^T, J = blockdiag(I (x) S, I), S = Sigma^{1/2}, dense and matrix-free."""
    rng = np.random.default_rng(seed)
    W, v = rng.standard_normal((Nh, Ni)) / np.sqrt(Ni), rng.standard_normal(Nh)
    Wt, vt = rng.standard_normal((2, Ni)) / np.sqrt(Ni), rng.standard_normal(2)
    if diagonal:
        d = np.geomspace(1.0, 10.0 ** -log_cond, Ni) * rng.uniform(0.5, 2.0)
        Sigma, S, cov = np.diag(d), np.diag(np.sqrt(d)), d
    else:
        Sigma = _spd(rng, Ni, cond=10.0 ** log_cond)
        S, cov = _sqrt(Sigma), Sigma
    J = _J(S, Nh)
    # without a teacher: at the optimum (ReLU: assembled at unit row norms, then rescaled)
    teach, teach_w = (dict(W_teacher=Wt, v_teacher=vt), dict(W_teacher=Wt @ S, v_teacher=vt)) if with_teacher else ({}, {})
    H = symhess.expected_hessian(act, W, v, input_cov=cov, **teach)
    ref = J @ symhess.expected_hessian(act, W @ S, v, **teach_w) @ J.T
    # a very anisotropic Sigma makes the whitened rows nearly parallel, where the ReLU closed forms
    # lose eps / sqrt(1 - rho^2) ~ eps sqrt(cond) to cancellation (symhess.two_layer.pairs)
    loss_factor = max(1.0, 10 ** (log_cond / 2) / 1e5) if act == "relu" else 1.0
    scale = max(1.0, np.abs(ref).max()) * loss_factor
    np.testing.assert_allclose(H, ref, atol=1e-10 * scale, rtol=0)
    np.testing.assert_allclose(H, H.T, atol=1e-10 * scale, rtol=0)  # ReLU: near-parallel whitened rows
    op = symhess.hessian_operator(act, W, v, input_cov=cov, **teach)
    X = rng.standard_normal((H.shape[0], 2))
    np.testing.assert_allclose(op @ X, H @ X, atol=1e-10 * scale * np.abs(X).sum(0).max(), rtol=0)
    np.testing.assert_allclose(op.diagonal(), np.diag(H), atol=1e-10 * scale, rtol=0)
    g = symhess.population_gradient(act, W, v, Wt, vt, input_cov=cov, method="expansion")
    g_ref = J @ symhess.population_gradient(act, W @ S, v, Wt @ S, vt, method="expansion")
    np.testing.assert_allclose(g, g_ref, atol=1e-10 * max(1.0, np.abs(g_ref).max()) * loss_factor, rtol=0)


def test_identity_covariance_and_diagonal_forms_agree():
    W, v = symhess.teacher(3, 2, rng=0)
    H0 = symhess.expected_hessian("erf", W, v)
    np.testing.assert_allclose(symhess.expected_hessian("erf", W, v, input_cov=np.eye(3)), H0, atol=1e-15)
    np.testing.assert_allclose(symhess.expected_hessian("erf", W, v, input_cov=np.ones(3)), H0, atol=1e-15)
    d = np.array([0.5, 2.0, 1e-9])
    np.testing.assert_allclose(symhess.expected_hessian("erf", W, v, input_cov=d),
                               symhess.expected_hessian("erf", W, v, input_cov=np.diag(d)), atol=1e-14)


def test_singular_covariance_gives_a_null_direction():
    """Inputs on a subspace: weights along its complement do not move f, so those directions are null."""
    rng = np.random.default_rng(0)
    Ni = 3
    u = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    Sigma = np.eye(Ni) - np.outer(u, u)  # rank 2
    W, v = symhess.teacher(Ni, 2, rng=3)
    H = symhess.expected_hessian("erf", W, v, input_cov=Sigma)
    null = np.zeros(H.shape[0])
    null[:Ni] = u  # move w_1 along u
    assert np.abs(H @ null).max() < 1e-13
    assert np.linalg.eigvalsh(H).min() > -1e-13


@pytest.mark.parametrize("bad, err", [
    (np.array([[1.0, 2.0], [0.0, 1.0]]), InvalidParameterError),  # not symmetric
    (np.array([[1.0, 2.0], [2.0, 1.0]]), InvalidParameterError),  # indefinite
    (np.array([1.0, -0.5]), InvalidParameterError),  # negative variance
    (np.eye(3), ShapeError),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), InvalidParameterError),
    ("identity", TypeError),
])
def test_bad_input_cov_is_refused(bad, err):
    W, v = symhess.teacher(2, 2, rng=0)
    with pytest.raises(err, match="input_cov"):
        symhess.expected_hessian("erf", W, v, input_cov=bad)
    with pytest.raises(err, match="input_cov"):
        symhess.hessian_operator("erf", W, v, input_cov=bad)


# ---------------------------------------------------------------- frozen groups

@pytest.mark.parametrize("act", ["erf", "relu"])
def test_trainable_w_is_the_soft_committee_machine_hessian(act):
    """With v frozen, the Hessian is the Jacobian (finite differences) of the W-gradient in W alone."""
    Nh, Ni = 3, 2
    W, v = symhess.teacher(Ni, Nh, rng=0)
    Wt, vt = symhess.teacher(Ni, 4, rng=1)
    HW = symhess.expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt, trainable=("W",))
    assert HW.shape == (Nh * Ni, Nh * Ni)
    h = 1e-5
    for p in range(Nh * Ni):
        E = np.zeros(Nh * Ni)
        E[p] = h
        gp = symhess.population_gradient(act, W + E.reshape(Nh, Ni), v, Wt, vt, trainable=("W",), method="expansion")
        gm = symhess.population_gradient(act, W - E.reshape(Nh, Ni), v, Wt, vt, trainable=("W",), method="expansion")
        assert gp.shape == (Nh * Ni,)
        np.testing.assert_allclose((gp - gm) / (2 * h), HW[:, p], atol=1e-6)
    op = symhess.hessian_operator(act, W, v, Wt, vt, trainable="W")
    assert op.shape == HW.shape
    np.testing.assert_allclose(op @ np.eye(Nh * Ni), HW, atol=1e-13)
    np.testing.assert_allclose(op.diagonal(), np.diag(HW), atol=1e-13)
    assert op.trace() == pytest.approx(np.trace(HW), rel=1e-13)
    blocks = symhess.hessian_blocks(act, W, v, W_teacher=Wt, v_teacher=vt, trainable=("W",))
    assert set(blocks) == {"WW"}


def test_trainable_v_is_the_kernel_gram_matrix():
    """With W frozen, the loss is quadratic in v: H = K, gradient K v - K* v*; checked by Monte Carlo-free algebra."""
    Nh, Ni = 3, 4
    W, v = symhess.teacher(Ni, Nh, rng=0)
    Wt, vt = symhess.teacher(Ni, 2, rng=1)
    Hv = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, trainable=("v",))
    # E[erf(a.x) erf(b.x)] = (2/pi) asin(2 a.b / sqrt((1 + 2|a|^2)(1 + 2|b|^2)))
    def K(A, B):
        qa, qb = 1 + 2 * np.sum(A * A, 1), 1 + 2 * np.sum(B * B, 1)
        return 2 / np.pi * np.arcsin(2 * (A @ B.T) / np.sqrt(np.outer(qa, qb)))
    np.testing.assert_allclose(Hv, K(W, W), atol=1e-14)
    g = symhess.population_gradient("erf", W, v, Wt, vt, trainable=("v",))
    np.testing.assert_allclose(g, K(W, W) @ v - K(W, Wt) @ vt, atol=1e-14)
    assert set(symhess.hessian_blocks("erf", W, v, trainable=("v",))) == {"vv"}
    op = symhess.hessian_operator("erf", W, v, Wt, vt, trainable=("v",))
    np.testing.assert_allclose(op @ np.eye(Nh), K(W, W), atol=1e-14)


def test_trainable_all_is_the_default_and_order_is_theta_order():
    W, v = symhess.teacher(2, 2, rng=0)
    H = symhess.expected_hessian("erf", W, v)
    np.testing.assert_array_equal(symhess.expected_hessian("erf", W, v, trainable=("v", "W")), H)


@pytest.mark.parametrize("bad", [("b",), ("W", "W"), (), ("w",)])
def test_unknown_trainable_names_are_refused(bad):
    W, v = symhess.teacher(2, 2, rng=0)
    with pytest.raises(InvalidParameterError, match="trainable"):
        symhess.expected_hessian("erf", W, v, trainable=bad)
    with pytest.raises(InvalidParameterError, match="trainable"):
        symhess.population_gradient("erf", W, v, W, v, trainable=bad)
    with pytest.raises(InvalidParameterError, match="trainable"):
        symhess.hessian_operator("erf", W, v, trainable=bad)


# ---------------------------------------------------------------- a teacher with another activation

_CROSS_KEYS = [(0, 0), (2, 0), (1, 1), (3, 1), (2, 2), (4, 0), (1, 0), (0, 3)]


def _cross_value(act1, act2, a, b, q1, q2, c):
    from symhess.expectation.pairs import cross_pair_expectation
    from symhess.symbols import c as C, q1 as Q1, q2 as Q2
    return float(cross_pair_expectation(act1, act2, a, b).subs({Q1: q1, Q2: q2, C: c}))


def _gauss_hermite_2d(f, g, q1, q2, c, n=120):
    """E[f(u) g(v)] by an n x n Gauss-Hermite product rule (float; the integrands are entire)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / np.sqrt(2 * np.pi)
    rho = c / np.sqrt(q1 * q2)
    u = np.sqrt(q1) * z[:, None]
    vv = np.sqrt(q2) * (rho * z[:, None] + np.sqrt(1 - rho**2) * z[None, :])
    return float(np.sum(w[:, None] * w[None, :] * f(u) * g(vv)))


@pytest.mark.parametrize("a, b", _CROSS_KEYS)
def test_cross_pair_expectation_erf_scales_matches_quadrature(a, b):
    from symhess.activations import activation
    from symhess.symbols import z
    f = sp.lambdify(z, activation("erf").derivative(a, z), "scipy")
    g = sp.lambdify(z, activation("erf:scale=2").derivative(b, z), "scipy")
    for q1, q2, c in [(0.7, 0.4, 0.3), (1.3, 0.2, -0.45), (0.5, 0.5, 0.0)]:
        ref = _gauss_hermite_2d(lambda u: f(u) + 0 * u, lambda v: g(v) + 0 * v, q1, q2, c)
        assert _cross_value("erf", "erf:scale=2", a, b, q1, q2, c) == pytest.approx(ref, rel=1e-10, abs=1e-12)


@pytest.mark.slow
def test_cross_pair_expectation_matches_mpmath_quadrature():
    mp = pytest.importorskip("mpmath")
    from symhess.activations import activation
    from symhess.symbols import z
    q1, q2, c = 0.7, 0.4, 0.3
    rho = c / np.sqrt(q1 * q2)
    mp.mp.dps = 20
    for a, b in [(0, 0), (3, 1)]:
        f = sp.lambdify(z, activation("erf").derivative(a, z), "mpmath")
        g = sp.lambdify(z, activation("erf:scale=2").derivative(b, z), "mpmath")
        s1, s2 = mp.sqrt(q1), mp.sqrt(q2)
        val = mp.quad(lambda z1, z2: f(s1 * z1) * g(s2 * (rho * z1 + mp.sqrt(1 - rho**2) * z2))
                      * mp.exp(-(z1**2 + z2**2) / 2) / (2 * mp.pi), [-10, 0, 10], [-10, 0, 10])
        assert _cross_value("erf", "erf:scale=2", a, b, q1, q2, c) == pytest.approx(float(val), rel=1e-13)


def test_mixed_polynomial_teacher_equals_exact_sympy_differentiation():
    """Linear-plus-square student, cubic-plus-linear teacher of width 2 under a correlated Sigma: SymPy + Isserlis."""
    xs = sp.symbols("x0 x1")
    Ws = sp.Matrix(2, 2, sp.symbols("w0:4"))
    vs = sp.Matrix(sp.symbols("v0:2"))
    Wt = np.array([[0.5, -0.25], [0.75, 0.5]])
    vt = np.array([1.0, -0.5])
    S = sp.Matrix([[1, sp.Rational(1, 3)], [sp.Rational(1, 3), sp.Rational(1, 2)]])
    sig = lambda h: h + h**2 / 2  # noqa: E731  quadratic:eps=0.5
    tau = lambda h: h + h**3 / 4  # noqa: E731  poly:coeffs=[1,0,0.25]
    f = sum(vs[i] * sig((Ws[i, :] * sp.Matrix(xs))[0]) for i in range(2))
    ft = sum(sp.Rational(vt[g]).limit_denominator() * tau(sum(sp.Rational(Wt[g, j]) * xs[j] for j in range(2)))
             for g in range(2))
    loss = _gaussian_mean((f - ft) ** 2 / 2, list(xs), S)
    theta = list(Ws) + list(vs)
    W = np.array([[0.3, -0.6], [0.9, 0.2]])
    v = np.array([0.7, -1.1])
    point = dict(zip(theta, [sp.Rational(x).limit_denominator(1000) for x in list(W.ravel()) + list(v)]))
    H_exact = np.array(sp.hessian(loss, theta).subs(point), dtype=float)
    g_exact = np.array([sp.diff(loss, t).subs(point) for t in theta], dtype=float)
    Sf = np.array(S, dtype=float)
    kw = dict(teacher_activation="poly:coeffs=[1,0,0.25]", input_cov=Sf)
    act = "quadratic:eps=0.5"
    np.testing.assert_allclose(symhess.expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt, **kw), H_exact,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(symhess.population_gradient(act, W, v, Wt, vt, **kw), g_exact, rtol=1e-12, atol=1e-12)
    assert symhess.population_loss(act, W, v, Wt, vt, **kw) == pytest.approx(float(loss.subs(point)), rel=1e-12)
    op = symhess.hessian_operator(act, W, v, Wt, vt, **kw)
    np.testing.assert_allclose(op @ np.eye(6), H_exact, rtol=1e-12, atol=1e-12)


def test_teacher_activation_loss_matches_monte_carlo():
    from scipy.special import erf
    rng = np.random.default_rng(11)
    Nh, Ni, n = 2, 3, 400_000
    W, v = symhess.teacher(Ni, Nh, rng=0)
    Wt, vt = symhess.teacher(Ni, 3, rng=1)
    x = rng.standard_normal((n, Ni))
    e = erf(x @ W.T) @ v - erf(2 * x @ Wt.T) @ vt
    l = 0.5 * e * e
    L = symhess.population_loss("erf", W, v, Wt, vt, teacher_activation="erf:scale=2")
    assert abs(L - l.mean()) <= 5 * l.std() / np.sqrt(n)
    assert abs(symhess.population_loss("erf", W, v, Wt, vt) - l.mean()) > 20 * l.std() / np.sqrt(n)


def test_teacher_activation_gradient_and_hessian_are_derivatives_of_the_loss():
    Nh, Ni = 2, 3
    W, v = symhess.teacher(Ni, Nh, rng=0)
    Wt, vt = symhess.teacher(Ni, 3, rng=1)
    kw = dict(teacher_activation="erf:scale=0.5")
    theta = np.concatenate([W.ravel(), v])
    h = 1e-5

    def unpack(t):
        return t[: Nh * Ni].reshape(Nh, Ni), t[Nh * Ni:]

    g = symhess.population_gradient("erf", W, v, Wt, vt, **kw)
    H = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, **kw)
    for p in range(theta.size):
        e = np.zeros(theta.size)
        e[p] = h
        dl = symhess.population_loss("erf", *unpack(theta + e), Wt, vt, **kw) - \
            symhess.population_loss("erf", *unpack(theta - e), Wt, vt, **kw)
        assert dl / (2 * h) == pytest.approx(g[p], abs=1e-8)
        dg = symhess.population_gradient("erf", *unpack(theta + e), Wt, vt, **kw) - \
            symhess.population_gradient("erf", *unpack(theta - e), Wt, vt, **kw)
        np.testing.assert_allclose(dg / (2 * h), H[:, p], atol=1e-7)


def test_teacher_activation_errors():
    W, v = symhess.teacher(2, 2, rng=0)
    with pytest.raises(symhess.NoClosedFormError, match="'relu' is not smooth|tau='relu'"):
        symhess.population_loss("erf", W, v, W, v, teacher_activation="relu")
    with pytest.raises(InvalidParameterError, match="teacher's weights"):
        symhess.expected_hessian("erf", W, v, teacher_activation="erf:scale=2")
    with pytest.raises(InvalidParameterError, match="path"):
        symhess.population_loss("erf", W, v, W, v, teacher_activation="erf:scale=2", method="path")
    # the same activation spelled differently is no mismatch: the loss at the teacher is zero
    assert symhess.population_loss("erf", W, v, W, v, teacher_activation="erf:scale=1") == 0.0


# ---------------------------------------------------------------- several outputs

def test_several_outputs_equal_exact_sympy_differentiation():
    """Two outputs, quadratic student, cubic teacher of width 3, correlated inputs: SymPy + Isserlis."""
    xs = sp.symbols("x0 x1")
    Ws = sp.Matrix(2, 2, sp.symbols("w0:4"))
    Vs = sp.Matrix(2, 2, sp.symbols("v0:4"))  # (n_out, Nh), row-major in theta
    Wt = np.array([[0.5, -0.25], [0.75, 0.5], [-0.5, 1.0]])
    Vt = np.array([[1.0, -0.5, 0.25], [0.5, 0.75, -1.0]])
    S = sp.Matrix([[1, sp.Rational(1, 4)], [sp.Rational(1, 4), sp.Rational(3, 2)]])
    sig = lambda h: h + h**2 / 2  # noqa: E731  quadratic:eps=0.5
    tau = lambda h: h + h**3 / 4  # noqa: E731  poly:coeffs=[1,0,0.25]
    hs = [(Ws[i, :] * sp.Matrix(xs))[0] for i in range(2)]
    ht = [sum(sp.Rational(Wt[g, j]) * xs[j] for j in range(2)) for g in range(3)]
    loss = 0
    for o in range(2):
        e = sum(Vs[o, i] * sig(hs[i]) for i in range(2)) - sum(sp.Rational(Vt[o, g]) * tau(ht[g]) for g in range(3))
        loss += _gaussian_mean(e**2 / 2, list(xs), S)
    theta = list(Ws) + list(Vs)
    W = np.array([[0.25, -0.5], [0.75, 0.125]])
    V = np.array([[0.5, -1.0], [0.25, 0.75]])
    point = dict(zip(theta, [sp.Rational(x) for x in list(W.ravel()) + list(V.ravel())]))
    H_exact = np.array(sp.hessian(loss, theta).subs(point), dtype=float)
    g_exact = np.array([sp.diff(loss, t).subs(point) for t in theta], dtype=float)
    kw = dict(teacher_activation="poly:coeffs=[1,0,0.25]", input_cov=np.array(S, dtype=float))
    act = "quadratic:eps=0.5"
    H = symhess.expected_hessian(act, W, V, W_teacher=Wt, v_teacher=Vt, **kw)
    np.testing.assert_allclose(H, H_exact, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(symhess.population_gradient(act, W, V, Wt, Vt, **kw), g_exact, rtol=1e-12, atol=1e-12)
    assert symhess.population_loss(act, W, V, Wt, Vt, **kw) == pytest.approx(float(loss.subs(point)), rel=1e-12)
    blocks = symhess.hessian_blocks(act, W, V, W_teacher=Wt, v_teacher=Vt, **kw)
    assert blocks["Wv"].shape == (4, 4) and blocks["vv"].shape == (4, 4)
    np.testing.assert_allclose(symhess.expected_hessian(act, W, V, W_teacher=Wt, v_teacher=Vt, trainable=("v",), **kw),
                               H_exact[4:, 4:], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(symhess.population_gradient(act, W, V, Wt, Vt, trainable=("W",), **kw), g_exact[:4],
                               rtol=1e-12, atol=1e-12)
    op = symhess.hessian_operator(act, W, V, Wt, Vt, **kw)
    np.testing.assert_allclose(op @ np.eye(8), H_exact, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.diagonal(), np.diag(H_exact), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.matvec(np.arange(8.0)), H_exact @ np.arange(8.0), rtol=1e-12, atol=1e-11)
    opv = symhess.hessian_operator(act, W, V, Wt, Vt, trainable=("v",), **kw)
    np.testing.assert_allclose(opv @ np.eye(4), H_exact[4:, 4:], rtol=1e-12, atol=1e-12)


def test_one_output_as_a_row_is_the_scalar_network():
    W, v = symhess.teacher(3, 2, rng=0)
    Wt, vt = symhess.teacher(3, 3, rng=1)
    np.testing.assert_allclose(symhess.expected_hessian("relu", W, v[None], W_teacher=Wt, v_teacher=vt[None]),
                               symhess.expected_hessian("relu", W, v, W_teacher=Wt, v_teacher=vt), atol=1e-14)


def test_several_outputs_shape_errors():
    W, v = symhess.teacher(3, 2, rng=0)
    V = np.stack([v, v])
    with pytest.raises(ShapeError, match="outputs"):
        symhess.expected_hessian("erf", W, V, W_teacher=W, v_teacher=v)
    with pytest.raises(ShapeError, match="outputs"):
        symhess.population_loss("erf", W, V, W, np.stack([v, v, v]))


# ---------------------------------------------------------------- ranks of the frozen-rest Hessian

@pytest.mark.parametrize("route", ["jacobian", "hessian"])
def test_linear_network_ranks_with_frozen_groups(route):
    """f = sum_i v_i w_i . x: in W alone the map W -> sum_i v_i w_i has rank Ni; in v alone v -> W^T v has rank
    min(Nh, Ni); together the function class is all linear maps, rank Ni."""
    Ni, Nh = 3, 4
    W, v = symhess.rational_teacher(Ni, Nh, rng=0)
    rank = lambda tr: symhess.hessian_rank("linear", W, v, exact=True, route=route, trainable=tr).rank  # noqa: E731
    assert rank(None) == Ni
    assert rank(("W",)) == Ni
    assert rank(("v",)) == min(Nh, Ni)
    Wf, vf = np.array(W, dtype=float), np.array(v, dtype=float)
    assert symhess.hessian_rank("linear", Wf, vf, trainable=("W",)).rank == Ni


def test_rank_with_trainable_is_certified_by_point_evaluation():
    W, v = symhess.teacher(3, 2, rng=0)
    r = symhess.hessian_rank("erf", W, v, certify=True, trainable=("W",))
    assert (r.rank, r.n, r.status, r.route) == (6, 6, "exact", "certified: point evaluation")
    with pytest.raises(InvalidParameterError, match="trainable"):
        symhess.hessian_rank("erf", W, v, certify=True, trainable=("b",))  # no hidden bias given


def test_input_cov_operator_on_the_torch_backend():
    pytest.importorskip("torch")
    W, v = symhess.teacher(4, 3, rng=0)
    Wt, vt = symhess.teacher(4, 2, rng=1)
    Sigma = _spd(np.random.default_rng(0), 4, cond=30.0)
    X = np.random.default_rng(1).standard_normal((15, 3))
    for cov in (Sigma, np.diag(Sigma)):
        H = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, input_cov=cov)
        op = symhess.hessian_operator("erf", W, v, Wt, vt, input_cov=cov, backend="torch")
        np.testing.assert_allclose(op @ X, H @ X, atol=1e-13)


def test_rank_under_a_covariance():
    """Nonsingular Sigma: rank unchanged (J invertible); inputs on a plane of R^3: a linear net has rank 2."""
    W, v = symhess.teacher(3, 2, rng=0)
    Sigma = _spd(np.random.default_rng(2), 3, cond=100.0)
    assert symhess.hessian_rank("erf", W, v, input_cov=Sigma).rank == symhess.hessian_rank("erf", W, v).rank == 8
    plane = np.diag([1.0, 1.0, 0.0])
    assert symhess.hessian_rank("linear", W, v, input_cov=plane).rank == 2
    Wq, vq = symhess.rational_teacher(3, 2, rng=0)  # exact route: Sigma read as the binary rational it is
    assert symhess.hessian_rank("quadratic", Wq, vq, exact=True, input_cov=Sigma).rank == 7
    assert symhess.hessian_rank("linear", Wq, vq, exact=True, input_cov=plane).rank == 2


def test_effective_parameters_under_a_covariance_match_measured_ranks():
    """Inputs of rank r: the count is the rule at n_in = r; checked against the float rank under that Sigma."""
    Ni, Nh = 4, 3
    plane = np.array([1.0, 2.0, 0.5, 0.0])  # rank 3
    Sigma = _spd(np.random.default_rng(0), Ni, cond=10.0)
    for act in ("quadratic", "erf"):
        e_full = symhess.effective_parameters(act, Ni, Nh, input_cov=Sigma)
        assert e_full.value == symhess.effective_parameters(act, Ni, Nh).value
        e = symhess.effective_parameters(act, Ni, Nh, input_cov=plane)
        assert e.n_params == Ni * Nh + Nh and "rank 3" in e.note
        W, v = symhess.teacher(Ni, Nh, rng=5)
        assert symhess.hessian_rank(act, W, v, input_cov=plane).rank == e.value
        assert symhess.hessian_rank(act, W, v, input_cov=Sigma).rank == e_full.value
