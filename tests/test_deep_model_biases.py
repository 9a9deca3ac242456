"""The concrete SymPy deep network with biases (DeepNet(..., hidden_bias=, output_bias=)) against independent routes.

h_l = W_l a_{l-1} + b_l; theta = (W_1, ..., W_L row-major, then the biases in layer order).
References: the numeric back-propagation of symhess.deep.pointwise (exact fmpq and float), the two-layer
TwoLayerNet (separate code), and Gaussian moments of the expanded J^T J (Isserlis, independent of symhess).
"""

from __future__ import annotations

import flint
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from gaussian_moments import gaussian_expectation
from symhess.deep.model import DeepNet
from symhess.deep.pointwise import gradients, rational_gradients
from symhess.deep.weights import rational_deep_teacher
from symhess.linalg.rationals import dyadic_normal

SQUARE = "poly:coeffs=[0,1]"  # z^2
QUAD = "quadratic:eps=1/2"  # z + z^2/2
FLAGS = [(True, False), (False, True), (True, True)]  # (hidden_bias, output_bias)


def _q(x) -> sp.Rational:
    return sp.Rational(int(x.p), int(x.q))


def _draw(widths, hidden, output, seed):
    """Rational weights (k/64) and biases (k/16, never 0) for the layers that have one."""
    Ws = rational_deep_teacher(widths, rng=seed)
    rng = np.random.default_rng(seed + 1)
    L = len(widths) - 1
    bs = []
    for l, n in enumerate(widths[1:], start=1):
        on = output if l == L else hidden
        if on:
            b = dyadic_normal((n,), rng, 16)
            bs.append(np.array([flint.fmpq(1, 16) if t == 0 else t for t in b], dtype=object))
        else:
            bs.append(None)
    return Ws, bs


def _values(net: DeepNet, Ws, bs) -> dict:
    vals = {s: _q(w) for W, Wq in zip(net.weights, Ws) for s, w in zip(W, Wq.ravel())}
    for b, bq in zip(net.biases, bs):
        assert (b is None) == (bq is None)
        if b is not None:
            vals.update({s: _q(t) for s, t in zip(b, bq)})
    return vals


# -- the parameter vector ------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(widths=st.lists(st.integers(1, 3), min_size=2, max_size=4), hidden=st.booleans(), output=st.booleans())
def test_theta_is_weights_then_biases_in_layer_order(widths, hidden, output):
    net = DeepNet(widths, "linear", hidden_bias=hidden, output_bias=output)
    L = len(widths) - 1
    names = [f"W{l}_{i}_{j}" for l in range(1, L + 1) for i in range(widths[l]) for j in range(widths[l - 1])]
    names += [f"b{l}_{i}" for l in range(1, L + 1) if (output if l == L else hidden) for i in range(widths[l])]
    assert [s.name for s in net.theta] == names
    assert [s.name for s in net.theta_teacher] == [n.replace("W", "Wt", 1).replace("b", "bt", 1) for n in names]
    assert net.n_params == len(names)
    assert [b is None for b in net.biases] == [not (output if l == L else hidden) for l in range(1, L + 1)]
    assert [b is None for b in net.biases_teacher] == [b is None for b in net.biases]


def test_without_biases_nothing_changes():
    plain = DeepNet((2, 2, 1), "tanh")
    off = DeepNet((2, 2, 1), "tanh", hidden_bias=False, output_bias=False)
    assert plain.theta == off.theta and plain.output == off.output and plain.biases == [None, None]
    assert repr(plain) == "DeepNet(widths=(2, 2, 1), activations=[tanh])"
    assert repr(DeepNet((2, 2, 1), "tanh", output_bias=True)) == \
        "DeepNet(widths=(2, 2, 1), activations=[tanh], output_bias=True)"
    # one layer: no hidden layer, so hidden_bias adds nothing
    assert DeepNet((3, 2), "linear", hidden_bias=True).theta == DeepNet((3, 2), "linear").theta


def test_teacher_biases_enter_the_teacher_and_the_optimum():
    net = DeepNet((2, 2, 2), QUAD, hidden_bias=True, output_bias=True)
    assert set(net.at_optimum()) == set(net.theta_teacher)
    assert all(net.at_optimum()[t] == s for bt, b in zip(net.biases_teacher, net.biases) for t, s in zip(bt, b))
    assert net.teacher_output.free_symbols >= set(net.biases_teacher[0]) | set(net.biases_teacher[1])
    assert sp.expand(net.residual.subs(net.at_optimum())) == sp.zeros(2, 1)
    # the residual part of the Hessian vanishes at the optimum
    assert sp.expand(net.hessian_at_optimum - net.gauss_newton) == sp.zeros(net.n_params, net.n_params)
    # teacher = student except the output biases: the residual is the output-bias difference
    partial = {t: s for t, s in net.at_optimum().items() if t not in set(net.biases_teacher[1])}
    assert sp.expand(net.residual.xreplace(partial)) == net.biases[1] - net.biases_teacher[1]


# -- the Jacobian against the numeric back-propagation -----------------------------------------------------


@pytest.mark.parametrize("widths", [(2, 2, 1), (2, 2, 2, 2)])
@pytest.mark.parametrize("act", [SQUARE, QUAD])
@pytest.mark.parametrize("hidden,output", FLAGS)
def test_jacobian_equals_exact_backpropagation(widths, act, hidden, output):
    Ws, bs = _draw(widths, hidden, output, seed=len(widths) + 3 * hidden + 5 * output)
    net = DeepNet(widths, act, hidden_bias=hidden, output_bias=output)
    J = net.output_jacobian.xreplace(_values(net, Ws, bs))
    X = [[flint.fmpq(1, 2), flint.fmpq(-3, 4)], [flint.fmpq(5, 3), flint.fmpq(1, 7)]]
    G = rational_gradients(act, Ws, np.array(X, dtype=object), biases=bs)
    assert G.shape == (2, widths[-1], net.n_params)
    for mu, x in enumerate(X):
        ref = J.xreplace(dict(zip(net.x, [_q(t) for t in x])))
        assert all(isinstance(e, sp.Rational) for e in ref)
        got = sp.Matrix(ref.shape[0], ref.shape[1], lambda i, j: _q(G[mu, i, j]))
        assert got == ref


@pytest.mark.parametrize("widths", [(2, 3, 1), (2, 2, 2, 2)])
@pytest.mark.parametrize("act", ["tanh", "erf"])
@pytest.mark.parametrize("hidden,output", FLAGS)
def test_jacobian_equals_float_backpropagation(widths, act, hidden, output):
    Ws, bs = _draw(widths, hidden, output, seed=7)
    net = DeepNet(widths, act, hidden_bias=hidden, output_bias=output)
    f = sp.lambdify(list(net.x), net.output_jacobian.xreplace(_values(net, Ws, bs)), "mpmath")
    X = np.random.default_rng(1).standard_normal((3, widths[0]))
    G = gradients(act, [W.astype(float) for W in Ws], X, biases=[None if b is None else b.astype(float) for b in bs])
    for mu, x in enumerate(X):
        ref = np.array(f(*x).tolist(), dtype=float)
        assert np.abs(G[mu] - ref).max() <= 1e-12 * (1 + np.abs(ref).max())


# -- depth 2, one output: the two-layer network ------------------------------------------------------------


@pytest.mark.parametrize("act", [QUAD, "erf"])
@pytest.mark.parametrize("hidden,output", FLAGS)
@pytest.mark.parametrize("n_out", [1, 2])
def test_depth_two_is_the_two_layer_network_with_biases(act, hidden, output, n_out):
    """TwoLayerNet orders theta as (W, v, b, b_out); renaming position by position gives the same f and J."""
    deep = DeepNet((2, 3, n_out), act, hidden_bias=hidden, output_bias=output)
    two = symhess.TwoLayerNet(2, 3, act, hidden_bias=hidden, output_bias=output, n_out=n_out)
    assert deep.n_params == two.n_params
    ren = dict(zip(two.theta, deep.theta)) | dict(zip(two.theta_teacher, deep.theta_teacher)) | dict(zip(two.x, deep.x))
    f_two = sp.Matrix([two.output]) if n_out == 1 else two.output
    assert sp.expand(f_two.xreplace(ren) - deep.output) == sp.zeros(n_out, 1)
    J_two = two.output_gradient.T if n_out == 1 else two.output_gradient
    assert sp.expand(J_two.xreplace(ren) - deep.output_jacobian) == sp.zeros(n_out, deep.n_params)
    if n_out == 1 and hidden and output:
        assert [str(two.theta[k]) for k in (-4, -1)] == ["b_0", "b_out"]
        assert [str(deep.theta[k]) for k in (-4, -1)] == ["b1_0", "b2_0"]


# -- the expected Hessian ----------------------------------------------------------------------------------



@pytest.mark.parametrize("widths,act,hidden,output", [
    ((2, 2, 1), SQUARE, True, True), ((2, 2, 2), QUAD, True, False), ((1, 2, 1, 1), QUAD, False, True),
])
def test_expected_hessian_equals_gaussian_moments_of_the_sympy_network(widths, act, hidden, output):
    Ws, bs = _draw(widths, hidden, output, seed=11)
    net = DeepNet(widths, act, hidden_bias=hidden, output_bias=output)
    GN = net.gauss_newton.xreplace(_values(net, Ws, bs))
    expected = GN.applyfunc(lambda e: gaussian_expectation(e, list(net.x)))
    H = symhess.deep_expected_hessian(act, Ws, exact=True, biases=bs)
    got = sp.Matrix(H.nrows(), H.ncols(), lambda i, j: _q(H[i, j]))
    assert got == expected
    assert all(expected[i, i] != 0 for i in range(net.n_params))


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw,value", [("hidden_bias", 1), ("output_bias", "yes"), ("hidden_bias", None),
                                      ("output_bias", np.True_)])
def test_bias_flags_must_be_bools(kw, value):
    with pytest.raises(symhess.InvalidTypeError, match=f"{kw}={value!r}".replace("(", r"\(").replace(")", r"\)")):
        DeepNet((2, 2, 1), "linear", **{kw: value})
    with pytest.raises(TypeError):
        DeepNet((2, 2, 1), "linear", True)  # keyword-only
