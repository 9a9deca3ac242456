r"""Symmetric matrices that are positive semi-definite in exact arithmetic: symmetrise, and check within an error.

Place in the package: engine, numeric linear algebra (NumPy and SciPy only).

A Gauss–Newton matrix :math:`E[\nabla f\nabla f^\top]` is symmetric and positive semi-definite; one
assembled from numerically integrated expectations is so only up to the integration error.
:func:`symmetrize_in_place` restores the symmetry exactly, and :func:`check_psd` raises unless
:math:`\lambda_{\min}\ge-\delta` for the stated error :math:`\delta`.
"""

from __future__ import annotations

import numpy as np

from ..errors import SymhessAccuracyError
from .lanczos import lanczos

__all__ = ["symmetrize_in_place", "check_psd", "PSD_CERTIFY_MAX", "PSD_LANCZOS_STEPS"]

#: largest P whose positive semi-definiteness is certified by a shifted Cholesky factorisation
PSD_CERTIFY_MAX = 4000
#: Lanczos steps of the cheaper check above PSD_CERTIFY_MAX
PSD_LANCZOS_STEPS = 12


def symmetrize_in_place(H: np.ndarray, tile: int = 128) -> float:
    """Replace ``H`` by ``(H + H.T) / 2`` in place, tile by tile (no second P x P array); return ``||H||_F`` after.

    Each pair of mirror tiles is averaged in cache (tiles of 128 x 128: their transposes stay in cache), and the
    Frobenius norm is summed from the same tiles, so no further pass over the matrix is needed for it.
    """
    P = H.shape[0]
    sq = 0.0
    for i0 in range(0, P, tile):
        i1 = min(i0 + tile, P)
        blk = H[i0:i1, i0:i1]
        blk += blk.T.copy()
        blk *= 0.5
        sq += float(np.einsum("ij,ij->", blk, blk))
        for j0 in range(i1, P, tile):
            j1 = min(j0 + tile, P)
            upper, lower = H[i0:i1, j0:j1], H[j0:j1, i0:i1]
            upper += lower.T
            upper *= 0.5
            lower[...] = upper.T
            sq += 2.0 * float(np.einsum("ij,ij->", upper, upper))
    return float(np.sqrt(sq))


def check_psd(H: np.ndarray, delta: float, what: str) -> None:
    r"""Raise :class:`~symhess.errors.SymhessAccuracyError` if the symmetric ``H`` has an eigenvalue below :math:`-\delta`.

    For :math:`P\le` :data:`PSD_CERTIFY_MAX` a Cholesky factorisation of :math:`H+\delta I` certifies
    :math:`\lambda_{\min}\ge-\delta` (cost :math:`P^3/3`); above, :data:`PSD_LANCZOS_STEPS` Lanczos steps
    (:func:`symhess.linalg.lanczos.lanczos`, :math:`O(P^2)` each) give a Ritz value
    :math:`\ge\lambda_{\min}`, which detects a violation without certifying its absence.
    """
    P = H.shape[0]
    if P == 0:
        return
    if P <= PSD_CERTIFY_MAX:
        try:
            np.linalg.cholesky(H + delta * np.eye(P))
            return
        except np.linalg.LinAlgError:
            lam = float(np.linalg.eigvalsh(H)[0])
    else:
        start = np.random.default_rng(0).standard_normal((P, 1))
        lam = float(lanczos(H, start, min(PSD_LANCZOS_STEPS, P)).ritz(0)[0][0])
    if lam >= -delta:
        return
    raise SymhessAccuracyError(
        f"the {what} has an eigenvalue {lam:.3g} below minus its stated error {delta:.2g} "
        f"(||H||_F = {float(np.linalg.norm(H)):.3g}); it is positive semi-definite in exact arithmetic, so the "
        "quadrature behind it is less accurate than its error estimate says. Not returned."
    )
