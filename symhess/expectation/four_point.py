r"""Four-point Gaussian expectations of activation derivatives.

Place in the package: engine, Gaussian expectations (imports activations, symbols).

For a centred Gaussian quadruple :math:`y=(y_1,y_2,y_3,y_4)\sim N(0, C)`,

.. math::

    K_{abcd}(C) = E\big[\sigma^{(a)}(y_1)\,\sigma^{(b)}(y_2)\,\sigma^{(c)}(y_3)\,\sigma^{(d)}(y_4)\big],

a formula in the ten entries :math:`C_{11},\dots,C_{34}` (:data:`symhess.symbols.FOUR_ARGS`). The
order-parameter equations of online SGD need :math:`K_{1100}` (Saad & Solla's :math:`I_4`) for the
term of second order in the learning rate. Routes, tried in order:

1. the activation's closed form (the ``gaussian_four_point`` hook; erf has one for ``(1, 1, 0, 0)``);
2. exact moments when :math:`\sigma` is a polynomial, by Isserlis' recursion
   :math:`E[y_i\,m(y)] = \sum_j C_{ij}\,E[\partial_j m(y)]`;
3. otherwise :class:`~symhess.errors.NoClosedFormError`; the compiled kernels
   (:func:`symhess.kernels.codegen.compile_four_point_kernel`) then integrate numerically with an
   error estimate (:mod:`symhess.kernels.four_point_quadrature`), smooth activations only.

:func:`cross_four_point_expectation` allows a different activation per argument,
:math:`E[\prod_k\sigma_k^{(o_k)}(y_k)]` (a teacher with its own activation): exact moments when all
four are polynomials, and for :math:`\sigma_k=\mathrm{erf}(s_k\,\cdot)` at any scales the unit-scale
closed form at the rescaled covariance,

.. math::

    E\Big[\prod_k \sigma_k^{(o_k)}(y_k)\Big] = \Big(\prod_k s_k^{o_k}\Big)\,
        K^{\mathrm{erf}}_{o_1o_2o_3o_4}(DCD),\qquad D=\operatorname{diag}(s_1,\dots,s_4),

since :math:`\sigma_k^{(o)}(y)=s_k^{o}\,\mathrm{erf}^{(o)}(s_ky)` and :math:`Dy\sim N(0,DCD)`.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from ..errors import InvalidParameterError, NoClosedFormError
from ..symbols import C_11, C_12, C_13, C_14, C_22, C_23, C_24, C_33, C_34, C_44

__all__ = ["four_point_expectation", "cross_four_point_expectation", "gaussian_moment", "covariance_matrix",
           "FOUR_POINT_ROUTES"]

#: names of the routes, in the order they are tried
FOUR_POINT_ROUTES = ("closed form", "exact moments")


def covariance_matrix() -> sp.Matrix:
    """The symmetric 4x4 matrix of the covariance symbols :math:`C_{ab}`."""
    return sp.Matrix([
        [C_11, C_12, C_13, C_14],
        [C_12, C_22, C_23, C_24],
        [C_13, C_23, C_33, C_34],
        [C_14, C_24, C_34, C_44],
    ])


@lru_cache(maxsize=None)
def gaussian_moment(powers: tuple[int, ...]) -> sp.Expr:
    r""":math:`E[\prod_a y_a^{p_a}]` for :math:`y\sim N(0, C)` (up to four variables), exactly.

    Isserlis' recursion on the first variable with a positive power,
    :math:`E[y_i\,y^{p-e_i}] = \sum_j C_{ij}\,(p-e_i)_j\,E[y^{p-e_i-e_j}]`.

    Examples
    --------
    >>> gaussian_moment((1, 1, 0, 0))
    C_12
    >>> gaussian_moment((2, 0, 0, 0))
    C_11
    """
    powers = tuple(int(p) for p in powers) + (0,) * (4 - len(powers))
    if any(p < 0 for p in powers):
        return sp.Integer(0)
    if sum(powers) % 2:
        return sp.Integer(0)
    if sum(powers) == 0:
        return sp.Integer(1)
    C = covariance_matrix()
    i = next(k for k, p in enumerate(powers) if p > 0)
    rest = list(powers)
    rest[i] -= 1
    total = sp.Integer(0)
    for j in range(4):
        if rest[j] == 0:
            continue
        lower = list(rest)
        lower[j] -= 1
        total += C[i, j] * rest[j] * gaussian_moment(tuple(lower))
    return sp.expand(total)


def _polynomial_four_point(act: Activation | tuple[Activation, ...], orders: tuple[int, int, int, int]) -> sp.Expr:
    acts = tuple(act) if isinstance(act, tuple) else (act,) * 4
    ys = sp.symbols("y1:5", real=True)
    polys = []
    for act, order, y in zip(acts, orders, ys):
        d = sp.expand(act.derivative(order, y))
        if d == 0:
            return sp.Integer(0)
        polys.append(sp.Poly(d, y))
    product = sp.Poly(sp.expand(sp.Mul(*[p.as_expr() for p in polys])), *ys)
    total = sp.Integer(0)
    for monom, coeff in product.terms():
        total += coeff * gaussian_moment(tuple(monom))
    return sp.expand(total)


@lru_cache(maxsize=None)
def _four_point(act: Activation, orders: tuple[int, int, int, int]) -> tuple[sp.Expr, str]:
    hook = act.gaussian_four_point(orders, covariance_matrix())
    if hook is not None:
        return hook, FOUR_POINT_ROUTES[0]
    if act.is_polynomial:
        return _polynomial_four_point(act, orders), FOUR_POINT_ROUTES[1]
    raise NoClosedFormError(
        f"no closed form is known for the four-point expectation E[s^({orders[0]}) s^({orders[1]}) "
        f"s^({orders[2]}) s^({orders[3]})] of {act.spec!r} (closed forms: erf for orders (1, 1, 0, 0), "
        "any polynomial); compile_four_point_kernel integrates it numerically for smooth activations "
        "(symhess.kernels.four_point_quadrature, with an error estimate); for kinked ones drop the "
        "second-order term of online SGD (second_order=False, exact as the learning rate tends to 0)"
    )


def four_point_expectation(act: ActivationLike, orders: tuple[int, int, int, int] = (1, 1, 0, 0), *,
                           with_route: bool = False):
    r"""Return :math:`K_{abcd}(C)=E[\sigma^{(a)}(y_1)\sigma^{(b)}(y_2)\sigma^{(c)}(y_3)\sigma^{(d)}(y_4)]`.

    Parameters
    ----------
    act : str or Activation
        The activation.
    orders : tuple of four ints
        Derivative orders :math:`(a, b, c, d)`, each :math:`\ge 0`.
    with_route : bool
        Also return the route taken (one of :data:`FOUR_POINT_ROUTES`).

    Raises
    ------
    NoClosedFormError
        If neither a closed form nor exact moments apply.

    Examples
    --------
    >>> four_point_expectation("linear")
    C_34
    >>> four_point_expectation("poly:coeffs=[0,1]", (1, 0, 0, 0))
    0
    """
    orders = tuple(int(o) for o in orders)
    if len(orders) != 4 or min(orders) < 0:
        raise InvalidParameterError(f"orders={orders!r} must be four derivative orders >= 0")
    expr, route = _four_point(get_activation(act), orders)
    return (expr, route) if with_route else expr


def _erf_scale(act: Activation):
    """The scale :math:`s` of an ``erf(s z)`` activation, else ``None``."""
    from ..activations.erf import Erf

    return act.scale if isinstance(act, Erf) else None


@lru_cache(maxsize=None)
def _cross_four_point(acts: tuple[Activation, ...], orders: tuple[int, int, int, int]) -> tuple[sp.Expr, str]:
    if all(a == acts[0] for a in acts):
        return _four_point(acts[0], orders)
    if all(a.is_polynomial for a in acts):
        return _polynomial_four_point(acts, orders), FOUR_POINT_ROUTES[1]
    scales = [_erf_scale(a) for a in acts]
    if all(s is not None for s in scales):
        from ..activations.erf import Erf

        C = covariance_matrix()
        rescaled = sp.Matrix(4, 4, lambda i, j: scales[i] * scales[j] * C[i, j])
        unit = Erf(sp.Integer(1)).gaussian_four_point(orders, rescaled)
        if unit is not None:
            return sp.Mul(*[s**o for s, o in zip(scales, orders)]) * unit, FOUR_POINT_ROUTES[0]
    names = ", ".join(a.spec for a in acts)
    raise NoClosedFormError(
        f"no closed form is known for the four-point expectation with orders {orders} of the activations "
        f"({names}): mixed activations are supported when all four are polynomials (exact moments) or all "
        "are erf at any scales (orders (1, 1, 0, 0)); gaussian_four_point_quadrature(..., acts=...) "
        "integrates it numerically for smooth activations"
    )


def cross_four_point_expectation(acts, orders: tuple[int, int, int, int] = (1, 1, 0, 0), *,
                                 with_route: bool = False):
    r"""Return :math:`E[\sigma_1^{(a)}(y_1)\sigma_2^{(b)}(y_2)\sigma_3^{(c)}(y_3)\sigma_4^{(d)}(y_4)]`,
    one activation per argument, :math:`y\sim N(0, C)`, as a formula in :data:`symhess.symbols.FOUR_ARGS`.

    Routes: four equal activations, :func:`four_point_expectation`; four polynomials, exact moments
    (Isserlis); :math:`\sigma_k=\mathrm{erf}(s_k\,\cdot)`, the erf closed form at unit scale evaluated at
    the rescaled covariance :math:`DCD`, :math:`D=\operatorname{diag}(s_k)`, times
    :math:`\prod_k s_k^{o_k}` (for the orders with an erf closed form: ``(1, 1, 0, 0)``).

    Parameters
    ----------
    acts : sequence of four str or Activation
        The activation of each argument.
    orders : tuple of four ints
        Derivative orders, each :math:`\ge 0`.
    with_route : bool
        Also return the route taken (one of :data:`FOUR_POINT_ROUTES`).

    Raises
    ------
    NoClosedFormError
        For any other combination (the message names what is supported).

    Examples
    --------
    >>> cross_four_point_expectation(["linear", "linear", "quadratic:eps=1", "quadratic:eps=1"])
    C_33*C_44 + 2*C_34**2 + C_34
    >>> cross_four_point_expectation(["erf", "erf", "erf", "erf:scale=2"], with_route=True)[1]
    'closed form'
    """
    if isinstance(acts, (str, Activation)) or len(acts) != 4:
        raise InvalidParameterError(f"acts={acts!r} must be a sequence of four activations, one per argument")
    orders = tuple(int(o) for o in orders)
    if len(orders) != 4 or min(orders) < 0:
        raise InvalidParameterError(f"orders={orders!r} must be four derivative orders >= 0")
    expr, route = _cross_four_point(tuple(get_activation(a) for a in acts), orders)
    return (expr, route) if with_route else expr
