"""The Mehler (Hermite-series) route of the pair quadrature, for pairs that are not strongly correlated.

Independent routes: 30-digit references in arb ball arithmetic (tests/arb_reference.py: nested graded
Gauss-Legendre of the conditional form, no Hermite series, no trapezoidal rule) and the conditional
trapezoidal rule of the same module (a different algorithm: a double integral, no series), on batches.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from arb_reference import pair_ref, sigmoid_d, silu_d, softplus_d, tanh_d
from hypothesis import given, settings, strategies as st

from symhess.activations import activation
from symhess.kernels import quadrature as Q

#: activation -> (arb derivatives, the order-n derivative is below 1e-39 beyond |t| = reach(n), None: never)
ARB = {
    "tanh": (tanh_d, lambda n: 46.0 if n > 0 else None),
    "sigmoid": (sigmoid_d, lambda n: 92.0 if n > 0 else None),
    "softplus": (softplus_d, lambda n: 92.0 if n > 1 else None),
    "silu": (silu_d, lambda n: 100.0 if n > 1 else None),
}
KEYS = [(1, 1), (3, 1), (1, 3), (2, 2), (2, 0), (0, 2), (0, 0)]
RHO_MAX = Q.MEHLER_TOL ** (1.0 / (Q.MEHLER_MAX_DEGREE + 1))


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def test_mehler_serves_the_weakly_correlated_pairs_only():
    parts = Q._Parts(activation("tanh"))
    q = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 1e8])
    c = np.array([0.0, 0.5, 0.7, 0.75, 0.0, 0.0])
    ok, rho = Q._mehler_eligible(parts, q, np.ones_like(q), c)
    assert 0.73 < RHO_MAX < 0.75
    assert ok.tolist() == [True, True, True, False, False, False]  # |rho| > 0.74, zero variance, std 1e4


@pytest.mark.parametrize("name", sorted(ARB))
@pytest.mark.parametrize("a, b, q1, q2, rho", [
    (1, 1, 1.0, 1.0, 0.3),
    (3, 1, 0.8, 1.3, -0.73),     # at the edge of the Mehler route: N = 128 terms
    (2, 0, 1e-4, 2.0, 0.5),      # scale ratio 140
    (0, 2, 30.0, 0.5, 0.1),      # std 5.5: steep on the Gaussian's scale
    (2, 2, 1.0, 1.0, 0.0),       # independent units
])
def test_mehler_against_30_digits(name, a, b, q1, q2, rho):
    act = activation(name)
    c = rho * np.sqrt(q1 * q2)
    ok, _ = Q._mehler_eligible(Q._Parts(act), np.array([max(q1, q2)]), np.array([min(q1, q2)]), np.array([c]))
    assert ok.all()  # this test is about the Mehler route
    got, est = _quiet(Q.gaussian_pair_quadrature, act, a, b, q1, q2, c, with_error=True)
    deriv, reach = ARB[name]
    ref = float(pair_ref(a, b, q1, q2, c, deriv=deriv, reach=reach).mid())
    err = abs(float(got) - ref)
    assert err <= float(est), (name, a, b, q1, q2, c, float(got), ref, err, float(est))
    assert float(est) <= 1e-10 * abs(ref) + 1e-12, (float(est), ref)


@settings(max_examples=15, deadline=None)
@given(ab=st.sampled_from(KEYS), ls1=st.floats(-3.0, 1.0), ls2=st.floats(-3.0, 1.0),
       rho=st.floats(-RHO_MAX, RHO_MAX), name=st.sampled_from(sorted(ARB)))
def test_mehler_error_estimate_bounds_the_error(ab, ls1, ls2, rho, name):
    """Standard deviations 1e-3..10, every |rho| the route serves: |computed - 30-digit reference| <= estimate."""
    act = activation(name)
    q1, q2 = 10.0 ** (2 * ls1), 10.0 ** (2 * ls2)
    c = rho * np.sqrt(q1 * q2)
    got, est = _quiet(Q.gaussian_pair_quadrature, act, *ab, q1, q2, c, with_error=True)
    deriv, reach = ARB[name]
    ref = float(pair_ref(*ab, q1, q2, c, deriv=deriv, reach=reach).mid())
    assert abs(float(got) - ref) <= float(est), (name, ab, q1, q2, c, float(got), ref, float(est))


@pytest.mark.parametrize("name", sorted(ARB))
def test_mehler_agrees_with_the_conditional_rule_on_batches(name):
    """Both rules on 150 random pairs and every Gauss-Newton kernel: they differ by less than both estimates."""
    rng = np.random.default_rng(3)
    parts = Q._Parts(activation(name))
    s1, s2 = 10 ** rng.uniform(-1.5, 0.7, 150), 10 ** rng.uniform(-1.5, 0.7, 150)
    qA, qB = np.maximum(s1, s2) ** 2, np.minimum(s1, s2) ** 2
    c = rng.uniform(-RHO_MAX, RHO_MAX, 150) * np.sqrt(qA * qB)
    ok, rho = Q._mehler_eligible(parts, qA, qB, c)
    assert ok.all()
    for a, b in KEYS:
        v1, e1, n1 = Q._pair_mehler(parts, a, b, qA, qB, rho)
        v2, e2, _ = Q._pair_conditional(parts, a, b, qA, qB, c)
        assert np.all(np.abs(v1 - v2) <= e1 + e2), (a, b)
        assert np.all(e1 <= 1e-12 * n1)  # and the estimate is small relative to ||f|| ||g||


def test_batch_mixing_both_routes_keeps_each_pair():
    """A batch with weakly and strongly correlated pairs: each value equals its route's value alone."""
    act = activation("tanh")
    q1 = np.array([1.0, 2.0, 1.0, 0.5])
    q2 = np.array([1.0, 1.0, 1.0, 0.5])
    rho = np.array([0.2, 0.95, -0.5, -0.999])
    c = rho * np.sqrt(q1 * q2)
    both = _quiet(Q.gaussian_pair_quadrature, act, 3, 1, q1, q2, c)
    for i in range(4):
        alone = _quiet(Q.gaussian_pair_quadrature, act, 3, 1, q1[i], q2[i], c[i])
        assert abs(float(alone) - both[i]) <= 1e-14 * max(1.0, abs(both[i]))


@settings(max_examples=20, deadline=None)
@given(P=st.integers(1, 300), tile=st.sampled_from([1, 7, 64, 128, 1024]), seed=st.integers(0, 2**32 - 1))
def test_symmetrize_in_place_is_exact_and_returns_the_norm(P, tile, seed):
    """(H + H^T)/2 bit for bit, tile by tile, and the Frobenius norm of the result (np.linalg.norm)."""
    from symhess.linalg.psd import symmetrize_in_place

    H = np.random.default_rng(seed).standard_normal((P, P))
    ref = 0.5 * (H + H.T)
    norm = symmetrize_in_place(H, tile)
    assert np.array_equal(H, ref)
    assert abs(norm - np.linalg.norm(ref)) <= 1e-13 * np.linalg.norm(ref)


def test_mehler_falls_back_where_the_activation_overflows_on_its_grid():
    """A unit too large at 13 standard deviations (exp overflow there, finite within 9): the conditional rule."""
    from dataclasses import dataclass

    import sympy as sp

    from symhess.activations.base import Activation
    from symhess.symbols import z

    @dataclass(frozen=True)
    class Steep(Activation):  # tanh inside |t| <= 110, overflowing beyond |t| ~ 110 (exp(10|t|))
        name = "steep_test"

        def expr(self, x=z):
            return sp.tanh(x)

        def analytic_strip(self):
            return np.pi / 2

        def numeric_derivatives(self, orders, x):
            with np.errstate(over="ignore", invalid="ignore"):
                big = np.where(np.abs(x) > 110.0, np.exp(10 * np.abs(x)), 1.0)
            return {n: TANH_D[n](x) * big for n in orders}

    TANH_D = {n: (lambda x, n=n: activation("tanh").numeric_derivatives((n,), x)[n]) for n in range(5)}
    act = Steep()
    q = 100.0  # std 10: |t| reaches 130 on the Mehler grid, 90 on the conditional one
    parts = Q._Parts(act)
    ok, rho = Q._mehler_eligible(parts, np.array([q]), np.array([1.0]), np.array([0.3]))
    assert ok.all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v_mehler = Q._pair_mehler(parts, 1, 1, np.array([q]), np.array([1.0]), rho)[0]
        got = Q._pair_sorted(parts, 1, 1, np.array([q]), np.array([1.0]), np.array([0.3]))[0]
        ref = Q._pair_conditional(parts, 1, 1, np.array([q]), np.array([1.0]), np.array([0.3]))[0]
    assert not np.isfinite(v_mehler).all()
    assert np.isfinite(got).all() and got[0] == ref[0]
