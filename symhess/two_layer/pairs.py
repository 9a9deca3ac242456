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
relative. Just above the threshold the compiled closed forms keep their accuracy: the Gram
determinant :math:`q_1q_2-c^2` is evaluated by error-free products and the arccosine of a correlation as an
``atan2`` (:func:`symhess.kernels.codegen.stable_pair_form`). A :class:`~symhess.errors.SymhessAccuracyWarning` says when
the parallel limit was taken.
"""

from __future__ import annotations

import warnings

import numpy as np

from typing import Callable

from ..activations import Activation
from .blocks import BlockTemplate, block_template
from .templates import BLOCK_NAMES, GAUSS_NEWTON, BlockSpec
from ..errors import InvalidParameterError, SymhessAccuracyWarning
from ..kernels.codegen import compile_cross_pair_kernel, compile_pair_kernel, compile_single_kernel
from ..validation import check_variance_range

__all__ = ["template_matrices", "fill_template", "block_coefficients", "CLAMP_TOL", "check_zero_rows",
           "cross_template_matrices"]

#: threshold on 1 - rho^2 below which units count as parallel (activations singular there)
CLAMP_TOL = 1e-14


def check_zero_rows(act: Activation, sq_norms: np.ndarray, what: str, rows: np.ndarray | None = None) -> None:
    """Reject zero rows where the activation's derivative at 0 is undefined (ReLU).

    A nonzero row whose squared norm underflows float64 is reported as such, not as zero.
    """
    if act.undefined_at_zero:
        zero = np.flatnonzero(sq_norms == 0.0)
        if zero.size:
            i = int(zero[0])
            if rows is not None and np.any(rows[i] != 0):
                norm = float(np.linalg.norm(rows[i] / np.abs(rows[i]).max())) * float(np.abs(rows[i]).max())
                raise InvalidParameterError(
                    f"row {i} of {what} has norm {norm:.3g}, whose square underflows float64; this route needs "
                    "squared row norms above ~1e-308 (the dense Hessian at the optimum rescales ReLU rows and "
                    "takes any norm)"
                )
            raise InvalidParameterError(
                f"row {i} of {what} is zero: {act.spec!r} is not differentiable at 0, so the "
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


def fill_template(
    template: BlockTemplate,
    pair_kernel: Callable,
    single_kernel: Callable,
    qa: np.ndarray,
    qb: np.ndarray,
    cov: np.ndarray,
    *,
    same: bool,
) -> dict[str, np.ndarray]:
    """Coefficient matrices ``basis -> (len(qa), len(qb))`` of a template from the Gram entries of the units.

    The one evaluation loop of every number type: ``pair_kernel(q1, q2, c)`` and
    ``single_kernel(q)`` return ``key -> value`` for ``template.pair_keys`` and
    ``template.diagonal_keys`` (float arrays from :mod:`symhess.kernels.codegen`, or object arrays
    of exact or ball numbers from :mod:`symhess.two_layer.objects`). With ``same`` the diagonal
    :math:`i=g` is overwritten with the one-unit values.
    """
    values = pair_kernel(qa[:, None], qb[None, :], cov)
    out = {basis: _full(values[key], cov.shape) for basis, key in template.pair.items()}
    if same:
        dvals = single_kernel(qa)
        idx = np.arange(len(qa))
        for basis, mat in out.items():
            mat[idx, idx] = dvals[template.diagonal[basis]] if basis in template.diagonal else 0
    return out


def _full(value: object, shape: tuple[int, ...]) -> np.ndarray:
    """A fresh array of ``shape`` from a kernel value (an array of that shape, or a scalar number)."""
    if isinstance(value, np.ndarray):
        return np.array(np.broadcast_to(value, shape))
    return np.full(shape, value, dtype=object)


def template_matrices(
    act: Activation, spec: BlockSpec, A: np.ndarray, B: np.ndarray, *, same: bool, warn: bool = True
) -> dict[str, np.ndarray]:
    """Coefficient matrices ``basis -> (len(A), len(B))`` of a block template for all unit pairs (float).

    Parameters
    ----------
    act : Activation
        The activation.
    spec : BlockSpec
        Derivative orders and number of input factors (its :func:`~symhess.two_layer.templates.block_template`
        is evaluated).
    A, B : ndarray
        Unit weight vectors as rows, same number of columns.
    same : bool
        ``A`` and ``B`` are the same units: the diagonal uses one-variable formulas.
    warn : bool
        Warn when a correlation had to be clamped.
    """
    with np.errstate(over="ignore", under="ignore"):
        qa = np.einsum("ij,ij->i", A, A)
        qb = qa if same else np.einsum("ij,ij->i", B, B)
    check_zero_rows(act, qa, "W", A)
    check_variance_range(act, qa, "W")
    if not same:
        check_zero_rows(act, qb, "the partner weights", B)
        check_variance_range(act, qb, "the partner weights")
    cov = A @ B.T
    if same:
        np.fill_diagonal(cov, 0.0)  # the diagonal is replaced below; keep its pair value finite
    parallel, cov = _parallel(act, qa, qb, cov, warn)
    template = block_template(spec)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        out = fill_template(
            template, compile_pair_kernel(act, template.pair_keys), compile_single_kernel(act, template.diagonal_keys),
            qa, qb, cov, same=same,
        )
    if parallel is not None:
        for basis, key in template.pair.items():
            if key in act.parallel_singular_keys:
                out[basis][parallel] = 0.0  # never the diagonal of same units (its covariance is 0 here)
    return out


def block_coefficients(act: Activation, W: np.ndarray, *, warn: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """Gauss–Newton coefficient matrices ``block -> basis -> (Nh, Nh)`` of all pairs of units of ``W`` (float)."""
    return {
        name: template_matrices(act, GAUSS_NEWTON[name], W, W, same=True, warn=warn and name == BLOCK_NAMES[0])
        for name in BLOCK_NAMES
    }


def cross_template_matrices(
    act: Activation, partner_act: Activation | None, spec: BlockSpec, A: np.ndarray, B: np.ndarray
) -> dict[str, np.ndarray]:
    r"""Like :func:`template_matrices` (``same=False``) with the partner units ``B`` of another activation.

    The pair expectations are :math:`E[\sigma^{(\alpha)}(a_i\cdot x)\,\tau^{(\beta)}(b_g\cdot x)]` with
    :math:`\sigma` = ``act`` and :math:`\tau` = ``partner_act``
    (:func:`symhess.expectation.pairs.cross_pair_expectation`); the Stein templates are the same,
    since Stein's lemma and Price's theorem never use that the two functions agree. ``partner_act``
    ``None`` or equal to ``act``: :func:`template_matrices`.

    Raises
    ------
    NoClosedFormError
        If the two activations have no closed-form cross expectations.
    """
    if partner_act is None or partner_act == act:
        return template_matrices(act, spec, A, B, same=False, warn=False)
    with np.errstate(over="ignore", under="ignore"):
        qa = np.einsum("ij,ij->i", A, A)
        qb = np.einsum("ij,ij->i", B, B)
    check_variance_range(act, qa, "W")
    check_variance_range(partner_act, qb, "the teacher weights")
    template = block_template(spec)
    kernel = compile_cross_pair_kernel(act, partner_act, template.pair_keys)
    cov = A @ B.T
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        values = kernel(qa[:, None], qb[None, :], cov)
    return {basis: np.array(np.broadcast_to(values[key], cov.shape)) for basis, key in template.pair.items()}
