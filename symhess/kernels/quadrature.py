r"""Gauss–Hermite quadrature for Gaussian expectations without a closed form.

Place in the pipeline: layer 5 (NumPy only, plus the activation's numeric derivatives).

For :math:`(u, v) \sim N(0, [[q_1, c], [c, q_2]])` write :math:`u=\sqrt{q_1}\,z_1`,
:math:`v=\rho\sqrt{q_2}\,z_1+\sqrt{q_2(1-\rho^2)}\,z_2` with :math:`\rho=c/\sqrt{q_1q_2}` and
:math:`z_1, z_2` independent standard normals, and integrate on the tensor grid of
probabilists' Gauss–Hermite nodes. The rule is exact for polynomials of degree
:math:`\le 2n-1` in each variable; for smooth activations (tanh) the error falls geometrically
with ``n``, for steep ones (large scale) slowly: callers receive a
:class:`~symhess.errors.QuadratureWarning`.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from math import comb

import numpy as np

from ..errors import QuadratureWarning

__all__ = ["gauss_hermite_pair", "gauss_hermite_single", "DEFAULT_NODES"]

#: default number of nodes per dimension
DEFAULT_NODES = 64
_CHUNK = 4_000_000  # grid evaluations per chunk, bounds the temporary memory


@lru_cache(maxsize=None)
def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / np.sqrt(2 * np.pi)


def _warn(act) -> None:
    warnings.warn(
        f"no closed form for the Gaussian expectations of {act.spec!r}: computed by Gauss-Hermite "
        "quadrature (accuracy depends on the activation's smoothness)",
        QuadratureWarning,
        stacklevel=4,
    )


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
