r"""Hessian rank, the effective number of parameters: numerical, exact and certified.

Place in the package: the two-layer teacher-student family (arrays and python-flint matrices; no SymPy). Three routes:

**Numerical (float64).** Eigenvalues by ``eigvalsh``; an eigenvalue counts as nonzero when
:math:`|\lambda| > \tau`, with the scale-aware tolerance of ``numpy.linalg.matrix_rank``

.. math::

    \tau = \max_k|\lambda_k|\cdot P\cdot\varepsilon_{64},\qquad \varepsilon_{64}=2^{-52},

(the eigenvalues of a matrix whose entries carry relative errors of a few :math:`\varepsilon_{64}`
move by about :math:`\lVert H\rVert P\varepsilon_{64}`). The *log-spectral gap* is reported next to it:
with :math:`s_1\ge\dots\ge s_P` the sorted :math:`|\lambda|` (clipped below at
:math:`s_1\varepsilon_{64}^2`), the split "rank :math:`k`" has gap
:math:`\log_{10}(s_k/s_{k+1})` decades, and the full-rank split has gap
:math:`\log_{10}(s_P/\tau)` (the distance of the smallest eigenvalue above the noise level).
The *gap rank* is the split with the widest gap. When the tolerance rank and the gap rank agree and
the gap spans several decades the count is trustworthy; when they disagree a
:class:`~symhess.errors.SymhessAccuracyWarning` is issued and the result says so.

**Exact (over** :math:`\mathbb Q`\ **).** Polynomial activations at rational weights, by two independent
routes — (a) the exact expected Hessian from the pair formulas
(:func:`symhess.two_layer.exact.exact_expected_hessian`), (b) the Jacobian :math:`J` of the map
:math:`\theta\mapsto` coefficients of :math:`f` in :math:`x`, with :math:`H=J^\top GJ`, :math:`G\succ0`
(:mod:`symhess.two_layer.coefficients`) — and a proved exact rank (one prime when full rank, else flint's fraction-free elimination)
(:func:`symhess.linalg.exact_rank.exact_rank`). The rank at one point never exceeds the
generic rank, so **an exact rank at one random rational point is a certified lower bound for the
generic rank** (the rank at almost every teacher); it equals it unless the point is special.

**Certified (ball arithmetic).** For closed-form activations (erf, ReLU) the expected Hessian is
rebuilt in ``arb`` balls at increasing precision and an interval Cholesky proves it positive
definite (:mod:`symhess.linalg.certify`) — this decides full rank where float64 cannot (erf's
smallest eigenvalues reach :math:`10^{-28}` of the largest). For activations without closed forms
(tanh) the proof is a nonsingular ball matrix of gradients at :math:`P` rational inputs
(:func:`symhess.two_layer.balls.ball_gradients`). When full rank is not provable, a certified lower
bound is proved on the float rank's pivots.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import flint
import numpy as np

from ..activations import activation as get_activation
from ..errors import (
    InvalidParameterError, InvalidTypeError, NoClosedFormError, QuadratureWarning, SymhessAccuracyWarning, SymhessError,
)
from ..validation import as_weights
from .assemble import expected_hessian
from .balls import ball_expected_hessian, ball_gradients, rational_points
from .coefficients import coefficient_jacobian
from .architecture import as_trainable, trainable_index
from ..linalg.rationals import rational_array
from .exact import exact_expected_hessian, rational_coefficients
from ..linalg.certify import PRECISIONS, certify_nonsingular, certify_positive_definite, eigenvalue_enclosure
from ..linalg.exact_rank import exact_rank
from ..linalg.spectra import default_tolerance, eigenvalues

__all__ = ["RankResult", "numerical_rank", "log_spectral_gap", "hessian_rank", "EXACT_ROUTES", "CERTIFY_ROUTES"]

#: exact routes: the coefficient Jacobian (fast, supports biases), the expected Hessian, or both
EXACT_ROUTES = ("jacobian", "hessian", "both")
#: certified routes
CERTIFY_ROUTES = ("cholesky", "points")
#: a gap narrower than this many decades makes a float rank untrustworthy
TRUSTED_GAP_DECADES = 3.0


@dataclass(frozen=True)
class RankResult:
    r"""A Hessian rank with the evidence behind it.

    Attributes
    ----------
    rank : int
        The rank (for ``status="lower bound"`` a proved lower bound).
    n : int
        Matrix size :math:`P`.
    status : str
        ``"exact"`` (proved equal), ``"lower bound"`` (proved :math:`\ge`) or ``"numerical"`` (float64).
    route : str
        ``"float64"``, ``"exact: coefficient Jacobian"``, ``"exact: expected Hessian"``,
        ``"certified: interval Cholesky"`` or ``"certified: point evaluation"``.
    method : str
        One sentence on how the number was obtained.
    tolerance : float or None
        Zero threshold :math:`\tau` of the float rank.
    gap_rank, gap_decades : int, float or None
        Rank at the widest gap of the log-spectrum, and that gap's width in decades.
    eigenvalues : ndarray or None
        Ascending float64 eigenvalues (when computed).
    min_eigenvalue : float or None
        Smallest eigenvalue (float64 estimate).
    min_eigenvalue_bounds : (float, float) or None
        Rigorous enclosure of the smallest eigenvalue (certified full-rank route).
    float_rank : int or None
        The float64 tolerance rank, when a float spectrum was computed alongside.
    precision : int or None
        Working precision (bits) of the ball-arithmetic proof.
    notes : tuple of str
        Warnings and remarks.
    """

    rank: int
    n: int
    status: str
    route: str
    method: str
    tolerance: float | None = None
    gap_rank: int | None = None
    gap_decades: float | None = None
    eigenvalues: np.ndarray | None = field(default=None, repr=False, compare=False)
    min_eigenvalue: float | None = None
    min_eigenvalue_bounds: tuple[float, float] | None = None
    float_rank: int | None = None
    precision: int | None = None
    notes: tuple[str, ...] = ()

    def __int__(self) -> int:
        return self.rank

    @property
    def certified(self) -> bool:
        """True when the rank (or its lower bound) is proved, not estimated."""
        return self.status in ("exact", "lower bound")

    @property
    def nullity(self) -> int:
        """Number of zero eigenvalues (flat directions), :math:`P - \\mathrm{rank}`."""
        return self.n - self.rank

    @property
    def full_rank(self) -> bool:
        return self.rank == self.n

    @property
    def agrees(self) -> bool | None:
        """Tolerance rank and gap rank agree (None when no float spectrum was computed)."""
        if self.gap_rank is None or self.float_rank is None:
            return None
        return self.gap_rank == self.float_rank

    def __str__(self) -> str:
        lines = [f"rank = {self.rank} of P = {self.n} ({self.status}; {self.route})", f"  {self.method}"]
        if self.tolerance is not None:
            lines.append(f"  float64: tolerance {self.tolerance:.3g}, rank {self.float_rank}; widest log-gap "
                         f"{self.gap_decades:.1f} decades at rank {self.gap_rank}")
        if self.min_eigenvalue_bounds is not None:
            lo, hi = self.min_eigenvalue_bounds
            lines.append(f"  smallest eigenvalue in [{lo:.6g}, {hi:.6g}] (proved)")
        elif self.min_eigenvalue is not None:
            lines.append(f"  smallest eigenvalue {self.min_eigenvalue:.6g} (float64)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def log_spectral_gap(eigs: np.ndarray, tol: float) -> tuple[int, float]:
    r"""The rank at the widest gap of the log-spectrum and the gap's width in decades.

    See the module docstring; the candidate splits are rank :math:`1..P` (the last one measured
    against the tolerance ``tol``), and rank 0 when every :math:`|\lambda|\le` ``tol``.
    """
    s = np.sort(np.abs(np.asarray(eigs, dtype=float)))[::-1]
    P = s.size
    if P == 0:
        return 0, float("inf")
    if s[0] == 0.0:
        return 0, float("inf")
    floor = s[0] * np.finfo(float).eps ** 2
    logs = np.log10(np.maximum(s, floor))
    ltol = np.log10(max(tol, floor))
    gaps = np.empty(P)
    gaps[: P - 1] = logs[:-1] - logs[1:]
    gaps[P - 1] = logs[-1] - ltol
    if s[0] <= tol:  # everything is at noise level: rank 0, gap measured against the tolerance
        return 0, float(ltol - logs[0])
    k = int(np.argmax(gaps))
    return k + 1, float(gaps[k])


def numerical_rank(H: np.ndarray, tol: float | None = None, *, warn: bool = True) -> RankResult:
    r"""Float64 rank of a symmetric matrix with the tolerance used and the log-spectral gap.

    Parameters
    ----------
    H : array_like, shape (P, P)
        Symmetric matrix.
    tol : float, optional
        Zero threshold; default :math:`\max|\lambda|\,P\,\varepsilon_{64}`.
    warn : bool
        Issue a :class:`~symhess.errors.SymhessAccuracyWarning` when the tolerance rank and the gap rank differ.

    Examples
    --------
    >>> r = numerical_rank(np.diag([2.0, 1.0, 1e-18]))
    >>> r.rank, r.gap_rank, round(r.gap_decades)
    (2, 2, 18)
    """
    eigs = eigenvalues(H)
    P = eigs.size
    tau = default_tolerance(eigs) if tol is None else float(tol)
    if tau < 0 or not np.isfinite(tau):
        raise InvalidParameterError(f"tol={tol!r} must be a finite nonnegative number")
    rank = int((np.abs(eigs) > tau).sum())
    gap_rank, gap = log_spectral_gap(eigs, tau)
    notes = []
    if gap_rank != rank:
        msg = (f"tolerance rank {rank} (tol {tau:.3g}) and log-gap rank {gap_rank} ({gap:.1f} decades) disagree: "
               "the float64 count is not trustworthy; use exact=True (polynomials) or certify=True")
        notes.append(msg)
        if warn:
            warnings.warn(msg, SymhessAccuracyWarning, stacklevel=2)
    elif gap < TRUSTED_GAP_DECADES:
        notes.append(f"the widest log-gap is only {gap:.1f} decades: zero and nonzero eigenvalues are barely separated")
    if rank < P:
        notes.append(f"{P - rank} eigenvalue(s) at or below tol: float64 cannot tell zeros from eigenvalues below its "
                     "resolution, so the deficiency is not proved (exact=True for polynomials, certify=True otherwise)")
    n_neg = int((eigs < -tau).sum())
    if n_neg:
        notes.append(f"{n_neg} eigenvalue(s) below -tol: the matrix is not positive semidefinite")
    return RankResult(
        rank=rank, n=P, status="numerical", route="float64",
        method=f"eigvalsh in float64; |lambda| > tol = max|lambda| * P * eps" + (" (default)" if tol is None else " (given)"),
        tolerance=tau, gap_rank=gap_rank, gap_decades=gap, eigenvalues=eigs,
        min_eigenvalue=float(eigs[0]) if P else None, float_rank=rank, notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
def _is_exact_matrix(H: object) -> bool:
    return isinstance(H, (flint.fmpq_mat, flint.fmpz_mat))


def _exact_result(mat, route: str, what: str) -> RankResult:
    er = exact_rank(mat)
    status = "exact" if er.certified else "lower bound"
    return RankResult(rank=er.rank, n=mat.ncols(), status=status, route=route, method=f"{what}; {er.method}")


def _float_hessian(act, W, v, hidden_bias, output_bias, input_cov=None) -> tuple[np.ndarray, bool]:
    """The float64 expected Hessian, and whether numerical quadrature was used for it."""
    if hidden_bias is None and output_bias is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            H = expected_hessian(act, W, v, input_cov=input_cov)
        quadrature = False
        for w in caught:
            quadrature |= issubclass(w.category, QuadratureWarning)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return H, quadrature
    return coefficient_jacobian(act, W, v, hidden_bias=hidden_bias, output_bias=output_bias, exact=False).hessian(), False


def _float_biased_rank(act, W, v, hidden_bias, output_bias, trainable, input_cov, tol) -> RankResult:
    r"""The float64 rank with biases: tolerance and log-gap of the expected Hessian with means.

    Polynomial networks with one output, all groups trained and identity covariance keep the float
    coefficient Jacobian (:math:`H=J^\top GJ`); every other case takes
    :func:`~symhess.two_layer.assemble.expected_hessian` with ``b``, ``b_out``
    (:mod:`symhess.two_layer.biases`), principal submatrix of ``trainable`` included.
    """
    if act.is_polynomial and np.ndim(v) < 2 and trainable is None and input_cov is None:
        H, quadrature = _float_hessian(act, W, v, hidden_bias, output_bias)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                H = expected_hessian(act, W, v, b=hidden_bias, b_out=output_bias, input_cov=input_cov,
                                     trainable=trainable)
            except NoClosedFormError as exc:
                raise NoClosedFormError(f"{exc}; the float64 rank with biases needs these expectations: use "
                                        "certify=True (proof by point evaluation)") from None
        quadrature = False
        for w in caught:
            quadrature |= issubclass(w.category, QuadratureWarning)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    H, notes = _symmetrized(H, act, quadrature)
    res = numerical_rank(H, tol)
    return _with_note(res, " ".join(notes)) if notes else res


def _symmetrized(H: np.ndarray, act, quadrature: bool) -> tuple[np.ndarray, list[str]]:
    """Symmetrize a computed expected Hessian (exactly symmetric in exact arithmetic) and say what was done."""
    H = np.asarray(H, dtype=float)
    notes = []
    if not np.all(np.isfinite(H)):
        from ..errors import NonFiniteError

        raise NonFiniteError(f"the float64 expected Hessian of {act.spec!r} has non-finite entries at these weights")
    asym = float(np.abs(H - H.T).max()) if H.size else 0.0
    if asym > 0.0:
        H = 0.5 * (H + H.T)
        if asym > 1e-12 * max(float(np.abs(H).max()), 1.0):
            notes.append(f"the computed Hessian was asymmetric by {asym:.2g} (quadrature/rounding error) and was "
                         "symmetrized")
    if quadrature:
        notes.append(f"the float64 Hessian of {act.spec!r} comes from numerical quadrature (no closed forms), so "
                     "its small eigenvalues are unreliable; certify='points' proves the rank without it")
    return H, notes


def _trustworthy(res: RankResult) -> bool:
    """A float64 count needs no proof only when it is full rank with a clean, wide gap.

    A float rank *deficiency* is never trusted: eigenvalues below float64 resolution (erf reaches
    1e-35 relative) produce a wide, clean gap down to the noise floor that looks exactly like a zero.
    """
    return res.rank == res.n and res.agrees is not False and (res.gap_decades or 0.0) >= TRUSTED_GAP_DECADES


def _principal(A: flint.arb_mat, idx) -> flint.arb_mat:
    return flint.arb_mat([[A[i, j] for j in idx] for i in idx])


def _minor(A: flint.arb_mat, rows, cols) -> flint.arb_mat:
    return flint.arb_mat([[A[i, j] for j in cols] for i in rows])


def _certified(act, W, v, H: np.ndarray, float_res: RankResult, mode: str, precisions, seed) -> RankResult:
    P = float_res.n
    Wf, _ = as_weights(W, v)
    Nh, Ni = Wf.shape
    base = dict(tolerance=float_res.tolerance, gap_rank=float_res.gap_rank, gap_decades=float_res.gap_decades,
                eigenvalues=float_res.eigenvalues, min_eigenvalue=float_res.min_eigenvalue,
                float_rank=float_res.float_rank,
                notes=tuple(f"float64 side: {n}" for n in float_res.notes))
    target = float_res.gap_rank if float_res.gap_rank is not None else float_res.rank
    if mode == "cholesky":
        build = lambda prec: ball_expected_hessian(act, W, v, prec)  # noqa: E731
        cert = certify_positive_definite(build, precisions)
        if cert.proved:
            bounds = eigenvalue_enclosure(cert.matrix, cert.prec)
            return RankResult(
                rank=P, n=P, status="exact", route="certified: interval Cholesky",
                method=(f"closed-form expected Hessian in ball arithmetic (arb, {cert.prec} bits); an interval "
                        "Cholesky with every pivot > 0 proves it positive definite"),
                min_eigenvalue_bounds=bounds, precision=cert.prec, **base)
        if target < 1:
            return float_res
        from scipy.linalg.lapack import dpstrf

        _, piv, _, _ = dpstrf(np.array(H, dtype=float), tol=-1.0)
        idx = sorted(int(p) - 1 for p in piv[:target])
        cert = certify_positive_definite(lambda prec: _principal(build(prec), idx), precisions)
        if cert.proved:
            return RankResult(
                rank=target, n=P, status="lower bound", route="certified: interval Cholesky",
                method=(f"a {target}x{target} principal submatrix (pivoted-Cholesky pivots) of the ball-arithmetic "
                        f"expected Hessian is proved positive definite ({cert.prec} bits), so rank >= {target}; "
                        f"full rank was not provable up to {precisions[-1]} bits"),
                precision=cert.prec, **base)
        return _with_note(float_res, f"ball-arithmetic proof failed up to {precisions[-1]} bits; float64 rank reported")
    # point evaluation
    X = rational_points(P, Ni, seed)
    build = lambda prec: ball_gradients(act, W, v, X, prec)  # noqa: E731
    proved, prec, _ = certify_nonsingular(build, precisions)
    if proved:
        return RankResult(
            rank=P, n=P, status="exact", route="certified: point evaluation",
            method=(f"the {P}x{P} matrix of gradients grad_theta f(x_mu) at {P} rational inputs is nonsingular "
                    f"(ball determinant excludes 0, {prec} bits), so the gradient functions are independent and "
                    "H = E[grad f grad f^T] is positive definite"),
            precision=prec, **base)
    if target < 1:
        return float_res
    from scipy.linalg import qr

    X2 = rational_points(2 * P, Ni, seed)
    G = build_float_gradients(act, W, v, X2)
    _, _, cols = qr(G, pivoting=True, mode="economic")
    cols = sorted(cols[:target].tolist())
    _, _, rows = qr(G[:, cols].T, pivoting=True, mode="economic")
    rows = sorted(rows[:target].tolist())
    proved, prec, _ = certify_nonsingular(lambda p: _minor(ball_gradients(act, W, v, X2, p), rows, cols), precisions)
    if proved:
        return RankResult(
            rank=target, n=P, status="lower bound", route="certified: point evaluation",
            method=(f"a nonsingular {target}x{target} minor of the ball gradient matrix at rational inputs "
                    f"({prec} bits) proves rank >= {target}; full rank was not provable"),
            precision=prec, **base)
    return _with_note(float_res, f"ball-arithmetic proof failed up to {precisions[-1]} bits; float64 rank reported")


def build_float_gradients(act, W, v, X) -> np.ndarray:
    """Float64 gradient matrix at the points ``X`` (for choosing a nonsingular minor)."""
    Wf, vf = as_weights(W, v)
    Xf = np.asarray(X, dtype=float)
    h = Xf @ Wf.T
    ds = act.numeric(1)(h)
    s = act.numeric(0)(h)
    gW = (ds * vf[None, :])[:, :, None] * Xf[:, None, :]
    return np.concatenate([gW.reshape(len(Xf), -1), s], axis=1)


def _with_note(res: RankResult, note: str) -> RankResult:
    from dataclasses import replace

    return replace(res, notes=res.notes + (note,))


def hessian_rank(
    H_or_act,
    W: object = None,
    v: object = None,
    *,
    exact: bool = False,
    certify: bool | str = False,
    tol: float | None = None,
    route: str = "jacobian",
    hidden_bias: object = None,
    output_bias: object = None,
    max_precision: int = PRECISIONS[-1],
    seed: int = 0,
    trainable: tuple[str, ...] | None = None,
    input_cov: object = None,
) -> RankResult:
    r"""Rank of the Hessian at the optimum (the effective number of parameters), with its evidence.

    Call it on a matrix, ``hessian_rank(H)``, or on a network, ``hessian_rank(act, W, v, ...)``.

    Parameters
    ----------
    H_or_act : array_like, flint matrix, str or Activation
        A symmetric matrix (float: numerical rank; ``flint.fmpq_mat``/``fmpz_mat``, or a rational
        object array with ``exact=True``: exact rank), or an activation.
    W, v : array_like
        Teacher = student weights, shapes ``(Nh, Ni)`` and ``(Nh,)`` or ``(n_out, Nh)`` (with an activation).
    exact : bool
        Exact rank over :math:`\mathbb Q` (polynomial activations, rational weights). The rank at one
        rational point is a certified lower bound for the generic rank.
    certify : bool or str
        Prove the rank in ball arithmetic (non-polynomial activations): ``True`` (closed-form interval
        Cholesky where closed forms exist, else point evaluation), ``"cholesky"``, ``"points"``, or
        ``"auto"`` (prove unless float64 finds full rank with agreeing tolerance and gap ranks and a gap
        of at least 3 decades; a float64 rank deficiency is always re-examined, since eigenvalues below
        float64 resolution look like zeros behind a wide gap).
    tol : float, optional
        Float64 zero threshold (default scale-aware, see the module docstring).
    route : {"jacobian", "hessian", "both"}
        Exact route: (b) coefficient Jacobian (fast, supports biases), (a) exact expected Hessian, or
        both (their ranks must agree; a disagreement raises).
    hidden_bias, output_bias : array_like of shape (Nh,), number or (n_out,), optional
        Bias values; giving them adds the biases to the network. Exact route: polynomial activations;
        certified route: any activation, by point evaluation (:mod:`symhess.two_layer.span_rank`);
        float route: any activation with expectations with means, the tolerance and log-gap of the
        expected Hessian with biases (:mod:`symhess.two_layer.biases`; several outputs, ``trainable``
        and ``input_cov`` included).
    max_precision : int
        Largest working precision (bits) of the ball-arithmetic proofs.
    seed : int
        Seed of the rational input points of the point-evaluation proof.
    trainable : tuple of str, optional
        Trained groups, a subset of ``("W", "v", "b", "b_out")`` (default all the network has): the rank
        of the frozen-rest Hessian, the principal submatrix of the trained parameters (exact routes: the
        trained columns of the coefficient Jacobian, or the principal submatrix of the exact Hessian;
        certified: the trained columns of the gradient rows; float route: the principal submatrix).
    input_cov : array_like, optional
        Input covariance :math:`\Sigma`. Float route: the Hessian under :math:`\Sigma`. Exact and
        certified routes: :math:`\Sigma=L_rD_rL_r^\top` over :math:`\mathbb Q` and
        :math:`\operatorname{rank}H_\Sigma(W)=\operatorname{rank}H_I(WL_r)` on :math:`r=\operatorname{rank}\Sigma`
        inputs; for a nonsingular :math:`\Sigma` the rank is that of the identity covariance (whitening,
        :func:`symhess.two_layer.span_rank.exact_input_reduction`).

    Returns
    -------
    RankResult

    Raises
    ------
    NoClosedFormError
        ``exact=True`` for a non-polynomial activation (the message names ``certify=True``), or
        biases with an activation whose expectations with means have no closed form or quadrature
        (e.g. ``sign``; the message names ``certify=True``).
    NotRationalError
        ``exact=True`` with irrational weights or activation parameters.

    Examples
    --------
    >>> import numpy as np, symhess
    >>> W, v = symhess.rational_teacher(4, 2, rng=0)
    >>> hessian_rank("quadratic", W, v, exact=True).rank    # eq. (14): 2*5 - 1
    9
    >>> hessian_rank(np.diag([3.0, 1.0, 0.0])).rank
    2
    """
    if W is None and v is None:
        return _matrix_rank(H_or_act, exact=exact, certify=certify, tol=tol)
    if W is None or v is None:
        raise InvalidTypeError("give both W and v together with an activation, or a matrix alone")
    act = get_activation(H_or_act)
    biased = hidden_bias is not None or output_bias is not None
    if (exact or certify) and (np.ndim(v) == 2 or input_cov is not None or (biased and trainable is not None)
                               or (certify and (biased or trainable is not None))):
        return _general_rank(act, W, v, exact=exact, certify=certify, route=route, hidden_bias=hidden_bias,
                             output_bias=output_bias, trainable=trainable, input_cov=input_cov,
                             max_precision=max_precision, seed=seed)
    if biased and not exact and not certify:
        return _float_biased_rank(act, W, v, hidden_bias, output_bias, trainable, input_cov, tol)
    n_out = np.shape(v)[0] if np.ndim(v) == 2 else 1
    idx = trainable_index(as_trainable(trainable), *np.shape(W), n_out) if np.ndim(W) == 2 else None
    if idx is not None and (certify or hidden_bias is not None or output_bias is not None):
        raise InvalidParameterError(
            f"trainable={tuple(trainable)!r} is supported by the exact and float routes without biases; "
            "drop certify/hidden_bias/output_bias"
        )
    if input_cov is not None and (exact or certify or hidden_bias is not None or output_bias is not None):
        raise InvalidParameterError(
            "input_cov is supported by the float route of hessian_rank only (for a nonsingular Sigma the rank is "
            "that of the identity case at the whitened weights W Sigma^(1/2)); drop exact/certify/biases"
        )
    if exact:
        if certify:
            raise InvalidParameterError("choose exact=True (polynomials, proved over Q) or certify (ball arithmetic), not both")
        if route not in EXACT_ROUTES:
            raise InvalidParameterError(f"route={route!r} is unknown; choose one of {EXACT_ROUTES}")
        rational_coefficients(act)  # clear errors for non-polynomial / irrational activations
        biased = hidden_bias is not None or output_bias is not None
        if biased and route != "jacobian":
            raise InvalidParameterError(f"route={route!r} has no bias terms; biases need route='jacobian'")
        results = []
        if route in ("jacobian", "both"):
            J = coefficient_jacobian(act, W, v, hidden_bias=hidden_bias, output_bias=output_bias).fmpq_mat()
            if idx is not None:
                J = flint.fmpq_mat([[J[i, int(j)] for j in idx] for i in range(J.nrows())])
            results.append(_exact_result(J, "exact: coefficient Jacobian",
                                         f"rank of the exact {J.nrows()}x{J.ncols()} coefficient Jacobian J "
                                         "(H = J^T G J with G positive definite)"))
        if route in ("hessian", "both"):
            Hq = exact_expected_hessian(act, W, v)
            if idx is not None:
                Hq = flint.fmpq_mat([[Hq[int(i), int(j)] for j in idx] for i in idx])
            results.append(_exact_result(Hq, "exact: expected Hessian",
                                         f"rank of the exact {Hq.nrows()}x{Hq.ncols()} expected Hessian over Q"))
        if len({r.rank for r in results}) > 1:
            raise SymhessError(
                f"exact routes disagree: Jacobian rank {results[0].rank}, Hessian rank {results[1].rank}; "
                "please report this (the two constructions must give the same matrix rank)"
            )
        if len(results) == 2:
            r0 = results[0]
            return _with_note(r0, f"cross-checked: the exact expected Hessian has the same rank ({results[1].method})")
        return results[0]
    if certify is not False and certify not in (True, "auto") + CERTIFY_ROUTES:
        raise InvalidParameterError(f"certify={certify!r} must be False, True, 'auto', 'cholesky' or 'points'")
    if certify and (hidden_bias is not None or output_bias is not None):
        raise InvalidParameterError("certify does not support biases; polynomial networks with biases use exact=True")
    H, quadrature = _float_hessian(act, W, v, hidden_bias, output_bias, input_cov)
    if idx is not None:
        H = H[np.ix_(idx, idx)]
    H, notes = _symmetrized(H, act, quadrature)
    float_res = numerical_rank(H, tol, warn=not certify)
    if notes:
        float_res = _with_note(float_res, " ".join(notes))
    if not certify or (certify == "auto" and _trustworthy(float_res)):
        return float_res
    mode = certify if certify in CERTIFY_ROUTES else None
    if mode is None:
        try:
            ball_expected_hessian(act, W, v, 64)
            mode = "cholesky"
        except NoClosedFormError:
            mode = "points"
    precisions = tuple(p for p in PRECISIONS if p <= max_precision) or (int(max_precision),)
    return _certified(act, W, v, H, float_res, mode, precisions, seed)


def _general_rank(act, W, v, *, exact, certify, route, hidden_bias, output_bias, trainable, input_cov, max_precision,
                  seed) -> RankResult:
    """Several outputs, input covariance, biases with frozen groups, or certified biases: the span routes."""
    from .span_rank import certified_span_rank, exact_span_rank

    if exact:
        if certify:
            raise InvalidParameterError("choose exact=True (polynomials, proved over Q) or certify (ball arithmetic), not both")
        if route != "jacobian":
            raise InvalidParameterError(
                f"route={route!r}: with several outputs, input_cov or biases the exact rank uses the coefficient "
                "Jacobian only (route='jacobian')")
        res = exact_span_rank(act, W, v, hidden_bias=hidden_bias, output_bias=output_bias, trainable=trainable,
                              input_cov=input_cov)
        return RankResult(rank=res.rank, n=res.n, status=res.status, route=res.route, method=res.method,
                          notes=res.notes)
    if certify not in (True, "auto", "points"):
        raise InvalidParameterError(
            f"certify={certify!r}: with several outputs, input_cov, biases or frozen groups the proof is by point "
            "evaluation; use certify=True or certify='points'")
    res = certified_span_rank(act, W, v, hidden_bias=hidden_bias, output_bias=output_bias, trainable=trainable,
                              input_cov=input_cov, max_precision=max_precision, seed=seed)
    return RankResult(rank=res.rank, n=res.n, status=res.status, route=res.route, method=res.method,
                      precision=res.precision, float_rank=res.float_rank, notes=res.notes)


def _matrix_rank(H, *, exact: bool, certify, tol) -> RankResult:
    if certify:
        raise InvalidParameterError("certify needs (act, W, v): the entries are recomputed in ball arithmetic; "
                         "a given float matrix has only its rounded entries")
    if _is_exact_matrix(H):
        res = exact_rank(H)
        return RankResult(rank=res.rank, n=H.nrows(), status="exact" if res.certified else "lower bound",
                          route="exact: matrix", method=res.method)
    if exact:
        arr = np.asarray(H, dtype=object) if not isinstance(H, np.ndarray) else H
        if arr.dtype != object:
            raise InvalidParameterError(
                "exact=True on a float matrix would measure its rounding errors; pass exact data "
                "(flint.fmpq_mat or an array of Fractions/ints) or call hessian_rank(act, W, v, exact=True)"
            )
        q = rational_array(arr, "H")
        res = exact_rank(q)
        return RankResult(rank=res.rank, n=q.shape[0], status="exact" if res.certified else "lower bound",
                          route="exact: matrix", method=res.method)
    return numerical_rank(np.asarray(H, dtype=float), tol)
