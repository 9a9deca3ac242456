r"""Certified rank of a rational matrix: flint's fraction-free elimination or a multimodular proof.

Place in the package: engine, numeric linear algebra (python-flint integer matrices; no SymPy).

Rows are first scaled to coprime integers (row scaling does not change the rank). Then:

* **one prime** — :math:`\operatorname{rank}_p Z \le \operatorname{rank}_{\mathbb Q} Z` for any prime
  :math:`p` (a minor that is nonzero modulo :math:`p` is a nonzero integer). If the rank modulo a
  word-size prime is already the number of nonzero rows/columns, it is proved. ``certify=False``
  stops here with a certified lower bound (the rank with overwhelming probability).
* **fraction-free** (default, ``method="auto"``) — otherwise python-flint's exact ``fmpz_mat.rank``
  (fraction-free elimination over :math:`\mathbb Z`). Measured in ``benchmarks/bench_rank.py`` it is
  faster than the multimodular proof below at every size tried (up to :math:`P=506`).
* **multimodular** (``method="multimodular"``, kept as an independent second proof) — with
  :math:`r=\max_p\operatorname{rank}_p Z` over primes :math:`p_1,\dots,p_k`, every
  :math:`(r+1)`-minor :math:`D` is divisible by :math:`p_1\cdots p_k`; by Hadamard's inequality
  :math:`|D|\le B_{r+1}`, the product of the :math:`r+1` largest row (or column) norms, so once
  :math:`p_1\cdots p_k > B_{r+1}` every such minor is zero and the rank is exactly :math:`r`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import flint
import numpy as np

from .rationals import rational_array, to_fmpq_mat

__all__ = ["ExactRank", "exact_rank", "integer_rows", "word_primes", "EXACT_RANK_METHODS"]

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
        True: the rank is exact (fraction-free elimination, the Hadamard argument, or the shape).
        False: only ``rank <= true rank`` is proved (``certify=False`` or ``max_primes`` reached).
    n_primes : int
        Word-size primes used.
    bits_used, bits_needed : float
        :math:`\log_2\prod p` and :math:`\log_2 B_{r+1}` (0 when the shape decided).
    proof : str
        ``"one prime"`` (full rank modulo a prime, or the lower bound of ``certify=False``),
        ``"fraction-free"`` (flint's exact ``fmpz_mat.rank``) or ``"multimodular"`` (Hadamard bound).
    """

    rank: int
    shape: tuple
    certified: bool
    n_primes: int
    bits_used: float
    bits_needed: float
    proof: str = "multimodular"

    def __int__(self) -> int:
        return self.rank

    @property
    def method(self) -> str:
        if self.proof == "fraction-free":
            return "exact rank by fraction-free elimination over Z (python-flint fmpz_mat.rank)"
        if self.proof == "one prime":
            how = "exact: full rank" if self.certified else "certified lower bound"
            return f"rank modulo one word-size prime ({how})"
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


#: proofs of the exact rank
EXACT_RANK_METHODS = ("auto", "fraction-free", "multimodular")


def exact_rank(M, *, certify: bool = True, method: str = "auto", max_primes: int = 100_000) -> ExactRank:
    r"""Rank over :math:`\mathbb Q` of a rational matrix, proved (see the module docstring).

    Parameters
    ----------
    M : flint.fmpq_mat, flint.fmpz_mat or 2-D array of rationals
        The matrix.
    certify : bool
        True (default): prove the rank. False: one prime, which gives a certified lower bound (and the
        exact rank with overwhelming probability).
    method : {"auto", "fraction-free", "multimodular"}
        How to prove it when one prime does not: flint's fraction-free elimination (``"auto"``) or
        primes up to the Hadamard bound.
    max_primes : int
        Safety cap of the multimodular proof; if reached the result is a certified lower bound.

    Examples
    --------
    >>> import flint
    >>> exact_rank(flint.fmpq_mat([[1, 2], [2, 4]])).rank
    1
    >>> exact_rank(flint.fmpq_mat([[1, 2], [2, 4]]), method="multimodular").rank
    1
    """
    if method not in EXACT_RANK_METHODS:
        raise ValueError(f"method={method!r} is unknown; choose one of {EXACT_RANK_METHODS}")
    Z = integer_rows(M)
    m, n = Z.nrows(), Z.ncols()
    if m == 0 or n == 0:
        return ExactRank(0, (m, n), True, 0, 0.0, 0.0, "one prime")
    primes = word_primes()
    p = next(primes)
    r = flint.nmod_mat(Z, p).rank()
    mask = np.array([x != 0 for x in Z.entries()], dtype=bool).reshape(m, n)
    nonzero = int(min(mask.any(axis=1).sum(), mask.any(axis=0).sum()))
    if r >= nonzero:  # the rank cannot exceed the number of nonzero rows / columns
        return ExactRank(r, (m, n), True, 1, float(np.log2(float(p))), 0.0, "one prime")
    if not certify:
        return ExactRank(r, (m, n), False, 1, float(np.log2(float(p))), 0.0, "one prime")
    if method in ("auto", "fraction-free"):
        return ExactRank(int(Z.rank()), (m, n), True, 1, float(np.log2(float(p))), 0.0, "fraction-free")
    rowbits, colbits = _norm_bits(Z)
    used, k = float(np.log2(float(p))), 1
    while True:
        need = min(sum(rowbits[: r + 1]), sum(colbits[: r + 1]))
        if used > need + 1.0:  # one spare bit against rounding in the float logarithms
            return ExactRank(r, (m, n), True, k, used, need)
        if k >= max_primes:
            return ExactRank(r, (m, n), False, k, used, need)
        p = next(primes)
        r = max(r, flint.nmod_mat(Z, p).rank())
        used += float(np.log2(float(p)))
        k += 1
        if r >= nonzero:
            return ExactRank(r, (m, n), True, k, used, 0.0)
