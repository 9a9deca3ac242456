"""Peer tools' conventions: nn2pp / Saad-Solla, MLPGradientFlow.jl, Neural Tangents.

The reference is written here from the peers' own definitions, independently of symhess's kernels:
for g(z) = erf(z / sqrt 2) and (u, v) Gaussian with variances q1, q2 and covariance c,
E[g(u) g(v)] = (2/pi) arcsin(c / sqrt((1 + q1)(1 + q2)))  (Saad & Solla 1995; nn2pp's eg_analytical),
so the loss 1/2 E[(f - f*)^2] is a closed form in the overlaps. Gradients and Hessians in each tool's
own parameters are taken by central finite differences of that closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

import symhess
from symhess import conventions as cv


def _erf2_loss(W, v, Wt, vt):
    """1/2 E[(sum v g(W x) - sum vt g(Wt x))^2], g = erf(z/sqrt2), x ~ N(0, I), in symhess's W."""
    def block(A, a, B, b):
        qa, qb = np.sum(A**2, 1), np.sum(B**2, 1)
        C = A @ B.T / np.sqrt(np.outer(1 + qa, 1 + qb))
        return a @ (2 / np.pi * np.arcsin(C)) @ b

    return 0.5 * (block(W, v, W, v) - 2 * block(W, v, Wt, vt) + block(Wt, vt, Wt, vt))


def _fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        g[k] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _fd_hessian(f, x, h=1e-4):
    n = x.size
    H = np.zeros((n, n))
    for k in range(n):
        for m in range(k, n):
            ek, em = np.zeros(n), np.zeros(n)
            ek[k], em[m] = h, h
            H[k, m] = H[m, k] = (f(x + ek + em) - f(x + ek - em) - f(x - ek + em) + f(x - ek - em)) / (4 * h * h)
    return H


N, K = 4, 3  # inputs, hidden units


@pytest.fixture(scope="module")
def nn2pp_teacher():
    rng = np.random.default_rng(3)
    return rng.standard_normal((K, N)), rng.standard_normal(K)  # nn2pp: w_ij ~ N(0, 1)


def test_saad_solla_unit_is_erf_over_sqrt2():
    act = symhess.activation(cv.SAAD_SOLLA_ERF)
    from scipy.special import erf

    z = np.linspace(-3, 3, 13)
    assert np.allclose(act.numeric(0)(z), erf(z / np.sqrt(2)), rtol=0, atol=1e-15)


def test_nn2pp_loss_matches_the_saad_solla_formula(nn2pp_teacher):
    B, A = nn2pp_teacher
    rng = np.random.default_rng(4)
    w, v = B + 0.3 * rng.standard_normal(B.shape), A + 0.2 * rng.standard_normal(A.shape)
    W, vs = cv.from_nn2pp(w, v)
    Wt, vt = cv.from_nn2pp(B, A)
    expected = _erf2_loss(W, vs, Wt, vt)  # nn2pp's eps with Q = w w^T / N
    got = symhess.population_loss(cv.SAAD_SOLLA_ERF, W, vs, Wt, vt)
    assert got == pytest.approx(expected, rel=1e-12)
    # the default erf(z) is another unit: a wrong mapping would be caught by far more than the tolerance
    assert abs(symhess.population_loss("erf", W, vs, Wt, vt) / expected - 1) > 0.05
    # forgetting the 1/sqrt(N) is caught too
    assert abs(symhess.population_loss(cv.SAAD_SOLLA_ERF, w, v, B, A) / expected - 1) > 0.05


def test_nn2pp_round_trip(nn2pp_teacher):
    B, A = nn2pp_teacher
    w, v = cv.to_nn2pp(*cv.from_nn2pp(B, A))
    assert np.array_equal(v, A) and np.allclose(w, B, rtol=1e-15)


def test_nn2pp_hessian_and_gradient_in_their_parameters(nn2pp_teacher):
    B, A = nn2pp_teacher
    Wt, vt = cv.from_nn2pp(B, A)

    def eps_nn2pp(phi):  # loss as a function of nn2pp's (w row-major, v)
        W, v = cv.from_nn2pp(phi[:K * N].reshape(K, N), phi[K * N:])
        return _erf2_loss(W, v, Wt, vt)

    phi0 = np.concatenate([B.ravel(), A])
    H = symhess.expected_hessian(cv.SAAD_SOLLA_ERF, Wt, vt)
    assert np.allclose(cv.nn2pp_hessian(H, N, K), _fd_hessian(eps_nn2pp, phi0), rtol=0, atol=2e-6)
    rng = np.random.default_rng(5)
    phi = phi0 + 0.2 * rng.standard_normal(phi0.size)
    W, v = cv.from_nn2pp(phi[:K * N].reshape(K, N), phi[K * N:])
    g = symhess.population_gradient(cv.SAAD_SOLLA_ERF, W, v, Wt, vt)
    assert np.allclose(cv.nn2pp_gradient(g, N, K), _fd_grad(eps_nn2pp, phi), rtol=0, atol=1e-8)


def test_mlpgradientflow_order_is_column_major():
    W = np.arange(6.0).reshape(3, 2)  # w1: (Nh=3, Ni=2)
    theta = np.concatenate([W.ravel(), [10.0, 11.0, 12.0]])
    assert np.array_equal(theta[cv.mlpgradientflow_order(2, 3)], [0, 2, 4, 1, 3, 5, 10, 11, 12])
    x = cv.to_mlpgradientflow_params(W, np.array([10.0, 11.0, 12.0]))
    assert np.array_equal(x, [0, 2, 4, 1, 3, 5, 10, 11, 12])  # Julia's vec(w1) then vec(w2)
    W2, v2 = cv.from_mlpgradientflow_params(x, 2, 3)
    assert np.array_equal(W2, W) and np.array_equal(v2, [10, 11, 12])
    w1, w2 = cv.to_mlpgradientflow(W, v2)
    assert w2.shape == (1, 3)
    W3, v3 = cv.from_mlpgradientflow(w1, w2)
    assert np.array_equal(W3, W) and np.array_equal(v3, v2)


def test_mlpgradientflow_loss_gradient_hessian():
    Wt, vt = symhess.teacher(N, K, rng=2)

    def loss_mlp(x):  # MLPGradientFlow: E[(f - f*)^2], no 1/2, x = [vec(w1); vec(w2)] column-major
        W, v = cv.from_mlpgradientflow_params(x, N, K)
        return 2 * _erf2_loss(W, v, Wt, vt)

    x0 = cv.to_mlpgradientflow_params(Wt, vt)
    H = symhess.expected_hessian("saad_solla_erf", Wt, vt)
    assert np.allclose(cv.mlpgradientflow_hessian(H, N, K), _fd_hessian(loss_mlp, x0), rtol=0, atol=2e-6)
    rng = np.random.default_rng(6)
    x = x0 + 0.1 * rng.standard_normal(x0.size)
    W, v = cv.from_mlpgradientflow_params(x, N, K)
    g = symhess.population_gradient("saad_solla_erf", W, v, Wt, vt)
    assert np.allclose(cv.mlpgradientflow_gradient(g, N, K), _fd_grad(loss_mlp, x), rtol=0, atol=1e-8)
    eps = symhess.population_loss("saad_solla_erf", W, v, Wt, vt)
    assert cv.mlpgradientflow_loss(eps) == pytest.approx(loss_mlp(x), rel=1e-12)


@pytest.mark.parametrize("parameterization, W_std, v_std", [("ntk", 1.5, 0.7), ("standard", 1.0, 1.0)])
def test_neural_tangents_mapping(parameterization, W_std, v_std):
    rng = np.random.default_rng(7)
    W1, W2 = rng.standard_normal((N, K)), rng.standard_normal((K, 1))  # stax.Dense kernels: (in, out)
    a = W_std / np.sqrt(N) if parameterization == "ntk" else 1.0
    b = v_std / np.sqrt(K) if parameterization == "ntk" else 1.0
    W, v = cv.from_neural_tangents(W1, W2, W_std=W_std, v_std=v_std, parameterization=parameterization)
    assert np.allclose(W, a * W1.T) and np.allclose(v, b * W2[:, 0])

    def eps_nt(phi):  # loss in NT's raw parameters (W1 row-major, W2)
        Wp, vp = cv.from_neural_tangents(phi[:N * K].reshape(N, K), phi[N * K:], W_std=W_std, v_std=v_std,
                                         parameterization=parameterization)
        return _erf2_loss(Wp, vp, W, v)

    phi0 = np.concatenate([W1.ravel(), W2.ravel()])
    H = symhess.expected_hessian("saad_solla_erf", W, v)
    got = cv.neural_tangents_hessian(H, N, K, W_std=W_std, v_std=v_std, parameterization=parameterization)
    assert np.allclose(got, _fd_hessian(eps_nt, phi0), rtol=0, atol=2e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match="parameterization"):
        cv.from_neural_tangents(np.ones((2, 2)), np.ones((2, 1)), parameterization="mean_field")
    with pytest.raises(ValueError, match="shape"):
        cv.nn2pp_hessian(np.eye(3), 2, 2)
    with pytest.raises(TypeError, match="real"):
        cv.from_nn2pp(np.ones((2, 2)) + 1j, np.ones(2))
    with pytest.raises(ValueError, match="entries"):
        cv.from_mlpgradientflow_params(np.ones(5), 2, 2)
