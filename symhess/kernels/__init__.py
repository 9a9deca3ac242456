"""Numeric kernels: compiled pair expectations, quadrature, dense assembly, population loss.

Place in the pipeline: layer 5 (imports expectation and everything to its left).
"""

from .assemble import HESSIAN_PARTS, expected_hessian, hessian_blocks, n_params
from .codegen import CompiledKernel, compile_pair_kernel, compile_single_kernel
from .pairs import template_matrices
from .quadrature import gauss_hermite_pair, gauss_hermite_single
from .validate import as_weights, check_dense_size

__all__ = [
    "HESSIAN_PARTS", "expected_hessian", "hessian_blocks", "n_params",
    "CompiledKernel", "compile_pair_kernel", "compile_single_kernel", "template_matrices",
    "gauss_hermite_pair", "gauss_hermite_single", "as_weights", "check_dense_size",
]
