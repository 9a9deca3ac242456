r"""The scalar problem behind the deep linear UFM's global optimum: threshold and scale.

Place in the package: the unconstrained-feature-model family (NumPy/SciPy only).

Minimising the regulariser of the deep linear UFM over all factorisations
:math:`Z = W_L\cdots W_1H_1` of a fixed product gives a Schatten-:math:`\tfrac{2}{L+1}` penalty
(AM-GM on balanced factors). Every one of the :math:`K` singular directions of the labels
:math:`Y=I_K\otimes\mathbf 1_n^\top` then solves the same scalar problem in
:math:`x = s/\sqrt n` (:math:`s` a singular value of :math:`Z`):

.. math::

    g(x) = \tfrac12(x-1)^2 + \tfrac{L+1}{2}\,\beta\,x^{2/(L+1)},\qquad
    \beta = K\Big(n\,\lambda_{H_1}\prod_{l=1}^L\lambda_{W_l}\Big)^{1/(L+1)} .

Its nonzero stationary points satisfy :math:`(1-x)\,x^{(L-1)/(L+1)} = \beta`; at a stationary point
:math:`g(x) = \tfrac12(1-x)(1+Lx)`, which is below :math:`g(0)=\tfrac12` iff :math:`x>(L-1)/L`.
So a nonzero global minimiser exists iff

.. math::

    \beta \le \beta_c = \frac1L\Big(\frac{L-1}{L}\Big)^{(L-1)/(L+1)},

and at :math:`\beta=\beta_c` the optimal scale jumps from :math:`x=(L-1)/L` to 0 (a first-order
transition for :math:`L\ge 2`; continuous, :math:`x = 1-\beta`, for :math:`L=1`).
"""

from __future__ import annotations

import math
import sys

from scipy.optimize import brentq

from ..errors import SymhessError

__all__ = [
    "RegularisationTooStrongError", "critical_beta", "effective_beta", "collapse_scale",
    "scale_objective", "transition_scale",
]


class RegularisationTooStrongError(SymhessError, ValueError):
    """The regularisation is above the threshold :math:`\\beta_c`: the only global minimiser is zero."""


def _depth(depth: object) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"depth={depth!r} must be an integer")
    if depth < 1:
        raise ValueError(f"depth={depth} must be >= 1")
    return depth


def critical_beta(depth: int) -> float:
    r"""Threshold :math:`\beta_c = \frac1L\left(\frac{L-1}{L}\right)^{(L-1)/(L+1)}` (1 for :math:`L=1`).

    Examples
    --------
    >>> critical_beta(1), round(critical_beta(2), 6)
    (1.0, 0.39685)
    """
    L = _depth(depth)
    return (1.0 / L) * ((L - 1) / L) ** ((L - 1) / (L + 1))


def transition_scale(depth: int) -> float:
    r"""The scale :math:`x=(L-1)/L` of the nonzero minimiser at the threshold :math:`\beta=\beta_c`."""
    L = _depth(depth)
    return (L - 1) / L


def effective_beta(n_classes: int, n_per_class: int, reg_w, reg_h: float) -> float:
    r""":math:`\beta = K\,(n\,\lambda_{H_1}\prod_l\lambda_{W_l})^{1/(L+1)}`, computed in logs (no underflow)."""
    regs = [float(r) for r in reg_w] + [float(reg_h)]
    if any(not (r > 0 and math.isfinite(r)) for r in regs):
        raise ValueError(f"regularisation strengths must be finite and > 0; got {regs}")
    log = math.log(n_per_class) + sum(math.log(r) for r in regs)
    return n_classes * math.exp(log / len(regs))


def scale_objective(x: float, beta: float, depth: int) -> float:
    r"""The per-direction objective :math:`g(x)=\tfrac12(x-1)^2+\tfrac{L+1}2\beta x^{2/(L+1)}` (:math:`x\ge0`)."""
    L = _depth(depth)
    if x < 0:
        raise ValueError(f"x={x} must be >= 0 (a singular value)")
    return 0.5 * (x - 1.0) ** 2 + 0.5 * (L + 1) * beta * x ** (2.0 / (L + 1))


def collapse_scale(beta: float, depth: int) -> float:
    r"""Largest root :math:`x^\star` of :math:`(1-x)x^{(L-1)/(L+1)}=\beta`: the optimal scale.

    The product :math:`W_L\cdots W_1H_1` at the global optimum is :math:`x^\star Y`. The root is
    found in :math:`y = 1-x\in[0, 1/L]`, where :math:`y(1-y)^{(L-1)/(L+1)}` is increasing from 0 to
    :math:`\beta_c`; Brent's method to full double precision in :math:`y`, so :math:`1-x^\star` keeps
    its relative accuracy even for tiny :math:`\beta` (where :math:`1-x^\star\approx\beta`).

    Parameters
    ----------
    beta : float
        :math:`\beta\in[0,\beta_c]`, see :func:`effective_beta`.
    depth : int
        :math:`L\ge1`.

    Raises
    ------
    RegularisationTooStrongError
        If :math:`\beta>\beta_c`; then the global minimiser is zero (no collapse).
    ValueError
        If ``beta`` is negative or not finite.

    Examples
    --------
    >>> collapse_scale(0.25, 1)
    0.75
    >>> collapse_scale(critical_beta(3), 3) == transition_scale(3)
    True
    """
    L = _depth(depth)
    beta = float(beta)
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta={beta} must be finite and >= 0")
    bc = critical_beta(L)
    if beta > bc:
        raise RegularisationTooStrongError(
            f"regularisation too strong: beta = K (n lambda_H prod lambda_W)^(1/(L+1)) = {beta:.6g} exceeds the "
            f"threshold beta_c = {bc:.6g} for depth L={L}; the only global minimiser is W_l = 0, H_1 = 0 "
            "(lower reg_w / reg_h, or the number of classes or samples per class)"
        )
    if beta == 0.0:
        return 1.0
    if beta == bc:
        return transition_scale(L)
    p = (L - 1) / (L + 1)
    y = brentq(lambda y: y * (1.0 - y) ** p - beta, 0.0, 1.0 / L, xtol=1e-300, rtol=4 * sys.float_info.epsilon, maxiter=500)
    return 1.0 - y
