"""The numeric Pennington–Bahri law (issue 5, items 1, 2 and 4): density, CDF, index, atoms.

Independent routes: the moment–free-cumulant formula typed in by hand; closed-form
Marchenko–Pastur densities; subordination with quadrature-based Stieltjes transforms
(tests/free_reference.py, no polynomial and no root selection); scipy quadrature of the
density for alpha; the `freealg` package's free Levy law; sampled Wishart + GOE matrices
(Wishart + compound free Poisson for ReLU).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

import symhess
from free_reference import free_poisson_stieltjes, reflect, semicircle_stieltjes, subordinate
from symhess.free_probability.law import FreeSumLaw

ACTS = ["linear", "relu"]


def _cumulants(act, phi, eps, scale):
    # typed in: MP kappa_k = s^k phi^(k-1); semicircle kappa_2 = 2 eps; ReLU H1 (slides' R):
    # kappa_2 = phi eps / 2, kappa_4 = phi^3 eps^2 / 4
    k = [scale**n * phi ** (n - 1) for n in range(1, 5)]
    if act == "linear":
        k[1] += 2 * eps
    else:
        k[1] += phi * eps / 2
        k[3] += phi**3 * eps**2 / 4
    return k


def _moments(k):
    k1, k2, k3, k4 = k
    return [1.0, k1, k2 + k1**2, k3 + 3 * k1 * k2 + k1**3,
            k4 + 4 * k1 * k3 + 2 * k2**2 + 6 * k1**2 * k2 + k1**4]


def _ks(law, eigs):
    """sup |F_emp - F| over both one-sided limits at each distinct eigenvalue (ties at an atom
    are compared as one jump, not one eigenvalue at a time)."""
    eigs = np.sort(eigs)
    n = eigs.size
    u = np.unique(eigs)
    right = np.searchsorted(eigs, u, side="right") / n
    left = np.searchsorted(eigs, u, side="left") / n
    F = law.cdf(u)
    F_left = F - np.array([sum(m for x, m in law.atoms if x == ui) for ui in u])
    return max(np.max(np.abs(right - F)), np.max(np.abs(left - F_left)))


# -- normalisation, moments, sanity for all parameters ---------------------------------------------
@given(act=st.sampled_from(ACTS), phi=st.floats(0.05, 4.0), eps=st.one_of(st.just(0.0), st.floats(1e-3, 3.0)),
       scale=st.floats(0.25, 4.0))
def test_law_is_normalised_with_the_free_sum_moments(act, phi, eps, scale):
    with warnings.catch_warnings():
        warnings.simplefilter("error", symhess.SymhessAccuracyWarning)
        law = symhess.pennington_bahri(phi, eps, activation=act, scale=scale)
        expected = _moments(_cumulants(act, phi, eps, scale))
        for n in range(5):
            tol = 1e-9 * max(abs(expected[n]), expected[2] ** (n / 2))
            assert law.moment(n) == pytest.approx(expected[n], abs=tol)
        assert law.mean() == pytest.approx(scale, rel=1e-10)
        assert law.var() == pytest.approx(expected[2] - expected[1] ** 2, rel=1e-9)
    x = np.concatenate([np.linspace(law.support[0][0] - 1, law.support[-1][1] + 1, 401), [-np.inf, np.inf]])
    rho = law.pdf(x)
    assert np.all(np.isfinite(rho)) and np.all(rho >= 0) and rho[-1] == rho[-2] == 0
    F = law.cdf(np.sort(x))
    assert np.all(np.diff(F) >= -1e-15) and F[0] == 0 and F[-1] == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=10)  # two laws with CDF tables per example; the moments test covers scale too
@given(act=st.sampled_from(ACTS), phi=st.floats(0.1, 3.0), eps=st.floats(1e-3, 1.0), s=st.floats(0.3, 3.0))
def test_scale_covariance(act, phi, eps, s):
    # H -> s H: R_{sH}(w) = s R_H(s w) maps (scale 1, eps) to (scale s, s^2 eps)
    base = symhess.pennington_bahri(phi, eps, activation=act)
    scaled = symhess.pennington_bahri(phi, s**2 * eps, activation=act, scale=s)
    x = np.linspace(base.support[0][0], base.support[-1][1], 52)[1:-1]
    np.testing.assert_allclose(scaled.pdf(s * x) * s, base.pdf(x), atol=1e-9 * base.pdf(x).max())
    assert scaled.index() == pytest.approx(base.index(), abs=1e-12)


def test_pure_wishart_is_marchenko_pastur():
    for phi in (0.3, 1.0, 2.5):
        law = symhess.pennington_bahri(phi, 0.0)
        lo, hi = (1 - math.sqrt(phi)) ** 2, (1 + math.sqrt(phi)) ** 2
        x = np.linspace(lo, hi, 203)[1:-1]
        exact = np.sqrt((x - lo) * (hi - x)) / (2 * np.pi * x * phi)
        np.testing.assert_allclose(law.pdf(x), exact, rtol=1e-10)
        assert law.support[0] == pytest.approx((lo, hi), abs=1e-12)
        assert law.atoms == (((0.0, 1 - 1 / phi),) if phi > 1 else ())
        assert law.index() == 0.0 and law.pdf(0.5 * lo) == 0.0


def test_pdf_matches_the_direct_cubic_on_a_fine_grid():
    # the cubic has one real and two complex roots inside the support: rho = |Im|/pi of the pair
    phi, eps = 0.5, 0.1
    law = symhess.pennington_bahri(phi, eps)
    x = np.linspace(-1, 4, 1001)
    direct = []
    for xx in x:
        roots = np.roots([2 * eps * phi, -(2 * eps + xx * phi), xx + phi - 1, -1])
        direct.append(max(0.0, -roots.imag.min() / np.pi))
    np.testing.assert_allclose(law.pdf(x), direct, atol=1e-12)


# -- no branch jumps: independent Stieltjes transform on lines near the axis -------------------
@pytest.mark.parametrize("act,phi,eps", [("linear", 0.5, 0.1), ("linear", 2.0, 0.1), ("relu", 1.5, 0.3)])
def test_stieltjes_agrees_with_subordination(act, phi, eps):
    law = symhess.pennington_bahri(phi, eps, activation=act)
    z = np.linspace(law.support[0][0] - 0.3, law.support[-1][1] + 0.3, 30) + 0.05j
    mp = lambda w: free_poisson_stieltjes(w, 1 / phi, phi)  # noqa: E731  R = 1/(1 - phi w)
    if act == "linear":
        g = subordinate(mp, lambda w: semicircle_stieltjes(w, 2 * eps), z)
    else:
        # the slides' R_H1 = eps phi w/(2 - eps phi^2 w^2) = two free Poissons with jumps +-a
        a = phi * math.sqrt(eps / 2)
        jump = lambda w: free_poisson_stieltjes(w, 1 / (2 * phi), a)  # noqa: E731
        g = subordinate(mp, lambda w: subordinate(jump, reflect(jump), w), z)
    np.testing.assert_allclose(law.stieltjes(z), g, atol=1e-10)
    assert np.all(law.stieltjes(z).imag < 0)
    np.testing.assert_allclose(law.stieltjes(np.conj(z)), np.conj(g), atol=1e-10)


def test_density_is_continuous_on_a_dense_grid():
    # a branch jump is a discontinuity: refining the grid 4x leaves the largest step between
    # neighbours unchanged, while away from the edges (where rho is smooth) it shrinks 4x
    for act, phi, eps in [("linear", 0.25, 0.05), ("linear", 2.0, 0.02), ("relu", 3.0, 0.1), ("relu", 0.5, 0.1)]:
        law = symhess.pennington_bahri(phi, eps, activation=act)
        ends = np.array([e for iv in law.support for e in iv])
        steps = []
        for n in (5001, 20001):
            x = np.linspace(law.support[0][0] - 0.1, law.support[-1][1] + 0.1, n)
            far = np.min(np.abs(x[:, None] - ends), axis=1) > 0.01
            d = np.abs(np.diff(law.pdf(x)))
            steps.append(np.max(d[far[:-1] & far[1:]]))
        assert steps[0] / steps[1] > 3.5, (act, phi, eps, steps)


# -- atoms -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("act,phi,eps,mass", [("linear", 2.0, 0.0, 0.5), ("relu", 3.0, 0.1, 1 - 2 / 3),
                                              ("relu", 4.0, 0.0, 0.75), ("relu", 1.5, 0.2, 0.0),
                                              ("linear", 3.0, 0.1, 0.0)])
def test_atom_at_zero(act, phi, eps, mass):
    law = symhess.pennington_bahri(phi, eps, activation=act)
    # Bercovici-Voiculescu: (mu [+] nu)({0}) = max(0, mu({0}) + nu({0}) - 1); MP and the ReLU H1
    # each have (1 - 1/phi)_+ at 0; the semicircle none; eps = 0 means H1 = delta_0
    got = sum(m for x, m in law.atoms if x == 0.0)
    assert got == pytest.approx(mass, abs=1e-12)
    # numeric residue: -eta Im G(i eta) -> mass
    eta = 1e-9
    residue = -eta * law.stieltjes(1j * eta).imag
    assert residue == pytest.approx(mass, abs=1e-6)


# -- index -------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ACTS)
def test_index_vanishes_exactly_below_eps_c(act):
    for phi in (0.25, 0.5, 0.75):
        ec = symhess.critical_energy(phi, act)
        assert symhess.pennington_bahri(phi, ec * (1 - 1e-4), activation=act).index() == 0.0
        above = symhess.pennington_bahri(phi, ec * (1 + 1e-2), activation=act)
        assert above.index() > 0 and above.support[0][0] < 0


def test_index_positive_for_any_energy_when_phi_at_least_one():
    for phi in (1.0, 1.5):
        assert symhess.pennington_bahri(phi, 1e-4).index() > 0
    assert symhess.critical_energy(1.5) == 0.0


def _negative_mass_by_quad(law):
    """alpha = int_{-inf}^0 rho by scipy's adaptive quadrature, after substitutions that remove
    the square-root edges: x = l + u^2 at a left edge, x = l + (r - l) sin^2(t/2) on an interval
    with both edges below 0 (no Chebyshev series, no Fejer rule)."""
    total = 0.0
    for l, r in law.support:
        if l >= 0:
            continue
        if r <= 0:
            f = lambda t: float(law.pdf(l + (r - l) * np.sin(t / 2) ** 2)) * (r - l) / 2 * np.sin(t)  # noqa: E731
            total += integrate.quad(f, 0, np.pi, epsabs=1e-14, epsrel=1e-11, limit=200)[0]
        else:
            f = lambda u: 2 * u * float(law.pdf(l + u * u))  # noqa: E731
            total += integrate.quad(f, 0, np.sqrt(-l), epsabs=1e-14, epsrel=1e-11, limit=200)[0]
    return total + sum(m for x, m in law.atoms if x < 0)


@pytest.mark.parametrize("act,phi,eps", [("linear", 0.5, 0.1), ("linear", 1.5, 0.05), ("relu", 0.5, 0.2),
                                         ("relu", 3.0, 0.1)])
def test_index_by_direct_quadrature(act, phi, eps):
    law = symhess.pennington_bahri(phi, eps, activation=act)
    direct = _negative_mass_by_quad(law)
    assert direct > 0.02
    assert law.index() == pytest.approx(direct, rel=1e-9)
    assert float(law.cdf(-1e-300)) == pytest.approx(direct, rel=1e-9)


@pytest.mark.parametrize("act", ACTS)
def test_three_halves_law(act):
    # alpha = alpha_0 |(eps - eps_c)/eps_c|^(3/2) (1 + O(delta)); alpha_0 derived symbolically
    phi = 0.5
    ec, a0 = symhess.critical_energy(phi, act), symhess.index_prefactor(phi, act)
    ratios = []
    for delta in (1e-2, 1e-3):
        alpha = symhess.pennington_bahri(phi, ec * (1 + delta), activation=act).index()
        ratios.append(alpha / (a0 * delta**1.5))
    assert ratios[1] == pytest.approx(1.0, abs=2e-3)
    # the correction is linear in delta: 10x smaller delta, 10x smaller deviation
    assert abs(ratios[0] - 1) / abs(ratios[1] - 1) == pytest.approx(10, rel=0.05)


# -- sampled matrices ------------------------------------------------------------------------------
def _sample(n, phi, eps, rng, act="linear", scale=1.0):
    p = int(round(n / phi))
    J = rng.standard_normal((n, p)) * math.sqrt(scale / p)  # H0 = J J^T: MP(phi, scale)
    if act == "linear":
        A = rng.standard_normal((n, n)) * math.sqrt(eps / n)
        H1 = A + A.T  # GOE, semicircle of variance 2 eps
    else:
        # a compound free Poisson with rate 1/phi and jumps +-a has the slides' R_H1
        a, m = phi * math.sqrt(eps / 2), int(round(n / phi))
        X = rng.standard_normal((n, m))
        H1 = (X * np.where(np.arange(m) % 2 == 0, a, -a)) @ X.T / n
    return np.linalg.eigvalsh(J @ J.T + H1)


# KS bound for N = 2000: the observed distance is ~0.002 (eigenvalues are rigid); doubling eps
# gives >= 0.03, so 0.01 catches a factor-2 error in any parameter
KS_BOUND = 0.01


def test_wishart_plus_goe_sample_matches_density_and_index():
    rng = np.random.default_rng(5)
    phi, eps = 2.0, 0.1  # phi > 1 keeps the Wishart factor J (2000 x 1000) cheap
    eigs = _sample(2000, phi, eps, rng)
    law = symhess.pennington_bahri(phi, eps)
    assert _ks(law, eigs) < KS_BOUND
    assert _ks(symhess.pennington_bahri(phi, 2 * eps), eigs) > 3 * KS_BOUND  # the test can fail
    assert np.mean(eigs < 0) == pytest.approx(law.index(), abs=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("act,phi,eps", [("linear", 0.25, 0.05), ("linear", 0.75, 0.02), ("linear", 2.0, 0.1),
                                         ("relu", 0.5, 0.1), ("relu", 0.5, 0.3), ("relu", 1.5, 0.3),
                                         ("relu", 3.0, 0.1)])
def test_sampled_matrices_slow(act, phi, eps):
    rng = np.random.default_rng(11)
    eigs = _sample(4000, phi, eps, rng, act)
    law = symhess.pennington_bahri(phi, eps, activation=act)
    zero = sum(m for x, m in law.atoms if x == 0.0)
    tol = 1e-8 * np.abs(eigs).max()
    eigs = np.where(np.abs(eigs) < tol, 0.0, eigs)  # rounding of an atom at 0
    assert _ks(law, eigs) < KS_BOUND / 2
    assert np.mean(eigs == 0.0) == pytest.approx(zero, abs=2e-3)
    assert np.mean(eigs < 0) == pytest.approx(law.index(), abs=0.005)


# -- freealg (second implementation of the linear model) ---------------------------------------
@pytest.mark.parametrize("phi,eps", [(0.5, 0.1), (0.25, 0.05), (2.0, 0.1)])
def test_freealg_free_levy_stieltjes(phi, eps):
    import freealg.distributions as fa  # a declared test dependency: fail, never skip, if missing

    # free Levy law: R(w) = sigma^2 w + lam * t/(1 - t w): MP(phi) has lam = 1/phi, t = phi;
    # freealg's m(z) = int rho/(t - z) = -G(z). Its *vectorised* stieltjes warm-starts Newton
    # along the line and flips branch near the left edge for some grids (freealg 0.12.2), so
    # it is called point by point, where it selects the Herglotz root itself.
    ref = fa.FreeLevy(t=[phi], w=[1.0], lam=1 / phi, a=0.0, sigma=math.sqrt(2 * eps))
    law = symhess.pennington_bahri(phi, eps)
    x = np.linspace(law.support[0][0] - 0.2, law.support[-1][1] + 0.2, 100)
    for eta in (1e-2, 1e-6):
        z = x + 1j * eta
        m = np.array([ref.stieltjes(complex(zz)) for zz in z])
        np.testing.assert_allclose(law.stieltjes(z), -m, atol=1e-10)
    # the density at the real axis: freealg's Plemelj value at eta = 1e-9 point by point
    rho_fa = np.array([ref.stieltjes(complex(xx + 1e-9j)).imag / np.pi for xx in x])
    np.testing.assert_allclose(law.pdf(x), rho_fa, atol=1e-6)


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,exc,match", [
    ({"phi": 0.0, "eps": 0.1}, ValueError, "phi"), ({"phi": -1.0, "eps": 0.1}, ValueError, "phi"),
    ({"phi": 0.5, "eps": -0.1}, ValueError, "eps"), ({"phi": float("nan"), "eps": 0.1}, ValueError, "phi"),
    ({"phi": 0.5, "eps": float("inf")}, ValueError, "eps"), ({"phi": True, "eps": 0.1}, TypeError, "phi"),
    ({"phi": "0.5", "eps": 0.1}, TypeError, "phi"), ({"phi": 0.5, "eps": 0.1, "scale": 0}, ValueError, "scale"),
    ({"phi": 0.5, "eps": 0.1, "activation": "tanh"}, ValueError, "relu"),
])
def test_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        symhess.pennington_bahri(**kwargs)


def test_bad_evaluation_points():
    law = symhess.pennington_bahri(0.5, 0.1)
    with pytest.raises(ValueError, match="NaN"):
        law.pdf([0.0, float("nan")])
    with pytest.raises(ValueError, match="NaN"):
        law.cdf(float("nan"))
    with pytest.raises(ValueError, match="moment"):
        law.moment(-1)
    assert law.pdf(np.inf) == 0 and law.cdf(-np.inf) == 0 and law.cdf(np.inf) == 1


def test_freesumlaw_rejects_non_laws():
    with pytest.raises(ValueError, match="degree"):
        FreeSumLaw([1.0, 0.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        FreeSumLaw([1.0, np.nan], [0.0, 1.0])
