r"""Neural-collapse measurements on feature matrices and eigen-alignment measures (arrays only).

Place in the package: the unconstrained-feature-model family (NumPy only). Feature matrices have shape ``(d, N)`` with columns
grouped by class: class ``c`` is columns ``c*n ... (c+1)*n - 1`` (:math:`N = Kn`).

* DNC1 (Papyan, Han & Donoho 2020), per layer:

  .. math::

      \mathcal{NC}_1 = \frac1K\operatorname{tr}\big(\Sigma_W\Sigma_B^\dagger\big),\quad
      \Sigma_W=\frac1N\sum_{c,i}(h_{ci}-\bar h_c)(h_{ci}-\bar h_c)^\top,\quad
      \Sigma_B=\frac1K\sum_c(\bar h_c-\bar h_G)(\bar h_c-\bar h_G)^\top,

  with :math:`\Sigma_B^\dagger` the pseudo-inverse on the (at most :math:`K-1`-dimensional) range of
  :math:`\Sigma_B` (eigenvalues below ``rtol`` times the largest are dropped).
* Alignment of a unit vector with its image, :math:`v^\top Hv/\|Hv\|` (1 iff :math:`v` is an
  eigenvector with positive eigenvalue; the paper's Figure 4 measure).
* Gur-Ari et al.'s top-subspace fraction :math:`\|P_{\rm top}g\|^2/\|g\|^2`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "labels", "class_means", "nc1", "mean_gram", "orthogonal_frame_deviation", "natural_basis",
    "eigenvector_alignment", "top_space_fraction", "row_gram",
]


def labels(n_classes: int, n_per_class: int) -> np.ndarray:
    r"""One-hot labels :math:`Y=I_K\otimes\mathbf 1_n^\top`, shape ``(K, Kn)``."""
    return np.kron(np.eye(n_classes), np.ones((1, n_per_class)))


def _grouped(H: np.ndarray, n_classes: int) -> np.ndarray:
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[1] % n_classes:
        raise ValueError(f"features of shape {H.shape} cannot be split into {n_classes} equal class blocks of columns")
    return H.reshape(H.shape[0], n_classes, H.shape[1] // n_classes)


def class_means(H: np.ndarray, n_classes: int) -> np.ndarray:
    r"""Class means :math:`\bar H = [\bar h_1,\dots,\bar h_K]`, shape ``(d, K)``."""
    return _grouped(H, n_classes).mean(axis=2)


def nc1(H: np.ndarray, n_classes: int, rtol: float = 1e-10) -> float:
    r"""DNC1 metric :math:`\frac1K\operatorname{tr}(\Sigma_W\Sigma_B^\dagger)` (see the module docstring).

    Returns ``inf`` if the class means coincide (:math:`\Sigma_B=0`) while the features vary.
    """
    if n_classes < 2:
        raise ValueError(f"NC1 needs at least 2 classes; got n_classes={n_classes}")
    G = _grouped(H, n_classes)
    means = G.mean(axis=2)
    dev = (G - means[:, :, None]).reshape(H.shape[0], -1)
    sigma_w = dev @ dev.T / H.shape[1]
    centred = means - means.mean(axis=1, keepdims=True)
    sigma_b = centred @ centred.T / n_classes
    w, U = np.linalg.eigh(sigma_b)
    keep = w > rtol * max(w.max(), 0.0)
    keep &= np.arange(w.size) >= w.size - (n_classes - 1)  # rank(Sigma_B) <= K - 1
    if not keep.any() or w.max() <= 0:
        return 0.0 if np.trace(sigma_w) == 0 else float("inf")
    Uk, wk = U[:, keep], w[keep]
    # tr(Sigma_W Sigma_B^+) = sum_j (U_j^T Sigma_W U_j) / w_j over the kept eigenpairs
    return float(np.einsum("aj,ab,bj->j", Uk, sigma_w, Uk) @ (1.0 / wk) / n_classes)


def mean_gram(H: np.ndarray, n_classes: int, centred: bool = False) -> np.ndarray:
    r"""Gram matrix :math:`\bar H^\top\bar H` of the class means (globally centred if ``centred``)."""
    M = class_means(H, n_classes)
    if centred:
        M = M - M.mean(axis=1, keepdims=True)
    return M.T @ M


def orthogonal_frame_deviation(H: np.ndarray, n_classes: int) -> float:
    r"""Distance of the class means from an orthogonal frame (DNC2 for the MSE linear UFM).

    :math:`\|\bar H^\top\bar H/\overline{\|\bar h\|^2} - I_K\|_F` with the mean squared norm as scale; 0 iff the
    means are orthogonal with equal norms.
    """
    G = mean_gram(H, n_classes)
    scale = np.trace(G) / n_classes
    if scale <= 0:
        return float("inf")
    return float(np.linalg.norm(G / scale - np.eye(n_classes)))


def natural_basis(means_out: np.ndarray, means_in: np.ndarray, order: str = "C") -> np.ndarray:
    r"""The paper's natural basis :math:`\mathrm{vec}(\hat{\bar h}_{l+1,c}\hat{\bar h}_{l,c'}^\top)`.

    Parameters
    ----------
    means_out, means_in : numpy.ndarray
        Class means of the layer's output features (:math:`d_{l+1}\times K`) and input features
        (:math:`d_l\times K`); each column is normalised here.
    order : {"C", "F"}
        Vectorisation order.

    Returns
    -------
    numpy.ndarray
        Shape ``(K, K, d_{l+1} d_l)``: entry ``[c, c']`` is the unit vector for the pair :math:`(c, c')`.
    """
    u = means_out / np.linalg.norm(means_out, axis=0, keepdims=True)
    v = means_in / np.linalg.norm(means_in, axis=0, keepdims=True)
    M = u.T[:, None, :, None] * v.T[None, :, None, :]  # [c, c', a, b] = u_c[a] v_c'[b]
    if order == "F":
        M = M.swapaxes(-1, -2)
    elif order != "C":
        raise ValueError(f"order={order!r}; use 'C' or 'F'")
    K1, K2 = M.shape[:2]
    return M.reshape(K1, K2, -1)


def eigenvector_alignment(H: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    r""":math:`v^\top Hv/(\|v\|\,\|Hv\|)` for each vector (last axis); 1 iff :math:`v` is an eigenvector with
    a positive eigenvalue. ``H`` may be a dense matrix or a callable ``V -> H V`` acting on the last axis."""
    V = np.asarray(vectors, dtype=float)
    HV = H(V) if callable(H) else V @ np.asarray(H).T
    num = np.einsum("...i,...i->...", V, HV)
    den = np.linalg.norm(V, axis=-1) * np.linalg.norm(HV, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def top_space_fraction(eigvecs: np.ndarray, g: np.ndarray) -> float:
    r"""Gur-Ari et al.'s fraction :math:`\|P g\|^2/\|g\|^2` of ``g`` in the span of ``eigvecs`` (columns,
    orthonormal)."""
    g = np.asarray(g, dtype=float)
    nrm = float(g @ g)
    if nrm == 0:
        return float("nan")
    c = eigvecs.T @ g
    return float(c @ c / nrm)


def row_gram(A: np.ndarray) -> np.ndarray:
    r"""Gram matrix :math:`\langle a_k,a_{k'}\rangle` of the rows of ``A`` (``(K, d)`` or a stack ``(N, K, d)``,
    then averaged over the stack): the paper's Tables 3 and 4 (Appendix G.2)."""
    A = np.asarray(A, dtype=float)
    G = A @ np.swapaxes(A, -1, -2)
    return G.mean(axis=0) if G.ndim == 3 else G
