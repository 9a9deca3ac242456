"""Matrix-free quasi-Monte Carlo Hessian-vector products of deep networks (erf, tanh, ReLU)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import erf

import symhess
from symhess.deep.qmc_operator import DeepQMCHessianOperator, qmc_hessian_operator
from symhess.deep.weights import deep_teacher


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", symhess.SymhessAccuracyWarning)
        return fn(*args, **kw)


@pytest.mark.parametrize("act,widths", [("erf", (3, 4, 2, 1)), ("tanh", (2, 3, 3, 2)), ("relu", (3, 5, 2)),
                                        (["erf", "tanh", "relu"], (2, 3, 3, 2, 2))])
def test_operator_equals_dense_estimate_on_the_same_samples(act, widths):
    W = deep_teacher(widths, rng=1)
    op = qmc_hessian_operator(act, W, n_points=128, replicates=3, rng=5)
    est = symhess.deep_hessian_estimate(act, W, n_points=128, replicates=3, rng=5)
    V = np.random.default_rng(2).standard_normal((op.shape[0], 3))
    scale = np.abs(est.hessian).max()
    assert np.abs(op @ V - est.hessian @ V).max() <= 1e-12 * scale * op.shape[0]
    assert np.abs(op @ V[:, 0] - est.hessian @ V[:, 0]).max() <= 1e-12 * scale * op.shape[0]


@pytest.mark.parametrize("act", ["erf", "relu"])
def test_depth_two_within_stated_error_of_the_closed_form(act):
    W1, W2 = deep_teacher((4, 5, 1), rng=3)
    H = symhess.expected_hessian(act, W1, W2[0])  # two-layer closed form, theta = (W, v)
    op = qmc_hessian_operator(act, [W1, W2], n_points=1 << 11, replicates=8, rng=0)
    v = np.random.default_rng(4).standard_normal(op.shape[0])
    hv, err = op.matvec_with_error(v)
    exact = H @ v
    assert np.abs(hv - exact).max() <= err.max()
    assert err.max() < 0.02 * np.abs(exact).max()  # the check resolves errors far below a factor of 2


def test_depth_three_polynomial_within_stated_error_of_the_exact_hessian():
    W = deep_teacher((3, 3, 2, 1), rng=6)
    H = symhess.deep_expected_hessian("quadratic:eps=1/2", W)  # exact Gaussian moments
    op = qmc_hessian_operator("quadratic:eps=1/2", W, n_points=1 << 11, replicates=8, rng=1)
    v = np.random.default_rng(5).standard_normal(op.shape[0])
    hv, err = op.matvec_with_error(v)
    assert np.abs(hv - H @ v).max() <= err.max() < 0.25 * np.abs(H @ v).max()  # heavy-tailed degree-4 integrand


def _forward(Ws, X, acts):
    a = X
    for W, s in zip(Ws[:-1], acts):
        a = s(a @ W.T)
    return a @ Ws[-1].T


def test_quadratic_form_matches_finite_differences_of_the_network():
    """v.Hv = mean ||J v||^2 over the same samples, J v from central differences of f (no gradients)."""
    widths = (6, 9, 7, 2)
    W = deep_teacher(widths, rng=8)
    op = qmc_hessian_operator(["erf", "tanh"], W, n_points=64, replicates=2, rng=3)
    rng = np.random.default_rng(9)
    v = rng.standard_normal(op.shape[0])
    Vs, start = [], 0
    for M in W:
        Vs.append(v[start:start + M.size].reshape(M.shape))
        start += M.size
    acts = [erf, np.tanh]
    h = 1e-5
    X = op.points.reshape(-1, widths[0])
    Jv = (_forward([M + h * D for M, D in zip(W, Vs)], X, acts)
          - _forward([M - h * D for M, D in zip(W, Vs)], X, acts)) / (2 * h)
    assert np.isclose(v @ (op @ v), np.mean(np.sum(Jv**2, axis=1)), rtol=1e-7)


def test_public_operator_warns_and_gives_the_dense_spectrum():
    W = deep_teacher((3, 4, 2, 1), rng=2)
    with pytest.warns(symhess.SymhessAccuracyWarning, match="quasi-Monte Carlo"):
        op = symhess.deep_hessian_operator("erf", W, n_points=256, replicates=4, rng=7)
    assert isinstance(op, DeepQMCHessianOperator)
    dense = symhess.deep_hessian_estimate("erf", W, n_points=256, replicates=4, rng=7).hessian
    top = symhess.extreme_eigenvalues(op, k=2)
    assert np.allclose(top.values, np.linalg.eigvalsh(dense)[-2:], rtol=1e-8)


def test_dense_routes_refuse_beyond_the_memory_budget_and_name_the_operator():
    W = deep_teacher((3, 4, 2, 1), rng=0)
    with pytest.raises(symhess.MemoryLimitError, match="deep_hessian_operator"):
        symhess.deep_hessian_estimate("erf", W, n_points=64, replicates=2, max_bytes=10_000)
    with pytest.raises(symhess.MemoryLimitError, match="deep_hessian_operator"):
        _quiet(symhess.deep_expected_hessian, "tanh", W, n_points=64, replicates=2, max_bytes=10_000)
    with pytest.raises(symhess.MemoryLimitError, match="deep_hessian_operator"):
        symhess.deep_expected_hessian("quadratic:eps=1/2", W, max_bytes=1000)


def test_operator_where_the_dense_matrix_is_refused():
    W = deep_teacher((30, 60, 40, 1), rng=0)  # P = 4240
    with pytest.raises(symhess.MemoryLimitError):
        symhess.deep_hessian_estimate("erf", W, n_points=256, replicates=4, max_bytes=2**28)
    op = qmc_hessian_operator("erf", W, n_points=256, replicates=4, rng=0)
    v = np.random.default_rng(0).standard_normal(op.shape[0])
    hv, err = op.matvec_with_error(v)
    assert op.shape == (4240, 4240) and np.all(np.isfinite(hv)) and v @ hv > 0 and np.all(err >= 0)


def test_bad_input():
    W = deep_teacher((2, 3, 1), rng=0)
    with pytest.raises(symhess.InvalidParameterError, match="replicates"):
        qmc_hessian_operator("erf", W, replicates=1)
    with pytest.raises(symhess.InvalidParameterError, match="n_points"):
        qmc_hessian_operator("erf", W, n_points=1)
    op = qmc_hessian_operator("erf", W, n_points=8, replicates=2, rng=0)
    with pytest.raises(symhess.ShapeError, match="V must have shape"):
        op.replicate_products(np.ones((5, 1)))
