"""Every error on bad input is a SymhessError *and* the builtin category a caller would catch."""

from __future__ import annotations

import numpy as np
import pytest

import symhess
from symhess.errors import (
    InvalidParameterError, InvalidTypeError, MemoryLimitError, NoClosedFormError, SymhessError,
)

W2, V2 = np.array([[0.3, -0.4], [0.5, 0.2]]), np.array([0.7, -0.6])

#: (description, call, builtin category)
BAD_INPUTS = [
    ("teacher with n_in=0", lambda: symhess.teacher(0, 2), ValueError),
    ("teacher with a float size", lambda: symhess.teacher(2.5, 2), TypeError),
    ("teacher with a string seed", lambda: symhess.teacher(3, 2, rng="seed"), TypeError),
    ("rational_teacher with n_hidden=0", lambda: symhess.rational_teacher(3, 0), ValueError),
    ("linear_spectrum_law with n_in=-1", lambda: symhess.linear_spectrum_law(-1, 3), ValueError),
    ("linear_spectrum_law with a float size", lambda: symhess.linear_spectrum_law(2.0, 3), TypeError),
    ("expected_hessian with an unknown part", lambda: symhess.expected_hessian("erf", W2, V2, part="nonsense"),
     ValueError),
    ("expected_hessian with an unknown activation", lambda: symhess.expected_hessian("sigmoidal", W2, V2),
     ValueError),
    ("expected_hessian with a bad activation parameter",
     lambda: symhess.expected_hessian("quadratic:eps=nan", W2, V2), ValueError),
    ("expected_hessian with mismatched shapes", lambda: symhess.expected_hessian("erf", W2, V2[:1]), ValueError),
    ("expected_hessian with NaN weights", lambda: symhess.expected_hessian("erf", W2 * np.nan, V2), ValueError),
    ("expected_hessian with a string as weights", lambda: symhess.expected_hessian("erf", "W", V2), TypeError),
    ("expected_hessian beyond the memory budget",
     lambda: symhess.expected_hessian("erf", np.ones((3000, 3000)) / 3000, np.ones(3000)), MemoryError),
    ("activation that is not a name", lambda: symhess.activation(3.5), TypeError),
    ("hessian_operator with an unknown part", lambda: symhess.hessian_operator("erf", W2, V2, part="x"),
     ValueError),
    ("population_loss without a teacher", lambda: symhess.population_loss("erf", W2, V2, None, None), ValueError),
    ("exact rank for erf", lambda: symhess.hessian_rank("erf", W2, V2, exact=True), NotImplementedError),
    ("effective_parameters with n_hidden=0", lambda: symhess.effective_parameters("quadratic", 5, 0), ValueError),
    ("effective_parameters training a bias the network lacks",
     lambda: symhess.effective_parameters("erf", 3, 2, trainable=("b",)), ValueError),
    ("pennington_bahri with phi=-1", lambda: symhess.pennington_bahri(-1, 0.1), ValueError),
    ("pennington_bahri with an unknown variant", lambda: symhess.pennington_bahri(0.5, 0.1, activation="gelu"),
     ValueError),
    ("critical_energy with phi=0", lambda: symhess.critical_energy(0), ValueError),
    ("DeepLinearUFM with depth 0", lambda: symhess.DeepLinearUFM(3, 4, 6, 0), ValueError),
    ("DeepUFM with an unknown activation", lambda: symhess.DeepUFM(3, 4, 6, 2, activation="gelu"), ValueError),
    ("DeepLinearUFM with a negative regularisation", lambda: symhess.DeepLinearUFM(3, 4, 6, 2, reg_h=-1.0),
     ValueError),
    ("to_latex of an unsupported object", lambda: symhess.to_latex(object()), TypeError),
    ("slq_density of a non-square matrix", lambda: symhess.slq_density(np.ones((3, 4))), ValueError),
    ("hutchinson_trace with zero probes", lambda: symhess.hutchinson_trace(np.eye(3), n_probes=0), ValueError),
    ("check_count with an unknown activation", lambda: symhess.check_count("N_i", "sigmoidal"), ValueError),
    ("gradient_flow with a negative time", lambda: symhess.gradient_flow("linear", W2, V2, W2 + 0.1, V2, times=[-1.0]),
     ValueError),
]


def test_memory_and_closed_form_errors_are_builtin_categories():
    assert issubclass(NoClosedFormError, NotImplementedError) and issubclass(NoClosedFormError, SymhessError)
    assert issubclass(MemoryLimitError, MemoryError) and issubclass(MemoryLimitError, SymhessError)
    assert issubclass(InvalidParameterError, ValueError) and issubclass(InvalidTypeError, TypeError)


@pytest.mark.parametrize("what, call, builtin", BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_input_raises_a_symhess_error_of_the_builtin_category(what, call, builtin):
    with pytest.raises(SymhessError) as info:
        call()
    assert isinstance(info.value, builtin), f"{what}: {type(info.value).__mro__} is not a {builtin.__name__}"
    assert str(info.value), f"{what}: the error has no message"


@pytest.mark.parametrize("dtype_case", ["complex", "object"])
def test_complex_or_object_weights_are_refused(dtype_case):
    """Complex weights would be silently cast to real (NumPy's ComplexWarning); object arrays hide anything."""
    if dtype_case == "complex":
        W = W2.astype(complex) + 1e-3j
    else:
        W = np.array([[0.3, 1j], [0.5, 0.2]], dtype=object)
    with pytest.raises(SymhessError) as info:
        symhess.expected_hessian("erf", W, V2)
    assert isinstance(info.value, (TypeError, ValueError))
