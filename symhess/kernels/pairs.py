r"""Numeric pair-expectation matrices for two sets of hidden units.

Place in the pipeline: layer 5. For units :math:`a_i` (rows of ``A``) and :math:`b_g` (rows of
``B``), :func:`template_matrices` evaluates every coefficient of a block template
(:func:`symhess.derivation.pair_template`) on the overlaps
:math:`q_1=a_i\cdot a_i`, :math:`q_2=b_g\cdot b_g`, :math:`c=a_i\cdot b_g`, all pairs at once.
With ``same=True`` (``A is B``) the diagonal :math:`i=g` uses the one-variable formulas of
:func:`symhess.derivation.diagonal_template`.

Degenerate covariances: for activations whose pair kernels are singular as :math:`|\rho|\to1`
(ReLU), the correlation is clamped to :math:`|\rho|\le\sqrt{1-\tau}`, :math:`\tau=10^{-12}`.
The singular terms cancel in every Hessian entry (their sum is bounded and tends to its limit),
so the clamp changes entries by :math:`O(\sqrt\tau)` relative; a
:class:`~symhess.errors.SymhessAccuracyWarning` says when it was used.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..activations import Activation
from ..derivation import BlockSpec, diagonal_template, pair_template
from ..errors import SymhessAccuracyWarning
from .codegen import compile_pair_kernel, compile_single_kernel

__all__ = ["template_matrices", "CLAMP_TOL", "check_zero_rows"]

#: clamp of 1 - rho^2 for activations singular at parallel units
CLAMP_TOL = 1e-12


def check_zero_rows(act: Activation, sq_norms: np.ndarray, what: str) -> None:
    """Reject zero rows where the activation's derivative at 0 is undefined (ReLU)."""
    if act.undefined_at_zero:
        zero = np.flatnonzero(sq_norms == 0.0)
        if zero.size:
            raise ValueError(
                f"row {int(zero[0])} of {what} is zero: {act.spec!r} is not differentiable at 0, so the "
                "expected Hessian is undefined there; perturb or remove that hidden unit"
            )


def _clamp(act: Activation, qa: np.ndarray, qb: np.ndarray, cov: np.ndarray, warn: bool) -> np.ndarray:
    if not act.singular_at_parallel:
        return cov
    bound = np.sqrt(qa[:, None] * qb[None, :] * (1.0 - CLAMP_TOL))
    clamped = np.abs(cov) > bound
    if warn and clamped.any():
        i, g = np.argwhere(clamped)[0]
        warnings.warn(
            f"hidden units {int(i)} and {int(g)} are (nearly) parallel: the correlation was clamped to "
            f"1 - {CLAMP_TOL:g} for {act.spec!r} (entries accurate to about 1e-6 relative)",
            SymhessAccuracyWarning,
            stacklevel=4,
        )
    return np.where(clamped, np.sign(cov) * bound, cov)


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
    cov = _clamp(act, qa, qb, cov, warn)
    if same:
        np.fill_diagonal(cov, 0.0)  # the diagonal is replaced below; keep its pair value finite
    template = pair_template(spec.alpha, spec.beta, spec.n_x)
    keys = tuple(sorted(set(template.values())))
    values = compile_pair_kernel(act, keys)(qa[:, None], qb[None, :], cov)
    out = {basis: np.array(values[k]) for basis, k in template.items()}
    if same:
        diag_t = diagonal_template(spec.alpha, spec.beta, spec.n_x)
        dkeys = tuple(sorted(set(diag_t.values())))
        dvals = compile_single_kernel(act, dkeys)(qa)
        idx = np.arange(len(qa))
        for basis, mat in out.items():
            mat[idx, idx] = dvals[diag_t[basis]] if basis in diag_t else 0.0
    return out
