r"""Points on the manifold of global minima of a student wider than its teacher.

Place in the pipeline: layer 2 (NumPy and :mod:`fractions` only).

A teacher :math:`f^\star(x)=\sum_{g=1}^{N_t}v^\star_g\sigma(w^\star_g\cdot x)` and a student with
:math:`N_s\ge N_t` units. The student reproduces the teacher exactly (population loss 0) on the
families described by Şimşek et al. (ICML 2021), which are built here:

* **zero units**: the teacher's units plus :math:`N_s-N_t` units :math:`(u_k, 0)` with output weight
  0 and *any* incoming weights :math:`u_k`;
* **split units**: teacher unit :math:`g` copied :math:`m_g\ge1` times,
  :math:`w_{i}=w^\star_g`, :math:`v_{i}=a_iv^\star_g` with shares :math:`\sum_{i\in g}a_i=1`
  (:math:`\sum_g m_g=N_s`);
* **mixed**: some extra units are zero units, the others split copies;
* any **permutation** of the student's units.

For polynomial activations the set of global minima is larger (every student computing the teacher's
polynomial); the families above are the part shared by every activation.

Exactness. Drawn incoming weights of zero units and drawn shares are dyadic rationals
:math:`k/D` (:math:`D=2^{10}` by default), so with a dyadic teacher (e.g.
:func:`symhess.rational_teacher`) every entry is exactly representable in float64 and the exact
routes over :math:`\mathbb Q` see the same point. A teacher given as an object array of
:class:`fractions.Fraction` gives a point of Fractions; a float teacher gives floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from numbers import Rational

import numpy as np

from ..errors import InvalidParameterError, InvalidTypeError, ShapeError
from .rational import DEFAULT_DENOMINATOR, _check_denominator
from ..validation import as_rng, check_size

__all__ = ["global_minimum", "MinimumStructure", "MINIMUM_KINDS"]

#: the families of global minima :func:`global_minimum` builds
MINIMUM_KINDS = ("zero", "split", "mixed")


@dataclass(frozen=True)
class MinimumStructure:
    r"""Which teacher unit each student unit realises, and with which share.

    Attributes
    ----------
    teacher_unit : ndarray of int, shape (Ns,)
        :math:`g` with :math:`w_i=w^\star_g` for a split (or plain) copy; ``-1`` for a zero unit.
    shares : ndarray, shape (Ns,)
        :math:`a_i` with :math:`v_i=a_iv^\star_g` (0 for zero units); the shares of each teacher unit sum to 1.
    permutation : ndarray of int, shape (Ns,)
        Student unit ``i`` is unit ``permutation[i]`` of the unshuffled construction (teacher copies
        first, in teacher order, then zero units); the identity when not shuffled.
    kind : str
        ``"zero"``, ``"split"``, ``"mixed"`` (or ``"matched"`` when :math:`N_s=N_t`; for detected
        points also ``"other"``, see :func:`symhess.two_layer.minimum_hessian.classify_minimum`).
    """

    teacher_unit: np.ndarray
    shares: np.ndarray
    permutation: np.ndarray
    kind: str

    @property
    def n_hidden(self) -> int:
        return int(self.teacher_unit.size)

    @property
    def zero_units(self) -> np.ndarray:
        """Indices of the zero units."""
        return np.flatnonzero(self.teacher_unit < 0)

    @property
    def n_zero(self) -> int:
        return int(self.zero_units.size)

    def groups(self) -> dict[int, np.ndarray]:
        """Teacher unit -> indices of the student units that copy it."""
        return {int(g): np.flatnonzero(self.teacher_unit == g) for g in np.unique(self.teacher_unit) if g >= 0}

    @property
    def n_split(self) -> int:
        """Number of extra copies :math:`\\sum_g(m_g-1)`."""
        return sum(len(ix) - 1 for ix in self.groups().values())


def _is_exact(x: object) -> bool:
    return isinstance(x, (Rational, int, np.integer)) and not isinstance(x, bool)


def _as_teacher(W_teacher: object, v_teacher: object) -> tuple[np.ndarray, np.ndarray, bool]:
    """Teacher as float arrays, or as object arrays of Fraction when every entry is an exact rational."""
    Wo = np.asarray(W_teacher, dtype=object)
    vo = np.asarray(v_teacher, dtype=object)
    if Wo.ndim != 2 or vo.ndim != 1 or Wo.shape[0] != vo.shape[0] or Wo.size == 0:
        raise ShapeError(f"teacher must be W_teacher of shape (Nt, Ni) and v_teacher of shape (Nt,); got "
                         f"{Wo.shape} and {vo.shape}")
    exact = all(_is_exact(x) for x in Wo.ravel()) and all(_is_exact(x) for x in vo.ravel())
    if exact:
        conv = np.vectorize(lambda x: Fraction(int(x)) if isinstance(x, (int, np.integer)) else Fraction(x),
                            otypes=[object])
        return conv(Wo), conv(vo), True
    try:
        Wf, vf = np.asarray(W_teacher, dtype=float), np.asarray(v_teacher, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError("teacher weights must be numbers (floats, ints or fractions.Fraction)") from exc
    if not (np.all(np.isfinite(Wf)) and np.all(np.isfinite(vf))):
        from ..errors import NonFiniteError
        raise NonFiniteError("teacher weights contain NaN or infinite entries")
    return Wf, vf, False


def _dyadic(gen: np.random.Generator, std: float, size: tuple, den: int) -> np.ndarray:
    k = np.rint(gen.normal(0.0, std, size=size) * den).astype(np.int64)
    while np.any(k == 0):
        zero = k == 0
        k[zero] = np.rint(gen.normal(0.0, std, size=int(zero.sum())) * den).astype(np.int64)
    return k


def _draw_zero_rows(gen, n: int, Wt_float: np.ndarray, den: int) -> list[list[int]]:
    """Integer numerators of ``n`` rows, none equal to +-a teacher row or +-another drawn row."""
    Ni = Wt_float.shape[1]
    taken = {tuple(np.rint(r * den).astype(np.int64).tolist()) for r in Wt_float if np.all(r * den == np.rint(r * den))}
    taken |= {tuple((-np.array(t)).tolist()) for t in taken}
    rows: list[list[int]] = []
    while len(rows) < n:
        row = _dyadic(gen, 1.0 / np.sqrt(Ni), (Ni,), den).tolist()
        key = tuple(row)
        if key in taken:
            continue
        taken.add(key)
        taken.add(tuple(-k for k in row))
        rows.append(row)
    return rows


def _draw_shares(gen, m: int, den: int) -> list[int]:
    """Positive integers summing to ``den`` (shares ``k/den``, each in (0, 1))."""
    if m == 1:
        return [den]
    if m > den:
        raise InvalidParameterError(f"cannot draw {m} positive shares on the grid 1/{den}; raise denominator")
    cuts = np.sort(gen.choice(np.arange(1, den), size=m - 1, replace=False))
    return np.diff(np.concatenate([[0], cuts, [den]])).astype(int).tolist()


def _copies(Nt: int, n_extra: int, copies: object) -> list[int]:
    if copies is None:  # round-robin over the teacher units
        return [1 + n_extra // Nt + (1 if g < n_extra % Nt else 0) for g in range(Nt)]
    m = [int(c) for c in np.asarray(copies).ravel()]
    if len(m) != Nt or min(m) < 1:
        raise InvalidParameterError(f"copies={copies!r} must give each of the {Nt} teacher units a multiplicity >= 1")
    if sum(m) != Nt + n_extra:
        raise InvalidParameterError(f"copies={copies!r} sum to {sum(m)}; the split units must number {Nt + n_extra}")
    return m


def global_minimum(
    W_teacher: object,
    v_teacher: object,
    n_hidden: int,
    kind: str = "zero",
    rng: object = None,
    *,
    n_zero: int | None = None,
    zero_weights: object = None,
    copies: object = None,
    shares: object = None,
    permutation: object = None,
    denominator: int = DEFAULT_DENOMINATOR,
    return_structure: bool = False,
):
    r"""A student of width ``n_hidden`` at which the population loss is exactly zero.

    Parameters
    ----------
    W_teacher, v_teacher : array_like, shapes (Nt, Ni) and (Nt,)
        The teacher. Object arrays of :class:`fractions.Fraction` (or ints) give an exact point;
        floats give a float point (exact in float64 when the teacher is dyadic).
    n_hidden : int
        Student width :math:`N_s\ge N_t`.
    kind : {"zero", "split", "mixed"}
        The family (module docstring). ``"mixed"``: ``n_zero`` zero units (default
        :math:`\lceil(N_s-N_t)/2\rceil`), the other extra units split copies.
    rng : None, int or numpy.random.Generator
        Draws the free incoming weights of zero units (dyadic :math:`k/D` close to :math:`N(0,1/N_i)`,
        never :math:`\pm` a teacher row or another drawn row) and the shares (positive :math:`k/D`).
    n_zero : int, optional
        Number of zero units for ``kind="mixed"`` (``"zero"``: all extra units; ``"split"``: none).
    zero_weights : array_like, shape (n_zero, Ni), optional
        The zero units' incoming weights (any values; default drawn).
    copies : array_like of int, shape (Nt,), optional
        Multiplicity :math:`m_g\ge1` of each teacher unit (summing to :math:`N_s-n_{\rm zero}`);
        default: the extra copies go round-robin to units 0, 1, ...
    shares : array_like, shape (Ns - n_zero,), optional
        Shares :math:`a_i` of the copies, in teacher order (the :math:`m_0` shares of unit 0 first, ...);
        each unit's shares must sum to 1 exactly (zero or negative shares are allowed). Default:
        drawn positive dyadic shares.
    permutation : None, "random" or array_like of int
        Reorder the student's units: student unit ``i`` is unit ``permutation[i]`` of the
        unshuffled construction (teacher copies in teacher order, then zero units). The loss is
        invariant; the Hessian is permuted by the matching block permutation.
    denominator : int
        Grid :math:`1/D` of drawn weights and shares (a power of two keeps float64 exact).
    return_structure : bool
        Also return the :class:`MinimumStructure`.

    Returns
    -------
    W : ndarray, shape (Ns, Ni)
    v : ndarray, shape (Ns,)
    structure : MinimumStructure
        Only with ``return_structure=True``.

    Examples
    --------
    >>> import symhess
    >>> Wt, vt = symhess.rational_teacher(3, 2, rng=0)
    >>> W, v = symhess.global_minimum(Wt, vt, 4, "split", shares=["1/4", "3/4", "1/2", "1/2"])
    >>> bool((W[1] == Wt[0]).all()), v[0] + v[1] == vt[0], v[0] == vt[0] / 4
    (True, True, True)
    >>> W, v = symhess.global_minimum(Wt, vt, 3, "zero", rng=0)
    >>> v[2], symhess.population_loss("quadratic", W.astype(float), v.astype(float), Wt.astype(float), vt.astype(float))
    (Fraction(0, 1), 0.0)
    """
    Wt, vt, exact = _as_teacher(W_teacher, v_teacher)
    Nt, Ni = Wt.shape
    Ns = check_size(n_hidden, "n_hidden")
    if Ns < Nt:
        raise InvalidParameterError(f"n_hidden={Ns} is smaller than the teacher's width {Nt}: a global minimum with zero loss "
                         "needs n_hidden >= Nt")
    if kind not in MINIMUM_KINDS:
        raise InvalidParameterError(f"kind={kind!r} is unknown; choose one of {MINIMUM_KINDS}")
    den = _check_denominator(denominator)
    gen = as_rng(rng)
    extra = Ns - Nt
    if kind == "zero":
        nz = extra if n_zero is None else n_zero
        if nz != extra:
            raise InvalidParameterError(f"kind='zero' has all {extra} extra units as zero units; got n_zero={n_zero}")
    elif kind == "split":
        nz = 0 if n_zero is None else n_zero
        if nz != 0:
            raise InvalidParameterError(f"kind='split' has no zero units; got n_zero={n_zero} (use kind='mixed')")
    else:
        nz = -(-extra // 2) if n_zero is None else n_zero
    if isinstance(nz, bool) or not isinstance(nz, (int, np.integer)) or not 0 <= nz <= extra:
        raise InvalidParameterError(f"n_zero={nz!r} must be an integer in [0, {extra}] (Ns - Nt = {extra})")
    nz = int(nz)
    one = Fraction(1) if exact else 1.0

    def num(x):
        if exact:
            return Fraction(x) if not isinstance(x, str) else Fraction(x.strip())
        return float(Fraction(x)) if isinstance(x, str) else float(x)

    # split copies
    m = _copies(Nt, extra - nz, copies)
    if shares is None:
        a = [Fraction(k, den) for g in range(Nt) for k in _draw_shares(gen, m[g], den)]
        a = a if exact else [float(x) for x in a]
    else:
        a = [num(x) for x in np.asarray(shares, dtype=object).ravel()]
        if len(a) != sum(m):
            raise InvalidParameterError(f"shares has {len(a)} entries; the copies number {sum(m)} (multiplicities {m})")
    rows, outs, unit, share = [], [], [], []
    pos = 0
    for g in range(Nt):
        grp = a[pos:pos + m[g]]
        total = sum(grp, 0 * one)
        if (exact and total != 1) or (not exact and abs(total - 1.0) > 1e-12):
            raise InvalidParameterError(f"the shares of teacher unit {g} are {grp} and sum to {total}; they must sum to 1")
        if not exact and m[g] > 1:
            grp = grp[:-1] + [1.0 - sum(grp[:-1])]
        for s in grp:
            rows.append(Wt[g].copy())
            outs.append(s * vt[g])
            unit.append(g)
            share.append(s)
        pos += m[g]
    # zero units
    if zero_weights is None:
        ks = _draw_zero_rows(gen, nz, np.asarray(Wt, dtype=float), den)
        Z = [[Fraction(k, den) if exact else k / den for k in row] for row in ks]
    else:
        Zo = np.asarray(zero_weights, dtype=object)
        if Zo.ndim == 1 and nz == 1:
            Zo = Zo.reshape(1, -1)
        if Zo.shape != (nz, Ni):
            raise ShapeError(f"zero_weights must have shape (n_zero, Ni) = ({nz}, {Ni}); got {Zo.shape}")
        Z = [[num(x) for x in row] for row in Zo]
    for row in Z:
        rows.append(np.array(row, dtype=object if exact else float))
        outs.append(0 * one)
        unit.append(-1)
        share.append(0 * one)
    dtype = object if exact else float
    W = np.empty((Ns, Ni), dtype=dtype)
    for i, r in enumerate(rows):
        W[i] = r
    v = np.array(outs, dtype=dtype)
    unit_arr, share_arr = np.array(unit), np.array(share, dtype=dtype)
    if permutation is None:
        perm = np.arange(Ns)
    elif isinstance(permutation, str):
        if permutation != "random":
            raise InvalidParameterError(f"permutation={permutation!r} must be None, 'random' or an array of indices")
        perm = gen.permutation(Ns)
    else:
        perm = np.asarray(permutation)
        if perm.shape != (Ns,) or sorted(perm.tolist()) != list(range(Ns)):
            raise InvalidParameterError(f"permutation={permutation!r} must be a permutation of range({Ns})")
    W, v, unit_arr, share_arr = W[perm], v[perm], unit_arr[perm], share_arr[perm]
    kind_out = "matched" if extra == 0 else ("zero" if nz == extra else "split" if nz == 0 else "mixed")
    if not return_structure:
        return W, v
    return W, v, MinimumStructure(unit_arr, share_arr, np.asarray(perm), kind_out)
