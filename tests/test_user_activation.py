"""A user's own activation from a SymPy expression (``symhess.activation(expr=...)``).

Independent routes: the built-in sigmoid, softplus, SiLU and tanh (hand-written tail-accurate derivatives,
exact strips and saturations) for the same functions given as expressions and kept on the generic route
(``match_family=False``); mpmath quadrature (30 digits for the one-unit
expectations, stored 20-digit Gauss-Legendre references for the pairs) for three activations with different singularity
structures (Mish, with a logarithmic branch point at ``i pi`` and tanh poles at ``log sqrt 2 + 3 pi i/4``;
``log cosh``, branch points at ``i pi/2``; ``z/(1+z^2)``, poles at ``+-i`` and algebraic decay); Monte Carlo
of ``E[grad f grad f^T]``.
"""

from __future__ import annotations

import math
import pickle
import warnings

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import symhess
from symhess.activations.expression import UserActivation, parse_expression
from symhess.activations.singularities import locate_singularities
from symhess.errors import InvalidParameterError, InvalidTypeError, SymhessError
from symhess.kernels.quadrature import gaussian_pair_quadrature, gaussian_single_quadrature

z = symhess.z

BUILTIN_AS_EXPRESSION = {
    "tanh": "tanh(z)",
    "sigmoid": "1/(1 + exp(-z))",
    "softplus": "log(1 + exp(z))",
    "silu": "z/(1 + exp(-z))",
}
ORDERS = [(0, 0), (1, 1), (2, 0), (0, 2), (2, 2), (3, 1), (1, 3), (4, 0), (2, 1)]

NEW = {
    "mish": z * sp.tanh(sp.log(1 + sp.exp(z))),
    "logcosh": sp.log(sp.cosh(z)),
    "rational": z / (1 + z**2),
}
# (name, a, b, q1, q2, c) -> E[s^(a)(u) s^(b)(v)], computed once (not by symhess) from the conditional form
# E[s^(a)(u) E[s^(b)(kappa u + tau Z) | u]]: composite Gauss-Legendre, 24 nodes per panel of width 2 in the
# activation's argument (the nearest singularity is at distance >= 1, so each panel converges like 2.4^-48), on
# +-11 standard deviations in both variables, derivatives by sympy.diff lambdified to mpmath at 20 digits; the
# float64 nodes limit the references to ~1e-15 relative
PAIR_REFERENCES = {
    ("mish", 0, 0, 1.0, 1.0, 0.5): "0.235212562573301023",
    ("mish", 1, 1, 4.0, 0.25, 0.999): "0.431442106654698911",  # rho = 0.999
    ("mish", 2, 2, 1.0, 1.0, 1 - 1e-9): "0.196883362029659243",
    ("mish", 3, 1, 0.5, 2.0, -0.9): "0.101032520145712977",
    ("mish", 4, 0, 10.0, 10.0, 3.0): "-0.0119916906744100613",
    ("logcosh", 0, 0, 10.0, 10.0, 3.0): "3.99551818466667876",
    ("logcosh", 2, 0, 1.0, 1.0, 0.5): "0.198664024480340705",
    ("logcosh", 1, 1, 1e-2, 1e-2, 1e-2 * (1 - 1e-9)): "0.00980546874572570447",
    ("logcosh", 4, 0, 2.0, 0.5, 0.9): "0.0305329787747525408",
    ("rational", 0, 0, 1.0, 1.0, 0.5): "0.0625062911082941307",
    ("rational", 1, 1, 10.0, 0.1, 0.99): "0.0783160305674543397",  # rho = 0.99
    ("rational", 3, 1, 1.0, 1.0, 1 - 1e-9): "-0.937728176255178923",
    ("rational", 2, 2, 4.0, 4.0, -2.0): "-0.00848401893462611798",
}


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _generic(name: str) -> UserActivation:
    act = symhess.activation(expr=BUILTIN_AS_EXPRESSION[name], match_family=False)
    assert isinstance(act, UserActivation)
    return act


# -- routes chosen ----------------------------------------------------------------------------------


@pytest.mark.parametrize("expr,spec", [
    ("log(1 + exp(z))", "softplus"),
    ("exp(z)/(1 + exp(z))", "sigmoid"),
    (sp.tanh(z), "tanh"),
    ("erf(2*z)", "erf:scale=2"),
    ("z*(1 + erf(z/sqrt(2)))/2", "gelu"),
    ("Max(0, z)", "relu"),
    ("Abs(z)", "abs"),
    ("sin(0.5*z + 1)", "sin:scale=1/2,phase=1"),
    ("exp(-z**2/2)", "gaussian"),
])
def test_registered_family_is_recognised(expr, spec):
    assert symhess.activation(expr=expr) == symhess.activation(spec)


def test_no_overreach_in_matching():
    """Near misses stay on the generic route (a wrong family would be a silent wrong answer)."""
    for expr in ("tanh(z) + z/1000", "log(2 + exp(z))", "erf(z) + erf(z)**3/10"):
        assert isinstance(symhess.activation(expr=expr), UserActivation), expr


def test_polynomial_takes_exact_moments():
    act = symhess.activation(expr="1/2 + z - z**3/3")
    assert act.route(0) == act.route(4) == "exact moments"
    expr, route = symhess.pair_expectation(act, 0, 0, with_route=True)
    assert route == "exact moments"
    # independent: E[s(u)s(v)] at q1 = q2 = 1, c = 1/2 by Isserlis, done by hand
    # s = 1/2 + z - z^3/3: E = 1/4 + E[uv] - (2/3)E[u v^3] + (1/9)E[u^3 v^3] - (1/3)E[u^3] ... (odd terms vanish)
    # E[uv]=c, E[uv^3]=3c, E[u^3v^3]=9c+6c^3  ->  1/4 + c - 2c + c + (2/3)c^3
    val = expr.subs({symhess.symbols.q1: 1, symhess.symbols.q2: 1, symhess.symbols.c: sp.Rational(1, 2)})
    assert sp.nsimplify(val) == sp.Rational(1, 4) + sp.Rational(2, 3) / 8


def test_quadrature_route_report():
    act = symhess.activation(expr=NEW["mish"], name="mish")
    rep = act.describe()
    assert rep.route == act.route(3) == "quadrature"
    assert rep.strip.located == pytest.approx(3 * math.pi / 4, rel=1e-12)
    assert rep.saturation is None
    text = str(rep)
    assert "mish" in text and "strip" in text and "h/2h/4h" in text


@pytest.mark.parametrize("expr,strip", [
    (1 / (1 + sp.exp(-z)), math.pi), (sp.log(1 + sp.exp(z)), math.pi), (sp.tanh(2 * z), math.pi / 4),
    (NEW["mish"], 3 * math.pi / 4), (NEW["logcosh"], math.pi / 2), (NEW["rational"], 1.0),
    (sp.atan(z), 1.0), (sp.sqrt(4 + z**2), 2.0), (z * sp.erf(z), math.inf), (1 / sp.cosh(z / 3), 3 * math.pi / 2),
])
def test_singularities_located(expr, strip):
    d, where = locate_singularities(expr, z)
    assert d == pytest.approx(strip, rel=1e-12)
    if math.isfinite(strip):  # the point found is a genuine singularity: |sigma'| is huge next to it
        f = sp.lambdify(z, sp.diff(expr, z), "mpmath")
        assert abs(f(mp.mpc(where.real, where.imag * (1 - 1e-8)))) > 1e3


def test_saturation_measured():
    tanh = _generic("tanh")
    lo, hi, rate = tanh.saturation()
    assert (lo, hi) == (-1.0, 1.0) and 0.5 < rate <= 2.0
    lo, hi, rate = _generic("sigmoid").saturation()
    assert (lo, hi) == (0.0, 1.0) and 0.5 < rate <= 1.0
    assert _generic("softplus").saturation() is None
    assert symhess.activation(expr=NEW["rational"]).saturation() is None  # algebraic decay is not saturation


# -- the generic route equals the built-in one ------------------------------------------------------


def _scale(B, a, b, q1, q2):
    """Cauchy-Schwarz scale sqrt(E[s^(a)(u)^2] E[s^(b)(v)^2]) of K_ab, from the built-in route."""
    return math.sqrt(float(_quiet(gaussian_single_quadrature, B, a, a, 0, q1))
                     * float(_quiet(gaussian_single_quadrature, B, b, b, 0, q2)))


def _tol(B, ref, a, b, q1, q2):
    """1e-12 relative, or 4e-15 of the Cauchy-Schwarz scale for values that vanish (odd integrands)."""
    return 1e-12 * abs(ref) + 4e-15 * _scale(B, a, b, q1, q2)


@pytest.mark.parametrize("name", sorted(BUILTIN_AS_EXPRESSION))
@pytest.mark.parametrize("q1,q2,rho", [(1e-2, 1e-2, 0.3), (1.0, 1.0, 0.5), (1e2, 1.0, 0.9), (1e2, 1e2, 1 - 1e-9),
                                        (1e-2, 1e2, -(1 - 1e-9)), (3.0, 0.5, 0.999)])
def test_generic_equals_builtin(name, q1, q2, rho):
    user, B = _generic(name), symhess.activation(name)
    c = rho * math.sqrt(q1 * q2)
    for a, b in ORDERS:
        got = float(_quiet(gaussian_pair_quadrature, user, a, b, q1, q2, c))
        ref = float(_quiet(gaussian_pair_quadrature, B, a, b, q1, q2, c))
        assert abs(got - ref) <= _tol(B, ref, a, b, q1, q2), (a, b, got, ref)
    for a, b, m in [(0, 0, 0), (1, 1, 0), (0, 1, 1), (2, 1, 1), (1, 1, 2), (2, 2, 0)]:
        got = float(_quiet(gaussian_single_quadrature, user, a, b, m, q1))
        ref = float(_quiet(gaussian_single_quadrature, B, a, b, m, q1))
        assert abs(got - ref) <= _tol(B, ref, a, b, q1, q1), (a, b, m, got, ref)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(BUILTIN_AS_EXPRESSION)),
       lq1=st.floats(-2, 2), lq2=st.floats(-2, 2),
       gap=st.floats(-9, 0), sign=st.sampled_from([-1.0, 1.0]), order=st.sampled_from(ORDERS))
def test_generic_equals_builtin_hypothesis(name, lq1, lq2, gap, sign, order):
    """Variances 1e-2..1e2, correlations from 0 to 1 - 1e-9 in magnitude."""
    q1, q2 = 10.0**lq1, 10.0**lq2
    rho = sign * (1 - 10.0**gap)  # gap = 0: rho = 0; gap = -9: |rho| = 1 - 1e-9
    c = rho * math.sqrt(q1 * q2)
    user, B = _generic(name), symhess.activation(name)
    a, b = order
    got = float(_quiet(gaussian_pair_quadrature, user, a, b, q1, q2, c))
    ref = float(_quiet(gaussian_pair_quadrature, B, a, b, q1, q2, c))
    assert abs(got - ref) <= _tol(B, ref, a, b, q1, q2)


@pytest.mark.parametrize("name", ["softplus", "tanh"])
def test_dense_hessian_equals_builtin(name):
    W, v = symhess.teacher(4, 3, rng=1)
    got = _quiet(symhess.expected_hessian, _generic(name), 3 * W, v)
    ref = _quiet(symhess.expected_hessian, name, 3 * W, v)
    assert np.max(np.abs(got - ref)) <= 1e-12 * np.max(np.abs(ref))


# -- new activations against mpmath -----------------------------------------------------------------


def _single_ref(expr, a, b, m, q):
    mp.mp.dps = 30
    g = sp.lambdify(z, sp.diff(sp.diff(expr, z, a) * sp.diff(expr, z, b), z, m), "mpmath")
    s = mp.sqrt(mp.mpf(q))
    pts = sorted({-12.0, 0.0, 12.0} | {k / float(s) for k in (-20, -5, -2, -1, 1, 2, 5, 20) if abs(k / float(s)) < 12})
    return float(mp.quad(lambda x: g(s * x) * mp.npdf(x), pts))


@pytest.mark.parametrize("name", sorted(NEW))
@pytest.mark.parametrize("a,b,m,q", [(0, 0, 0, 1e-2), (0, 0, 0, 1e2), (1, 1, 0, 1.0), (0, 1, 1, 10.0), (2, 1, 1, 0.5),
                                     (1, 1, 2, 3.0)])
def test_single_matches_mpmath(name, a, b, m, q):
    act = symhess.activation(expr=NEW[name])
    ref = _single_ref(NEW[name], a, b, m, q)
    val, err = _quiet(gaussian_single_quadrature, act, a, b, m, q, with_error=True)
    assert abs(float(val) - ref) <= 1e-11 * max(abs(ref), 1e-3)
    assert float(err) <= 1e-9 * max(abs(ref), 1e-3)  # a stated error that is small, and not below the true one
    assert abs(float(val) - ref) <= max(float(err), 1e-15 * max(abs(ref), 1e-3)) * 10


@pytest.mark.parametrize("key", sorted(PAIR_REFERENCES, key=str))
def test_pair_matches_mpmath(key):
    name, a, b, q1, q2, c = key
    ref = float(mp.mpf(PAIR_REFERENCES[key]))
    act = symhess.activation(expr=NEW[name])
    val, err = _quiet(gaussian_pair_quadrature, act, a, b, q1, q2, c, with_error=True)
    assert abs(float(val) - ref) <= 1e-11 * max(abs(ref), 1e-3)
    assert abs(float(val) - ref) <= 10 * float(err) + 1e-16
    val2 = _quiet(gaussian_pair_quadrature, act, b, a, q2, q1, c)
    assert abs(float(val2) - ref) <= 1e-11 * max(abs(ref), 1e-3)


def test_monte_carlo_dense_hessian():
    """E[grad f grad f^T] at the optimum for Mish, against 4e5 Monte Carlo samples (5 standard errors)."""
    act = symhess.activation(expr=NEW["mish"])
    W, v = symhess.teacher(3, 2, rng=3)
    H = _quiet(symhess.expected_hessian, act, W, v)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((400_000, 3))
    h = x @ W.T
    s = act.numeric(0)(h)
    ds = act.numeric(1)(h)
    # gradient of f = sum_i v_i s(w_i . x): d/dW_ij = v_i s'(h_i) x_j (row-major), d/dv_i = s(h_i)
    g = np.concatenate([((v * ds)[:, :, None] * x[:, None, :]).reshape(len(x), -1), s], axis=1)
    outer = g[:, :, None] * g[:, None, :]
    mc = outer.mean(axis=0)
    se = outer.std(axis=0) / math.sqrt(len(x))
    assert np.all(np.abs(H - mc) <= 5 * se + 1e-12)
    # the check can fail: a factor 2 on the vv block is seen
    H2 = H.copy()
    H2[-2:, -2:] *= 2
    assert not np.all(np.abs(H2 - mc) <= 5 * se + 1e-12)


# -- construction, parameters, identity ------------------------------------------------------------


def test_parameters_and_variable():
    act = symhess.activation(expr="a*tanh(x/a) + b*x", variable="x", a=2, b=0.1, match_family=False)
    assert act.formula == 2 * sp.tanh(z / 2) + z / 10
    assert symhess.activation(expr=sp.Symbol("t") ** 2 + sp.Symbol("t"), variable=sp.Symbol("t")).formula == z**2 + z
    # floats are read exactly, so one function is one cache key
    assert symhess.activation(expr=sp.tanh(0.5 * z) + 0.1 * z) == symhess.activation(expr="tanh(z/2) + z/10")
    # a plain sympy symbol named z (no assumptions) is the variable
    assert symhess.activation(expr=sp.Symbol("z") ** 3).formula == z**3


def test_identity_pickle_hash_and_spec():
    a = symhess.activation(expr=NEW["logcosh"], name="log cosh")
    b = symhess.activation(expr="log(cosh(z))")
    assert a == b and hash(a) == hash(b)  # the label is not part of the identity
    c = pickle.loads(pickle.dumps(a))
    assert c == a and hash(c) == hash(a) and c.label == "log cosh"
    assert symhess.activation(a.spec) == a
    assert symhess.activation(expr="log(cosh(z))", name="x").describe().route == "quadrature"


def test_cli_report_shows_route():
    from symhess.cli import main

    res = CliRunner().invoke(main, ["report", "-a", "expr:log(cosh(z))", "--n-in", "3", "--n-hidden", "2"])
    assert res.exit_code == 0, res.output
    assert "route (every derivative order): quadrature" in res.output
    assert "worst estimated error" in res.output
    res = CliRunner().invoke(main, ["report", "-a", "expr:exp(z**2)"])
    assert res.exit_code == 2 and "grows exponentially" in res.output


@pytest.mark.parametrize("kwargs,err,match", [
    ({"expr": "tanh(b*z)"}, InvalidParameterError, "unknown name 'b'"),
    ({"expr": sp.tanh(sp.Symbol("b") * z)}, InvalidParameterError, r"free symbol\(s\) \['b'\]"),
    ({"expr": "log(z)"}, InvalidParameterError, "not real at z = -50"),
    ({"expr": "sqrt(z)"}, InvalidParameterError, "not real"),
    ({"expr": "1/z"}, InvalidParameterError, "z = 0"),
    ({"expr": "sin(z)/z"}, InvalidParameterError, "not finite at z = 0"),
    ({"expr": "z*Abs(z)"}, InvalidParameterError, "kink or a jump"),
    ({"expr": "Max(z, z**2)"}, InvalidParameterError, "kink or a jump"),
    ({"expr": "exp(z**2)"}, InvalidParameterError, "grows exponentially"),
    ({"expr": "cosh(z)"}, InvalidParameterError, "grows exponentially"),
    ({"expr": "z**5*tanh(z)"}, InvalidParameterError, r"grows like \|z\|\^5"),
    ({"expr": "__import__('os').system('true')"}, InvalidParameterError, "unknown name '__import__'"),
    ({"expr": "z.__class__"}, InvalidParameterError, "not allowed|unknown name"),
    ({"expr": "lambda: 1"}, InvalidParameterError, "unknown name 'lambda'"),
    ({"expr": "tanh(z"}, InvalidParameterError, "does not parse"),
    ({"expr": "3"}, InvalidParameterError, "does not depend on the variable"),
    ({"expr": 3}, InvalidTypeError, "SymPy expression or a string"),
    ({"expr": "tanh(a*z)", "a": "2"}, InvalidTypeError, "a='2' must be a number"),
    ({"expr": "tanh(a*z)", "a": float("nan")}, InvalidParameterError, "finite"),
    ({"expr": "tanh(x)", "variable": "exp"}, InvalidParameterError, "variable='exp'"),
    ({"expr": "tanh(z)", "name": 3}, InvalidTypeError, "name=3"),
    ({"expr": "1/(1 + z**2) + I"}, InvalidParameterError, "unknown name 'I'"),
    ({}, InvalidTypeError, "needs a spec"),
])
def test_bad_input(kwargs, err, match):
    with pytest.raises(err, match=match) as info:
        symhess.activation(**kwargs)
    assert isinstance(info.value, SymhessError)


def test_spec_and_expr_together_refused():
    with pytest.raises(InvalidParameterError, match="together"):
        symhess.activation("tanh", expr="tanh(z)")
    with pytest.raises(InvalidParameterError, match="together"):
        symhess.activation("expr:tanh(z)", expr="tanh(z)")


def test_parser_reads_decimals_exactly():
    assert parse_expression("0.1*z^2", {"z"}) == sp.Rational(1, 10) * sp.Symbol("z", real=True) ** 2


def test_overflow_points_redone_in_mpmath():
    """SymPy's softplus'' = exp(z)/(exp(z)+1) - exp(2z)/(exp(z)+1)^2 is inf/inf in float64 at z = 800.

    Elsewhere SymPy's formulas keep absolute, not relative, accuracy in the tails (log(1 + e^-40) is 0 in
    float64), which is what the quadrature needs (its error is relative to E|integrand|).
    """
    user, B = _generic("softplus"), symhess.activation("softplus")
    x = np.array([-800.0, -40.0, 0.3, 40.0, 360.0, 800.0])
    got = user.numeric_derivatives((0, 1, 2, 3), x)
    ref = B.numeric_derivatives((0, 1, 2, 3), x)
    for n in range(4):
        assert np.all(np.isfinite(got[n]))
        assert np.all(np.abs(got[n] - ref[n]) <= 1e-12 * np.abs(ref[n]) + 1e-15), n


def test_unlocated_strip_is_said():
    """erf has no rule for its preimages: the strip is conservative and the report says so."""
    act = symhess.activation(expr="1/(2 + erf(z))")
    rep = act.describe()
    assert rep.strip.located is None and "not located" in rep.strip.how
    assert "only guarantee" in rep.accuracy
    # and the numbers are still right: E[s(u)s(v)] at q = 1, rho = 1 - 1e-12 against E[s(h)^2] by mpmath
    mp.mp.dps = 30
    val = float(_quiet(gaussian_pair_quadrature, act, 0, 0, 1.0, 1.0, 1.0 - 1e-12))
    ref2 = mp.quad(lambda x: mp.npdf(x) / (2 + mp.erf(x)) ** 2, [-12, 0, 12])
    assert abs(val - float(ref2)) <= 1e-10 * float(ref2)


def _cs(act, a, b, q1, q2):
    return math.sqrt(float(_quiet(gaussian_single_quadrature, act, a, a, 0, q1))
                     * float(_quiet(gaussian_single_quadrature, act, b, b, 0, q2)))


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(sorted(NEW)), lq1=st.floats(-2, 2), lq2=st.floats(-2, 2), rho=st.floats(-0.99, 0.99),
       order=st.sampled_from([0, 1, 2]))
def test_price_theorem_by_finite_differences(name, lq1, lq2, rho, order):
    """d/dc E[s^(n)(u) s^(n)(v)] = E[s^(n+1)(u) s^(n+1)(v)] (Price), c by a Richardson central difference."""
    act = symhess.activation(expr=NEW[name])
    q1, q2 = 10.0**lq1, 10.0**lq2
    r = math.sqrt(q1 * q2)
    c, d = rho * r, 0.01 * r * (1 - abs(rho))

    def K(cc):
        return float(_quiet(gaussian_pair_quadrature, act, order, order, q1, q2, cc))

    D = lambda h: (K(c + h) - K(c - h)) / (2 * h)  # noqa: E731
    fd = (4 * D(d / 2) - D(d)) / 3
    exact = float(_quiet(gaussian_pair_quadrature, act, order + 1, order + 1, q1, q2, c))
    assert abs(fd - exact) <= 1e-6 * _cs(act, order + 1, order + 1, q1, q2)


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(sorted(NEW)), lq=st.floats(-2, 2), gap=st.floats(-12, -9),
       order=st.sampled_from([(0, 0), (1, 1), (2, 0), (2, 2), (3, 1), (4, 0)]))
def test_near_singular_pair_equals_one_unit(name, lq, gap, order):
    """K_ab(q, q, (1 - eps) q) -> E[s^(a) s^(b)(h)] as eps -> 0: the 2-D rule against the 1-D rule, eps <= 1e-9."""
    act = symhess.activation(expr=NEW[name])
    q = 10.0**lq
    a, b = order
    pair = float(_quiet(gaussian_pair_quadrature, act, a, b, q, q, q * (1 - 10.0**gap)))
    one = float(_quiet(gaussian_single_quadrature, act, a, b, 0, q))
    assert abs(pair - one) <= 1e-8 * _cs(act, a, b, q, q)
