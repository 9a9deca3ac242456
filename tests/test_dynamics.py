"""Learning dynamics near the optimum (issue 4, item 4): gradient flow, GD and SGD against eq. (7).

The runs integrate the *nonlinear* population dynamics (closed-form gradient kernels, BDF with the
expected Hessian as Jacobian) from theta* + noise; the predictions use only the spectrum of H* at the
optimum. Agreement is to O(|delta|) (the start is 1e-4 to 1e-2 from the optimum; the run ends at a
nearby point of the optimal manifold whose slowest eigenvalue differs by O(|delta|)), so the tolerances are a few
percent: a missing factor 2 anywhere (in the exponent, in the loss) is far outside them.
"""

from __future__ import annotations

import numpy as np
import pytest

import symhess
from symhess.two_layer.dynamics import (
    decay_rate, gradient_descent, gradient_flow, sgd, sgd_loss_prediction, smallest_nonzero_eigenvalue, spectral_loss_prediction,
)


def _start(act, ni, nh, seed, sigma=1e-3):
    rng = np.random.default_rng(seed)
    Wt, vt = symhess.teacher(ni, nh, rng)
    d0 = sigma * rng.standard_normal(ni * nh + nh)
    W0, v0 = Wt + d0[: ni * nh].reshape(nh, ni), vt + d0[ni * nh:]
    return W0, v0, Wt, vt, d0, symhess.expected_hessian(act, Wt, vt)


@pytest.mark.parametrize("act,ni,nh,seed", [("linear", 4, 2, 3), ("quadratic:eps=0.5", 2, 3, 4), ("erf", 2, 2, 5)])
def test_gradient_flow_follows_eq7_and_its_tail(act, ni, nh, seed):
    W0, v0, Wt, vt, d0, H = _start(act, ni, nh, seed, sigma=1e-4)
    lmin = smallest_nonzero_eigenvalue(H)
    times = np.linspace(0, 10 / (2 * lmin), 21)
    run = gradient_flow(act, W0, v0, Wt, vt, times)
    pred = spectral_loss_prediction(H, d0, times)
    assert np.abs(run.loss / pred - 1).max() < 0.03
    # the tail is exp(-2 lambda_min^+ t): fitted rate within 1% (a rate lambda_min^+ would be off by 50%)
    tail = slice(-6, None)
    assert abs(decay_rate(times[tail], run.loss[tail]) / (2 * lmin) - 1) < 0.01
    # zero modes never contribute: the loss decays to (almost) nothing although P - rank directions are flat
    assert run.loss[-1] < 1e-3 * run.loss[0]


def test_linear_tail_rate_is_twice_the_shift_when_nh_below_ni():
    """Nh < Ni: lambda_min^+ = |v*|^2 exactly (the chi^2 atom, multiplicity Ni - Nh), so eps ~ exp(-2|v*|^2 t)."""
    W0, v0, Wt, vt, d0, H = _start("linear", 5, 2, 7)
    s = vt @ vt
    assert abs(smallest_nonzero_eigenvalue(H) - s) < 1e-12 * s
    times = np.linspace(0, 10 / (2 * s), 16)
    run = gradient_flow("linear", W0, v0, Wt, vt, times)
    assert abs(decay_rate(times[-5:], run.loss[-5:]) / (2 * s) - 1) < 0.01


@pytest.mark.parametrize("act,ni,nh,seed,n_steps", [("linear", 4, 2, 3, 40), ("quadratic:eps=0.5", 2, 3, 4, 300)])
def test_gradient_descent_follows_eq7(act, ni, nh, seed, n_steps):
    W0, v0, Wt, vt, d0, H = _start(act, ni, nh, seed)
    lr = (0.1 if act == "linear" else 1.0) / np.linalg.eigvalsh(H)[-1]  # linear: stay above the 1e-20 floor
    run = gradient_descent(act, W0, v0, Wt, vt, lr, n_steps, record_every=10)
    pred = spectral_loss_prediction(H, d0, run.times, lr=lr)
    assert np.abs(run.loss / pred - 1).max() < 0.03
    flow_pred = spectral_loss_prediction(H, d0, run.times * lr)  # the flow at t = eta * steps differs
    assert np.abs(run.loss / flow_pred - 1).max() > 0.1


def test_sgd_matches_the_batch_noise_prediction():
    """Linear net, fresh Gaussian batches of 2: the mean SGD loss follows the exact second-moment
    recursion (within 4 standard errors of the run average) and is measurably above full-batch GD."""
    rng = np.random.default_rng(5)
    Wt, vt = symhess.teacher(4, 3, rng)
    H = symhess.expected_hessian("linear", Wt, vt)
    lr, batch, n_steps, n_runs = 0.4 / np.linalg.eigvalsh(H)[-1], 2, 60, 100
    losses, sgd_pred, gd_pred = [], [], []
    for _ in range(n_runs):
        d0 = 1e-2 * rng.standard_normal(15)
        W0, v0 = Wt + d0[:12].reshape(3, 4), vt + d0[12:]
        run = sgd("linear", W0, v0, Wt, vt, lr, n_steps, batch, rng, record_every=10, loss_method="expansion")
        losses.append(run.loss)
        sgd_pred.append(sgd_loss_prediction(H, d0, lr, batch, n_steps)[::10])
        gd_pred.append(spectral_loss_prediction(H, d0, run.times, lr=lr))
    losses = np.array(losses)
    mean, se = losses.mean(0), losses.std(0, ddof=1) / np.sqrt(n_runs)
    assert np.all(np.abs(mean - np.mean(sgd_pred, 0)) <= 4 * se)
    assert np.mean(gd_pred, 0)[-1] < 0.2 * np.mean(sgd_pred, 0)[-1]  # batch noise slows learning 5x here


def test_bad_input_is_named():
    W, v = symhess.teacher(2, 2, 0)
    with pytest.raises(ValueError, match="lr"):
        gradient_descent("erf", W, v, W, v, lr=-1.0, n_steps=3)
    with pytest.raises(TypeError, match="n_steps"):
        gradient_descent("erf", W, v, W, v, lr=0.1, n_steps=2.5)
    with pytest.raises(ValueError, match="batch_size"):
        sgd("erf", W, v, W, v, 0.1, 3, 0)
    with pytest.raises(ValueError, match="strictly increasing"):
        gradient_flow("erf", W, v, W, v, [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="does not match"):
        spectral_loss_prediction(np.eye(3), np.ones(4), [0.0])
    with pytest.raises(ValueError, match="lambda_min"):
        smallest_nonzero_eigenvalue(np.zeros((3, 3)))
