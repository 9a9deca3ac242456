"""check_count: counting rules against exact Hessian ranks; smallest counterexamples; what a verdict proves.

The truth used here is eq. (14) of formulas.md §A6 (checked there on every size up to (8, 12)),
and the exact-rank route itself is checked against the float Hessian of symhess.expected_hessian.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.check import check_count
from symhess.check._rank import exact_hessian, exact_rank
from symhess.errors import NoClosedFormError

EQ14 = r"\frac{N_i(N_i+3)}{2} - \Theta(N_i-N_h)\frac{(N_i-N_h)(N_i-N_h+3)}{2}"
EQ14_HEAVISIDE_FORM = "n_hidden*(n_in+1) - n_hidden*(n_hidden-1)/2 + Heaviside(n_hidden-n_in)*(n_hidden-n_in)*(n_hidden-n_in-3)/2"


def neff_quadratic(n_i: int, n_h: int) -> int:
    """formulas.md eq. (14), written with ifs."""
    return n_i * (n_i + 3) // 2 - ((n_i - n_h) * (n_i - n_h + 3) // 2 if n_i > n_h else 0)


def _sizes_in_order(n_in_max: int, n_h_max: int):
    return sorted(((a, b) for a in range(1, n_in_max + 1) for b in range(1, n_h_max + 1)),
                  key=lambda ab: (ab[0] * ab[1] + ab[1], ab[0]))


# -- the exact-rank route ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["linear", "quadratic:eps=1/2", "poly:coeffs=[1,0.3,0.2]"])
def test_exact_hessian_equals_dense_float_hessian(spec, rng):
    act = symhess.activation(spec)
    W = rng.integers(-3, 4, size=(3, 4))
    v = rng.integers(-3, 4, size=3)
    H_int, den = exact_hessian(act, W.tolist(), v.tolist())
    H = symhess.expected_hessian(act, W.astype(float), v.astype(float))
    np.testing.assert_allclose(np.array(H_int, dtype=float) / den, H, rtol=1e-12, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(n_i=st.integers(1, 5), n_h=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_exact_rank_is_eq14_for_random_integer_teachers(n_i, n_h, seed):
    rng = np.random.default_rng(seed)
    W = rng.integers(-2**30, 2**30, size=(n_h, n_i)).tolist()
    v = rng.integers(-2**30, 2**30, size=n_h).tolist()
    assert exact_rank(symhess.activation("quadratic"), W, v) == neff_quadratic(n_i, n_h)


def test_exact_rank_matches_float_rank_for_small_integers(rng):
    act = symhess.activation("quadratic")
    for n_i, n_h in [(2, 1), (3, 2), (3, 4)]:
        W = rng.integers(-2, 3, size=(n_h, n_i))
        v = rng.integers(1, 3, size=n_h)
        H = symhess.expected_hessian(act, W.astype(float), v.astype(float))
        assert exact_rank(act, W.tolist(), v.tolist()) == np.linalg.matrix_rank(H)


# -- known-right rules pass -------------------------------------------------------------------------
@pytest.mark.parametrize("rule", [EQ14, EQ14_HEAVISIDE_FORM, neff_quadratic], ids=["latex", "heaviside", "callable"])
def test_eq14_passes(rule):
    r = check_count(rule, "quadratic", n_in=(1, 5), n_hidden=(1, 6), examples=30)
    assert r.ok, r.report()
    assert r.counterexample is None and r.covered
    assert all(s.ranks[0] == neff_quadratic(s.n_in, s.n_hidden) for s in r.covered)
    assert "evidence" in r.guarantee and "lower bound" in r.guarantee and 0 < r.error_bound < 1e-6


def test_linear_rank_is_n_in_and_polynomial_bound_is_attained():
    assert check_count("n_in", "linear", n_in=(1, 4), n_hidden=(1, 4), examples=15).ok
    rule = "Min(n_hidden*(n_in+1), binomial(n_in+3, 3) - 1)"  # formulas.md §A6, cubic with all c_k != 0
    assert check_count(rule, "poly:coeffs=[1,0.3,0.2]", n_in=(1, 3), n_hidden=(1, 5), examples=15).ok


# -- known-wrong rules: the smallest counterexample, and what it proves ------------------------------
def test_issue_example_fails_at_the_smallest_size():
    r = symhess.check_count(lambda n_in, n_hidden: n_in * (n_in + 3) // 2, activation="quadratic")
    assert not r.ok
    truth = next(ab for ab in _sizes_in_order(6, 8) if ab[0] * (ab[0] + 3) // 2 != neff_quadratic(*ab))
    assert r.counterexample == truth == (2, 1)
    assert (r.predicted, r.measured) == (5, 3)
    assert r.certainty == "proof"  # 5 > P = 3


@pytest.mark.parametrize("shift", [+1, -1])
def test_off_by_one(shift):
    r = check_count(lambda a, b: neff_quadratic(a, b) + shift, "quadratic", n_in=(1, 5), n_hidden=(1, 6))
    assert not r.ok and r.counterexample == (1, 1)
    assert r.predicted == neff_quadratic(1, 1) + shift and r.measured == neff_quadratic(1, 1)
    assert r.certainty == "proof"


def test_off_by_one_in_the_step_is_found_at_the_smallest_size():
    # Theta(N_i - N_h) -> Theta(N_i - N_h - 1): wrong where N_i > N_h, first at (2, 1), where
    # SymPy's Theta(0) = 1/2 halves the subtracted term: 5 - 1 = 4 > P = 3
    wrong = EQ14.replace(r"\Theta(N_i-N_h)", r"\Theta(N_i-N_h-1)")
    r = check_count(wrong, "quadratic", n_in=(1, 6), n_hidden=(1, 8))
    assert not r.ok
    truth = next(ab for ab in _sizes_in_order(6, 8) if ab[0] > ab[1])
    assert r.counterexample == truth == (2, 1)
    assert (r.predicted, r.measured) == (4, neff_quadratic(2, 1)) and r.certainty == "proof"
    assert "symhess check --count" in r.command and "--n-in 2:2 --n-hidden 1:1" in r.command


def test_rank_above_rule_is_a_proof_and_below_is_evidence():
    r = check_count("n_in*n_hidden", "quadratic", n_in=(1, 4), n_hidden=(1, 4))  # (1,1): rank 2 > 1
    assert not r.ok and r.counterexample == (1, 1) and r.certainty == "proof" and "a proof" in r.guarantee
    r = check_count("n_in + 1", "linear", n_in=(1, 3), n_hidden=(1, 3), teachers=3)  # rank n_in < rule <= P
    assert not r.ok and r.counterexample == (1, 1) and r.certainty == "evidence"
    (size,) = [s for s in r.covered if (s.n_in, s.n_hidden) == (1, 1)]
    assert len(size.ranks) == 3 and set(size.ranks) == {1}
    assert r.error_bound < 1e-20 and "not a proof" in r.guarantee


def test_non_integer_rule_is_disproved():
    r = check_count("n_in/2", "quadratic", n_in=(1, 3), n_hidden=(1, 3))
    assert not r.ok and r.certainty == "proof" and r.predicted == sp.Rational(1, 2)
    assert "not an integer" in r.guarantee


def test_exhaustive_and_hypothesis_agree():
    wrong = lambda a, b: neff_quadratic(a, b) + (a == 3 and b == 4)  # noqa: E731
    r1 = check_count(wrong, "quadratic", n_in=(1, 4), n_hidden=(1, 5), exhaustive=True)
    r2 = check_count(wrong, "quadratic", n_in=(1, 4), n_hidden=(1, 5), examples=100)
    assert r1.counterexample == (3, 4)
    assert r2.counterexample in (None, (3, 4))  # a search may miss one size; it never invents one


def test_bad_input():
    with pytest.raises(NoClosedFormError, match="polynomial"):
        check_count("n_in", "erf")
    with pytest.raises(NoClosedFormError, match="rational"):
        check_count("n_in", "quadratic:eps=sqrt(2)")
    with pytest.raises(ValueError, match="raised ZeroDivisionError"):
        check_count(lambda a, b: 1 // 0, "linear", n_in=1, n_hidden=1)
    with pytest.raises(ValueError, match="1 <= low <= high"):
        check_count("n_in", "linear", n_in=(3, 2))
    with pytest.raises(TypeError, match="rule must be"):
        check_count(3, "linear")


# -- agreement with the rank routes of symhess.two_layer.exact and symhess.two_layer.counting -----------
@pytest.mark.parametrize("spec", ["quadratic:eps=1/2", "poly:coeffs=[1,0.3,0.2]", "poly:coeffs=[0,1,0,1]"])
def test_exact_hessian_equals_the_kernels_exact_route(spec, rng):
    from symhess.two_layer.exact import exact_expected_hessian

    act = symhess.activation(spec)
    W = rng.integers(-5, 6, size=(3, 2)).tolist()
    v = rng.integers(-5, 6, size=3).tolist()
    H_int, den = exact_hessian(act, W, v)
    Hq = exact_expected_hessian(act, W, v)
    P = len(H_int)
    assert (Hq.nrows(), Hq.ncols()) == (P, P)
    for a in range(P):
        for b in range(P):
            x = Hq[a, b]
            assert sp.Rational(int(x.p), int(x.q)) == sp.Rational(H_int[a][b], den), (a, b)


@pytest.mark.parametrize("spec", ["linear", "quadratic:eps=1/2", "poly:coeffs=[0,0,1]", "poly:coeffs=[1,0.3,0.2]"])
def test_counting_rules_of_symhess_pass_the_checker(spec):
    """symhess.two_layer.counting's rules (issue 3) against this module's own exact ranks, at every size."""
    from symhess.two_layer.counting import effective_parameters

    r = check_count(lambda a, b: effective_parameters(spec, a, b).value, spec, n_in=(1, 4), n_hidden=(1, 4),
                    exhaustive=True)
    assert r.ok, r.report()
    assert len(r.covered) == 16
