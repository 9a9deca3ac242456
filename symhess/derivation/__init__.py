"""Symbolic derivation: Stein reduction and the templates of the Hessian blocks.

Place in the pipeline: layer 3 (imports activations, model, symbols, errors).
"""

from .blocks import BLOCK_NAMES, GAUSS_NEWTON, GRADIENT, RESIDUAL, BlockSpec
from .stein import BASIS, diagonal_template, pair_template, stein_reduce

__all__ = [
    "BLOCK_NAMES", "GAUSS_NEWTON", "GRADIENT", "RESIDUAL", "BlockSpec",
    "BASIS", "diagonal_template", "pair_template", "stein_reduce",
]
