r"""Numeric Gaussian expectations with means (hidden biases): compiled closed forms, else quadrature.

Place in the package: engine, kernels. Evaluates, vectorised over arrays of units,

* :func:`pair_means`: :math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]`,
  :math:`(u,v)\sim N((m_1,m_2),[[q_1,c],[c,q_2]])`;
* :func:`single_means`: :math:`E[(\prod_k\sigma^{(o_k)})^{(n)}(h)]`, :math:`h\sim N(m,q)`.

The formulas of :mod:`symhess.expectation.means` (closed forms through the bivariate normal
distribution function, exact moments for polynomials) are lambdified once per activation and order.
:math:`\Phi_2(h,k;\rho)` is evaluated through Owen's T function (Owen 1956),

.. math::

    \Phi_2(h,k;\rho)=\tfrac12\big(\Phi(h)+\Phi(k)\big)-T(h,a_h)-T(k,a_k)-\beta,\qquad
    a_h=\frac{k-\rho h}{h\sqrt{1-\rho^2}},\ a_k=\frac{h-\rho k}{k\sqrt{1-\rho^2}},

:math:`\beta=\tfrac12` when :math:`hk<0` (or :math:`hk=0` and :math:`h+k<0`), else 0, with
``scipy.special.owens_t`` (accurate to rounding; ``scipy.stats``' multivariate normal CDF is a
randomised integration of about 1e-6 accuracy and is not used). The limits :math:`\rho=\pm1` are
taken exactly. Smooth activations without a closed form (tanh, sigmoid, softplus, GELU, ...) go
through :mod:`symhess.kernels.quadrature` with the nodes shifted by the means, keeping its error
estimate; other activations raise :class:`~symhess.errors.NoClosedFormError`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
from scipy import special

from ..activations import Activation
from ..errors import InvalidParameterError, NoClosedFormError

__all__ = ["bivariate_normal_cdf", "pair_means", "single_means", "means_route"]


def _ndtr(x):
    return special.ndtr(x)


def bivariate_normal_cdf(h, k, rho) -> np.ndarray:
    r""":math:`\Phi_2(h,k;\rho)=P(X\le h, Y\le k)` for standard normals of correlation :math:`\rho`, vectorised.

    Owen's T representation (module docstring); :math:`|\rho|=1` exactly:
    :math:`\Phi(\min(h,k))` and :math:`\max(0,\Phi(h)+\Phi(k)-1)`; correlations a few ulps beyond
    :math:`\pm1` (rounding) are clipped.
    """
    h, k, rho = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (h, k, rho)))
    rho = np.clip(rho, -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.sqrt((1.0 - rho) * (1.0 + rho))
        ah = (k - rho * h) / (h * r)
        ak = (h - rho * k) / (k * r)
        # h = 0 (or k = 0): T(0, a) = arctan(a) / 2pi; the sign of a is that of the numerator
        ah = np.where(h == 0, np.copysign(np.inf, k - rho * h), ah)
        ak = np.where(k == 0, np.copysign(np.inf, h - rho * k), ak)
        ah = np.where(np.isnan(ah), 0.0, ah)
        ak = np.where(np.isnan(ak), 0.0, ak)
        beta = np.where((h * k < 0) | ((h * k == 0) & (h + k < 0)), 0.5, 0.0)
        out = 0.5 * (_ndtr(h) + _ndtr(k)) - special.owens_t(h, ah) - special.owens_t(k, ak) - beta
    both0 = (h == 0) & (k == 0)
    out = np.where(both0, 0.25 + np.arcsin(rho) / (2 * np.pi), out)
    out = np.where(rho == 1.0, _ndtr(np.minimum(h, k)), out)
    out = np.where(rho == -1.0, np.maximum(_ndtr(h) + _ndtr(k) - 1.0, 0.0), out)
    return np.clip(out, 0.0, 1.0)


_MODULES = [{"BivariateNormalCDF": bivariate_normal_cdf}, "scipy", "numpy"]


def _lambdify(args, expr) -> Callable:
    import sympy as sp

    free = expr.free_symbols - set(args)
    if free:
        raise NoClosedFormError(f"formula has unsubstituted symbols {sorted(map(str, free))}")
    fn = sp.lambdify(args, expr, modules=_MODULES, cse=True)

    def call(*arrays):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            out = fn(*arrays)
        return np.broadcast_to(np.asarray(out, dtype=float), np.broadcast(*arrays).shape)

    return call


@lru_cache(maxsize=None)
def _pair_fn(act: Activation, partner: Activation | None, a: int, b: int) -> Callable | None:
    from ..expectation.means import MEAN_ARGS, pair_expectation_means

    expr = pair_expectation_means(act, a, b, partner)
    return None if expr is None else _lambdify(MEAN_ARGS, expr)


@lru_cache(maxsize=None)
def _single_fn(act: Activation, orders: tuple[int, ...], n: int) -> Callable | None:
    from ..expectation.means import SINGLE_ARGS, single_expectation_means

    expr = single_expectation_means(act, orders, n)
    return None if expr is None else _lambdify(SINGLE_ARGS, expr)


def _smooth(act: Activation) -> bool:
    """Whether the quadrature applies: every derivative a function (no kink, no jump)."""
    if act.singular_at_parallel or act.undefined_at_zero:
        return False
    import sympy as sp

    from ..symbols import z

    expr = act.derivative(2, z)
    return not expr.has(sp.DiracDelta, sp.Heaviside, sp.sign, sp.Abs, sp.Max, sp.Min, sp.Piecewise)


def means_route(act: Activation, partner: Activation | None = None) -> str:
    """``"closed form"``, ``"exact moments"`` or ``"quadrature"``: how :func:`pair_means` computes; raises if none."""
    from ..expectation.means import pair_expectation_means

    if partner is not None and partner == act:
        partner = None
    tau = act if partner is None else partner
    if act.is_polynomial and tau.is_polynomial:
        return "exact moments"
    if pair_expectation_means(act, 0, 0, partner) is not None:
        return "closed form"
    if partner is None and _smooth(act):
        return "quadrature"
    what = f"E[{act.spec}(u) {tau.spec}(v)]" if partner is not None else f"E[{act.spec}(u) {act.spec}(v)]"
    raise NoClosedFormError(
        f"no Gaussian expectation with means (hidden biases) for {what}: it needs a closed form "
        "(the activation hook gaussian_pair_means), two polynomials, or one smooth activation for the quadrature "
        "with shifted nodes; kinked activations other than the ReLU family and mixed non-polynomial pairs "
        "other than erf/erf are not covered"
    )


def pair_means(act: Activation, a: int, b: int, m1, m2, q1, q2, c, partner: Activation | None = None) -> np.ndarray:
    r""":math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]`, :math:`(u,v)\sim N((m_1,m_2),[[q_1,c],[c,q_2]])`, vectorised.

    Parameters
    ----------
    act : Activation
        :math:`\sigma`.
    a, b : int
        Derivative orders (for ReLU, orders 2 and up are the distributions :math:`\delta^{(a-2)}`).
    m1, m2, q1, q2, c : array_like
        Means, variances and covariance, broadcast together.
    partner : Activation, optional
        :math:`\tau` when it is not :math:`\sigma`.

    Returns
    -------
    ndarray
        The broadcast shape of the arguments.

    Raises
    ------
    NoClosedFormError
        No closed form, no exact moments and no quadrature for this pair (:func:`means_route`).
    """
    if partner is not None and partner == act:
        partner = None
    arrays = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (m1, m2, q1, q2, c)))
    if means_route(act, partner) == "quadrature":
        from .quadrature import gaussian_pair_quadrature

        m1_, m2_, q1_, q2_, c_ = arrays
        return gaussian_pair_quadrature(act, a, b, q1_, q2_, c_, m1=m1_, m2=m2_)
    return np.array(_pair_fn(act, partner, a, b)(*arrays))


def single_means(act: Activation, orders: tuple[int, ...], n: int, m, q) -> np.ndarray:
    r""":math:`E[(\prod_k\sigma^{(o_k)})^{(n)}(h)]`, :math:`h\sim N(m,q)`; ``orders`` of length 1 or 2.

    Parameters
    ----------
    act : Activation
        :math:`\sigma`.
    orders : tuple of int
        ``(o,)`` for :math:`E[\sigma^{(o+n)}(h)]`, ``(a, b)`` for the product :math:`\sigma^{(a)}\sigma^{(b)}`
        at one point (a unit with itself).
    n : int
        Derivative of the product (:math:`E[G^{(n)}]=\partial_m^nE[G]`).
    m, q : array_like
        Mean and variance, broadcast together.

    Raises
    ------
    InvalidParameterError
        ``orders`` of another length.
    NoClosedFormError
        No route for this activation (:func:`means_route`).
    """
    orders = tuple(int(o) for o in orders)
    if len(orders) not in (1, 2):
        raise InvalidParameterError(f"orders={orders} must have one or two entries")
    m, q = np.broadcast_arrays(np.asarray(m, dtype=float), np.asarray(q, dtype=float))
    fn = _single_fn(act, orders, n)
    if fn is not None:
        return np.array(fn(m, q))
    means_route(act)  # raises where nothing applies
    from .quadrature import gaussian_single_quadrature

    a, b = (orders[0] + n, None) if len(orders) == 1 else orders
    if b is None:
        return gaussian_single_quadrature(act, a, -1, 0, q, mean=m)
    return gaussian_single_quadrature(act, a, b, n, q, mean=m)
