r"""The canonical SymPy symbols of symhess, created once with their assumptions.

Place in the pipeline: bottom layer (imports only SymPy). Other modules never call
``sympy.symbols`` for these names; they import them from here, so that expressions built in
different modules share the same symbols.

Notation (one pair of hidden units, or one unit and one teacher unit):

* ``z`` — the activation's argument, :math:`\sigma(z)`.
* ``q1, q2, c`` — the covariance of the Gaussian pair :math:`(u, v) = (a\cdot x, b\cdot x)`,
  :math:`x\sim\mathcal N(0, I)`: :math:`q_1 = a\cdot a`, :math:`q_2 = b\cdot b`, :math:`c = a\cdot b`.
* ``q`` — the variance of a single pre-activation, :math:`q = w\cdot w`.
* ``Q_ii, Q_kk, Q_ik`` — the overlaps :math:`Q = W W^\top` of hidden units ``i`` and ``k``; a
  block formula is the pair formula with ``q1, q2, c -> Q_ii, Q_kk, Q_ik``.
* ``W_ij, W_il, W_kj, W_kl, v_i, v_k, delta_jl`` — the entries that appear in a Hessian entry
  :math:`H_{(ij),(kl)}`.
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "z", "q", "q1", "q2", "c", "eps", "scale",
    "Q_ii", "Q_kk", "Q_ik", "W_ij", "W_il", "W_kj", "W_kl", "v_i", "v_k", "delta_jl",
    "PAIR_ARGS", "OVERLAP_ARGS",
]

z = sp.Symbol("z", real=True)
q = sp.Symbol("q", positive=True)
q1 = sp.Symbol("q1", nonnegative=True)
q2 = sp.Symbol("q2", nonnegative=True)
c = sp.Symbol("c", real=True)
eps = sp.Symbol("epsilon", real=True)
scale = sp.Symbol("s", positive=True)

Q_ii = sp.Symbol("Q_ii", nonnegative=True)
Q_kk = sp.Symbol("Q_kk", nonnegative=True)
Q_ik = sp.Symbol("Q_ik", real=True)
W_ij, W_il, W_kj, W_kl = sp.symbols("W_ij W_il W_kj W_kl", real=True)
v_i, v_k = sp.symbols("v_i v_k", real=True)
delta_jl = sp.Symbol("delta_jl", nonnegative=True)

#: argument order of every compiled pair kernel
PAIR_ARGS = (q1, q2, c)
#: the same arguments named as overlaps of hidden units i and k
OVERLAP_ARGS = (Q_ii, Q_kk, Q_ik)
