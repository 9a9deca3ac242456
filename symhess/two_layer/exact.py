r"""The exact expected Hessian over :math:`\mathbb Q` (polynomial activations, rational weights).

Place in the package: the two-layer teacher-student family. Route (a) of the exact rank: the per-pair formulas of
:func:`symhess.two_layer.blocks.derive_blocks` — exact polynomials in the overlaps
:math:`Q_{ii}, Q_{kk}, Q_{ik}` when :math:`\sigma` is a polynomial (Isserlis' theorem) — are
evaluated in exact rational arithmetic (``flint.fmpq``) on :math:`Q = WW^\top` for every pair of
hidden units at once, and assembled into the dense :math:`P\times P` matrix
(:func:`symhess.two_layer.objects.assemble_gauss_newton`). Route (b), the Jacobian of the
coefficient map, is :mod:`symhess.two_layer.coefficients`; it shares no formula with this one.

Inputs must be rational: ints, :class:`fractions.Fraction`, ``flint.fmpq``, ``sympy.Rational``,
decimal strings, or floats (a float is the exact binary rational it stores, e.g. ``0.1`` is
:math:`3602879701896397/2^{55}`; prefer :func:`symhess.rational_teacher`, whose dyadic entries stay
small).
"""

from __future__ import annotations

import flint
import numpy as np
import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from ..errors import NoClosedFormError, NotRationalError, ShapeError
from ..linalg.rationals import rational_array, to_fmpq, to_fmpq_mat
from .objects import RATIONAL, assemble_gauss_newton, pair_coefficients

__all__ = [
    "NotRationalError", "to_fmpq", "rational_array", "rational_weights", "rational_coefficients",
    "require_polynomial", "exact_expected_hessian", "to_fmpq_mat",
]

def rational_weights(W: object, v: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``W`` (Nh, Ni) and ``v`` (Nh,) to exact ``fmpq`` object arrays.

    Raises
    ------
    ShapeError, NotRationalError, NonFiniteError, TypeError
        As :func:`symhess.validation.as_weights` and :func:`to_fmpq`.
    """
    Wq, vq = rational_array(W, "W"), rational_array(v, "v")
    if Wq.ndim != 2:
        raise ShapeError(f"W must have shape (n_hidden, n_in); got shape {Wq.shape}")
    if vq.ndim != 1:
        raise ShapeError(f"v must have shape (n_hidden,); got shape {vq.shape}")
    if Wq.shape[0] != vq.shape[0]:
        raise ShapeError(f"W has {Wq.shape[0]} rows (hidden units) but v has {vq.shape[0]} entries; they must agree")
    if Wq.size == 0:
        raise ShapeError(f"W of shape {Wq.shape} is empty; n_hidden and n_in must be >= 1")
    return Wq, vq


def require_polynomial(act: Activation, what: str = "the exact rank") -> None:
    """Raise :class:`~symhess.errors.NoClosedFormError` unless ``act`` is a polynomial."""
    if not act.is_polynomial:
        raise NoClosedFormError(
            f"{what} needs a polynomial activation, but {act.spec!r} is not a polynomial: its expected Hessian "
            "involves transcendental functions (arcsin, square roots, ...) that are irrational at rational "
            "weights. Use hessian_rank(act, W, v, certify=True) to prove full rank in ball arithmetic, or the "
            "float rank hessian_rank(act, W, v)"
        )


def rational_coefficients(act: ActivationLike) -> tuple[flint.fmpq, ...]:
    r"""Exact coefficients :math:`(c_0, c_1, \dots, c_n)` of a polynomial activation.

    Raises
    ------
    NoClosedFormError
        If the activation is not a polynomial.
    NotRationalError
        If a coefficient is symbolic or irrational (e.g. ``quadratic`` with ``eps`` a symbol).
    """
    act = get_activation(act)
    require_polynomial(act)
    out = []
    for k, cf in enumerate(act.polynomial_coeffs()):
        cf = sp.sympify(cf)
        if not cf.is_Rational:
            raise NotRationalError(
                f"coefficient c_{k} = {cf} of {act.spec!r} is not a rational number; the exact rank needs "
                "rational activation parameters (e.g. 'quadratic:eps=1/2')"
            )
        out.append(flint.fmpq(int(cf.p), int(cf.q)))
    return tuple(out)


def exact_expected_hessian(act: ActivationLike, W: object, v: object) -> flint.fmpq_mat:
    r"""The expected Hessian at the optimum, exactly over :math:`\mathbb Q`, from the pair formulas.

    .. math::

        H = E_x[\nabla_\theta f\,\nabla_\theta f^\top],\qquad f(x) = \sum_i v_i\,\sigma(w_i\cdot x),
        \quad x\sim N(0, I),

    with every Gaussian expectation an exact polynomial in the overlaps (Isserlis), evaluated in
    rational arithmetic. Parameter order :math:`\theta = (W\text{ row-major}, v)`.

    Parameters
    ----------
    act : str or Activation
        A polynomial activation with rational coefficients (``"quadratic:eps=1/2"``, ``"poly:coeffs=[1,0,1]"``).
    W, v : array_like of rationals
        Weights, shapes ``(Nh, Ni)`` and ``(Nh,)`` (see :func:`to_fmpq` for what counts as rational).

    Returns
    -------
    flint.fmpq_mat
        The :math:`P\times P` matrix, :math:`P = N_hN_i + N_h`.

    Raises
    ------
    NoClosedFormError
        Non-polynomial activation (use the ball-arithmetic certificate instead).
    NotRationalError
        Irrational weights or activation parameters.

    Examples
    --------
    >>> exact_expected_hessian("linear", [[1, 0]], [2])
    [4, 0, 2]
    [0, 4, 0]
    [2, 0, 1]
    """
    act = get_activation(act)
    rational_coefficients(act)  # raises for non-polynomial / irrational activations
    Wq, vq = rational_weights(W, v)
    Q = Wq.dot(Wq.T)
    coeffs = pair_coefficients(act, Q, RATIONAL)
    return to_fmpq_mat(assemble_gauss_newton(Wq, vq, coeffs))
