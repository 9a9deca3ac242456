r"""The deep linear unconstrained-feature model (UFM) as SymPy objects.

Place in the package: the unconstrained-feature-model family (SymPy only; imports nothing from later stages).

Objective (:math:`K` classes, :math:`n` samples per class, :math:`N=Kn`, width :math:`d`, depth :math:`L`):

.. math::

    \mathcal L = \frac1{2N}\|W_L\cdots W_1H_1-Y\|_F^2+\sum_{l=1}^L\frac{\lambda_{W_l}}2\|W_l\|_F^2
      +\frac{\lambda_{H_1}}2\|H_1\|_F^2,\qquad Y=I_K\otimes\mathbf 1_n^\top .

Two representations:

* :class:`MatrixUFM` — the data term written with :class:`sympy.MatrixSymbol` factors of *symbolic*
  sizes :math:`K, d, N`; :mod:`symhess.ufm.symbolic_hessian` differentiates it with SymPy's matrix
  calculus to obtain the general (size-free) gradient and Kronecker-form Hessian blocks.
* :class:`SymbolicDeepLinearUFM` — a concrete small instance with one symbol per entry
  (``W{l}_{i}_{j}``, ``H_{i}_{j}``, regularisers ``lambda_W{l}``, ``lambda_H``): the independent
  route against which the general forms and the numeric code are checked.

Parameter order :math:`\theta=(\mathrm{vec}W_1,\dots,\mathrm{vec}W_L,\mathrm{vec}H_1)`; ``order="C"``
(row-major, default) or ``"F"`` (column-major).
"""

from __future__ import annotations

from functools import cached_property

import sympy as sp

__all__ = ["MatrixUFM", "SymbolicDeepLinearUFM", "UFM_ORDERS"]

#: vectorisation orders: row-major ("C", symhess default) and column-major ("F", the paper's vec)
UFM_ORDERS = ("C", "F")

#: symbolic sizes of the general (matrix-symbol) model
K_SIZE = sp.Symbol("K", integer=True, positive=True)
D_SIZE = sp.Symbol("d", integer=True, positive=True)
N_SIZE = sp.Symbol("N", integer=True, positive=True)


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}={value!r} must be an integer")
    if value < minimum:
        raise ValueError(f"{name}={value} must be >= {minimum}")
    return value


def _check_order(order: object) -> str:
    if order not in UFM_ORDERS:
        raise ValueError(f"order={order!r}; use 'C' (row-major, default) or 'F' (column-major)")
    return order  # type: ignore[return-value]


def _hessian(f: sp.Expr, params: list[sp.Symbol]) -> sp.Matrix:
    """``sympy.hessian`` with each first derivative computed once and the symmetric half filled by copy."""
    grads = [sp.diff(f, p) for p in params]
    n = len(params)
    out = sp.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            out[i, j] = out[j, i] = sp.diff(grads[i], params[j])
    return out


def vec(M: sp.MatrixBase, order: str = "C") -> list:
    """Entries of ``M`` in row-major (``"C"``) or column-major (``"F"``) order."""
    _check_order(order)
    return list(M) if order == "C" else list(M.T)


class MatrixUFM:
    r"""The data term of the depth-``L`` deep linear UFM with matrix symbols of symbolic size.

    Factors :math:`F_0=H_1\in\mathbb R^{d\times N}`, :math:`F_l=W_l\in\mathbb R^{d\times d}` (:math:`l<L`),
    :math:`F_L=W_L\in\mathbb R^{K\times d}`; :math:`Y\in\mathbb R^{K\times N}`.

    Attributes
    ----------
    factors : list of sympy.MatrixSymbol
        ``[H1, W1, ..., WL]`` (index = factor number :math:`j`).
    labels : sympy.MatrixSymbol
        ``Y``.
    mse : sympy.Expr
        :math:`\operatorname{tr}(R^\top R)/(2N)`, :math:`R=W_L\cdots W_1H_1-Y`.
    """

    def __init__(self, depth: int) -> None:
        self.depth = _check_int(depth, "depth", 1)
        K, d, N = K_SIZE, D_SIZE, N_SIZE
        self.sizes = (K, d, N)
        self.features = sp.MatrixSymbol("H1", d, N)
        self.weights = [sp.MatrixSymbol(f"W{l}", d if l < self.depth else K, d) for l in range(1, self.depth + 1)]
        self.factors = [self.features] + self.weights
        self.labels = sp.MatrixSymbol("Y", K, N)

    @cached_property
    def product(self) -> sp.MatrixExpr:
        """:math:`W_L\\cdots W_1H_1`."""
        return sp.MatMul(*reversed(self.factors))

    @cached_property
    def residual(self) -> sp.MatrixExpr:
        return self.product - self.labels

    @cached_property
    def mse(self) -> sp.Expr:
        r""":math:`\operatorname{tr}(R^\top R)/(2N)`."""
        R = self.residual
        return sp.Trace(R.T * R) / (2 * N_SIZE)

    def layer_features(self, layer: int) -> sp.MatrixExpr:
        r""":math:`H_l=W_{l-1}\cdots W_1H_1` (``layer`` in ``1..L``)."""
        self._check_layer(layer)
        return sp.MatMul(*reversed(self.factors[:layer])) if layer > 1 else self.features

    def backprop_map(self, layer: int) -> sp.MatrixExpr:
        r""":math:`A_l=W_L\cdots W_{l+1}` (the identity :math:`I_K` for :math:`l=L`)."""
        self._check_layer(layer)
        if layer == self.depth:
            return sp.Identity(K_SIZE)
        return sp.MatMul(*reversed(self.weights[layer:]))

    def _check_layer(self, layer: int) -> None:
        if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= self.depth:
            raise ValueError(f"layer={layer!r} must be an integer in 1..{self.depth}")

    def substitution(self, model: "SymbolicDeepLinearUFM") -> dict:
        """Replacement of the matrix symbols and sizes by a concrete model's explicit matrices."""
        if model.depth != self.depth:
            raise ValueError(f"depths differ: {self.depth} (matrix model) vs {model.depth} (concrete model)")
        rep: dict = {K_SIZE: model.n_classes, D_SIZE: model.width, N_SIZE: model.n_samples,
                     self.features: sp.ImmutableMatrix(model.features), self.labels: sp.ImmutableMatrix(model.labels)}
        for Ws, Wc in zip(self.weights, model.weights):
            rep[Ws] = sp.ImmutableMatrix(Wc)
        return rep


class SymbolicDeepLinearUFM:
    r"""A concrete deep linear UFM with one SymPy symbol per parameter entry.

    Parameters
    ----------
    n_classes, n_per_class, width, depth : int
        :math:`K\ge1`, :math:`n\ge1`, :math:`d\ge1`, :math:`L\ge1`. Keep them tiny: the objective is an
        explicit polynomial.

    Attributes
    ----------
    weights : list of sympy.Matrix
        :math:`W_1,\dots,W_L` with entries ``W{l}_{i}_{j}``.
    features : sympy.Matrix
        :math:`H_1` with entries ``H_{i}_{j}``.
    labels : sympy.Matrix
        :math:`Y=I_K\otimes\mathbf 1_n^\top` (integers).
    reg_w, reg_h : list of sympy.Symbol, sympy.Symbol
        ``lambda_W{l}`` and ``lambda_H`` (positive).

    Examples
    --------
    >>> m = SymbolicDeepLinearUFM(2, 1, 2, 1)
    >>> m.output
    Matrix([
    [H_0_0*W1_0_0 + H_1_0*W1_0_1, H_0_1*W1_0_0 + H_1_1*W1_0_1],
    [H_0_0*W1_1_0 + H_1_0*W1_1_1, H_0_1*W1_1_0 + H_1_1*W1_1_1]])
    """

    def __init__(self, n_classes: int, n_per_class: int, width: int, depth: int) -> None:
        self.n_classes = _check_int(n_classes, "n_classes", 1)
        self.n_per_class = _check_int(n_per_class, "n_per_class", 1)
        self.width = _check_int(width, "width", 1)
        self.depth = _check_int(depth, "depth", 1)
        K, n, d, L = self.n_classes, self.n_per_class, self.width, self.depth
        self.n_samples = K * n
        real = {"real": True}
        self.weights = [
            sp.Matrix(d if l < L else K, d, lambda i, j, l=l: sp.Symbol(f"W{l}_{i}_{j}", **real)) for l in range(1, L + 1)
        ]
        self.features = sp.Matrix(d, self.n_samples, lambda i, j: sp.Symbol(f"H_{i}_{j}", **real))
        self.labels = sp.Matrix(K, self.n_samples, lambda c, j: 1 if j // n == c else 0)
        self.reg_w = [sp.Symbol(f"lambda_W{l}", positive=True) for l in range(1, L + 1)]
        self.reg_h = sp.Symbol("lambda_H", positive=True)

    # -- parameters -----------------------------------------------------------------------------
    def params(self, order: str = "C") -> list[sp.Symbol]:
        r""":math:`\theta=(\mathrm{vec}W_1,\dots,\mathrm{vec}W_L,\mathrm{vec}H_1)`."""
        out: list[sp.Symbol] = []
        for M in self.weights + [self.features]:
            out += vec(M, order)
        return out

    def layer_params(self, layer: int, order: str = "C") -> list[sp.Symbol]:
        r""":math:`\mathrm{vec}\,W_l`."""
        self._check_layer(layer)
        return vec(self.weights[layer - 1], order)

    def _check_layer(self, layer: int) -> None:
        if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= self.depth:
            raise ValueError(f"layer={layer!r} must be an integer in 1..{self.depth}")

    # -- network --------------------------------------------------------------------------------
    def layer_features(self, layer: int) -> sp.Matrix:
        r""":math:`H_l=W_{l-1}\cdots W_1H_1`; ``layer = L+1`` gives the output."""
        if not 1 <= layer <= self.depth + 1:
            raise ValueError(f"layer={layer} must be in 1..{self.depth + 1}")
        H = self.features
        for W in self.weights[: layer - 1]:
            H = W * H
        return H

    def backprop_map(self, layer: int) -> sp.Matrix:
        r""":math:`A_l=W_L\cdots W_{l+1}` (:math:`I_K` for :math:`l=L`)."""
        self._check_layer(layer)
        A = sp.eye(self.n_classes)
        for W in reversed(self.weights[layer:]):
            A = A * W
        return A

    @cached_property
    def output(self) -> sp.Matrix:
        r""":math:`\hat Y=W_L\cdots W_1H_1`."""
        return self.layer_features(self.depth + 1)

    @cached_property
    def residual(self) -> sp.Matrix:
        return self.output - self.labels

    @cached_property
    def mse(self) -> sp.Expr:
        r""":math:`\|\hat Y-Y\|_F^2/(2N)`."""
        return sum((e**2 for e in self.residual), sp.Integer(0)) / (2 * self.n_samples)

    @cached_property
    def regulariser(self) -> sp.Expr:
        r""":math:`\sum_l\frac{\lambda_{W_l}}2\|W_l\|_F^2+\frac{\lambda_{H_1}}2\|H_1\|_F^2`."""
        out = sum((lam / 2 * sum(w**2 for w in W) for lam, W in zip(self.reg_w, self.weights)), sp.Integer(0))
        return out + self.reg_h / 2 * sum(h**2 for h in self.features)

    @cached_property
    def objective(self) -> sp.Expr:
        return self.mse + self.regulariser

    def gradient(self, order: str = "C") -> sp.Matrix:
        r""":math:`\nabla_\theta\mathcal L` as a column."""
        return sp.Matrix([sp.diff(self.objective, p) for p in self.params(order)])

    def hessian(self, order: str = "C", part: str = "mse") -> sp.Matrix:
        r"""Hessian in all of :math:`\theta`: of the data term (``part="mse"``) or of the objective (``"full"``)."""
        if part not in ("mse", "full"):
            raise ValueError(f"part={part!r}; use 'mse' or 'full'")
        return _hessian(self.mse if part == "mse" else self.objective, self.params(order))

    def layer_hessian(self, layer: int, order: str = "C") -> sp.Matrix:
        r"""Hessian of the data term with respect to :math:`\mathrm{vec}\,W_l` (direct differentiation)."""
        return _hessian(self.mse, self.layer_params(layer, order))

    def values(self, weights, features) -> dict[sp.Symbol, float]:
        """Substitution ``{symbol: value}`` for numeric ``weights`` (list of arrays) and ``features``."""
        if len(weights) != self.depth:
            raise ValueError(f"got {len(weights)} weight matrices for depth {self.depth}")
        rep: dict[sp.Symbol, float] = {}
        for S, V in zip(self.weights + [self.features], list(weights) + [features]):
            rows = [list(map(float, r)) for r in V]
            if len(rows) != S.rows or any(len(r) != S.cols for r in rows):
                raise ValueError(f"value of shape ({len(rows)}, {len(rows[0]) if rows else 0}) does not fit {S.shape}")
            for i in range(S.rows):
                for j in range(S.cols):
                    rep[S[i, j]] = rows[i][j]
        return rep

    def __repr__(self) -> str:
        return (f"SymbolicDeepLinearUFM(n_classes={self.n_classes}, n_per_class={self.n_per_class}, "
                f"width={self.width}, depth={self.depth})")
