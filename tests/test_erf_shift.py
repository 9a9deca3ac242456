r"""The shifted erf :math:`\mathrm{erf}(sz+t)`: closed forms through :math:`\Phi_2`, checked independently.

References used here, none produced by the code under test:

* pair expectations: 30-digit mpmath quadrature of the outer variable, the inner Gaussian integral by the
  classical identity :math:`E[\mathrm{erf}(a+bY)]=\mathrm{erf}(a/\sqrt{1+2b^2})` (itself checked by
  quadrature below) and its derivatives in :math:`a` (Hermite polynomials), so exactly singular
  covariances are covered too;
* one-unit expectations: direct 30-digit quadrature;
* the dense expected Hessian (at and away from the optimum) and the loss: Monte Carlo with its standard
  error;
* shift :math:`t\to0`: the arcsine-kernel route of the centred erf (a different formula);
* :math:`\mathrm{erf}(s\,w\cdot x+t)` = centred erf with hidden biases :math:`t/s` (the biases route).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.activations import Erf, activation
from symhess.errors import ActivationParameterError, InvalidParameterError
from symhess.kernels.codegen import compile_pair_kernel, compile_single_kernel

mp.mp.dps = 30


def _erf_deriv(n: int, y):
    r""":math:`\mathrm{erf}^{(n)}(y)` in mpmath: :math:`\frac{2}{\sqrt\pi}(-1)^{n-1}H_{n-1}(y)e^{-y^2}`."""
    if n == 0:
        return mp.erf(y)
    return 2 / mp.sqrt(mp.pi) * (-1) ** (n - 1) * mp.hermite(n - 1, y) * mp.exp(-y * y)


def _sigma(n: int, x, s, t):
    """:math:`d^n/dx^n\\,\\mathrm{erf}(sx+t)`."""
    return s**n * _erf_deriv(n, s * x + t)


def ref_pair(a, b, s, t, q1, q2, c, s2=None, t2=None):
    r""":math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]` at 30 digits: outer quadrature over :math:`u`, inner in closed form.

    :math:`\tau(z)=\mathrm{erf}(s_2z+t_2)`, by default :math:`\sigma`.
    """
    s2, t2 = (s if s2 is None else s2), (t if t2 is None else t2)
    s, t, q1, q2, c, s2, t2 = (mp.mpf(x) for x in (s, t, q1, q2, c, s2, t2))
    r1 = mp.sqrt(q1)
    tau2 = max(q2 - c * c / q1, mp.mpf(0))
    den = mp.sqrt(1 + 2 * s2 * s2 * tau2)
    kappa, t_eff = s2 / den, t2 / den  # E_Y[erf(s2(mu + tau Y) + t2)] = erf(kappa mu + t_eff)

    def f(x):
        u = r1 * x
        mu = c / q1 * u
        inner = kappa**b * _erf_deriv(b, kappa * mu + t_eff)
        return mp.npdf(x) * _sigma(a, u, s, t) * inner

    x0 = -t / (s * r1)  # where sigma^(a)(u) peaks
    pts = sorted({mp.mpf(-12), x0 - 1, x0, x0 + 1, mp.mpf(0), mp.mpf(12)})
    return mp.quad(f, [-mp.inf] + [p for p in pts if -12 <= p <= 12] + [mp.inf])


def ref_single(a, b, m, s, t, q):
    r""":math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`, by 30-digit quadrature."""
    x = sp.Symbol("x", real=True)
    S, T = sp.nsimplify(s), sp.nsimplify(t)
    g = sp.diff(sp.diff(sp.erf(S * x + T), x, a) * sp.diff(sp.erf(S * x + T), x, b), x, m)
    fn = sp.lambdify(x, g, "mpmath")
    r = mp.sqrt(mp.mpf(q))
    x0 = -mp.mpf(str(sp.N(T / S, 40))) / r
    pts = sorted({mp.mpf(-12), x0 - 1, x0, x0 + 1, mp.mpf(0), mp.mpf(12)})
    return mp.quad(lambda y: mp.npdf(y) * fn(r * y), [-mp.inf] + [p for p in pts if -12 <= p <= 12] + [mp.inf])


def test_inner_identity_by_quadrature():
    """E[erf(a + bY)] = erf(a / sqrt(1 + 2 b^2)), the identity the pair reference relies on."""
    for a_, b_ in ((mp.mpf(3) / 10, mp.mpf(17) / 10), (mp.mpf(-6) / 5, mp.mpf(2) / 5), (mp.mpf(2), mp.mpf(3))):
        direct = mp.quad(lambda y: mp.npdf(y) * mp.erf(a_ + b_ * y), sorted([-mp.inf, 0, -a_ / b_, mp.inf]))
        assert abs(direct - mp.erf(a_ / mp.sqrt(1 + 2 * b_**2))) < mp.mpf(10) ** -25


# -- spec, parameters, shift = 0 unchanged ------------------------------------------------------------


def test_spec_strings_and_shift_zero_unchanged():
    assert activation("erf").spec == "erf:scale=1"
    assert activation("erf:scale=2").spec == "erf:scale=2"
    assert activation("erf:scale=2,shift=0").spec == "erf:scale=2"
    assert Erf(scale=2, shift=0.0) == activation("erf:scale=2")
    assert activation("erf:scale=2,shift=0.5").spec == "erf:scale=2,shift=1/2"
    a = activation("erf:scale=2,shift=1/2")
    assert activation(a.spec) == a and a.shift == sp.Rational(1, 2)
    assert a.expr() == sp.erf(2 * sp.Symbol("z", real=True) + sp.Rational(1, 2))
    assert activation("erf:scale=2").params == {"scale": 2}
    # the centred erf keeps its elementary routes
    e = activation("erf:scale=2")
    assert e.gaussian_pair(0, 0, *sp.symbols("q1 q2 c")) is None and e.determinant_alpha() == 8
    assert a.determinant_alpha() is None and a.pair_kernel(*sp.symbols("q1 q2 c")) is None


def test_shift_zero_bitwise_same_hessian():
    rng = np.random.default_rng(3)
    W, v = rng.normal(size=(3, 4)) / 2, rng.normal(size=3) / np.sqrt(3)
    H0 = symhess.expected_hessian("erf:scale=2", W, v)
    H1 = symhess.expected_hessian(Erf(scale=2, shift=0), W, v)
    H2 = symhess.expected_hessian(activation("erf:scale=2,shift=0.0"), W, v)
    assert np.array_equal(H0, H1) and np.array_equal(H0, H2)


@pytest.mark.parametrize("bad", ["inf", "nan", "-inf", "I", "1+I"])
def test_bad_shift_string(bad):
    with pytest.raises(InvalidParameterError, match="shift"):
        activation(f"erf:shift={bad}")


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), np.float64("-inf"), 1j, True])
def test_bad_shift_value(bad):
    with pytest.raises(ActivationParameterError, match="shift"):
        Erf(shift=bad)


# -- closed forms against quadrature --------------------------------------------------------------

PAIR_KEYS = tuple((a, b) for a in range(3) for b in range(3))
_SLOW = pytest.mark.slow  # the hypothesis property test covers these covariances by default too
COVS = [  # (q1, q2, c): generic, anti-correlated, near-singular, singular (parallel and antiparallel)
    (0.7, 1.3, 0.4), pytest.param((2.0, 0.5, -0.9), marks=_SLOW), (1.0, 1.0, 1 - 1e-9),
    pytest.param((1.5, 0.6, np.sqrt(0.9)), marks=_SLOW), (0.8, 0.8, -0.8), pytest.param((0.05, 3.0, 0.1), marks=_SLOW),
]


@pytest.mark.parametrize("s,t", [(2, -0.75), pytest.param("1/sqrt(2)", 1.5, marks=pytest.mark.slow)])
@pytest.mark.parametrize("cov", COVS)
def test_pair_kernels_vs_mpmath(s, t, cov):
    act = activation(f"erf:scale={s},shift={t}")
    sf = float(sp.sympify(s))
    kernel = compile_pair_kernel(act, PAIR_KEYS)
    got = kernel(np.array(cov[0]), np.array(cov[1]), np.array(cov[2]))
    for key in PAIR_KEYS:
        ref = ref_pair(*key, sf, t, *cov)
        assert abs(float(got[key]) - float(ref)) <= 1e-11 + 1e-10 * abs(float(ref)), (key, got[key], ref)


@pytest.mark.parametrize("s,t", [(2, -0.75), pytest.param("1/sqrt(2)", 1.5, marks=pytest.mark.slow)])
@pytest.mark.parametrize("q", [0.02, 4.0])
def test_single_kernels_vs_mpmath(s, t, q):
    act = activation(f"erf:scale={s},shift={t}")
    keys = tuple((a, b, m) for a in range(3) for b in range(a, 3) for m in range(3) if a + b + m <= 4)
    got = compile_single_kernel(act, keys)(np.array(q))
    for key in keys:
        ref = ref_single(*key, s, t, q)
        assert abs(float(got[key]) - float(ref)) <= 1e-11 + 1e-10 * abs(float(ref)), (key, got[key], ref)


@settings(max_examples=15, deadline=None)
@given(
    s=st.floats(0.2, 2.5), t=st.floats(-2.0, 2.0).filter(lambda x: abs(x) > 1e-3),
    q1=st.floats(0.01, 4.0), q2=st.floats(0.01, 4.0),
    rho=st.one_of(st.floats(-1.0, 1.0), st.sampled_from([1.0, -1.0, 1 - 1e-12, -1 + 1e-12])),
    key=st.sampled_from([(0, 0), (0, 1), (1, 1), (1, 2), (0, 2)]),
)
def test_pair_property_all_covariances(s, t, q1, q2, rho, key):
    """For all scales, shifts and covariances on the cone (boundary included): closed form = quadrature."""
    act = Erf(scale=s, shift=t)
    c = rho * np.sqrt(q1 * q2)
    got = float(compile_pair_kernel(act, (key,))(np.array(q1), np.array(q2), np.array(c))[key])
    ref = float(ref_pair(*key, act.scale, act.shift, q1, q2, c))
    assert abs(got - ref) <= 1e-11 + 1e-9 * abs(ref)


def test_shift_to_zero_meets_arcsine_route():
    """Phi_2 forms at t -> 0 against the centred arcsine/Price route (odd pairs -> 0)."""
    cov = (np.array([0.7, 1.0]), np.array([1.3, 1.0]), np.array([0.4, 0.999]))
    centred = compile_pair_kernel(activation("erf:scale=2"), ((0, 0), (1, 1), (0, 2), (2, 2)))(*cov)
    shifted = compile_pair_kernel(Erf(scale=2, shift=1e-9), PAIR_KEYS)(*cov)
    for key, val in centred.items():
        np.testing.assert_allclose(shifted[key], val, rtol=1e-7, atol=1e-8)
    for key in ((0, 1), (1, 2)):
        np.testing.assert_allclose(shifted[key], 0.0, atol=1e-7)
        assert np.all(np.abs(compile_pair_kernel(Erf(scale=2, shift=0.3), (key,))(*cov)[key]) > 1e-2)


# -- the network: biases route, Monte Carlo -------------------------------------------------------------


def _net(rng, Ni=3, Nh=2):
    W = rng.normal(size=(Nh, Ni)) / np.sqrt(Ni)
    v = rng.normal(size=Nh) / np.sqrt(Nh)
    return W, v


@pytest.mark.parametrize("s,t", [(2.0, 0.5), (0.5, -1.0)])
def test_equals_centred_erf_with_hidden_biases(s, t):
    """erf(s w.x + t) = erf(s (w.x + t/s)): the W, v blocks of the centred erf with b = t/s, and the loss."""
    rng = np.random.default_rng(11)
    W, v = _net(rng)
    Wt, vt = W + 0.2 * rng.normal(size=W.shape), v - 0.3
    P = W.size + v.size
    b = np.full(v.size, t / s)
    act = Erf(scale=s, shift=t)
    for kw in ({}, {"W_teacher": Wt, "v_teacher": vt}):
        H = symhess.expected_hessian(act, W, v, **kw)
        extra = {"b_teacher": b} if kw else {}
        Hb = symhess.expected_hessian(Erf(scale=s), W, v, b=b, **kw, **extra)
        np.testing.assert_allclose(H, Hb[:P, :P], rtol=1e-12, atol=1e-14)
    L = symhess.population_loss(act, W, v, Wt, vt)
    Lb = symhess.population_loss(Erf(scale=s), W, v, Wt, vt, b=b, b_teacher=b)
    assert L == pytest.approx(Lb, rel=1e-12)
    op = symhess.hessian_operator(act, W, v, Wt, vt)
    x = rng.normal(size=P)
    np.testing.assert_allclose(op.matvec(x), symhess.expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt) @ x,
                               rtol=1e-12, atol=1e-13)


def _mc_hessian(s, t, W, v, Wt, vt, n, rng):
    """Monte Carlo of E[g g^T + (f - f*) d^2 f] with per-entry standard errors."""
    Nh, Ni = W.shape
    from scipy.special import erf

    X = rng.normal(size=(n, Ni))
    U, Ut = X @ W.T, X @ Wt.T
    sig = erf(s * U + t)
    d1 = 2 * s / np.sqrt(np.pi) * np.exp(-(s * U + t) ** 2)
    d2 = -2 * (s * U + t) * s * d1
    res = sig @ v - erf(s * Ut + t) @ vt
    gW = ((v * d1)[:, :, None] * X[:, None, :]).reshape(n, Nh * Ni)  # df/dW_ij = v_i sigma'(u_i) x_j
    G = np.concatenate([gW, sig], axis=1)  # df/dv_i = sigma(u_i)
    P = G.shape[1]
    samples = G[:, :, None] * G[:, None, :]
    # second derivatives: d2f/dw_i dw_i = v_i s2(u_i) x x^T, d2f/dw_i dv_i = s1(u_i) x
    second = np.zeros((n, P, P))
    for i in range(Nh):
        sl = slice(i * Ni, (i + 1) * Ni)
        second[:, sl, sl] = (v[i] * d2[:, i])[:, None, None] * X[:, :, None] * X[:, None, :]
        second[:, sl, Nh * Ni + i] = d1[:, i, None] * X
        second[:, Nh * Ni + i, sl] = d1[:, i, None] * X
    samples = samples + res[:, None, None] * second
    return samples.mean(0), samples.std(0) / np.sqrt(n), 0.5 * np.mean(res**2), np.std(0.5 * res**2) / np.sqrt(n)


def test_dense_hessian_and_loss_vs_monte_carlo():
    rng = np.random.default_rng(5)
    s, t = 1.5, 0.6
    W, v = _net(rng)
    Wt, vt = W + 0.3 * rng.normal(size=W.shape), v + 0.4
    act = activation(f"erf:scale={s},shift={t}")
    for Wt_, vt_ in ((W, v), (Wt, vt)):
        mc, se, loss_mc, loss_se = _mc_hessian(s, t, W, v, Wt_, vt_, 200_000, rng)
        H = symhess.expected_hessian(act, W, v, W_teacher=Wt_, v_teacher=vt_)
        assert np.all(np.abs(H - mc) <= 5 * se + 1e-12), np.max(np.abs(H - mc) / (se + 1e-300))
        # the test can fail: the centred erf (same scale) differs by many standard errors
        H0 = symhess.expected_hessian(activation(f"erf:scale={s}"), W, v, W_teacher=Wt_, v_teacher=vt_)
        assert np.max(np.abs(H0 - mc) / (se + 1e-12)) > 50
        if Wt_ is Wt:
            L = symhess.population_loss(act, W, v, Wt_, vt_)
            assert abs(L - loss_mc) <= 5 * loss_se and loss_mc > 20 * loss_se


# -- counting, derivations, export -----------------------------------------------------------------------


@pytest.mark.parametrize("Ni,Nh", [(1, 2), (2, 2), (3, 2), (2, 3)])
def test_full_rank_certified(Ni, Nh):
    """The shifted erf is neither odd nor even; the rank stays P = N_h(N_i + 1), certified."""
    act = activation("erf:scale=1,shift=1/2")
    rule = act.counting_rule(Ni, Nh)
    assert rule.value == Nh * (Ni + 1) and rule.status == "exact"
    assert symhess.effective_parameters(act, Ni, Nh).value == Nh * (Ni + 1)
    from symhess.two_layer.counting import measure_rank

    res = measure_rank(act, Ni, Nh, method="certify", rng=Ni * 10 + Nh)
    assert res.rank == Nh * (Ni + 1) and res.status == "exact", res


def test_derive_blocks_symbolic_and_latex():
    """Symbolic s and t: the blocks are written with Phi_2 (not elementary), export to LaTeX."""
    from symhess.activations.bivariate_normal import BivariateNormalCDF
    from symhess.export.latex import latex_expr

    act = activation("erf:scale=s,shift=t")
    blocks = symhess.derive_blocks(act)
    assert blocks["vv"].entry.has(BivariateNormalCDF)
    syms = {x.name for x in blocks["vv"].entry.free_symbols}
    assert {"s", "t"} <= syms
    assert r"\Phi_{2}\left(" in latex_expr(blocks["vv"].entry)
    assert r"\Phi_{2}" in symhess.to_latex(blocks)


def test_checker_evaluates_phi2_and_rejects_the_centred_kernel():
    """`symhess check` with the shifted erf: Phi_2 evaluated in mpmath; the arcsine kernel is rejected,
    and the checker's own Gauss-Hermite route agrees with symhess."""
    import os
    import subprocess
    import sys

    formula = r"\frac{2}{\pi}\arcsin\frac{2c}{\sqrt{(1+2q_1)(1+2q_2)}}"
    out = subprocess.run(
        [sys.executable, "-m", "symhess", "check", "--expectation", "0,0", "--formula", formula, "-a", "erf:shift=1/2"],
        capture_output=True, text=True, env=os.environ, timeout=300)
    assert out.returncode != 0, out.stdout
    assert "agrees with symhess" in out.stdout and "NameError" not in out.stdout + out.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "symhess", "check", "--expectation", "0,0", "--formula", formula, "-a", "erf"],
        capture_output=True, text=True, env=os.environ, timeout=300)
    assert ok.returncode == 0, ok.stdout


def test_mpmath_phi2_of_the_checker():
    """The checker's Phi_2 (Plackett's integral) against the float64 Owen's-T evaluation and exact limits."""
    from symhess.check.identity import _bivariate_normal_cdf_mp
    from symhess.kernels.means import bivariate_normal_cdf

    for h, k, rho in ((0.3, -0.7, 0.4), (1.2, 0.5, -0.95), (0.0, 0.0, 0.5), (-0.4, 0.9, 1 - 1e-10), (0.2, 0.2, 1.0)):
        ref = _bivariate_normal_cdf_mp(h, k, rho)
        assert abs(float(ref) - float(bivariate_normal_cdf(h, k, rho))) < 1e-14
    # Phi_2(0, 0; rho) = 1/4 + arcsin(rho) / (2 pi), exactly
    assert abs(_bivariate_normal_cdf_mp(0, 0, mp.mpf("0.3")) - (mp.mpf(1) / 4 + mp.asin(mp.mpf("0.3")) / (2 * mp.pi))) < 1e-28


@pytest.mark.parametrize("spec2", ["erf:scale=1/2", "erf:scale=1/2,shift=-1", "erf:scale=2,shift=1/3"])
def test_cross_pair_two_erfs_vs_mpmath(spec2):
    """Student erf(2z + 1/2) against a teacher erf of another scale and shift (teacher_activation)."""
    from symhess.expectation.pairs import cross_pair_expectation
    from symhess.kernels.codegen import compile_cross_pair_kernel

    a1, a2 = activation("erf:scale=2,shift=1/2"), activation(spec2)
    keys = ((0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (2, 1))
    kernel = compile_cross_pair_kernel(a1, a2, keys)
    assert cross_pair_expectation(a1, a2, 0, 0, with_route=True)[1] == "closed form"
    for cov in ((0.7, 1.3, 0.4), (1.0, 1.0, -1.0 + 1e-12)):
        got = kernel(*(np.array(x) for x in cov))
        for key in keys:
            ref = ref_pair(*key, 2, 0.5, *cov, s2=a2.scale, t2=a2.shift)
            assert abs(float(got[key]) - float(ref)) <= 1e-11 + 1e-10 * abs(float(ref)), (key, got[key], ref)


def test_mismatched_teacher_equals_biases_route():
    """teacher_activation with another shift = centred erfs with hidden biases t/s on each side."""
    rng = np.random.default_rng(21)
    W, v = _net(rng)
    Wt, vt = W + 0.2 * rng.normal(size=W.shape), v + 0.1
    P = W.size + v.size
    student, teacher = Erf(scale=2, shift=0.5), Erf(scale=1, shift=-0.3)
    H = symhess.expected_hessian(student, W, v, W_teacher=Wt, v_teacher=vt, teacher_activation=teacher)
    Hb = symhess.expected_hessian(Erf(scale=2), W, v, W_teacher=Wt, v_teacher=vt, teacher_activation=Erf(scale=1),
                                  b=np.full(2, 0.25), b_teacher=np.full(2, -0.3))
    np.testing.assert_allclose(H, Hb[:P, :P], rtol=1e-12, atol=1e-14)


def test_deep_ball_gradients_include_the_shift():
    """Ball-arithmetic gradients of a deep network (certified ranks) see erf(s h + t), as float64 does."""
    from symhess.deep.pointwise import ball_gradients, gradients, rational_inputs

    Ws = [np.array([[0.5, -0.25], [0.125, 0.75]]), np.array([[1.0, -0.5]])]
    X = rational_inputs(3, 2, 0)
    act = activation("erf:scale=2,shift=1/2")
    G = gradients(act, Ws, np.array(X, dtype=float))
    B = np.vectorize(lambda b: float(b.mid()))(ball_gradients(act, Ws, X, 128))
    np.testing.assert_allclose(B, G, rtol=1e-14, atol=1e-15)
    assert np.abs(G - gradients(activation("erf:scale=2"), Ws, np.array(X, dtype=float))).max() > 0.1
