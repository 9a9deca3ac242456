r"""LaTeX in the paper's notation: the printer, the erf-determinant abbreviation, labelled equations.

Place in the package: outputs, export.

* :class:`PaperLatexPrinter` prints symhess's symbols as the paper writes them
  (:math:`Q_{ik}`, :math:`W_{ij}`, :math:`v_i`, :math:`\delta_{jl}`, :math:`\epsilon`), inverse sines
  as :math:`\arcsin`, the step function as :math:`\Theta`, and the quadrature nodes of
  :mod:`symhess.expectation` as Gaussian expectations
  :math:`\mathbb E[\sigma'(h_i)\,\sigma'(h_k)]`, :math:`h_i = w_i\cdot x`.
* :func:`abbreviate` recognises the erf determinant
  :math:`(1+\alpha Q_{ii})(1+\alpha Q_{kk})-\alpha^2Q_{ik}^2` wherever it occurs (by expanding
  candidate polynomials, not by matching their printed form) and replaces it by
  :math:`\tilde\Delta_{ik}`; :math:`1+2\alpha Q_{ii}` becomes :math:`\tilde\Delta_{ii}`.
* :class:`Equation` is one labelled display equation: the exact SymPy expression it shows, its
  one-line LaTeX (what :func:`symhess.export.parse_paper_latex` reads back) and, for long
  right-hand sides, the same text broken into display lines.
* :func:`to_latex` and :func:`export_equations` dispatch on the object through a registry
  (:func:`register_exporter`), so other stages' results (counting rules, spectral laws) export by
  registering one function. The modules that register symhess's own results import this one
  (never the reverse); ``symhess/export/__init__.py`` imports them, so they are registered
  whenever this module is.

Examples
--------
>>> import symhess
>>> print(symhess.to_latex(symhess.derive_blocks("linear")["vv"]))
\begin{equation}\label{eq:vv-ik}
\left[H_{vv}\right]_{ik} = Q_{ik} \qquad (i \neq k)
\end{equation}
<BLANKLINE>
\begin{equation}\label{eq:vv-ii}
\left[H_{vv}\right]_{ii} = Q_{ii}
\end{equation}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ..errors import InvalidTypeError
from ..two_layer.blocks import BlockFormula
from ..activations.bivariate_normal import BivariateNormalCDF
from ..expectation.mean_nodes import DiagonalMeansNode, PairMeansNode, SingleMeansNode
from ..expectation.pairs import PairQuadrature, SingleQuadrature
from ..symbols import q
from .notation import (
    OVERLAP_VARS, PAIR_VARS, SYMBOL_LATEX, Determinant, block_lhs, find_determinant, label_slug, option_block_lhs,
)

__all__ = [
    "PaperLatexPrinter", "latex_expr", "abbreviate", "detect_alpha", "Equation", "to_latex",
    "export_equations", "register_exporter", "block_equations", "render_equations", "EXPORTERS",
]

#: a right-hand side longer than this (characters of LaTeX) is broken into display lines
LINE_BREAK_CHARS = 150


def _sigma(order: int) -> str:
    return {0: r"\sigma", 1: r"\sigma'", 2: r"\sigma''"}.get(int(order), rf"\sigma^{{({int(order)})}}")


class PaperLatexPrinter(LatexPrinter):
    r"""A :class:`~sympy.printing.latex.LatexPrinter` for the paper's notation.

    Differences from SymPy's printer: the symbols of :mod:`symhess.symbols` print as in the papers
    (:data:`symhess.export.notation.SYMBOL_LATEX`), inverse trigonometric functions in full
    (:math:`\arcsin`), ``Heaviside`` as :math:`\Theta`, determinant symbols as
    :math:`\tilde\Delta_{ik}`, and the quadrature nodes ``E_<act>(a, b, q1, q2, c)`` /
    ``D_<act>(a, b, m, q)`` as the Gaussian expectations they stand for,

    .. math::

        \mathbb E\big[\sigma^{(a)}(h_i)\,\sigma^{(b)}(h_k)\big],\qquad
        \mathbb E\big[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h_i)\big],

    with :math:`(h_i, h_k)` centred Gaussian of covariance
    :math:`\begin{pmatrix}Q_{ii}&Q_{ik}\\Q_{ik}&Q_{kk}\end{pmatrix}` (or :math:`(u, v)` with
    :math:`(q_1, q_2, c)`).

    Parameters
    ----------
    settings : dict, optional
        SymPy LaTeX printer settings; ``inv_trig_style`` defaults to ``"full"`` and
        ``long_frac_ratio`` to 3 (:math:`\frac{2}{\pi}\arcsin(\dots)`). Sums print with constants
        first and subtracted terms last (:math:`1 + 2Q_{ii}`, :math:`Q_{ii}Q_{kk} - Q_{ik}^2`).
    determinants : iterable of Determinant, optional
        Abbreviations whose symbols appear in the expressions to print.
    """

    def __init__(self, settings: dict | None = None, determinants: Iterable[Determinant] = ()):
        settings = dict(settings or {})
        settings.setdefault("inv_trig_style", "full")
        settings.setdefault("long_frac_ratio", 3)  # \frac{2}{\pi} \arcsin(...), not one big fraction
        names = dict(settings.pop("symbol_names", {}) or {})
        for det in determinants:
            names[det.symbol] = det.latex
        for sym, tex in SYMBOL_LATEX.items():
            names.setdefault(sym, tex)
        settings["symbol_names"] = names
        super().__init__(settings)

    def _as_ordered_terms(self, expr, order=None):
        """Terms of a sum as the papers write them: positive constants first, subtracted terms last."""
        terms = list(super()._as_ordered_terms(expr, order=order))

        def rank(term):
            if term.is_number:
                return 3 if term.is_negative else 0
            return 2 if term.could_extract_minus_sign() else 1

        return sorted(terms, key=rank)

    def _print_Heaviside(self, expr, exp=None):
        tex = rf"\Theta\left({self._print(expr.args[0])}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_erf(self, expr, exp=None):
        tex = rf"\operatorname{{erf}}\left({self._print(expr.args[0])}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_Function(self, expr, exp=None):
        if isinstance(expr, PairQuadrature):
            return self._print_pair_node(expr, exp)
        if isinstance(expr, SingleQuadrature):
            return self._print_single_node(expr, exp)
        if isinstance(expr, (PairMeansNode, DiagonalMeansNode, SingleMeansNode)):
            return self._print_means_node(expr, exp)
        if isinstance(expr, BivariateNormalCDF):
            h, k, rho = (self._print(a) for a in expr.args)
            tex = rf"\Phi_{{2}}\left({h}, {k}; {rho}\right)"
            return rf"{tex}^{{{exp}}}" if exp else tex
        tex = super()._print_Function(expr, exp)
        # SymPy writes f{\left(x \right)}; its parser reads a braced argument as a product that
        # swallows what follows, so write f\left(x\right).
        cut = tex.find(r"{\left(")
        if cut > 0 and tex.endswith(r" \right)}"):
            args = ", ".join(self._print(a) for a in expr.args)
            tex = tex[:cut] + rf"\left({args}\right)"
        return tex

    def _print_pair_node(self, expr, exp=None):
        a, b, x1, x2, xc = expr.args
        if (x1, x2, xc) == OVERLAP_VARS:
            u, v, at = "h_{i}", "h_{k}", ""
        else:
            u, v = "u", "v"
            at = "" if (x1, x2, xc) == PAIR_VARS else (
                rf"\Big|_{{q_{{1}}={self._print(x1)},\, q_{{2}}={self._print(x2)},\, c={self._print(xc)}}}"
            )
        tex = rf"\mathbb{{E}}\left[{_sigma(a)}({u})\,{_sigma(b)}({v})\right]{at}"
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex

    def _print_single_node(self, expr, exp=None):
        a, b, m, x = expr.args
        if x == OVERLAP_VARS[0]:
            h, at = "h_{i}", ""
        else:
            h = "h"
            at = "" if x == q else rf"\Big|_{{q={self._print(x)}}}"
        if m == 0 and a == b:
            inner = rf"{_sigma(a)}({h})^{{2}}"
        elif m == 0:
            inner = rf"{_sigma(a)}({h})\,{_sigma(b)}({h})"
        else:
            inner = rf"\left({_sigma(a)}{_sigma(b)}\right)^{{({int(m)})}}({h})"
        tex = rf"\mathbb{{E}}\left[{inner}\right]{at}"
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex


    def _print_means_node(self, expr, exp=None):
        r"""An unevaluated expectation with means: :math:`u_i\sim N(b_i, Q_{ii})` (the hidden unit with its bias)."""
        if isinstance(expr, PairMeansNode):
            a, b, m1, m2, x1, x2, xc = expr.args
            names = ("u_{i}", "u_{k}") if (m1, x1) != (m2, x2) else ("u", "v")
            inner = rf"{_sigma(a)}({names[0]})\,{_sigma(b)}({names[1]})"
        elif isinstance(expr, DiagonalMeansNode):
            a, b, n, m, x = expr.args
            inner = (rf"{_sigma(a)}(u_{{i}})\,{_sigma(b)}(u_{{i}})" if n == 0
                     else rf"\left({_sigma(a)}{_sigma(b)}\right)^{{({int(n)})}}(u_{{i}})")
        else:
            a, m, x = expr.args
            inner = rf"{_sigma(a)}(u_{{i}})"
        tex = rf"\mathbb{{E}}\left[{inner}\right]"
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex


def latex_expr(expr: sp.Expr, *, determinants: Iterable[Determinant] = (), **settings: Any) -> str:
    r"""One SymPy expression in the paper's notation (no abbreviations unless their symbols occur).

    Parameters
    ----------
    expr : sympy.Expr
        Any expression in symhess's symbols.
    determinants : iterable of Determinant
        Abbreviations whose symbols occur in ``expr`` (see :func:`abbreviate`).
    **settings
        Passed to :class:`PaperLatexPrinter`.

    Examples
    --------
    >>> import symhess
    >>> latex_expr(symhess.derive_blocks("erf")["vv"].entry)
    '\\frac{2}{\\pi} \\arcsin\\left(\\frac{2 Q_{ik}}{\\sqrt{1 + 2 Q_{ii}} \\sqrt{1 + 2 Q_{kk}}}\\right)'
    """
    return PaperLatexPrinter(settings, determinants).doprint(sp.sympify(expr))


# -- abbreviations -----------------------------------------------------------------------------


def _variables_of(expr: sp.Expr) -> tuple:
    return PAIR_VARS if expr.has(*PAIR_VARS) and not expr.has(*OVERLAP_VARS) else OVERLAP_VARS


def detect_alpha(exprs: Iterable[sp.Expr], variables: tuple = OVERLAP_VARS) -> sp.Expr | None:
    r"""The :math:`\alpha` of the first erf determinant found in ``exprs``, or ``None``.

    Every polynomial sub-expression (``Add`` node) is tested with
    :func:`symhess.export.notation.find_determinant`.
    """
    for expr in exprs:
        for node in sp.preorder_traversal(sp.sympify(expr)):
            if isinstance(node, sp.Add):
                hit = find_determinant(node, variables)
                if hit is not None:
                    return hit[1]
    return None


def _factor_poly(node: sp.Expr, variables: tuple) -> sp.Expr:
    """``sp.factor`` of a polynomial node, kept only when it splits into several factors."""
    factored = sp.factor(node)
    nonconst = [f for f in sp.Mul.make_args(factored) if f.has(*variables)]
    if len(nonconst) >= 2 or (len(nonconst) == 1 and nonconst[0].is_Pow):
        return factored
    return node


def abbreviate(
    expr: sp.Expr, *, alpha: sp.Expr | None = None, variables: tuple | None = None
) -> tuple[sp.Expr, tuple[Determinant, ...]]:
    r"""Replace the erf determinants in ``expr`` by the symbols :math:`\tilde\Delta_{ik}`, :math:`\tilde\Delta_{ii}`.

    Every polynomial sub-expression in the overlaps is compared, after expansion, with
    :math:`\kappa[(1+\alpha x_1)(1+\alpha x_2)-\alpha^2x_c^2]`; a match becomes
    :math:`\kappa\tilde\Delta`. Once :math:`\alpha` is known (found, or given), polynomials in
    :math:`x_1` alone are factored and each factor :math:`\kappa(1+2\alpha x_1)` becomes
    :math:`\kappa\tilde\Delta_{ii}`. Other polynomials are factored when they split.

    Parameters
    ----------
    expr : sympy.Expr
        An expression in ``Q_ii, Q_kk, Q_ik`` (or ``q1, q2, c``).
    alpha : sympy.Expr, optional
        The determinant's :math:`\alpha`; found in ``expr`` when omitted. Pass the value found in
        the off-diagonal entry to abbreviate a diagonal entry consistently.
    variables : tuple, optional
        :data:`~symhess.export.notation.OVERLAP_VARS` or
        :data:`~symhess.export.notation.PAIR_VARS`; inferred from ``expr`` by default.

    Returns
    -------
    (expr, determinants)
        The abbreviated expression (equal to ``expr`` once each determinant's ``symbol`` is
        replaced by its ``value``) and the determinants it uses.
    """
    expr = sp.sympify(expr)
    variables = variables or _variables_of(expr)
    if alpha is None:
        alpha = detect_alpha([expr], variables)
    full = Determinant(alpha, variables) if alpha is not None else None
    diag = Determinant(alpha, variables, diagonal=True) if alpha is not None else None
    x1 = variables[0]
    diag_x = q if variables == PAIR_VARS else x1
    used: dict[bool, Determinant] = {}

    def diag_match(base: sp.Expr) -> sp.Expr | None:
        if diag is None or not base.is_Add or base.free_symbols & set(variables) - {diag_x}:
            return None
        kappa = base.subs(diag_x, 0)
        if kappa != 0 and sp.expand(base - kappa * (1 + 2 * alpha * diag_x)) == 0:
            used[True] = diag
            return kappa * diag.symbol
        return None

    def visit(node: sp.Expr) -> sp.Expr:
        if node.is_Atom or not node.has(*variables, q):
            return node
        if node.is_Add and node.is_polynomial(*variables, q):
            hit = find_determinant(node, variables)
            if hit is not None and full is not None and sp.simplify(hit[1] - alpha) == 0:
                used[False] = full
                return hit[0] * full.symbol
            hit = diag_match(node)
            if hit is not None:
                return hit
            factored = _factor_poly(node, (*variables, q))
            if factored is not node:
                return factored.func(*[visit(a) for a in factored.args])
            return node
        return node.func(*[visit(a) for a in node.args])

    out = visit(expr)
    return out, tuple(used[k] for k in sorted(used))


# -- equations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Equation:
    r"""One labelled display equation in the paper's notation.

    Attributes
    ----------
    lhs : str
        LaTeX of the left-hand side (``\left[H_{WW}\right]_{(ij),(kl)}``).
    expr : sympy.Expr
        The exact expression shown, in symhess's symbols, with no abbreviation.
    rhs : str
        One-line LaTeX of the right-hand side; :func:`symhess.export.parse_paper_latex` with
        ``definitions=determinants`` reads it back to ``expr``.
    label : str
        LaTeX label (``eq:erf-WW-ik``).
    lines : tuple of str
        The right-hand side broken into display lines (empty when it fits on one).
    determinants : tuple of Determinant
        Abbreviations used in ``rhs``.
    condition : str
        Side condition printed after the formula (``i \neq k``).
    relation : str
        ``"="`` or another relation (``"\\le"`` for a bound).
    """

    lhs: str
    expr: sp.Expr
    rhs: str
    label: str
    lines: tuple[str, ...] = ()
    determinants: tuple[Determinant, ...] = ()
    condition: str = ""
    relation: str = "="

    @property
    def math(self) -> str:
        """``lhs = rhs`` on one line (no environment)."""
        return f"{self.lhs} {self.relation} {self.rhs}"

    def render(self, environment: str = "equation") -> str:
        r"""The equation as LaTeX source: ``\begin{equation}\label{...} ... \end{equation}``.

        Long right-hand sides are set with amsmath's ``split`` (one equation number).
        """
        cond = rf" \qquad ({self.condition})" if self.condition else ""
        head = rf"\begin{{{environment}}}\label{{{self.label}}}"
        tail = rf"\end{{{environment}}}"
        if not self.lines:
            return f"{head}\n{self.math}{cond}\n{tail}"
        body = [rf"{self.lhs} {self.relation}{{}}& {self.lines[0]} \\"]
        for line in self.lines[1:-1]:
            body.append(rf"&\quad {line} \\")
        body.append(rf"&\quad {self.lines[-1]}{cond}")
        return "\n".join([head, r"\begin{split}", *body, r"\end{split}", tail])


def _common_factor(coeffs: Sequence[sp.Expr]) -> sp.Expr:
    """The factor shared by all coefficients: rational gcd times bases present in every term.

    For bases with exponents of one sign the exponent closest to zero is taken, so
    ``4/sqrt(D)`` and ``-8/D**(3/2)`` share ``4/sqrt(D)`` (the paper's layout).
    """
    if not coeffs or any(cf == 0 for cf in coeffs):
        return sp.Integer(1)
    nums, dicts = [], []
    for cf in coeffs:
        num, rest = cf.as_coeff_Mul()
        nums.append(num)
        dicts.append(rest.as_powers_dict())
    out = sp.Integer(1)
    if all(n.is_Rational for n in nums):
        g = sp.gcd([sp.Rational(n) for n in nums]) if len(nums) > 1 else abs(nums[0])
        out = sp.Rational(g)
    common = set(dicts[0])
    for d in dicts[1:]:
        common &= set(d)
    for base in common:
        if base == 1 or base.is_number and not base.is_Symbol and base != sp.pi:
            continue
        exps = [d[base] for d in dicts]
        if not all(e.is_Rational for e in exps):
            continue
        if all(e > 0 for e in exps):
            out *= base ** min(exps)
        elif all(e < 0 for e in exps):
            out *= base ** max(exps)
    return out


def _wrap(tex: str, expr: sp.Expr) -> str:
    return rf"\left({tex}\right)" if isinstance(expr, sp.Add) else tex


def _term_latex(printer: PaperLatexPrinter, coeff: sp.Expr, basis: sp.Expr) -> tuple[str, str]:
    """(sign, body) of ``coeff * basis`` with the coefficient printed in front of the basis."""
    sign = "+"
    if coeff.could_extract_minus_sign():
        sign, coeff = "-", -coeff
    if basis == 1:
        return sign, printer.doprint(coeff)
    btex = _wrap(printer.doprint(basis), basis)
    if coeff == 1:
        return sign, btex
    return sign, f"{_wrap(printer.doprint(coeff), coeff)} {btex}"


def _sum_latex(parts: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for n, (sign, body) in enumerate(parts):
        out.append((f"- {body}" if sign == "-" else body) if n == 0 else f"{sign} {body}")
    return out


def _pack_lines(opening: str, pieces: Sequence[str], closing: str, width: int = LINE_BREAK_CHARS) -> tuple[str, ...]:
    """Greedy line filling: terms go on the current line while its LaTeX stays under ``width`` characters."""
    lines: list[str] = []
    cur = opening + pieces[0]
    for piece in pieces[1:]:
        if len(cur) + 1 + len(piece) > width * 0.75:
            lines.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}"
    lines.append(cur + closing)
    return tuple(lines)


def structured_equation(
    lhs: str,
    prefactor: sp.Expr,
    terms: Mapping[sp.Expr, sp.Expr] | Sequence[tuple[sp.Expr, sp.Expr]],
    *,
    label: str,
    alpha: sp.Expr | None = None,
    condition: str = "",
    variables: tuple | None = None,
) -> Equation:
    r"""An :class:`Equation` for ``prefactor * sum(coefficient * basis)`` laid out as in the paper.

    The coefficients are abbreviated (:func:`abbreviate`), their common factor is pulled in front
    of a bracket, and each ``coefficient * basis`` term is printed with the coefficient first.
    """
    items = list(terms.items()) if isinstance(terms, Mapping) else list(terms)
    items = [(cf, b) for cf, b in items if cf != 0]
    source = sp.sympify(prefactor) * sp.Add(*[cf * b for cf, b in items])
    dets: dict[Determinant, None] = {}
    abbr = []
    for cf, b in items:
        a_cf, used = abbreviate(cf, alpha=alpha, variables=variables)
        dets.update(dict.fromkeys(used))
        abbr.append((a_cf, b))
    printer = PaperLatexPrinter(determinants=dets)
    if len(abbr) <= 1:
        whole = sp.sympify(prefactor) * (abbr[0][0] * abbr[0][1] if abbr else 0)
        rhs = printer.doprint(whole)
        lines: tuple[str, ...] = ()
        if isinstance(whole, sp.Add) and len(rhs) > LINE_BREAK_CHARS:
            terms = printer._as_ordered_terms(whole)
            parts = [_term_latex(printer, t, sp.Integer(1)) for t in terms]
            lines = _pack_lines("", _sum_latex(parts), "")
        return Equation(lhs, source, rhs, label, lines, tuple(dets), condition)
    common = _common_factor([cf for cf, _ in abbr])
    front = printer.doprint(sp.sympify(prefactor) * common)
    parts = [_term_latex(printer, sp.factor_terms(sp.powsimp(cf / common)), b) for cf, b in abbr]
    pieces = _sum_latex(parts)
    front = "" if front == "1" else front + " "
    rhs = rf"{front}\left[{' '.join(pieces)}\right]"
    lines: tuple[str, ...] = ()
    if len(rhs) > LINE_BREAK_CHARS:
        lines = _pack_lines(rf"{front}\biggl[", pieces, r"\biggr]")
    return Equation(lhs, source, rhs, label, lines, tuple(dets), condition)


def definition_equation(det: Determinant, *, label: str) -> Equation:
    """The equation that defines a determinant abbreviation."""
    printer = PaperLatexPrinter()
    return Equation(det.latex, det.value, det.definition_latex(printer), label)


def block_equations(
    blocks: BlockFormula | Mapping[str, BlockFormula], *, label_prefix: str = ""
) -> list[Equation]:
    r"""The equations of one or several :class:`~symhess.two_layer.blocks.BlockFormula`.

    For each block: the entry of two different units (:math:`i\ne k`) and of a unit with itself
    (:math:`k=i`); before them, the definitions of the determinants they use.

    Parameters
    ----------
    blocks : BlockFormula or dict of them
        As returned by :func:`symhess.derive_blocks`.
    label_prefix : str
        Prepended to every label (the document uses the activation's spec).
    """
    items = [blocks] if isinstance(blocks, BlockFormula) else list(blocks.values())
    alpha = detect_alpha([cf for blk in items for cf in blk.coefficients.values()])
    out: list[Equation] = []
    defs: dict[Determinant, None] = {}
    for blk in items:
        res = "res" if blk.part == "residual" else ""
        basis = blk.basis
        if blk.options is not None:
            offset = blk.name.endswith("_offset") or (blk.part == "residual" and blk.units == 1)
            name = blk.spec.block
            lhs_off = option_block_lhs(name, diagonal=False, part=blk.part, n_out=blk.options.n_out, offset=offset)
            lhs_dia = option_block_lhs(name, diagonal=True, part=blk.part, n_out=blk.options.n_out, offset=offset)
            slug = blk.name
        else:
            lhs_off = block_lhs(blk.name, diagonal=False, part=blk.part)
            lhs_dia = block_lhs(blk.name, diagonal=True, part=blk.part)
            slug = blk.name
        if blk.units < 2:  # one unit (or a constant): a single equation
            one = structured_equation(
                lhs_off, blk.prefactor, [(cf, basis[b]) for b, cf in blk.coefficients.items()],
                label=label_slug(label_prefix, res, slug), alpha=alpha, variables=OVERLAP_VARS,
            )
            defs.update(dict.fromkeys(one.determinants))
            out.append(one)
            continue
        off = structured_equation(
            lhs_off, blk.prefactor,
            [(cf, basis[b]) for b, cf in blk.coefficients.items()],
            label=label_slug(label_prefix, res, slug, "ik"), alpha=alpha,
            condition=r"i \neq k", variables=OVERLAP_VARS,
        )
        dia = structured_equation(
            lhs_dia, blk.diagonal_prefactor,
            [(cf, basis[b]) for b, cf in blk.diagonal.items()],
            label=label_slug(label_prefix, res, slug, "ii"), alpha=alpha, variables=OVERLAP_VARS,
        )
        defs.update(dict.fromkeys(off.determinants + dia.determinants))
        out += [off, dia]
    res = "res" if items and items[0].part == "residual" else ""
    head = [
        definition_equation(d, label=label_slug(label_prefix, res, "Delta", "ii" if d.diagonal else "ik"))
        for d in sorted(defs, key=lambda d: d.diagonal)
    ]
    return head + out


# -- the registry ------------------------------------------------------------------------------

#: (type or "module.QualName", exporter) in registration order; later registrations win
EXPORTERS: list[tuple[type | str, Callable[..., list[Equation]]]] = []


def register_exporter(kind: type | str, func: Callable[..., list[Equation]] | None = None):
    r"""Register how objects of type ``kind`` export to equations (usable as a decorator).

    Parameters
    ----------
    kind : type or str
        The class, or its qualified name ``"package.module.ClassName"`` (so a later stage can be
        registered without importing it).
    func : callable
        ``func(obj, **options) -> list[Equation]``; options include ``label_prefix``.

    Examples
    --------
    >>> class Rule:  # doctest: +SKIP
    ...     ...
    >>> @register_exporter(Rule)  # doctest: +SKIP
    ... def _rule_equations(rule, *, label_prefix=""):
    ...     return [Equation("N", rule.expr, latex_expr(rule.expr), label_slug(label_prefix, "N"))]
    """
    def deco(f: Callable[..., list[Equation]]) -> Callable[..., list[Equation]]:
        EXPORTERS.append((kind, f))
        return f

    return deco(func) if func is not None else deco


def _exporter_for(obj: object) -> Callable[..., list[Equation]] | None:
    for cls in type(obj).__mro__:
        qual = f"{cls.__module__}.{cls.__qualname__}"
        for kind, func in reversed(EXPORTERS):
            if kind is cls or kind == qual:
                return func
    return None


def export_equations(obj: object, **options: Any) -> list[Equation]:
    r"""The labelled equations of ``obj`` (anything :func:`to_latex` accepts, except bare expressions).

    Parameters
    ----------
    obj : BlockFormula, dict of BlockFormula, a registered type, or a list of these
        What to export.
    **options
        ``label_prefix`` and exporter-specific options.

    Raises
    ------
    TypeError
        If no exporter is registered for ``obj``'s type; the message lists the known types.
    """
    if isinstance(obj, BlockFormula) or (
        isinstance(obj, Mapping) and obj and all(isinstance(v, BlockFormula) for v in obj.values())
    ):
        unknown = sorted(set(options) - {"label_prefix"})
        if unknown:
            raise InvalidTypeError(f"unknown option(s) {unknown} for Hessian blocks; options: ['label_prefix']")
        return block_equations(obj, label_prefix=options.get("label_prefix", ""))
    func = _exporter_for(obj)
    if func is not None:
        return func(obj, **options)
    if isinstance(obj, (list, tuple)):
        return [eq for item in obj for eq in export_equations(item, **options)]
    known = ["sympy.Expr", "BlockFormula", "dict of BlockFormula"] + [
        k if isinstance(k, str) else f"{k.__module__}.{k.__qualname__}" for k, _ in EXPORTERS
    ]
    raise InvalidTypeError(f"cannot export an object of type {type(obj).__name__} to LaTeX; exportable: {known}")


def render_equations(equations: Iterable[Equation], environment: str = "equation") -> str:
    """LaTeX source of several equations, separated by blank lines."""
    return "\n\n".join(eq.render(environment) for eq in equations)


def to_latex(obj: object, **options: Any) -> str:
    r"""Paper-notation LaTeX of a derived formula, a set of Hessian blocks, or a registered result.

    Parameters
    ----------
    obj : sympy.Expr, BlockFormula, dict of BlockFormula, list, or a registered type
        * an expression: its LaTeX (one line, no environment, no abbreviation);
        * blocks from :func:`symhess.derive_blocks`: one ``equation`` environment per entry
          (:math:`i\ne k` and :math:`k=i`), labelled, with the erf determinants abbreviated as
          :math:`\tilde\Delta` and defined first;
        * counting rules and spectral laws of :mod:`symhess.two_layer` (see
          :mod:`symhess.export.rules`), and anything registered with :func:`register_exporter`;
        * result objects: effective parameters, the linear and Pennington–Bahri laws, the UFM theory
          (see :mod:`symhess.export.results`).
    **options
        ``label_prefix`` (str) for labels; ``environment`` (default ``"equation"``). For a bare
        expression: settings of :class:`PaperLatexPrinter` (SymPy's LaTeX printer settings).

    Raises
    ------
    TypeError
        For an object no exporter is registered for (the message lists what exports), or an
        unknown option.

    Returns
    -------
    str
        LaTeX source (needs ``amsmath`` and ``amssymb``).

    Examples
    --------
    >>> import symhess
    >>> symhess.to_latex(symhess.derive_blocks("quadratic")["vv"].entry)
    'Q_{ii} Q_{kk} + 2 Q_{ik}^{2} + Q_{ik}'
    """
    if isinstance(obj, sp.Basic):
        return latex_expr(obj, **options)  # options are printer settings (SymPy rejects unknown ones)
    environment = options.pop("environment", "equation")
    return render_equations(export_equations(obj, **options), environment)
