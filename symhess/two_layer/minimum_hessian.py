r"""The Hessian on the manifold of global minima of a wider student: null space, rank, detection.

Place in the pipeline: layer 6 (arrays, python-flint; kernels for Hessians; no SymPy).

At a global minimum :math:`f_\theta=f^\star`, so the residual term drops and
:math:`H=E_x[\nabla_\theta f\,\nabla_\theta f^\top]`. A direction :math:`t` is a null vector iff
:math:`\nabla_\theta f\cdot t\equiv0` as a function of :math:`x`, with

.. math::

    \nabla_\theta f\cdot t=\sum_i\Big(t_{v_i}\,\sigma(w_i\cdot x)+v_i\,\sigma'(w_i\cdot x)\,t_{w_i}\cdot x\Big).

**Explicit null vectors** (any activation, built from :class:`~symhess.two_layer.minima.MinimumStructure`):

* a zero unit :math:`(u_k,0)`: every :math:`t_{w_k}` (:math:`N_i` directions) — the unit's free incoming
  weights; these are **tangent** to the family;
* a teacher unit :math:`g` split into copies :math:`i_1,\dots,i_m` (:math:`w_{i_a}=w^\star_g`), with a
  reference copy :math:`r` (:math:`v_r\ne0`): the shares :math:`e_{v_{i_a}}-e_{v_r}` (:math:`m-1`
  directions, **tangent**: they move along :math:`\sum_av_{i_a}=v^\star_g`) and the **degenerate**
  directions :math:`t_{w_{i_a}}=v_r s`, :math:`t_{w_r}=-v_{i_a}s`, :math:`s\in\mathbb R^{N_i}`
  (:math:`(m-1)N_i`; :math:`\sum_av_{i_a}t_{w_{i_a}}=0`). Along them the function changes at second
  order, :math:`\tfrac12\varepsilon^2v_{i_a}v_r(v_{i_a}+v_r)\sigma''(w^\star_g\cdot x)(s\cdot x)^2`, so the
  loss grows like :math:`\varepsilon^4`: flat to second order but not minima.

Hence, with :math:`N_z` zero units and :math:`N_s-N_t-N_z` extra split copies,

.. math::

    \operatorname{nullity}H\ \ge\ N_zN_i+(N_s-N_t-N_z)(N_i+1),\qquad
    \dim(\text{family})=N_zN_i+(N_s-N_t-N_z).

**Lower bound** (:func:`certified_minimum_rank`): the principal submatrix of :math:`H` on the
parameters of one copy of every teacher unit and the output weights of the zero units is the Gram
matrix of :math:`\{\sigma(w^\star_g\cdot x),\,a v^\star_g\sigma'(w^\star_g\cdot x)x\}\cup\{\sigma(u_k\cdot x)\}`,
a principal submatrix of the expected Hessian of a network without repeated rows; proving it
positive definite in ball arithmetic gives :math:`\operatorname{rank}H\ge N_t(N_i+1)+N_z`, which meets the
upper bound: the rank is then **exactly** :math:`N_t(N_i+1)+N_z` (erf, tanh; every drawn instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from ..errors import InvalidParameterError, InvalidTypeError, ShapeError
from .minima import MinimumStructure

__all__ = [
    "minimum_manifold_tangent", "minimum_null_directions", "NullDirections", "null_residual", "exact_null_check",
    "certified_minimum_rank", "classify_minimum", "nearest_minimum", "family_dimension",
    "minimum_nonzero_spectrum", "certified_smallest_nonzero_eigenvalue",
]


def _check(W, v, structure: MinimumStructure) -> tuple[int, int]:
    W = np.asarray(W)
    v = np.asarray(v)
    if W.ndim != 2 or v.shape != (W.shape[0],):
        raise ShapeError(f"W must have shape (Ns, Ni) and v shape (Ns,); got {W.shape} and {v.shape}")
    if not isinstance(structure, MinimumStructure):
        raise InvalidTypeError(f"structure must be a MinimumStructure (global_minimum(..., return_structure=True) or "
                        f"classify_minimum); got {type(structure).__name__}")
    if structure.n_hidden != W.shape[0]:
        raise ShapeError(f"structure describes {structure.n_hidden} units but W has {W.shape[0]} rows")
    return W.shape


def _reference(ix: np.ndarray, v) -> int:
    """The copy with the largest |v| (nonzero, since the shares sum to 1 and v*_g != 0)."""
    return int(ix[int(np.argmax([abs(float(v[i])) for i in ix]))])


@dataclass(frozen=True)
class NullDirections:
    r"""Explicit null vectors of :math:`H` at a global minimum (columns; float or exact Fractions).

    Attributes
    ----------
    tangent : ndarray, shape (P, d_t)
        Tangent to the family of minima (zero units' incoming weights, split shares).
    degenerate : ndarray, shape (P, d_d)
        Flat to second order, not tangent (split copies' incoming weights, loss :math:`\propto\varepsilon^4`).
    """

    tangent: np.ndarray
    degenerate: np.ndarray

    @property
    def all(self) -> np.ndarray:
        return np.concatenate([self.tangent, self.degenerate], axis=1)

    @property
    def count(self) -> int:
        return self.tangent.shape[1] + self.degenerate.shape[1]


def minimum_null_directions(W: object, v: object, structure: MinimumStructure) -> NullDirections:
    r"""The explicit null vectors of the module docstring, exact when ``v`` holds exact rationals.

    Parameters
    ----------
    W, v : array_like
        The point (a global minimum, e.g. from :func:`symhess.global_minimum`).
    structure : MinimumStructure
        Its structure (``return_structure=True``, or :func:`classify_minimum`).

    Returns
    -------
    NullDirections
        Columns ordered like :math:`\theta=(\mathrm{vec}W, v)`; dtype object (Fractions) for an exact
        point, else float.

    Examples
    --------
    >>> import symhess
    >>> Wt, vt = symhess.rational_teacher(3, 2, rng=0)
    >>> W, v, s = symhess.global_minimum(Wt, vt, 4, "mixed", rng=0, return_structure=True)
    >>> d = symhess.minimum_null_directions(W, v, s)
    >>> d.tangent.shape[1], d.degenerate.shape[1]      # 1 zero unit (3 weights) + 1 share; 3 split weights
    (4, 3)
    """
    Ns, Ni = _check(W, v, structure)
    v = np.asarray(v)
    exact = v.dtype == object
    zero = Fraction(0) if exact else 0.0
    P = Ns * Ni + Ns
    tan, deg = [], []

    def vec():
        return np.array([zero] * P, dtype=object) if exact else np.zeros(P)

    for k in structure.zero_units:
        for j in range(Ni):
            t = vec()
            t[k * Ni + j] = 1 if not exact else Fraction(1)
            tan.append(t)
    for ix in structure.groups().values():
        if len(ix) < 2:
            continue
        r = _reference(ix, v)
        for a in ix:
            if a == r:
                continue
            t = vec()
            t[Ns * Ni + a], t[Ns * Ni + r] = (1, -1) if not exact else (Fraction(1), Fraction(-1))
            tan.append(t)
            for j in range(Ni):
                t = vec()
                t[a * Ni + j] = v[r]
                t[r * Ni + j] = -v[a]
                deg.append(t)

    def stack(cols):
        if not cols:
            return np.zeros((P, 0), dtype=object if exact else float)
        return np.stack(cols, axis=1)

    return NullDirections(stack(tan), stack(deg))


def minimum_manifold_tangent(W: object, v: object, structure: MinimumStructure) -> np.ndarray:
    r"""Basis (columns) of the tangent space of the family of global minima through ``(W, v)``.

    Zero units' incoming weights (:math:`N_i` each) and the shares of split copies (:math:`m_g-1` per
    teacher unit): :math:`N_zN_i+\sum_g(m_g-1)` directions, every one a null vector of the Hessian.
    See :func:`minimum_null_directions` for the remaining (degenerate) null vectors.
    """
    return minimum_null_directions(W, v, structure).tangent


def family_dimension(n_in: int, n_teacher: int, n_hidden: int, n_zero: int) -> tuple[int, int]:
    r"""(dimension of the family, count of explicit null vectors) for :math:`N_z` zero units.

    :math:`(N_zN_i+(N_s-N_t-N_z),\ N_zN_i+(N_s-N_t-N_z)(N_i+1))`.
    """
    n_split = n_hidden - n_teacher - n_zero
    if n_split < 0 or n_zero < 0:
        raise InvalidParameterError(f"need 0 <= n_zero <= n_hidden - n_teacher; got n_zero={n_zero}, "
                         f"n_hidden={n_hidden}, n_teacher={n_teacher}")
    return n_zero * n_in + n_split, n_zero * n_in + n_split * (n_in + 1)


def null_residual(H: np.ndarray, directions: np.ndarray) -> float:
    r"""Largest :math:`\|Ht\|/(\|H\|\,\|t\|)` over the columns ``t`` (float64; 0 for exact null vectors)."""
    D = np.asarray(directions, dtype=float)
    if D.shape[1] == 0:
        return 0.0
    H = np.asarray(H, dtype=float)
    scale = np.linalg.norm(H, 2) or 1.0
    return float(np.max(np.linalg.norm(H @ D, axis=0) / (scale * np.linalg.norm(D, axis=0))))


def exact_null_check(act: ActivationLike, W: object, v: object, directions: np.ndarray) -> bool:
    r"""Prove over :math:`\mathbb Q` that every column :math:`t` is a null vector (polynomial activations).

    :math:`H=J^\top GJ` with :math:`G\succ0` (:func:`symhess.coefficient_jacobian`), so :math:`Ht=0`
    iff :math:`Jt=0`, checked in exact rational arithmetic.
    """
    import flint

    from .coefficients import coefficient_jacobian
    from .exact import to_fmpq

    J = coefficient_jacobian(act, W, v).fmpq_mat()
    D = np.asarray(directions, dtype=object)
    if D.shape[1] == 0:
        return True
    T = flint.fmpq_mat([[to_fmpq(x) for x in row] for row in D])
    R = J * T
    return all(R[i, j] == 0 for i in range(R.nrows()) for j in range(R.ncols()))


def certified_minimum_rank(act: ActivationLike, W: object, v: object, structure: MinimumStructure, *,
                           precisions: tuple[int, ...] = (128, 256, 512, 1024, 2048)):
    r"""Rank of :math:`H` at a global minimum, proved: explicit null vectors (upper) + ball Cholesky (lower).

    For polynomial activations use :func:`symhess.hessian_rank` with ``exact=True`` instead (the rank
    there can be lower than this route's upper bound). Returns a
    :class:`~symhess.two_layer.rank.RankResult` with status ``"exact"`` when the bounds meet, else
    ``"lower bound"``.
    """
    from .balls import ball_expected_hessian
    from ..linalg.certify import certify_positive_definite
    from .rank import RankResult

    Ns, Ni = _check(W, v, structure)
    act = get_activation(act)
    P = Ns * Ni + Ns
    upper = P - minimum_null_directions(W, v, structure).count
    reps = [_reference(ix, v) for ix in structure.groups().values()]
    zeros = list(structure.zero_units)
    units = reps + zeros
    W_red = np.asarray(W, dtype=object)[units]
    v_red = np.array([v[i] for i in reps] + [1] * len(zeros), dtype=object)
    n = len(units)
    idx = [a * Ni + j for a in range(len(reps)) for j in range(Ni)] + [n * Ni + a for a in range(n)]
    cert = certify_positive_definite(
        lambda prec: _principal(ball_expected_hessian(act, W_red, v_red, prec), idx), precisions)
    if not cert.proved:
        raise ArithmeticError(f"the {len(idx)}x{len(idx)} principal submatrix could not be proved positive definite "
                              f"up to {precisions[-1]} bits: this route needs a nonsingular matched Hessian (erf, "
                              "tanh; not ReLU, whose rescaling symmetry makes it singular, nor polynomials: use "
                              "hessian_rank(..., exact=True)) and generic zero-unit weights")
    lower = len(idx)
    status = "exact" if lower == upper else "lower bound"
    return RankResult(
        rank=lower, n=P, status=status, route="certified: interval Cholesky + explicit null vectors",
        method=(f"a {lower}x{lower} principal submatrix (one copy per teacher unit, zero units' output weights) is "
                f"proved positive definite ({cert.prec} bits): rank >= {lower}; {P - upper} explicit null vectors: "
                f"rank <= {upper}"),
        precision=cert.prec)


def _principal(A, idx):
    import flint

    return flint.arb_mat([[A[i, j] for j in idx] for i in idx])


def classify_minimum(
    W: np.ndarray,
    v: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    *,
    tol: float = 1e-3,
    allow_sign_flip: bool = False,
) -> MinimumStructure:
    r"""Detect which family of global minima a (trained) student is at or near.

    A unit with :math:`|v_i|\le` ``tol`` :math:`\max_g|v^\star_g|` is a zero unit; another unit is a copy
    of teacher unit :math:`g` when :math:`\|w_i-w^\star_g\|\le` ``tol`` :math:`\|w^\star_g\|` (or
    :math:`\|w_i+w^\star_g\|` with ``allow_sign_flip``, for odd activations, its share then counting
    with a minus sign). ``kind`` is ``"matched"``, ``"zero"``, ``"split"``, ``"mixed"``, or ``"other"``
    when a unit matches nothing or a teacher unit has no copy, or the shares do not sum to 1 within
    ``tol`` (not one of these families, or not converged).
    """
    W = np.asarray(W, dtype=float)
    v = np.asarray(v, dtype=float)
    Wt = np.asarray(W_teacher, dtype=float)
    vt = np.asarray(v_teacher, dtype=float)
    Ns, Nt = W.shape[0], Wt.shape[0]
    vscale = float(np.max(np.abs(vt)))
    unit = np.full(Ns, -2)
    share = np.zeros(Ns)
    for i in range(Ns):
        if abs(v[i]) <= tol * vscale:
            unit[i], share[i] = -1, 0.0
            continue
        for g in range(Nt):
            nrm = np.linalg.norm(Wt[g])
            if np.linalg.norm(W[i] - Wt[g]) <= tol * nrm:
                unit[i], share[i] = g, v[i] / vt[g]
                break
            if allow_sign_flip and np.linalg.norm(W[i] + Wt[g]) <= tol * nrm:
                unit[i], share[i] = g, -v[i] / vt[g]
                break
    ok = not np.any(unit == -2) and all(
        np.any(unit == g) and abs(share[unit == g].sum() - 1.0) <= max(tol, 1e-12) * Ns for g in range(Nt))
    nz = int(np.sum(unit == -1))
    if not ok:
        kind = "other"
    elif Ns == Nt:
        kind = "matched"
    else:
        kind = "zero" if nz == Ns - Nt else "split" if nz == 0 else "mixed"
    return MinimumStructure(unit, share, np.arange(Ns), kind)


def nearest_minimum(W: np.ndarray, v: np.ndarray, structure: MinimumStructure, W_teacher: np.ndarray,
                    v_teacher: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The point of the detected family next to ``(W, v)``: copies moved onto their teacher row with
    shares rescaled to sum 1, zero units' output weights set to 0 (their incoming weights kept).
    """
    if structure.kind == "other":
        raise InvalidParameterError("the student is not at or near one of the families (structure.kind == 'other')")
    W = np.array(W, dtype=float)
    v = np.array(v, dtype=float)
    Wt = np.asarray(W_teacher, dtype=float)
    vt = np.asarray(v_teacher, dtype=float)
    out_W, out_v = W.copy(), v.copy()
    for g, ix in structure.groups().items():
        a = structure.shares[ix].astype(float)
        a = a / a.sum()
        for i, s in zip(ix, a):
            sign = 1.0 if np.linalg.norm(W[i] - Wt[g]) <= np.linalg.norm(W[i] + Wt[g]) else -1.0
            out_W[i] = sign * Wt[g]
            out_v[i] = sign * s * vt[g]
    out_v[structure.zero_units] = 0.0
    return out_W, out_v


def _reduced(W, v, structure: MinimumStructure):
    """Reduced network (one unit per teacher unit with v*_g = sum of its copies, zero units with v = 1),
    the index set I of its parameters that carry gradient functions, and the diagonal D = A A^T."""
    Ns, Ni = _check(W, v, structure)
    groups = structure.groups()
    Wo, vo = np.asarray(W, dtype=object), np.asarray(v, dtype=object)
    units, vred, dW, dv = [], [], [], []
    for ix in groups.values():
        r = _reference(ix, v)
        vg = sum(vo[i] for i in ix)
        if vg == 0:
            raise InvalidParameterError("a teacher unit's copies have output weights summing to 0: not a point of the families")
        units.append(r)
        vred.append(vg)
        dW.append(sum((vo[i] / vg) ** 2 for i in ix))
        dv.append(len(ix))
    zeros = list(structure.zero_units)
    n_t, n = len(units), len(units) + len(zeros)
    W_red = Wo[units + zeros]
    v_red = np.array(vred + [1] * len(zeros), dtype=object)
    idx = [a * Ni + j for a in range(n_t) for j in range(Ni)] + [n * Ni + a for a in range(n)]
    diag = [d for d in dW for _ in range(Ni)] + dv + [1] * len(zeros)
    return W_red, v_red, idx, diag


def minimum_nonzero_spectrum(act: ActivationLike, W: object, v: object, structure: MinimumStructure) -> np.ndarray:
    r"""The nonzero eigenvalues of :math:`H` at a point of the families, from the matched-width Hessian.

    :math:`\nabla_\theta f=A^\top g` with :math:`g` the gradient functions of the reduced network (each
    teacher unit once with :math:`v^\star_g=\sum_{i\in g}v_i`, zero units' :math:`\sigma(u_k\cdot x)`) and
    :math:`A` the linear map :math:`\delta w^\star_g=\sum_{i\in g}a_i\delta w_i`,
    :math:`\delta v^\star_g=\sum_{i\in g}\delta v_i`, :math:`\delta v_{u_k}=\delta v_k`. So
    :math:`H=A^\top BA`, :math:`B=E[gg^\top]`, and its nonzero spectrum is that of
    :math:`D^{1/2}BD^{1/2}` with :math:`D=AA^\top` diagonal: :math:`\sum_{i\in g}a_i^2` on
    :math:`w^\star_g`, the multiplicity :math:`m_g` on :math:`v^\star_g`, 1 on each zero unit. Returns
    them in ascending order (float64; :func:`certified_smallest_nonzero_eigenvalue` encloses the
    smallest).
    """
    W_red, v_red, idx, diag = _reduced(W, v, structure)
    from .assemble import expected_hessian

    B = expected_hessian(act, W_red.astype(float), v_red.astype(float))[np.ix_(idx, idx)]
    s = np.sqrt(np.array(diag, dtype=float))
    return np.linalg.eigvalsh(s[:, None] * B * s[None, :])


def certified_smallest_nonzero_eigenvalue(act: ActivationLike, W: object, v: object, structure: MinimumStructure,
                                          *, precisions: tuple[int, ...] = (128, 256, 512, 1024, 2048)
                                          ) -> tuple[float, float]:
    r"""Rigorous enclosure :math:`[\ell, u]` of :math:`\lambda^+_{\min}(H)` at a point of the families.

    :math:`D^{1/2}BD^{1/2}` (:func:`minimum_nonzero_spectrum`) is rebuilt in ball arithmetic, proved
    positive definite by an interval Cholesky, and its smallest eigenvalue enclosed
    (:func:`symhess.linalg.certify.eigenvalue_enclosure`). Meaningful far below float64 resolution
    (erf zero units: :math:`10^{-20}` and less).
    """
    import flint

    from .balls import ball_expected_hessian
    from ..linalg.certify import certify_positive_definite, eigenvalue_enclosure

    W_red, v_red, idx, diag = _reduced(W, v, structure)
    from .exact import to_fmpq

    def build(prec):
        B = ball_expected_hessian(act, W_red, v_red, prec)
        s = [flint.arb(to_fmpq(d)).sqrt() for d in diag]
        return flint.arb_mat([[s[a] * B[i, j] * s[b] for b, j in enumerate(idx)] for a, i in enumerate(idx)])

    cert = certify_positive_definite(build, precisions)
    if not cert.proved:
        raise ArithmeticError(f"D^1/2 B D^1/2 could not be proved positive definite up to {precisions[-1]} bits")
    return eigenvalue_enclosure(cert.matrix, cert.prec)
