r"""The naming convention that maps a user's formula (LaTeX or SymPy) onto symhess's symbols.

Place in the package: outputs, checking (imports SymPy, ``symhess.symbols``, ``symhess.errors``).

A Hessian entry :math:`H_{(ij),(kl)}` couples hidden unit :math:`i`, input :math:`j` (the row) with
hidden unit :math:`k`, input :math:`l` (the column). A user's formula names the quantities of that
entry; :func:`parse_formula` reads it and maps every symbol onto :mod:`symhess.symbols`:

=======================================  =================================================
written as (LaTeX or SymPy name)         symhess symbol
=======================================  =================================================
``Q_{ii}``, ``Q_{kk}``, ``Q_{ik}``        ``Q_ii, Q_kk, Q_ik`` (overlaps :math:`w_i\cdot w_k`; ``Q_{ki}`` too)
``W_{ij}``, ``W_{il}``, ``W_{kj}``, ...   ``W_ij, W_il, W_kj, W_kl`` (also ``W_{1,ij}``, ``w_{ij}``)
``v_i``, ``v_k``                         ``v_i, v_k`` (also the paper's ``a_i`` and ``W_{2,i}``)
``\delta_{jl}``                          ``delta_jl`` (input indices; ``\delta_{jj}`` is 1)
``\delta_{ik}``                          1 on the diagonal :math:`i=k`, 0 off it
``\epsilon``, ``\varepsilon``, ``eps``   ``epsilon`` (the quadratic activation's :math:`\epsilon`)
``s``                                    ``s`` (the erf scale)
``q_1``, ``q_2``, ``c`` / ``q``          pair / single Gaussian expectations
``n_{in}``, ``N_i`` / ``n_{hidden}``, ``N_h``   sizes in counting rules
``\pi``, ``e``                           :math:`\pi`, Euler's number
=======================================  =================================================

Index letters. The default convention is symhess's: hidden units ``i`` (row) and ``k`` (column),
inputs ``j`` and ``l``. The paper's convention (Couto et al., eqs. 11-18) writes the
entry :math:`H_{(jk),(lm)}` with hidden units ``j, l`` and inputs ``k, m`` and output weights
``a_j``; ``indices="auto"`` tries both and takes the first that maps every symbol.
``indices="jk,lm"`` states any other choice explicitly (row unit, row input, column unit, column input).

Auxiliary quantities (the erf determinant :math:`\tilde\Delta`, say) are written out or passed as
``definitions={"\\tilde\\Delta": "(1+2Q_{ii})(1+2Q_{kk})-4Q_{ik}^2"}``.

LaTeX goes through symhess's one LaTeX reader, :func:`symhess.export.parse.read_latex` (SymPy's
ANTLR parser in strict mode, so trailing text that the grammar cannot read is an error instead of
being dropped, after normalising what that parser does not know: sizing commands (``\left``,
``\Big``), spacing, ``\mathrm{erf}``, ``\operatorname{...}``, accents (``\tilde\Delta``), commas in
subscripts (``W_{1,jk}``) and math environments); this module maps the names it keeps onto
symhess's symbols by the index conventions above. ``v_i(1+x)`` — which the parser reads as a
function call — is read as a product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Union

import sympy as sp

from ..errors import InvalidParameterError, InvalidTypeError, SymhessError
from ..export.notation import PAPER_INDICES, SYMHESS_INDICES, IndexConvention
from ..export.parse import apply_function, preprocess_latex, read_latex
from ..symbols import c, eps, q, q1, q2, scale, v_i, v_k

__all__ = [
    "NotationError", "IndexConvention", "SYMHESS_INDICES", "PAPER_INDICES", "ParsedFormula",
    "parse_formula", "parse_expression", "delta_ik", "n_in", "n_hidden", "CONTEXTS", "preprocess_latex",
]

FormulaLike = Union[str, sp.Expr, int, float]


class NotationError(SymhessError, ValueError):
    """A formula that cannot be read, or a symbol that the naming convention cannot map."""


#: Kronecker delta of the hidden units: 1 for the diagonal pair i = k, 0 off it
delta_ik = sp.Symbol("delta_ik", nonnegative=True)
#: sizes in counting rules
n_in = sp.Symbol("n_in", integer=True, positive=True)
n_hidden = sp.Symbol("n_hidden", integer=True, positive=True)

#: what each kind of check lets a formula contain
CONTEXTS = ("block", "pair", "single", "count")



_EPS_NAMES = {"epsilon", "varepsilon", "eps", "ε", "ϵ"}
_DELTA_NAMES = {"delta", "δ", "kronecker", "kroneckerdelta"}
_COUNT_IN = {"in", "i", "input", "inputs"}
_COUNT_HIDDEN = {"h", "hidden", "hid"}


# -- splitting symbol names ---------------------------------------------------------------------
def split_name(name: str) -> tuple[str, str]:
    """``'W_{1*(j*k)}' -> ('W', '1jk')``, ``'q1' -> ('q', '1')``, ``'\\epsilon' -> ('epsilon', '')``."""
    name = name.strip().lstrip("\\")
    head, _, sub = name.partition("_")
    sub = re.sub(r"[{}()*,\s\\]", "", sub)
    m = re.fullmatch(r"([A-Za-z]+?)(\d+)", head)
    if m:  # q1 -> q_1, W1_jk -> W_1jk
        head, sub = m.group(1), m.group(2) + sub
    return head, sub


def _parse_latex_raw(text: str) -> sp.Expr:
    raw, table = read_latex(text, line_breaks="error", error=NotationError)
    raw = _fix_applications(raw)
    names = {sym: sp.Symbol(table[str(sym)]) for sym in raw.free_symbols if str(sym) in table}
    return raw.xreplace(names) if names else raw


def _parse_sympy_raw(text: str) -> sp.Expr:
    from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

    # names SymPy would read as objects (Q: assumptions, N: evalf, S, O, ...) stay plain symbols
    local = {name: sp.Symbol(name) for name in ("Q", "N", "S", "O", "C", "I", "beta", "gamma", "lambda_")}
    local.update({"E": sp.E, "pi": sp.pi, "Heaviside": sp.Heaviside, "Min": sp.Min, "Max": sp.Max,
                  "min": sp.Min, "max": sp.Max})
    try:
        return parse_expr(text, local_dict=local, transformations=standard_transformations + (convert_xor,))
    except Exception as exc:
        raise NotationError(f"cannot parse {text!r} as a SymPy expression: {exc}") from exc


def _looks_like_latex(text: str) -> bool:
    return any(ch in text for ch in "\\{}")


def _fix_applications(expr: sp.Expr) -> sp.Expr:
    """Undefined 'functions' from implicit products (``v_i(1+x)``) and named functions."""
    from sympy.core.function import AppliedUndef

    def fix(node):
        name = node.func.__name__
        args = [_fix_applications(a) for a in node.args]
        known = apply_function(name, args)
        if known is not None:
            return known
        if len(args) == 1:
            return sp.Symbol(name) * args[0]
        raise NotationError(f"{name}({', '.join(map(str, args))}) is written as a function of several arguments")

    reps = {node: fix(node) for node in expr.atoms(AppliedUndef)}
    return expr.xreplace(reps) if reps else expr


def _exact_floats(expr: sp.Expr) -> sp.Expr:
    floats = expr.atoms(sp.Float)
    return expr.xreplace({f: sp.Rational(str(f)) for f in floats}) if floats else expr


def parse_expression(formula: FormulaLike, syntax: str = "auto") -> sp.Expr:
    """Parse a formula into a SymPy expression with the user's own symbol names (no mapping).

    Parameters
    ----------
    formula : str, sympy.Expr or number
        LaTeX (``r"\\frac{2}{\\pi}\\arcsin(...)"``), SymPy syntax (``"2/pi*asin(...)"``) or an expression.
    syntax : {"auto", "latex", "sympy"}
        How to read a string: ``"auto"`` takes LaTeX when it contains a backslash or braces.
    """
    if syntax not in ("auto", "latex", "sympy"):
        raise InvalidParameterError(f"syntax={syntax!r} is unknown; choose 'auto', 'latex' or 'sympy'")
    if isinstance(formula, bool):
        raise InvalidTypeError("formula must be a string, a SymPy expression or a number, not a bool")
    if isinstance(formula, str):
        use_latex = syntax == "latex" or (syntax == "auto" and _looks_like_latex(formula))
        if syntax == "auto" and not use_latex:
            try:
                raw = _parse_sympy_raw(formula)
            except NotationError:
                raw = _parse_latex_raw(formula)
        else:
            raw = _parse_latex_raw(formula) if use_latex else _parse_sympy_raw(formula)
    elif isinstance(formula, (sp.Basic, int, float)):
        raw = sp.sympify(formula)
    else:
        raise InvalidTypeError(f"formula must be a string (LaTeX or SymPy) or a SymPy expression; got {type(formula).__name__}")
    if isinstance(raw, sp.Equality):
        raw = raw.rhs  # "H_{vv} = ..." -> the right-hand side
    if isinstance(raw, sp.core.relational.Relational) or not isinstance(raw, sp.Expr):
        raise NotationError(f"expected an expression, got {raw!r}")
    return _exact_floats(_fix_applications(raw))


# -- mapping --------------------------------------------------------------------------------------
_BLOCK_HEADS = {"q": "Q", "w": "W", "v": "v", "a": "a"}


def _map_block(head: str, sub: str, conv: IndexConvention) -> sp.Expr | None:
    units = conv.units
    low = head.lower()
    if low == "w" and len(sub) == 2 and sub[0] == "2" and sub[1] in units:  # W_{2,j}: output weight
        return v_i if units[sub[1]] == "i" else v_k
    if low in _DELTA_NAMES and len(sub) == 2 and all(ch in units for ch in sub):
        return sp.Integer(1) if sub[0] == sub[1] else delta_ik
    name = "delta" if low in _DELTA_NAMES else _BLOCK_HEADS.get(low)
    return conv.aliases().get(f"{name}_{sub}") if name else None


def _map_common(head: str, sub: str) -> sp.Expr | None:
    low = head.lower()
    if sub:
        return None
    if low in _EPS_NAMES:
        return eps
    if head == "pi" or head == "π":
        return sp.pi
    if head == "e":
        return sp.E
    return None


def _map_name(name: str, context: str, conv: IndexConvention | None) -> sp.Expr | None:
    head, sub = split_name(name)
    common = _map_common(head, sub)
    if common is not None:
        return common
    if context == "block":
        if head == "s" and not sub:
            return scale
        return _map_block(head, sub, conv) if conv is not None else None
    if context == "pair":
        if head == "s" and not sub:
            return scale
        if head.lower() == "q" and sub in ("1", "11"):
            return q1
        if head.lower() == "q" and sub in ("2", "22"):
            return q2
        if (head == "c" and not sub) or (head == "Q" and sub in ("12", "21")) or (head == "c" and sub == "12"):
            return c
        return None
    if context == "single":
        if head == "s" and not sub:
            return scale
        if head.lower() == "q" and sub in ("", "1", "11"):
            return q
        return None
    if context == "count":
        low = head.lower()
        if low in ("n_in", "nin", "ni") or (low == "n" and sub.lower() in _COUNT_IN):
            return n_in
        if low in ("n_hidden", "nh", "nhidden") or (low == "n" and sub.lower() in _COUNT_HIDDEN):
            return n_hidden
        return None
    raise InvalidParameterError(f"context={context!r} is unknown; choose one of {CONTEXTS}")


def _known_names(context: str, conv: IndexConvention | None) -> str:
    if context == "block":
        conv = conv or SYMHESS_INDICES
        i, j, k, l = conv.row_unit, conv.row_input, conv.col_unit, conv.col_input
        return (f"Q_{{{i}{i}}}, Q_{{{k}{k}}}, Q_{{{i}{k}}}; W_{{{i}{j}}}, W_{{{i}{l}}}, W_{{{k}{j}}}, W_{{{k}{l}}} "
                f"(or W_{{1,{i}{j}}}); v_{i}, v_{k} (or a_{i}); \\delta_{{{j}{l}}}, \\delta_{{{i}{k}}}; "
                "\\epsilon (eps); s (erf scale); \\pi; e")
    if context == "pair":
        return "q_1, q_2, c (the Gaussian pair's variances and covariance); \\epsilon; s; \\pi; e"
    if context == "single":
        return "q (the variance); \\epsilon; s; \\pi; e"
    return "n_in (N_i, n_{in}), n_hidden (N_h, n_{hidden})"


@dataclass(frozen=True)
class ParsedFormula:
    """A user's formula mapped onto symhess's symbols.

    Attributes
    ----------
    expr : sympy.Expr
        The formula in symhess's symbols (``delta_ik`` still free for block formulas).
    raw : sympy.Expr
        The formula as parsed, with the user's own names.
    mapping : dict
        User's symbol name -> symhess symbol.
    indices : IndexConvention or None
        The index convention used (block formulas).
    """

    expr: sp.Expr
    raw: sp.Expr
    mapping: Mapping[str, sp.Expr] = field(default_factory=dict)
    indices: IndexConvention | None = None


def _try_map(raw: sp.Expr, context: str, conv: IndexConvention | None, defs: dict[str, sp.Expr]):
    mapping: dict[str, sp.Expr] = {}
    reps: dict[sp.Symbol, sp.Expr] = {}
    missing: list[str] = []
    for sym in sorted(raw.free_symbols, key=str):
        key = _def_key(str(sym))
        head = split_name(str(sym))[0]
        if key in defs or head in defs:  # a definition without indices also names its indexed uses
            target = defs[key] if key in defs else defs[head]
        else:
            target = _map_name(str(sym), context, conv)
        if target is None:
            missing.append(str(sym))
        else:
            mapping[str(sym)] = target
            reps[sym] = target
    return mapping, reps, missing


def _def_key(name: str) -> str:
    head, sub = split_name(name)
    return head + ("_" + sub if sub else "")


def _pretty(name: str) -> str:
    head, sub = split_name(name)
    return head + (f"_{{{sub}}}" if sub else "")


def parse_formula(
    formula: FormulaLike,
    context: str = "block",
    *,
    indices: str | IndexConvention = "auto",
    definitions: Mapping[str, FormulaLike] | None = None,
    syntax: str = "auto",
) -> ParsedFormula:
    r"""Parse a formula and map its symbols onto symhess's (see the module docstring for the names).

    Parameters
    ----------
    formula : str or sympy.Expr
        LaTeX, SymPy syntax, or an expression (any symbol names that follow the convention).
    context : {"block", "pair", "single", "count"}
        What the formula is: a Hessian entry, a pair expectation in :math:`(q_1,q_2,c)`, a single
        expectation in :math:`q`, or a counting rule in :math:`(n_{in}, n_{hidden})`.
    indices : "auto", "ij,kl", "jk,lm" or IndexConvention
        Index letters of a block formula (row unit, row input, column unit, column input).
    definitions : dict, optional
        Auxiliary names -> formulas in the same notation, substituted before mapping (in order,
        so later definitions may use earlier ones).
    syntax : {"auto", "latex", "sympy"}
        How to read strings.

    Raises
    ------
    NotationError
        If the formula cannot be parsed, or names a symbol the convention cannot map (the message
        lists the names that can be used).

    Examples
    --------
    >>> parse_formula(r"v_i v_k \delta_{jl}").expr
    delta_jl*v_i*v_k
    >>> parse_formula(r"a_j a_l \delta_{km}").indices.name
    'paper'
    """
    if context not in CONTEXTS:
        raise InvalidParameterError(f"context={context!r} is unknown; choose one of {CONTEXTS}")
    raw = parse_expression(formula, syntax)
    if context == "block":
        if isinstance(indices, IndexConvention):
            candidates = [indices]
        elif indices == "auto":
            candidates = [SYMHESS_INDICES, PAPER_INDICES]
        elif indices in ("symhess",):
            candidates = [SYMHESS_INDICES]
        elif indices in ("paper",):
            candidates = [PAPER_INDICES]
        else:
            candidates = [IndexConvention.parse(str(indices))]
    else:
        candidates = [None]

    first_error = None
    for conv in candidates:
        defs: dict[str, sp.Expr] = {}
        try:
            for name, body in (definitions or {}).items():
                body_raw = parse_expression(body, syntax)
                key_expr = parse_expression(name, syntax) if isinstance(name, str) else sp.sympify(name)
                if not isinstance(key_expr, sp.Symbol):
                    raise NotationError(f"definition name {name!r} must be a single symbol, got {key_expr}")
                _, reps, missing = _try_map(body_raw, context, conv, defs)
                if missing:
                    raise NotationError(
                        f"definition of {name!r}: cannot map {', '.join(_pretty(m) for m in missing)}"
                    )
                defs[_def_key(str(key_expr))] = body_raw.xreplace(reps)
        except NotationError as exc:
            first_error = first_error or exc
            continue
        mapping, reps, missing = _try_map(raw, context, conv, defs)
        if not missing:
            return ParsedFormula(raw.xreplace(reps), raw, mapping, conv)
        if first_error is None:
            where = f" with {conv.describe()}" if conv is not None else ""
            hint = ""
            if context == "block":
                hint = ("; write auxiliary quantities out or pass definitions={'Delta': '...'}; "
                        "pass indices='jk,lm' for the paper's H_(jk),(lm) letters")
            first_error = NotationError(
                f"cannot map symbol(s) {', '.join(repr(_pretty(m)) for m in missing)} onto symhess's symbols{where}. "
                f"Known names: {_known_names(context, conv)}{hint}"
            )
    assert first_error is not None
    raise first_error
