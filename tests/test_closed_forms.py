"""Closed-form pair expectations (erf, ReLU) against independent mpmath quadrature.

Issue 2: "Every closed-form pair expectation (erf, ReLU) agrees with mpmath quadrature to 1e-10
relative over hypothesis-drawn covariances, including near-singular ones and large norms."
The reference (tests/reference.py) uses Gaussian smoothing identities and mpmath quadrature; it
shares no formula with the arcsine/arc-cosine kernels or with Price's theorem.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import pair_reference, single_reference
from symhess.activations import activation
from symhess.kernels.codegen import compile_pair_kernel, compile_single_kernel

# every (a, b) the Gauss-Newton and residual blocks need
PAIR_KEYS = [(0, 0), (1, 1), (2, 0), (0, 2), (2, 2), (3, 1), (1, 3), (4, 0), (0, 4)]
SINGLE_KEYS = {
    "erf": [(0, 0, 0), (1, 1, 0), (1, 1, 2), (1, 0, 1), (2, 0, 0), (2, 0, 2)],
    "relu": [(0, 0, 0), (1, 1, 0), (1, 1, 2), (1, 0, 1)],
}
RTOL = 1e-10

variances = st.one_of(st.floats(1e-3, 10.0), st.floats(10.0, 1e3))
correlations = st.one_of(
    st.floats(-0.99, 0.99),
    st.sampled_from([0.0, 1 - 1e-6, -(1 - 1e-6), 1 - 1e-9, -(1 - 1e-9)]),
)


def _check_pair(kind, scale, q1, q2, rho, keys, max_abs_rho=1.0):
    rho = float(np.clip(rho, -max_abs_rho, max_abs_rho))
    c = rho * math.sqrt(q1 * q2)
    act = activation(kind) if scale is None else activation(kind, scale=scale)
    values = compile_pair_kernel(act, tuple(keys))(q1, q2, c)
    for key in keys:
        ref = float(pair_reference(kind, *key, q1, q2, c, scale=1.0 if scale is None else scale))
        got = float(values[key])
        assert math.isfinite(got)
        # relative 1e-10; the absolute floor only matters where an entry is ~1e-10 of its scale
        # (ReLU's K00 as rho -> -1 is O((1 + rho)^(3/2)) and loses relative digits by cancellation)
        floor = 1e-14 * math.sqrt(q1 * q2) ** (1 - (key[0] + key[1]) / 2)
        assert abs(got - ref) <= RTOL * abs(ref) + floor, (kind, key, q1, q2, rho, got, ref)


@settings(max_examples=8)
@given(q1=variances, q2=variances, rho=correlations, scale=st.sampled_from([None, 0.5, 2.0]))
def test_erf_pairs_match_mpmath(q1, q2, rho, scale):
    _check_pair("erf", scale, q1, q2, rho, PAIR_KEYS)


@settings(max_examples=8)
@given(q1=variances, q2=variances, rho=correlations)
def test_relu_pairs_match_mpmath(q1, q2, rho):
    # the clamp (1 - rho^2 >= 1e-12) is far below 1 - (1 - 1e-6)^2; keep the reference well-conditioned
    _check_pair("relu", None, q1, q2, rho, PAIR_KEYS, max_abs_rho=1 - 1e-6)


@pytest.mark.slow
@settings(max_examples=100)
@given(q1=variances, q2=variances, rho=correlations, kind=st.sampled_from(["erf", "relu"]))
def test_pairs_match_mpmath_many(q1, q2, rho, kind):
    _check_pair(kind, None, q1, q2, rho, PAIR_KEYS, max_abs_rho=1 - 1e-6 if kind == "relu" else 1.0)


@pytest.mark.parametrize("kind", ["erf", "relu"])
@settings(max_examples=5)
@given(q=variances)
def test_diagonal_forms_match_mpmath(kind, q):
    act = activation(kind)
    keys = tuple(SINGLE_KEYS[kind])
    values = compile_single_kernel(act, keys)(q)
    for key in keys:
        ref = float(single_reference(kind, *key, q))
        assert abs(float(values[key]) - ref) <= RTOL * max(abs(ref), 1e-12), (kind, key, q)


def test_relu_delta_relu_products_vanish():
    # delta(h) relu(h) = 0: the residual diagonal of ReLU has no such term
    act = activation("relu")
    values = compile_single_kernel(act, ((2, 0, 0), (2, 0, 2)))(np.array([0.3, 2.0]))
    assert np.all(values[(2, 0, 0)] == 0) and np.all(values[(2, 0, 2)] == 0)


def test_pair_kernels_symmetric_under_swap():
    """K_ab(q1, q2, c) = K_ba(q2, q1, c) for every activation with closed forms."""
    rng = np.random.default_rng(1)
    q1, q2 = rng.uniform(0.1, 3, 20), rng.uniform(0.1, 3, 20)
    c = rng.uniform(-0.9, 0.9, 20) * np.sqrt(q1 * q2)
    for spec in ["erf", "erf:scale=0.3", "relu", "quadratic:eps=0.7", "poly:coeffs=[1,0.3,0.2]"]:
        act = activation(spec)
        k = compile_pair_kernel(act, tuple(PAIR_KEYS))
        fwd, back = k(q1, q2, c), k(q2, q1, c)
        for a, b in PAIR_KEYS:
            np.testing.assert_allclose(fwd[(a, b)], back[(b, a)], rtol=1e-12, atol=1e-14, err_msg=f"{spec} {(a, b)}")


def test_zero_correlation_factorises():
    """c = 0: K_ab = E[sigma^(a)(u)] E[sigma^(b)(v)]; for odd sigma and even a+b one factor vanishes or both."""
    act = activation("erf")
    k = compile_pair_kernel(act, ((1, 1), (0, 0), (2, 2)))(0.7, 1.9, 0.0)
    e1 = lambda q: 2 / math.sqrt(math.pi) / math.sqrt(1 + 2 * q)  # E[erf'(u)], u ~ N(0, q)  # noqa: E731
    assert float(k[(1, 1)]) == pytest.approx(e1(0.7) * e1(1.9), rel=1e-13)
    assert float(k[(0, 0)]) == 0.0 and float(k[(2, 2)]) == 0.0


@settings(max_examples=30)
@given(q1=variances, q2=variances, gap=st.floats(1e-13, 1e-3), sign=st.sampled_from([-1.0, 1.0]))
def test_relu_kernels_keep_their_accuracy_near_parallel(q1, q2, gap, sign):
    # float64 inputs near |rho| = 1: the Gram determinant q1 q2 - c^2 cancels and arccos of a rounded
    # correlation loses digits; the compiled kernels must stay within a few ulps of the scale of each
    # entry (the same arc-cosine formulas evaluated at 50 digits from the same float inputs)
    import mpmath

    c = sign * (1 - gap) * math.sqrt(q1 * q2)
    vals = compile_pair_kernel(activation("relu"), ((0, 0), (1, 1), (2, 0)))(q1, q2, c)
    with mpmath.workdps(50):
        Q1, Q2, C = mpmath.mpf(q1), mpmath.mpf(q2), mpmath.mpf(c)
        root = mpmath.sqrt(Q1 * Q2 - C * C)
        ang = mpmath.acos(-C / mpmath.sqrt(Q1 * Q2))
        refs = {(0, 0): (root + C * ang) / (2 * mpmath.pi), (1, 1): ang / (2 * mpmath.pi),
                (2, 0): root / (2 * mpmath.pi * Q1)}
    scale = {(0, 0): math.sqrt(q1 * q2), (1, 1): 1.0, (2, 0): math.sqrt(q2 / q1)}
    for key, ref in refs.items():
        err = abs(float(vals[key]) - float(ref))
        # rounding of the inputs themselves moves the exact value by ~eps * scale * (derivative terms)
        assert err <= 64 * np.finfo(float).eps * scale[key] * max(1.0, float(ang)), (key, q1, q2, c, err)
        if key == (0, 0):
            assert float(vals[key]) >= 0.0  # E[relu(u) relu(v)] >= 0: the sign must survive cancellation
