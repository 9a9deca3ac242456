"""Activations, Stein templates, expectation routes and kernel policy, registry-wide."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symhess
from conftest import ACTIVATION_SPECS, LOSS_ONLY_SPECS
from symhess.activations import ACTIVATIONS, activation
from symhess.two_layer.templates import GAUSS_NEWTON, RESIDUAL
from symhess.expectation.stein import pair_template, stein_reduce
from symhess.errors import QuadratureWarning
from symhess.expectation.moments import bivariate_moment
from symhess.expectation.pairs import pair_expectation, single_expectation
from symhess.expectation.pairs import _price
from symhess.kernels.codegen import compile_pair_kernel
from symhess.two_layer.pairs import template_matrices
from symhess.kernels.codegen import lambdify_checked
from symhess.symbols import c, q, q1, q2, z


def test_spec_round_trip(act_spec):
    act = activation(act_spec)
    assert activation(act.spec) == act
    assert hash(activation(act.spec)) == hash(act)


def test_every_registered_activation_is_covered():
    assert {s.split(":")[0] for s in ACTIVATION_SPECS + LOSS_ONLY_SPECS} == set(ACTIVATIONS)


def test_numeric_derivatives_vectorise(act_spec):
    """Every activation evaluates on arrays (erf needs scipy, not math.erf) and matches sympy.diff."""
    act = activation(act_spec)
    x = np.linspace(-2.3, 1.7, 7)
    for order in range(3):
        if act.derivative(order, z).has(sp.DiracDelta):  # kinks (relu, abs) and jumps (sign): no pointwise values
            break
        vals = act.numeric(order)(x)
        assert vals.shape == x.shape
        ref = [float(sp.diff(act.expr(z), z, order).subs(z, t)) for t in x]
        np.testing.assert_allclose(vals, ref, rtol=1e-12, atol=1e-14)


def test_stein_reduction_against_explicit_gaussian_integral():
    """E[x_j x_l g(u, v)] by Stein vs direct 2-D Gaussian integration for a polynomial g."""
    # x in R^2, a = (1, 2), b = (-1, 1); g(u, v) = u^2 v + v^3 u
    x1, x2 = sp.symbols("x1 x2", real=True)
    a, b = (1, 2), (-1, 1)
    u, v = a[0] * x1 + a[1] * x2, b[0] * x1 + b[1] * x2
    g = u**2 * v**2 + v**3 * u
    from symhess.expectation.moments import expect_standard_normal

    direct = expect_standard_normal(x1 * x2 * g, [x1, x2])
    us, vs = sp.symbols("u v", real=True)
    gs = us**2 * vs**2 + vs**3 * us
    cov = {q1: 5, q2: 2, c: 1}  # a.a, b.b, a.b
    E = lambda expr: sum(  # noqa: E731
        cf * bivariate_moment(m, n, *cov.values()) for (m, n), cf in sp.Poly(expr, us, vs).terms()
    )
    red = stein_reduce(2)
    subs = {sp.Symbol("a_j", real=True): a[0], sp.Symbol("a_l", real=True): a[1],
            sp.Symbol("b_j", real=True): b[0], sp.Symbol("b_l", real=True): b[1], sp.Symbol("delta_jl"): 0}
    total = 0
    for term in sp.Add.make_args(red):
        coeff, deriv = term.as_independent(sp.Symbol("u", real=True), sp.Symbol("v", real=True))
        expr = deriv.subs(sp.Function("g")(sp.Symbol("u", real=True), sp.Symbol("v", real=True)), gs).doit()
        total += coeff.subs(subs) * E(sp.expand(expr))
    assert sp.simplify(total - direct) == 0


def test_templates_cover_the_blocks():
    assert pair_template(1, 1, 2) == {"delta": (1, 1), "aa": (3, 1), "bb": (1, 3), "ab": (2, 2)}
    assert pair_template(1, 0, 1) == {"a": (2, 0), "b": (1, 1)}
    assert {s.block for s in GAUSS_NEWTON.values()} == {"WW", "Wv", "vv"}
    assert {s.block for s in RESIDUAL.values()} == {"WW", "Wv"}


@pytest.mark.parametrize("spec", ["quadratic:eps=2/3", "poly:coeffs=[1,-1/2,1/3,1/4]", "poly:coeffs=[0,1]"])
def test_price_theorem_matches_exact_moments(spec):
    """Two independent routes for polynomials: Isserlis moments of derivatives vs Price derivatives of K00."""
    act = activation(spec)
    base = pair_expectation(act, 0, 0)
    for a, b in [(1, 1), (2, 0), (0, 2), (2, 2), (3, 1), (4, 0)]:
        assert sp.expand(_price(base, a, b, q1, q2, c) - pair_expectation(act, a, b)) == 0, (a, b)


@given(st.integers(0, 6), st.integers(0, 6))
def test_bivariate_moment_against_sympy_stats(m, n):
    """E[u^m v^n] (Isserlis) vs sympy.stats on u = Z1, v = rho Z1 + sqrt(1 - rho^2) Z2."""
    from sympy.stats import E, Normal

    rho = sp.Rational(1, 3)
    Z1, Z2 = Normal("Z1", 0, 1), Normal("Z2", 0, 1)
    ref = E(sp.expand(Z1**m * (rho * Z1 + sp.sqrt(1 - rho**2) * Z2) ** n))
    assert sp.simplify(bivariate_moment(m, n, 1, 1, rho) - ref) == 0


def test_routes_are_reported():
    assert pair_expectation("quadratic", 1, 1, with_route=True)[1] == "exact moments"
    assert pair_expectation("erf", 3, 1, with_route=True)[1] == "Price's theorem"
    assert pair_expectation("relu", 2, 2, with_route=True)[1] == "closed form"
    assert pair_expectation("tanh", 1, 1, with_route=True)[1] == "quadrature"
    assert single_expectation("relu", 1, 1, 2, with_route=True)[1] == "closed form"


def test_quadrature_fallback_warns_and_matches_erf_closed_form():
    """Quadrature (the tanh route) checked where a closed form exists: force erf through it."""
    from symhess.kernels.quadrature import gauss_hermite_pair

    act = activation("erf:scale=0.7")
    q1v, q2v = np.array([0.4, 1.5]), np.array([0.9, 0.3])
    cv = np.array([0.2, -0.5]) * np.sqrt(q1v * q2v)
    with pytest.warns(QuadratureWarning, match="Gauss-Hermite"):
        num = gauss_hermite_pair(act, 1, 1, q1v, q2v, cv)
    ref = compile_pair_kernel(act, ((1, 1),))(q1v, q2v, cv)[(1, 1)]
    np.testing.assert_allclose(num, ref, rtol=1e-10)


def test_tanh_quadrature_against_scipy_dblquad():
    from scipy import integrate

    act = activation("tanh")
    q1v, q2v, cv = 0.8, 1.3, 0.4
    cov = np.array([[q1v, cv], [cv, q2v]])
    inv, det = np.linalg.inv(cov), np.linalg.det(cov)
    d = lambda x: 1 - np.tanh(x) ** 2  # noqa: E731
    f = lambda y, x: d(x) * d(y) * np.exp(-0.5 * np.array([x, y]) @ inv @ np.array([x, y])) / (2 * np.pi * np.sqrt(det))  # noqa: E731
    ref, _ = integrate.dblquad(f, -12, 12, -12, 12, epsabs=1e-12)
    with pytest.warns(QuadratureWarning):
        got = template_matrices(act, GAUSS_NEWTON["WW"], np.array([[np.sqrt(q1v), 0]]),
                                np.array([[cv / np.sqrt(q1v), np.sqrt(q2v - cv**2 / q1v)]]), same=False)["delta"]
    assert float(got[0, 0]) == pytest.approx(ref, rel=1e-8)


def _tanh_derivative(k: int, x):
    """tanh^(k) written out by hand (t = tanh): an independent route to the activation's derivatives."""
    t = np.tanh(x)
    s = 1 - t * t
    return [t, s, -2 * t * s, -2 * s * (1 - 3 * t * t), 8 * t * s * (2 - 3 * t * t)][k]


def _adaptive_pair_reference(a, b, q1v, q2v, cv):
    """E[tanh^(a)(u) tanh^(b)(v)] by nested adaptive Gauss-Kronrod (scipy.quad), conditioning v on u."""
    from scipy import integrate

    s1 = np.sqrt(q1v)
    rs = cv / s1
    r = np.sqrt(max(q2v - rs * rs, 0.0))
    phi = lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    opts = dict(epsabs=1e-14, epsrel=1e-13, limit=400, points=[0.0])
    inner = lambda t: integrate.quad(lambda y: phi(y) * _tanh_derivative(b, rs * t + r * y), -12, 12, **opts)[0]  # noqa: E731
    return integrate.quad(lambda t: phi(t) * _tanh_derivative(a, s1 * t) * inner(t), -12, 12, **opts)[0]


@settings(max_examples=12)
@given(ab=st.sampled_from([(0, 0), (1, 1), (2, 2), (3, 1), (1, 3), (2, 0), (0, 2), (4, 0)]),
       q1v=st.floats(0.02, 7.0), q2v=st.floats(0.02, 7.0), rho=st.floats(-0.999, 0.999))
def test_tanh_quadrature_is_accurate_for_steep_units(ab, q1v, q2v, rho):
    """Steep tanh (weight norms up to 2.6, nearly (anti)parallel units): 1e-9 against adaptive quadrature.

    A 64-node Gauss-Hermite rule errs by about 20 % on E[tanh^(3)(u) tanh^(1)(v)] at q = 5.3; the
    kernels' rule must not.
    """
    from symhess.kernels.quadrature import gaussian_pair_quadrature

    a, b = ab
    cv = rho * np.sqrt(q1v * q2v)
    ref = _adaptive_pair_reference(a, b, q1v, q2v, cv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuadratureWarning)
        got = float(gaussian_pair_quadrature(activation("tanh"), a, b, q1v, q2v, cv))
    assert abs(got - ref) <= 1e-9 * max(1.0, abs(ref))


def test_tanh_single_quadrature_is_accurate_for_steep_units():
    """E[(tanh' tanh')''(h)], h ~ N(0, q), against adaptive quadrature of the hand-written derivatives."""
    from scipy import integrate

    from symhess.kernels.quadrature import gaussian_single_quadrature

    for qv in (0.3, 1.0, 5.0):
        s = np.sqrt(qv)

        def f(t):  # (s1 s1)'' = 2 (s2 s2 + s1 s3)
            return 2 * (_tanh_derivative(2, s * t) ** 2 + _tanh_derivative(1, s * t) * _tanh_derivative(3, s * t))

        ref = integrate.quad(lambda t: f(t) * np.exp(-t * t / 2) / np.sqrt(2 * np.pi), -12, 12,
                             epsabs=1e-13, epsrel=1e-12, limit=400, points=[0.0])[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuadratureWarning)
            got = float(gaussian_single_quadrature(activation("tanh"), 1, 1, 2, qv))
        assert abs(got - ref) <= 1e-9 * max(1.0, abs(ref)), qv


def test_quadrature_warns_when_its_refinement_check_fails(monkeypatch):
    """An activation that overstates its analytic strip gets too coarse a step: the self-check says so."""
    from symhess.errors import SymhessAccuracyWarning
    from symhess.kernels.quadrature import gaussian_pair_quadrature

    act = activation("tanh")
    monkeypatch.setattr(type(act), "analytic_strip", lambda self: 40.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuadratureWarning)
        with pytest.warns(SymhessAccuracyWarning, match="estimated relative error"):
            gaussian_pair_quadrature(act, 3, 1, 5.0, 5.0, 2.0)


def test_every_activation_kernel_runs_on_arrays(act_spec):
    act = activation(act_spec)
    W, _ = symhess.teacher(3, 4, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuadratureWarning)
        for spec in GAUSS_NEWTON.values():
            for basis, mat in template_matrices(act, spec, W, W, same=True).items():
                assert mat.shape == (4, 4) and np.all(np.isfinite(mat)), (act_spec, spec.block, basis)


def test_constant_coefficients_broadcast():
    """Linear net: C^delta is the constant 1; it must come back with the batch shape."""
    k = compile_pair_kernel(activation("linear"), ((1, 1), (3, 1)))
    out = k(np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3)))
    assert out[(1, 1)].shape == (2, 3) and np.all(out[(1, 1)] == 1) and np.all(out[(3, 1)] == 0)


def test_unsubstituted_parameter_is_named():
    act = activation("quadratic", eps=sp.Symbol("e"))
    with pytest.raises(ValueError, match=r"symbolic parameter\(s\) eps=e: numeric routes need a number"):
        compile_pair_kernel(act, ((1, 1),))
    with pytest.raises(ValueError, match="missing"):
        lambdify_checked((q,), [q1 + q])


def test_symbolic_coefficients_are_supported():
    cs = sp.symbols("c1 c2", real=True)
    blocks = symhess.derive_blocks(activation("poly", coeffs=cs))
    assert cs[1] in blocks["vv"].entry.free_symbols


def test_erf_kernel_op_count_ceiling():
    """Pin the cost of generated code: the erf WW coefficients after cse (measured 23 at writing)."""
    keys = tuple(sorted(set(pair_template(1, 1, 2).values())))
    assert compile_pair_kernel(activation("erf"), keys).op_count <= 30
