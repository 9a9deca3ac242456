"""Gaussian expectations: exact moments, closed forms through Price's theorem, quadrature nodes.

Place in the pipeline: layer 4 (imports derivation, model, activations, symbols, errors).
"""

from .blocks import BASIS_SYMBOLS, PARTS, BlockFormula, derive_blocks
from .moments import bivariate_moment, expect_polynomial_pair, expect_standard_normal, univariate_moment
from .pairs import (
    ROUTES, GaussianQuadrature, PairQuadrature, SingleQuadrature, pair_expectation, quadrature_nodes,
    single_expectation,
)

__all__ = [
    "BASIS_SYMBOLS", "PARTS", "BlockFormula", "derive_blocks",
    "bivariate_moment", "expect_polynomial_pair", "expect_standard_normal", "univariate_moment",
    "ROUTES", "GaussianQuadrature", "PairQuadrature", "SingleQuadrature", "pair_expectation",
    "quadrature_nodes", "single_expectation",
]
