"""Round trip: every exported formula parses back (SymPy's LaTeX parser) to an expression equal to its source.

Equality is checked numerically at random points in 40-digit arithmetic, so a printing mistake (a
dropped factor, a swapped index, a wrong power, a term swallowed into a function's argument)
shows up as a mismatch far above the tolerance. Gaussian expectations without a closed form
(tanh) are replaced on both sides by the same pseudo-random function of their arguments and
derivative orders, so that a wrong order or argument is caught as well.
"""

from __future__ import annotations

import fractions
import functools

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.expectation.pairs import GaussianQuadrature
from symhess.export import (
    PAPER_INDEX_ALIASES, PaperLatexError, export_equations, paper_document, parse_paper_latex,
    symbolic_activation,
)
from symhess.export.rules import (
    COUNTING_RULES, LAW_FUNCTIONS, LAW_SYMBOLS, N_h, N_i, counting_equations, linear_law_equations,
    linear_law_formulas,
)
from symhess.symbols import Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, c, delta_jl, eps, q, q1, q2, scale, v_i, v_k

_frac = st.fractions(min_value=fractions.Fraction(-3), max_value=3, max_denominator=20).map(sp.Rational)
_pos = st.fractions(min_value=fractions.Fraction(1, 10), max_value=4, max_denominator=20).map(sp.Rational)

#: every registered activation, both erf conventions, and symbolic parameters
CANONICAL = ["linear", "quadratic", "erf", "erf:scale=sqrt(2)/2", "relu", "tanh", "poly:coeffs=[1,0.3,0.2]",
             "sym:quadratic", "sym:erf", "sym:poly:coeffs=[1,0,2]",
             # the other families' formula pages (docs/_ext/symhess_docs.py MATH_ACTIVATIONS)
             "abrelu:a=-1/2,b=2", "leaky_relu:slope=1/10", "abs", "gelu", "sin", "cos", "rbf", "exp", "gaussian",
             "hermite:coeffs=[0,1,1]"]

#: activations with drawn parameters
DRAWN = st.one_of(
    _frac.filter(lambda x: x != 0).map(lambda e: symhess.activation("quadratic", eps=e)),
    _pos.map(lambda s: symhess.activation("erf", scale=s)),
    st.lists(_frac, min_size=1, max_size=3).filter(lambda cs: any(cs)).map(
        lambda cs: symhess.activation("poly", coeffs=cs)),
)


def _act(spec: str):
    return symbolic_activation(spec[4:]) if spec.startswith("sym:") else symhess.activation(spec)


def _point(draw_vals) -> dict:
    """A point where every formula is defined: |Q_ik| < sqrt(Q_ii Q_kk), positive variances."""
    qii, qkk, rho, wij, wil, wkj, wkl, vi, vk, e, s, cs = draw_vals
    return {
        Q_ii: qii, Q_kk: qkk, Q_ik: rho * sp.sqrt(qii * qkk), W_ij: wij, W_il: wil, W_kj: wkj, W_kl: wkl,
        v_i: vi, v_k: vk, delta_jl: 1, eps: e, scale: s, q1: qii, q2: qkk, c: rho * sp.sqrt(qii * qkk), q: qii,
        **{sp.Symbol(f"c_{n + 1}", real=True): cs[n] for n in range(3)},
    }


POINTS = st.tuples(
    _pos, _pos, st.fractions(min_value=fractions.Fraction(-9, 10), max_value=fractions.Fraction(9, 10),
                             max_denominator=20).map(sp.Rational),
    _frac, _frac, _frac, _frac, _frac, _frac, _frac.filter(lambda x: x != 0), _pos,
    st.tuples(_frac, _frac, _frac),
).map(_point)


_FIXED_POINTS = [
    _point((sp.Rational(6, 5), sp.Rational(4, 5), sp.Rational(-1, 3), 1, -2, sp.Rational(1, 2), 3, 2,
            sp.Rational(-3, 2), sp.Rational(3, 4), sp.Rational(5, 4), (1, sp.Rational(-1, 2), 2))),
    _point((sp.Rational(1, 7), sp.Rational(19, 5), sp.Rational(4, 5), sp.Rational(-7, 3), sp.Rational(2, 9),
            -1, sp.Rational(5, 2), sp.Rational(-1, 4), 1, -2, sp.Rational(1, 3), (sp.Rational(2, 3), 3, -1))),
    _point((3, sp.Rational(1, 2), sp.Rational(-17, 20), sp.Rational(1, 5), 1, sp.Rational(-3, 5), sp.Rational(-8, 3),
            sp.Rational(7, 4), sp.Rational(2, 5), sp.Rational(-5, 3), 2, (sp.Rational(-1, 5), sp.Rational(1, 7), 1))),
]


def _opaque(expr: sp.Expr) -> sp.Expr:
    """Replace quadrature nodes by one fixed pseudo-random function of (class, orders, arguments)."""
    def fake(node):
        weights = (sp.Integer(3), sp.Integer(5), sp.Rational(7, 3), sp.Rational(11, 7), sp.Rational(13, 5))
        tag = sum(ord(ch) for ch in type(node).__name__)
        return sp.sin(tag + sum(w * a for w, a in zip(weights, node.args)))

    return expr.replace(lambda e: isinstance(e, GaussianQuadrature), fake)


def _value(expr: sp.Expr, point: dict) -> mpmath.mpf:
    # exact values for exact symbols: xreplace suffices (and is much faster than subs)
    val = sp.N(_opaque(expr.xreplace({k: sp.sympify(v) for k, v in point.items()})), 40)
    assert val.is_number, f"free symbols left: {val.free_symbols}"
    return val


def _assert_equal(parsed: sp.Expr, source: sp.Expr, point: dict, what: str) -> None:
    a, b = _value(parsed, point), _value(source, point)
    assert abs(a - b) <= sp.Float("1e-30") * (1 + abs(b)), f"{what}: parsed {a} != source {b}"


@pytest.mark.parametrize("part", ["gauss_newton", "residual"])
@pytest.mark.parametrize("spec", CANONICAL)
def test_every_block_equation_parses_back_to_its_source(spec, part):
    act = _act(spec)
    for eq in export_equations(symhess.derive_blocks(act, part)):
        parsed = parse_paper_latex(eq.rhs, activation=act, definitions=eq.determinants)
        shown = parse_paper_latex(eq.render(), activation=act, definitions=eq.determinants) if eq.lines else parsed
        for point in _FIXED_POINTS:
            _assert_equal(parsed, eq.expr, point, f"{act.spec} {eq.label} one-line")
            _assert_equal(shown, eq.expr, point, f"{act.spec} {eq.label} display")


@pytest.mark.parametrize("label, good, bad", [
    ("eq:vv-ik", r"\frac{2}{\pi}", r"\frac{1}{\pi}"),            # a dropped factor 2
    ("eq:Wv-ik", "W_{kj}", "W_{ij}"),                               # a swapped index
    ("eq:WW-ii", r"\sqrt{\tilde{\Delta}_{ii}}", r"\tilde{\Delta}_{ii}"),  # a wrong power
    ("eq:Delta-ik", "4 Q_{ik}^{2}", "4 Q_{ik}"),                    # a lost square
])
def test_the_round_trip_catches_printing_mistakes(label, good, bad):
    eq = next(e for e in export_equations(symhess.derive_blocks("erf")) if e.label == label)
    assert good in eq.rhs
    wrong = parse_paper_latex(eq.rhs.replace(good, bad, 1), definitions=eq.determinants)
    with pytest.raises(AssertionError, match="parsed .* != source"):
        for point in _FIXED_POINTS:
            _assert_equal(wrong, eq.expr, point, label)


@given(act=DRAWN, point=POINTS, part=st.sampled_from(["gauss_newton", "residual"]))
@settings(max_examples=4)
def test_block_equations_with_drawn_parameters_parse_back(act, point, part):
    for eq in export_equations(symhess.derive_blocks(act, part)):
        parsed = parse_paper_latex(eq.rhs, activation=act, definitions=eq.determinants)
        _assert_equal(parsed, eq.expr, point, f"{act.spec} {eq.label}")


@functools.lru_cache(maxsize=None)
def _determinant_round_trips(spec: str) -> tuple:
    """(label, source, rhs parsed, lhs parsed) of each determinant definition, parsed once."""
    out = []
    for eq in export_equations(symhess.derive_blocks(spec)):
        if "Delta" in eq.label:
            # no definitions= passed: Delta-tilde takes the activation's scale, Delta the paper's
            out.append((eq.label, eq.expr, parse_paper_latex(eq.rhs, activation=spec),
                        parse_paper_latex(eq.lhs, activation=spec)))
    return tuple(out)


@given(point=POINTS)
@settings(max_examples=10)
def test_determinant_definitions_parse_back_with_the_default_meaning(point):
    for spec in ("erf", "erf:scale=sqrt(2)/2", "erf:scale=3"):
        found = _determinant_round_trips(spec)
        assert [lab for lab, *_ in found] == ["eq:Delta-ik", "eq:Delta-ii"]
        for label, source, rhs, lhs in found:
            _assert_equal(rhs, source, point, label)
            _assert_equal(lhs, source, point, f"{label} name")


def test_document_equations_all_parse_back():
    doc = paper_document(["linear", "quadratic", "erf", "relu"], residual=True)
    point = _point((sp.Rational(6, 5), sp.Rational(4, 5), sp.Rational(-1, 3), 1, -2, sp.Rational(1, 2), 3, 2,
                    sp.Rational(-3, 2), 1, 1, (1, 1, 1)))
    law_point = {N_i: 7, N_h: 4, LAW_SYMBOLS["sigma_w"]: sp.Rational(1, 3), LAW_SYMBOLS["sigma_v"]: sp.Rational(1, 2),
                 LAW_SYMBOLS["lambda"]: sp.Rational(13, 10), LAW_SYMBOLS["mu"]: sp.Rational(9, 10),
                 LAW_SYMBOLS["n"]: 3}
    law = linear_law_formulas()
    law_point.update({LAW_SYMBOLS["mu_+"]: law.mu_plus.subs(law_point), LAW_SYMBOLS["mu_-"]: law.mu_minus.subs(law_point)})
    funcs = law.density_functions()
    for eq in doc.equations:
        assert eq.label in doc.tex
        if eq.label.startswith(("eq:count", "eq:law")):
            parsed = parse_paper_latex(eq.rhs, aliases=LAW_SYMBOLS, functions=LAW_FUNCTIONS)
            assert parsed == eq.expr, eq.label  # structurally identical
            if not parsed.has(sp.Integral):
                lhs = parsed.subs(law_point).subs(funcs)
                rhs = eq.expr.subs(law_point).subs(funcs)
                assert abs(sp.N(lhs - rhs, 30)) < 1e-25, eq.label
        else:
            _assert_equal(parse_paper_latex(eq.rhs, definitions=eq.determinants), eq.expr, point, eq.label)


# -- counting rules and the law ------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _parsed_counting_rules() -> tuple:
    return tuple(parse_paper_latex(eq.rhs, aliases=LAW_SYMBOLS) for eq in counting_equations())


@given(n_in=st.integers(1, 40), n_hidden=st.integers(1, 40))
def test_counting_rules_parse_back_and_match_the_case_forms(n_in, n_hidden):
    for parsed, rule in zip(_parsed_counting_rules(), COUNTING_RULES):
        sub = {N_i: n_in, N_h: n_hidden, LAW_SYMBOLS["n"]: 3}
        # exact integers (Theta(0) is multiplied by 0): equal as rationals, no tolerance
        assert sp.nsimplify(parsed.subs(sub) - rule.expr.subs(sub)) == 0, rule.key
    # Couto et al. eq. (14): the case form of eq. (14) and of the pure square, written independently
    quad = dict((r.key, r) for r in COUNTING_RULES)
    if n_hidden <= n_in:
        assert quad["quadratic"](n_in, n_hidden) == n_hidden * (n_in + 1) - n_hidden * (n_hidden - 1) // 2
    else:
        assert quad["quadratic"](n_in, n_hidden) == n_in * (n_in + 3) // 2
    assert quad["polynomial"](n_in, n_hidden, 1) == min(n_hidden * (n_in + 1), n_in)


@given(n_in=st.integers(1, 60), n_hidden=st.integers(1, 60))
def test_parsed_counting_rules_match_the_analysis_implementation(n_in, n_hidden):
    """The exported rules, read back from their LaTeX, equal symhess.two_layer.counting (written separately)."""
    from symhess.two_layer import counting

    theirs = {"parameters": counting.n_parameters, "linear": counting.linear_rank,
              "quadratic": counting.quadratic_rank, "square": counting.pure_square_rank}
    for parsed, rule in zip(_parsed_counting_rules(), COUNTING_RULES):
        if rule.key in theirs:
            value = sp.nsimplify(parsed.subs({N_i: n_in, N_h: n_hidden}))
            assert value == theirs[rule.key](n_in, n_hidden), (rule.key, n_in, n_hidden)


def test_counting_rule_table_of_the_spec():
    rule = {r.key: r for r in COUNTING_RULES}
    # Couto et al. Sec. 4: (Ni, Nh) = (10, 20): P = 220, N_eff = 65; (30, 10): 310, 265; (10, 5): 55, 45
    for (ni, nh), (p, neff) in {(10, 20): (220, 65), (30, 10): (310, 265), (10, 5): (55, 45)}.items():
        assert rule["parameters"](ni, nh) == p and rule["quadratic"](ni, nh) == neff


def test_linear_law_densities_normalise():
    """p_chi integrates to 1 and p_MP to min(1, Nh/Ni) (Couto et al. eq. 15), by mpmath quadrature."""
    f = linear_law_formulas(1 / N_i, 1 / N_h)
    for ni, nh in ((10, 20), (30, 10)):
        sub = {N_i: ni, N_h: nh}
        funcs = {k: sp.lambdify(list(v.variables), v.expr.subs(sub), "mpmath")
                 for k, v in f.density_functions().items()}
        lo, hi = (float(x.subs(sub)) for x in (f.mu_minus, f.mu_plus))
        assert abs(mpmath.quad(funcs["p_chi"], [0, 1, 3, mpmath.inf]) - 1) < 1e-12
        assert abs(mpmath.quad(funcs["p_MP"], [lo, hi]) - min(1, nh / ni)) < 1e-6


def test_linear_law_matches_the_analysis_implementation():
    """The exported eq. (15) agrees with symhess.two_layer.linear_law (written independently)."""
    linear_law = pytest.importorskip("symhess.two_layer.linear_law")
    f = linear_law_formulas(1 / N_i, 1 / N_h)
    for ni, nh in ((10, 20), (30, 10)):
        sub = {N_i: ni, N_h: nh}
        fn = f.density_functions()
        pchi = sp.lambdify(list(fn["p_chi"].variables), fn["p_chi"].expr.subs(sub), "mpmath")
        pmp = sp.lambdify(list(fn["p_MP"].variables), fn["p_MP"].expr.subs(sub), "mpmath")
        lo, hi = (float(x.subs(sub)) for x in (f.mu_minus, f.mu_plus))
        law = linear_law.linear_spectrum_law(ni, nh)
        for lam in (0.6, 1.0, 2.0, 3.5):
            conv = mpmath.quad(lambda t: pchi(t) * pmp(lam - t), [max(0, lam - hi), max(0, lam - lo), lam])
            mine = max(0.0, 1 - nh / ni) * pchi(lam) + conv
            # outside the MP support Theta = 0 multiplies an imaginary square root: 0j, never more
            assert abs(mpmath.im(mine)) < 1e-12, (ni, nh, lam)
            mine = float(mpmath.re(mine))
            assert abs(mine - float(law.pdf(lam))) < 1e-6 * (1 + mine), (ni, nh, lam)


# -- parse_paper_latex on users' text -------------------------------------------------------------


def test_user_formula_of_the_check_issue():
    text = r"\frac{2}{\pi} \arcsin\left(\frac{2 Q_{ik}}{\sqrt{(1+2Q_{ii})(1+2Q_{kk})}}\right)"
    parsed = parse_paper_latex(text)
    point = {Q_ii: sp.Rational(3, 2), Q_kk: sp.Rational(1, 2), Q_ik: sp.Rational(1, 4)}
    assert abs(sp.N((parsed - symhess.derive_blocks("erf")["vv"].entry).subs(point), 40)) < 1e-35


def test_index_order_is_kept():
    assert parse_paper_latex("W_{kj}") == W_kj and parse_paper_latex("W_{ij} W_{kl}") == W_ij * W_kl
    with pytest.raises(PaperLatexError, match="W_jk"):
        parse_paper_latex("W_{jk}")
    # the spec's convention: units j, l; inputs k, m; output weights a_j
    assert parse_paper_latex(r"a_j W_{1,lk} + Q_{jl}", aliases=PAPER_INDEX_ALIASES) == v_i * W_kj + Q_ik
    assert parse_paper_latex("Q_{ki}") == Q_ik and parse_paper_latex(r"\delta_{lj}") == delta_jl


def test_products_written_like_function_calls():
    assert parse_paper_latex(r"W_{il}(1 + 2Q_{kk})") == W_il * (1 + 2 * Q_kk)
    assert parse_paper_latex(r"v_i \left(W_{kj} + 1\right)") == v_i * (W_kj + 1)
    assert parse_paper_latex(r"\arccos\left(Q_{ik}\right) W_{kj}") == sp.acos(Q_ik) * W_kj


def test_layout_and_notation_variants():
    assert parse_paper_latex(r"$$H = \Big[ 1 + eps\, Q_{ii} \Big]$$") == 1 + eps * Q_ii
    assert parse_paper_latex(r"\begin{equation}\label{x} a ={}& \varepsilon \\ &+ \Theta(Q_{ik}) \end{equation}") \
        == eps + sp.Heaviside(Q_ik)
    assert parse_paper_latex(r"\operatorname{erf}(s Q_{ii})") == sp.erf(scale * Q_ii)
    assert parse_paper_latex(r"\frac{1}{\sqrt{\tilde\Delta_{ik}}}") == 1 / sp.sqrt(
        (1 + 2 * Q_ii) * (1 + 2 * Q_kk) - 4 * Q_ik**2)
    assert parse_paper_latex(r"\Delta_{ii}") == 1 + 2 * Q_ii


def test_expectations_need_an_activation_and_read_back():
    with pytest.raises(PaperLatexError, match="pass activation="):
        parse_paper_latex(r"\mathbb{E}\left[\sigma'(h_i)\,\sigma'(h_k)\right]")
    # with a closed form the expectation evaluates: E[erf'(h_i) erf'(h_k)] = 4/(pi sqrt(Delta))
    got = parse_paper_latex(r"\mathbb{E}\left[\sigma'(h_i)\,\sigma'(h_k)\right]", activation="erf")
    assert got == symhess.pair_expectation("erf", 1, 1).subs({q1: Q_ii, q2: Q_kk, c: Q_ik}, simultaneous=True)
    node = parse_paper_latex(r"\mathbb{E}[\sigma''(u) \sigma(v)]|_{q_1 = 2 Q_{ii}, q_2 = 1, c = 0}", activation="tanh")
    assert node == symhess.pair_expectation("tanh", 2, 0).subs({q1: 2 * Q_ii, q2: 1, c: 0}, simultaneous=True)


def test_bad_input_names_the_symbol():
    with pytest.raises(PaperLatexError, match=r"cannot map \['x_zz'\].*known names"):
        parse_paper_latex(r"Q_{ik} + x_{zz}")
    with pytest.raises(PaperLatexError, match=r"cannot map \['foo\(\.\.\.\)'\]"):
        parse_paper_latex(r"\foo(Q_{ik})")
    with pytest.raises(PaperLatexError, match="cannot read"):
        parse_paper_latex(r"\frac{1}{")
    with pytest.raises(TypeError, match="expects a LaTeX string"):
        parse_paper_latex(Q_ik)
    with pytest.raises(PaperLatexError, match="cannot read the Gaussian expectation"):
        parse_paper_latex(r"\mathbb{E}[\sigma(x)]", activation="tanh")
