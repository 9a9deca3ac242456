"""Activation knowledge lives on the activation: a new activation is one class plus its registration.

A toy activation defined here (and removed from the registry afterwards) gets its counting rule, its
export symbols, its determinant notation and its checker instantiation from its own hooks, with no
name-keyed branch anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest
import sympy as sp

import symhess
from symhess.activations import ACTIVATIONS, Activation, RankRule, activation, register_activation
from symhess.activations.base import to_exact
from symhess.check.independent import instantiate
from symhess.export.document import symbolic_activation
from symhess.symbols import z

from conftest import ALL_SPECS


def test_every_registered_activation_has_example_parameterisations():
    """The guard: a registered activation without examples would escape every contract test."""
    missing = sorted(name for name, cls in ACTIVATIONS.items() if not cls.examples)
    assert not missing, f"registered activations without examples (set the class attribute `examples`): {missing}"
    for name, cls in ACTIVATIONS.items():
        for spec in cls.examples:
            assert isinstance(activation(spec), cls), (name, spec)
    assert {activation(s).name for s in ALL_SPECS} == set(ACTIVATIONS)


@pytest.fixture
def softsign_cubic():
    """A one-file activation: sigma(z) = z + a z^3 with the paper-style symbol 'a' and a made-up rule."""
    a_sym = sp.Symbol("a", real=True)

    @dataclass(frozen=True)
    class Cubic(Activation):
        name: ClassVar[str] = "toy_cubic"
        examples: ClassVar[tuple[str, ...]] = ("toy_cubic", "toy_cubic:a=0.5")
        a: sp.Expr = sp.Integer(1)

        def __post_init__(self) -> None:
            object.__setattr__(self, "a", to_exact(self.a, "a"))

        def expr(self, x: sp.Expr = z) -> sp.Expr:
            return x + self.a * x**3

        def symbolic_parameters(self):
            return {"a": a_sym}

        def determinant_alpha(self):
            return sp.Integer(3)

    register_activation(Cubic)
    try:
        yield Cubic, a_sym
    finally:
        del ACTIVATIONS["toy_cubic"]


def test_new_activation_hooks_are_used(softsign_cubic):
    Cubic, a_sym = softsign_cubic
    act = activation("toy_cubic:a=0.5")
    # export: the activation names its own symbols
    assert symbolic_activation(act) == Cubic(a=a_sym)
    # checker: the symbolic activation is instantiated by the hook, exactly
    assert instantiate(Cubic(a=a_sym), {a_sym: 0.25}) == Cubic(a=sp.Rational(1, 4))
    # LaTeX notation: the determinant abbreviation uses the activation's alpha
    from symhess.export.parse import _default_definitions
    Q_ii = sp.Symbol("Q_ii", nonnegative=True)
    assert _default_definitions(act)["tildeDelta_ii"].subs(Q_ii, 1) == 1 + 2 * 3
    # counting: a polynomial without a rule of its own takes the generic polynomial rule
    # (z + z^3 at (N_i, N_h) = (3, 2): min(P, N_i + dim sigma_2(v_3(P^2))) = min(8, 3 + 6) = 8)
    assert symhess.effective_parameters(act, 3, 2).value == 8


def test_counting_rule_hook_answers_effective_parameters():
    """A non-polynomial activation with a rule of its own: effective_parameters reports it, no measurement."""

    @dataclass(frozen=True)
    class Sine(Activation):
        name: ClassVar[str] = "toy_sine"
        examples: ClassVar[tuple[str, ...]] = ("toy_sine",)

        def expr(self, x: sp.Expr = z) -> sp.Expr:
            return sp.sin(x)

        def counting_rule(self, n_in, n_hidden):
            return RankRule(n_hidden * (n_in + 1), "toy full rank", "conjecture", "P", "made up for the test")

    register_activation(Sine)
    try:
        eff = symhess.effective_parameters("toy_sine", 4, 3)
        assert (eff.value, eff.rule, eff.status, eff.note, eff.measured) == (
            15, "toy full rank", "conjecture", "made up for the test", None)
        from symhess.two_layer.counting import activation_profile
        assert activation_profile("toy_sine").kind == "toy_sine"
    finally:
        del ACTIVATIONS["toy_sine"]


@pytest.mark.parametrize("spec,n_in,n_hidden,expected", [
    # independent values: ReLU N_h N_i (homogeneity), 2 for N_i = 1; erf and tanh full rank N_h (N_i + 1)
    ("relu", 4, 3, 12), ("relu", 1, 3, 2), ("relu", 1, 1, 1), ("erf", 4, 3, 15), ("tanh", 2, 5, 15),
])
def test_builtin_counting_rules_come_from_the_activation(spec, n_in, n_hidden, expected):
    rule = activation(spec).counting_rule(n_in, n_hidden)
    assert rule.value == expected
    eff = symhess.effective_parameters(spec, n_in, n_hidden)
    assert (eff.value, eff.rule, eff.status) == (rule.value, rule.rule, rule.status)


@pytest.mark.parametrize("spec", ["linear", "quadratic", "poly:coeffs=[1,0.3]"])
def test_polynomials_have_no_rule_of_their_own(spec):
    """None means 'not known here': the generic polynomial rule of the two-layer family answers."""
    assert activation(spec).counting_rule(3, 2) is None
    assert symhess.effective_parameters(spec, 3, 2).status == "exact"


def test_hooks_default_to_not_known():
    act = activation("tanh")
    assert act.symbolic_parameters() is None and act.determinant_alpha() is None
    assert act.symbolic() is act and act.instantiate({}) is act
