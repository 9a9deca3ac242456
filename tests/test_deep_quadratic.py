"""Deep networks with a quadratic activation a z^2 + b z (ab != 0): the count of the z^2 network with biases.

Completing the square, a z^2 + b z = a (z + c)^2 - a c^2 with c = b / 2a, turns the network into a z^2
network whose biases are fixed functions of the weights; the rescaling of each hidden unit moves every
generic biased z^2 network onto that slice, up to a constant output; and f(0) = 0 separates the constants.
So rank = dim(z^2 network with all biases) - N_L without biases, = dim(Z) with an output bias, and
= dim(Z) - max(0, N_L - N_{L-1}) with hidden biases only. These tests measure both sides at independent
random teachers (exact ranks), and check the depth-2 rule against the two-layer eq. (14) rules.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

import symhess
from symhess.deep.counting import deep_effective_parameters, measure_deep_rank

SQUARE = "poly:coeffs=[0,1]"  # z^2


def _quadratic(a: Fraction, b: Fraction) -> str:
    return f"poly:coeffs=[{b},{a}]"


@st.composite
def _widths(draw):
    depth = draw(st.integers(2, 4))
    return tuple(draw(st.lists(st.integers(1, 3), min_size=depth + 1, max_size=depth + 1)))


_nonzero = st.fractions(min_value=-3, max_value=3, max_denominator=4).filter(lambda q: q != 0)


@pytest.mark.parametrize("act", ["quadratic", "quadratic:eps=1/2", "poly:coeffs=[-2,3]"])
@pytest.mark.parametrize("hidden_bias,output_bias", [(False, False), (True, False), (False, True), (True, True)])
def test_depth_two_single_output_is_the_two_layer_rule(act, hidden_bias, output_bias):
    """L = 2, N_2 = 1 is the two-layer network: eq. (14) and its bias rules, exactly, for N_i <= 6, N_h <= 8."""
    for n_in in range(1, 7):
        for n_hidden in range(1, 9):
            deep = deep_effective_parameters(act, (n_in, n_hidden, 1), hidden_bias=hidden_bias, output_bias=output_bias)
            two = symhess.effective_parameters(act, n_in, n_hidden, hidden_bias=hidden_bias, output_bias=output_bias)
            assert deep.status == "exact" and deep.value == two.value, (n_in, n_hidden, deep, two)


@settings(max_examples=12, deadline=None)
@given(widths=_widths(), a=_nonzero, b=_nonzero, seed=st.integers(0, 1000))
def test_rank_is_the_biased_square_network_minus_the_output_constants(widths, a, b, seed):
    act = _quadratic(a, b)
    Z = measure_deep_rank(SQUARE, widths, hidden_bias=True, output_bias=True, rng=seed)
    q = measure_deep_rank(act, widths, rng=seed + 1)
    qo = measure_deep_rank(act, widths, output_bias=True, rng=seed + 2)
    assert Z.status == q.status == qo.status == "exact"  # exact ranks (points meeting a bound, or the coefficient route)
    assert q.rank == Z.rank - widths[-1], (widths, act, Z, q)
    assert qo.rank == Z.rank, (widths, act, Z, qo)
    rule = deep_effective_parameters(act, widths)
    assert q.rank <= rule.value and (rule.status != "exact" or q.rank == rule.value), (widths, act, rule, q)


@settings(max_examples=10, deadline=None)
@given(widths=_widths(), seed=st.integers(0, 1000))
def test_hidden_biases_lose_the_constants_outside_the_last_columns(widths, seed):
    act = "quadratic:eps=1/2"
    Z = measure_deep_rank(SQUARE, widths, hidden_bias=True, output_bias=True, rng=seed)
    qh = measure_deep_rank(act, widths, hidden_bias=True, rng=seed + 1)
    assert qh.rank == Z.rank - max(0, widths[-1] - widths[-2]), (widths, Z, qh)
    rule = deep_effective_parameters(act, widths, hidden_bias=True)
    assert qh.rank <= rule.value and (rule.status != "exact" or qh.rank == rule.value), (widths, rule, qh)


def test_the_linear_term_is_needed():
    """z^2 alone (b = 0) is not on the slice: (3, 3, 1) has rank 6 (symmetric 3 x 3), not 10 - 1."""
    Z = measure_deep_rank(SQUARE, (3, 3, 1), hidden_bias=True, output_bias=True)
    assert Z.rank == 10 and measure_deep_rank(SQUARE, (3, 3, 1)).rank == 6
    assert measure_deep_rank("quadratic", (3, 3, 1)).rank == 9


def test_rule_names_the_reference_family():
    settled = deep_effective_parameters("quadratic:eps=1/2", (2, 2, 2, 2))
    assert "z^2 network with biases in every layer" in settled.rule
    assert settled.status == "exact" and settled.value == 12  # Corollary 28 for the z^2 network with biases
    # where that count is only a bound (23 - 1 = 22), the split bound is smaller: 18 + 2 = 20 (the rank is 19)
    rule = deep_effective_parameters("quadratic:eps=1/2", (3, 4, 2, 1))
    assert rule.status == "upper bound" and rule.value == 20 and "split at hidden layer 2" in rule.rule
