r"""Certified rank of a rational matrix: multimodular, deterministic, with a Hadamard-bound proof.

Place in the pipeline: layer 6 (python-flint integer matrices; no SymPy).

Fraction-free elimination over :math:`\mathbb Z` (``fmpz_mat.rank``) costs about 40 s for a
:math:`506\times506` Hessian because the entries grow to thousands of bits. Ranks modulo word-size
primes cost milliseconds, and two facts turn them into a proof:

1. **Lower bound.** For an integer matrix :math:`Z` and any prime :math:`p`,
   :math:`\operatorname{rank}_p Z \le \operatorname{rank}_{\mathbb Q} Z`: a minor that is nonzero
   modulo :math:`p` is a nonzero integer.
2. **Upper bound.** Let :math:`r = \max_p \operatorname{rank}_p Z` over primes
   :math:`p_1,\dots,p_k`. Every :math:`(r+1)`-minor :math:`D` of :math:`Z` vanishes modulo every
   :math:`p_l`, so :math:`p_1\cdots p_k \mid D`. By Hadamard's inequality
   :math:`|D| \le \prod_{\text{its rows}}\lVert z_i\rVert \le B_{r+1}`, the product of the
   :math:`r+1` largest row norms (or column norms, whichever is smaller). Once
   :math:`p_1\cdots p_k > B_{r+1}`, every :math:`(r+1)`-minor is zero and
   :math:`\operatorname{rank}_{\mathbb Q} Z = r` exactly.

Rows are scaled to coprime integers first (row scaling does not change the rank), which keeps
:math:`B_{r+1}` small. The number of primes is about :math:`\log_2 B_{r+1}/64`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import flint
import numpy as np

__all__ = ["ExactRank", "exact_rank", "integer_rows", "word_primes"]

_TOP = (1 << 64) - 1


@lru_cache(maxsize=1)
def _prime_cache() -> list[int]:
    return []


def word_primes():
    """The primes below :math:`2^{64}`, largest first (a deterministic, cached sequence)."""
    cache = _prime_cache()
    k = 0
    cand = _TOP
    while True:
        if k < len(cache):
            yield cache[k]
            cand = cache[k] - 2
            k += 1
            continue
        while not flint.fmpz(cand).is_prime():
            cand -= 2
        cache.append(cand)


@dataclass(frozen=True)
class ExactRank:
    r"""Rank of a rational matrix and how it was proved.

    Attributes
    ----------
    rank : int
        :math:`\operatorname{rank}_{\mathbb Q}` when ``certified``, else a certified lower bound.
    shape : tuple
        Matrix shape.
    certified : bool
        True: the rank is exact (upper bound proved by the Hadamard argument or by the shape).
        False: only ``rank <= true rank`` is proved (``certify=False`` or ``max_primes`` reached).
    n_primes : int
        Word-size primes used.
    bits_used, bits_needed : float
        :math:`\log_2\prod p` and :math:`\log_2 B_{r+1}` (0 when the shape decided).
    """

    rank: int
    shape: tuple
    certified: bool
    n_primes: int
    bits_used: float
    bits_needed: float

    def __int__(self) -> int:
        return self.rank

    @property
    def method(self) -> str:
        how = "exact" if self.certified else "certified lower bound"
        return (f"rank mod {self.n_primes} word-size primes ({how}; Hadamard bound 2^{self.bits_needed:.0f}, "
                f"prime product 2^{self.bits_used:.0f})")


def integer_rows(M) -> flint.fmpz_mat:
    """An integer matrix with the rank of ``M``: each row scaled to coprime integers.

    ``M`` may be a ``flint.fmpq_mat``, ``flint.fmpz_mat`` or a 2-D array of rationals.
    """
    if isinstance(M, flint.fmpz_mat):
        rows, cols = M.nrows(), M.ncols()
        data = [int(x) for x in M.entries()]
        nums = [data[i * cols:(i + 1) * cols] for i in range(rows)]
        dens = None
    else:
        if not isinstance(M, flint.fmpq_mat):
            from ..kernels.exact import rational_array, to_fmpq_mat

            arr = rational_array(M, "matrix")
            if arr.ndim != 2:
                raise ValueError(f"expected a 2-D matrix, got shape {arr.shape}")
            M = to_fmpq_mat(arr)
        rows, cols = M.nrows(), M.ncols()
        ent = M.entries()
        nums = [[int(x.p) for x in ent[i * cols:(i + 1) * cols]] for i in range(rows)]
        dens = [[int(x.q) for x in ent[i * cols:(i + 1) * cols]] for i in range(rows)]
    out = []
    for i in range(rows):
        row = nums[i]
        if dens is not None:
            den = 1
            for q in dens[i]:
                den = den * q // gcd(den, q)
            row = [p * (den // q) for p, q in zip(row, dens[i])]
        g = 0
        for p in row:
            g = gcd(g, p)
        out.append([p // g for p in row] if g > 1 else row)
    return flint.fmpz_mat(out) if rows and cols else flint.fmpz_mat(rows, cols)


def _norm_bits(Z: flint.fmpz_mat) -> tuple[list[float], list[float]]:
    """Upper bounds on :math:`\\log_2` of the nonzero row and column norms, largest first."""
    rows, cols = Z.nrows(), Z.ncols()
    data = np.array([int(x) for x in Z.entries()], dtype=object).reshape(rows, cols)
    sq = data * data
    def bits(sums):
        return sorted((0.5 * int(s).bit_length() for s in sums if s != 0), reverse=True)
    return bits(sq.sum(axis=1)), bits(sq.sum(axis=0))


def exact_rank(M, *, certify: bool = True, max_primes: int = 100_000) -> ExactRank:
    r"""Rank over :math:`\mathbb Q` of a rational matrix, proved (see the module docstring).

    Parameters
    ----------
    M : flint.fmpq_mat, flint.fmpz_mat or 2-D array of rationals
        The matrix.
    certify : bool
        True (default): add primes until the rank is proved exactly. False: one prime, which gives a
        certified lower bound (and the exact rank with overwhelming probability).
    max_primes : int
        Safety cap; if reached the result is a certified lower bound (``certified=False``).

    Examples
    --------
    >>> import flint
    >>> exact_rank(flint.fmpq_mat([[1, 2], [2, 4]])).rank
    1
    """
    Z = integer_rows(M)
    m, n = Z.nrows(), Z.ncols()
    if m == 0 or n == 0:
        return ExactRank(0, (m, n), True, 0, 0.0, 0.0)
    rowbits, colbits = _norm_bits(Z)
    nonzero = min(len(rowbits), len(colbits))
    r, used, k = 0, 0.0, 0
    need = 0.0
    for p in word_primes():
        r = max(r, flint.nmod_mat(Z, p).rank())
        used += np.log2(float(p))
        k += 1
        if r >= nonzero:  # the rank cannot exceed the number of nonzero rows / columns
            return ExactRank(r, (m, n), True, k, used, 0.0)
        need = min(sum(rowbits[: r + 1]), sum(colbits[: r + 1]))
        if used > need + 1.0:  # one spare bit against rounding in the float logarithms
            return ExactRank(r, (m, n), True, k, used, need)
        if not certify or k >= max_primes:
            return ExactRank(r, (m, n), False, k, used, need)
    raise AssertionError("unreachable")  # pragma: no cover
