r"""Convert weights, losses, gradients and Hessians between symhess and its peer tools' conventions.

Place in the pipeline: layer 2 (NumPy only).

symhess's network is :math:`f(x)=\sum_i v_i\,\sigma(w_i\cdot x)` with :math:`x\sim N(0,I)`,
``W`` of shape ``(Nh, Ni)``, :math:`\theta=(W\text{ row-major}, v)` and the loss
:math:`\varepsilon=\frac12E_x[(f_\theta-f_{\theta^\star})^2]`. The peers differ as follows.

* **nn2pp** (Goldt et al.; the Saad–Solla convention): pre-activation :math:`w_i\cdot x/\sqrt N` with
  :math:`w_{ij}\sim N(0,1)`; parameters ``w`` (K, N) row-major, then ``v``; loss :math:`\frac12E[e^2]`.
  So :math:`W=w/\sqrt N`, and losses agree.
* **MLPGradientFlow.jl**: pre-activation :math:`w1_i\cdot x`; parameters ``w1`` (Nh, Ni) stored
  **column-major** (Julia), then ``w2`` (1, Nh); loss :math:`E[e^2]`, without the ½. So
  :math:`W=w1`, and losses, gradients and Hessians are twice symhess's, reordered.
* **Neural Tangents** (``stax.Dense``): pre-activation ``x @ W1`` times :math:`\sigma_w/\sqrt{N_i}`
  (NTK parameterization) or 1 (standard); kernels ``W1`` (Ni, Nh) then ``W2`` (Nh, 1).

The Saad–Solla unit :math:`g(z)=\mathrm{erf}(z/\sqrt2)` (nn2pp's ``erf``, MLPGradientFlow's
``sigmoid2``) is symhess's ``"saad_solla_erf"`` (``"erf:scale=1/sqrt(2)"``), not the default
``"erf"`` = :math:`\mathrm{erf}(z)`. Neural Tangents' ``stax.Erf(a, b, c)`` is
:math:`a\,\mathrm{erf}(bz)+c`: ``"erf:scale=b"`` for ``a = 1, c = 0``.

If the peer's parameters are :math:`\phi` and :math:`\theta=J\,P\phi` (a diagonal scaling :math:`J`
after a permutation :math:`P`), the chain rule gives :math:`\nabla_\phi L = c\,P^\top J\nabla_\theta\varepsilon`
and :math:`\nabla^2_\phi L=c\,P^\top J H J P` with the loss factor :math:`c` (2 for MLPGradientFlow).
The functions below apply exactly these maps (weights both ways).
"""

from __future__ import annotations

import numpy as np
from ..errors import InvalidParameterError, InvalidTypeError

__all__ = [
    "SAAD_SOLLA_ERF",
    "from_nn2pp", "to_nn2pp", "nn2pp_gradient", "nn2pp_hessian",
    "mlpgradientflow_order", "from_mlpgradientflow", "to_mlpgradientflow", "from_mlpgradientflow_params",
    "to_mlpgradientflow_params", "mlpgradientflow_loss", "mlpgradientflow_gradient", "mlpgradientflow_hessian",
    "from_neural_tangents", "neural_tangents_hessian",
]

#: the activation spec of the Saad–Solla unit erf(z / sqrt(2)) (nn2pp's erf, MLPGradientFlow's sigmoid2)
SAAD_SOLLA_ERF = "saad_solla_erf"


def _weights(W: object, v: object, wname: str = "W", vname: str = "v") -> tuple[np.ndarray, np.ndarray]:
    W = np.asarray(W)
    v = np.asarray(v)
    for name, a in ((wname, W), (vname, v)):
        if a.dtype.kind not in "biuf":
            raise InvalidTypeError(f"{name} must be a real numeric array; got dtype {a.dtype}")
    W, v = W.astype(float), v.astype(float).reshape(-1)
    if W.ndim != 2 or W.shape[0] != v.shape[0] or W.size == 0:
        raise InvalidParameterError(f"{wname} of shape {W.shape} and {vname} of shape {v.shape} do not form a two-layer net "
                         f"({wname}: (hidden, inputs), {vname}: (hidden,))")
    return W, v


def _square(H: object, P: int) -> np.ndarray:
    H = np.asarray(H, dtype=float)
    if H.shape != (P, P):
        raise InvalidParameterError(f"the Hessian must have shape ({P}, {P}) for this network; got {H.shape}")
    return H


def _scaling(n_in: int, n_hidden: int, w_factor: float, v_factor: float) -> np.ndarray:
    return np.concatenate([np.full(n_in * n_hidden, w_factor), np.full(n_hidden, v_factor)])


# -- nn2pp / Saad-Solla / Goldt et al. -----------------------------------------------------------------------

def from_nn2pp(w: object, v: object) -> tuple[np.ndarray, np.ndarray]:
    r"""nn2pp weights ``w`` (K, N), ``v`` (K,) -> symhess ``(W, v)`` with :math:`W = w/\sqrt N`.

    nn2pp's network :math:`\sum_k v_k\,g(w_k\cdot x/\sqrt N)` with :math:`g=\mathrm{erf}(\cdot/\sqrt2)` is
    symhess's network at ``W`` with activation :data:`SAAD_SOLLA_ERF`; both losses carry the ½, so
    losses agree as they are.

    Examples
    --------
    >>> import numpy as np
    >>> W, v = from_nn2pp(np.array([[2.0, 0.0, 0.0, 0.0]]), np.array([1.0]))
    >>> W
    array([[1., 0., 0., 0.]])
    """
    w, v = _weights(w, v, "w", "v")
    return w / np.sqrt(w.shape[1]), v.copy()


def to_nn2pp(W: object, v: object) -> tuple[np.ndarray, np.ndarray]:
    r"""symhess ``(W, v)`` -> nn2pp ``(w, v)`` with :math:`w = \sqrt N\,W` (inverse of :func:`from_nn2pp`)."""
    W, v = _weights(W, v)
    return W * np.sqrt(W.shape[1]), v.copy()


def nn2pp_gradient(g: object, n_in: int, n_hidden: int) -> np.ndarray:
    r"""symhess's gradient :math:`\nabla_\theta\varepsilon` -> the gradient in nn2pp's ``(w, v)``: the W part over :math:`\sqrt N`."""
    P = n_in * n_hidden + n_hidden
    g = np.asarray(g, dtype=float)
    if g.shape != (P,):
        raise InvalidParameterError(f"the gradient must have shape ({P},); got {g.shape}")
    return g * _scaling(n_in, n_hidden, 1 / np.sqrt(n_in), 1.0)


def nn2pp_hessian(H: object, n_in: int, n_hidden: int) -> np.ndarray:
    r"""symhess's Hessian -> the Hessian in nn2pp's ``(w, v)``: :math:`JHJ`, :math:`J=\mathrm{diag}(1/\sqrt N,\dots,1,\dots)`."""
    H = _square(H, n_in * n_hidden + n_hidden)
    d = _scaling(n_in, n_hidden, 1 / np.sqrt(n_in), 1.0)
    return d[:, None] * H * d[None, :]


# -- MLPGradientFlow.jl ------------------------------------------------------------------------------------

def mlpgradientflow_order(n_in: int, n_hidden: int) -> np.ndarray:
    r"""Permutation ``p`` with :math:`\theta_{\text{MLPGradientFlow}} = \theta_{\text{symhess}}[p]`.

    MLPGradientFlow stores ``w1`` (Nh, Ni) column-major (Julia): entry ``(i, j)`` at ``j*Nh + i``;
    symhess row-major: at ``i*Ni + j``. ``w2`` (1, Nh) follows, like ``v``.

    Examples
    --------
    >>> mlpgradientflow_order(2, 3)
    array([0, 2, 4, 1, 3, 5, 6, 7, 8])
    """
    rowmajor = np.arange(n_in * n_hidden).reshape(n_hidden, n_in)
    return np.concatenate([rowmajor.ravel(order="F"), n_in * n_hidden + np.arange(n_hidden)])


def from_mlpgradientflow(w1: object, w2: object) -> tuple[np.ndarray, np.ndarray]:
    """MLPGradientFlow matrices ``w1`` (Nh, Ni) and ``w2`` (1, Nh) (no biases) -> symhess ``(W, v)``.

    The matrices are the same objects (no rescaling: both take :math:`x\\sim N(0,I)` and
    pre-activations :math:`w1\\,x`); only the flat parameter order and the loss factor differ.
    """
    W, v = _weights(w1, np.asarray(w2).reshape(-1), "w1", "w2")
    return W.copy(), v


def to_mlpgradientflow(W: object, v: object) -> tuple[np.ndarray, np.ndarray]:
    """symhess ``(W, v)`` -> MLPGradientFlow ``(w1, w2)`` with ``w2`` of shape (1, Nh)."""
    W, v = _weights(W, v)
    return W.copy(), v[None, :].copy()


def from_mlpgradientflow_params(x: object, n_in: int, n_hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """MLPGradientFlow's flat parameter vector ``[vec(w1); vec(w2)]`` (column-major) -> symhess ``(W, v)``."""
    x = np.asarray(x, dtype=float).reshape(-1)
    m = n_in * n_hidden
    if x.shape != (m + n_hidden,):
        raise InvalidParameterError(f"x must have {m + n_hidden} entries (w1: {n_hidden}x{n_in}, w2: 1x{n_hidden}); got {x.size}")
    return x[:m].reshape((n_hidden, n_in), order="F").copy(), x[m:].copy()


def to_mlpgradientflow_params(W: object, v: object) -> np.ndarray:
    """symhess ``(W, v)`` -> MLPGradientFlow's flat parameters ``[vec(w1); vec(w2)]`` (column-major)."""
    W, v = _weights(W, v)
    return np.concatenate([W.ravel(order="F"), v])


def mlpgradientflow_loss(loss: float) -> float:
    r"""symhess's :math:`\varepsilon=\frac12E[e^2]` -> MLPGradientFlow's :math:`E[e^2] = 2\varepsilon` (no ½)."""
    return 2.0 * float(loss)


def mlpgradientflow_gradient(g: object, n_in: int, n_hidden: int) -> np.ndarray:
    """symhess's gradient -> MLPGradientFlow's: reordered (column-major ``w1``) and doubled (no ½ in its loss)."""
    P = n_in * n_hidden + n_hidden
    g = np.asarray(g, dtype=float)
    if g.shape != (P,):
        raise InvalidParameterError(f"the gradient must have shape ({P},); got {g.shape}")
    return 2.0 * g[mlpgradientflow_order(n_in, n_hidden)]


def mlpgradientflow_hessian(H: object, n_in: int, n_hidden: int) -> np.ndarray:
    """symhess's Hessian -> MLPGradientFlow's: reordered (column-major ``w1``) and doubled (no ½ in its loss)."""
    H = _square(H, n_in * n_hidden + n_hidden)
    p = mlpgradientflow_order(n_in, n_hidden)
    return 2.0 * H[np.ix_(p, p)]


# -- Neural Tangents -----------------------------------------------------------------------------------------

def _nt_factors(n_in: int, n_hidden: int, W_std: float, v_std: float, parameterization: str) -> tuple[float, float]:
    if parameterization == "ntk":
        return W_std / np.sqrt(n_in), v_std / np.sqrt(n_hidden)
    if parameterization == "standard":
        return 1.0, 1.0
    raise InvalidParameterError(f"parameterization={parameterization!r}; Neural Tangents uses 'ntk' or 'standard'")


def from_neural_tangents(W1: object, W2: object, *, W_std: float = 1.0, v_std: float = 1.0,
                         parameterization: str = "ntk") -> tuple[np.ndarray, np.ndarray]:
    r"""Neural Tangents ``stax.Dense`` kernels ``W1`` (Ni, Nh), ``W2`` (Nh, 1) (no biases) -> symhess ``(W, v)``.

    In the NTK parameterization a ``Dense`` layer computes ``x @ W1 * W_std / sqrt(Ni)``, so
    :math:`W = (\sigma_w/\sqrt{N_i})\,W_1^\top` and :math:`v = (\sigma_v/\sqrt{N_h})\,W_2`; in the
    standard parameterization :math:`W=W_1^\top`, :math:`v=W_2`.
    """
    W1 = np.asarray(W1, dtype=float)
    W, v = _weights(W1.T, np.asarray(W2, dtype=float).reshape(-1), "W1.T", "W2")
    a, b = _nt_factors(W.shape[1], W.shape[0], W_std, v_std, parameterization)
    return a * W, b * v


def neural_tangents_hessian(H: object, n_in: int, n_hidden: int, *, W_std: float = 1.0, v_std: float = 1.0,
                            parameterization: str = "ntk") -> np.ndarray:
    r"""symhess's Hessian (Gram form :math:`E[\nabla f\nabla f^\top]` at the optimum) in Neural Tangents' raw parameters.

    Parameters are ordered as ``W1`` (Ni, Nh) row-major, then ``W2``: entry ``(j, i)`` of ``W1`` is
    symhess's ``W[i, j]``. The loss factor is 1 (:math:`\frac12E[e^2]`).
    """
    H = _square(H, n_in * n_hidden + n_hidden)
    a, b = _nt_factors(n_in, n_hidden, W_std, v_std, parameterization)
    p = mlpgradientflow_order(n_in, n_hidden)  # W1 = W.T row-major is W column-major
    d = _scaling(n_in, n_hidden, a, b)[p]
    return d[:, None] * H[np.ix_(p, p)] * d[None, :]
