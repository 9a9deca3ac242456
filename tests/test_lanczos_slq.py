"""Spectra without the matrix (issue 8): Lanczos, extreme eigenvalues, trace, stochastic Lanczos quadrature.

Routes: LAPACK's dense ``eigvalsh``/``eigh`` of the same matrices (the expected Hessian for P <= 5000,
and synthetic spectra); the exact Gauss-quadrature identity sum tau theta^p = q^T A^p q; the exact trace
from the dense matrix; and the a priori Wasserstein bound of Chen, Trogdon & Ubaru (ICML 2021) that
docs/matrix_free.md documents.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse import diags

import symhess
from symhess.linalg.lanczos import extreme_eigenvalues, hutchinson_trace, lanczos, random_probes
from symhess.linalg.slq import default_probes, slq_density, slq_error_bound, spectral_wasserstein


@pytest.fixture(scope="module")
def erf_hessian():
    """Expected Hessian at the optimum, Ni = 30, Nh = 20 (P = 620), dense and matrix-free."""
    W, v = symhess.teacher(30, 20, rng=3)
    H = symhess.expected_hessian("erf", W, v)
    op = symhess.hessian_operator("erf", W, v)
    return H, op, np.linalg.eigvalsh(H)


@pytest.fixture(scope="module")
def away_hessian():
    """Away from the optimum (indefinite: the residual part), Ni = 20, Nh = 12, teacher of 6 units (P = 252)."""
    W, v = symhess.teacher(20, 12, rng=4)
    Wt, vt = symhess.teacher(20, 6, rng=5)
    H = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt)
    op = symhess.hessian_operator("erf", W, v, Wt, vt)
    return H, op, np.linalg.eigvalsh(H)


# ----------------------------------------------------------------------------- Lanczos
@given(n=st.integers(2, 30), m=st.integers(1, 8), seed=st.integers(0, 2**31))
def test_gauss_rule_matches_moments(n, m, seed):
    """For all symmetric A and start q: sum_k tau_k theta_k^p = q^T A^p q / |q|^2 for p <= 2m - 1."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, n))
    A = (G + G.T) / (2 * np.sqrt(n))
    q = rng.standard_normal(n)
    res = lanczos(A, q, m)
    theta, tau = res.ritz(0)
    assert tau.sum() == pytest.approx(1.0, abs=1e-12)
    u = q / np.linalg.norm(q)
    Apu = u.copy()
    for p in range(1, 2 * int(res.lengths[0])):
        Apu = A @ Apu
        assert (tau * theta**p).sum() == pytest.approx(u @ Apu, abs=1e-10 * 2.0**p)


def test_breakdown_on_an_invariant_subspace():
    """Three distinct eigenvalues: the recurrence stops after 3 steps with the exact eigenvalues as nodes
    and the squared projections of the start vector on the eigenspaces as weights."""
    lam = np.repeat([-1.0, 0.5, 2.0], [10, 20, 30])
    q = np.random.default_rng(0).standard_normal(60)
    res = lanczos(np.diag(lam), q, 20)
    assert res.lengths[0] == 3 and res.n_products == 3
    theta, tau = res.ritz(0)
    assert np.allclose(theta, [-1.0, 0.5, 2.0], atol=1e-12)
    u2 = (q / np.linalg.norm(q)) ** 2
    assert np.allclose(tau, [u2[:10].sum(), u2[10:30].sum(), u2[30:].sum()], atol=1e-12)


def test_full_reorthogonalisation_has_no_ghosts():
    """Well-separated outliers over a bulk: with full re-orthogonalisation each outlier is one node;
    the plain recurrence repeats converged outliers (ghosts) but their weights still add up."""
    lam = np.r_[np.linspace(0, 1, 1990), 5.0 + np.arange(10)]
    A = diags(lam)
    q = np.random.default_rng(1).standard_normal(2000)
    u2 = (q / np.linalg.norm(q)) ** 2
    for reorth in ("full", "none"):
        theta, tau = lanczos(A, q, 150, reorth=reorth).ritz(0)
        for j, lj in enumerate(lam[1990:]):
            near = np.abs(theta - lj) < 1e-6
            assert near.sum() == 1 if reorth == "full" else near.sum() >= 1
            assert tau[near].sum() == pytest.approx(u2[1990 + j], rel=1e-6)
    theta_none, _ = lanczos(A, q, 150, reorth="none").ritz(0)
    assert (np.abs(theta_none - 14.0) < 1e-6).sum() > 1  # the check above can tell the two apart


# ----------------------------------------------------------------------------- extreme eigenvalues
@pytest.mark.parametrize("which", ["LA", "SA", "BE"])
def test_extreme_eigenvalues_match_dense(erf_hessian, away_hessian, which):
    for H, op, eigs in (erf_hessian, away_hessian):
        r = extreme_eigenvalues(op, k=6, which=which, rng=0, return_vectors=True)
        expect = {"LA": eigs[-6:], "SA": eigs[:6], "BE": np.r_[eigs[:3], eigs[-3:]]}[which]
        scale = np.abs(eigs).max()
        assert np.allclose(r.values, expect, atol=1e-8 * scale, rtol=0)
        # Krylov-Weinstein: every Ritz value lies within its residual of a true eigenvalue
        dist = np.abs(r.values[:, None] - eigs[None, :]).min(axis=1)
        assert np.all(dist <= r.residuals + 1e-12 * scale)
        assert np.allclose(H @ r.vectors, r.vectors * r.values, atol=10 * r.residuals.max() + 1e-12)
        assert r.n_products > 6


def test_indefinite_away_from_optimum(away_hessian):
    """The residual part makes the Hessian indefinite; SA finds the negative eigenvalue (a sign bug would not)."""
    _, op, eigs = away_hessian
    assert eigs[0] < -1e-3 * eigs[-1]
    r = extreme_eigenvalues(op, k=1, which="SA", rng=1)
    assert r.values[0] == pytest.approx(eigs[0], rel=1e-8)


def test_trace_routes_agree(erf_hessian):
    H, op, eigs = erf_hessian
    exact = np.trace(H)
    assert op.trace() == pytest.approx(exact, rel=1e-12)
    assert eigs.sum() == pytest.approx(exact, rel=1e-10)
    est = hutchinson_trace(op, n_probes=40, rng=0)
    assert abs(est.value - exact) < 4 * est.stderr
    assert est.stderr < 0.1 * exact  # informative, not vacuous


# ----------------------------------------------------------------------------- SLQ
def test_slq_is_exact_when_lanczos_runs_to_the_end():
    """m = n with full re-orthogonalisation: each probe's rule is the spectral measure mu_z itself.
    Compared with sum_i (z . u_i)^2 delta(lambda_i) from LAPACK's eigenvectors and the same probes."""
    n, seed = 80, 11
    rng = np.random.default_rng(5)
    G = rng.standard_normal((n, n))
    A = (G + G.T) / 2
    lam, U = np.linalg.eigh(A)
    d = slq_density(A, n_probes=3, n_steps=n, rng=seed)
    Z = random_probes(n, 3, np.random.default_rng(seed))
    w = (U.T @ Z) ** 2  # (n, 3)
    xs = np.linspace(lam[0] - 1, lam[-1] + 1, 57)
    exact_cdf = np.array([[w[lam <= x, c].sum() for x in xs] for c in range(3)]).mean(axis=0)
    assert np.allclose(d.cdf(xs), exact_cdf, atol=1e-8)
    for p in (1, 2, 3):
        assert d.moment(p) == pytest.approx(np.mean([(w[:, c] * lam**p).sum() for c in range(3)]), rel=1e-8)


def test_slq_density_of_the_expected_hessian_within_the_bound(erf_hessian, away_hessian):
    """P <= 5000: the SLQ measure is within the documented W1 bound of LAPACK's eigenvalues, and its
    moments are unbiased (within 4 standard errors of tr H^p / P)."""
    for H, op, eigs in (erf_hessian, away_hessian):
        d = slq_density(op, n_probes=8, n_steps=40, rng=2)
        w1 = d.wasserstein(eigs)
        assert w1 <= d.error_bound()
        assert w1 <= spectral_wasserstein(eigs, 2 * eigs)  # closer than a factor-2 error
        per = (d.weights * d.nodes).sum(axis=1)
        assert abs(per.mean() - eigs.mean()) < 4 * per.std(ddof=1) / math.sqrt(per.size) + 1e-12
        per2 = (d.weights * d.nodes**2).sum(axis=1)
        assert abs(per2.mean() - (eigs**2).mean()) < 4 * per2.std(ddof=1) / math.sqrt(per2.size) + 1e-12
        tr = d.trace()
        assert abs(tr.value - eigs.sum()) < 4 * tr.stderr + 1e-9
        assert d.support[1] == pytest.approx(eigs[-1], rel=1e-6)  # the top Ritz value converges
        assert d.n_products == 8 * 40


@given(n_bulk=st.integers(50, 400), n_out=st.integers(0, 5), shape=st.sampled_from(["uniform", "mp", "spike0"]),
       m=st.integers(8, 30), n_probes=st.integers(1, 6), reorth=st.sampled_from(["full", "none"]),
       seed=st.integers(0, 2**31))
def test_slq_within_the_a_priori_bound_for_all_spectra(n_bulk, n_out, shape, m, n_probes, reorth, seed):
    """For all spectra (bulk + outliers, a mass at zero), steps, probes and re-orthogonalisation modes:
    W1(SLQ, eigenvalues) <= the documented bound t (lambda_max - lambda_min)."""
    rng = np.random.default_rng(seed)
    if shape == "uniform":
        bulk = rng.uniform(0, 1, n_bulk)
    elif shape == "mp":
        X = rng.standard_normal((n_bulk, 2 * n_bulk))
        bulk = np.linalg.eigvalsh(X @ X.T / (2 * n_bulk))
    else:  # most eigenvalues exactly 0, as for a Hessian at the optimum
        bulk = np.where(rng.random(n_bulk) < 0.7, 0.0, rng.uniform(0, 1, n_bulk))
    lam = np.r_[bulk, 3.0 + 5 * rng.random(n_out)]
    d = slq_density(diags(lam), n_probes=n_probes, n_steps=m, reorth=reorth, rng=seed)
    bound = slq_error_bound(lam.size, d.n_steps, n_probes) * (lam.max() - lam.min())
    assert d.wasserstein(lam) <= bound
    assert np.allclose(d.weights.sum(axis=1), 1.0)


@given(t=st.floats(0.02, 0.9), n=st.integers(10, 10**7), eta=st.floats(0.001, 0.5))
def test_error_bound_inverts_the_theorem(t, n, eta):
    """m = ceil(12/t + 1/2) steps and n_v = ceil(4 ln(2n/eta) / ((n+2) t^2)) probes give accuracy <= t."""
    m = math.ceil(12 / t + 0.5)
    nv = max(1, math.ceil(4 * math.log(2 * n / eta) / ((n + 2) * t * t)))
    assert slq_error_bound(n, m, nv, eta) <= t * (1 + 1e-12)
    assert slq_error_bound(n, m - 1, nv, eta) > t or m == 1


def test_default_probes():
    vals = [default_probes(n) for n in (1, 100, 6250, 6251, 10**4, 5 * 10**4, 10**6)]
    assert vals == [16, 16, 16, 16, 10, 2, 2]
    assert all(n * default_probes(n) >= 10**5 for n in range(6250, 50_001, 997))
    d = slq_density(np.diag(np.arange(1.0, 31.0)), n_steps=5, rng=0)
    assert d.n_probes == 16


def test_pdf_is_a_density():
    lam = np.r_[np.linspace(0, 1, 500)]
    d = slq_density(diags(lam), n_probes=4, n_steps=30, rng=0)
    x = np.linspace(-1, 2, 3001)
    assert np.trapezoid(d.pdf(x), x) == pytest.approx(1.0, abs=1e-3)
    assert d.counts([-1, 0.5, 2]).sum() == pytest.approx(500)
    assert np.all(d.cdf_stderr(np.array([0.25, 0.5])) > 0)


def test_bad_input():
    A = np.eye(5)
    with pytest.raises(ValueError, match="square"):
        slq_density(np.ones((3, 4)))
    with pytest.raises(TypeError, match="LinearOperator"):
        slq_density("matrix")
    with pytest.raises(ValueError, match="n_probes"):
        slq_density(A, n_probes=0)
    with pytest.raises(ValueError, match="reorth"):
        slq_density(A, reorth="partial")
    with pytest.raises(ValueError, match="n_steps"):
        slq_density(A, n_steps=0)
    with pytest.raises(ValueError, match="probe kind"):
        slq_density(A, probes="gaussian")
    with pytest.raises(ValueError, match="k=5"):
        extreme_eigenvalues(A, k=5)
    with pytest.raises(ValueError, match="which"):
        extreme_eigenvalues(A, k=2, which="LM")
    with pytest.raises(ValueError, match="nonzero"):
        lanczos(A, np.zeros(5), 3)
    with pytest.raises(ValueError, match="shape"):
        lanczos(A, np.ones(4), 3)
    with pytest.raises(ValueError, match="GiB"):
        lanczos(np.eye(1000), np.ones(1000), 50, max_bytes=1000)
    with pytest.raises(ValueError, match=">= 2"):
        hutchinson_trace(A, n_probes=1)
    with pytest.raises(ValueError, match="sigma"):
        slq_density(A, n_steps=3, rng=0).pdf([0.0], sigma=0)
    with pytest.raises(ValueError):
        slq_error_bound(10, 5, 2, eta=1.5)
