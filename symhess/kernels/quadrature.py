r"""Gaussian expectations without a closed form: trapezoidal, Gauss–Legendre and Gauss–Hermite quadrature.

Place in the package: engine, kernels (NumPy only, plus the activation's numeric derivatives).

For :math:`(u, v) \sim N(0, [[q_1, c], [c, q_2]])` the kernels need
:math:`K_{ab}=E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` and :math:`D^{(m)}_{ab}(q)=E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`.
Two length scales meet: the Gaussian's, :math:`\sqrt q`, and the activation's (tanh bends within
:math:`|t|\lesssim 1`). At large :math:`q` tanh is a step on the Gaussian's scale, so a rule on the Gaussian's
scale alone (the previous design) needs :math:`O(\sqrt q)` nodes per dimension and silently fails when they
are capped. This module integrates on both scales.

**Decomposition.** For an activation that saturates (:meth:`~symhess.activations.base.Activation.saturation`:
limits :math:`L_\pm`, derivatives falling like :math:`e^{-\kappa|t|}`) every factor is split as

.. math::

    \sigma(t) = m + d\,\operatorname{erf}(\gamma t) + r_0(t),\qquad \sigma^{(n)}(t) = r_n(t)\ (n\ge1),

with :math:`m=(L_++L_-)/2`, :math:`d=(L_+-L_-)/2`, :math:`\gamma=\sqrt\pi/2`. Every :math:`r_n` is localised
(negligible, below :math:`e^{-46}`, outside :math:`|t|\le U=46/\kappa`) and analytic in the activation's strip
:math:`|\operatorname{Im}t|<d_\sigma` (:meth:`~symhess.activations.base.Activation.analytic_strip`). Then

.. math::

    K_{ab} = E[r_a(u)r_b(v)] + d_a\,E[\operatorname{erf}(\gamma u)\,r_b(v)] + d_b\,E[r_a(u)\operatorname{erf}(\gamma v)]
      + d_ad_b\tfrac{2}{\pi}\arcsin\frac{2\gamma^2c}{\sqrt{(1+2\gamma^2q_1)(1+2\gamma^2q_2)}}
      + m\text{-terms},

the erf–erf term in closed form and each erf–:math:`r` term reduced to one dimension by Gaussian conditioning,
:math:`E[\operatorname{erf}(\gamma v)\mid u]=\operatorname{erf}(\lambda u)`,
:math:`\lambda=\gamma\kappa_c/\sqrt{1+2\gamma^2\tau^2}` (:math:`\kappa_c=c/q_1`, :math:`\tau^2=(q_1q_2-c^2)/q_1`).

**Pairs that are not strongly correlated** (:math:`|\rho|\le` :data:`MEHLER_TOL` :math:`^{1/(N+1)}\approx0.74`,
:math:`N=` :data:`MEHLER_MAX_DEGREE`) use Mehler's formula instead of a double integral: with
:math:`u=s_1X`, :math:`v=s_2Y`, :math:`\operatorname{corr}(X,Y)=\rho`,

.. math::

    E[f(u)g(v)] = \sum_{n\ge0}\rho^n\alpha_n(f)\,\alpha_n(g),\qquad
    \alpha_n(f)=E[f(s_1X)\,He_n(X)]/\sqrt{n!},

and by Cauchy–Schwarz and Parseval the terms beyond :math:`n=N` sum to at most
:math:`|\rho|^{N+1}\|f\|\|g\|` whatever the activation. The coefficients depend on one unit only: they are
computed once per distinct standard deviation and derivative order (trapezoidal rules of steps :math:`h` and
:math:`2h` on the same nodes, resolving the activation's strip and :math:`He_N`) and shared by every pair and
kernel, so a pair costs :math:`N` multiply-adds instead of a two-dimensional grid. Its error estimate is the
truncation bound plus the coefficients' estimated errors :math:`(e_f\|g\|+\|f\|e_g)/\sqrt{1-\rho^2}` plus a
rounding floor :data:`MEHLER_ROUNDING` :math:`\|f\|\|g\|`, and :math:`\|f\|\|g\|\ge E|fg|` takes the place of
:math:`E|\text{integrand}|`. Pairs with larger :math:`|\rho|`, a zero variance, or a standard deviation whose
coefficient grid would exceed :data:`MEHLER_MAX_NODES` nodes use the rules below.

**The localised double integral** :math:`E[r_a(u)r_b(v)]` is done by conditioning on the variable of larger
variance, :math:`u` (so the conditional slope :math:`|\kappa_c|\le1`):
:math:`\int\varphi_{q_1}(u)\,r_a(u)\int\varphi(z)\,r_b(\kappa_cu+\tau z)\,dz\,du`. Both integrals are
trapezoidal rules in standard-normal variables whose step resolves both scales,
:math:`h=(d_\sigma/N)/\max(s,1)` with :math:`s=\sqrt{q_1}` outside and :math:`s=\tau` inside
(:data:`STEPS_PER_STRIP` :math:`=N`), on the range where the integrand is not negligible
(:math:`|z|\le\min(9, U/s)` outside, :math:`|\kappa_c u+\tau z|\le U` inside). An integrand analytic in a strip
of half-width :math:`\delta` has trapezoidal error :math:`O(e^{-2\pi\delta/h})` (Trefethen & Weideman, SIAM
Rev. 56 (2014)), here :math:`\approx e^{-2\pi N\cdot0.8}` times the integrand's growth in the strip; the node
count is at most :math:`2\max(9,U)N/d_\sigma` per dimension whatever the variances. The correlated limit
:math:`|\rho|\to1` is explicit: :math:`\tau\to0` leaves the inner integrand smooth, and :math:`q_1q_2-c^2` is
computed without cancellation (error-free products). The pair is ordered canonically, so
:math:`K_{ab}(q_1,q_2,c)` and :math:`K_{ba}(q_2,q_1,c)` are the same computation.

**The one-dimensional integrals** (erf–:math:`r` terms) have a third scale, :math:`1/|\lambda|`, which becomes
a step as :math:`|\rho|\to1`: they use composite Gauss–Legendre on panels graded geometrically towards 0
(down to that scale) and then of the activation's width. :math:`D^{(m)}_{ab}` subtracts its limits in the
same way and uses the one-dimensional trapezoidal rule (:data:`STEPS_PER_STRIP_1D`).

**Error estimate.** Each trapezoidal rule is computed with steps :math:`h,2h,4h` on the same nodes; with
:math:`E(h)\approx Cx^{1/h}` the differences :math:`\delta_1=|T_h-T_{2h}|`, :math:`\delta_2=|T_{2h}-T_{4h}|` give
:math:`E(h)\approx\delta_1^3/\delta_2^2` in the asymptotic regime (:math:`\delta_2>\delta_1`), and
:math:`\delta_1` otherwise; the Gauss–Legendre sums are compared with a rule of fewer nodes on the same panels.
To these a rounding floor :data:`ROUNDING_FLOOR` times :math:`E|\text{integrand}|` (the sum of absolute
values the rule accumulates) is added. This estimate is tested, not proven: the test suite checks it
against 30-digit ``mpmath`` references at standard deviations from :math:`10^{-6}` to :math:`10^4` and
correlations up to :math:`1-10^{-12}`. Where the estimate, relative to :math:`E|\text{integrand}|`, exceeds
:data:`REFINEMENT_RTOL` a :class:`~symhess.errors.SymhessAccuracyWarning` says so; the worst estimate of a
computation is available through :func:`record_quadrature` (the dense Hessian checks itself with it).

Activations that do not saturate (or do not say so) are integrated on the Gaussian's scale alone; when that
needs more than :data:`MAX_NODES` nodes per dimension a :class:`~symhess.errors.SymhessAccuracyError` is
raised instead of returning a number that may be wrong.

Gauss–Hermite rules converge slowly for steep activations (for :math:`\tanh(sz)` with
:math:`s\approx2.3` the 64-node rule errs by 20 % on :math:`E[\tanh^{(3)}\tanh^{(1)}]`) because most of
their nodes lie far out in the tails; :func:`gauss_hermite_pair` and :func:`gauss_hermite_single` are
kept as an independent second rule for checks.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from math import comb

import numpy as np
from scipy import special

from ..errors import QuadratureWarning, SymhessAccuracyError, SymhessAccuracyWarning

__all__ = [
    "gaussian_pair_quadrature", "gaussian_single_quadrature", "gauss_hermite_pair", "gauss_hermite_single",
    "record_quadrature", "QuadratureRecord", "note_estimate", "DEFAULT_NODES",
]

#: default number of Gauss–Hermite nodes per dimension
DEFAULT_NODES = 64
#: half-width of the grids in standard deviations (Gaussian weight below 3e-18 beyond)
GRID_HALF_WIDTH = 9.0
#: trapezoidal steps per strip half-width in the double integrals, h = d / STEPS_PER_STRIP
STEPS_PER_STRIP = 8
#: the same for the one-dimensional integrals (cheap, so finer)
STEPS_PER_STRIP_1D = 12
#: strip half-width assumed where the activation states none (entire or unknown)
DEFAULT_STRIP = 2.0
#: the localised parts r_n are taken as zero beyond |t| = LOCAL_DECAY / rate (e^-46 = 1e-20)
LOCAL_DECAY = 46.0
#: most trapezoidal nodes per dimension; an activation that would need more raises
MAX_NODES = 4097
#: Gauss–Legendre nodes per panel, and the smaller rule that checks it
GL_NODES, GL_CHECK_NODES = 16, 10
#: rounding floor of the error estimate, relative to E|integrand|: empirical, set above the largest rounding
#: error the tests found (1760 ulp at standard deviations 1e4 and correlation 1 - 1e-8)
ROUNDING_FLOOR = 4096 * np.finfo(float).eps
#: estimated error (relative to E|integrand|) above which a warning is issued
REFINEMENT_RTOL = 1e-8
#: gamma of the smooth step erf(gamma t) subtracted from saturating activations (slope 1 at 0)
ERF_GAMMA = float(np.sqrt(np.pi) / 2)
#: highest Hermite degree N of the Mehler series
MEHLER_MAX_DEGREE = 128
#: truncation of the Mehler series: |rho|^(N+1) at most this (relative to ||f|| ||g||); pairs with
#: |rho| above MEHLER_TOL ** (1 / (MEHLER_MAX_DEGREE + 1)) (about 0.74) use the conditional rule
MEHLER_TOL = 1e-17
#: half-width of the Hermite-coefficient grids in standard deviations (sqrt(phi) below 1e-18 beyond)
MEHLER_HALF_WIDTH = 13.0
#: most nodes of a Hermite-coefficient grid; variances that would need more use the conditional rule
MEHLER_MAX_NODES = 1 << 14
#: rounding floor of the Mehler route, relative to ||f|| ||g||: the sum of at most N + 1 products (its rounding
#: is below (N + 1) eps sum|rho^n alpha_n beta_n| <= (N + 1) eps ||f|| ||g||); the coefficients' own rounding
#: is also seen by their step-h/2h difference
MEHLER_ROUNDING = 256 * np.finfo(float).eps
_CHUNK = 1_000_000  # grid evaluations per chunk: bounds the temporary memory, stays near the cache


# -- the error record -------------------------------------------------------------------------------


@dataclass
class QuadratureRecord:
    """What the quadrature did inside a :func:`record_quadrature` block.

    Attributes
    ----------
    calls : int
        Number of quadrature calls.
    worst : float
        Largest error estimate relative to :math:`E|\\text{integrand}|` over every computed expectation.
    """

    calls: int = 0
    worst: float = 0.0
    parent: "QuadratureRecord | None" = field(default=None, repr=False)

    def note(self, worst: float) -> None:
        rec = self
        while rec is not None:
            rec.calls += 1
            rec.worst = max(rec.worst, worst)
            rec = rec.parent


_RECORD: ContextVar[QuadratureRecord | None] = ContextVar("symhess_quadrature_record", default=None)


@contextmanager
def record_quadrature():
    """Context manager yielding a :class:`QuadratureRecord` of the quadrature calls made inside it."""
    rec = QuadratureRecord(parent=_RECORD.get())
    token = _RECORD.set(rec)
    try:
        yield rec
    finally:
        _RECORD.reset(token)


# -- helpers ----------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / np.sqrt(2 * np.pi)


def _warn(act, rule: str = "Gauss-Hermite") -> None:
    warnings.warn(
        f"no closed form for the Gaussian expectations of {act.spec!r}: computed by {rule} "
        "quadrature (accuracy depends on the activation's smoothness)",
        QuadratureWarning,
        stacklevel=4,
    )


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a*b = p + e`` exactly (Dekker/Veltkamp splitting; no overflow for |a|,|b| < 1e150)."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ta, tb = split * a, split * b
    ah = ta - (ta - a)
    bh = tb - (tb - b)
    al, bl = a - ah, b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def _gram_determinant(q1: np.ndarray, q2: np.ndarray, c: np.ndarray) -> np.ndarray:
    r""":math:`q_1q_2-c^2\ge0` to a few ulps of itself (not of :math:`q_1q_2`): the :math:`|\rho|\to1` case."""
    p, pe = _two_product(q1, q2)
    cc, ce = _two_product(c, c)
    with np.errstate(over="ignore", invalid="ignore"):
        det = (p - cc) + (pe - ce)
    det = np.where(np.isfinite(det), det, q1 * q2 - c * c)
    return np.maximum(det, 0.0)


class _Parts:
    """The saturation split sigma = m + d erf(gamma t) + r_0, sigma^(n) = r_n (module docstring)."""

    def __init__(self, act):
        self.act = act
        strip = act.analytic_strip()
        self.strip = DEFAULT_STRIP if strip is None else float(strip)
        sat = act.saturation()
        if sat is None:
            self.m = self.d = 0.0
            self.limits = None
            self.reach = np.inf
        else:
            lo, hi, rate = (float(t) for t in sat)
            self.m, self.d = 0.5 * (hi + lo), 0.5 * (hi - lo)
            self.limits = (lo, hi)
            self.reach = LOCAL_DECAY / rate

    def local(self, orders: tuple[int, ...], x: np.ndarray, shift: np.ndarray | None = None) -> dict[int, np.ndarray]:
        r"""``{n: r_n(x)}``; with ``shift`` (one per batch row) :math:`\sigma^{(n)}` is evaluated at ``x + shift``.

        The subtracted step stays :math:`\operatorname{erf}(\gamma x)` (centred), so the shifted
        :math:`r_n` are localised in :math:`|x|\le U+|\text{shift}|`.
        """
        if shift is None:
            vals = self.act.numeric_derivatives(tuple(orders), x)
        else:
            vals = self.act.numeric_derivatives(tuple(orders), x + shift.reshape(shift.shape + (1,) * (x.ndim - 1)))
        if 0 in vals and self.limits is not None:
            vals[0] = vals[0] - self.m - self.d * special.erf(ERF_GAMMA * x)
        return vals


def _step(strip: float, steps: int, s: np.ndarray) -> np.ndarray:
    """Trapezoidal step in standard-normal units resolving the activation at standard deviation ``s``."""
    return (strip / steps) / np.maximum(s, 1.0)


def _n_half(half_width: np.ndarray, h: np.ndarray) -> int:
    """Largest half node count (a multiple of 4, so steps 2h and 4h share the nodes) over the batch."""
    k = 4 * int(np.ceil(float(np.max(half_width / h)) / 4)) if half_width.size else 4
    if k > MAX_NODES // 2:
        raise SymhessAccuracyError(
            f"the quadrature would need {2 * k + 1} nodes per dimension (limit {MAX_NODES}) to resolve "
            "this activation at these variances; give the activation a saturation() (limits and decay) "
            "or an analytic_strip(), or use smaller weights"
        )
    return max(k, 4)


def _trapezoid_weights(k: int, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``z`` (m, n) and weights ``W`` (m, n, 3) of the Gaussian trapezoidal rules of steps h, 2h, 4h."""
    idx = np.arange(-k, k + 1)
    z = h[:, None] * idx[None, :]
    phi = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    masks = np.stack([np.ones(idx.size), (idx % 2 == 0) * 2.0, (idx % 4 == 0) * 4.0], axis=1)
    return z, (h[:, None] * phi)[:, :, None] * masks[None]


def _estimate(T: np.ndarray, absval: np.ndarray) -> np.ndarray:
    r"""Error of the step-h rule from the rules ``T[..., 0:3]`` (steps h, 2h, 4h), plus the rounding floor."""
    d1 = np.abs(T[..., 0] - T[..., 1])
    d2 = np.abs(T[..., 1] - T[..., 2])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        est = np.where(d2 > d1, d1 * (d1 / np.where(d2 > 0, d2, 1.0)) ** 2, d1)
    return est + ROUNDING_FLOOR * absval


# -- one-dimensional integrals ----------------------------------------------------------------------


def _single_local(parts: _Parts, g, s: np.ndarray, extra: np.ndarray | float = 0.0):
    r""":math:`E[g(sZ)]` for a localised ``g`` (callable on arrays): value, error estimate, :math:`E|g|`.

    ``extra``: how far beyond the activation's reach ``g`` may be non-negligible (a shift).
    """
    h = _step(parts.strip, STEPS_PER_STRIP_1D, s)
    reach = np.minimum(GRID_HALF_WIDTH, (parts.reach + extra) / np.where(s > 0, s, 1.0))
    k = _n_half(reach, h)
    z, W = _trapezoid_weights(k, h)
    vals = g(s[:, None] * z)
    T = np.einsum("mn,mnr->mr", vals, W)
    absval = np.einsum("mn,mn->m", np.abs(vals), W[:, :, 0])
    return T[:, 0], _estimate(T, absval), absval


@lru_cache(maxsize=None)
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w  # on [0, 1]


def _graded_panels(width: np.ndarray, finest: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Panel ends on [0, reach], shape (m, k+1): halving towards 0 from ``width`` down to ``finest``, then uniform.

    Rows are padded with zero-width panels so that every pair has the same number of panels.
    """
    n_geo = np.ceil(np.log2(np.maximum(width / np.maximum(finest, 1e-300), 1.0))).astype(int)
    n_uni = np.maximum(np.ceil(np.maximum(reach - width, 0.0) / width - 1e-9).astype(int), 1)
    G, Nu = int(n_geo.max()), int(n_uni.max())
    if G > 1100:
        raise SymhessAccuracyError("a Gaussian expectation has a feature below the float64 range")
    j = np.arange(G + 1)
    geo = np.where(j[None, :] >= G - n_geo[:, None], width[:, None] * 2.0 ** (j[None, :] - G), 0.0)
    k = np.arange(1, Nu + 1)
    uni = width[:, None] + np.minimum(k[None, :], n_uni[:, None]) * (np.maximum(reach - width, 0.0) / n_uni)[:, None]
    return np.concatenate([np.zeros((width.size, 1)), geo, uni], axis=1)


def _erf_cross(parts: _Parts, order: int, s: np.ndarray, lam: np.ndarray, shift: np.ndarray | None = None):
    r""":math:`E[r_n(sZ)\,\operatorname{erf}(\lambda sZ)]` by graded composite Gauss–Legendre: value, error, :math:`E|\cdot|`.

    With ``shift`` the factor is the shifted :math:`r_n(sZ+\text{shift})` (:meth:`_Parts.local`).
    """
    m = s.size
    if m == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    # panel width in z: one strip half-width d in t = s z at most (16 nodes, Bernstein ellipse through
    # the poles at distance d from a panel of half-width d/2: error ~ (2+sqrt 5)^-32), and 1 in z
    width = np.minimum(parts.strip, 1.0) / np.maximum(s, 1.0)
    extra = 0.0 if shift is None else np.abs(shift)
    reach = np.minimum(GRID_HALF_WIDTH, (parts.reach + extra) / np.where(s > 0, s, 1.0))
    reach = np.maximum(reach, width)
    with np.errstate(divide="ignore"):
        finest = np.where(lam * s != 0, 0.5 / np.abs(lam * s), np.inf)
    ends = _graded_panels(width, np.minimum(finest, width), reach)
    a, b = ends[:, :-1], ends[:, 1:]
    out = []
    for n in (GL_NODES, GL_CHECK_NODES):
        x, w = _legendre(n)
        z = a[:, :, None] + (b - a)[:, :, None] * x
        wz = (b - a)[:, :, None] * w * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
        zz = np.concatenate([z, -z], axis=1)
        f = parts.local((order,), s[:, None, None] * zz, shift)[order] * special.erf(lam[:, None, None] * s[:, None, None] * zz)
        ww = np.concatenate([wz, wz], axis=1)
        out.append((np.einsum("mpn,mpn->m", f, ww), np.einsum("mpn,mpn->m", np.abs(f), ww)))
    (val, absval), (coarse, _) = out
    return val, np.abs(val - coarse) + ROUNDING_FLOOR * absval, absval


# -- the pair kernel --------------------------------------------------------------------------------


def _pair_local(parts: _Parts, a: int, b: int, sA, kap, tau, mA=None, mB=None):
    r""":math:`E[r_a(u)\,r_b(\kappa u+\tau Z)]`, :math:`u\sim N(0,s_A^2)`: value, error, :math:`E|\cdot|`.

    With means the factors are the shifted :math:`r_a(u;m_A)`, :math:`r_b(\cdot;m_B)` (:meth:`_Parts.local`).
    """
    mtot = sA.size
    xA = 0.0 if mA is None else np.abs(mA)
    xB = 0.0 if mB is None else np.abs(mB)
    h_out = _step(parts.strip, STEPS_PER_STRIP, sA)
    reach_out = np.minimum(GRID_HALF_WIDTH, (parts.reach + xA) / np.where(sA > 0, sA, 1.0))
    k_out = _n_half(reach_out, h_out)
    z_out, W_out = _trapezoid_weights(k_out, h_out)
    umax = sA * k_out * h_out
    h_in = _step(parts.strip, STEPS_PER_STRIP, tau)
    with np.errstate(divide="ignore"):
        reach_in = np.minimum(GRID_HALF_WIDTH, (parts.reach + xB + np.abs(kap) * umax) / tau)
    k_in = _n_half(reach_in, h_in)
    n_out, n_in = 2 * k_out + 1, 2 * k_in + 1
    T = np.empty((mtot, 3))
    absval = np.empty(mtot)
    step = max(1, _CHUNK // (n_out * n_in))
    for lo in range(0, mtot, step):
        sl = slice(lo, lo + step)
        u = sA[sl, None] * z_out[sl]  # (m, n_out)
        fa = parts.local((a,), u, None if mA is None else mA[sl])[a]
        z_in, W_in = _trapezoid_weights(k_in, h_in[sl])
        v = kap[sl, None, None] * u[:, :, None] + tau[sl, None, None] * z_in[:, None, :]
        fb = parts.local((b,), v, None if mB is None else mB[sl])[b]  # (m, n_out, n_in)
        G = np.matmul(fb, W_in)  # the three inner rules at once
        fb = np.abs(fb, out=fb if fb.flags.writeable else None)
        Gabs = np.matmul(fb, W_in[:, :, :1])[..., 0]
        T[sl] = np.sum((fa[:, :, None] * W_out[sl]) * G, axis=1)
        absval[sl] = np.sum(np.abs(fa) * W_out[sl, :, 0] * Gabs, axis=1)
    return T[:, 0], _estimate(T, absval), absval


# -- the Mehler (Hermite) series for pairs that are not strongly correlated ----------------------------


def _mehler_step(parts: _Parts, s: np.ndarray) -> np.ndarray:
    r"""Step of the Hermite-coefficient grid at standard deviation ``s``: the step-2h rule resolves both scales.

    The integrand :math:`f(sx)\,h_n(x)\varphi(x)` has Fourier transform concentrated in
    :math:`|\omega|\le\sqrt N+8` (the transform of :math:`He_n\varphi` is :math:`(i\omega)^n e^{-\omega^2/2}`,
    below :math:`10^{-18}` beyond, :math:`n\le N`), convolved with that of :math:`f(sx)`, which falls like
    :math:`e^{-|\omega|d_\sigma/s}`; the rule of step :math:`2h` aliases frequencies :math:`\pi/h`.
    """
    return np.pi / (np.sqrt(MEHLER_MAX_DEGREE) + 8.0 + 40.0 * s / parts.strip)


def _mehler_nodes(parts: _Parts, s: np.ndarray) -> np.ndarray:
    """Nodes per grid, ``2k+1`` with ``k = ceil(L/h)`` (even)."""
    return 2 * (2 * np.ceil(MEHLER_HALF_WIDTH / _mehler_step(parts, s) / 2)) + 1


_HERMITE_CACHE: "OrderedDict[tuple, OrderedDict]" = OrderedDict()
_HERMITE_CACHE_UNITS = 4096  # standard deviations remembered per activation and order


def _hermite_table(parts: _Parts, order: int, s: np.ndarray):
    r"""Normalised Hermite coefficients of :math:`f=\sigma^{(order)}(s\,\cdot)` at each standard deviation ``s``.

    Returns ``alpha`` ``(m, N+1)``, :math:`\alpha_n=E[f(sX)\,h_n(X)]` with :math:`h_n=He_n/\sqrt{n!}`; ``err``
    ``(m,)``, the largest :math:`|T_h-T_{2h}|` over :math:`n` (the step-2h rule uses every other node of the
    step-h rule); and ``norm`` ``(m,)``, :math:`\|f\|=E[f(sX)^2]^{1/2}` (plus its own estimated error, so an
    upper value). Trapezoidal rules on :math:`|x|\le` :data:`MEHLER_HALF_WIDTH`, step :func:`_mehler_step`;
    the activation is evaluated once per node and unit (every order up to 3 at once), the :math:`h_n` by their
    three-term recurrence :math:`h_{n+1}=(x\,h_n-\sqrt n\,h_{n-1})/\sqrt{n+1}` (below :math:`e^{90}` on the
    grid, so no overflow; the weights carry :math:`\varphi`). Cached per activation, order and standard
    deviation.
    """
    table = _HERMITE_CACHE.setdefault((parts.act, order), OrderedDict())
    _HERMITE_CACHE.move_to_end((parts.act, order))
    if len(_HERMITE_CACHE) > 16:
        _HERMITE_CACHE.popitem(last=False)
    missing = np.array([x for x in dict.fromkeys(s.tolist()) if x not in table])
    if missing.size:  # every order up to 3 (those of the Gauss-Newton blocks) at once: one h_n table
        orders = tuple(range(max(order, 3) + 1))
        computed = _hermite_coefficients(parts, orders, missing)
        for o in orders:
            tab = _HERMITE_CACHE.setdefault((parts.act, o), OrderedDict())
            alpha, err, norm = computed[o]
            for i, x in enumerate(missing.tolist()):
                tab[x] = (alpha[i], err[i], norm[i])
    rows = [table[x] for x in s.tolist()]
    for x in s.tolist():
        table.move_to_end(x)
    while len(table) > max(_HERMITE_CACHE_UNITS, s.size):
        table.popitem(last=False)
    return np.stack([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows])


def _hermite_coefficients(parts: _Parts, orders: tuple[int, ...], s: np.ndarray) -> dict:
    """The computation of :func:`_hermite_table` for several orders at once (one :math:`h_n` table), no cache."""
    N = MEHLER_MAX_DEGREE
    h = _mehler_step(parts, s)
    k = 2 * int(np.ceil(float(np.max(MEHLER_HALF_WIDTH / h)) / 2))
    idx = np.arange(-k, k + 1)
    out = {o: (np.empty((s.size, N + 1)), np.empty(s.size), np.empty(s.size)) for o in orders}
    step = max(1, (1 << 21) // ((2 * k + 1) * (N + 1)))  # units per chunk: the h_n table stays ~16 MB
    for lo in range(0, s.size, step):
        sl = slice(lo, lo + step)
        x = h[sl, None] * idx[None, :]
        w = h[sl, None] * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        # each unit's own range |x| <= 2 ceil(L / 2h) h, whatever the batch: results do not depend on it
        w *= np.abs(idx)[None, :] <= 2 * np.ceil(MEHLER_HALF_WIDTH / h[sl, None] / 2)
        w2 = w * np.where(idx % 2 == 0, 2.0, 0.0)  # the step-2h rule on every other node
        herm = np.empty((x.shape[0], N + 1, x.shape[1]))  # h_n(x): (unit, degree, node)
        herm[:, 0] = 1.0
        herm[:, 1] = x
        for n in range(1, N):
            nxt = herm[:, n + 1]
            np.multiply(x, herm[:, n], out=nxt)
            nxt -= np.sqrt(n) * herm[:, n - 1]
            nxt *= 1.0 / np.sqrt(n + 1)
        vals = parts.act.numeric_derivatives(tuple(orders), s[sl, None] * x)
        F = np.stack([vals[o] * ww for o in orders for ww in (w, w2)], axis=2)  # (m, n, 2 * orders)
        T = np.matmul(herm, F)  # (m, N+1, 2 * orders): every rule, order and degree in one product
        for j, o in enumerate(orders):
            alpha, err, norm = out[o]
            alpha[sl] = T[:, :, 2 * j]
            err[sl] = np.max(np.abs(T[:, :, 2 * j] - T[:, :, 2 * j + 1]), axis=1)
            ff = vals[o] * vals[o]
            sq, sq2 = np.einsum("mn,mn->m", ff, w), np.einsum("mn,mn->m", ff, w2)
            norm[sl] = np.sqrt(sq + np.abs(sq - sq2))
    return out


def _mehler_eligible(parts: _Parts, qA, qB, c) -> tuple[np.ndarray, np.ndarray]:
    """Pairs the Mehler series serves (both variances positive, |rho| small enough, grids in budget), and rho."""
    pos = (qA > 0) & (qB > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rho = np.where(pos, c / np.sqrt(np.where(pos, qA, 1.0)) / np.sqrt(np.where(pos, qB, 1.0)), 0.0)
        rho_max = MEHLER_TOL ** (1.0 / (MEHLER_MAX_DEGREE + 1))
        ok = pos & (np.abs(rho) <= rho_max)
        for q in (qA, qB):
            ok &= _mehler_nodes(parts, np.sqrt(np.maximum(q, 0.0))) <= MEHLER_MAX_NODES
    return ok, rho


def _pair_mehler(parts: _Parts, a: int, b: int, qA, qB, rho):
    r""":math:`K_{ab}` by Mehler's formula: value, error bound, :math:`\|f\|\|g\|`.

    With :math:`u=s_1X`, :math:`v=s_2Y`, :math:`\operatorname{corr}(X,Y)=\rho`,
    :math:`E[f(u)g(v)]=\sum_{n\ge0}\rho^n\alpha_n\beta_n` (:math:`\alpha_n,\beta_n` the normalised Hermite
    coefficients of :math:`f=\sigma^{(a)}(s_1\cdot)`, :math:`g=\sigma^{(b)}(s_2\cdot)`). By Cauchy–Schwarz and
    Parseval the tail beyond degree :math:`N` is at most :math:`|\rho|^{N+1}\|f\|\|g\|`, whatever the
    coefficients' decay, and coefficient errors :math:`e_f, e_g` (largest over :math:`n`) change the sum by at
    most :math:`(e_f\|g\|+\|f\|e_g)/\sqrt{1-\rho^2}`. The coefficients depend on one unit only: they are
    computed once per distinct variance and derivative order and shared by every pair and kernel.
    """
    sq = np.sqrt(np.concatenate([qA, qB]))
    s_u, inv = np.unique(sq, return_inverse=True)
    inv = inv.reshape(-1)
    ia, ib = inv[: qA.size], inv[qA.size:]
    A, eA, nA = _hermite_table(parts, a, s_u)
    B, eB, nB = _hermite_table(parts, b, s_u)
    r = float(np.max(np.abs(rho))) if rho.size else 0.0
    N = MEHLER_MAX_DEGREE if r > 0 else 0
    if 0 < r < 1:
        N = min(MEHLER_MAX_DEGREE, max(1, int(np.ceil(np.log(MEHLER_TOL) / np.log(r))) - 1))
    powers = np.empty((rho.size, N + 1))
    powers[:, 0] = 1.0
    if N:
        powers[:, 1:] = rho[:, None]
        np.cumprod(powers[:, 1:], axis=1, out=powers[:, 1:])
    val = np.einsum("mn,mn,mn->m", powers, A[ia, : N + 1], B[ib, : N + 1])
    na, nb = nA[ia], nB[ib]
    absval = na * nb
    arho = np.abs(rho)
    err = (eA[ia] * nb + na * eB[ib] + MEHLER_ROUNDING * absval) / np.sqrt(1.0 - rho * rho) \
        + arho ** (N + 1) * absval
    return val, err, absval


def _pair_sorted(parts: _Parts, a: int, b: int, qA, qB, c, mA=None, mB=None):
    """K_ab with q_A >= q_B elementwise: the Mehler series where it converges fast, else the conditional rule.

    With means (``mA``, ``mB``) every pair takes the conditional rule (the Hermite tables are per
    standard deviation of a centred unit).
    """
    if mA is not None:
        return _pair_conditional(parts, a, b, qA, qB, c, mA, mB)
    ok, rho = _mehler_eligible(parts, qA, qB, c)
    val, err, absval = np.empty(qA.size), np.empty(qA.size), np.empty(qA.size)
    if ok.any():
        with np.errstate(over="ignore", invalid="ignore"):
            val[ok], err[ok], absval[ok] = _pair_mehler(parts, a, b, qA[ok], qB[ok], rho[ok])
        # an activation too large on the wider coefficient grid (|x| <= 13 standard deviations): the other rule
        ok &= np.isfinite(val) & np.isfinite(err)
        if ok.all():
            return val, err, absval
    rest = ~ok
    val[rest], err[rest], absval[rest] = _pair_conditional(parts, a, b, qA[rest], qB[rest], c[rest])
    return val, err, absval


def _pair_conditional(parts: _Parts, a: int, b: int, qA, qB, c, mA=None, mB=None):
    r"""K_ab with q_A >= q_B elementwise (u: the variable of larger variance); optional means of u and v.

    With means the saturation split is made in the centred variables: the steps
    :math:`\operatorname{erf}(\gamma u_0)`, :math:`\operatorname{erf}(\gamma v_0)` and their closed forms are
    those of the centred case and only the localised parts :math:`r_n` are shifted.
    """
    sA, sB = np.sqrt(qA), np.sqrt(qB)
    det = _gram_determinant(qA, qB, c)
    pos = qA > 0
    safe = np.where(pos, qA, 1.0)
    kap = np.where(pos, c / safe, 0.0)
    tau = np.where(pos, np.sqrt(det / safe), 0.0)
    val, err, absval = _pair_local(parts, a, b, sA, kap, tau, mA, mB)
    g = ERF_GAMMA
    if parts.limits is not None:
        if a == 0 and b == 0:
            with np.errstate(invalid="ignore"):
                arg = 2 * g * g * c / np.sqrt((1 + 2 * g * g * qA) * (1 + 2 * g * g * qB))
            val = val + parts.m ** 2 + parts.d ** 2 * (2 / np.pi) * np.arcsin(np.clip(arg, -1.0, 1.0))
            absval = absval + parts.m ** 2 + parts.d ** 2
            err = err + ROUNDING_FLOOR * (parts.m ** 2 + parts.d ** 2)
        if b == 0:  # d E[r_a(u) erf(g v)] + m E[r_a(u)]
            lam = g * kap / np.sqrt(1 + 2 * g * g * tau * tau)
            pieces = [(parts.d, _erf_cross(parts, a, sA, lam, mA))]
            if parts.m:
                pieces.append((parts.m, _single_local(parts, lambda x: parts.local((a,), x, mA)[a], sA,
                                                      0.0 if mA is None else np.abs(mA))))
            for coef, (pv, pe, pa) in pieces:
                val, err, absval = val + coef * pv, err + abs(coef) * pe, absval + abs(coef) * pa
        if a == 0:  # d E[erf(g u) r_b(v)] + m E[r_b(v)], conditioning u on v
            posB = qB > 0
            safeB = np.where(posB, qB, 1.0)
            lam = np.where(posB, g * (c / safeB) / np.sqrt(1 + 2 * g * g * det / safeB), 0.0)
            pieces = [(parts.d, _erf_cross(parts, b, sB, lam, mB))]
            if parts.m:
                pieces.append((parts.m, _single_local(parts, lambda x: parts.local((b,), x, mB)[b], sB,
                                                      0.0 if mB is None else np.abs(mB))))
            for coef, (pv, pe, pa) in pieces:
                val, err, absval = val + coef * pv, err + abs(coef) * pe, absval + abs(coef) * pa
    return val, err, absval


_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_CACHE_SIZE = 16


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, axis=0, return_inverse=True)`` for float rows (three or five columns), by one lexsort."""
    if rows.shape[0] == 0:
        return rows, np.zeros(0, dtype=np.intp)
    order = np.lexsort(rows.T[::-1])
    srt = rows[order]
    new = np.empty(rows.shape[0], dtype=bool)
    new[0] = True
    np.any(srt[1:] != srt[:-1], axis=1, out=new[1:])
    inverse = np.empty(rows.shape[0], dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return srt[new], inverse


def _pair_sorted_cached(parts: _Parts, a: int, b: int, qA, qB, c, mA=None, mB=None):
    """:func:`_pair_sorted` on the distinct canonical triples, remembering the last few batches.

    A symmetric block asks for every pair twice and the blocks ask for :math:`K_{ab}` and :math:`K_{ba}`
    (the same canonical computation), so this roughly halves the work of a Hessian.
    """
    means = mA is not None
    rows = np.stack([qA, qB, c] + ([mA, mB] if means else []), axis=1)
    uniq, inverse = _unique_rows(rows)
    key = (parts.act, a, b, uniq.shape, hashlib.blake2b(uniq.tobytes(), digest_size=16).digest())
    hit = _CACHE.get(key)
    if hit is None:
        cols = [uniq[:, j].copy() for j in range(uniq.shape[1])]
        hit = _pair_sorted(parts, a, b, *cols)
        _CACHE[key] = hit
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return tuple(t[inverse] for t in hit)


def note_estimate(val, err, absval, label: str) -> float:
    """The worst estimated error relative to E|integrand|, recorded for :func:`record_quadrature`.

    Raises :class:`~symhess.errors.SymhessAccuracyError` (``"<label> gave a non-finite value"``) when a
    value is not finite; every quadrature route reports through here.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(absval > 0, err / np.where(absval > 0, absval, 1.0), err)
    worst = float(np.max(rel)) if rel.size else 0.0
    if not np.all(np.isfinite(val)):
        raise SymhessAccuracyError(f"{label} gave a non-finite value")
    rec = _RECORD.get()
    if rec is not None:
        rec.note(worst)
    return worst


def _report(act, val, err, absval, what: str) -> None:
    worst = note_estimate(val, err, absval, f"quadrature of {what} for {act.spec!r}")
    if worst > REFINEMENT_RTOL:
        warnings.warn(
            f"quadrature of {what} for {act.spec!r} may be inaccurate: estimated relative error "
            f"{worst:.1e} (relative to E|integrand|) from the step-h/2h/4h rules. The activation's "
            "analytic_strip() may be missing or too large.",
            SymhessAccuracyWarning,
            stacklevel=4,
        )


def gaussian_pair_quadrature(act, a: int, b: int, q1, q2, c, *, with_error: bool = False, m1=None, m2=None):
    r""":math:`E[\sigma^{(a)}(u)\sigma^{(b)}(v)]`, :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])`, vectorised.

    With means ``m1``, ``m2`` (hidden biases) :math:`(u,v)\sim N((m_1,m_2),[[q_1,c],[c,q_2]])`: the nodes
    of the localised parts are shifted and their ranges widened by :math:`|m|` (the node count is
    still bounded by the Gaussian's range), with the same error estimate.

    Parameters
    ----------
    act : Activation
        Provides ``numeric_derivatives``, ``analytic_strip()`` and ``saturation()``.
    a, b : int
        Derivative orders.
    q1, q2, c : array_like
        Variances and covariance (broadcast together).
    with_error : bool
        Also return the error estimate (absolute) of each value.

    Notes
    -----
    The saturation split, the conditional double trapezoidal rule on the activation's and the Gaussian's
    scales, and the error estimate are described in the module docstring. Cost: for :math:`|\rho|\lesssim0.74`
    (Mehler's series) at most :math:`N+1=129` multiply-adds per pair after one table of Hermite coefficients
    per distinct variance (a few hundred activation evaluations each); otherwise at most about
    :math:`2UN/d_\sigma\times4UN/d_\sigma` evaluations per distinct pair (:math:`\approx 240\times470` for
    tanh at any variance; :math:`97\times97` at unit variance), each tanh evaluated once for all the
    derivative orders it serves.

    Raises
    ------
    SymhessAccuracyError
        An activation without ``saturation()`` at variances its rule cannot resolve.
    """
    _warn(act, "trapezoidal")
    means = m1 is not None or m2 is not None
    m1 = 0.0 if m1 is None else m1
    m2 = 0.0 if m2 is None else m2
    q1, q2, c, m1, m2 = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (q1, q2, c, m1, m2)))
    shape = q1.shape
    q1, q2, c = (np.maximum(q1.ravel(), 0.0), np.maximum(q2.ravel(), 0.0), c.ravel())
    m1, m2 = m1.ravel(), m2.ravel()
    val, err, absval = np.zeros(q1.size), np.zeros(q1.size), np.zeros(q1.size)
    if q1.size:
        parts = _Parts(act)
        # canonical order: outer variable = larger variance (ties: larger order), so K_ab(q1,q2,c) and
        # K_ba(q2,q1,c) are one computation
        swap = (q2 > q1) | ((q2 == q1) & (b > a))
        for sel, (o, i, qo, qi, mo, mi) in ((~swap, (a, b, q1, q2, m1, m2)), (swap, (b, a, q2, q1, m2, m1))):
            if sel.any():
                extra = (mo[sel], mi[sel]) if means else ()
                val[sel], err[sel], absval[sel] = _pair_sorted_cached(parts, o, i, qo[sel], qi[sel], c[sel], *extra)
    _report(act, val, err, absval, f"E[s^({a})(u) s^({b})(v)]")
    if with_error:
        return val.reshape(shape), err.reshape(shape)
    return val.reshape(shape)


def gaussian_single_quadrature(act, a: int, b: int, m: int, q, *, with_error: bool = False, mean=None):
    r""":math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`, vectorised.

    ``b = -1`` means no second factor (:math:`E[\sigma^{(a+m)}(h)]`). With ``mean``,
    :math:`h\sim N(\text{mean},q)`: the integrand is evaluated at shifted nodes, the subtracted step
    stays centred, and the range is widened by :math:`|\text{mean}|`.

    The :math:`m`-th derivative of the product is expanded by Leibniz' rule,
    :math:`g=\sum_k\binom{m}{k}\sigma^{(a+k)}\sigma^{(b+m-k)}`; for a saturating activation its limits
    :math:`g_\pm` are subtracted with the smooth step,
    :math:`E[g]=\tfrac12(g_++g_-)+E[g-\tfrac12(g_++g_-)-\tfrac12(g_+-g_-)\operatorname{erf}(\gamma h)]`, and the
    localised rest is integrated by the one-dimensional trapezoidal rule of the module docstring.
    """
    _warn(act, "trapezoidal")
    if b == -1:
        a, m = a + m, 0
    q = np.asarray(q, dtype=float)
    shift = None if mean is None else np.broadcast_to(np.asarray(mean, dtype=float), q.shape).ravel()
    shape = q.shape
    if q.size == 0:
        return (np.empty(shape), np.empty(shape)) if with_error else np.empty(shape)
    parts = _Parts(act)
    if b == -1:
        orders = (a,)
    else:
        orders = tuple(sorted({a + k for k in range(m + 1)} | {b + m - k for k in range(m + 1)}))
    lim = (0.0, 0.0)
    if parts.limits is not None and a == b == m == 0:
        lim = (parts.limits[0] ** 2, parts.limits[1] ** 2)
    elif parts.limits is not None and b == -1 and a == 0:
        lim = parts.limits
    mean, half = 0.5 * (lim[1] + lim[0]), 0.5 * (lim[1] - lim[0])

    def g(x, subtract, sh=None):
        d = act.numeric_derivatives(orders, x if sh is None else x + sh[:, None])
        total = np.zeros(x.shape)
        if b == -1:
            total += d[a]
        for k in range(m + 1 if b != -1 else 0):
            total += comb(m, k) * d[a + k] * d[b + m - k]
        if subtract:
            total -= mean + half * special.erf(ERF_GAMMA * x)
        return total

    s = np.sqrt(np.maximum(q.ravel(), 0.0))
    val, err, absval = np.empty(s.size), np.empty(s.size), np.empty(s.size)
    # the limits are subtracted only where the Gaussian reaches beyond the activation's bend; below,
    # the Gaussian alone bounds the range and subtracting would cost relative accuracy (tanh^2 at small q)
    wide = (GRID_HALF_WIDTH * s > parts.reach) & (parts.limits is not None)
    for sel, sub in ((wide, True), (~wide, False)):
        if sel.any():
            sh = None if shift is None else shift[sel]
            v_, e_, a_ = _single_local(parts, lambda x, sub=sub, sh=sh: g(x, sub, sh), s[sel],
                                       0.0 if sh is None else np.abs(sh))
            if sub:
                v_, a_, e_ = v_ + mean, a_ + abs(mean), e_ + ROUNDING_FLOOR * abs(mean)
            val[sel], err[sel], absval[sel] = v_, e_, a_
    _report(act, val, err, absval, f"E[(s^({a}) s^({b}))^({m})(h)]")
    if with_error:
        return val.reshape(shape), err.reshape(shape)
    return val.reshape(shape)


def gauss_hermite_pair(act, a: int, b: int, q1, q2, c, n: int = DEFAULT_NODES) -> np.ndarray:
    r""":math:`E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` by tensor Gauss–Hermite quadrature, vectorised.

    Parameters
    ----------
    act : Activation
        Provides ``numeric(order)``.
    a, b : int
        Derivative orders.
    q1, q2, c : array_like
        Variances and covariance (broadcast together).
    n : int
        Nodes per dimension.
    """
    _warn(act)
    q1, q2, c = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (q1, q2, c)))
    shape = q1.shape
    q1, q2, c = q1.ravel(), q2.ravel(), c.ravel()
    s1 = np.sqrt(np.maximum(q1, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_s2 = np.where(s1 > 0, c / np.where(s1 > 0, s1, 1.0), 0.0)  # = rho * sqrt(q2)
    rest = np.sqrt(np.maximum(q2 - rho_s2**2, 0.0))
    x, w = _rule(n)
    fa, fb = act.numeric(a), act.numeric(b)
    out = np.empty(q1.size)
    step = max(1, _CHUNK // (n * n))
    for lo in range(0, q1.size, step):
        sl = slice(lo, lo + step)
        u = s1[sl, None] * x[None, :]  # (m, n)
        gu = fa(u) * w[None, :]
        v = rho_s2[sl, None, None] * x[None, :, None] + rest[sl, None, None] * x[None, None, :]
        gv = fb(v) @ w  # (m, n): integrate z2 first
        out[sl] = np.einsum("mi,mi->m", gu, gv)
    return out.reshape(shape)


def gauss_hermite_single(act, a: int, b: int, m: int, q, n: int = 2 * DEFAULT_NODES) -> np.ndarray:
    r""":math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`, by Gauss–Hermite quadrature.

    The :math:`m`-th derivative of the product is expanded by Leibniz' rule,
    :math:`\sum_k\binom{m}{k}\sigma^{(a+k)}\sigma^{(b+m-k)}`.
    """
    _warn(act)
    q = np.asarray(q, dtype=float)
    x, w = _rule(n)
    h = np.sqrt(np.maximum(q, 0.0))[..., None] * x
    total = np.zeros(h.shape)
    for k in range(m + 1):
        total += comb(m, k) * act.numeric(a + k)(h) * act.numeric(b + m - k)(h)
    return total @ w
