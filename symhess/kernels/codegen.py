r"""Compile SymPy expectation formulas to vectorised NumPy functions (``lambdify`` policy).

Place in the package: engine, kernels. Policy (see ``docs/design``):

* ``modules=[quadrature, "scipy", "numpy"]``: ``"numpy"`` alone maps ``erf`` to ``math.erf``,
  which fails on arrays; quadrature nodes (:class:`~symhess.expectation.pairs.PairQuadrature`) print as
  calls into :mod:`symhess.kernels.quadrature`.
* one joint ``cse`` over all formulas compiled together;
* free symbols are checked against the declared arguments before code generation;
* square roots in pair kernels clip negative rounding residue at zero
  (:func:`sqrt_nonnegative`) and ``arccos`` clips its argument to [-1, 1]
  (:func:`arccos_clipped`): their arguments are determinants of Gram matrices and correlations,
  in [0, inf) and [-1, 1] in exact arithmetic; exactly parallel units put them on the boundary
  up to a few ulps;
* every output is broadcast to the batch shape (a constant formula returns a scalar otherwise);
* compiled kernels are cached per (activation, keys): activations are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import sympy as sp

from ..activations import Activation
from ..expectation.four_point import cross_four_point_expectation, four_point_expectation
from ..expectation.pairs import (cross_pair_expectation, cross_quadrature_node, pair_expectation, quadrature_nodes,
                                 single_expectation)
from ..symbols import FOUR_ARGS, PAIR_ARGS, q
from .quadrature import _gram_determinant, gaussian_pair_quadrature, gaussian_single_quadrature
from ..errors import InvalidParameterError, NoClosedFormError
from .four_point_quadrature import gaussian_four_point_quadrature
from .cross_pair_quadrature import cross_pair_quadrature

__all__ = ["sqrt_nonnegative", "arccos_clipped", "stable_pair_form", "CompiledKernel", "compile_pair_kernel", "compile_single_kernel",
           "compile_four_point_kernel", "lambdify_checked", "compile_cross_pair_kernel",
           "compile_cross_four_point_kernel"]


@dataclass(frozen=True)
class CompiledKernel:
    """A compiled batch of formulas.

    Attributes
    ----------
    keys : tuple
        What each output is (``(a, b)`` pair orders or ``(a, b, m)``).
    exprs : tuple of sympy.Expr
        The formulas.
    args : tuple of sympy.Symbol
        Argument order of ``fn``.
    fn : callable
        ``fn(*arrays) -> tuple of arrays``, broadcast to the arguments' common shape.
    source : str
        The generated Python source.
    """

    keys: tuple
    exprs: tuple
    args: tuple
    fn: Callable
    source: str

    def __call__(self, *arrays: np.ndarray) -> dict:
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
        shape = arrays[0].shape
        values = self.fn(*arrays)
        return {k: np.broadcast_to(np.asarray(v, dtype=float), shape) for k, v in zip(self.keys, values)}

    @property
    def op_count(self) -> int:
        """Operation count of the formulas after common-subexpression elimination."""
        repl, reduced = sp.cse(list(self.exprs))
        return int(sum(sp.count_ops(e) for _, e in repl) + sum(sp.count_ops(e) for e in reduced))


def lambdify_checked(args: tuple, exprs: list, extra_modules: dict | None = None) -> tuple[Callable, str]:
    """``lambdify`` after checking that every free symbol is a declared argument.

    Raises
    ------
    ValueError
        Naming the first symbol that is missing from ``args`` (an unsubstituted parameter).
    """
    declared = set(args)
    for expr in exprs:
        missing = sorted(str(s) for s in sp.sympify(expr).free_symbols - declared)
        if missing:
            raise InvalidParameterError(
                f"symbol(s) {missing} missing from the kernel arguments {tuple(str(a) for a in args)}; "
                "give every activation parameter a numeric value before compiling"
            )
    modules = ([extra_modules] if extra_modules else []) + ["scipy", "numpy"]
    fn = sp.lambdify(args, list(exprs), modules=modules, cse=True)
    import inspect

    return fn, inspect.getsource(fn)


def sqrt_nonnegative(x):
    """``sqrt(max(x, 0))``: square root of a quantity that is nonnegative in exact arithmetic."""
    return np.sqrt(np.maximum(x, 0.0))


def arccos_clipped(x):
    """``arccos(clip(x, -1, 1))``: arccosine of a correlation."""
    return np.arccos(np.clip(x, -1.0, 1.0))


def arcsin_clipped(x):
    """``arcsin(clip(x, -1, 1))``: arcsine of a correlation."""
    return np.arcsin(np.clip(x, -1.0, 1.0))


_GRAM = sp.Function("gram_determinant")


def stable_pair_form(expr: sp.Expr) -> sp.Expr:
    r"""Rewrite a pair expectation for accurate float evaluation as :math:`|\rho|\to1`.

    The Gram determinant :math:`q_1q_2-c^2` is evaluated by error-free products (accurate to a few
    ulps of itself, not of :math:`q_1q_2`), and :math:`\arccos(\pm c/\sqrt{q_1q_2})` becomes
    :math:`\operatorname{atan2}(\sqrt{q_1q_2-c^2},\pm c)`, which keeps full relative accuracy near
    :math:`\pm1` where the arccosine of a rounded correlation does not. The value is unchanged in exact
    arithmetic.
    """
    q1, q2, c = PAIR_ARGS
    gram = q1 * q2 - c**2
    G = _GRAM(q1, q2, c)
    expr = expr.replace(lambda e: e.is_Add and sp.expand(e - gram) == 0, lambda e: G)
    rho = c / (sp.sqrt(q1) * sp.sqrt(q2))

    def is_acos_of_rho(e):
        return isinstance(e, sp.acos) and sp.simplify(e.args[0] ** 2 - rho**2) == 0

    return expr.replace(is_acos_of_rho, lambda e: sp.atan2(sp.sqrt(G), sp.sign(e.args[0] / rho) * c))


def _bivariate_normal_cdf():
    from .means import bivariate_normal_cdf

    return bivariate_normal_cdf


def _quadrature_modules(act: Activation) -> dict:
    pair_node, single_node = quadrature_nodes(act)

    def pair_impl(a, b, x1, x2, xc):
        return gaussian_pair_quadrature(act, int(a), int(b), x1, x2, xc)

    def single_impl(a, b, m, x):
        return gaussian_single_quadrature(act, int(a), int(b), int(m), x)

    from .means import bivariate_normal_cdf

    return {pair_node.__name__: pair_impl, single_node.__name__: single_impl, "sqrt": sqrt_nonnegative,
            "BivariateNormalCDF": bivariate_normal_cdf,
            "arccos": arccos_clipped, "acos": arccos_clipped, "gram_determinant": _gram_determinant}


@lru_cache(maxsize=None)
def compile_pair_kernel(act: Activation, keys: tuple[tuple[int, int], ...]) -> CompiledKernel:
    r"""Compile :math:`K_{ab}(q_1,q_2,c)` for every ``(a, b)`` in ``keys`` into one function."""
    act.require_numeric()
    exprs = tuple(pair_expectation(act, a, b) for a, b in keys)
    fn, src = lambdify_checked(PAIR_ARGS, [stable_pair_form(e) for e in exprs], _quadrature_modules(act))
    return CompiledKernel(tuple(keys), exprs, PAIR_ARGS, fn, src)


@lru_cache(maxsize=None)
def compile_cross_pair_kernel(act1: Activation, act2: Activation, keys: tuple[tuple[int, int], ...]) -> CompiledKernel:
    r"""Compile :math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]` (:func:`~symhess.expectation.pairs.cross_pair_expectation`) for ``keys``.

    Without a closed form (two different smooth activations) the formulas are
    :class:`~symhess.expectation.pairs.CrossPairQuadrature` nodes, evaluated by
    :func:`symhess.kernels.cross_pair_quadrature.cross_pair_quadrature` (an error estimate, recorded).

    Raises
    ------
    NoClosedFormError
        If the two activations have no closed-form cross expectation and one of them is not smooth.
    """
    act1.require_numeric()
    act2.require_numeric()
    exprs = tuple(cross_pair_expectation(act1, act2, a, b) for a, b in keys)
    modules = {"sqrt": sqrt_nonnegative, "asin": arcsin_clipped, "arcsin": arcsin_clipped,
               "acos": arccos_clipped, "arccos": arccos_clipped, "gram_determinant": _gram_determinant,
               "BivariateNormalCDF": _bivariate_normal_cdf()}
    # no closed form for a smooth pair: the CrossPairQuadrature node, one vectorised quadrature call per key
    modules[cross_quadrature_node(act1, act2).__name__] = _cross_quadrature_impl(act1, act2)
    fn, src = lambdify_checked(PAIR_ARGS, [stable_pair_form(e) for e in exprs], modules)
    return CompiledKernel(tuple(keys), exprs, PAIR_ARGS, fn, src)


def _cross_quadrature_impl(act1: Activation, act2: Activation):
    def impl(a, b, x1, x2, xc):
        return cross_pair_quadrature(act1, int(a), act2, int(b), x1, x2, xc)

    return impl


@lru_cache(maxsize=None)
def compile_single_kernel(act: Activation, keys: tuple[tuple[int, int, int], ...]) -> CompiledKernel:
    r"""Compile :math:`D^{(m)}_{ab}(q)` for every ``(a, b, m)`` in ``keys`` into one function."""
    act.require_numeric()
    exprs = tuple(single_expectation(act, a, b, m) for a, b, m in keys)
    fn, src = lambdify_checked((q,), list(exprs), _quadrature_modules(act))
    return CompiledKernel(tuple(keys), exprs, (q,), fn, src)


@lru_cache(maxsize=None)
def compile_four_point_kernel(act: Activation, keys: tuple[tuple[int, int, int, int], ...]) -> CompiledKernel:
    r"""Compile :math:`K_{abcd}(C)` for every order quadruple in ``keys``; arguments :data:`~symhess.symbols.FOUR_ARGS`.

    Raises
    ------
    NoClosedFormError
        If an expectation has neither a closed form nor exact moments
        (:func:`symhess.expectation.four_point.four_point_expectation`) and the activation is not smooth
        (a kink, as in ReLU, defeats the quadrature's convergence).

    Notes
    -----
    Without a closed form the kernel integrates numerically
    (:func:`symhess.kernels.four_point_quadrature.gaussian_four_point_quadrature`; its ``exprs`` are
    placeholder symbols): calls raise :class:`~symhess.errors.SymhessAccuracyError` where the error
    estimate exceeds :data:`~symhess.kernels.four_point_quadrature.DEFAULT_RTOL` times
    :math:`E|\text{integrand}|`.
    """
    try:
        exprs = tuple(four_point_expectation(act, k) for k in keys)
    except NoClosedFormError:
        return _four_point_quadrature_kernel(act, tuple(keys))
    fn, src = lambdify_checked(FOUR_ARGS, list(exprs), {"sqrt": sqrt_nonnegative, "asin": arcsin_clipped, "arcsin": arcsin_clipped})
    return CompiledKernel(tuple(keys), exprs, FOUR_ARGS, fn, src)


@lru_cache(maxsize=None)
def compile_cross_four_point_kernel(acts: tuple[Activation, Activation, Activation, Activation],
                                   keys: tuple[tuple[int, int, int, int], ...]) -> CompiledKernel:
    r"""Compile :math:`E[\prod_k\sigma_k^{(o_k)}(y_k)]`, one activation per argument
    (:func:`~symhess.expectation.four_point.cross_four_point_expectation`), for ``keys``; arguments
    :data:`~symhess.symbols.FOUR_ARGS`.

    Raises
    ------
    NoClosedFormError
        If the activations have no closed-form four-point expectation (then
        :func:`~symhess.kernels.four_point_quadrature.gaussian_four_point_quadrature` with ``acts=``
        integrates it numerically).
    """
    for a in acts:
        a.require_numeric()
    exprs = tuple(cross_four_point_expectation(acts, k) for k in keys)
    fn, src = lambdify_checked(FOUR_ARGS, list(exprs), {"sqrt": sqrt_nonnegative, "asin": arcsin_clipped, "arcsin": arcsin_clipped})
    return CompiledKernel(tuple(keys), exprs, FOUR_ARGS, fn, src)


_NONSMOOTH = (sp.Heaviside, sp.DiracDelta, sp.Piecewise, sp.Abs, sp.sign, sp.Max, sp.Min)


def _four_point_quadrature_kernel(act: Activation, keys: tuple[tuple[int, int, int, int], ...]) -> CompiledKernel:
    act.require_numeric()
    top = max(max(k) for k in keys) + 2
    for order in range(top + 1):
        if act.derivative(order).has(*_NONSMOOTH):
            raise NoClosedFormError(
                f"no closed form is known for the four-point expectations {keys} of {act.spec!r}, and its "
                f"derivative of order {order} is not smooth ({act.derivative(order)}): the four-dimensional "
                "quadrature converges too slowly across a kink to meet its accuracy; use a smooth activation "
                "(erf, tanh, gelu, ...), or drop the term (second_order=False, exact as the learning rate tends to 0)"
            )

    def fn(*arrays):
        c11, c22, c33, c44, c12, c13, c14, c23, c24, c34 = arrays
        C = np.stack([np.stack([c11, c12, c13, c14], -1), np.stack([c12, c22, c23, c24], -1),
                      np.stack([c13, c23, c33, c34], -1), np.stack([c14, c24, c34, c44], -1)], -2)
        return [gaussian_four_point_quadrature(act, k, C) for k in keys]

    exprs = tuple(sp.Symbol(f"K_{''.join(map(str, k))}_quadrature") for k in keys)
    return CompiledKernel(keys, exprs, FOUR_ARGS, fn, "# gaussian_four_point_quadrature (no generated source)")
