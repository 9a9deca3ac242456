r"""Exact rank of the expected Hessian at the optimum for polynomial activations and integer teachers.

Place in the package: outputs, checking (private). The per-pair block formulas of
:func:`symhess.derive_blocks` are polynomials with rational coefficients in the overlaps, so at an
integer teacher every entry is a rational number: the exact route of the kernels
(:func:`symhess.two_layer.exact.exact_expected_hessian`) gives the matrix, which is scaled to
integers and its rank computed exactly with python-flint (``fmpz_mat.rank``, fraction-free
elimination).
"""

from __future__ import annotations

from math import lcm

import flint

from ..activations import Activation
from ..errors import NoClosedFormError
from ..two_layer.exact import exact_expected_hessian

__all__ = ["exact_hessian", "exact_rank", "entry_degree", "check_exact_activation"]


def check_exact_activation(act: Activation) -> None:
    """Raise unless ``act`` is a polynomial with rational coefficients (exact ranks need one)."""
    if not act.is_polynomial:
        raise NoClosedFormError(
            f"exact ranks need a polynomial activation; {act.spec!r} is not one. For erf, tanh or relu "
            "the rank is numerical (symhess.two_layer.rank) and a counting rule cannot be checked exactly"
        )
    coeffs = act.polynomial_coeffs()
    bad = [cf for cf in coeffs if not (cf.is_Rational)]
    if bad:
        raise NoClosedFormError(
            f"exact ranks need rational activation coefficients; {act.spec!r} has {bad} (give numbers, "
            "e.g. 'quadratic:eps=0.5')"
        )


def entry_degree(act: Activation) -> int:
    r"""Degree of every Hessian entry as a polynomial in the weights :math:`(W, v)`: :math:`2n` for degree :math:`n`."""
    return 2 * int(act.degree)


def exact_hessian(act: Activation, W: list[list[int]], v: list[int]) -> tuple[list[list[int]], int]:
    r"""The expected Hessian at the optimum for integer weights, exactly: ``(D * H as ints, D)``.

    .. math::

        H = E_x[\nabla_\theta f\,\nabla_\theta f^\top],\qquad \theta = (W_{\text{row-major}}, v),

    the exact route of the kernels (:func:`symhess.two_layer.exact.exact_expected_hessian`: the
    block templates evaluated over :math:`\mathbb Q` and placed by the one assembly), times the
    common denominator :math:`D` of its entries (which leaves the rank unchanged).

    Parameters
    ----------
    act : Activation
        A polynomial activation with rational coefficients.
    W : list of lists of int
        Shape ``(Nh, Ni)``.
    v : list of int
        Shape ``(Nh,)``.
    """
    check_exact_activation(act)
    Hq = exact_expected_hessian(act, W, v)
    entries = Hq.entries()
    den = lcm(*(int(x.q) for x in entries)) if entries else 1
    P = Hq.nrows()
    flat = [int(x.p) * (den // int(x.q)) for x in entries]
    return [flat[r * P:(r + 1) * P] for r in range(P)], den


def exact_rank(act: Activation, W: list[list[int]], v: list[int]) -> int:
    r"""Rank over :math:`\mathbb Q` of :func:`exact_hessian` (python-flint, fraction-free elimination)."""
    H, _ = exact_hessian(act, W, v)
    return int(flint.fmpz_mat(H).rank())
