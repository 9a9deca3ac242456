"""Activations without closed forms beyond tanh (sigmoid, softplus, SiLU): the quadrature route.

Independent routes: 30-digit mpmath quadrature of SymPy's own derivatives (the pair references are
stored below, computed by nested ``mpmath.quad`` at ``mp.dps = 30`` of the conditional form
:math:`E[f_a(u)\\,E[f_b(v)\\mid u]]`; the single expectations are computed here), and Monte Carlo of
:math:`E[\\nabla f\\nabla f^T]` for a small network.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import symhess
from symhess import activation
from symhess.errors import SymhessAccuracyError
from symhess.kernels.quadrature import gaussian_pair_quadrature, gaussian_single_quadrature
from symhess.symbols import z

NAMES = ("sigmoid", "softplus", "silu")

# (name, a, b, q1, q2, c) -> E[s^(a)(u) s^(b)(v)], 30-digit mpmath (nested quad, conditional form)
PAIR_REFERENCES = {
    ("sigmoid", 0, 0, 1.0, 1.0, 0.3): "0.26282527138304938331",
    ("sigmoid", 0, 2, 1.0, 1.0, 0.3): "-0.003885965098500401352970176",
    ("sigmoid", 1, 1, 1e2, 1e-2, 0.999): "0.009814075022051893361755421",  # rho = 0.999, variances 1e2, 1e-2
    ("softplus", 0, 0, 1.0, 1.0, 0.3): "0.7266538753029296567819182",
    ("softplus", 1, 2, 0.5, 2.0, 0.9999): "0.09079046150790763637271489",  # rho = 0.9999
    ("silu", 0, 0, 1e-2, 1e-2, 5e-3): "0.001259313009302824315035296",
    ("silu", 2, 1, 10.0, 0.1, 0.99): "0.06756534820593066635053551",  # rho = 0.99
}


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("key", sorted(PAIR_REFERENCES, key=str))
def test_pair_matches_mpmath(key):
    name, a, b, q1, q2, c = key
    ref = float(mp.mpf(PAIR_REFERENCES[key]))
    val, err = _quiet(gaussian_pair_quadrature, activation(name), a, b, q1, q2, c, with_error=True)
    assert abs(float(val) - ref) <= 1e-10 * abs(ref)
    # the same computation with the pair swapped
    val2 = _quiet(gaussian_pair_quadrature, activation(name), b, a, q2, q1, c)
    assert abs(float(val2) - ref) <= 1e-10 * abs(ref)


def _single_ref(name, a, b, m, q):
    mp.mp.dps = 30
    act = activation(name)
    g = sp.diff(act.derivative(a, z) * act.derivative(b, z), z, m)
    fn = sp.lambdify(z, g, "mpmath")
    s = mp.sqrt(mp.mpf(q))
    pts = sorted({-12, 0, 12} | {k / s for k in (-20, -5, -1, 1, 5, 20) if abs(k / s) < 12})
    return float(mp.quad(lambda x: fn(s * x) * mp.npdf(x), pts))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("a,b,m,q", [(0, 0, 0, 1e-2), (0, 0, 0, 1e2), (1, 1, 0, 1.0), (0, 1, 1, 1e2), (2, 1, 1, 0.5)])
def test_single_matches_mpmath(name, a, b, m, q):
    ref = _single_ref(name, a, b, m, q)
    val = float(_quiet(gaussian_single_quadrature, activation(name), a, b, m, q))
    assert abs(val - ref) <= 1e-10 * max(abs(ref), 1e-3)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("x", [-300.0, -40.0, -3.0, 0.0, 0.7, 40.0, 300.0])
def test_numeric_derivatives_tail_accurate(name, x):
    """Relative accuracy 1e-13 against mpmath, including the tails where naive formulas lose it."""
    act = activation(name)
    got = act.numeric_derivatives((0, 1, 2, 3, 4), np.array([x]))
    mp.mp.dps = 400  # enough that 1 + e^{-300} is not rounded to 1
    for n in range(5):
        ref = sp.lambdify(z, act.derivative(n, z), "mpmath")(mp.mpf(x))
        assert abs(got[n][0] - float(ref)) <= 1e-13 * abs(float(ref)) + 1e-300, (n, got[n][0], ref)


def test_sigmoid_registered_hooks():
    act = activation("sigmoid")
    assert act.saturation() == (0.0, 1.0, 1.0)
    assert act.analytic_strip() == pytest.approx(np.pi)
    # |sigma(t) - limit| <= e^{-|t|} and |sigma^(n)| decays at the same rate (the saturation contract)
    t = np.linspace(-60, 60, 241)
    d = act.numeric_derivatives((0, 1, 2), t)
    lim = np.where(t > 0, 1.0, 0.0)
    assert np.all(np.abs(d[0] - lim) <= np.exp(-np.abs(t)) * (1 + 1e-12) + 4e-16)  # rounding of 1 - s
    assert np.all(np.abs(d[2]) <= np.exp(-np.abs(t)))
    assert activation("softplus").saturation() is None and activation("silu").saturation() is None


def test_non_saturating_refuses_unresolvable_variance():
    """Softplus and SiLU are integrated on the Gaussian's scale: a huge variance raises, never a wrong number."""
    for name in ("softplus", "silu"):
        with pytest.raises(SymhessAccuracyError):
            _quiet(gaussian_pair_quadrature, activation(name), 1, 1, 1e7, 1.0, 0.5)


@pytest.mark.parametrize("name", NAMES)
def test_dense_hessian_psd_and_monte_carlo(name):
    """H = E[grad f grad f^T] at the optimum: symmetric, PSD, and equal to Monte Carlo within 5 standard errors."""
    rng = np.random.default_rng(7)
    Ni, Nh = 3, 2
    W = rng.normal(size=(Nh, Ni)) / np.sqrt(Ni)
    v = rng.normal(size=Nh) / np.sqrt(Nh)
    H = _quiet(symhess.expected_hessian, name, W, v)
    P = Nh * (Ni + 1)
    assert H.shape == (P, P)
    assert np.allclose(H, H.T, rtol=0, atol=1e-13)
    assert np.linalg.eigvalsh(H).min() >= -1e-12 * np.abs(H).max()
    act = activation(name)
    n = 200_000
    x = rng.normal(size=(n, Ni))
    h = x @ W.T
    d = act.numeric_derivatives((0, 1), h)
    grad_W = (v * d[1])[:, :, None] * x[:, None, :]  # d f / d W_ij = v_i s'(w_i.x) x_j, row-major
    grad = np.concatenate([grad_W.reshape(n, Nh * Ni), d[0]], axis=1)  # then d f / d v_i = s(w_i.x)
    outer = grad[:, :, None] * grad[:, None, :]
    mc = outer.mean(axis=0)
    se = outer.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(H - mc) <= 5 * se + 1e-12), np.max(np.abs(H - mc) / (se + 1e-300))


@pytest.mark.parametrize("a,b", [(0, 0), (1, 1), (2, 0), (2, 2), (3, 1), (4, 0)])
@pytest.mark.parametrize("q1,q2,rho", [(1e-2, 1e2, 0.5), (1e4, 1e4, 1 - 1e-12), (3.0, 0.3, -0.999), (1e2, 1e2, 0.0)])
def test_sigmoid_is_half_tanh_of_half_argument(a, b, q1, q2, rho):
    r"""sigma(z) = (1 + tanh(z/2))/2: K^sigma_ab(q1, q2, c) = 2^{-a-b-2} K^tanh_ab(q1/4, q2/4, c/4), plus 1/4 for a = b = 0.

    For b = 0 < a the constant 1/2 adds 2^{-a-2} E[tanh^(a)(u/2)], zero here because tanh^(a) is odd for even a.
    An independent route: the tanh quadrature is checked against mpmath in its own tests.
    """
    c = rho * np.sqrt(q1 * q2)
    sig, tanh = activation("sigmoid"), activation("tanh")
    got = float(_quiet(gaussian_pair_quadrature, sig, a, b, q1, q2, c))
    ref = 2.0 ** (-a - b - 2) * float(_quiet(gaussian_pair_quadrature, tanh, a, b, q1 / 4, q2 / 4, c / 4))
    if a == b == 0:
        ref += 0.25
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_in,n_hidden,seed", [(2, 5, 1), (4, 3, 2), (1, 3, 3)])
def test_full_rank_rule_certified_on_drawn_instances(name, n_in, n_hidden, seed):
    from symhess.two_layer.rank import hessian_rank

    rule = activation(name).counting_rule(n_in, n_hidden)
    assert (rule.value, rule.status) == (n_hidden * (n_in + 1), "exact")
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_hidden, n_in)) / np.sqrt(n_in)
    v = rng.normal(size=n_hidden) / np.sqrt(n_hidden)
    res = _quiet(hessian_rank, name, W, v, certify=True)
    assert res.status == "exact" and res.rank == rule.value  # proved, not estimated
    assert symhess.effective_parameters(name, n_in, n_hidden).value == rule.value
