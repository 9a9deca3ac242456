r"""Expected-Hessian spectra over random teachers, and the structure of nonlinear spectra (Figs. 4–5).

Place in the package: the two-layer teacher-student family (arrays only).

:func:`teacher_spectra` diagonalises :func:`symhess.expected_hessian` at the optimum for independent
teachers :math:`W_{ij}\sim N(0,\sigma_w^2)`, :math:`v_i\sim N(0,\sigma_v^2)`. Two descriptors of a
spectrum test the paper's structural claims:

* :func:`outlier_ratio` — :math:`\lambda_1/\lambda_2`: for :math:`\sigma(z)=z+\epsilon z^2` the
  :math:`vv` block contains :math:`\epsilon^2Q_{jj}Q_{ll}`, a rank-one term with eigenvalue
  :math:`\approx\epsilon^2 N_h\bar Q^2`, so one eigenvalue separates and grows with :math:`N`. A
  certificate: with :math:`u=(0,\mathbf 1/\sqrt{N_h})`,
  :math:`\lambda_1\ge u^\top Hu=\frac1{N_h}\mathbf 1^\top H_{vv}\mathbf 1\ge\epsilon^2(\operatorname{tr}Q)^2/N_h`
  (:func:`quadratic_outlier_bound`; every other term of §A5 eq. 13 is a nonnegative quadratic form).
* :func:`outer_bulk_count` — the number of eigenvalues above the widest gap (in :math:`\log\lambda`)
  among the top ones: for erf the :math:`vv` block is :math:`O(1)` while the :math:`WW` block carries
  :math:`v_i^2=O(1/N_h)`, so :math:`N_h` eigenvalues form the outer bulk and the remaining
  :math:`N_hN_i` sink to zero as :math:`N` grows.
"""

from __future__ import annotations

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from .assemble import expected_hessian
from ..validation import as_weights
from ..validation import as_rng
from .teacher import teacher

__all__ = ["teacher_spectra", "outlier_ratio", "outer_bulk_count", "quadratic_outlier_bound", "lower_bulk_mean",
           "lower_bulk_bound"]


def teacher_spectra(
    act: ActivationLike,
    n_in: int,
    n_hidden: int,
    n_teachers: int = 1,
    rng: object = None,
    *,
    var_w: float | None = None,
    var_v: float | None = None,
) -> np.ndarray:
    r"""Ascending eigenvalues of the expected Hessian at the optimum, one row per random teacher.

    Returns
    -------
    ndarray, shape (n_teachers, Nh*Ni + Nh)
    """
    act = get_activation(act)
    if isinstance(n_teachers, bool) or not isinstance(n_teachers, (int, np.integer)) or n_teachers < 1:
        raise ValueError(f"n_teachers={n_teachers!r} must be an integer >= 1")
    gen = as_rng(rng)
    out = []
    for _ in range(int(n_teachers)):
        W, v = teacher(n_in, n_hidden, gen, var_w=var_w, var_v=var_v)
        out.append(np.linalg.eigvalsh(expected_hessian(act, W, v)))
    return np.array(out)


def _desc(eigs: np.ndarray) -> np.ndarray:
    e = np.sort(np.asarray(eigs, dtype=float).ravel())[::-1]
    if e.size < 2:
        raise ValueError("a spectrum needs at least two eigenvalues")
    return e


def outlier_ratio(eigs: np.ndarray) -> float:
    r""":math:`\lambda_1/\lambda_2` of one spectrum (largest over second largest)."""
    e = _desc(eigs)
    if e[1] <= 0:
        raise ValueError(f"the second largest eigenvalue {e[1]} is not positive")
    return float(e[0] / e[1])


def outer_bulk_count(eigs: np.ndarray, max_count: int | None = None) -> int:
    r"""Number :math:`k` of eigenvalues above the widest gap :math:`\log\lambda_k-\log\lambda_{k+1}`, :math:`k\le` ``max_count``.

    Only positive eigenvalues count; ``max_count`` defaults to half the spectrum.
    """
    e = _desc(eigs)
    e = e[e > 0]
    kmax = e.size // 2 if max_count is None else int(max_count)
    if not 1 <= kmax < e.size:
        raise ValueError(f"max_count={max_count} must lie in [1, {e.size - 1}] (number of positive eigenvalues - 1)")
    gaps = np.log(e[:kmax]) - np.log(e[1:kmax + 1])
    return int(np.argmax(gaps) + 1)


def lower_bulk_mean(eigs: np.ndarray, n_outer: int) -> float:
    """Mean of the eigenvalues below the ``n_outer`` largest."""
    e = _desc(eigs)
    return float(e[int(n_outer):].mean())


def quadratic_outlier_bound(W: np.ndarray, v: np.ndarray, eps: float = 1.0) -> float:
    r"""Certified lower bound :math:`\epsilon^2(\operatorname{tr}Q)^2/N_h\le\lambda_{\max}` for :math:`\sigma=z+\epsilon z^2`."""
    W, _ = as_weights(W, v)
    return float(eps**2 * np.einsum("ij,ij->", W, W) ** 2 / W.shape[0])


def lower_bulk_bound(H: np.ndarray, n_in: int, n_hidden: int) -> float:
    r"""Ky Fan bound on the mean of all but the :math:`N_h` largest eigenvalues: :math:`\operatorname{tr}H_{WW}/(N_hN_i)`.

    Valid for any symmetric :math:`H` ordered :math:`(W, v)`: the top :math:`N_h` eigenvalues sum to at
    least the trace of the :math:`vv` compression, so the rest sum to at most
    :math:`\operatorname{tr}H-\operatorname{tr}H_{vv}`.
    """
    H = np.asarray(H, dtype=float)
    m = int(n_in) * int(n_hidden)
    if H.shape != (m + int(n_hidden),) * 2:
        raise ValueError(f"H of shape {H.shape} is not the Hessian of a net with n_in={n_in}, n_hidden={n_hidden}")
    return float(np.trace(H[:m, :m]) / m)
