"""The G&K theorems at a global optimum of the deep linear UFM: formula vs measured.

Measured values come from eigendecompositions of dense matrices assembled from the weights (checked
against finite differences and SymPy in test_ufm_hessian.py); predicted values from the closed-form
constants of :class:`symhess.UFMTheory`. Property tests run over K, n, d, L, the regularisers and
random orthonormal frames; one test checks the predictions on a gradient-descent optimum (no
closed-form construction involved).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from symhess import DeepLinearUFM


def _nonzero(M: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    ev = np.linalg.eigvalsh(M)
    return ev[ev > rtol * max(ev.max(), 1e-300)]


configs = st.fixed_dictionaries({
    "K": st.integers(2, 4), "n": st.integers(1, 3), "extra": st.integers(0, 2), "L": st.integers(1, 4),
    "logs": st.lists(st.floats(-3.5, -1.5), min_size=5, max_size=5), "seed": st.integers(0, 100),
})


def _model(c):
    reg_w = [10**v for v in c["logs"][: c["L"]]]
    m = DeepLinearUFM(c["K"], c["n"], c["K"] + c["extra"], c["L"], reg_w=reg_w, reg_h=10 ** c["logs"][-1])
    assume(m.beta < 0.95 * m.beta_c)
    return m, m.optimum(rng=c["seed"]), m.theory()


@given(c=configs)
def test_theorem_4_1_rank_eigenvalue_eigenvectors(c):
    m, opt, th = _model(c)
    K = m.n_classes
    for l in range(1, m.depth + 1):
        H = m.layer_hessian(opt, l)
        nz = _nonzero(H)
        assert nz.size == K * K  # rank K^2
        np.testing.assert_allclose(nz, th.hessian_eigenvalues[l - 1], rtol=1e-9)  # one common eigenvalue mu_l
        V = m.natural_basis(opt, l).reshape(K * K, -1)  # vec(hbar_{l+1,c} hbar_{l,c'}^T), normalised
        np.testing.assert_allclose(V @ V.T, np.eye(K * K), atol=1e-10)  # orthonormal
        np.testing.assert_allclose(V @ H, th.hessian_eigenvalues[l - 1] * V, atol=1e-10)  # eigenvectors


@given(c=configs)
def test_theorem_4_2_papyan_decomposition(c):
    m, opt, th = _model(c)
    K = m.n_classes
    for l in range(1, m.depth + 1):
        dec = m.papyan_decomposition(opt, l)
        mu = th.hessian_eigenvalues[l - 1]
        assert np.abs(dec.within).max() < 1e-12 * mu  # (a) within-class part vanishes
        nz_class, nz_cross = _nonzero(dec.classes), _nonzero(dec.cross)
        assert nz_class.size == K and nz_cross.size == K * (K - 1)  # (b), (c) ranks
        np.testing.assert_allclose(nz_class, mu, rtol=1e-9)
        np.testing.assert_allclose(nz_cross, mu, rtol=1e-9)
        assert np.abs(dec.classes @ dec.cross).max() < 1e-10 * mu**2  # orthogonal images
        # knockouts remove exactly K, K(K-1) and 0 outliers
        assert _nonzero(dec.knockout("class")).size == K * (K - 1)
        assert _nonzero(dec.knockout("cross")).size == K
        assert _nonzero(dec.knockout("within")).size == K * K


@given(c=configs)
def test_theorem_4_3_gradient_in_natural_basis(c):
    m, opt, th = _model(c)
    K = m.n_classes
    for l in range(1, m.depth + 1):
        g = m.mse_gradient(opt, l)
        coeff = m.natural_basis(opt, l) @ g.ravel()
        np.testing.assert_allclose(coeff, th.gradient_coefficients[l - 1] * np.eye(K),
                                   atol=1e-10 * abs(th.gradient_coefficients[l - 1]))
        np.testing.assert_allclose(m.gradient_coefficients(opt, l), np.eye(K) / np.sqrt(K), atol=1e-9)
        # the MSE gradient is itself an eigenvector of the layer Hessian (all eigenvalues equal)
        H = m.layer_hessian(opt, l)
        np.testing.assert_allclose(H @ g.ravel(), th.hessian_eigenvalues[l - 1] * g.ravel(),
                                   atol=1e-10 * np.abs(g).max())


@given(c=configs)
def test_theorem_4_4_weight_spectra(c):
    m, opt, th = _model(c)
    K = m.n_classes
    for l, W in enumerate(opt.weights):
        nz = _nonzero(W @ W.T)
        assert nz.size == K
        np.testing.assert_allclose(nz, th.weight_eigenvalues[l], rtol=1e-10)


@given(c=configs)
def test_appendix_e_matrices(c):
    m, opt, th = _model(c)
    K = m.n_classes
    for l in range(1, m.depth + 1):
        i = l - 1
        # E.1 gradient second moment: rank K; covariance: rank K-1; both (1-x)^2 mu_l
        for centred, rank in [(False, K), (True, K - 1)]:
            nz = _nonzero(m.gradient_moment(opt, l, centred=centred), rtol=1e-8)
            assert nz.size == rank
            np.testing.assert_allclose(nz, th.gradient_moment_eigenvalues[i], rtol=1e-8)
        # E.2 extended back-propagated errors: K-1 at alpha^2 (1 + x^2), one at alpha^2 (1 - x)^2
        nz = np.sort(_nonzero(m.backprop_error_moment(opt, l), rtol=1e-12))
        big, small = th.backprop_error_eigenvalues[i]
        assert nz.size == K
        assert small < big
        np.testing.assert_allclose(nz[0], small, rtol=1e-6)
        np.testing.assert_allclose(nz[1:], big, rtol=1e-9)
        # E.3 features: rank K, eigenvalue m_l^2 / K
        nz = _nonzero(m.feature_moment(opt, l))
        assert nz.size == K
        np.testing.assert_allclose(nz, th.feature_moment_eigenvalues[i], rtol=1e-10)


@given(c=configs)
def test_dnc_properties(c):
    m, opt, th = _model(c)
    assert np.all(m.nc1(opt) < 1e-20)
    assert np.all(m.orthogonal_frame_deviation(opt) < 1e-9)
    # classifier aligned with last-layer means: W_L = c * Hbar_L^T
    Hbar = m.class_means(opt, m.depth)
    WL = opt.weights[-1]
    ratio = WL @ Hbar / np.trace(WL @ Hbar) * m.n_classes
    np.testing.assert_allclose(ratio, np.eye(m.n_classes), atol=1e-10)
    np.testing.assert_allclose(WL, th.tau / (m.reg_w[-1] * th.x) * Hbar.T, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(m.class_means(opt, m.depth + 1), th.x * np.eye(m.n_classes), atol=1e-12)


def test_predictions_hold_on_a_gradient_descent_optimum():
    """No closed-form construction: train, then measure every predicted quantity."""
    m = DeepLinearUFM(3, 4, 6, 3, reg_w=[1e-2, 2e-2, 1.5e-2], reg_h=1e-2)
    th = m.theory()
    run = m.train(steps=6000, lr=0.5, rng=0, spectra=False, record_at=2)
    p = run.final
    assert run.grad_norm[-1] < 1e-10
    K = m.n_classes
    for l in (1, 2, 3):
        ev = m.layer_spectrum(p, l)
        np.testing.assert_allclose(ev[: K * K], th.hessian_eigenvalues[l - 1], rtol=1e-8)
        assert ev[K * K] < 1e-10
        np.testing.assert_allclose(np.linalg.svd(p.weights[l - 1], compute_uv=False)[:K],
                                   th.weight_singular_values[l - 1], rtol=1e-8)
        np.testing.assert_allclose(m.eigvec_alignment(p, l), 1.0, atol=1e-8)
        np.testing.assert_allclose(m.gradient_coefficients(p, l), np.eye(K) / np.sqrt(K), atol=1e-6)
    assert m.objective(p) == pytest.approx(th.objective, rel=1e-12)
    # the N x N feature Gram matrix is rotation invariant, so it must equal the closed form's exactly
    opt = m.optimum(rng=4)
    np.testing.assert_allclose(p.features.T @ p.features, opt.features.T @ opt.features, atol=1e-8)
    assert np.all(m.nc1(p) < 1e-12)


def test_spec_check_values():
    """The instance quoted in formulas.md Part C (K=3, n=4, d=8, L=3): mu_l formula = s^2 / (N s_l^2)."""
    m = DeepLinearUFM(3, 4, 8, 3, reg_w=[1e-3, 2e-3, 3e-3], reg_h=1e-3)
    th = m.theory()
    s = np.sqrt(4) * th.x
    for l in range(3):
        assert th.hessian_eigenvalues[l] == pytest.approx(s**2 / (12 * th.weight_singular_values[l] ** 2), rel=1e-12)
    # mu_l scales with lambda_l: mu_2 = 2 mu_1, mu_3 = 3 mu_1
    assert th.hessian_eigenvalues[1] / th.hessian_eigenvalues[0] == pytest.approx(2, rel=1e-12)
    assert th.hessian_eigenvalues[2] / th.hessian_eigenvalues[0] == pytest.approx(3, rel=1e-12)


@given(c=configs)
def test_full_hessian_outliers(c):
    """Derived here: GN part exact (K^2 at Lambda, K(N-K) at mu_H); residual splits the K^2 outliers
    into K(K+1)/2 at Lambda - delta and K(K-1)/2 at Lambda + delta, up to O((1-x)^2)."""
    m, opt, th = _model(c)
    assume(m.n_params <= 250)
    K, N = m.n_classes, m.n_samples
    gn = np.sort(_nonzero(m.full_hessian(opt, part="gauss_newton")))[::-1]
    assert gn.size == K * N
    np.testing.assert_allclose(gn[: K * K], th.full_outlier, rtol=1e-9)
    np.testing.assert_allclose(gn[K * K:], th.feature_hessian_eigenvalue, rtol=1e-9)
    F = m.full_hessian(opt)
    n_w = sum(a * b for a, b in m.shapes[:-1])
    tol = 2 * (1 - th.x) ** 2 * th.full_outlier + 1e-12
    for H, lam, delta in [(F, th.full_outlier, th.full_split), (F[:n_w, :n_w], th.weights_outlier, th.weights_split)]:
        ev = np.linalg.eigvalsh(H)[::-1]
        n_up, n_down = K * (K - 1) // 2, K * (K + 1) // 2
        np.testing.assert_allclose(ev[:n_up], lam + delta, atol=tol)
        np.testing.assert_allclose(ev[n_up:n_up + n_down], lam - delta, atol=tol)


def test_full_hessian_split_is_resolved():
    """The split is resolved, not hidden in the tolerance, for the instance of formulas.md Part C."""
    m = DeepLinearUFM(3, 4, 8, 3, reg_w=[2e-3, 3e-3, 1e-3], reg_h=2e-3)
    th = m.theory()
    ev = np.linalg.eigvalsh(m.full_hessian(m.optimum()))[::-1]
    assert abs(ev[0] - th.full_outlier - th.full_split) < 1e-6 < th.full_split / 1000
    np.testing.assert_allclose(ev[[0, 3, 9]], [1.0068, 0.9953, 0.2503], atol=6e-5)  # formulas.md check values
