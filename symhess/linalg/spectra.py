r"""Eigenvalues and spectral summaries of symmetric matrices (arrays only, no SymPy).

Place in the package: engine, numeric linear algebra. The numerical-rank rule used throughout symhess is the
scale-aware one of ``numpy.linalg.matrix_rank`` for symmetric matrices: eigenvalues with
:math:`|\lambda| > \tau`, :math:`\tau = \max|\lambda|\cdot P\cdot\varepsilon_{64}` unless given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["eigenvalues", "default_tolerance", "SpectrumSummary", "spectrum_summary"]


def _as_symmetric(H: np.ndarray) -> np.ndarray:
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"expected a square matrix, got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("matrix has non-finite entries")
    scale = max(np.abs(H).max(), 1.0)
    if np.abs(H - H.T).max() > 1e-8 * scale:
        raise ValueError(f"matrix is not symmetric (max |H - H^T| = {np.abs(H - H.T).max():.3g})")
    return H


def eigenvalues(H: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of a symmetric matrix (LAPACK ``syevd`` through ``numpy.linalg.eigvalsh``)."""
    return np.linalg.eigvalsh(_as_symmetric(H))


def default_tolerance(eigs: np.ndarray) -> float:
    r"""Scale-aware zero threshold :math:`\max|\lambda|\cdot P\cdot\varepsilon_{64}`."""
    eigs = np.asarray(eigs, dtype=float)
    if eigs.size == 0:
        return 0.0
    return float(np.abs(eigs).max() * eigs.size * np.finfo(float).eps)


@dataclass(frozen=True)
class SpectrumSummary:
    """Summary of a spectrum: size, extremes, trace, rank at the tolerance used, smallest nonzero."""

    n: int
    min: float
    max: float
    trace: float
    rank: int
    tolerance: float
    min_nonzero: float
    n_negative: int

    def __str__(self) -> str:
        return (
            f"P = {self.n}, eigenvalues in [{self.min:.6g}, {self.max:.6g}], trace = {self.trace:.6g}\n"
            f"numerical rank = {self.rank} (tolerance {self.tolerance:.3g}), smallest nonzero = "
            f"{self.min_nonzero:.6g}, negative eigenvalues = {self.n_negative}"
        )


def spectrum_summary(eigs: np.ndarray, tol: float | None = None) -> SpectrumSummary:
    """Summarise a spectrum given as an array of eigenvalues."""
    eigs = np.sort(np.asarray(eigs, dtype=float))
    tol = default_tolerance(eigs) if tol is None else float(tol)
    nonzero = eigs[np.abs(eigs) > tol]
    return SpectrumSummary(
        n=int(eigs.size), min=float(eigs[0]), max=float(eigs[-1]), trace=float(eigs.sum()),
        rank=int(nonzero.size), tolerance=tol,
        min_nonzero=float(np.abs(nonzero).min()) if nonzero.size else 0.0,
        n_negative=int((eigs < -tol).sum()),
    )
