"""A rule made exact for one architecture by a certified rank at one teacher, and the genericity it claims.

``deep_effective_parameters(..., measure=True)`` upgrades an upper-bound or conjectured rule to "exact"
when a proved rank at a random teacher reaches the rule's bound (real-analytic activations only). The
claim behind it is genericity: almost every teacher then has that rank. These tests check the upgrade
logic and, independently, the claim at other random teachers by other routes (exact rationals, the
coefficient Jacobian, float64 SVD with a wide gap).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symhess
from symhess.deep.counting import deep_effective_parameters, settled_by_measurement
from symhess.deep.hessian import DeepRank
from symhess.deep.weights import deep_teacher, n_parameters, rational_deep_teacher, layer_activations


def _power(d: int) -> str:
    return "poly:coeffs=[" + ",".join(["0"] * (d - 1) + ["1"]) + "]"


@pytest.mark.parametrize("act,widths", [("erf", (3, 4, 2, 1)), ("tanh", (2, 3, 3, 2, 1)),
                                        ("erf", (2, 3, 3, 2, 2))])
def test_full_rank_conjecture_becomes_exact_for_a_certified_architecture(act, widths):
    rule = deep_effective_parameters(act, widths)
    assert rule.status == "conjecture" and rule.value == n_parameters(widths)
    settled = deep_effective_parameters(act, widths, measure=True)
    assert settled.status == "exact" and settled.value == rule.value
    assert settled.measured.rank == rule.value and settled.measured.route.startswith("certified")
    assert "proved for this architecture" in settled.rule


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_certified_full_rank_holds_at_other_teachers(seed):
    """Genericity, checked independently: float64 gradients at Gaussian teachers and Gaussian inputs have a
    smallest singular value far above rounding (so the float rank P is not a tolerance artefact)."""
    widths = (3, 4, 2, 1)
    P = n_parameters(widths)
    rng = np.random.default_rng(seed)
    W = deep_teacher(widths, rng=rng)
    from symhess.deep.pointwise import gradients

    X = rng.standard_normal((400, widths[0]))
    G = gradients("erf", W, X).reshape(-1, P)
    s = np.linalg.svd(G, compute_uv=False)
    assert s[-1] / s[0] > 1e-9, (seed, s[-1] / s[0])


def test_pure_power_bound_met_becomes_exact_and_holds_by_another_route():
    # z^4 on (2, 3, 2, 1): no theorem covers it (not non-increasing, degree below 2 max N_l - 1 = 5)
    rule = deep_effective_parameters(_power(4), (2, 3, 2, 1))
    assert rule.status == "upper bound" and rule.value == 9
    settled = deep_effective_parameters(_power(4), (2, 3, 2, 1), measure=True)
    assert settled.status == "exact" and settled.measured.rank == 9
    for seed in (1, 2, 3):  # other teachers, the exact coefficient route over Q
        m = symhess.deep_hessian_rank(_power(4), rational_deep_teacher((2, 3, 2, 1), rng=seed), method="exact")
        assert m.rank == 9 and m.route == "exact: coefficient Jacobian"


def test_defective_architecture_stays_an_upper_bound():
    # z^2 on (3, 4, 2, 1): the rule (split bound) is 12, the rank 11 at every teacher tried
    settled = deep_effective_parameters(_power(2), (3, 4, 2, 1), measure=True)
    assert settled.status == "upper bound" and settled.value == 12 and settled.measured.rank == 11
    for seed in (1, 2):
        m = symhess.deep_hessian_rank(_power(2), rational_deep_teacher((3, 4, 2, 1), rng=seed), method="exact")
        assert m.rank == 11


def test_split_bound_settles_a_defect():
    # z^3 on (2, 3, 2, 1) is defective (8 < 9): the split bound gives 8 and a certified rank proves it
    settled = deep_effective_parameters(_power(3), (2, 3, 2, 1), measure=True)
    assert settled.status == "exact" and settled.value == settled.measured.rank == 8


def test_relu_is_never_upgraded():
    rule = deep_effective_parameters("relu", (4, 4, 4, 2), measure=True)
    assert rule.measured.rank == rule.value == 32 and rule.measured.status == "exact"
    assert rule.status == "upper bound"  # dead units: no generic rank to prove


@pytest.mark.parametrize("status,rank", [("numerical", 22), ("lower bound", 21), ("exact", 21)])
def test_no_upgrade_without_a_proof_reaching_the_bound(status, rank):
    rule = deep_effective_parameters("erf", (3, 4, 2, 1))
    fake = DeepRank(rank, 22, status, "test", 22)
    out = settled_by_measurement(rule, fake, layer_activations("erf", 3))
    assert out.status == "conjecture" and out.measured is fake


def test_count_cli_reports_the_settled_status():
    from click.testing import CliRunner

    from symhess.cli import main

    res = CliRunner().invoke(main, ["count", "-a", "erf", "--widths", "3,4,2,1", "--certify"])
    assert res.exit_code == 0, res.output
    assert "prediction: 22 of P = 22 (exact:" in res.output and "proved for this architecture" in res.output


def test_a_proved_lower_bound_meeting_the_rule_is_exact():
    rule = deep_effective_parameters("erf", (3, 4, 2, 1))
    out = settled_by_measurement(rule, DeepRank(22, 22, "lower bound", "test", 23), layer_activations("erf", 3))
    assert out.status == "exact"
