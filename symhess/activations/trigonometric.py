r"""Sinusoidal units :math:`\sigma(z)=A\sin(sz+\varphi)`: ``sin``, ``cos`` and the ``rbf`` unit.

Place in the package: engine, activations. Special points of the family: ``sin:scale=s,phase=phi``
(:math:`A=1`), ``cos:scale=s`` (:math:`\varphi=\pi/2`) and ``rbf:gamma=g``
(:math:`A=\sqrt2`, :math:`s=\sqrt{2\gamma}`, :math:`\varphi=\pi/4`, whose kernel is the Gaussian RBF
kernel :math:`e^{-\gamma(q_1+q_2-2c)}`, Rahimi–Recht random features).

**Closed forms.** From the Gaussian characteristic function :math:`E[\cos(X+\psi)]=\cos\psi\,e^{-\mathrm{Var}X/2}`,

.. math::

    K_{00}=E[\sigma(u)\sigma(v)]=\frac{A^2}{2}\Big(e^{-s^2(q_1+q_2-2c)/2}
        -\cos(2\varphi)\,e^{-s^2(q_1+q_2+2c)/2}\Big),

an entire function of :math:`(q_1,q_2,c)`. Every derivative pair the Hessian needs follows exactly
by Price's theorem (:math:`\sigma^{(n)}(z)=As^n\sin(sz+\varphi+n\pi/2)` is again in the family), and
the one-unit expectations by setting :math:`q_1=q_2=c=q` (the kernels are smooth at parallel units).
No quadrature is ever used.

**Rank.** The gradient functions :math:`v_ix_j\,\sigma'(w_i\cdot x)` and :math:`\sigma(w_i\cdot x)` are
exponential polynomials with frequencies :math:`\pm sw_i`; for pairwise distinct :math:`w_i\ne\pm w_k`,
:math:`w_i\ne0`, :math:`v_i\ne0` they are linearly independent, so the Hessian at the optimum has
full rank :math:`P` (exact; periodicity and parity give only discrete symmetries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from ..errors import ActivationParameterError
from ..symbols import z
from .base import Activation, RankRule, full_rank_rule, to_exact
from .registry import register_activation

__all__ = ["Sin", "Cos", "Rbf"]


def _positive(value: object, name: str, act: str) -> sp.Expr:
    val = to_exact(value, name)
    if val.is_positive is False or (val.is_number and not val > 0):
        raise ActivationParameterError(f"{act} {name}={value!r} must be positive")
    return val


class _Sinusoid(Activation):
    r""":math:`A\sin(sz+\varphi)`; subclasses give :attr:`asp` = (A, s, phi)."""

    unit_family: ClassVar[str | None] = "frequencies"

    @property
    def asp(self) -> tuple[sp.Expr, sp.Expr, sp.Expr]:  # pragma: no cover - abstract
        raise NotImplementedError

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        amp, s, phi = self.asp
        return amp * sp.sin(s * x + phi)

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        amp, s, phi = self.asp
        s2 = s**2
        return amp**2 / 2 * (sp.exp(-s2 * (q1 + q2 - 2 * c) / 2)
                             - sp.cos(2 * phi) * sp.exp(-s2 * (q1 + q2 + 2 * c) / 2))

    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule | None:
        return RankRule(*full_rank_rule(n_in, n_hidden, "gradients are exponential polynomials with distinct frequencies "
                                              "+-s w_i (teacher rows pairwise non-(anti)parallel, nonzero)"))


@register_activation
@dataclass(frozen=True)
class Sin(_Sinusoid):
    r""":math:`\sigma(z)=\sin(sz+\varphi)`.

    Parameters
    ----------
    scale : positive number
        :math:`s` (default 1).
    phase : number
        :math:`\varphi` (default 0; ``"pi/2"`` gives :math:`\cos(sz)`).
    """

    name: ClassVar[str] = "sin"
    examples: ClassVar[tuple[str, ...]] = ('sin', 'sin:scale=0.7,phase=0.4')
    scale: sp.Expr = sp.Integer(1)
    phase: sp.Expr = sp.Integer(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _positive(self.scale, "scale", "sin"))
        object.__setattr__(self, "phase", to_exact(self.phase, "phase"))

    @property
    def asp(self):
        return sp.Integer(1), self.scale, self.phase


@register_activation
@dataclass(frozen=True)
class Cos(_Sinusoid):
    r""":math:`\sigma(z)=\cos(sz)` = ``sin:scale=s,phase=pi/2`` (even unit).

    Parameters
    ----------
    scale : positive number
        :math:`s` (default 1).
    """

    name: ClassVar[str] = "cos"
    examples: ClassVar[tuple[str, ...]] = ('cos',)
    scale: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _positive(self.scale, "scale", "cos"))

    @property
    def asp(self):
        return sp.Integer(1), self.scale, sp.pi / 2

    def expr(self, x: sp.Expr = z) -> sp.Expr:
        return sp.cos(self.scale * x)


@register_activation
@dataclass(frozen=True)
class Rbf(_Sinusoid):
    r""":math:`\sigma(z)=\sqrt2\sin(\sqrt{2\gamma}\,z+\pi/4)`, whose kernel is :math:`e^{-\gamma(q_1+q_2-2c)}`.

    Parameters
    ----------
    gamma : positive number
        :math:`\gamma` (default 1), the RBF kernel's inverse squared length scale.
    """

    name: ClassVar[str] = "rbf"
    examples: ClassVar[tuple[str, ...]] = ('rbf:gamma=0.5',)
    gamma: sp.Expr = sp.Integer(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", _positive(self.gamma, "gamma", "rbf"))

    @property
    def asp(self):
        return sp.sqrt(2), sp.sqrt(2 * self.gamma), sp.pi / 4

    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr:
        return sp.exp(-self.gamma * (q1 + q2 - 2 * c))
