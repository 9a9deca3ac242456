r"""Hyperbolic tangent :math:`\sigma(z)=\tanh(z)`: no closed form, numerical expectations.

Place in the package: engine, activations. No closed-form hooks are given, so every Gaussian expectation falls back to
quadrature (a trapezoidal rule whose step is set by the poles of tanh at :math:`\pm i\pi/2`), with a
:class:`~symhess.errors.QuadratureWarning`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..symbols import z
from .base import Activation
from .registry import register_activation

__all__ = ["Tanh"]


@register_activation
@dataclass(frozen=True)
class Tanh(Activation):
    r""":math:`\sigma(z)=\tanh(z)` (expectations by quadrature)."""

    name: ClassVar[str] = "tanh"

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.tanh(x)

    def analytic_strip(self) -> float:
        r"""Poles of :math:`\tanh` at :math:`z = i\pi(k + 1/2)`: analytic for :math:`|\operatorname{Im} z| < \pi/2`."""
        return math.pi / 2
