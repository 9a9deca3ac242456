r"""Gradient and Hessian of the deep linear UFM by SymPy matrix calculus: the general Kronecker form.

Place in the package: the unconstrained-feature-model family (imports the symbolic model and errors; SymPy only).

SymPy differentiates the size-free data term :math:`\operatorname{tr}(R^\top R)/(2N)`,
:math:`R=W_L\cdots W_1H_1-Y` (:class:`~symhess.ufm.symbolic.MatrixUFM`), with respect to whole matrix
symbols. The results, for factors :math:`F_0=H_1`, :math:`F_l=W_l`:

* gradient: :math:`\partial_{W_l}=\frac1N A_l^\top R\,H_l^\top` with :math:`A_l=W_L\cdots W_{l+1}`,
  :math:`H_l=W_{l-1}\cdots W_1H_1`;
* diagonal (layer-wise) block: a single tensor product
  :math:`\frac{\partial^2}{\partial(W_l)_{ab}\partial(W_l)_{ce}}=(A_l^\top A_l)_{ac}\,(H_lH_l^\top/N)_{be}`,
  i.e. the Kronecker form :math:`(A_l^\top A_l)\otimes(H_lH_l^\top)/N` in row-major vec
  (:math:`(H_lH_l^\top)\otimes(A_l^\top A_l)/N` in column-major vec);
* off-diagonal blocks: a Gauss–Newton tensor product plus a residual term linear in :math:`R`.

:func:`kronecker_factors` reads the two factors off SymPy's ``PermuteDims(ArrayTensorProduct(X, Y),
(1 2))`` result (it raises if the block is not of that form), and :func:`explicit_block` /
:func:`derived_hessian` evaluate the derived forms on a concrete
:class:`~symhess.ufm.symbolic.SymbolicDeepLinearUFM` so that they can be compared, entry by entry and
exactly, with direct differentiation of the explicit polynomial objective.

SymPy's axis convention (checked in ``tests/test_ufm_symbolic.py``): ``f.diff(X).diff(Z)`` has axes
``(Z_row, Z_col, X_row, X_col)``; :func:`derive_block` therefore returns
``T[a, b, c, e]`` :math:`=\partial^2 f/\partial(F_i)_{ab}\,\partial(F_j)_{ce}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.tensor.array.expressions import ArrayTensorProduct, PermuteDims

from .symbolic import N_SIZE, MatrixUFM, SymbolicDeepLinearUFM, UFM_ORDERS

__all__ = [
    "LayerHessianForm", "derive_gradient", "derive_block", "kronecker_factors", "derive_layer_hessian",
    "explicit_block", "derived_hessian", "derived_layer_hessian", "expected_layer_factors",
]


def _factor(model: MatrixUFM, j: int) -> sp.MatrixSymbol:
    if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j <= model.depth:
        raise ValueError(f"factor index {j!r} must be an integer in 0..{model.depth} (0 = H_1, l = W_l)")
    return model.factors[j]


def derive_gradient(model: MatrixUFM, j: int) -> sp.MatrixExpr:
    r""":math:`\partial\,\mathrm{MSE}/\partial F_j` as a matrix expression (``j=0``: :math:`H_1`, ``j=l``: :math:`W_l`)."""
    return model.mse.diff(_factor(model, j))


def derive_block(model: MatrixUFM, i: int, j: int):
    r"""Second derivative ``T[a, b, c, e]`` :math:`=\partial^2\mathrm{MSE}/\partial(F_i)_{ab}\partial(F_j)_{ce}`
    as a SymPy array expression."""
    return model.mse.diff(_factor(model, j)).diff(_factor(model, i))


def kronecker_factors(block) -> tuple[sp.MatrixExpr, sp.MatrixExpr]:
    r"""``(X, Y)`` with ``T[a, b, c, e] = X[a, c] Y[b, e]`` if the block is that single tensor product.

    Raises
    ------
    ValueError
        If ``block`` is not ``PermuteDims(ArrayTensorProduct(X, Y), (1 2))`` (e.g. an off-diagonal block,
        which has a residual term as well).
    """
    if isinstance(block, PermuteDims):
        inner = block.expr
        if isinstance(inner, ArrayTensorProduct) and len(inner.args) == 2 \
                and list(block.permutation.array_form) == [0, 2, 1, 3]:
            return inner.args[0], inner.args[1]
    raise ValueError(f"block is not a single Kronecker (tensor) product: {block}")


@dataclass(frozen=True)
class LayerHessianForm:
    r"""The derived layer-wise Hessian :math:`\mathrm{left}\otimes\mathrm{right}` (row-major vec).

    ``left`` is :math:`A_l^\top A_l` and ``right`` :math:`H_lH_l^\top/N` up to where SymPy places the
    scalar :math:`1/N`; ``column-major`` vec swaps them.
    """

    layer: int
    left: sp.MatrixExpr
    right: sp.MatrixExpr

    def kronecker(self, order: str = "C") -> sp.Expr:
        """``KroneckerProduct`` in the given vec order (unevaluated)."""
        if order not in UFM_ORDERS:
            raise ValueError(f"order={order!r}; use 'C' or 'F'")
        a, b = (self.left, self.right) if order == "C" else (self.right, self.left)
        return sp.KroneckerProduct(a, b)


def derive_layer_hessian(model: MatrixUFM, layer: int) -> LayerHessianForm:
    """Differentiate twice with respect to :math:`W_l` and read off the Kronecker factors."""
    model._check_layer(layer)
    return LayerHessianForm(layer, *kronecker_factors(derive_block(model, layer, layer)))


def expected_layer_factors(model: MatrixUFM, layer: int) -> tuple[sp.MatrixExpr, sp.MatrixExpr]:
    r"""The claimed factors :math:`(A_l^\top A_l,\ H_lH_l^\top/N)` built from their definitions."""
    A = model.backprop_map(layer)
    H = model.layer_features(layer)
    return A.T * A, H * H.T / N_SIZE


def _explicit_array(expr, rep: dict) -> sp.Array:
    return sp.Array(expr.xreplace(rep).as_explicit())


def explicit_block(block, model: MatrixUFM, concrete: SymbolicDeepLinearUFM, order: str = "C") -> sp.Matrix:
    """Evaluate a derived 4-index block on ``concrete`` and flatten it to a matrix in ``order``."""
    if order not in UFM_ORDERS:
        raise ValueError(f"order={order!r}; use 'C' or 'F'")
    T = _explicit_array(block, model.substitution(concrete))
    ra, cb, rc, ce = T.shape
    if order == "F":
        T = sp.permutedims(T, (1, 0, 3, 2))
        ra, cb, rc, ce = cb, ra, ce, rc
    return sp.Matrix(T.reshape(ra * cb, rc * ce).tolist())


def derived_layer_hessian(model: MatrixUFM, concrete: SymbolicDeepLinearUFM, layer: int, order: str = "C") -> sp.Matrix:
    r"""The derived Kronecker form :math:`(A_l^\top A_l)\otimes(H_lH_l^\top)/N` made explicit on ``concrete``."""
    form = derive_layer_hessian(model, layer)
    rep = model.substitution(concrete)
    left = sp.Matrix(form.left.xreplace(rep).as_explicit())
    right = sp.Matrix(form.right.xreplace(rep).as_explicit())
    return sp.kronecker_product(left, right) if order == "C" else sp.kronecker_product(right, left)


def derived_hessian(model: MatrixUFM, concrete: SymbolicDeepLinearUFM, order: str = "C") -> sp.Matrix:
    r"""The whole MSE Hessian in :math:`\theta=(W_1,\dots,W_L,H_1)` assembled from the derived blocks."""
    factor_order = list(range(1, model.depth + 1)) + [0]
    rows = []
    for i in factor_order:
        rows.append([explicit_block(derive_block(model, i, j), model, concrete, order) for j in factor_order])
    return sp.BlockMatrix(rows).as_explicit()
