r"""Gaussian expectations without a closed form: trapezoidal and Gauss–Hermite quadrature.

Place in the package: engine, kernels (NumPy only, plus the activation's numeric derivatives).

For :math:`(u, v) \sim N(0, [[q_1, c], [c, q_2]])` write :math:`u=\sqrt{q_1}\,z_1`,
:math:`v=\rho\sqrt{q_2}\,z_1+\sqrt{q_2(1-\rho^2)}\,z_2` with :math:`\rho=c/\sqrt{q_1q_2}` and
:math:`z_1, z_2` independent standard normals.

**The kernels' rule** (:func:`gaussian_pair_quadrature`, :func:`gaussian_single_quadrature`) is the
trapezoidal rule on a uniform grid :math:`z = kh`, :math:`|z|\le L`, with the Gaussian density in the
integrand. For an integrand analytic in the strip :math:`|\operatorname{Im} z| < d` its error falls like
:math:`e^{-2\pi d/h}` (Trefethen & Weideman, SIAM Rev. 56 (2014)), so the step is tied to the
activation: if :math:`\sigma` is analytic for :math:`|\operatorname{Im} t| < d_\sigma`
(:meth:`~symhess.activations.base.Activation.analytic_strip`, :math:`\pi/2` for tanh), then
:math:`\sigma^{(a)}(s z)` is analytic for :math:`|\operatorname{Im} z| < d_\sigma/s`, and the step
:math:`h = d_\sigma / (6 s_{\max})`, with :math:`s_{\max}` the largest standard deviation in the batch,
gives :math:`e^{-12\pi}\approx 4\cdot10^{-17}` times the growth of the derivatives' poles. The rule
checks itself for free: the nodes of index divisible by 2 and by 4 form the rules of steps :math:`2h`
and :math:`4h`. With :math:`E(h)\approx Cr^{1/h}`, the differences :math:`\delta_1=|T_h-T_{2h}|\approx E(2h)`
and :math:`\delta_2=|T_{2h}-T_{4h}|\approx E(4h)` give :math:`E(h)\approx\delta_1^3/\delta_2^2`
(:math:`\delta_1` itself outside the asymptotic regime, :math:`\delta_2\le\delta_1`); where that estimate
exceeds :data:`REFINEMENT_RTOL` a :class:`~symhess.errors.SymhessAccuracyWarning` says so.

Gauss–Hermite rules converge slowly for steep activations (for :math:`\tanh(sz)` with
:math:`s\approx2.3` the 64-node rule errs by 20 % on :math:`E[\tanh^{(3)}\tanh^{(1)}]`) because most of
their nodes lie far out in the tails; :func:`gauss_hermite_pair` and :func:`gauss_hermite_single` are
kept as an independent second rule for checks.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from math import comb

import numpy as np

from ..errors import QuadratureWarning, SymhessAccuracyWarning

__all__ = [
    "gaussian_pair_quadrature", "gaussian_single_quadrature", "trapezoid_rule", "error_estimate", "gauss_hermite_pair",
    "gauss_hermite_single", "DEFAULT_NODES",
]

#: default number of Gauss–Hermite nodes per dimension
DEFAULT_NODES = 64
#: half-width L of the trapezoidal grid in standard deviations (Gaussian weight below 3e-18 beyond)
GRID_HALF_WIDTH = 9.0
#: steps per strip half-width, h = d / STEPS_PER_STRIP (error about exp(-2 pi STEPS_PER_STRIP))
STEPS_PER_STRIP = 6
#: step per unit s_max where the activation states no analytic strip (entire or unknown)
DEFAULT_STEP = 0.25
#: most trapezoidal nodes per dimension (steeper cases are flagged by the refinement check)
MAX_NODES = 1025
#: estimated relative error of the step-h rule above which a warning is issued
REFINEMENT_RTOL = 1e-8
_CHUNK = 4_000_000  # grid evaluations per chunk, bounds the temporary memory


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


@lru_cache(maxsize=64)
def trapezoid_rule(step: float, half_width: float = GRID_HALF_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes :math:`z_k = kh`, :math:`|z_k|\le L`, and weights of the Gaussian trapezoidal rule.

    Returns ``(z, W)`` with ``W`` of shape ``(n, 3)``: the weights :math:`\propto \varphi(z_k)` of the
    rules of step :math:`h`, :math:`2h` and :math:`4h` (the coarser ones zero off their nodes), each
    normalised to sum to one so that constants are integrated exactly. The origin is a node.
    """
    K = 4 * int(np.ceil(half_width / (4 * step)))
    k = np.arange(-K, K + 1)
    z = step * k.astype(float)
    phi = np.exp(-0.5 * z * z)
    W = np.stack([phi, np.where(k % 2 == 0, phi, 0.0), np.where(k % 4 == 0, phi, 0.0)], axis=1)
    return z, W / W.sum(axis=0)


def _step(act, s_max: float) -> float:
    """Trapezoidal step for arguments of standard deviation up to ``s_max``, capped at MAX_NODES nodes."""
    d = act.analytic_strip()
    base = DEFAULT_STEP if d is None else float(d) / STEPS_PER_STRIP
    h = base / max(s_max, 1.0)
    return max(h, 2 * GRID_HALF_WIDTH / (MAX_NODES - 1))


def error_estimate(T: np.ndarray) -> np.ndarray:
    r"""Estimated relative error of the step-:math:`h` rule from the rules ``T[..., 0:3]`` of steps h, 2h, 4h.

    :math:`\delta_1^3/\delta_2^2` in the asymptotic regime :math:`\delta_2>\delta_1`, else
    :math:`\delta_1` (module docstring); relative to :math:`\max(|T_h|, 1)`.
    """
    d1 = np.abs(T[..., 0] - T[..., 1])
    d2 = np.abs(T[..., 1] - T[..., 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(d2 > d1, d1**3 / np.where(d2 > 0, d2, 1.0) ** 2, d1)
    return est / np.maximum(np.abs(T[..., 0]), 1.0)


def _check_refinement(act, T: np.ndarray, what: str) -> np.ndarray:
    """Warn where the estimated error of the finest rule exceeds REFINEMENT_RTOL; return that rule."""
    err = error_estimate(T)
    worst = float(np.max(err)) if err.size else 0.0
    if worst > REFINEMENT_RTOL:
        warnings.warn(
            f"quadrature of {what} for {act.spec!r} may be inaccurate: estimated relative error "
            f"{worst:.1e} from the step-h/2h/4h trapezoidal rules. The activation is steep at these weight "
            "norms, or its analytic_strip() is missing or too large.",
            SymhessAccuracyWarning,
            stacklevel=4,
        )
    return T[..., 0]


def gaussian_pair_quadrature(act, a: int, b: int, q1, q2, c) -> np.ndarray:
    r""":math:`E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` by the self-checking trapezoidal rule, vectorised.

    Parameters
    ----------
    act : Activation
        Provides ``numeric(order)`` and ``analytic_strip()``.
    a, b : int
        Derivative orders.
    q1, q2, c : array_like
        Variances and covariance (broadcast together).

    Notes
    -----
    One grid serves the whole batch, with the step set by the largest standard deviation
    :math:`s_{\max}=\max\sqrt{\max(q_1,q_2)}` (module docstring); the inner integral over
    :math:`z_2` is done first. Cost: :math:`(2L/h+1)^2` evaluations per pair (5 329 for tanh at unit
    variance).
    """
    _warn(act, "trapezoidal")
    q1, q2, c = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (q1, q2, c)))
    shape = q1.shape
    q1, q2, c = q1.ravel(), q2.ravel(), c.ravel()
    if q1.size == 0:
        return np.empty(shape)
    s1 = np.sqrt(np.maximum(q1, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_s2 = np.where(s1 > 0, c / np.where(s1 > 0, s1, 1.0), 0.0)  # = rho * sqrt(q2)
    rest = np.sqrt(np.maximum(q2 - rho_s2**2, 0.0))
    x, W = trapezoid_rule(_step(act, float(np.sqrt(max(q1.max(), q2.max(), 0.0)))))
    n = x.size
    fa, fb = act.numeric(a), act.numeric(b)
    T = np.empty((q1.size, 3))
    step = max(1, _CHUNK // (n * n))
    for lo in range(0, q1.size, step):
        sl = slice(lo, lo + step)
        fu = fa(s1[sl, None] * x[None, :])  # (m, n) over z1
        fv = fb(rho_s2[sl, None, None] * x[None, :, None] + rest[sl, None, None] * x[None, None, :])  # z1, z2
        T[sl] = np.einsum("mir,mir->mr", fu[:, :, None] * W[None], fv @ W)  # the three rules at once
    return _check_refinement(act, T, f"E[s^({a})(u) s^({b})(v)]").reshape(shape)


def gaussian_single_quadrature(act, a: int, b: int, m: int, q) -> np.ndarray:
    r""":math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`, by the self-checking trapezoidal rule.

    The :math:`m`-th derivative of the product is expanded by Leibniz' rule,
    :math:`\sum_k\binom{m}{k}\sigma^{(a+k)}\sigma^{(b+m-k)}`.
    """
    _warn(act, "trapezoidal")
    q = np.asarray(q, dtype=float)
    if q.size == 0:
        return np.empty(q.shape)
    x, W = trapezoid_rule(_step(act, float(np.sqrt(max(q.max(), 0.0)))) / 2)  # 1-D: halve the step, it is cheap
    h = np.sqrt(np.maximum(q, 0.0))[..., None] * x
    total = np.zeros(h.shape)
    for k in range(m + 1):
        total += comb(m, k) * act.numeric(a + k)(h) * act.numeric(b + m - k)(h)
    return _check_refinement(act, total @ W, f"E[(s^({a}) s^({b}))^({m})(h)]")


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
