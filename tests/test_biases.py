"""Hidden and output biases: Gaussian expectations with means and the two-layer network with biases.

Independent references: mpmath quadrature at 30 digits (pairs, singles, Phi_2), Monte Carlo with 1e6
samples (5 sigma), exact SymPy integration of small polynomial networks, finite differences of the
closed-form loss and gradient, and the centred code path (zero biases).
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.activations import activation
from symhess.errors import (
    InvalidParameterError, InvalidTypeError, NoClosedFormError, NonFiniteError, ShapeError, SymhessAccuracyWarning,
)
from symhess.kernels.means import bivariate_normal_cdf, pair_means, single_means

mp.mp.dps = 30


# -- references -------------------------------------------------------------------------------------

def _mp_derivatives(spec: str):
    """mpmath callables of sigma^(n), n = 0..4, for a smooth activation (from SymPy, independent of the kernels)."""
    z = sp.Symbol("z")
    expr = activation(spec).expr(z)
    return [sp.lambdify(z, sp.diff(expr, z, n) if n else expr, "mpmath") for n in range(5)]


def _relu_mp(n):
    if n == 0:
        return lambda x: x if x > 0 else mp.mpf(0)
    return lambda x: mp.mpf(1) if x > 0 else mp.mpf(0)


def ref_pair(f, cond, m1, m2, q1, q2, c, kink1=False):
    r""":math:`E[f(u)g(v)]=E[f(u)\,E[g(v)\mid u]]` by mpmath quadrature at 30 digits over :math:`u`.

    ``cond(mu, tau)`` is :math:`E[g(Y)]`, :math:`Y\sim N(\mu,\tau^2)` (a one-variable Gaussian fact, see
    :func:`relu_cond` and :func:`erf_cond`); breakpoints at ``f``'s kink and where the conditional mean
    crosses 0 (the conditional is a step of width :math:`\tau` there as :math:`|\rho|\to1`).
    """
    m1, m2, q1, q2, c = (mp.mpf(x) for x in (m1, m2, q1, q2, c))
    s1 = mp.sqrt(q1)
    k = c / s1
    tau = mp.sqrt(q2 - k * k)
    pts = {-mp.inf, mp.mpf(0), mp.inf}
    if kink1:
        pts.add(-m1 / s1)
    if k != 0 and abs(m2 / k) < 40:
        z0 = -m2 / k
        pts |= {z0 - 50 * tau / abs(k), z0, z0 + 50 * tau / abs(k)}
    return mp.quad(lambda z: f(m1 + s1 * z) * cond(m2 + k * z, tau) * mp.npdf(z), sorted(pts))


def relu_cond(n):
    """E[relu^(n)(Y)], Y ~ N(mu, tau^2): mu Phi(mu/tau) + tau phi(mu/tau), Phi(mu/tau) (n = 0, 1)."""
    if n == 0:
        return lambda mu, tau: mu * mp.ncdf(mu / tau) + tau * mp.npdf(mu / tau)
    return lambda mu, tau: mp.ncdf(mu / tau)


def erf_cond(s, n):
    """E[d^n/dy^n erf(s y)], Y ~ N(mu, tau^2): d^n/dmu^n erf(s mu / sqrt(1 + 2 s^2 tau^2))."""
    s = mp.mpf(s)

    def cond(mu, tau):
        alpha = s / mp.sqrt(1 + 2 * s * s * tau * tau)
        t = alpha * mu
        if n == 0:
            return mp.erf(t)
        # d^n/dt^n erf(t) = (2/sqrt(pi)) (-1)^(n-1) H_(n-1)(t) exp(-t^2), physicists' Hermite H
        return alpha**n * 2 / mp.sqrt(mp.pi) * (-1) ** (n - 1) * mp.hermite(n - 1, t) * mp.exp(-t * t)

    return cond


def ref_pair_2d(f, g, m1, m2, q1, q2, c, kinks=False):
    """E[f(u)g(v)] by two-dimensional mpmath quadrature, nested, with breakpoints on the kink lines (slow)."""
    m1, m2, q1, q2, c = (mp.mpf(x) for x in (m1, m2, q1, q2, c))
    s1 = mp.sqrt(q1)
    k = c / s1
    tau = mp.sqrt(q2 - k * k)

    def inner(z1):
        mu = m2 + k * z1
        pts = sorted({-mp.inf, mp.mpf(0), -mu / tau, mp.inf}) if kinks else [-mp.inf, 0, mp.inf]
        return mp.quad(lambda z2: g(mu + tau * z2) * mp.npdf(z2), pts)

    pts = sorted({-mp.inf, mp.mpf(0), -m1 / s1, mp.inf}) if kinks else [-mp.inf, 0, mp.inf]
    return mp.quad(lambda z1: f(m1 + s1 * z1) * inner(z1) * mp.npdf(z1), pts)


def ref_delta(g, m1, m2, q1, q2, c, kink2=True):
    r""":math:`E[\delta(u)g(v)]=p_u(0)E[g(v)\mid u=0]` by mpmath (the kink of ReLU's second derivative)."""
    m1, m2, q1, q2, c = (mp.mpf(x) for x in (m1, m2, q1, q2, c))
    mu = m2 - c / q1 * m1
    tau = mp.sqrt(q2 - c * c / q1)
    pts = sorted({-mp.inf, mp.mpf(0), -mu / tau, mp.inf}) if kink2 else [-mp.inf, 0, mp.inf]
    return mp.npdf(0, m1, mp.sqrt(q1)) * mp.quad(lambda z: g(mu + tau * z) * mp.npdf(z), pts)


def ref_bvn(h, k, rho):
    """Phi_2(h, k; rho) = int_{-inf}^h phi(x) Phi((k - rho x)/sqrt(1 - rho^2)) dx at 30 digits."""
    h, k, rho = (mp.mpf(x) for x in (h, k, rho))
    r = mp.sqrt(1 - rho * rho)
    pts = {-mp.inf, h, min(h, mp.mpf(0))}
    if rho != 0 and -40 < k / rho < h:  # the inner step (width r) at x = k / rho
        x0 = k / rho
        pts |= {x0, max(x0 - 20 * r, -mp.inf), min(x0 + 20 * r, h)}
    pts = sorted(p for p in pts if p <= h)
    return mp.quad(lambda x: mp.npdf(x) * mp.ncdf((k - rho * x) / r), pts)


def ref_pair_scipy(act, a, b, m1, m2, q1, q2, c):
    """E[sigma^(a)(u) sigma^(b)(v)] by SciPy's adaptive quadrature (float64, about 1e-14), conditioning on u."""
    from scipy import integrate

    fa, fb = act.numeric(a), act.numeric(b)
    s1 = np.sqrt(q1)
    k = c / s1
    tau = np.sqrt(max(q2 - k * k, 0.0))
    phi = lambda z: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)

    def inner(z1):
        if tau < 1e-9:
            return float(fb(np.array(m2 + k * z1)))
        return integrate.quad(lambda z2: float(fb(np.array(m2 + k * z1 + tau * z2))) * phi(z2), -10, 10,
                              epsabs=1e-14, epsrel=1e-13, limit=100)[0]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return integrate.quad(lambda z1: float(fa(np.array(m1 + s1 * z1))) * inner(z1) * phi(z1), -10, 10,
                              epsabs=1e-14, epsrel=1e-13, limit=100)[0]


def close(value, ref, rtol=1e-12, atol=1e-14):
    return abs(float(value) - float(ref)) <= atol + rtol * abs(float(ref))


# -- the bivariate normal distribution function -----------------------------------------------------

@pytest.mark.parametrize("h,k,rho", [
    (0.3, -0.7, 0.5), (0.0, 0.0, 0.3), (0.0, 1.2, -0.4), (-1.5, 0.0, 0.9), (2.0, 1.0, 1 - 1e-10),
    (-1.0, -1.2, -(1 - 1e-10)), (-6.0, 5.0, 0.2), (8.0, 7.5, -0.6), (-5.0, -5.5, 0.99), (1.0, 1.0, 0.0),
])
def test_bivariate_normal_cdf_against_mpmath(h, k, rho):
    assert close(bivariate_normal_cdf(h, k, rho), ref_bvn(h, k, rho), rtol=1e-13, atol=1e-16)


def test_bivariate_normal_cdf_exact_limits():
    assert bivariate_normal_cdf(0.3, -0.2, 1.0) == pytest.approx(float(mp.ncdf(-0.2)), abs=1e-16)
    assert bivariate_normal_cdf(0.3, -0.2, -1.0) == pytest.approx(float(mp.ncdf(0.3) + mp.ncdf(-0.2) - 1), abs=1e-16)
    assert bivariate_normal_cdf(0.0, 0.0, 0.5) == pytest.approx(1 / 4 + np.arcsin(0.5) / (2 * np.pi), abs=1e-16)


@settings(max_examples=10, deadline=None)
@given(st.floats(-8, 8), st.floats(-8, 8), st.floats(-1 + 1e-12, 1 - 1e-12))
def test_bivariate_normal_cdf_property(h, k, rho):
    assert close(bivariate_normal_cdf(h, k, rho), ref_bvn(h, k, rho), rtol=1e-12, atol=1e-15)


# -- pair expectations with means: closed forms -----------------------------------------------------

PAIR_POINTS = [
    (0.3, -0.5, 1.2, 0.8, 0.4),
    (1.7, 0.9, 0.5, 2.0, -0.6),
    (-2.5, 3.0, 0.4, 1.0, 0.2),       # |m|/sigma ~ 4 and 3
    (0.2, -0.1, 1.0, 1.0, 1 - 1e-9),  # |rho| -> 1
]


@pytest.mark.parametrize("point", PAIR_POINTS)
@pytest.mark.parametrize("a,b", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_relu_pair_functions_against_mpmath(point, a, b):
    val = pair_means(activation("relu"), a, b, *point)
    ref = ref_pair(_relu_mp(a), relu_cond(b), *point, kink1=True)
    assert close(val, ref, rtol=1e-10 if point[-1] > 0.99 else 1e-12)


@pytest.mark.parametrize("spec", ["leaky_relu", "abs"])
def test_abrelu_family_pair_against_mpmath(spec):
    """sigma = b r(z) - a r(-z): the pair with means against the 1-D reference of each ReLU piece."""
    act = activation(spec)
    sa, sb = (float(x) for x in act.ab)
    point = PAIR_POINTS[1]
    f = lambda x: sb * max(x, 0) - sa * max(-x, 0)  # noqa: E731
    r = relu_cond(0)
    cond = lambda mu, tau: sb * r(mu, tau) - sa * r(-mu, tau)  # noqa: E731
    assert close(pair_means(act, 0, 0, *point), ref_pair(f, cond, *point, kink1=True), rtol=1e-12)


@pytest.mark.parametrize("point", PAIR_POINTS[:3])
def test_relu_pair_distributions_against_mpmath(point):
    """sigma'' = delta, sigma''' = delta': conditioning on u = 0, and derivatives in the mean m1."""
    act = activation("relu")
    m1, m2, q1, q2, c = point
    assert close(pair_means(act, 2, 0, *point), ref_delta(_relu_mp(0), *point), rtol=1e-12)
    assert close(pair_means(act, 2, 1, *point), ref_delta(_relu_mp(1), *point), rtol=1e-12)
    quad = (mp.matrix([[m1, m2]]) * mp.inverse(mp.matrix([[q1, c], [c, q2]])) * mp.matrix([[m1], [m2]]))[0, 0]
    density = mp.exp(-quad / 2) / (2 * mp.pi * mp.sqrt(mp.mpf(q1) * q2 - mp.mpf(c) ** 2))
    assert close(pair_means(act, 2, 2, *point), density, rtol=1e-12)
    d1 = mp.diff(lambda x: ref_delta(_relu_mp(1), x, m2, q1, q2, c), m1)
    assert close(pair_means(act, 3, 1, *point), d1, rtol=1e-9)
    d2 = mp.diff(lambda x: ref_delta(_relu_mp(0), x, m2, q1, q2, c), m1, 2)
    assert close(pair_means(act, 4, 0, *point), d2, rtol=1e-8)


@pytest.mark.parametrize("point", PAIR_POINTS)
@pytest.mark.parametrize("a,b", [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (3, 1), (4, 0), (0, 3)])
def test_erf_pair_against_mpmath(point, a, b):
    f = _mp_derivatives("erf:scale=0.7")
    act = activation("erf:scale=0.7")
    assert close(pair_means(act, a, b, *point), ref_pair(f[a], erf_cond(0.7, b), *point), rtol=1e-11, atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("point", PAIR_POINTS[:3])
def test_pairs_against_two_dimensional_mpmath(point):
    """The 2-D quadrature at 30 digits (minutes): erf and the ReLU functions."""
    f = _mp_derivatives("erf:scale=0.7")
    assert close(pair_means(activation("erf:scale=0.7"), 1, 1, *point), ref_pair_2d(f[1], f[1], *point), rtol=1e-11)
    assert close(pair_means(activation("relu"), 1, 0, *point),
                 ref_pair_2d(_relu_mp(1), _relu_mp(0), *point, kinks=True), rtol=1e-9)


def test_erf_cross_scales_against_mpmath():
    f = _mp_derivatives("erf")
    act, tau = activation("erf"), activation("erf:scale=0.5")
    for a, b in [(0, 0), (2, 0), (1, 1)]:
        point = (0.4, -1.1, 1.3, 0.7, 0.5)
        assert close(pair_means(act, a, b, *point, partner=tau), ref_pair(f[a], erf_cond(0.5, b), *point), rtol=1e-11)


@settings(max_examples=12, deadline=None)
@given(st.floats(-20, 20), st.floats(-20, 20), st.floats(0.05, 4), st.floats(0.05, 4),
       st.floats(-1 + 1e-12, 1 - 1e-12), st.sampled_from([(0, 0), (1, 0), (1, 1), (2, 0)]))
def test_erf_pair_property(m1, m2, q1, q2, rho, ab):
    """Means up to 20 standard deviations away, correlations up to 1 - 1e-12."""
    c = rho * np.sqrt(q1 * q2)
    f = _mp_derivatives("erf")
    val = pair_means(activation("erf"), *ab, m1, m2, q1, q2, c)
    ref = ref_pair(f[ab[0]], erf_cond(1, ab[1]), m1, m2, q1, q2, c)
    assert close(val, ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("spec", ["quadratic:eps=0.5", "poly:coeffs=[0.2,1,0.5,-0.3]"])
def test_polynomial_pair_exact(spec):
    """Exact moments with means against exact SymPy integration over a bivariate Gaussian."""
    act = activation(spec)
    x, y = sp.symbols("x y", real=True)
    m1, m2, q1, q2, c = Fraction(1, 3), Fraction(-1, 2), Fraction(6, 5), Fraction(4, 5), Fraction(2, 5)
    # u = m1 + s1 x, v = m2 + c/s1 x + tau y with x, y independent standard normals: exact moments
    s1 = sp.sqrt(sp.Rational(6, 5))
    tau = sp.sqrt(sp.Rational(4, 5) - sp.Rational(2, 5) ** 2 / sp.Rational(6, 5))
    u = sp.Rational(1, 3) + s1 * x
    v = sp.Rational(-1, 2) + sp.Rational(2, 5) / s1 * x + tau * y
    for a, b in [(0, 0), (1, 1), (2, 1), (3, 1)]:
        e = sp.expand(act.derivative(a, u) * act.derivative(b, v))
        poly = sp.Poly(e, x, y)
        exact = sum(coef * sp.factorial2(i - 1) * sp.factorial2(j - 1) for (i, j), coef in poly.terms()
                    if i % 2 == 0 and j % 2 == 0)
        val = pair_means(act, a, b, float(m1), float(m2), float(q1), float(q2), float(c))
        assert float(val) == pytest.approx(float(exact), rel=1e-13, abs=1e-14)


# -- smooth activations: quadrature with shifted nodes ---------------------------------------------

@pytest.mark.parametrize("spec,point,ab", [
    ("tanh", (0.5, -1.0, 1.0, 2.0, 0.5), (0, 0)), ("tanh", (3.0, 0.2, 4.0, 1.0, 1.5), (1, 1)),
    ("sigmoid", (-0.7, 0.4, 0.3, 0.5, 0.1), (2, 1)), ("softplus", (0.5, -1.0, 1.0, 2.0, 0.5), (0, 0)),
    ("gelu", (3.0, 0.2, 4.0, 1.0, 1.5), (1, 0)),
])
def test_quadrature_with_means_against_mpmath(spec, point, ab):
    from symhess.kernels.quadrature import gaussian_pair_quadrature

    act = activation(spec)
    m1, m2, q1, q2, c = point
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val, err = gaussian_pair_quadrature(act, *ab, q1, q2, c, m1=m1, m2=m2, with_error=True)
    ref = ref_pair_scipy(act, *ab, *point)
    assert abs(float(val) - float(ref)) <= float(err) + 1e-13  # the stated error, plus the float64 reference's own error
    assert close(val, ref, rtol=1e-10, atol=1e-12)


def test_quadrature_large_mean_and_near_parallel():
    from symhess.kernels.quadrature import gaussian_pair_quadrature

    act = activation("tanh")
    for point in [(12.0, -9.0, 2.0, 0.5, 0.3), (0.4, 0.1, 1.0, 1.0, 1 - 1e-12)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            val, err = gaussian_pair_quadrature(act, 1, 0, *point[2:], m1=point[0], m2=point[1], with_error=True)
        ref = ref_pair_scipy(act, 1, 0, *point)
        assert abs(float(val) - float(ref)) <= float(err) + 1e-13


# -- single expectations ----------------------------------------------------------------------------

@pytest.mark.parametrize("m,q", [(0.4, 1.3), (-2.0, 0.5), (3.0, 0.2)])
def test_single_means_against_mpmath(m, q):
    s = mp.sqrt(q)
    for spec in ["erf:scale=0.7", "tanh"]:
        f = _mp_derivatives(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for n in range(5):
                ref = mp.quad(lambda z: f[n](m + s * z) * mp.npdf(z), [-mp.inf, 0, mp.inf])
                assert close(single_means(activation(spec), (n,), 0, m, q), ref, rtol=1e-11, atol=1e-13)
            ref = mp.quad(lambda z: f[1](m + s * z) ** 2 * mp.npdf(z), [-mp.inf, 0, mp.inf])
            assert close(single_means(activation(spec), (1, 1), 0, m, q), ref, rtol=1e-11, atol=1e-13)
    relu = activation("relu")
    p0 = mp.npdf(0, m, s)
    refs = {0: mp.quad(lambda z: max(m + s * z, 0) * mp.npdf(z), [-mp.inf, -m / s, mp.inf]),
            1: mp.ncdf(m / s), 2: p0, 3: -p0 * m / q}  # E[delta'(h)] = -p'(0) = -(m/q) p(0)
    for n, ref in refs.items():
        assert close(single_means(relu, (n,), 0, m, q), ref)
    assert close(single_means(relu, (1, 1), 2, m, q), -p0 * m / q)  # E[Theta''] = E[delta']
    assert close(single_means(relu, (0, 0), 0, m, q),
                 mp.quad(lambda z: max(m + s * z, 0) ** 2 * mp.npdf(z), [-mp.inf, -m / s, mp.inf]))


def test_no_closed_form_errors():
    with pytest.raises(NoClosedFormError, match="sign"):
        pair_means(activation("sign"), 0, 0, 0.1, 0.2, 1.0, 1.0, 0.3)
    with pytest.raises(NoClosedFormError, match="tanh"):
        pair_means(activation("erf"), 0, 0, 0.1, 0.2, 1.0, 1.0, 0.3, partner=activation("tanh"))


# -- the network with biases ------------------------------------------------------------------------

def _net(rng, Ni=3, Nh=2, Nt=3, n_out=None):
    W = rng.standard_normal((Nh, Ni)) / np.sqrt(Ni)
    Wt = rng.standard_normal((Nt, Ni)) / np.sqrt(Ni)
    shape_v, shape_vt = ((Nh,), (Nt,)) if n_out is None else ((n_out, Nh), (n_out, Nt))
    v, vt = rng.standard_normal(shape_v), rng.standard_normal(shape_vt)
    b, bt = 0.6 * rng.standard_normal(Nh), 0.6 * rng.standard_normal(Nt)
    bo = rng.standard_normal() if n_out is None else rng.standard_normal(n_out)
    bto = rng.standard_normal() if n_out is None else rng.standard_normal(n_out)
    return W, v, b, bo, Wt, vt, bt, bto


SIGMA = np.array([[1.5, 0.4, 0.0], [0.4, 1.0, 0.2], [0.0, 0.2, 0.6]])


def _pack(W, v, b, bo):
    return np.concatenate([np.ravel(W), np.ravel(v), np.ravel(b), np.ravel(bo)])


def _unpack(t, W, v, b, bo):
    out, pos = [], 0
    for x in (W, v, b, bo):
        n = np.size(x)
        out.append(t[pos:pos + n].reshape(np.shape(x)))
        pos += n
    return out


@pytest.mark.parametrize("spec,n_out,cov,tact", [
    ("erf", None, None, None), ("relu", 2, SIGMA, None), ("tanh", None, np.diag(SIGMA), None),
    ("erf", 2, SIGMA, "erf:scale=0.5"), ("poly:coeffs=[0,1,0.5,0.2]", None, SIGMA, None),
    ("abrelu:a=-0.3,b=1.2", 2, SIGMA, None),
])
def test_gradient_and_hessian_are_derivatives_of_the_loss(spec, n_out, cov, tact):
    """Finite differences: gradient of the closed-form loss, Hessian of the closed-form gradient."""
    rng = np.random.default_rng(3)
    W, v, b, bo, Wt, vt, bt, bto = _net(rng, n_out=n_out)
    kw = dict(input_cov=cov, teacher_activation=tact, b_teacher=bt, b_out_teacher=bto)

    def loss(t):
        W_, v_, b_, bo_ = _unpack(t, W, v, b, bo)
        return symhess.population_loss(spec, W_, v_, Wt, vt, b=b_, b_out=bo_, **kw)

    def grad(t):
        W_, v_, b_, bo_ = _unpack(t, W, v, b, bo)
        return symhess.population_gradient(spec, W_, v_, Wt, vt, b=b_, b_out=bo_, **kw)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = _pack(W, v, b, bo)
        E = np.eye(t.size)
        h = 1e-5
        g = grad(t)
        gfd = np.array([(loss(t + h * e) - loss(t - h * e)) / (2 * h) for e in E])
        H = symhess.expected_hessian(spec, W, v, b=b, b_out=bo, W_teacher=Wt, v_teacher=vt, **kw)
        Hfd = np.array([(grad(t + h * e) - grad(t - h * e)) / (2 * h) for e in E])
        L, g2 = symhess.two_layer.loss.population_loss_and_gradient(spec, W, v, Wt, vt, b=b, b_out=bo, **kw)
    scale = max(1.0, np.abs(H).max())
    assert np.abs(g - gfd).max() < 1e-7 * scale
    assert np.abs(H - Hfd).max() < 1e-7 * scale
    assert L == loss(t) and np.array_equal(g2, g)
    assert np.abs(H - H.T).max() < 1e-12 * scale


@pytest.mark.parametrize("spec", ["relu", "erf", "tanh", "leaky_relu", "abs"])
def test_loss_against_monte_carlo(spec):
    rng = np.random.default_rng(5)
    W, V, b, bo, Wt, Vt, bt, bto = _net(rng, n_out=2)
    L = symhess.population_loss(spec, W, V, Wt, Vt, b=b, b_out=bo, b_teacher=bt, b_out_teacher=bto, input_cov=SIGMA)
    act = activation(spec)
    sig = act.numeric(0)
    n = 1_000_000
    x = rng.standard_normal((n, 3)) @ np.linalg.cholesky(SIGMA).T
    e = sig(x @ W.T + b) @ V.T + bo - (sig(x @ Wt.T + bt) @ Vt.T + bto)
    sample = 0.5 * (e**2).sum(1)
    assert abs(L - sample.mean()) < 5 * sample.std() / np.sqrt(n)


@pytest.mark.parametrize("spec", ["relu", "erf"])
def test_optimum_hessian_is_gradient_outer_product(spec):
    """At the optimum with biases: H = E[grad f grad f^T] (Monte Carlo, 5 sigma per entry), PSD, no residual."""
    rng = np.random.default_rng(7)
    W, v, b, bo, *_ = _net(rng, Ni=2, Nh=2)
    H = symhess.expected_hessian(spec, W, v, b=b, b_out=bo)
    assert np.linalg.eigvalsh(H)[0] > -1e-12 * np.abs(H).max()
    assert np.allclose(symhess.expected_hessian(spec, W, v, b=b, b_out=bo, part="residual"), 0.0)
    assert np.array_equal(symhess.expected_hessian(spec, W, v, b=b, b_out=bo, part="gauss_newton"), H)
    act = activation(spec)
    n = 1_000_000
    x = rng.standard_normal((n, 2))
    u = x @ W.T + b
    s0, s1 = act.numeric(0)(u), act.numeric(1)(u)
    G = np.concatenate([(v * s1)[:, :, None] * x[:, None, :]], axis=1).reshape(n, -1)
    G = np.concatenate([G, s0, v * s1, np.ones((n, 1))], axis=1)
    mean = G.T @ G / n
    var = (G**2).T @ (G**2) / n - mean**2
    assert np.all(np.abs(H - mean) <= 5 * np.sqrt(var / n) + 1e-12)


@pytest.mark.parametrize("spec,n_out", [("relu", None), ("erf", 2), ("tanh", None), ("quadratic:eps=0.5", 2)])
def test_matrix_free_equals_dense(spec, n_out):
    rng = np.random.default_rng(11)
    W, v, b, bo, Wt, vt, bt, bto = _net(rng, n_out=n_out)
    kw = dict(b=b, b_out=bo, b_teacher=bt, b_out_teacher=bto, input_cov=SIGMA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in ("full", "gauss_newton", "residual"):
            for trainable in (None, ("W", "b"), ("v", "b_out"), ("b",)):
                H = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt, part=part, trainable=trainable, **kw)
                op = symhess.hessian_operator(spec, W, v, Wt, vt, part=part, trainable=trainable, **kw)
                X = rng.standard_normal((op.shape[0], 3))
                assert op.shape == H.shape
                assert np.allclose(op @ X, H @ X, rtol=1e-12, atol=1e-12 * np.abs(H).max())


def test_trainable_is_principal_submatrix_and_gradient_entries():
    rng = np.random.default_rng(13)
    W, v, b, bo, Wt, vt, bt, bto = _net(rng)
    kw = dict(b=b, b_out=bo, b_teacher=bt, b_out_teacher=bto)
    H = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, **kw)
    g = symhess.population_gradient("erf", W, v, Wt, vt, **kw)
    m, Nh = W.size, W.shape[0]
    spans = {"W": range(0, m), "v": range(m, m + Nh), "b": range(m + Nh, m + 2 * Nh), "b_out": range(m + 2 * Nh, m + 2 * Nh + 1)}
    for groups in [("b",), ("b_out",), ("W", "b_out"), ("v", "b")]:
        idx = np.concatenate([list(spans[gr]) for gr in groups])
        Hs = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, trainable=groups, **kw)
        assert np.array_equal(Hs, H[np.ix_(idx, idx)])
        assert np.array_equal(symhess.population_gradient("erf", W, v, Wt, vt, trainable=groups, **kw), g[idx])
    blocks = symhess.hessian_blocks("erf", W, v, W_teacher=Wt, v_teacher=vt, trainable=("b", "b_out"), **kw)
    assert sorted(blocks) == ["b_outb_out", "bb", "bb_out"]
    assert blocks["b_outb_out"] == pytest.approx(np.eye(1))  # d^2 eps / d b_out^2 = 1


@pytest.mark.parametrize("spec", ["relu", "erf", "tanh", "poly:coeffs=[0,1,0.5,0.2]"])
def test_zero_biases_reproduce_the_centred_routes(spec):
    rng = np.random.default_rng(17)
    W, v, _, _, Wt, vt, _, _ = _net(rng)
    Nh = W.shape[0]
    P = W.size + Nh
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        H0 = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt, input_cov=SIGMA)
        Hb = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt, input_cov=SIGMA, b=np.zeros(Nh))
        L0 = symhess.population_loss(spec, W, v, Wt, vt, input_cov=SIGMA, method="expansion")
        Lb = symhess.population_loss(spec, W, v, Wt, vt, input_cov=SIGMA, b=np.zeros(Nh))
        g0 = symhess.population_gradient(spec, W, v, Wt, vt, input_cov=SIGMA, method="expansion")
        gb = symhess.population_gradient(spec, W, v, Wt, vt, input_cov=SIGMA, b=np.zeros(Nh))
    assert np.allclose(Hb[:P, :P], H0, rtol=1e-10, atol=1e-12)
    assert Lb == pytest.approx(L0, rel=1e-10, abs=1e-13)
    assert np.allclose(gb[:P], g0, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec", ["relu", "erf"])
def test_teacher_equal_to_student_is_the_optimum(spec):
    rng = np.random.default_rng(19)
    W, v, b, bo, *_ = _net(rng)
    kw = dict(b=b, b_out=bo, b_teacher=b, b_out_teacher=bo)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        H = symhess.expected_hessian(spec, W, v, W_teacher=W, v_teacher=v, **kw)
        g = symhess.population_gradient(spec, W, v, W, v, **kw)
        L = symhess.population_loss(spec, W, v, W, v, **kw)
    if spec == "relu":  # each unit meets its own copy: the parallel limit, announced
        assert any(issubclass(w.category, SymhessAccuracyWarning) for w in caught)
    H0 = symhess.expected_hessian(spec, W, v, b=b, b_out=bo)
    tol = 1e-6 if spec == "relu" else 1e-12  # ReLU: the parallel limit at 1 - rho = 1e-15 (relative error ~1e-7)
    assert np.allclose(H, H0, rtol=tol, atol=tol)
    assert np.abs(g).max() < tol and L < (1e-8 if spec == "relu" else 1e-14)


def _exact_network_hessian(act_expr, W, v, b, bo, Wt, vt, bt, bto, F):
    """Hessian, gradient and loss of 1/2 E[(f - f*)^2] by exact SymPy integration, x = F z, z ~ N(0, I)."""
    Nh, Ni = len(W), len(W[0])
    z = sp.symbols(f"z0:{Ni}", real=True)
    x = [sum(F[j][k] * z[k] for k in range(Ni)) for j in range(Ni)]
    Ws = sp.Matrix(Nh, Ni, lambda i, j: sp.Symbol(f"W{i}{j}"))
    vs = sp.symbols(f"v0:{Nh}")
    bs = sp.symbols(f"b0:{Nh}")
    bos = sp.Symbol("bo")
    t = sp.Symbol("t")
    f = sum(vs[i] * act_expr.subs(t, sum(Ws[i, j] * x[j] for j in range(Ni)) + bs[i]) for i in range(Nh)) + bos
    fstar = sum(vt[g] * act_expr.subs(t, sum(Wt[g][j] * x[j] for j in range(Ni)) + bt[g]) for g in range(len(Wt))) + bto
    params = list(Ws) + list(vs) + list(bs) + [bos]
    values = dict(zip(params, [w for row in W for w in row] + list(v) + list(b) + [bo]))
    e = f - fstar
    # E over z: the loss is a polynomial in z; its derivatives in the parameters commute with E
    integrand = sp.Poly(sp.expand(sp.Rational(1, 2) * e**2), *z)
    loss = sum(coef * sp.prod([sp.factorial2(p - 1) for p in powers]) for powers, coef in integrand.terms()
               if all(p % 2 == 0 for p in powers))
    grad = [sp.diff(loss, p).subs(values) for p in params]
    hess = [[sp.diff(loss, p, q).subs(values) for q in params] for p in params]
    return float(loss.subs(values)), np.array(grad, dtype=float), np.array(hess, dtype=float)


def test_polynomial_network_against_exact_sympy_integration():
    """A quadratic network with hidden, output and teacher biases and a correlated input, exactly."""
    t = sp.Symbol("t")
    act_expr = t + sp.Rational(1, 2) * t**2
    R = sp.Rational
    W = [[R(1, 2), R(-1, 3)], [R(1, 4), R(2, 3)]]
    v, b, bo = [R(3, 2), R(-1, 2)], [R(1, 5), R(-2, 5)], R(1, 3)
    Wt = [[R(2, 3), R(1, 4)], [R(-1, 2), R(1, 2)], [R(1, 3), R(1, 3)]]
    vt, bt, bto = [R(1), R(-1, 3), R(1, 2)], [R(-1, 4), R(1, 3), R(0)], R(-1, 5)
    F = [[R(1), R(0)], [R(1, 2), R(3, 4)]]  # Sigma = F F^T
    L_ex, g_ex, H_ex = _exact_network_hessian(act_expr, W, v, b, bo, Wt, vt, bt, bto, F)
    Fn = np.array(F, dtype=float)
    kw = dict(b=np.array(b, dtype=float), b_out=float(bo), b_teacher=np.array(bt, dtype=float),
              b_out_teacher=float(bto), input_cov=Fn @ Fn.T)
    Wn, vn, Wtn, vtn = (np.array(a, dtype=float) for a in (W, v, Wt, vt))
    H = symhess.expected_hessian("quadratic:eps=0.5", Wn, vn, W_teacher=Wtn, v_teacher=vtn, **kw)
    g = symhess.population_gradient("quadratic:eps=0.5", Wn, vn, Wtn, vtn, **kw)
    L = symhess.population_loss("quadratic:eps=0.5", Wn, vn, Wtn, vtn, **kw)
    assert np.allclose(H, H_ex, rtol=1e-12, atol=1e-12)
    assert np.allclose(g, g_ex, rtol=1e-12, atol=1e-12)
    assert L == pytest.approx(L_ex, rel=1e-12)


# -- bad input --------------------------------------------------------------------------------------

def test_bad_bias_input():
    W, v = symhess.teacher(3, 2, rng=0)
    Wt, vt = symhess.teacher(3, 3, rng=1)
    with pytest.raises(ShapeError, match=r"b has shape \(3,\); expected \(2,\)"):
        symhess.expected_hessian("erf", W, v, b=np.zeros(3))
    with pytest.raises(NonFiniteError, match=r"b\[1\] = nan"):
        symhess.expected_hessian("erf", W, v, b=np.array([0.0, np.nan]))
    with pytest.raises(NonFiniteError, match="b_out"):
        symhess.expected_hessian("erf", W, v, b_out=np.inf)
    with pytest.raises(ShapeError, match="b_out"):
        symhess.expected_hessian("erf", W, v, b_out=np.zeros(2))
    with pytest.raises(InvalidTypeError, match="b="):
        symhess.expected_hessian("erf", W, v, b="zero")
    with pytest.raises(InvalidParameterError, match="b_teacher is given but the student has no hidden biases"):
        symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, b_teacher=np.zeros(3), b_out=0.0)
    with pytest.raises(InvalidParameterError, match="b_out_teacher"):
        symhess.population_loss("erf", W, v, Wt, vt, b=np.zeros(2), b_out_teacher=1.0)
    with pytest.raises(InvalidParameterError, match="needs the teacher's weights"):
        symhess.expected_hessian("erf", W, v, b=np.zeros(2), b_teacher=np.zeros(2))
    with pytest.raises(ShapeError, match="b_teacher"):
        symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, b=np.zeros(2), b_teacher=np.zeros(2))
    with pytest.raises(InvalidParameterError, match="no b_out"):
        symhess.expected_hessian("erf", W, v, b=np.zeros(2), trainable=("b_out",))
    with pytest.raises(InvalidParameterError, match="'c'"):
        symhess.expected_hessian("erf", W, v, b=np.zeros(2), trainable=("c",))
    with pytest.raises(InvalidParameterError, match="need the teacher"):
        symhess.population_loss("erf", W, v, None, None, b=np.zeros(2))
    with pytest.raises(InvalidParameterError, match="backend"):
        symhess.hessian_operator("erf", W, v, b=np.zeros(2), backend="torch")
    with pytest.raises(NoClosedFormError, match="step"):
        symhess.expected_hessian("step", W, v, b=np.zeros(2))


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["relu", "erf"]), st.integers(0, 10**6), st.floats(0.01, 8.0), st.floats(-6.0, 6.0))
def test_optimum_hessian_psd_and_operator_property(spec, seed, weight_scale, bias_shift):
    """For all weights and biases (large, and shifted far from the kink): the Hessian at the optimum is
    symmetric PSD with H[b_out, b_out] = 1, and the matrix-free product equals it."""
    rng = np.random.default_rng(seed)
    W = weight_scale * rng.standard_normal((3, 2))
    v = rng.standard_normal(3)
    b = bias_shift + rng.standard_normal(3)
    H = symhess.expected_hessian(spec, W, v, b=b, b_out=0.0)
    scale = np.abs(H).max()
    assert np.abs(H - H.T).max() <= 1e-13 * scale
    assert np.linalg.eigvalsh(H)[0] >= -1e-10 * scale
    assert H[-1, -1] == 1.0
    op = symhess.hessian_operator(spec, W, v, b=b, b_out=0.0)
    x = rng.standard_normal(H.shape[0])
    assert np.allclose(op @ x, H @ x, rtol=1e-12, atol=1e-12 * scale)


def test_relu_zero_row_with_bias_is_refused():
    W = np.array([[0.0, 0.0], [1.0, 0.5]])
    with pytest.raises(InvalidParameterError, match="row 0 of W is zero"):
        symhess.expected_hessian("relu", W, np.ones(2), b=np.array([0.3, 0.0]))
    with pytest.raises(InvalidParameterError, match="row 0 of W is zero"):
        symhess.population_gradient("relu", W, np.ones(2), W + 1.0, np.ones(2), b=np.array([0.3, 0.0]))
