r"""Rigorous ball-arithmetic (``flint.arb``) evaluations for certified ranks.

Place in the package: the two-layer teacher-student family. Two matrices are built here with guaranteed error bounds at a
chosen working precision (bits):

* :func:`ball_expected_hessian` — the expected Hessian at the optimum from the closed-form pair
  expectations (erf: arcsines and determinants; ReLU: arc-cosine kernels; polynomials), evaluated
  on the exact overlaps :math:`Q = WW^\top` of rational (or float, i.e. binary-rational) weights;
* :func:`ball_gradients` — the gradient rows :math:`\nabla_\theta f(x_\mu)` at chosen rational
  inputs :math:`x_\mu`, from the activation's own expression (works for tanh, which has no closed
  Gaussian integrals).

Why the second one certifies the Hessian: :math:`H = E_x[\nabla f\nabla f^\top]`, so
:math:`c^\top Hc = E[(c\cdot\nabla f)^2] = 0` forces :math:`c\cdot\nabla f(x) = 0` for almost every
:math:`x`, hence (the gradient being continuous off a null set of kinks) at every admissible point.
A nonsingular :math:`r\times r` minor of the point-evaluation matrix therefore proves
:math:`\operatorname{rank}H\ge r`, and :math:`r = P` proves :math:`H` positive definite.
"""

from __future__ import annotations

from functools import lru_cache

import flint
import numpy as np

from ..activations import Activation, ActivationLike, activation as get_activation
from ..validation import as_rng
from ..symbols import z
from ..linalg.rationals import dyadic_normal, rational_array
from .exact import rational_weights
from .objects import BALL, arb_precision, assemble_gauss_newton, compile_object_expr, pair_coefficients
from ..errors import InvalidParameterError

__all__ = ["ball_expected_hessian", "ball_gradients", "rational_points", "to_arb_mat", "arb_precision"]


def _to_arb(arr: np.ndarray) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = flint.arb(arr[idx])
    return out


def to_arb_mat(H: np.ndarray) -> flint.arb_mat:
    """``flint.arb_mat`` from a 2-D object array of balls or rationals (at the current precision)."""
    rows, cols = H.shape
    return flint.arb_mat(rows, cols, [x if isinstance(x, flint.arb) else flint.arb(x) for x in H.ravel().tolist()])


def ball_expected_hessian(act: ActivationLike, W: object, v: object, prec: int) -> flint.arb_mat:
    r"""Expected Hessian at the optimum as a ball matrix at ``prec`` bits (closed forms only).

    The overlaps :math:`Q=WW^\top` are formed exactly over :math:`\mathbb Q`; every closed form is
    then evaluated in ball arithmetic, so the exact matrix lies inside the returned balls.

    Raises
    ------
    NoClosedFormError
        If an expectation of ``act`` has no closed form (tanh): use :func:`ball_gradients`.
    """
    act = get_activation(act)
    Wq, vq = rational_weights(W, v)
    Q = Wq.dot(Wq.T)
    with arb_precision(prec):
        coeffs = pair_coefficients(act, _to_arb(Q), BALL)
        H = assemble_gauss_newton(_to_arb(Wq), _to_arb(vq), coeffs)
        return to_arb_mat(H)


@lru_cache(maxsize=None)
def _activation_and_slope(act: Activation):
    return compile_object_expr(act.expr(z), (z,)), compile_object_expr(act.derivative(1, z), (z,))


def ball_unit_values(act: Activation, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\sigma(h)` and :math:`\sigma'(h)` as arrays of balls for exact pre-activations ``pre`` (at the current
    ``arb`` precision; constant slopes are broadcast to the shape of ``pre``)."""
    sigma, slope = _activation_and_slope(act)
    h = _to_arb(pre)
    s, ds = sigma(BALL, h), slope(BALL, h)
    s = s if isinstance(s, np.ndarray) else np.full(h.shape, s, dtype=object)
    ds = ds if isinstance(ds, np.ndarray) else np.full(h.shape, ds, dtype=object)
    return s, ds


def rational_points(n_points: int, n_in: int, rng: object = None, *, denominator: int = 1 << 20) -> np.ndarray:
    r"""``(n_points, n_in)`` object array of dyadic rationals close to :math:`N(0, 1)` draws."""
    return dyadic_normal((n_points, n_in), as_rng(rng), denominator)


def ball_gradients(act: ActivationLike, W: object, v: object, X: object, prec: int) -> flint.arb_mat:
    r"""Rows :math:`\nabla_\theta f(x_\mu)` (shape ``(n_points, P)``) in ball arithmetic.

    .. math::

        \frac{\partial f}{\partial W_{ij}}(x) = v_i\,\sigma'(w_i\cdot x)\,x_j,\qquad
        \frac{\partial f}{\partial v_i}(x) = \sigma(w_i\cdot x).

    Pre-activations are exact rationals; :math:`\sigma, \sigma'` come from the activation's SymPy
    expression. For ReLU a point on a kink (:math:`w_i\cdot x_\mu = 0`) raises ``ValueError``.
    """
    act = get_activation(act)
    Wq, vq = rational_weights(W, v)
    Xq = rational_array(X, "X")
    if Xq.ndim != 2 or Xq.shape[1] != Wq.shape[1]:
        raise InvalidParameterError(f"X must have shape (n_points, {Wq.shape[1]}); got {Xq.shape}")
    Nh, Ni = Wq.shape
    pre = Xq.dot(Wq.T)  # (n, Nh), exact
    with arb_precision(prec):
        s, ds = ball_unit_values(act, pre)
        gW = (ds * _to_arb(vq)[None, :])[:, :, None] * _to_arb(Xq)[:, None, :]  # (n, Nh, Ni)
        G = np.concatenate([gW.reshape(len(Xq), Nh * Ni), s], axis=1)
        return to_arb_mat(G)
