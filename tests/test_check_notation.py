"""The naming convention of symhess.check: LaTeX and SymPy formulas -> symhess symbols."""

from __future__ import annotations

import pytest
import sympy as sp

from symhess.check.notation import (
    PAPER_INDICES, SYMHESS_INDICES, IndexConvention, NotationError, delta_ik, n_hidden, n_in, parse_formula,
    preprocess_latex,
)
from symhess.symbols import Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, c, delta_jl, eps, q1, q2, scale, v_i, v_k


@pytest.mark.parametrize("text, expected", [
    (r"Q_{ii} + Q_{kk} + Q_{ik} + Q_{ki}", Q_ii + Q_kk + 2 * Q_ik),
    (r"W_{ij} W_{kl} + W_{il} W_{kj}", W_ij * W_kl + W_il * W_kj),
    (r"W_{1,ij} + w_{kl}", W_ij + W_kl),
    (r"v_i v_k \delta_{jl}", v_i * v_k * delta_jl),
    (r"a_i W_{2,k}", v_i * v_k),  # the paper's output weights
    (r"\delta_{jj} + \delta_{ik}", 1 + delta_ik),
    (r"\epsilon + \varepsilon + s", 2 * eps + scale),
    (r"\frac{2}{\pi}\arcsin\left(\frac{2 Q_{ik}}{\sqrt{(1+2Q_{ii})(1+2Q_{kk})}}\right)",
     2 / sp.pi * sp.asin(2 * Q_ik / sp.sqrt((1 + 2 * Q_ii) * (1 + 2 * Q_kk)))),
    (r"e^{-Q_{ii}}\,\mathrm{erf}(Q_{ik})", sp.exp(-Q_ii) * sp.erf(Q_ik)),
    ("v_i*v_k*delta_jl + eps**2*Q_ik", v_i * v_k * delta_jl + eps**2 * Q_ik),  # SymPy syntax
    ("Q_ik^2", Q_ik**2),  # ^ as power in SymPy syntax too
])
def test_names_map_onto_symhess_symbols(text, expected):
    assert sp.simplify(parse_formula(text).expr - expected) == 0


def test_index_order_is_kept():
    # SymPy's parser sorts the product l*k of a subscript; W_{lk} must stay unit l, input k
    paper = parse_formula(r"W_{1,lk} + 2 W_{1,jm}", indices="jk,lm").expr
    assert paper == W_kj + 2 * W_il
    assert parse_formula(r"W_{kj}").expr == W_kj
    assert parse_formula(r"W_{kl}").expr == W_kl


def test_implicit_products_are_not_function_calls():
    assert parse_formula(r"v_i (1 + Q_{ik})").expr == v_i * (1 + Q_ik)
    assert parse_formula(r"Q_{ik}\left(1+2Q_{ii}\right)").expr == Q_ik * (1 + 2 * Q_ii)
    assert parse_formula(r"\pi(1+Q_{ii})").expr == sp.pi * (1 + Q_ii)


def test_paper_indices_detected_automatically():
    parsed = parse_formula(r"a_j a_l\Big[(1+4\epsilon^2Q_{jl})\,\delta_{km}+4\epsilon^2"
                           r"\big(W_{1,jk}W_{1,lm}+W_{1,jm}W_{1,lk}\big)\Big]")
    assert parsed.indices == PAPER_INDICES
    assert sp.expand(parsed.expr - v_i * v_k * ((1 + 4 * eps**2 * Q_ik) * delta_jl
                                                + 4 * eps**2 * (W_ij * W_kl + W_il * W_kj))) == 0
    assert parse_formula(r"Q_{ik}").indices == SYMHESS_INDICES


def test_explicit_index_convention():
    conv = IndexConvention.parse("ab,cd")
    assert parse_formula(r"W_{ab} W_{cd} Q_{ac} \delta_{bd}", indices=conv).expr == W_ij * W_kl * Q_ik * delta_jl
    with pytest.raises(ValueError, match="four different letters"):
        IndexConvention.parse("ij,ij")


def test_definitions_substitute_auxiliary_quantities():
    parsed = parse_formula(r"\frac{1}{\sqrt{\tilde\Delta_{ik}}}",
                           definitions={r"\tilde\Delta": r"(1+2Q_{ii})(1+2Q_{kk})-4Q_{ik}^2"})
    assert parsed.expr == 1 / sp.sqrt((1 + 2 * Q_ii) * (1 + 2 * Q_kk) - 4 * Q_ik**2)


def test_latex_wrappers_are_ignored():
    text = "\\begin{equation}\n[H_{vv}]_{ik} = Q_{ik}\\,(1+Q_{ii}). \\label{eq:x}\n\\end{equation}"
    assert parse_formula(text).expr == Q_ik * (1 + Q_ii)
    assert parse_formula(r"$$\frac2\pi\sqrt2 Q_{ik}$$").expr == 2 / sp.pi * sp.sqrt(2) * Q_ik
    assert "Big" not in preprocess_latex(r"\Big( x \Big)")


def test_unmappable_symbol_is_named():
    with pytest.raises(NotationError, match=r"'Delta'.*Known names"):
        parse_formula(r"Q_{ik} / \sqrt{\Delta}")
    with pytest.raises(NotationError, match=r"'x'"):
        parse_formula("Q_ik + x")


def test_truncated_or_garbled_latex_is_an_error_not_a_silent_prefix():
    # SymPy's non-strict parser would silently drop everything after "a_j a_l"
    with pytest.raises(NotationError, match="cannot parse"):
        parse_formula(r"a_j a_l \; ] (1+Q_{jl})")
    with pytest.raises(NotationError, match="cannot parse"):
        parse_formula(r"\frac{Q_{ik}}{")


def test_floats_become_exact():
    assert parse_formula("0.5*Q_ik").expr == sp.Rational(1, 2) * Q_ik


@pytest.mark.parametrize("context, text, expected", [
    ("pair", r"q_1 q_2 + 2c^2", q1 * q2 + 2 * c**2),
    ("pair", "q1*q2 + Q_12", q1 * q2 + c),
    ("count", r"\frac{N_i(N_i+3)}{2} - \Theta(N_i - N_h)", n_in * (n_in + 3) / 2 - sp.Heaviside(n_in - n_hidden)),
    ("count", r"\min(n_{in}, n_{hidden}) + \binom{N_i}{2}", sp.Min(n_in, n_hidden) + sp.binomial(n_in, 2)),
    ("count", "Ni*Nh + Heaviside(Nh - Ni)", n_in * n_hidden + sp.Heaviside(n_hidden - n_in)),
])
def test_other_contexts(context, text, expected):
    assert parse_formula(text, context).expr == expected


def test_bad_arguments():
    with pytest.raises(ValueError, match="context"):
        parse_formula("x", "nonsense")
    with pytest.raises(TypeError, match="formula must be"):
        parse_formula([1, 2])
    with pytest.raises(NotationError, match="empty"):
        parse_formula("$$ $$", syntax="latex")


def test_a_name_before_a_parenthesis_is_a_factor_even_under_a_power():
    # a subscripted name followed by (...)^2 is a product with the square, not the square of a call
    assert parse_formula(r"Q_{ik} (1+Q_{ii})^2").expr == Q_ik * (1 + Q_ii) ** 2
    assert parse_formula(r"\frac{W_{ij}}{Q_{kk} (1 + 2 Q_{ii})^{2}}").expr == W_ij / (Q_kk * (1 + 2 * Q_ii) ** 2)


@pytest.mark.parametrize("text", [
    r"\frac{2}{\pi}\arcsin\left(\frac{2 Q_{ik}}{\sqrt{(1+2Q_{ii})(1+2Q_{kk})}}\right)",
    r"v_i v_k \Big[(1+4\epsilon^2Q_{ik})\,\delta_{jl} + \frac2\pi W_{ij} W_{kl}\Big]",
    r"$$[H_{vv}]_{ik} = \mathrm{erf}(Q_{ik})\,(1 + Q_{ii})^{2}.$$",
])
def test_checker_and_export_read_latex_alike(text):
    from symhess.export.parse import parse_paper_latex

    assert sp.expand(parse_formula(text, indices="symhess").expr - parse_paper_latex(text)) == 0
