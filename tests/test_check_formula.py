"""check_formula / check_expectation: known-right formulas pass, known-wrong variants are caught.

The right formulas are the hand derivations of formulas.md §A5 (quadratic) and §A7 (erf), typed
in the paper's notation (units j, l; inputs k, m; output weights a_j; W_{1,jk}) as a user would.
Counterexamples are re-checked here by routes the checker does not use: direct substitution of
the user's formula, and the dense Hessian of symhess.expected_hessian at the reported network.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.check import NotationError, check_expectation, check_formula
from symhess.symbols import W_ij, W_il, W_kj, W_kl, delta_jl, v_i, v_k

# -- formulas.md §A5: g(z) = z + eps z^2, at the optimum ------------------------------------------
A5_WW = (r"a_j a_l\Big[(1+4\epsilon^2Q_{jl})\,\delta_{km}"
         r"+4\epsilon^2\big(W_{1,jk}W_{1,lm}+W_{1,jm}W_{1,lk}\big)\Big]")
A5_WV = r"a_j\Big[W_{1,lk}+2\epsilon^2\big(Q_{ll}\,W_{1,jk}+2Q_{jl}\,W_{1,lk}\big)\Big]"
A5_VV = r"Q_{jl}+\epsilon^2\big(Q_{jj}Q_{ll}+2Q_{jl}^2\big)"

# -- formulas.md §A7: plain erf(z), with the determinant as a definition ------------------------
DELTA_T = {r"\tilde\Delta": r"(1+2Q_{jj})(1+2Q_{ll})-4Q_{jl}^2"}
A7_VV = r"\frac2\pi\arcsin\frac{2Q_{jl}}{\sqrt{(1+2Q_{jj})(1+2Q_{ll})}}"
A7_WV = r"\frac4\pi\frac{a_j}{\sqrt{\tilde\Delta_{jl}}}\big[W_{1,lk}-\frac{2Q_{jl}}{1+2Q_{jj}}W_{1,jk}\big]"
A7_WW = (r"\frac4\pi\frac{a_ja_l}{\sqrt{\tilde\Delta_{jl}}}\big\{\delta_{km}-\frac{2[(1+2Q_{ll})W_{1,jk}W_{1,jm}"
         r"+(1+2Q_{jj})W_{1,lk}W_{1,lm}-2Q_{jl}(W_{1,jk}W_{1,lm}+W_{1,lk}W_{1,jm})]}{\tilde\Delta_{jl}}\big\}")
# §A7, Saad-Solla convention erf(z/sqrt 2)
SAAD_SOLLA = "erf:scale=sqrt(2)/2"
DELTA_SS = {r"\Delta": r"(1+Q_{jj})(1+Q_{ll})-Q_{jl}^2"}
SS_WW = (r"\frac{2}{\pi}\,\frac{a_ja_l}{\sqrt{\Delta_{jl}}}\Big\{\delta_{km}-\frac{(1+Q_{ll})W_{1,jk}W_{1,jm}"
         r"+(1+Q_{jj})W_{1,lk}W_{1,lm}-Q_{jl}\big(W_{1,jk}W_{1,lm}+W_{1,lk}W_{1,jm}\big)}{\Delta_{jl}}\Big\}")


def _network_entry(result) -> float:
    """The counterexample's entry of the dense expected Hessian, recomputed here from the network."""
    cex = result.counterexample
    rows = [cex["w_i"]] if cex["same_unit"] else [cex["w_i"], cex["w_k"]]
    v = [cex["v_i"]] if cex["same_unit"] else [cex["v_i"], cex["v_k"]]
    W = np.array([[float(x) for x in r] for r in rows])
    H = symhess.expected_hessian(cex["activation"], W, np.array([float(x) for x in v]))
    return float(H[cex["entry"]])


def _user_value(result):
    """The user's formula at the counterexample, by plain substitution."""
    values = {sym: sp.sympify(result.counterexample["values"][str(sym)])
              for sym in result.formula.free_symbols if str(sym) in result.counterexample["values"]}
    config = result.counterexample["configuration"]
    expr = result.formula
    if "i = k" in config:
        expr = expr.subs({v_k: v_i, W_kj: W_ij, W_kl: W_il})
    if "j = l" in config:
        expr = expr.subs({W_il: W_ij, W_kl: W_kj, delta_jl: 1})
    return expr.subs(values)


# -- known-right formulas pass ------------------------------------------------------------------------
@pytest.mark.parametrize("formula, activation, block, definitions", [
    (A5_WW, "quadratic", "WW", None),
    (A5_WV, "quadratic", "Wv", None),
    (A5_VV, "quadratic", "vv", None),
    (A7_VV, "erf", "vv", None),
    (A7_WV, "erf", "Wv", DELTA_T),
    (A7_WW, "erf", "WW", DELTA_T),
    (SS_WW, SAAD_SOLLA, "WW", DELTA_SS),
], ids=["A5-WW", "A5-Wv", "A5-vv", "A7-vv", "A7-Wv", "A7-WW", "A7-SaadSolla-WW"])
def test_hand_derived_references_pass(formula, activation, block, definitions):
    r = check_formula(formula, activation, block, pair="both", definitions=definitions)
    assert r.ok, r.report()
    assert r.method == "symbolic"
    assert r.counterexample is None and r.difference == 0 and not r.terms


def test_issue_example_erf_vv():
    r = symhess.check_formula(
        r"\frac{2}{\pi} \arcsin\left(\frac{2 Q_{ik}}{\sqrt{(1+2Q_{ii})(1+2Q_{kk})}}\right)", activation="erf", block="vv")
    assert r.ok and r.method == "symbolic" and r.counterexample is None


def test_quadratic_with_symbolic_eps_checks_every_eps():
    r = check_formula(A5_VV, "quadratic", "vv")
    assert r.ok
    assert "eps=epsilon" in r.what  # the spec left eps at its default: the check is for symbolic eps


@settings(max_examples=8, deadline=None)
@given(eps=st.fractions(min_value=-3, max_value=3, max_denominator=20).filter(lambda f: f != 0))
def test_numeric_eps_is_substituted_for_all_eps(eps: Fraction):
    spec = f"quadratic:eps={eps}"
    assert check_formula(A5_WV, spec, "Wv", pair="both").ok
    # the same formula with eps^2 -> eps is wrong for every eps other than 0, 1
    wrong = A5_WV.replace(r"2\epsilon^2", r"2\epsilon")
    assert check_formula(wrong, spec, "Wv").ok is (eps == 1)


def test_residual_part_and_diagonal():
    # E[e grad^2 f] per residual unit k: v_i v_k E[sigma''(u) sigma(v) x_j x_l], sigma'' = 2 eps
    r = check_formula(r"2\epsilon^2 v_i v_k (Q_{kk}\delta_{jl} + 2W_{kj}W_{kl})", "quadratic", "WW", part="residual",
                      pair="both")
    assert r.ok, r.report()
    # diagonal erf vv: the paper's (2/pi) arcsin(2Q/(1+2Q)); pair="auto" picks i = k (no unit k named)
    r = check_formula(r"\frac{2}{\pi}\arcsin\frac{2Q_{ii}}{1+2Q_{ii}}", "erf", "vv")
    assert r.ok and "i = k" in r.what


def test_residual_vv_block_is_zero():
    # f is linear in v, so the residual part E[e grad^2 f] has no vv entries: 0 passes, anything else is caught
    assert check_formula("0", "erf", "vv", part="residual", pair="both").ok
    r = check_formula(r"v_i v_k Q_{ik}", "quadratic", "vv", part="residual")
    assert not r.ok and r.counterexample["expected"] == 0
    assert r.counterexample["yours"] == _user_value(r) != 0
    assert r.counterexample["independent"]["agrees"]


def test_relu_arccos_kernel_passes_numerically():
    r = check_formula(r"\frac{1}{2\pi}\left(\sqrt{Q_{ii}Q_{kk}-Q_{ik}^2} + Q_{ik}\left(\pi - "
                      r"\arccos\frac{Q_{ik}}{\sqrt{Q_{ii}Q_{kk}}}\right)\right)", "relu", "vv")
    assert r.ok, r.report()
    assert r.failure_probability is None and "heuristic" in r.guarantee


# -- known-wrong variants are caught ------------------------------------------------------------------
def test_dropped_factor_two_on_one_term():
    wrong = A5_WW.replace(r"+4\epsilon^2\big(", r"+2\epsilon^2\big(")  # 4 eps^2 -> 2 eps^2 on W W terms
    r = check_formula(wrong, "quadratic:eps=1", "WW")
    assert not r.ok
    assert r.method.startswith("numeric at") and r.arithmetic == "exact rational arithmetic"
    cex = r.counterexample
    assert cex["yours"] == _user_value(r) != cex["expected"]
    assert float(cex["expected"]) == pytest.approx(_network_entry(r), rel=1e-12)
    assert cex["independent"]["agrees"] and cex["independent"]["value"] == cex["expected"]
    diffs = {t.monomial: t.ratio for t in r.terms}
    assert diffs == {W_ij * W_kl * v_i * v_k: sp.Rational(1, 2), W_il * W_kj * v_i * v_k: sp.Rational(1, 2)}
    assert sp.expand(r.difference + 2 * v_i * v_k * (W_ij * W_kl + W_il * W_kj)) == 0


def test_swapped_index():
    # Q_ll -> Q_jj in the W_{1,jk} term of eq. (12)
    wrong = A5_WV.replace(r"Q_{ll}\,W_{1,jk}", r"Q_{jj}\,W_{1,jk}")
    r = check_formula(wrong, "quadratic", "Wv")
    assert not r.ok
    (term,) = r.terms
    assert term.monomial == W_ij * v_i and term.ratio is None
    assert r.counterexample["yours"] == _user_value(r)
    assert float(r.counterexample["expected"]) == pytest.approx(_network_entry(r), rel=1e-12)


def test_swapped_unit_in_erf_wv():
    # W_{1,lk} and W_{1,jk} exchanged in eq. (17) for plain erf
    wrong = r"\frac4\pi\frac{a_j}{\sqrt{\tilde\Delta_{jl}}}\big[W_{1,jk}-\frac{2Q_{jl}}{1+2Q_{jj}}W_{1,lk}\big]"
    r = check_formula(wrong, "erf", "Wv", definitions=DELTA_T)
    assert not r.ok
    assert {t.monomial for t in r.terms} == {W_ij * v_i, W_kj * v_i}
    cex = r.counterexample
    assert abs(float(cex["yours"]) - float(_user_value(r))) < 1e-15
    assert float(cex["expected"]) == pytest.approx(_network_entry(r), rel=1e-10)
    assert cex["independent"]["agrees"]


def test_missing_delta_term_is_caught_only_for_j_equal_l():
    wrong = A7_WW.replace(r"\delta_{km}-", "-")
    r = check_formula(wrong, "erf", "WW", definitions=DELTA_T)
    assert not r.ok and r.counterexample["configuration"] == "i != k, j = l"
    (term,) = r.terms
    assert term.monomial == delta_jl * v_i * v_k and term.yours == 0


@settings(max_examples=6, deadline=None)
@given(factor=st.fractions(min_value=-4, max_value=4, max_denominator=7).filter(lambda f: f != 1))
def test_any_constant_factor_on_one_term_is_reported(factor: Fraction):
    f = sp.Rational(factor.numerator, factor.denominator)
    wrong = rf"v_i v_k\left(\delta_{{jl}} + {sp.latex(f)}\cdot 4\epsilon^2 W_{{ij}}W_{{kl}} " \
            r"+ 4\epsilon^2 W_{il}W_{kj} + 4\epsilon^2 Q_{ik}\delta_{jl}\right)"
    r = check_formula(wrong, "quadratic", "WW")
    assert not r.ok
    assert {t.monomial: t.ratio for t in r.terms} == {
        W_ij * W_kl * v_i * v_k: (f if f != 0 else None)}


def test_erf_vv_wrong_factor_numeric_counterexample():
    r = check_formula(r"\frac{2}{\pi} \arcsin\left(\frac{Q_{ik}}{\sqrt{(1+2Q_{ii})(1+2Q_{kk})}}\right)", "erf", "vv")
    assert not r.ok and "mpmath" in r.arithmetic
    cex = r.counterexample
    assert abs(float(cex["yours"]) - float(sp.N(_user_value(r), 30))) < 1e-15
    assert float(cex["expected"]) == pytest.approx(_network_entry(r), rel=1e-12)
    assert cex["independent"]["agrees"]
    assert "symhess check --formula" in r.command and "--seed 0" in r.command


def test_tanh_has_no_closed_form_and_is_compared_with_quadrature():
    r = check_formula(r"Q_{ik}", "tanh", "vv")
    assert not r.ok and "Gauss-Hermite" in r.arithmetic
    assert r.counterexample["independent"]["agrees"]


# -- expectations -----------------------------------------------------------------------------------
def test_expectations():
    assert check_expectation(r"\frac{4}{\pi\sqrt{(1+2q_1)(1+2q_2)-4c^2}}", "erf", (1, 1)).ok
    assert check_expectation("q1*q2 + 2*c**2 + c", "quadratic", (0, 0)).ok
    assert check_expectation(r"\frac{4}{\pi\sqrt{1+4q}}", "erf", (1, 1, 0)).ok
    r = check_expectation("q1*q2 + c**2 + c", "quadratic", (0, 0))
    assert not r.ok and [(t.monomial, t.ratio) for t in r.terms] == [(sp.Symbol("c", real=True)**2, sp.Rational(1, 2))]
    assert r.counterexample["independent"]["value"] == r.counterexample["expected"]
    r = check_expectation("c", "tanh", (0, 0))
    assert not r.ok and r.counterexample["independent"]["agrees"]


# -- bad input ----------------------------------------------------------------------------------------
def test_bad_input_messages():
    with pytest.raises(ValueError, match="block='XY' is unknown"):
        check_formula("Q_ik", "erf", "XY")
    with pytest.raises(ValueError, match="transpose of Wv"):
        check_formula("Q_ik", "erf", "vW")
    with pytest.raises(ValueError, match="part='full' is unknown"):
        check_formula("Q_ik", "erf", "vv", part="full")
    with pytest.raises(NotationError, match="no column input index"):
        check_formula("v_i W_{il}", "erf", "Wv")
    with pytest.raises(NotationError, match="has no parameter 'eps'"):
        check_formula(r"\epsilon Q_{ik}", "linear", "vv")
    with pytest.raises(symhess.UnknownActivationError):
        check_formula("Q_ik", "softplux", "vv")


# -- randomized identity testing and its stated failure probability ---------------------------------
def test_numeric_route_states_the_schwartz_zippel_bound():
    # skip simplification: the right A5 entry passes at random points in exact arithmetic. Its
    # difference has weighted degree <= 6 in the drawn variables (v_i v_k eps^2 Q_ik: 1+1+2+2), and
    # 16 of the 24 points are drawn from 2*10^6+1 values per variable
    r = check_formula(A5_WW, "quadratic", "WW", pair="both", symbolic=False)
    assert r.ok and r.method == "numeric at 24 random points" and r.arithmetic == "exact rational arithmetic"
    assert 0 < r.failure_probability <= (6 / (2 * 10**6 + 1 - 8)) ** 16
    assert "Schwartz" in r.guarantee and "--numeric" in r.command
    # and the same route catches the dropped factor with the same verdict as the symbolic one
    wrong = A5_WW.replace(r"+4\epsilon^2\big(", r"+2\epsilon^2\big(")
    r = check_formula(wrong, "quadratic", "WW", symbolic=False)
    assert not r.ok and r.counterexample["yours"] == _user_value(r) != r.counterexample["expected"]


_x, _y, _z = sp.symbols("x y z")


@st.composite
def _rational_expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from([_x, _y, _z, sp.Integer(draw(st.integers(-3, 3)))]))
    a, b = draw(_rational_expressions(depth=depth - 1)), draw(_rational_expressions(depth=depth - 1))
    op = draw(st.sampled_from(["add", "mul", "div", "pow"]))
    if op == "div" and b == 0:
        op = "add"
    return {"add": lambda: a + b, "mul": lambda: a * b, "div": lambda: a / b,
            "pow": lambda: a ** draw(st.integers(-2, 3)) if a != 0 else a}[op]()


@settings(max_examples=25, deadline=None)
@given(u=_rational_expressions(), r=_rational_expressions())
def test_degree_bound_bounds_the_numerator_of_the_difference(u, r):
    """The bound used in the stated probability is >= the true degree of numerator(u - r) (cancelled)."""
    from symhess.check.identity import degree_bound

    weights = {_x: 2, _y: 1, _z: 3}
    (nu, du), (nr, dr) = degree_bound(u, weights), degree_bound(r, weights)
    num, _ = sp.fraction(sp.cancel(sp.together(u - r)))
    if num == 0:
        return
    terms = sp.Poly(num, _x, _y, _z).monoms()
    true = max(2 * a + b + 3 * c for a, b, c in terms)
    assert true <= max(nu + dr, nr + du)
