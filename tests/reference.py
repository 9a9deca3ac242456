"""Independent reference values for Gaussian pair expectations (mpmath, high precision).

The routes here share no formula with symhess's kernels: the inner Gaussian integral is done with
a *different* identity (Gaussian smoothing of the activation: E[erf(s(m+tau z))] =
erf(s m / sqrt(1+2 s^2 tau^2)); E[relu(m+tau z)] = m Phi(m/tau) + tau phi(m/tau)), differentiated
in m with mpmath, and the outer integral by mpmath quadrature.
"""

from __future__ import annotations

import mpmath as mp

DPS = 25


def _erf_derivative(n: int, y):
    """d^n/dy^n erf(y) = (-1)^(n-1) (2/sqrt(pi)) H_(n-1)(y) exp(-y^2) (physicists' Hermite), n >= 1."""
    return (-1) ** (n - 1) * 2 / mp.sqrt(mp.pi) * mp.hermite(n - 1, y) * mp.exp(-(y**2))


def _npdf_derivative(k: int, y):
    """d^k/dy^k phi(y) = (-1)^k He_k(y) phi(y), He_k(y) = 2^(-k/2) H_k(y / sqrt(2))."""
    he = mp.hermite(k, y / mp.sqrt(2)) / mp.sqrt(2) ** k
    return (-1) ** k * he * mp.npdf(y)


def _smoothed(kind: str, scale, order: int, m, tau):
    """d^order/dm^order E_z[sigma(m + tau z)], z ~ N(0, 1), in closed form (Gaussian smoothing)."""
    if kind == "erf":
        kappa = scale / mp.sqrt(1 + 2 * scale**2 * tau**2)
        return mp.erf(kappa * m) if order == 0 else kappa**order * _erf_derivative(order, kappa * m)
    if kind == "relu":
        y = m / tau
        if order == 0:
            return m * mp.ncdf(y) + tau * mp.npdf(y)
        if order == 1:
            return mp.ncdf(y)
        return _npdf_derivative(order - 2, y) / tau ** (order - 1)
    raise ValueError(kind)


def _outer(kind: str, scale, order: int, x):
    """sigma^(order)(x) for the outer (unsmoothed) variable, pointwise."""
    if kind == "erf":
        return mp.erf(scale * x) if order == 0 else scale**order * _erf_derivative(order, scale * x)
    if kind == "relu":
        if order == 0:
            return max(x, 0)
        if order == 1:
            return 1 if x > 0 else 0
    raise ValueError((kind, order))


def pair_reference(kind: str, a: int, b: int, q1: float, q2: float, c: float, scale: float = 1.0):
    r"""E[sigma^(a)(u) sigma^(b)(v)], (u,v) ~ N(0, [[q1,c],[c,q2]]), to about 1e-20.

    Conditions on u = sqrt(q1) z1: v | z1 ~ N(c/sqrt(q1) z1, q2 - c^2/q1). The variable with the
    higher derivative order is put inside (smoothed) so that ReLU's distributions never appear
    pointwise; a delta on the outer variable (ReLU, order 2) is integrated out by hand.
    """
    with mp.workdps(DPS):
        q1, q2, c, s = mp.mpf(q1), mp.mpf(q2), mp.mpf(c), mp.mpf(scale)
        if a > b:  # keep the larger order inside
            a, b, q1, q2 = b, a, q2, q1
        sq1 = mp.sqrt(q1)
        slope = c / sq1
        tau = mp.sqrt(max(q2 - c**2 / q1, mp.mpf(0)))
        if kind == "relu" and a == 2:  # outer delta(u): density of u at 0 times inner value at m = 0
            return mp.npdf(0) / sq1 * _smoothed(kind, s, b, 0, tau)
        integrand = lambda z: mp.npdf(z) * _outer(kind, s, a, sq1 * z) * _smoothed(kind, s, b, slope * z, tau)  # noqa: E731
        if kind == "relu":  # outer factor vanishes for z < 0
            return mp.quad(integrand, [0, 1, 4, mp.inf])
        return mp.quad(integrand, [-mp.inf, -4, 0, 4, mp.inf])


def single_reference(kind: str, a: int, b: int, m: int, q: float, scale: float = 1.0):
    """E[(sigma^(a) sigma^(b))^(m)(h)], h ~ N(0, q), by Stein's identity E[G^(m)(h)] = E[G(h) He_m(h/sqrt q)] / q^(m/2)."""
    with mp.workdps(DPS):
        q, s = mp.mpf(q), mp.mpf(scale)

        def expect(qq):
            f = lambda z: mp.npdf(z) * _outer(kind, s, a, mp.sqrt(qq) * z) * _outer(kind, s, b, mp.sqrt(qq) * z)  # noqa: E731
            return mp.quad(f, [-mp.inf, -4, 0, 4, mp.inf])

        if m == 0:
            return expect(q)
        if m == 2:  # E[G''(h)] = E[G(h) (h^2 - q)] / q^2 (Stein twice, i.e. the Hermite polynomial He_2)
            f = lambda z: mp.npdf(z) * (z**2 - 1) * _outer(kind, s, a, mp.sqrt(q) * z) * _outer(kind, s, b, mp.sqrt(q) * z)  # noqa: E731
            return mp.quad(f, [-mp.inf, -4, 0, 4, mp.inf]) / q
        if m == 1:  # E[G'(h)] = E[h G(h)] / q (Stein)
            f = lambda z: mp.npdf(z) * mp.sqrt(q) * z * _outer(kind, s, a, mp.sqrt(q) * z) * _outer(kind, s, b, mp.sqrt(q) * z)  # noqa: E731
            return mp.quad(f, [-mp.inf, -4, 0, 4, mp.inf]) / q
        raise ValueError(m)
