"""Gradient-descent training of the deep UFM: records, convergence, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from symhess import DeepLinearUFM, DeepUFM, NonFiniteError, UFMPoint
from symhess.ufm.training import checkpoints


@pytest.fixture(scope="module")
def linear_run():
    m = DeepLinearUFM(3, 4, 6, 3, reg_w=1e-2, reg_h=1e-2)
    return m, m.train(steps=3000, lr=0.5, rng=1, record_at=12)


def test_record_shapes(linear_run):
    m, run = linear_run
    R = run.steps.size
    assert run.steps[0] == 0 and run.steps[-1] == 3000
    assert run.nc1.shape == (R, 3) and run.balancedness.shape == (R, 3)
    for l, shape in zip((1, 2, 3), [(6, 6), (6, 6), (3, 6)]):
        assert run.hessian_eigenvalues[l].shape == (R, shape[0] * shape[1])
        assert run.weight_eigenvalues[l].shape == (R, shape[0])
        assert run.eigvec_alignment[l].shape == (R, 3, 3)
        assert run.gradient_coefficients[l].shape == (R, 3, 3)
        assert run.top_fraction[l].shape == (R,) and run.top_fraction_full[l].shape == (R,)


def test_records_match_direct_measurements(linear_run):
    """The tracked spectra are those of the final point, measured through the public methods."""
    m, run = linear_run
    p = run.final
    assert run.objective[-1] == pytest.approx(m.objective(p), rel=1e-14)
    np.testing.assert_allclose(run.nc1[-1], m.nc1(p), rtol=1e-10, atol=1e-300)
    for l in (1, 2, 3):
        np.testing.assert_allclose(run.hessian_eigenvalues[l][-1], m.layer_spectrum(p, l), atol=1e-14)
        np.testing.assert_allclose(run.eigvec_alignment[l][-1], m.eigvec_alignment(p, l), atol=1e-10)
        np.testing.assert_allclose(run.gradient_coefficients[l][-1], m.gradient_coefficients(p, l), atol=1e-8)


def test_training_converges_to_collapse(linear_run):
    m, run = linear_run
    th = m.theory()
    assert np.all(np.diff(run.objective) <= 1e-15)  # GD with a small enough step decreases the objective
    assert run.objective[-1] - th.objective < 1e-10
    assert np.all(run.nc1[-1] < 1e-10) and np.all(run.nc1[0] > 1e-2)
    assert np.all(run.balancedness[-1] < 1e-6)
    K = m.n_classes
    for l in (1, 2, 3):
        ev = run.hessian_eigenvalues[l]
        np.testing.assert_allclose(ev[-1, : K * K], th.hessian_eigenvalues[l - 1], rtol=1e-6)  # Figure 3
        assert ev[0, 0] < ev[-1, 0]  # eigenvalues start near zero
        np.testing.assert_allclose(run.eigvec_alignment[l][-1], 1, atol=1e-6)  # Figure 4
        np.testing.assert_allclose(run.weight_eigenvalues[l][-1, :K], th.weight_eigenvalues[l - 1], rtol=1e-6)  # Figure 8
        np.testing.assert_allclose(run.gradient_coefficients[l][-1], np.eye(K) / np.sqrt(K), atol=1e-5)  # Figure 7
        # Gur-Ari: after the early phase the MSE gradient lives in the top-K^2 eigenspace ...
        late = run.top_fraction[l][run.steps > 150]
        assert late.size and np.all(late > 0.999)
    assert run.top_fraction[1][0] < 0.9  # at the random start it is not aligned
    # ... but the full (regularised) gradient does not: late in training it is dominated by the decay
    # of the weights' bulk components, which lie in the Hessian's null space (docs/ufm.md)
    assert run.top_fraction_full[1][-1] < 1e-3


def test_relu_training_decreases_the_objective():
    m = DeepUFM(3, 4, 8, 3, reg_w=5e-3, reg_h=5e-3, activation="relu")
    run = m.train(steps=1500, lr=0.5, rng=0, record_at=6, track_layers=[3])
    assert run.objective[-1] < 0.5 * run.objective[0]
    assert set(run.hessian_eigenvalues) == {3}
    assert run.nc1[-1, -1] < run.nc1[0, -1]
    np.testing.assert_allclose(run.hessian_eigenvalues[3][-1], m.layer_spectrum(run.final, 3), atol=1e-12)


def test_train_from_given_init_is_deterministic():
    m = DeepLinearUFM(2, 2, 3, 2)
    p = m.random_point(3)
    a = m.train(steps=50, lr=0.3, init=p, spectra=False, record_at=[0, 50])
    b = m.train(steps=50, lr=0.3, init=p, spectra=False, record_at=[0, 50])
    np.testing.assert_array_equal(a.final.to_vector(), b.final.to_vector())
    np.testing.assert_array_equal(a.initial.to_vector(), p.to_vector())


def test_divergence_raises():
    m = DeepLinearUFM(3, 4, 8, 3)
    with pytest.raises(NonFiniteError, match="lower lr"):
        m.train(steps=2000, lr=50.0, rng=0, init_scale=3.0, spectra=False)


def test_checkpoints():
    assert checkpoints(1000, 5).tolist()[0] == 0 and checkpoints(1000, 5).tolist()[-1] == 1000
    assert checkpoints(10, [0, 3, 3, 10]).tolist() == [0, 3, 10]
    with pytest.raises(ValueError, match="record_at"):
        checkpoints(10, [11])
    with pytest.raises(ValueError, match="record_at"):
        checkpoints(10, 0)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"steps": -1}, ValueError, "steps"),
    ({"steps": 1.5}, ValueError, "steps"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"lr": float("nan")}, ValueError, "lr"),
    ({"track_layers": [4]}, ValueError, "track_layers"),
    ({"init_scale": -1.0}, ValueError, "init_scale"),
    ({"init": "x"}, TypeError, "UFMPoint"),
])
def test_train_bad_input(kwargs, exc, match):
    m = DeepLinearUFM(2, 2, 3, 3)
    args = {"steps": 5, "lr": 0.1} | kwargs
    with pytest.raises(exc, match=match):
        m.train(**args)


@pytest.mark.parametrize("args, kwargs, exc, match", [
    ((1, 2, 3, 2), {}, ValueError, "n_classes"),
    ((3, 0, 3, 2), {}, ValueError, "n_per_class"),
    ((3, 2, 2, 2), {}, ValueError, "width"),
    ((3, 2, 3, 0), {}, ValueError, "depth"),
    ((3.0, 2, 3, 2), {}, TypeError, "n_classes"),
    ((3, 2, 3, 2), {"reg_w": [1e-3]}, ValueError, "reg_w has 1 entries"),
    ((3, 2, 3, 2), {"reg_w": -1e-3}, ValueError, "reg_w"),
    ((3, 2, 3, 2), {"reg_w": 0.0}, ValueError, "> 0"),
    ((3, 2, 3, 2), {"reg_h": float("inf")}, ValueError, "reg_h"),
    ((3, 2, 3, 2), {"reg_w": "1e-3"}, TypeError, "reg_w"),
    ((3, 2, 3, 2), {"reg_w": [1e-3, None]}, TypeError, "reg_w"),
])
def test_model_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        DeepLinearUFM(*args, **kwargs)


def test_bad_activation_layer_order_point():
    with pytest.raises(ValueError, match="activation"):
        DeepUFM(3, 2, 3, 2, activation="tanh")
    m = DeepLinearUFM(3, 2, 4, 2)
    opt = m.optimum()
    with pytest.raises(ValueError, match="layer"):
        m.layer_hessian(opt, 3)
    with pytest.raises(ValueError, match="layer"):
        m.layer_hessian(opt, 0)
    with pytest.raises(TypeError, match="layer"):
        m.layer_hessian(opt, 1.0)
    with pytest.raises(ValueError, match="order"):
        m.layer_hessian(opt, 1, order="row")
    other = DeepLinearUFM(3, 2, 5, 2).optimum()
    with pytest.raises(ValueError, match="shapes"):
        m.layer_hessian(other, 1)
    with pytest.raises(ValueError, match="basis"):
        m.gradient_coefficients(m.random_point(0), 1, basis="x")
    with pytest.raises(ValueError, match="zero"):
        DeepLinearUFM(3, 2, 4, 2).gradient_coefficients(UFMPoint((np.zeros((4, 4)), np.zeros((3, 4))),
                                                                   np.zeros((4, 6))), 1)


def test_point_validation():
    with pytest.raises(NonFiniteError, match="W_1"):
        UFMPoint((np.full((2, 2), np.nan),), np.ones((2, 3)))
    with pytest.raises(ValueError, match="columns"):
        UFMPoint((np.ones((2, 3)),), np.ones((2, 3)))
    with pytest.raises(TypeError, match="sequence"):
        UFMPoint(np.ones((2, 2)), np.ones((2, 3)))
    p = UFMPoint([np.ones((2, 2))], np.ones((2, 3)))
    with pytest.raises(ValueError):
        p.weights[0][0, 0] = 5.0  # read-only
    for order in "CF":
        q = UFMPoint.from_vector(p.to_vector(order), p.shapes, order)
        np.testing.assert_array_equal(q.to_vector(), p.to_vector())


def test_small_starts_end_in_partial_collapse():
    """docs/ufm.md section 2: for L >= 2 each label direction has a local minimum at 0, so a too-small
    start ends with only r < K directions fitted, objective (r g* + (K - r)/2)/K (r = 0: the origin)."""
    m = DeepLinearUFM(3, 4, 8, 4, reg_w=1e-2, reg_h=1e-2)
    th = m.theory()
    assert m.beta < m.beta_c
    levels = {r: (r * th.objective + (3 - r) / 2) / 3 for r in range(4)}
    for ws, r in [(0.2, 0), (0.5, 1), (0.7, 2), (1.0, 3)]:
        run = m.train(steps=3000, lr=0.5, rng=0, weight_scale=ws, spectra=False, record_at=2)
        assert run.objective[-1] == pytest.approx(levels[r], abs=1e-9), ws
        assert run.grad_norm[-1] < 1e-6  # a stationary point, not a slow transient
    assert run.objective[-1] == pytest.approx(th.objective, abs=1e-12)


def test_relu_compatible_optimum():
    """docs/ufm.md section 9: the linear optimum with coordinate frames is a ReLU stationary point with
    the same objective; its one-sided layer Hessians have rank K below the last layer."""
    K, L = 3, 3
    lin = DeepLinearUFM(K, 2, 5, L, reg_w=2e-2, reg_h=1e-2)
    relu = DeepUFM(K, 2, 5, L, reg_w=2e-2, reg_h=1e-2, activation="relu")
    opt, th = lin.optimum(), lin.theory()
    assert relu.objective(opt) == pytest.approx(th.objective, rel=1e-13)
    assert relu.gradient(opt).norm() < 1e-13
    for l in range(1, L + 1):
        ev = relu.layer_spectrum(opt, l)
        rank = int((ev > 1e-9).sum())
        assert rank == (K * K if l == L else K)
        np.testing.assert_allclose(ev[:rank], th.hessian_eigenvalues[l - 1], rtol=1e-10)
    # with random (sign-mixed) frames the point is not ReLU-compatible
    assert relu.gradient(lin.optimum(rng=0)).norm() > 1e-3
