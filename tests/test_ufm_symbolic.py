"""The SymPy derivation of the UFM gradient and Kronecker-form Hessian vs the concrete symbolic model.

The general forms come from SymPy matrix calculus on matrix symbols of symbolic size; the reference
is direct differentiation of the explicit polynomial objective of a small concrete model. Equality is
exact (``expand(derived - direct) == 0``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from symhess.ufm.symbolic_hessian import (
    derive_block, derive_gradient, derive_layer_hessian, derived_hessian, derived_layer_hessian, expected_layer_factors, explicit_block, kronecker_factors,
)
from symhess.ufm.symbolic import MatrixUFM, SymbolicDeepLinearUFM


def _is_zero(M: sp.Matrix) -> bool:
    return all(sp.expand(e) == 0 for e in M)


@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_layer_hessian_is_the_kronecker_form_structurally(L):
    """diff twice w.r.t. W_l gives (A_l^T A_l) (x) (H_l H_l^T / N), as matrix expressions, for any size."""
    M = MatrixUFM(L)
    for l in range(1, L + 1):
        form = derive_layer_hessian(M, l)
        left, right = expected_layer_factors(M, l)
        assert sp.simplify(form.left - left) == sp.ZeroMatrix(*left.shape) or form.left == left
        assert form.right == right or sp.simplify(form.right - right) == sp.ZeroMatrix(*right.shape)


@pytest.mark.parametrize("order", ["C", "F"])
def test_derived_layer_hessian_equals_direct_differentiation(order):
    c = SymbolicDeepLinearUFM(2, 2, 2, 3)
    M = MatrixUFM(3)
    for l in (1, 2, 3):
        assert _is_zero(derived_layer_hessian(M, c, l, order) - c.layer_hessian(l, order))


def test_derived_full_hessian_equals_direct_differentiation():
    """All blocks, including the off-diagonal residual terms."""
    c = SymbolicDeepLinearUFM(2, 1, 2, 2)
    M = MatrixUFM(2)
    assert _is_zero(derived_hessian(M, c, "C") - c.hessian("C"))


def test_derived_gradient_equals_direct_differentiation():
    c = SymbolicDeepLinearUFM(2, 2, 2, 2)
    M = MatrixUFM(2)
    rep = M.substitution(c)
    direct = c.gradient("C")  # includes the regulariser
    mats = c.weights + [c.features]
    regs = c.reg_w + [c.reg_h]
    offset = 0
    for j, mat, lam in zip([1, 2, 0], mats, regs):
        derived = sp.Matrix(derive_gradient(M, j).xreplace(rep).as_explicit()) + lam * mat
        k = mat.rows * mat.cols
        assert _is_zero(sp.Matrix(list(derived)) - direct[offset:offset + k, :])
        offset += k


def test_gradient_formula_shape():
    """dMSE/dW_l = (1/N) A_l^T (W_L...W_1 H_1 - Y) H_l^T, read off the derived expression."""
    M = MatrixUFM(3)
    g = derive_gradient(M, 2)
    expected = M.backprop_map(2).T * M.residual * M.layer_features(2).T / M.sizes[2]
    assert sp.simplify(g - expected) == sp.ZeroMatrix(*g.shape) or g == expected


def test_sympy_axis_convention():
    """f.diff(X).diff(Z) has axes (Z_row, Z_col, X_row, X_col): derive_block relies on it."""
    c = SymbolicDeepLinearUFM(3, 1, 2, 2)
    M = MatrixUFM(2)
    T = derive_block(M, 1, 2)  # d^2 / d(W1)_{ab} d(W2)_{ce}
    E = sp.Array(T.xreplace(M.substitution(c)).as_explicit())
    W1, W2 = c.weights
    assert E.shape == (2, 2, 3, 2)
    for a, b, cc, e in itertools.product(range(2), range(2), range(3), range(2)):
        assert sp.expand(sp.diff(c.mse, W1[a, b], W2[cc, e]) - E[a, b, cc, e]) == 0


def test_off_diagonal_blocks_are_not_a_single_kronecker_product():
    M = MatrixUFM(2)
    with pytest.raises(ValueError, match="not a single Kronecker"):
        kronecker_factors(derive_block(M, 1, 2))


def test_explicit_block_orders_agree():
    c = SymbolicDeepLinearUFM(2, 1, 2, 2)
    M = MatrixUFM(2)
    T = derive_block(M, 1, 2)
    BC = explicit_block(T, M, c, "C")
    BF = explicit_block(T, M, c, "F")
    # F rows/cols are the transposed index pairs of C
    pi = np.arange(4).reshape(2, 2).ravel(order="F")
    pk = np.arange(4).reshape(2, 2).ravel(order="F")
    assert _is_zero(BF - BC.extract(list(pi), list(pk)))


def test_symbolic_model_objective_and_bad_input():
    c = SymbolicDeepLinearUFM(2, 1, 2, 1)
    vals = c.values([np.eye(2)], np.eye(2))
    assert c.mse.subs(vals) == 0
    lam = {c.reg_w[0]: 0.25, c.reg_h: 0.5}
    assert float(c.objective.subs(vals).subs(lam)) == pytest.approx(0.25 * 2 / 2 + 0.5 * 2 / 2)
    with pytest.raises(ValueError, match="order"):
        c.params("X")
    with pytest.raises(ValueError, match="layer"):
        c.layer_hessian(2)
    with pytest.raises(ValueError):
        SymbolicDeepLinearUFM(0, 1, 1, 1)
    with pytest.raises(TypeError):
        MatrixUFM(1.5)
