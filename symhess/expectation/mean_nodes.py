r"""Named, unevaluated Gaussian expectations with means: what a formula shows when there is no closed form.

Place in the package: engine, expectation. With hidden biases the pre-activations are not centred,
:math:`(u, v)\sim N\big((m_1, m_2), [[q_1, c], [c, q_2]]\big)`, :math:`h\sim N(m, q)`. When neither a
closed form nor exact moments give an expectation (:mod:`symhess.expectation.means` answers
``None``: tanh, sigmoid, ... with means), a block formula names it instead of guessing:

* ``EM_<act>(a, b, m1, m2, q1, q2, c)`` :math:`=E[\sigma^{(a)}(u)\,\sigma^{(b)}(v)]`;
* ``DM_<act>(a, b, n, m, q)`` :math:`=E[(\sigma^{(a)}\sigma^{(b)})^{(n)}(h)]` (a unit with itself);
* ``SM_<act>(a, m, q)`` :math:`=E[\sigma^{(a)}(h)]` (a unit alone, against the output bias).

These nodes are never evaluated symbolically; the LaTeX printer writes them as the expectations they
stand for, and the numeric routes integrate them (:mod:`symhess.kernels.means`).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..activations import Activation

__all__ = ["MeanExpectation", "PairMeansNode", "DiagonalMeansNode", "SingleMeansNode", "mean_nodes"]


class MeanExpectation(sp.Function):
    """Unevaluated Gaussian expectation with means and no closed form; subclassed per activation."""

    activation: Activation | None = None


class PairMeansNode(MeanExpectation):
    r"""``EM_<act>(a, b, m1, m2, q1, q2, c)`` :math:`=E[\sigma^{(a)}(u)\sigma^{(b)}(v)]`, means :math:`m_1, m_2`."""

    nargs = 7


class DiagonalMeansNode(MeanExpectation):
    r"""``DM_<act>(a, b, n, m, q)`` :math:`=E[(\sigma^{(a)}\sigma^{(b)})^{(n)}(h)]`, :math:`h\sim N(m, q)`."""

    nargs = 5


class SingleMeansNode(MeanExpectation):
    r"""``SM_<act>(a, m, q)`` :math:`=E[\sigma^{(a)}(h)]`, :math:`h\sim N(m, q)`."""

    nargs = 3


@lru_cache(maxsize=None)
def mean_nodes(act: Activation) -> tuple[type, type, type]:
    """The three node classes (pair, unit with itself, unit alone) bound to ``act``, cached per activation."""
    tag = "".join(ch if ch.isalnum() else "_" for ch in act.spec)
    return (
        type(f"EM_{tag}", (PairMeansNode,), {"activation": act}),
        type(f"DM_{tag}", (DiagonalMeansNode,), {"activation": act}),
        type(f"SM_{tag}", (SingleMeansNode,), {"activation": act}),
    )
