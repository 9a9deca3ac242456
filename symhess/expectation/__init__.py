"""Engine: Gaussian expectations of activation products, symbolically.

* :mod:`~symhess.expectation.moments` -- exact Gaussian moments (Isserlis) for polynomial parts.
* :mod:`~symhess.expectation.stein` -- Stein's lemma: input factors moved onto derivatives, giving
  the tensor templates in which every Hessian block is written.
* :mod:`~symhess.expectation.pairs` -- :math:`E[\\sigma^{(k)}(u)\\sigma^{(l)}(v)]` and
  :math:`E[\\sigma^{(k)}(u)]`: the activation's closed form, else moments, else Price's theorem, else
  a quadrature node that the kernels evaluate numerically.
"""

from .moments import bivariate_moment, expect_polynomial_pair, expect_standard_normal, univariate_moment
from .pairs import (
    ROUTES, GaussianQuadrature, PairQuadrature, SingleQuadrature, pair_expectation, quadrature_nodes,
    single_expectation,
)
from .stein import BASIS, diagonal_template, pair_template, stein_reduce

__all__ = [
    "bivariate_moment", "expect_polynomial_pair", "expect_standard_normal", "univariate_moment",
    "ROUTES", "GaussianQuadrature", "PairQuadrature", "SingleQuadrature", "pair_expectation",
    "quadrature_nodes", "single_expectation",
    "BASIS", "diagonal_template", "pair_template", "stein_reduce",
]
