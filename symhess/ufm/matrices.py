r"""Papyan's decomposition of the layer-wise Hessian and the other "deep-learning matrices" of a UFM.

Place in the package: the unconstrained-feature-model family (NumPy only). All matrices are per weight layer :math:`l` and use
only the MSE part of the objective.

**Papyan decomposition** (Papyan 2020, adapted to the MSE loss as in G&K Section 4.1). With the
extended gradients :math:`\delta_{i,k}=\partial\hat y_{i,k}/\partial\mathrm{vec}W_l` (sample
:math:`i` of class :math:`c`, output coordinate :math:`k`), their class-wise means
:math:`\delta_{c,k}=\frac1n\sum_{i\in c}\delta_{i,k}` and :math:`\delta_c=\frac1K\sum_k\delta_{c,k}`,
the layer-wise Hessian :math:`G=\frac1N\sum_{i,k}\delta_{i,k}\delta_{i,k}^\top` splits exactly into

.. math::

    G = \underbrace{\frac1N\sum_{i,k}(\delta_{i,k}-\delta_{c(i),k})(\cdot)^\top}_{\text{within}}
      + \underbrace{\frac nN\sum_{c,k}(\delta_{c,k}-\delta_c)(\cdot)^\top}_{\text{cross}}
      + \underbrace{\frac{nK}N\sum_c\delta_c\delta_c^\top}_{\text{class}} .

Papyan's class term is centred and his global-mean term dropped because it vanishes at a CE optimum;
for MSE it does not, so (as G&K do) it stays inside the class term. At a global optimum of the
deep linear UFM: within :math:`=0`, class has rank :math:`K`, cross has rank :math:`K(K-1)`, their
images are orthogonal and every nonzero eigenvalue equals :math:`\mu_l` (docs/ufm.md, Theorem 4.2).

**Gradient moments** (Theorem E.1, reconstructed): per-sample MSE gradients
:math:`g_i=\mathrm{vec}(A_{l,i}^\top r_i\,h_{l,i}^\top)`, :math:`r_i=\hat y_i-y_i`; second moment
:math:`\frac1N\sum_ig_ig_i^\top` and covariance :math:`\frac1N\sum_i(g_i-\bar g)(g_i-\bar g)^\top`.

**Back-propagated errors** (Theorem E.2, reconstructed): extended errors
:math:`e_{i,k}=A_{l,i}^\top(\hat y_i-e_k)` for every class :math:`k` (so :math:`e_{i,c(i)}` is the
ordinary back-propagated error :math:`A_{l,i}^\top r_i`), second moment
:math:`\frac1N\sum_{i,k}e_{i,k}e_{i,k}^\top`.

**Features** (Theorem E.3): :math:`\frac1N H_lH_l^\top`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calculus import ForwardPass, backprop_maps, forward, matrix_to_vec
from .point import UFMPoint

__all__ = [
    "PapyanDecomposition", "papyan_decomposition", "per_sample_gradients", "gradient_second_moment",
    "gradient_covariance", "extended_backprop_errors", "backprop_error_moment", "feature_moment",
]

#: the components of Papyan's decomposition, in the order they are reported
PAPYAN_COMPONENTS = ("within", "cross", "class")


@dataclass(frozen=True)
class PapyanDecomposition:
    """The three components of the layer-wise Hessian (dense, same vec order as the Hessian).

    ``total`` is their sum (= the layer-wise MSE Hessian); ``knockout(name)`` is ``total`` minus one
    component (the paper's subtraction knockout, Figures 5, 6 and 10).
    """

    within: np.ndarray
    cross: np.ndarray
    classes: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.within + self.cross + self.classes

    def component(self, name: str) -> np.ndarray:
        if name not in PAPYAN_COMPONENTS:
            raise ValueError(f"unknown component {name!r}; use one of {PAPYAN_COMPONENTS}")
        return {"within": self.within, "cross": self.cross, "class": self.classes}[name]

    def knockout(self, name: str) -> np.ndarray:
        """``total`` minus the named component."""
        return self.total - self.component(name)


def papyan_decomposition(delta: np.ndarray, n_classes: int) -> PapyanDecomposition:
    """Decompose :math:`G=\\frac1N\\sum\\delta\\delta^\\top` from extended gradients ``delta`` of shape
    ``(N, K, P)`` (samples grouped by class), see the module docstring."""
    delta = np.asarray(delta, dtype=float)
    N, K, P = delta.shape
    if N % n_classes:
        raise ValueError(f"{N} samples cannot be split into {n_classes} equal classes")
    n = N // n_classes
    D = delta.reshape(n_classes, n, K, P)
    mean_ck = D.mean(axis=1)  # (C, K, P)
    mean_c = mean_ck.mean(axis=1)  # (C, P)
    dev_within = (D - mean_ck[:, None]).reshape(-1, P)
    dev_cross = (mean_ck - mean_c[:, None]).reshape(-1, P)
    within = dev_within.T @ dev_within / N
    cross = n * (dev_cross.T @ dev_cross) / N
    classes = n * K * (mean_c.T @ mean_c) / N
    return PapyanDecomposition(within, cross, classes)


def per_sample_gradients(point: UFMPoint, Y: np.ndarray, layer: int, activation: str = "linear",
                         order: str = "C", fp: ForwardPass | None = None) -> np.ndarray:
    r"""Per-sample MSE gradients :math:`g_i=\mathrm{vec}(A_{l,i}^\top r_i h_{l,i}^\top)`, shape ``(N, P_l)``.

    Their mean is the full-batch MSE gradient :math:`\frac1N A_l^\top R H_l^\top` (linear model).
    """
    fp = forward(point, activation) if fp is None else fp
    A = backprop_maps(point, layer, activation, fp)
    R = fp.output - Y  # (K, N)
    err = (A.T @ R).T if A.ndim == 2 else np.einsum("ika,ki->ia", A, R)  # (N, d_out)
    Hl = fp.features[layer - 1]
    return matrix_to_vec(err[:, :, None] * Hl.T[:, None, :], order)


def gradient_second_moment(g: np.ndarray) -> np.ndarray:
    r""":math:`\frac1N\sum_i g_ig_i^\top` of per-sample gradients (rows)."""
    return g.T @ g / g.shape[0]


def gradient_covariance(g: np.ndarray) -> np.ndarray:
    r""":math:`\frac1N\sum_i(g_i-\bar g)(g_i-\bar g)^\top` of per-sample gradients (rows)."""
    c = g - g.mean(axis=0)
    return c.T @ c / g.shape[0]


def extended_backprop_errors(point: UFMPoint, layer: int, activation: str = "linear",
                             fp: ForwardPass | None = None) -> np.ndarray:
    r"""Extended back-propagated errors :math:`e_{i,k}=A_{l,i}^\top(\hat y_i-e_k)`, shape ``(N, K, d_{l+1})``."""
    fp = forward(point, activation) if fp is None else fp
    A = backprop_maps(point, layer, activation, fp)
    out = fp.output.T  # (N, K): yhat_i
    K = out.shape[1]
    diff = out[:, None, :] - np.eye(K)[None, :, :]  # (N, k, K): yhat_i - e_k
    if A.ndim == 2:
        return diff @ A
    return np.einsum("ikj,ija->ika", diff, A)


def backprop_error_moment(errors: np.ndarray) -> np.ndarray:
    r""":math:`\frac1N\sum_{i,k}e_{i,k}e_{i,k}^\top` of extended errors of shape ``(N, K, d)``."""
    N = errors.shape[0]
    E = errors.reshape(-1, errors.shape[-1])
    return E.T @ E / N


def feature_moment(H: np.ndarray) -> np.ndarray:
    r"""Feature second moment :math:`\frac1N H_lH_l^\top`."""
    return H @ H.T / H.shape[1]
