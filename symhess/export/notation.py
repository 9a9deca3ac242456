r"""The paper's notation: how symhess's symbols print, and how printed names map back.

Place in the package: outputs, export. This module is the single table shared by the LaTeX
printer (:mod:`symhess.export.latex`) and the LaTeX reader (:mod:`symhess.export.parse`), so the
two directions cannot drift apart.

Notation (units :math:`i, k`; input coordinates :math:`j, l`):

=====================  ==============================  =============================================
symhess symbol         LaTeX                           meaning
=====================  ==============================  =============================================
``Q_ii, Q_kk, Q_ik``   ``Q_{ii}, Q_{kk}, Q_{ik}``      overlaps :math:`Q_{ik}=w_i\cdot w_k`
``W_ij`` ...           ``W_{ij}`` ...                  first-layer weights (row :math:`w_i`)
``v_i, v_k``           ``v_{i}, v_{k}``                output weights
``delta_jl``           ``\delta_{jl}``                 Kronecker delta of the input indices
``q1, q2, c``          ``q_{1}, q_{2}, c``             covariance of a Gaussian pair :math:`(u, v)`
``q``                  ``q``                           variance of one pre-activation :math:`h`
``epsilon``            ``\epsilon``                    quadratic coefficient
``s``                  ``s``                           erf input scale
=====================  ==============================  =============================================

The erf determinants are abbreviations, recognised in an expression by
:func:`find_determinant` and defined next to every formula that uses them:

.. math::

    \tilde\Delta_{ik} = (1+\alpha Q_{ii})(1+\alpha Q_{kk}) - \alpha^2 Q_{ik}^2,
    \qquad \tilde\Delta_{ii} = 1 + 2\alpha Q_{ii},

with :math:`\alpha = 2s^2` for :math:`\sigma(z)=\mathrm{erf}(sz)`, i.e.
:math:`\tilde\Delta_{ik}=\det(I_2 + 2s^2 C_{ik})`, :math:`C_{ik}` the :math:`2\times2` overlap matrix
of units :math:`i, k`. For the Saad–Solla convention :math:`s=1/\sqrt2` (:math:`\alpha=1`) it is
the paper's :math:`\Delta_{ik}=(1+Q_{ii})(1+Q_{kk})-Q_{ik}^2` and prints without the tilde.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from ..two_layer.templates import BLOCK_NAMES as BLOCKS
from ..errors import InvalidParameterError
from ..symbols import (
    Q_ii, Q_ik, Q_kk, Sigma_jl, Sw_ij, Sw_il, Sw_kj, Sw_kl, VV_ii, VV_ik, Vdb_i, W_ij, W_il, W_kj, W_kl, b_i, b_k,
    c, db_o, db_out, delta_jl, delta_oo, eps, q, q1, q2, scale, v_i, v_k, v_oi, v_ok, z,
)

__all__ = [
    "SYMBOL_LATEX", "PARSE_NAMES", "canonical_name", "Determinant", "find_determinant",
    "determinant_value", "OVERLAP_VARS", "PAIR_VARS", "DIAGONAL_VARS", "BLOCK_NAMES",
    "block_lhs", "option_block_lhs", "label_slug", "IndexConvention", "SYMHESS_INDICES", "PAPER_INDICES",
]


@dataclass(frozen=True)
class IndexConvention:
    """Index letters of a Hessian entry: row unit, row input, column unit, column input."""

    row_unit: str
    row_input: str
    col_unit: str
    col_input: str
    name: str = "custom"

    @classmethod
    def parse(cls, text: str) -> "IndexConvention":
        """Read ``"ij,kl"`` (row unit, row input, column unit, column input)."""
        letters = [ch for ch in str(text) if ch.isalpha()]
        if len(letters) != 4 or len(set(letters)) != 4:
            raise InvalidParameterError(
                f"indices={text!r} must name four different letters 'RU RI, CU CI' (row unit, row input, "
                "column unit, column input), e.g. 'ij,kl' (symhess) or 'jk,lm' (the paper)"
            )
        return cls(*letters, name=f"{letters[0]}{letters[1]},{letters[2]}{letters[3]}")

    @property
    def units(self) -> dict[str, str]:
        return {self.row_unit: "i", self.col_unit: "k"}

    @property
    def inputs(self) -> dict[str, str]:
        return {self.row_input: "j", self.col_input: "l"}

    def describe(self) -> str:
        return (f"hidden units {self.row_unit}, {self.col_unit} and inputs {self.row_input}, {self.col_input}"
                f" (entry H_({self.row_unit}{self.row_input}),({self.col_unit}{self.col_input}))")

    def aliases(self) -> dict[str, sp.Expr]:
        """Names of the block symbols in this convention, canonical form to symhess symbol.

        Overlaps ``Q`` of the two units, output weights ``v`` or ``a``, first-layer weights ``W`` or
        ``W_1`` with a unit and an input index, and the input Kronecker delta, e.g. for the paper's
        convention ``{"Q_jl": Q_ik, "a_j": v_i, "W_1jk": W_ij, "delta_km": delta_jl, ...}``.
        """
        unit = {self.row_unit: "i", self.col_unit: "k"}
        inp = {self.row_input: "j", self.col_input: "l"}
        overlap = {("i", "i"): Q_ii, ("k", "k"): Q_kk, ("i", "k"): Q_ik, ("k", "i"): Q_ik}
        weight = {("i", "j"): W_ij, ("i", "l"): W_il, ("k", "j"): W_kj, ("k", "l"): W_kl}
        out: dict[str, sp.Expr] = {}
        for a, ua in unit.items():
            out[f"v_{a}"] = out[f"a_{a}"] = v_i if ua == "i" else v_k
            for b, ub in unit.items():
                out[f"Q_{a}{b}"] = overlap[(ua, ub)]
            for b, ib in inp.items():
                out[f"W_{a}{b}"] = out[f"W_1{a}{b}"] = weight[(ua, ib)]
        for a in inp:
            for b in inp:
                out[f"delta_{a}{b}"] = sp.Integer(1) if a == b else delta_jl
        return out


SYMHESS_INDICES = IndexConvention("i", "j", "k", "l", name="symhess")
PAPER_INDICES = IndexConvention("j", "k", "l", "m", name="paper")

#: symhess symbol -> its LaTeX in the paper's notation
SYMBOL_LATEX: dict[sp.Symbol, str] = {
    Q_ii: "Q_{ii}", Q_kk: "Q_{kk}", Q_ik: "Q_{ik}",
    W_ij: "W_{ij}", W_il: "W_{il}", W_kj: "W_{kj}", W_kl: "W_{kl}",
    v_i: "v_{i}", v_k: "v_{k}",
    delta_jl: r"\delta_{jl}",
    q1: "q_{1}", q2: "q_{2}", c: "c", q: "q", z: "z",
    eps: r"\epsilon", scale: "s",
    # architecture options: hidden biases, several outputs, input covariance, output-bias offset
    b_i: "b_{i}", b_k: "b_{k}", Sigma_jl: r"\Sigma_{jl}",
    Sw_ij: r"(\Sigma w_{i})_{j}", Sw_il: r"(\Sigma w_{i})_{l}", Sw_kj: r"(\Sigma w_{k})_{j}", Sw_kl: r"(\Sigma w_{k})_{l}",
    v_oi: "v_{oi}", v_ok: "v_{ok}", delta_oo: r"\delta_{oo'}", VV_ik: r"(V^{\top}V)_{ik}", VV_ii: r"(V^{\top}V)_{ii}",
    db_out: r"\Delta b^{\mathrm{out}}", db_o: r"\Delta b^{\mathrm{out}}_{o}", Vdb_i: r"(V^{\top}\Delta b^{\mathrm{out}})_{i}",
}


def canonical_name(name: str) -> str:
    r"""Normalise a symbol name as SymPy's LaTeX parser produces it: ``"Q_{i*k}"`` -> ``"Q_ik"``.

    Braces, ``*``, spaces, commas and backslashes are dropped, so ``Q_{ik}``, ``Q_{i k}``,
    ``Q_{i,k}`` and ``Q_ik`` all give ``"Q_ik"``.
    """
    name = name.replace("\\", "")
    head, sep, sub = name.partition("_")
    sub = re.sub(r"[{}*\s,]", "", sub)
    return head + (sep + sub if sub else "")


#: canonical parsed name -> symhess expression (index-symmetric aliases included)
PARSE_NAMES: dict[str, sp.Expr] = {
    "Q_ii": Q_ii, "Q_kk": Q_kk, "Q_ik": Q_ik, "Q_ki": Q_ik,
    "W_ij": W_ij, "W_il": W_il, "W_kj": W_kj, "W_kl": W_kl,
    "v_i": v_i, "v_k": v_k,
    "delta_jl": delta_jl, "delta_lj": delta_jl,
    "q_1": q1, "q1": q1, "q_2": q2, "q2": q2, "c": c, "q": q, "z": z,
    "epsilon": eps, "varepsilon": eps, "eps": eps, "s": scale,
    "pi": sp.pi, "e": sp.E,
    "b_i": b_i, "b_k": b_k, "v_oi": v_oi, "v_ok": v_ok, "delta_oo'": delta_oo, "Sigma_jl": Sigma_jl,
    "Sigma_lj": Sigma_jl,
}

#: the three overlaps of a pair of hidden units, in the order (own, partner, cross)
OVERLAP_VARS = (Q_ii, Q_kk, Q_ik)
#: the same for a Gaussian pair (u, v)
PAIR_VARS = (q1, q2, c)
#: the variance of one unit with itself, per pair convention
DIAGONAL_VARS = {OVERLAP_VARS: Q_ii, PAIR_VARS: q}

#: block name -> LaTeX of the block symbol
BLOCK_NAMES = {name: f"H_{{{name}}}" for name in BLOCKS}


def block_lhs(name: str, *, diagonal: bool, part: str = "gauss_newton") -> str:
    r"""LaTeX of a block entry's left-hand side, e.g. ``\left[H_{WW}\right]_{(ij),(kl)}``.

    Parameters
    ----------
    name : {"WW", "Wv", "vv"}
        The block.
    diagonal : bool
        ``True`` for the entry of a unit with itself (:math:`k=i`).
    part : {"gauss_newton", "residual"}
        ``"residual"`` prints :math:`H^{\mathrm{res},k}`, the contribution of residual unit
        :math:`k` to the entry of unit :math:`i` with itself.
    """
    if name not in BLOCK_NAMES:
        raise InvalidParameterError(f"unknown block {name!r}; known blocks: {sorted(BLOCK_NAMES)}")
    if part == "residual":
        sym = {"WW": r"H^{\mathrm{res},k}_{WW}", "Wv": r"H^{\mathrm{res},k}_{Wv}",
               "vv": r"H^{\mathrm{res},k}_{vv}"}[name]
        idx = {"WW": "(ij),(il)", "Wv": "(ij),i", "vv": "ii"}[name]
        if diagonal:
            sym = sym.replace("res,k", "res,i")
        return rf"\left[{sym}\right]_{{{idx}}}"
    k = "i" if diagonal else "k"
    idx = {"WW": f"(ij),({k}l)", "Wv": f"(ij),{k}", "vv": f"i{k}"}[name]
    return rf"\left[{BLOCK_NAMES[name]}\right]_{{{idx}}}"


#: LaTeX of each parameter group in a block name
_GROUP_LATEX = {"W": "W", "v": "v", "b": "b", "b_out": r"b^{\mathrm{out}}"}


def _split_block(name: str) -> tuple[str, str]:
    """``"Wb_out"`` -> ``("W", "b_out")``."""
    if name.startswith("b_out"):
        return "b_out", name[5:]
    return name[0], name[1:]


def option_block_lhs(name: str, *, diagonal: bool, part: str = "gauss_newton", n_out: int = 1,
                     offset: bool = False) -> str:
    r"""Left-hand side of a block entry of the network with biases, several outputs or :math:`\Sigma`.

    Indices: :math:`(ij)` a first-layer weight, :math:`(oi)` an output weight (one output: :math:`i`),
    :math:`i` a hidden bias, :math:`o` an output bias; ``diagonal`` writes :math:`k=i`. The residual
    part prints :math:`H^{\mathrm{res},k}` (``offset``: :math:`H^{\mathrm{res},\Delta b}`, the output-bias
    offset of the residual).
    """
    g1, g2 = _split_block(name)
    if g1 not in _GROUP_LATEX or g2 not in _GROUP_LATEX:
        raise InvalidParameterError(f"unknown block {name!r}: a block joins two of the groups {sorted(_GROUP_LATEX)}")
    multi = n_out > 1
    k = "i" if diagonal else "k"
    sym = f"H_{{{_GROUP_LATEX[g1]}{_GROUP_LATEX[g2]}}}"
    if part == "residual":
        sup = r"\Delta b" if offset else ("i" if diagonal else "k")
        sym = rf"H^{{\mathrm{{res}},{sup}}}_{{{_GROUP_LATEX[g1]}{_GROUP_LATEX[g2]}}}"
        first = {"W": "(ij)", "v": "(oi)" if multi else "i", "b": "i"}[g1]
        second = {"W": "(il)", "v": "(oi)" if multi else "i", "b": "i"}[g2]
        if g1 == g2 == "b":
            return rf"\left[{sym}\right]_{{ii}}"
        return rf"\left[{sym}\right]_{{{first},{second}}}"
    first = {"W": "(ij)", "v": "(oi)" if multi else "i", "b": "i", "b_out": "o" if multi else ""}[g1]
    second = {"W": f"({k}l)", "v": f"(o'{k})" if multi and g1 == "v" else (f"(o{k})" if multi else k), "b": k,
              "b_out": ("o'" if g1 in ("v", "b_out") else "o") if multi else ""}[g2]
    idx = ",".join(x for x in (first, second) if x)
    if g1 == "b" and g2 == "b":
        idx = f"i{k}"
    if multi and g1 == "b_out":
        idx = "oo'"
    if g1 == "v" and g2 == "v" and not multi:
        idx = f"i{k}"
    return rf"\left[{sym}\right]_{{{idx}}}" if idx else sym


def label_slug(*parts: str) -> str:
    """A LaTeX label made of ``parts``: letters, digits and hyphens only (``eq:erf-WW-offdiag``)."""
    out = []
    for part in parts:
        text = re.sub(r"[^A-Za-z0-9]+", "-", str(part)).strip("-")
        if text:
            out.append(text)
    return "eq:" + "-".join(out)


# -- the erf determinants ------------------------------------------------------------------------


@dataclass(frozen=True)
class Determinant:
    r"""An abbreviation :math:`\tilde\Delta` for :math:`(1+\alpha x_1)(1+\alpha x_2)-\alpha^2x_c^2`.

    Attributes
    ----------
    alpha : sympy.Expr
        :math:`\alpha` (:math:`2s^2` for :math:`\mathrm{erf}(sz)`).
    variables : tuple
        :data:`OVERLAP_VARS` (``Q_ii, Q_kk, Q_ik``) or :data:`PAIR_VARS` (``q1, q2, c``).
    diagonal : bool
        The unit-with-itself value :math:`1+2\alpha x_1` (:math:`x_2=x_c=x_1`).
    """

    alpha: sp.Expr
    variables: tuple = OVERLAP_VARS
    diagonal: bool = False

    @property
    def symbol(self) -> sp.Symbol:
        """The positive symbol that stands for the determinant in an abbreviated expression."""
        tag = {OVERLAP_VARS: "ii" if self.diagonal else "ik", PAIR_VARS: "q" if self.diagonal else ""}
        return sp.Symbol("Delta_" + tag[self.variables] if tag[self.variables] else "Delta", positive=True)

    @property
    def value(self) -> sp.Expr:
        """The polynomial the symbol stands for."""
        return determinant_value(self.alpha, self.variables, diagonal=self.diagonal)

    @property
    def latex(self) -> str:
        r"""``\tilde{\Delta}_{ik}`` (or ``\Delta_{ik}`` when :math:`\alpha=1`, the paper's convention)."""
        head = r"\Delta" if self.alpha == 1 else r"\tilde{\Delta}"
        sub = {OVERLAP_VARS: "ii" if self.diagonal else "ik", PAIR_VARS: "q" if self.diagonal else ""}
        s = sub[self.variables]
        return head + (f"_{{{s}}}" if s else "")

    def definition_latex(self, printer) -> str:
        r"""The right-hand side of the definition, e.g. ``\left(1 + 2 Q_{ii}\right)\left(1 + 2 Q_{kk}\right) - 4 Q_{ik}^{2}``."""
        x1, x2, xc = self.variables
        a = self.alpha
        if self.diagonal:
            return printer.doprint(1 + 2 * a * x1)
        f1 = printer.doprint(1 + a * x1)
        f2 = printer.doprint(1 + a * x2)
        sq = printer.doprint(a**2 * xc**2)
        return rf"\left({f1}\right) \left({f2}\right) - {sq}"


def determinant_value(alpha: sp.Expr, variables: tuple = OVERLAP_VARS, *, diagonal: bool = False) -> sp.Expr:
    r""":math:`(1+\alpha x_1)(1+\alpha x_2)-\alpha^2x_c^2`, or :math:`1+2\alpha x_1` on the diagonal."""
    x1, x2, xc = variables
    if diagonal:
        return 1 + 2 * alpha * x1
    return (1 + alpha * x1) * (1 + alpha * x2) - alpha**2 * xc**2


def find_determinant(expr: sp.Expr, variables: tuple = OVERLAP_VARS) -> tuple[sp.Expr, sp.Expr] | None:
    r"""Whether ``expr`` is :math:`\kappa\,[(1+\alpha x_1)(1+\alpha x_2)-\alpha^2x_c^2]`.

    Parameters
    ----------
    expr : sympy.Expr
        A candidate, typically the base of a power in an erf formula.
    variables : tuple
        ``(x_1, x_2, x_c)``; :data:`OVERLAP_VARS` or :data:`PAIR_VARS`.

    Returns
    -------
    (kappa, alpha) or None
        The factor :math:`\kappa` and the parameter :math:`\alpha\ne0` when ``expr`` has that
        form identically (checked by expanding), else ``None``.

    Examples
    --------
    >>> from symhess.symbols import Q_ii, Q_kk, Q_ik
    >>> find_determinant(-4*Q_ik**2 + (2*Q_ii + 1)*(2*Q_kk + 1))
    (1, 2)
    """
    x1, x2, xc = variables
    if not isinstance(expr, sp.Expr) or not expr.is_Add or not expr.has(xc):
        return None
    if not expr.is_polynomial(*variables):
        return None
    poly = sp.Poly(expr, *variables)
    if poly.total_degree() != 2:
        return None
    kappa = poly.coeff_monomial(1)
    if kappa == 0:
        return None
    alpha = sp.cancel(poly.coeff_monomial(x1) / kappa)
    if alpha == 0 or alpha.has(*variables):
        return None
    if sp.expand(expr - kappa * determinant_value(alpha, variables)) != 0:
        return None
    return kappa, alpha
