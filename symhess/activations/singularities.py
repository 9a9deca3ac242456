r"""What the quadrature needs to know about an activation given only as a SymPy expression.

Place in the package: engine, activations (SymPy, mpmath, NumPy; symbolic side, used when an activation is
built from an expression, never by the numeric kernels).

* :func:`locate_strip` — the half-width :math:`d` of the strip :math:`|\operatorname{Im}z|<d` in which
  :math:`\sigma` is analytic, from its complex singularities located symbolically: zeros of denominators
  and of the arguments of ``log`` and of fractional powers, poles of ``tanh``, ``sech``, ``coth``,
  ``csch``, ``tan``, ``sec``, ``cot``, ``csc``, branch points of ``atan``, ``asinh``, ``atanh``. Each
  condition :math:`g(z)=w` is solved by inverting :math:`g` (rational functions, ``log``, ``exp``,
  polynomials in :math:`e^{az}`, with all branches :math:`|k|\le K` of the logarithm); a condition that
  cannot be inverted makes the strip *unknown*. Then the growth of :math:`\sigma^{(n)}`, :math:`n\le4`, on
  the line :math:`\operatorname{Im}z=0.8d` is measured and :math:`d` halved while it exceeds
  :data:`STRIP_GROWTH` times the growth on the real axis (this also sets the strip of entire functions,
  whose trapezoidal error is governed by that growth).
* :func:`saturation_of` — limits :math:`L_\pm` and an exponential decay rate of
  :math:`\sigma-L_\pm` and of every derivative, measured with 60-digit mpmath and checked at the cut-off
  the quadrature uses (:math:`|t|=46/\text{rate}`); ``None`` when the function does not saturate
  exponentially (algebraic decay included).
* :func:`growth_degree` — the polynomial degree bounding :math:`|\sigma^{(n)}(t)|` at large :math:`|t|`
  (measured at :math:`|t|=10^2, 2\cdot10^2`); the trapezoidal rule on :math:`\pm9` standard deviations
  needs at most polynomial growth, so exponential growth is refused by the caller.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import mpmath as mp
import numpy as np
import sympy as sp

__all__ = ["StripResult", "locate_strip", "saturation_of", "growth_degree", "Unresolved", "STRIP_GROWTH"]

#: branches k of the logarithm (and of periodic pole families) tried when inverting g(z) = w
BRANCHES = 6
#: largest tolerated growth (ratio) of |sigma^(n)| from the real axis to Im z = 0.8 d
STRIP_GROWTH = math.exp(10.0)
#: strip tried first for an entire function or one whose singularities could not be located
DEFAULT_STRIP = 2.0
#: smallest strip accepted before refusing (the rule then needs > 10^3 nodes per unit of t)
MIN_STRIP = 1.0 / 64
#: half-width in t of the window on which the growth in the strip is measured
GROWTH_WINDOW = 40.0

_I = sp.I
# f: (offset, period): f(g) has poles where g = offset + k * period
_POLES = {
    sp.tanh: (sp.I * sp.pi / 2, sp.I * sp.pi), sp.sech: (sp.I * sp.pi / 2, sp.I * sp.pi),
    sp.coth: (sp.Integer(0), sp.I * sp.pi), sp.csch: (sp.Integer(0), sp.I * sp.pi),
    sp.tan: (sp.pi / 2, sp.pi), sp.sec: (sp.pi / 2, sp.pi), sp.cot: (sp.Integer(0), sp.pi),
    sp.csc: (sp.Integer(0), sp.pi),
}
# f: branch points of f(g) at g = each value
_BRANCH_POINTS = {sp.atan: (sp.I, -sp.I), sp.asinh: (sp.I, -sp.I), sp.atanh: (1, -1), sp.acot: (sp.I, -sp.I)}
_ENTIRE = (sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.erf, sp.erfc, sp.erfi)


class Unresolved(Exception):
    """A singularity condition that the symbolic locator cannot solve."""


@dataclass(frozen=True)
class StripResult:
    """The strip of analyticity used by the quadrature and how it was found.

    Attributes
    ----------
    width : float
        Half-width :math:`d` handed to the quadrature.
    located : float or None
        Distance to the nearest complex singularity found symbolically (``inf``: none, entire); ``None``:
        the singularities could not be located.
    nearest : complex or None
        That singularity.
    how : str
        One sentence for the route report.
    """

    width: float
    located: float | None
    nearest: complex | None
    how: str


# -- the symbolic locator ---------------------------------------------------------------------------


def _conditions(expr: sp.Expr, z: sp.Symbol) -> list[tuple[sp.Expr, list[complex]]]:
    """``[(g, [w, ...])]``: sigma is singular where some ``g(z)`` equals one of its ``w``."""
    out: list[tuple[sp.Expr, list[complex]]] = []
    ks = range(-BRANCHES, BRANCHES + 1)
    for node in sp.preorder_traversal(expr):
        if not isinstance(node, sp.Basic) or not node.has(z) or node.is_Symbol:
            continue
        if node.is_Add or node.is_Mul or isinstance(node, _ENTIRE):
            continue
        if node.is_Pow:
            base, ex = node.args
            if ex.has(z):
                if base.is_number and base.is_positive:
                    continue  # a**g = exp(g log a): entire in g
                raise Unresolved(f"power with a variable exponent: {node}")
            if ex.is_integer and ex.is_nonnegative:
                continue
            out.append((base, [0j]))
            continue
        if isinstance(node, sp.log):
            out.append((node.args[0], [0j]))
            continue
        func = type(node)
        if func in _POLES:
            off, per = (complex(t) for t in _POLES[func])
            out.append((node.args[0], [off + k * per for k in ks]))
            continue
        if func in _BRANCH_POINTS:
            out.append((node.args[0], [complex(t) for t in _BRANCH_POINTS[func]]))
            continue
        raise Unresolved(f"no rule for the singularities of {func.__name__}")
    return out


def _roots_rational(g: sp.Expr, w: complex, x: sp.Symbol) -> list[complex]:
    wsym = sp.Float(w.real, 30) + sp.I * sp.Float(w.imag, 30) if w else sp.Integer(0)
    num, den = sp.fraction(sp.together(g - wsym))
    poly = sp.Poly(sp.expand(num), x)
    if poly.degree() <= 0:
        return []
    if poly.degree() > 40:
        raise Unresolved(f"polynomial of degree {poly.degree()}")
    coeffs = [complex(sp.N(cf, 30)) for cf in poly.all_coeffs()]
    roots = [complex(r) for r in mp.polyroots(coeffs, maxsteps=200, extraprec=60)]
    dfn = sp.lambdify(x, den, "mpmath")
    return [r for r in roots if abs(complex(dfn(mp.mpc(r)))) > 1e-12]


def _exp_kernel(g: sp.Expr, z: sp.Symbol):
    """``(a0, rational function of Y)`` when ``g`` is a rational function of ``Y = exp(a0 z)``, else ``None``."""
    exps = [e for e in g.atoms(sp.exp) if e.has(z)]
    if not exps:
        return None
    lin = []
    for e in exps:
        arg = sp.expand(e.args[0])
        a = sp.diff(arg, z)
        if a.has(z) or not a.is_real or a == 0:
            return None
        lin.append((e, a, sp.expand(arg - a * z)))
    a0 = lin[0][1]
    ratios = [sp.nsimplify(a / a0) for _, a, _ in lin]
    if not all(r.is_Rational for r in ratios):
        return None
    denom = sp.ilcm(*[r.q for r in ratios]) if len(ratios) > 1 else ratios[0].q
    a0 = a0 / denom
    Y = sp.Dummy("Y")
    sub = {e: sp.exp(b) * Y ** int(r * denom) for (e, _, b), r in zip(lin, ratios)}
    h = g.xreplace(sub)
    if h.has(z) or not h.is_rational_function(Y):
        return None
    return a0, h, Y


def _preimage(g: sp.Expr, w: complex, z: sp.Symbol, depth: int = 0) -> list[complex]:
    """Every solution (branches ``|k| <= BRANCHES``) of ``g(z) = w``, as complex numbers."""
    if depth > 8:
        raise Unresolved("nesting too deep")
    if g == z:
        return [w]
    if not g.has(z):
        return []
    if g.is_rational_function(z):
        return _roots_rational(g, w, z)
    ks = range(-BRANCHES, BRANCHES + 1)
    if isinstance(g, sp.log):
        return _preimage(g.args[0], cmath.exp(w), z, depth + 1)
    if isinstance(g, sp.exp):
        if w == 0:
            return []
        return [s for k in ks for s in _preimage(g.args[0], cmath.log(w) + 2j * math.pi * k, z, depth + 1)]
    if isinstance(g, sp.tanh):
        if abs(w * w - 1) < 1e-300:
            return []
        return [s for k in ks for s in _preimage(g.args[0], cmath.atanh(w) + 1j * math.pi * k, z, depth + 1)]
    if g.is_Add or g.is_Mul:
        const, var = g.as_independent(z, as_Add=g.is_Add)
        if not var.is_Add and not var.is_Mul and const != (0 if g.is_Add else 1):
            c = complex(sp.N(const, 30))
            target = w - c if g.is_Add else (w / c if c != 0 else None)
            if target is not None:
                return _preimage(var, target, z, depth + 1)
    if g.is_Pow and g.args[1].is_Integer and g.args[1] > 0:
        n = int(g.args[1])
        r = w ** (1.0 / n) if w != 0 else 0j
        return [s for j in range(n) for s in _preimage(g.args[0], r * cmath.exp(2j * math.pi * j / n), z, depth + 1)]
    kern = _exp_kernel(g.rewrite(sp.exp) if g.has(sp.sinh, sp.cosh, sp.tanh, sp.sech, sp.csch, sp.coth) else g, z)
    if kern is not None:
        a0, h, Y = kern
        a = float(a0)
        return [(cmath.log(y) + 2j * math.pi * k) / a for y in _roots_rational(h, w, Y) if y != 0 for k in ks]
    if depth == 0 and g.has(sp.sinh, sp.cosh, sp.tanh, sp.sech, sp.csch, sp.coth):
        return _preimage(g.rewrite(sp.exp), w, z, depth + 1)
    raise Unresolved(f"cannot solve {g} = {w:.4g}")


def locate_singularities(expr: sp.Expr, z: sp.Symbol) -> tuple[float, complex | None]:
    """Distance from the real axis to the nearest complex singularity found, and that point (``inf``, ``None``: none).

    Raises
    ------
    Unresolved
        If a singularity condition cannot be solved.
    """
    best, where = math.inf, None
    for g, targets in _conditions(expr, z):
        for w in targets:
            for s in _preimage(g, complex(w), z):
                if abs(s.imag) < best:
                    best, where = abs(s.imag), s
    return best, where


# -- numeric checks ---------------------------------------------------------------------------------


def _complex_growth(funcs: Sequence[Callable], y: float) -> float:
    """Largest ratio max|f(x+iy)| / max|f(x)| over ``|x| <= GROWTH_WINDOW`` for the functions given."""
    x = np.linspace(-GROWTH_WINDOW, GROWTH_WINDOW, 1601)
    worst = 0.0
    with np.errstate(all="ignore"):
        for f in funcs:
            real = np.abs(np.asarray(f(x.astype(complex)), dtype=complex))
            off = np.abs(np.asarray(f(x + 1j * y), dtype=complex))
            real = np.broadcast_to(real, x.shape)
            off = np.broadcast_to(off, x.shape)
            top = float(np.max(real[np.isfinite(real)])) if np.any(np.isfinite(real)) else 0.0
            if top == 0.0:
                continue
            if not np.all(np.isfinite(off)):
                return math.inf
            worst = max(worst, float(np.max(off)) / top)
    return worst


def locate_strip(expr: sp.Expr, z: sp.Symbol, complex_funcs: Sequence[Callable]) -> StripResult:
    """The strip half-width for the trapezoidal rule (module docstring), with the sentence that explains it.

    ``complex_funcs`` evaluate :math:`\\sigma^{(n)}`, :math:`n=0..4`, on complex NumPy arrays.
    """
    try:
        located, nearest = locate_singularities(expr, z)
    except Unresolved as exc:
        located, nearest, reason = None, None, str(exc)
    if located is not None and located < 1e-9:
        raise ValueError(f"singular at z = {nearest.real:.6g} on the real line")
    start = DEFAULT_STRIP if located is None or not math.isfinite(located) else located
    d = start
    while _complex_growth(complex_funcs, 0.8 * d) > STRIP_GROWTH:
        d /= 2
        if d < MIN_STRIP:
            raise ValueError(
                f"its derivatives grow by more than e^10 within |Im z| < {0.8 * MIN_STRIP:.3g} of the real axis "
                "(|Re z| <= 40): the trapezoidal rule cannot resolve it")
    shrunk = "" if d == start else (f"; halved to {d:.4g} because |sigma^(n)| grows by more than e^10 on "
                                    f"Im z = 0.8 d (|Re z| <= {GROWTH_WINDOW:g})")
    if located is None:
        how = (f"singularities not located symbolically ({reason}); conservative strip {d:.4g} checked by the "
               "growth on Im z = 0.8 d only: accuracy rests on the quadrature's h/2h/4h error estimate")
    elif math.isinf(located):
        how = f"entire: strip {d:.4g} set by the growth of the derivatives on Im z = 0.8 d" + (
            "" if d == start else f" (halved from {start:g})")
    else:
        how = (f"nearest singularity at z = {nearest.real:.6g}{nearest.imag:+.6g}i, located symbolically: strip "
               f"{located:.6g}" + shrunk)
    return StripResult(float(d), located, nearest, how)


def _mp_abs(v) -> mp.mpf:
    v = mp.mpmathify(v)
    return abs(v)


def saturation_of(mp_funcs: Sequence[Callable]) -> tuple[tuple[float, float, float] | None, str]:
    """``((lower, upper, rate), note)`` when :math:`\\sigma` saturates exponentially, else ``(None, note)``.

    ``mp_funcs`` evaluate :math:`\\sigma^{(n)}`, :math:`n=0..4`, on mpmath numbers.
    """
    f0 = mp_funcs[0]
    with mp.workdps(60):
        lims = []
        for sgn in (1, -1):
            try:
                far, farther = mp.mpmathify(f0(mp.mpf(200 * sgn))), mp.mpmathify(f0(mp.mpf(400 * sgn)))
            except (ValueError, ZeroDivisionError, OverflowError):
                return None, "no finite limits"
            if not (mp.isfinite(far) and mp.isfinite(farther)) or abs(farther - far) > mp.mpf(10) ** -40 * (1 + abs(far)):
                return None, "does not tend to limits at +-infinity exponentially fast"
            lim = mp.re(farther)
            lims.append(lim if abs(lim) > mp.mpf(10) ** -60 else mp.mpf(0))  # e^-400-type remainders are 0
        hi, lo = lims
        scales = []
        for f in mp_funcs:
            grid = [mp.mpf(t) / 4 for t in range(-20, 21)]
            scales.append(max([_mp_abs(f(t)) for t in grid] + [abs(hi), abs(lo)]) or mp.mpf(1))
        rate = mp.inf
        for n, f in enumerate(mp_funcs):
            for sgn, lim in ((1, hi), (-1, lo)):
                for t in (5, 10, 20, 50, 100, 200):
                    r = _mp_abs(f(mp.mpf(sgn * t)) - (lim if n == 0 else 0)) / scales[n]
                    rate = min(rate, -mp.log(max(r, mp.mpf(10) ** -1000)) / t)
        if not rate > 0.05:
            return None, "tends to its limits too slowly (not exponentially)"
        rate = 0.8 * rate
        cut = 46.0 / float(rate)
        for n, f in enumerate(mp_funcs):
            for sgn, lim in ((1, hi), (-1, lo)):
                for t in (cut, 1.5 * cut, 2 * cut, 4 * cut):
                    r = _mp_abs(f(mp.mpf(sgn * t)) - (lim if n == 0 else 0)) / scales[n]
                    if r > mp.exp(-46):
                        return None, f"its derivatives are not negligible at the cut-off |t| = {t:.3g}"
    sat = (float(lo), float(hi), float(rate))
    return sat, (f"saturates: limits {sat[0]:.6g} and {sat[1]:.6g}, every derivative below e^-46 of its scale "
                 f"beyond |t| = {cut:.4g} (decay rate {sat[2]:.4g}, measured and checked there)")


def growth_degree(mp_funcs: Sequence[Callable]) -> float:
    """Measured degree :math:`k` of :math:`|\\sigma^{(n)}(t)|\\sim|t|^k` at large :math:`|t|` (max over :math:`n`, sides).

    From the largest values on :math:`[T, 1.1T]` at :math:`T=100` and :math:`T=200` (60 digits);
    ``inf`` for exponential growth or worse.
    """
    worst = 0.0
    with mp.workdps(60):
        for f in mp_funcs:
            for sgn in (1, -1):
                tops = []
                for T in (100, 200):
                    vals = [_mp_abs(f(mp.mpf(sgn) * T * (1 + mp.mpf(j) / 160))) for j in range(17)]
                    if not all(mp.isfinite(v) for v in vals):
                        return math.inf
                    tops.append(max(vals))
                a, b = tops
                k = float(mp.log((b + 1) / (a + 1)) / mp.log(2))
                worst = max(worst, k)
    return worst
