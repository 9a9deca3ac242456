"""Deep linear UFM: the threshold, the scalar equation and the closed-form global optimum.

Independent routes: brute-force minimisation of the scalar problem on a grid, mpmath roots at 50
digits, central finite differences of the objective (no analytic gradient involved), the dense
Hessian's positive semidefiniteness, and gradient descent from random starts.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from symhess import DeepLinearUFM, RegularisationTooStrongError, UFMPoint
from symhess.ufm.optimum import collapse_scale, critical_beta, effective_beta, scale_objective, transition_scale


def _fd_gradient(m: DeepLinearUFM, point: UFMPoint, h: float = 1e-5) -> np.ndarray:
    """Central differences of the objective itself, one coordinate at a time."""
    theta = point.to_vector()
    out = np.empty_like(theta)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        fp = m.objective(UFMPoint.from_vector(theta + e, m.shapes))
        fm = m.objective(UFMPoint.from_vector(theta - e, m.shapes))
        out[k] = (fp - fm) / (2 * h)
    return out


# -- the scalar problem -------------------------------------------------------------------------
@pytest.mark.parametrize("L, expected", [(1, 1.0), (2, 0.5 * 0.5 ** (1 / 3)), (3, (1 / 3) * (2 / 3) ** 0.5),
                                         (4, 0.25 * 0.75 ** 0.6)])
def test_critical_beta_values(L, expected):
    assert critical_beta(L) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_threshold_against_brute_force(L):
    """Below beta_c the grid minimum of g over x > 0 is below g(0) = 1/2; above it, it is not."""
    x = np.linspace(1e-6, 1.5, 300001)
    bc = critical_beta(L)
    for factor, nonzero_wins in [(0.98, True), (1.02, False)]:
        g = 0.5 * (x - 1) ** 2 + 0.5 * (L + 1) * factor * bc * x ** (2 / (L + 1))
        assert (g.min() < 0.5) == nonzero_wins
    g = 0.5 * (x - 1) ** 2 + 0.5 * (L + 1) * 0.5 * bc * x ** (2 / (L + 1))
    assert collapse_scale(0.5 * bc, L) == pytest.approx(x[g.argmin()], abs=1e-5)


@pytest.mark.parametrize("L", [2, 3, 4, 6])
def test_first_order_transition(L):
    """At beta_c the optimal scale is (L-1)/L, tied with x = 0 (g = 1/2): a jump, not a continuous onset."""
    bc = critical_beta(L)
    assert collapse_scale(bc, L) == transition_scale(L) == (L - 1) / L
    assert scale_objective((L - 1) / L, bc, L) == pytest.approx(0.5, rel=1e-14)
    assert collapse_scale(bc * (1 - 1e-10), L) == pytest.approx((L - 1) / L, abs=1e-4)
    with pytest.raises(RegularisationTooStrongError, match="beta_c"):
        collapse_scale(bc * (1 + 1e-10), L)


def test_depth_one_is_continuous():
    assert collapse_scale(0.3, 1) == pytest.approx(0.7, rel=1e-15)
    assert collapse_scale(1.0, 1) == 0.0


@given(L=st.integers(1, 7), frac=st.floats(1e-6, 1.0))
def test_collapse_scale_solves_the_equation_mpmath(L, frac):
    beta = frac * critical_beta(L)
    x = collapse_scale(beta, L)
    p = mpmath.mpf(L - 1) / (L + 1)
    with mpmath.workdps(50):
        x_ref = mpmath.findroot(lambda y: (1 - y) * y**p - beta, (mpmath.mpf(L - 1) / L, 1), solver="anderson") \
            if frac < 1 else mpmath.mpf(L - 1) / L
        # the largest root lies in [(L-1)/L, 1]
        assert x >= (L - 1) / L - 1e-12
        assert abs(1 - x - (1 - float(x_ref))) <= 1e-12 * max(1 - float(x_ref), 1e-300) + 1e-15


def test_tiny_beta_keeps_relative_accuracy():
    x = collapse_scale(1e-12, 3)
    assert 1 - x == pytest.approx(1e-12 * (1 - 1e-12) ** -0.5, rel=1e-9)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_collapse_scale_rejects_bad_beta(bad):
    with pytest.raises(ValueError, match="beta"):
        collapse_scale(bad, 2)


def test_effective_beta_matches_definition():
    b = effective_beta(3, 4, [1e-3, 2e-3, 3e-3], 5e-4)
    assert b == pytest.approx(3 * (4 * 5e-4 * 1e-3 * 2e-3 * 3e-3) ** 0.25, rel=1e-14)


# -- the closed-form optimum --------------------------------------------------------------------
def test_optimum_shapes_and_contract():
    m = DeepLinearUFM(n_classes=3, n_per_class=4, width=8, depth=3, reg_w=1e-3, reg_h=1e-3)
    opt = m.optimum()
    assert [W.shape for W in opt.weights] == [(8, 8), (8, 8), (3, 8)]
    assert opt.features.shape == (8, 12)
    # columns grouped by class: within-class columns identical (DNC1)
    H = opt.features.reshape(8, 3, 4)
    assert np.abs(H - H[:, :, :1]).max() == 0


@pytest.mark.parametrize("rng", [None, 3])
def test_optimum_objective_and_stationarity(rng):
    m = DeepLinearUFM(3, 2, 5, 3, reg_w=[2e-3, 1e-3, 4e-3], reg_h=3e-3)
    opt = m.optimum(rng=rng)
    x = opt.x
    assert m.objective(opt) == pytest.approx(0.5 * (1 - x) * (1 + 3 * x), rel=1e-12)
    fd = _fd_gradient(m, opt)
    scale = np.abs(_fd_gradient(m, m.random_point(0, 0.3))).max()
    assert np.abs(fd).max() < 1e-8 * max(scale, 1.0)
    assert m.gradient(opt).norm() < 1e-13
    # product = x Y ; balancedness ; singular values
    P = opt.weights[2] @ opt.weights[1] @ opt.weights[0] @ opt.features
    np.testing.assert_allclose(P, x * m.labels, atol=1e-14)
    for l, W in enumerate(opt.weights):
        s = np.linalg.svd(W, compute_uv=False)
        np.testing.assert_allclose(s[:3], opt.singular_values[l], rtol=1e-13)
        assert np.all(s[3:] < 1e-14)


def test_optimum_is_a_local_minimum():
    """Full Hessian (with the regulariser) is PSD; its null space is the rotation gauge; random
    perturbations raise the objective."""
    m = DeepLinearUFM(3, 2, 4, 2, reg_w=[1e-2, 2e-2], reg_h=5e-3)
    opt = m.optimum(rng=1)
    ev = np.linalg.eigvalsh(m.full_hessian(opt, include_reg=True))
    assert ev.min() > -1e-12 * ev.max()
    gen = np.random.default_rng(0)
    f0 = m.objective(opt)
    for _ in range(20):
        d = UFMPoint.from_vector(gen.normal(size=m.n_params) * 1e-4, m.shapes)
        assert m.objective(opt + d) > f0


def test_global_optimum_beats_gradient_descent_from_random_starts():
    """GD from several random starts never gets below the closed form, and reaches it."""
    m = DeepLinearUFM(3, 3, 5, 2, reg_w=1e-2, reg_h=1e-2)
    f_star = m.optimum().objective
    for seed in range(3):
        run = m.train(steps=4000, lr=0.5, rng=seed, spectra=False, record_at=3)
        assert run.objective[-1] >= f_star - 1e-14
        assert run.objective[-1] - f_star < 1e-9


@given(K=st.integers(2, 4), n=st.integers(1, 3), extra=st.integers(0, 2), L=st.integers(1, 4),
       logs=st.lists(st.floats(-4, -1.5), min_size=5, max_size=5), seed=st.integers(0, 10))
def test_optimum_is_stationary_and_balanced(K, n, extra, L, logs, seed):
    reg_w = [10**v for v in logs[:L]]
    reg_h = 10 ** logs[-1]
    m = DeepLinearUFM(K, n, K + extra, L, reg_w=reg_w, reg_h=reg_h)
    assume(m.beta < 0.95 * m.beta_c)
    opt = m.optimum(rng=seed)
    g = m.gradient(opt)
    assert g.norm() < 1e-11 * max(1.0, opt.norm())
    th = opt.theory
    # balancedness: lambda_{l+1} W_{l+1}^T W_{l+1} = lambda_l W_l W_l^T ; lambda_1 W_1^T W_1 = lambda_H H H^T
    prev = reg_h * opt.features @ opt.features.T
    for lam, W in zip(m.reg_w, opt.weights):
        np.testing.assert_allclose(lam * W.T @ W, prev, atol=1e-12 * max(1, np.abs(prev).max()))
        prev = lam * W @ W.T
    assert m.objective(opt) == pytest.approx(th.objective, rel=1e-10, abs=1e-15)
    assert th.objective < 0.5  # beats the zero solution


def test_regularisation_too_strong_raises():
    m = DeepLinearUFM(3, 4, 8, 3, reg_w=0.3, reg_h=0.3)
    assert m.beta > m.beta_c
    with pytest.raises(RegularisationTooStrongError, match=r"exceeds the threshold beta_c"):
        m.optimum()
    with pytest.raises(ValueError):  # it is also a ValueError
        m.theory()
    # GD then collapses to zero, as the theorem says
    run = m.train(steps=3000, lr=0.5, rng=0, spectra=False, record_at=2)
    assert run.objective[-1] == pytest.approx(0.5, abs=1e-6)
    assert run.final.norm() < 1e-2


def test_threshold_in_terms_of_the_regularisers():
    """K^{L+1} n lambda_H prod lambda_W < (L-1)^{L-1}/L^{2L}  <=>  beta < beta_c."""
    K, n, L = 3, 4, 3
    bound = (L - 1) ** (L - 1) / L ** (2 * L)
    for f in (0.9, 1.1):
        lam = (f * bound / (K ** (L + 1) * n)) ** (1 / (L + 1))
        m = DeepLinearUFM(K, n, 5, L, reg_w=lam, reg_h=lam)
        assert (m.beta < m.beta_c) == (f < 1)
        assert math.isclose(m.beta / m.beta_c, f ** (1 / (L + 1)), rel_tol=1e-12)
