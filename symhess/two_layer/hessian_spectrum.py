r"""The spectrum of an expected Hessian by the cheapest adequate route: dense or matrix-free.

Place in the package: the two-layer teacher-student family (arrays only; fetches the dense matrix or the matrix-free operator
from :mod:`symhess.two_layer.assemble` and :mod:`symhess.two_layer.hvp`).

Below ``dense_max_params`` parameters the Hessian is assembled and diagonalised (all
:math:`P` eigenvalues, LAPACK); above it only products :math:`Hx` are used
(:func:`symhess.hessian_operator`): the extreme eigenvalues by implicitly restarted Lanczos, the
trace exactly from the closed-form diagonal, and the density by stochastic Lanczos quadrature
(:mod:`symhess.linalg.slq`, whose error controls apply). Both routes return a
:class:`HessianSpectrum` with the same interface. Asking for ``method="dense"`` where the matrix would
not fit in memory raises :class:`~symhess.errors.MemoryLimitError` naming the matrix-free route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MemoryLimitError
from .assemble import expected_hessian, n_params
from .hvp import hessian_operator
from ..validation import as_weights, check_dense_size
from ..linalg.lanczos import extreme_eigenvalues
from ..linalg.slq import SpectralDensity, slq_density, spectral_wasserstein
from ..linalg.spectra import eigenvalues

__all__ = ["HessianSpectrum", "hessian_spectrum", "DENSE_MAX_PARAMS", "SPECTRUM_METHODS"]

#: default size up to which the spectrum is computed densely (eigvalsh of P = 4000: seconds)
DENSE_MAX_PARAMS = 4000
#: accepted ``method`` values
SPECTRUM_METHODS = ("auto", "dense", "matrix_free")


@dataclass(frozen=True)
class HessianSpectrum:
    r"""Spectrum of an expected Hessian, from either route.

    Attributes
    ----------
    method : str
        ``"dense"`` or ``"matrix_free"``.
    n_params : int
        :math:`P`.
    trace : float
        :math:`\operatorname{tr}H` (exact on both routes: the closed-form diagonal or the eigenvalues).
    largest : ndarray
        The largest eigenvalues, ascending.
    residuals : ndarray
        Residual bounds :math:`\|Hu-\theta u\|` of ``largest`` (matrix-free; zeros for dense).
    eigenvalues : ndarray or None
        All :math:`P` eigenvalues (dense route only).
    density : SpectralDensity or None
        SLQ estimate (matrix-free route only).
    """

    method: str
    n_params: int
    trace: float
    largest: np.ndarray
    residuals: np.ndarray
    eigenvalues: np.ndarray | None = None
    density: SpectralDensity | None = None

    def cdf(self, x: Any) -> np.ndarray:
        """Fraction of eigenvalues :math:`\\le x`: exact (dense) or the SLQ estimate."""
        if self.eigenvalues is not None:
            return np.searchsorted(self.eigenvalues, np.asarray(x, dtype=float), side="right") / self.n_params
        return self.density.cdf(x)

    def pdf(self, x: Any, sigma: float | None = None) -> np.ndarray:
        r"""Gaussian-broadened spectral density (width ``sigma``; default the SLQ node spacing, or range/100)."""
        if self.density is not None:
            return self.density.pdf(x, sigma)
        e = self.eigenvalues
        sigma = (e[-1] - e[0]) / 100 if sigma is None else float(sigma)
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        x = np.asarray(x, dtype=float)
        z = (x.ravel()[None, :] - e[:, None]) / sigma
        return (np.exp(-0.5 * z * z).sum(axis=0) / (e.size * sigma * np.sqrt(2 * np.pi))).reshape(x.shape)

    def wasserstein(self, eigs: Any) -> float:
        """:math:`W_1` distance between this spectrum and the given eigenvalues."""
        return spectral_wasserstein(eigs, self.density if self.density is not None else self.eigenvalues)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (floats and lists only)."""
        out: dict[str, Any] = {
            "method": self.method, "n_params": self.n_params, "trace": self.trace,
            "largest": [float(x) for x in self.largest],
            "max_residual": float(self.residuals.max()) if self.residuals.size else 0.0,
        }
        if self.eigenvalues is not None:
            out["smallest"] = float(self.eigenvalues[0])
        else:
            out.update(
                smallest_node=self.density.support[0], n_probes=self.density.n_probes,
                n_steps=self.density.n_steps, w1_bound=self.density.error_bound(), n_products=self.density.n_products,
            )
        return out


def hessian_spectrum(
    act: Any,
    W: Any,
    v: Any,
    W_teacher: Any = None,
    v_teacher: Any = None,
    *,
    part: str = "full",
    method: str = "auto",
    dense_max_params: int = DENSE_MAX_PARAMS,
    k: int = 6,
    n_probes: int | None = None,
    n_steps: int = 60,
    reorth: str = "full",
    rng: Any = None,
    backend: str = "numpy",
    max_bytes: int | None = None,
) -> HessianSpectrum:
    r"""Spectrum of the expected Hessian: dense up to ``dense_max_params`` parameters, matrix-free above.

    Parameters
    ----------
    act, W, v, W_teacher, v_teacher, part
        As for :func:`symhess.expected_hessian`.
    method : {"auto", "dense", "matrix_free"}
        Route; ``"auto"`` picks dense iff :math:`P\le` ``dense_max_params``.
    dense_max_params : int
        Size threshold of ``"auto"``.
    k : int
        Number of largest eigenvalues reported (matrix-free: by ``eigsh``).
    n_probes, n_steps, reorth : int or None, int, str
        SLQ error controls of :func:`symhess.linalg.slq.slq_density` (default probes:
        :func:`symhess.linalg.slq.default_probes`); see docs/matrix_free.md.
    rng : seed or Generator
        Randomness of the Lanczos start and SLQ probes.
    backend : str
        Array backend of the matrix-free products (``"numpy"``, ``"torch"``, ``"torch:cuda"``, ...).
    max_bytes : int, optional
        Memory budget of the dense matrix.

    Raises
    ------
    MemoryLimitError
        ``method="dense"`` for a matrix that does not fit; the message names the matrix-free route.

    Examples
    --------
    >>> import symhess
    >>> W, v = symhess.teacher(n_in=3, n_hidden=2, rng=0)
    >>> s = symhess.hessian_spectrum("erf", W, v)
    >>> s.method, s.n_params
    ('dense', 8)
    """
    if method not in SPECTRUM_METHODS:
        raise ValueError(f"method={method!r} is unknown; choose one of {SPECTRUM_METHODS}")
    W, v = as_weights(W, v)
    P = n_params(W.shape[1], W.shape[0])
    if method == "auto":
        method = "dense" if P <= dense_max_params else "matrix_free"
    rng = np.random.default_rng(rng)
    if method == "dense":
        try:
            check_dense_size(P, max_bytes=max_bytes)
        except MemoryLimitError as exc:
            raise MemoryLimitError(
                f"{exc}; for the spectrum use hessian_spectrum(..., method='matrix_free') (Lanczos and SLQ)"
            ) from None
        H = expected_hessian(act, W, v, W_teacher=W_teacher, v_teacher=v_teacher, part=part, max_bytes=max_bytes)
        eigs = eigenvalues(H)
        kk = min(k, P)
        return HessianSpectrum("dense", P, float(np.trace(H)), eigs[P - kk:], np.zeros(kk), eigenvalues=eigs)
    op = hessian_operator(act, W, v, W_teacher, v_teacher, part=part, backend=backend)
    if P <= k + 1:
        raise ValueError(f"matrix-free route needs P > k + 1 = {k + 1}; P = {P}: use method='dense'")
    top = extreme_eigenvalues(op, k=k, which="LA", rng=rng)
    density = slq_density(op, n_probes=n_probes, n_steps=n_steps, reorth=reorth, rng=rng)
    return HessianSpectrum("matrix_free", P, op.trace(), top.values, top.residuals, density=density)
