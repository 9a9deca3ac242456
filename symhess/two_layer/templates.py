r"""Which Gaussian expectations each Hessian block needs: the block templates.

Place in the package: the two-layer teacher-student family. For the network :math:`f(x)=\sum_i v_i\sigma(w_i\cdot x)` and
the loss :math:`\varepsilon=\frac12E[(f-f^\star)^2]`, the expected Hessian is the Gauss–Newton part
:math:`E[\nabla f\nabla f^\top]` plus the residual part :math:`E[e\,\nabla^2 f]`,
:math:`e=f-f^\star`. Per pair of hidden units :math:`(i,k)` with :math:`a=w_i, b=w_k`:

.. math::

    [H_{WW}]_{(ij),(kl)} &= v_iv_k\,E[\sigma'(u)\sigma'(v)\,x_jx_l]
        + \delta_{ik}\,v_i\,E[e\,\sigma''(u)\,x_jx_l] \\
    [H_{Wv}]_{(ij),k} &= v_i\,E[\sigma'(u)\sigma(v)\,x_j] + \delta_{ik}\,E[e\,\sigma'(u)\,x_j] \\
    [H_{vv}]_{ik} &= E[\sigma(u)\sigma(v)]

(eqs. 3–5 of Couto et al., in expectation). Each :class:`BlockSpec` names the prefactor, the
derivative orders :math:`(\alpha,\beta)` of the activation pair and the number of input factors;
:func:`symhess.expectation.stein.pair_template` then gives the pair expectations needed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BlockSpec", "GAUSS_NEWTON", "RESIDUAL", "GRADIENT", "BLOCK_NAMES"]

BLOCK_NAMES = ("WW", "Wv", "vv")


@dataclass(frozen=True)
class BlockSpec:
    r"""One expectation :math:`E[\sigma^{(\alpha)}(a\cdot x)\sigma^{(\beta)}(b\cdot x)\,x^{\otimes n_x}]`.

    Attributes
    ----------
    block : str
        ``"WW"``, ``"Wv"`` or ``"vv"`` (or ``"W"``, ``"v"`` for gradients).
    alpha, beta : int
        Derivative orders on the first (row) and second (column / partner) unit.
    n_x : int
        Number of input factors :math:`x_j` (0, 1 or 2).
    prefactor : str
        ``"v_i v_k"``, ``"v_i"`` or ``"1"``: output weights multiplying the expectation.
    """

    block: str
    alpha: int
    beta: int
    n_x: int
    prefactor: str


#: Gauss–Newton (outer-product) part, the whole Hessian at the optimum
GAUSS_NEWTON = {
    "WW": BlockSpec("WW", 1, 1, 2, "v_i v_k"),
    "Wv": BlockSpec("Wv", 1, 0, 1, "v_i"),
    "vv": BlockSpec("vv", 0, 0, 0, "1"),
}

#: residual part: unit i paired with every unit g of the residual e = sum_g s_g sigma(g.x)
RESIDUAL = {
    "WW": BlockSpec("WW", 2, 0, 2, "v_i"),
    "Wv": BlockSpec("Wv", 1, 0, 1, "1"),
}

#: gradient of the population loss: unit i paired with every unit of the residual
GRADIENT = {
    "W": BlockSpec("W", 1, 0, 1, "v_i"),
    "v": BlockSpec("v", 0, 0, 0, "1"),
}
