r"""Population loss and gradient of a two-layer student against a fixed teacher (Gaussian inputs).

Place in the pipeline: layer 5 (pair kernels of :mod:`symhess.kernels.pairs`).

For :math:`f_\theta(x)=\sum_i v_i\sigma(w_i\cdot x)`, a teacher :math:`f^\star(x)=\sum_g v^\star_g
\sigma(w^\star_g\cdot x)` and :math:`x\sim N(0,I_{N_i})`, write the residual as one network over the
stacked units :math:`b_u\in\{w_i\}\cup\{w^\star_g\}` with output weights
:math:`s_u\in\{v_i\}\cup\{-v^\star_g\}`, :math:`e(x)=\sum_u s_u\sigma(b_u\cdot x)`. With the pair
kernels :math:`K_{ab}(q_1,q_2,c)=E[\sigma^{(a)}(u)\sigma^{(b)}(v)]`:

.. math::

    \varepsilon(\theta) &= \tfrac12 E[e^2] = \tfrac12\sum_{u,u'} s_us_{u'}\,K_{00}(b_u,b_{u'}),\\
    \partial_{v_i}\varepsilon &= E[e\,\sigma(w_i\cdot x)] = \sum_u s_u\,K_{00}(w_i,b_u),\\
    \nabla_{w_i}\varepsilon &= v_i\,E[e\,\sigma'(w_i\cdot x)\,x]
      = v_i\sum_u s_u\big(K_{20}(w_i,b_u)\,w_i + K_{11}(w_i,b_u)\,b_u\big)

(Stein's lemma :math:`E[x\,G(x)]=E[\nabla G]` for the last line; Couto et al. eqs. 1–2 in
expectation). When a unit meets itself (:math:`b_u=w_i`) the one-variable formulas
:math:`E[\sigma^2(h)]` and :math:`E[(\sigma'\sigma)'(h)]` are used. The kernels are the same
closed forms / exact moments / quadrature the expected Hessian uses
(:func:`symhess.pair_expectation`), so the Jacobian of :func:`population_gradient` is
:func:`symhess.expected_hessian` with the same teacher (tested by finite differences).

Accuracy: :math:`\varepsilon` is a sum of :math:`O(1)` terms that cancel near the optimum, so its
absolute error is a few ulps of :math:`\sum_{u,u'}|s_us_{u'}K_{00}|`; relative to a loss of size
:math:`\varepsilon` the error is :math:`\sim10^{-16}/\varepsilon`. The gradient has the same
absolute floor.
"""

from __future__ import annotations

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from ..derivation import GRADIENT
from .pairs import template_matrices
from .validate import as_teacher, as_weights

__all__ = ["population_loss", "population_gradient", "population_loss_and_gradient"]


def _residual_units(act, W, v, W_teacher, v_teacher):
    act = get_activation(act)
    W, v = as_weights(W, v)
    if W_teacher is None or v_teacher is None:
        raise ValueError(
            "population_loss/population_gradient need the teacher: pass W_teacher and v_teacher "
            "(at the optimum, W_teacher=W and v_teacher=v, the loss and gradient are zero)"
        )
    Wt, vt = as_teacher(W_teacher, v_teacher, W.shape[1])
    return act, W, v, Wt, vt


def _loss(act, W, v, Wt, vt) -> float:
    kss = template_matrices(act, GRADIENT["v"], W, W, same=True, warn=False)["1"]
    kst = template_matrices(act, GRADIENT["v"], W, Wt, same=False, warn=False)["1"]
    ktt = template_matrices(act, GRADIENT["v"], Wt, Wt, same=True, warn=False)["1"]
    return 0.5 * float(v @ kss @ v - 2.0 * v @ kst @ vt + vt @ ktt @ vt)


def _gradient(act, W, v, Wt, vt) -> np.ndarray:
    Nh, Ni = W.shape
    grad_w = np.zeros((Nh, Ni))
    grad_v = np.zeros(Nh)
    for B, s, same in ((W, v, True), (Wt, -vt, False)):
        k00 = template_matrices(act, GRADIENT["v"], W, B, same=same, warn=False)["1"]
        grad_v += k00 @ s
        cw = template_matrices(act, GRADIENT["W"], W, B, same=same, warn=False)
        grad_w += (cw["a"] @ s)[:, None] * W
        if "b" in cw:
            grad_w += (cw["b"] * s) @ B
    grad_w *= v[:, None]
    return np.concatenate([grad_w.ravel(), grad_v])


def population_loss(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
) -> float:
    r"""Population loss :math:`\varepsilon(\theta)=\tfrac12E_x[(f_\theta(x)-f^\star(x))^2]`, :math:`x\sim N(0,I)`.

    .. math::

        \varepsilon = \tfrac12\Big(v^\top K(W,W)v - 2v^\top K(W,W^\star)v^\star
            + v^{\star\top}K(W^\star,W^\star)v^\star\Big),\qquad K(A,B)_{ig}=E[\sigma(a_i\cdot x)\sigma(b_g\cdot x)].

    Parameters
    ----------
    act : str or Activation
        Activation (``"erf"``, ``"relu"``, ``"quadratic:eps=0.5"``, ...).
    W, v : ndarray, shapes (Nh, Ni) and (Nh,)
        Student weights.
    W_teacher, v_teacher : ndarray, shapes (Nt, Ni) and (Nt,)
        Teacher weights (any hidden size ``Nt``, same ``Ni``).

    Returns
    -------
    float

    Raises
    ------
    ShapeError, NonFiniteError, ValueError
        Bad shapes, non-finite weights, or a missing teacher.

    Examples
    --------
    >>> import symhess
    >>> W, v = symhess.teacher(4, 3, rng=0)
    >>> symhess.population_loss("erf", W, v, W, v)
    0.0
    """
    act, W, v, Wt, vt = _residual_units(act, W, v, W_teacher, v_teacher)
    if Wt.shape == W.shape and np.array_equal(W, Wt) and np.array_equal(v, vt):
        return 0.0
    return max(_loss(act, W, v, Wt, vt), 0.0)


def population_gradient(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
) -> np.ndarray:
    r"""Gradient :math:`\nabla_\theta\varepsilon`, ordered like the Hessian: :math:`\theta=(\mathrm{vec}W, v)`.

    .. math::

        \partial_{v_i}\varepsilon=\sum_u s_uK_{00}(w_i,b_u),\qquad
        \nabla_{w_i}\varepsilon=v_i\sum_u s_u\big(K_{20}(w_i,b_u)\,w_i+K_{11}(w_i,b_u)\,b_u\big),

    over the residual's units :math:`(b_u,s_u)` = student :math:`(w_k,v_k)` and teacher
    :math:`(w^\star_g,-v^\star_g)`.

    Parameters
    ----------
    act, W, v, W_teacher, v_teacher
        As for :func:`population_loss`.

    Returns
    -------
    ndarray, shape (Nh*Ni + Nh,)
        ``W`` part row-major, then ``v``.
    """
    act, W, v, Wt, vt = _residual_units(act, W, v, W_teacher, v_teacher)
    return _gradient(act, W, v, Wt, vt)


def population_loss_and_gradient(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Both :func:`population_loss` and :func:`population_gradient` (one validation)."""
    act, W, v, Wt, vt = _residual_units(act, W, v, W_teacher, v_teacher)
    return max(_loss(act, W, v, Wt, vt), 0.0), _gradient(act, W, v, Wt, vt)
