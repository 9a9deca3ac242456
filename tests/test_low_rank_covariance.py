"""Sigma = D + U U^T through the matrix-free route (and the dense ones) against the dense-Sigma route."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symhess
from symhess.errors import InvalidParameterError, NonFiniteError, ShapeError
from symhess.two_layer.low_rank_covariance import LowRankPlusDiagonal


def _cov(rng, ni, k, zero_frac=0.0):
    d = rng.uniform(0.1, 2.0, ni)
    d[rng.random(ni) < zero_frac] = 0.0  # singular D: U must carry those directions (or they are null)
    return LowRankPlusDiagonal(d, 0.6 * rng.standard_normal((ni, k)))


def test_dense_sigma_is_d_plus_u_ut():
    cov = LowRankPlusDiagonal([1.0, 2.0], [[1.0, 0.0], [3.0, 1.0]])
    assert np.array_equal(cov.sigma, [[2.0, 3.0], [3.0, 12.0]])
    assert np.array_equal(cov.variances(), [2.0, 12.0])
    assert np.allclose(cov.factor @ cov.factor.T, cov.sigma)


@settings(max_examples=30, deadline=None)
@given(ni=st.integers(1, 5), nh=st.integers(1, 4), k=st.integers(0, 3), seed=st.integers(0, 10**6),
       act=st.sampled_from(["erf", "quadratic:eps=0.7", "relu", "linear"]), teacher=st.booleans(),
       zero_frac=st.sampled_from([0.0, 0.5]))
def test_operator_matches_the_dense_sigma_route(ni, nh, k, seed, act, teacher, zero_frac):
    rng = np.random.default_rng(seed)
    cov = _cov(rng, ni, k, zero_frac)
    W, v = symhess.teacher(ni, nh, rng)
    kw = {}
    if teacher:
        kw = dict(W_teacher=symhess.teacher(ni, nh + 1, rng)[0], v_teacher=symhess.teacher(ni, nh + 1, rng)[1])
    H = symhess.expected_hessian(act, W, v, input_cov=cov.sigma, **kw)  # the dense-Sigma route
    scale = max(1.0, np.abs(H).max())
    assert np.allclose(symhess.expected_hessian(act, W, v, input_cov=cov, **kw), H, atol=1e-12 * scale)
    op = symhess.hessian_operator(act, W, v, kw.get("W_teacher"), kw.get("v_teacher"), input_cov=cov)
    X = rng.standard_normal((H.shape[0], 2))
    assert np.allclose(op @ X, H @ X, atol=1e-12 * scale * np.abs(X).sum(axis=0).max())
    assert np.allclose(op.product.diagonal(), np.diag(H), atol=1e-12 * scale)


def test_outputs_frozen_groups_loss_and_gradient():
    rng = np.random.default_rng(2)
    cov = _cov(rng, 7, 2)
    W, v = symhess.teacher(7, 3, rng)
    Wt, vt = symhess.teacher(7, 4, rng)
    V, Vt = np.vstack([v, -0.5 * v]), np.vstack([vt, 0.3 * vt])
    H = symhess.expected_hessian("erf", W, V, W_teacher=Wt, v_teacher=Vt, input_cov=cov.sigma)
    for groups, idx in ((("W",), slice(0, 21)), (("v",), slice(21, 27)), (None, slice(None))):
        op = symhess.hessian_operator("erf", W, V, Wt, Vt, input_cov=cov, trainable=groups)
        x = rng.standard_normal(op.shape[0])
        assert np.allclose(op @ x, H[idx, idx] @ x, atol=1e-13)
    for VV, TT in ((v, vt), (V, Vt)):
        assert symhess.population_loss("erf", W, VV, Wt, TT, input_cov=cov) == pytest.approx(
            symhess.population_loss("erf", W, VV, Wt, TT, input_cov=cov.sigma), rel=1e-13)
        assert np.allclose(symhess.population_gradient("erf", W, VV, Wt, TT, input_cov=cov),
                           symhess.population_gradient("erf", W, VV, Wt, TT, input_cov=cov.sigma), atol=1e-14)


def test_gradient_by_finite_differences():
    """An independent route: central differences of the closed-form loss under Sigma = D + U U^T."""
    rng = np.random.default_rng(4)
    cov = _cov(rng, 4, 1)
    W, v = symhess.teacher(4, 2, rng)
    Wt, vt = symhess.teacher(4, 3, rng)
    g = symhess.population_gradient("erf", W, v, Wt, vt, input_cov=cov)
    theta = np.concatenate([W.ravel(), v])
    h = 1e-6
    for p in range(theta.size):
        e = np.zeros(theta.size)
        e[p] = h
        lp = symhess.population_loss("erf", (theta + e)[:8].reshape(2, 4), (theta + e)[8:], Wt, vt, input_cov=cov)
        lm = symhess.population_loss("erf", (theta - e)[:8].reshape(2, 4), (theta - e)[8:], Wt, vt, input_cov=cov)
        assert (lp - lm) / (2 * h) == pytest.approx(g[p], abs=1e-8)


def test_operator_never_forms_sigma():
    rng = np.random.default_rng(1)
    cov = _cov(rng, 50, 3)
    W, v = symhess.teacher(50, 4, rng)
    op = symhess.hessian_operator("erf", W, v, input_cov=cov)
    op @ np.ones(op.shape[0])
    op.product.diagonal()
    assert "sigma" not in vars(cov) and "factor" not in vars(cov)  # the cached dense forms were never built


@pytest.mark.parametrize("d, U, exc, needle", [
    ([1.0, -1.0], [[1.0], [0.0]], InvalidParameterError, "d[1]"),
    ([1.0, 1.0], [[1.0], [0.0], [2.0]], ShapeError, "as many rows"),
    ([[1.0]], [[1.0]], ShapeError, "expected (Ni,)"),
    ([1.0, np.nan], [[1.0], [0.0]], NonFiniteError, "non-finite"),
])
def test_bad_input(d, U, exc, needle):
    with pytest.raises(exc, match=re.escape(needle)):
        LowRankPlusDiagonal(d, U)


def test_wrong_number_of_inputs():
    cov = LowRankPlusDiagonal(np.ones(3), np.ones((3, 1)))
    W, v = symhess.teacher(4, 2, rng=0)
    with pytest.raises(ShapeError, match="3 inputs"):
        symhess.hessian_operator("erf", W, v, input_cov=cov)
