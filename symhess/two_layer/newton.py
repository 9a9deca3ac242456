r"""Minima of the population loss against a teacher the student cannot match: trust-region Newton, certified.

Place in the package: the two-layer teacher-student family (loss, gradient and Hessian in closed form).

When the teacher has another activation (``teacher_activation``), or more hidden units than the
student, the minimum of :math:`\varepsilon(\theta)=\tfrac12E[(f_\theta-f^\star)^2]` has a nonzero loss
and the Hessian there is the full one, :math:`H=E[\nabla f\nabla f^\top]+E[e\,\nabla^2f]`, not its
Gauss–Newton part. :func:`find_minimum` runs SciPy's exact trust-region Newton method
(``trust-exact``, Moré–Sorensen subproblem) until the gradient norm is below :math:`10^{-6}`, then
plain Newton steps, on the closed-form loss
(:func:`symhess.population_loss`), gradient (:func:`symhess.population_gradient`) and full Hessian
(:func:`symhess.expected_hessian`); with the exact Hessian the iteration converges quadratically
near a nondegenerate minimum, :math:`\|g_{k+1}\|=O(\|g_k\|^2)`. The result is certified at the final
point by the gradient norm and the smallest eigenvalue of the full Hessian. Next to the minimum the
loss can no longer resolve the predicted decrease (it is a sum of :math:`O(1)` terms, rounding
:math:`\sim10^{-16}`), so the last steps are plain Newton steps accepted while the gradient norm
falls (the gradient is accurate to its absolute rounding floor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from ..activations import ActivationLike, activation as get_activation
from ..errors import InvalidParameterError
from ..validation import as_teacher, as_weights
from .architecture import as_input_cov, as_trainable, multi_output, trainable_index
from .assemble import expected_hessian
from .biases import biased_network, has_biases
from .loss import population_gradient, population_loss

__all__ = ["MinimumResult", "find_minimum", "NEWTON_METHODS"]

#: SciPy trust-region methods that use the exact Hessian
NEWTON_METHODS = ("trust-exact", "trust-constr")
#: gradient norm at which the trust region hands over to plain Newton steps
_NEWTON_START = 1e-6


@dataclass(frozen=True)
class MinimumResult:
    r"""A (local) minimum of the population loss and its certificate.

    Attributes
    ----------
    W, v : ndarray
        The student's weights at the minimum (frozen groups as given).
    loss : float
        :math:`\varepsilon` there.
    gradient_norm : float
        :math:`\|\nabla\varepsilon\|_2` over the trained parameters.
    min_eigenvalue : float
        Smallest eigenvalue of the full Hessian (Gauss–Newton plus residual part) of the trained parameters.
    converged : bool
        ``gradient_norm <= gtol`` and ``min_eigenvalue >= -eig_tol``: a certified local minimum
        (strict when ``min_eigenvalue > 0``).
    n_iterations : int
        Newton iterations (trust-region iterations, then the plain Newton steps of the polish).
    gradient_norms : tuple of float
        :math:`\|g_k\|` at each iterate, the start included (quadratic convergence shows as the
        exponent roughly doubling at each step).
    message : str
        The optimiser's message.
    hessian : ndarray
        The full Hessian at the minimum (trained parameters).
    b, b_out : ndarray or None
        The student's hidden biases ``(Nh,)`` and output bias ``(n_out,)`` at the minimum, ``None``
        when the student has none.
    """

    W: np.ndarray
    v: np.ndarray
    loss: float
    gradient_norm: float
    min_eigenvalue: float
    converged: bool
    n_iterations: int
    gradient_norms: tuple[float, ...]
    message: str
    hessian: np.ndarray = field(repr=False, compare=False)
    b: np.ndarray | None = None
    b_out: np.ndarray | None = None


def _polish(x, jac, hess, norms, max_steps: int = 12):
    """Plain Newton steps, kept while the gradient norm falls (down to its rounding floor).

    Next to the minimum the loss changes by less than its own rounding (it is a sum of O(1) terms),
    so a trust-region ratio test stalls there; the gradient stays accurate to its absolute rounding
    floor, so its norm decides. At a positive definite Hessian these are the quadratically
    convergent Newton steps.
    """
    g, H = jac(x), hess(x)
    for _ in range(max_steps):
        try:
            x_new = x - np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        g_new = jac(x_new)
        if not np.linalg.norm(g_new) < np.linalg.norm(g):
            break
        x, g, H = x_new, g_new, hess(x_new)
        norms.append(float(np.linalg.norm(g)))
    return x, g, H


def find_minimum(
    act: ActivationLike,
    W0: np.ndarray,
    v0: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    *,
    teacher_activation: ActivationLike | None = None,
    input_cov: np.ndarray | None = None,
    trainable: tuple[str, ...] | None = None,
    b0: np.ndarray | None = None,
    b_out0: np.ndarray | float | None = None,
    b_teacher: np.ndarray | None = None,
    b_out_teacher: np.ndarray | float | None = None,
    gtol: float = 1e-10,
    eig_tol: float = 1e-10,
    max_iter: int = 200,
    method: str = "trust-exact",
) -> MinimumResult:
    r"""Newton's method with a trust region from :math:`(W_0, v_0)` to a minimum of the population loss.

    .. math::

        \min_\theta\ \varepsilon(\theta)=\tfrac12E_x\big[(f_\theta(x)-f^\star(x))^2\big],\qquad
        \theta_{k+1}=\theta_k+\arg\min_{\|p\|\le\Delta_k}\big(g_k^\top p+\tfrac12p^\top H_kp\big),

    with the closed-form gradient :math:`g` and full Hessian :math:`H` (residual part included).

    Parameters
    ----------
    act : str or Activation
        The student's activation.
    W0, v0 : ndarray, shapes (Nh, Ni) and (Nh,) or (n_out, Nh)
        Starting point (a 2-D ``v0``: several outputs).
    W_teacher, v_teacher : ndarray, shapes (Nt, Ni) and (Nt,) or (n_out, Nt)
        The teacher (any width).
    teacher_activation, input_cov, trainable
        As for :func:`symhess.expected_hessian` (``trainable`` may name ``"b"`` and ``"b_out"`` when
        the student has those biases).
    b0, b_out0 : ndarray or float, optional
        The student's starting hidden biases ``(Nh,)`` and output bias (a scalar, or ``(n_out,)``):
        given, they are parameters, :math:`f(x)=\sum_iv_i\sigma(w_i\cdot x+b_i)+b^{\rm out}` and
        :math:`\theta=(W, v, b, b^{\rm out})`; the loss, gradient and Hessian are those of
        :mod:`symhess.two_layer.biases`.
    b_teacher, b_out_teacher : ndarray or float, optional
        The teacher's biases (zero when omitted; each needs the student's bias of its kind).
    gtol : float
        Stop when the gradient norm is below this; also the certificate's threshold.
    eig_tol : float
        The certificate accepts a smallest Hessian eigenvalue down to ``-eig_tol`` (flat directions
        of a degenerate minimum).
    max_iter : int
        Most Newton iterations.
    method : {"trust-exact", "trust-constr"}
        SciPy trust-region method.

    Returns
    -------
    MinimumResult

    Raises
    ------
    InvalidParameterError
        Unknown ``method`` or non-positive tolerances.

    Examples
    --------
    >>> import numpy as np, symhess
    >>> Wt, vt = symhess.teacher(n_in=2, n_hidden=3, rng=0)
    >>> res = symhess.find_minimum("erf", Wt[:2] + 0.1, vt[:2], Wt, vt)
    >>> res.converged, res.gradient_norm < 1e-10, res.loss > 0
    (True, True, True)
    >>> res = symhess.find_minimum("erf", Wt[:2] + 0.1, vt[:2], Wt, vt, b0=np.zeros(2), b_out0=0.0,
    ...                            b_teacher=[0.5, -0.3, 0.2], b_out_teacher=0.1)
    >>> res.converged, res.b.shape, res.b_out.shape
    (True, (2,), (1,))
    """
    if method not in NEWTON_METHODS:
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {NEWTON_METHODS}")
    for name, val in (("gtol", gtol), ("eig_tol", eig_tol)):
        if not (isinstance(val, (int, float)) and val > 0):
            raise InvalidParameterError(f"{name}={val!r} must be a positive number")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise InvalidParameterError(f"max_iter={max_iter!r} must be a positive integer")
    act = get_activation(act)
    multi = multi_output(W0, v0, W_teacher, v_teacher)
    if multi is None:
        W0, v0 = as_weights(W0, v0)
        Wt, vt = as_teacher(W_teacher, v_teacher, W0.shape[1])
    else:
        W0, v0, Wt, vt = multi
        if Wt is None:
            raise InvalidParameterError("find_minimum needs the teacher's weights W_teacher and v_teacher")
    Nh, Ni = W0.shape
    as_input_cov(input_cov, Ni)
    n_out = 1 if v0.ndim == 1 else v0.shape[0]
    biased = has_biases(b0, b_out0, b_teacher, b_out_teacher)
    if biased:
        # validates every bias (shape, finiteness, a teacher bias without the student's) and trainable
        net = biased_network(act, W0, v0, b=b0, b_out=b_out0, W_teacher=Wt, v_teacher=vt, b_teacher=b_teacher,
                             b_out_teacher=b_out_teacher, input_cov=input_cov, trainable=trainable,
                             teacher_activation=teacher_activation)
        groups = net.groups
        idx = net.index()
        parts0 = {"W": W0.ravel(), "v": v0.ravel(), "b": net.b, "b_out": net.b_out}
        full0 = np.concatenate([parts0[g] for g in net.present])
        sizes = [net.sizes()[g] for g in net.present]
        tkw = dict(b_teacher=b_teacher, b_out_teacher=b_out_teacher)
    else:
        groups = as_trainable(trainable)
        idx = trainable_index(groups, Nh, Ni, n_out)
        full0 = np.concatenate([W0.ravel(), v0.ravel()])
        tkw = {}
    kw = dict(teacher_activation=teacher_activation, input_cov=input_cov, trainable=groups)

    def unpack_all(x: np.ndarray) -> dict:
        full = full0.copy()
        if idx is None:
            full[:] = x
        else:
            full[idx] = x
        out = {"W": full[: Nh * Ni].reshape(Nh, Ni), "v": full[Nh * Ni: Nh * Ni + v0.size].reshape(v0.shape)}
        if biased:
            pos = 0
            for g, n in zip(net.present, sizes):
                if g in ("b", "b_out"):
                    out[g] = full[pos: pos + n]
                pos += n
        return out

    def unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """The student's weights and the keywords of the loss routes (biases included) at ``x``."""
        p = unpack_all(x)
        bkw = dict(b=p.get("b"), b_out=p.get("b_out"), **tkw) if biased else {}
        return p["W"], p["v"], {**kw, **bkw}

    def fun(x):
        W, v, akw = unpack(x)
        return population_loss(act, W, v, Wt, vt, method="expansion", **akw)

    def jac(x):
        W, v, akw = unpack(x)
        return population_gradient(act, W, v, Wt, vt, method="expansion", **akw)

    def hess(x):
        W, v, akw = unpack(x)
        return expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt, **akw)

    x0 = full0 if idx is None else full0[idx]
    norms = [float(np.linalg.norm(jac(x0)))]

    def record(*args, **kwargs):
        xk = kwargs["intermediate_result"].x if "intermediate_result" in kwargs else args[0]
        norms.append(float(np.linalg.norm(jac(xk))))

    def trust_region(x_start, tol):
        options = {"gtol": tol, "maxiter": int(max_iter)}
        if method == "trust-constr":
            options["xtol"] = 1e-15
        return minimize(fun, x_start, jac=jac, hess=hess, method=method, options=options, callback=record)

    # globalised by the trust region into the basin, then plain Newton steps (quadratic convergence)
    res = trust_region(x0, max(gtol, _NEWTON_START))
    x, g, H = _polish(res.x, jac, hess, norms)
    if np.linalg.norm(g) > gtol:  # Newton did not get there (an indefinite or singular Hessian): go on with the trust region
        res = trust_region(x, gtol)
        x, g, H = _polish(res.x, jac, hess, norms)
    final = unpack_all(x)
    W, v = final["W"], final["v"]
    gnorm = float(np.linalg.norm(g))
    lam_min = float(np.linalg.eigvalsh(0.5 * (H + H.T))[0])
    return MinimumResult(
        W=W, v=v, loss=float(fun(x)), gradient_norm=gnorm, min_eigenvalue=lam_min,
        converged=bool(gnorm <= gtol and lam_min >= -eig_tol), n_iterations=len(norms) - 1,
        gradient_norms=tuple(norms), message=str(res.message), hessian=H,
        b=final.get("b"), b_out=final.get("b_out"),
    )
