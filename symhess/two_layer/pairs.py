r"""Numeric pair-expectation matrices for two sets of hidden units.

Place in the package: the two-layer teacher-student family. For units :math:`a_i` (rows of ``A``) and :math:`b_g` (rows of
``B``), :func:`template_matrices` evaluates every coefficient of a block template
(:func:`symhess.expectation.stein.pair_template`) on the overlaps
:math:`q_1=a_i\cdot a_i`, :math:`q_2=b_g\cdot b_g`, :math:`c=a_i\cdot b_g`, all pairs at once.
With ``same=True`` (``A is B``) the diagonal :math:`i=g` uses the one-variable formulas of
:func:`symhess.expectation.stein.diagonal_template`.

Degenerate covariances: for activations whose pair kernels are singular as :math:`|\rho|\to1`
(ReLU), pairs with :math:`1-\rho^2<\tau=10^{-14}` are treated as exactly (anti)parallel: the
correlation is set to :math:`\pm1` in the regular kernels and the singular kernels
(``Activation.parallel_singular_keys``), whose sum in every Stein template tends to zero, are
dropped. For exactly parallel units (duplicated or rescaled rows) this is the exact limit; for
units within an angle :math:`\sqrt\tau` of parallel it changes entries by :math:`O(\sqrt\tau)`
relative. Just above the threshold the closed forms lose about :math:`\epsilon/\sqrt{1-\rho^2}`
relative accuracy to cancellation. A :class:`~symhess.errors.SymhessAccuracyWarning` says when
the parallel limit was taken.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..activations import Activation
from .templates import BlockSpec
from ..expectation.stein import diagonal_template, pair_template
from ..errors import SymhessAccuracyWarning
from ..kernels.codegen import compile_pair_kernel, compile_single_kernel

__all__ = ["template_matrices", "CLAMP_TOL", "check_zero_rows"]

#: threshold on 1 - rho^2 below which units count as parallel (activations singular there)
CLAMP_TOL = 1e-14


def check_zero_rows(act: Activation, sq_norms: np.ndarray, what: str) -> None:
    """Reject zero rows where the activation's derivative at 0 is undefined (ReLU)."""
    if act.undefined_at_zero:
        zero = np.flatnonzero(sq_norms == 0.0)
        if zero.size:
            raise ValueError(
                f"row {int(zero[0])} of {what} is zero: {act.spec!r} is not differentiable at 0, so the "
                "expected Hessian is undefined there; perturb or remove that hidden unit"
            )


def _parallel(act: Activation, qa: np.ndarray, qb: np.ndarray, cov: np.ndarray, warn: bool):
    """Mask of (numerically) parallel pairs, and the covariance with those pairs set to +-sqrt(q1 q2)."""
    if not act.singular_at_parallel:
        return None, cov
    qq = qa[:, None] * qb[None, :]
    parallel = cov**2 > qq * (1.0 - CLAMP_TOL)
    if not parallel.any():
        return None, cov
    if warn:
        i, g = np.argwhere(parallel)[0]
        warnings.warn(
            f"hidden units {int(i)} and {int(g)} are parallel (1 - rho^2 < {CLAMP_TOL:g}): the parallel "
            f"limit of the {act.spec!r} kernels was taken (exact for parallel rows; O(1e-7) relative otherwise)",
            SymhessAccuracyWarning,
            stacklevel=4,
        )
    # |c| a few ulps above sqrt(q1 q2): the compiled kernels clip q1*q2 - c**2 at 0 and rho at +-1
    # (codegen.sqrt_nonnegative, codegen.arccos_clipped), so both take their exact parallel values
    c_par = np.sign(cov) * np.sqrt(qq) * (1 + 8 * np.finfo(float).eps)
    return parallel, np.where(parallel, c_par, cov)


def template_matrices(
    act: Activation, spec: BlockSpec, A: np.ndarray, B: np.ndarray, *, same: bool, warn: bool = True
) -> dict[str, np.ndarray]:
    """Coefficient matrices ``basis -> (len(A), len(B))`` of a block template for all unit pairs.

    Parameters
    ----------
    act : Activation
        The activation.
    spec : BlockSpec
        Derivative orders and number of input factors.
    A, B : ndarray
        Unit weight vectors as rows, same number of columns.
    same : bool
        ``A`` and ``B`` are the same units: the diagonal uses one-variable formulas.
    warn : bool
        Warn when a correlation had to be clamped.
    """
    qa = np.einsum("ij,ij->i", A, A)
    qb = qa if same else np.einsum("ij,ij->i", B, B)
    check_zero_rows(act, qa, "W")
    if not same:
        check_zero_rows(act, qb, "the partner weights")
    cov = A @ B.T
    if same:
        np.fill_diagonal(cov, 0.0)  # the diagonal is replaced below; keep its pair value finite
    parallel, cov = _parallel(act, qa, qb, cov, warn)
    template = pair_template(spec.alpha, spec.beta, spec.n_x)
    keys = tuple(sorted(set(template.values())))
    with np.errstate(divide="ignore", invalid="ignore"):
        values = compile_pair_kernel(act, keys)(qa[:, None], qb[None, :], cov)
    out = {basis: np.array(values[k]) for basis, k in template.items()}
    if parallel is not None:
        for basis, key in template.items():
            if key in act.parallel_singular_keys:
                out[basis][parallel] = 0.0
    if same:
        diag_t = diagonal_template(spec.alpha, spec.beta, spec.n_x)
        dkeys = tuple(sorted(set(diag_t.values())))
        dvals = compile_single_kernel(act, dkeys)(qa)
        idx = np.arange(len(qa))
        for basis, mat in out.items():
            mat[idx, idx] = dvals[diag_t[basis]] if basis in diag_t else 0.0
    return out
