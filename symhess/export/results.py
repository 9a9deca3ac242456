r"""Export of the package's results: effective parameters, spectral laws, the UFM theory.

Place in the package: outputs, export. Each result object a user gets from symhess has an exporter
registered with :func:`~symhess.export.latex.register_exporter`, so :func:`symhess.to_latex` (and
:func:`symhess.export.formats.format_result`, for Markdown and SymPy) print it as labelled equations in
the papers' notation, with its numbers:

* :class:`~symhess.two_layer.counting.EffectiveParameters` — :math:`P`, the counting rule's formula in
  :math:`N_i, N_h` where it has one (Couto et al., eq. 14 and its generalisations), and the value with the
  rule's name and status (:math:`\le` for an upper bound);
* :class:`~symhess.two_layer.linear_law.LinearSpectrumLaw` — Couto et al. eq. (15): the scaled
  :math:`\chi^2_{N_h}` density of the shift, the scaled Marchenko–Pastur density and its edges, their
  convolution :math:`\rho_+`, and the weight of the atom at 0, at the law's :math:`N_i, N_h,
  \sigma_w^2, \sigma_v^2`;
* :class:`~symhess.free_probability.law.PenningtonBahriLaw` — the R-transforms of :math:`H_0` and
  :math:`H_1` (Pennington & Bahri 2017), the critical energy :math:`\epsilon_c` in closed form, and the
  index :math:`\alpha` (fraction of negative eigenvalues);
* :class:`~symhess.ufm.theory.UFMTheory` — the closed-form predictions at a global optimum of the deep
  linear unconstrained-feature model (Garrod & Keating, Theorems 4.1-4.4), each with its formula.

Every right-hand side is one SymPy expression printed by the paper printer; numbers are exact
rationals where the input was (``0.1`` prints as :math:`\frac{1}{10}`) and floats otherwise, so
:func:`~symhess.export.parse.parse_paper_latex` reads each one back.
"""

from __future__ import annotations

import sympy as sp

from ..free_probability.addition import critical_energy as exact_critical_energy, pennington_bahri_model
from ..free_probability.law import PenningtonBahriLaw
from ..symbols import G, mp_scale, phi as phi_symbol, energy as energy_symbol
from ..two_layer.counting import EffectiveParameters
from ..two_layer.linear_law import LinearSpectrumLaw
from ..ufm.theory import UFMTheory
from .latex import Equation, latex_expr, register_exporter
from .notation import label_slug
from .rules import COUNTING_RULES, N_h, N_i, _printer, linear_law_formulas

__all__ = ["W_ARG", "effective_parameter_equations", "linear_law_result_equations", "pennington_bahri_equations",
           "ufm_theory_equations", "exact_number"]

#: the argument :math:`w` of the R-transforms as exported
W_ARG = sp.Symbol("w")

#: counting rules of :data:`~symhess.export.rules.COUNTING_RULES` by the name an EffectiveParameters carries
_RULE_FORMULAS = {"linear": "linear", "quadratic eq. (14)": "quadratic", "pure square": "square",
                  "full rank": "parameters"}


def exact_number(value: object) -> sp.Expr:
    """An int as an Integer, a float by its decimal repr as a Rational when that is short, else a Float."""
    if isinstance(value, (int, sp.Integer)):
        return sp.Integer(int(value))
    text = repr(float(value))
    if "e" not in text and len(text.split(".")[-1]) <= 6:
        return sp.Rational(text)
    return sp.Float(text, 17)


def _text(text: str) -> str:
    return r"\text{" + text.replace("_", r"\_").replace("^", r"\^{}").replace("%", r"\%") + "}"


def _eq(lhs: str, expr: sp.Expr, label: str, *, printer=None, condition: str = "", relation: str = "=") -> Equation:
    rhs = (printer or _printer()).doprint(expr)
    return Equation(lhs, expr, rhs, label, condition=condition, relation=relation)


# -- effective parameters ----------------------------------------------------------------------------------


def effective_parameter_equations(result: EffectiveParameters, *, label_prefix: str = "neff") -> list[Equation]:
    r""":math:`P`, the rule's formula (where it has a closed one) and :math:`N_{\mathrm{eff}}` with rule and status."""
    sizes = rf"N_i = {result.n_in},\ N_h = {result.n_hidden}"
    relation = r"\le" if result.status == "upper bound" else "="
    out = [_eq("P", sp.Integer(result.n_params), label_slug(label_prefix, "P"), condition=sizes)]
    key = _RULE_FORMULAS.get(result.rule)
    if key is not None and result.n_params == result.n_hidden * (result.n_in + 1):  # no biases
        rule = next(r for r in COUNTING_RULES if r.key == key)
        out.append(_eq(r"N_{\mathrm{eff}}", rule.expr, label_slug(label_prefix, "formula"),
                       condition=_text(f"{result.rule}; {rule.source}"), relation=relation))
    out.append(_eq(r"N_{\mathrm{eff}}", sp.Integer(result.value), label_slug(label_prefix, "value"),
                   condition=sizes + r",\ " + _text(f"{result.rule}; {result.status}"), relation=relation))
    return out


# -- the linear spectrum law -----------------------------------------------------------------------------


def linear_law_result_equations(law: LinearSpectrumLaw, *, label_prefix: str = "law") -> list[Equation]:
    r"""Eq. (15) at the law's parameters: :math:`\mu_\pm`, :math:`p_\chi`, :math:`p_{\mathrm{MP}}`, :math:`\rho_+`, the atom."""
    f = linear_law_formulas(exact_number(law.var_w), exact_number(law.var_v))
    sizes = {N_i: sp.Integer(law.n_in), N_h: sp.Integer(law.n_hidden)}
    cond = rf"N_i = {law.n_in},\ N_h = {law.n_hidden}"
    items = [
        (r"\mu_{+}", f.mu_plus, "mu-plus"), (r"\mu_{-}", f.mu_minus, "mu-minus"),
        (r"p_{\chi}\left(\lambda\right)", f.p_chi, "p-chi"), (r"p_{\mathrm{MP}}\left(\mu\right)", f.p_mp, "p-MP"),
        (r"\rho_{+}\left(\lambda\right)", f.rho_plus, "rho-plus"),
    ]
    out = [_eq(lhs, expr.subs(sizes), label_slug(label_prefix, tag), condition=cond) for lhs, expr, tag in items]
    atom = 1 - sp.Integer(law.n_in) / (sp.Integer(law.n_hidden) * (law.n_in + 1))
    out.append(_eq(r"\Pr\left[\lambda = 0\right]", atom, label_slug(label_prefix, "atom"),
                   condition=r"\text{over all } P \text{ eigenvalues: } 1 - N_i/P"))
    return out


# -- the Pennington-Bahri law ------------------------------------------------------------------------------


def pennington_bahri_equations(law: PenningtonBahriLaw, *, label_prefix: str = "pb") -> list[Equation]:
    r"""The R-transforms at the law's :math:`\phi, \epsilon, \sigma`, :math:`\epsilon_c` in closed form, and the index."""
    model = pennington_bahri_model(law.variant)
    phi, eps, scale = exact_number(law.phi), exact_number(law.eps), exact_number(law.mp_scale)
    subs = {phi_symbol: phi, energy_symbol: eps, mp_scale: scale, G: W_ARG}
    cond = rf"\phi = {latex_expr(phi)},\ \epsilon = {latex_expr(eps)},\ \sigma = {latex_expr(scale)}"
    printer = _printer()
    out = [
        _eq(r"R_{H_0}\left(w\right)", model.r_h0.xreplace(subs), label_slug(label_prefix, "R-H0"),
            printer=printer, condition=cond),
        _eq(r"R_{H_1}\left(w\right)", model.r_h1.xreplace(subs), label_slug(label_prefix, "R-H1"),
            printer=printer, condition=r"\text{variant } \texttt{" + law.variant.replace("_", r"\_") + "}"),
        _eq(r"\epsilon_c", exact_critical_energy(phi, law.variant, scale=scale, symbolic=True),
            label_slug(label_prefix, "eps-c"), printer=printer, condition=_text("critical energy")),
        _eq(r"\alpha", sp.Float(repr(law.index()), 15), label_slug(label_prefix, "index"), printer=printer,
            condition=_text("index: fraction of negative eigenvalues")),
    ]
    return out


# -- the UFM theory ------------------------------------------------------------------------------------------


def ufm_theory_equations(theory: UFMTheory, *, label_prefix: str = "ufm") -> list[Equation]:
    r"""The predictions at the global optimum, each as :math:`\text{name} = \text{formula} = \text{value}`."""
    K, n, L = theory.n_classes, theory.n_per_class, theory.depth
    cond = rf"K = {K},\ n = {n},\ L = {L}"

    def num(x: float) -> sp.Expr:
        return sp.Float(repr(float(x)), 17)

    rows = [
        (r"\beta = K\left(n\lambda_{H_1}\prod_l\lambda_{W_l}\right)^{1/(L+1)}", theory.beta, "beta"),
        (r"\beta_c = \frac{1}{L}\left(\frac{L-1}{L}\right)^{\frac{L-1}{L+1}}", theory.beta_c, "beta-c"),
        (r"x^\star:\ (1-x)\,x^{\frac{L-1}{L+1}} = \beta,\quad x^\star", theory.x, "x-star"),
        (r"\tau = \left(n\,x^2\lambda_{H_1}\prod_l\lambda_{W_l}\right)^{1/(L+1)}", theory.tau, "tau"),
        (r"\mathcal{L}^\star = \tfrac12(1-x)(1+Lx)", theory.objective, "objective"),
        (r"\mu_H = \frac{x^2\lambda_{H_1}}{K\tau}", theory.feature_hessian_eigenvalue, "mu-H"),
    ]
    for l in range(L):
        rows.append((rf"\mu_{{{l + 1}}} = \frac{{x^2\lambda_{{W_{{{l + 1}}}}}}}{{K\tau}}", theory.hessian_eigenvalues[l],
                     f"mu-{l + 1}"))
    rows += [
        (r"\Lambda = \sum_l\mu_l + \mu_H", theory.full_outlier, "outlier"),
        (r"\delta = \frac{2}{K}\,\frac{x(1-x)\,e_2(\lambda)}{\tau\,e_1(\lambda)}", theory.full_split, "split"),
    ]
    out = [_eq(lhs, num(value), label_slug(label_prefix, tag), condition=cond) for lhs, value, tag in rows]
    out.append(_eq(r"\operatorname{rank} H_l", sp.Integer(theory.hessian_rank), label_slug(label_prefix, "rank"),
                   condition=r"= K^2,\ \text{every layer-wise MSE Hessian (Theorem 4.1)}"))
    return out


register_exporter(EffectiveParameters, effective_parameter_equations)
register_exporter(LinearSpectrumLaw, linear_law_result_equations)
register_exporter(PenningtonBahriLaw, pennington_bahri_equations)
register_exporter(UFMTheory, ufm_theory_equations)
