r"""Read LaTeX in the paper's notation back into symhess's SymPy symbols: :func:`parse_paper_latex`.

Place in the package: outputs, export. The inverse of :mod:`symhess.export.latex`, and the entry
point for users' own formulas (:func:`symhess.check_formula` reads LaTeX through it).

The text goes through SymPy's LaTeX parser (``sympy.parsing.latex.parse_latex``, ANTLR backend,
package ``antlr4-python3-runtime``) after a preprocessing pass for what that parser does not know
(layout commands, ``\operatorname``, :math:`\tilde\Delta`, Gaussian expectations
:math:`\mathbb E[\dots]`); then every symbol and function name is mapped onto symhess's objects by
the naming convention below, and a name that cannot be mapped is an error that names it.

Naming convention (indices may be braced or not: ``Q_{ik}``, ``Q_ik``, ``Q_{i k}``):

==========================================  =====================================================
LaTeX                                       symhess
==========================================  =====================================================
``Q_{ii}, Q_{kk}, Q_{ik}`` (``Q_{ki}``)     overlaps ``Q_ii, Q_kk, Q_ik``
``W_{ij}, W_{il}, W_{kj}, W_{kl}``          first-layer weights
``v_i, v_k``                                output weights
``\delta_{jl}``                             ``delta_jl``
``q_1, q_2, c, q, z``                       pair covariance, single variance, argument
``\epsilon``, ``\varepsilon``, ``eps``      ``epsilon``
``s``                                       erf scale
``c_1, c_2, ...``                           polynomial coefficients
``\pi``, ``e``                              :math:`\pi`, :math:`e`
``\tilde\Delta_{ik}``, ``\tilde\Delta_{ii}``  erf determinants of :math:`\mathrm{erf}(sz)`
                                            (:math:`s` from ``activation``, default 1)
``\Delta_{ik}``, ``\Delta_{ii}``            the same for the paper's :math:`\mathrm{erf}(z/\sqrt2)`
``\arcsin, \arccos, \Theta, \operatorname{erf}, \exp, \sqrt``  the SymPy functions
``\mathbb{E}[\sigma'(h_i)\,\sigma''(h_k)]``   :func:`symhess.pair_expectation` (needs ``activation``)
``\mathbb{E}[(\sigma'\sigma)^{(m)}(h_i)]``    :func:`symhess.single_expectation`
==========================================  =====================================================

``PAPER_INDEX_ALIASES`` adds the index convention of Couto et al. (arXiv:2512.15606, eqs. 1-5: units :math:`j, l`, inputs
:math:`k, m`, output weights :math:`a_j`, ``W_{1,jk}``).
"""

from __future__ import annotations

import re
import warnings
from typing import Callable, Iterable, Mapping

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import InvalidTypeError, SymhessError
from ..symbols import PAIR_ARGS, Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, delta_jl, q, v_i, v_k
from .notation import OVERLAP_VARS, PAPER_INDICES, PARSE_NAMES, Determinant, canonical_name, determinant_value

__all__ = [
    "parse_paper_latex", "PaperLatexError", "PAPER_INDEX_ALIASES", "FUNCTION_NAMES", "read_latex",
    "preprocess_latex", "protect_subscripts", "apply_function",
]


class PaperLatexError(SymhessError, ValueError):
    """LaTeX that cannot be read, or that uses a name with no meaning in symhess's notation."""


#: the index convention of Couto et al. (eqs. 1-5): units j, l; inputs k, m; output weights a_j; W_{1,jk}
PAPER_INDEX_ALIASES: dict[str, sp.Expr] = PAPER_INDICES.aliases()

#: parsed function name -> SymPy function
FUNCTION_NAMES: dict[str, object] = {
    "Theta": sp.Heaviside, "theta": sp.Heaviside, "Heaviside": sp.Heaviside, "heaviside": sp.Heaviside,
    "H": sp.Heaviside, "erf": sp.erf, "erfc": sp.erfc, "exp": sp.exp, "sqrt": sp.sqrt, "log": sp.log,
    "ln": sp.log, "asin": sp.asin, "arcsin": sp.asin, "acos": sp.acos, "arccos": sp.acos, "atan": sp.atan,
    "arctan": sp.atan, "tanh": sp.tanh, "max": sp.Max, "min": sp.Min, "Max": sp.Max, "Min": sp.Min,
    "Gamma": sp.gamma, "binom": sp.binomial, "binomial": sp.binomial, "sgn": sp.sign, "sign": sp.sign,
    "abs": sp.Abs, "floor": sp.floor, "ceil": sp.ceiling,
}

_TILDE = re.compile(r"\\(?:widetilde|tilde)\s*(?:\{\s*\\Delta\s*\}|\\Delta)")
_EPS = re.compile(r"(?<![\\A-Za-z])eps(?![A-Za-z])")
_ACCENT = re.compile(
    r"\\(tilde|widetilde|hat|widehat|bar|overline)\s*(?:\{\s*\\?([A-Za-z]+)\s*\}|\\([A-Za-z]+)|([A-Za-z]))"
)
_NAME_COMMANDS = re.compile(r"\\(?:mathrm|operatorname|mathop|textrm|text|mbox|mathit|mathsf)\s*\{([^{}]*)\}")
_SUBSCRIPTED = re.compile(r"(\\[A-Za-z]+|[A-Za-z])\s*_\s*(\{[^{}]*\}|[A-Za-z0-9])")
#: commands whose subscript is a limit or a base, not part of a name
_SUBSCRIPT_COMMANDS = {"sum", "prod", "int", "lim", "log", "max", "min", "sup", "inf", "oint", "bigcup", "bigcap"}
_ARG_COMMANDS = {"frac": 2, "dfrac": 2, "tfrac": 2, "binom": 2, "sqrt": 1}


def _placeholder(prefix: str, n: int) -> str:
    """A letters-only name for a placeholder; no ``d`` (the parser reads ``dx`` as a differential)."""
    return prefix + "".join("abcefghijk"[int(d)] for d in str(n))


def _function_of(name: str) -> object | None:
    return FUNCTION_NAMES.get(name) or FUNCTION_NAMES.get(name.lower())


def _name_command(m: re.Match, error: type[Exception]) -> str:
    r"""``\mathrm{erf}`` -> ``\erf``; ``\text{for } i\neq k`` (prose, not a function name) -> dropped."""
    prose = m.group(0)[1:5] in ("text", "mbox") and not m.group(0).startswith(r"\textrm")
    word = m.group(1).strip()
    if word == "e":
        return " e "
    if prose and (not re.fullmatch(r"[A-Za-z]+", word) or _function_of(word) is None):
        return " "
    if not re.fullmatch(r"[A-Za-z]+", word):
        raise error(f"cannot read {m.group(0)!r}: expected a name such as erf")
    return f"\\{word} "


def _brace_arguments(text: str) -> str:
    r"""``\frac2\pi`` -> ``\frac{2}{\pi}``, ``\sqrt2`` -> ``\sqrt{2}``: SymPy's parser needs the braces."""
    out, pos, n = [], 0, len(text)
    while pos < n:
        m = re.match(r"\\(d?frac|tfrac|binom|sqrt)(?![A-Za-z])", text[pos:])
        if not m:
            out.append(text[pos])
            pos += 1
            continue
        out.append(m.group(0))
        pos += m.end()
        for _ in range(_ARG_COMMANDS[m.group(1)]):
            while pos < n and text[pos] == " ":
                pos += 1
            if pos < n and text[pos] == "[" and m.group(1) == "sqrt":  # \sqrt[3]{x}
                end = text.index("]", pos)
                out.append(text[pos:end + 1])
                pos = end + 1
            if pos >= n:
                break
            if text[pos] == "{":  # to its closing brace (or the end: the parser reports what is missing)
                depth, start = 0, pos
                while pos < n:
                    depth += text[pos] == "{"
                    depth -= text[pos] == "}"
                    pos += 1
                    if depth == 0:
                        break
                out.append(_brace_arguments(text[start:pos]))
            else:
                tok = re.match(r"\\[A-Za-z]+|.", text[pos:]).group(0)
                out.append("{" + tok + "}")
                pos += len(tok)
    return "".join(out)


def preprocess_latex(text: str, *, line_breaks: str = "join", error: type[Exception] | None = None) -> str:
    r"""Normalise LaTeX that SymPy's parser does not read: the one front end of every LaTeX reader.

    Drops comments, math delimiters and environments, ``\label``/``\tag``, alignment ``&``, sizing
    (``\left``, ``\Big``), spacing (``\,``, ``\quad``), prose (``\text{for } i\neq k``) and a trailing
    condition ``\qquad (i \neq k)``; keeps the right-hand side of the last top-level ``=``; turns
    ``\mathrm{erf}``/``\operatorname{erf}`` into ``\erf``, accents into one name (``\tilde\Delta`` ->
    ``\tildeDelta``), ``eps`` into ``\epsilon``, ``\mathbb{E}`` into ``\mathbbE``, and braces the
    arguments of ``\frac2\pi``.

    Parameters
    ----------
    text : str
        The LaTeX.
    line_breaks : {"join", "error"}
        ``\\`` joins the lines of one expression (``"join"``, as in a split equation), or is an
        error (``"error"``: one expression, one line).
    error : exception class, optional
        What to raise (default :class:`PaperLatexError`).

    Examples
    --------
    >>> preprocess_latex(r"\frac2\pi\mathrm{erf}\Big(x\Big).")
    '\\frac{2}{\\pi}\\erf  (x )'
    """
    error = error or PaperLatexError
    s = re.sub(r"(?<!\\)%[^\n]*", "", str(text))  # comments
    s = re.sub(r"\\(?:begin|end)\{[^}]*\}", " ", s)
    s = re.sub(r"\\(?:label|tag)\*?\{[^{}]*\}", " ", s)
    s = re.sub(r"\\(?:nonumber|notag|displaystyle|textstyle|scriptstyle)(?![A-Za-z])", " ", s)
    s = s.replace("$$", " ").replace("$", " ")
    s = re.sub(r"\\[\[\]()]", " ", s)  # \[ \] \( \)
    s = s.replace("&", " ").replace("{}", " ")
    if "\\\\" in s:
        if line_breaks == "error":
            raise error("the formula has a line break '\\\\': give one expression (check one entry at a time)")
        s = s.replace("\\\\", " ")
    s = re.sub(r"\\q?quad\s*\([^()]*\)\s*[.,;]?\s*$", " ", s.strip())  # trailing "\qquad (i \neq k)"
    s = _rhs(s)
    s = re.sub(r"\\(?:left|right|middle)\s*\.", " ", s)
    s = re.sub(r"\\(?:left|right|middle|[bB]igg?[lrm]?)(?![A-Za-z])", " ", s)
    s = re.sub(r"\\(?:no)?limits(?![A-Za-z])", " ", s)
    s = re.sub(r"\\[,;:! ]|\\q?quad(?![A-Za-z])|~", " ", s)
    s = re.sub(r"\{\\rm\s+([A-Za-z]+)\}", r"\\mathrm{\1}", s)
    s = _NAME_COMMANDS.sub(lambda m: _name_command(m, error), s)
    s = _TILDE.sub(r"\\tildeDelta", s)
    s = _ACCENT.sub(lambda m: f"\\{m.group(1)}{m.group(2) or m.group(3) or m.group(4)}", s)
    s = _EPS.sub(r"\\epsilon", s)
    s = s.replace(r"\mathbb{E}", r"\mathbbE").replace(r"\mathbb E", r"\mathbbE")
    s = _brace_arguments(s)
    return re.sub(r"[.,;]\s*$", "", s.strip()).strip()


def protect_subscripts(text: str, functions: Mapping[str, object] = {}) -> tuple[str, dict[str, str]]:
    r"""Replace each subscripted name (``W_{kj}``) by a placeholder that keeps its index order.

    SymPy's parser reads a subscript as a product and sorts it (``W_{kj}`` becomes ``W_{j*k}``),
    which would lose which index is the unit and which the input; and it reads a command before a
    parenthesis as a function call (``\X (1+Q)^2`` as ``X(1+Q)^2``), hence ``\mathit{...}``
    placeholders. The table maps each placeholder to the name in canonical form (``'W_kj'``, ``'W_1lk'``, ``'tildeDelta_ik'``). Names in
    ``functions`` become ``\symhessfn...`` so that ``p_{\chi}(t)`` stays a function call.
    """
    table: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        head = m.group(1)
        if head.lstrip("\\") in _SUBSCRIPT_COMMANDS:
            return m.group(0)
        name = canonical_name(head + "_" + m.group(2))
        if name in functions:
            key = _placeholder("symhessfn", len(table))
            table[key] = name
            return rf" \{key}"
        key = _placeholder("symhessvar", len(table))  # \mathit: never read as a function call
        table[key] = name
        return rf" \mathit{{{key}}} "

    return _SUBSCRIPTED.sub(repl, text), table


def read_latex(
    text: str,
    *,
    line_breaks: str = "join",
    error: type[Exception] | None = None,
    functions: Mapping[str, object] = {},
    expectations: Callable[[str], str] | None = None,
) -> tuple[sp.Expr, dict[str, str]]:
    r"""Read LaTeX with SymPy's parser, the user's own names kept: the one LaTeX reader of symhess.

    :func:`preprocess_latex`, then ``expectations`` (a hook that replaces :math:`\mathbb E[\dots]`
    terms by placeholders), then :func:`protect_subscripts`, then ``sympy.parsing.latex.parse_latex``
    in strict mode (trailing text the grammar cannot read is an error, never silently dropped).
    :func:`parse_paper_latex` maps the names onto symhess's symbols by the export notation, and
    :func:`symhess.check.notation.parse_formula` by the checker's index conventions.

    Returns
    -------
    expr : sympy.Expr
        The right-hand side, with placeholder names for the subscripted names.
    table : dict
        Placeholder -> canonical name (see :func:`protect_subscripts`).
    """
    error = error or PaperLatexError
    try:
        from sympy.parsing.latex import parse_latex
    except ImportError as exc:  # pragma: no cover - sympy always has the module
        raise error(f"SymPy's LaTeX parser is unavailable: {exc}") from exc
    clean = preprocess_latex(text, line_breaks=line_breaks, error=error)
    if expectations is not None:
        clean = expectations(clean)
    clean, table = protect_subscripts(clean, functions)
    clean = clean.strip()
    if not clean:
        raise error(f"the formula {text!r} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = parse_latex(clean, strict=True)  # strict: never drop an unread tail silently
    except ImportError as exc:
        raise error(
            f"reading LaTeX needs antlr4-python3-runtime 4.11 ({exc}); install it with "
            "pip install 'antlr4-python3-runtime==4.11.*', or pass a SymPy expression instead"
        ) from exc
    except Exception as exc:  # LaTeXParsingError and antlr errors
        detail = str(exc)
        for key, name in table.items():
            detail = detail.replace("\\" + key + " ", name).replace("\\" + key, name)
        if "Invalid LaTeX" in detail:
            detail = "it stopped before the end (unbalanced brackets or an unsupported command?)"
        raise error(f"cannot parse the LaTeX formula {clean!r}: SymPy's LaTeX parser cannot read it: {detail}") from None
    if isinstance(raw, (sp.Eq, sp.Rel)):
        raw = raw.rhs
    return raw, table


def apply_function(name: str, args: list) -> sp.Expr | None:
    """``name(args)`` for a known function name (:data:`FUNCTION_NAMES`, any case), else ``None``."""
    fn = _function_of(name.lstrip("\\"))
    return fn(*args) if fn is not None else None


_SIGMA = r"\\sigma\s*(?:'+|\^\s*\{\s*\(?\s*\d+\s*\)?\s*\}|\^\s*\d)?"


def _sigma_order(tok: str) -> int:
    tok = tok.replace(" ", "")
    if "'" in tok:
        return tok.count("'")
    digits = re.findall(r"\d+", tok)
    return int(digits[0]) if digits else 0


def _matching(text: str, start: int, open_ch: str, close_ch: str) -> int:
    """Index of the bracket closing the one at ``start`` (``\\left``/``\\right`` already gone)."""
    depth = 0
    for pos in range(start, len(text)):
        ch = text[pos]
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return pos
    raise PaperLatexError(f"unbalanced {open_ch}{close_ch} in {text[start:start + 60]!r}")


def _rhs(text: str) -> str:
    """The part after the last top-level ``=`` (the whole text if there is none)."""
    depth, cut = 0, -1
    for pos, ch in enumerate(text):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch == "=" and depth == 0:
            cut = pos
    return text[cut + 1:] if cut >= 0 else text


class _Nodes:
    """Collects the Gaussian expectations of a text, each replaced by a placeholder symbol."""

    def __init__(self, activation, recurse):
        self.activation = activation
        self.recurse = recurse
        self.values: dict[str, sp.Expr] = {}

    def _need_activation(self, snippet: str):
        if self.activation is None:
            raise PaperLatexError(
                f"the formula contains a Gaussian expectation {snippet!r}; pass activation=... so that "
                "sigma has a meaning"
            )
        from ..activations import activation as get_activation

        return get_activation(self.activation)

    def expectation(self, inner: str, at: Mapping[str, sp.Expr], snippet: str) -> sp.Expr:
        from ..expectation.pairs import pair_expectation, single_expectation

        s = re.sub(r"\\left|\\right|\\,|\\;|\\!|\s", "", inner)
        var = r"\(\s*(h_\{?[ik]\}?|h|u|v)\s*\)"
        m = re.fullmatch(rf"\(({_SIGMA})({_SIGMA})\)\^\{{?\(?(\d+)\)?\}}?{var}", s)
        if m:  # (sigma^(a) sigma^(b))^(m)(h)
            act = self._need_activation(snippet)
            a, b, order, h = _sigma_order(m.group(1)), _sigma_order(m.group(2)), int(m.group(3)), m.group(4)
            return single_expectation(act, a, b, order).subs(q, self._single_arg(h, at))
        m = re.fullmatch(rf"({_SIGMA}){var}\^\{{?2\}}?", s)
        if m:  # sigma^(a)(h)^2
            act = self._need_activation(snippet)
            a = _sigma_order(m.group(1))
            return single_expectation(act, a, a, 0).subs(q, self._single_arg(m.group(2), at))
        m = re.fullmatch(rf"({_SIGMA}){var}({_SIGMA}){var}", s)
        if m:
            act = self._need_activation(snippet)
            a, u, b, w = _sigma_order(m.group(1)), m.group(2), _sigma_order(m.group(3)), m.group(4)
            u, w = u.replace("{", "").replace("}", ""), w.replace("{", "").replace("}", "")
            if u == w:  # one unit with itself
                return single_expectation(act, a, b, 0).subs(q, self._single_arg(u, at))
            if (u, w) in {("h_i", "h_k"), ("h_k", "h_i")}:
                args = OVERLAP_VARS if u == "h_i" else (Q_kk, Q_ii, Q_ik)
            elif (u, w) in {("u", "v"), ("v", "u")}:
                x1, x2, xc = (at.get(k, d) for k, d in zip(("q_1", "q_2", "c"), PAIR_ARGS))
                args = (x1, x2, xc) if u == "u" else (x2, x1, xc)
            else:
                raise PaperLatexError(f"cannot read the arguments ({u}, {w}) of {snippet!r}")
            return pair_expectation(act, a, b).subs(dict(zip(PAIR_ARGS, args)), simultaneous=True)
        raise PaperLatexError(
            f"cannot read the Gaussian expectation {snippet!r}; write E[sigma^(a)(h_i) sigma^(b)(h_k)], "
            "E[sigma^(a)(u) sigma^(b)(v)] or E[(sigma^(a) sigma^(b))^(m)(h_i)]"
        )

    @staticmethod
    def _single_arg(h: str, at: Mapping[str, sp.Expr]) -> sp.Expr:
        h = h.replace("{", "").replace("}", "")
        if h == "h_i":
            return Q_ii
        if h == "h_k":
            return Q_kk
        return at.get("q", q)

    def replace_all(self, text: str) -> str:
        out, pos = [], 0
        while True:
            start = text.find(r"\mathbbE", pos)
            if start < 0:
                out.append(text[pos:])
                return "".join(out)
            out.append(text[pos:start])
            open_at = text.find("[", start)
            between = text[start + len(r"\mathbbE"):open_at]
            if open_at < 0 or between.replace(r"\left", "").strip():
                raise PaperLatexError(f"expected [ after \\mathbb{{E}} in {text[start:start + 40]!r}")
            close_at = _matching(text, open_at, "[", "]")
            inner = text[open_at + 1:close_at].replace(r"\right", "")
            end = close_at + 1
            at: dict[str, sp.Expr] = {}
            m = re.match(r"\s*(?:\\right)?\s*\|\s*_\s*\{", text[end:])
            if m:  # evaluation bar |_{q_1 = X, q_2 = Y, c = Z}
                brace = end + m.end() - 1
                close = _matching(text, brace, "{", "}")
                for item in re.split(r",(?![^{]*\})", text[brace + 1:close]):
                    key, _, val = item.partition("=")
                    at[canonical_name(key.strip().replace(" ", ""))] = self.recurse(val)
                end = close + 1
            name = _placeholder("symhessnx", len(self.values))
            self.values[name] = self.expectation(inner, at, text[start:end])
            out.append(rf"\mathit{{{name}}}")
            pos = end


def _default_definitions(activation) -> dict[str, sp.Expr]:
    alpha = sp.Integer(2)
    if activation is not None:
        from ..activations import activation as get_activation

        alpha = get_activation(activation).determinant_alpha() or alpha
    return {
        "tildeDelta_ik": determinant_value(alpha), "tildeDelta_ii": determinant_value(alpha, diagonal=True),
        "Delta_ik": determinant_value(sp.Integer(1)),
        "Delta_ii": determinant_value(sp.Integer(1), diagonal=True),
    }


def _definitions_map(definitions) -> dict[str, sp.Expr]:
    out: dict[str, sp.Expr] = {}
    if definitions is None:
        return out
    items = definitions.items() if isinstance(definitions, Mapping) else (
        (d.latex, d.value) if isinstance(d, Determinant) else d for d in definitions
    )
    for key, value in items:
        if isinstance(key, sp.Symbol):
            key = key.name
        key = _TILDE.sub(r"\\tildeDelta", str(key))
        out[canonical_name(key)] = sp.sympify(value)
    return out


def parse_paper_latex(
    text: str,
    *,
    activation=None,
    definitions: Mapping | Iterable | None = None,
    aliases: Mapping[str, sp.Expr] | None = None,
    functions: Mapping[str, object] | None = None,
) -> sp.Expr:
    r"""Parse LaTeX written in the paper's notation into a SymPy expression in symhess's symbols.

    Parameters
    ----------
    text : str
        A formula, e.g. ``r"\frac{2}{\pi}\arcsin\frac{2Q_{ik}}{\sqrt{(1+2Q_{ii})(1+2Q_{kk})}}"``.
        Math delimiters, equation environments, ``\label``, alignment (``&``, ``\\``), size
        commands (``\Big``, ``\biggl``) and a trailing condition ``\qquad (i \neq k)`` are ignored;
        if the text contains ``=`` at top level, the part after the last one is read.
    activation : str or Activation, optional
        Gives :math:`\sigma` a meaning in :math:`\mathbb E[\dots]` terms, and the scale of the
        erf determinant :math:`\tilde\Delta`.
    definitions : mapping or iterable, optional
        Extra abbreviations: ``{latex name: expression}``, or
        :class:`~symhess.export.notation.Determinant` objects (as in ``Equation.determinants``).
    aliases : mapping, optional
        Extra names, canonical form (``"Q_jl"``, ``"a_j"``) to expression, e.g.
        :data:`PAPER_INDEX_ALIASES`.
    functions : mapping, optional
        Extra function names, canonical form (``"p_chi"``) to a SymPy function or ``Lambda``.

    Returns
    -------
    sympy.Expr
        The expression in the symbols of :mod:`symhess.symbols`.

    Raises
    ------
    PaperLatexError
        If the text does not parse, or uses a symbol or function name with no meaning; the
        message names it and lists the names that are known.

    Examples
    --------
    >>> parse_paper_latex(r"Q_{ik} + \epsilon^2 (Q_{ii} Q_{kk} + 2 Q_{ik}^2)")
    Q_ik + epsilon**2*(Q_ii*Q_kk + 2*Q_ik**2)
    >>> parse_paper_latex(r"\frac{4}{\pi \sqrt{\tilde\Delta_{ik}}}")
    4/(pi*sqrt(-4*Q_ik**2 + (2*Q_ii + 1)*(2*Q_kk + 1)))
    """
    if not isinstance(text, str):
        raise InvalidTypeError(f"parse_paper_latex expects a LaTeX string, got {type(text).__name__}")

    names: dict[str, sp.Expr] = dict(PARSE_NAMES)
    names.update(_default_definitions(activation))
    names.update(_definitions_map(definitions))
    if aliases:
        names.update({canonical_name(k): sp.sympify(v) for k, v in aliases.items()})

    def recurse(sub: str) -> sp.Expr:
        return parse_paper_latex(
            sub, activation=activation, definitions=definitions, aliases=aliases, functions=functions
        )

    nodes = _Nodes(activation, recurse)
    funcs = {canonical_name(k): v for k, v in (functions or {}).items()}
    raw, protected = read_latex(text, functions=funcs, expectations=nodes.replace_all)
    names.update(nodes.values)
    unknown: list[str] = []

    def symbol(sym: sp.Symbol, bound: frozenset) -> sp.Expr:
        if sym in bound:
            return sym
        key = protected.get(sym.name) or canonical_name(sym.name)
        if key in names:
            return names[key]
        if re.fullmatch(r"c_\d+", key):  # polynomial coefficients c_1, c_2, ... (symbolic_activation)
            return sp.Symbol(key, real=True)
        unknown.append(key)
        return sym

    def rebuild(expr: sp.Basic, bound: frozenset = frozenset()) -> sp.Basic:
        if isinstance(expr, sp.Symbol):
            return symbol(expr, bound)
        if isinstance(expr, AppliedUndef):
            fname = canonical_name(type(expr).__name__)
            fname = protected.get(fname, fname)
            args = [rebuild(a, bound) for a in expr.args]
            if fname in funcs:
                return funcs[fname](*args)
            known = apply_function(fname, args)
            if known is not None:
                return known
            if fname in names and len(args) == 1:  # "W_{il}(1 + 2Q_{kk})" is a product
                return names[fname] * args[0]
            unknown.append(f"{type(expr).__name__}(...)")
            return expr
        if isinstance(expr, (sp.Integral, sp.Sum, sp.Product)):
            # a bound variable is mapped when its name is known, and is no error when it is not
            rename = {lim[0]: names.get(protected.get(lim[0].name) or canonical_name(lim[0].name), lim[0])
                      for lim in expr.limits}
            inner = bound | {lim[0] for lim in expr.limits if rename[lim[0]] is lim[0]}
            fn = rebuild(expr.function, inner).xreplace(rename)
            limits = [(rename[lim[0]], *[rebuild(x, bound) for x in lim[1:]]) for lim in expr.limits]
            return type(expr)(fn, *limits)
        if not expr.args:
            return expr
        return expr.func(*[rebuild(a, bound) for a in expr.args])

    out = rebuild(raw)
    if unknown:
        known = sorted(k for k in names if not k.startswith("symhess")) + sorted(funcs)
        raise PaperLatexError(
            f"cannot map {sorted(set(unknown))} in {text!r} onto symhess's notation; known names: {known}, "
            f"functions: {sorted(FUNCTION_NAMES)} (pass aliases={{name: expr}} for other names)"
        )
    return out
