"""The quadrature route (tanh) at every weight scale: values, error estimates and structural checks.

Independent routes: 30-digit references (tests/arb_reference.py: nested graded Gauss-Legendre in arb
ball arithmetic, no saturation split, no trapezoidal rule), mpmath 30-digit one-dimensional quadrature for
the Hessian's diagonal (x_j split into its part along w and the independent rest, so no Stein form and
no pair kernel), mpmath's numerical differentiation for the tanh derivatives, and Monte Carlo with a
stated standard error for the loss.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from arb_reference import pair_ref, tanh_d
from hypothesis import given, settings, strategies as st

import symhess
from symhess.activations import activation
from symhess.errors import QuadratureWarning, SymhessAccuracyError, SymhessError
from symhess.linalg.psd import check_psd
from symhess.kernels.quadrature import gaussian_pair_quadrature, gaussian_single_quadrature

TANH = activation("tanh")
#: every pair kernel (a, b) and single kernel (a, b, m) the Hessian, the loss and the gradient use
PAIR_KEYS = [(1, 1), (3, 1), (1, 3), (2, 2), (2, 0), (0, 2), (0, 0), (4, 0)]
SINGLE_KEYS = [(1, 1, 0), (1, 1, 2), (1, 0, 1), (0, 0, 0), (2, 0, 0), (2, 0, 2)]


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuadratureWarning)
        return fn(*args, **kw)


# -- the derivatives -----------------------------------------------------------------------------


@pytest.mark.parametrize("order", [0, 1, 2, 3, 4])
def test_tanh_derivatives_against_mpmath(order):
    """sech^2 p_n(tanh) (the kernels' evaluator and the arb reference's) against mpmath's 30-digit derivative."""
    import flint

    xs = [-40.0, -17.3, -3.1, -0.7, 0.0, 1e-9, 0.4, 2.2, 9.5, 25.0]
    got = TANH.numeric_derivatives((order,), np.array(xs))[order]
    with mp.workdps(80):  # numerical differentiation: 80 digits keep 30 correct down to 1e-35
        for x, g in zip(xs, got):
            ref = mp.diff(mp.tanh, mp.mpf(x), order) if order else mp.tanh(mp.mpf(x))
            # relative to sech^2 x, the size of every derivative: full accuracy in the tails too
            scale = max(abs(float(ref)), float(mp.sech(x) ** 2)) if order else abs(float(ref))
            assert abs(g - float(ref)) <= 1e-14 * scale + 1e-300, (order, x)
            arb = tanh_d(order, flint.arb(x))  # the float, exactly
            assert abs(mp.mpf(arb.mid().str(35, radius=False)) - ref) <= mp.mpf(10) ** -28 * max(1, abs(ref))


# -- pair and single kernels against 30-digit references, error estimate never below the error ---


_scale = st.floats(-6.0, 4.0)  # log10 of a standard deviation
_rho = st.one_of(st.floats(-0.999, 0.999), st.integers(1, 12).map(lambda k: 1 - 10.0**-k),
                 st.integers(1, 12).map(lambda k: -1 + 10.0**-k))


def _check_pair(a, b, ls1, ls2, rho):
    q1, q2 = 10.0 ** (2 * ls1), 10.0 ** (2 * ls2)
    c = rho * np.sqrt(q1 * q2)
    got, est = _quiet(gaussian_pair_quadrature, TANH, a, b, q1, q2, c, with_error=True)
    ref = float(pair_ref(a, b, q1, q2, c).mid())
    err = abs(float(got) - ref)
    assert err <= float(est), (a, b, q1, q2, c, float(got), ref, err, float(est))
    # and the estimate itself is small: accurate, not just honest
    assert float(est) <= 1e-10 * abs(ref) + 1e-12, (a, b, q1, q2, c, float(est), ref)


@settings(max_examples=25, deadline=None)
@given(ab=st.sampled_from(PAIR_KEYS), ls1=_scale, ls2=_scale, rho=_rho)
def test_pair_quadrature_error_estimate_bounds_the_error(ab, ls1, ls2, rho):
    """Standard deviations 1e-6..1e4, |rho| up to 1 - 1e-12: |computed - 30-digit reference| <= estimate."""
    _check_pair(*ab, ls1, ls2, rho)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(ab=st.sampled_from(PAIR_KEYS), ls1=_scale, ls2=_scale, rho=_rho)
def test_pair_quadrature_error_estimate_bounds_the_error_sweep(ab, ls1, ls2, rho):
    _check_pair(*ab, ls1, ls2, rho)


@pytest.mark.parametrize("a, b, q1, q2, rho", [
    (1, 1, 1e4, 1e4, 0.5),            # the issue's weight norms ~100
    (3, 1, 1e6, 2e6, 1 - 1e-12),      # x1000, nearly parallel
    (2, 2, 1e8, 1e8, -1 + 1e-12),     # std 1e4, nearly antiparallel
    (0, 0, 1e8, 1e-12, 0.3),          # scale ratio 1e10
    (4, 0, 1e-12, 1e8, 0.9),
    (2, 0, 1e-16, 1e-16, 0.2),        # 1e-8 x teacher
])
def test_pair_quadrature_pinned_extremes(a, b, q1, q2, rho):
    _check_pair(a, b, 0.5 * np.log10(q1), 0.5 * np.log10(q2), rho)


def _single_ref(a, b, m, q):
    """E[(s^(a) s^(b))^(m)(h)], h ~ N(0, q), by mpmath quad at 30 digits (Leibniz, derivatives by mp.diff)."""
    from math import comb

    with mp.workdps(30):
        s = mp.sqrt(mp.mpf(q))

        def d(n, x):
            return mp.diff(mp.tanh, x, n) if n else mp.tanh(x)

        def g(x):
            return sum(comb(m, k) * d(a + k, x) * d(b + m - k, x) for k in range(m + 1))

        # integrate in t = h (activation scale) with breakpoints at both scales
        lim = min(13 * s, mp.mpf(60)) if (a, b, m) != (0, 0, 0) else 13 * s
        pts = sorted({-lim, lim, 0} | {p for p in (-8, -3, -1, -s, s, 1, 3, 8) if -lim < p < lim})
        return mp.quad(lambda t: g(t) * mp.exp(-t * t / (2 * q)), pts) / (s * mp.sqrt(2 * mp.pi)) \
            + (2 * mp.ncdf(-lim / s) if (a, b, m) == (0, 0, 0) else 0)


@settings(max_examples=12, deadline=None)
@given(key=st.sampled_from(SINGLE_KEYS), ls=st.floats(-6.0, 4.0))
def test_single_quadrature_error_estimate_bounds_the_error(key, ls):
    q = 10.0 ** (2 * ls)
    got, est = _quiet(gaussian_single_quadrature, TANH, *key, q, with_error=True)
    ref = float(_single_ref(*key, q))
    assert abs(float(got) - ref) <= float(est), (key, q, float(got), ref, float(est))
    assert float(est) <= 1e-10 * abs(ref) + 1e-12


# -- the reproducer: a Hessian at weight norms ~100 ------------------------------------------------


def _diag_reference(W, v):
    """Diagonal of E[grad f grad f^T] by 30-digit 1-D quadrature: x_j = (w_j/q) u + independent rest.

    [WW]_(ij),(ij) = v_i^2 E[s'(u)^2 x_j^2] = v_i^2 ((w_j/q)^2 E[s'^2 u^2] + (1 - w_j^2/q) E[s'^2]),
    [vv]_ii = E[tanh(u)^2], u ~ N(0, q), q = |w_i|^2.
    """
    Nh, Ni = W.shape
    out = []
    with mp.workdps(30):
        def gauss(f, q):
            s = mp.sqrt(q)
            lim = min(13 * s, mp.mpf(60))
            pts = sorted({-lim, lim, 0} | {p for p in (-8, -2, -s, s, 2, 8) if -lim < p < lim})
            return mp.quad(lambda u: f(u) * mp.exp(-u * u / (2 * q)), pts) / (s * mp.sqrt(2 * mp.pi))

        vv = []
        for i in range(Nh):
            q = mp.fsum(mp.mpf(float(x)) ** 2 for x in W[i])
            e0 = gauss(lambda u: mp.sech(u) ** 4, q)
            e2 = gauss(lambda u: mp.sech(u) ** 4 * u * u, q)
            for j in range(Ni):
                wj = mp.mpf(float(W[i, j]))
                out.append(float(mp.mpf(float(v[i])) ** 2 * ((wj / q) ** 2 * e2 + (1 - wj * wj / q) * e0)))
            s = mp.sqrt(q)
            vv.append(float(1 - gauss(lambda u: mp.sech(u) ** 2, q)) if s > 0 else 0.0)
    return np.array(out + vv)


@pytest.mark.parametrize("scale", [1e-8, 100.0, 1000.0])
def test_hessian_at_extreme_weight_scales(scale):
    """Symmetric exactly, PSD within its stated error, diagonal equal to an independent 1-D route."""
    W, v = symhess.teacher(4, 3, rng=0)
    W = W * scale
    H = _quiet(symhess.expected_hessian, "tanh", W, v)
    assert np.array_equal(H, H.T)
    lam = np.linalg.eigvalsh(H)
    assert lam.min() >= -1e-11 * np.linalg.norm(H), lam.min()
    d = np.diag(H)
    assert np.all(d > 0)
    np.testing.assert_allclose(d, _diag_reference(W, v), rtol=1e-9, atol=0)


def test_issue_reproducer_diagonal_and_loss():
    """The reported case: H[9, 9] was -0.919 (negative!) with an asymmetry 0.436 and the loss 0.0."""
    W, v = symhess.teacher(4, 3, rng=0)
    H = _quiet(symhess.expected_hessian, "tanh", W * 100, v)
    assert H[9, 9] > 0 and H[9, 9] == pytest.approx(_diag_reference(W * 100, v)[9], rel=1e-9)
    loss = _quiet(symhess.population_loss, "tanh", W * 100 + 0.01, v, W * 100, v)
    # Monte Carlo with a stated standard error: e(x) = sum_i v_i (tanh(w_i'.x) - tanh(w_i.x))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400_000, 4))
    e = (np.tanh(x @ (W * 100 + 0.01).T) - np.tanh(x @ (W * 100).T)) @ v
    mc, se = 0.5 * np.mean(e * e), 0.5 * np.std(e * e) / np.sqrt(x.shape[0])
    assert 3e-6 < loss < 6e-6
    assert abs(loss - mc) <= 5 * se, (loss, mc, se)
    # the gradient through the same route is the Hessian's first-order action next to the optimum
    d = np.concatenate([np.full(12, 1e-6), np.zeros(3)])
    g = _quiet(symhess.population_gradient, "tanh", W * 100 + 1e-6, v, W * 100, v)
    np.testing.assert_allclose(g, H @ d, rtol=1e-4, atol=1e-6 * np.abs(H @ d).max())


def test_unknown_loss_method_is_an_error_even_at_the_optimum():
    W, v = symhess.teacher(4, 3, rng=0)
    for fn in (symhess.population_loss, symhess.population_gradient):
        with pytest.raises(ValueError, match="bogus.*auto.*expansion.*path"):
            fn("tanh", W, v, W, v, method="bogus")
        with pytest.raises(ValueError, match="bogus"):
            fn("erf", W + 0.1, v, W, v, method="bogus")


# -- structural checks ------------------------------------------------------------------------------


def test_accuracy_error_is_exported_and_typed():
    assert symhess.SymhessAccuracyError is SymhessAccuracyError
    assert issubclass(SymhessAccuracyError, SymhessError) and issubclass(SymhessAccuracyError, ArithmeticError)


@pytest.mark.parametrize("P", [20, 4100])
def test_psd_check_raises_on_a_negative_eigenvalue_beyond_the_stated_error(P):
    rng = np.random.default_rng(0)
    J = rng.standard_normal((P, P // 2))
    H = J @ J.T / P
    check_psd(H, 1e-12 * np.linalg.norm(H), "test matrix")  # PSD: passes
    x = rng.standard_normal(P)
    x /= np.linalg.norm(x)
    bad = H - 0.5 * np.linalg.norm(H) * np.outer(x, x)
    with pytest.raises(SymhessAccuracyError, match="below minus its stated error"):
        check_psd(bad, 1e-12 * np.linalg.norm(bad), "test matrix")


def test_activation_without_saturation_refuses_what_it_cannot_resolve():
    """erf forced through the generic rule (no saturation() hook): a huge variance raises, never a wrong number."""
    act = activation("erf")
    with pytest.raises(SymhessAccuracyError, match="nodes per dimension"):
        _quiet(gaussian_pair_quadrature, act, 1, 1, 1e8, 1e8, 0.5e8)
    got = _quiet(gaussian_pair_quadrature, act, 1, 1, 0.7, 1.2, 0.3)  # resolvable: matches the closed form
    from symhess.kernels.codegen import compile_pair_kernel

    ref = compile_pair_kernel(act, ((1, 1),))(0.7, 1.2, 0.3)[(1, 1)]
    assert float(got) == pytest.approx(float(ref), rel=1e-12)
