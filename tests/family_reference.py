"""Independent high-precision references for the activation families (mpmath, ~30 digits).

Nothing here uses a kernel formula, Price's theorem or the parity decomposition of symhess:

* smooth units: tensor Gauss-Hermite quadrature of sigma^(a)(u) sigma^(b)(v) in whitened variables
  u = sqrt(q1) z1, v = sqrt(q2)(rho z1 + sqrt(1 - rho^2) z2), the derivatives sigma^(a) taken
  pointwise from the activation's SymPy expression (exact differentiation, evaluated by mpmath);
  the integrand stays smooth as |rho| -> 1, so near-singular covariances cost nothing extra;
* the ABReLU family (kinks): the inner Gaussian smoothing E[sigma(m + tau z)] =
  (b - a)(m Phi(m/tau) + tau phi(m/tau)) + a m, differentiated in m by hand, then mpmath.quad over the
  outer variable (split at the kink and on the scale of the inner width);
* sign/step: E[sign(u) sign(v)] = E_z1[sign(z1) (2 Phi(slope z1 / tau) - 1)] by mpmath.quad;
* one-unit expectations: E[G^(m)(h)] = E[G(h) He_m(h / sqrt q)] / q^(m/2) (Stein), G taken pointwise.
"""

from __future__ import annotations

from functools import lru_cache

import mpmath as mp
import sympy as sp

from symhess.symbols import z

DPS = 32


@lru_cache(maxsize=None)
def hermite_nodes(n: int):
    """Nodes and weights of E[g(Z)], Z ~ N(0, 1), exact for polynomials of degree < 2n (at DPS digits)."""
    with mp.workdps(DPS + 5):
        X, W = mp.gauss_quadrature(n, "hermite")
        root2, rootpi = mp.sqrt(2), mp.sqrt(mp.pi)
        return tuple(x * root2 for x in X), tuple(w / rootpi for w in W)


@lru_cache(maxsize=None)
def pointwise(act, order: int):
    """sigma^(order) as an mpmath function, from sympy.diff of the activation's expression."""
    expr = sp.diff(act.expr(z), z, order) if order else act.expr(z)
    return sp.lambdify(z, expr, "mpmath")


def smooth_pair(act, a: int, b: int, q1, q2, c, n: int = 60):
    """E[sigma^(a)(u) sigma^(b)(v)] by an n x n Gauss-Hermite rule (entire sigma)."""
    with mp.workdps(DPS):
        X, Wt = hermite_nodes(n)
        f, g = pointwise(act, a), pointwise(act, b)
        q1, q2, c = mp.mpf(q1), mp.mpf(q2), mp.mpf(c)
        rho = c / mp.sqrt(q1 * q2)
        tau = mp.sqrt(max(1 - rho * rho, mp.mpf(0)))
        s1, s2 = mp.sqrt(q1), mp.sqrt(q2)
        total = mp.mpf(0)
        for x, w in zip(X, Wt):
            inner = mp.fsum(w2 * g(s2 * (rho * x + tau * y)) for y, w2 in zip(X, Wt))
            total += w * f(s1 * x) * inner
        return total


def smooth_single(act, a: int, b: int, m: int, q, n: int = 60):
    """E[(sigma^(a) sigma^(b))^(m)(h)], h ~ N(0, q), by Stein's identity and a Gauss-Hermite rule."""
    with mp.workdps(DPS):
        X, Wt = hermite_nodes(n)
        f, g = pointwise(act, a), pointwise(act, b)
        q = mp.mpf(q)
        s = mp.sqrt(q)
        he = lambda k, t: mp.hermite(k, t / mp.sqrt(2)) / mp.sqrt(2) ** k  # noqa: E731  probabilists'
        return mp.fsum(w * f(s * x) * g(s * x) * he(m, x) for x, w in zip(X, Wt)) / q ** (mp.mpf(m) / 2)


# -- the ABReLU family --------------------------------------------------------------------------------


def _npdf_derivative(k: int, y):
    """d^k/dy^k phi(y) = (-1)^k He_k(y) phi(y)."""
    he = mp.hermite(k, y / mp.sqrt(2)) / mp.sqrt(2) ** k
    return (-1) ** k * he * mp.npdf(y)


def _abrelu_smoothed(sa, sb, order: int, m, tau):
    """d^order/dm^order E_zeta[sigma(m + tau zeta)] for sigma = sa min(x, 0) + sb max(x, 0)."""
    y = m / tau
    if order == 0:
        return (sb - sa) * (m * mp.ncdf(y) + tau * mp.npdf(y)) + sa * m
    if order == 1:
        return (sb - sa) * mp.ncdf(y) + sa
    return (sb - sa) * _npdf_derivative(order - 2, y) / tau ** (order - 1)


def abrelu_pair(sa, sb, a: int, b: int, q1, q2, c):
    """E[sigma^(a)(u) sigma^(b)(v)] for the ABReLU unit with slopes (sa, sb); outer order <= 2."""
    with mp.workdps(DPS):
        sa, sb = mp.mpf(sa), mp.mpf(sb)
        q1, q2, c = mp.mpf(q1), mp.mpf(q2), mp.mpf(c)
        if a > b:
            a, b, q1, q2 = b, a, q2, q1
        s1 = mp.sqrt(q1)
        slope = c / s1
        tau = mp.sqrt(q2 - c**2 / q1)
        if a == 2:  # outer (sb - sa) delta(u): the density of u at 0 times the inner value at m = 0
            return (sb - sa) * mp.npdf(0) / s1 * _abrelu_smoothed(sa, sb, b, mp.mpf(0), tau)
        if a == 0:
            outer = lambda x: sa * min(x, 0) + sb * max(x, 0)  # noqa: E731
        elif a == 1:
            outer = lambda x: sb if x > 0 else sa  # noqa: E731
        else:
            raise ValueError(a)
        integrand = lambda t: mp.npdf(t) * outer(s1 * t) * _abrelu_smoothed(sa, sb, b, slope * t, tau)  # noqa: E731
        width = 10 * tau / abs(slope) if slope != 0 else mp.mpf(1)
        cuts = sorted({mp.mpf(0), min(width, 4), -min(width, 4), mp.mpf(4), mp.mpf(-4)})
        return mp.quad(integrand, [-mp.inf, *cuts, mp.inf])


def abrelu_single(sa, sb, a: int, b: int, m: int, q):
    """E[(sigma^(a) sigma^(b))^(m)(h)] for a, b <= 1 (pointwise products), by Stein and mpmath.quad."""
    with mp.workdps(DPS):
        sa, sb, q = mp.mpf(sa), mp.mpf(sb), mp.mpf(q)
        piece = {0: lambda x: sa * min(x, 0) + sb * max(x, 0), 1: lambda x: sb if x > 0 else sa}
        he = lambda k, t: mp.hermite(k, t / mp.sqrt(2)) / mp.sqrt(2) ** k  # noqa: E731
        s = mp.sqrt(q)
        f = lambda t: mp.npdf(t) * piece[a](s * t) * piece[b](s * t) * he(m, t)  # noqa: E731
        return mp.quad(f, [-mp.inf, -4, 0, 4, mp.inf]) / q ** (mp.mpf(m) / 2)


def sign_pair(kind: str, q1, q2, c):
    """E[sigma(u) sigma(v)] for sign or step, by one quadrature over the outer variable."""
    with mp.workdps(DPS):
        q1, q2, c = mp.mpf(q1), mp.mpf(q2), mp.mpf(c)
        slope, tau = c / mp.sqrt(q1), mp.sqrt(q2 - c**2 / q1)
        if kind == "sign":
            f = lambda t: mp.npdf(t) * mp.sign(t) * (2 * mp.ncdf(slope * t / tau) - 1)  # noqa: E731
            return mp.quad(f, [-mp.inf, -4, 0, 4, mp.inf])
        f = lambda t: mp.npdf(t) * mp.ncdf(slope * t / tau)  # noqa: E731
        return mp.quad(f, [0, 4, mp.inf])
