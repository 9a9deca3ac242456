"""The paper's "+1 for biases", settled row by row; biases, several outputs, frozen groups and input covariance.

Every rule of symhess.two_layer.bias_counting is proved instance by instance: the rank at a random rational
teacher is measured exactly (polynomials: the stacked coefficient Jacobian over Q) or certified (ball
arithmetic: a nonsingular minor of gradient rows at rational points; full rank is then proved, and a
rank-deficient rule's null vectors are checked to be exact identities). Independent routes: concrete SymPy
differentiation of small networks with exact Gaussian moments (Stein's recursion under Sigma), mpmath
Gauss-Hermite quadrature at 40 digits of E[grad f grad f^T] for erf with biases, and float64 Monte Carlo
for ReLU with biases.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.errors import InvalidParameterError
from symhess.two_layer.bias_counting import activation_family, general_rule
from symhess.two_layer.counting import effective_parameters, measure_rank, pure_power_rank, pure_square_rank
from symhess.two_layer.rational import rational_biases, rational_teacher
from symhess.two_layer.span_rank import exact_input_reduction, exact_span_rank, network_layout

seeds = st.integers(0, 10**6)
BIASES = [(False, False), (True, False), (False, True), (True, True)]

FULL = ["erf", "erf:scale=1/2", "tanh", "sigmoid", "softplus", "silu", "gelu", "gaussian", "sin", "cos"]
DEFICIENT = ["relu", "leaky_relu:slope=1/5", "abs", "exp"]


def _certified(spec, Ni, Nh, seed, **kw):
    return measure_rank(spec, Ni, Nh, method="certify", rng=seed, **kw)


# ------------------------------------------------------------------------------------- the rules, certified
@settings(max_examples=30, deadline=None)
@given(st.sampled_from(FULL), st.sampled_from(BIASES), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), seeds)
def test_independent_units_are_full_rank_with_any_bias(spec, biases, Ni, Nh, n_out, seed):
    """Theorem 1: the rank is P with hidden and/or output biases and several outputs (proved: full-rank minor)."""
    hb, ob = biases
    e = effective_parameters(spec, Ni, Nh, hidden_bias=hb, output_bias=ob, n_out=n_out)
    P = Nh * Ni + n_out * Nh + hb * Nh + ob * n_out
    # without biases and with one output the activation's own rule answers (labelled a conjecture there;
    # Theorem 1 proves it: general_rule says "exact")
    assert (e.value, e.n_params) == (P, P) and e.status == ("exact" if hb or ob or n_out > 1 else e.status)
    assert general_rule(symhess.activation(spec), Ni, Nh, hidden_bias=hb, output_bias=ob, n_out=n_out).status == "exact"
    r = _certified(spec, Ni, Nh, seed, hidden_bias=hb, output_bias=ob, n_out=n_out)
    assert (r.rank, r.n, r.status) == (P, P, "exact"), r


def _null_vectors(spec, W, V, b, lay):
    """The rule's explicit null vectors (rescaling of ReLU-like units; exp's bias against v), trained groups only."""
    Nh, Ni = W.shape
    sz = lay.sizes
    out = []
    for i in range(Nh):
        c = {"W": np.zeros((Nh, Ni), dtype=object), "v": np.zeros(V.shape, dtype=object),
             "b": np.zeros(Nh, dtype=object), "b_out": np.zeros(sz["b_out"], dtype=object)}
        if activation_family(symhess.activation(spec)) == "exp":
            c["b"][i] = 1
            c["v"][:, i] = -V[:, i]  # s = 1
        else:
            c["W"][i] = W[i]
            c["v"][:, i] = -V[:, i]
            if b is not None:
                c["b"][i] = b[i]
        vec = np.concatenate([c[g].ravel() for g in ("W", "v", "b", "b_out") if sz[g]])
        out.append(vec[lay.index()])
    return np.array(out, dtype=object)


def _exact_rows(spec, W, V, b, X, lay):
    """Exact gradient rows of piecewise-linear units at rational points (Fractions; sigma = a min(z,0) + c max(z,0))."""
    a, c = {"relu": (0, 1), "leaky_relu:slope=1/5": (Fraction(1, 5), 1), "abs": (-1, 1)}[spec]
    rows = []
    for x in X:
        u = W.dot(x) + (b if b is not None else 0)
        s = np.array([c * t if t > 0 else a * t for t in u], dtype=object)
        ds = np.array([c if t > 0 else a for t in u], dtype=object)
        for o in range(V.shape[0]):
            g = {"W": (V[o] * ds)[:, None] * x[None, :], "v": np.zeros(V.shape, dtype=object),
                 "b": V[o] * ds, "b_out": np.zeros(V.shape[0], dtype=object)}
            g["v"][o] = s
            g["b_out"][o] = 1
            full = np.concatenate([g[k].ravel() for k in ("W", "v", "b", "b_out") if lay.sizes[k]])
            rows.append(full[lay.index()])
    return np.array(rows, dtype=object)


TRAIN = [None, ("W",), ("v",), ("W", "v"), ("W", "b"), ("v", "b"), ("W", "v", "b")]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(DEFICIENT), st.sampled_from(BIASES), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2),
       st.sampled_from(TRAIN), seeds)
def test_rescaling_rules_lower_bound_certified_upper_bound_by_null_vectors(spec, biases, Ni, Nh, n_out, train, seed):
    """Theorems 2-3: P - N_h when the rescaling is allowed, else P; the minor proves >=, exact null vectors <=."""
    _check_rescaling(spec, biases, Ni, Nh, n_out, train, seed)


@pytest.mark.parametrize("spec", DEFICIENT)
@pytest.mark.parametrize("biases,Ni,n_out", [((True, False), 1, 1), ((True, True), 2, 2), ((False, True), 3, 1)])
def test_rescaling_null_vectors_every_group_trained(spec, biases, Ni, n_out):
    _check_rescaling(spec, biases, Ni, 3, n_out, None, 1)


def _check_rescaling(spec, biases, Ni, Nh, n_out, train, seed):
    hb, ob = biases
    if train is not None and "b" in train and not hb:
        train = tuple(g for g in train if g != "b")
    if not hb and spec != "exp" and (Ni == 1 or spec != "relu"):
        return  # no rule here (measured): ReLU-like units without hidden biases beyond ReLU at N_i >= 2
    e = effective_parameters(spec, Ni, Nh, hidden_bias=hb, output_bias=ob, n_out=n_out, trainable=train)
    assert e.status == "exact"
    r = _certified(spec, Ni, Nh, seed, hidden_bias=hb, output_bias=ob, n_out=n_out, trainable=train)
    assert r.rank == e.value and r.n == e.n_params, (e, r)
    assert r.status == ("exact" if e.value == e.n_params else "lower bound")
    # the upper bound: the rule's null vectors annihilate every gradient row exactly
    gen = np.random.default_rng(seed)
    W, v = rational_teacher(Ni, Nh, gen)
    b, _ = rational_biases(Nh, gen)
    V = np.vstack([v] + [rational_teacher(1, Nh, gen)[1] for _ in range(n_out - 1)])
    lay = network_layout(Ni, Nh, n_out=n_out, hidden_bias=hb, output_bias=ob, trainable=train)
    nulls = _null_vectors(spec, W, V, b if hb else None, lay)
    if e.value == e.n_params:
        return
    assert len(nulls) == e.n_params - e.value
    X = np.array([[Fraction(int(k), 64) for k in row] for row in gen.integers(-128, 128, size=(6, Ni))], dtype=object)
    if spec == "exp":  # d f / d b_i = V_oi e^{u_i} = V_oi d f / d V_oi: check in floats at the points
        from symhess.two_layer.span_rank import _float_rows

        G = _float_rows(symhess.activation("exp"), W, V, b if hb else None, X, lay)
        np.testing.assert_allclose(G @ nulls.T.astype(float), 0.0, atol=1e-12 * np.abs(G).max())
    else:
        G = _exact_rows(spec, W, V, b if hb else None, X, lay)
        assert np.all(G.dot(nulls.T) == 0)


def test_frozen_bias_removes_the_rescaling():
    """ReLU with a frozen nonzero hidden bias: the rescaling would move b, so (W, v) alone is full rank."""
    e = effective_parameters("relu", 3, 2, hidden_bias=True, trainable=("W", "v"))
    assert (e.value, e.n_params) == (8, 8)
    r = _certified("relu", 3, 2, 0, hidden_bias=True, trainable=("W", "v"))
    assert (r.rank, r.status) == (8, "exact")


# ------------------------------------------------------------------------------------- "+1": the table, row by row
def _increment(spec, Ni, Nh, seed, method, **bias):
    every = dict(trainable=("W", "v")) if method == "certify" else {}  # = all groups; proof by points (fast)
    base = measure_rank(spec, Ni, Nh, method=method, rng=seed, **every).rank
    return measure_rank(spec, Ni, Nh, method=method, rng=seed, **bias).rank - base


@pytest.mark.parametrize("spec,Ni,Nh,hidden,output,both", [
    ("linear", 3, 2, 1, 1, 1),
    ("quadratic", 3, 2, 1, 1, 1),
    ("quadratic", 2, 4, 1, 1, 1),
    ("poly:coeffs=[0,1]", 3, 2, 2, 1, 3),                  # z^2: +N_h (N_h <= N_i), quadratic forms in N_i+1 vars
    ("poly:coeffs=[0,1]", 2, 4, 3, 1, 3),                  # all 6 polynomials of degree <= 2 in 2 variables
    ("poly:coeffs=[0,0,1]", 3, 2, 2, 1, 3),                # z^3: +N_h below saturation
    ("poly:coeffs=[0,1,1]", 2, 2, 2, 1, 3),                # z^2 + z^3: shifted to z^3 + c z + c'
])
def test_plus_one_table_polynomials(spec, Ni, Nh, hidden, output, both):
    got = [_increment(spec, Ni, Nh, 3, "exact", **kw) for kw in
           (dict(hidden_bias=True), dict(output_bias=True), dict(hidden_bias=True, output_bias=True))]
    assert got == [hidden, output, both]


@pytest.mark.parametrize("spec,Ni,Nh", [("erf", 2, 3), ("tanh", 1, 3), ("sigmoid", 2, 2), ("gelu", 1, 2),
                                        ("relu", 2, 3), ("relu", 3, 2), ("abs", 2, 2), ("exp", 2, 3)])
def test_plus_one_table_other_activations(spec, Ni, Nh):
    """erf-like: +N_h / +1 / +N_h+1; ReLU-like: the same (rank P - N_h throughout); exp: 0 / +1 / +1."""
    got = [_increment(spec, Ni, Nh, 5, "certify", **kw) for kw in
           (dict(hidden_bias=True), dict(output_bias=True), dict(hidden_bias=True, output_bias=True))]
    expect = [0, 1, 1] if spec == "exp" else [Nh, 1, Nh + 1]
    assert got == expect


@given(st.integers(1, 4), st.integers(1, 4), st.integers(2, 4))
def test_reading_n_in_plus_one(Ni, Nh, d):
    """The other reading of "+1" (the bias as an input fixed to 1, N_i -> N_i + 1): exact for pure powers, erf-like
    and ReLU-like units; false for z + eps z^2 (degree <= 2 in N_i variables) and exp (the bias adds nothing)."""
    pw = "poly:coeffs=[" + ",".join(["0"] * (d - 1) + ["1"]) + "]"
    hb = effective_parameters(pw, Ni, Nh, hidden_bias=True).value
    assert hb == (pure_square_rank(Ni + 1, Nh) if d == 2 else pure_power_rank(Ni + 1, Nh, d))
    assert effective_parameters("erf", Ni, Nh, hidden_bias=True).value == effective_parameters("erf", Ni + 1, Nh).value
    assert effective_parameters("relu", Ni, Nh, hidden_bias=True).value == Nh * (Ni + 1)
    q = effective_parameters("quadratic", Ni, Nh, hidden_bias=True).value
    assert q <= (Ni + 1) * (Ni + 2) // 2 and (q < effective_parameters("quadratic", Ni + 1, Nh).value or Nh == 1)
    assert effective_parameters("exp", Ni, Nh, hidden_bias=True).value == Nh * (Ni + 1)


# ------------------------------------------------------------------------------------- independent routes
def _gauss_moment(alpha, Sigma, memo):
    """E[x^alpha], x ~ N(0, Sigma), by Stein's recursion E[x_i m] = sum_j Sigma_ij E[d_j m] (exact rationals)."""
    alpha = tuple(alpha)
    if alpha in memo:
        return memo[alpha]
    if sum(alpha) == 0:
        return sp.Integer(1)
    i = next(k for k, a in enumerate(alpha) if a)
    rest = list(alpha)
    rest[i] -= 1
    total = sp.Integer(0)
    for j, a in enumerate(rest):
        if a and Sigma[i][j] != 0:
            nxt = list(rest)
            nxt[j] -= 1
            total += Sigma[i][j] * a * _gauss_moment(nxt, Sigma, memo)
    memo[alpha] = total
    return total


def _sympy_hessian(coeffs, W, V, b, b0, Sigma):
    """H = sum_o E[grad f_o grad f_o^T] by SymPy differentiation of the concrete network and exact moments."""
    Nh, Ni = len(W), len(W[0])
    xs = sp.symbols(f"x0:{Ni}")
    Ws = sp.Matrix(Nh, Ni, lambda i, j: sp.Symbol(f"w{i}_{j}"))
    Vs = sp.Matrix(len(V), Nh, lambda o, i: sp.Symbol(f"v{o}_{i}"))
    bs = [sp.Symbol(f"b{i}") for i in range(Nh)] if b is not None else [0] * Nh
    b0s = [sp.Symbol(f"c{o}") for o in range(len(V))] if b0 is not None else [0] * len(V)
    params = list(Ws) + list(Vs) + (bs if b is not None else []) + (b0s if b0 is not None else [])
    sigma = lambda t: sum(sp.Rational(c) * t ** (k + 1) for k, c in enumerate(coeffs))  # noqa: E731 (c_1, c_2, ...)
    vals = {Ws[i, j]: sp.Rational(W[i][j]) for i in range(Nh) for j in range(Ni)}
    vals.update({Vs[o, i]: sp.Rational(V[o][i]) for o in range(len(V)) for i in range(Nh)})
    if b is not None:
        vals.update({bs[i]: sp.Rational(b[i]) for i in range(Nh)})
    if b0 is not None:
        vals.update({b0s[o]: sp.Rational(b0[o]) for o in range(len(V))})
    H = sp.zeros(len(params), len(params))
    memo = {}
    for o in range(len(V)):
        f = sum(Vs[o, i] * sigma(sum(Ws[i, j] * xs[j] for j in range(Ni)) + bs[i]) for i in range(Nh)) + b0s[o]
        g = [sp.Poly(sp.expand(sp.diff(f, p).subs(vals)), *xs) for p in params]
        for k in range(len(params)):
            for m in range(k, len(params)):
                prod = (g[k] * g[m]).terms()
                H[k, m] += sum(c * _gauss_moment(a, Sigma, memo) for a, c in prod)
                H[m, k] = H[k, m]
    return H


def _random_cov(gen, Ni, rank):
    A = [[Fraction(int(gen.integers(-4, 5)), 4) for _ in range(rank)] for _ in range(Ni)]
    return [[sum(A[i][k] * A[j][k] for k in range(rank)) for j in range(Ni)] for i in range(Ni)]


@settings(max_examples=12, deadline=None)
@given(st.sampled_from([[0, 1, 1], [0, 0, 1], [0, 1, 0, 1], [0, 1]]), st.integers(1, 3), st.integers(1, 2),
       st.integers(1, 2), st.sampled_from(BIASES), st.integers(0, 3), seeds)
def test_exact_rank_against_sympy_hessian_with_covariance(coeffs, Ni, Nh, n_out, biases, cov_deficit, seed):
    """Several outputs, biases and any PSD Sigma (rank Ni - deficit): the exact route (stacked Jacobian after the
    exact LDL reduction; Sigma > 0 at the same weights) equals the rank of the SymPy Hessian under N(0, Sigma)."""
    hb, ob = biases
    gen = np.random.default_rng(seed)
    W, v = rational_teacher(Ni, Nh, gen, denominator=8)
    V = np.vstack([v] + [rational_teacher(1, Nh, gen, denominator=8)[1] for _ in range(n_out - 1)])
    b = rational_biases(Nh, gen, denominator=8)[0] if hb else None
    b0 = rational_biases(n_out, gen, denominator=8)[0] if ob else None
    r = max(1, Ni - cov_deficit)
    Sigma = _random_cov(gen, Ni, r)
    H = _sympy_hessian(coeffs, W.tolist(), V.tolist(), None if b is None else b.tolist(),
                       None if b0 is None else b0.tolist(), Sigma)
    act = symhess.activation("poly", coeffs=coeffs)
    got = exact_span_rank(act, W, V, hidden_bias=b, output_bias=b0, input_cov=np.array(Sigma, dtype=object))
    assert got.rank == H.rank() and got.status == "exact"
    if exact_input_reduction(np.array(Sigma, dtype=object), Ni)[0] is None:  # Sigma > 0: invariant rank
        assert got.rank == exact_span_rank(act, W, V, hidden_bias=b, output_bias=b0).rank


def test_erf_with_biases_full_rank_by_quadrature():
    """Independent of the point proof: H = E[grad f grad f^T] for erf(w x + b) with both biases, one unit, by mpmath
    quadrature at 30 digits; its smallest eigenvalue is far above the quadrature error."""
    W, v = rational_teacher(1, 1, 7)
    b, b0 = rational_biases(1, 7)
    q = lambda r: mpmath.mpf(r.numerator) / r.denominator  # noqa: E731
    with mpmath.workdps(30):
        w, vv, bb = q(W[0, 0]), q(v[0]), q(b[0])

        def grad(x):
            d = 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-(w * x + bb) ** 2)
            return [vv * d * x, mpmath.erf(w * x + bb), vv * d, mpmath.mpf(1)]

        H, err = mpmath.zeros(4, 4), mpmath.mpf(0)
        for k in range(4):
            for m in range(k, 4):
                val, e = mpmath.quad(lambda x: grad(x)[k] * grad(x)[m] * mpmath.exp(-x**2 / 2),
                                     [-mpmath.inf, -2, 0, 2, mpmath.inf], error=True)
                H[k, m] = H[m, k] = val / mpmath.sqrt(2 * mpmath.pi)
                err = max(err, e)
        lam = sorted(mpmath.eigsy(H)[0])
        assert lam[0] > 10**6 * (4 * err + mpmath.mpf(10) ** -25), (lam, err)
    r = symhess.hessian_rank("erf", W, v, certify=True, hidden_bias=b, output_bias=b0)
    assert (r.rank, r.n, r.status) == (4, 4, "exact")


def test_relu_with_biases_against_monte_carlo():
    """Float64 Monte Carlo of E[grad f grad f^T] (10^5 Gaussian inputs): the numerical rank is N_h (N_i + 1)."""
    W, v = rational_teacher(2, 3, 11)
    b, _ = rational_biases(3, 11)
    Wf, vf, bf = (np.array(a, dtype=float) for a in (W, v, b))
    X = np.random.default_rng(0).standard_normal((100_000, 2))
    u = X @ Wf.T + bf
    act = (u > 0).astype(float)
    G = np.concatenate([((act * vf)[:, :, None] * X[:, None, :]).reshape(len(X), -1), np.maximum(u, 0), act * vf],
                       axis=1)
    lam = np.linalg.eigvalsh(G.T @ G / len(X))
    assert int((lam > 1e-10 * lam[-1]).sum()) == 9 and lam[-4] > 1e-4 * lam[-1]  # 3 null, a clean gap
    assert _certified("relu", 2, 3, 11, hidden_bias=True).rank == 9 == general_rule(
        symhess.activation("relu"), 2, 3, hidden_bias=True).value


# ------------------------------------------------------------------------------------- input covariance
def test_certified_rank_under_covariance_matches_float_hessian():
    """erf under a nonsingular Sigma: the certified rank (Sigma > 0: same as the identity) and the float Hessian
    with input_cov agree (full rank 8); a singular Sigma of rank 2 leaves the N_i = 2 rule (6)."""
    W, v = rational_teacher(3, 2, 0)
    Sigma = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, 0.5]])
    r = symhess.hessian_rank("erf", W, v, certify=True, input_cov=Sigma)
    assert (r.rank, r.status) == (8, "exact") and "positive definite" in r.notes[0]
    assert symhess.hessian_rank("erf", W.astype(float), v.astype(float), input_cov=Sigma).rank == 8
    plane = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    r = symhess.hessian_rank("erf", W, v, certify=True, input_cov=plane)
    assert (r.rank, r.n, r.status) == (6, 8, "exact") and "rank 2" in r.notes[0]


def test_exact_input_reduction():
    L, r = exact_input_reduction([[4, 2, 0], [2, 1, 0], [0, 0, 0]], 3)
    assert r == 1 and [str(x) for x in L[:, 0]] == ["1", "1/2", "0"]
    assert exact_input_reduction(np.diag([1.0, 2.0]), 2) == (None, 2)
    for bad, msg in [([[1, 2], [2, 1]], "semidefinite"), ([[1, 1], [0, 1]], "symmetric"), ([[0, 0], [0, 0]], "zero"),
                     ([[0, 1], [1, 0]], "semidefinite")]:
        with pytest.raises(InvalidParameterError, match=msg):
            exact_input_reduction(bad, 2)
    with pytest.raises(ValueError, match="shape"):
        exact_input_reduction([1, 2, 3], 2)


# ------------------------------------------------------------------------------------- arguments
def test_bad_arguments():
    W, v = rational_teacher(2, 2, 0)
    with pytest.raises(InvalidParameterError, match="points"):
        symhess.hessian_rank("erf", W, v, certify="cholesky", hidden_bias=[1, 1])
    with pytest.raises(InvalidParameterError, match="jacobian"):
        symhess.hessian_rank("quadratic", W, np.stack([v, v]), exact=True, route="hessian")
    with pytest.raises(ValueError, match="output_bias"):
        symhess.hessian_rank("erf", W, np.stack([v, v]), certify=True, output_bias=[1, 2, 3])
    # the float route takes several outputs with biases (the expected Hessian with means): the exact rank
    V2 = np.stack([v, 2 * v[::-1]])
    fr = symhess.hessian_rank("quadratic", W.astype(float), V2.astype(float), hidden_bias=[0.5, 1.0])
    assert fr.rank == symhess.hessian_rank("quadratic", W, V2, exact=True, hidden_bias=[Fraction(1, 2), 1]).rank
    with pytest.raises(InvalidParameterError, match="b_out"):
        effective_parameters("erf", 2, 2, trainable=("W", "b_out"))
    with pytest.raises(InvalidParameterError, match="n_out"):
        effective_parameters("erf", 2, 2, n_out=0)
    with pytest.raises(InvalidParameterError, match="one output"):
        effective_parameters("erf", 2, 3, n_teacher=2, n_out=2)


# ------------------------------------------------------------------------------------- a bigger sweep (slow)
@pytest.mark.slow
@pytest.mark.parametrize("spec", FULL + DEFICIENT)
def test_sweep_every_bias_and_output_count(spec):
    """Every rule of bias_counting against the certified rank on N_i <= 4, N_h <= 5, n_out <= 3, all bias options."""
    for Ni, Nh, n_out, (hb, ob) in product(range(1, 5), range(1, 6), (1, 3), BIASES[1:]):  # no-bias: elsewhere
        e = effective_parameters(spec, Ni, Nh, hidden_bias=hb, output_bias=ob, n_out=n_out)
        if e.status != "exact" or e.value is None or (Ni == 1 and not hb and spec in DEFICIENT[:3]):
            continue  # ReLU-like units at N_i = 1 without hidden biases: the rule assumes w_i of both signs
        r = _certified(spec, Ni, Nh, Ni * 100 + Nh, hidden_bias=hb, output_bias=ob, n_out=n_out)
        if r.status == "exact" or e.value < e.n_params:
            assert r.rank == e.value, (spec, Ni, Nh, n_out, hb, ob, r)


# ------------------------------------------------------------------------------------- the command line
def test_cli_count_with_bias(tmp_path):
    from click.testing import CliRunner

    from symhess.cli import main

    run = lambda *a: CliRunner().invoke(main, ["count", *a], catch_exceptions=False)  # noqa: E731
    res = run("-a", "erf", "--n-in", "2", "--n-hidden", "3", "--bias", "both", "--certify")
    assert res.exit_code == 0 and "P = 13" in res.output and "rank = 13 of P = 13 (exact" in res.output
    assert "match: yes" in res.output
    res = run("-a", "relu", "--sweep", "--n-in", "1..2", "--n-hidden", "1..2", "--bias", "hidden", "--certify",
              "--out", str(tmp_path / "t"))
    assert res.exit_code == 0 and "4 sizes, 4 consistent" in res.output
    assert run("-a", "quadratic", "--n-in", "3", "--n-hidden", "2", "--bias", "output", "--exact").output.count(
        "rank = 8 of P = 9") == 1  # eq. (14) at (3, 2) is 7, + 1
    # without --certify: the float64 rank of the expected Hessian with means (tanh: by quadrature, noted)
    res = CliRunner().invoke(main, ["count", "-a", "tanh", "--n-in", "2", "--n-hidden", "2", "--bias", "hidden"])
    assert res.exit_code == 0 and "rank = 8 of P = 8 (numerical; float64)" in res.output, res.output
    assert "numerical quadrature" in res.output


def test_output_bias_adds_nothing_when_the_constant_is_already_moved():
    """sigma = 1 + z^2 (a user polynomial with sigma(0) != 0): the rescaling of each unit already moves
    c_0 sum(v), so the output bias adds 0 -- "+1" fails for the output bias too."""
    from dataclasses import dataclass
    from typing import ClassVar

    from symhess.activations.base import Activation
    from symhess.symbols import z

    @dataclass(frozen=True)
    class OnePlusSquare(Activation):
        name: ClassVar[str] = "one_plus_square_test"

        def expr(self, x=z):
            return 1 + x**2

    act = OnePlusSquare()
    for Ni, Nh in [(2, 1), (3, 2), (4, 2)]:
        base = measure_rank(act, Ni, Nh, method="exact", rng=1).rank
        assert measure_rank(act, Ni, Nh, method="exact", rng=1, output_bias=True).rank == base
        assert base == pure_square_rank(Ni, Nh) + 1
        assert effective_parameters(act, Ni, Nh, output_bias=True).value == base
