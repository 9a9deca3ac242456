r"""Architecture options of the two-layer network: correlated inputs and frozen parameter groups.

Place in the package: the two-layer teacher-student family (NumPy only).

**Correlated inputs.** For :math:`x\sim N(0,\Sigma)` write :math:`x=S z` with :math:`S=\Sigma^{1/2}`
(the symmetric square root) and :math:`z\sim N(0,I)`. Then :math:`w_i\cdot x=\tilde w_i\cdot z` with
:math:`\tilde W=WS`, so the loss is the identity-covariance loss at the whitened weights,
:math:`\varepsilon_\Sigma(W,v)=\varepsilon_I(WS,v)` (teacher whitened alike), and by the chain rule
(:math:`\mathrm{vec}_{\text{row}}(WS)=(I_{N_h}\otimes S)\,\mathrm{vec}_{\text{row}}W`, :math:`S` symmetric)

.. math::

    g_\Sigma(W,v)=J\,g_I(WS,v),\qquad H_\Sigma(W,v)=J\,H_I(WS,v)\,J^\top,\qquad
    J=\begin{pmatrix}I_{N_h}\otimes S&0\\0&I_{N_h}\end{pmatrix}.

Every pair kernel sees only the Gram matrix :math:`\tilde W\tilde W^\top=W\Sigma W^\top` (Stein's
lemma under :math:`N(0,\Sigma)`). In the block formulas :math:`J(\cdot)J^\top` turns
:math:`\delta_{jl}` into :math:`\Sigma_{jl}` and each basis vector :math:`\tilde w_i` into
:math:`S\tilde w_i=\Sigma w_i`, so the dense Hessian is written directly at the identity case's
:math:`O(N_h^2N_i^2)` cost (:func:`symhess.two_layer.assemble.write_gauss_newton` with ``sigma``), and
a matrix-free product is :math:`J H_I J^\top x`: two products with :math:`S` (:math:`O(N_hN_i^2)`, or
:math:`O(N_hN_i)` for a diagonal :math:`\Sigma`) around the identity case's :math:`O(N_h^2N_i)`.

Any factor :math:`F` with :math:`FF^\top=\Sigma` serves as well: with :math:`\tilde W=WF` the Gram
matrix is again :math:`W\Sigma W^\top`, gradients map back by :math:`F^\top` and the placed vectors are
:math:`\tilde w_iF^\top=\Sigma w_i`, so the results do not depend on the factor. The code takes the
Cholesky factor (fast) and the symmetric root :math:`S` only when Cholesky fails (a singular or
numerically singular :math:`\Sigma`).

**Frozen parameters.** With ``trainable`` a subset of ``("W", "v")`` the other group is held fixed;
the loss of the trained group alone has as gradient the trained entries of the full gradient and
as Hessian the corresponding principal submatrix of the full Hessian (parameters keep the order
:math:`\theta=(\mathrm{vec}_{\text{row}}W, v)`, frozen groups left out). ``("W",)`` is the soft
committee machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from ..errors import InvalidParameterError, InvalidTypeError, NonFiniteError, ShapeError

__all__ = ["InputCovariance", "as_input_cov", "PARAMETER_GROUPS", "as_trainable", "trainable_index", "teacher_act",
           "multi_output"]

#: parameter groups of the two-layer network, in the order of :math:`\theta`
PARAMETER_GROUPS = ("W", "v")
#: relative size of a negative eigenvalue of Sigma still read as rounding of a zero eigenvalue
_PSD_RTOL = 1e-12


@dataclass(frozen=True)
class InputCovariance:
    r"""The input covariance :math:`\Sigma` and a factor :math:`F` with :math:`FF^\top=\Sigma`.

    Attributes
    ----------
    sigma : ndarray
        :math:`\Sigma`, shape ``(Ni, Ni)``, or its diagonal, shape ``(Ni,)``.
    factor : ndarray
        :math:`F`: the Cholesky factor, or the symmetric root :math:`\Sigma^{1/2}` for a singular
        :math:`\Sigma`; for a diagonal :math:`\Sigma` the diagonal of :math:`\Sigma^{1/2}`.
    """

    sigma: np.ndarray
    factor: np.ndarray

    @property
    def diagonal(self) -> bool:
        """Whether :math:`\\Sigma` is stored as its diagonal."""
        return self.sigma.ndim == 1

    def whiten(self, W: np.ndarray) -> np.ndarray:
        r"""The whitened weights :math:`\tilde W=WF` (rows :math:`F^\top w_i`): :math:`\tilde W\tilde W^\top=W\Sigma W^\top`."""
        return W * self.factor if self.diagonal else W @ self.factor

    def place(self, M: np.ndarray) -> np.ndarray:
        r""":math:`MF^\top`: rows in whitened coordinates mapped back to the weights' (the action of :math:`J`)."""
        return M * self.factor if self.diagonal else M @ self.factor.T

    def map_gradient(self, g: np.ndarray, n_hidden: int, n_in: int) -> np.ndarray:
        r""":math:`J g` for a gradient (or a batch of columns) ordered :math:`(\mathrm{vec}\,W, v)`."""
        m = n_hidden * n_in
        out = np.array(g, dtype=float, copy=True)
        out[:m] = self.place(out[:m].reshape(n_hidden, n_in)).ravel()
        return out


def as_input_cov(input_cov: object, n_in: int) -> InputCovariance | None:
    r"""Validate ``input_cov``: ``None`` (identity), a ``(Ni, Ni)`` symmetric PSD matrix or a ``(Ni,)`` diagonal.

    A :class:`~symhess.two_layer.low_rank_covariance.LowRankPlusDiagonal` is returned as it is (it has
    the same methods, with a rectangular factor :math:`F=(D^{1/2}|U)`).

    Eigenvalues down to :math:`-10^{-12}\lambda_{\max}` are read as rounding of zero (a singular
    :math:`\Sigma`, inputs on a subspace, is allowed). The factor is the Cholesky factor, or, where its
    pivots fall below :math:`10^{-7}` of the largest, the symmetric root from ``numpy.linalg.eigh``.

    Raises
    ------
    InvalidTypeError
        Not a real numeric array.
    ShapeError
        Wrong shape for ``n_in`` inputs.
    NonFiniteError
        A non-finite entry.
    InvalidParameterError
        Not symmetric, or not positive semidefinite.
    """
    if input_cov is None:
        return None
    from .low_rank_covariance import LowRankPlusDiagonal  # Sigma = D + U U^T, never formed by the matrix-free route

    if isinstance(input_cov, LowRankPlusDiagonal):
        return input_cov.checked(n_in)
    if isinstance(input_cov, (str, bytes)):
        raise InvalidTypeError(f"input_cov must be a numeric array, got {type(input_cov).__name__}")
    try:
        S = np.asarray(input_cov, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(f"input_cov must be a real numeric array: {exc}") from exc
    if S.ndim not in (1, 2) or S.shape[0] != n_in or (S.ndim == 2 and S.shape != (n_in, n_in)):
        raise ShapeError(
            f"input_cov has shape {S.shape}; expected ({n_in}, {n_in}) (a covariance matrix) or ({n_in},) (its diagonal)"
        )
    if not np.all(np.isfinite(S)):
        raise NonFiniteError("input_cov has a non-finite entry")
    if S.ndim == 1:
        if np.any(S < 0):
            i = int(np.argmin(S))
            raise InvalidParameterError(f"input_cov diagonal entry {i} is {S[i]:.3g} < 0; a variance must be >= 0")
        return InputCovariance(S, np.sqrt(S))
    scale = float(np.abs(S).max())
    if not np.allclose(S, S.T, rtol=0.0, atol=1e-12 * max(scale, 1e-300)):
        raise InvalidParameterError(
            f"input_cov is not symmetric (largest |Sigma - Sigma^T| = {float(np.abs(S - S.T).max()):.3g})"
        )
    S = 0.5 * (S + S.T)
    L = _cholesky(S)
    if L is not None:
        return InputCovariance(S, L)
    lam, U = np.linalg.eigh(S)
    if lam[0] < -_PSD_RTOL * max(lam[-1], 0.0) or (lam[-1] <= 0 and lam[0] < 0):
        raise InvalidParameterError(
            f"input_cov has eigenvalue {lam[0]:.3g} < 0; a covariance must be positive semidefinite"
        )
    root = (U * np.sqrt(np.clip(lam, 0.0, None))) @ U.T
    return InputCovariance(S, 0.5 * (root + root.T))


def _cholesky(S: np.ndarray) -> np.ndarray | None:
    """The Cholesky factor of ``S`` if it is numerically positive definite, else ``None``."""
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        return None
    d = np.abs(np.diag(L))
    return L if d.min() > 1e-7 * d.max() else None  # pivots this small: take the eigendecomposition


def as_trainable(trainable: object) -> tuple[str, ...]:
    """Validate ``trainable``: ``None`` (all), a group name or an iterable of them; returns them in θ order.

    Raises
    ------
    InvalidParameterError
        An unknown or repeated name, or an empty selection.
    """
    if trainable is None:
        return PARAMETER_GROUPS
    names = (trainable,) if isinstance(trainable, str) else tuple(trainable)
    for name in names:
        if name not in PARAMETER_GROUPS:
            raise InvalidParameterError(
                f"trainable contains {name!r}; the parameter groups of this network are {PARAMETER_GROUPS} "
                "(hidden and output biases b, b_out become parameters when passed to the function)"
            )
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"trainable={names!r} names a group twice")
    if not names:
        raise InvalidParameterError(f"trainable is empty; name at least one of {PARAMETER_GROUPS}")
    return tuple(g for g in PARAMETER_GROUPS if g in names)


def trainable_groups(trainable: object, present: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Validate ``trainable`` against the parameter groups a network has; return them in θ order.

    ``present`` are the groups of this network in θ order (e.g. ``("W", "v", "b")``), ``allowed`` every
    group name there is. ``None`` means every present group.
    """
    if trainable is None:
        return present
    names = (trainable,) if isinstance(trainable, str) else tuple(trainable)
    for name in names:
        if not isinstance(name, str) or name not in allowed:
            raise InvalidParameterError(f"trainable contains {name!r}; the parameter groups are {allowed}")
        if name not in present:
            raise InvalidParameterError(
                f"trainable contains {name!r}, but this network has no {name}"
                + {"b": " (no hidden bias", "b_out": " (no output bias"}.get(name, " (")
                + f"; pass it to make it a parameter); its groups are {present}"
            )
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"trainable={names!r} names a group twice")
    if not names:
        raise InvalidParameterError(f"trainable is empty; name at least one of {present}")
    return tuple(g for g in present if g in names)


def trainable_index(groups: tuple[str, ...], n_hidden: int, n_in: int, n_out: int = 1) -> np.ndarray | None:
    """Indices into θ = (vec W, vec v) of the trained groups; ``None`` when every group is trained."""
    if groups == PARAMETER_GROUPS:
        return None
    m = n_hidden * n_in
    spans = {"W": np.arange(m), "v": np.arange(m, m + n_out * n_hidden)}
    return np.concatenate([spans[g] for g in groups])


def teacher_act(act, teacher_activation: ActivationLike | None, W_teacher: object):
    """The teacher's activation when it differs from ``act`` (else ``None``); it needs the teacher's weights."""
    if teacher_activation is None:
        return None
    tact = get_activation(teacher_activation)
    if W_teacher is None:
        raise InvalidParameterError(
            f"teacher_activation={tact.spec!r} needs the teacher's weights W_teacher and v_teacher (without them "
            "the teacher is the student itself)"
        )
    return None if tact == act else tact


def multi_output(W: object, v: object, W_teacher: object = None, v_teacher: object = None):
    r"""Validate a network with several outputs, :math:`f_o(x)=\sum_iV_{oi}\sigma(w_i\cdot x)`.

    Returns ``None`` when ``v`` is 1-D (one output), else ``(W, V, Wt, Vt)`` with ``V`` of shape
    ``(n_out, Nh)`` and the teacher's ``Vt`` of shape ``(n_out, Nt)`` (``Wt, Vt`` ``None`` when no teacher
    is given). The loss is :math:`\tfrac12E\|f-f^\star\|^2=\sum_o\tfrac12E[(f_o-f^\star_o)^2]`.

    Raises
    ------
    ShapeError
        ``v`` of more than two dimensions, or a teacher with another number of outputs.
    """
    from ..validation import as_teacher, as_weights

    if isinstance(v, (str, bytes)) or v is None or np.ndim(v) < 2:
        return None
    if np.ndim(v) > 2:
        raise ShapeError(f"v has shape {np.shape(v)}; expected (n_hidden,) or (n_out, n_hidden)")
    V = np.asarray(v)
    if np.ndim(W) == 2 and V.shape[1] != np.shape(W)[0]:
        raise ShapeError(
            f"v has shape {V.shape}, read as (n_out, n_hidden), but W has {np.shape(W)[0]} rows (hidden units); "
            "v must have shape (n_hidden,) or (n_out, n_hidden)"
        )
    W, v0 = as_weights(W, V[0])
    V = np.stack([as_weights(W, row)[1] for row in V])
    if V.shape[0] == 0:
        raise ShapeError("v of shape (0, n_hidden) has no outputs")
    if W_teacher is None and v_teacher is None:
        return W, V, None, None
    if v_teacher is None or np.ndim(v_teacher) != 2 or np.shape(v_teacher)[0] != V.shape[0]:
        raise ShapeError(
            f"the student has {V.shape[0]} outputs (v of shape {V.shape}); v_teacher must have shape "
            f"({V.shape[0]}, n_teacher), got {np.shape(v_teacher)}"
        )
    Vt = np.asarray(v_teacher)
    Wt, _ = as_teacher(W_teacher, Vt[0], W.shape[1])
    Vt = np.stack([as_teacher(Wt, row, W.shape[1])[1] for row in Vt])
    return W, V, Wt, Vt
