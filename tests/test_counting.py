"""Counting rules for the effective number of parameters (issue 3), proved instance by instance.

Every drawn instance is measured by the exact rank over Q at a random rational teacher (a certified
lower bound for the generic rank, and the generic rank unless the point is special). The rule
functions are first checked against the spec's own forms of the formulas (formulas.md §A6), written
out again here, and the Alexander–Hirschowitz values against the theorem's statement.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from math import comb
from typing import ClassVar

import pytest
import sympy as sp
from hypothesis import assume, given, settings, strategies as st

import symhess
from symhess.activations.base import Activation
from symhess.two_layer.counting import (
    AH_EXCEPTIONS, KNOWN_DEFECTS, effective_parameters, linear_rank, measure_rank, n_parameters, polynomial_bound, polynomial_rank_bound, polynomial_rule, pure_power_rank, pure_square_rank, quadratic_rank, relu_rank, tschirnhaus_shift, veronese_secant_dimension,
)
from symhess.two_layer.rank import hessian_rank
from symhess.errors import NoClosedFormError
from symhess.symbols import z

sizes_in = st.integers(1, 8)
sizes_hidden = st.integers(1, 10)
seeds = st.integers(0, 10**6)
nonzero_q = st.fractions(min_value=-3, max_value=3, max_denominator=16).filter(lambda q: q != 0)


def exact(act, Ni, Nh, seed, **bias):
    return measure_rank(act, Ni, Nh, method="exact", rng=seed, **bias)


def poly(coeffs) -> symhess.activations.Activation:
    """``poly`` activation from c_1, c_2, ... (the registry's convention: no constant term)."""
    return symhess.activation("poly", coeffs=list(coeffs))


def theta(x: int) -> int:
    return 1 if x > 0 else 0


# --------------------------------------------------------------------------- the formulas themselves
def test_spec_examples_of_eq_14():
    # formulas.md A6: (10, 20): P = 220, N_eff = 65; (30, 10): P = 310, 265; (10, 5): P = 55, 45
    for (Ni, Nh), P, neff in [((10, 20), 220, 65), ((30, 10), 310, 265), ((10, 5), 55, 45)]:
        assert n_parameters(Ni, Nh) == P and quadratic_rank(Ni, Nh) == neff


@given(st.integers(1, 80), st.integers(1, 80))
def test_eq_14_equals_its_other_forms(Ni, Nh):
    # cases form and "equivalent Heaviside form" of formulas.md A6
    cases = Nh * (Ni + 1) - Nh * (Nh - 1) // 2 if Nh <= Ni else Ni * (Ni + 3) // 2
    heaviside = Nh * (Ni + 1) - Nh * (Nh - 1) // 2 + theta(Nh - Ni) * (Nh - Ni) * (Nh - Ni - 3) // 2
    assert quadratic_rank(Ni, Nh) == cases == heaviside
    # pure z^2: symmetric matrices of rank <= Nh
    sym = Nh * Ni - comb(Nh, 2) if Nh <= Ni else comb(Ni + 1, 2)
    assert pure_square_rank(Ni, Nh) == sym == veronese_secant_dimension(Ni, 2, Nh)
    assert linear_rank(Ni, Nh) == Ni == veronese_secant_dimension(Ni, 1, Nh)


@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 7))
def test_degree_n_bound_hockey_stick(Ni, Nh, n):
    # all c_1..c_n nonzero: sum_k C(Ni+k-1, k) = C(Ni+n, n) - 1
    assert polynomial_bound(Ni, Nh, range(1, n + 1)) == min(Nh * (Ni + 1), comb(Ni + n, n) - 1)
    assert polynomial_rank_bound(Ni, Nh, range(1, n + 1)) <= polynomial_bound(Ni, Nh, range(1, n + 1))


def test_alexander_hirschowitz_statement():
    """AH: for d >= 3 the secant variety has the expected dimension min(k n, C(n+d-1, d)) except
    (d, n, k) = (4, 3, 5), (4, 4, 9), (3, 5, 7), (4, 5, 14) [d = 4, n = 3..5, k = C(n+1, 2) - 1; cubics in 5 variables]."""
    exceptions = {(4, n, comb(n + 1, 2) - 1) for n in (3, 4, 5)} | {(3, 5, 7)}
    assert set(AH_EXCEPTIONS) == exceptions
    for d in range(3, 7):
        for n in range(2, 8):
            for k in range(1, 20):
                expected = min(k * n, comb(n + d - 1, d))
                got = veronese_secant_dimension(n, d, k)
                assert got == expected - ((d, n, k) in exceptions)


def test_tschirnhaus_shift_removes_the_subleading_term():
    c = [Fraction(1, 3), Fraction(2), Fraction(-1, 2), Fraction(5, 4)]
    beta, ct = tschirnhaus_shift(c)
    zz = sp.Symbol("zz")
    lhs = sum(sp.Rational(x.numerator, x.denominator) * (zz - sp.Rational(beta.numerator, beta.denominator)) ** k
              for k, x in enumerate(c))
    rhs = sum(sp.Rational(x.numerator, x.denominator) * zz**k for k, x in enumerate(ct))
    assert sp.expand(lhs - rhs) == 0 and ct[2] == 0


# --------------------------------------------------------------------------- property proofs (exact ranks)
@given(sizes_in, sizes_hidden, nonzero_q, seeds)
def test_quadratic_eq_14_is_the_exact_rank(Ni, Nh, eps, seed):
    act = symhess.activation("quadratic", eps=eps)
    e = effective_parameters(act, Ni, Nh)
    assert e.rule == "quadratic eq. (14)" and e.status == "exact"
    assert exact(act, Ni, Nh, seed).rank == e.value == quadratic_rank(Ni, Nh)


@pytest.mark.slow
@settings(max_examples=60)
@given(st.integers(6, 20), st.integers(6, 30), nonzero_q, seeds)
def test_quadratic_eq_14_larger_sizes(Ni, Nh, eps, seed):
    act = symhess.activation("quadratic", eps=eps)
    assert exact(act, Ni, Nh, seed).rank == quadratic_rank(Ni, Nh)


@given(sizes_in, sizes_hidden, nonzero_q, seeds)
def test_linear_and_pure_square(Ni, Nh, c, seed):
    assert exact(poly([c]), Ni, Nh, seed).rank == Ni
    assert exact(poly([0, c]), Ni, Nh, seed).rank == pure_square_rank(Ni, Nh)


@given(st.integers(1, 6), st.integers(1, 12), st.integers(3, 5), nonzero_q, seeds)
def test_pure_powers_follow_alexander_hirschowitz(Ni, Nh, d, c, seed):
    assume(Nh * (Ni + 1) <= 90)
    act = poly([0] * (d - 1) + [c])
    e = effective_parameters(act, Ni, Nh)
    assert e.rule == "Alexander-Hirschowitz" and e.value == pure_power_rank(Ni, Nh, d)
    assert exact(act, Ni, Nh, seed).rank == e.value


@pytest.mark.parametrize("d, n, k", sorted(AH_EXCEPTIONS))
def test_alexander_hirschowitz_exceptional_cases_by_both_routes(d, n, k):
    """The defective cases: both exact routes find one less than the expected dimension, and the
    neighbouring k are not defective."""
    act = poly([0] * (d - 1) + [1])
    W, v = symhess.rational_teacher(n, k, rng=d + n + k)
    r = hessian_rank(act, W, v, exact=True, route="both")
    assert r.rank == min(k * n, comb(n + d - 1, d)) - 1
    assert "(exceptional case: one less)" in effective_parameters(act, n, k).formula
    for kk in (k - 1, k + 1):
        assert exact(act, n, kk, 7).rank == min(kk * n, comb(n + d - 1, d))


coefficient_lists = st.lists(st.sampled_from([Fraction(0), Fraction(1), Fraction(-2, 3), Fraction(5, 2)]),
                             min_size=2, max_size=4).filter(lambda c: c[-1] != 0 and sum(x != 0 for x in c) >= 2)


@given(coefficient_lists, st.integers(1, 5), st.integers(1, 9), seeds)
def test_degree_n_polynomials_bounded_and_rule_attained(coeffs, Ni, Nh, seed):
    """rank <= min(P, C(Ni+n, n) - 1) (A6) <= ...; the refined secant bound is attained except the
    measured sporadic defects, whose values are reproduced."""
    assume(Nh * (Ni + 1) <= 90)
    act = poly(coeffs)
    n = len(coeffs)
    r = exact(act, Ni, Nh, seed).rank
    degs = [k + 1 for k, c in enumerate(coeffs) if c != 0]
    assert r <= polynomial_bound(Ni, Nh, degs) <= min(Nh * (Ni + 1), comb(Ni + n, n) - 1)
    e = effective_parameters(act, Ni, Nh)
    assert r == e.value, e


@pytest.mark.parametrize("key", sorted(KNOWN_DEFECTS))
def test_known_defects_by_both_routes(key):
    degs, Ni, Nh = key
    coeffs = [1 if k in degs else 0 for k in range(1, max(degs) + 1)]
    W, v = symhess.rational_teacher(Ni, Nh, rng=sum(degs) + Ni + Nh)
    r = hessian_rank(poly(coeffs), W, v, exact=True, route="both")
    assert r.rank == KNOWN_DEFECTS[key] < polynomial_rank_bound(Ni, Nh, degs)


@settings(max_examples=12)
@given(st.sampled_from(sorted(KNOWN_DEFECTS)), st.lists(nonzero_q, min_size=3, max_size=3), seeds)
def test_known_defects_do_not_depend_on_the_coefficients(key, cs, seed):
    degs, Ni, Nh = key
    coeffs = [0] * max(degs)
    for d, c in zip(degs, cs):
        coeffs[d - 1] = c
    assert exact(poly(coeffs), Ni, Nh, seed).rank == KNOWN_DEFECTS[key] == effective_parameters(poly(coeffs), Ni, Nh).value


# --------------------------------------------------------------------------- biases: the "+1" conjecture
BIAS_OPTIONS = [(True, False), (False, True), (True, True)]
BIAS_ACTS = ["linear", "quadratic", "quadratic:eps=-1/3", "poly:coeffs=[0,1]", "poly:coeffs=[0,0,1]",
             "poly:coeffs=[1,0,1]", "poly:coeffs=[1,3/10,1/5]", "poly:coeffs=[0,1,1]", "poly:coeffs=[2,0,0,1]",
             "poly:coeffs=[0,1,1,1]", "poly:coeffs=[3,3,1]", "poly:coeffs=[4,6,4,1]"]  # (z+1)^3 - 1, (z+1)^4 - 1


@settings(max_examples=40)
@given(st.sampled_from(BIAS_ACTS), st.sampled_from(BIAS_OPTIONS), st.integers(1, 5), st.integers(1, 7), seeds)
def test_bias_rules_are_the_exact_rank(spec, opts, Ni, Nh, seed):
    hb, ob = opts
    e = effective_parameters(spec, Ni, Nh, hidden_bias=hb, output_bias=ob)
    r = exact(spec, Ni, Nh, seed, hidden_bias=hb, output_bias=ob).rank
    assert r <= e.n_params == n_parameters(Ni, Nh, hidden_bias=hb, output_bias=ob)
    assert r == e.value, e  # upper bounds included: each is attained (the docstring's claim)


@given(st.sampled_from(["linear", "quadratic", "quadratic:eps=1/4"]), st.sampled_from(BIAS_OPTIONS),
       sizes_in, sizes_hidden, seeds)
def test_plus_one_holds_for_linear_and_quadratic(spec, opts, Ni, Nh, seed):
    hb, ob = opts
    assert exact(spec, Ni, Nh, seed, hidden_bias=hb, output_bias=ob).rank == exact(spec, Ni, Nh, seed).rank + 1


@given(st.sampled_from(["poly:coeffs=[0,1]", "poly:coeffs=[0,0,1]", "poly:coeffs=[1,1,1]", "poly:coeffs=[0,1,0,1]"]),
       st.integers(1, 5), st.integers(1, 7), seeds)
def test_output_bias_alone_adds_exactly_one(spec, Ni, Nh, seed):
    assert exact(spec, Ni, Nh, seed, output_bias=True).rank == exact(spec, Ni, Nh, seed).rank + 1


@given(st.integers(2, 7), seeds)
def test_plus_one_fails_for_pure_square_with_hidden_biases(Ni, seed):
    """z^2 with hidden biases: quadratic forms of rank <= Nh in Ni + 1 variables, i.e. +Nh for Nh <= Ni."""
    for Nh in range(1, Ni + 1):
        gain = exact("poly:coeffs=[0,1]", Ni, Nh, seed, hidden_bias=True).rank - pure_square_rank(Ni, Nh)
        assert gain == Nh


# --------------------------------------------------------------------------- a constant term (user activations)
@dataclass(frozen=True)
class WithConstant(Activation):
    """sigma(z) = sum_k c_k z^k including c_0 (the built-in polynomials have no constant term)."""

    name: ClassVar[str] = "with_constant_test"
    coeffs: tuple = (1, 1, 1)

    def expr(self, x=z):
        return sum(sp.Rational(str(c)) * x**k for k, c in enumerate(self.coeffs))


@given(st.sampled_from([(1, 1), (2, 1, 1), (1, 0, 1), (1, 0, 0, 1), (1, 1, 0, 1), (-1, 0, 1, 1)]),
       st.integers(1, 4), st.integers(1, 6), seeds)
def test_constant_term_rule(coeffs, Ni, Nh, seed):
    act = WithConstant(coeffs)
    e = effective_parameters(act, Ni, Nh)
    r = exact(act, Ni, Nh, seed).rank
    assert r == e.value, e
    base = effective_parameters(poly(coeffs[1:]), Ni, Nh).value
    assert r - base in (0, 1)
    if len([c for c in coeffs[1:] if c]) == 1:  # pure powers and linear: exactly +1
        assert r == base + 1
    if coeffs[1:] == (1, 1):  # z + z^2 + c_0: nothing for Nh <= Ni, +1 above
        assert r == base + (Nh > Ni)


# --------------------------------------------------------------------------- non-polynomial activations
@settings(max_examples=10)
@given(st.integers(2, 5), st.integers(1, 5), seeds)
def test_relu_rule(Ni, Nh, seed):
    e = effective_parameters("relu", Ni, Nh)
    assert e.value == relu_rank(Ni, Nh) == Nh * Ni and e.status == "exact"
    m = measure_rank("relu", Ni, Nh, rng=seed)
    assert m.status == "lower bound" and m.rank == e.value  # null vectors give <=, tested in test_rank.py


def test_erf_tanh_effective_parameters_full_rank_with_measurement():
    for spec in ("erf", "tanh", "erf:scale=1/2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = effective_parameters(spec, 1, 5, measure=True, rng=0)
        assert e.value == 10 and e.rule == "full rank" and e.status == "exact"
        assert e.measured.rank == 10 and e.measured.status == "exact"
        assert "measured: 10" in str(e)


@dataclass(frozen=True)
class Sine(Activation):
    name: ClassVar[str] = "sine_test"

    def expr(self, x=z):
        return sp.sin(x)


def test_no_rule_known_returns_the_measured_rank():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = effective_parameters(Sine(), 2, 3)
    assert e.rule == "none known" and e.status == "measured" and e.value == e.measured.rank == 9
    assert "no counting rule is known" in e.note


def test_measure_rank_float_method_matches_exact():
    r = measure_rank("quadratic", 4, 2, method="float", rng=1)
    assert r.status == "numerical" and r.rank == quadratic_rank(4, 2)
    rb = measure_rank("quadratic", 3, 2, method="float", hidden_bias=True, output_bias=True, rng=1)
    assert rb.rank == quadratic_rank(3, 2) + 1


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("Ni, Nh, err", [(0, 2, ValueError), (2, -1, ValueError), (True, 2, TypeError),
                                         (2.5, 2, TypeError), ("3", 2, TypeError)])
def test_bad_sizes(Ni, Nh, err):
    with pytest.raises(err, match="n_in|n_hidden"):
        effective_parameters("quadratic", Ni, Nh)


def test_bad_arguments():
    with pytest.raises(ValueError, match="trainable"):  # erf with biases has rules now (test_bias_counting.py)
        effective_parameters("erf", 2, 2, trainable=("b",))
    with pytest.raises(ValueError, match="no nonzero term"):
        polynomial_rule(2, 2, [1, 0, 0])
    with pytest.raises(ValueError, match="method"):
        measure_rank("quadratic", 2, 2, method="guess")
    with pytest.raises(ValueError, match="degrees"):
        polynomial_bound(2, 2, [0])
    with pytest.raises(ValueError):
        veronese_secant_dimension(0, 2, 1)
    with pytest.raises(symhess.errors.UnknownActivationError):
        effective_parameters("nonsense", 2, 2)


def test_symbolic_coefficients_give_the_rule_but_cannot_be_measured_exactly():
    e = effective_parameters("quadratic:eps=epsilon", 5, 3)
    assert e.value == quadratic_rank(5, 3)
    e = effective_parameters("quadratic:eps=epsilon", 5, 3, hidden_bias=True)
    assert e.value == quadratic_rank(5, 3) + 1
    with pytest.raises(symhess.two_layer.exact.NotRationalError):
        measure_rank("quadratic:eps=epsilon", 2, 2, method="exact")
