r"""Matrix-free quasi-Monte Carlo Hessian-vector products of a deep network at the optimum.

Place in the package: the deep-network family (NumPy and SciPy only).

At the optimum :math:`H=E_x[J^\top J]` with :math:`J=\partial f/\partial\theta\in\mathbb R^{N_L\times P}`, so

.. math::

    Hv = E_x\big[J^\top(Jv)\big],

a forward-mode derivative of the network along :math:`v` followed by a reverse-mode pass with that
derivative as the cotangent, at every sample point; no :math:`P\times P` matrix and no per-point
:math:`N_L\times P` Jacobian is formed. With :math:`a_0=x`, :math:`h_l=W_la_{l-1}`, :math:`a_l=\sigma_l(h_l)`
and :math:`v=(V_1,\dots,V_L)` in the shapes of :math:`(W_1,\dots,W_L)`:

.. math::

    \dot a_0=0,\quad \dot h_l=V_la_{l-1}+W_l\dot a_{l-1},\quad \dot a_l=\sigma_l'(h_l)\odot\dot h_l,\qquad
    u = Jv = V_La_{L-1}+W_L\dot a_{L-1};

    \delta_L=u,\quad \delta_{l-1}=\sigma_{l-1}'(h_{l-1})\odot W_l^\top\delta_l,\qquad
    (J^\top u)_{W_l}=\delta_l\,a_{l-1}^\top .

The expectation is the randomised quasi-Monte Carlo mean of :func:`~symhess.deep.pointwise.qmc_hessian`
over the *same* sample set (:func:`qmc_points`): the operator equals ``qmc_hessian(...).hessian @ v`` to
rounding. Its stated error is per product: the :math:`R` replicate products :math:`H_rv` are independent
unbiased estimates, and :meth:`DeepQMCHessianOperator.matvec_with_error` returns three standard errors
of their mean (an estimate, not a bound). Cost of one product: :math:`O(Rn\sum_lN_lN_{l-1})` time and
:math:`O(\text{chunk}\cdot\sum_lN_l)` memory.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ..errors import InvalidParameterError, ShapeError
from ..validation import as_rng
from .weights import as_deep_biases, as_deep_weights, layer_activations, n_bias_parameters, widths_of

__all__ = ["qmc_points", "DeepQMCHessianOperator", "qmc_hessian_operator"]

#: points per block of the forward/backward passes (bounds the working memory)
CHUNK = 1 << 12


def qmc_points(n_in: int, n_points: int, replicates: int, rng: object = None) -> np.ndarray:
    r"""``(replicates, n_points, n_in)`` independently scrambled Sobol points mapped to :math:`N(0, I)`."""
    from scipy.special import ndtri
    from scipy.stats import qmc

    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise InvalidParameterError(f"n_points={n_points!r} must be an integer >= 2")
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 2:
        raise InvalidParameterError(f"replicates={replicates!r} must be an integer >= 2 (the error estimate needs a spread)")
    gen = as_rng(rng)
    out = np.empty((int(replicates), int(n_points), int(n_in)))
    for r in range(int(replicates)):
        sob = qmc.Sobol(d=n_in, scramble=True, seed=gen)
        m = int(np.ceil(np.log2(n_points)))
        U = sob.random_base2(m)[:n_points] if (1 << m) == n_points else sob.random(n_points)
        out[r] = ndtri(U)
    return out


class DeepQMCHessianOperator(LinearOperator):
    r"""Quasi-Monte Carlo expected Hessian :math:`\frac1R\sum_r\frac1n\sum_\mu J_{r\mu}^\top J_{r\mu}` as a ``LinearOperator``.

    Build it with :func:`qmc_hessian_operator` (or :func:`symhess.deep_hessian_operator`).

    Attributes
    ----------
    points : ndarray (R, n, N_0)
        The sample set (shared with :func:`~symhess.deep.pointwise.qmc_hessian` for the same ``rng``).
    n_points, replicates : int
    """

    def __init__(self, acts, weights, points: np.ndarray, biases=None) -> None:
        self._W = as_deep_weights(weights)
        self._acts = layer_activations(acts, len(self._W))
        self.widths = widths_of(self._W)
        self._b = as_deep_biases(biases, self.widths)
        self.points = np.asarray(points, dtype=float)
        if self.points.ndim != 3 or self.points.shape[2] != self.widths[0]:
            raise ShapeError(f"points must have shape (replicates, n_points, {self.widths[0]}); got {self.points.shape}")
        self.replicates, self.n_points = int(self.points.shape[0]), int(self.points.shape[1])
        self._pairs = [(a.numeric(0), a.numeric(1)) for a in self._acts]
        P = sum(W.size for W in self._W) + n_bias_parameters(self._b)
        super().__init__(dtype=np.dtype(float), shape=(P, P))

    def _split(self, V: np.ndarray) -> tuple[list[np.ndarray], list]:
        """``(P, k)`` -> per layer ``(k, N_l, N_{l-1})``, and the bias parts ``(k, N_l)`` (``None`` without bias)."""
        out, start = [], 0
        for W in self._W:
            out.append(V[start:start + W.size].T.reshape((V.shape[1],) + W.shape))
            start += W.size
        bias = []
        for b in self._b:
            bias.append(None if b is None else V[start:start + b.size].T)
            start += 0 if b is None else b.size
        return out, bias

    def _block(self, X: np.ndarray, Vs: list[np.ndarray], Vb: list) -> tuple[list[np.ndarray], list]:
        r""":math:`\sum_\mu J_\mu^\top J_\mu V` over the rows of ``X`` for ``k`` directions; per layer ``(k, N_l, N_{l-1})``, biases ``(k, N_l)``."""
        Ws, L, bs = self._W, len(self._W), self._b
        a, outs, slopes = X, [X], []
        for l in range(L - 1):
            h = a @ Ws[l].T
            if bs[l] is not None:
                h = h + bs[l]
            s, ds = self._pairs[l]
            slopes.append(np.broadcast_to(ds(h), h.shape))
            a = np.broadcast_to(s(h), h.shape)
            outs.append(a)
        # forward mode: tangents (k, n, N_l)
        t = np.einsum("nj,kij->kni", outs[0], Vs[0])
        if Vb[0] is not None:
            t = t + Vb[0][:, None, :]
        for l in range(1, L):
            t = t * slopes[l - 1][None]
            t = np.einsum("nj,kij->kni", outs[l], Vs[l]) + t @ Ws[l].T
            if Vb[l] is not None:
                t = t + Vb[l][:, None, :]
        # reverse mode with cotangent u = J v
        delta, grads, bgrads = t, [None] * L, [None] * L
        for l in range(L - 1, -1, -1):
            grads[l] = np.einsum("kni,nj->kij", delta, outs[l])
            if bs[l] is not None:
                bgrads[l] = delta.sum(axis=1)
            if l > 0:
                delta = (delta @ Ws[l]) * slopes[l - 1][None]
        return grads, bgrads

    def replicate_products(self, V: np.ndarray) -> np.ndarray:
        r"""``(R, P, k)``: :math:`H_rV` for every replicate (each an unbiased estimate of :math:`HV`)."""
        V = np.asarray(V, dtype=float)
        if V.ndim != 2 or V.shape[0] != self.shape[0]:
            raise ShapeError(f"V must have shape ({self.shape[0]}, k); got {V.shape}")
        Vs, Vb = self._split(V)
        k = V.shape[1]
        out = np.zeros((self.replicates, self.shape[0], k))
        for r in range(self.replicates):
            acc = [np.zeros_like(x) for x in Vs]
            bacc = [None if b is None else np.zeros((k, b.size)) for b in self._b]
            for s in range(0, self.n_points, CHUNK):
                grads, bgrads = self._block(self.points[r, s:s + CHUNK], Vs, Vb)
                for g, b in zip(acc, grads):
                    g += b
                for g, b in zip(bacc, bgrads):
                    if g is not None:
                        g += b
            parts = [g.reshape(k, -1) for g in acc] + [g for g in bacc if g is not None]
            out[r] = np.concatenate(parts, axis=1).T / self.n_points
        return out

    def _matmat(self, V: np.ndarray) -> np.ndarray:
        return self.replicate_products(V).mean(axis=0)

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        return self._matmat(np.asarray(v, dtype=float).reshape(-1, 1))[:, 0]

    def _rmatvec(self, v: np.ndarray) -> np.ndarray:  # symmetric
        return self._matvec(v)

    def _adjoint(self) -> "DeepQMCHessianOperator":
        return self

    def matvec_with_error(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`Hv` and its entrywise stated error: three standard errors of the mean of the :math:`R` replicate products."""
        reps = self.replicate_products(np.asarray(v, dtype=float).reshape(-1, 1))[:, :, 0]
        return reps.mean(axis=0), 3 * reps.std(axis=0, ddof=1) / np.sqrt(self.replicates)


def qmc_hessian_operator(act, weights, *, n_points: int = 1 << 12, replicates: int = 16,
                         rng: object = None, biases=None) -> DeepQMCHessianOperator:
    r"""The randomised-QMC expected Hessian of a deep network as a matrix-free operator (any activation).

    Parameters
    ----------
    act : str, Activation or sequence
        One activation for every hidden layer, or one per hidden layer.
    weights : list of array_like
        ``[W_1, ..., W_L]``.
    n_points, replicates, rng
        As for :func:`~symhess.deep.pointwise.qmc_hessian`; the same ``rng`` gives the same sample set,
        so ``op @ v`` equals ``qmc_hessian(...).hessian @ v`` to rounding.
    biases : list, optional
        ``[b_1, ..., b_L]`` with ``None`` for a layer without bias; their parameters follow all weights.

    Examples
    --------
    >>> import numpy as np, symhess
    >>> from symhess.deep.qmc_operator import qmc_hessian_operator
    >>> W = symhess.deep_teacher((3, 4, 2, 1), rng=0)
    >>> op = qmc_hessian_operator("erf", W, n_points=256, replicates=4, rng=1)
    >>> hv, err = op.matvec_with_error(np.ones(op.shape[0]))
    >>> hv.shape, bool(np.all(err > 0))
    ((22,), True)
    """
    Ws = as_deep_weights(weights)
    pts = qmc_points(widths_of(Ws)[0], n_points, replicates, rng)
    return DeepQMCHessianOperator(layer_activations(act, len(Ws)), Ws, pts, biases)
