"""Closed-form contract of every registered activation family, generated from the registry.

Every registered name has example parameters below (a new activation without examples fails
``test_every_registered_activation_has_examples``). For each example and every pair/one-unit
expectation the Hessian uses, the closed form (evaluated by mpmath at 32 digits from the SymPy
formula) is compared with an independent mpmath quadrature (``tests/family_reference.py``: tensor
Gauss-Hermite for smooth units, Gaussian smoothing + adaptive quadrature for kinks), including
near-singular covariances (|rho| = 1 - 1e-9) and small and large variances. The default run uses
variances where the 60-node reference is exact to ~1e-26; the wide sweep (q up to 1e2) is slow.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import family_reference as ref
import symhess
from symhess.activations import ACTIVATIONS, activation
from symhess.errors import ActivationParameterError, NoClosedFormError
from symhess.expectation.pairs import ROUTES, pair_expectation, single_expectation
from symhess.kernels.codegen import compile_pair_kernel
from symhess.symbols import c, q, q1, q2, z

#: example parameters per registered activation name
EXAMPLES: dict[str, list[str]] = {
    "sigmoid": ["sigmoid"],
    "softplus": ["softplus"],
    "silu": ["silu"],
    "linear": ["linear"],
    "quadratic": ["quadratic:eps=1/3"],
    "poly": ["poly:coeffs=[1,0.3,0.2]"],
    "erf": ["erf:scale=0.7"],
    "relu": ["relu"],
    "tanh": ["tanh"],
    "abrelu": ["abrelu:a=-0.3,b=1.2", "abrelu:a=2,b=-1/2"],
    "leaky_relu": ["leaky_relu:slope=0.1"],
    "abs": ["abs"],
    "sin": ["sin:scale=0.7,phase=0.4"],
    "cos": ["cos:scale=1.3"],
    "rbf": ["rbf:gamma=0.5"],
    "exp": ["exp:scale=0.5"],
    "gaussian": ["gaussian:scale=0.8"],
    "gelu": ["gelu"],
    "hermite": ["hermite:coeffs=[0.2,1,0.3,-0.1]"],
    "sign": ["sign"],
    "step": ["step"],
}
#: every (a, b) the Gauss-Newton and residual blocks use, and every one-unit (a, b, m)
PAIR_KEYS = [(0, 0), (1, 1), (2, 0), (0, 2), (2, 2), (3, 1), (1, 3), (4, 0), (0, 4)]
SINGLE_KEYS = [(0, 0, 0), (1, 1, 0), (1, 0, 1), (1, 1, 2), (2, 0, 0), (2, 0, 2)]
LOSS_ONLY = {"sign", "step"}
NUMERICAL = {"tanh", "sigmoid", "softplus", "silu"}  # no closed form: quadrature (test_expectation.py, test_generic_activations.py)


def _all(names=None):
    return [s for name, specs in EXAMPLES.items() for s in specs if names is None or name in names]


CLOSED = [s for s in _all() if s.split(":")[0] not in LOSS_ONLY | NUMERICAL]
KINKED = [s for s in CLOSED if activation(s).singular_at_parallel]
SMOOTH = [s for s in CLOSED if s not in KINKED]


def test_every_registered_activation_has_examples():
    assert set(EXAMPLES) == set(ACTIVATIONS)
    for specs in EXAMPLES.values():
        for spec in specs:
            act = activation(spec)
            assert activation(act.spec) == act


def _mp_formula(expr, args):
    return sp.lambdify(args, expr, "mpmath")


def _slopes(act):
    """(a, b) of an ABReLU-type unit as mpmath numbers (ReLU is (0, 1))."""
    a, b = getattr(act, "ab", (sp.Integer(0), sp.Integer(1)))
    return tuple(mp.mpf(sp.Rational(x).p) / sp.Rational(x).q for x in (a, b))


def _pair_ref(act, a, b, Q1, Q2, C, n=60):
    if act.singular_at_parallel:
        return ref.abrelu_pair(*_slopes(act), a, b, Q1, Q2, C)
    return ref.smooth_pair(act, a, b, Q1, Q2, C, n)


def _check_pairs(spec, Q1, Q2, rho, keys=PAIR_KEYS, rtol=1e-20, n=60):
    act = activation(spec)
    with mp.workdps(ref.DPS):
        C = mp.mpf(rho) * mp.sqrt(mp.mpf(Q1) * mp.mpf(Q2))
        for key in keys:
            expr, route = pair_expectation(act, *key, with_route=True)
            assert route != ROUTES[3], (spec, key)
            with mp.workdps(60):  # the closed form itself may cancel (relu's K00 as rho -> -1): evaluate it long
                got = _mp_formula(expr, (q1, q2, c))(mp.mpf(Q1), mp.mpf(Q2), C)
            want = _pair_ref(act, *key, Q1, Q2, C, n)
            # scale: E[sigma^(a)(u)^2]^(1/2) E[sigma^(b)(v)^2]^(1/2) for smooth units (Cauchy-Schwarz), else |want|
            if act.singular_at_parallel:
                scale = abs(want) + mp.mpf(10) ** -25
            else:
                scale = mp.sqrt(abs(ref.smooth_single(act, key[0], key[0], 0, Q1, n))
                                * abs(ref.smooth_single(act, key[1], key[1], 0, Q2, n))) + mp.mpf(10) ** -25
            assert abs(got - want) <= rtol * scale, (spec, key, Q1, Q2, rho, mp.nstr(got, 20), mp.nstr(want, 20))


# -- closed forms against quadrature ---------------------------------------------------------------


@pytest.mark.parametrize("spec", SMOOTH)
def test_smooth_closed_forms_match_quadrature(spec):
    # one regular and one near-singular covariance, small and moderate variances
    _check_pairs(spec, 0.3, 0.2, -0.45, keys=[(0, 0), (1, 1), (2, 0), (2, 2), (3, 1), (4, 0)])
    _check_pairs(spec, 1e-4, 0.25, 1 - 1e-9, keys=[(0, 2), (1, 3), (2, 2), (0, 4)])


@pytest.mark.parametrize("spec", KINKED)
def test_kinked_closed_forms_match_quadrature(spec):
    _check_pairs(spec, 0.7, 1.9, -0.45)
    _check_pairs(spec, 1e-4, 3.0, -(1 - 1e-9), keys=[(0, 0), (1, 1), (2, 2), (3, 1), (0, 4)])


@pytest.mark.parametrize("spec", CLOSED)
def test_one_unit_closed_forms_match_quadrature(spec):
    act = activation(spec)
    for Q in (0.25, 1e-3):
        for a, b, m in SINGLE_KEYS:
            expr, route = single_expectation(act, a, b, m, with_route=True)
            assert route != ROUTES[3], (spec, (a, b, m))
            with mp.workdps(ref.DPS):
                got = _mp_formula(expr, (q,))(mp.mpf(Q)) if expr.free_symbols else mp.mpf(sp.N(expr, 40))
                if act.singular_at_parallel:
                    if max(a, b) >= 2:  # delta(h) sigma(h) = sigma(0) / sqrt(2 pi q) = 0 for these units
                        assert act.expr(z).subs(z, 0) == 0 and got == 0, (spec, (a, b, m))
                        continue
                    want = ref.abrelu_single(*_slopes(act), a, b, m, Q)
                else:
                    want = ref.smooth_single(act, a, b, m, Q)
                scale = abs(want) + mp.mpf(10) ** -22
                assert abs(got - want) <= 1e-20 * abs(want) + 1e-26, (spec, (a, b, m), Q, got, want)


@settings(max_examples=6, deadline=None)
@given(a=st.fractions(-3, 3, max_denominator=10), b=st.fractions(-3, 3, max_denominator=10),
       lq1=st.floats(-4, 2), lq2=st.floats(-4, 2),
       rho=st.one_of(st.floats(-0.99, 0.99), st.sampled_from([1 - 1e-9, -(1 - 1e-9), 0.0])),
       key=st.sampled_from(PAIR_KEYS))
def test_abrelu_closed_forms_for_all_slopes_and_covariances(a, b, lq1, lq2, rho, key):
    """For all slopes a != b, variances 1e-4..1e2 and |rho| <= 1 - 1e-9: closed form = quadrature."""
    if a == b:
        return
    _check_pairs(f"abrelu:a={a},b={b}", 10**lq1, 10**lq2, rho, keys=[key])


@given(lq1=st.floats(-4, 2), lq2=st.floats(-4, 2),
       rho=st.one_of(st.floats(-0.999, 0.999), st.sampled_from([1 - 1e-9, -(1 - 1e-9)])))
def test_relu_is_abrelu_zero_one(lq1, lq2, rho):
    """For all covariances, every kernel of abrelu:a=0,b=1 equals relu's (one family, one special point)."""
    Q1, Q2 = 10**lq1, 10**lq2
    C = rho * math.sqrt(Q1 * Q2)
    k_ab = compile_pair_kernel(activation("abrelu:a=0,b=1"), tuple(PAIR_KEYS))(Q1, Q2, C)
    k_relu = compile_pair_kernel(activation("relu"), tuple(PAIR_KEYS))(Q1, Q2, C)
    for key in PAIR_KEYS:
        np.testing.assert_allclose(k_ab[key], k_relu[key], rtol=1e-9, atol=1e-14 * abs(k_relu[key]).max(), err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("spec", SMOOTH)
@settings(max_examples=10, deadline=None)
@given(lq1=st.floats(-4, 2), lq2=st.floats(-4, 2),
       rho=st.one_of(st.floats(-0.99, 0.99), st.sampled_from([1 - 1e-9, -(1 - 1e-9)])),
       key=st.sampled_from(PAIR_KEYS))
def test_smooth_closed_forms_wide_sweep(spec, lq1, lq2, rho, key):
    """q from 1e-4 to 1e2 (1 for the Gaussian-type units, whose Gauss-Hermite reference converges slowly)."""
    act = activation(spec)
    cap = 0.0 if act.name in ("gaussian", "gelu", "erf") else 2.0
    Q1, Q2 = 10 ** min(lq1, cap), 10 ** min(lq2, cap)
    with mp.workdps(ref.DPS):  # the reference must agree with itself first (160 vs 200 nodes)
        C = mp.mpf(rho) * mp.sqrt(mp.mpf(Q1) * mp.mpf(Q2))
        r1, r2 = ref.smooth_pair(act, *key, Q1, Q2, C, 160), ref.smooth_pair(act, *key, Q1, Q2, C, 200)
        assert abs(r1 - r2) <= 1e-18 * (abs(r2) + 1), "reference not converged"
    _check_pairs(spec, Q1, Q2, rho, keys=[key], rtol=1e-16, n=200)


# -- independent closed forms: Mehler, published kernels -------------------------------------------


def test_hermite_moments_are_mehlers_formula():
    """At unit variances E[sigma(u) sigma(v)] = sum_k c_k^2 k! c^k and E[sigma' sigma'] = sum_k c_k^2 k k! c^(k-1)."""
    cs = sp.symbols("c0:5")
    act = activation("hermite", coeffs=cs)
    k00 = pair_expectation(act, 0, 0).subs({q1: 1, q2: 1})
    k11 = pair_expectation(act, 1, 1).subs({q1: 1, q2: 1})
    assert sp.expand(k00 - sum(cs[k] ** 2 * sp.factorial(k) * c**k for k in range(5))) == 0
    assert sp.expand(k11 - sum(cs[k] ** 2 * k * sp.factorial(k) * c ** (k - 1) for k in range(1, 5))) == 0
    assert activation("hermite:coeffs=[0,0,1]").expr(z) == z**2 - 1  # probabilists', not physicists' (4z^2 - 2)


def test_loss_only_units():
    """sign/step: K00 matches quadrature; every derivative order raises, naming what does exist."""
    for name in LOSS_ONLY:
        act = activation(name)
        k00 = pair_expectation(act, 0, 0)
        with mp.workdps(ref.DPS):
            for Q1, Q2, rho in ((0.7, 1.9, -0.45), (1e-3, 3.0, 1 - 1e-9)):
                C = mp.mpf(rho) * mp.sqrt(mp.mpf(Q1) * mp.mpf(Q2))
                got = _mp_formula(k00, (q1, q2, c))(mp.mpf(Q1), mp.mpf(Q2), C)
                assert abs(got - ref.sign_pair(name, Q1, Q2, C)) < 1e-25
        with pytest.raises(NoClosedFormError, match="Dirac delta"):
            pair_expectation(act, 1, 1)
        W, v = symhess.teacher(3, 2, rng=0)
        assert symhess.population_loss(act, W + 0.1, v, W, v) > 0
        with pytest.raises(NoClosedFormError, match="only the loss"):
            symhess.expected_hessian(act, W, v)
        with pytest.raises(NoClosedFormError):
            symhess.effective_parameters(act, 3, 2)


def test_bad_parameters_are_named():
    with pytest.raises(ActivationParameterError, match="linear"):
        activation("abrelu:a=1,b=1")
    with pytest.raises(ActivationParameterError, match="linear"):
        activation("leaky_relu:slope=1")
    for spec in ("sin:scale=0", "cos:scale=-1", "rbf:gamma=0", "exp:scale=-2", "gaussian:scale=0"):
        with pytest.raises(ActivationParameterError, match="must be positive"):
            activation(spec)
    with pytest.raises(ActivationParameterError, match="degree >= 1"):
        activation("hermite:coeffs=[1]")


# -- Neural Tangents' published kernels (stax.elementwise), typed from its documented formulas -------

def _nt(name, Q1, Q2, C):
    """(E[sigma sigma], E[sigma' sigma']) as Neural Tangents' kernel_fn computes them (nngp, ntk factor)."""
    prod, root = Q1 * Q2, math.sqrt(max(Q1 * Q2 - C * C, 0.0))
    theta = math.atan2(root, C)
    if name in ("abrelu", "leaky_relu", "abs"):
        a, b = (-0.3, 1.2) if name == "abrelu" else (0.1, 1.0) if name == "leaky_relu" else (-1.0, 1.0)
        dot = (a * a + b * b) / 2 - (a - b) ** 2 / (2 * math.pi) * theta
        return (a - b) ** 2 / (2 * math.pi) * root + dot * C, dot
    if name == "erf":  # Erf(b=0.7): the input kernel is scaled by b^2 first
        s2 = 0.49
        pr = (1 + 2 * s2 * Q1) * (1 + 2 * s2 * Q2)
        sq = math.sqrt(pr - 4 * (s2 * C) ** 2)
        return 2 / math.pi * math.atan2(2 * s2 * C, sq), 4 / math.pi / sq * s2
    if name == "gelu":
        pp = (1 + Q1) * (1 + Q2)
        d2 = pp - C * C
        d, ang = math.sqrt(d2), math.atan2(C, math.sqrt(pp - C * C))
        nngp = ((C * C + prod * d2) / (pp * d) + C * ang) / (2 * math.pi) + C / 4
        return nngp, (1 / d2 + (1 - prod) / pp + 1) * C / d / (2 * math.pi) + 0.25 + ang / (2 * math.pi)
    if name == "sin":  # Sin(a=1, b=0.7, c=0.4)
        b, ph, sm = 0.7, 0.4, Q1 + Q2
        s1, s2 = math.exp(b * b * (-0.5 * sm + C)), math.exp(b * b * (-0.5 * sm - C)) * math.cos(2 * ph)
        return 0.5 * (s1 - s2), 0.5 * b * b * (s1 + s2)
    if name == "cos":  # Cos(b=1.3) = Sin(c = pi/2)
        b, sm = 1.3, Q1 + Q2
        s1, s2 = math.exp(b * b * (-0.5 * sm + C)), -math.exp(b * b * (-0.5 * sm - C))
        return 0.5 * (s1 - s2), 0.5 * b * b * (s1 + s2)
    if name == "rbf":  # Rbf(gamma=0.5); its ntk factor is not given by NT for the pair
        g = 0.5
        return math.exp(g * (-(Q1 + Q2) + 2 * C)), None
    if name == "exp":  # Exp(a=1, b=0.5)
        b = 0.5
        nngp = math.exp(b * b * ((Q1 + Q2) / 2 + C))
        return nngp, b * b * nngp
    if name == "gaussian":  # Gaussian(a=1, b=-s^2/2), s = 0.8
        b = -0.32
        det = math.sqrt((1 - 2 * b * Q1) * (1 - 2 * b * Q2) - 4 * b * b * C * C)
        return 1 / det, 4 * b * b * C / det**3
    if name == "sign":
        return 1 - 2 * theta / math.pi, None
    raise KeyError(name)


NT_SPECS = {"abrelu": "abrelu:a=-0.3,b=1.2", "leaky_relu": "leaky_relu:slope=0.1", "abs": "abs", "erf": "erf:scale=0.7",
            "gelu": "gelu", "sin": "sin:scale=0.7,phase=0.4", "cos": "cos:scale=1.3", "rbf": "rbf:gamma=0.5",
            "exp": "exp:scale=0.5", "gaussian": "gaussian:scale=0.8", "sign": "sign"}


@given(lq1=st.floats(-3, 1), lq2=st.floats(-3, 1),
       rho=st.one_of(st.floats(-0.999, 0.999), st.sampled_from([1 - 1e-9, -(1 - 1e-9), 0.0])))
def test_neural_tangents_kernels_agree(lq1, lq2, rho):
    """For all covariances: symhess's K00 and K11 equal Neural Tangents' nngp and ntk factor."""
    Q1, Q2 = 10**lq1, 10**lq2
    C = rho * math.sqrt(Q1 * Q2)
    for name, spec in NT_SPECS.items():
        keys = ((0, 0),) if name in LOSS_ONLY else ((0, 0), (1, 1))
        got = compile_pair_kernel(activation(spec), keys)(Q1, Q2, C)
        nngp, ntk = _nt(name, Q1, Q2, C)
        scale = math.sqrt(float(compile_pair_kernel(activation(spec), ((0, 0),))(Q1, Q1, Q1)[(0, 0)])
                          * float(compile_pair_kernel(activation(spec), ((0, 0),))(Q2, Q2, Q2)[(0, 0)]))
        # rounding of rho = c / sqrt(q1 q2) moves arccos(rho) by eps / sqrt(1 - rho^2) in both codes
        cond = 1e-12 + 1e-15 / math.sqrt(1 - rho * rho)
        assert abs(float(got[(0, 0)]) - nngp) <= cond * scale, (name, Q1, Q2, rho)
        if ntk is not None:
            assert abs(float(got[(1, 1)]) - ntk) <= cond * max(abs(ntk), 1.0), (name, Q1, Q2, rho)


# -- every family through the pipeline ------------------------------------------------------------

#: the vv entry E[sigma(w_i.x) sigma(w_k.x)] typed from the published kernels (LaTeX, checker notation)
VV_FORMULAS = {
    "abs": r"\frac{2}{\pi}\left(\sqrt{Q_{ii}Q_{kk}-Q_{ik}^2}+Q_{ik}\arcsin\frac{Q_{ik}}{\sqrt{Q_{ii}Q_{kk}}}\right)",
    "cos": r"e^{-(Q_{ii}+Q_{kk})/2}\cosh(Q_{ik})",
    "sin": r"e^{-(Q_{ii}+Q_{kk})/2}\sinh(Q_{ik})",
    "rbf": r"e^{-(Q_{ii}+Q_{kk}-2Q_{ik})}",
    "exp": r"e^{(Q_{ii}+Q_{kk})/2+Q_{ik}}",
    "gaussian": r"\frac{1}{\sqrt{(1+Q_{ii})(1+Q_{kk})-Q_{ik}^2}}",
    "gelu": (r"\frac{Q_{ik}}{4}+\frac{1}{2\pi}\left(\frac{Q_{ik}^2+Q_{ii}Q_{kk}((1+Q_{ii})(1+Q_{kk})-Q_{ik}^2)}"
             r"{(1+Q_{ii})(1+Q_{kk})\sqrt{(1+Q_{ii})(1+Q_{kk})-Q_{ik}^2}}"
             r"+Q_{ik}\arcsin\frac{Q_{ik}}{\sqrt{(1+Q_{ii})(1+Q_{kk})}}\right)"),
    "hermite:coeffs=[0,1,1]": r"1 + Q_{ii} Q_{kk} + 2 Q_{ik}^{2} + Q_{ik} - Q_{ii} - Q_{kk}",  # He_1 + He_2
    # leaky ReLU, slope 1/5 (Neural Tangents' ABRelu form): (1-a)^2 = 16/25, (1+a^2)/2 = 13/25
    "leaky_relu:slope=1/5": (r"\frac{16}{50\pi}\sqrt{Q_{ii}Q_{kk}-Q_{ik}^2}+Q_{ik}\left(\frac{13}{25}-\frac{16}{50\pi}"
                             r"\arccos\frac{Q_{ik}}{\sqrt{Q_{ii}Q_{kk}}}\right)"),
}


@pytest.mark.parametrize("spec", sorted(VV_FORMULAS))
def test_checker_accepts_published_kernels_and_rejects_wrong_ones(spec):
    formula = VV_FORMULAS[spec]
    assert symhess.check_formula(formula, spec, "vv", symbolic=False, points=8).ok
    assert not symhess.check_formula(formula + r" + \frac{Q_{ik}}{100}", spec, "vv", symbolic=False, points=8).ok


@pytest.mark.parametrize("spec", [s for s in CLOSED if s.split(":")[0] in
                                  {"abrelu", "leaky_relu", "abs", "sin", "cos", "rbf", "exp", "gaussian", "gelu",
                                   "hermite"}])
def test_family_through_the_pipeline(spec):
    """derive_blocks, LaTeX export, expected Hessian (symmetric PSD), loss and its finite differences."""
    blocks = symhess.derive_blocks(spec)
    assert set(blocks) == {"WW", "Wv", "vv"}
    tex = symhess.to_latex(blocks)
    assert "Q_{ik}" in tex and "E_" not in tex  # closed forms, no quadrature node
    rng = np.random.default_rng(3)
    Wt, vt = symhess.teacher(3, 2, rng)
    H = symhess.expected_hessian(spec, Wt, vt)
    assert np.allclose(H, H.T) and np.linalg.eigvalsh(H)[0] >= -1e-12 * np.abs(H).max()
    # away from the optimum: the full Hessian is the Jacobian of the gradient and the loss's curvature
    W = Wt + 0.2 * rng.standard_normal(Wt.shape)
    v = vt + 0.2 * rng.standard_normal(vt.shape)
    full = symhess.expected_hessian(spec, W, v, W_teacher=Wt, v_teacher=vt)
    theta = np.concatenate([W.ravel(), v])
    loss = lambda t: symhess.population_loss(spec, t[:6].reshape(2, 3), t[6:], Wt, vt, method="expansion")  # noqa: E731
    h = 1e-4
    for i, j in ((0, 0), (1, 4), (2, 6), (6, 7), (3, 3)):
        ei, ej = np.eye(8)[i] * h, np.eye(8)[j] * h
        fd = (loss(theta + ei + ej) - loss(theta + ei - ej) - loss(theta - ei + ej) + loss(theta - ei - ej)) / (4 * h * h)
        assert abs(fd - full[i, j]) <= 1e-5 * np.abs(full).max(), (spec, i, j, fd, full[i, j])


# -- counting --------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, n_in, n_hidden, value", [
    ("abrelu:a=-0.3,b=1.2", 3, 2, 6), ("leaky_relu", 2, 3, 6), ("abs", 3, 2, 6), ("abs", 1, 3, 1),
    ("leaky_relu", 1, 3, 2), ("sin", 2, 2, 6), ("cos", 1, 2, 4), ("rbf", 3, 2, 8), ("exp:scale=0.5", 2, 2, 6),
    ("gaussian", 2, 3, 9),
])
@pytest.mark.filterwarnings("ignore::symhess.errors.SymhessAccuracyWarning")  # N_i = 1: every pair is parallel
def test_rank_rules_hold_certified(spec, n_in, n_hidden, value):
    """The rule's value is the certified rank at a random rational teacher (a proof of rank >= value)."""
    e = symhess.effective_parameters(spec, n_in, n_hidden, measure=True)
    assert e.value == value and e.status == "exact"
    assert e.measured.rank == value, e
    if n_in > 1:
        assert e.measured.status in ("exact", "lower bound") and e.measured.route.startswith("certified")


def test_homogeneous_units_lose_one_direction_per_unit():
    """sigma(l z) = l sigma(z): (w_i, v_i) -> (l w_i, v_i / l) is a null vector of the Hessian at the optimum."""
    Wt, vt = symhess.teacher(3, 4, rng=1)
    for spec in ("abrelu:a=-0.3,b=1.2", "leaky_relu", "abs"):
        H = symhess.expected_hessian(spec, Wt, vt)
        for i in range(4):
            d = np.zeros(4 * 3 + 4)
            d[3 * i: 3 * i + 3] = Wt[i]
            d[12 + i] = -vt[i]
            assert np.linalg.norm(H @ d) <= 1e-12 * np.abs(H).max() * np.linalg.norm(d), (spec, i)


def test_gelu_full_rank_is_measured():
    e = symhess.effective_parameters("gelu", 2, 2, measure=True)
    assert e.value == 6 and e.measured.status == "exact" and e.measured.route.startswith("certified")


def test_docs_code_blocks_run(capsys):
    """Every python block of docs/activations.md runs as written."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "activations.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    for block in blocks:
        exec(compile(block, "docs/activations.md", "exec"), {})
    out = capsys.readouterr().out
    assert "leaky_relu" in out and "N_eff = 6 of P = 8" in out


def test_docs_kernel_table_is_the_exporters_output():
    """The K00 table of docs/activations.md is to_latex of the derived vv entry, verbatim."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "activations.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| \$(.*Q_\{ik\}.*)\$ \|$", text, flags=re.M)
    assert len(rows) >= 9
    for spec, tex in rows:
        if spec in LOSS_ONLY:  # typed: derive_blocks raises for these (no Hessian)
            continue
        assert symhess.to_latex(symhess.derive_blocks(spec)["vv"].entry) == tex, spec


@settings(max_examples=8, deadline=None)
@given(n_in=st.integers(1, 4), n_hidden=st.integers(1, 4), seed=st.integers(0, 2**16),
       spec=st.sampled_from(["sin:scale=0.7,phase=0.4", "cos", "rbf:gamma=0.5", "exp:scale=0.5", "gaussian"]))
def test_periodic_and_exponential_units_are_full_rank(n_in, n_hidden, seed, spec):
    """For all small sizes: the certified rank at a random rational teacher is P (the exact rule)."""
    e = symhess.effective_parameters(spec, n_in, n_hidden, measure=True, rng=seed)
    assert e.value == e.n_params and e.measured.rank == e.n_params and e.measured.status == "exact", e
