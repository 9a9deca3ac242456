"""Deep polynomial networks against published statements and published dimensions (exact ranks).

The rank of the expected Hessian at a rational teacher is the rank of the Jacobian of
theta -> network polynomial there (a lower bound on the neurovariety's dimension, equal to it at generic
teachers). The statements checked, instance by instance:

* Usevich, Borsoi, Derand, Clausel, "Identifiability of deep polynomial neural networks":
  Proposition 12 (two layers), Corollary 16 (non-increasing widths), Corollary 17 (degrees
  r_l >= 2 d_l - 1); by their Proposition 10, finite identifiability <=> dim = P - sum of hidden widths.
* Published dimensions of z^2 networks from the minimal-filling-architecture verification note for
  d_0 = 2, d_L = 1, r = 2 (Dao and Rodriguez, arXiv:2605.09609): D(5,5,3,1) = 32, D(4,5,5,3,1) = 47,
  D(5,4,3,1) = 25, D(3,5,6,4,3,1) = 58 (printed there as (3,5,6,9,3,1), inside the architecture
  (2,d_1,3,5,6,4,3,1)), and (2,3,3,4,4,2,1) filling (33).
* The "naive bound" of Kileel-Trager-Bruna's own dimension script (mtrager/polynomial_networks,
  compute_dimension.sage): min(ambient, sum_i (d_{i-1} - 1) d_i + d_h).
"""

from __future__ import annotations

from math import ceil, comb

import pytest
from hypothesis import given, settings, strategies as st

import symhess
from symhess.deep.counting import expected_dimension
from symhess.deep.weights import n_parameters, rational_deep_teacher


def _power(d: int) -> str:
    return "poly:coeffs=[" + ",".join(["0"] * (d - 1) + ["1"]) + "]"


def _rank(widths, degrees, seed):
    """Certified rank (gradients at integer points modulo a prime) with per-layer powers."""
    acts = [_power(d) for d in degrees]
    return symhess.deep_hessian_rank(acts, rational_deep_teacher(widths, rng=seed), method="points")


def _identifiable_dim(widths) -> int:
    return n_parameters(widths) - sum(widths[1:-1])


@pytest.mark.parametrize("widths,published,expected", [
    ((5, 5, 3, 1), 32, 35), ((4, 5, 5, 3, 1), 47, 50), ((5, 4, 3, 1), 25, 28), ((3, 5, 6, 4, 3, 1), 58, 66),
    ((2, 3, 3, 4, 4, 2, 1), 33, 33),
])
def test_published_z2_dimensions(widths, published, expected):
    m = symhess.deep_hessian_rank(_power(2), rational_deep_teacher(widths, rng=0), method="points")
    assert expected_dimension(widths, 2) == expected
    assert m.rank == published
    assert (m.status == "exact") == (published == expected)  # the defective ones are certified lower bounds


@settings(max_examples=15, deadline=None)
@given(d0=st.integers(2, 5), d1=st.integers(2, 5), d2=st.integers(1, 3), extra=st.integers(0, 1),
       seed=st.integers(0, 1000))
def test_two_layer_sufficient_degree(d0, d1, d2, extra, seed):
    """Proposition 12: r >= (2 d_1 - min(d_2, d_1)) / (min(d_1, d_0) - 1), r >= 2 => dim = P - d_1."""
    r = max(2, ceil((2 * d1 - min(d2, d1)) / (min(d1, d0) - 1))) + extra
    w = (d0, d1, d2)
    m = _rank(w, [r], seed)
    assert m.rank == _identifiable_dim(w) == m.upper and m.status == "exact", (w, r, m)


@st.composite
def _non_increasing(draw):
    depth = draw(st.integers(2, 4))
    hidden = sorted(draw(st.lists(st.integers(2, 4), min_size=depth - 1, max_size=depth - 1)), reverse=True)
    d0 = draw(st.integers(hidden[0], 4))
    return (d0, *hidden, draw(st.integers(1, 3)))


@settings(max_examples=15, deadline=None)
@given(widths=_non_increasing(), seed=st.integers(0, 1000))
def test_non_increasing_widths_attain_expected_dimension(widths, seed):
    """Corollary 16: d_0 >= ... >= d_{L-1} >= 2; r_l = 2, except r_{L-1} = 3 when d_L = 1."""
    L = len(widths) - 1
    degrees = [2] * (L - 1) if widths[-1] >= 2 else [2] * (L - 2) + [3]
    m = _rank(widths, degrees, seed)
    assert m.rank == _identifiable_dim(widths) == m.upper and m.status == "exact", (widths, degrees, m)


@pytest.mark.parametrize("widths", [(3, 3, 2, 1), (3, 2, 2, 1), (5, 4, 3, 1), (5, 5, 3, 1)])
def test_single_output_needs_cubic_last_activation(widths):
    """Outside Corollary 16's hypotheses (d_L = 1 with r_{L-1} = 2) these non-increasing architectures are defective."""
    L = len(widths) - 1
    assert _rank(widths, [2] * (L - 1), 0).rank < _identifiable_dim(widths)
    assert _rank(widths, [2] * (L - 2) + [3], 0).rank == _identifiable_dim(widths)


@settings(max_examples=10, deadline=None)
@given(widths=st.lists(st.integers(2, 3), min_size=3, max_size=4).flatmap(
    lambda w: st.integers(1, 2).map(lambda out: (*w, out))), seed=st.integers(0, 1000))
def test_linear_activation_degree_thresholds(widths, seed):
    """Corollary 17: all d_l >= 2 (l < L) and r_l >= 2 d_l - 1 => dim = P - sum of hidden widths."""
    degrees = [2 * n - 1 for n in widths[1:-1]]
    m = _rank(widths, degrees, seed)
    assert m.rank == _identifiable_dim(widths) and m.status == "exact", (widths, degrees, m)


@given(widths=st.lists(st.integers(1, 6), min_size=3, max_size=6), d=st.integers(2, 4))
def test_expected_dimension_is_the_authors_naive_bound(widths, d):
    """KTB's script: naive = sum_i (d_{i-1} - 1) d_i + d_h, capped by d_h binom(D + d_0 - 1, d_0 - 1)."""
    D = d ** (len(widths) - 2)
    naive = sum((a - 1) * b for a, b in zip(widths[:-1], widths[1:])) + widths[-1]
    assert expected_dimension(widths, d) == min(naive, widths[-1] * comb(D + widths[0] - 1, widths[0] - 1))


@pytest.mark.parametrize("widths,d", [((2, 3, 2, 1), 5), ((3, 2, 3, 2), 5), ((3, 3, 2, 1), 5), ((2, 2, 3, 2), 5)])
def test_counting_rule_exact_under_the_degree_theorem(widths, d):
    rule = symhess.deep_effective_parameters(_power(d), widths)
    assert rule.status == "exact" and rule.value == _identifiable_dim(widths)
    assert _rank(widths, [d] * (len(widths) - 2), 1).rank == rule.value


@st.composite
def _no_bottleneck(draw):
    depth = draw(st.integers(2, 4))
    hidden = draw(st.lists(st.integers(2, 4), min_size=depth - 1, max_size=depth - 1))
    return (draw(st.integers(2, 4)), *hidden, draw(st.integers(1, 3)))


@settings(max_examples=12, deadline=None)
@given(widths=_no_bottleneck(), extra=st.integers(0, 3), seed=st.integers(0, 1000))
def test_high_degree_formula_without_width_one_bottlenecks(widths, extra, seed):
    """Kileel-Trager-Bruna's exact formula for high activation degree, one degree r for every layer:
    dim = d_h + sum_i (d_i - 1) d_{i+1} (= P - sum of hidden widths) once r is large (proved in general by
    Finkel-Rodriguez-Wu-Yahl; r >= 2 max hidden width - 1 suffices by Usevich et al., Corollary 17)."""
    r = 2 * max(widths[1:-1]) - 1 + extra
    ktb = widths[-1] + sum((a - 1) * b for a, b in zip(widths[:-1], widths[1:]))
    m = _rank(widths, [r] * (len(widths) - 2), seed)
    assert m.rank == ktb == _identifiable_dim(widths) and m.status == "exact", (widths, r, m)


@pytest.mark.parametrize("widths", [(3, 1, 3, 2), (4, 1, 2, 2), (3, 2, 1, 2, 2), (2, 3, 1, 3, 1)])
def test_width_one_bottlenecks_miss_the_formula_at_every_degree(widths):
    """So a hypothesis under which the high-degree formula holds must exclude these width-one hidden layers:
    there the rank is dim(s) + N_L - 1 (s the network before the bottleneck), below the formula for all r.
    (Not every bottleneck: for (2, 1, 2) both give 3, the zero factor (d_1 - 1) removing W_2's count.)"""
    ktb = widths[-1] + sum((a - 1) * b for a, b in zip(widths[:-1], widths[1:]))
    for r in range(2, 8):
        m = _rank(widths, [r] * (len(widths) - 2), 0)
        rule = symhess.deep_effective_parameters(_power(r), widths)
        assert m.rank == rule.value < ktb, (widths, r, m.rank, rule.value, ktb)


@pytest.mark.parametrize("widths,published", [((5, 5, 3, 1), 32), ((4, 5, 5, 3, 1), 47), ((5, 4, 3, 1), 25)])
def test_published_defects_are_the_split_bound(widths, published):
    """dim V(N_0..N_l) + dim V(N_l..N_L) - N_l at the best hidden layer l (here: the tail is a secant of the quadric
    Veronese, defective): the rule alone gives the published value, and a certified rank proves it."""
    rule = symhess.deep_effective_parameters(_power(2), widths)
    assert rule.value == published < expected_dimension(widths, 2) and rule.status == "upper bound"
    settled = symhess.deep_effective_parameters(_power(2), widths, measure=True)
    assert settled.status == "exact" and settled.measured.rank == published


def test_split_bound_on_the_fourth_published_defect():
    rule = symhess.deep_effective_parameters(_power(2), (3, 5, 6, 4, 3, 1))
    assert rule.value == 59 and "split at hidden layer 2" in rule.rule  # published 58: one more defect than the splits see


@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 4), min_size=2, max_size=3), d0=st.integers(1, 4), out=st.integers(1, 3),
       d=st.integers(2, 3), seed=st.integers(0, 1000))
def test_split_bound_is_never_exceeded(hidden, d0, out, d, seed):
    """An upper bound: the certified rank at a random teacher never exceeds the rule (any number of outputs)."""
    widths = (d0, *hidden, out)
    if d == 3 and len(hidden) == 3:
        widths = widths[1:]  # keep D = d^(L-1) small
    m = _rank(widths, [d] * (len(widths) - 2), seed)
    rule = symhess.deep_effective_parameters(_power(d), widths)
    assert m.rank <= rule.value, (widths, d, m, rule)
