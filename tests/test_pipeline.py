"""The derivation pipeline end to end (issue 2): kernels against independent routes.

* exact: the concrete SymPy network, differentiated symbolically, with the expectation over x
  taken exactly by Isserlis' theorem (polynomial activations) — entry by entry;
* Monte Carlo: sample means of grad f grad f^T (+ e hess f) with their standard errors;
* linear algebra: the linear network's nonzero spectrum is that of |v|^2 I + W^T W.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symhess
from symhess.errors import (
    ActivationParameterError, NonFiniteError, ShapeError, SymhessAccuracyWarning, UnknownActivationError,
)
from symhess.expectation.moments import expect_standard_normal


def _rational_weights(rng, shape, den=7):
    return rng.integers(-2 * den, 2 * den + 1, size=shape) / den


def _exact_expected(net, W, v, Wt=None, vt=None, matrix="hessian"):
    subs = {s: sp.Rational(Fraction(x).limit_denominator(10**6)) for s, x in zip(net.theta, list(W.ravel()) + list(v))}
    if Wt is None:
        subs.update({s: subs[p] for s, p in zip(net.theta_teacher, net.theta)})
    else:
        subs.update({s: sp.Rational(Fraction(x).limit_denominator(10**6))
                     for s, x in zip(net.theta_teacher, list(Wt.ravel()) + list(vt))})
    M = getattr(net, matrix).subs(subs)
    xs = list(net.x)
    return np.array([[float(expect_standard_normal(M[r, c], xs)) for c in range(M.cols)] for r in range(M.rows)])


POLY_SPECS = ["linear", "quadratic:eps=1/2", "poly:coeffs=[1,1/3,1/5]", "poly:coeffs=[0,1]"]


@pytest.mark.parametrize("spec", POLY_SPECS)
def test_kernels_equal_exact_symbolic_expectation_at_optimum(spec):
    rng = np.random.default_rng(3)
    net = symhess.TwoLayerNet(n_in=2, n_hidden=2, activation=spec)
    W, v = _rational_weights(rng, (2, 2)), _rational_weights(rng, 2)
    exact = _exact_expected(net, W, v)
    np.testing.assert_allclose(symhess.expected_hessian(spec, W, v), exact, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("spec", ["quadratic:eps=1/2", "poly:coeffs=[1,1/3,1/5]"])
def test_kernels_equal_exact_symbolic_expectation_away_from_optimum(spec):
    rng = np.random.default_rng(4)
    net = symhess.TwoLayerNet(n_in=2, n_hidden=2, activation=spec)
    W, v = _rational_weights(rng, (2, 2)), _rational_weights(rng, 2)
    Wt, vt = _rational_weights(rng, (2, 2)), _rational_weights(rng, 2)
    for part, matrix in [("full", "hessian"), ("gauss_newton", "gauss_newton"), ("residual", "residual_hessian")]:
        exact = _exact_expected(net, W, v, Wt, vt, matrix=matrix)
        got = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt, part=part)
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12, err_msg=part)


def test_teacher_of_other_width():
    """The residual route pairs student units with any number of teacher units."""
    rng = np.random.default_rng(5)
    spec = "quadratic:eps=1/3"
    W, v = _rational_weights(rng, (2, 2)), _rational_weights(rng, 2)
    Wt, vt = _rational_weights(rng, (3, 2)), _rational_weights(rng, 3)
    net = symhess.TwoLayerNet(n_in=2, n_hidden=2, activation=spec)
    # embed the wider teacher by hand: f* = sum_m vt_m sigma(wt_m . x)
    x = list(net.x)
    act = symhess.activation(spec)
    f_star = sum(float(vt[m]) * act.expr(sum(float(Wt[m, j]) * x[j] for j in range(2))) for m in range(3))
    subs = dict(zip(net.theta, [sp.nsimplify(t) for t in list(W.ravel()) + list(v)]))
    e = net.output.subs(subs) - sp.nsimplify(f_star)
    grad = net.output_gradient.subs(subs)
    hess = net.output_hessian.subs(subs)
    M = grad * grad.T + e * hess
    exact = np.array([[float(expect_standard_normal(M[r, c], x)) for c in range(6)] for r in range(6)])
    got = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt)
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-10)


def test_symbolic_block_formulas_match_concrete_network_with_symbolic_eps():
    """derive_blocks with a symbolic eps equals the concrete network's expected Hessian, as polynomials."""
    eps = sp.Symbol("e", real=True)
    act = symhess.activation("quadratic", eps=eps)
    net = symhess.TwoLayerNet(n_in=2, n_hidden=2, activation=act)
    H = net.hessian_at_optimum
    xs = list(net.x)
    blocks = symhess.derive_blocks(act)
    from symhess.symbols import Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, delta_jl, v_i, v_k

    Wm, vm = net.W, net.v
    Q = Wm * Wm.T
    for (i, j, k, l) in [(0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 0, 0), (0, 0, 0, 1), (1, 1, 1, 1)]:
        entry = blocks["WW"].entry if i != k else blocks["WW"].diagonal_entry
        ref = expect_standard_normal(H[i * 2 + j, k * 2 + l], xs)
        val = entry.subs({Q_ii: Q[i, i], Q_kk: Q[k, k], Q_ik: Q[i, k], W_ij: Wm[i, j], W_il: Wm[i, l],
                          W_kj: Wm[k, j], W_kl: Wm[k, l], delta_jl: int(j == l), v_i: vm[i], v_k: vm[k]})
        assert sp.expand(val - ref) == 0, (i, j, k, l)


# -- Monte Carlo ----------------------------------------------------------------------------

def _mc_hessian(spec, W, v, Wt=None, vt=None, n=200_000, seed=0):
    """Sample mean and standard error of grad f grad f^T + e hess f, x ~ N(0, I)."""
    act = symhess.activation(spec)
    s0, s1 = act.numeric(0), act.numeric(1)
    s2 = act.numeric(2) if Wt is not None else None
    Nh, Ni = W.shape
    P = Nh * Ni + Nh
    rng = np.random.default_rng(seed)
    total, total_sq, done = np.zeros((P, P)), np.zeros((P, P)), 0
    while done < n:
        m = min(20_000, n - done)
        x = rng.standard_normal((m, Ni))
        h = x @ W.T
        g = np.concatenate([((v * s1(h))[:, :, None] * x[:, None, :]).reshape(m, -1), s0(h)], axis=1)
        samples = g[:, :, None] * g[:, None, :]
        if Wt is not None:
            e = s0(h) @ v - s0(x @ Wt.T) @ vt
            hw = ((e[:, None] * v * s2(h))[:, :, None, None] * x[:, None, :, None] * x[:, None, None, :])
            for i in range(Nh):
                sl = slice(i * Ni, (i + 1) * Ni)
                samples[:, sl, sl] += hw[:, i]
                samples[:, sl, Nh * Ni + i] += (e[:, None] * s1(h[:, i])[:, None] * x)
                samples[:, Nh * Ni + i, sl] += (e[:, None] * s1(h[:, i])[:, None] * x)
        total += samples.sum(0)
        total_sq += (samples**2).sum(0)
        done += m
    mean = total / n
    se = np.sqrt(np.maximum(total_sq / n - mean**2, 0) / n)
    return mean, se


@pytest.mark.parametrize("spec", ["linear", "quadratic", "poly:coeffs=[1,0.3,0.2]", "erf", "erf:scale=0.5",
                                  "relu", "tanh"])
def test_kernels_agree_with_monte_carlo_at_optimum(spec):
    W, v = symhess.teacher(3, 2, rng=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SymhessAccuracyWarning)
        H = symhess.expected_hessian(spec, W, v)
    mean, se = _mc_hessian(spec, W, v)
    z = np.abs(H - mean) / (se + 1e-12)
    assert z.max() < 5.5, f"{spec}: max |H - MC| / SE = {z.max():.2f}"


@pytest.mark.parametrize("spec", ["erf", "tanh", "poly:coeffs=[1,0.3,0.2]"])
def test_kernels_agree_with_monte_carlo_away_from_optimum(spec):
    W, v = symhess.teacher(3, 2, rng=12)
    Wt, vt = symhess.teacher(3, 3, rng=13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SymhessAccuracyWarning)
        H = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt)
    mean, se = _mc_hessian(spec, W, v, Wt, vt)
    z = np.abs(H - mean) / (se + 1e-12)
    assert z.max() < 5.5, f"{spec}: max |H - MC| / SE = {z.max():.2f}"


def test_relu_parallel_units_finite_and_match_monte_carlo():
    W = np.array([[0.6, -0.2, 0.3], [1.2, -0.4, 0.6], [-0.3, 0.1, -0.15], [0.1, 0.5, -0.2]])  # rows 0,1,2 parallel
    v = np.array([0.5, -0.7, 0.4, 0.9])
    with pytest.warns(SymhessAccuracyWarning, match="parallel"):
        H = symhess.expected_hessian("relu", W, v)
    assert np.all(np.isfinite(H))
    mean, se = _mc_hessian("relu", W, v, n=200_000, seed=2)
    assert (np.abs(H - mean) / (se + 1e-12)).max() < 5.5


def test_erf_zero_row_and_parallel_rows_are_fine():
    W = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    v = np.array([0.3, -0.2, 0.4])
    H = symhess.expected_hessian("erf", W, v)
    mean, se = _mc_hessian("erf", W, v, n=100_000, seed=3)
    assert np.all(np.isfinite(H)) and (np.abs(H - mean) / (se + 1e-12)).max() < 5.5


def test_relu_zero_row_is_rejected():
    with pytest.raises(ValueError, match="row 1 of W is zero"):
        symhess.expected_hessian("relu", np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([1.0, 1.0]))


# -- linear network -------------------------------------------------------------------------

@given(n_in=st.integers(1, 6), n_hidden=st.integers(1, 6), seed=st.integers(0, 10**6))
def test_linear_spectrum_is_shifted_wishart(n_in, n_hidden, seed):
    W, v = symhess.teacher(n_in, n_hidden, rng=seed)
    eig = np.linalg.eigvalsh(symhess.expected_hessian("linear", W, v))
    ref = np.linalg.eigvalsh(v @ v * np.eye(n_in) + W.T @ W)
    np.testing.assert_allclose(eig[-n_in:], ref, rtol=1e-10, atol=1e-12)
    assert np.abs(eig[:-n_in]).max(initial=0) < 1e-12 * eig[-1]  # rank Ni exactly


# -- structure ------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["quadratic", "erf", "relu"])
def test_blocks_assemble_symmetric_hessian(spec):
    W, v = symhess.teacher(4, 3, rng=1)
    Wt, vt = symhess.teacher(4, 2, rng=2)
    H = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt)
    B = symhess.hessian_blocks(spec, W, v, W_teacher=Wt, v_teacher=vt)
    m = 12
    np.testing.assert_array_equal(H[:m, :m], B["WW"])
    np.testing.assert_array_equal(H[:m, m:], B["Wv"])
    np.testing.assert_array_equal(H[m:, m:], B["vv"])
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    gn = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt, part="gauss_newton")
    res = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt, part="residual")
    np.testing.assert_allclose(gn + res, H, atol=1e-14)
    np.testing.assert_allclose(gn, symhess.expected_hessian(spec, W, v), atol=1e-14)


def test_residual_vanishes_at_optimum():
    W, v = symhess.teacher(3, 3, rng=4)
    res = symhess.expected_hessian("erf", W, v, W_teacher=W, v_teacher=v, part="residual")
    assert np.abs(res).max() < 1e-14


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("W,v,exc,match", [
    (np.ones((2, 3)), np.ones(3), ShapeError, "2 rows"),
    (np.ones(3), np.ones(3), ShapeError, "shape"),
    (np.ones((2, 3)), np.ones((2, 1)), ShapeError, "shape"),
    (np.array([[1.0, np.nan]]), np.ones(1), NonFiniteError, "non-finite"),
    (np.ones((1, 2)), np.array([np.inf]), NonFiniteError, "non-finite"),
    ("abc", np.ones(1), TypeError, "numeric array"),
    (np.ones((0, 2)), np.ones(0), ShapeError, "empty"),
])
def test_bad_weights(W, v, exc, match):
    with pytest.raises(exc, match=match):
        symhess.expected_hessian("erf", W, v)


def test_bad_activation_names_and_parameters():
    with pytest.raises(UnknownActivationError, match=r"unknown activation 'eluu'; known: \[.*'erf'"):
        symhess.activation("eluu")
    with pytest.raises(ActivationParameterError, match=r"unknown parameter\(s\) \['epsilon'\].*allowed: \['eps'\]"):
        symhess.activation("quadratic:epsilon=2")
    with pytest.raises(ActivationParameterError, match="must be positive"):
        symhess.activation("erf", scale=-1)
    with pytest.raises(ActivationParameterError, match="finite"):
        symhess.activation("quadratic", eps=float("nan"))
    with pytest.raises(ActivationParameterError, match="nonzero"):
        symhess.activation("poly:coeffs=[0,0]")
    with pytest.raises(ValueError, match="part='bogus'"):
        symhess.expected_hessian("erf", np.ones((1, 1)), np.ones(1), part="bogus")


def test_teacher_half_given():
    with pytest.raises(ValueError, match="both W_teacher and v_teacher"):
        symhess.expected_hessian("erf", np.ones((1, 2)), np.ones(1), W_teacher=np.ones((1, 2)))
    with pytest.raises(ShapeError, match="n_in"):
        symhess.expected_hessian("erf", np.ones((1, 2)), np.ones(1), W_teacher=np.ones((1, 3)), v_teacher=np.ones(1))


def test_dense_request_too_large_names_matrix_free_route():
    W, v = symhess.teacher(50, 20, rng=0)
    with pytest.raises(MemoryError, match="hessian_operator"):
        symhess.expected_hessian("erf", W, v, max_bytes=10_000)
