r"""Concrete symbolic two-layer network: output, gradient and Hessian of the loss (eqs. 1–5).

Place in the package: the two-layer teacher-student family (imports activations, symbols, errors).

For a small network with explicit symbols :math:`W_{ij}`, :math:`v_i`, inputs :math:`x_j`, and a
teacher :math:`W^\star_{ij}`, :math:`v^\star_i` of the same architecture,

.. math::

    f(x) = \sum_i v_i\,\sigma(w_i\cdot x),\qquad e = f - f^\star,\qquad
    \ell = \tfrac12 e^2,\qquad
    \nabla\ell = e\,\nabla f,\qquad
    \nabla^2\ell = \nabla f\nabla f^\top + e\,\nabla^2 f .

Everything is per input :math:`x`; the population loss is :math:`E_x[\ell]`. Optional biases:
``hidden_bias`` adds :math:`b_i` inside the activation, ``output_bias`` adds :math:`b_0` to
:math:`f`; their parameters follow ``v`` in :math:`\theta` (``b_1..b_Nh``, then ``b_0``).
``n_out`` outputs: :math:`f_o(x)=\sum_iv_{oi}\sigma(h_i)\,(+b^{\rm out}_o)`, ``v`` an
:math:`n_{\rm out}\times N_h` matrix of symbols ``v_o_i`` (row-major in :math:`\theta`), the loss
:math:`\tfrac12\sum_oe_o^2` and :math:`\nabla^2\ell=\sum_o\nabla f_o\nabla f_o^\top+\sum_oe_o\nabla^2f_o`.
"""

from __future__ import annotations

from functools import cached_property

import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from ..errors import InvalidParameterError, InvalidTypeError

__all__ = ["TwoLayerNet"]


def _size(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{name}={value!r} must be an integer")
    if value < 1:
        raise InvalidParameterError(f"{name}={value} must be >= 1")
    return value


class TwoLayerNet:
    r"""A concrete two-layer network as SymPy expressions.

    Parameters
    ----------
    n_in, n_hidden : int
        Input dimension :math:`N_i` and hidden width :math:`N_h` (keep them small: every entry is
        an explicit expression).
    activation : str or Activation
        The activation.
    hidden_bias, output_bias : bool
        Add biases inside the hidden units and/or on the output (one per output).
    n_out : int
        Number of outputs (default 1: the scalar network).

    Attributes
    ----------
    W, W_teacher : sympy.Matrix
        :math:`N_h\times N_i` symbols ``W_i_j`` and ``Wt_i_j``.
    v, v_teacher : sympy.Matrix
        Column vectors of symbols ``v_i`` and ``vt_i``; with ``n_out > 1`` matrices
        :math:`n_{\rm out}\times N_h` of ``v_o_i`` and ``vt_o_i``.
    b0, b0_teacher : sympy.Symbol or sympy.Matrix or None
        The output bias ``b_out`` (``bt_out``); with ``n_out > 1`` a column of ``b_out_o``.
    x : sympy.Matrix
        Input symbols ``x_j``.
    theta : list of sympy.Symbol
        Parameter order: ``W`` row-major, ``v``, then hidden biases and the output bias.

    Examples
    --------
    >>> net = TwoLayerNet(1, 1, "linear")
    >>> net.output
    W_0_0*v_0*x_0
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        activation: ActivationLike,
        *,
        hidden_bias: bool = False,
        output_bias: bool = False,
        n_out: int = 1,
    ) -> None:
        self.n_in = _size(n_in, "n_in")
        self.n_hidden = _size(n_hidden, "n_hidden")
        self.n_out = _size(n_out, "n_out")
        self.activation: Activation = get_activation(activation)
        self.hidden_bias = bool(hidden_bias)
        self.output_bias = bool(output_bias)
        Nh, Ni = self.n_hidden, self.n_in
        real = {"real": True}
        self.W = sp.Matrix(Nh, Ni, lambda i, j: sp.Symbol(f"W_{i}_{j}", **real))
        self.W_teacher = sp.Matrix(Nh, Ni, lambda i, j: sp.Symbol(f"Wt_{i}_{j}", **real))
        if self.n_out == 1:
            self.v = sp.Matrix(Nh, 1, lambda i, _: sp.Symbol(f"v_{i}", **real))
            self.v_teacher = sp.Matrix(Nh, 1, lambda i, _: sp.Symbol(f"vt_{i}", **real))
        else:
            self.v = sp.Matrix(self.n_out, Nh, lambda o, i: sp.Symbol(f"v_{o}_{i}", **real))
            self.v_teacher = sp.Matrix(self.n_out, Nh, lambda o, i: sp.Symbol(f"vt_{o}_{i}", **real))
        self.x = sp.Matrix(Ni, 1, lambda j, _: sp.Symbol(f"x_{j}", **real))
        self.b = sp.Matrix(Nh, 1, lambda i, _: sp.Symbol(f"b_{i}", **real)) if hidden_bias else None
        self.b_teacher = sp.Matrix(Nh, 1, lambda i, _: sp.Symbol(f"bt_{i}", **real)) if hidden_bias else None
        if not output_bias:
            self.b0 = self.b0_teacher = None
        elif self.n_out == 1:
            self.b0 = sp.Symbol("b_out", real=True)
            self.b0_teacher = sp.Symbol("bt_out", real=True)
        else:
            self.b0 = sp.Matrix(self.n_out, 1, lambda o, _: sp.Symbol(f"b_out_{o}", real=True))
            self.b0_teacher = sp.Matrix(self.n_out, 1, lambda o, _: sp.Symbol(f"bt_out_{o}", real=True))

    # -- parameters ---------------------------------------------------------------------------
    @property
    def theta(self) -> list[sp.Symbol]:
        """Student parameters in symhess order."""
        out = list(self.W) + list(self.v)  # sympy Matrix iterates row-major
        if self.hidden_bias:
            out += list(self.b)
        if self.output_bias:
            out += [self.b0] if self.n_out == 1 else list(self.b0)
        return out

    @property
    def theta_teacher(self) -> list[sp.Symbol]:
        """Teacher parameters, in the same order as :attr:`theta`."""
        out = list(self.W_teacher) + list(self.v_teacher)
        if self.hidden_bias:
            out += list(self.b_teacher)
        if self.output_bias:
            out += [self.b0_teacher] if self.n_out == 1 else list(self.b0_teacher)
        return out

    @property
    def n_params(self) -> int:
        return len(self.theta)

    def at_optimum(self) -> dict[sp.Symbol, sp.Symbol]:
        """Substitution teacher -> student (the optimum :math:`\\theta=\\theta^\\star`)."""
        return dict(zip(self.theta_teacher, self.theta))

    # -- network ------------------------------------------------------------------------------
    def _outputs(self, W, v, b, b0) -> list[sp.Expr]:
        pre = W * self.x
        if b is not None:
            pre = pre + b
        acts = [self.activation.expr(pre[i]) for i in range(self.n_hidden)]
        outs = []
        for o in range(self.n_out):
            row = [v[i] for i in range(self.n_hidden)] if self.n_out == 1 else list(v.row(o))
            out = sum((row[i] * acts[i] for i in range(self.n_hidden)), sp.Integer(0))
            if b0 is not None:
                out = out + (b0 if self.n_out == 1 else b0[o])
            outs.append(out)
        return outs

    def _pack(self, values: list[sp.Expr]):
        return values[0] if self.n_out == 1 else sp.Matrix(values)

    @cached_property
    def preactivations(self) -> sp.Matrix:
        r""":math:`h_i = w_i\cdot x\,(+b_i)`."""
        return self.W * self.x + (self.b if self.hidden_bias else sp.zeros(self.n_hidden, 1))

    @cached_property
    def outputs(self) -> list[sp.Expr]:
        r"""Student outputs :math:`f_o(x)`, a list of ``n_out`` expressions."""
        return self._outputs(self.W, self.v, self.b, self.b0)

    @cached_property
    def teacher_outputs(self) -> list[sp.Expr]:
        r"""Teacher outputs :math:`f^\star_o(x)`."""
        return self._outputs(self.W_teacher, self.v_teacher, self.b_teacher, self.b0_teacher)

    @cached_property
    def output(self):
        r"""Student output :math:`f(x)=\sum_i v_i\sigma(h_i)\,(+b_0)` (a column of the outputs if ``n_out > 1``)."""
        return self._pack(self.outputs)

    @cached_property
    def teacher_output(self):
        r"""Teacher output :math:`f^\star(x)` (a column if ``n_out > 1``)."""
        return self._pack(self.teacher_outputs)

    @cached_property
    def residuals(self) -> list[sp.Expr]:
        r""":math:`e_o = f_o - f^\star_o`."""
        return [f - ft for f, ft in zip(self.outputs, self.teacher_outputs)]

    @cached_property
    def residual(self):
        r""":math:`e = f - f^\star` (a column if ``n_out > 1``)."""
        return self._pack(self.residuals)

    @cached_property
    def loss(self) -> sp.Expr:
        r"""Per-input loss :math:`\ell=\frac12\sum_o e_o^2`."""
        return sp.Add(*[e**2 for e in self.residuals]) / 2

    @cached_property
    def output_gradients(self) -> list[sp.Matrix]:
        r""":math:`\nabla_\theta f_o` as columns, one per output."""
        return [sp.Matrix([sp.diff(f, p) for p in self.theta]) for f in self.outputs]

    @cached_property
    def output_gradient(self) -> sp.Matrix:
        r""":math:`\nabla_\theta f` as a column (the NTK feature map); with ``n_out > 1`` the Jacobian,
        one row per output."""
        if self.n_out == 1:
            return self.output_gradients[0]
        return sp.Matrix.vstack(*[g.T for g in self.output_gradients])

    @cached_property
    def output_hessian(self):
        r""":math:`\nabla^2_\theta f` (a list of ``n_out`` matrices if ``n_out > 1``)."""
        hs = [sp.hessian(f, self.theta) for f in self.outputs]
        return hs[0] if self.n_out == 1 else hs

    @cached_property
    def gradient(self) -> sp.Matrix:
        r"""Gradient of the per-input loss, :math:`\sum_oe_o\nabla f_o` (eqs. 1–2)."""
        return sum((e * g for e, g in zip(self.residuals, self.output_gradients)), sp.zeros(self.n_params, 1))

    @cached_property
    def gauss_newton(self) -> sp.Matrix:
        r"""Outer-product part :math:`\sum_o\nabla f_o\nabla f_o^\top`."""
        return sum((g * g.T for g in self.output_gradients), sp.zeros(self.n_params, self.n_params))

    @cached_property
    def residual_hessian(self) -> sp.Matrix:
        r"""Residual part :math:`\sum_oe_o\nabla^2 f_o`."""
        hs = [self.output_hessian] if self.n_out == 1 else self.output_hessian
        return sum((e * h for e, h in zip(self.residuals, hs)), sp.zeros(self.n_params, self.n_params))

    @cached_property
    def hessian(self) -> sp.Matrix:
        r"""Hessian of the per-input loss at any point, :math:`\nabla f\nabla f^\top+e\nabla^2f` (eqs. 3–5)."""
        return self.gauss_newton + self.residual_hessian

    @cached_property
    def hessian_at_optimum(self) -> sp.Matrix:
        r"""Hessian at :math:`\theta=\theta^\star`, where :math:`e=0`: :math:`\nabla f\nabla f^\top`."""
        return self.hessian.subs(self.at_optimum())

    def __repr__(self) -> str:
        return (f"TwoLayerNet(n_in={self.n_in}, n_hidden={self.n_hidden}, activation={self.activation.spec!r}, "
                f"hidden_bias={self.hidden_bias}, output_bias={self.output_bias}, n_out={self.n_out})")
