r"""Krylov methods on a symmetric operator: the Lanczos recurrence, extreme eigenvalues, trace.

Place in the package: engine, numeric linear algebra (arrays only). Every function takes anything SciPy turns into a
``LinearOperator`` (a ``symhess.hessian_operator``, a dense array, a sparse matrix) and touches it
only through products, so the matrix is never formed.

**Lanczos.** From a unit vector :math:`q_1` the three-term recurrence

.. math::

    \beta_j q_{j+1} = H q_j - \alpha_j q_j - \beta_{j-1} q_{j-1},\qquad
    \alpha_j = q_j^\top H q_j,

builds an orthonormal basis of the Krylov space and the tridiagonal
:math:`T_m=\operatorname{tridiag}(\beta,\alpha,\beta)` with :math:`Q_m^\top H Q_m = T_m`. In floating
point the :math:`q_j` lose orthogonality once Ritz values converge, which creates spurious copies
("ghosts") of converged eigenvalues; ``reorth="full"`` re-orthogonalises every new vector against
all previous ones (classical Gram–Schmidt, repeated once when the first pass cancelled more than
a factor :math:`1/\sqrt2` of the norm, the DGKS criterion; twice is enough for orthogonality to
working precision, Giraud et al., Numer. Math. 101, 2005) at :math:`O(mP)` memory and
:math:`O(m^2P)` extra time. A :math:`\beta_j` below ``breakdown_tol`` times the running norm
estimate means the Krylov space is invariant: the recurrence stops there and :math:`T` is exact.

Several starting vectors are run in lock step, so the operator is applied with ``matmat`` to a
block of vectors (one GPU launch or one BLAS-3 call per step for all of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import LinearOperator, aslinearoperator, eigsh

__all__ = [
    "LanczosResult", "lanczos", "ExtremeEigenvalues", "extreme_eigenvalues", "TraceEstimate",
    "hutchinson_trace", "random_probes", "as_symmetric_operator", "REORTH",
]

#: re-orthogonalisation modes of :func:`lanczos`
REORTH = ("full", "none")
#: second Gram-Schmidt pass when the norm dropped below this fraction (Daniel, Gragg, Kaufman & Stewart 1976)
_DGKS = 1 / np.sqrt(2)
_PROBES = ("sphere", "rademacher")


class _CountingOperator(LinearOperator):
    """Wraps an operator and counts the vectors it was applied to."""

    def __init__(self, op: LinearOperator) -> None:
        self.op, self.n_products = op, 0
        super().__init__(dtype=op.dtype, shape=op.shape)

    def _matvec(self, x):
        self.n_products += 1
        return self.op.matvec(x)

    def _matmat(self, X):
        self.n_products += X.shape[1]
        return self.op.matmat(X)

    _rmatvec = _matvec

    def _adjoint(self):
        return self


class _ShiftedOperator(LinearOperator):
    """``op + shift * I``, through products only."""

    def __init__(self, op: LinearOperator, shift: float) -> None:
        self.op, self.shift = op, float(shift)
        super().__init__(dtype=op.dtype, shape=op.shape)

    def _matvec(self, x):
        return self.op.matvec(x) + self.shift * np.ravel(x)

    def _matmat(self, X):
        return self.op.matmat(X) + self.shift * X

    _rmatvec = _matvec

    def _adjoint(self):
        return self


def as_symmetric_operator(A: Any) -> LinearOperator:
    """A square SciPy ``LinearOperator`` for ``A`` (an operator, dense or sparse matrix); ``ValueError`` if not square.

    Symmetry is assumed, not checked (checking would need the matrix).
    """
    try:
        op = aslinearoperator(A)
    except TypeError as exc:
        raise TypeError(f"expected a LinearOperator or a matrix, got {type(A).__name__}") from exc
    if len(op.shape) != 2 or op.shape[0] != op.shape[1]:
        raise ValueError(f"expected a square operator, got shape {op.shape}")
    if op.shape[0] == 0:
        raise ValueError("the operator is empty (shape (0, 0))")
    return op


def random_probes(n: int, k: int, rng: Any = None, kind: str = "sphere") -> np.ndarray:
    r"""``k`` random unit vectors in :math:`\mathbb R^n`, as the columns of an ``(n, k)`` array.

    ``kind="sphere"``: uniform on the unit sphere (normalised Gaussians), the distribution of the
    SLQ error bound of Chen, Trogdon & Ubaru (2021); ``"rademacher"``: entries :math:`\pm1/\sqrt n`.
    Both satisfy :math:`E[nzz^\top] = I`.
    """
    if kind not in _PROBES:
        raise ValueError(f"probe kind {kind!r} is unknown; choose one of {_PROBES}")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"the number of probes must be a positive integer, got {k!r}")
    rng = np.random.default_rng(rng)
    if kind == "rademacher":
        return rng.choice([-1.0, 1.0], size=(n, k)) / np.sqrt(n)
    Z = rng.standard_normal((n, k))
    return Z / np.linalg.norm(Z, axis=0)


@dataclass(frozen=True)
class LanczosResult:
    r"""Tridiagonal matrices from :func:`lanczos`, one per starting vector.

    Attributes
    ----------
    alpha : ndarray, shape (k, m)
        Diagonals :math:`\alpha_j` (entries past ``lengths[c]`` are unused).
    beta : ndarray, shape (k, m)
        Off-diagonals :math:`\beta_j`; ``beta[c, j]`` couples steps ``j`` and ``j + 1``.
    lengths : ndarray of int, shape (k,)
        Steps taken per vector (less than ``m`` after an invariant-subspace breakdown).
    n_products : int
        Operator-vector products used.
    """

    alpha: np.ndarray
    beta: np.ndarray
    lengths: np.ndarray
    n_products: int

    def ritz(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        r"""Ritz values :math:`\theta_k` and Gauss quadrature weights :math:`\tau_k=(e_1^\top s_k)^2` of vector ``c``.

        :math:`\sum_k\tau_k f(\theta_k) = e_1^\top f(T)e_1 \approx q_1^\top f(H)q_1`, exact for
        polynomials of degree :math:`\le 2m-1`.
        """
        m = int(self.lengths[c])
        if m == 1:
            return self.alpha[c, :1].copy(), np.ones(1)
        theta, S = eigh_tridiagonal(self.alpha[c, :m], self.beta[c, : m - 1])
        return theta, S[0] ** 2


def lanczos(
    A: Any,
    V0: np.ndarray,
    n_steps: int,
    *,
    reorth: str = "full",
    breakdown_tol: float = 1e-10,
    max_bytes: int | None = None,
) -> LanczosResult:
    r"""Run ``n_steps`` Lanczos steps from each column of ``V0`` (in lock step, one ``matmat`` per step).

    Parameters
    ----------
    A : LinearOperator or matrix
        Symmetric, shape ``(P, P)``.
    V0 : ndarray, shape (P,) or (P, k)
        Starting vectors (normalised here).
    n_steps : int
        Steps :math:`m\ge1` (size of each tridiagonal matrix).
    reorth : {"full", "none"}
        Full re-orthogonalisation (memory :math:`8mPk` bytes) or the plain recurrence.
    breakdown_tol : float
        :math:`\beta_j <` ``breakdown_tol`` :math:`\cdot\max_i(|\alpha_i|+\beta_i)` counts as an invariant subspace.
    max_bytes : int, optional
        Budget for the stored basis with ``reorth="full"`` (default 4 GiB).

    Returns
    -------
    LanczosResult
    """
    op = as_symmetric_operator(A)
    P = op.shape[0]
    if reorth not in REORTH:
        raise ValueError(f"reorth={reorth!r} is unknown; choose one of {REORTH}")
    if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 1):
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    m = int(min(n_steps, P))
    V = np.asarray(V0, dtype=float)
    V = V[:, None] if V.ndim == 1 else V
    if V.ndim != 2 or V.shape[0] != P:
        raise ValueError(f"starting vectors must have shape ({P},) or ({P}, k), got {np.shape(V0)}")
    norms = np.linalg.norm(V, axis=0)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise ValueError("starting vectors must be finite and nonzero")
    k = V.shape[1]
    budget = 4 * 2**30 if max_bytes is None else int(max_bytes)
    if reorth == "full" and 8 * m * P * k > budget:
        raise ValueError(
            f"full re-orthogonalisation of {k} vectors over {m} steps stores {8 * m * P * k / 2**30:.1f} GiB "
            f"(budget {budget / 2**30:.1f} GiB): use fewer probes per block, fewer steps, or reorth='none'"
        )
    Q = V / norms
    # stored per probe, (k, m, P): projections are batched matrix-vector products (BLAS)
    basis = np.empty((k, m, P)) if reorth == "full" else None
    alpha, beta = np.zeros((k, m)), np.zeros((k, m))
    lengths = np.full(k, m)
    active = np.ones(k, bool)
    Q_prev = np.zeros_like(Q)
    anorm = np.zeros(k)
    n_products = 0
    for j in range(m):
        if basis is not None:
            basis[:, j, :] = Q.T
        Wm = np.asarray(op.matmat(Q), dtype=float).reshape(P, k)
        n_products += int(active.sum())
        a = np.einsum("pc,pc->c", Q, Wm)
        Wm -= (a * Q + beta[:, j - 1] * Q_prev) if j else a * Q
        if basis is not None:
            Wt = np.ascontiguousarray(Wm.T)  # (k, P)
            for c in np.flatnonzero(active):
                Bj, w = basis[c, : j + 1], Wt[c]
                before = np.linalg.norm(w)
                for _ in range(2):  # CGS2, "twice is enough"; the second pass only where needed (DGKS)
                    w -= np.dot(np.dot(Bj, w), Bj)
                    after = np.linalg.norm(w)
                    if after > _DGKS * before:
                        break
                    before = after
            Wm = Wt.T
        b = np.linalg.norm(Wm, axis=0)
        alpha[active, j] = a[active]
        anorm = np.maximum(anorm, np.abs(a) + b)
        if j == m - 1:
            break
        broke = active & (b <= breakdown_tol * np.maximum(anorm, np.finfo(float).tiny))
        lengths[broke] = j + 1
        active &= ~broke
        if not active.any():
            break
        beta[active, j] = b[active]
        Q_prev = Q
        Q = np.where(active, Wm / np.where(b > 0, b, 1.0), 0.0)
    return LanczosResult(alpha, beta, lengths, n_products)


@dataclass(frozen=True)
class ExtremeEigenvalues:
    r"""Extreme eigenvalues from :func:`extreme_eigenvalues` with a posteriori error bounds.

    Attributes
    ----------
    values : ndarray
        Ascending Ritz values.
    residuals : ndarray
        :math:`\|Hu-\theta u\|` for each unit Ritz vector :math:`u`: some eigenvalue of the symmetric
        :math:`H` lies within this distance of :math:`\theta` (Krylov–Weinstein), whatever the solver did.
    vectors : ndarray or None
        Ritz vectors as columns (``return_vectors=True``).
    n_products : int
        Operator-vector products used (the residual check included).
    """

    values: np.ndarray
    residuals: np.ndarray
    vectors: np.ndarray | None
    n_products: int


def extreme_eigenvalues(
    A: Any,
    k: int = 6,
    which: str = "LA",
    *,
    tol: float = 1e-8,
    ncv: int | None = None,
    maxiter: int | None = None,
    rng: Any = None,
    return_vectors: bool = False,
) -> ExtremeEigenvalues:
    r"""The ``k`` largest (``"LA"``), smallest (``"SA"``), or half from each end (``"BE"``) eigenvalues.

    Implicitly restarted Lanczos (ARPACK through :func:`scipy.sparse.linalg.eigsh`), matrix-free.
    Each returned value carries the residual bound :math:`\|Hu-\theta u\|` (computed afresh with one
    ``matmat``), so the accuracy is certified independently of ARPACK's convergence test.

    Parameters
    ----------
    A : LinearOperator or matrix
        Symmetric, shape ``(P, P)``, ``k < P``.
    k : int
        Number of eigenvalues.
    which : {"LA", "SA", "BE"}
        Largest algebraic, smallest algebraic, both ends.
    tol : float
        ARPACK's accuracy target, relative to :math:`\|H\|` (for ``"SA"`` and ``"BE"`` the operator is
        shifted by an estimate of :math:`\|H\|` from 12 Lanczos steps, so that eigenvalues near 0, the
        null space of a Hessian at the optimum, converge; the Krylov spaces are shift-invariant).
    ncv, maxiter : int, optional
        Krylov subspace size (default :math:`\max(2k+1, 20)`: Hessian spectra have clustered top
        eigenvalues, where a larger subspace saves restarts) and restart limit (ARPACK's default).
    rng : seed or Generator
        Starting vector (reproducible runs).
    return_vectors : bool
        Keep the Ritz vectors.
    """
    if which not in ("LA", "SA", "BE"):
        raise ValueError(f"which={which!r}: choose 'LA' (largest), 'SA' (smallest) or 'BE' (both ends)")
    op = as_symmetric_operator(A)
    P = op.shape[0]
    if not (isinstance(k, (int, np.integer)) and 1 <= k < P):
        raise ValueError(f"k={k!r} eigenvalues: need 1 <= k < P = {P} (use dense eigenvalues for all of them)")
    counted = _CountingOperator(op)
    ncv = min(P, max(2 * int(k) + 1, 20)) if ncv is None else ncv
    gen = np.random.default_rng(rng)
    v0 = gen.standard_normal(P)
    shift = 0.0
    if which != "LA":
        # ARPACK's test |r| <= tol * max(|theta|, eps^(2/3)) cannot be met at eigenvalues ~ 0 (the null space of
        # a Hessian at the optimum); shifting the wanted end away from 0 by ~|H| makes it tol * |H| (the Krylov
        # spaces, hence the convergence, are shift-invariant). |H| is estimated by a few Lanczos steps.
        short = lanczos(counted, gen.standard_normal(P), min(P, 12), reorth="full")
        theta, _ = short.ritz(0)
        m = int(short.lengths[0])
        norm = max(abs(theta[0]), abs(theta[-1])) + (short.beta[0, m - 1] if m < P else 0.0)
        shift = -norm if which == "SA" else 2.0 * norm
        shift = shift if norm > 0 else 0.0
    target = counted if shift == 0.0 else _ShiftedOperator(counted, shift)
    vals, vecs = eigsh(target, k=int(k), which=which, tol=tol, ncv=ncv, maxiter=maxiter, v0=v0)
    vals = vals - shift
    order = np.argsort(vals)
    vals, vecs = vals[order], vecs[:, order]
    vecs = vecs / np.linalg.norm(vecs, axis=0)
    res = np.linalg.norm(counted.matmat(vecs) - vecs * vals, axis=0)
    return ExtremeEigenvalues(vals, res, vecs if return_vectors else None, counted.n_products)


@dataclass(frozen=True)
class TraceEstimate:
    """A stochastic trace estimate with its standard error and the number of probes."""

    value: float
    stderr: float
    n_probes: int


def hutchinson_trace(A: Any, n_probes: int = 30, *, rng: Any = None, block: int = 8) -> TraceEstimate:
    r"""Hutchinson's estimator :math:`\operatorname{tr}H\approx\frac1s\sum_{l=1}^s z_l^\top Hz_l`, Rademacher :math:`z_l`.

    Unbiased, with variance :math:`2(\|H\|_F^2-\sum_pH_{pp}^2)/s` per estimate; the standard error is
    estimated from the spread of the :math:`s` samples (Hutchinson 1990). For the expected Hessian
    the exact trace is :meth:`symhess.two_layer.hvp.HessianOperator.trace`; this is the independent check.
    """
    op = as_symmetric_operator(A)
    if not (isinstance(n_probes, (int, np.integer)) and n_probes >= 2):
        raise ValueError(f"n_probes must be an integer >= 2 (for a standard error), got {n_probes!r}")
    P = op.shape[0]
    rng = np.random.default_rng(rng)
    samples = []
    for s0 in range(0, n_probes, block):
        Z = rng.choice([-1.0, 1.0], size=(P, min(block, n_probes - s0)))
        samples.append(np.einsum("pc,pc->c", Z, np.asarray(op.matmat(Z), dtype=float)))
    x = np.concatenate(samples)
    return TraceEstimate(float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)), int(n_probes))
