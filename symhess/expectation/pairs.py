r"""Gaussian pair expectations of activation derivatives, by the best available route.

Place in the package: engine, Gaussian expectations (imports activations, symbols, errors).

:func:`pair_expectation` returns :math:`K_{ab}(q_1,q_2,c)=E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` and
:func:`single_expectation` returns :math:`D^{(m)}_{ab}(q)=E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`,
trying in order:

1. the activation's own closed form (``gaussian_pair`` / ``gaussian_single`` hooks);
2. exact moments (Isserlis) when :math:`\sigma` is a polynomial, symbolic coefficients allowed;
3. Price's theorem from the base kernel :math:`K_{00}` (``pair_kernel`` hook):

   .. math::

       \frac{\partial K}{\partial c} = E[\sigma'(u)\sigma'(v)],\qquad
       \frac{\partial K}{\partial q_1} = \tfrac12 E[\sigma''(u)\sigma(v)],

   so :math:`K_{ab} = \partial_c^{m}(2\partial_{q_1})^{(a-m)/2}(2\partial_{q_2})^{(b-m)/2}K_{00}`,
   :math:`m=\min(a,b)`, whenever :math:`a\equiv b \pmod 2`. On the diagonal,
   :math:`D^{(0)}_{ab}=K_{ab}(q,q,q)`, :math:`D^{(1)}_{ab}=(K_{a+1,b}+K_{a,b+1})(q,q,q)` and
   :math:`D^{(2)}_{ab}=2\,\mathrm{d}D^{(0)}_{ab}/\mathrm{d}q` (the heat equation), for activations whose
   pair kernels are continuous at :math:`c^2=q_1q_2`;
4. otherwise an unevaluated :class:`GaussianQuadrature` node, which the kernels layer evaluates by
   numerical quadrature (a self-checking trapezoidal rule) with a :class:`~symhess.errors.QuadratureWarning`.

Each function also reports the route it took (``with_route=True``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from ..symbols import c, q, q1, q2, z
from .moments import expect_polynomial_pair, univariate_moment
from ..errors import InvalidParameterError, NoClosedFormError

__all__ = [
    "pair_expectation", "single_expectation", "GaussianQuadrature", "PairQuadrature", "SingleQuadrature",
    "quadrature_nodes", "ROUTES", "cross_pair_expectation", "CrossPairQuadrature", "cross_quadrature_node",
]

#: names of the routes, in the order they are tried
ROUTES = ("closed form", "exact moments", "Price's theorem", "quadrature")


class GaussianQuadrature(sp.Function):
    """Unevaluated Gaussian expectation with no closed form; subclassed per activation."""

    activation: Activation | None = None


class PairQuadrature(GaussianQuadrature):
    r"""``E_<act>(a, b, q1, q2, c)`` :math:`= E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` (numerical)."""

    nargs = 5


class SingleQuadrature(GaussianQuadrature):
    r"""``D_<act>(a, b, m, q)`` :math:`= E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]` (numerical)."""

    nargs = 4


class CrossPairQuadrature(GaussianQuadrature):
    r"""``E_<act>_x_<partner>(a, b, q1, q2, c)`` :math:`= E[\sigma^{(a)}(u)\tau^{(b)}(v)]` for two activations (numerical)."""

    nargs = 5
    partner: Activation | None = None


@lru_cache(maxsize=None)
def cross_quadrature_node(act1: Activation, act2: Activation) -> type:
    """The quadrature function class of the cross expectations of ``act1`` (first argument) and ``act2`` (cached)."""
    tags = ["".join(ch if ch.isalnum() else "_" for ch in a.spec) for a in (act1, act2)]
    return type(f"E_{tags[0]}_x_{tags[1]}", (CrossPairQuadrature,), {"activation": act1, "partner": act2})


@lru_cache(maxsize=None)
def quadrature_nodes(act: Activation) -> tuple[type, type]:
    """The two quadrature function classes bound to ``act`` (cached, one pair per activation)."""
    tag = "".join(ch if ch.isalnum() else "_" for ch in act.spec)
    pair = type(f"E_{tag}", (PairQuadrature,), {"activation": act})
    single = type(f"D_{tag}", (SingleQuadrature,), {"activation": act})
    return pair, single


def _price(base: sp.Expr, a: int, b: int, x1: sp.Expr, x2: sp.Expr, xc: sp.Expr) -> sp.Expr:
    m = min(a, b)
    out = sp.diff(base, xc, m) if m else base
    for var, extra in ((x1, a - m), (x2, b - m)):
        if extra:
            out = sp.diff(out, var, extra // 2) * 2 ** (extra // 2)
    return out


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Cheap simplification that keeps closed forms readable (no full ``simplify``)."""
    return sp.factor_terms(sp.together(sp.powsimp(expr)))


@lru_cache(maxsize=None)
def _pair(act: Activation, a: int, b: int) -> tuple[sp.Expr, str]:
    hook = act.gaussian_pair(a, b, q1, q2, c)
    if hook is not None:
        return hook, ROUTES[0]
    if act.is_polynomial:
        u, v = sp.symbols("u v", real=True)
        p_u = sp.Poly(act.derivative(a, u), u) if act.derivative(a, u) != 0 else None
        p_v = sp.Poly(act.derivative(b, v), v) if act.derivative(b, v) != 0 else None
        if p_u is None or p_v is None:
            return sp.Integer(0), ROUTES[1]
        return expect_polynomial_pair(p_u, p_v, q1, q2, c), ROUTES[1]
    base = act.pair_kernel(q1, q2, c)
    if base is not None and (a - b) % 2 == 0:
        return _tidy(_price(base, a, b, q1, q2, c)), ROUTES[2]
    pair_node, _ = quadrature_nodes(act)
    return pair_node(a, b, q1, q2, c), ROUTES[3]


def pair_expectation(act: ActivationLike, a: int, b: int, *, with_route: bool = False):
    r"""Return :math:`K_{ab}(q_1,q_2,c)=E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` as a SymPy expression.

    Parameters
    ----------
    act : str or Activation
        The activation.
    a, b : int
        Derivative orders, :math:`\ge 0`.
    with_route : bool
        Also return the route taken (one of :data:`ROUTES`).

    Examples
    --------
    >>> pair_expectation("quadratic:eps=1", 0, 0)
    2*c**2 + c + q1*q2
    """
    if a < 0 or b < 0:
        raise InvalidParameterError(f"derivative orders a={a}, b={b} must be >= 0")
    expr, route = _pair(get_activation(act), int(a), int(b))
    return (expr, route) if with_route else expr


@lru_cache(maxsize=None)
def _single(act: Activation, a: int, b: int, m: int) -> tuple[sp.Expr, str]:
    hook = act.gaussian_single(a, b, m, q)
    if hook is not None:
        return hook, ROUTES[0]
    if act.is_polynomial:
        g = sp.expand(sp.diff(act.derivative(a, z) * act.derivative(b, z), z, m))
        if g == 0:
            return sp.Integer(0), ROUTES[1]
        poly = sp.Poly(g, z)
        return sp.expand(sum(cf * univariate_moment(n, q) for (n,), cf in poly.terms())), ROUTES[1]
    smooth = not act.singular_at_parallel
    if smooth and act.pair_kernel(q1, q2, c) is not None:
        on_diag = {q1: q, q2: q, c: q}
        if m == 0 and (a - b) % 2 == 0:
            k_ab, _ = _pair(act, a, b)
            return sp.simplify(k_ab.subs(on_diag)), ROUTES[2]
        if m == 1 and (a - b) % 2 == 1:
            k1, _ = _pair(act, a + 1, b)
            k2, _ = _pair(act, a, b + 1)
            return sp.simplify((k1 + k2).subs(on_diag)), ROUTES[2]
        if m == 2 and (a - b) % 2 == 0:
            d0, route0 = _single(act, a, b, 0)
            if route0 != ROUTES[3]:
                return sp.simplify(2 * sp.diff(d0, q)), ROUTES[2]
    _, single_node = quadrature_nodes(act)
    return single_node(a, b, m, q), ROUTES[3]


def single_expectation(act: ActivationLike, a: int, b: int, m: int, *, with_route: bool = False):
    r"""Return :math:`D^{(m)}_{ab}(q)=E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`.

    Used for a hidden unit paired with itself. See the module docstring for the routes.
    """
    if min(a, b, m) < 0:
        raise InvalidParameterError(f"orders a={a}, b={b}, m={m} must be >= 0")
    expr, route = _single(get_activation(act), int(a), int(b), int(m))
    return (expr, route) if with_route else expr


def _erf_scale(act: Activation):
    """The scale :math:`s` of an ``erf(s z)`` activation (no shift), else ``None``."""
    from ..activations.erf import Erf

    return act.scale if isinstance(act, Erf) and not act.is_shifted else None


@lru_cache(maxsize=None)
def _cross_pair(act1: Activation, act2: Activation, a: int, b: int) -> tuple[sp.Expr, str]:
    if act1 == act2:
        return _pair(act1, a, b)
    if act1.is_polynomial and act2.is_polynomial:
        u, v = sp.symbols("u v", real=True)
        du, dv = act1.derivative(a, u), act2.derivative(b, v)
        if du == 0 or dv == 0:
            return sp.Integer(0), ROUTES[1]
        return expect_polynomial_pair(sp.Poly(du, u), sp.Poly(dv, v), q1, q2, c), ROUTES[1]
    from ..activations.erf import Erf

    if isinstance(act1, Erf) and isinstance(act2, Erf) and (act1.is_shifted or act2.is_shifted):
        # erf(s u + t) = erf(s (u + t/s)): the centred pair with means, through Phi_2
        return act1.cross_pair(act2, a, b, q1, q2, c), ROUTES[0]
    s1, s2 = _erf_scale(act1), _erf_scale(act2)
    if s1 is not None and s2 is not None:
        if (a + b) % 2:  # erf^(a) has parity (-1)^(a+1): the product is odd under (u, v) -> (-u, -v)
            return sp.Integer(0), ROUTES[0]
        base = 2 / sp.pi * sp.asin(2 * s1 * s2 * c / sp.sqrt((1 + 2 * s1**2 * q1) * (1 + 2 * s2**2 * q2)))
        return _tidy(_price(base, a, b, q1, q2, c)), ROUTES[2]
    for act, order, name in ((act1, a, "sigma"), (act2, b, "tau")):
        bad = _kink(act, order)
        if bad is not None:
            raise NoClosedFormError(
                f"no closed form for E[sigma^({a})(u) tau^({b})(v)] with sigma={act1.spec!r}, tau={act2.spec!r}, "
                f"and {name}^({bad}) = {act.derivative(bad)} is not smooth, so the numerical quadrature of two "
                "different activations (geometric convergence for smooth ones) does not apply: two different "
                "activations are supported when both are smooth (erf, tanh, gelu, softplus, sigmoid, "
                "polynomials, ...); a kinked one (relu) only as the same activation on both sides"
            )
    return cross_quadrature_node(act1, act2)(a, b, q1, q2, c), ROUTES[3]


#: SymPy nodes that make an expression non-smooth (a kink or a jump)
_NONSMOOTH = (sp.Heaviside, sp.DiracDelta, sp.Piecewise, sp.Abs, sp.sign, sp.Max, sp.Min)


def _kink(act: Activation, order: int) -> int | None:
    """The lowest derivative order ``<= order`` of ``act`` that is not smooth (kink, jump), else ``None``."""
    for k in range(order + 1):
        if act.derivative(k).has(*_NONSMOOTH):
            return k
    return None


def cross_pair_expectation(act1: ActivationLike, act2: ActivationLike, a: int, b: int, *, with_route: bool = False):
    r"""Return :math:`E[\sigma^{(a)}(u)\,\tau^{(b)}(v)]` for two activations, :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])`.

    Routes: the same activation, :func:`pair_expectation`; two polynomials, exact bivariate moments
    (Isserlis); :math:`\sigma=\mathrm{erf}(s_1\cdot)`, :math:`\tau=\mathrm{erf}(s_2\cdot)`, the arcsine kernel

    .. math::

        E[\mathrm{erf}(s_1u)\,\mathrm{erf}(s_2v)] = \frac2\pi\arcsin\frac{2s_1s_2c}
            {\sqrt{(1+2s_1^2q_1)(1+2s_2^2q_2)}}

    and Price's theorem for the derivatives (:math:`\partial_c K=E[\sigma'\tau']`,
    :math:`\partial_{q_1}K=\tfrac12E[\sigma''\tau]`), zero by parity when :math:`a+b` is odd; with a shift
    (:math:`\mathrm{erf}(s_iz+t_i)`) the centred pair with means :math:`t_i/s_i`, through :math:`\Phi_2`.
    Any other pair of smooth activations (e.g. tanh and erf, gelu and erf, softplus and tanh, erf and a
    polynomial): an unevaluated :class:`CrossPairQuadrature` node (route ``"quadrature"``), which the
    kernels layer evaluates numerically with an error estimate
    (:func:`symhess.kernels.cross_pair_quadrature.cross_pair_quadrature`).

    Raises
    ------
    NoClosedFormError
        For two different activations without a closed form when :math:`\sigma^{(k)}`, :math:`k\le a`, or
        :math:`\tau^{(k)}`, :math:`k\le b`, is not smooth (a kink or a jump, as in ReLU): the quadrature's
        convergence needs smooth integrands. The message names the combination.

    Examples
    --------
    >>> cross_pair_expectation("linear", "quadratic:eps=1", 0, 0)
    c
    >>> cross_pair_expectation("tanh", "erf", 2, 0, with_route=True)
    (E_tanh_x_erf_scale_1(2, 0, q1, q2, c), 'quadrature')
    """
    if a < 0 or b < 0:
        raise InvalidParameterError(f"derivative orders a={a}, b={b} must be >= 0")
    expr, route = _cross_pair(get_activation(act1), get_activation(act2), int(a), int(b))
    return (expr, route) if with_route else expr
