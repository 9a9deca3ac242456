"""Deep counting rules at depth 2 against the two-layer family's rules, and the depth-general rules behind them.

At L = 2 the deep network is the two-layer network with n_out = N_2 outputs, so the two families' rules
must never contradict each other, and wherever the two-layer rule is a theorem the deep one must be the
same theorem. The depth-general statements (output constants, deep linear networks with hidden biases,
the degrees a polynomial network can reach) are checked against exact ranks at random teachers.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

import symhess
from symhess.deep.counting import _network_degrees, deep_effective_parameters, measure_deep_rank
from symhess.deep.weights import layer_activations

ACTS = ["linear", "quadratic", "poly:coeffs=[0,1]", "poly:coeffs=[0,0,1]", "poly:coeffs=[1,0,1]", "erf",
        "erf:shift=1/2", "tanh", "sigmoid", "softplus", "silu", "gelu", "sin", "cos", "exp", "gaussian", "relu",
        "leaky_relu", "abs"]
BIASES = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("act", ACTS)
def test_depth_two_rules_agree_with_the_two_layer_rules(act):
    for n_in, n_hidden, n_out in itertools.product(range(1, 5), range(1, 6), range(1, 4)):
        for hb, ob in BIASES:
            deep = deep_effective_parameters(act, (n_in, n_hidden, n_out), hidden_bias=hb, output_bias=ob)
            two = symhess.effective_parameters(act, n_in, n_hidden, hidden_bias=hb, output_bias=ob, n_out=n_out)
            where = (act, n_in, n_hidden, n_out, hb, ob, str(deep), str(two))
            assert deep.n_params == two.n_params, where
            if two.status == "exact":
                assert deep.status == "exact" and deep.value == two.value, where
            if deep.status == "exact" and two.status in ("upper bound", "measured"):
                assert deep.value <= two.value if two.status == "upper bound" else deep.value == two.value, where


@st.composite
def _widths(draw, min_depth=2, min_input=1):
    depth = draw(st.integers(min_depth, 4))
    return (draw(st.integers(min_input, 3)),) + tuple(draw(st.lists(st.integers(1, 3), min_size=depth, max_size=depth)))


@settings(max_examples=12, deadline=None)
@given(widths=_widths(3, min_input=2), act=st.sampled_from(["poly:coeffs=[0,1]", "poly:coeffs=[1,0,1]", "quadratic", "erf",
                                               "tanh"]), seed=st.integers(0, 1000))
def test_output_constants_add_exactly_n_out_when_sigma_vanishes_at_zero(widths, act, seed):
    """sigma(0) = 0 => f(0) = 0 and every gradient function vanishes at 0: rank + N_L at every teacher.

    (N_0 >= 2: with one input erf networks are so ill-conditioned that ball arithmetic at 1024 bits may only
    certify a lower bound.)"""
    method = "auto" if act.startswith(("poly", "quad")) else "certify"
    plain = measure_deep_rank(act, widths, rng=seed, method=method)
    biased = measure_deep_rank(act, widths, rng=seed, method=method, output_bias=True)
    assert biased.rank == plain.rank + widths[-1], (widths, act, plain, biased)
    rule, rule_b = (deep_effective_parameters(act, widths, output_bias=ob) for ob in (False, True))
    assert rule_b.value == rule.value + widths[-1] and rule_b.status == rule.status


def test_output_constants_are_not_free_when_sigma_is_nonzero_at_zero():
    # sigmoid(0) = 1/2: the constant is already reachable, the rule is not the "+ N_L" one
    rule = deep_effective_parameters("sigmoid", (2, 3, 2, 1), output_bias=True)
    assert "output constants" not in rule.rule


@settings(max_examples=25, deadline=None)
@given(widths=_widths(1), seed=st.integers(0, 1000))
def test_deep_linear_with_hidden_biases(widths, seed):
    rule = deep_effective_parameters("linear", widths, hidden_bias=True)
    m = measure_deep_rank("linear", widths, hidden_bias=len(widths) > 2, rng=seed)
    assert rule.status == "exact" and m.rank == rule.value, (widths, rule, m)


def test_degrees_a_polynomial_network_reaches():
    assert _network_degrees(tuple(layer_activations("poly:coeffs=[1,0,1]", 2))) == {1, 3}  # z + z^3, depth 2
    assert _network_degrees(tuple(layer_activations("poly:coeffs=[1,0,1]", 3))) == {1, 3, 5, 7, 9}
    assert _network_degrees(tuple(layer_activations(["poly:coeffs=[0,1]", "poly:coeffs=[1,0,1]"], 3))) == {2, 6}
    # the bound uses only those degrees: (3, 6, 4, 1) with z + z^3 has P = 46 > 3 + 10 + ... forms of odd degree
    rule = deep_effective_parameters("poly:coeffs=[1,0,1]", (2, 6, 5, 1))
    odd_forms = sum(e + 1 for e in (1, 3, 5, 7, 9))  # binary forms of degree e: e + 1 monomials
    assert rule.value == min(rule.n_params, odd_forms) == 30
    assert measure_deep_rank("poly:coeffs=[1,0,1]", (2, 6, 5, 1)).rank <= rule.value


@settings(max_examples=15, deadline=None)
@given(widths=_widths(3), act=st.sampled_from(["poly:coeffs=[1,0,1]", "poly:coeffs=[1,1,1]", "poly:coeffs=[0,1,1]"]),
       seed=st.integers(0, 1000))
def test_polynomial_split_bound_is_never_exceeded(widths, act, seed):
    """dim V(w) <= dim V(N_0..N_l) + dim V(N_l..N_L) for any polynomial activation (no rescaling term)."""
    rule = deep_effective_parameters(act, widths)
    m = measure_deep_rank(act, widths, rng=seed)
    assert m.rank <= rule.value, (widths, act, rule, m)


def test_polynomial_split_bound_is_attained_where_it_bites():
    rule = deep_effective_parameters("poly:coeffs=[1,0,1]", (3, 1, 2, 1))  # z + z^3 through a width-one layer
    assert "split at hidden layer" in rule.rule and rule.value < rule.n_params
    settled = deep_effective_parameters("poly:coeffs=[1,0,1]", (3, 1, 2, 1), measure=True)
    assert settled.status == "exact" and settled.measured.rank == rule.value


@settings(max_examples=15, deadline=None)
@given(widths=_widths(3), act=st.sampled_from(["poly:coeffs=[0,1]", "poly:coeffs=[0,0,1]", "poly:coeffs=[1,0,1]"]),
       output_bias=st.booleans(), seed=st.integers(0, 1000))
def test_split_bound_with_hidden_biases_is_never_exceeded(widths, act, output_bias, seed):
    rule = deep_effective_parameters(act, widths, hidden_bias=True, output_bias=output_bias)
    # a certified lower bound (modular points) above the rule would refute it
    m = measure_deep_rank(act, widths, hidden_bias=True, output_bias=output_bias, rng=seed, method="points")
    assert m.rank <= rule.value, (widths, act, output_bias, rule, m)
