r"""Dense polynomials in :math:`x\in\mathbb R^n` of total degree :math:`\le D`, and their Gaussian inner products.

Place in the package: the deep-network family (NumPy and python-flint; no SymPy). A polynomial is the
vector of its coefficients on the monomials :math:`x^\alpha`, :math:`|\alpha|\le D` (ordered by degree,
then reverse-lexicographically); arrays of polynomials carry the monomial index last, with float or
``flint.fmpq`` object entries.

**Products.** :math:`(pq)_\gamma=\sum_{\alpha+\beta=\gamma}p_\alpha q_\beta`, over the pairs with
:math:`|\alpha|+|\beta|\le D` (a product whose degree exceeds :math:`D` is never formed: every product
taken by the network routes is a factor of the degree-:math:`D` output polynomial or its gradient).

**Hermite coefficients.** With the probabilists' Hermite polynomials :math:`He_k` (orthogonal under
:math:`N(0,1)`, :math:`E[He_jHe_k]=k!\,\delta_{jk}`) and

.. math::

    x^n = \sum_{k\equiv n\ (2)} \frac{n!}{k!\,((n-k)/2)!\,2^{(n-k)/2}}\,He_k(x),

the coefficients of a polynomial in the tensor basis :math:`He_\beta(x)=\prod_jHe_{\beta_j}(x_j)` are
:math:`c = Tp` with an integer matrix :math:`T`, and for :math:`x\sim N(0,I)`

.. math::

    E[p(x)q(x)] = \sum_\beta \beta!\,c_\beta(p)\,c_\beta(q) = p^\top G q,\qquad G = T^\top\operatorname{diag}(\beta!)\,T,
    \qquad G_{\alpha\alpha'} = E[x^{\alpha+\alpha'}].

So :math:`E[\nabla f\nabla f^\top] = C^\top\operatorname{diag}(\beta!)\,C` with :math:`C=TJ` exactly (rational
entries), and :math:`=(\Lambda C)^\top(\Lambda C)` with :math:`\Lambda=\operatorname{diag}(\sqrt{\beta!})` in
floats, a Gram matrix of an explicit factor (positive semidefinite by construction).
"""

from __future__ import annotations

from functools import lru_cache
from math import factorial

import numpy as np

__all__ = ["monomials", "PolynomialSpace"]


@lru_cache(maxsize=None)
def monomials(n: int, degree: int) -> np.ndarray:
    r"""Exponents :math:`\alpha\in\mathbb N^n` with :math:`|\alpha|\le` ``degree``, by degree then reverse-lex.

    Examples
    --------
    >>> monomials(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    rows: list[tuple[int, ...]] = []

    def rec(prefix: list[int], left: int, pos: int) -> None:
        if pos == n - 1:
            rows.append(tuple(prefix + [left]))
            return
        for e in range(left, -1, -1):
            rec(prefix + [e], left - e, pos + 1)

    for m in range(degree + 1):
        rec([], m, 0)
    out = np.array(rows, dtype=np.int64).reshape(len(rows), n)
    out.setflags(write=False)
    return out


def _hermite_1d(n: int, k: int) -> int:
    """Coefficient of :math:`He_k` in :math:`x^n`."""
    if k > n or (n - k) % 2:
        return 0
    m = (n - k) // 2
    return factorial(n) // (factorial(k) * factorial(m) * 2**m)


class PolynomialSpace:
    r"""Polynomials in ``n`` variables of degree :math:`\le D`: products, Hermite coefficients, Gaussian Gram.

    Parameters
    ----------
    n : int
        Number of variables.
    degree : int
        :math:`D`.
    """

    def __init__(self, n: int, degree: int) -> None:
        self.n = int(n)
        self.degree = int(degree)
        self.exponents = monomials(self.n, self.degree)
        self.size = int(self.exponents.shape[0])
        self.index = {tuple(r): k for k, r in enumerate(self.exponents.tolist())}

    @property
    def total_degrees(self) -> np.ndarray:
        return self.exponents.sum(axis=1)

    @property
    def _pairs(self):
        if not hasattr(self, "_pair_cache"):
            E = self.exponents
            deg = E.sum(axis=1)
            ia, ib, tgt = [], [], []
            for a in range(self.size):
                ok = np.nonzero(deg + deg[a] <= self.degree)[0]
                sums = E[ok] + E[a]
                ia.extend([a] * len(ok))
                ib.extend(ok.tolist())
                tgt.extend(self.index[tuple(s)] for s in sums.tolist())
            ia, ib, tgt = np.array(ia), np.array(ib), np.array(tgt)
            order = np.argsort(tgt, kind="stable")
            ia, ib, tgt = ia[order], ib[order], tgt[order]
            starts = np.nonzero(np.r_[True, tgt[1:] != tgt[:-1]])[0]
            self._pair_cache = (ia, ib, starts, tgt[starts])
        return self._pair_cache

    def mul(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Products of (broadcast) arrays of polynomials, truncated at degree :math:`D`."""
        ia, ib, starts, targets = self._pairs
        prod = A[..., ia] * B[..., ib]
        sums = np.add.reduceat(prod, starts, axis=-1)
        out = np.zeros(sums.shape[:-1] + (self.size,), dtype=sums.dtype)
        if out.dtype == object:
            out[...] = 0
        out[..., targets] = sums
        return out

    def constant(self, c, shape=(), dtype=float) -> np.ndarray:
        """The constant polynomial ``c`` (array of the given shape)."""
        out = np.zeros(tuple(shape) + (self.size,), dtype=dtype)
        if dtype == object:
            out[...] = 0 * c
        out[..., 0] = c
        return out

    def variables(self, dtype=float, one=1.0) -> np.ndarray:
        """The ``n`` coordinate polynomials :math:`x_j` (shape ``(n, size)``)."""
        out = np.zeros((self.n, self.size), dtype=dtype)
        if dtype == object:
            out[...] = 0 * one
        for j in range(self.n):
            e = [0] * self.n
            e[j] = 1
            out[j, self.index[tuple(e)]] = one
        return out

    def compose(self, coeffs, H: np.ndarray) -> np.ndarray:
        r""":math:`\sum_kc_kH^k` for an array ``H`` of polynomials (Horner), ``coeffs = (c_0, ..., c_n)``."""
        dtype = H.dtype
        acc = self.constant(coeffs[-1], H.shape[:-1], dtype)
        for c in reversed(coeffs[:-1]):
            acc = self.mul(acc, H)
            acc[..., 0] = acc[..., 0] + c
        return acc

    def hermite_matrix(self) -> np.ndarray:
        r"""Integer matrix :math:`T` (object array): Hermite coefficients :math:`c=Tp` of a polynomial :math:`p`."""
        if not hasattr(self, "_T"):
            E = self.exponents
            T = np.ones((self.size, self.size), dtype=object)
            table = [[_hermite_1d(a, b) for a in range(self.degree + 1)] for b in range(self.degree + 1)]
            tab = np.array(table, dtype=object)  # tab[b, a]
            for j in range(self.n):
                T = T * tab[np.ix_(E[:, j], E[:, j])]
            self._T = T
        return self._T

    def hermite_norms(self) -> np.ndarray:
        r""":math:`\beta! = E[He_\beta^2]` for every multi-index (object array of ints)."""
        return np.array([int(np.prod([factorial(int(b)) for b in r])) for r in self.exponents.tolist()], dtype=object)

    def gram(self) -> np.ndarray:
        r""":math:`G_{\alpha\alpha'} = E[x^{\alpha+\alpha'}]`, :math:`x\sim N(0,I)` (object array of ints)."""
        T = self.hermite_matrix()
        return T.T.dot(self.hermite_norms()[:, None] * T)

    def orthonormal_matrix(self) -> np.ndarray:
        r""":math:`\Lambda T` in floats: coefficients in the orthonormal basis :math:`He_\beta/\sqrt{\beta!}`."""
        T = self.hermite_matrix().astype(float)
        return np.sqrt(self.hermite_norms().astype(float))[:, None] * T
