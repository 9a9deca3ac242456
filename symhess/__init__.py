"""symhess: derive, check and export the Hessians of neural-network losses near their optimum.

The public API is re-exported here lazily (PEP 562), so ``import symhess`` stays light; each
name lives in the pipeline module listed in :data:`_EXPORTS`::

    activations -> model -> derivation -> expectation -> kernels -> analysis -> export / cli

Examples
--------
>>> import numpy as np, symhess
>>> W, v = symhess.teacher(n_in=5, n_hidden=3, rng=0)
>>> symhess.expected_hessian("erf", W, v).shape
(18, 18)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "SymhessError": "symhess.errors",
    "UnknownActivationError": "symhess.errors",
    "ActivationParameterError": "symhess.errors",
    "ShapeError": "symhess.errors",
    "NonFiniteError": "symhess.errors",
    "NoClosedFormError": "symhess.errors",
    "MemoryLimitError": "symhess.errors",
    "SymhessAccuracyError": "symhess.errors",
    "SymhessAccuracyWarning": "symhess.errors",
    "QuadratureWarning": "symhess.errors",
    # activations
    "activation": "symhess.activations",
    "register_activation": "symhess.activations",
    "Activation": "symhess.activations",
    "ACTIVATIONS": "symhess.activations",
    # model
    "TwoLayerNet": "symhess.model",
    "teacher": "symhess.model",
    # derivation / expectation
    "stein_reduce": "symhess.derivation",
    "pair_expectation": "symhess.expectation",
    "single_expectation": "symhess.expectation",
    "derive_blocks": "symhess.expectation",
    "expect_standard_normal": "symhess.expectation",
    # kernels
    "expected_hessian": "symhess.kernels",
    "hessian_blocks": "symhess.kernels",
    "n_params": "symhess.kernels",
    # matrix-free Hessian, Lanczos spectra, sweeps (issue 8)
    "hessian_operator": "symhess.kernels.hvp",
    "HessianOperator": "symhess.kernels.hvp",
    "hessian_spectrum": "symhess.analysis.hessian_spectrum",
    "HessianSpectrum": "symhess.analysis.hessian_spectrum",
    "extreme_eigenvalues": "symhess.analysis.lanczos",
    "hutchinson_trace": "symhess.analysis.lanczos",
    "slq_density": "symhess.analysis.slq",
    "SpectralDensity": "symhess.analysis.slq",
    "run_sweep": "symhess.sweep",
    # effective number of parameters: exact, certified and numerical rank (issue 3)
    "hessian_rank": "symhess.analysis.rank",
    "RankResult": "symhess.analysis.rank",
    "effective_parameters": "symhess.analysis.counting",
    "EffectiveParameters": "symhess.analysis.counting",
    "rational_teacher": "symhess.model.rational",
    "rational_biases": "symhess.model.rational",
    "exact_expected_hessian": "symhess.kernels.exact",
    "coefficient_jacobian": "symhess.kernels.coefficients",
    "NotRationalError": "symhess.kernels.exact",
    # deep unconstrained-feature model (issue 6)
    "DeepLinearUFM": "symhess.analysis.ufm",
    "DeepUFM": "symhess.analysis.ufm",
    "UFMOptimum": "symhess.analysis.ufm",
    "UFMPoint": "symhess.analysis.ufm_point",
    "UFMTheory": "symhess.analysis.ufm_theory",
    "RegularisationTooStrongError": "symhess.analysis.ufm_optimum",
    "SymbolicDeepLinearUFM": "symhess.model.ufm",
    # export (issue 7)
    "to_latex": "symhess.export",
    "parse_paper_latex": "symhess.export",
    "paper_document": "symhess.export",
    "PaperLatexError": "symhess.export",
    # checking a user's derivation (issue 9)
    "check_formula": "symhess.check",
    "check_expectation": "symhess.check",
    "check_count": "symhess.check",
    "FormulaCheck": "symhess.check",
    "CountCheck": "symhess.check",
    "NotationError": "symhess.check",
    # Pennington-Bahri Wishart + Wigner model by free probability (issue 5)
    "pennington_bahri": "symhess.analysis.free_law",
    "PenningtonBahriLaw": "symhess.analysis.free_law",
    "FreeSumLaw": "symhess.analysis.free_law",
    "critical_energy": "symhess.derivation.free_addition",
    "index_prefactor": "symhess.derivation.free_addition",
    "pennington_bahri_model": "symhess.derivation.free_addition",
    # spectra and learning dynamics near the optimum (issue 4)
    "linear_spectrum_law": "symhess.analysis.linear_law",
    "LinearSpectrumLaw": "symhess.analysis.linear_law",
    "population_loss": "symhess.kernels.loss",
    "population_gradient": "symhess.kernels.loss",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'symhess' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
