r"""Independent reference for free additive convolutions: subordination + quadrature.

Nothing here uses the Stieltjes polynomial or its root selection. The Stieltjes transforms of
the summands come from numerical quadrature of their closed-form densities, and the free sum
from the Belinschi–Bercovici fixed point: for :math:`\mu=\mu_1\boxplus\mu_2` and
:math:`\operatorname{Im}z>0`, :math:`\omega_1(z)` is the attracting fixed point of

.. math:: w \mapsto z + h_2\big(z + h_1(w)\big),\qquad h_i(w) = 1/G_i(w) - w,

and :math:`G_\mu(z) = G_1(\omega_1(z))` (S. Belinschi and H. Bercovici, Math. Z. 2007).
"""

from __future__ import annotations

import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(3000)


def _edge_quadrature(w: np.ndarray, density, left: float, right: float) -> np.ndarray:
    """``int_left^right density(x) / (w - x) dx`` with the substitution x = l + (r-l) sin^2(t/2)."""
    t = (np.pi / 2) * (_NODES + 1)
    x = left + (right - left) * np.sin(t / 2) ** 2
    jac = (right - left) / 2 * np.sin(t) * (np.pi / 2)
    vals = density(x) * jac * _WEIGHTS
    return np.sum(vals / (w[..., None] - x), axis=-1)


def free_poisson_stieltjes(w: np.ndarray, rate: float, jump: float) -> np.ndarray:
    r"""G of the free Poisson law of rate :math:`\lambda` and jump :math:`t` (R = λt/(1-tw)).

    Density (in units of the jump): atom :math:`(1-\lambda)_+` at 0 and
    :math:`\sqrt{(x-a)(b-x)}/(2\pi x)` on :math:`[a, b] = [(1-\sqrt\lambda)^2, (1+\sqrt\lambda)^2]`.
    """
    w = np.asarray(w, dtype=complex)
    a, b = (1 - np.sqrt(rate)) ** 2, (1 + np.sqrt(rate)) ** 2

    def dens(x):
        return np.sqrt(np.maximum((x - a) * (b - x), 0.0)) / (2 * np.pi * x)

    u = w / jump  # law of jump * X: G(w) = G_X(w / jump) / jump
    g = _edge_quadrature(u, dens, a, b) + max(0.0, 1 - rate) / u
    return g / jump


def semicircle_stieltjes(w: np.ndarray, variance: float) -> np.ndarray:
    """G of the semicircle law of the given variance, by quadrature of its density."""
    w = np.asarray(w, dtype=complex)
    r = 2 * np.sqrt(variance)

    def dens(x):
        return np.sqrt(np.maximum(r**2 - x**2, 0.0)) / (2 * np.pi * variance)

    return _edge_quadrature(w, dens, -r, r)


def reflect(stieltjes):
    """G of the law of -X from G of X: G_{-X}(w) = -G_X(-w)."""
    return lambda w: -stieltjes(-np.asarray(w, dtype=complex))


def subordinate(g1, g2, z: np.ndarray, *, tol: float = 1e-13, max_iter: int = 20000) -> np.ndarray:
    """Stieltjes transform of mu1 [+] mu2 at z (Im z > 0) by the Belinschi–Bercovici iteration."""
    z = np.asarray(z, dtype=complex)

    def h(g, w):
        return 1.0 / g(w) - w

    w = z.copy()
    for _ in range(max_iter):
        w_new = z + h(g2, z + h(g1, w))
        if np.max(np.abs(w_new - w)) <= tol * np.max(np.abs(w_new)):
            w = w_new
            break
        w = w_new
    else:
        raise RuntimeError("subordination did not converge")
    return g1(w)
