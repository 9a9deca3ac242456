"""Layer-wise and full Hessians of the deep (linear and ReLU) UFM at arbitrary points.

Independent routes: central finite differences of the objective (gradient) and of the analytic
gradient (Hessian), and the concrete SymPy Hessian (direct differentiation of the explicit polynomial)
compiled with lambdify.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symhess import DeepLinearUFM, DeepUFM, SymbolicDeepLinearUFM, UFMPoint
from symhess.ufm.calculus import extended_gradients, vec_to_matrix, matrix_to_vec


def _theta_fd_gradient(m, point, h=1e-6):
    theta = point.to_vector()
    out = np.empty_like(theta)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        out[k] = (m.objective(UFMPoint.from_vector(theta + e, m.shapes))
                  - m.objective(UFMPoint.from_vector(theta - e, m.shapes))) / (2 * h)
    return out


def _fd_hessian(m, point, sl, order="C", h=1e-5):
    """Central differences of the analytic MSE gradient, columns in slice ``sl`` of theta."""
    theta = point.to_vector(order)
    cols = []
    mse_only = type(m)(m.n_classes, m.n_per_class, m.width, m.depth, reg_w=1e-300, reg_h=1e-300,
                       **({} if isinstance(m, DeepLinearUFM) else {"activation": m.activation}))
    for k in range(sl.start, sl.stop):
        e = np.zeros_like(theta)
        e[k] = h
        gp = mse_only.gradient(UFMPoint.from_vector(theta + e, m.shapes, order)).to_vector(order)
        gm = mse_only.gradient(UFMPoint.from_vector(theta - e, m.shapes, order)).to_vector(order)
        cols.append((gp - gm)[sl] / (2 * h))
    return np.array(cols).T


def _layer_slice(m, layer):
    sizes = [a * b for a, b in m.shapes]
    start = sum(sizes[: layer - 1])
    return slice(start, start + sizes[layer - 1])


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_gradient_against_finite_differences(activation):
    m = DeepUFM(3, 2, 4, 3, reg_w=[1e-2, 2e-2, 3e-2], reg_h=5e-3, activation=activation)
    p = m.random_point(1, init_scale=0.7)
    np.testing.assert_allclose(m.gradient(p).to_vector(), _theta_fd_gradient(m, p), atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("layer", [1, 2, 3])
def test_layer_hessian_against_finite_differences(activation, layer, order):
    m = DeepUFM(3, 2, 4, 3, activation=activation)
    p = m.random_point(2, init_scale=0.8)
    H = m.layer_hessian(p, layer, order=order)
    ref = _fd_hessian(m, p, _layer_slice(m, layer), order)
    np.testing.assert_allclose(H, ref, atol=1e-7 * max(1, np.abs(ref).max()))
    assert np.abs(H).max() > 1e-3  # not trivially zero


def test_layer_hessian_orders_are_a_permutation():
    m = DeepLinearUFM(2, 3, 3, 2)
    p = m.random_point(0, 1.0)
    HC = m.layer_hessian(p, 1, order="C")
    HF = m.layer_hessian(p, 1, order="F")
    idx = np.arange(9).reshape(3, 3).ravel(order="F")  # F position k holds C entry idx[k]
    np.testing.assert_allclose(HF, HC[np.ix_(idx, idx)], atol=1e-15)


@pytest.mark.parametrize("order", ["C", "F"])
def test_full_hessian_against_sympy_and_finite_differences(order):
    K, n, d, L = 2, 2, 2, 2
    m = DeepLinearUFM(K, n, d, L, reg_w=[0.03, 0.05], reg_h=0.02)
    sym = SymbolicDeepLinearUFM(K, n, d, L)
    params = sym.params(order)
    H_sym = sp.lambdify(params + sym.reg_w + [sym.reg_h], sym.hessian(order, part="full"), "numpy")
    p = m.random_point(5, init_scale=0.9)
    ref = np.array(H_sym(*p.to_vector(order), *m.reg_w, m.reg_h), dtype=float)
    H = m.full_hessian(p, order=order, include_reg=True)
    np.testing.assert_allclose(H, ref, atol=1e-13)
    # and the MSE part against finite differences of the analytic gradient
    fd = _fd_hessian(m, p, slice(0, m.n_params), order)
    np.testing.assert_allclose(m.full_hessian(p, order=order), fd, atol=1e-7)


def test_layer_hessian_against_sympy_lambdified():
    K, n, d, L = 2, 2, 3, 3
    m = DeepLinearUFM(K, n, d, L)
    sym = SymbolicDeepLinearUFM(K, n, d, L)
    p = m.random_point(7, 1.0)
    for layer in (1, 2, 3):
        for order in "CF":
            f = sp.lambdify(sym.params(order), sym.layer_hessian(layer, order), "numpy")
            ref = np.array(f(*p.to_vector(order)), dtype=float)
            np.testing.assert_allclose(m.layer_hessian(p, layer, order=order), ref, atol=1e-13)


def test_full_hessian_diagonal_blocks_are_the_layer_hessians():
    m = DeepLinearUFM(3, 2, 4, 3)
    p = m.random_point(3, 0.5)
    H = m.full_hessian(p)
    for layer in (1, 2, 3):
        sl = _layer_slice(m, layer)
        np.testing.assert_allclose(H[sl, sl], m.layer_hessian(p, layer), atol=1e-15)


def test_full_hessian_memory_guard():
    from symhess import MemoryLimitError
    m = DeepLinearUFM(3, 2, 4, 3)
    with pytest.raises(MemoryLimitError, match="layer-wise"):
        m.full_hessian(m.optimum(), max_bytes=1000)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_kronecker_spectrum_equals_dense(activation):
    m = DeepUFM(3, 3, 5, 3, activation=activation)
    p = m.random_point(4, 1.0)
    for layer in (1, 2, 3):
        np.testing.assert_allclose(m.layer_spectrum(p, layer), np.linalg.eigvalsh(m.layer_hessian(p, layer))[::-1],
                                   atol=1e-12)


@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_papyan_components_sum_to_the_hessian(activation):
    m = DeepUFM(3, 4, 5, 3, activation=activation)
    p = m.random_point(8, 1.0)
    for layer in (1, 3):
        dec = m.papyan_decomposition(p, layer)
        np.testing.assert_allclose(dec.total, m.layer_hessian(p, layer), atol=1e-13)
        for name in ("within", "cross", "class"):
            assert np.linalg.eigvalsh(dec.component(name)).min() > -1e-13
            assert np.abs(dec.component(name)).max() > 1e-6  # away from collapse all three are present


def test_per_sample_gradients_average_to_the_mse_gradient():
    m = DeepUFM(3, 2, 4, 3, activation="relu")
    p = m.random_point(9, 1.0)
    from symhess.ufm.matrices import per_sample_gradients
    for layer in (1, 2, 3):
        g = per_sample_gradients(p, m.labels, layer, "relu")
        np.testing.assert_allclose(g.mean(axis=0), m.mse_gradient(p, layer).ravel(), atol=1e-14)
        full = m.gradient(p).weights[layer - 1]
        np.testing.assert_allclose(m.mse_gradient(p, layer), full - m.reg_w[layer - 1] * p.weights[layer - 1], atol=1e-15)


def test_mse_gradient_lies_in_the_range_of_the_layer_hessian():
    """vec grad in range(H_l^T (x) A_l) = range((A^T A) (x) (H H^T)) at any point (linear model)."""
    m = DeepLinearUFM(3, 4, 6, 3)
    p = m.random_point(11, 1.0)
    for layer in (1, 2, 3):
        H = m.layer_hessian(p, layer)
        w, Q = np.linalg.eigh(H)
        Qr = Q[:, w > 1e-12 * w.max()]
        g = m.mse_gradient(p, layer).ravel()
        assert np.linalg.norm(g - Qr @ (Qr.T @ g)) < 1e-10 * np.linalg.norm(g)


def test_vec_helpers_roundtrip():
    M = np.arange(6.0).reshape(2, 3)
    for order in "CF":
        v = matrix_to_vec(M, order)
        np.testing.assert_array_equal(v, M.ravel(order=order))
        np.testing.assert_array_equal(vec_to_matrix(v, (2, 3), order), M)
    m = DeepLinearUFM(2, 2, 3, 2)
    p = m.random_point(0)
    d = extended_gradients(p, 1, "linear", "F")
    assert d.shape == (4, 2, 9)
