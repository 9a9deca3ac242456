r"""Full-batch gradient descent on a deep UFM, with collapse, spectra and alignment tracked.

Place in the package: the unconstrained-feature-model family (NumPy only).

Each step is :math:`\theta\leftarrow\theta-\eta\nabla\mathcal L(\theta)` on all of
:math:`W_1,\dots,W_L,H_1` at once. At the checkpoints the run records, per tracked weight layer
:math:`l`:

* the full spectrum of the layer-wise MSE Hessian (paper Figures 3 and 9); for the linear model from
  the two Kronecker factors (eigenvalues :math:`a_i b_j`), for ReLU from the dense matrix;
* the alignment :math:`v^\top Hv/\|Hv\|` of the predicted eigenvectors
  :math:`v_{cc'}=\mathrm{vec}(\hat{\bar h}_{l+1,c}\hat{\bar h}_{l,c'}^\top)` (Figure 4, Table 1);
* the coefficients of the unit descent direction :math:`-g/\|g\|` of the MSE gradient in that natural
  basis (Figure 7);
* the fraction of the gradient inside the top-:math:`K^2` eigenspace of the layer Hessian (Gur-Ari
  et al.), for the MSE gradient (``top_fraction``) and for the full gradient with the regulariser
  (``top_fraction_full``);
* the eigenvalues of :math:`W_lW_l^\top` (Figures 8 and 11);

and, for every feature layer, the DNC1 metric; plus the objective, the MSE, the gradient norm and
the balancedness residuals :math:`\|\lambda_{l+1}W_{l+1}^\top W_{l+1}-\lambda_lW_lW_l^\top\|_F/
\|\lambda_lW_lW_l^\top\|_F` (with :math:`\lambda_0W_0W_0^\top:=\lambda_{H_1}H_1H_1^\top`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..errors import NonFiniteError
from .calculus import ForwardPass, backprop_maps, forward, gradient_arrays, layer_hessian_dense, mse_loss
from .collapse import class_means, eigenvector_alignment, natural_basis, nc1, top_space_fraction
from .point import UFMPoint

__all__ = ["TrainingRun", "LayerSnapshot", "layer_snapshot", "checkpoints", "run_gradient_descent"]


@dataclass(frozen=True)
class LayerSnapshot:
    """Measurements of one weight layer at one point (see the module docstring)."""

    hessian_eigenvalues: np.ndarray  # descending, all d_out*d_in of them
    eigvec_alignment: np.ndarray  # (K, K)
    gradient_coefficients: np.ndarray  # (K, K)
    top_fraction: float  # MSE gradient
    top_fraction_full: float  # gradient with the regulariser
    weight_eigenvalues: np.ndarray  # descending


def _kron_snapshot(left: np.ndarray, right: np.ndarray, basis_mats: np.ndarray, g_mse: np.ndarray,
                   g_full: np.ndarray, k_top: int):
    a, U = np.linalg.eigh(left)
    b, V = np.linalg.eigh(right)
    prods = np.outer(a, b)  # eigenvalue of U[:, i] V[:, j]^T
    eigs = np.sort(prods.ravel())[::-1]
    HX = left @ basis_mats @ right  # H acting on matrix-shaped vectors (K, K, do, di)
    num = np.einsum("...ab,...ab->...", basis_mats, HX)
    den = np.linalg.norm(basis_mats, axis=(-2, -1)) * np.linalg.norm(HX, axis=(-2, -1))
    align = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    top = np.argsort(prods.ravel())[::-1][:k_top]
    fracs = []
    for g in (g_mse, g_full):
        C = U.T @ g @ V  # coefficients on the eigenvectors U[:, i] V[:, j]^T
        tot = float((C * C).sum())
        fracs.append(float((C.ravel()[top] ** 2).sum() / tot) if tot > 0 else float("nan"))
    return eigs, align, fracs


def layer_snapshot(point: UFMPoint, fp: ForwardPass, g_full: np.ndarray, layer: int, n_classes: int,
                   reg_w: float, activation: str) -> LayerSnapshot:
    """Measure one layer at ``point``; ``g_full`` is the full gradient (with the regulariser) of :math:`W_l`.

    Linear model: Kronecker route (two small eigendecompositions); ReLU: the dense layer Hessian.
    """
    K = n_classes
    H_in = fp.features[layer - 1]
    H_out = fp.features[layer] if layer < point.depth else fp.output
    W = point.weights[layer - 1]
    g_mse = g_full - reg_w * W
    basis = natural_basis(class_means(H_out, K), class_means(H_in, K), "C")  # (K, K, do*di)
    gn = np.linalg.norm(g_mse)
    coeffs = (basis @ (-g_mse.ravel() / gn)) if gn > 0 else np.zeros((K, K))
    if activation == "linear":
        A = backprop_maps(point, layer, "linear")
        left, right = A.T @ A, H_in @ H_in.T / H_in.shape[1]
        eigs, align, fracs = _kron_snapshot(left, right, basis.reshape(K, K, *W.shape), g_mse, g_full, K * K)
    else:
        Hm = layer_hessian_dense(point, layer, activation, "C", fp)
        w, Q = np.linalg.eigh(Hm)
        eigs = w[::-1]
        align = eigenvector_alignment(Hm, basis)
        Qt = Q[:, -K * K:]
        fracs = [top_space_fraction(Qt, g.ravel()) for g in (g_mse, g_full)]
    weig = np.linalg.eigvalsh(W @ W.T)[::-1]
    return LayerSnapshot(eigs, align, coeffs, fracs[0], fracs[1], weig)


@dataclass
class TrainingRun:
    """The record of a gradient-descent run (arrays indexed by checkpoint first).

    ``hessian_eigenvalues[l]``, ``weight_eigenvalues[l]``, ``eigvec_alignment[l]`` (``(R, K, K)``),
    ``gradient_coefficients[l]`` (``(R, K, K)``), ``top_fraction[l]`` and ``top_fraction_full[l]``
    (``(R,)``, MSE and full gradient) are keyed by the
    tracked weight layers ``l``; ``nc1`` has shape ``(R, L)`` (feature layers :math:`H_1..H_L`) and
    ``balancedness`` shape ``(R, L)`` (pairs :math:`(H_1,W_1),(W_1,W_2),\\dots`).
    """

    steps: np.ndarray
    objective: np.ndarray
    mse: np.ndarray
    grad_norm: np.ndarray
    nc1: np.ndarray
    balancedness: np.ndarray
    hessian_eigenvalues: dict[int, np.ndarray] = field(default_factory=dict)
    weight_eigenvalues: dict[int, np.ndarray] = field(default_factory=dict)
    eigvec_alignment: dict[int, np.ndarray] = field(default_factory=dict)
    gradient_coefficients: dict[int, np.ndarray] = field(default_factory=dict)
    top_fraction: dict[int, np.ndarray] = field(default_factory=dict)
    top_fraction_full: dict[int, np.ndarray] = field(default_factory=dict)
    initial: UFMPoint | None = None
    final: UFMPoint | None = None
    lr: float = 0.0
    activation: str = "linear"

    @property
    def point(self) -> UFMPoint:
        """The final point (alias of :attr:`final`)."""
        return self.final  # type: ignore[return-value]


def checkpoints(steps: int, record_at: int | Iterable[int] | None) -> np.ndarray:
    """Checkpoint steps: ``record_at`` log-spaced steps in ``[1, steps]`` plus 0 and ``steps`` (int, default 40),
    or an explicit iterable of steps in ``[0, steps]``."""
    if record_at is None:
        record_at = 40
    if isinstance(record_at, (int, np.integer)) and not isinstance(record_at, bool):
        if record_at < 1:
            raise ValueError(f"record_at={record_at} must be >= 1 (number of checkpoints)")
        pts = np.unique(np.round(np.geomspace(1, max(steps, 1), int(record_at))).astype(int))
        pts = np.unique(np.concatenate([[0], pts[pts <= steps], [steps]]))
        return pts
    pts = np.unique(np.asarray(list(record_at), dtype=int))
    if pts.size == 0 or pts.min() < 0 or pts.max() > steps:
        raise ValueError(f"record_at steps must lie in [0, steps={steps}]; got {pts.tolist()}")
    return pts


def _balancedness(point: UFMPoint, reg_w, reg_h: float) -> np.ndarray:
    out = []
    prev = reg_h * point.features @ point.features.T  # lambda_H H H^T
    for l, W in enumerate(point.weights):
        cur_in = reg_w[l] * W.T @ W
        den = np.linalg.norm(prev)
        out.append(np.linalg.norm(cur_in - prev) / den if den > 0 else np.nan)
        prev = reg_w[l] * W @ W.T
    return np.array(out)


def run_gradient_descent(init: UFMPoint, Y: np.ndarray, reg_w, reg_h: float, *, steps: int, lr: float,
                         activation: str = "linear", record_at=None, track_layers: Iterable[int] | None = None,
                         spectra: bool = True) -> TrainingRun:
    """Gradient descent from ``init``; see :meth:`symhess.DeepLinearUFM.train` for the parameters."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps={steps!r} must be an integer >= 0")
    lr = float(lr)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr} must be a finite number > 0")
    L = init.depth
    K = Y.shape[0]
    layers = list(range(1, L + 1)) if track_layers is None else sorted({int(l) for l in track_layers})
    for l in layers:
        if not 1 <= l <= L:
            raise ValueError(f"track_layers contains {l}; weight layers are 1..{L}")
    if not spectra:
        layers = []
    ckpts = checkpoints(int(steps), record_at)
    R = ckpts.size
    rec = dict(objective=np.empty(R), mse=np.empty(R), grad_norm=np.empty(R), nc1=np.empty((R, L)),
               balancedness=np.empty((R, L)))
    per_layer = {name: {l: [] for l in layers} for name in
                 ("hessian_eigenvalues", "weight_eigenvalues", "eigvec_alignment", "gradient_coefficients",
                  "top_fraction", "top_fraction_full")}
    Ws = [np.array(W) for W in init.weights]
    H = np.array(init.features)
    reg_w = [float(r) for r in reg_w]
    reg_h = float(reg_h)
    r = 0
    # overflow during a divergent run is reported below as NonFiniteError, not as RuntimeWarnings
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(int(steps) + 1):
            at_ckpt = t == ckpts[r]
            if at_ckpt and not (np.isfinite(H).all() and all(np.isfinite(W).all() for W in Ws)):
                raise NonFiniteError(f"gradient descent diverged before step {t} (lr={lr}); lower lr or the init scale")
            point = UFMPoint(tuple(Ws), H) if at_ckpt else _Light(Ws, H)
            fp = forward(point, activation)  # type: ignore[arg-type]
            gW, gH = gradient_arrays(point, Y, reg_w, reg_h, activation, fp)
            if at_ckpt:
                mse = mse_loss(fp, Y)
                reg = sum(lam / 2 * float((W * W).sum()) for lam, W in zip(reg_w, Ws)) + reg_h / 2 * float((H * H).sum())
                if not np.isfinite(mse + reg):
                    raise NonFiniteError(
                        f"gradient descent diverged (non-finite objective at step {t}, lr={lr}); lower lr or the init scale"
                    )
                rec["objective"][r] = mse + reg
                rec["mse"][r] = mse
                rec["grad_norm"][r] = np.sqrt(sum(float((x * x).sum()) for x in gW) + float((gH * gH).sum()))
                rec["nc1"][r] = [nc1(Hl, K) for Hl in fp.features]
                rec["balancedness"][r] = _balancedness(point, reg_w, reg_h)  # type: ignore[arg-type]
                for l in layers:
                    snap = layer_snapshot(point, fp, gW[l - 1], l, K, reg_w[l - 1], activation)  # type: ignore[arg-type]
                    per_layer["hessian_eigenvalues"][l].append(snap.hessian_eigenvalues)
                    per_layer["weight_eigenvalues"][l].append(snap.weight_eigenvalues)
                    per_layer["eigvec_alignment"][l].append(snap.eigvec_alignment)
                    per_layer["gradient_coefficients"][l].append(snap.gradient_coefficients)
                    per_layer["top_fraction"][l].append(snap.top_fraction)
                    per_layer["top_fraction_full"][l].append(snap.top_fraction_full)
                r += 1
                if t == steps:
                    break
            for W, dW in zip(Ws, gW):
                W -= lr * dW
            H -= lr * gH
            if not np.isfinite(H[0, 0]):
                raise NonFiniteError(f"gradient descent diverged at step {t} (lr={lr}); lower lr or the init scale")
    final = UFMPoint(tuple(Ws), H)
    stacked = {name: {l: np.array(v) for l, v in d.items()} for name, d in per_layer.items()}
    return TrainingRun(steps=ckpts, initial=init, final=final, lr=lr, activation=activation, **rec, **stacked)


class _Light:
    """A validation-free stand-in for :class:`UFMPoint` inside the training loop (hot path)."""

    __slots__ = ("weights", "features")

    def __init__(self, weights, features):
        self.weights = weights
        self.features = features

    @property
    def depth(self) -> int:
        return len(self.weights)
