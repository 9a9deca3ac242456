r"""A user's own activation from a SymPy expression: ``symhess.activation(expr=...)``.

Place in the package: engine, activations (SymPy on the symbolic side; the numeric derivatives it hands to
the quadrature are lambdified NumPy code, with mpmath only where float64 overflows).

:func:`user_activation` takes an expression in one variable (SymPy, or a string parsed by
:func:`sympy.parse_expr` after a whitelist check of every name in it), with optional numeric parameters,
validates it and picks the best route:

1. an expression equal to a registered family (``tanh(z)``, ``erf(2*z)``, ``log(1 + exp(z))``, ``Max(0, z)``,
   ...) returns that family, with its closed forms or its tail-accurate numerics (checked: a numeric
   screen, then ``simplify(sigma - family) == 0``); ``match_family=False`` keeps the generic route;
2. a polynomial: exact Gaussian moments (Isserlis), every derivative order;
3. otherwise numerical quadrature (:mod:`symhess.kernels.quadrature`): derivatives by SymPy
   differentiation, lambdified to NumPy, the strip of analyticity from the located complex singularities
   and the saturation measured (:mod:`symhess.activations.singularities`).

Refused, with the reason: free symbols other than the variable and the declared parameters; values that
are not real or not finite on the real line (sampled on :math:`[-50, 50]`, with the derivatives up to
order 4); kinks and jumps (``Abs``, ``Max``, ``Min``, ``Heaviside``, ``sign``, ``Piecewise``, ...) that are
not a registered family, because the Hessian needs :math:`\sigma''` and :math:`\sigma'''` pointwise;
exponential or faster growth (e.g. :math:`e^{z^2}`, :math:`\cosh z`) and polynomial growth of degree above
:data:`MAX_GROWTH_DEGREE` in the quadrature route, whose rule covers :math:`\pm9` standard deviations only.
"""

from __future__ import annotations

import io
import math
import threading
import tokenize
import warnings
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Callable, ClassVar, Mapping

import mpmath as mp
import numpy as np
import sympy as sp

from ..errors import InvalidParameterError, InvalidTypeError, SymhessAccuracyError, SymhessAccuracyWarning
from ..symbols import z
from .base import Activation, to_exact
from .singularities import StripResult, growth_degree, locate_strip, saturation_of

__all__ = ["UserActivation", "user_activation", "parse_expression", "RouteReport", "MAX_GROWTH_DEGREE"]

#: the quadrature route accepts |sigma^(n)(t)| growing at most like |t|^MAX_GROWTH_DEGREE
MAX_GROWTH_DEGREE = 4.0
#: derivative orders validated, analysed and audited (the Hessian blocks use up to sigma'''' )
AUDIT_ORDERS = (0, 1, 2, 3, 4)
#: evaluation error of the lambdified derivatives (relative to each one's scale) above which a warning is issued
AUDIT_RTOL = 1e-11

#: names a string expression may use (functions and constants); anything else is a variable or parameter
FUNCTIONS: dict[str, object] = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "sqrt": sp.sqrt, "erf": sp.erf, "erfc": sp.erfc,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sec": sp.sec, "csc": sp.csc, "cot": sp.cot,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "sech": sp.sech, "csch": sp.csch, "coth": sp.coth,
    "atan": sp.atan, "asinh": sp.asinh, "atanh": sp.atanh,
    "Abs": sp.Abs, "abs": sp.Abs, "Max": sp.Max, "max": sp.Max, "Min": sp.Min, "min": sp.Min,
    "Heaviside": sp.Heaviside, "sign": sp.sign, "pi": sp.pi, "E": sp.E,
}
_NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign, sp.Piecewise, sp.DiracDelta, sp.floor, sp.ceiling,
              sp.frac, sp.re, sp.im, sp.arg)
#: mpmath's precision is process-wide: one thread at a time changes it (the assembly evaluates from threads)
_MP_LOCK = threading.RLock()
_SAMPLES = sorted(set(np.round(np.linspace(-10, 10, 41), 12).tolist()) | {-50.0, -20.0, 20.0, 50.0, 1e-3, -1e-3})


# -- parsing and validation -------------------------------------------------------------------------


def parse_expression(text: str, names: set[str]) -> sp.Expr:
    """Parse ``text`` with :func:`sympy.parse_expr`, after checking every token.

    Only numbers, the operators ``+ - * / ** ^ ( ) ,``, the names in :data:`FUNCTIONS` and ``names`` (the
    variable and the parameters) are allowed, so no attribute access, call of a Python builtin or other code
    can reach the parser's ``eval``. Decimals are read exactly (``0.1`` is ``1/10``).

    Raises
    ------
    InvalidParameterError
        Naming the offending token.
    """
    from sympy.parsing.sympy_parser import convert_xor, rationalize, standard_transformations

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise InvalidParameterError(f"activation expression {text!r} does not parse: {exc}") from None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.NUMBER):
            continue
        if tok.type == tokenize.NAME and (tok.string in FUNCTIONS or tok.string in names):
            continue
        if tok.type == tokenize.OP and tok.string in {"+", "-", "*", "/", "**", "^", "(", ")", ","}:
            continue
        if tok.type == tokenize.NAME:
            raise InvalidParameterError(
                f"activation expression {text!r}: unknown name {tok.string!r}; allowed: the variable and the "
                f"parameters {sorted(names)} and the functions {sorted(FUNCTIONS)}")
        raise InvalidParameterError(f"activation expression {text!r}: token {tok.string!r} is not allowed")
    local = dict(FUNCTIONS)
    local.update({n: sp.Symbol(n, real=True) for n in names})
    glob = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol}
    try:
        out = sp.parse_expr(text, local_dict=local, global_dict=glob,
                            transformations=standard_transformations + (convert_xor, rationalize))
    except (SyntaxError, TypeError, ValueError, sp.SympifyError) as exc:
        raise InvalidParameterError(f"activation expression {text!r} does not parse: {exc}") from None
    if not isinstance(out, sp.Expr):
        raise InvalidParameterError(f"activation expression {text!r} is not an expression (got {type(out).__name__})")
    return out


def _what(n: int) -> str:
    return "it" if n == 0 else f"its derivative of order {n}"


def _check_real_and_finite(formula: sp.Expr, label: str) -> None:
    """Sample check: sigma and its derivatives up to order 4 real and finite on [-50, 50] (30 digits)."""
    with _MP_LOCK, mp.workdps(30):
        for n in AUDIT_ORDERS:
            f = _mp_function(formula, n)
            for t in _SAMPLES:
                try:
                    val = mp.mpmathify(f(mp.mpf(t)))
                except ZeroDivisionError:
                    raise InvalidParameterError(
                        f"activation {label}: {_what(n)} is not finite at z = {t:g} (a division by zero); an "
                        "activation must be finite and smooth on the real line (write a removable singularity out)"
                    ) from None
                except (ValueError, OverflowError, TypeError) as exc:
                    raise InvalidParameterError(f"activation {label}: {_what(n)} cannot be evaluated at z = {t:g} "
                                                f"({type(exc).__name__}: {exc})") from None
                what = _what(n)
                if isinstance(val, mp.mpc) and abs(val.imag) > mp.mpf(10) ** -25 * (1 + abs(val.real)):
                    raise InvalidParameterError(f"activation {label}: {what} is not real at z = {t:g} (value {mp.nstr(val, 6)})")
                if not mp.isfinite(val):
                    raise InvalidParameterError(
                        f"activation {label}: {what} is not finite at z = {t:g}; an activation must be finite and "
                        "smooth on the real line (write a removable singularity out)")


def _validated_formula(expr: sp.Expr, variable: sp.Symbol, params: dict[str, sp.Expr], label: str) -> sp.Expr:
    allowed = {variable, *(sp.Symbol(n, real=True) for n in params)}
    by_name = {s.name: s for s in allowed}
    expr = expr.xreplace({s: by_name[s.name] for s in expr.free_symbols if s.name in by_name})
    extra = sorted(s.name for s in expr.free_symbols if s not in allowed)
    if extra:
        raise InvalidParameterError(
            f"activation {label}: free symbol(s) {extra} are neither the variable {variable.name!r} nor a declared "
            f"parameter ({sorted(params) or 'none'}); give their values as keyword arguments, e.g. {extra[0]}=1/2")
    formula = expr.xreplace({sp.Symbol(n, real=True): v for n, v in params.items()}).xreplace({variable: z})
    # floats exactly by their decimal form (0.5 -> 1/2), as for the parameters: one formula, one cache key
    formula = formula.xreplace({f: sp.Rational(repr(float(f))) for f in formula.atoms(sp.Float)})
    if formula.has(sp.I) or formula.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise InvalidParameterError(f"activation {label}: the expression {formula} contains I, oo or nan")
    if not formula.has(z):
        raise InvalidParameterError(f"activation {label}: the expression {formula} does not depend on the variable")
    return formula


# -- numeric functions (cached per formula) ----------------------------------------------------------


@lru_cache(maxsize=256)
def _derivative(formula: sp.Expr, order: int) -> sp.Expr:
    return sp.diff(formula, z, order) if order else formula


@lru_cache(maxsize=256)
def _mp_function(formula: sp.Expr, order: int) -> Callable:
    return sp.lambdify(z, _derivative(formula, order), modules="mpmath")


@lru_cache(maxsize=256)
def _np_function(formula: sp.Expr, order: int) -> Callable:
    # modules=['scipy', 'numpy']: 'numpy' alone maps erf to math.erf, which fails on arrays; cse shares work
    return sp.lambdify(z, _derivative(formula, order), modules=["scipy", "numpy"], cse=True)


# -- the activation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteReport:
    """How the Gaussian expectations of a user activation are computed, and how accurately.

    Attributes
    ----------
    route : str
        ``"exact moments"`` (a polynomial) or ``"quadrature"``; every derivative order takes it.
    accuracy : str
        The accuracy that can be stated.
    strip : StripResult or None
        The strip of analyticity (quadrature only).
    saturation : tuple or None
        ``(lower, upper, rate)`` where the activation saturates.
    notes : tuple of str
        One sentence per fact established (strip, saturation, growth, evaluation audit).
    """

    spec: str
    label: str
    route: str
    accuracy: str
    strip: StripResult | None = None
    saturation: tuple | None = None
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = f"activation {self.label or self.spec}: sigma(z) = {self.spec.partition(':')[2]}"
        lines = [head, f"  route (every derivative order): {self.route}", f"  accuracy: {self.accuracy}"]
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass(frozen=True)
class UserActivation(Activation):
    r"""An activation :math:`\sigma(z)` given by a SymPy expression (build it with :func:`user_activation`).

    Parameters
    ----------
    formula : sympy.Expr
        :math:`\sigma` in the canonical variable ``symhess.symbols.z``, parameters substituted.
    label : str
        A display name (not part of equality or hashing: two labels of one formula are one activation).

    Notes
    -----
    Frozen and hashable (it keys the caches of compiled kernels) and picklable; its analysis (strip,
    saturation, growth) is cached per formula.
    """

    name: ClassVar[str] = "expr"
    formula: sp.Expr = z
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.formula, sp.Expr):
            raise InvalidTypeError(f"formula must be a SymPy expression, got {type(self.formula).__name__}")
        extra = sorted(s.name for s in self.formula.free_symbols if s != z)
        if extra:
            raise InvalidParameterError(f"activation formula {self.formula} has free symbol(s) {extra} besides z")
        if self.formula.has(*_NONSMOOTH):
            raise InvalidParameterError(
                f"activation {self.display}: {self.formula} has a kink or a jump (Abs, Max, Min, Heaviside, sign, "
                "Piecewise); the Hessian needs sigma'' and sigma''' pointwise. The kinked units with closed forms "
                "are registered families: relu, leaky_relu:slope=..., abs, abrelu:a=..,b=.., sign, step")

    # -- identity ------------------------------------------------------------------------------
    @property
    def display(self) -> str:
        return repr(self.label) if self.label else repr(self.spec)

    @property
    def spec(self) -> str:
        """``"expr:<formula>"``, accepted by :func:`symhess.activation` (the label is not part of it)."""
        return "expr:" + sp.sstr(self.formula)

    @property
    def params(self) -> dict[str, object]:
        return {}

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return self.formula if x == z else self.formula.xreplace({z: x})

    def derivative(self, order: int, x: sp.Expr = z) -> sp.Expr:
        if order < 0:
            raise InvalidParameterError(f"derivative order={order} must be >= 0")
        d = _derivative(self.formula, order)
        return d if x == z else d.xreplace({z: x})

    # -- what the quadrature needs ---------------------------------------------------------------
    def analytic_strip(self) -> float | None:
        r"""Half-width of the strip of analyticity: the nearest located singularity, reduced where :math:`\sigma^{(n)}` grows in it."""
        rep = self.describe()
        return rep.strip.width if rep.strip is not None else None

    def saturation(self) -> tuple[float, float, float] | None:
        """Limits and decay rate, measured at 60 digits and checked at the quadrature's cut-off (or ``None``)."""
        return self.describe().saturation

    def numeric_derivatives(self, orders: tuple[int, ...], x: np.ndarray) -> dict[int, np.ndarray]:
        r"""Lambdified :math:`\sigma^{(n)}(x)`; points where float64 overflows (``inf/inf``) are redone with mpmath."""
        x = np.asarray(x, dtype=float)
        out = {}
        for n in orders:
            with np.errstate(all="ignore"):
                val = np.broadcast_to(np.asarray(_np_function(self.formula, n)(x), dtype=float), x.shape)
            bad = ~np.isfinite(val)
            if bad.any():
                val = np.array(val)
                fn = _mp_function(self.formula, n)
                with _MP_LOCK, mp.workdps(30):
                    val[bad] = [float(mp.re(mp.mpmathify(fn(mp.mpf(float(t)))))) for t in x[bad]]
                if not np.all(np.isfinite(val[bad])):
                    raise SymhessAccuracyError(
                        f"derivative {n} of activation {self.display} is beyond the float64 range at some "
                        f"|z| <= {float(np.max(np.abs(x[bad]))):.3g}; use smaller weights")
            out[n] = val
        return out

    def numeric(self, order: int = 0) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: self.numeric_derivatives((order,), x)[order]

    # -- the route report ------------------------------------------------------------------------
    def route(self, order: int = 0) -> str:
        """The route of the expectations involving :math:`\\sigma^{(order)}` (the same for every order)."""
        if order < 0:
            raise InvalidParameterError(f"derivative order={order} must be >= 0")
        return self.describe().route

    def describe(self) -> RouteReport:
        """The route, its stated accuracy and the facts it rests on (computed once per formula).

        Raises
        ------
        InvalidParameterError
            Where the quadrature route cannot be trusted: exponential growth or worse, polynomial growth
            beyond :data:`MAX_GROWTH_DEGREE`, a singularity on the real line, unbounded growth near it.
        """
        with _MP_LOCK:
            return _analyse(self.formula, self.label)


@lru_cache(maxsize=256)
def _analyse(formula: sp.Expr, label: str) -> RouteReport:
    spec = "expr:" + sp.sstr(formula)
    name = repr(label) if label else repr(spec)
    if formula.is_polynomial(z):
        return RouteReport(spec, label, "exact moments",
                           "exact: Isserlis' theorem on the polynomial's coefficients (no numerical error)")
    mp_funcs = [_mp_function(formula, n) for n in AUDIT_ORDERS]
    sat, sat_note = saturation_of(mp_funcs)
    notes = []
    if sat is None:
        k = growth_degree(mp_funcs)
        if k > MAX_GROWTH_DEGREE:
            what = "exponentially or faster" if not math.isfinite(k) or k > 40 else f"like |z|^{k:.1f}"
            raise InvalidParameterError(
                f"activation {name} grows {what} at large |z| (sigma or a derivative up to order 4): the "
                f"quadrature route covers +-9 standard deviations and accepts growth up to |z|^{MAX_GROWTH_DEGREE:g}. "
                "exp(s*z), the Gaussian bump and polynomials of any degree are exact families or routes")
        notes.append(f"does not saturate ({sat_note}); grows like |z|^{max(k, 0.0):.2f} at most (measured at |z| = 100, "
                     "200): integrated on the Gaussian's scale; at large variances the rule refuses "
                     "(SymhessAccuracyError) rather than return a number it cannot resolve")
    else:
        notes.append(sat_note)
    complex_funcs = [_np_function(formula, n) for n in AUDIT_ORDERS]
    try:
        strip = locate_strip(formula, z, complex_funcs)
    except ValueError as exc:
        raise InvalidParameterError(f"activation {name}: {exc}") from None
    notes.insert(0, "strip of analyticity: " + strip.how)
    audit = _audit(formula)
    notes.append(f"lambdified derivatives 0..4 agree with 30-digit mpmath to {audit:.1e} of their scale on |z| <= 60 "
                 "(points where float64 overflows are evaluated with mpmath)")
    if audit > AUDIT_RTOL:
        warnings.warn(f"activation {name}: its lambdified derivatives lose accuracy (error {audit:.1e} of their scale "
                      "against 30-digit mpmath on |z| <= 60); rewrite it in a numerically stable form",
                      SymhessAccuracyWarning, stacklevel=3)
    accuracy = ("estimated per expectation from the step-h/2h/4h trapezoidal rules plus a rounding floor "
                "(with_error=True returns it); a SymhessAccuracyWarning above 1e-8 of E|integrand|; "
                "expected_hessian checks the Gauss-Newton matrix is PSD within the worst estimate")
    if strip.located is None:
        accuracy += "; the strip is not located, so the estimate is the only guarantee"
    return RouteReport(spec, label, "quadrature", accuracy, strip, sat, tuple(notes))


def _audit(formula: sp.Expr) -> float:
    """Largest error of the lambdified derivatives 0..4 against 30-digit mpmath, relative to each one's scale."""
    x = np.concatenate([np.linspace(-60.0, 60.0, 121), np.linspace(-3.0, 3.0, 61)])
    worst = 0.0
    with mp.workdps(30):
        for n in AUDIT_ORDERS:
            with np.errstate(all="ignore"):
                got = np.broadcast_to(np.asarray(_np_function(formula, n)(x), dtype=float), x.shape)
            fn = _mp_function(formula, n)
            ref = np.array([float(mp.re(mp.mpmathify(fn(mp.mpf(float(t)))))) for t in x])
            scale = float(np.max(np.abs(ref))) or 1.0
            ok = np.isfinite(got)  # the others are redone in mpmath by numeric_derivatives
            if ok.any():
                worst = max(worst, float(np.max(np.abs(got[ok] - ref[ok]))) / scale)
    return worst


# -- the constructor --------------------------------------------------------------------------------


def _match_family(formula: sp.Expr, families: Mapping[str, type]) -> Activation | None:
    """The family of ``families`` equal to ``formula`` (verified: numeric screen, then ``simplify(difference) == 0``)."""
    x = np.array([-3.1, -1.3, -0.4, 0.2, 0.9, 1.7, 2.6])
    try:
        with np.errstate(all="ignore"):
            mine = np.asarray(sp.lambdify(z, formula, modules=["scipy", "numpy"])(x), dtype=float)
    except Exception:  # noqa: BLE001 - a formula NumPy cannot evaluate matches nothing
        return None
    for cls in families.values():
        flds = fields(cls)
        if any(isinstance(f.default, tuple) for f in flds):
            continue
        try:
            pattern = cls(**{f.name: sp.Wild(f.name, exclude=[z]) for f in flds}).expr(z)
        except Exception:  # noqa: BLE001 - a family that cannot take pattern parameters is skipped
            continue
        if pattern.is_polynomial(z):
            continue
        candidates = []
        if not flds:
            candidates.append(cls())
        else:
            found = formula.match(pattern)
            if found:
                try:
                    candidates.append(cls(**{w.name: v for w, v in found.items()}))
                except Exception:  # noqa: BLE001 - out of the family's range (e.g. scale <= 0)
                    pass
        for cand in candidates:
            try:
                with np.errstate(all="ignore"):
                    theirs = np.asarray(sp.lambdify(z, cand.expr(z), modules=["scipy", "numpy"])(x), dtype=float)
                if not np.allclose(mine, theirs, rtol=1e-12, atol=1e-14):
                    continue
                diff = formula - cand.expr(z)
                if diff == 0 or sp.simplify(diff) == 0 or sp.simplify(diff.rewrite(sp.Piecewise)) == 0:
                    return cand
            except Exception:  # noqa: BLE001 - an undecidable comparison is not a match
                continue
    return None


def user_activation(expr: object, *, variable: object = None, name: str | None = None,
                    match_family: bool = True, families: Mapping[str, type] | None = None,
                    **params: object) -> Activation:
    r"""An activation from a SymPy expression or a string, with the best route chosen (module docstring).

    Parameters
    ----------
    expr : sympy.Expr or str
        :math:`\sigma` in one variable: ``symhess.z`` (any symbol named ``z``), or the one named by
        ``variable``. Strings are parsed by :func:`parse_expression` (exact decimals, ``^`` is a power).
    variable : str or sympy.Symbol, optional
        The variable's name when it is not ``z``.
    name : str, optional
        A display name for reports.
    match_family : bool
        Return the registered family when the expression equals one (default); ``False`` keeps the generic
        route (the tests use it to compare the two).
    families : mapping of name to Activation class, optional
        The families to match against; :func:`symhess.activation` passes the registry
        (:data:`~symhess.activations.registry.ACTIVATIONS`). ``None``: no matching.
    **params : number
        Numeric values of the parameters in the expression (kept exact: ``0.3`` is ``3/10``).

    Returns
    -------
    Activation
        A registered family's instance, or a :class:`UserActivation` (exact moments or quadrature).

    Raises
    ------
    InvalidParameterError
        A free symbol that is neither the variable nor a parameter, a value that is not real or not finite
        on the real line, a kink or jump, growth the quadrature cannot integrate, an unparsable string.
    InvalidTypeError
        ``expr`` neither a SymPy expression nor a string, or a parameter that is not a number.

    Examples
    --------
    >>> import symhess
    >>> symhess.activation(expr="log(1 + exp(z))").spec  # through the registry: families are matched
    'softplus'
    >>> symhess.activation(expr="z + z**3/3").route(2)
    'exact moments'
    """
    if name is not None and not isinstance(name, str):
        raise InvalidTypeError(f"name={name!r} must be a string")
    if variable is None:
        var = z
    elif isinstance(variable, sp.Symbol):
        var = sp.Symbol(variable.name, real=True)
    elif isinstance(variable, str) and variable.isidentifier() and variable not in FUNCTIONS:
        var = sp.Symbol(variable, real=True)
    else:
        raise InvalidParameterError(f"variable={variable!r} must be a SymPy symbol or an identifier that is not "
                                    "a function name")
    values: dict[str, sp.Expr] = {}
    for key, val in params.items():
        if key == var.name or key in FUNCTIONS or not key.isidentifier():
            raise InvalidParameterError(f"parameter name {key!r} clashes with the variable or a function name")
        if isinstance(val, str) or (isinstance(val, sp.Basic) and val.free_symbols):
            raise InvalidTypeError(f"parameter {key}={val!r} must be a number (numeric parameters only)")
        num = to_exact(val, key)
        if not (num.is_number and num.is_real):
            raise InvalidParameterError(f"parameter {key}={val!r} must be a real number")
        values[key] = num
    label = name or ""
    if isinstance(expr, str):
        shown = repr(name) if name else repr(expr)
        parsed = parse_expression(expr, {var.name, *values})
    elif isinstance(expr, sp.Expr):
        shown = repr(name) if name else repr(str(expr))
        parsed = expr
    else:
        raise InvalidTypeError(f"expr must be a SymPy expression or a string, got {type(expr).__name__}")
    formula = _validated_formula(parsed, var, values, shown)
    if match_family and families and not formula.is_polynomial(z):
        fam = _match_family(formula, families)
        if fam is not None:
            return fam
    act = UserActivation(formula, label)  # refuses kinks
    _check_real_and_finite(formula, shown)
    act.describe()  # refuses what the quadrature cannot integrate, now rather than at the first use
    return act
