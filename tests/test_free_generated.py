"""The Pennington–Bahri law runs without SymPy on code generated from the symbolic free addition.

The generated module is checked in; here it is regenerated from the derivation and compared, and its
numbers are checked against the SymPy expressions at random parameters (an independent evaluation:
SymPy's own arithmetic at 30 digits).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import symhess
from symhess.free_probability import generated
from symhess.free_probability.addition import pennington_bahri_model, slides_critical_energy
from symhess.free_probability.coefficients import GENERATED_MODULE, generated_module_source
from symhess.symbols import mp_scale as SIGMA, phi as PHI

PKG = Path(symhess.__file__).resolve().parent


def test_generated_module_is_up_to_date():
    """Regenerate: if the derivation changed, rerun ``generated_module_source`` and check the file in."""
    assert (PKG / GENERATED_MODULE).read_text() == generated_module_source()


@pytest.mark.parametrize("variant", ["wigner", "relu_block"])
def test_generated_coefficients_equal_the_symbolic_ones(variant):
    model = pennington_bahri_model(variant)
    rng = np.random.default_rng(7)
    for phi, eps, sigma in rng.uniform(0.1, 3.0, size=(5, 3)):
        got = generated.COEFFICIENTS[variant](phi, eps, sigma)
        subs = dict(zip(model.params, (sp.Float(phi, 30), sp.Float(eps, 30), sp.Float(sigma, 30))))
        want = [sp.N(a.subs(subs), 30) for a, _ in model.coefficients] + \
               [sp.N(b.subs(subs), 30) for _, b in model.coefficients]
        assert len(got) == len(want) == 2 * (generated.DEGREE[variant] + 1)
        np.testing.assert_allclose(np.array(got, float), np.array(want, float), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("variant", ["wigner", "relu_block"])
@pytest.mark.parametrize("phi", [0.05, 0.3, 0.5, 0.9, 0.999999])
def test_numeric_critical_energy_equals_the_slides_formula(variant, phi):
    """The mpmath route against the slides' typed-in formula, evaluated exactly by SymPy."""
    typed = slides_critical_energy(variant).subs({PHI: sp.Rational(repr(phi)), SIGMA: sp.Rational(3, 2)})
    assert symhess.critical_energy(phi, variant, scale=1.5) == pytest.approx(float(sp.N(typed, 40)), rel=1e-14)


def test_old_spellings_warn_and_give_the_same_law():
    with pytest.warns(DeprecationWarning, match="'wigner'"):
        old = symhess.pennington_bahri(0.5, 0.1, activation="linear")
    with pytest.warns(DeprecationWarning, match="'relu_block'"):
        old_relu = symhess.pennington_bahri(0.5, 0.1, activation="relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = symhess.pennington_bahri(0.5, 0.1, activation="wigner")
        new_relu = symhess.pennington_bahri(0.5, 0.1, activation="relu_block")
    assert old.pdf(1.0) == new.pdf(1.0) and old_relu.index() == new_relu.index()
    assert (new.variant, new.activation, new_relu.variant, new_relu.activation) == (
        "wigner", "linear", "relu_block", "relu")


def test_mpmath_precision_is_restored():
    before = mpmath.mp.dps
    symhess.critical_energy(0.7, "relu_block")
    assert mpmath.mp.dps == before
