"""Students wider than the teacher: global minima, the Hessian there, its null space and counting rules.

Independent routes: exact rational coefficients of the network polynomial (loss exactly 0), concrete
SymPy differentiation with exact Gaussian moments (polynomials) or 1-D mpmath quadrature (erf), the
matched-width Hessian pulled back through the split map, exact ranks over Q and ball-arithmetic proofs.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.two_layer.counting import measure_wider_rank, polynomial_span_dimension, wider_rule, Rule
from symhess.two_layer.minimum_hessian import (
    certified_minimum_rank, classify_minimum, exact_null_check, family_dimension, minimum_null_directions, nearest_minimum, null_residual,
)
from symhess.errors import ShapeError
from symhess.expectation.moments import expect_standard_normal
from symhess.two_layer.coefficients import coefficient_vector
from symhess.two_layer.minima import global_minimum

KINDS = ("zero", "split", "mixed")
POLYS = ("linear", "quadratic", "quadratic:eps=1/2", "poly:coeffs=[0,1]", "poly:coeffs=[0,0,1]",
         "poly:coeffs=[1,0,1]", "poly:coeffs=[1,1,1]")  # [c_1, c_2, ...]: z^2, z^3, z + z^3, z + z^2 + z^3


def f64(*arrays):
    return [np.asarray(a, dtype=float) for a in arrays]


def point(Ni, Nt, Ns, kind, seed, **kw):
    Wt, vt = symhess.rational_teacher(Ni, Nt, rng=seed)
    W, v, s = global_minimum(Wt, vt, Ns, kind, rng=seed + 1, return_structure=True, **kw)
    return Wt, vt, W, v, s


# --------------------------------------------------------------------------- the points
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 3), st.sampled_from(KINDS), st.sampled_from(POLYS),
       st.integers(0, 10**6), st.booleans())
def test_polynomial_network_equals_the_teacher_exactly(Ni, Nt, extra, kind, act, seed, shuffle):
    """Loss exactly 0 over Q: every coefficient of the student's polynomial equals the teacher's."""
    Wt, vt, W, v, s = point(Ni, Nt, Nt + extra, kind, seed, permutation="random" if shuffle else None)
    Fs, Es = coefficient_vector(act, W, v)
    Ft, Et = coefficient_vector(act, Wt, vt)
    assert np.array_equal(Es, Et) and all(a == b for a, b in zip(Fs, Ft))
    # the float routes see the same (dyadic) point: loss 0 and gradient 0 to rounding (relative to the
    # size of the terms that cancel: 1/2 E[f^2] and its gradient)
    Wf, vf, Wtf, vtf = f64(W, v, Wt, vt)
    assert_zero_loss_and_gradient(act, Wf, vf, Wtf, vtf)


def assert_zero_loss_and_gradient(act, Wf, vf, Wtf, vtf):
    scale = symhess.population_loss(act, Wf, vf, Wtf, 0 * vtf)
    gscale = np.abs(symhess.population_gradient(act, Wf, vf, Wtf, 0 * vtf)).max()
    assert symhess.population_loss(act, Wf, vf, Wtf, vtf) <= 1e-14 * scale
    assert np.abs(symhess.population_gradient(act, Wf, vf, Wtf, vtf)).max() <= 1e-13 * gscale
    assert symhess.population_loss(act, Wf, vf * 1.01, Wtf, vtf) > 1e-5 * scale  # the check can fail


@pytest.mark.parametrize("act", ["erf", "erf:scale=2", "relu"])
@pytest.mark.parametrize("kind", KINDS)
def test_loss_and_gradient_vanish_for_erf_and_relu(act, kind):
    Wt, vt, W, v, s = point(3, 2, 5, kind, 4, permutation="random")
    assert_zero_loss_and_gradient(act, *f64(W, v, Wt, vt))


def test_structure_shares_permutation_and_user_choices():
    Wt, vt = symhess.rational_teacher(3, 2, rng=0)
    W, v, s = global_minimum(Wt, vt, 6, "mixed", n_zero=1, copies=[3, 2], shares=["1/2", "1/4", "1/4", 2, -1],
                             zero_weights=[[1, 0, "-1/2"]], return_structure=True)
    assert s.kind == "mixed" and s.n_zero == 1 and s.n_split == 3
    assert list(s.teacher_unit) == [0, 0, 0, 1, 1, -1]
    assert v[0] == vt[0] / 2 and v[3] == 2 * vt[1] and v[4] == -vt[1] and v[5] == 0
    assert list(W[5]) == [1, 0, Fraction(-1, 2)] and (W[4] == Wt[1]).all()
    perm = [5, 3, 0, 1, 4, 2]
    W2, v2, s2 = global_minimum(Wt, vt, 6, "mixed", n_zero=1, copies=[3, 2], shares=["1/2", "1/4", "1/4", 2, -1],
                                zero_weights=[[1, 0, "-1/2"]], permutation=perm, return_structure=True)
    assert (W2 == W[perm]).all() and (v2 == v[perm]).all() and list(s2.permutation) == perm
    # float teacher -> float point, drawn shares sum to 1
    Wf, vf = symhess.teacher(3, 2, rng=1)
    W3, v3, s3 = global_minimum(Wf, vf, 5, "split", rng=2, return_structure=True)
    assert W3.dtype == float and abs(v3[s3.teacher_unit == 0].sum() - vf[0]) < 1e-15


@pytest.mark.parametrize("bad, err", [
    (dict(n_hidden=1), ValueError), (dict(kind="duplicate"), ValueError),
    (dict(kind="split", shares=["1/2", "1/3", 1]), ValueError), (dict(kind="zero", zero_weights=[[1, 2]]), ShapeError),
    (dict(kind="split", copies=[1, 1]), ValueError), (dict(kind="mixed", n_zero=5), ValueError),
    (dict(permutation=[0, 0, 1]), ValueError),
])
def test_bad_input_raises(bad, err):
    Wt, vt = symhess.rational_teacher(3, 2, rng=0)
    kw = dict(n_hidden=3, kind="zero") | bad
    with pytest.raises(err):
        global_minimum(Wt, vt, kw.pop("n_hidden"), kw.pop("kind"), **kw)


# --------------------------------------------------------------------------- the Hessian there
def _sympy_hessian_at_minimum(act, W, v, Wt, vt):
    """Concrete SymPy loss of a width-Ns student against a width-Nt teacher; Hessian by differentiation."""
    Ns, Ni = W.shape
    net = symhess.TwoLayerNet(Ni, Ns, act)
    xs = list(net.x)
    sig = net.activation.expr
    teacher = sum(sp.Rational(vt[g]) * sig(sum(sp.Rational(Wt[g, j]) * xs[j] for j in range(Ni)))
                  for g in range(len(vt)))
    loss = (net.output - teacher) ** 2 / 2
    sub = dict(zip(net.theta, [sp.Rational(x) for x in list(W.ravel()) + list(v)]))
    grad = [sp.diff(loss, a) for a in net.theta]
    H = sp.zeros(len(grad))
    for a in range(len(grad)):
        for b in range(a, len(grad)):
            H[a, b] = H[b, a] = expect_standard_normal(sp.expand(sp.diff(grad[a], net.theta[b]).subs(sub)), xs)
    return H, expect_standard_normal(sp.expand(loss.subs(sub)), xs), [
        expect_standard_normal(sp.expand(g.subs(sub)), xs) for g in grad]


@pytest.mark.parametrize("act, kind", [("quadratic:eps=1/2", "mixed"), ("poly:coeffs=[0,1,1]", "split"),
                                       ("poly:coeffs=[1,0,1]", "zero")])
def test_hessian_equals_concrete_sympy_differentiation(act, kind):
    Wt, vt, W, v, s = point(2, 1, 3, kind, 3)
    Hs, loss, grad = _sympy_hessian_at_minimum(act, W, v, Wt, vt)
    assert loss == 0 and all(g == 0 for g in grad)
    Hq = symhess.exact_expected_hessian(act, W, v)
    assert all(sp.Rational(str(Hq[i, j])) == Hs[i, j] for i in range(Hs.rows) for j in range(Hs.cols))
    Wf, vf, Wtf, vtf = f64(W, v, Wt, vt)
    Hf = symhess.expected_hessian(act, Wf, vf, W_teacher=Wtf, v_teacher=vtf)  # full Hessian, teacher of width 1
    np.testing.assert_allclose(Hf, np.array(Hs, dtype=float), rtol=1e-12, atol=1e-13)
    assert symhess.hessian_rank(act, W, v, exact=True, route="both").rank == Hs.rank()


def test_erf_hessian_equals_sympy_gradients_under_mpmath_quadrature():
    """Ni = 1: H_ab = E[d_a f d_b f] by 30-digit quadrature of SymPy's derivatives of the network."""
    Wt, vt, W, v, s = point(1, 1, 3, "mixed", 5)
    net = symhess.TwoLayerNet(1, 3, "erf")
    sub = dict(zip(net.theta, [sp.Rational(x) for x in list(W.ravel()) + list(v)]))
    x = net.x[0]
    grads = [sp.lambdify(x, sp.diff(net.output, a).subs(sub), "mpmath") for a in net.theta]
    mpmath.mp.dps = 30
    P = len(grads)
    Hq = np.array([[float(mpmath.quad(lambda t: grads[a](t) * grads[b](t) * mpmath.npdf(t), [-mpmath.inf, 0, mpmath.inf]))
                    for b in range(P)] for a in range(P)])
    Wf, vf, Wtf, vtf = f64(W, v, Wt, vt)
    np.testing.assert_allclose(symhess.expected_hessian("erf", Wf, vf, W_teacher=Wtf, v_teacher=vtf), Hq,
                               rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("act", ["erf", "quadratic", "poly:coeffs=[0,0,0,1]"])
def test_split_and_zero_hessians_reduce_to_the_matched_hessian(act):
    """Split: H = A^T H_t A with (dw*_g, dv*_g) = (sum_i a_i dw_i, sum_i dv_i); zero units: H_t is a principal block."""
    Wt, vt, W, v, s = point(3, 2, 6, "mixed", 11, n_zero=2, permutation="random")
    Wf, vf, Wtf, vtf = f64(W, v, Wt, vt)
    H = symhess.expected_hessian(act, Wf, vf)
    Ht = symhess.expected_hessian(act, Wtf, vtf)
    Ns, Ni = W.shape
    Nt = len(vt)
    copies = np.flatnonzero(s.teacher_unit >= 0)
    A = np.zeros((Nt * Ni + Nt, Ns * Ni + Ns))
    for i in copies:
        g = s.teacher_unit[i]
        A[g * Ni:(g + 1) * Ni, i * Ni:(i + 1) * Ni] = float(s.shares[i]) * np.eye(Ni)
        A[Nt * Ni + g, Ns * Ni + i] = 1.0
    keep = np.concatenate([np.arange(i * Ni, (i + 1) * Ni) for i in copies] + [Ns * Ni + copies])
    np.testing.assert_allclose(H[np.ix_(keep, keep)], (A.T @ Ht @ A)[np.ix_(keep, keep)], rtol=1e-12, atol=1e-14)
    # a zero point with the teacher's units first: the matched Hessian is its leading principal block
    W2, v2 = f64(*global_minimum(Wt, vt, 4, "zero", rng=2))
    H2 = symhess.expected_hessian(act, W2, v2)
    idx = np.concatenate([np.arange(Nt * Ni), 4 * Ni + np.arange(Nt)])
    np.testing.assert_allclose(H2[np.ix_(idx, idx)], Ht, rtol=1e-13, atol=1e-15)
    # the matrix-free operator agrees with the dense Hessian there
    op = symhess.hessian_operator(act, Wf, vf)
    np.testing.assert_allclose(op @ np.eye(H.shape[0]), H, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- null space
@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 3), st.sampled_from(KINDS), st.integers(0, 10**6))
def test_explicit_null_vectors_exactly_and_counts(Ni, Nt, extra, kind, seed):
    Wt, vt, W, v, s = point(Ni, Nt, Nt + extra, kind, seed, permutation="random")
    d = minimum_null_directions(W, v, s)
    dim, n_null = family_dimension(Ni, Nt, Nt + extra, s.n_zero)
    assert d.tangent.shape[1] == dim and d.count == n_null
    for act in ("quadratic", "poly:coeffs=[0,0,0,1]"):
        assert exact_null_check(act, W, v, d.all)
    # ... and they are independent (exact rank of the direction matrix)
    import flint
    from symhess.two_layer.exact import to_fmpq
    if d.count:
        assert flint.fmpq_mat([[to_fmpq(x) for x in row] for row in d.all]).rank() == d.count
    H = symhess.expected_hessian("erf", *f64(W, v))
    assert null_residual(H, d.all) <= 1e-13
    # a non-null direction is caught: the zero unit's output weight, or a teacher unit's output weight
    e = np.zeros((H.shape[0], 1))
    e[-1 if s.n_zero == 0 else (Nt + extra) * Ni + int(s.zero_units[0]), 0] = 1.0
    assert null_residual(H, e) > 1e-6


def test_tangent_directions_keep_the_loss_zero_and_degenerate_ones_are_quartic():
    Wt, vt, W, v, s = point(2, 2, 4, "mixed", 8, n_zero=1)
    Wf, vf, Wtf, vtf = f64(W, v, Wt, vt)
    d = minimum_null_directions(Wf, vf, s)
    Ns, Ni = W.shape
    th = np.concatenate([Wf.ravel(), vf])

    def loss(t):
        return symhess.population_loss("erf", t[:Ns * Ni].reshape(Ns, Ni), t[Ns * Ni:], Wtf, vtf, method="expansion")

    for t in d.tangent.T:  # exact symmetries: the loss stays 0 at finite distance
        assert loss(th + 0.3 * t) <= 1e-15
    for t in d.degenerate.T:  # loss ~ eps^4: doubling eps multiplies it by 16
        l1, l2 = loss(th + 0.05 * t), loss(th + 0.1 * t)
        assert l1 > 1e-12 and 14.0 < l2 / l1 < 17.5, (l1, l2)


def test_certified_rank_meets_the_explicit_null_count_for_erf():
    for kind, (Ni, Nt, Ns) in [("zero", (3, 2, 5)), ("split", (2, 2, 5)), ("mixed", (1, 2, 5)), ("mixed", (4, 3, 6))]:
        Wt, vt, W, v, s = point(Ni, Nt, Ns, kind, 21, permutation="random")
        r = certified_minimum_rank("erf", W, v, s)
        assert r.status == "exact" and r.rank == Nt * (Ni + 1) + s.n_zero
        assert symhess.hessian_rank(symhess.expected_hessian("erf", *f64(W, v))).rank == r.rank


def test_classify_and_nearest_minimum():
    Wt, vt, W, v, s = point(3, 2, 6, "mixed", 2, permutation="random")
    Wf, vf, Wtf, vtf = f64(W, v, Wt, vt)
    c = classify_minimum(Wf, vf, Wtf, vtf)
    assert c.kind == "mixed" and (c.teacher_unit == s.teacher_unit).all()
    np.testing.assert_allclose(c.shares, s.shares.astype(float))
    rng = np.random.default_rng(0)
    Wn, vn = Wf + 1e-6 * rng.normal(size=Wf.shape), vf + 1e-6 * rng.normal(size=vf.shape)
    c2 = classify_minimum(Wn, vn, Wtf, vtf)
    assert c2.kind == "mixed"
    Wm, vm = nearest_minimum(Wn, vn, c2, Wtf, vtf)
    assert symhess.population_loss("erf", Wm, vm, Wtf, vtf) <= 1e-15
    assert np.abs(Wm - Wn).max() < 1e-5 and np.abs(vm - vn).max() < 1e-5
    assert classify_minimum(Wf + 0.1, vf, Wtf, vtf).kind == "other"


# --------------------------------------------------------------------------- counting rules
# poly:coeffs=[c_1, c_2, ...]: z, z^2, z^3, z^4, z^2 + z^4, z^2 + z^3 + z^4, z + z^3
ACTS = ("linear", "quadratic", "quadratic:eps=1/3", "poly:coeffs=[1]", "poly:coeffs=[0,1]", "poly:coeffs=[0,0,1]",
        "poly:coeffs=[0,0,0,1]", "poly:coeffs=[0,1,0,1]", "poly:coeffs=[0,1,1,1]", "poly:coeffs=[1,0,1]")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ACTS), st.integers(1, 4), st.integers(1, 3), st.integers(0, 4), st.sampled_from(KINDS),
       st.integers(0, 10**6))
def test_wider_rules_proved_by_exact_ranks(act, Ni, Nt, extra, kind, seed):
    e = symhess.effective_parameters(act, Ni, Nt + extra, n_teacher=Nt, kind=kind)
    m = measure_wider_rank(act, Ni, Nt, Nt + extra, kind, method="exact", rng=seed)
    assert m.status == "exact"
    if e.status == "exact":
        assert m.rank == e.value, (act, Ni, Nt, extra, kind, e.value, m.rank)
    else:  # an upper bound: the exact rank at a random point is a lower bound of the generic rank
        assert m.rank <= e.value
        assert m.rank == e.value  # attained at every drawn size so far


def test_rules_by_hand():
    # z + z^2, Ni = 3: matched r_t(Nt = 1) = 9 - 2*5/2 = 4, D = 3 + 6 = 9
    assert symhess.effective_parameters("quadratic", 3, 4, n_teacher=1, kind="split").value == 4
    assert symhess.effective_parameters("quadratic", 3, 4, n_teacher=1, kind="zero").value == 7
    assert symhess.effective_parameters("quadratic", 3, 9, n_teacher=1, kind="zero").value == 9
    assert symhess.effective_parameters("linear", 3, 9, n_teacher=1, kind="zero").value == 3
    assert symhess.effective_parameters("erf", 3, 9, n_teacher=2, kind="mixed", n_zero=3).value == 8 + 3
    assert polynomial_span_dimension(2, [0, 0, 0, 1]) == 4 and polynomial_span_dimension(2, [1, 0, 1]) == 4
    r = wider_rule(Rule(10, "m", "exact", "-"), 3, 2, 6, "mixed", n_zero=1, span_dimension=10)
    assert r.value == 10 and "family dimension 6" in r.note
    with pytest.raises(ValueError):
        symhess.effective_parameters("erf", 3, 2, n_teacher=3)
    with pytest.raises(ValueError):
        symhess.effective_parameters("erf", 3, 4, kind="zero")


@pytest.mark.parametrize("Ni, Nt, Ns, kind", [(1, 1, 3, "zero"), (2, 2, 5, "split"), (3, 1, 4, "mixed"),
                                             (2, 3, 6, "zero")])
def test_erf_wider_rule_certified(Ni, Nt, Ns, kind):
    e = symhess.effective_parameters("erf", Ni, Ns, n_teacher=Nt, kind=kind, measure=True, rng=Ns)
    assert e.measured.status == "exact" and e.measured.rank == e.value


def test_count_cli_wider(tmp_path):
    from click.testing import CliRunner
    from symhess.cli import main

    res = CliRunner().invoke(main, ["count", "-a", "quadratic", "--n-in", "3", "--n-teacher", "1", "--n-hidden", "4",
                                    "--kind", "zero", "--exact"])
    assert res.exit_code == 0 and "match: yes" in res.output and "N_eff = 7" in res.output
    out = tmp_path / "t"
    res = CliRunner().invoke(main, ["count", "-a", "poly:coeffs=[0,0,1]", "--sweep", "--n-in", "1..3", "--n-teacher",
                                    "1..2", "--n-hidden", "1..4", "--kind", "mixed", "--exact", "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.with_suffix(".md").read_text()
    assert "| NO" not in text and text.count("| mixed |") == 21
    res = CliRunner().invoke(main, ["count", "--n-in", "3", "--kind", "zero"])
    assert res.exit_code != 0 and "--n-teacher" in res.output


def test_docs_page_code_blocks_run():
    """Every python block of docs/wider_students.md runs as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "wider_students.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/wider_students.md", "exec"), {})


@pytest.mark.parametrize("Ni, Nt, Ns", [(2, 1, 3), (3, 2, 5), (2, 2, 5)])
def test_relu_rules_against_float_ranks(Ni, Nt, Ns):
    """ReLU, N_i >= 2: split = N_t N_i (the span argument), zero = N_t N_i + N_z (conjecture; float64 ranks)."""
    import warnings

    for kind in KINDS:
        e = symhess.effective_parameters("relu", Ni, Ns, n_teacher=Nt, kind=kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = measure_wider_rank("relu", Ni, Nt, Ns, kind, rng=Ns)
        assert m.status == "numerical" and m.rank == e.value
    assert symhess.effective_parameters("relu", 1, 3, n_teacher=1, kind="zero").value == 2  # relu(ux) spans 2
    Wt, vt, W, v, s = point(2, 1, 3, "zero", 0)
    with pytest.raises(ArithmeticError, match="ReLU"):
        certified_minimum_rank("relu", W, v, s)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ACTS), st.integers(1, 6), st.integers(1, 4), st.integers(0, 6), st.sampled_from(KINDS),
       st.integers(0, 10**6))
def test_wider_rules_larger_sweep(act, Ni, Nt, extra, kind, seed):
    e = symhess.effective_parameters(act, Ni, Nt + extra, n_teacher=Nt, kind=kind)
    m = measure_wider_rank(act, Ni, Nt, Nt + extra, kind, method="exact", rng=seed)
    assert m.rank == e.value, (act, Ni, Nt, extra, kind, e.value, m.rank)


@pytest.mark.slow
@pytest.mark.parametrize("Ni", [1, 2, 3, 4])
@pytest.mark.parametrize("Nt", [1, 2, 3])
def test_erf_wider_rules_certified_grid(Ni, Nt):
    for extra in (1, 2, 3):
        for kind in KINDS:
            e = symhess.effective_parameters("erf", Ni, Nt + extra, n_teacher=Nt, kind=kind)
            m = measure_wider_rank("erf", Ni, Nt, Nt + extra, kind, rng=100 * Ni + 10 * Nt + extra)
            assert m.status == "exact" and m.rank == e.value
