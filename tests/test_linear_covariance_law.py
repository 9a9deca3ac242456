"""The linear network's Hessian spectrum with inputs N(0, Sigma): exact reduction, law, moments, spike outliers.

Independent routes: the assembled expected Hessian (symhess.expected_hessian with input_cov), eq. (15)'s
closed-form MP density for Sigma = I, the empirical spectrum of one large teacher, Wishart moment
identities, and the classical spiked sample covariance (BBP) at s = 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symhess
from symhess.errors import InvalidParameterError
from symhess.two_layer.covariances import power_law_covariance, spiked_covariance
from symhess.two_layer.linear_covariance_law import (
    conditional_stieltjes, linear_covariance_law, linear_covariance_moments, spiked_outlier, spiked_threshold)
from symhess.two_layer.linear_law import ks_distance, linear_spectrum_law


def reduced_spectrum(W, v, tau):
    """spec(s Sigma + Sigma^1/2 W^T W Sigma^1/2) for a diagonal Sigma, by hand."""
    r = np.sqrt(tau)
    return np.linalg.eigvalsh((v @ v) * np.diag(tau) + (W * r).T @ (W * r))


# -- the exact reduction, every size ----------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(ni=st.integers(1, 4), nh=st.integers(1, 4), seed=st.integers(0, 10**6),
       log_cond=st.floats(0.0, 8.0))
def test_nonzero_spectrum_is_that_of_the_reduced_matrix(ni, nh, seed, log_cond):
    rng = np.random.default_rng(seed)
    W, v = symhess.teacher(ni, nh, rng)
    Q, _ = np.linalg.qr(rng.standard_normal((ni, ni)))
    lam = 10.0 ** -rng.uniform(0, log_cond, ni)  # condition numbers up to 1e8
    Sigma = (Q * lam) @ Q.T
    Sigma = 0.5 * (Sigma + Sigma.T)
    H = symhess.expected_hessian("linear", W, v, input_cov=Sigma)
    # the blocks by hand: vv^T (x) Sigma, v (x) Sigma W^T, W Sigma W^T
    m = ni * nh
    assert np.allclose(H[:m, :m], np.kron(np.outer(v, v), Sigma), atol=1e-13)
    assert np.allclose(H[:m, m:], np.kron(v[:, None], Sigma @ W.T), atol=1e-13)
    assert np.allclose(H[m:, m:], W @ Sigma @ W.T, atol=1e-13)
    # nonzero eigenvalues: spec(Sigma^1/2 (|v|^2 I + W^T W) Sigma^1/2)
    S = (Q * np.sqrt(lam)) @ Q.T
    red = np.linalg.eigvalsh(S @ ((v @ v) * np.eye(ni) + W.T @ W) @ S)
    eig = np.linalg.eigvalsh(H)
    scale = eig[-1]
    assert np.allclose(eig[-ni:], red, atol=1e-11 * scale)
    assert np.abs(eig[:-ni]).max() <= 1e-11 * scale


def test_exact_atoms_at_every_size():
    # Sigma with 30 variances 1 and 12 variances 4, Nh = 10: exactly 30 - 10 = 20 eigenvalues equal s and
    # 12 - 10 = 2 equal 4 s
    tau = np.r_[np.ones(30), 4 * np.ones(12)]
    W, v = symhess.teacher(42, 10, np.random.default_rng(3))
    e = reduced_spectrum(W, v, tau)
    s = v @ v
    assert np.sum(np.isclose(e, s, rtol=1e-10)) == 20
    assert np.sum(np.isclose(e, 4 * s, rtol=1e-10)) == 2
    law = linear_covariance_law(42, 10, tau, n_shift=4, n_grid=3000)
    t, w = law.atoms
    assert np.array_equal(t, [1.0, 4.0]) and np.allclose(w, [20 / 42, 2 / 42])
    assert abs(law.mass_defect) < 1e-3
    # the deterministic equivalent has the same poles: eta Im m(s tau_j + i eta) -> weight_j
    for s in (0.7, 1.2):
        for eta in (1e-4, 1e-7):
            m = conditional_stieltjes(s * np.array([1.0, 4.0]) + 1j * eta, s, tau, 10, 1 / 42)
            assert np.allclose(eta * m.imag, [20 / 42, 2 / 42], rtol=1e-3)


# -- the law ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ni, nh", [(40, 80), (80, 40)])
def test_identity_covariance_is_eq_15(ni, nh):
    law = linear_covariance_law(ni, nh, np.ones(ni), n_shift=32, n_grid=800)
    ref = linear_spectrum_law(ni, nh)
    x = np.linspace(0.05, 6.0, 120)
    for s in (0.7, 1.3):  # given the shift: MP of W^T W moved by s (closed form)
        assert np.allclose(law.conditional_pdf(x, s), ref.mp_pdf(x - s), atol=1e-6)
    assert np.abs(law.cdf(x) - ref.cdf(x)).max() < 2e-3  # mixture over 32 shift quantiles
    assert law.mean() == pytest.approx(ref.mean(), rel=1e-12)
    assert law.moment(2) == pytest.approx(ref.moment(2), rel=2e-3)


def test_stieltjes_solves_the_fixed_point_equation():
    tau = power_law_covariance(30, 1.0)
    z = np.array([0.3 + 0.01j, 1.0 + 1e-4j, 2.5 + 0.5j])
    s, nh, vw = 0.9, 50, 1 / 30
    m = conditional_stieltjes(z, s, tau, nh, vw)
    # rebuild omega from m by the defining equations and check them independently (scalar, per point)
    for zk, mk in zip(z, m):
        om = s + vw * nh
        for _ in range(4000):
            delta = vw * np.sum(tau / (om * tau - zk))
            om = s + vw * nh / (1 + delta)
        assert np.mean(1 / (om * tau - zk)) == pytest.approx(mk, rel=1e-8)
        assert mk.imag > 0


@pytest.mark.parametrize("tau_name", ["power1", "power0.5", "spiked"])
def test_one_large_teacher_follows_the_conditional_law(tau_name):
    ni, nh = 150, 300
    tau = {"power1": power_law_covariance(ni, 1.0), "power0.5": power_law_covariance(ni, 0.5),
           "spiked": spiked_covariance(ni, 0.3, 3.0)}[tau_name]
    W, v = symhess.teacher(ni, nh, np.random.default_rng(11))
    e = reduced_spectrum(W, v, tau)
    s = v @ v
    law = linear_covariance_law(ni, nh, tau, n_shift=2, n_grid=300)
    d = ks_distance(e, lambda x: law.conditional_cdf(x, s))
    assert d < 0.03
    wrong = linear_covariance_law(ni, nh, tau, var_w=2.0 / ni, n_shift=2, n_grid=300)
    assert ks_distance(e, lambda x: wrong.conditional_cdf(x, s)) > 0.1  # a doubled variance is rejected


def test_moments_exact_and_large_size():
    ni, nh = 60, 90
    tau = power_law_covariance(ni, 1.0)
    m1, m2 = linear_covariance_moments(ni, nh, tau)
    law = linear_covariance_law(ni, nh, tau, n_shift=32, n_grid=800)
    assert law.mean() == pytest.approx(m1, rel=1e-12)
    assert law.moment(1) == pytest.approx(m1, rel=1e-3)  # the tabulated law
    # the deterministic equivalent has the large-size Wishart moment N_h^2 tr Sigma^2 (not N_h(N_h + 1))
    vw = 1 / ni
    assert law.moment(2) == pytest.approx(m2 - vw**2 * nh * np.mean(tau**2), rel=2e-3)
    # the exact moments against Monte Carlo at a small size (z-scores)
    ni, nh = 5, 3
    tau = np.array([3.0, 1.0, 0.5, 0.2, 0.05])
    m1, m2 = linear_covariance_moments(ni, nh, tau)
    rng = np.random.default_rng(0)
    a1, a2 = [], []
    for _ in range(4000):
        W, v = symhess.teacher(ni, nh, rng)
        e = reduced_spectrum(W, v, tau)
        a1.append(e.mean())
        a2.append(np.mean(e**2))
    for a, m in ((np.array(a1), m1), (np.array(a2), m2)):
        assert abs(a.mean() - m) < 4 * a.std() / np.sqrt(a.size)


# -- spike outliers --------------------------------------------------------------------------------------

def test_spike_at_zero_shift_is_bbp():
    ni, nh = 100, 400
    y = ni / nh
    c = nh / ni  # sigma_w^2 N_h with sigma_w^2 = 1/N_i
    assert spiked_threshold(ni, nh, 0.0) == pytest.approx(np.sqrt(y))
    for a in (0.8, 2.0, 5.0):  # classical: ell (1 + y / (ell - 1)) times the scale c, ell = 1 + a
        assert spiked_outlier(ni, nh, a, 0.0) == pytest.approx(c * (1 + a) * (1 + y / a), rel=1e-12)
    assert np.isnan(spiked_outlier(ni, nh, 0.4, 0.0))
    # at a = a_c(s) the outlier meets the bulk edge s + (sqrt c + sqrt d)^2
    for s in (0.5, 1.0, 2.0):
        ac = spiked_threshold(ni, nh, s)
        edge = s + (np.sqrt(c) + 1) ** 2
        assert spiked_outlier(ni, nh, ac * (1 + 1e-3), s) == pytest.approx(edge, rel=1e-4)
        assert np.isnan(spiked_outlier(ni, nh, ac * (1 - 1e-6), s))


def test_spike_outlier_against_teachers():
    ni, nh, a = 200, 400, 3.0
    tau = np.ones(ni)
    tau[0] += a
    rng = np.random.default_rng(5)
    diff, second = [], []
    for _ in range(24):
        W, v = symhess.teacher(ni, nh, rng)
        e = reduced_spectrum(W, v, tau)
        diff.append(e[-1] / spiked_outlier(ni, nh, a, v @ v) - 1)
        second.append(e[-2] / (v @ v + (np.sqrt(nh / ni) + 1) ** 2))  # the bulk edge, unchanged
    diff = np.array(diff)
    assert abs(diff.mean()) < 0.02 and diff.std() < 0.06
    second = np.array(second)
    assert abs(second.mean() - 1) < 0.03 and np.all(np.abs(second - 1) < 0.06)  # edge fluctuations N^(-2/3)


def test_errors():
    with pytest.raises(InvalidParameterError, match="zero"):
        linear_covariance_law(3, 2, np.zeros(3))
    with pytest.raises(InvalidParameterError, match="n_grid"):
        linear_covariance_law(3, 2, np.ones(3), n_grid=1)
    with pytest.raises(InvalidParameterError, match="strength"):
        spiked_outlier(3, 2, -1.0, 1.0)
    with pytest.raises(InvalidParameterError, match="Im z"):
        conditional_stieltjes(np.array([1.0 + 0j]), 1.0, np.ones(3), 2, 0.5)
    with pytest.raises(ValueError):
        linear_covariance_law(3, 2, np.array([1.0, -1.0, 1.0]))


def test_singular_covariance_reduces_to_its_rank():
    law = linear_covariance_law(6, 4, np.array([1.0, 2.0, 0.0, 0.5, 0.0, 1.0]), n_shift=4, n_grid=200)
    assert law.n_in == 4 and np.array_equal(law.cov_eigs, [0.5, 1.0, 1.0, 2.0])
