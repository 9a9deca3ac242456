"""Population loss and gradient at any student (issue 4, item 3) and Fisher = Hessian at the optimum (item 5).

Independent routes: exact rational Gaussian moments of the concrete SymPy loss (polynomial
activations), Monte Carlo with stated standard-error bounds, finite differences of the loss, and the
expected Hessian (issue 1) as the Jacobian of the gradient.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

import symhess
from symhess.two_layer.dynamics import network_jacobian
from symhess.two_layer.fisher import fisher_information_mc
from symhess.errors import NonFiniteError, ShapeError
from symhess.expectation.moments import expect_standard_normal

SMOOTH = ["linear", "quadratic", "poly:coeffs=[1,0.3,0.2]", "erf", "erf:scale=0.5"]
CLOSED = SMOOTH + ["relu"]
Z_BOUND = 5.0  # standard errors; P(|N(0,1)| > 5) = 6e-7 per comparison


def _theta(W, v):
    return np.concatenate([W.ravel(), v])


def _split(t, Nh, Ni):
    return t[: Nh * Ni].reshape(Nh, Ni), t[Nh * Ni:]


def _student_teacher(rng, ni, nh, scale, nt=None):
    Wt, vt = symhess.teacher(ni, nh if nt is None else nt, rng)
    if nt is None:
        return Wt + scale * rng.standard_normal(Wt.shape), vt + scale * rng.standard_normal(vt.shape), Wt, vt
    W, v = symhess.teacher(ni, nh, rng)
    return W, v, Wt, vt


# -- exact route: rational weights, polynomial activations, concrete SymPy loss -----------------------


@pytest.mark.parametrize("act", ["linear", "quadratic:eps=1/2", "poly:coeffs=[1,1/3,1/5]"])
def test_loss_and_gradient_equal_exact_moments_of_the_sympy_loss(act):
    ni, nh = 2, 2
    net = symhess.TwoLayerNet(ni, nh, act)
    rng = np.random.default_rng(7)
    vals = [sp.Rational(int(k), 8) for k in rng.integers(-8, 9, size=2 * net.n_params)]
    sub = dict(zip(net.theta + net.theta_teacher, vals))
    xs = list(net.x)
    exact_loss = expect_standard_normal(net.loss.subs(sub), xs)
    exact_grad = [expect_standard_normal(g.subs(sub), xs) for g in net.gradient]
    num = np.array([float(x) for x in vals])
    P = net.n_params
    W, v = _split(num[:P], nh, ni)
    Wt, vt = _split(num[P:], nh, ni)
    for method in ("expansion", "path"):
        loss = symhess.population_loss(act, W, v, Wt, vt, method=method)
        grad = symhess.population_gradient(act, W, v, Wt, vt, method=method)
        assert abs(loss - float(exact_loss)) <= 1e-12 * (1 + abs(float(exact_loss))), (method, loss, exact_loss)
        np.testing.assert_allclose(grad, np.array([float(g) for g in exact_grad]), rtol=1e-11, atol=1e-12)


# -- Monte Carlo route (erf, relu: no polynomial moments) ----------------------------------------------


@pytest.mark.parametrize("act", ["erf", "relu", "erf:scale=0.5", "quadratic"])
def test_loss_and_gradient_agree_with_monte_carlo(act):
    rng = np.random.default_rng(11)
    W, v, Wt, vt = _student_teacher(rng, 3, 2, 0.4)
    n = 200_000
    x = rng.standard_normal((n, 3))
    f, J = network_jacobian(act, W, v, x)
    ft = symhess.activation(act).numeric(0)(x @ Wt.T) @ vt
    e = f - ft
    half_sq = 0.5 * e**2
    loss = symhess.population_loss(act, W, v, Wt, vt)
    assert abs(loss - half_sq.mean()) <= Z_BOUND * half_sq.std() / np.sqrt(n)
    g_samples = e[:, None] * J
    g_mc, g_se = g_samples.mean(0), g_samples.std(0) / np.sqrt(n)
    grad = symhess.population_gradient(act, W, v, Wt, vt)
    assert np.all(np.abs(grad - g_mc) <= Z_BOUND * g_se), (grad - g_mc) / g_se
    # the comparison has power: a gradient missing the Stein term K20 w_i (or doubled) is caught
    assert np.max(np.abs(2 * grad - g_mc) / g_se) > 3 * Z_BOUND


def test_teacher_of_another_width():
    rng = np.random.default_rng(3)
    W, v, Wt, vt = _student_teacher(rng, 3, 2, 0.0, nt=4)
    n = 200_000
    x = rng.standard_normal((n, 3))
    e = symhess.activation("erf").numeric(0)(x @ W.T) @ v - symhess.activation("erf").numeric(0)(x @ Wt.T) @ vt
    loss = symhess.population_loss("erf", W, v, Wt, vt)
    assert abs(loss - 0.5 * np.mean(e**2)) <= Z_BOUND * np.std(0.5 * e**2) / np.sqrt(n)
    assert symhess.population_gradient("erf", W, v, Wt, vt).shape == (2 * 3 + 2,)
    with pytest.raises(ValueError, match="teacher's shape"):
        symhess.population_loss("erf", W, v, Wt, vt, method="path")


# -- derivative consistency: finite differences, Jacobian = expected Hessian ----------------------------


@pytest.mark.parametrize("act", CLOSED)
def test_gradient_jacobian_is_the_full_expected_hessian_away_from_the_optimum(act):
    rng = np.random.default_rng(5)
    W, v, Wt, vt = _student_teacher(rng, 3, 3, 0.3)
    Nh, Ni = W.shape
    t0, h = _theta(W, v), 1e-5
    cols = []
    for k in range(t0.size):
        e = np.zeros_like(t0)
        e[k] = h
        gp = symhess.population_gradient(act, *_split(t0 + e, Nh, Ni), Wt, vt, method="expansion")
        gm = symhess.population_gradient(act, *_split(t0 - e, Nh, Ni), Wt, vt, method="expansion")
        cols.append((gp - gm) / (2 * h))
    J = np.array(cols).T
    full = symhess.expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt)
    gn = symhess.expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt, part="gauss_newton")
    res = symhess.expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt, part="residual")
    scale = np.abs(full).max()
    assert np.abs(J - full).max() <= 1e-7 * scale
    np.testing.assert_allclose(gn + res, full, atol=1e-13 * scale)
    if act != "linear":  # away from the optimum the residual part is really there
        assert np.abs(J - gn).max() > 1e-3 * scale


@given(seed=st.integers(0, 2**32 - 1), ni=st.integers(1, 3), nh=st.integers(1, 3),
       act=st.sampled_from(SMOOTH), scale=st.sampled_from([1e-3, 0.1, 0.5]))
def test_gradient_is_the_derivative_of_the_loss(seed, ni, nh, act, scale):
    """For all small shapes: central differences of the loss give the gradient; both methods agree."""
    rng = np.random.default_rng(seed)
    W, v, Wt, vt = _student_teacher(rng, ni, nh, scale)
    g = symhess.population_gradient(act, W, v, Wt, vt, method="path")
    g_exp = symhess.population_gradient(act, W, v, Wt, vt, method="expansion")
    gscale = np.abs(g).max() + 1e-300
    assert np.abs(g - g_exp).max() <= 1e-9 * gscale + 1e-14
    t0, h = _theta(W, v), 1e-4 * max(scale, 1e-2)
    k = int(rng.integers(t0.size))
    e = np.zeros_like(t0)
    e[k] = h
    lp = symhess.population_loss(act, *_split(t0 + e, nh, ni), Wt, vt)  # auto: path near the optimum
    lm = symhess.population_loss(act, *_split(t0 - e, nh, ni), Wt, vt)
    assert abs((lp - lm) / (2 * h) - g[k]) <= 1e-6 * gscale + 1e-12


@pytest.mark.parametrize("act", SMOOTH)
def test_path_integral_is_accurate_next_to_the_optimum(act):
    """At |delta| = 1e-7 the loss is 1/2 d^T H* d (1 + O(delta)); the path route keeps that to 1e-6."""
    rng = np.random.default_rng(9)
    Wt, vt = symhess.teacher(3, 3, rng)
    d = 1e-7 * rng.standard_normal(12)
    W, v = Wt + d[:9].reshape(3, 3), vt + d[9:]
    H = symhess.expected_hessian(act, Wt, vt)
    quad = 0.5 * d @ H @ d
    assert abs(symhess.population_loss(act, W, v, Wt, vt, method="path") / quad - 1) < 1e-5
    np.testing.assert_allclose(symhess.population_gradient(act, W, v, Wt, vt, method="path"), H @ d,
                               rtol=0, atol=1e-5 * np.abs(H @ d).max())


def test_zero_at_the_optimum():
    W, v = symhess.teacher(4, 3, 0)
    for act in CLOSED:
        assert symhess.population_loss(act, W, v, W, v) == 0.0
        assert np.abs(symhess.population_gradient(act, W, v, W, v)).max() < 1e-14


def test_tanh_uses_quadrature_and_still_matches_the_hessian():
    """tanh has no closed form: quadrature kernels; next to the optimum the gradient is still H* delta."""
    rng = np.random.default_rng(2)
    W, v, Wt, vt = _student_teacher(rng, 2, 2, 1e-5)
    d = _theta(W, v) - _theta(Wt, vt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        H = symhess.expected_hessian("tanh", Wt, vt)
        for method in ("path", "expansion"):
            g = symhess.population_gradient("tanh", W, v, Wt, vt, method=method)
            assert np.abs(g - H @ d).max() <= 1e-4 * np.abs(H @ d).max(), method


def test_bad_input_is_named():
    W, v = symhess.teacher(3, 2, 0)
    with pytest.raises(ValueError, match="teacher"):
        symhess.population_loss("erf", W, v, None, None)
    with pytest.raises(ShapeError, match="n_in"):
        symhess.population_gradient("erf", W, v, np.ones((2, 4)), np.ones(2))
    with pytest.raises(NonFiniteError):
        symhess.population_loss("erf", W * np.nan, v, W, v)
    with pytest.raises(ValueError, match="method='simpson' is unknown"):
        symhess.population_loss("erf", W + 1, v, W, v, method="simpson")
    with pytest.raises(symhess.UnknownActivationError):
        symhess.population_loss("softplux", W + 1, v, W, v)


# -- Fisher information = expected Hessian at the optimum (App. D) --------------------------------------


@pytest.mark.parametrize("act", ["erf", "quadratic:eps=0.5", "relu"])
def test_fisher_information_equals_the_hessian_at_the_optimum(act):
    """Score outer products of y ~ N(f(x), 1) sampled from the model: mean = H* within 5 standard errors."""
    W, v = symhess.teacher(3, 2, np.random.default_rng(4))
    est = fisher_information_mc(act, W, v, 200_000, rng=np.random.default_rng(5))
    H = symhess.expected_hessian(act, W, v)
    assert np.abs(est.z_scores(H)).max() < Z_BOUND
    # power: a factor 2 (e.g. the 1/2 of the loss dropped) is rejected by far
    assert np.abs(est.z_scores(2 * H)).max() > 4 * Z_BOUND
    # noise variance s^2 scales F by 1/s^2: s^2 F = H
    est2 = fisher_information_mc(act, W, v, 100_000, rng=np.random.default_rng(6), noise_std=0.5)
    assert np.abs((0.25 * est2.mean - H) / (0.25 * est2.stderr)).max() < Z_BOUND


def test_fisher_is_only_the_gauss_newton_part_away_from_the_optimum():
    rng = np.random.default_rng(8)
    W, v, Wt, vt = _student_teacher(rng, 2, 2, 0.5)
    est = fisher_information_mc("erf", W, v, 200_000, rng=rng)
    gn = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, part="gauss_newton")
    full = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt)
    assert np.abs(est.z_scores(gn)).max() < Z_BOUND
    assert np.abs(est.z_scores(full)).max() > 4 * Z_BOUND


def test_fisher_bad_input():
    W, v = symhess.teacher(2, 2, 0)
    with pytest.raises(ValueError, match="n_samples"):
        fisher_information_mc("erf", W, v, 1)
    with pytest.raises(ValueError, match="noise_std"):
        fisher_information_mc("erf", W, v, 10, noise_std=0)
