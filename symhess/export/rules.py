r"""Counting rules and the linear spectral law as SymPy formulas, and their LaTeX export.

Place in the package: outputs, export. The model families work on arrays and never import
SymPy, so the *formulas* of its counting rules and spectral laws live here,
written once as SymPy expressions in :math:`N_i, N_h`. They are printed by the same printer as the
Hessian blocks, read back by :func:`~symhess.export.parse_paper_latex`, and compared in the tests
with the numeric implementations of :mod:`symhess.two_layer` (an independent route: the two are
written separately).

Counting rules (Couto et al., arXiv:2512.15606, eq. 14 and Sec. 5; :math:`P = N_h(N_i+1)` parameters):

.. math::

    N_{\mathrm{eff}}^{\mathrm{linear}} = N_i,\qquad
    N_{\mathrm{eff}}^{z+\epsilon z^2} = \frac{N_i(N_i+3)}{2}
        - \Theta(N_i-N_h)\,\frac{(N_i-N_h)(N_i-N_h+3)}{2},\qquad
    N_{\mathrm{eff}}^{z^2} = \frac{N_i(N_i+1)}{2} - \Theta(N_i-N_h)\,\frac{(N_i-N_h)(N_i-N_h+1)}{2},

:math:`N_{\mathrm{eff}} \le \min\{P, \binom{N_i+n}{n}-1\}` for a degree-:math:`n` polynomial
with all coefficients nonzero, and :math:`N_{\mathrm{eff}} = P` for erf.

Linear spectral law (Couto et al., eq. 15): the nonzero eigenvalues of the Hessian of a linear network
are :math:`\lambda = s + \mu` with :math:`s = \lVert v\rVert^2 \sim \sigma_v^2\chi^2_{N_h}` and
:math:`\mu` an eigenvalue of :math:`W^\top W` (scaled Marchenko–Pastur), so their density is
:math:`\rho_+ = (1-N_h/N_i)_+\,p_\chi + p_\chi * p_{\mathrm{MP}}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from .latex import Equation, PaperLatexPrinter, register_exporter
from .notation import label_slug
from ..errors import InvalidParameterError

__all__ = [
    "N_i", "N_h", "LAW_SYMBOLS", "LAW_FUNCTIONS", "CountingRule", "COUNTING_RULES", "counting_equations",
    "LinearLawFormulas", "linear_law_formulas", "linear_law_equations",
]

#: input dimension and hidden width, as symbols
N_i = sp.Symbol("N_i", positive=True, integer=True)
N_h = sp.Symbol("N_h", positive=True, integer=True)
n_deg = sp.Symbol("n", positive=True, integer=True)

_lam = sp.Symbol("lambda", positive=True)
_mu = sp.Symbol("mu", positive=True)
_t = sp.Symbol("t", positive=True)
_var_w = sp.Symbol("sigma_w", positive=True)
_var_v = sp.Symbol("sigma_v", positive=True)
_mu_plus = sp.Symbol("mu_+", positive=True)
_mu_minus = sp.Symbol("mu_-", nonnegative=True)
p_chi = sp.Function("p_chi")
p_mp = sp.Function("p_MP")
rho_plus = sp.Function("rho_+")

#: the functions of the law, by the names parse_paper_latex reads (pass as ``functions``)
LAW_FUNCTIONS: dict[str, sp.Function] = {"p_chi": p_chi, "p_MP": p_mp, "rho_+": rho_plus}

#: the symbols of the law, by the names parse_paper_latex reads (pass as ``aliases``)
LAW_SYMBOLS: dict[str, sp.Expr] = {
    "N_i": N_i, "N_h": N_h, "n": n_deg, "lambda": _lam, "mu": _mu, "t": _t,
    "sigma_w": _var_w, "sigma_v": _var_v, "mu_+": _mu_plus, "mu_-": _mu_minus,
}

_NAMES = {
    N_i: "N_{i}", N_h: "N_{h}", n_deg: "n", _lam: r"\lambda", _mu: r"\mu", _t: "t",
    _var_w: r"\sigma_{w}", _var_v: r"\sigma_{v}", _mu_plus: r"\mu_{+}", _mu_minus: r"\mu_{-}",
}


def _printer() -> PaperLatexPrinter:
    return _LawPrinter({"symbol_names": dict(_NAMES), "order": None, "long_frac_ratio": None})


class _LawPrinter(PaperLatexPrinter):
    """Prints ``p_chi``, ``p_MP``, ``rho_+`` with their subscripts, and ``Max(0, x)`` as ``\\max``."""

    _FUNCS = {"p_chi": r"p_{\chi}", "p_MP": r"p_{\mathrm{MP}}", "rho_+": r"\rho_{+}"}

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        if name in self._FUNCS:
            args = ", ".join(self._print(a) for a in expr.args)
            return rf"{self._FUNCS[name]}\left({args}\right)"
        return super()._print_Function(expr, exp)

    def _print_Max(self, expr, exp=None):
        args = ", ".join(self._print(a) for a in expr.args)
        tex = rf"\max\left({args}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_Min(self, expr, exp=None):
        args = ", ".join(self._print(a) for a in expr.args)
        tex = rf"\min\left({args}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex


# -- counting rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountingRule:
    r"""A counting rule: the rank of the Hessian at the optimum as a formula in :math:`N_i, N_h`.

    Attributes
    ----------
    key : str
        Short name (``"quadratic"``).
    activations : str
        Which activations it is for, in words.
    expr : sympy.Expr
        The formula in :data:`N_i`, :data:`N_h` (and the degree ``n`` for the polynomial bound).
    relation : str
        ``"="`` (the rank equals it) or ``"<="`` (an upper bound).
    source : str
        Where it comes from (the paper's equation or section).
    """

    key: str
    activations: str
    expr: sp.Expr
    relation: str
    source: str

    def __call__(self, n_in: int, n_hidden: int, degree: int | None = None) -> int:
        """The rule's value at integers (exact)."""
        subs = {N_i: int(n_in), N_h: int(n_hidden)}
        if degree is not None:
            subs[n_deg] = int(degree)
        val = self.expr.subs(subs)
        val = val.rewrite(sp.Piecewise) if val.has(sp.Heaviside) else val
        val = sp.nsimplify(sp.simplify(val))
        if not val.is_Integer:
            raise InvalidParameterError(f"counting rule {self.key!r} at n_in={n_in}, n_hidden={n_hidden} is {val}, not an integer")
        return int(val)


def _theta(x: sp.Expr) -> sp.Expr:
    # the value at 0 never matters here: (N_i - N_h) multiplies it, and the MP edges have measure 0
    return sp.Heaviside(x)


_P = N_h * (N_i + 1)

#: the counting rules of Couto et al. (eq. 14 and its generalisations), in the order the document prints them
COUNTING_RULES: tuple[CountingRule, ...] = (
    CountingRule("parameters", "every activation (number of parameters P)", _P, "=", "definition"),
    CountingRule("linear", r"linear, $\sigma(z)=z$", N_i, "=", "Couto et al., eqs. (8)-(10): rank of the linear Hessian"),
    CountingRule(
        "quadratic", r"$\sigma(z)=z+\epsilon z^2$, $\epsilon\neq0$",
        N_i * (N_i + 3) / 2 - _theta(N_i - N_h) * (N_i - N_h) * (N_i - N_h + 3) / 2, "=",
        "Couto et al., eq. (14)",
    ),
    CountingRule(
        "square", r"pure square $\sigma(z)=z^2$",
        N_i * (N_i + 1) / 2 - _theta(N_i - N_h) * (N_i - N_h) * (N_i - N_h + 1) / 2, "=", "symmetric matrices of rank <= N_h",
    ),
    CountingRule(
        "polynomial", r"degree-$n$ polynomial, all coefficients nonzero",
        sp.Min(_P, sp.binomial(N_i + n_deg, n_deg) - 1), "<=", "counting bound: polynomials of degree <= n",
    ),
    CountingRule("erf", r"$\sigma(z)=\operatorname{erf}(sz)$ (full rank)", _P, "=", "Couto et al., Sec. 5 (conjectured there; proved: the unit functions are independent)"),
)


def counting_equations(rules=COUNTING_RULES, *, label_prefix: str = "count") -> list[Equation]:
    r"""One labelled equation :math:`N_{\mathrm{eff}} = \dots` per counting rule."""
    printer = _printer()
    out = []
    for rule in rules:
        lhs = "P" if rule.key == "parameters" else rf"N_{{\mathrm{{eff}}}}^{{\mathrm{{{rule.key}}}}}"
        rel = r"\le" if rule.relation == "<=" else "="
        rhs = printer.doprint(rule.expr)
        out.append(Equation(lhs, rule.expr, rhs, label_slug(label_prefix, rule.key), relation=rel))
    return out


# -- the linear spectral law ---------------------------------------------------------------------


@dataclass(frozen=True)
class LinearLawFormulas:
    r"""The pieces of the linear spectral law as SymPy expressions (general teacher variances).

    Attributes
    ----------
    mu_plus, mu_minus : sympy.Expr
        Edges :math:`\mu_\pm = \sigma_w^2(\sqrt{N_h}\pm\sqrt{N_i})^2` of the Marchenko–Pastur part.
    p_chi : sympy.Expr
        Density of the shift :math:`s=\lVert v\rVert^2\sim\sigma_v^2\chi^2_{N_h}`, in :math:`\lambda`.
    p_mp : sympy.Expr
        Density of the eigenvalues of :math:`W^\top W` (continuous part), in :math:`\mu`, written
        with :math:`\mu_\pm` and the indicator :math:`\Theta(\mu-\mu_-)\Theta(\mu_+-\mu)`.
    rho_plus : sympy.Expr
        Density of the :math:`N_i` nonzero Hessian eigenvalues, with ``p_chi``/``p_MP`` as functions.
    var_w, var_v : sympy.Expr
        The teacher variances used (symbols :math:`\sigma_w^2, \sigma_v^2` by default).
    """

    mu_plus: sp.Expr
    mu_minus: sp.Expr
    p_chi: sp.Expr
    p_mp: sp.Expr
    rho_plus: sp.Expr
    var_w: sp.Expr
    var_v: sp.Expr

    def substitutions(self) -> dict:
        """``{mu_+: ..., mu_-: ...}`` to turn ``p_mp`` into an expression in :math:`\\mu` only."""
        return {_mu_plus: self.mu_plus, _mu_minus: self.mu_minus}

    def density_functions(self) -> dict[str, Callable]:
        """``{"p_chi": f, "p_MP": g}`` SymPy lambdas, to evaluate ``rho_plus``."""
        pmp = self.p_mp.subs(self.substitutions())
        return {"p_chi": sp.Lambda(_lam, self.p_chi), "p_MP": sp.Lambda(_mu, pmp)}


def linear_law_formulas(var_w: sp.Expr | None = None, var_v: sp.Expr | None = None) -> LinearLawFormulas:
    r"""The linear law's formulas; ``var_w``/``var_v`` default to the symbols :math:`\sigma_w^2, \sigma_v^2`.

    Pass ``1/N_i`` and ``1/N_h`` for the default teacher (:math:`W\sim N(0,1/N_i)`,
    :math:`v\sim N(0,1/N_h)`).
    """
    vw = _var_w**2 if var_w is None else sp.sympify(var_w)
    vv = _var_v**2 if var_v is None else sp.sympify(var_v)
    mu_p = vw * (sp.sqrt(N_h) + sp.sqrt(N_i)) ** 2
    mu_m = vw * (sp.sqrt(N_h) - sp.sqrt(N_i)) ** 2
    pchi = _lam ** (N_h / 2 - 1) * sp.exp(-_lam / (2 * vv)) / ((2 * vv) ** (N_h / 2) * sp.gamma(N_h / 2))
    pmp = (sp.sqrt((_mu_plus - _mu) * (_mu - _mu_minus)) / (2 * sp.pi * vw * N_i * _mu)
           * _theta(_mu - _mu_minus) * _theta(_mu_plus - _mu))
    rho = sp.Max(0, 1 - N_h / N_i) * p_chi(_lam) + sp.Integral(p_chi(_t) * p_mp(_lam - _t), (_t, 0, _lam))
    return LinearLawFormulas(mu_p, mu_m, pchi, pmp, rho, vw, vv)


def linear_law_equations(
    var_w: sp.Expr | None = None, var_v: sp.Expr | None = None, *, label_prefix: str = "law"
) -> list[Equation]:
    r"""The labelled equations of the linear spectral law (edges, :math:`p_\chi`, :math:`p_{\mathrm{MP}}`, :math:`\rho_+`)."""
    f = linear_law_formulas(var_w, var_v)
    printer = _printer()
    items = [
        (r"\mu_{\pm}", None, "mu-pm"),
        (r"p_{\chi}\left(\lambda\right)", f.p_chi, "p-chi"),
        (r"p_{\mathrm{MP}}\left(\mu\right)", f.p_mp, "p-MP"),
        (r"\rho_{+}\left(\lambda\right)", f.rho_plus, "rho-plus"),
    ]
    out = []
    for lhs, expr, tag in items:
        if expr is None:
            out.append(Equation(r"\mu_{+}", f.mu_plus, printer.doprint(f.mu_plus), label_slug(label_prefix, "mu-plus")))
            out.append(Equation(r"\mu_{-}", f.mu_minus, printer.doprint(f.mu_minus), label_slug(label_prefix, "mu-minus")))
            continue
        out.append(Equation(lhs, expr, printer.doprint(expr), label_slug(label_prefix, tag)))
    return out


@register_exporter(CountingRule)
def _export_rule(rule: CountingRule, *, label_prefix: str = "count") -> list[Equation]:
    return counting_equations([rule], label_prefix=label_prefix)


@register_exporter(LinearLawFormulas)
def _export_law_formulas(law: LinearLawFormulas, *, label_prefix: str = "law") -> list[Equation]:
    return linear_law_equations(law.var_w, law.var_v, label_prefix=label_prefix)
