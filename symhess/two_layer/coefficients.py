r"""Route (b) of the exact rank: the Jacobian of :math:`\theta\mapsto` (coefficients of :math:`f` in :math:`x`).

Place in the package: the two-layer teacher-student family (NumPy and python-flint; no SymPy, no pair formulas).

For a polynomial activation :math:`\sigma(z)=\sum_{k=0}^n c_kz^k` the network
:math:`f(x)=\sum_i v_i\,\sigma(w_i\cdot x + b_i) + b_0` is a polynomial of degree :math:`\le n` in
:math:`x`. By Taylor's formula and the multinomial theorem its coefficient on the monomial
:math:`x^\alpha` (:math:`|\alpha| = m`) is

.. math::

    F_\alpha(\theta) = \sum_i v_i\,s_m(b_i)\,\binom{m}{\alpha}\,w_i^\alpha + b_0[\alpha=0],\qquad
    s_m(b) = \frac{\sigma^{(m)}(b)}{m!} = \sum_{k\ge m} c_k\binom{k}{m}b^{k-m},

(:math:`s_m = c_m` without hidden biases), so its Jacobian :math:`J_{\alpha\theta}=\partial F_\alpha/\partial\theta`
has the closed entries

.. math::

    \frac{\partial F_\alpha}{\partial W_{ij}} = v_i s_m(b_i)\tbinom{m}{\alpha}\alpha_j w_i^{\alpha-e_j},\quad
    \frac{\partial F_\alpha}{\partial v_i} = s_m(b_i)\tbinom{m}{\alpha}w_i^{\alpha},\quad
    \frac{\partial F_\alpha}{\partial b_i} = v_i(m+1)s_{m+1}(b_i)\tbinom{m}{\alpha}w_i^{\alpha},\quad
    \frac{\partial F_\alpha}{\partial b_0} = [\alpha = 0].

With :math:`\phi(x)` the vector of monomials, :math:`\nabla_\theta f = J^\top\phi(x)` and the expected
Hessian at the optimum is

.. math::

    H = E_x[\nabla_\theta f\,\nabla_\theta f^\top] = J^\top G J,\qquad G_{\alpha\beta} = E[x^{\alpha+\beta}]
      = \prod_j (\alpha_j+\beta_j-1)!!\ \ (0 \text{ if any } \alpha_j+\beta_j \text{ is odd}).

:math:`G` is the Gram matrix of linearly independent functions in :math:`L^2(N(0,I))`, hence
positive definite, so :math:`\operatorname{rank}H = \operatorname{rank}J`: the rank of the
(much smaller, :math:`M\times P`) Jacobian is the Hessian rank. Parameter order:
:math:`\theta = (W\text{ row-major}, v, b_1..b_{N_h}, b_0)` as in :class:`symhess.TwoLayerNet`.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb, factorial

import flint
import numpy as np

from ..activations import ActivationLike, activation as get_activation
from ..errors import ShapeError
from ..linalg.rationals import rational_array, to_fmpq, to_fmpq_mat
from .exact import rational_coefficients, rational_weights

__all__ = [
    "monomial_exponents", "monomial_gram", "coefficient_jacobian", "coefficient_vector", "jacobian_hessian",
    "CoefficientJacobian",
]


@lru_cache(maxsize=None)
def _exponents(n_in: int, degrees: tuple[int, ...]) -> np.ndarray:
    rows: list[tuple[int, ...]] = []

    def rec(prefix: list[int], left: int, pos: int) -> None:
        if pos == n_in - 1:
            rows.append(tuple(prefix + [left]))
            return
        for e in range(left, -1, -1):
            rec(prefix + [e], left - e, pos + 1)

    for m in degrees:
        rec([], m, 0)
    out = np.array(rows, dtype=np.int64).reshape(len(rows), n_in)
    out.setflags(write=False)
    return out


def monomial_exponents(n_in: int, degrees) -> np.ndarray:
    r"""Exponent vectors :math:`\alpha` of all monomials in ``n_in`` variables with :math:`|\alpha|` in ``degrees``.

    Ordered by degree, then reverse-lexicographically (:math:`x_1^m` first). There are
    :math:`\binom{N_i+m-1}{m}` monomials of degree :math:`m`.

    Examples
    --------
    >>> monomial_exponents(2, [1, 2]).tolist()
    [[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    return _exponents(int(n_in), tuple(int(m) for m in degrees))


def _gaussian_moment(n: int) -> int:
    """:math:`E[x^n]` for :math:`x\\sim N(0,1)`: :math:`(n-1)!!` for even :math:`n`, else 0."""
    if n % 2:
        return 0
    out = 1
    for k in range(n - 1, 0, -2):
        out *= k
    return out


def monomial_gram(exponents: np.ndarray) -> np.ndarray:
    r"""Integer Gram matrix :math:`G_{\alpha\beta}=E[x^{\alpha+\beta}]`, :math:`x\sim N(0,I)` (object array of ints)."""
    E = np.asarray(exponents, dtype=np.int64)
    S = E[:, None, :] + E[None, :, :]
    table = [_gaussian_moment(n) for n in range(int(S.max(initial=0)) + 1)]
    G = np.ones(S.shape[:2], dtype=object)
    for j in range(E.shape[1]):
        G = G * np.array(table, dtype=object)[S[:, :, j]]
    return G


class CoefficientJacobian:
    r"""The Jacobian :math:`J` (``M x P``) of the coefficient map and its monomials.

    Attributes
    ----------
    J : ndarray
        Object array of ``fmpq`` (exact) or float array.
    exponents : ndarray, shape (M, Ni)
        The monomial of each row.
    n_params : int
        :math:`P` (columns), ordered :math:`(W, v, b, b_0)`.
    """

    def __init__(self, J: np.ndarray, exponents: np.ndarray, exact: bool) -> None:
        self.J = J
        self.exponents = exponents
        self.exact = exact

    @property
    def n_params(self) -> int:
        return int(self.J.shape[1])

    def fmpq_mat(self) -> flint.fmpq_mat:
        """``J`` as a ``flint.fmpq_mat`` (exact only)."""
        if not self.exact:
            raise ValueError("this Jacobian is floating point; build it with exact=True")
        return to_fmpq_mat(self.J)

    def gram(self) -> np.ndarray:
        """The Gram matrix :math:`G` of the monomials (object array of ints)."""
        return monomial_gram(self.exponents)

    def hessian(self):
        r""":math:`H = J^\top G J` (``flint.fmpq_mat`` if exact, else a float ndarray)."""
        G = self.gram()
        if self.exact:
            Jm = self.fmpq_mat()
            Gm = flint.fmpq_mat(G.shape[0], G.shape[1], [flint.fmpq(int(x)) for x in G.ravel().tolist()])
            return Jm.transpose() * Gm * Jm
        Gf = G.astype(float)
        return self.J.T @ Gf @ self.J


def _taylor_table(coeffs, b: np.ndarray | None, Nh: int, n: int, one) -> list:
    r"""``S[m][i]`` = :math:`s_m(b_i)` for ``m = 0..n+1`` (object or float arrays)."""
    S = []
    for m in range(n + 2):
        if b is None:
            val = coeffs[m] if m <= n else 0 * one
            S.append(np.full(Nh, val, dtype=object if isinstance(one, flint.fmpq) else float))
            continue
        acc = np.full(Nh, 0 * one, dtype=object if isinstance(one, flint.fmpq) else float)
        for k in range(n, m - 1, -1):  # Horner in b
            acc = acc * b + comb(k, m) * coeffs[k]
        S.append(acc)
    return S


def _active_degrees(coeffs, hidden_bias: bool, output_bias: bool) -> tuple[int, ...]:
    n = len(coeffs) - 1
    nz = [k for k, cf in enumerate(coeffs) if cf != 0]
    if hidden_bias:  # degree m appears iff some c_k != 0 with k >= m
        top = max(nz)
        degs = list(range(0, top + 1))
    else:
        degs = nz
    if output_bias and 0 not in degs:
        degs = [0] + degs
    return tuple(sorted(set(d for d in degs if d <= n)))


def coefficient_jacobian(
    act: ActivationLike,
    W: object,
    v: object,
    *,
    hidden_bias: object = None,
    output_bias: object = None,
    exact: bool = True,
) -> CoefficientJacobian:
    r"""Jacobian of :math:`\theta\mapsto` the coefficients of the network polynomial (see the module docstring).

    Parameters
    ----------
    act : str or Activation
        Polynomial activation with rational coefficients.
    W, v : array_like
        Weights, shapes ``(Nh, Ni)`` and ``(Nh,)``; rational when ``exact``.
    hidden_bias : array_like of shape (Nh,), optional
        Values of the hidden biases :math:`b_i`; given: the network has hidden biases (``Nh`` more columns).
    output_bias : number, optional
        Value of the output bias :math:`b_0`; given: one more column.
    exact : bool
        Exact rationals (``fmpq`` object array) or float64.

    Returns
    -------
    CoefficientJacobian
        Rows: monomials of the degrees that can carry a nonzero coefficient; columns: :math:`(W, v, b, b_0)`.
    """
    act = get_activation(act)
    coeffs_q = rational_coefficients(act) if exact else None
    if not exact:
        from .exact import require_polynomial

        require_polynomial(act, "the coefficient Jacobian")
        coeffs = tuple(float(c) for c in act.polynomial_coeffs())
    else:
        coeffs = coeffs_q
    if exact:
        Wa, va = rational_weights(W, v)
        one = flint.fmpq(1)
    else:
        from ..validation import as_weights

        Wa, va = as_weights(W, v)
        one = 1.0
    Nh, Ni = Wa.shape
    b = None
    if hidden_bias is not None:
        b = rational_array(hidden_bias, "hidden_bias") if exact else np.asarray(hidden_bias, dtype=float)
        if b.shape != (Nh,):
            raise ShapeError(f"hidden_bias must have shape ({Nh},) (one per hidden unit); got {b.shape}")
        if not exact and not np.all(np.isfinite(b)):
            raise ValueError("hidden_bias has non-finite entries")
    if output_bias is not None:
        b0 = to_fmpq(output_bias, "output_bias") if exact else float(output_bias)
        if not exact and not np.isfinite(b0):
            raise ValueError(f"output_bias={output_bias!r} is not finite")
    n = len(coeffs) - 1
    degrees = _active_degrees(coeffs, b is not None, output_bias is not None)
    E = monomial_exponents(Ni, degrees)
    M = E.shape[0]
    deg = E.sum(axis=1)
    top = int(deg.max())
    # monomial values w_i^alpha for every exponent up to the top degree, and alpha - e_j lookups
    allE = monomial_exponents(Ni, tuple(range(top + 1)))
    pos = {tuple(r): k for k, r in enumerate(allE.tolist())}
    dtype = object if exact else float
    powers = np.empty((Nh, Ni, top + 1), dtype=dtype)
    powers[:, :, 0] = one
    for e in range(1, top + 1):
        powers[:, :, e] = powers[:, :, e - 1] * Wa
    allmono = np.ones((Nh, allE.shape[0]), dtype=dtype) * one
    for j in range(Ni):
        allmono = allmono * powers[:, j, allE[:, j]]
    mono = allmono[:, [pos[tuple(r)] for r in E.tolist()]]  # (Nh, M)
    mult = np.array([factorial(int(m)) // int(np.prod([factorial(int(a)) for a in r])) for r, m in zip(E, deg)],
                    dtype=object)
    if not exact:
        mult = mult.astype(float)
    S = _taylor_table(coeffs, b, Nh, n, one)
    Sm = np.stack([S[int(m)] for m in deg], axis=0)  # (M, Nh): s_m(b_i)
    base = Sm * mult[:, None]  # (M, Nh)
    # d/dW_ij: alpha_j * w_i^(alpha - e_j)
    dmono = np.zeros((M, Nh, Ni), dtype=dtype)
    for j in range(Ni):
        has = E[:, j] > 0
        if not has.any():
            continue
        shifted = E[has].copy()
        shifted[:, j] -= 1
        idx = [pos[tuple(r)] for r in shifted.tolist()]
        dmono[has, :, j] = (allmono[:, idx] * E[has, j].astype(dtype)[None, :]).T
    cols = [(base * va[None, :])[:, :, None] * dmono]  # (M, Nh, Ni)
    J_W = cols[0].reshape(M, Nh * Ni)
    J_v = base * mono.T
    blocks = [J_W, J_v]
    if b is not None:
        Sm1 = np.stack([S[int(m) + 1] for m in deg], axis=0) * (deg + 1).astype(dtype)[:, None]
        blocks.append(Sm1 * mult[:, None] * va[None, :] * mono.T)
    if output_bias is not None:
        col = np.array([one if m == 0 else 0 * one for m in deg], dtype=dtype)
        blocks.append(col[:, None])
    J = np.concatenate(blocks, axis=1)
    return CoefficientJacobian(J, E, exact)


def coefficient_vector(
    act: ActivationLike, W: object, v: object, *, hidden_bias: object = None, output_bias: object = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact coefficients :math:`F_\alpha` of the network polynomial and their exponents (for checks).

    Returns ``(F, exponents)`` with ``F`` an object array of ``fmpq`` over the same monomials as
    :func:`coefficient_jacobian`.
    """
    act = get_activation(act)
    coeffs = rational_coefficients(act)
    Wa, va = rational_weights(W, v)
    Nh, Ni = Wa.shape
    b = rational_array(hidden_bias, "hidden_bias") if hidden_bias is not None else None
    degrees = _active_degrees(coeffs, b is not None, output_bias is not None)
    E = monomial_exponents(Ni, degrees)
    S = _taylor_table(coeffs, b, Nh, len(coeffs) - 1, flint.fmpq(1))
    F = np.empty(E.shape[0], dtype=object)
    for r, alpha in enumerate(E.tolist()):
        m = sum(alpha)
        mult = factorial(m) // int(np.prod([factorial(a) for a in alpha]))
        total = flint.fmpq(0)
        for i in range(Nh):
            mono = flint.fmpq(1)
            for j, a in enumerate(alpha):
                mono *= Wa[i, j] ** a
            total += va[i] * S[m][i] * mult * mono
        if m == 0 and output_bias is not None:
            total += to_fmpq(output_bias, "output_bias")
        F[r] = total
    return F, E


def jacobian_hessian(
    act: ActivationLike, W: object, v: object, *, hidden_bias: object = None, output_bias: object = None,
    exact: bool = True,
):
    r"""Expected Hessian at the optimum as :math:`J^\top G J` (exact ``fmpq_mat`` or float ndarray).

    Independent of the pair formulas of :func:`symhess.expected_hessian`; supports biases.
    """
    return coefficient_jacobian(act, W, v, hidden_bias=hidden_bias, output_bias=output_bias, exact=exact).hessian()
