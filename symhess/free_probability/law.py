r"""Spectral laws given by an algebraic Stieltjes equation: density, CDF, index, moments.

Place in the package: the free-probability family (arrays only; the factory :func:`pennington_bahri` fetches
compiled coefficients from ``symhess.free_probability.coefficients`` inside the function).

A law :class:`FreeSumLaw` is defined by the real coefficients of

.. math::

    P(G,z) = \sum_{k=0}^{d} (a_k + z\,b_k)\,G^k = 0 ,\qquad
    G(z) = \int\frac{\rho(t)\,dt}{z-t},\qquad \rho(\lambda) = -\frac1\pi\operatorname{Im}G(\lambda+i0^+),

written as :math:`P = A(G) + z B(G)`, so that :math:`z = K(G) = -A(G)/B(G)` is the functional
inverse of :math:`G` (for a free sum :math:`K = R + 1/G`).

**Root selection.** :math:`G` is the branch that is analytic in the upper half plane with
:math:`G(z)\sim 1/z` at infinity (Herglotz: :math:`\operatorname{Im}G<0` there). For each
requested :math:`z = x + iy` it is followed *along the vertical path* from
:math:`x + iy_0`, :math:`y_0 = 8(S+|x|)` far above the spectrum (where the physical root is
the small one, :math:`G\approx 1/z`) down to :math:`x+iy`, in geometric steps with a tangent
predictor :math:`dG/dz=-P_z/P_G` and Newton correction. The path stays in the upper half
plane, where the physical branch is analytic, so it cannot jump to another sheet unless a
step is too coarse; every step checks the Newton residual and the Herglotz sign, and points
that fail are redone with finer steps. Real :math:`x` end at :math:`y = 10^{-12}S` and are
polished by Newton at :math:`y=0`.

**Support.** Square-root edges are critical values of :math:`K` on the real :math:`G` axis,
:math:`K(g)` with :math:`A'B-AB'=0` at real :math:`g`; hard edges and atoms sit where the
leading coefficient :math:`a_d + z b_d` vanishes. Between consecutive candidates the density is
either zero or positive throughout (it can only open or close at a branch point), so one
evaluation at each midpoint classifies the intervals.

**Atoms.** Near an atom of mass :math:`m` at :math:`z_0`, :math:`G\simeq m/(z-z_0)` is large and
:math:`K(G)=z` gives :math:`R(G) = z_0 - (1-m)/G + o(1/G)`. Hence
:math:`z_0 = R(\infty)` and :math:`m = 1 + \lim_{G\to\infty} G\,(R(G)-R(\infty))` when this is
positive (for a free sum this is Bercovici–Voiculescu's rule
:math:`\mu\boxplus\nu(\{a+b\})=\max(0,\mu(\{a\})+\nu(\{b\})-1)`). :math:`R = N/D` is read off
the coefficients: :math:`B = G D` and :math:`A = -(G N + D)`.

**Integrals.** On each support interval :math:`[l,r]` the substitution
:math:`x = l + (r-l)(1-\cos\theta)/2` turns :math:`\rho\,dx` into an analytic function of
:math:`\theta\in[0,\pi]` (square-root edges become :math:`\sin(\theta/2)` factors). It is
interpolated at Chebyshev points of the first kind (adaptively, until the tail coefficients
are below :math:`10^{-13}`; endpoints, where a hard edge's density is infinite, are never
evaluated), which gives the CDF by integrating the series and moments by Fejér quadrature.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.polynomial import chebyshev as C
from numpy.polynomial import polynomial as Pn

from ..errors import SymhessAccuracyWarning, SymhessError

__all__ = ["FreeSumLaw", "PenningtonBahriLaw", "pennington_bahri"]

#: final distance to the real axis of the continuation path, relative to the law's scale
_ETA_FLOOR = 1e-12
#: geometric ratio of the continuation steps (refined on failure)
_STEP_RATIO = 1.6


@dataclass(frozen=True)
class _Interval:
    left: float
    right: float
    coeffs: np.ndarray  # Chebyshev coefficients of F(theta) on s = 2 theta/pi - 1
    mass: float
    nodes_x: np.ndarray  # Fejer nodes in x
    weights: np.ndarray  # weights * density, so that sum(weights * f(nodes_x)) = int f rho dx


def _trim_high(c: np.ndarray, tol: float) -> np.ndarray:
    c = np.array(c, dtype=float)
    scale = np.max(np.abs(c)) if c.size else 0.0
    n = c.size
    while n > 1 and abs(c[n - 1]) <= tol * scale:
        n -= 1
    return c[:n]


def _fejer(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chebyshev points of the first kind on [-1, 1], Fejer weights, and the DCT-II matrix.

    Returns ``(s, w, T)``: nodes ``s_j = cos(pi (j + 1/2) / n)`` (the endpoints, where a hard
    edge's density is infinite, are never evaluated), weights with ``sum(w f(s)) ~ int f``, and
    ``T`` with ``c = T @ f(s)`` the Chebyshev coefficients of the interpolant.
    """
    j = np.arange(n)
    theta = np.pi * (j + 0.5) / n
    s = np.cos(theta)
    k = np.arange(n)
    T = (2.0 / n) * np.cos(np.outer(k, theta))
    T[0] /= 2
    kf = k.astype(float)
    integrals = np.zeros(n)
    even = k % 2 == 0
    integrals[even] = 2.0 / (1.0 - kf[even] ** 2)
    w = integrals @ T
    return s, w, T


def _map_nodes(n: int, l: float, r: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes :math:`x = l + (r-l)\sin^2(\theta/2)`, :math:`\theta = \pi(1+s)/2`, and :math:`\sin\theta`.

    Written without cancellation: :math:`u=(1+s)/2=\cos^2(\vartheta_j/2)` and
    :math:`1-u=\sin^2(\vartheta_j/2)` for the Chebyshev angles :math:`\vartheta_j`, and
    :math:`x` measured from the nearer endpoint (edge densities behave like
    :math:`\sqrt{x-l}`, so :math:`x-l` must be accurate to full relative precision).
    """
    vartheta = np.pi * (np.arange(n) + 0.5) / n
    u = np.cos(vartheta / 2) ** 2  # (1 + s) / 2, theta = pi u
    one_minus_u = np.sin(vartheta / 2) ** 2
    half = np.pi * u / 2  # theta / 2
    left = l + (r - l) * np.sin(half) ** 2
    right = r - (r - l) * np.sin(np.pi * one_minus_u / 2) ** 2  # cos(theta/2) = sin(pi (1-u) / 2)
    x = np.where(u <= 0.5, left, right)
    sin_theta = 2 * np.sin(half) * np.sin(np.pi * one_minus_u / 2)
    return x, sin_theta


class FreeSumLaw:
    r"""A probability law on :math:`\mathbb R` whose Stieltjes transform solves :math:`P(G,z)=0`.

    Parameters
    ----------
    a, b : array_like
        Real coefficients, lowest order first, of :math:`P(G,z)=\sum_k (a_k + z b_k)G^k`.
    name : str
        Shown by ``repr``.

    Attributes
    ----------
    support : tuple of (float, float)
        Intervals where the absolutely continuous density is positive.
    atoms : tuple of (float, float)
        ``(location, mass)`` of the point masses.
    scale : float
        Largest absolute support point (sets tolerances and the continuation's starting height).

    Notes
    -----
    :meth:`pdf` returns the density of the absolutely continuous part; :meth:`cdf` and
    :meth:`index` include the atoms. Never NaN on the real line: outside the support the
    density is exactly 0, and NaN input raises ``ValueError``.
    """

    def __init__(self, a: Sequence[float], b: Sequence[float], *, name: str = "free sum") -> None:
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        if a.shape != b.shape or a.ndim != 1 or a.size < 2:
            raise ValueError(f"coefficients a and b must be 1-D of equal length >= 2, got {a.shape}, {b.shape}")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise ValueError("coefficients of the Stieltjes polynomial must be finite")
        d = a.size - 1
        while d > 0 and a[d] == 0.0 and b[d] == 0.0:
            d -= 1
        if d < 1:
            raise ValueError("the Stieltjes polynomial must have degree >= 1 in G")
        self.a = a[: d + 1].copy()
        self.b = b[: d + 1].copy()
        self.degree = d
        self.name = name
        self._tables: list[_Interval] | None = None
        self.atoms = self._find_atoms()
        self.scale = 1.0
        cands = self._edge_candidates()
        self.scale = max([abs(c) for c in cands] + [abs(x) for x, _ in self.atoms] + [1e-300])
        if self.scale == 1e-300:
            raise SymhessError(f"{name}: no spectral edge found; is P(G, z) a Stieltjes equation?")
        self.support = self._classify(cands)

    # -- polynomial helpers -----------------------------------------------------------------
    def _coeffs(self, z: np.ndarray) -> np.ndarray:
        """``c[k, ...] = a_k + z b_k``."""
        return self.a.reshape((-1,) + (1,) * z.ndim) + np.multiply.outer(self.b, z)

    @staticmethod
    def _horner(c: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``P(g)`` and ``dP/dg`` for coefficient stack ``c`` (lowest first)."""
        p = c[-1] * np.ones_like(g)
        dp = np.zeros_like(g)
        for k in range(c.shape[0] - 2, -1, -1):
            dp = dp * g + p
            p = p * g + c[k]
        return p, dp

    def _pz(self, g: np.ndarray) -> np.ndarray:
        return Pn.polyval(g, self.b)

    # -- atoms and support ----------------------------------------------------------------------
    def _find_atoms(self) -> tuple[tuple[float, float], ...]:
        # B = G D, A = -(G N + D): recover N and D of R = N / D
        if self.b[0] != 0.0:
            return ()
        D = self.b[1:]
        GN = -self.a - np.concatenate([D, [0.0]])
        if abs(GN[0]) > 1e-13 * max(np.max(np.abs(GN)), 1.0):
            return ()  # A(0) != -D(0): not of the free-sum form; no atom information
        N = GN[1:]
        tol = 1e-13
        N = _trim_high(N, tol)
        D = _trim_high(D, tol)
        if not np.any(D) or N.size > D.size:
            return ()  # R(G) grows at infinity (a semicircle part): no atoms
        r_inf = N[-1] / D[-1] if N.size == D.size else 0.0
        rem = _trim_high(Pn.polysub(N, r_inf * D), tol) if N.size == D.size else N
        if not np.any(rem):
            lim = 0.0
        elif rem.size == D.size - 1:
            lim = rem[-1] / D[-1]
        elif rem.size < D.size - 1:
            lim = 0.0
        else:  # pragma: no cover - excluded by the degree bookkeeping above
            return ()
        mass = 1.0 + lim
        if mass <= 1e-13:
            return ()
        return ((float(r_inf), float(min(mass, 1.0))),)

    def _edge_candidates(self) -> list[float]:
        A, B = self.a, self.b
        crit = Pn.polysub(Pn.polymul(Pn.polyder(A), B), Pn.polymul(A, Pn.polyder(B)))
        crit = _trim_high(crit, 1e-15)
        out: list[float] = []
        if crit.size > 1:
            for g in Pn.polyroots(crit):
                if abs(g.imag) > 1e-7 * max(abs(g), 1e-300):
                    continue
                g = g.real
                bg = Pn.polyval(g, B)
                if g == 0.0 or abs(bg) < 1e-14 * max(np.max(np.abs(B)), 1e-300) * max(abs(g), 1.0) ** B.size:
                    continue
                x = -Pn.polyval(g, A) / bg
                if np.isfinite(x):
                    out.append(float(x))
        if self.b[-1] != 0.0:
            out.append(float(-self.a[-1] / self.b[-1]))
        out += [x for x, _ in self.atoms]
        out = sorted(out)
        merged: list[float] = []
        for x in out:
            if not merged or x - merged[-1] > 1e-12 * max(abs(x), abs(merged[-1]), 1e-300):
                merged.append(x)
        return merged

    def _classify(self, cands: list[float]) -> tuple[tuple[float, float], ...]:
        if len(cands) < 2:
            raise SymhessError(f"{self.name}: fewer than two edge candidates {cands}")
        mids = np.array([(l + r) / 2 for l, r in zip(cands[:-1], cands[1:])])
        g = self._boundary(mids)
        dens = np.maximum(-g.imag, 0.0) / np.pi
        keep = dens > 1e-9 / self.scale
        intervals = [(cands[i], cands[i + 1]) for i in np.flatnonzero(keep)]
        if not intervals:
            raise SymhessError(f"{self.name}: no interval with positive density among {cands}")
        return tuple(intervals)

    # -- Stieltjes transform ------------------------------------------------------------------
    def _continue(self, x: np.ndarray, y: np.ndarray, ratio: float) -> tuple[np.ndarray, np.ndarray]:
        """Follow the physical root from ``x + i y0`` down to ``x + i y``; return (G, ok)."""
        y0 = 8.0 * (self.scale + np.abs(x))
        y = np.minimum(y, y0)
        n_steps = int(np.ceil(np.log(np.max(y0 / y)) / np.log(ratio))) if x.size else 0
        z = x + 1j * y0
        g = 1.0 / z
        ok = np.ones(x.shape, dtype=bool)
        # converge on the physical root at the top of the path
        for _ in range(40):
            p, dp = self._horner(self._coeffs(z), g)
            step = p / dp
            g = g - step
            if np.all(np.abs(step) <= 1e-15 * np.abs(g)):
                break
        log_y0, log_y = np.log(y0), np.log(y)
        for k in range(1, n_steps + 1):
            z_new = x + 1j * np.exp(log_y0 + (log_y - log_y0) * (k / n_steps))
            c_old = self._coeffs(z)
            _, dp = self._horner(c_old, g)
            dgdz = -self._pz(g) / dp
            g = g + dgdz * (z_new - z)
            c_new = self._coeffs(z_new)
            for _ in range(4):
                p, dp = self._horner(c_new, g)
                step = p / dp
                g = g - step
            z = z_new
            scale_p = np.sum(np.abs(c_new) * np.abs(g) ** np.arange(self.degree + 1).reshape(-1, 1), axis=0)
            p, _ = self._horner(c_new, g)
            # near a square-root edge the two merging roots are only resolved to ~sqrt(eps), so
            # the Herglotz check tolerates a relative 1e-6 of the wrong sign
            bad = ~np.isfinite(g) | (np.abs(p) > 1e-8 * scale_p) | (g.imag > 1e-6 * np.abs(g))
            ok &= ~bad
        return g, ok

    def _stieltjes_upper(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        g, ok = self._continue(x, y, _STEP_RATIO)
        ratio = _STEP_RATIO
        for _ in range(3):
            if np.all(ok):
                break
            ratio = math.sqrt(ratio)
            idx = np.flatnonzero(~ok)
            g_re, ok_re = self._continue(x[idx], y[idx], ratio)
            g[idx] = g_re
            ok[idx] = ok_re
        if not np.all(ok):
            warnings.warn(
                f"{self.name}: root continuation did not converge at {np.count_nonzero(~ok)} point(s); "
                "the density there may be inaccurate", SymhessAccuracyWarning, stacklevel=3)
            g = np.where(np.isfinite(g), g, 0.0)
        return g

    def _boundary(self, x: np.ndarray) -> np.ndarray:
        """Boundary values :math:`G(x+i0)` for real ``x`` (continuation, then Newton at y = 0)."""
        x = np.asarray(x, dtype=float)
        eta = np.full(x.shape, _ETA_FLOOR * self.scale)
        support = getattr(self, "support", ())
        if support:
            # near an edge (a hard edge especially) the path must end well below the distance to it
            ends = np.array([e for iv in support for e in iv] + [loc for loc, _ in self.atoms])
            dist = np.min(np.abs(x[..., None] - ends), axis=-1)
            eta = np.minimum(eta, np.maximum(1e-6 * dist, 1e-300))
        g = self._stieltjes_upper(x, eta)
        c = self._coeffs(x.astype(complex))
        gp = g.copy()
        for _ in range(4):
            p, dp = self._horner(c, gp)
            with np.errstate(divide="ignore", invalid="ignore"):
                gp = gp - p / dp
        # accept the polished root unless Newton left the basin (a large move, or onto the
        # conjugate root with Im G > 0)
        close = (np.isfinite(gp) & (np.abs(gp - g) <= 1e-3 * np.abs(g) + 1e-12 / self.scale)
                 & (gp.imag <= 1e-12 * np.abs(gp)))
        return np.where(close, gp, g)

    def stieltjes(self, z: complex | np.ndarray) -> np.ndarray:
        r"""Stieltjes transform :math:`G(z)=\int\rho(t)\,dt/(z-t)` (including atoms).

        For real ``z`` the boundary value :math:`G(z+i0)` is returned; for
        :math:`\operatorname{Im}z<0`, :math:`\overline{G(\bar z)}`.
        """
        z = np.asarray(z, dtype=complex)
        if not np.all(np.isfinite(z)):
            raise ValueError("stieltjes: z must be finite")
        flat = z.ravel()
        out = np.empty(flat.shape, dtype=complex)
        lower = flat.imag < 0
        w = np.where(lower, np.conj(flat), flat)
        real = w.imag == 0
        if np.any(real):
            out[real] = self._boundary(w.real[real])
        if np.any(~real):
            out[~real] = self._stieltjes_upper(w.real[~real], w.imag[~real])
        out = np.where(lower, np.conj(out), out)
        return out.reshape(z.shape)

    # -- density ----------------------------------------------------------------------------------
    def _in_support(self, x: np.ndarray) -> np.ndarray:
        inside = np.zeros(x.shape, dtype=bool)
        for l, r in self.support:
            inside |= (x > l) & (x < r)
        return inside

    def _density(self, x: np.ndarray) -> np.ndarray:
        """Density at points known to lie inside the support."""
        x = np.array(x, dtype=float)
        # an atom inside the support: the ac density there is the limit from both sides
        for loc, _ in self.atoms:
            near = np.abs(x - loc) < 1e-9 * self.scale
            if np.any(near):
                h = 1e-9 * self.scale
                out = self._density(np.where(near, loc + h, x))
                out_l = self._density(np.where(near, loc - h, x))
                return np.where(near, (out + out_l) / 2, out)
        g = self._boundary(x)
        return np.maximum(-g.imag, 0.0) / np.pi

    def pdf(self, x: float | np.ndarray) -> np.ndarray:
        r"""Density :math:`\rho(x) = -\operatorname{Im}G(x+i0)/\pi` of the absolutely continuous part.

        Vectorised; exactly 0 outside :attr:`support` (and at :math:`\pm\infty`); never NaN.

        Raises
        ------
        ValueError
            If ``x`` contains NaN.
        """
        x = np.asarray(x, dtype=float)
        if np.any(np.isnan(x)):
            raise ValueError("pdf: x contains NaN")
        out = np.zeros(x.shape)
        inside = self._in_support(x)
        if np.any(inside):
            out[inside] = self._density(x[inside])
        return out

    # -- integrals --------------------------------------------------------------------------------
    def _build_tables(self) -> list[_Interval]:
        if self._tables is not None:
            return self._tables
        tables = []
        for l, r in self.support:
            n = 128
            while True:
                s, w, T = _fejer(n)
                xs, sin_theta = _map_nodes(n, l, r)
                dens = self._density(xs)
                g = dens * (r - l) / 2 * sin_theta * (np.pi / 2)  # integrand in s
                c = T @ g
                tail = np.max(np.abs(c[-max(8, n // 16):]))
                if tail <= 1e-13 * np.max(np.abs(c)) or n >= 4096:
                    if n >= 4096 and tail > 1e-9 * np.max(np.abs(c)):
                        warnings.warn(f"{self.name}: density on [{l:.6g}, {r:.6g}] is not resolved "
                                      f"(Chebyshev tail {tail:.1e}); CDF accurate to about that",
                                      SymhessAccuracyWarning, stacklevel=3)
                    break
                n *= 2
            ci = C.chebint(c, lbnd=-1)
            tables.append(_Interval(l, r, ci, float(np.dot(w, g)), xs, w * g))
        total = sum(t.mass for t in tables) + sum(m for _, m in self.atoms)
        if abs(total - 1.0) > 1e-8:
            warnings.warn(f"{self.name}: total mass {total!r} differs from 1 by {abs(total - 1):.2e}; "
                          "support detection or root selection may have failed", SymhessAccuracyWarning,
                          stacklevel=3)
        self._tables = tables
        return tables

    def cdf(self, x: float | np.ndarray) -> np.ndarray:
        r"""Cumulative distribution :math:`F(x)=\mu((-\infty,x])`, atoms included (right-continuous)."""
        x = np.asarray(x, dtype=float)
        if np.any(np.isnan(x)):
            raise ValueError("cdf: x contains NaN")
        out = np.zeros(x.shape)
        for t in self._build_tables():
            left = x >= t.right
            out[left] += t.mass
            mid = (x > t.left) & (x < t.right)
            if np.any(mid):
                # theta = 2 arcsin(sqrt((x - l)/(r - l))), without cancellation at either end
                frac = np.clip((x[mid] - t.left) / (t.right - t.left), 0.0, 1.0)
                theta = np.where(frac <= 0.5, 2 * np.arcsin(np.sqrt(frac)),
                                 np.pi - 2 * np.arcsin(np.sqrt(np.clip((t.right - x[mid]) / (t.right - t.left), 0, 1))))
                out[mid] += C.chebval(2 * theta / np.pi - 1, t.coeffs)
        for loc, m in self.atoms:
            out[x >= loc] += m
        return np.clip(out, 0.0, 1.0)

    def index(self) -> float:
        r"""Fraction of negative eigenvalues :math:`\alpha=\mu((-\infty,0))` (an atom at 0 does not count)."""
        below = float(np.nextafter(0.0, -1.0))
        ac = float(self.cdf(below)) - sum(m for loc, m in self.atoms if loc <= below)
        return max(ac, 0.0) + sum(m for loc, m in self.atoms if loc < 0)

    def moment(self, k: int) -> float:
        r""":math:`\int\lambda^k\,d\mu(\lambda)` (Fejér quadrature on the support, plus atoms)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"moment order k={k!r} must be a non-negative integer")
        total = sum(float(np.dot(t.weights, t.nodes_x**k)) for t in self._build_tables())
        return total + sum(m * loc**k for loc, m in self.atoms)

    def mean(self) -> float:
        """First moment."""
        return self.moment(1)

    def var(self) -> float:
        """Variance."""
        return self.moment(2) - self.moment(1) ** 2

    def __repr__(self) -> str:
        sup = ", ".join(f"[{l:.6g}, {r:.6g}]" for l, r in self.support)
        atoms = ", ".join(f"{m:.6g} at {x:.6g}" for x, m in self.atoms) or "none"
        return f"<{self.name}: support {sup}; atoms {atoms}>"


def _real_param(value: object, name: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}={value!r} must be a real number")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name}={value!r} must be finite")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name}={value!r} must be {'>= 0' if allow_zero else '> 0'}")
    return v


class PenningtonBahriLaw(FreeSumLaw):
    r"""Spectral law of :math:`H=H_0+H_1` in the Pennington–Bahri model (see :func:`pennington_bahri`)."""

    def __init__(self, phi: float, eps: float, activation: str, scale: float, a, b) -> None:
        self.phi = phi
        self.eps = eps
        self.activation = activation
        self.mp_scale = scale
        super().__init__(a, b, name=f"Pennington-Bahri law ({activation}, phi={phi:g}, eps={eps:g}, scale={scale:g})")

    @property
    def critical_energy(self) -> float:
        r""":math:`\epsilon_c(\phi)` of this model (0 for :math:`\phi\ge 1`)."""
        from .addition import critical_energy

        return critical_energy(self.phi, self.activation, scale=self.mp_scale)

    def free_cumulants(self, order: int = 4) -> list[float]:
        r""":math:`\kappa_1..\kappa_k`: :math:`\kappa_k^{H_0}=\sigma^k\phi^{k-1}` plus those of :math:`H_1`."""
        p, e, s = self.phi, self.eps, self.mp_scale
        out = []
        for k in range(1, order + 1):
            kap = s**k * p ** (k - 1)
            if self.activation == "linear":
                kap += 2 * e if k == 2 else 0.0
            elif k % 2 == 0:
                kap += p ** (k - 1) * (e / 2) ** (k // 2)
            out.append(kap)
        return out


def pennington_bahri(
    phi: float,
    eps: float,
    *,
    activation: str = "linear",
    scale: float = 1.0,
) -> PenningtonBahriLaw:
    r"""Spectral law of the Pennington–Bahri Hessian model :math:`H = H_0 + H_1`.

    :math:`H_0` is Wishart (Marchenko–Pastur of ratio :math:`\phi` and scale :math:`\sigma`,
    :math:`R_{H_0}(w)=\sigma/(1-\sigma\phi w)`) and :math:`H_1` is freely independent of it:

    * ``activation="linear"``: Wigner, semicircle of variance :math:`2\epsilon`,
      :math:`R_{H_1}=2\epsilon w`;
    * ``activation="relu"``: the slides' block off-diagonal :math:`H_1`,
      :math:`R_{H_1}=\epsilon\phi w/(2-\epsilon\phi^2w^2)` (variance :math:`\epsilon\phi/2`).

    :math:`G` solves the derived polynomial equation :math:`R_{H_0}(G)+R_{H_1}(G)+1/G=z`
    (:mod:`symhess.free_probability.addition`) and
    :math:`\rho(\lambda)=-\operatorname{Im}G(\lambda+i0^+)/\pi`.

    Parameters
    ----------
    phi : float
        Ratio of parameters to data points, :math:`\phi > 0` (the slides' :math:`\tau`).
    eps : float
        Energy :math:`\epsilon\ge 0` of the critical point (:math:`\epsilon=0`: pure Wishart).
    activation : {"linear", "relu"}
        Which :math:`H_1` law.
    scale : float
        Marchenko–Pastur scale :math:`\sigma>0` (mean eigenvalue of :math:`H_0`), default 1.

    Returns
    -------
    PenningtonBahriLaw
        With ``pdf``, ``cdf``, ``index``, ``stieltjes``, ``moment``, ``support``, ``atoms``,
        ``critical_energy``.

    Raises
    ------
    ValueError
        ``phi <= 0``, ``eps < 0``, ``scale <= 0``, a non-finite value, or an unknown activation.
    TypeError
        A parameter that is not a real number.

    Examples
    --------
    >>> law = pennington_bahri(phi=0.5, eps=0.1)
    >>> round(float(law.cdf(10.0)), 12), round(law.mean(), 10), round(law.var(), 10)
    (1.0, 1.0, 0.7)
    >>> law.index() > 0 and law.critical_energy < 0.1
    True
    """
    p = _real_param(phi, "phi", allow_zero=False)
    e = _real_param(eps, "eps", allow_zero=True)
    s = _real_param(scale, "scale", allow_zero=False)
    from .coefficients import compile_free_sum

    compiled = compile_free_sum(activation)
    a, b = compiled(p, e, s)
    return PenningtonBahriLaw(p, e, compiled.activation, s, a, b)
