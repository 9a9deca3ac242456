"""symhess: derive, check and export the Hessians of neural-network losses near their optimum.

The public API is re-exported here lazily (PEP 562), so ``import symhess`` stays light; each
name lives in the module listed in :data:`_EXPORTS`, grouped below by subject. The package is a
shared engine and model families on top of it, then the outputs::

    engine    errors, symbols, validation -> activations -> expectation -> kernels, linalg
    families  two_layer (teacher-student), deep (deeper teacher-student networks), free_probability (Pennington-Bahri), ufm (deep UFM)
    outputs   export -> check -> sweep -> cli

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

#: public name -> module that defines it, grouped by subject
_EXPORTS: dict[str, str] = {
    # errors and warnings
    "SymhessError": "symhess.errors",
    "InvalidParameterError": "symhess.errors",
    "InvalidTypeError": "symhess.errors",
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
    "UserActivation": "symhess.activations",
    "z": "symhess.symbols",
    # Gaussian expectations
    "stein_reduce": "symhess.expectation",
    "pair_expectation": "symhess.expectation",
    "single_expectation": "symhess.expectation",
    "cross_pair_expectation": "symhess.expectation.pairs",
    "expect_standard_normal": "symhess.expectation",
    "four_point_expectation": "symhess.expectation.four_point",
    "cross_four_point_expectation": "symhess.expectation.four_point",
    # numeric linear algebra on any symmetric operator
    "extreme_eigenvalues": "symhess.linalg.lanczos",
    "hutchinson_trace": "symhess.linalg.lanczos",
    "slq_density": "symhess.linalg.slq",
    "SpectralDensity": "symhess.linalg.slq",
    # two-layer teacher-student network: model, teachers and symbolic blocks
    "TwoLayerNet": "symhess.two_layer.model",
    "teacher": "symhess.two_layer.teacher",
    "rational_teacher": "symhess.two_layer.rational",
    "rational_biases": "symhess.two_layer.rational",
    "derive_blocks": "symhess.two_layer.blocks",
    # two-layer network: expected Hessian, loss and gradient
    "expected_hessian": "symhess.two_layer.assemble",
    "hessian_blocks": "symhess.two_layer.assemble",
    "n_params": "symhess.two_layer.assemble",
    "hessian_operator": "symhess.two_layer.hvp",
    "HessianOperator": "symhess.two_layer.hvp",
    "OutputsHessianOperator": "symhess.two_layer.hvp",
    "population_loss": "symhess.two_layer.loss",
    "population_gradient": "symhess.two_layer.loss",
    "find_minimum": "symhess.two_layer.newton",
    "MinimumResult": "symhess.two_layer.newton",
    "exact_expected_hessian": "symhess.two_layer.exact",
    "NotRationalError": "symhess.errors",
    "coefficient_jacobian": "symhess.two_layer.coefficients",
    # two-layer network: rank and the effective number of parameters
    "hessian_rank": "symhess.two_layer.rank",
    "RankResult": "symhess.two_layer.rank",
    "effective_parameters": "symhess.two_layer.counting",
    "EffectiveParameters": "symhess.two_layer.counting",
    # two-layer network: spectra, laws and learning dynamics
    "hessian_spectrum": "symhess.two_layer.hessian_spectrum",
    "HessianSpectrum": "symhess.two_layer.hessian_spectrum",
    "linear_spectrum_law": "symhess.two_layer.linear_law",
    "LinearSpectrumLaw": "symhess.two_layer.linear_law",
    "gradient_flow": "symhess.two_layer.dynamics",
    "gradient_descent": "symhess.two_layer.dynamics",
    "spectral_loss_prediction": "symhess.two_layer.dynamics",
    # two-layer network: online SGD in high dimensions (order-parameter equations)
    "online_sgd_ode": "symhess.two_layer.online",
    "online_sgd_simulation": "symhess.two_layer.online",
    "OnlineTrajectory": "symhess.two_layer.online",
    "linearise_at_teacher": "symhess.two_layer.online",
    "Linearisation": "symhess.two_layer.online",
    # deep networks: f = W_L s(... s(W_1 x)), expected Hessians, ranks and counting
    "DeepNet": "symhess.deep.model",
    "deep_teacher": "symhess.deep.weights",
    "rational_deep_teacher": "symhess.deep.weights",
    "deep_expected_hessian": "symhess.deep.hessian",
    "deep_hessian_estimate": "symhess.deep.hessian",
    "deep_hessian_operator": "symhess.deep.hessian",
    "deep_hessian_rank": "symhess.deep.hessian",
    "DeepRank": "symhess.deep.hessian",
    "deep_effective_parameters": "symhess.deep.counting",
    "DeepEffectiveParameters": "symhess.deep.counting",
    # free probability: the Pennington-Bahri Wishart + Wigner model
    "pennington_bahri": "symhess.free_probability.law",
    "PenningtonBahriLaw": "symhess.free_probability.law",
    "FreeSumLaw": "symhess.free_probability.law",
    "critical_energy": "symhess.free_probability.law",
    "index_prefactor": "symhess.free_probability.addition",
    "pennington_bahri_model": "symhess.free_probability.addition",
    # deep unconstrained-feature model
    "DeepLinearUFM": "symhess.ufm.network",
    "DeepUFM": "symhess.ufm.network",
    "UFMOptimum": "symhess.ufm.network",
    "UFMPoint": "symhess.ufm.point",
    "UFMTheory": "symhess.ufm.theory",
    "RegularisationTooStrongError": "symhess.ufm.optimum",
    "SymbolicDeepLinearUFM": "symhess.ufm.symbolic",
    # export
    "to_latex": "symhess.export",
    "parse_paper_latex": "symhess.export",
    "paper_document": "symhess.export",
    "PaperLatexError": "symhess.export",
    # checking a user's derivation
    "check_formula": "symhess.check",
    "check_expectation": "symhess.check",
    "check_count": "symhess.check",
    "FormulaCheck": "symhess.check",
    "CountCheck": "symhess.check",
    "NotationError": "symhess.check",
    # parameter sweeps
    "run_sweep": "symhess.sweep",
    # peer tools' conventions (nn2pp / Saad-Solla, MLPGradientFlow.jl, Neural Tangents)
    "from_nn2pp": "symhess.two_layer.conventions",
    "to_nn2pp": "symhess.two_layer.conventions",
    "from_mlpgradientflow": "symhess.two_layer.conventions",
    "to_mlpgradientflow": "symhess.two_layer.conventions",
    "from_neural_tangents": "symhess.two_layer.conventions",
    # students wider than the teacher: global minima, their Hessian, training
    "global_minimum": "symhess.two_layer.minima",
    "MinimumStructure": "symhess.two_layer.minima",
    "minimum_manifold_tangent": "symhess.two_layer.minimum_hessian",
    "minimum_null_directions": "symhess.two_layer.minimum_hessian",
    "classify_minimum": "symhess.two_layer.minimum_hessian",
    "track_training": "symhess.two_layer.training_tracker",
}

#: submodules reachable as attributes without an explicit import (``symhess.conventions``)
_SUBMODULES: dict[str, str] = {"conventions": "symhess.two_layer.conventions"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(_SUBMODULES[name])
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'symhess' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
