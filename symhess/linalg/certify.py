r"""Proofs of positive definiteness and nonsingularity in ball arithmetic (``flint.arb``).

Place in the package: engine, numeric linear algebra (python-flint; no SymPy). The matrices come from
:mod:`symhess.two_layer.balls`, rebuilt at increasing precision until the proof goes through.

**Interval Cholesky.** Run the Cholesky recurrence

.. math::

    L_{jj} = \Big(A_{jj} - \sum_{k<j}L_{jk}^2\Big)^{1/2},\qquad
    L_{ij} = \Big(A_{ij} - \sum_{k<j}L_{ik}L_{jk}\Big)\Big/L_{jj}\quad(i>j)

with every quantity a ball. Ball arithmetic is inclusion-monotone, so the exact symmetric matrix
inside the balls produces pivots inside the computed pivot balls; if every pivot ball lies in
:math:`(0,\infty)`, the exact matrix has a Cholesky factorisation with positive pivots, i.e. it is
positive definite. A pivot ball that touches zero means "not decided at this precision", never
"singular": precision is then doubled.

**Smallest eigenvalue.** An upper bound is the Rayleigh quotient :math:`x^\top Ax/x^\top x` of an
approximate eigenvector (inverse iteration on the midpoint matrix) evaluated in balls; a lower
bound :math:`\mu` is proved by an interval Cholesky of :math:`A-\mu I`.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import flint
import numpy as np


__all__ = [
    "interval_cholesky", "certify_positive_definite", "PDCertificate", "eigenvalue_enclosure",
    "certify_nonsingular", "PRECISIONS",
]


@contextmanager
def arb_precision(bits: int) -> Iterator[None]:
    """Set ``flint.ctx.prec`` (bits) inside the block and restore it afterwards."""
    old = flint.ctx.prec
    flint.ctx.prec = int(bits)
    try:
        yield
    finally:
        flint.ctx.prec = old


#: default precision ladder (bits)
PRECISIONS = (128, 256, 512, 1024, 2048, 4096)


def _entries(A: flint.arb_mat) -> np.ndarray:
    n, m = A.nrows(), A.ncols()
    return np.array(A.entries(), dtype=object).reshape(n, m)


def interval_cholesky(A: flint.arb_mat) -> np.ndarray | None:
    """Ball Cholesky factor of a symmetric ball matrix (lower triangle read), or ``None`` if undecided.

    Uses the current ``flint.ctx.prec``. Returns an object array ``L`` of balls.
    """
    n = A.nrows()
    if A.ncols() != n:
        raise ValueError(f"expected a square matrix, got {A.nrows()}x{A.ncols()}")
    a = _entries(A)
    L = np.zeros((n, n), dtype=object)
    for j in range(n):
        pivot = a[j, j] - (L[j, :j].dot(L[j, :j]) if j else 0)
        if not pivot > 0:
            return None
        d = pivot.sqrt()
        L[j, j] = d
        if j + 1 < n:
            col = a[j + 1:, j] - (L[j + 1:, :j].dot(L[j, :j]) if j else 0)
            L[j + 1:, j] = col / d
    return L


@dataclass(frozen=True)
class PDCertificate:
    """Outcome of :func:`certify_positive_definite`.

    Attributes
    ----------
    proved : bool
        True: the exact matrix is positive definite.
    prec : int
        Precision (bits) of the last attempt (the successful one when ``proved``).
    matrix : flint.arb_mat or None
        The ball matrix of the last attempt.
    """

    proved: bool
    prec: int
    matrix: flint.arb_mat | None


def certify_positive_definite(
    build: Callable[[int], flint.arb_mat], precisions: tuple[int, ...] = PRECISIONS
) -> PDCertificate:
    """Try an interval Cholesky of ``build(prec)`` at each precision until it proves positive definiteness."""
    A = None
    prec = precisions[0]
    for prec in precisions:
        with arb_precision(prec):
            A = build(prec)
            if interval_cholesky(A) is not None:
                return PDCertificate(True, prec, A)
    return PDCertificate(False, prec, A)


def _outward(x: flint.arb, up: bool) -> float:
    """A float64 bound on a ball's upper (``up``) or lower end, rounded outward."""
    end = x.upper() if up else x.lower()
    val = float(end.mid())
    return float(np.nextafter(val, np.inf if up else -np.inf))


def eigenvalue_enclosure(A: flint.arb_mat, prec: int, *, iterations: int = 40) -> tuple[float, float]:
    r"""Rigorous bounds ``(lo, hi)`` on the smallest eigenvalue of a symmetric positive definite ball matrix.

    ``hi`` is a Rayleigh quotient (inverse iteration on the midpoint); ``lo`` is the largest of
    :math:`\mu = hi\,(1-\delta)`, :math:`\delta\in\{10^{-6},10^{-3},0.1,0.5,0.9\}`, for which
    :math:`A-\mu I` passes an interval Cholesky (``0.0`` if none does).
    """
    n = A.nrows()
    with arb_precision(prec):
        mid = A.mid()
        x = flint.arb_mat(n, 1, [flint.arb(1 + flint.fmpq(k, 3 * n)) for k in range(n)])
        for _ in range(iterations):
            y = mid.solve(x, algorithm="approx")
            scale = max(abs(float(y[k, 0].mid())) for k in range(n)) or 1.0
            x = flint.arb_mat(n, 1, [flint.arb(y[k, 0].mid()) / flint.arb(scale) for k in range(n)])
            x = x.mid()
        rq = (x.transpose() * A * x)[0, 0] / (x.transpose() * x)[0, 0]
        hi_ball = rq.upper()
        lo = 0.0
        for delta in (1e-6, 1e-3, 1e-1, 0.5, 0.9):
            mu = flint.arb(hi_ball.mid()) * flint.arb(1 - delta)
            shifted = A - mu * flint.arb_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
            if interval_cholesky(shifted) is not None:
                lo = _outward(mu, up=False)
                break
        return lo, _outward(rq, up=True)


def certify_nonsingular(
    build: Callable[[int], flint.arb_mat], precisions: tuple[int, ...] = PRECISIONS
) -> tuple[bool, int, flint.arb | None]:
    """Prove that the square ball matrix ``build(prec)`` is nonsingular: its determinant ball excludes 0.

    Returns ``(proved, prec, det)``.
    """
    det = None
    prec = precisions[0]
    for prec in precisions:
        with arb_precision(prec):
            A = build(prec)
            det = A.det()
            if not det.contains(0):
                return True, prec, det
    return False, prec, det
