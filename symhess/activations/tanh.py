r"""Hyperbolic tangent :math:`\sigma(z)=\tanh(z)`: no closed form, numerical expectations.

Place in the pipeline: layer 1. No hooks are given, so every Gaussian expectation falls back to
Gauss–Hermite quadrature, with a :class:`~symhess.errors.QuadratureWarning`.
"""

from __future__ import annotations

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
