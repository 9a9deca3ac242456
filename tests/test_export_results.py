"""to_latex and the Markdown/SymPy formats export every result object; the output reads back to the right numbers.

Each exported right-hand side is parsed back with parse_paper_latex and compared with an independent
evaluation: formulas typed in here from the papers, scipy's chi-square density, scipy quadrature of the
convolution, the dense layer Hessian of the UFM at its optimum.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

import symhess
from symhess.export import parse_paper_latex
from symhess.export.formats import format_result
from symhess.export.latex import export_equations
from symhess.export.results import W_ARG
from symhess.export.rules import LAW_FUNCTIONS, LAW_SYMBOLS

N_i, N_h, lam, mu = LAW_SYMBOLS["N_i"], LAW_SYMBOLS["N_h"], LAW_SYMBOLS["lambda"], LAW_SYMBOLS["mu"]


def _read(eq) -> sp.Expr:
    return parse_paper_latex(eq.rhs, aliases={**LAW_SYMBOLS, "w": W_ARG}, functions=LAW_FUNCTIONS)


def _by_label(obj) -> dict:
    return {eq.label.split("-", 1)[1]: eq for eq in export_equations(obj)}


def test_every_result_object_exports():
    objs = [symhess.effective_parameters("quadratic", 5, 3), symhess.linear_spectrum_law(10, 20),
            symhess.pennington_bahri(0.5, 0.1), symhess.DeepLinearUFM(3, 4, 6, 2).theory()]
    for obj in objs:
        tex = symhess.to_latex(obj)
        assert tex.count(r"\begin{equation}") >= 3 and r"\label{eq:" in tex
        for eq in export_equations(obj):  # round trip: exact expressions exactly, floats to every printed digit
            if isinstance(eq.expr, sp.Float):
                assert float(_read(eq)) == pytest.approx(float(eq.expr), rel=1e-15), eq.label
            else:
                assert sp.simplify(_read(eq) - eq.expr) == 0, eq.label


def _eq14(ni, nh):  # Couto et al. eq. (14), typed in
    d = max(ni - nh, 0)
    return ni * (ni + 3) // 2 - d * (d + 3) // 2


@pytest.mark.parametrize("ni,nh", [(10, 5), (10, 20), (30, 10)])
def test_effective_parameters_quadratic(ni, nh):
    eqs = _by_label(symhess.effective_parameters("quadratic", ni, nh))
    assert _read(eqs["value"]) == _eq14(ni, nh)
    assert _read(eqs["P"]) == nh * (ni + 1)
    formula = _read(eqs["formula"]).subs({N_i: ni, N_h: nh}).rewrite(sp.Piecewise)
    assert sp.simplify(formula) == _eq14(ni, nh)
    assert "quadratic eq. (14)" in eqs["value"].condition and "exact" in eqs["value"].condition


def test_effective_parameters_upper_bound_and_full_rank():
    bound = symhess.effective_parameters("poly:coeffs=[1,1,1]", 3, 4)
    assert bound.status == "upper bound"
    eq = _by_label(bound)["value"]
    assert eq.relation == r"\le" and r"\le" in eq.math and _read(eq) == bound.value
    erf = _by_label(symhess.effective_parameters("erf", 4, 3))
    assert _read(erf["value"]) == 15 and "exact" in erf["value"].condition
    assert _read(erf["formula"]).subs({N_i: 4, N_h: 3}) == 15


def test_linear_spectrum_law_formula_and_numbers():
    ni, nh = 10, 20
    law = symhess.linear_spectrum_law(ni, nh)
    eqs = _by_label(law)
    var_w, var_v = 1 / ni, 1 / nh
    mu_p, mu_m = float(_read(eqs["mu-plus"])), float(_read(eqs["mu-minus"]))
    assert mu_p == pytest.approx(var_w * (math.sqrt(nh) + math.sqrt(ni)) ** 2, rel=1e-14)
    assert mu_m == pytest.approx(var_w * (math.sqrt(nh) - math.sqrt(ni)) ** 2, rel=1e-14)
    # the shift s = |v|^2 ~ var_v chi^2_{N_h}: scipy's chi-square, scaled
    p_chi = sp.lambdify(lam, _read(eqs["p-chi"]))
    for x in (0.3, 1.0, 1.7):
        assert p_chi(x) == pytest.approx(stats.chi2(nh, scale=var_v).pdf(x), rel=1e-12)
    # Marchenko-Pastur density typed in, with the exported edges
    p_mp_expr = _read(eqs["p-MP"]).subs({LAW_SYMBOLS["mu_+"]: mu_p, LAW_SYMBOLS["mu_-"]: mu_m})
    p_mp = sp.lambdify(mu, p_mp_expr.rewrite(sp.Piecewise), modules=["numpy"])
    for m in (0.2, 1.0, 2.5):
        want = math.sqrt(max((mu_p - m) * (m - mu_m), 0)) / (2 * math.pi * var_w * ni * m)
        assert float(p_mp(m)) == pytest.approx(want, rel=1e-12, abs=1e-15)
    # rho_+ = p_chi * p_MP (N_h > N_i: no p_chi term): scipy quadrature of the exported pieces vs the law
    x = 2.0
    conv, _ = integrate.quad(lambda t: p_chi(t) * float(p_mp(x - t)), max(0.0, x - mu_p), x - mu_m, limit=200)
    assert conv == pytest.approx(float(law.pdf(x)), rel=1e-6)
    assert _read(eqs["atom"]) == 1 - sp.Rational(ni, nh * (ni + 1))


@pytest.mark.parametrize("variant,phi,eps", [("wigner", 0.5, 0.1), ("relu_block", 0.5, 0.1), ("relu_block", 0.25, 0.3)])
def test_pennington_bahri_law(variant, phi, eps):
    law = symhess.pennington_bahri(phi, eps, activation=variant)
    eqs = _by_label(law)
    w = W_ARG
    p, e = sp.Rational(repr(phi)), sp.Rational(repr(eps))
    # R-transforms typed in (Marchenko-Pastur of ratio phi, scale 1; Wigner 2 eps w; the slides' ReLU H1)
    assert sp.simplify(_read(eqs["R-H0"]) - 1 / (1 - p * w)) == 0
    r_h1 = 2 * e * w if variant == "wigner" else e * p * w / (2 - e * p**2 * w**2)
    assert sp.simplify(_read(eqs["R-H1"]) - r_h1) == 0
    # critical energy: the slides' formulas, typed in
    if variant == "wigner":
        typed = (1 - 20 * p - 8 * p**2 + (1 + 8 * p) ** sp.Rational(3, 2)) / 16
    else:
        xi = 1 + 16 * p - 8 * p**2
        typed = (27 - 18 * xi - xi**2 + 8 * xi ** sp.Rational(3, 2)) / (32 * p * (1 - p) ** 3)
    assert sp.simplify(_read(eqs["eps-c"]) - typed) == 0
    assert float(_read(eqs["index"])) == pytest.approx(law.index(), rel=1e-12)
    assert (law.index() > 0) == (eps > float(typed))


def test_ufm_theory_against_the_dense_hessian():
    m = symhess.DeepLinearUFM(3, 4, 6, 2)
    eqs = _by_label(m.theory())
    opt = m.optimum()
    for layer in (1, 2):
        ev = np.linalg.eigvalsh(m.layer_hessian(opt, layer))
        assert float(_read(eqs[f"mu-{layer}"])) == pytest.approx(ev[-1], rel=1e-9)
        assert int((ev > 1e-9 * ev[-1]).sum()) == _read(eqs["rank"]) == 9
    assert float(_read(eqs["beta-c"])) == pytest.approx(0.5 * 0.5 ** (1 / 3), rel=1e-15)  # (1/L)((L-1)/L)^((L-1)/(L+1))
    x, beta = float(_read(eqs["x-star"])), float(_read(eqs["beta"]))
    assert (1 - x) * x ** (1 / 3) == pytest.approx(beta, rel=1e-12)


@pytest.mark.parametrize("obj_factory", [
    lambda: symhess.effective_parameters("quadratic", 5, 3), lambda: symhess.linear_spectrum_law(10, 20),
    lambda: symhess.pennington_bahri(0.5, 0.1), lambda: symhess.DeepLinearUFM(3, 4, 6, 2).theory(),
])
def test_markdown_and_sympy_formats(obj_factory):
    obj = obj_factory()
    eqs = export_equations(obj)
    md = format_result(obj, "markdown")
    assert md.count("$$") == 2 * len(eqs) and all(eq.rhs in md for eq in eqs)
    lines = format_result(obj, "sympy").splitlines()
    assert len(lines) == len(eqs)
    from symhess.export.formats import _identifier_symbols
    names = {str(s): s for eq in eqs for s in _identifier_symbols(eq.expr).free_symbols}
    names.update({"p_chi": LAW_FUNCTIONS["p_chi"], "p_MP": LAW_FUNCTIONS["p_MP"]})
    for line, eq in zip(lines, eqs):
        name, _, text = line.partition(" = ")
        back = sp.sympify(text, locals=names)
        if isinstance(eq.expr, sp.Float):
            assert float(back) == pytest.approx(float(eq.expr), rel=1e-15), name
        elif eq.expr.has(sp.Integral):  # bound variables carry no assumptions after sympify: compare the text
            assert sp.sstr(back) == sp.sstr(_identifier_symbols(eq.expr)), name
        else:
            assert sp.simplify(back - _identifier_symbols(eq.expr)) == 0, name
    assert format_result(obj, "latex") == symhess.to_latex(obj)
    with pytest.raises(symhess.InvalidParameterError, match="markdown"):
        format_result(obj, "html")


def test_unsupported_object_names_the_supported_types():
    with pytest.raises(TypeError) as info:
        symhess.to_latex(object())
    msg = str(info.value)
    assert isinstance(info.value, symhess.SymhessError)
    for name in ("EffectiveParameters", "LinearSpectrumLaw", "PenningtonBahriLaw", "UFMTheory", "BlockFormula"):
        assert name in msg, name
