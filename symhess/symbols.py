r"""The canonical SymPy symbols of symhess, created once with their assumptions.

Place in the package: engine, base (imports only SymPy). Other modules never call
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

# -- free probability (Pennington & Bahri 2017) ---------------------------------
# The spectral argument of the Stieltjes transform is printed "zeta" so that it never collides
# with the activation argument ``z`` above; the energy is printed "varepsilon" so that it never
# collides with the quadratic activation's ``eps``.
#: Stieltjes variable :math:`G` (complex)
G = sp.Symbol("G")
#: spectral argument :math:`\zeta` of :math:`G(\zeta)` (complex; the papers' :math:`z`)
zeta = sp.Symbol("zeta")
#: ratio of parameters to data points :math:`\phi` (the slides' :math:`\tau`)
phi = sp.Symbol("phi", positive=True)
#: energy of the critical point :math:`\epsilon` (residuals of variance :math:`2\epsilon`)
energy = sp.Symbol("varepsilon", positive=True)
#: Marchenko-Pastur scale :math:`\sigma` (mean eigenvalue of :math:`H_0`; the slides' :math:`\sigma`)
mp_scale = sp.Symbol("sigma", positive=True)
#: spectral argument on the real line, :math:`\lambda`
lam = sp.Symbol("lambda", real=True)

__all__ += ["G", "zeta", "phi", "energy", "mp_scale", "lam"]

# -- four-point Gaussian expectations ------------------------------------------------------------
#: entries :math:`C_{ab}` (a <= b) of the covariance of a Gaussian quadruple :math:`(y_1, y_2, y_3, y_4)`
C_11, C_22, C_33, C_44 = sp.symbols("C_11 C_22 C_33 C_44", nonnegative=True)
C_12, C_13, C_14, C_23, C_24, C_34 = sp.symbols("C_12 C_13 C_14 C_23 C_24 C_34", real=True)
#: argument order of every compiled four-point kernel
FOUR_ARGS = (C_11, C_22, C_33, C_44, C_12, C_13, C_14, C_23, C_24, C_34)

__all__ += ["FOUR_ARGS", "C_11", "C_22", "C_33", "C_44", "C_12", "C_13", "C_14", "C_23", "C_24", "C_34"]

# -- architecture options: hidden biases, several outputs, correlated inputs -----------------------
#: hidden biases of units i and k: the means of the pre-activations :math:`u_i = w_i\cdot x + b_i`
b_i, b_k = sp.symbols("b_i b_k", real=True)
#: input covariance entry :math:`\Sigma_{jl}` (inputs :math:`x\sim N(0,\Sigma)`; it replaces :math:`\delta_{jl}`)
Sigma_jl = sp.Symbol("Sigma_jl", real=True)
#: entries of :math:`\Sigma w_i` and :math:`\Sigma w_k` (they replace :math:`W_{ij}`, :math:`W_{kj}` under :math:`\Sigma`)
Sw_ij, Sw_il, Sw_kj, Sw_kl = sp.symbols("Sw_ij Sw_il Sw_kj Sw_kl", real=True)
#: output weights :math:`v_{oi}`, :math:`v_{ok}` of output :math:`o`, and :math:`\delta_{oo'}` (several outputs)
v_oi, v_ok = sp.symbols("v_oi v_ok", real=True)
delta_oo = sp.Symbol("delta_oo", nonnegative=True)
#: :math:`(V^\top V)_{ik}=\sum_o v_{oi}v_{ok}` and its diagonal :math:`(V^\top V)_{ii}`
VV_ik = sp.Symbol("VV_ik", real=True)
VV_ii = sp.Symbol("VV_ii", nonnegative=True)

#: offset of the residual :math:`e_o` from the output biases, :math:`\Delta b_o=b^{\rm out}_o-b^{\star\rm out}_o`
#: (``db_out`` for one output), and :math:`(V^\top\Delta b)_i=\sum_ov_{oi}\Delta b_o`
db_out, db_o, Vdb_i = sp.symbols("db_out db_o Vdb_i", real=True)

__all__ += ["db_out", "db_o", "Vdb_i"]
__all__ += ["b_i", "b_k", "Sigma_jl", "Sw_ij", "Sw_il", "Sw_kj", "Sw_kl", "v_oi", "v_ok", "delta_oo", "VV_ik", "VV_ii"]
