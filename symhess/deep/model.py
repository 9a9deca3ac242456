r"""Concrete symbolic deep network: output, gradient and Hessian of the loss (SymPy).

Place in the package: the deep-network family (imports activations and errors).

For small widths :math:`(N_0,\dots,N_L)` with explicit symbols :math:`W^{(l)}_{ij}` (student) and
:math:`\tilde W^{(l)}_{ij}` (teacher of the same architecture),

.. math::

    a_0 = x,\quad h_l = W_la_{l-1}\,(+\,b_l),\quad a_l=\sigma_l(h_l)\ (l<L),\quad f = h_L\in\mathbb R^{N_L},\\
    e = f - f^\star,\qquad \ell=\tfrac12\lVert e\rVert^2,\qquad
    \nabla\ell = J^\top e,\qquad \nabla^2\ell = J^\top J + \sum_k e_k\nabla^2f_k,

with :math:`J=\partial f/\partial\theta` (:math:`N_L\times P`). At the optimum :math:`e=0` and
:math:`\nabla^2\ell = J^\top J`; the expected Hessian is :math:`E_x[J^\top J]`. Optional biases
:math:`b_l` (``hidden_bias`` for :math:`l<L`, ``output_bias`` for :math:`l=L`) follow all the weights in
:math:`\theta`, in layer order, as in the numeric deep routes.
"""

from __future__ import annotations

from functools import cached_property

import sympy as sp

from ..errors import InvalidTypeError
from .weights import check_widths, layer_activations

__all__ = ["DeepNet"]


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidTypeError(f"{name}={value!r} must be True or False")
    return value


class DeepNet:
    r"""A concrete deep network as SymPy expressions.

    .. math::

        a_0 = x,\qquad h_l = W_la_{l-1} + b_l,\qquad a_l = \sigma_l(h_l)\ (l<L),\qquad f = h_L,

    with :math:`b_l` present for the hidden layers :math:`l<L` when ``hidden_bias`` and for the output
    layer :math:`l=L` when ``output_bias`` (absent biases are 0 and are not parameters). The parameters are

    .. math::

        \theta = (W_1\text{ row-major}, \dots, W_L\text{ row-major},\
        b_l\text{ for the layers that have one, in layer order}),

    the order of the numeric deep routes (``biases=[b_1, ..., b_L]``); with :math:`L=2` and one
    output this is the two-layer order :math:`(W, v, b, b_\mathrm{out})`.

    Parameters
    ----------
    widths : sequence of int
        :math:`(N_0, \dots, N_L)` (keep them small: every entry is an explicit expression).
    activation : str, Activation, or a sequence of them
        One activation for every hidden layer, or one per hidden layer (``L - 1`` of them).
    hidden_bias, output_bias : bool, keyword-only
        Add a bias :math:`b_l\in\mathbb R^{N_l}` to every hidden layer (:math:`l<L`; nothing when
        :math:`L=1`) and/or to the output layer (:math:`l=L`). Default ``False``: no biases.

    Attributes
    ----------
    weights, weights_teacher : list of sympy.Matrix
        ``W_l`` with symbols ``W{l}_{i}_{j}`` and ``Wt{l}_{i}_{j}`` (``l`` from 1).
    biases, biases_teacher : list of (sympy.Matrix or None)
        Length :math:`L`: the column ``b_l`` of symbols ``b{l}_{i}`` (``bt{l}_{i}``), or ``None`` for a
        layer without bias.
    x : sympy.Matrix
        Input symbols ``x_j``.
    theta : list of sympy.Symbol
        :math:`(W_1, \dots, W_L` row-major, then the biases in layer order).

    Raises
    ------
    InvalidTypeError
        ``hidden_bias`` or ``output_bias`` not a bool.

    Examples
    --------
    >>> net = DeepNet((1, 1, 1), "linear")
    >>> net.output
    Matrix([[W1_0_0*W2_0_0*x_0]])
    >>> DeepNet((2, 2, 1), "linear").n_params
    6
    >>> net = DeepNet((1, 1, 1), "linear", hidden_bias=True, output_bias=True)
    >>> net.output
    Matrix([[W2_0_0*(W1_0_0*x_0 + b1_0) + b2_0]])
    >>> net.theta
    [W1_0_0, W2_0_0, b1_0, b2_0]
    """

    def __init__(self, widths, activation, *, hidden_bias: bool = False, output_bias: bool = False) -> None:
        self.widths = check_widths(widths)
        self.depth = len(self.widths) - 1
        self.activations = layer_activations(activation, self.depth)
        self.hidden_bias = _flag(hidden_bias, "hidden_bias")
        self.output_bias = _flag(output_bias, "output_bias")
        real = {"real": True}

        def mats(prefix: str) -> list[sp.Matrix]:
            return [sp.Matrix(b, a, lambda i, j, l=l: sp.Symbol(f"{prefix}{l}_{i}_{j}", **real))
                    for l, (a, b) in enumerate(zip(self.widths[:-1], self.widths[1:]), start=1)]

        def vecs(prefix: str) -> list[sp.Matrix | None]:
            on = [self.hidden_bias] * (self.depth - 1) + [self.output_bias]
            return [sp.Matrix(n, 1, lambda i, _, l=l: sp.Symbol(f"{prefix}{l}_{i}", **real)) if b else None
                    for l, (n, b) in enumerate(zip(self.widths[1:], on), start=1)]

        self.weights = mats("W")
        self.weights_teacher = mats("Wt")
        self.biases = vecs("b")
        self.biases_teacher = vecs("bt")
        self.x = sp.Matrix(self.widths[0], 1, lambda j, _: sp.Symbol(f"x_{j}", **real))

    @staticmethod
    def _flatten(weights: list[sp.Matrix], biases: list[sp.Matrix | None]) -> list[sp.Symbol]:
        return [s for W in weights for s in W] + [s for b in biases if b is not None for s in b]

    @property
    def theta(self) -> list[sp.Symbol]:
        """Student parameters: :math:`W_1, \\dots, W_L` row-major, then the biases in layer order."""
        return self._flatten(self.weights, self.biases)

    @property
    def theta_teacher(self) -> list[sp.Symbol]:
        """Teacher parameters in the order of :attr:`theta`."""
        return self._flatten(self.weights_teacher, self.biases_teacher)

    @property
    def n_params(self) -> int:
        return len(self.theta)

    def at_optimum(self) -> dict[sp.Symbol, sp.Symbol]:
        """Substitution teacher -> student (the optimum :math:`\\theta=\\theta^\\star`), weights and biases."""
        return dict(zip(self.theta_teacher, self.theta))

    def _forward(self, weights: list[sp.Matrix], biases: list[sp.Matrix | None]) -> sp.Matrix:
        a = self.x
        for l, (W, b) in enumerate(zip(weights, biases)):
            h = W * a
            if b is not None:
                h = h + b
            if l < self.depth - 1:
                act = self.activations[l]
                a = h.applyfunc(lambda t, act=act: act.expr(t))
            else:
                a = h
        return a

    @cached_property
    def output(self) -> sp.Matrix:
        r"""Student output :math:`f(x)`, an :math:`N_L\times1` matrix."""
        return self._forward(self.weights, self.biases)

    @cached_property
    def teacher_output(self) -> sp.Matrix:
        r"""Teacher output :math:`f^\star(x)`."""
        return self._forward(self.weights_teacher, self.biases_teacher)

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
        flags = "".join(f", {name}=True" for name, on in (("hidden_bias", self.hidden_bias),
                                                          ("output_bias", self.output_bias)) if on)
        return f"DeepNet(widths={self.widths}, activations=[{acts}]{flags})"
