"""Deep networks with biases: h_l = W_l a_{l-1} + b_l, theta = (W_1, ..., W_L, then the biases in layer order)."""

from __future__ import annotations

from math import ceil

import flint
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from gaussian_moments import gaussian_expectation
from symhess.deep.coefficients import deep_coefficient_jacobian
from symhess.deep.counting import deep_linear_rank
from symhess.deep.pointwise import ball_gradients, gradients, modular_gradients, rational_gradients, MODULUS
from symhess.deep.qmc_operator import qmc_hessian_operator
from symhess.deep.weights import deep_teacher, rational_deep_teacher
from symhess.linalg.rationals import dyadic_normal
from symhess.two_layer.coefficients import jacobian_hessian

QUAD = "quadratic:eps=1/2"


def _rational_biases(widths, which, seed):
    rng = np.random.default_rng(seed)
    return [dyadic_normal((n,), rng, 16) if on else None for n, on in zip(widths[1:], which)]


@settings(max_examples=15, deadline=None)
@given(n_in=st.integers(1, 3), n_hidden=st.integers(1, 3), act=st.sampled_from([QUAD, "poly:coeffs=[0,1]", "poly:coeffs=[1,0,1]", "linear"]),
       hidden=st.booleans(), out=st.booleans(), seed=st.integers(0, 10**6))
def test_depth_two_equals_the_two_layer_coefficient_route_with_biases(n_in, n_hidden, act, hidden, out, seed):
    """theta = (W, v, b, b_out) at depth 2; the two-layer route is an independent closed form (Taylor coefficients)."""
    W1, W2 = rational_deep_teacher((n_in, n_hidden, 1), rng=seed)
    b = _rational_biases((n_in, n_hidden, 1), (hidden, out), seed)
    deep = symhess.deep_expected_hessian(act, [W1, W2], exact=True, biases=b)
    two = jacobian_hessian(act, W1, W2[0], hidden_bias=b[0], output_bias=None if b[1] is None else b[1][0])
    assert deep == two



def _sympy_network(widths, sigma, Ws, bs):
    """Concrete SymPy network with symbols for every weight and bias; returns (f, theta symbols, values, x)."""
    xs = sp.symbols(f"x0:{widths[0]}", real=True)
    a = sp.Matrix(xs)
    theta, values, Wsym, bsym = [], {}, [], []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        M = sp.Matrix(W.shape[0], W.shape[1], lambda i, j, l=l: sp.Symbol(f"W{l}_{i}_{j}"))
        Wsym.append(M)
        theta += list(M)
        values.update({s: sp.Rational(int(w.p), int(w.q)) for s, w in zip(M, W.ravel())})
        if b is not None:
            c = sp.Matrix(len(b), 1, lambda i, _, l=l: sp.Symbol(f"b{l}_{i}"))
            bsym.append(c)
            values.update({s: sp.Rational(int(w.p), int(w.q)) for s, w in zip(c, b)})
        else:
            bsym.append(None)
    for l, M in enumerate(Wsym):
        h = M * a + (bsym[l] if bsym[l] is not None else sp.zeros(M.shape[0], 1))
        a = h.applyfunc(sigma) if l < len(Wsym) - 1 else h
    theta += [s for c in bsym if c is not None for s in c]
    return a, theta, values, xs


def test_depth_three_matches_sympy_gaussian_moments_with_biases():
    widths = (2, 2, 1, 1)
    Ws = rational_deep_teacher(widths, rng=3)
    bs = _rational_biases(widths, (True, True, True), 4)
    f, theta, values, xs = _sympy_network(widths, lambda z: z + z**2 / 2, Ws, bs)
    J = f.jacobian(theta).subs(values)
    expected = (J.T * J).applyfunc(lambda e: gaussian_expectation(e, xs))
    H = symhess.deep_expected_hessian(QUAD, Ws, exact=True, biases=bs)
    got = sp.Matrix(H.nrows(), H.ncols(), lambda i, j: sp.Rational(int(H[i, j].p), int(H[i, j].q)))
    assert got == expected


def test_gradients_at_points_match_sympy_with_biases():
    widths = (2, 3, 2)
    Ws = rational_deep_teacher(widths, rng=5)
    bs = _rational_biases(widths, (True, False), 6)
    f, theta, values, xs = _sympy_network(widths, lambda z: z**3 - z, Ws, bs)
    X = [[flint.fmpq(1, 2), flint.fmpq(-3, 4)], [flint.fmpq(2), flint.fmpq(1, 3)]]
    act = "poly:coeffs=[-1,0,1]"
    G = rational_gradients(act, Ws, np.array(X, dtype=object), bs)
    Gf = gradients(act, Ws, np.array(X, dtype=float), [None if b is None else b.astype(float) for b in bs])
    Gb = ball_gradients(act, Ws, np.array(X, dtype=object), 128, bs)
    for mu, x in enumerate(X):
        ref = f.jacobian(theta).subs(values).subs(dict(zip(xs, [sp.Rational(int(t.p), int(t.q)) for t in x])))
        got = sp.Matrix(ref.shape[0], ref.shape[1], lambda i, j: sp.Rational(int(G[mu, i, j].p), int(G[mu, i, j].q)))
        assert got == ref
        assert np.allclose(Gf[mu], np.array(ref, dtype=float), rtol=1e-12, atol=1e-12)
        assert all(abs(float(Gb[mu, i, j].mid()) - float(ref[i, j])) <= 1e-14 * (1 + abs(float(ref[i, j])))
                   and float(Gb[mu, i, j].rad()) < 1e-15 for i in range(ref.shape[0]) for j in range(ref.shape[1]))


def test_modular_gradients_with_biases_reduce_the_exact_ones():
    widths = (2, 2, 2)
    Ws = rational_deep_teacher(widths, rng=1)
    bs = _rational_biases(widths, (True, True), 2)
    Gm = modular_gradients(QUAD, Ws, 3, rng=9, biases=bs)
    X = np.random.default_rng(9).integers(0, MODULUS, size=(3, 2))  # the same integer points
    G = rational_gradients(QUAD, Ws, X.astype(object), bs)
    red = np.vectorize(lambda q: int(q.p) * pow(int(q.q), -1, MODULUS) % MODULUS, otypes=[np.int64])(G)
    assert np.array_equal(Gm, red)


@pytest.mark.parametrize("act", ["erf", "tanh", "relu", QUAD])
def test_qmc_dense_and_operator_with_biases_agree(act):
    widths = (3, 4, 2, 2)
    W = deep_teacher(widths, rng=2)
    b = [np.full(4, 0.3), None, np.array([0.1, -0.2])]
    est = symhess.deep_hessian_estimate(act, W, n_points=128, replicates=3, rng=1, biases=b)
    op = qmc_hessian_operator(act, W, n_points=128, replicates=3, rng=1, biases=b)
    assert op.shape[0] == est.hessian.shape[0] == 12 + 8 + 4 + 4 + 2  # weights, then b_1 and b_3
    V = np.random.default_rng(0).standard_normal((op.shape[0], 2))
    assert np.abs(op @ V - est.hessian @ V).max() <= 1e-12 * np.abs(est.hessian).max() * op.shape[0]


def test_qmc_with_biases_within_stated_error_of_the_exact_hessian():
    widths = (2, 3, 2, 1)
    W = deep_teacher(widths, rng=4)
    b = [np.array([0.5, -0.3, 0.2]), np.array([0.1, 0.4]), np.array([0.7])]
    H = symhess.deep_expected_hessian(QUAD, W, biases=b)
    est = symhess.deep_hessian_estimate(QUAD, W, n_points=1 << 11, replicates=8, rng=2, biases=b)
    assert np.abs(est.hessian - H).max() <= est.error < 0.25 * np.abs(H).max()
    op = symhess.deep_hessian_operator(QUAD, W, biases=b)  # exact factor route
    v = np.ones(H.shape[0])
    assert np.allclose(op @ v, H @ v, rtol=1e-12, atol=1e-12 * np.abs(H).max())


@settings(max_examples=10, deadline=None)
@given(widths=st.lists(st.integers(1, 4), min_size=3, max_size=4), seed=st.integers(0, 1000))
def test_linear_with_output_bias_adds_the_shift(widths, seed):
    """f = A x + c, A of rank <= r free on the determinantal variety, c free: r(N_0 + N_L - r) + N_L."""
    Ws = rational_deep_teacher(widths, rng=seed)
    bs = [None] * (len(widths) - 2) + [_rational_biases(widths, [True] * (len(widths) - 1), seed)[-1]]
    m = symhess.deep_hessian_rank("linear", Ws, method="exact", biases=bs)
    assert m.rank == deep_linear_rank(widths) + widths[-1]


@pytest.mark.parametrize("act,widths", [(QUAD, (3, 4, 2, 1)), ("poly:coeffs=[0,1]", (2, 3, 2, 2)), ("relu", (3, 4, 2))])
def test_rank_routes_agree_with_biases(act, widths):
    Ws = rational_deep_teacher(widths, rng=7)
    bs = _rational_biases(widths, [True] * (len(widths) - 1), 8)
    P = sum(a * b for a, b in zip(widths[:-1], widths[1:])) + sum(widths[1:])
    if act == "relu":
        m = symhess.deep_hessian_rank(act, Ws, method="points", biases=bs)
        f = symhess.deep_hessian_rank(act, Ws, method="float", biases=bs)
        assert m.n_params == P and m.rank == f.rank <= m.upper == P - sum(widths[1:-1])
        return
    exact = symhess.deep_hessian_rank(act, Ws, method="exact", biases=bs)
    points = symhess.deep_hessian_rank(act, Ws, method="points", biases=bs)
    cert = symhess.deep_hessian_rank(act, Ws, method="certify", biases=bs)
    H = symhess.deep_expected_hessian(act, Ws, exact=True, biases=bs)
    assert exact.n_params == P and exact.rank == points.rank == cert.rank == H.rank() <= exact.upper


def test_pure_power_rescaling_symmetry_survives_biases():
    """(t w . x + t b)^d with the outgoing column scaled by t^-d: one null direction per hidden unit."""
    widths = (2, 3, 2, 1)
    Ws = rational_deep_teacher(widths, rng=2)
    bs = _rational_biases(widths, (True, True, False), 3)
    m = symhess.deep_hessian_rank("poly:coeffs=[0,0,1]", Ws, method="exact", biases=bs)
    assert m.upper == m.n_params - 5 and m.rank <= m.upper


def test_bad_biases():
    Ws = deep_teacher((2, 3, 1), rng=0)
    with pytest.raises(symhess.InvalidParameterError, match="2 layers"):
        symhess.deep_expected_hessian(QUAD, Ws, biases=[None])
    with pytest.raises(symhess.ShapeError, match=r"b_1\) must have shape \(3,\)"):
        symhess.deep_expected_hessian(QUAD, Ws, biases=[np.ones(2), None])
    with pytest.raises(symhess.NonFiniteError, match="b_2"):
        symhess.deep_expected_hessian(QUAD, Ws, biases=[None, np.array([np.nan])])
    with pytest.raises(symhess.InvalidTypeError, match="list"):
        symhess.deep_expected_hessian(QUAD, Ws, biases=np.ones(3))


@st.composite
def _biased_architecture(draw):
    widths = tuple(draw(st.lists(st.integers(1, 3), min_size=3, max_size=4)))
    degrees = []
    for l in range(1, len(widths) - 1):  # r_l >= (2(d_l + 1) - min(d_l + 1, d_{l+1})) / min(d_l, min(d_0..d_{l-1}))
        bound = (2 * (widths[l] + 1) - min(widths[l] + 1, widths[l + 1])) / min(widths[l], min(widths[:l]))
        degrees.append(max(2, ceil(bound)) + draw(st.integers(0, 1)))
    return widths, degrees


@settings(max_examples=12, deadline=None)
@given(arch=_biased_architecture(), seed=st.integers(0, 1000))
def test_biased_networks_identifiable_above_the_degree_bound(arch, seed):
    """Usevich et al., Corollary 28 (all layers with biases): finitely identifiable, dim = P - sum of hidden widths."""
    widths, degrees = arch
    acts = ["poly:coeffs=[" + ",".join(["0"] * (d - 1) + ["1"]) + "]" for d in degrees]
    Ws = rational_deep_teacher(widths, rng=seed)
    bs = _rational_biases(widths, [True] * (len(widths) - 1), seed + 1)
    m = symhess.deep_hessian_rank(acts, Ws, method="points", biases=bs)
    assert m.rank == m.n_params - sum(widths[1:-1]) == m.upper and m.status == "exact", (widths, degrees, m)


@settings(max_examples=12, deadline=None)
@given(n_in=st.integers(1, 4), n_hidden=st.integers(1, 5), d=st.integers(2, 4), seed=st.integers(0, 1000))
def test_two_layer_hidden_bias_rule_is_the_count_with_one_more_input(n_in, n_hidden, d, seed):
    """(w.x + b)^d dehomogenises ((w, b).(x, 1))^d: the rule (exact) equals the measured rank."""
    act = "poly:coeffs=[" + ",".join(["0"] * (d - 1) + ["1"]) + "]"
    rule = symhess.deep_effective_parameters(act, (n_in, n_hidden, 1), hidden_bias=True)
    plain = symhess.deep_effective_parameters(act, (n_in + 1, n_hidden, 1))
    assert rule.status == "exact" and rule.value == plain.value
    m = symhess.deep_hessian_rank(act, rational_deep_teacher((n_in, n_hidden, 1), rng=seed),
                                  biases=_rational_biases((n_in, n_hidden, 1), (True, False), seed))
    assert m.rank == rule.value


@pytest.mark.parametrize("act,widths,hidden,output", [
    ("poly:coeffs=[0,0,0,1]", (2, 2, 2, 1), True, True), ("poly:coeffs=[0,1]", (2, 3, 2, 1), True, True),
    ("linear", (3, 2, 4), False, True), ("linear", (3, 2, 4), True, True), (QUAD, (2, 3, 2, 1), True, False),
    ("relu", (3, 4, 2), True, True), ("erf", (2, 3, 1), True, True),
])
def test_biased_counting_rules_bound_or_equal_the_measured_rank(act, widths, hidden, output):
    rule = symhess.deep_effective_parameters(act, widths, hidden_bias=hidden, output_bias=output, measure=True)
    n_b = (sum(widths[1:-1]) if hidden else 0) + (widths[-1] if output else 0)
    assert rule.n_params == sum(a * b for a, b in zip(widths[:-1], widths[1:])) + n_b == rule.measured.n_params
    if rule.status == "exact":
        assert rule.measured.rank == rule.value
    else:
        assert rule.measured.rank <= rule.value


def test_count_cli_widths_with_biases():
    from click.testing import CliRunner

    from symhess.cli import main

    res = CliRunner().invoke(main, ["count", "-a", "poly:coeffs=[0,1]", "--widths", "3,3,1", "--hidden-bias", "--exact"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "P = 15, hidden biases" in res.output and "prediction: 9 of P = 15 (exact" in res.output
    assert "match: yes" in res.output
    res = CliRunner().invoke(main, ["count", "-a", "linear", "--widths", "3,2,4", "--output-bias", "--exact"],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "prediction: 14 of P = 18 (exact" in res.output and "match: yes" in res.output
