r"""A low-rank-plus-diagonal input covariance :math:`\Sigma=D+UU^\top`, used without forming :math:`\Sigma`.

Place in the package: the two-layer teacher-student family (NumPy only).

With :math:`D=\operatorname{diag}(d)` and :math:`U\in\mathbb R^{N_i\times k}`, the rectangular factor
:math:`F=\big(D^{1/2}\;\big|\;U\big)\in\mathbb R^{N_i\times(N_i+k)}` has :math:`FF^\top=\Sigma`: the input
is :math:`x=Fz`, :math:`z\sim N(0,I_{N_i+k})`, and every route works on the identity-covariance network of
:math:`N_i+k` inputs at the whitened weights :math:`\tilde W=WF=(WD^{1/2}\,|\,WU)` (Gram matrix
:math:`\tilde W\tilde W^\top=W\Sigma W^\top`), mapped back by :math:`J` (rows times :math:`F^\top`):

.. math::

    \tilde X = XF = (XD^{1/2}\,|\,XU),\qquad Z = \tilde ZF^\top=\tilde Z_{:,\,:N_i}D^{1/2}+\tilde Z_{:,\,N_i:}U^\top .

A matrix-free Hessian product then costs :math:`O(N_h^2(N_i+k)+N_hN_ik)` instead of the
:math:`O(N_hN_i^2)` of a dense :math:`\Sigma`; :math:`\Sigma` itself (:math:`N_i^2` numbers) is formed only
by the dense routes, whose output is larger anyway.

Pass an instance as ``input_cov`` to :func:`symhess.hessian_operator` (and to the dense functions).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..errors import InvalidParameterError, InvalidTypeError, NonFiniteError, ShapeError

__all__ = ["LowRankPlusDiagonal"]


class LowRankPlusDiagonal:
    r"""The input covariance :math:`\Sigma=\operatorname{diag}(d)+UU^\top`.

    Parameters
    ----------
    d : array_like, shape (Ni,)
        The diagonal part, entries :math:`\ge0`.
    U : array_like, shape (Ni, k)
        The low-rank part (``k >= 0`` columns; a 1-D array is one column).

    Examples
    --------
    >>> import numpy as np, symhess
    >>> cov = LowRankPlusDiagonal(np.ones(3), np.array([[1.0], [0.0], [2.0]]))
    >>> cov.sigma
    array([[2., 0., 2.],
           [0., 1., 0.],
           [2., 0., 5.]])
    >>> W, v = symhess.teacher(3, 2, rng=0)
    >>> op = symhess.hessian_operator("erf", W, v, input_cov=cov)
    >>> bool(np.allclose(op @ np.ones(8), symhess.expected_hessian("erf", W, v, input_cov=cov.sigma) @ np.ones(8)))
    True
    """

    #: the routes take the structured products (see the module docstring)
    low_rank = True
    #: not stored as a diagonal
    diagonal = False

    def __init__(self, d: object, U: object) -> None:
        try:
            d = np.array(d, dtype=float)
            U = np.array(U, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InvalidTypeError(f"LowRankPlusDiagonal needs real numeric arrays d and U: {exc}") from exc
        if d.ndim != 1 or d.size == 0:
            raise ShapeError(f"d has shape {d.shape}; expected (Ni,) with Ni >= 1")
        if U.ndim == 1:
            U = U[:, None]
        if U.ndim != 2 or U.shape[0] != d.size:
            raise ShapeError(f"U has shape {U.shape}; expected ({d.size}, k) (as many rows as d has entries)")
        if not (np.all(np.isfinite(d)) and np.all(np.isfinite(U))):
            raise NonFiniteError("LowRankPlusDiagonal: d or U has a non-finite entry")
        if np.any(d < 0):
            i = int(np.argmin(d))
            raise InvalidParameterError(f"d[{i}] = {d[i]:.3g} < 0; the diagonal part must be >= 0")
        d.setflags(write=False)
        U.setflags(write=False)
        self.d, self.U = d, U
        self.sqrt_d = np.sqrt(d)

    @property
    def n_in(self) -> int:
        """:math:`N_i`."""
        return self.d.size

    @property
    def rank(self) -> int:
        """The number of columns :math:`k` of :math:`U`."""
        return self.U.shape[1]

    def checked(self, n_in: int) -> "LowRankPlusDiagonal":
        """Itself, after checking that it is a covariance of ``n_in`` inputs."""
        if self.n_in != n_in:
            raise ShapeError(f"input_cov is a covariance of {self.n_in} inputs; the weights have n_in = {n_in}")
        return self

    @cached_property
    def sigma(self) -> np.ndarray:
        r"""The dense :math:`\Sigma=D+UU^\top` (formed on first use, by the dense routes only)."""
        S = self.U @ self.U.T
        S[np.diag_indices(self.n_in)] += self.d
        return S

    @cached_property
    def factor(self) -> np.ndarray:
        r"""The dense rectangular factor :math:`F=(D^{1/2}\,|\,U)`, shape ``(Ni, Ni + k)``."""
        return np.hstack([np.diag(self.sqrt_d), self.U])

    def variances(self) -> np.ndarray:
        r"""The diagonal of :math:`\Sigma`, :math:`d_j+\sum_r U_{jr}^2`, in :math:`O(N_ik)`."""
        return self.d + np.einsum("jr,jr->j", self.U, self.U)

    def whiten(self, W: np.ndarray) -> np.ndarray:
        r""":math:`\tilde W=WF=(WD^{1/2}\,|\,WU)`, shape ``(Nh, Ni + k)``."""
        return np.concatenate([W * self.sqrt_d, W @ self.U], axis=-1)

    def place(self, M: np.ndarray) -> np.ndarray:
        r""":math:`MF^\top=M_{:,:N_i}D^{1/2}+M_{:,N_i:}U^\top` (back from the :math:`N_i+k` whitened inputs)."""
        n = self.n_in
        return M[..., :n] * self.sqrt_d + M[..., n:] @ self.U.T

    def map_gradient(self, g: np.ndarray, n_hidden: int, n_in: int) -> np.ndarray:
        r""":math:`Jg` for a gradient of the whitened network ordered :math:`(\mathrm{vec}\,\tilde W, v)`."""
        g = np.asarray(g, dtype=float)
        m = n_hidden * (n_in + self.rank)
        W_part = self.place(g[:m].reshape(n_hidden, n_in + self.rank)).ravel()
        return np.concatenate([W_part, g[m:]])

    def __repr__(self) -> str:
        return f"LowRankPlusDiagonal(n_in={self.n_in}, rank={self.rank})"
