"""Shared fixtures: seeded RNGs, the registry-wide activation fixture, tolerance table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci")

from symhess.activations import ACTIVATIONS

#: every registered activation's example specs, exercised by the registry-wide contract tests: a new
#: activation is covered as soon as it is registered (tests/test_activation_registry.py checks that
#: each one has an example)
ALL_SPECS = [spec for cls in ACTIVATIONS.values() for spec in cls.examples]
#: registered activations with a loss but no Hessian (their derivatives are deltas): the Hessian
#: contract tests run on ACTIVATION_SPECS, every example but these
LOSS_ONLY_SPECS = ["sign", "step"]
ACTIVATION_SPECS = [spec for spec in ALL_SPECS if spec not in LOSS_ONLY_SPECS]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture(params=ACTIVATION_SPECS)
def act_spec(request) -> str:
    return request.param
