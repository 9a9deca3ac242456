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

#: every registered activation spec exercised by registry-wide tests
ACTIVATION_SPECS = ["linear", "quadratic", "quadratic:eps=0.5", "poly:coeffs=[1,0.3,0.2]", "erf",
                    "erf:scale=0.5", "relu", "tanh", "abrelu:a=-0.3,b=1.2", "leaky_relu", "abs", "sin",
                    "sin:scale=0.7,phase=0.4", "cos", "rbf:gamma=0.5", "exp:scale=0.5", "gaussian", "gelu",
                    "hermite:coeffs=[0.2,1,0.3]"]
#: registered activations with a loss but no Hessian (derivative orders >= 1 are deltas); not in the fixture
LOSS_ONLY_SPECS = ["sign", "step"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture(params=ACTIVATION_SPECS)
def act_spec(request) -> str:
    return request.param
