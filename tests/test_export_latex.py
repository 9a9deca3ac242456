"""The paper-notation LaTeX printer: golden strings, the erf determinant, dispatch and bad input.

The golden strings were checked by hand, term by term, against ``shared/spec/formulas.md``:
linear eqs. (8)-(10), quadratic eqs. (11)-(13) with a symbolic epsilon, erf(z) (the Delta-tilde
block formulas after §A7), the Saad-Solla erf(z/sqrt 2) eqs. (16)-(18) with their diagonals, the
ReLU arc-cosine kernel, and the counting rule eq. (14).
"""

from __future__ import annotations

import fractions

import pytest
import sympy as sp
from hypothesis import given, strategies as st

import symhess
from symhess.export import (
    Determinant, PaperLatexPrinter, abbreviate, export_equations, find_determinant, latex_expr,
    register_exporter, symbolic_activation, to_latex,
)
from symhess.export.latex import EXPORTERS, Equation, detect_alpha
from symhess.export.notation import block_lhs, determinant_value, label_slug
from symhess.export.rules import COUNTING_RULES, counting_equations
from symhess.symbols import Q_ii, Q_ik, Q_kk, W_ij, c, delta_jl, q1, q2, v_i, v_k

GOLDEN = {
    "linear": {
        "eq:WW-ik": r"\left[H_{WW}\right]_{(ij),(kl)} = \delta_{jl} v_{i} v_{k}",
        "eq:WW-ii": r"\left[H_{WW}\right]_{(ij),(il)} = \delta_{jl} v_{i}^{2}",
        "eq:Wv-ik": r"\left[H_{Wv}\right]_{(ij),k} = W_{kj} v_{i}",
        "eq:Wv-ii": r"\left[H_{Wv}\right]_{(ij),i} = W_{ij} v_{i}",
        "eq:vv-ik": r"\left[H_{vv}\right]_{ik} = Q_{ik}",
        "eq:vv-ii": r"\left[H_{vv}\right]_{ii} = Q_{ii}",
    },
    "quadratic:eps=epsilon": {
        "eq:WW-ik": r"\left[H_{WW}\right]_{(ij),(kl)} = v_{i} v_{k} \left[\left(1 + 4 Q_{ik} \epsilon^{2}\right) "
                    r"\delta_{jl} + 4 \epsilon^{2} \left(W_{ij} W_{kl} + W_{il} W_{kj}\right)\right]",
        "eq:WW-ii": r"\left[H_{WW}\right]_{(ij),(il)} = v_{i}^{2} \left[\left(1 + 4 Q_{ii} \epsilon^{2}\right) "
                    r"\delta_{jl} + 8 \epsilon^{2} W_{ij} W_{il}\right]",
        "eq:Wv-ik": r"\left[H_{Wv}\right]_{(ij),k} = v_{i} \left[2 Q_{kk} \epsilon^{2} W_{ij} + "
                    r"\left(1 + 4 Q_{ik} \epsilon^{2}\right) W_{kj}\right]",
        "eq:Wv-ii": r"\left[H_{Wv}\right]_{(ij),i} = W_{ij} v_{i} \left(1 + 6 Q_{ii} \epsilon^{2}\right)",
        "eq:vv-ik": r"\left[H_{vv}\right]_{ik} = Q_{ii} Q_{kk} \epsilon^{2} + 2 Q_{ik}^{2} \epsilon^{2} + Q_{ik}",
        "eq:vv-ii": r"\left[H_{vv}\right]_{ii} = Q_{ii} \left(1 + 3 Q_{ii} \epsilon^{2}\right)",
    },
    "erf": {
        "eq:Delta-ik": r"\tilde{\Delta}_{ik} = \left(1 + 2 Q_{ii}\right) \left(1 + 2 Q_{kk}\right) - 4 Q_{ik}^{2}",
        "eq:Delta-ii": r"\tilde{\Delta}_{ii} = 1 + 4 Q_{ii}",
        "eq:WW-ik": r"\left[H_{WW}\right]_{(ij),(kl)} = \frac{4 v_{i} v_{k}}{\pi \sqrt{\tilde{\Delta}_{ik}}} "
                    r"\left[\delta_{jl} - \frac{2}{\tilde{\Delta}_{ik}} \left(1 + 2 Q_{kk}\right) W_{ij} W_{il} "
                    r"+ \frac{4 Q_{ik}}{\tilde{\Delta}_{ik}} \left(W_{ij} W_{kl} + W_{il} W_{kj}\right) "
                    r"- \frac{2}{\tilde{\Delta}_{ik}} \left(1 + 2 Q_{ii}\right) W_{kj} W_{kl}\right]",
        "eq:WW-ii": r"\left[H_{WW}\right]_{(ij),(il)} = \frac{4 v_{i}^{2}}{\pi \sqrt{\tilde{\Delta}_{ii}}} "
                    r"\left[\delta_{jl} - \frac{4}{\tilde{\Delta}_{ii}} W_{ij} W_{il}\right]",
        "eq:Wv-ik": r"\left[H_{Wv}\right]_{(ij),k} = \frac{4 v_{i}}{\pi \sqrt{\tilde{\Delta}_{ik}}} "
                    r"\left[- \frac{2 Q_{ik}}{1 + 2 Q_{ii}} W_{ij} + W_{kj}\right]",
        "eq:Wv-ii": r"\left[H_{Wv}\right]_{(ij),i} = \frac{4 W_{ij} v_{i}}{\pi \sqrt{\tilde{\Delta}_{ii}} "
                    r"\left(1 + 2 Q_{ii}\right)}",
        "eq:vv-ik": r"\left[H_{vv}\right]_{ik} = \frac{2}{\pi} \arcsin\left(\frac{2 Q_{ik}}{\sqrt{1 + 2 Q_{ii}} "
                    r"\sqrt{1 + 2 Q_{kk}}}\right)",
        "eq:vv-ii": r"\left[H_{vv}\right]_{ii} = \frac{2}{\pi} \arcsin\left(\frac{2 Q_{ii}}{1 + 2 Q_{ii}}\right)",
    },
    "erf:scale=sqrt(2)/2": {
        "eq:Delta-ik": r"\Delta_{ik} = \left(1 + Q_{ii}\right) \left(1 + Q_{kk}\right) - Q_{ik}^{2}",
        "eq:Delta-ii": r"\Delta_{ii} = 1 + 2 Q_{ii}",
        "eq:WW-ik": r"\left[H_{WW}\right]_{(ij),(kl)} = \frac{2 v_{i} v_{k}}{\pi \sqrt{\Delta_{ik}}} "
                    r"\left[\delta_{jl} - \frac{1 + Q_{kk}}{\Delta_{ik}} W_{ij} W_{il} + \frac{Q_{ik}}{\Delta_{ik}} "
                    r"\left(W_{ij} W_{kl} + W_{il} W_{kj}\right) - \frac{1 + Q_{ii}}{\Delta_{ik}} W_{kj} W_{kl}\right]",
        "eq:WW-ii": r"\left[H_{WW}\right]_{(ij),(il)} = \frac{2 v_{i}^{2}}{\pi \sqrt{\Delta_{ii}}} "
                    r"\left[\delta_{jl} - \frac{2}{\Delta_{ii}} W_{ij} W_{il}\right]",
        "eq:Wv-ik": r"\left[H_{Wv}\right]_{(ij),k} = \frac{2 v_{i}}{\pi \sqrt{\Delta_{ik}}} "
                    r"\left[- \frac{Q_{ik}}{1 + Q_{ii}} W_{ij} + W_{kj}\right]",
        "eq:Wv-ii": r"\left[H_{Wv}\right]_{(ij),i} = \frac{2 W_{ij} v_{i}}{\pi \sqrt{\Delta_{ii}} \left(1 + Q_{ii}\right)}",
        "eq:vv-ik": r"\left[H_{vv}\right]_{ik} = \frac{2}{\pi} \arcsin\left(\frac{Q_{ik}}{\sqrt{1 + Q_{ii}} "
                    r"\sqrt{1 + Q_{kk}}}\right)",
        "eq:vv-ii": r"\left[H_{vv}\right]_{ii} = \frac{2}{\pi} \arcsin\left(\frac{Q_{ii}}{1 + Q_{ii}}\right)",
    },
    "relu": {
        "eq:WW-ii": r"\left[H_{WW}\right]_{(ij),(il)} = \frac{\delta_{jl} v_{i}^{2}}{2}",
        "eq:vv-ik": r"\left[H_{vv}\right]_{ik} = \frac{1}{2 \pi} \left(Q_{ik} \arccos\left(- \frac{Q_{ik}}"
                    r"{\sqrt{Q_{ii}} \sqrt{Q_{kk}}}\right) + \sqrt{Q_{ii} Q_{kk} - Q_{ik}^{2}}\right)",
        "eq:vv-ii": r"\left[H_{vv}\right]_{ii} = \frac{Q_{ii}}{2}",
    },
    "tanh": {
        "eq:WW-ii": r"\left[H_{WW}\right]_{(ij),(il)} = v_{i}^{2} \left[\mathbb{E}\left[\sigma'(h_{i})^{2}\right] "
                    r"\delta_{jl} + \mathbb{E}\left[\left(\sigma'\sigma'\right)^{(2)}(h_{i})\right] W_{ij} W_{il}\right]",
        "eq:vv-ik": r"\left[H_{vv}\right]_{ik} = \mathbb{E}\left[\sigma(h_{i})\,\sigma(h_{k})\right]",
    },
}


def _activation(spec: str):
    if spec == "quadratic:eps=epsilon":
        return symbolic_activation("quadratic")
    return symhess.activation(spec)


@pytest.mark.parametrize("spec", list(GOLDEN))
def test_golden_block_equations(spec):
    eqs = {eq.label: eq for eq in export_equations(symhess.derive_blocks(_activation(spec)))}
    for label, math in GOLDEN[spec].items():
        assert eqs[label].math == math, f"{spec} {label}"


def test_golden_counting_rule_eq14():
    eqs = {eq.label: eq.math for eq in counting_equations()}
    assert eqs["eq:count-quadratic"] == (
        r"N_{\mathrm{eff}}^{\mathrm{quadratic}} = \frac{N_{i} \left(3 + N_{i}\right)}{2} - "
        r"\frac{\left(N_{i} - N_{h}\right) \left(3 + N_{i} - N_{h}\right) \Theta\left(N_{i} - N_{h}\right)}{2}"
    )
    assert eqs["eq:count-polynomial"].startswith(r"N_{\mathrm{eff}}^{\mathrm{polynomial}} \le \min")


def test_to_latex_blocks_are_labelled_equations_with_definitions_first():
    tex = symhess.to_latex(symhess.derive_blocks("erf"))
    envs = tex.split(r"\begin{equation}")[1:]
    assert len(envs) == 8 and all(r"\end{equation}" in e for e in envs)
    assert envs[0].startswith(r"\label{eq:Delta-ik}") and envs[1].startswith(r"\label{eq:Delta-ii}")
    assert r"\begin{split}" in tex  # the long WW entry is broken into lines
    assert tex.count(r"\qquad (i \neq k)") == 3


def test_to_latex_of_expression_and_single_block():
    assert to_latex(symhess.derive_blocks("linear")["vv"].entry) == "Q_{ik}"
    one = to_latex(symhess.derive_blocks("quadratic")["vv"], label_prefix="quad")
    assert r"\label{eq:quad-vv-ik}" in one and r"\label{eq:quad-vv-ii}" in one


def test_residual_blocks_export_with_their_own_labels():
    eqs = export_equations(symhess.derive_blocks("erf", "residual"))
    labels = [eq.label for eq in eqs]
    assert labels[:2] == ["eq:res-Delta-ik", "eq:res-Delta-ii"]
    assert "eq:res-WW-ik" in labels and eqs[2].lhs == r"\left[H^{\mathrm{res},k}_{WW}\right]_{(ij),(il)}"


# -- the determinant ---------------------------------------------------------------------------

_alpha = st.fractions(min_value=fractions.Fraction(1, 8), max_value=8, max_denominator=16).map(sp.Rational)
_kappa = st.sampled_from([1, -1, 2, sp.Rational(-1, 3), 5])


@given(alpha=_alpha, kappa=_kappa)
def test_find_determinant_recovers_kappa_and_alpha(alpha, kappa):
    poly = sp.expand(kappa * determinant_value(alpha))
    assert find_determinant(poly) == (kappa, alpha)
    # the same polynomial written unexpanded, as Price's theorem produces it
    assert find_determinant(kappa * ((1 + alpha * Q_ii) * (1 + alpha * Q_kk) - alpha**2 * Q_ik**2)) == (kappa, alpha)


@given(alpha=_alpha)
def test_find_determinant_rejects_near_misses(alpha):
    good = determinant_value(alpha)
    assert find_determinant(sp.expand(good + Q_ik)) is None  # extra linear term
    assert find_determinant(sp.expand(good - alpha**2 * Q_ik**2 / 2)) is None  # wrong c^2 coefficient
    assert find_determinant(sp.expand(good + Q_ii**2)) is None
    assert find_determinant(sp.expand(good.subs(Q_ik, 0))) is None  # no cross term at all
    assert find_determinant(determinant_value(alpha, (q1, q2, c)), (q1, q2, c)) == (1, alpha)


@given(scale=st.sampled_from([sp.Integer(1), sp.Rational(1, 2), sp.sqrt(2) / 2, sp.Integer(3), sp.Rational(7, 5)]))
def test_abbreviate_keeps_the_value_and_removes_the_polynomial(scale):
    blocks = symhess.derive_blocks(symhess.activation("erf", scale=scale))
    alpha = detect_alpha([blocks["WW"].entry])
    assert sp.simplify(alpha - 2 * scale**2) == 0
    for blk in blocks.values():
        for expr in (blk.entry, blk.diagonal_entry):
            short, dets = abbreviate(expr, alpha=alpha)
            back = short.subs({d.symbol: d.value for d in dets})
            pt = {Q_ii: sp.Rational(13, 10), Q_kk: sp.Rational(7, 10), Q_ik: sp.Rational(-3, 10),
                  W_ij: sp.Rational(1, 3), sp.Symbol("W_il", real=True): 2, sp.Symbol("W_kj", real=True): -1,
                  sp.Symbol("W_kl", real=True): sp.Rational(1, 2), v_i: 3, v_k: -2, delta_jl: 1}
            assert abs(sp.N(back.subs(pt) - expr.subs(pt), 40)) < sp.Float("1e-35")
    short, dets = abbreviate(blocks["WW"].entry)
    assert [d.diagonal for d in dets] == [False]
    assert not short.has(Q_ik**2)  # the determinant polynomial is gone


def test_erf_block_equations_print_delta_not_the_polynomial():
    for eq in export_equations(symhess.derive_blocks("erf")):
        if eq.label.endswith("-ik") and not eq.label.startswith("eq:Delta") and "vv" not in eq.label:
            assert r"\tilde{\Delta}_{ik}" in eq.rhs and "Q_{ik}^{2}" not in eq.rhs, eq.label


def test_determinant_latex_and_definition():
    det = Determinant(sp.Integer(2))
    assert det.latex == r"\tilde{\Delta}_{ik}" and Determinant(sp.Integer(1), diagonal=True).latex == r"\Delta_{ii}"
    assert det.definition_latex(PaperLatexPrinter()) == (
        r"\left(1 + 2 Q_{ii}\right) \left(1 + 2 Q_{kk}\right) - 4 Q_{ik}^{2}"
    )


# -- the printer -------------------------------------------------------------------------------


def test_printer_functions_in_paper_notation():
    assert latex_expr(sp.Heaviside(Q_ik)) == r"\Theta\left(Q_{ik}\right)"
    assert latex_expr(sp.erf(2 * Q_ii)) == r"\operatorname{erf}\left(2 Q_{ii}\right)"
    assert latex_expr(sp.asin(Q_ik)) == r"\arcsin\left(Q_{ik}\right)"
    assert latex_expr(sp.acos(Q_ik) * W_ij) == r"W_{ij} \arccos\left(Q_{ik}\right)"
    assert latex_expr(symhess.symbols.eps * delta_jl) == r"\delta_{jl} \epsilon"
    assert latex_expr(1 + 2 * Q_ii) == "1 + 2 Q_{ii}"
    assert latex_expr(Q_ii * Q_kk - Q_ik**2) == r"Q_{ii} Q_{kk} - Q_{ik}^{2}"


def test_quadrature_nodes_print_as_expectations():
    e_node = symhess.pair_expectation("tanh", 1, 2)
    assert latex_expr(e_node) == r"\mathbb{E}\left[\sigma'(u)\,\sigma''(v)\right]"
    moved = e_node.subs({q1: 2 * Q_ii, q2: Q_kk, c: 0})
    assert latex_expr(moved) == (
        r"\mathbb{E}\left[\sigma'(u)\,\sigma''(v)\right]\Big|_{q_{1}=2 Q_{ii},\, q_{2}=Q_{kk},\, c=0}"
    )
    d_node = symhess.single_expectation("tanh", 1, 0, 1)
    assert latex_expr(d_node) == r"\mathbb{E}\left[\left(\sigma'\sigma\right)^{(1)}(h)\right]"


# -- dispatch and bad input --------------------------------------------------------------------


class _Toy:
    expr = v_i + v_k


def test_register_exporter_by_type_and_by_qualified_name():
    calls = []

    def exporter(obj, *, label_prefix="", **_):
        calls.append(obj)
        return [Equation("T", obj.expr, latex_expr(obj.expr), label_slug(label_prefix, "toy"))]

    n = len(EXPORTERS)
    try:
        register_exporter(_Toy, exporter)
        assert to_latex(_Toy()) == "\\begin{equation}\\label{eq:toy}\nT = v_{i} + v_{k}\n\\end{equation}"
        del EXPORTERS[n:]
        register_exporter(f"{__name__}._Toy")(exporter)
        assert [eq.label for eq in export_equations([_Toy(), _Toy()], label_prefix="p")] == ["eq:p-toy", "eq:p-toy"]
    finally:
        del EXPORTERS[n:]
    assert len(calls) == 3


def test_unknown_object_lists_what_exports():
    with pytest.raises(TypeError, match=r"cannot export an object of type object.*BlockFormula.*CountingRule"):
        to_latex(object())


def test_unknown_block_name_lists_blocks():
    with pytest.raises(ValueError, match=r"unknown block 'XX'; known blocks: \['WW', 'Wv', 'vv'\]"):
        block_lhs("XX", diagonal=False)


def test_counting_rules_export_through_to_latex():
    tex = to_latex(list(COUNTING_RULES))
    assert tex.count(r"\begin{equation}") == len(COUNTING_RULES)
    assert r"\label{eq:count-erf}" in tex


def test_unknown_options_are_rejected():
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['label_prefx'\].*\['label_prefix'\]"):
        to_latex(symhess.derive_blocks("linear"), label_prefx="x")
    with pytest.raises(TypeError, match="label_prefx"):
        to_latex(COUNTING_RULES[0], label_prefx="x")
    with pytest.raises(TypeError, match="label_prefx"):
        to_latex(Q_ik, label_prefx="x")
    assert to_latex(Q_ik * Q_ii, mul_symbol="dot") == r"Q_{ii} \cdot Q_{ik}"
