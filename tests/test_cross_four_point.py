"""Four-point expectations with a different activation per argument (erf at several scales, polynomials),
and their use in the online-SGD equations with a teacher of another erf scale.

Independent routes: a one-dimensional-integral representation of erf (elementary Gaussian integrals
plus a two-dimensional Gauss-Legendre rule), the numeric four-point quadrature with ``acts=``, Monte
Carlo, and exact Gauss-Hermite rules for polynomials.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.errors import InvalidParameterError, NoClosedFormError
from symhess.expectation.four_point import cross_four_point_expectation, four_point_expectation
from symhess.kernels.codegen import compile_cross_four_point_kernel, compile_four_point_kernel
from symhess.kernels.four_point_quadrature import gaussian_four_point_quadrature
from symhess.symbols import FOUR_ARGS
from symhess.two_layer.online import OrderParameterODE, order_parameters

KEY = (1, 1, 0, 0)
_IU = [(0, 0), (1, 1), (2, 2), (3, 3), (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def _args(C):
    return [C[..., i, j] for i, j in _IU]


def _cov(scale, rank, rng):
    A = rng.normal(size=(4, rank)) * scale
    return A @ A.T


def _erf_i4_reference(s, C, n_nodes=48):
    """E[s1 erf'(s1 y1) s2 erf'(s2 y2) erf(s3 y3) erf(s4 y4)] from erf(s y) = (2/sqrt(pi)) int_0^s y e^{-t^2 y^2} dt.

    With D = diag(2 s1^2, 2 s2^2, 2 t3^2, 2 t4^2): E[y3 y4 exp(-y^T D y / 2)] = det(I + C D)^(-1/2)
    [C (I + D C)^(-1)]_34, integrated over (t3, t4) in [0, s3] x [0, s4] by Gauss-Legendre. Valid for
    singular C; shares nothing with the arcsine closed form.
    """
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    t3, w3 = 0.5 * s[2] * (x + 1), 0.5 * s[2] * w
    t4, w4 = 0.5 * s[3] * (x + 1), 0.5 * s[3] * w
    T3, T4 = np.meshgrid(t3, t4, indexing="ij")
    D = np.zeros(T3.shape + (4, 4))
    D[..., 0, 0], D[..., 1, 1] = 2 * s[0] ** 2, 2 * s[1] ** 2
    D[..., 2, 2], D[..., 3, 3] = 2 * T3**2, 2 * T4**2
    A = np.eye(4) + D @ C
    inner = (C @ np.linalg.inv(A))[..., 2, 3] / np.sqrt(np.linalg.det(A))
    return float(16 * s[0] * s[1] / np.pi**2 * np.sum(np.outer(w3, w4) * inner))


def _erf(scale):
    return symhess.activation(f"erf:scale={scale}")


def _closed(acts, C):
    kern = compile_cross_four_point_kernel(tuple(acts), (KEY,))
    return np.asarray(kern(*_args(C))[KEY])


scale_st = st.sampled_from([0.25, 0.5, "1/sqrt(2)", 1, 1.5, 2, 3])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), var=st.floats(0.05, 2.0), rank=st.integers(1, 4),
       scales=st.tuples(scale_st, scale_st, scale_st, scale_st), jitter=st.sampled_from([0.0, 1e-9]))
def test_erf_at_four_scales_matches_the_integral_representation(seed, var, rank, scales, jitter):
    # rank < 4: singular covariances (coincident or parallel units, as at the teacher fixed point);
    # jitter > 0: near-singular ones
    rng = np.random.default_rng(seed)
    C = _cov(var, rank, rng) + jitter * _cov(1.0, 4, rng)
    acts = [_erf(s) for s in scales]
    s = [float(a.scale) for a in acts]
    assert float(_closed(acts, C)) == pytest.approx(_erf_i4_reference(s, C), rel=1e-9, abs=1e-13)


def test_erf_at_several_scales_matches_the_numeric_quadrature_and_monte_carlo():
    rng = np.random.default_rng(11)
    acts = (_erf(1), _erf(1), _erf(2), symhess.activation("saad_solla_erf"))
    Cs = np.stack([_cov(0.7, r, rng) for r in (4, 3, 2, 1)])
    Cs[1, :, 2] = Cs[1, :, 0]      # y3 = y1 exactly: a student unit equal to a teacher unit
    Cs[1, 2, :] = Cs[1, 0, :]
    closed = _closed(acts, Cs)
    numeric, err = gaussian_four_point_quadrature(acts[0], KEY, Cs, acts=acts, with_error=True)
    assert np.all(np.abs(closed - numeric) <= np.maximum(1e-8 * np.abs(closed), 2 * err) + 1e-14)
    assert np.all(np.abs(closed - numeric) <= 1e-8 * np.abs(closed) + 1e-14)
    # Monte Carlo of the full-rank case, 5 standard errors
    y = rng.standard_normal((1_000_000, 4)) @ np.linalg.cholesky(Cs[0]).T
    f = np.ones(len(y))
    for k, (a, o) in enumerate(zip(acts, KEY)):
        f = f * a.numeric(o)(y[:, k])
    assert abs(f.mean() - closed[0]) < 5 * f.std() / np.sqrt(len(f))


def test_equal_scales_reduce_to_the_single_activation_closed_form():
    rng = np.random.default_rng(5)
    C = _cov(0.8, 3, rng)
    for spec in ("erf", "erf:scale=2", "saad_solla_erf"):
        act = symhess.activation(spec)
        single = compile_four_point_kernel(act, (KEY,))(*_args(C))[KEY]
        # the rescaled unit-scale formula, by-passing the shortcut for four equal activations
        from symhess.expectation.four_point import _erf_scale
        from symhess.activations.erf import Erf

        s = _erf_scale(act)
        Cs = sp.Matrix(4, 4, lambda i, j: s * s * symhess.expectation.four_point.covariance_matrix()[i, j])
        expr = s**2 * Erf(sp.Integer(1)).gaussian_four_point(KEY, Cs)
        f = sp.lambdify(FOUR_ARGS, expr, "numpy")
        assert float(f(*_args(C))) == pytest.approx(float(single), rel=1e-13)


def test_rescaling_rule_exactly():
    # E[prod s_k^{o_k} erf^(o_k)(s_k y_k)] = prod s_k^{o_k} K_unit(DCD): the formula at scales (2, 2, 2, 1)
    # equals 4 times the unit-scale formula at DCD (checked at random covariances)
    rng = np.random.default_rng(8)
    C = _cov(0.6, 4, rng)
    D = np.diag([2.0, 2.0, 2.0, 1.0])
    scaled = float(_closed((_erf(2), _erf(2), _erf(2), _erf(1)), C))
    unit = float(_closed((_erf(1),) * 4, D @ C @ D))
    assert scaled == pytest.approx(4 * unit, rel=1e-13)


@pytest.mark.parametrize("specs", [
    ("linear", "linear", "quadratic:eps=1/2", "poly:coeffs=[1,0,-1/3]"),
    ("poly:coeffs=[0,1,1]", "quadratic:eps=1/2", "linear", "poly:coeffs=[1,2,0,1]"),
])
def test_mixed_polynomials_are_exact(specs):
    # Gauss-Hermite with 8 nodes per axis integrates degree <= 15 in each rotated variable exactly
    acts = tuple(symhess.activation(s) for s in specs)
    rng = np.random.default_rng(3)
    for orders in [(1, 1, 0, 0), (0, 0, 0, 0), (2, 1, 1, 0)]:
        expr, route = cross_four_point_expectation(acts, orders, with_route=True)
        assert route == "exact moments"
        f = sp.lambdify(FOUR_ARGS, expr, "numpy")
        for rank in (4, 2):
            C = _cov(0.8, rank, rng)
            assert float(f(*_args(C))) == pytest.approx(_gh(acts, orders, C), rel=1e-11, abs=1e-12)


def _gh(acts, orders, C, n_nodes=8):
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / w.sum()
    lam, V = np.linalg.eigh(C)
    L = V * np.sqrt(np.clip(lam, 0, None))
    z = np.stack([g.ravel() for g in np.meshgrid(*(x,) * 4, indexing="ij")])
    wt = np.prod(np.meshgrid(*(w,) * 4, indexing="ij"), axis=0).ravel()
    y = L @ z
    f = np.ones_like(wt)
    for k, (a, o) in enumerate(zip(acts, orders)):
        f = f * a.numeric(o)(y[k])
    return float(f @ wt)


def test_unsupported_combinations_are_clear_errors():
    with pytest.raises(NoClosedFormError, match="all are erf"):
        cross_four_point_expectation(("erf", "erf", "tanh", "erf"))
    with pytest.raises(NoClosedFormError, match="orders"):
        cross_four_point_expectation(("erf", "erf", "erf:scale=2", "erf"), (0, 0, 0, 0))
    with pytest.raises(InvalidParameterError, match="four activations"):
        cross_four_point_expectation(("erf", "erf"))
    with pytest.raises(InvalidParameterError, match="four activations"):
        cross_four_point_expectation("erf")
    with pytest.raises(InvalidParameterError, match="derivative orders"):
        cross_four_point_expectation(("erf",) * 4, (1, 1, -1, 0))


@pytest.mark.parametrize("student, teacher_act, route", [
    ("erf", "erf:scale=2", "closed form"),
    ("erf", "saad_solla_erf", "closed form"),
    ("saad_solla_erf", "erf:scale=0.3", "closed form"),
    ("quadratic:eps=0.3", "poly:coeffs=[0,1,0,-0.1]", "closed form"),
])
def test_ode_right_hand_side_with_closed_form_i4_equals_the_numeric_one(student, teacher_act, route):
    act, tact = symhess.activation(student), symhess.activation(teacher_act)
    Wt, vt = symhess.teacher(8, 2, rng=2)
    W, v = symhess.teacher(8, 3, rng=3)          # a wider student: all four argument combinations
    Q, R, T = order_parameters(W, Wt)
    ode = OrderParameterODE(act, T, vt, 3, lr=1.5, lr_v=1.5, teacher_act=tact)
    assert ode.i4_route == route
    y = ode.pack(Q, R, v)
    closed = ode.rhs(y)
    ode._mixed_four = dict.fromkeys(ode._mixed_four)   # force the numeric route on every combination
    assert ode.i4_route == "quadrature"
    numeric = ode.rhs(y)
    assert np.allclose(closed, numeric, rtol=1e-8, atol=1e-10)
    # and the eta^2 term is not negligible here (the comparison can fail)
    first = ode.rhs(y, second_order=False)
    assert np.abs(closed - first).max() > 1e-2


def test_erf_student_with_a_rescaled_erf_teacher_matches_monte_carlo():
    # the whole right-hand side against the mean per-sample update (independent of every kernel)
    from tests.test_online_sgd import _mc_drift

    act, tact = symhess.activation("erf"), symhess.activation("erf:scale=2")
    Wt, vt = symhess.teacher(8, 2, rng=4)
    W, v = symhess.teacher(8, 2, rng=5)
    Q, R, T = order_parameters(W, Wt)
    ode = OrderParameterODE(act, T, vt, 2, lr=1.5, lr_v=1.5, teacher_act=tact)
    assert ode.i4_route == "closed form"
    dQ, dR, dv = ode.unpack(ode.rhs(ode.pack(Q, R, v)))
    mc = _mc_drift(act, tact, W, v, Wt, vt, 1.5)
    for name, val in (("Q", dQ), ("R", dR), ("v", dv)):
        mean, se = mc[name]
        assert np.all(np.abs(val - mean) < 5 * se + 1e-12), name


def test_a_tanh_teacher_still_takes_the_numeric_route_where_needed():
    act, tact = symhess.activation("erf"), symhess.activation("tanh")
    Wt, vt = symhess.teacher(6, 1, rng=0)
    ode = OrderParameterODE(act, Wt @ Wt.T, vt, 1, lr=1.0, lr_v=1.0, teacher_act=tact)
    assert ode.i4_route == "closed form and quadrature"
    assert ode._mixed_four[False, False] is not None and ode._mixed_four[True, True] is None


def test_cli_sgd_with_a_rescaled_erf_teacher_needs_no_numeric_i4():
    from click.testing import CliRunner

    from symhess.cli import main

    out = CliRunner().invoke(main, ["sgd", "-a", "erf", "--teacher-activation", "erf:scale=2", "--n-teacher", "2",
                                    "--n-hidden", "2", "--t-max", "5"])
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(main, ["sgd", "-a", "erf", "--teacher-activation", "tanh", "--t-max", "1"])
    assert out.exit_code != 0 and "--numeric-i4" in out.output
