r"""Random *rational* teachers, for exact (rank over :math:`\mathbb Q`) and ball-arithmetic routes.

Place in the package: the two-layer teacher-student family (NumPy and :mod:`fractions` only).

Entries are :math:`k/D` with :math:`k` the nearest integer to :math:`D\,\xi`,
:math:`\xi\sim N(0,\sigma^2)`, and zero redrawn, so every entry is a nonzero rational; a row equal to
plus or minus another row (two copies of one unit, likely for :math:`N_i=1` on the grid :math:`1/D`)
is redrawn too. The default
denominator :math:`D=2^{10}` is a power of two: such numbers are *exactly* representable as
``float64``, so the floating-point, ball-arithmetic and exact routes all see the same point.

Why a random rational point: the rank of the expected Hessian is a polynomial condition on the
weights (minors that vanish or not), so it equals its *generic* value outside a proper algebraic
subset. At any particular point the rank is at most the generic rank; an exact rank computed at
one rational point is therefore a certified **lower bound** for the generic rank, and equals it
unless the point is (improbably) special.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..validation import as_rng, check_size
from .teacher import teacher_variances

__all__ = ["rational_teacher", "rational_biases", "DEFAULT_DENOMINATOR"]

#: default denominator of rational teachers (a power of two: exact in float64)
DEFAULT_DENOMINATOR = 1024


def _check_denominator(denominator: object) -> int:
    if isinstance(denominator, bool) or not isinstance(denominator, (int, np.integer)):
        raise TypeError(f"denominator={denominator!r} must be a positive integer")
    if denominator < 1:
        raise ValueError(f"denominator={denominator} must be >= 1")
    return int(denominator)


def _rational_normal(gen: np.random.Generator, std: float, size: tuple, den: int) -> np.ndarray:
    """Object array of nonzero ``Fraction(k, den)``, ``k = round(den * N(0, std^2))``."""
    k = np.rint(gen.normal(0.0, std, size=size) * den).astype(np.int64)
    while np.any(k == 0):  # redraw exact zeros (a zero weight is a special, non-generic point)
        zero = k == 0
        k[zero] = np.rint(gen.normal(0.0, std, size=int(zero.sum())) * den).astype(np.int64)
    out = np.empty(size, dtype=object)
    flat = out.reshape(-1)
    for idx, val in enumerate(k.reshape(-1).tolist()):
        flat[idx] = Fraction(val, den)
    return out


def rational_teacher(
    n_in: int,
    n_hidden: int,
    rng: object = None,
    *,
    denominator: int = DEFAULT_DENOMINATOR,
    var_w: float | None = None,
    var_v: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw a teacher with nonzero rational entries :math:`k/D` close to :math:`N(0,\sigma^2)` draws.

    Parameters
    ----------
    n_in, n_hidden : int
        Input dimension :math:`N_i` and hidden width :math:`N_h`.
    rng : None, int or numpy.random.Generator
        Randomness source.
    denominator : int
        The common denominator :math:`D` (default :math:`2^{10}`; a power of two keeps the weights
        exactly representable in float64).
    var_w, var_v : float, optional
        Variances of the underlying normal draws; default :math:`1/N_i` and :math:`1/N_h`.

    Returns
    -------
    W : ndarray of Fraction, shape (n_hidden, n_in)
    v : ndarray of Fraction, shape (n_hidden,)
        Object arrays of :class:`fractions.Fraction`; ``W.astype(float)`` gives the float weights.

    Examples
    --------
    >>> W, v = rational_teacher(3, 2, rng=0, denominator=8)
    >>> W.shape, v.shape, W[0, 0]
    ((2, 3), (2,), Fraction(1, 8))
    """
    n_in = check_size(n_in, "n_in")
    n_hidden = check_size(n_hidden, "n_hidden")
    den = _check_denominator(denominator)
    var_w, var_v = teacher_variances(n_in, n_hidden, var_w, var_v)
    gen = as_rng(rng)
    W = _rational_normal(gen, np.sqrt(var_w), (n_hidden, n_in), den)
    while True:  # redraw rows equal to +-another row (duplicate units: a special, rank-deficient point)
        seen: dict[tuple, int] = {}
        dup = []
        for i in range(n_hidden):
            key = tuple(W[i].tolist())
            if W[i, 0] < 0:
                key = tuple((-W[i]).tolist())
            if key in seen:
                dup.append(i)
            seen.setdefault(key, i)
        if not dup:
            break
        W[dup] = _rational_normal(gen, np.sqrt(var_w), (len(dup), n_in), den)
    v = _rational_normal(gen, np.sqrt(var_v), (n_hidden,), den)
    return W, v


def rational_biases(
    n_hidden: int,
    rng: object = None,
    *,
    denominator: int = DEFAULT_DENOMINATOR,
    var_b: float = 1.0,
) -> tuple[np.ndarray, Fraction]:
    r"""Draw rational hidden biases :math:`b_i` (shape ``(n_hidden,)``) and an output bias :math:`b_0`.

    Same construction as :func:`rational_teacher` (nonzero :math:`k/D`), variance ``var_b``.

    Examples
    --------
    >>> b, b0 = rational_biases(2, rng=1, denominator=4)
    >>> b.shape, type(b0).__name__
    ((2,), 'Fraction')
    """
    n_hidden = check_size(n_hidden, "n_hidden")
    den = _check_denominator(denominator)
    if not np.isfinite(var_b) or var_b <= 0:
        raise ValueError(f"var_b={var_b} must be a positive finite variance")
    gen = as_rng(rng)
    draws = _rational_normal(gen, np.sqrt(var_b), (n_hidden + 1,), den)
    return draws[:n_hidden], draws[n_hidden]
