r"""Polynomial activations: ``linear``, ``quadratic`` (:math:`z+\epsilon z^2`) and ``poly``.

Place in the package: engine, activations. Polynomials need no hooks: the expectation layer computes their
Gaussian expectations exactly from Isserlis' theorem, with symbolic coefficients allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..errors import ActivationParameterError
from ..symbols import z
from .base import Activation, to_exact
from .registry import register_activation

__all__ = ["Linear", "Quadratic", "Polynomial"]


@register_activation
@dataclass(frozen=True)
class Linear(Activation):
    r""":math:`\sigma(z) = z`; the Hessian at the optimum has rank :math:`N_i`."""

    name: ClassVar[str] = "linear"

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return x


@register_activation
@dataclass(frozen=True)
class Quadratic(Activation):
    r""":math:`\sigma(z) = z + \epsilon z^2` (default :math:`\epsilon = 1`).

    Parameters
    ----------
    eps : number or sympy.Symbol
        Weight of the quadratic term; ``eps=0`` is the linear network.
    """

    name: ClassVar[str] = "quadratic"
    eps: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "eps", to_exact(self.eps, "eps"))

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return x + self.eps * x**2


@register_activation
@dataclass(frozen=True)
class Polynomial(Activation):
    r""":math:`\sigma(z) = \sum_{k=1}^{n} c_k z^k`, ``coeffs = [c_1, ..., c_n]`` (no constant term).

    Parameters
    ----------
    coeffs : sequence of numbers or sympy.Symbol
        Coefficients of :math:`z, z^2, \dots`. ``[0, 1]`` is the pure square :math:`z^2`.
    """

    name: ClassVar[str] = "poly"
    coeffs: tuple = (sp.Integer(1),)

    def __post_init__(self) -> None:
        raw = self.coeffs
        if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
            raise ActivationParameterError(
                f"poly coeffs={raw!r} must be a sequence [c1, c2, ...] of the coefficients of z, z^2, ..."
            )
        coeffs = tuple(to_exact(v, f"coeffs[{i}]") for i, v in enumerate(raw))
        if not coeffs or all(cf == 0 for cf in coeffs):
            raise ActivationParameterError(f"poly coeffs={list(raw)!r} must contain a nonzero coefficient")
        while len(coeffs) > 1 and coeffs[-1] == 0:
            coeffs = coeffs[:-1]
        object.__setattr__(self, "coeffs", coeffs)

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.Add(*[cf * x ** (k + 1) for k, cf in enumerate(self.coeffs)])
