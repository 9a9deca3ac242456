r"""Four-point Gaussian expectations without a closed form: a tensor Gauss–Hermite rule, batched.

Place in the package: engine, kernels (NumPy only, plus the activation's numeric derivatives).

For :math:`y\sim N(0, C)` in four dimensions,

.. math::

    K_{abcd}(C) = E\big[\sigma^{(a)}(y_1)\sigma^{(b)}(y_2)\sigma^{(c)}(y_3)\sigma^{(d)}(y_4)\big]
    = \int \prod_{j=1}^4\varphi(z_j)\;\prod_{\alpha=1}^4\sigma^{(o_\alpha)}\big((Az)_\alpha\big)\,dz,
    \qquad A = V\Lambda^{1/2},\quad C = V\Lambda V^\top,

the eigen-factorisation :math:`C=AA^\top` (negative rounding residue of the eigenvalues clipped at 0),
so a singular :math:`C` (repeated units, the teacher fixed point) needs no special case. The integral is a
tensor product of ``n``-node probabilists' Gauss–Hermite rules in :math:`z`, for a whole batch of
covariances at once (:math:`n^4` nodes per covariance, processed in chunks).

**Error estimate.** The same integral with a coarser rule of ``n_coarse`` nodes per dimension;
:math:`|Q_n-Q_{n_c}|` estimates the error of the coarser rule, which exceeds that of :math:`Q_n` when the
rule converges (an estimate, not a proven bound: the tests check it against the erf closed form and
against a rule of many more nodes). When the estimate exceeds ``rtol`` times :math:`E|\text{integrand}|`
(the sum of absolute values the rule accumulates) :class:`~symhess.errors.SymhessAccuracyError` is raised
instead of returning a number that may be wrong.

**Scope.** Gauss–Hermite converges fast for activations analytic near the real axis on the scale of
:math:`\sqrt{\lambda_{\max}(C)}`; for tanh at variances :math:`O(1)` the default rule (``n = 20``) meets
:math:`10^{-8}`; at large variances tanh becomes a step on the Gaussian's scale and the check raises.
Kinked activations (ReLU: a jump in :math:`\sigma'`) converge algebraically and are refused by the caller
(:func:`symhess.kernels.codegen.compile_four_point_kernel`).
"""

from __future__ import annotations

from functools import lru_cache
from math import gamma

import numpy as np

from ..errors import InvalidParameterError, SymhessAccuracyError

__all__ = ["gaussian_four_point_quadrature", "DEFAULT_STEP", "DEFAULT_RTOL", "RADIUS"]

#: step of the trapezoidal rule in the standard-normal variables z (the error estimate uses 2 h)
DEFAULT_STEP = 0.4
#: nodes outside the ball |z| <= RADIUS are dropped (Gaussian weight below 1e-16 of the centre's)
RADIUS = 8.6
#: most lattice nodes one rule may use (about 60 bytes a node); beyond, the route raises
MAX_NODES = 30_000_000
#: the step is DEFAULT_STEP up to this largest eigenvalue of C, and shrinks like its inverse square root
LAM_REF = 1.0
#: eigenvalues below RANK_RTOL x the largest are treated as zero (changes the expectation by O(RANK_RTOL))
RANK_RTOL = 1e-12
#: safety factor of the error estimate, and the rounding floor relative to E|integrand|
SAFETY = 10.0
ROUNDING_FLOOR = 1e-12
#: largest accepted error estimate, relative to E|integrand|
DEFAULT_RTOL = 1e-6
_CHUNK = 2_000_000  # nodes x covariances evaluated at once


@lru_cache(maxsize=4)
def _rule(h: float, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trapezoidal nodes ``k h`` in the ball ``|z| <= RADIUS`` of R^dim, weights ``h^dim phi(z)``, and the
    weights of the nested rules of steps ``2h`` and ``4h`` on the same nodes (zero off their sub-lattices).

    Built one slice of the first coordinate at a time, so that no array of the enclosing cube's size is made.
    """
    m = int(np.ceil(RADIUS / h / 4)) * 4
    k = np.arange(-m, m + 1)
    R2 = (RADIUS / h) ** 2
    if dim > 1:
        rest = np.stack([g.ravel() for g in np.meshgrid(*(k,) * (dim - 1), indexing="ij")]).astype(np.int32)
    else:
        rest = np.zeros((0, 1), dtype=np.int32)
    rest2 = np.sum(rest.astype(float) ** 2, axis=0)
    slices = []
    for k0 in k:
        keep = rest2 + float(k0) ** 2 <= R2
        if np.any(keep):
            slices.append(np.vstack([np.full(int(keep.sum()), k0, dtype=np.int32), rest[:, keep]]))
    K = np.hstack(slices)
    Z = K * h
    r2 = np.sum(Z**2, axis=0)
    W = h**dim * np.exp(-0.5 * r2) / (2 * np.pi) ** (dim / 2)
    W2 = np.where(np.all(K % 2 == 0, axis=0), 2.0**dim * W, 0.0)
    W4 = np.where(np.all(K % 4 == 0, axis=0), 4.0**dim * W, 0.0)
    return np.ascontiguousarray(Z), W, W2, W4


def _apply(funcs, A: np.ndarray, h: float) -> tuple[np.ndarray, ...]:
    """Rules of steps h, 2h, 4h and E|integrand| for factors ``A`` of shape (b, 4, dim)."""
    Z, W, W2, W4 = _rule(h, A.shape[-1])
    out = np.empty((4, A.shape[0]))
    step = max(1, _CHUNK // W.size)
    for s in range(0, A.shape[0], step):
        Y = np.einsum("bij,jn->bin", A[s:s + step], Z)            # (b, 4, N)
        prod = funcs[0](Y[:, 0])
        for a in range(1, 4):
            prod = prod * funcs[a](Y[:, a])
        out[:3, s:s + step] = (prod @ np.stack([W, W2, W4], axis=1)).T
        out[3, s:s + step] = np.abs(prod) @ W
    return tuple(out)


def _estimate(T1, T2, absval):
    """Error of the rule of step h from the rule of step 2h, for geometric convergence
    E(h) ~ S x^(1/h) with S ~ E|integrand|: E(h) ~ E(2h)^2 / S ~ |T_h - T_2h|^2 / S; a safety factor and a
    rounding floor are added."""
    d1 = np.abs(T1 - T2)
    return SAFETY * d1**2 / np.maximum(absval, 1e-300) + ROUNDING_FLOOR * absval


def gaussian_four_point_quadrature(act, orders: tuple[int, int, int, int], C, *, step: float = DEFAULT_STEP,
                                   rtol: float = DEFAULT_RTOL, with_error: bool = False):
    r""":math:`E[\prod_\alpha\sigma^{(o_\alpha)}(y_\alpha)]`, :math:`y\sim N(0,C)`, for a batch of covariances.

    Parameters
    ----------
    act : Activation
        Provides ``numeric(order)``.
    orders : tuple of four ints
        Derivative orders :math:`(o_1,\dots,o_4)`.
    C : array_like, shape (..., 4, 4)
        Symmetric positive semi-definite covariances (singular allowed).
    step : float
        Step :math:`h` of the trapezoidal rule in the standard-normal variables (the estimate uses :math:`2h`).
    rtol : float
        Largest accepted error estimate relative to :math:`E|\text{integrand}|`; ``inf`` disables the check.
    with_error : bool
        Also return the error estimate :math:`|T_h-T_{2h}|`.

    Returns
    -------
    ndarray, shape (...)
        The expectations (and the error estimates, if ``with_error``).

    Raises
    ------
    SymhessAccuracyError
        If an error estimate exceeds ``rtol`` times :math:`E|\text{integrand}|`.
    """
    orders = tuple(int(o) for o in orders)
    if len(orders) != 4 or min(orders) < 0:
        raise InvalidParameterError(f"orders={orders!r} must be four derivative orders >= 0")
    if not (0 < float(step) <= 2.0):
        raise InvalidParameterError(f"step={step!r} must be in (0, 2]")
    C = np.asarray(C, dtype=float)
    if C.shape[-2:] != (4, 4):
        raise InvalidParameterError(f"C of shape {C.shape} must have shape (..., 4, 4)")
    batch = C.shape[:-2]
    Cf = C.reshape(-1, 4, 4)
    if not np.all(np.isfinite(Cf)):
        raise InvalidParameterError("C has non-finite entries")
    lam, V = np.linalg.eigh(0.5 * (Cf + np.swapaxes(Cf, -1, -2)))
    A = V * np.sqrt(np.clip(lam, 0.0, None))[:, None, :]
    funcs = [act.numeric(o) for o in orders]
    # numerical rank: eigen-directions below RANK_RTOL of the largest change the expectation by O(lam)
    rank = np.sum(lam > RANK_RTOL * np.maximum(lam[:, -1:], 1e-300), axis=1)
    val, err, absval = (np.zeros(len(Cf)) for _ in range(3))
    # the step in z shrinks with the largest standard deviation (levels of a factor 0.8 above LAM_REF),
    # and is finer in fewer dimensions where nodes are cheap
    level = np.ceil(np.log(np.maximum(lam[:, -1], LAM_REF) / LAM_REF) / np.log(1 / 0.8**2)).astype(int)
    for r in range(1, 5):
        for j in np.unique(level[rank == r]):
            sel = np.nonzero((rank == r) & (level == j))[0]
            h = float(step) * r / 4 * 0.8**j
            nodes = np.pi ** (r / 2) / gamma(r / 2 + 1) * (RADIUS / h) ** r  # lattice points in the ball
            if nodes > MAX_NODES:
                raise SymhessAccuracyError(
                    f"four-point quadrature of {getattr(act, 'spec', act)!r}, orders {orders}: a covariance with "
                    f"largest eigenvalue {lam[sel[0], -1]:.3g} needs a rank-{r} rule of ~{nodes:.2g} nodes, beyond "
                    f"the budget of {MAX_NODES:.0e} (memory): not computed; lower the weight scale or use "
                    "second_order=False"
                )
            T1, T2, _, absv = _apply(funcs, A[sel][:, :, 4 - r:], h)
            val[sel], err[sel], absval[sel] = T1, _estimate(T1, T2, absv), absv
    zero = rank == 0   # C = 0: the integrand is the constant prod sigma^(o)(0)
    if np.any(zero):
        val[zero] = np.prod([f(np.zeros(1))[0] for f in funcs])
        absval[zero] = abs(val[zero][0])
    bad = err > rtol * absval + 1e-300
    if np.any(bad):
        k = int(np.argmax(np.where(bad, err / np.maximum(absval, 1e-300), -1)))
        raise SymhessAccuracyError(
            f"four-point quadrature of {getattr(act, 'spec', act)!r}, orders {orders}: error estimate "
            f"{err[k]:.3g} exceeds rtol={rtol:g} x E|integrand| = {rtol * absval[k]:.3g} at a covariance with "
            f"eigenvalues {np.array2string(lam[k], precision=3)} (the step h={step:g} does not resolve the "
            "activation at this variance; a smaller step resolves it at a cost growing like 1/h^4): not "
            "returning a number that may be wrong"
        )
    val = val.reshape(batch)
    return (val, err.reshape(batch)) if with_error else val
