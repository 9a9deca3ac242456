"""Online SGD order-parameter equations: four-point expectations, right-hand side, simulation, linearisation.

Independent routes: tensor Gauss-Hermite quadrature in four dimensions (exact for polynomials,
converged for erf), Monte Carlo of the per-sample update, the population gradient of explicit
weights (symhess.population_gradient), direct SGD at finite input dimension, and the expected
Hessian restricted to the teacher span.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.errors import NoClosedFormError
from symhess.expectation.four_point import four_point_expectation, gaussian_moment
from symhess.kernels.codegen import compile_four_point_kernel
from symhess.symbols import FOUR_ARGS
from symhess.two_layer.online import OrderParameterODE, linearise_at_teacher, order_parameters


def _gh_four_point(act, orders, C, n_nodes):
    """E[prod_a s^(o_a)(y_a)], y ~ N(0, C), by a tensor Gauss-Hermite rule on y = L z (L = V sqrt(L))."""
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / w.sum()
    lam, V = np.linalg.eigh(C)
    L = V * np.sqrt(np.clip(lam, 0, None))
    grids = np.meshgrid(*(x,) * 4, indexing="ij")
    z = np.stack([g.ravel() for g in grids])
    wt = np.prod(np.meshgrid(*(w,) * 4, indexing="ij"), axis=0).ravel()
    y = L @ z
    f = np.ones_like(wt)
    for k, o in enumerate(orders):
        f = f * act.numeric(o)(y[k])
    return float(f @ wt)


def _erf_i4_reference(scale, C, n_nodes=48):
    """E[s'(y1) s'(y2) s(y3) s(y4)] for s = erf(scale z), from erf(s y) = (2/sqrt(pi)) int_0^s y exp(-t^2 y^2) dt.

    Then every Gaussian integral is elementary: with D = diag(2 s^2, 2 s^2, 2 t3^2, 2 t4^2),
    E[y3 y4 exp(-y^T D y / 2)] = det(I + C D)^(-1/2) [C (I + D C)^(-1)]_34, and the remaining
    two-dimensional integral over (t3, t4) in [0, s]^2 is smooth (Gauss-Legendre). Independent of the
    arcsine closed form; valid for singular C.
    """
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    t = 0.5 * scale * (x + 1)
    w = 0.5 * scale * w
    T3, T4 = np.meshgrid(t, t, indexing="ij")
    W2 = np.outer(w, w)
    D = np.zeros(T3.shape + (4, 4))
    D[..., 0, 0] = D[..., 1, 1] = 2 * scale**2
    D[..., 2, 2] = 2 * T3**2
    D[..., 3, 3] = 2 * T4**2
    A = np.eye(4) + D @ C
    det = np.linalg.det(A)
    inner = (C @ np.linalg.inv(A))[..., 2, 3] / np.sqrt(det)
    return float(16 * scale**2 / np.pi**2 * np.sum(W2 * inner))


def _args(C):
    iu = [(0, 0), (1, 1), (2, 2), (3, 3), (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    return [C[i, j] for i, j in iu]


def _cov(draw_scale, rank, rng):
    A = rng.normal(size=(4, rank)) * draw_scale
    return A @ A.T


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.05, 2.0), rank=st.integers(1, 4))
def test_erf_four_point_closed_form_matches_quadrature(seed, scale, rank):
    # rank < 4: singular covariances (repeated or parallel units, as at the teacher fixed point)
    rng = np.random.default_rng(seed)
    C = _cov(scale, rank, rng)
    for spec, s in (("erf", 1.0), ("erf:scale=1/sqrt(2)", np.sqrt(0.5)), ("erf:scale=3", 3.0)):
        act = symhess.activation(spec)
        kern = compile_four_point_kernel(act, ((1, 1, 0, 0),))
        closed = float(kern(*_args(C))[(1, 1, 0, 0)])
        assert closed == pytest.approx(_erf_i4_reference(s, C), rel=1e-9, abs=1e-13)


def test_erf_four_point_agrees_with_gauss_hermite_at_moderate_variance():
    C = _cov(0.3, 4, np.random.default_rng(7))
    act = symhess.activation("erf")
    closed = float(compile_four_point_kernel(act, ((1, 1, 0, 0),))(*_args(C))[(1, 1, 0, 0)])
    assert closed == pytest.approx(_gh_four_point(act, (1, 1, 0, 0), C, 30), rel=1e-9)


@pytest.mark.parametrize("spec", ["linear", "quadratic:eps=1/2", "poly:coeffs=[1,0,-1/3]"])
def test_polynomial_four_point_is_exact(spec):
    # Gauss-Hermite with 8 nodes per axis integrates degree <= 15 in each rotated variable exactly
    rng = np.random.default_rng(3)
    act = symhess.activation(spec)
    for orders in [(1, 1, 0, 0), (0, 0, 0, 0), (2, 1, 1, 0)]:
        expr = four_point_expectation(act, orders)
        f = sp.lambdify(FOUR_ARGS, expr, "numpy")
        for rank in (4, 2):
            C = _cov(0.8, rank, rng)
            assert float(f(*_args(C))) == pytest.approx(_gh_four_point(act, orders, C, 8), rel=1e-11, abs=1e-12)


def test_gaussian_moment_counts_pairings():
    # E[y1^2 y2^2] = C11 C22 + 2 C12^2 ; E[y1 y2 y3 y4] = C12 C34 + C13 C24 + C14 C23
    C11, C22, C12 = FOUR_ARGS[0], FOUR_ARGS[1], FOUR_ARGS[4]
    assert sp.expand(gaussian_moment((2, 2, 0, 0)) - (C11 * C22 + 2 * C12**2)) == 0
    C13, C14, C23, C24, C34 = FOUR_ARGS[5:]
    assert sp.expand(gaussian_moment((1, 1, 1, 1)) - (C12 * C34 + C13 * C24 + C14 * C23)) == 0
    assert gaussian_moment((3, 0, 0, 0)) == 0


def test_no_closed_form_is_a_clear_error():
    with pytest.raises(NoClosedFormError, match="numerically"):
        four_point_expectation("tanh")
    with pytest.raises(ValueError, match="four derivative orders"):
        four_point_expectation("erf", (1, 1, 0))


@pytest.mark.parametrize("spec", ["erf", "quadratic:eps=1/2", "relu", "linear"])
def test_first_order_terms_are_the_population_gradient(spec):
    act = symhess.activation(spec)
    Wt, vt = symhess.teacher(20, 3, rng=0)
    W, v = symhess.teacher(20, 4, rng=1)   # wider student
    Q, R, T = order_parameters(W, Wt)
    ode = OrderParameterODE(act, T, vt, 4, lr=0.7, lr_v=0.3, second_order=False)
    dQ, dR, dv = ode.unpack(ode.rhs(ode.pack(Q, R, v)))
    g = symhess.population_gradient(act, W, v, Wt, vt)
    gW, gv = g[:W.size].reshape(W.shape), g[W.size:]
    scale = np.abs(g).max()
    np.testing.assert_allclose(dR, -0.7 * gW @ Wt.T, atol=1e-12 * scale)
    np.testing.assert_allclose(dQ, -0.7 * (gW @ W.T + W @ gW.T), atol=1e-12 * scale)
    np.testing.assert_allclose(dv, -0.3 * gv, atol=1e-12 * scale)
    assert ode.generalisation_error(Q, R, v) == pytest.approx(symhess.population_loss(act, W, v, Wt, vt), rel=1e-12)


@pytest.mark.parametrize("spec", ["erf", "quadratic:eps=1/2"])
def test_second_order_term_matches_monte_carlo(spec):
    # lr^2 * v_i v_k E[s'(l_i) s'(l_k) (e^2 + noise)] = E[(dw_i . dw_k)] N_i^2 / N_i, dw = -(lr/N) e v s' x
    act = symhess.activation(spec)
    rng = np.random.default_rng(5)
    Wt, vt = symhess.teacher(6, 2, rng=2)
    W, v = symhess.teacher(6, 3, rng=3)
    Q, R, T = order_parameters(W, Wt)
    noise = 0.3
    ode = OrderParameterODE(act, T, vt, 3, lr=1.0, lr_v=1.0, noise=noise)
    full = ode.unpack(ode.rhs(ode.pack(Q, R, v)))[0]
    first = OrderParameterODE(act, T, vt, 3, lr=1.0, lr_v=1.0, second_order=False)
    second = full - first.unpack(first.rhs(first.pack(Q, R, v)))[0]
    x = rng.standard_normal((1_000_000, 6))
    lam, nu = x @ W.T, x @ Wt.T
    e = act.numeric(0)(lam) @ v - act.numeric(0)(nu) @ vt
    g = act.numeric(1)(lam) * v
    samples = (g[:, :, None] * g[:, None, :]) * (e**2 + noise)[:, None, None]
    mc, err = samples.mean(0), samples.std(0) / np.sqrt(len(x))
    assert np.all(np.abs(second - mc) < 5 * err + 1e-12)
    assert np.abs(second).max() > 20 * err.max()  # the term is resolved, not noise


def test_small_learning_rate_limit_is_population_gradient_flow():
    Wt, vt = symhess.teacher(8, 2, rng=0)
    W0, v0 = symhess.teacher(8, 2, rng=4)
    times = np.array([0.0, 0.5, 2.0, 5.0])
    lr = 1e-3
    traj = symhess.online_sgd_ode("erf", W0, v0, Wt, vt, lr=lr, t_max=times[-1] / lr, times=times / lr)
    flow = symhess.gradient_flow("erf", W0, v0, Wt, vt, times)
    np.testing.assert_allclose(traj.loss, flow.loss, rtol=2e-3)


def _frame_weights(coef, n_in, seed):
    """Teacher and student with fixed overlaps coef coef^T at any input dimension."""
    rng = np.random.default_rng(seed)
    O, _ = np.linalg.qr(rng.standard_normal((n_in, coef.shape[0])))
    return coef @ O.T


def test_simulation_converges_to_the_ode_as_the_input_dimension_grows():
    rng = np.random.default_rng(0)
    nh, nt = 2, 2
    coef = rng.normal(size=(nh + nt, nh + nt)) / np.sqrt(nh + nt)
    vt = np.array([1.0, -0.8])
    v0 = np.array([0.3, 0.2])
    times = np.linspace(0, 6, 13)
    gaps = {}
    for n_in in (100, 1600):
        gap = 0.0
        for seed in (1, 2):
            U = _frame_weights(coef, n_in, seed)
            W0, Wt = U[:nh], U[nh:]
            ode = symhess.online_sgd_ode("erf", W0, v0, Wt, vt, lr=1.0, t_max=times[-1], times=times)
            sim = symhess.online_sgd_simulation("erf", W0, v0, Wt, vt, lr=1.0, t_max=times[-1], times=times, rng=seed)
            gap += np.abs(sim.loss - ode.loss).max() / ode.loss[0] / 2
        gaps[n_in] = gap
    # fluctuations shrink like N_i^(-1/2): a factor 4 between N_i = 100 and 1600
    assert gaps[1600] < gaps[100] / 2
    assert gaps[1600] < 0.05


def test_linearisation_matches_the_hessian_spectrum():
    act = symhess.activation("erf")
    n_in, nh = 9, 3
    Wt, vt = symhess.teacher(n_in, nh, rng=0)
    lin = linearise_at_teacher(act, Wt, vt, lr=1.0, second_order=False)
    H = symhess.expected_hessian(act, Wt, vt)
    basis, _ = np.linalg.qr(Wt.T)
    B = []
    for i in range(nh):
        for j in range(nh):
            e = np.zeros((nh, n_in))
            e[i] = basis[:, j]
            B.append(np.concatenate([e.ravel(), np.zeros(nh)]))
    for i in range(nh):
        e = np.zeros(nh * n_in + nh)
        e[nh * n_in + i] = 1.0
        B.append(e)
    B = np.array(B).T
    span = np.linalg.eigvalsh(B.T @ H @ B)
    # the orthogonal sector: block of H on a direction orthogonal to the teacher span, per unit pair
    perp = np.linalg.qr(np.c_[Wt.T, np.eye(n_in)[:, :1]])[0][:, -1]
    P = np.zeros((nh * n_in + nh, nh))
    for i in range(nh):
        P[i * n_in:(i + 1) * n_in, i] = perp
    mu = np.linalg.eigvalsh(P.T @ H @ P)
    predicted = np.sort(np.concatenate([-span, [-(mu[i] + mu[k]) for i in range(nh) for k in range(i, nh)]]))
    np.testing.assert_allclose(np.sort(lin.eigenvalues.real), predicted, rtol=1e-6, atol=1e-9)
    assert np.abs(lin.eigenvalues.imag).max() < 1e-9


def test_second_order_term_sets_a_finite_largest_stable_learning_rate():
    Wt, vt = symhess.teacher(9, 3, rng=0)
    lin = linearise_at_teacher("erf", Wt, vt)
    eta = lin.max_stable_lr()
    assert 0 < eta < np.inf
    assert lin.slowest_rate(0.9 * eta) > 0 > lin.slowest_rate(1.1 * eta)
    # and the teacher fixed point is a fixed point of the full equations
    ode = OrderParameterODE(symhess.activation("erf"), Wt @ Wt.T, vt, 3, lr=eta, lr_v=eta)
    T = Wt @ Wt.T
    assert np.abs(ode.rhs(ode.pack(T, T, vt))).max() < 1e-14


@pytest.mark.parametrize("bad, match", [
    (dict(lr=-1.0), "lr"), (dict(lr=np.nan), "lr"), (dict(t_max=0.0), "t_max"), (dict(noise=-0.1), "noise"),
])
def test_bad_input_is_refused(bad, match):
    Wt, vt = symhess.teacher(5, 2, rng=0)
    kwargs = dict(lr=0.5, t_max=1.0) | bad
    with pytest.raises(ValueError, match=match):
        symhess.online_sgd_ode("erf", Wt, vt, Wt, vt, **kwargs)
    with pytest.raises(symhess.ShapeError):
        symhess.online_sgd_ode("erf", Wt, vt, Wt[:, :3], vt, lr=0.5, t_max=1.0)


def test_without_closed_form_i4_the_second_order_term_is_integrated_numerically():
    # tanh: numeric four-point quadrature; relu (kinked): a clear refusal, the first-order equations still run
    Wt, vt = symhess.teacher(5, 1, rng=0)
    W0, v0 = symhess.teacher(5, 1, rng=1)
    traj = symhess.online_sgd_ode("tanh", W0, v0, Wt, vt, lr=0.5, t_max=1.0, times=np.array([0.0, 1.0]))
    first = symhess.online_sgd_ode("tanh", W0, v0, Wt, vt, lr=0.5, t_max=1.0, times=np.array([0.0, 1.0]),
                                   second_order=False)
    assert np.isfinite(traj.loss).all() and traj.Q[-1, 0, 0] > first.Q[-1, 0, 0]  # the eta^2 term adds to |w|^2
    with pytest.raises(NoClosedFormError, match="not smooth"):
        symhess.online_sgd_ode("relu", W0, v0, Wt, vt, lr=0.5, t_max=1.0)
    assert np.isfinite(symhess.online_sgd_ode("relu", W0, v0, Wt, vt, lr=0.5, t_max=1.0, second_order=False).loss).all()


def test_cli_sgd_runs_and_compares_with_a_simulation(tmp_path):
    from click.testing import CliRunner

    from symhess.cli import main

    out = CliRunner().invoke(main, ["sgd", "-a", "saad_solla_erf", "--n-teacher", "2", "--n-hidden", "2", "--fixed-v",
                                    "--t-max", "5", "--simulate", "200", "--plot", str(tmp_path / "eg.png")])
    assert out.exit_code == 0, out.output
    rows = [line.split() for line in out.output.splitlines() if line.strip() and line.split()[0][0].isdigit()]
    ode, sim = np.array([float(r[1]) for r in rows]), np.array([float(r[2]) for r in rows])
    assert ode[0] == pytest.approx(sim[0], rel=1e-12)  # same start
    assert np.abs(ode - sim).max() < 0.25 * ode[0]      # N_i = 200 tracks the equations
    assert ode[-1] < ode[0] and (tmp_path / "eg.png").stat().st_size > 1000


def test_cli_sgd_without_i4_names_the_first_order_option():
    from click.testing import CliRunner

    from symhess.cli import main

    out = CliRunner().invoke(main, ["sgd", "-a", "relu", "--t-max", "1"])
    assert out.exit_code != 0 and "--first-order" in out.output
    out = CliRunner().invoke(main, ["sgd", "-a", "relu", "--t-max", "1", "--first-order"])
    assert out.exit_code == 0, out.output


def test_cli_sgd_asks_before_the_slow_numerical_i4():
    from click.testing import CliRunner

    from symhess.cli import main

    out = CliRunner().invoke(main, ["sgd", "-a", "tanh", "--t-max", "1"])
    assert out.exit_code != 0 and "--numeric-i4" in out.output and "--first-order" in out.output
    out = CliRunner().invoke(main, ["sgd", "-a", "tanh", "--n-teacher", "1", "--n-hidden", "1", "--t-max", "0.5",
                                    "--numeric-i4"])
    assert out.exit_code == 0, out.output


def _mc_drift(act, tact, W, v, Wt, vt, lr, n=400_000, seed=0):
    """Monte Carlo of the per-step drift of (Q, R, v) per unit time, from the per-sample SGD update."""
    rng = np.random.default_rng(seed)
    U = np.vstack([W, Wt])
    lam_all = rng.standard_normal((n, U.shape[1])) @ U.T
    lam, nu = lam_all[:, :W.shape[0]], lam_all[:, W.shape[0]:]
    e = act.numeric(0)(lam) @ v - tact.numeric(0)(nu) @ vt
    g = act.numeric(1)(lam) * v * e[:, None]                      # e v_i s'(lam_i)
    samples = {
        "R": -lr * g[:, :, None] * nu[:, None, :],
        "Q": (-lr * (g[:, :, None] * lam[:, None, :] + g[:, None, :] * lam[:, :, None])
              + lr**2 * g[:, :, None] * g[:, None, :]),
        "v": -lr * e[:, None] * act.numeric(0)(lam),
    }
    return {k: (x.mean(0), x.std(0) / np.sqrt(n)) for k, x in samples.items()}


@pytest.mark.parametrize("student, teacher_act", [("tanh", "erf"), ("erf", "saad_solla_erf")])
def test_different_teacher_activation_rhs_matches_monte_carlo(student, teacher_act):
    # the whole right-hand side (pair terms through cross expectations, and the eta^2 term with the
    # teacher's activation on teacher arguments) against the mean per-sample update
    act, tact = symhess.activation(student), symhess.activation(teacher_act)
    Wt, vt = symhess.teacher(8, 2, rng=2)
    W, v = symhess.teacher(8, 2, rng=3)
    Q, R, T = order_parameters(W, Wt)
    lr = 1.5
    ode = OrderParameterODE(act, T, vt, 2, lr=lr, lr_v=lr, teacher_act=tact)
    dQ, dR, dv = ode.unpack(ode.rhs(ode.pack(Q, R, v)))
    mc = _mc_drift(act, tact, W, v, Wt, vt, lr)
    for name, val in (("Q", dQ), ("R", dR), ("v", dv)):
        mean, se = mc[name]
        assert np.all(np.abs(val - mean) < 5 * se + 1e-12), name
    # the same activation given twice is the single-activation equations
    same = OrderParameterODE(act, T, vt, 2, lr=lr, lr_v=lr, teacher_act=act)
    plain = OrderParameterODE(act, T, vt, 2, lr=lr, lr_v=lr)
    y = plain.pack(Q, R, v)
    assert np.array_equal(same.rhs(y), plain.rhs(y))


def test_different_teacher_activation_ode_tracks_the_simulation():
    # erf student learning a tanh teacher: the simulation's gap to the equations shrinks with N_i
    Wt, vt = symhess.teacher(2000, 2, rng=0)
    W0, v0 = symhess.teacher(2000, 2, rng=1)
    U = np.vstack([0.5 * W0, Wt])
    times = np.linspace(0.0, 2.0, 3)
    gaps, ode = [], None
    for n_in in (100, 1600):
        lam, V = np.linalg.eigh(U @ U.T)
        frame, _ = np.linalg.qr(np.random.default_rng(n_in).standard_normal((n_in, 4)))
        U2 = (V * np.sqrt(np.clip(lam, 0, None))) @ frame.T     # the same overlaps at every N_i
        kw = dict(lr=0.5, t_max=2.0, times=times, teacher_activation="tanh")
        ode = ode or symhess.online_sgd_ode("erf", U2[:2], v0, U2[2:], vt, **kw)
        sim = symhess.online_sgd_simulation("erf", U2[:2], v0, U2[2:], vt, rng=n_in, **kw)
        assert sim.loss[0] == pytest.approx(ode.loss[0], rel=1e-12)
        gaps.append(np.abs(sim.loss - ode.loss).max())
    assert gaps[1] < 0.5 * gaps[0] and gaps[1] < 0.1 * ode.loss[0]
    assert ode.loss[-1] < 0.8 * ode.loss[0]


def test_noise_floor_and_the_largest_stable_learning_rate_against_the_equations():
    # erf soft committee machine (orthonormal teacher, v = 1) started at the teacher with label noise:
    # the linearisation's stationary loss -eta s2 g^T (J1 + eta J2)^-1 b against the integrated equations
    W, v = np.eye(8)[:2], np.ones(2)
    lin = linearise_at_teacher("erf", W, v)
    eta_max = lin.max_stable_lr()
    floors = {}
    for frac, noise in ((0.5, 1e-6), (0.5, 2e-6), (0.1, 1e-6)):
        eta = frac * eta_max
        t_end = 30 / lin.slowest_rate(eta)
        traj = symhess.online_sgd_ode("erf", W, v, W, v, lr=eta, t_max=t_end, noise=noise,
                                      times=np.array([0.0, 0.5 * t_end, t_end]))
        assert traj.loss[-1] == pytest.approx(traj.loss[-2], rel=1e-4)          # stationary
        assert traj.loss[-1] == pytest.approx(lin.stationary_loss(eta, noise), rel=1e-3)
        floors[frac, noise] = traj.loss[-1]
    assert floors[0.5, 2e-6] == pytest.approx(2 * floors[0.5, 1e-6], rel=1e-3)  # linear in the noise
    # proportional to eta at small eta: 5 x from 0.1 to 0.5 eta_max, raised by the eta J2 correction
    ratio = floors[0.5, 1e-6] / floors[0.1, 1e-6]
    predicted = lin.stationary_loss(0.5 * eta_max, 1.0) / lin.stationary_loss(0.1 * eta_max, 1.0)
    assert ratio == pytest.approx(predicted, rel=2e-3) and ratio > 5
    # the floor grows without bound towards eta_max; beyond it there is none
    assert lin.stationary_loss(0.99 * eta_max, 1e-6) > 20 * lin.stationary_loss(0.5 * eta_max, 1e-6)
    assert lin.stationary_loss(1.1 * eta_max, 1e-6) == np.inf
    with pytest.raises(ValueError, match="largest stable learning rate"):
        lin.stationary_state(1.1 * eta_max, 1e-6)
    # without noise: below eta_max the equations return to the teacher, beyond it they leave it for a
    # state of larger weights and finite loss
    W0 = W + 1e-3 * np.random.default_rng(0).standard_normal(W.shape)
    below = symhess.online_sgd_ode("erf", W0, v, W, v, lr=0.9 * eta_max, t_max=40 / lin.slowest_rate(0.9 * eta_max))
    beyond = symhess.online_sgd_ode("erf", W0, v, W, v, lr=1.1 * eta_max, t_max=400.0)
    assert below.loss[-1] < 1e-10
    assert beyond.loss[-1] > 1e-4 and np.all(np.diag(beyond.Q[-1]) > 1.05)


def test_cli_sgd_with_another_teacher_activation():
    from click.testing import CliRunner

    from symhess.cli import main

    args = ["sgd", "-a", "erf", "--teacher-activation", "tanh", "--n-teacher", "1", "--n-hidden", "1", "--t-max", "0.5"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code != 0 and "'tanh' teacher" in out.output and "--numeric-i4" in out.output
    out = CliRunner().invoke(main, args + ["--numeric-i4", "--simulate", "300"])
    assert out.exit_code == 0, out.output
    assert "(teacher: tanh)" in out.output
