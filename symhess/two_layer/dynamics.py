r"""Learning dynamics near the optimum: gradient flow, gradient descent and SGD, and eq. (7).

Place in the package: the two-layer teacher-student family (arrays only; gradients and Hessians from :mod:`symhess.two_layer.loss` and :mod:`symhess.two_layer.assemble`).

Training runs on the *population* loss :math:`\varepsilon(\theta)=\frac12E_x[(f_\theta-f^\star)^2]`
(:func:`symhess.population_gradient`; gradient flow uses the full expected Hessian as the exact
Jacobian of the vector field, so the stiff BDF integrator takes long steps through the tiny
eigenvalues) or, for SGD, on fresh Gaussian mini-batches as a user would train.

Near the optimum :math:`\varepsilon\simeq\frac12\delta\theta^\top H^\star\delta\theta`, hence
(Couto et al. eq. 7), with :math:`H^\star u_i=\lambda_iu_i`,
:math:`c_i=u_i^\top\delta\theta_0`:

.. math::

    \varepsilon(t)=\tfrac12\sum_i\lambda_ie^{-2\lambda_it}c_i^2\ \text{(flow)},\qquad
    \varepsilon_t=\tfrac12\sum_i\lambda_i(1-\eta\lambda_i)^{2t}c_i^2\ \text{(GD)},

and the long-time tail is :math:`\propto e^{-2\lambda^+_{\min}t}` (zero modes never contribute).
For SGD with batch :math:`B` and features :math:`\nabla_\theta f=Ax` linear in Gaussian :math:`x`
(the linear network), the second moments :math:`d_i=E[c_i(t)^2]` obey the closed recursion
(Isserlis: :math:`E[\hat C M\hat C]=(1+\tfrac1B)M+\tfrac1B\operatorname{tr}(M)I` for the batch
covariance :math:`\hat C`)

.. math::

    d_i\leftarrow(1-\eta\lambda_i)^2d_i+\frac{\eta^2}{B}\Big(\lambda_i^2d_i+\lambda_i\sum_j\lambda_jd_j\Big),
    \qquad E[\varepsilon_t]=\tfrac12\sum_i\lambda_id_i ,

implemented by :func:`sgd_loss_prediction`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from .assemble import expected_hessian
from .loss import population_gradient, population_loss
from ..validation import as_positive, as_teacher, as_weights
from ..validation import as_rng
from ..linalg.spectra import default_tolerance
from ..errors import InvalidParameterError, InvalidTypeError

__all__ = [
    "LossCurve", "gradient_flow", "gradient_descent", "sgd", "network_jacobian", "batch_loss_gradient",
    "spectral_loss_prediction", "sgd_loss_prediction", "smallest_nonzero_eigenvalue", "decay_rate",
]


@dataclass(frozen=True)
class LossCurve:
    r"""A training run: population loss :math:`\varepsilon` at recorded times.

    Attributes
    ----------
    times : ndarray
        Flow time (gradient flow) or step index (GD, SGD).
    loss : ndarray
        Population loss at those times.
    W, v : ndarray
        Weights at the last recorded time.
    method : str
        ``"gradient_flow"``, ``"gradient_descent"`` or ``"sgd"``.
    n_gradient_evals : int
        Gradient evaluations used (for flow: right-hand-side calls of the integrator).
    """

    times: np.ndarray
    loss: np.ndarray
    W: np.ndarray
    v: np.ndarray
    method: str
    n_gradient_evals: int


def _split(theta: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    Nh, Ni = shape
    return theta[: Nh * Ni].reshape(Nh, Ni), theta[Nh * Ni:]


def _check_count(value: object, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"{name}={value!r} must be an integer")
    if value < minimum:
        raise InvalidParameterError(f"{name}={value} must be >= {minimum}")
    return int(value)


def _check_times(times: object) -> np.ndarray:
    t = np.asarray(times, dtype=float).ravel()
    if t.size == 0 or not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) <= 0):
        raise InvalidParameterError(f"times must be a non-empty, strictly increasing array of finite values >= 0; got {times!r}")
    return t


def gradient_flow(
    act: ActivationLike,
    W0: np.ndarray,
    v0: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    times: np.ndarray,
    *,
    rtol: float = 1e-9,
    atol: float = 1e-14,
    gradient_method: str = "expansion",
    loss_method: str = "auto",
) -> LossCurve:
    r"""Integrate :math:`\dot\theta=-\nabla\varepsilon(\theta)` and record :math:`\varepsilon` at ``times``.

    Uses :func:`scipy.integrate.solve_ivp` (BDF) with the exact Jacobian
    :math:`-H(\theta)` = minus :func:`symhess.expected_hessian` (full part, with the teacher).

    Parameters
    ----------
    act : str or Activation
        Activation.
    W0, v0 : ndarray
        Start (e.g. teacher plus noise).
    W_teacher, v_teacher : ndarray
        Teacher.
    times : array_like
        Increasing times :math:`\ge 0` at which the loss is recorded (integration starts at 0).
    rtol, atol : float
        Integrator tolerances on :math:`\theta`.
    gradient_method, loss_method : str
        ``method`` of :func:`symhess.population_gradient` (right-hand side; the pair-kernel
        expansion is ten times cheaper and its ~1e-16 absolute error is far below the
        gradients met here) and of :func:`symhess.population_loss` (recorded loss; ``"auto"``
        uses the cancellation-free path integral, accurate down to the optimum).

    Returns
    -------
    LossCurve
    """
    from scipy.integrate import solve_ivp

    act = get_activation(act)
    W0, v0 = as_weights(W0, v0)
    Wt, vt = as_teacher(W_teacher, v_teacher, W0.shape[1])
    t = _check_times(times)
    shape = W0.shape
    calls = [0]

    def rhs(_t, theta):
        calls[0] += 1
        W, v = _split(theta, shape)
        return -population_gradient(act, W, v, Wt, vt, method=gradient_method)

    def jac(_t, theta):
        W, v = _split(theta, shape)
        return -expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt)

    theta0 = np.concatenate([W0.ravel(), v0])
    sol = solve_ivp(rhs, (0.0, float(t[-1])), theta0, method="BDF", t_eval=t, jac=jac,
                    rtol=as_positive(rtol, "rtol"), atol=as_positive(atol, "atol"))
    if not sol.success:
        raise RuntimeError(f"gradient flow integration failed: {sol.message}")
    loss = np.array([population_loss(act, *_split(y, shape), Wt, vt, method=loss_method) for y in sol.y.T])
    W, v = _split(sol.y[:, -1], shape)
    return LossCurve(t, loss, W.copy(), v.copy(), "gradient_flow", calls[0])


def _descend(act, W, v, Wt, vt, lr, n_steps, every, loss_method, direction, name) -> LossCurve:
    r""":math:`\theta_{t+1}=\theta_t-\eta\,g(\theta_t)` for ``n_steps`` steps, ``g = direction(W, v)``.

    Records the population loss at steps ``0, every, 2*every, ...`` and at the last step.
    """
    theta = np.concatenate([W.ravel(), v])
    steps, losses = [], []
    for step in range(n_steps + 1):
        W, v = _split(theta, W.shape)
        if step % every == 0 or step == n_steps:
            steps.append(step)
            losses.append(population_loss(act, W, v, Wt, vt, method=loss_method))
        if step < n_steps:
            theta = theta - lr * direction(W, v)
    W, v = _split(theta, W.shape)
    return LossCurve(np.array(steps, float), np.array(losses), W.copy(), v.copy(), name, n_steps)


def gradient_descent(
    act: ActivationLike,
    W0: np.ndarray,
    v0: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    lr: float,
    n_steps: int,
    *,
    record_every: int = 1,
    gradient_method: str = "expansion",
    loss_method: str = "auto",
) -> LossCurve:
    r"""Full-batch gradient descent :math:`\theta_{t+1}=\theta_t-\eta\nabla\varepsilon(\theta_t)` on the population loss.

    Returns the loss at steps ``0, record_every, 2*record_every, ...`` (and the last step);
    ``gradient_method`` and ``loss_method`` as for :func:`gradient_flow`.
    """
    act = get_activation(act)
    W, v = (a.copy() for a in as_weights(W0, v0))
    Wt, vt = as_teacher(W_teacher, v_teacher, W.shape[1])
    lr = as_positive(lr, "lr")
    n_steps = _check_count(n_steps, "n_steps")
    every = _check_count(record_every, "record_every", 1)
    def full_batch(W, v):
        return population_gradient(act, W, v, Wt, vt, method=gradient_method)

    return _descend(act, W, v, Wt, vt, lr, n_steps, every, loss_method, full_batch, "gradient_descent")


def network_jacobian(act: ActivationLike, W: np.ndarray, v: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Outputs :math:`f(x_\mu)` and the Jacobian :math:`J_{\mu\alpha}=\partial f(x_\mu)/\partial\theta_\alpha`.

    :math:`\partial f/\partial W_{ij}=v_i\sigma'(w_i\cdot x)x_j`, :math:`\partial f/\partial v_i=\sigma(w_i\cdot x)`;
    shapes ``(n,)`` and ``(n, Nh*Ni + Nh)``.
    """
    act = get_activation(act)
    W, v = as_weights(W, v)
    x = np.atleast_2d(np.asarray(x, dtype=float))
    if x.shape[1] != W.shape[1]:
        raise InvalidParameterError(f"inputs x have {x.shape[1]} columns but the network has n_in={W.shape[1]}")
    h = x @ W.T
    s0, s1 = act.numeric(0)(h), act.numeric(1)(h)
    jw = (s1 * v)[:, :, None] * x[:, None, :]
    return s0 @ v, np.concatenate([jw.reshape(len(x), -1), s0], axis=1)


def batch_loss_gradient(act, W, v, W_teacher, v_teacher, x) -> tuple[float, np.ndarray]:
    r"""Mini-batch loss :math:`\frac1{2B}\sum_\mu e_\mu^2` and its gradient :math:`\frac1B J^\top e`."""
    act = get_activation(act)
    f, J = network_jacobian(act, W, v, x)
    Wt, vt = as_teacher(W_teacher, v_teacher, np.shape(W)[1])
    ft = act.numeric(0)(np.atleast_2d(np.asarray(x, dtype=float)) @ Wt.T) @ vt
    e = f - ft
    return 0.5 * float(np.mean(e**2)), J.T @ e / len(e)


def sgd(
    act: ActivationLike,
    W0: np.ndarray,
    v0: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    lr: float,
    n_steps: int,
    batch_size: int,
    rng: object = None,
    *,
    record_every: int = 1,
    loss_method: str = "auto",
) -> LossCurve:
    r"""Online SGD: each step draws a fresh batch :math:`x_\mu\sim N(0,I)` and follows the batch-MSE gradient.

    The recorded loss is the *population* loss (closed-form kernels), so curves compare directly
    with :func:`gradient_descent` and :func:`sgd_loss_prediction`.
    """
    act = get_activation(act)
    W, v = (a.copy() for a in as_weights(W0, v0))
    Wt, vt = as_teacher(W_teacher, v_teacher, W.shape[1])
    lr = as_positive(lr, "lr")
    n_steps = _check_count(n_steps, "n_steps")
    batch = _check_count(batch_size, "batch_size", 1)
    every = _check_count(record_every, "record_every", 1)
    gen = as_rng(rng)
    def fresh_batch(W, v):
        return batch_loss_gradient(act, W, v, Wt, vt, gen.standard_normal((batch, W.shape[1])))[1]

    return _descend(act, W, v, Wt, vt, lr, n_steps, every, loss_method, fresh_batch, "sgd")


def _modes(H: np.ndarray, dtheta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    H = np.asarray(H, dtype=float)
    d = np.asarray(dtheta0, dtype=float).ravel()
    if H.ndim != 2 or H.shape != (d.size, d.size):
        raise InvalidParameterError(f"H of shape {H.shape} does not match dtheta0 of length {d.size}")
    lam, U = np.linalg.eigh(0.5 * (H + H.T))
    return lam, (U.T @ d) ** 2


def spectral_loss_prediction(H: np.ndarray, dtheta0: np.ndarray, times: np.ndarray, lr: float | None = None) -> np.ndarray:
    r"""Eq. (7): :math:`\frac12\sum_i\lambda_ie^{-2\lambda_it}c_i^2` (flow) or :math:`\frac12\sum_i\lambda_i(1-\eta\lambda_i)^{2t}c_i^2` (GD, ``lr``).

    Parameters
    ----------
    H : ndarray, shape (P, P)
        Hessian at the optimum.
    dtheta0 : ndarray, shape (P,)
        Initial displacement :math:`\theta_0-\theta^\star`.
    times : array_like
        Flow times, or step numbers when ``lr`` is given.
    lr : float, optional
        Learning rate of gradient descent.
    """
    lam, c2 = _modes(H, dtheta0)
    lam = np.where(np.abs(lam) <= default_tolerance(lam), 0.0, lam)
    t = np.asarray(times, dtype=float)[:, None]
    if lr is None:
        factor = np.exp(-2.0 * lam[None, :] * t)
    else:
        factor = (1.0 - as_positive(lr, "lr") * lam[None, :]) ** (2.0 * t)
    return 0.5 * (factor * (lam * c2)[None, :]).sum(axis=1)


def sgd_loss_prediction(
    H: np.ndarray, dtheta0: np.ndarray, lr: float, batch_size: int, n_steps: int
) -> np.ndarray:
    r"""Expected SGD loss for Gaussian features linear in :math:`x` (exact for the linearised linear net).

    Iterates :math:`d_i\leftarrow(1-\eta\lambda_i)^2d_i+\frac{\eta^2}{B}(\lambda_i^2d_i+\lambda_i\sum_j\lambda_jd_j)`
    from :math:`d_i=c_i^2` and returns :math:`\frac12\sum_i\lambda_id_i` at steps ``0..n_steps``.
    """
    lam, d = _modes(H, dtheta0)
    lr = as_positive(lr, "lr")
    B = _check_count(batch_size, "batch_size", 1)
    out = np.empty(_check_count(n_steps, "n_steps") + 1)
    for t in range(out.size):
        out[t] = 0.5 * float(lam @ d)
        d = (1 - lr * lam) ** 2 * d + lr**2 / B * (lam**2 * d + lam * float(lam @ d))
    return out


def smallest_nonzero_eigenvalue(H_or_eigs: np.ndarray, tol: float | None = None) -> float:
    r""":math:`\lambda^+_{\min}`: the smallest eigenvalue above ``tol`` (default :func:`default_tolerance`)."""
    a = np.asarray(H_or_eigs, dtype=float)
    eigs = np.linalg.eigvalsh(0.5 * (a + a.T)) if a.ndim == 2 else np.sort(a)
    tol = default_tolerance(eigs) if tol is None else float(tol)
    pos = eigs[eigs > tol]
    if pos.size == 0:
        raise InvalidParameterError("the matrix has no eigenvalue above the tolerance; lambda_min^+ is undefined")
    return float(pos[0])


def decay_rate(times: np.ndarray, loss: np.ndarray) -> float:
    r"""Least-squares slope :math:`-\,d\log\varepsilon/dt` over the given points (the tail rate)."""
    t = np.asarray(times, dtype=float)
    y = np.asarray(loss, dtype=float)
    if t.shape != y.shape or t.size < 2 or np.any(y <= 0):
        raise InvalidParameterError("decay_rate needs matching arrays of >= 2 times and positive losses")
    return float(-np.polyfit(t, np.log(y), 1)[0])
