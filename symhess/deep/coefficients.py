r"""Exact and float expected Hessians of deep polynomial networks: the Jacobian of :math:`\theta\mapsto` coefficients.

Place in the package: the deep-network family (NumPy and python-flint).

With polynomial activations :math:`\sigma_l(z)=\sum_kc_{l,k}z^k` of degrees :math:`d_l`, every output
:math:`f_k` is a polynomial of degree :math:`\le D=\prod_{l<L}d_l` in :math:`x`, and so is every
derivative :math:`\partial f_k/\partial\theta_p`. Back-propagation on polynomials gives them all at
once:

.. math::

    a_0=x,\quad h_l=W_la_{l-1},\quad a_l=\sigma_l(h_l),\qquad
    \delta_L^{(k)}=e_k,\quad \delta_{l}^{(k)}=\sigma_l'(h_l)\odot W_{l+1}^\top\delta_{l+1}^{(k)},\qquad
    \frac{\partial f_k}{\partial (W_l)_{ij}} = \delta^{(k)}_{l,i}\,a_{l-1,j},

every product a product of polynomials (:class:`~symhess.deep.polynomials.PolynomialSpace`). The
coefficient Jacobian :math:`J_k` (monomials :math:`\times P`) then gives the expected Hessian at the
optimum exactly,

.. math::

    H = E_x[J^\top J] = \sum_k E[\nabla f_k\nabla f_k^\top] = \sum_k J_k^\top G J_k
      = \sum_k (TJ_k)^\top\operatorname{diag}(\beta!)(TJ_k),

(:math:`T` the integer monomial-to-Hermite matrix), and its rank is the rank of the stacked
:math:`[TJ_1;\dots;TJ_{N_L}]` (:math:`G\succ0`): the dimension of the neurovariety's tangent space.

**Deep linear networks** (all :math:`\sigma_l=z`): :math:`f=Ax`, :math:`A=W_L\cdots W_1`, and with
:math:`E[xx^\top]=I`, :math:`H_{pq}=\operatorname{tr}(\partial_pA^\top\partial_qA)`, i.e.
:math:`H=D^\top D` with :math:`D=\partial\operatorname{vec}A/\partial\theta`,

.. math::

    \frac{\partial A}{\partial(W_l)_{ij}} = (W_L\cdots W_{l+1})_{:,i}\,(W_{l-1}\cdots W_1)_{j,:}
    \qquad(\text{empty products} = I).
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from ..errors import InvalidParameterError, NoClosedFormError, NotRationalError
from ..linalg.rationals import to_fmpq, to_fmpq_mat
from .polynomials import PolynomialSpace
from .weights import as_deep_biases, as_deep_weights, layer_activations, rational_deep_weights, widths_of

__all__ = [
    "polynomial_coefficients", "network_degree", "DeepCoefficientJacobian", "deep_coefficient_jacobian",
    "linear_jacobian", "deep_linear_hessian",
]


def polynomial_coefficients(act, exact: bool) -> tuple:
    """``(c_0, ..., c_n)`` of a polynomial activation, as ``fmpq`` (exact) or floats."""
    if not act.is_polynomial:
        raise NoClosedFormError(
            f"{act.spec!r} is not a polynomial: the deep network is no polynomial in x and its expected Hessian "
            "has no closed form. Use deep_hessian_estimate (quasi-Monte Carlo with an error estimate) or "
            "deep_hessian_rank (rank from gradients at points, certified in ball arithmetic)")
    coeffs = act.polynomial_coeffs()
    if not exact:
        return tuple(float(c) for c in coeffs)
    out = []
    for k, c in enumerate(coeffs):
        try:
            out.append(to_fmpq(c, f"coefficient c_{k} of {act.spec}"))
        except NotRationalError as exc:
            raise NotRationalError(f"coefficient c_{k} = {c} of {act.spec!r} is not rational; the exact route "
                                   "needs rational activation parameters (e.g. 'quadratic:eps=1/2')") from exc
    return tuple(out)


def network_degree(acts) -> int:
    r""":math:`D=\prod_l\deg\sigma_l`, the degree of the network polynomial."""
    D = 1
    for a in acts:
        D *= max(int(a.degree), 1)
    return D


@dataclass
class DeepCoefficientJacobian:
    r"""Coefficient Jacobians :math:`J_k` of a deep polynomial network.

    Attributes
    ----------
    J : ndarray, shape (N_L, M, P)
        :math:`\partial(\text{coefficient of }x^\alpha\text{ in }f_k)/\partial\theta_p`; ``fmpq`` objects or floats.
    space : PolynomialSpace
        The monomials (:math:`M` of them, degree :math:`\le D`).
    exact : bool
    """

    J: np.ndarray
    space: PolynomialSpace
    exact: bool

    @property
    def n_params(self) -> int:
        return int(self.J.shape[2])

    def hermite(self) -> np.ndarray:
        r"""Stacked :math:`[TJ_1;\dots;TJ_{N_L}]` (exact integers/rationals), shape ``(N_L*M, P)``."""
        T = self.space.hermite_matrix()
        if not self.exact:
            T = T.astype(float)
        return np.concatenate([T.dot(Jk) for Jk in self.J], axis=0)

    def factor(self) -> np.ndarray:
        r"""Float :math:`F` with :math:`H=F^\top F`: stacked :math:`\Lambda TJ_k` (orthonormal Hermite coefficients)."""
        R = self.space.orthonormal_matrix()
        J = self.J.astype(float) if self.exact else self.J
        return np.concatenate([R @ Jk for Jk in J], axis=0)

    def hessian(self):
        r""":math:`H=\sum_kJ_k^\top GJ_k` (``flint.fmpq_mat`` when exact, else a float array)."""
        if not self.exact:
            F = self.factor()
            return F.T @ F
        C = self.hermite()
        w = np.tile(self.space.hermite_norms(), self.J.shape[0])
        keep = np.array([any(x != 0 for x in row) for row in C], dtype=bool)
        C = C[keep]
        Cm = to_fmpq_mat(C)
        Wm = to_fmpq_mat(np.array(w[keep], dtype=object)[:, None] * C)
        return Cm.transpose() * Wm

    def fmpq_mat(self) -> flint.fmpq_mat:
        """The stacked Hermite coefficient Jacobian as an exact matrix (same rank as :math:`H`)."""
        if not self.exact:
            raise InvalidParameterError("this Jacobian is floating point; build it with exact=True")
        C = self.hermite()
        keep = np.array([any(x != 0 for x in row) for row in C], dtype=bool)
        return to_fmpq_mat(C[keep] if keep.any() else C[:1])


def deep_coefficient_jacobian(act, weights, *, exact: bool = True, biases=None) -> DeepCoefficientJacobian:
    r"""Coefficient Jacobians of a deep polynomial network by back-propagation on polynomials.

    Parameters
    ----------
    act : str, Activation or sequence
        Polynomial activation(s), one for all hidden layers or one per hidden layer.
    weights : list of array_like
        ``[W_1, ..., W_L]``; rational entries when ``exact``.
    exact : bool
        Exact rationals (``flint.fmpq``) or float64.
    biases : list, optional
        ``[b_1, ..., b_L]``, ``None`` for a layer without bias (:func:`~symhess.deep.weights.as_deep_biases`):
        :math:`h_l=W_la_{l-1}+b_l`, and :math:`\partial f_k/\partial(b_l)_i=\delta^{(k)}_{l,i}`; the bias columns
        follow all weight columns, in layer order.

    Examples
    --------
    >>> jac = deep_coefficient_jacobian("poly:coeffs=[0,1]", [[[1, 2]], [[3]]])
    >>> jac.J.shape   # f = 3 (x1 + 2 x2)^2: one output, 6 monomials of degree <= 2, 3 parameters
    (1, 6, 3)
    """
    Ws = rational_deep_weights(weights) if exact else as_deep_weights(weights)
    widths = widths_of(Ws)
    L = len(Ws)
    acts = layer_activations(act, L)
    bs = as_deep_biases(biases, widths, exact=exact)
    coeffs = [polynomial_coefficients(a, exact) for a in acts]
    dcoeffs = [tuple(k * c for k, c in enumerate(cs))[1:] or (0 * cs[0],) for cs in coeffs]
    D = network_degree(acts)
    space = PolynomialSpace(widths[0], D)
    dtype = object if exact else float
    one = flint.fmpq(1) if exact else 1.0
    a = space.variables(dtype, one)
    acts_out, slopes = [a], []
    for l in range(L - 1):
        h = np.tensordot(Ws[l], a, axes=(1, 0))
        if bs[l] is not None:
            h[:, 0] = h[:, 0] + bs[l]
        slopes.append(space.compose(dcoeffs[l], h))
        a = space.compose(coeffs[l], h)
        acts_out.append(a)
    NL = widths[-1]
    delta = space.constant(0 * one, (NL, NL), dtype)
    for k in range(NL):
        delta[k, k, 0] = one
    blocks, bias_blocks = [], []
    for l in range(L - 1, -1, -1):
        prev = acts_out[l]  # a_{l} in 0-based: input of layer l+1
        g = space.mul(delta[:, :, None, :], prev[None, None, :, :])  # (NL, N_{l+1}, N_l, M)
        blocks.append(g.reshape(NL, -1, space.size))
        if bs[l] is not None:  # df/db_{l+1} = delta at the pre-activation h_{l+1}
            bias_blocks.append(delta.copy())
        if l > 0:
            back = np.tensordot(delta, Ws[l], axes=([1], [0]))  # (NL, M, N_l)
            back = np.moveaxis(back, 2, 1)
            delta = space.mul(slopes[l - 1][None, :, :], back)
    J = np.concatenate(blocks[::-1] + bias_blocks[::-1], axis=1)  # (NL, P, M)
    return DeepCoefficientJacobian(np.ascontiguousarray(np.swapaxes(J, 1, 2)), space, exact)


def _products(Ws, one):
    L = len(Ws)
    left = [None] * (L + 1)  # left[l] = W_L ... W_{l+1}  (N_L x N_l)
    right = [None] * (L + 1)  # right[l] = W_{l} ... W_1  (N_l x N_0)
    NL, N0 = Ws[-1].shape[0], Ws[0].shape[1]

    def eye(n):
        I = np.zeros((n, n), dtype=Ws[0].dtype)
        if I.dtype == object:
            I[...] = 0 * one
        for i in range(n):
            I[i, i] = one
        return I

    left[L] = eye(NL)
    for l in range(L - 1, -1, -1):
        left[l] = left[l + 1].dot(Ws[l])
    right[0] = eye(N0)
    for l in range(1, L + 1):
        right[l] = Ws[l - 1].dot(right[l - 1])
    return left, right


def linear_jacobian(weights, *, exact: bool = False) -> np.ndarray:
    r""":math:`D=\partial\operatorname{vec}(W_L\cdots W_1)/\partial\theta`, shape ``(N_L*N_0, P)`` (row-major vec)."""
    Ws = rational_deep_weights(weights) if exact else as_deep_weights(weights)
    one = flint.fmpq(1) if exact else 1.0
    left, right = _products(Ws, one)
    cols = []
    for l in range(1, len(Ws) + 1):
        Lm, Rm = left[l], right[l - 1]  # N_L x N_l, N_{l-1} x N_0
        blk = Lm[:, None, :, None] * Rm.T[None, :, None, :]  # (N_L, N_0, N_l, N_{l-1}) -> vec A by W_l[i, j]
        cols.append(blk.reshape(Lm.shape[0] * Rm.shape[1], -1))
    return np.concatenate(cols, axis=1)


def deep_linear_hessian(weights, *, exact: bool = False):
    r"""Closed-form expected Hessian of a deep linear network, :math:`H=D^\top D` (see the module docstring).

    Examples
    --------
    >>> deep_linear_hessian([[[1, 0]], [[2]]], exact=True)   # f = 2 x_1: theta = (w_11, w_12, v)
    [4, 0, 2]
    [0, 4, 0]
    [2, 0, 1]
    """
    D = linear_jacobian(weights, exact=exact)
    if exact:
        Dm = to_fmpq_mat(D)
        return Dm.transpose() * Dm
    return D.T @ D
