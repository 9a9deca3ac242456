r"""Decide whether two formulas agree: symbolically within a time budget, else by random evaluation.

Place in the package: outputs, checking (SymPy, mpmath, NumPy; nothing from the numeric kernels).

A comparison is a list of :class:`Instance` objects, one per index configuration in which the two
formulas must agree (a Hessian entry with :math:`j\ne l` and with :math:`j=l`, say). For each:

1. **Symbolic.** The difference :math:`d = \text{user} - \text{reference}`, restricted to the
   configuration, is reduced: ``cancel`` decides rational functions outright (it is a canonical
   form over :math:`\mathbb Q`), otherwise ``expand``/``simplify`` run under a wall-clock budget.
   :math:`d \equiv 0` proves the formula.
2. **Randomized identity testing** when simplification is inconclusive, at points drawn by the
   instance (valid Gram matrices for Hessian entries). Rational formulas are evaluated in exact
   rational arithmetic: by the Schwartz–Zippel lemma a nonzero numerator of weighted degree
   :math:`D` in variables drawn uniformly from a set :math:`S` vanishes with probability
   :math:`\le D/|S|`, so :math:`N` passing points bound the chance of a false pass by
   :math:`(D/|S|)^N`. Other formulas are evaluated in ``mpmath`` at ``dps`` digits and a point
   passes when :math:`|d| \le 10^{-(\text{dps}-15)}\max(1,|\text{ref}|)`; a nonzero analytic
   difference vanishes only on a measure-zero set, so random points miss it with probability 0,
   but a difference below the tolerance at every point is read as zero (a heuristic, stated).

A mismatch is reported with the point, both values, and — for formulas that are sums — which
terms differ, matched by their monomial in the structure symbols (:math:`\delta_{jl}`,
:math:`W_{ij}W_{il}`, :math:`v_iv_k`, …), with the ratio of the coefficients when it is constant.
"""

from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Mapping, Sequence

import mpmath as mp
import numpy as np
import sympy as sp
from ..errors import InvalidParameterError

__all__ = [
    "Instance", "Point", "TermDiff", "Comparison", "compare", "symbolic_zero", "is_exact_rational",
    "time_limit", "BudgetExceeded", "term_coefficients", "degree_bound",
]


class BudgetExceeded(Exception):
    """The symbolic step ran out of its time budget."""


@contextmanager
def time_limit(seconds: float | None):
    """Interrupt the body after ``seconds`` (SIGALRM, main thread on POSIX); elsewhere no limit.

    Returns whether the limit is enforced, so callers can skip open-ended work when it is not.
    """
    usable = (
        seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield False
        return

    def handler(signum, frame):
        raise BudgetExceeded()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Point:
    """A point of the domain: exact values of the symbols, plus how it was built (for reports)."""

    values: dict[sp.Symbol, sp.Expr]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Instance:
    """One configuration in which ``user`` and ``reference`` must agree.

    Attributes
    ----------
    label : str
        Human-readable configuration, e.g. ``"i != k, j != l"``.
    user, reference : sympy.Expr
        The two formulas (before :attr:`subs`).
    subs : dict
        Symbolic restriction of the configuration (``delta_jl -> 0``, ``W_il -> W_ij``, ...).
    sample : callable
        ``sample(rng, kind) -> Point`` with ``kind`` ``"small"`` (readable) or ``"large"``.
    large_size : int
        Number of values each variable takes in ``"large"`` draws (the set :math:`S`).
    weights : dict
        Degree of each symbol as a polynomial in the drawn variables (a Gram entry has 2).
    gens : tuple
        Structure symbols whose monomials name the terms of a sum.
    extra_modules : dict
        Implementations of special functions for ``mpmath`` evaluation (quadrature nodes).
    tol : float or None
        Relative tolerance in ``mpmath`` mode (default from the precision).
    """

    label: str
    user: sp.Expr
    reference: sp.Expr
    subs: Mapping[sp.Symbol, sp.Expr]
    sample: Callable[[np.random.Generator, str], Point]
    large_size: int
    weights: Mapping[sp.Symbol, int] = field(default_factory=dict)
    gens: tuple = ()
    extra_modules: Mapping[str, Callable] = field(default_factory=dict)
    tol: float | None = None


@dataclass(frozen=True)
class TermDiff:
    """One term (monomial in the structure symbols) whose coefficient differs.

    Attributes
    ----------
    monomial : sympy.Expr
        The term's monomial, e.g. ``v_i*v_k*W_ij*W_kl``.
    yours, expected : sympy.Expr
        The coefficients in the user's formula and in symhess's.
    yours_value, expected_value : number
        Their values at the counterexample.
    ratio : sympy.Expr or None
        ``yours/expected`` when it is the same at every point tried (a missing factor 2 shows as 1/2),
        else None; ``None`` also for a missing or an extra term.
    """

    monomial: sp.Expr
    yours: sp.Expr
    expected: sp.Expr
    yours_value: Any
    expected_value: Any
    ratio: sp.Expr | None

    def describe(self) -> str:
        if self.expected == 0:
            what = f"extra term (symhess has none): yours = {self.yours}"
        elif self.yours == 0:
            what = f"missing term: symhess has {self.expected}"
        elif self.ratio is not None:
            what = f"coefficient off by the constant factor yours/symhess = {self.ratio}"
        else:
            what = f"coefficients differ: yours = {self.yours}, symhess = {self.expected}"
        return f"term {self.monomial}: {what}"


@dataclass
class Comparison:
    """Outcome of :func:`compare` (see :class:`symhess.check.FormulaCheck` for the user-facing form)."""

    ok: bool
    method: str
    arithmetic: str
    failure_probability: float | None
    guarantee: str
    counterexample: dict[str, Any] | None = None
    difference: sp.Expr = sp.Integer(0)
    terms: list[TermDiff] = field(default_factory=list)
    points: int = 0


# -- exactness and symbolic zero -----------------------------------------------------------------
def is_exact_rational(expr: sp.Expr) -> bool:
    """True when ``expr`` is a rational function with rational coefficients (exact evaluation works)."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Number) and not node.is_Rational:
            return False
        if isinstance(node, (sp.NumberSymbol, sp.Function, sp.core.numbers.ImaginaryUnit)) or (
            isinstance(node, sp.Pow) and not node.exp.is_Integer
        ):
            return False
        if not isinstance(node, (sp.Symbol, sp.Number, sp.Add, sp.Mul, sp.Pow)):
            return False
    return True


def symbolic_zero(expr: sp.Expr, budget: float | None) -> tuple[bool | None, sp.Expr]:
    """Is ``expr`` identically zero? ``True``/``False`` when decided, ``None`` when not.

    Rational functions are decided by ``cancel`` (canonical); other expressions are proved zero
    by ``expand`` or ``simplify`` within ``budget`` seconds (never proved nonzero).
    """
    if expr == 0:
        return True, sp.Integer(0)
    try:
        with time_limit(budget) as enforced:
            if is_exact_rational(expr):
                reduced = sp.cancel(sp.together(expr))
                return reduced == 0, reduced
            expanded = sp.expand(expr)
            if expanded == 0:
                return True, expanded
            if not enforced and budget is not None:
                return None, expr  # no way to bound simplify here: leave it to the numeric route
            simple = sp.simplify(expr)
            if simple == 0:
                return True, simple
            return None, simple
    except BudgetExceeded:
        return None, expr


# -- evaluation ----------------------------------------------------------------------------------
class _Undefined(Exception):
    pass


def _mp_value(x: Any, tol: float) -> Any:
    if isinstance(x, mp.mpc):
        if abs(x.imag) <= tol * max(1, abs(x.real)):
            return mp.mpf(x.real)
        return x
    if isinstance(x, (mp.mpf, int, float)):
        val = mp.mpf(x)
        if not mp.isfinite(val):
            raise _Undefined()
        return val
    if isinstance(x, sp.Basic):
        val = sp.N(x, mp.mp.dps)
        if not val.is_number or val.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise _Undefined()
        return _mp_value(complex(val) if not val.is_real else mp.mpf(str(val)), tol)
    return mp.mpmathify(x)


def _bivariate_normal_cdf_mp(h, k, rho):
    r""":math:`\Phi_2(h,k;\rho)=\Phi(h)\Phi(k)+\int_0^\rho\varphi_2(h,k;r)\,dr` in mpmath (Plackett's identity
    :math:`\partial_\rho\Phi_2=\varphi_2`), at the working precision; :math:`|\rho|=1` exactly by its limits."""
    h, k, rho = mp.mpf(h), mp.mpf(k), mp.mpf(rho)
    if rho >= 1:
        return mp.ncdf(min(h, k))
    if rho <= -1:
        return max(mp.ncdf(h) + mp.ncdf(k) - 1, mp.mpf(0))

    def density(r):
        one = 1 - r * r
        return mp.exp(-(h * h - 2 * r * h * k + k * k) / (2 * one)) / (2 * mp.pi * mp.sqrt(one))

    return mp.ncdf(h) * mp.ncdf(k) + mp.quad(density, [0, rho])


class _Evaluator:
    """Evaluate a formula at points, exactly (rational) or with mpmath at ``dps`` digits."""

    def __init__(self, expr: sp.Expr, symbols: Sequence[sp.Symbol], exact: bool, dps: int,
                 modules: Mapping[str, Callable]):
        self.expr, self.exact, self.dps = expr, exact, dps
        self.symbols = list(symbols)
        if not exact:
            mods = {"BivariateNormalCDF": _bivariate_normal_cdf_mp, **dict(modules)}
            self.fn = sp.lambdify(self.symbols, expr, modules=[mods, "mpmath"])

    def __call__(self, values: Mapping[sp.Symbol, sp.Expr], tol: float):
        if self.exact:
            out = self.expr.xreplace({s: values[s] for s in self.symbols})
            if not out.is_Rational:
                raise _Undefined()
            return out
        with mp.workdps(self.dps):
            args = [mp.mpf(values[s].p) / values[s].q if values[s].is_Rational else mp.mpf(str(sp.N(values[s], self.dps)))
                    for s in self.symbols]
            try:
                out = self.fn(*args)
            except (ZeroDivisionError, ValueError, OverflowError):
                raise _Undefined() from None
            return _mp_value(out, tol)


def _close(a: Any, b: Any, exact: bool, tol: float) -> bool:
    if exact:
        return a == b
    if isinstance(a, mp.mpc) or isinstance(b, mp.mpc):
        return False
    return abs(a - b) <= tol * max(1, abs(a), abs(b))


def _fmt(x: Any) -> Any:
    """A value for reports: exact rationals stay exact, mpmath numbers become SymPy Floats (20 digits)."""
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, mp.mpc):
        return sp.Float(mp.nstr(x.real, 20), 20) + sp.I * sp.Float(mp.nstr(x.imag, 20), 20)
    return sp.Float(mp.nstr(x, 20), 20)


# -- term breakdown ------------------------------------------------------------------------------
def term_coefficients(expr: sp.Expr, gens: Sequence[sp.Symbol]) -> dict[sp.Expr, sp.Expr] | None:
    """Split ``expr`` into ``{monomial in gens: coefficient}``, or None if it is not polynomial in ``gens``.

    The split follows the expression tree (sums merge, products convolve), so coefficients keep
    the form in which they were written instead of being expanded.

    Examples
    --------
    >>> x, y, a = sp.symbols("x y a")
    >>> term_coefficients(a * (x + 2 * y) / (1 + a), [x, y])
    {x: a/(a + 1), y: 2*a/(a + 1)}
    """
    gens = tuple(gens)
    gset = set(gens)

    def split(node: sp.Expr) -> dict[sp.Expr, sp.Expr] | None:
        if not node.free_symbols & gset:
            return {sp.Integer(1): node}
        if node in gset:
            return {node: sp.Integer(1)}
        if node.is_Add:
            out: dict[sp.Expr, sp.Expr] = {}
            for arg in node.args:
                part = split(arg)
                if part is None:
                    return None
                for mono, cf in part.items():
                    out[mono] = out.get(mono, sp.Integer(0)) + cf
            return out
        if node.is_Mul:
            out = {sp.Integer(1): sp.Integer(1)}
            for arg in node.args:
                part = split(arg)
                if part is None:
                    return None
                out = _convolve(out, part)
            return out
        if node.is_Pow and node.exp.is_Integer and node.exp > 0:
            base = split(node.base)
            if base is None:
                return None
            out = {sp.Integer(1): sp.Integer(1)}
            for _ in range(int(node.exp)):
                out = _convolve(out, base)
            return out
        return None

    result = split(expr)
    if result is None:
        return None
    return {mono: cf for mono, cf in result.items() if cf != 0}


def _convolve(a: dict, b: dict) -> dict:
    out: dict[sp.Expr, sp.Expr] = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            mono = ma * mb
            out[mono] = out.get(mono, sp.Integer(0)) + ca * cb
    return out


def _ratio_of(values: list[tuple[Any, Any]], exact: bool, tol: float) -> sp.Expr | None:
    ratios = []
    for yv, ev in values:
        if ev == 0:
            return None
        ratios.append(yv / ev)
    if not ratios:
        return None
    first = ratios[0]
    if any(not _close(r, first, exact, max(tol, 1e-25)) for r in ratios[1:]):
        return None
    if exact:
        return sp.Rational(first)
    frac = Fraction(float(first)).limit_denominator(10_000)
    if abs(float(first) - frac.numerator / frac.denominator) <= 1e-12 * max(1.0, abs(float(first))):
        return sp.Rational(frac.numerator, frac.denominator)
    return sp.Float(mp.nstr(first, 15), 15)


def _cheap(expr: sp.Expr, budget: float | None) -> sp.Expr:
    try:
        with time_limit(budget) as enforced:
            if is_exact_rational(expr):
                return sp.factor(sp.cancel(sp.together(expr)))
            if enforced:
                return sp.simplify(expr)
            return sp.together(expr)
    except BudgetExceeded:
        return expr


# -- the comparison ------------------------------------------------------------------------------
def degree_bound(expr: sp.Expr, weights: Mapping[sp.Symbol, int]) -> tuple[int, int]:
    r"""Upper bounds ``(a, b)`` on the weighted degrees of a numerator and a denominator of ``expr``.

    Computed on the expression tree without expanding anything (so it is cheap exactly where
    simplification is not): a symbol :math:`s` has degree ``weights[s]`` (default 1) in the drawn
    variables, and with :math:`x=p/q`, :math:`y=r/t`: :math:`x+y=(pt+rq)/(qt)`,
    :math:`xy=pr/(qt)`, :math:`x^n=p^n/q^n`, :math:`x^{-n}=q^n/p^n`.

    Examples
    --------
    >>> x, y = sp.symbols("x y")
    >>> degree_bound(x / (1 + y) - x**2, {x: 2})
    (5, 1)
    """
    if expr.is_Symbol:
        return int(weights.get(expr, 1)), 0
    if expr.is_Number:
        return 0, 0
    if expr.is_Add:
        num, den = degree_bound(expr.args[0], weights)
        for arg in expr.args[1:]:
            a, b = degree_bound(arg, weights)
            num, den = max(num + b, a + den), den + b
        return num, den
    if expr.is_Mul:
        num = den = 0
        for arg in expr.args:
            a, b = degree_bound(arg, weights)
            num, den = num + a, den + b
        return num, den
    if expr.is_Pow and expr.exp.is_Integer:
        a, b = degree_bound(expr.base, weights)
        n = int(expr.exp)
        return (n * a, n * b) if n >= 0 else (-n * b, -n * a)
    raise InvalidParameterError(f"not a rational function: {expr}")


def compare(
    instances: Sequence[Instance],
    *,
    points: int = 24,
    seed: int = 0,
    budget: float | None = 5.0,
    dps: int = 50,
    symbolic: bool = True,
) -> Comparison:
    """Decide whether ``user == reference`` in every instance (see the module docstring).

    Parameters
    ----------
    instances : sequence of Instance
        Configurations to check.
    points : int
        Random points per instance for the numeric route (a third of them small and readable).
    seed : int
        Seed of the random points (results are reproducible).
    budget : float or None
        Seconds allowed for the symbolic step of each instance (None: no limit).
    dps : int
        Decimal digits of ``mpmath`` evaluation.
    symbolic : bool
        Try the symbolic route first.
    """
    if points < 1:
        raise InvalidParameterError(f"points={points} must be >= 1")
    if dps < 20:
        raise InvalidParameterError(f"dps={dps} must be >= 20 (the tolerance is 10^-(dps-15))")
    # 1. symbolic
    verdicts: list[tuple[bool | None, sp.Expr]] = []
    if symbolic:
        for inst in instances:
            d = (inst.user - inst.reference).xreplace(dict(inst.subs))
            verdicts.append(symbolic_zero(d, budget))
        if all(v is True for v, _ in verdicts):
            return Comparison(True, "symbolic", "SymPy simplification", 0.0,
                              "proved: the difference simplifies to 0 in every configuration ("
                              + "; ".join(i.label for i in instances) + ")")
    else:
        verdicts = [(None, sp.Integer(0)) for _ in instances]

    # 2. random evaluation
    exact = all(is_exact_rational(i.user) and is_exact_rational(i.reference) for i in instances)
    arithmetic = "exact rational arithmetic" if exact else f"{dps}-digit mpmath arithmetic"
    quadrature = [i for i in instances if i.extra_modules]
    if quadrature:
        arithmetic += (", expectations without a closed form by Gauss-Hermite quadrature in double precision "
                       f"(relative tolerance {max(i.tol or 0 for i in quadrature):.0e})")
    rng = np.random.default_rng(seed)
    n_small = max(1, points // 3)
    kinds = ["small"] * n_small + ["large"] * max(0, points - n_small)
    evaluators = []
    for inst in instances:
        syms = sorted((inst.user.free_symbols | inst.reference.free_symbols), key=str)
        evaluators.append((
            _Evaluator(inst.user, syms, exact, dps, inst.extra_modules),
            _Evaluator(inst.reference, syms, exact, dps, inst.extra_modules),
        ))
    tols = [inst.tol if inst.tol is not None else 10.0 ** (-(dps - 15)) for inst in instances]

    def trial(idx: int, kind: str):
        """One point of instance ``idx``: (point, yours, expected) or None if the reference is undefined."""
        inst, (ue, re_) = instances[idx], evaluators[idx]
        for _ in range(50):
            pt = inst.sample(rng, kind)
            try:
                expected = re_(pt.values, tols[idx])
            except _Undefined:
                continue
            if isinstance(expected, mp.mpc):
                continue
            try:
                yours = ue(pt.values, tols[idx])
            except _Undefined:
                yours = None
            return pt, yours, expected
        raise InvalidParameterError(
            f"symhess's formula is undefined at 50 random points of configuration {inst.label!r}; "
            "cannot check there"
        )

    mismatch = None
    n_done = 0
    for kind in kinds:
        for idx in range(len(instances)):
            pt, yours, expected = trial(idx, kind)
            n_done += 1
            if yours is None or not _close(yours, expected, exact, tols[idx]):
                mismatch = (idx, pt, yours, expected)
                break
        if mismatch:
            break
    if mismatch is None:
        for (verdict, reduced), inst in zip(verdicts, instances):
            if verdict is False:  # proved nonzero but no point found: keep looking
                for _ in range(200):
                    pt, yours, expected = trial(instances.index(inst), "large")
                    if yours is None or not _close(yours, expected, exact, tols[instances.index(inst)]):
                        mismatch = (instances.index(inst), pt, yours, expected)
                        break
                if mismatch is None:
                    raise AssertionError(f"cancel() found a nonzero difference {reduced} that vanishes at 200 points")
    method = f"numeric at {len(kinds)} random points"
    if mismatch is None:
        if exact:
            # Schwartz-Zippel on the numerator of user - reference, of weighted degree <= D in the drawn
            # variables (uniform on a set of large_size values). The draws are conditioned on a nondegenerate
            # Gram matrix, an event of probability >= 1 - 8/|S|, so one point misses a nonzero difference
            # with probability <= (D/|S|) / (1 - 8/|S|) = D / (|S| - 8); the small points are not counted.
            bounds, degrees = [], []
            n_large = len(kinds) - n_small
            for inst in instances:
                u = inst.user.xreplace(dict(inst.subs))
                r = inst.reference.xreplace(dict(inst.subs))
                (nu, du), (nr, dr) = degree_bound(u, inst.weights), degree_bound(r, inst.weights)
                deg = max(nu + dr, nr + du)
                degrees.append(deg)
                per_point = min(1.0, deg / (inst.large_size - 8))
                bounds.append(per_point**n_large if n_large else 1.0)
            prob = max(bounds) if bounds else 0.0
            guarantee = (
                f"passed at {len(kinds)} points per configuration in exact arithmetic; by the Schwartz–Zippel "
                f"lemma (numerator of the difference of degree <= {max(degrees)} in the variables drawn, "
                f"{n_large} points drawn from {instances[0].large_size} values each) a wrong formula passes with "
                f"probability <= {prob:.1e}"
            )
            return Comparison(True, method, arithmetic, prob, guarantee, points=len(kinds))
        tol = min(tols)
        guarantee = (
            f"passed at {len(kinds)} random valid points per configuration ({dps}-digit arithmetic, relative "
            f"tolerance {tol:.0e}). Not a proof: a nonzero analytic difference vanishes only on a measure-zero "
            "set, so a wrong formula passes only if it is within the tolerance at every point (heuristic; "
            "no probability bound)"
        )
        return Comparison(True, method, arithmetic, None, guarantee, points=len(kinds))

    # 3. report the mismatch, on a readable point if one exists
    idx, pt, yours, expected = mismatch
    inst, (ue, re_) = instances[idx], evaluators[idx]
    if pt.info.get("kind") != "small":
        for _ in range(40):
            cand = trial(idx, "small")
            if cand[1] is None or not _close(cand[1], cand[2], exact, tols[idx]):
                pt, yours, expected = cand
                break
    cex = {
        "configuration": inst.label,
        "values": {str(s): v for s, v in sorted(pt.values.items(), key=lambda kv: str(kv[0]))},
        "yours": "undefined" if yours is None else _fmt(yours),
        "expected": _fmt(expected),
        **{k: v for k, v in pt.info.items() if k != "kind"},
    }
    if yours is not None and not isinstance(yours, mp.mpc):
        rel = abs(yours - expected) / max(1, abs(expected))
        cex["relative_difference"] = rel if exact else sp.Float(mp.nstr(rel, 6), 6)
    terms = _term_diffs(inst, pt, [trial(idx, "large")[0] for _ in range(2)], exact, dps, tols[idx])
    if terms is not None and terms:
        difference = sp.factor_terms(sp.Add(*[_cheap(t.yours - t.expected, budget) * t.monomial for t in terms]))
    else:
        difference = _cheap(inst.user - inst.reference, budget)
    if exact:
        guarantee = (f"disproved: at the counterexample below the two formulas differ in exact rational arithmetic "
                     f"(configuration {inst.label})")
    else:
        guarantee = (f"disproved: at the counterexample below the two formulas differ by more than the relative "
                     f"tolerance {tols[idx]:.0e} of the evaluation (configuration {inst.label})")
    return Comparison(False, method, arithmetic, None, guarantee, cex, difference, terms or [], points=n_done)


def _term_diffs(inst: Instance, pt: Point, extra: list[Point], exact: bool, dps: int, tol: float) -> list[TermDiff] | None:
    user_terms = term_coefficients(inst.user, inst.gens)
    ref_terms = term_coefficients(inst.reference, inst.gens)
    if user_terms is None or ref_terms is None or len(set(user_terms) | set(ref_terms)) < 2:
        # not a sum of structure terms; polynomials still split into monomials of all their symbols
        syms = sorted(inst.user.free_symbols | inst.reference.free_symbols, key=str)
        if not all(e.is_polynomial(*syms) for e in (inst.user, inst.reference)):
            return None
        user_terms, ref_terms = term_coefficients(sp.expand(inst.user), syms), term_coefficients(sp.expand(inst.reference), syms)
        if user_terms is None or ref_terms is None or len(set(user_terms) | set(ref_terms)) < 2:
            return None
    out = []
    for mono in sorted(set(user_terms) | set(ref_terms), key=sp.default_sort_key):
        yc, ec = user_terms.get(mono, sp.Integer(0)), ref_terms.get(mono, sp.Integer(0))
        syms = sorted(yc.free_symbols | ec.free_symbols, key=str)
        ye = _Evaluator(yc, syms, exact, dps, inst.extra_modules)
        ee = _Evaluator(ec, syms, exact, dps, inst.extra_modules)
        vals = []
        for p in [pt] + extra:
            try:
                vals.append((ye(p.values, tol), ee(p.values, tol)))
            except _Undefined:
                continue
        if not vals or all(_close(a, b, exact, tol) for a, b in vals):
            continue
        ratio = None if (yc == 0 or ec == 0) else _ratio_of(vals, exact, tol)
        out.append(TermDiff(mono, yc, ec, _fmt(vals[0][0]), _fmt(vals[0][1]), ratio))
    return out
