"""find_minimum with hidden and output biases: the student's b, b_out as parameters, teacher biases,
quadratic convergence and the certificate, checked against perturbations, Monte Carlo and a matched teacher."""

from __future__ import annotations

import numpy as np
import pytest

import symhess
from symhess.errors import InvalidParameterError, ShapeError

from test_find_minimum import _distinct


def _quadratic_tail(norms):
    """Newton's tail: |g_k+1| <= C |g_k|^2, C = 1e3, over the steps from 1e-3 down to the rounding floor
    (a linearly convergent method, ratio r, has C = r/|g_k| > 1e3 once |g_k| < r/1e3)."""
    d = _distinct(norms)
    steps = [(a, b) for a, b in zip(d[:-1], d[1:]) if a < 1e-3 and b > 1e-12]
    assert len(steps) >= 2, d
    q = [b / a**2 for a, b in steps]
    assert max(q) < 1e3, (d, q)
    assert d[-1] < 1e-13


def _monte_carlo_residual(act, tact, W, v, b, bo, Wt, vt, bt, bot, n=400_000, seed=0):
    """Monte Carlo mean and standard error of e = f - f* (independent of the closed forms)."""
    x = np.random.default_rng(seed).standard_normal((n, W.shape[1]))
    sa, st = symhess.activation(act).numeric(0), symhess.activation(tact).numeric(0)
    e = sa(x @ W.T + b) @ v + bo - st(x @ Wt.T + bt) @ vt - bot
    return e.mean(), e.std() / np.sqrt(n)


@pytest.mark.parametrize("act, tact, n_teacher", [
    ("erf", None, 3),  # a wider teacher with biases
    ("poly:coeffs=[0,1,0,0.5]", "poly:coeffs=[0,1,0.5,0.3]", 2),  # a teacher of another activation
])
def test_mismatched_teacher_with_biases(act, tact, n_teacher):
    Wt, vt = symhess.teacher(n_in=3, n_hidden=n_teacher, rng=4)
    bt, bot = np.array([0.5, -0.3, 0.2])[:n_teacher], 0.25
    W0, v0 = 1.05 * Wt[:2], vt[:2]
    res = symhess.find_minimum(act, W0, v0, Wt, vt, teacher_activation=tact, b0=np.zeros(2), b_out0=0.0,
                               b_teacher=bt, b_out_teacher=bot)
    assert res.converged and res.gradient_norm < 1e-12
    assert res.loss > 1e-6 and res.min_eigenvalue > 1e-6  # a strict minimum with nonzero loss
    assert res.b.shape == (2,) and res.b_out.shape == (1,) and res.hessian.shape == (11, 11)  # 6 + 2 + 2 + 1
    _quadratic_tail(res.gradient_norms)
    kw = dict(teacher_activation=tact, b=res.b, b_out=res.b_out, b_teacher=bt, b_out_teacher=bot)
    # the certificate recomputed through the public functions
    g = symhess.population_gradient(act, res.W, res.v, Wt, vt, method="expansion", **kw)
    assert np.linalg.norm(g) == pytest.approx(res.gradient_norm, abs=1e-14)
    H = symhess.expected_hessian(act, res.W, res.v, W_teacher=Wt, v_teacher=vt, **kw)
    assert np.linalg.eigvalsh(H)[0] == pytest.approx(res.min_eigenvalue, rel=1e-8)
    # nearby points, biases moved too, are not lower (closed-form loss)
    rng = np.random.default_rng(1)
    for _ in range(10):
        d = lambda a: 1e-3 * rng.standard_normal(np.shape(a))  # noqa: E731
        kw2 = dict(kw, b=res.b + d(res.b), b_out=res.b_out + d(res.b_out))
        assert symhess.population_loss(act, res.W + d(res.W), res.v + d(res.v), Wt, vt, method="expansion",
                                       **kw2) > res.loss
    # stationarity in b_out: E[f - f*] = 0, by Monte Carlo (independent of the closed forms)
    mean, se = _monte_carlo_residual(act, tact or act, res.W, res.v, res.b, res.b_out[0], Wt, vt, bt, bot)
    assert abs(mean) < 5 * se + 1e-12, (mean, se)
    # ... while the starting point, output bias 0 against 0.25, was not stationary
    mean0, se0 = _monte_carlo_residual(act, tact or act, W0, v0, np.zeros(2), 0.0, Wt, vt, bt, bot)
    assert abs(mean0) > 10 * se0


def test_matched_teacher_with_biases_reaches_loss_zero():
    W, v = symhess.teacher(n_in=3, n_hidden=2, rng=1)
    b, bo = np.array([0.4, -0.7]), 0.3
    res = symhess.find_minimum("erf", W + 0.05, v - 0.05, W, v, b0=b + 0.1, b_out0=0.0, b_teacher=b,
                               b_out_teacher=bo)
    assert res.converged and res.loss < 1e-14 and res.min_eigenvalue > 1e-4
    np.testing.assert_allclose(res.W, W, atol=1e-10)
    np.testing.assert_allclose(res.v, v, atol=1e-10)
    np.testing.assert_allclose(res.b, b, atol=1e-10)
    np.testing.assert_allclose(res.b_out, [bo], atol=1e-10)
    # the Hessian there is the Gauss-Newton one, E[grad f grad f^T] at the teacher
    H0 = symhess.expected_hessian("erf", W, v, b=b, b_out=bo)
    np.testing.assert_allclose(res.hessian, H0, atol=1e-8)


def test_frozen_biases_and_the_biased_soft_committee_machine():
    Wt, vt = symhess.teacher(n_in=3, n_hidden=3, rng=0)
    bt = np.array([0.3, 0.0, -0.4])
    res = symhess.find_minimum("erf", 1.1 * Wt[:2], vt[:2], Wt, vt, b0=np.array([0.1, -0.1]), b_out0=0.2,
                               b_teacher=bt, trainable=("W", "b"))
    assert res.converged and res.hessian.shape == (8, 8)
    np.testing.assert_array_equal(res.v, vt[:2])
    np.testing.assert_array_equal(res.b_out, [0.2])
    assert not np.allclose(res.b, [0.1, -0.1])


@pytest.mark.parametrize("kw, err, needle", [
    (dict(b_teacher=[0.1, 0.2, 0.3]), InvalidParameterError, "no hidden biases"),
    (dict(b0=[0.1, 0.2, 0.3]), ShapeError, "b has shape"),
    (dict(b0=[0.1, 0.2], trainable=("b_out",)), InvalidParameterError, "b_out"),
])
def test_find_minimum_bias_errors(kw, err, needle):
    Wt, vt = symhess.teacher(n_in=2, n_hidden=3, rng=0)
    with pytest.raises(err, match=needle):
        symhess.find_minimum("erf", Wt[:2], vt[:2], Wt, vt, **kw)


def test_no_bias_result_has_none():
    Wt, vt = symhess.teacher(n_in=2, n_hidden=2, rng=2)
    res = symhess.find_minimum("erf", 1.2 * Wt[:1], vt[:1], Wt, vt)
    assert res.b is None and res.b_out is None
