r"""Forward pass, gradient and Hessians of the (deep, linear or ReLU) unconstrained-feature model.

Place in the package: the unconstrained-feature-model family (NumPy only). The formulas below were derived symbolically in
:mod:`symhess.ufm.symbolic_hessian` (matrix calculus in SymPy) and are checked against the concrete
SymPy Hessian and against finite differences in ``tests/test_ufm_hessian.py``.

Model (:math:`K` classes, :math:`n` samples per class, :math:`N=Kn`, labels
:math:`Y=I_K\otimes\mathbf 1_n^\top`):

.. math::

    Z_{l+1} = W_lH_l,\qquad H_{l+1}=\sigma(Z_{l+1})\ (l<L),\qquad \hat Y = Z_{L+1}=W_LH_L,

with :math:`\sigma` the identity (deep linear UFM) or ReLU (deep UFM); the classifier layer is linear.
Objective

.. math::

    \mathcal L = \frac1{2N}\|\hat Y-Y\|_F^2+\sum_{l=1}^L\frac{\lambda_{W_l}}2\|W_l\|_F^2+\frac{\lambda_{H_1}}2\|H_1\|_F^2 .

Back-propagated maps: for sample :math:`i`, :math:`\hat y_i = A_{l,i}z_{l+1,i}` with
:math:`A_{L,i}=I_K` and :math:`A_{l,i}=A_{l+1,i}W_{l+1}D_{l+1,i}`,
:math:`D_{l,i}=\mathrm{diag}(\sigma'(z_{l,i}))`; in the linear model :math:`A_l=W_L\cdots W_{l+1}`.
The layer-wise Hessian of the MSE part is its Gauss–Newton part (exact: :math:`\hat y` is linear in
:math:`W_l`, and ReLU is piecewise linear):

.. math::

    \nabla^2_{W_l} = \frac1N\sum_i (A_{l,i}^\top A_{l,i})\otimes(h_{l,i}h_{l,i}^\top)
    \quad(\text{row-major; column-major swaps the factors}),

which for the linear model is the single Kronecker product
:math:`\frac1N(A_l^\top A_l)\otimes(H_lH_l^\top)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MemoryLimitError
from ..validation import available_memory
from .point import UFMPoint, check_order

__all__ = [
    "ACTIVATIONS_UFM", "ForwardPass", "forward", "mse_loss", "gradient", "gradient_arrays", "backprop_maps",
    "extended_gradients", "layer_hessian_dense", "layer_hessian_kronecker_factors", "full_hessian_dense",
    "matrix_to_vec", "vec_to_matrix",
]

#: activations supported between the separated layers
ACTIVATIONS_UFM = ("linear", "relu")


@dataclass(frozen=True)
class ForwardPass:
    """Features :math:`H_1..H_L`, pre-activations :math:`Z_2..Z_{L+1}` and output of one forward pass.

    ``features[l-1]`` is :math:`H_l` (input of :math:`W_l`), ``preacts[l-1]`` is :math:`Z_{l+1}=W_lH_l`,
    ``output`` is :math:`\\hat Y = Z_{L+1}`.
    """

    features: list[np.ndarray]
    preacts: list[np.ndarray]
    output: np.ndarray
    activation: str

    def mask(self, l: int) -> np.ndarray | None:
        """:math:`\\sigma'(Z_{l+1})` for weight layer ``l`` < L (``None`` for the linear model)."""
        if self.activation == "linear":
            return None
        return (self.preacts[l - 1] > 0).astype(float)


def forward(point: UFMPoint, activation: str = "linear") -> ForwardPass:
    """Run the forward pass (see the module docstring)."""
    if activation not in ACTIVATIONS_UFM:
        raise ValueError(f"activation={activation!r} is not supported; use one of {ACTIVATIONS_UFM}")
    H = point.features
    feats, pre = [H], []
    L = len(point.weights)
    for l, W in enumerate(point.weights, start=1):
        Z = W @ H
        pre.append(Z)
        if l < L:
            H = np.maximum(Z, 0.0) if activation == "relu" else Z
            feats.append(H)
    return ForwardPass(feats, pre, pre[-1], activation)


def mse_loss(fp: ForwardPass, Y: np.ndarray) -> float:
    r""":math:`\|\hat Y-Y\|_F^2/(2N)`."""
    R = fp.output - Y
    return float((R * R).sum() / (2 * Y.shape[1]))


def gradient(point: UFMPoint, Y: np.ndarray, reg_w, reg_h: float, activation: str = "linear",
             fp: ForwardPass | None = None) -> UFMPoint:
    r"""Gradient of the full objective (MSE + regularisers), as a :class:`UFMPoint`.

    .. math::

        \nabla_{W_l}\mathcal L = \frac1N B_{l}H_l^\top+\lambda_{W_l}W_l,\qquad
        \nabla_{H_1}\mathcal L = W_1^\top B_1+\lambda_{H_1}H_1,

    with :math:`B_L=(\hat Y-Y)` and :math:`B_{l}=(W_{l+1}^\top B_{l+1})\odot\sigma'(Z_{l+1})`.
    """
    weights, features = gradient_arrays(point, Y, reg_w, reg_h, activation, fp)
    return UFMPoint(tuple(weights), features)


def gradient_arrays(point, Y: np.ndarray, reg_w, reg_h: float, activation: str = "linear",
                    fp: ForwardPass | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`gradient` as plain arrays ``([dW_1, ..., dW_L], dH_1)``, without validation (hot path)."""
    fp = forward(point, activation) if fp is None else fp
    N = Y.shape[1]
    B = (fp.output - Y) / N
    L = len(point.weights)
    grads: list[np.ndarray] = [None] * L  # type: ignore[list-item]
    for l in range(L, 0, -1):
        W = point.weights[l - 1]
        grads[l - 1] = B @ fp.features[l - 1].T + reg_w[l - 1] * W
        B = W.T @ B
        if l > 1 and activation == "relu":
            B = B * fp.mask(l - 1)
    return grads, B + reg_h * point.features


def backprop_maps(point: UFMPoint, layer: int, activation: str = "linear", fp: ForwardPass | None = None) -> np.ndarray:
    r"""Back-propagated map :math:`A_l` of weight layer ``l``: :math:`\hat y_i = A_{l,i}\,z_{l+1,i}`.

    Returns shape ``(K, d_{l+1})`` for the linear model (:math:`A_l=W_L\cdots W_{l+1}`, the same for
    every sample) and ``(N, K, d_{l+1})`` for ReLU (one map per sample).
    """
    L = point.depth
    _check_layer(layer, L)
    K = point.weights[-1].shape[0]
    if activation == "linear":
        A = np.eye(K)
        for j in range(L, layer, -1):
            A = A @ point.weights[j - 1]
        return A
    fp = forward(point, activation) if fp is None else fp
    N = point.features.shape[1]
    A = np.broadcast_to(np.eye(K), (N, K, K))
    for j in range(L, layer, -1):
        # A_{j-1,i} = A_{j,i} W_j D_{j,i};  D_{j,i} = diag(sigma'(Z_j[:, i])) = fp.mask(j - 1)[:, i]
        A = (A @ point.weights[j - 1]) * fp.mask(j - 1).T[:, None, :]
    return A


def _check_layer(layer: object, L: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise TypeError(f"layer={layer!r} must be an integer in 1..{L}")
    if not 1 <= layer <= L:
        raise ValueError(f"layer={layer} is out of range; weight layers are numbered 1..L = 1..{L}")
    return int(layer)


def matrix_to_vec(M: np.ndarray, order: str = "C") -> np.ndarray:
    """Flatten a weight-shaped matrix (or a stack of them, last two axes) with ``order``."""
    order = check_order(order)
    if order == "F":
        M = np.swapaxes(M, -1, -2)
    return M.reshape(*M.shape[:-2], -1)


def vec_to_matrix(v: np.ndarray, shape: tuple[int, int], order: str = "C") -> np.ndarray:
    """Inverse of :func:`matrix_to_vec`."""
    order = check_order(order)
    v = np.asarray(v)
    if order == "C":
        return v.reshape(*v.shape[:-1], *shape)
    return v.reshape(*v.shape[:-1], shape[1], shape[0]).swapaxes(-1, -2)


def extended_gradients(point: UFMPoint, layer: int, activation: str = "linear", order: str = "C",
                       fp: ForwardPass | None = None) -> np.ndarray:
    r"""Papyan's extended gradients :math:`\delta_{i,k}=\partial\hat y_{i,k}/\partial\mathrm{vec}W_l`.

    :math:`\delta_{i,k}=\mathrm{vec}(a_{i,k}h_{l,i}^\top)`, :math:`a_{i,k}` the k-th row of
    :math:`A_{l,i}`. Shape ``(N, K, d_{l+1} d_l)``; the MSE layer Hessian is
    :math:`\frac1N\sum_{i,k}\delta_{i,k}\delta_{i,k}^\top`.
    """
    fp = forward(point, activation) if fp is None else fp
    A = backprop_maps(point, layer, activation, fp)
    Hl = fp.features[layer - 1]
    N = Hl.shape[1]
    if A.ndim == 2:
        A = np.broadcast_to(A, (N, *A.shape))
    D = A[:, :, :, None] * Hl.T[:, None, None, :]  # (N, K, d_out, d_in): a_{ik} h_i^T
    return matrix_to_vec(D, order)


def layer_hessian_kronecker_factors(point: UFMPoint, layer: int, fp: ForwardPass | None = None):
    r"""Factors :math:`(A_l^\top A_l,\ H_lH_l^\top/N)` of the linear layer-wise MSE Hessian.

    Row-major Hessian = ``np.kron(left, right)``; column-major = ``np.kron(right, left)``.
    """
    fp = forward(point, "linear") if fp is None else fp
    A = backprop_maps(point, layer, "linear")
    Hl = fp.features[layer - 1]
    return A.T @ A, (Hl @ Hl.T) / Hl.shape[1]


def layer_hessian_dense(point: UFMPoint, layer: int, activation: str = "linear", order: str = "C",
                        fp: ForwardPass | None = None) -> np.ndarray:
    r"""Dense layer-wise Hessian of the MSE part with respect to :math:`\mathrm{vec}\,W_l`.

    Linear: :math:`\frac1N(A_l^\top A_l)\otimes(H_lH_l^\top)` (row-major). ReLU:
    :math:`\frac1N\sum_i (A_{l,i}^\top A_{l,i})\otimes(h_{l,i}h_{l,i}^\top)`, assembled as one GEMM over
    samples.
    """
    order = check_order(order)
    _check_layer(layer, point.depth)
    fp = forward(point, activation) if fp is None else fp
    if activation == "linear":
        left, right = layer_hessian_kronecker_factors(point, layer, fp)
        return np.kron(left, right) if order == "C" else np.kron(right, left)
    A = backprop_maps(point, layer, activation, fp)  # (N, K, do)
    Hl = fp.features[layer - 1]  # (di, N)
    N, _, do = A.shape
    di = Hl.shape[0]
    AtA = np.einsum("ika,ikc->iac", A, A).reshape(N, do * do)
    HH = np.einsum("bi,ei->ibe", Hl, Hl).reshape(N, di * di)
    T = (AtA.T @ HH).reshape(do, do, di, di) / N  # T[a, c, b, e]
    T = T.transpose(0, 2, 1, 3)  # [a, b, c, e]
    return _tensor_to_matrix(T, order)


def _tensor_to_matrix(T: np.ndarray, order: str) -> np.ndarray:
    """``T[a, b, c, e]`` = d^2 f / dX_ab dX'_ce  ->  matrix in the vec order of X and X'."""
    ra, cb, rc, ce = T.shape
    if order == "F":
        T = T.transpose(1, 0, 3, 2)
    return np.ascontiguousarray(T).reshape(ra * cb, rc * ce)


def _check_dense(n: int, max_bytes: int | None) -> None:
    need = 8 * n * n
    budget = int(0.8 * available_memory()) if max_bytes is None else int(max_bytes)
    if need > budget:
        raise MemoryLimitError(
            f"the dense full UFM Hessian with P={n} parameters needs {need / 2**30:.2f} GiB, more than the "
            f"{budget / 2**30:.2f} GiB budget; use the layer-wise Hessians (DeepLinearUFM.layer_hessian, or "
            "DeepLinearUFM.layer_spectrum, which needs only the two Kronecker factors)"
        )


#: parts of the full Hessian
HESSIAN_PARTS_UFM = ("full", "gauss_newton", "residual")


def full_hessian_dense(point: UFMPoint, Y: np.ndarray, order: str = "C", reg_w=None, reg_h: float | None = None,
                       max_bytes: int | None = None, part: str = "full") -> np.ndarray:
    r"""Dense Hessian of the linear UFM objective in all of :math:`\theta=(W_1,\dots,W_L,H_1)`.

    With factors :math:`F_0=H_1, F_j=W_j`, product :math:`P=F_L\cdots F_0`, residual :math:`R=P-Y`,
    left/right products :math:`\mathcal L_j=F_L\cdots F_{j+1}`, :math:`\mathcal R_j=F_{j-1}\cdots F_0`
    and, for :math:`i<j`, :math:`M_{ji}=F_{j-1}\cdots F_{i+1}`:

    .. math::

        \frac{\partial^2 \mathcal L_{\rm MSE}}{\partial (F_i)_{ab}\,\partial (F_j)_{ce}}
        = \frac1N(\mathcal L_i^\top\mathcal L_j)_{ac}(\mathcal R_i\mathcal R_j^\top)_{be}
        \quad(\text{Gauss–Newton part; for } i=j \text{ the whole block}),

    and, for :math:`i<j`, the residual part adds to the entry of :math:`(F_j)_{ab}` and
    :math:`(F_i)_{ce}` the term :math:`\frac1N(\mathcal L_j^\top R\,\mathcal R_i^\top)_{ae}\,(M_{ji})_{bc}`.
    ``reg_w``/``reg_h`` (optional) add :math:`\lambda I` on each block (the regulariser's Hessian).
    ``part`` selects the Gauss–Newton part, the residual part, or their sum (``"full"``).
    """
    order = check_order(order)
    if part not in HESSIAN_PARTS_UFM:
        raise ValueError(f"part={part!r}; use one of {HESSIAN_PARTS_UFM}")
    mats = [point.features] + list(point.weights)  # F_0 .. F_L
    n_f = len(mats)
    sizes = [M.size for M in mats]
    P_total = int(sum(sizes))
    _check_dense(P_total, max_bytes)
    N = Y.shape[1]

    def prod(lo: int, hi: int, dim: int) -> np.ndarray:
        """F_hi ... F_lo (identity of size dim if hi < lo)."""
        out = np.eye(dim)
        for j in range(lo, hi + 1):
            out = mats[j] @ out
        return out

    left = [prod(j + 1, n_f - 1, mats[j].shape[0]) for j in range(n_f)]  # F_L..F_{j+1}
    right = [prod(0, j - 1, N) if j > 0 else np.eye(N) for j in range(n_f)]
    R = (left[0] @ mats[0]) - Y

    # theta order: W_1..W_L, H_1  ->  factor index 1..L, 0
    theta_factors = list(range(1, n_f)) + [0]
    offsets = {}
    pos = 0
    for f in theta_factors:
        offsets[f] = pos
        pos += sizes[f]
    Hmat = np.zeros((P_total, P_total))
    for i in range(n_f):
        for j in range(i, n_f):
            if part == "residual":
                T = np.zeros((*mats[i].shape, *mats[j].shape))
            else:
                T = np.einsum("ac,be->abce", left[i].T @ left[j], right[i] @ right[j].T) / N
            if j > i and part != "gauss_newton":
                G = left[j].T @ R @ right[i].T  # rows(F_j) x cols(F_i)
                Mid = prod(i + 1, j - 1, mats[i].shape[0])  # cols(F_j) x rows(F_i)
                T = T + np.einsum("ae,bc->abce", G, Mid).transpose(2, 3, 0, 1) / N
            block = _tensor_to_matrix(T, order)
            si, sj = offsets[i], offsets[j]
            Hmat[si:si + sizes[i], sj:sj + sizes[j]] = block
            if j > i:
                Hmat[sj:sj + sizes[j], si:si + sizes[i]] = block.T
    if reg_w is not None or reg_h is not None:
        lam = [0.0 if reg_h is None else float(reg_h)] + ([0.0] * (n_f - 1) if reg_w is None else [float(r) for r in reg_w])
        diag = np.concatenate([np.full(sizes[f], lam[f]) for f in theta_factors])
        Hmat[np.diag_indices(P_total)] += diag
    return Hmat
