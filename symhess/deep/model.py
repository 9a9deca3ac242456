r"""Concrete symbolic deep network: output, gradient and Hessian of the loss (SymPy).

Place in the package: the deep-network family (imports activations and errors).

For small widths :math:`(N_0,\dots,N_L)` with explicit symbols :math:`W^{(l)}_{ij}` (student) and
:math:`\tilde W^{(l)}_{ij}` (teacher of the same architecture),

.. math::

    a_0 = x,\quad h_l = W_la_{l-1},\quad a_l=\sigma_l(h_l)\ (l<L),\quad f = h_L\in\mathbb R^{N_L},\\
    e = f - f^\star,\qquad \ell=\tfrac12\lVert e\rVert^2,\qquad
    \nabla\ell = J^\top e,\qquad \nabla^2\ell = J^\top J + \sum_k e_k\nabla^2f_k,

with :math:`J=\partial f/\partial\theta` (:math:`N_L\times P`). At the optimum :math:`e=0` and
:math:`\nabla^2\ell = J^\top J`; the expected Hessian is :math:`E_x[J^\top J]`.
"""

from __future__ import annotations

from functools import cached_property

import sympy as sp

from .weights import check_widths, layer_activations

__all__ = ["DeepNet"]


class DeepNet:
    r"""A concrete deep network as SymPy expressions.

    Parameters
    ----------
    widths : sequence of int
        :math:`(N_0, \dots, N_L)` (keep them small: every entry is an explicit expression).
    activation : str, Activation, or a sequence of them
        One activation for every hidden layer, or one per hidden layer (``L - 1`` of them).

    Attributes
    ----------
    weights, weights_teacher : list of sympy.Matrix
        ``W_l`` with symbols ``W{l}_{i}_{j}`` and ``Wt{l}_{i}_{j}`` (``l`` from 1).
    x : sympy.Matrix
        Input symbols ``x_j``.
    theta : list of sympy.Symbol
        :math:`(W_1\text{ row-major}, \dots, W_L\text{ row-major})`.

    Examples
    --------
    >>> net = DeepNet((1, 1, 1), "linear")
    >>> net.output
    Matrix([[W1_0_0*W2_0_0*x_0]])
    >>> DeepNet((2, 2, 1), "linear").n_params
    6
    """

    def __init__(self, widths, activation) -> None:
        self.widths = check_widths(widths)
        self.depth = len(self.widths) - 1
        self.activations = layer_activations(activation, self.depth)
        real = {"real": True}

        def mats(prefix: str) -> list[sp.Matrix]:
            return [sp.Matrix(b, a, lambda i, j, l=l: sp.Symbol(f"{prefix}{l}_{i}_{j}", **real))
                    for l, (a, b) in enumerate(zip(self.widths[:-1], self.widths[1:]), start=1)]

        self.weights = mats("W")
        self.weights_teacher = mats("Wt")
        self.x = sp.Matrix(self.widths[0], 1, lambda j, _: sp.Symbol(f"x_{j}", **real))

    @property
    def theta(self) -> list[sp.Symbol]:
        """Student parameters, :math:`W_1, \\dots, W_L` row-major."""
        return [s for W in self.weights for s in W]

    @property
    def theta_teacher(self) -> list[sp.Symbol]:
        """Teacher parameters in the order of :attr:`theta`."""
        return [s for W in self.weights_teacher for s in W]

    @property
    def n_params(self) -> int:
        return len(self.theta)

    def at_optimum(self) -> dict[sp.Symbol, sp.Symbol]:
        """Substitution teacher -> student (the optimum :math:`\\theta=\\theta^\\star`)."""
        return dict(zip(self.theta_teacher, self.theta))

    def _forward(self, weights: list[sp.Matrix]) -> sp.Matrix:
        a = self.x
        for l, W in enumerate(weights):
            h = W * a
            if l < self.depth - 1:
                act = self.activations[l]
                a = h.applyfunc(lambda t, act=act: act.expr(t))
            else:
                a = h
        return a

    @cached_property
    def output(self) -> sp.Matrix:
        r"""Student output :math:`f(x)`, an :math:`N_L\times1` matrix."""
        return self._forward(self.weights)

    @cached_property
    def teacher_output(self) -> sp.Matrix:
        r"""Teacher output :math:`f^\star(x)`."""
        return self._forward(self.weights_teacher)

    @cached_property
    def residual(self) -> sp.Matrix:
        r""":math:`e = f - f^\star`."""
        return self.output - self.teacher_output

    @cached_property
    def loss(self) -> sp.Expr:
        r"""Per-input loss :math:`\ell=\frac12\lVert e\rVert^2`."""
        return sum((r**2 for r in self.residual), sp.Integer(0)) / 2

    @cached_property
    def output_jacobian(self) -> sp.Matrix:
        r""":math:`J = \partial f/\partial\theta` (:math:`N_L\times P`)."""
        return self.output.jacobian(self.theta)

    @cached_property
    def output_hessians(self) -> list[sp.Matrix]:
        r""":math:`\nabla^2_\theta f_k`, one per output."""
        return [sp.hessian(fk, self.theta) for fk in self.output]

    @cached_property
    def gradient(self) -> sp.Matrix:
        r"""Gradient of the per-input loss, :math:`J^\top e` (a column)."""
        return self.output_jacobian.T * self.residual

    @cached_property
    def gauss_newton(self) -> sp.Matrix:
        r""":math:`J^\top J`."""
        J = self.output_jacobian
        return J.T * J

    @cached_property
    def hessian(self) -> sp.Matrix:
        r"""Hessian of the per-input loss at any point, :math:`J^\top J + \sum_ke_k\nabla^2f_k`."""
        out = self.gauss_newton
        for ek, Hk in zip(self.residual, self.output_hessians):
            out = out + ek * Hk
        return out

    @cached_property
    def hessian_at_optimum(self) -> sp.Matrix:
        r"""Hessian at :math:`\theta=\theta^\star` (:math:`e=0`): :math:`J^\top J`."""
        return self.hessian.subs(self.at_optimum())

    def __repr__(self) -> str:
        acts = ", ".join(a.spec for a in self.activations)
        return f"DeepNet(widths={self.widths}, activations=[{acts}])"
