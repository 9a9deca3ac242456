r"""A point in the parameter space of a deep UFM, and its flattening into :math:`\theta`.

Place in the package: the unconstrained-feature-model family (NumPy only).

Parameter order of :math:`\theta`: :math:`\mathrm{vec}\,W_1,\dots,\mathrm{vec}\,W_L,\mathrm{vec}\,H_1`.
Each matrix is flattened with ``order``:

* ``"C"`` (default, the symhess convention, as for the two-layer ``W``): row-major,
  :math:`\mathrm{vec}(W)_{a\,d_{\rm in}+b} = W_{ab}`. Layer-wise Hessians then read
  :math:`(A^\top A)\otimes(HH^\top)/N`.
* ``"F"``: column-major (the paper's "standard" vec), :math:`\mathrm{vec}(W)_{a+b\,d_{\rm out}} = W_{ab}`;
  the Kronecker factors swap, :math:`(HH^\top)\otimes(A^\top A)/N`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import NonFiniteError, ShapeError

__all__ = ["UFMPoint", "check_order", "ORDERS"]

#: accepted vectorisation orders (NumPy's names)
ORDERS = ("C", "F")


def check_order(order: object) -> str:
    """Validate a vectorisation order: ``"C"`` (row-major) or ``"F"`` (column-major)."""
    if order not in ORDERS:
        raise ValueError(f"order={order!r} is not a vectorisation order; use 'C' (row-major, default) or 'F' (column-major)")
    return order  # type: ignore[return-value]


def _as_matrix(x: object, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric 2-D array, got {type(x).__name__}")
    try:
        arr = np.array(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric 2-D array: {exc}") from exc
    if arr.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(b) for b in np.argwhere(~np.isfinite(arr))[0])
        raise NonFiniteError(f"{name} has a non-finite entry {arr[bad]} at index {bad}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class UFMPoint:
    r"""Weights :math:`W_1,\dots,W_L` and unconstrained features :math:`H_1` of a deep UFM.

    Attributes
    ----------
    weights : tuple of numpy.ndarray
        ``weights[l-1]`` is :math:`W_l`, shape ``(d_{l+1}, d_l)``; the last is the classifier
        :math:`W_L` of shape ``(K, d)``.
    features : numpy.ndarray
        :math:`H_1`, shape ``(d, N)``, columns grouped by class (class ``c`` is columns
        ``c*n ... (c+1)*n - 1``).

    The arrays are read-only copies; build a new point to change them.
    """

    weights: tuple[np.ndarray, ...]
    features: np.ndarray

    def __post_init__(self) -> None:
        if isinstance(self.weights, np.ndarray) or not isinstance(self.weights, Sequence):
            raise TypeError("weights must be a sequence [W_1, ..., W_L] of 2-D arrays")
        if len(self.weights) == 0:
            raise ValueError("weights must contain at least one matrix (depth L >= 1)")
        ws = tuple(_as_matrix(W, f"W_{l + 1}") for l, W in enumerate(self.weights))
        H = _as_matrix(self.features, "H_1 (features)")
        rows = H.shape[0]
        for l, W in enumerate(ws):
            if W.shape[1] != rows:
                src = "H_1" if l == 0 else f"W_{l}"
                raise ShapeError(
                    f"W_{l + 1} has shape {W.shape} but {src} has {rows} rows; W_{l + 1} must have {rows} columns"
                )
            rows = W.shape[0]
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "features", H)

    @property
    def depth(self) -> int:
        """Number of weight matrices :math:`L`."""
        return len(self.weights)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Shapes of :math:`W_1,\\dots,W_L,H_1` in :math:`\\theta` order."""
        return [W.shape for W in self.weights] + [self.features.shape]

    @property
    def n_params(self) -> int:
        return int(sum(a * b for a, b in self.shapes))

    def matrices(self) -> list[np.ndarray]:
        """:math:`[W_1,\\dots,W_L,H_1]` in :math:`\\theta` order."""
        return list(self.weights) + [self.features]

    def to_vector(self, order: str = "C") -> np.ndarray:
        r"""Flatten to :math:`\theta=(\mathrm{vec}W_1,\dots,\mathrm{vec}W_L,\mathrm{vec}H_1)`."""
        order = check_order(order)
        return np.concatenate([M.ravel(order=order) for M in self.matrices()])

    @classmethod
    def from_vector(cls, theta: object, shapes: Sequence[tuple[int, int]], order: str = "C") -> "UFMPoint":
        """Inverse of :meth:`to_vector` for the given shapes (``[W_1, ..., W_L, H_1]``)."""
        order = check_order(order)
        theta = np.asarray(theta, dtype=float)
        sizes = [a * b for a, b in shapes]
        if theta.ndim != 1 or theta.size != sum(sizes):
            raise ShapeError(f"theta must be a vector of length {sum(sizes)} for shapes {list(shapes)}; got shape {theta.shape}")
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        mats = [p.reshape(s, order=order) for p, s in zip(parts, shapes)]
        return cls(tuple(mats[:-1]), mats[-1])

    def __add__(self, other: "UFMPoint") -> "UFMPoint":
        if not isinstance(other, UFMPoint) or other.shapes != self.shapes:
            return NotImplemented
        return UFMPoint(tuple(a + b for a, b in zip(self.weights, other.weights)), self.features + other.features)

    def scaled(self, factor: float) -> "UFMPoint":
        """The point with every matrix multiplied by ``factor``."""
        return UFMPoint(tuple(factor * W for W in self.weights), factor * self.features)

    def norm(self) -> float:
        """Euclidean norm of :math:`\\theta`."""
        return float(np.sqrt(sum(float((M * M).sum()) for M in self.matrices())))
