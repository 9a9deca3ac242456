r"""Compiled coefficients of the Pennington–Bahri Stieltjes equation.

Place in the package: the free-probability family (imports ``symhess.free_probability.addition``). The numeric law
(``symhess.free_probability.law``) receives plain arrays from here and never sees SymPy.

The derived polynomial :math:`P(G,\zeta)=\sum_{k=0}^d (a_k + \zeta b_k)\,G^k` of
:class:`~symhess.free_probability.addition.FreeSumModel` is compiled once per activation into a
function of :math:`(\phi,\epsilon,\sigma)` returning the real arrays ``a`` and ``b``
(lowest order first).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from .addition import pennington_bahri_model
from ..kernels.codegen import lambdify_checked

__all__ = ["CompiledFreeSum", "compile_free_sum"]


@dataclass(frozen=True)
class CompiledFreeSum:
    """Compiled :math:`(a_k, b_k)` of one Pennington–Bahri model.

    Attributes
    ----------
    activation : str
        ``"linear"`` or ``"relu"``.
    degree : int
        Degree of :math:`P` in :math:`G` for generic parameters.
    fn : callable
        ``fn(phi, eps, scale) -> list`` of ``2 (degree + 1)`` numbers ``a_0..a_d, b_0..b_d``.
    source : str
        Generated source.
    """

    activation: str
    degree: int
    fn: Callable
    source: str

    def __call__(self, phi: float, eps: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(a, b)``, float arrays of length ``degree + 1``, lowest order first."""
        values = np.array([float(v) for v in self.fn(float(phi), float(eps), float(scale))])
        d = self.degree + 1
        return values[:d], values[d:]


@lru_cache(maxsize=None)
def compile_free_sum(activation: str = "linear") -> CompiledFreeSum:
    """Compile the coefficients of the Stieltjes polynomial of ``pennington_bahri_model(activation)``."""
    model = pennington_bahri_model(activation)
    pairs = model.coefficients
    exprs = [a for a, _ in pairs] + [b for _, b in pairs]
    fn, src = lambdify_checked(model.params, exprs)
    return CompiledFreeSum(model.activation, len(pairs) - 1, fn, src)
