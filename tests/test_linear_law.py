"""The linear chi^2 (*) MP law (eq. 15, item 1) and the structure of nonlinear spectra (Figs. 4-5, item 2).

Independent routes: an mpmath re-implementation of eq. (15) from formulas.md §A8 (adaptive
quadrature, 30 digits; tests/test_export_roundtrip.py also compares with issue 7's SymPy export), QUADPACK integration of the pdf, exact chi^2/Narayana moments, and
sampled teachers whose expected Hessians (issue 1) are diagonalised, compared by the
Kolmogorov-Smirnov statistic with a stated bound.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import integrate

import symhess
from symhess.two_layer.linear_law import ks_critical_value, ks_distance
from symhess.two_layer.teacher_spectra import (
    lower_bulk_bound, lower_bulk_mean, outer_bulk_count, outlier_ratio, quadratic_outlier_bound, teacher_spectra,
)

ALPHA = 1e-3  # KS significance level of every goodness-of-fit check
FINITE_SIZE_C = 0.25  # finite-size allowance FINITE_SIZE_C / min(Ni, Nh), see _ks_bound


def _mp_reference(ni, nh, var_w, var_v, lam):
    """Eq. (15) written out again with mpmath (formulas.md §A8), 30 digits."""
    mpmath.mp.dps = 30
    k = mpmath.mpf(nh) / 2

    def p_chi(s):
        if s <= 0:
            return mpmath.mpf(0)
        return s ** (k - 1) * mpmath.exp(-s / (2 * var_v)) / (mpmath.gamma(k) * (2 * var_v) ** k)

    lo = var_w * (mpmath.sqrt(nh) - mpmath.sqrt(ni)) ** 2
    hi = var_w * (mpmath.sqrt(nh) + mpmath.sqrt(ni)) ** 2

    def p_mp(mu):
        if mu <= lo or mu >= hi:
            return mpmath.mpf(0)
        return mpmath.sqrt((hi - mu) * (mu - lo)) / (2 * mpmath.pi * var_w * ni * mu)

    lam = mpmath.mpf(lam)
    pts = sorted({lo, min(max(lam, lo), hi), hi})
    conv = mpmath.quad(lambda mu: p_mp(mu) * p_chi(lam - mu), pts) if lam > lo else mpmath.mpf(0)
    return float(max(0.0, 1 - nh / ni) * p_chi(lam) + conv)


@pytest.mark.parametrize("ni,nh,var_w,var_v", [
    (10, 20, None, None), (30, 10, None, None), (7, 7, None, None), (5, 1, None, None),
    (12, 40, 0.3, 2.0), (40, 12, 0.05, 0.5),
])
def test_pdf_matches_an_independent_mpmath_evaluation(ni, nh, var_w, var_v):
    law = symhess.linear_spectrum_law(ni, nh, var_w, var_v)
    vw, vv = law.var_w, law.var_v
    xs = np.quantile(law.rvs(4000, rng=0), [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    got = law.pdf(xs)
    ref = np.array([_mp_reference(ni, nh, vw, vv, x) for x in xs])
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("ni,nh", [(10, 20), (30, 10), (6, 6), (4, 1)])
def test_cdf_is_the_integral_of_the_pdf_and_moments_are_exact(ni, nh):
    """QUADPACK integral of pdf = cdf; Simpson moments of pdf = exact chi^2/Narayana moments (Nh >= 3:
    smaller Nh makes the atom's chi^2_Nh density singular at 0, which Simpson cannot integrate)."""
    law = symhess.linear_spectrum_law(ni, nh)
    lo, hi = law.mp_edges
    for x in (0.5 * law.mean(), law.mean(), law.mean() + 2 * law.std()):
        val, _ = integrate.quad(law.pdf, 0, x, points=[lo, hi] if hi < x else [lo], limit=400)
        assert abs(val - float(law.cdf(x))) < 1e-8
    top = law.mean() + 40 * law.std()
    grid = np.concatenate([np.linspace(0, lo, 50, endpoint=False), np.linspace(lo, top, 20001)])
    dens = law.pdf(grid)
    for n in (0, 1, 2, 3) if nh >= 3 else ():
        num = integrate.simpson(dens * grid**n, x=grid)
        assert abs(num - law.moment(n)) < 2e-3 * law.moment(n), (n, num, law.moment(n))
    assert abs(float(law.cdf(top)) - 1) < 1e-12 and abs(float(law.sf(law.mean())) + float(law.cdf(law.mean())) - 1) < 1e-12


@given(seed=st.integers(0, 2**32 - 1), ni=st.integers(1, 40), nh=st.integers(1, 40),
       var_w=st.floats(0.01, 10), var_v=st.floats(0.01, 10))
def test_for_all_sizes_and_variances_the_mean_is_exact(seed, ni, nh, var_w, var_v):
    """E[lambda] = Nh (var_v + var_w) (exact also for finite teachers: tr(sI + W^T W)/Ni), and ppf inverts cdf."""
    law = symhess.linear_spectrum_law(ni, nh, var_w, var_v)
    assert abs(law.mean() - nh * (var_v + var_w)) <= 1e-12 * law.mean()
    q = np.random.default_rng(seed).uniform(0.01, 0.99, size=3)
    np.testing.assert_allclose(law.cdf(law.ppf(q)), q, atol=1e-9)
    assert law.cdf(-1.0) == 0.0 and np.all(np.diff(law.cdf(np.linspace(0, 3 * law.mean(), 50))) >= -1e-14)


@pytest.mark.parametrize("ni,nh,var_w,var_v", [(10, 20, None, None), (30, 10, None, None), (5, 5, 0.4, 3.0)])
def test_rvs_draws_from_the_law(ni, nh, var_w, var_v):
    """rvs is an exact sampler: KS at the exact critical value, no allowance."""
    law = symhess.linear_spectrum_law(ni, nh, var_w, var_v)
    n = 4000
    assert ks_distance(law.rvs(n, rng=1), law.cdf) < ks_critical_value(n, ALPHA)


# -- sampled teachers ------------------------------------------------------------------------------------


def test_hessian_nonzero_spectrum_is_shift_plus_wishart_and_the_chi2_atom_is_exact():
    """§A4 on the assembled Hessian: rank Ni, nonzero eigenvalues = spec(|v|^2 I + W^T W); Nh < Ni gives
    Ni - Nh eigenvalues exactly |v|^2 (the exact chi^2 component)."""
    rng = np.random.default_rng(0)
    for ni, nh in ((10, 20), (30, 10), (6, 6)):
        for _ in range(1):
            W, v = symhess.teacher(ni, nh, rng)
            eig = np.linalg.eigvalsh(symhess.expected_hessian("linear", W, v))
            s = v @ v
            ref = np.linalg.eigvalsh(s * np.eye(ni) + W.T @ W)
            np.testing.assert_allclose(eig[-ni:], ref, rtol=1e-12, atol=1e-12)
            assert np.abs(eig[:-ni]).max() < 1e-12
            if nh < ni:
                np.testing.assert_allclose(eig[-ni:][: ni - nh], s, rtol=1e-12)


def _ks_bound(n, ni, nh):
    r"""KS acceptance bound: exact one-sample critical value at level ALPHA plus a finite-size allowance.

    The chi^2 shift and the atom are exact at every size, but the MP part is the N -> infinity law: the
    mean spectral distribution of a finite Wishart matrix differs from it by O(1/N) in Kolmogorov
    distance (Goetze & Tikhomirov). Measured with 2e5 eigenvalues: 0.014 at (10, 20), 0.010 at
    (30, 10), 0.002 at (100, 200); the allowance 0.25 / min(Ni, Nh) covers these by a factor >= 1.25.
    """
    return ks_critical_value(n, ALPHA) + FINITE_SIZE_C / min(ni, nh)


def _one_eigenvalue_per_teacher(ni, nh, n, rng, var_w=None, var_v=None):
    """i.i.d. draws from the finite-size mean spectral law: one uniformly chosen eigenvalue per teacher."""
    out = np.empty(n)
    for t in range(n):
        W, v = symhess.teacher(ni, nh, rng, var_w=var_w, var_v=var_v)
        # nonzero Hessian spectrum = |v|^2 + spec(W^T W) (test above); W^T W shares the nonzero
        # eigenvalues of the smaller W W^T and has Ni - Nh zeros when Nh < Ni
        k = rng.integers(ni)
        gram = W @ W.T if nh < ni else W.T @ W
        out[t] = v @ v + (np.linalg.eigvalsh(gram)[k] if k < gram.shape[0] else 0.0)
    return out


@pytest.mark.parametrize("ni,nh,var_w,var_v", [
    (10, 20, None, None), (30, 10, None, None), (60, 120, None, None), (120, 40, None, None),
    (20, 8, 0.3, 0.05),
])
def test_sampled_teachers_follow_the_law(ni, nh, var_w, var_v):
    rng = np.random.default_rng(ni * 1000 + nh)
    n = 1500
    sample = _one_eigenvalue_per_teacher(ni, nh, n, rng, var_w, var_v)
    law = symhess.linear_spectrum_law(ni, nh, var_w, var_v)
    bound = _ks_bound(n, ni, nh)
    assert ks_distance(sample, law.cdf) < bound
    # the bound has power: a doubled variance of either layer, or a dropped chi^2 atom, is rejected
    vw, vv = law.var_w, law.var_v
    assert ks_distance(sample, symhess.linear_spectrum_law(ni, nh, 2 * vw, vv).cdf) > bound
    assert ks_distance(sample, symhess.linear_spectrum_law(ni, nh, vw, 2 * vv).cdf) > bound
    if nh < ni:
        no_atom = symhess.linear_spectrum_law(ni, nh, vw, vv)
        mp_only = lambda x: no_atom._convolve(np.asarray(x, float), "cdf") / (nh / ni)  # noqa: E731
        assert ks_distance(sample, mp_only) > bound


@pytest.mark.slow
@pytest.mark.parametrize("ni,nh", [(100, 200), (300, 100)])
def test_sampled_teachers_follow_the_law_large(ni, nh):
    rng = np.random.default_rng(ni + nh)
    n = 4000
    sample = _one_eigenvalue_per_teacher(ni, nh, n, rng)
    assert ks_distance(sample, symhess.linear_spectrum_law(ni, nh).cdf) < _ks_bound(n, ni, nh)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="n_in=0"):
        symhess.linear_spectrum_law(0, 3)
    with pytest.raises(TypeError, match="n_hidden"):
        symhess.linear_spectrum_law(3, 2.5)
    with pytest.raises(ValueError, match="var_w"):
        symhess.linear_spectrum_law(3, 3, var_w=-1)
    with pytest.raises(ValueError, match="var_v"):
        symhess.linear_spectrum_law(3, 3, var_v=float("nan"))
    law = symhess.linear_spectrum_law(3, 3)
    with pytest.raises(ValueError, match="probabilities"):
        law.ppf(1.5)
    with pytest.raises(ValueError, match="moment order"):
        law.moment(-1)


# -- nonlinear spectra: the structural claims of Figs. 4 and 5 ---------------------------------------------


def test_quadratic_spectrum_has_one_growing_outlier_and_a_bulk_going_to_zero():
    sizes, rng = (8, 16, 24), np.random.default_rng(4)
    tops, ratios, medians = [], [], []
    for N in sizes:
        spec = teacher_spectra("quadratic", N, N, max(2, 32 // N), rng)
        tops.append(spec[:, -1].mean())
        ratios.append(np.mean([outlier_ratio(e) for e in spec]))
        medians.append(np.median(spec, axis=1).mean())
        assert all(outlier_ratio(e) > 1.8 for e in spec)
    W, v = symhess.teacher(16, 16, rng)
    top = np.linalg.eigvalsh(symhess.expected_hessian("quadratic", W, v))[-1]
    assert top >= quadratic_outlier_bound(W, v) > 0.5 * 16  # certified: lambda_max >= (tr Q)^2 / Nh ~ N
    assert tops[-1] > tops[0] and np.all(np.diff(ratios) > 0)
    assert np.all(np.diff(medians) < 0) and medians[-1] < 0.3 * medians[0]


def test_erf_spectrum_has_nh_outer_eigenvalues_and_a_lower_bulk_going_to_zero():
    sizes, rng = (8, 16, 24), np.random.default_rng(5)
    for N in sizes:
        for _ in range(max(2, 32 // N)):
            W, v = symhess.teacher(N, N, rng)
            H = symhess.expected_hessian("erf", W, v)
            e = np.linalg.eigvalsh(H)
            assert outer_bulk_count(e) == N and e[0] > 0  # Nh outer eigenvalues; full rank (S2)
            bound = lower_bulk_bound(H, N, N)
            assert lower_bulk_mean(e, N) <= bound * (1 + 1e-12)  # Ky Fan
            # sigma = erf(z): diag of H_WW = v_i^2 E[sigma'(h)^2 x_k^2] <= (4/pi) v_i^2, so the lower-bulk
            # mean is <= (4/pi)|v|^2 / Nh = O(1/N) -> 0, and the bound is not vacuous (>= 1/5 of that)
            assert 0.2 * 4 / np.pi * (v @ v) / N <= bound <= 4 / np.pi * (v @ v) / N


# -- CLI ------------------------------------------------------------------------------------------------


def test_cli_spectrum_reports_the_law_and_writes_figures(tmp_path):
    from click.testing import CliRunner

    from symhess.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["spectrum", "-a", "linear", "--n-in", "6", "--n-hidden", "4", "--teachers", "60",
                               "--plot", str(tmp_path / "lin.png")])
    assert out.exit_code == 0, out.output
    assert "numerical rank (tolerance" in out.output and "6..6 of 28" in out.output  # rank Ni
    d, bound = (float(x) for x in out.output.split("KS distance ")[1].split(" (")[0:1]
                + [out.output.split("accept below ")[1].split(":")[0]])
    assert d < bound and (tmp_path / "lin.png").stat().st_size > 1000
    out = runner.invoke(main, ["spectrum", "-a", "erf", "--n-in", "3", "--n-hidden", "3", "--teachers", "2",
                               "--plot", str(tmp_path / "erf.pdf")])
    assert out.exit_code == 0 and "12..12 of 12" in out.output and (tmp_path / "erf.pdf").exists()
    bad = runner.invoke(main, ["spectrum", "--plot", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2 and ".png, .pdf or .svg" in bad.output
    bad = runner.invoke(main, ["spectrum", "-a", "softplux"])
    assert bad.exit_code == 2 and "softplux" in bad.output
