"""Deep networks: symbolic model, exact/float expected Hessians, ranks, counting (independent routes)."""

from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from gaussian_moments import gaussian_expectation
from symhess.deep.counting import expected_dimension
from symhess.deep.coefficients import deep_coefficient_jacobian, deep_linear_hessian, linear_jacobian
from symhess.deep.model import DeepNet
from symhess.deep.weights import deep_teacher, n_parameters, rational_deep_teacher

QUAD = "quadratic:eps=1/2"


def _fmpq_to_sympy(M: flint.fmpq_mat) -> sp.Matrix:
    return sp.Matrix(M.nrows(), M.ncols(), lambda i, j: sp.Rational(int(M[i, j].p), int(M[i, j].q)))



def _sympy_expected_hessian(widths, act, Ws) -> sp.Matrix:
    net = DeepNet(widths, act)
    subs = {s: sp.Rational(int(w.p), int(w.q)) for W, Wq in zip(net.weights, Ws) for s, w in zip(W, Wq.ravel())}
    GN = net.gauss_newton.subs(subs)
    return GN.applyfunc(lambda e: gaussian_expectation(e, list(net.x)))


# -- 1. the symbolic model ----------------------------------------------------------------------------------


def test_deepnet_two_layer_is_twolayernet():
    deep = DeepNet((2, 3, 1), "erf")
    two = symhess.TwoLayerNet(2, 3, "erf")
    ren = {s: t for s, t in zip(two.theta, deep.theta)}
    ren.update({s: t for s, t in zip(two.x, deep.x)})
    assert sp.simplify(two.output.xreplace(ren) - deep.output[0]) == 0
    assert len(deep.theta) == two.n_params


def test_deepnet_hessian_matches_finite_differences():
    net = DeepNet((2, 2, 2), "tanh")
    rng = np.random.default_rng(0)
    vals = dict(zip(net.theta, rng.normal(size=net.n_params)))
    vals.update(dict(zip(net.theta_teacher, rng.normal(size=net.n_params))))
    vals.update(dict(zip(net.x, rng.normal(size=2))))
    loss = sp.lambdify(net.theta, net.loss.subs({k: v for k, v in vals.items() if k not in net.theta}))
    H = np.array(net.hessian.subs(vals).evalf(), dtype=float)
    t0 = np.array([vals[s] for s in net.theta])
    h = 1e-4
    P = len(t0)
    Hfd = np.empty((P, P))
    for i in range(P):
        for j in range(P):
            e_i, e_j = np.eye(P)[i] * h, np.eye(P)[j] * h
            Hfd[i, j] = (loss(*(t0 + e_i + e_j)) - loss(*(t0 + e_i - e_j)) - loss(*(t0 - e_i + e_j))
                         + loss(*(t0 - e_i - e_j))) / (4 * h * h)
    assert np.allclose(H, Hfd, atol=1e-5)
    # at the optimum the residual part vanishes
    assert sp.simplify(net.hessian_at_optimum - net.gauss_newton) == sp.zeros(P, P)


def test_deepnet_rejects_bad_widths():
    with pytest.raises(ValueError, match="at least two"):
        DeepNet((3,), "linear")
    with pytest.raises(TypeError):
        DeepNet((3, 2.5, 1), "linear")
    with pytest.raises(ValueError, match="hidden layers"):
        DeepNet((3, 2, 2, 1), ["linear"])


# -- 2. exact expected Hessians -----------------------------------------------------------------------------

ACTS_POLY = ["linear", QUAD, "poly:coeffs=[0,0,1]", "poly:coeffs=[1,0,-1/3]"]


@settings(max_examples=25, deadline=None)
@given(n_in=st.integers(1, 3), n_hidden=st.integers(1, 3), act=st.sampled_from(ACTS_POLY), seed=st.integers(0, 10**6))
def test_depth_two_agrees_exactly_with_two_layer_routes(n_in, n_hidden, act, seed):
    W1, W2 = rational_deep_teacher((n_in, n_hidden, 1), rng=seed)
    H = symhess.deep_expected_hessian(act, [W1, W2], exact=True)
    assert H == symhess.exact_expected_hessian(act, W1, W2[0])  # pair formulas (Isserlis), a different route
    Hf = symhess.deep_expected_hessian(act, [W1, W2])
    ref = symhess.expected_hessian(act, W1.astype(float), W2[0].astype(float))
    assert np.allclose(Hf, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("widths,act", [
    ((2, 2, 1, 1), QUAD),
    ((2, 2, 2), QUAD),
    ((1, 2, 2, 2), ["linear", QUAD]),
    ((2, 1, 2, 1), "poly:coeffs=[0,1]"),
])
def test_exact_hessian_matches_sympy_gaussian_moments(widths, act):
    Ws = rational_deep_teacher(widths, rng=3)
    H = symhess.deep_expected_hessian(act, Ws, exact=True)
    assert _fmpq_to_sympy(H) == _sympy_expected_hessian(widths, act, Ws)


@settings(max_examples=20, deadline=None)
@given(widths=st.lists(st.integers(1, 4), min_size=2, max_size=5), seed=st.integers(0, 10**6))
def test_deep_linear_closed_form_and_rank(widths, seed):
    Ws = rational_deep_teacher(widths, rng=seed)
    H = deep_linear_hessian(Ws, exact=True)
    assert H == deep_coefficient_jacobian("linear", Ws).hessian()  # polynomial back-propagation route
    r = min(widths)
    assert H.rank() == r * (widths[0] + widths[-1] - r) == symhess.deep_effective_parameters("linear", widths).value


def test_float_matches_exact_at_depth_four():
    Ws = rational_deep_teacher((2, 3, 2, 2, 1), rng=5)
    H = symhess.deep_expected_hessian(QUAD, Ws, exact=True)
    Hf = symhess.deep_expected_hessian(QUAD, [W.astype(float) for W in Ws])
    Hq = np.array([[float(x) for x in row] for row in H.tolist()])
    assert np.allclose(Hf, Hq, rtol=1e-10, atol=1e-12 * np.abs(Hq).max())
    assert np.allclose(Hf, Hf.T) and np.linalg.eigvalsh(Hf).min() > -1e-10 * np.abs(Hf).max()


# -- 3. gradients at points, certified ranks, quasi-Monte Carlo ----------------------------------------------


def test_point_gradients_match_sympy_jacobian():
    from symhess.deep.pointwise import ball_gradients, gradients, rational_gradients, rational_inputs

    widths = (2, 2, 2, 2)
    Ws = rational_deep_teacher(widths, rng=1)
    X = rational_inputs(2, 2, rng=2)
    for act in (QUAD, "erf", "tanh"):
        net = DeepNet(widths, act)
        subs = {s: sp.Rational(int(w.p), int(w.q)) for W, Wq in zip(net.weights, Ws) for s, w in zip(W, Wq.ravel())}
        Jsym = net.output_jacobian.subs(subs)
        for mu in range(2):
            pt = {s: sp.Rational(int(x.p), int(x.q)) for s, x in zip(net.x, X[mu])}
            ref = np.array(Jsym.subs(pt).evalf(30).tolist(), dtype=float)
            G = gradients(act, [W.astype(float) for W in Ws], X.astype(float))
            assert np.allclose(G[mu], ref, rtol=1e-12, atol=1e-14)
            B = ball_gradients(act, Ws, X, 128)[mu]
            assert all(b.contains(flint.arb(str(sp.N(r, 40)))) or abs(float(b.mid()) - float(r)) < 1e-30
                       for b, r in zip(B.ravel(), Jsym.subs(pt).evalf(40)))
        if act == QUAD:
            exact = rational_gradients(act, Ws, X)
            for mu in range(2):
                pt = {s: sp.Rational(int(x.p), int(x.q)) for s, x in zip(net.x, X[mu])}
                assert _fmpq_row(exact[mu]) == Jsym.subs(pt)


def _fmpq_row(A):
    return sp.Matrix(A.shape[0], A.shape[1], lambda i, j: sp.Rational(int(A[i, j].p), int(A[i, j].q)))


@pytest.mark.parametrize("act", ["erf", "relu"])
def test_qmc_estimate_within_stated_error_at_depth_two(act):
    W1, W2 = deep_teacher((4, 3, 1), rng=2)
    ref = symhess.expected_hessian(act, W1, W2[0])  # closed form (arcsine / arc-cosine kernels)
    est = symhess.deep_hessian_estimate(act, [W1, W2], rng=0)
    err = np.abs(est.hessian - ref)
    assert err.max() <= est.error
    assert np.mean(err <= 2 * est.stderr) > 0.9  # standard errors are honest, not inflated
    assert est.error < 0.01 * np.abs(ref).max()
    with pytest.warns(symhess.SymhessAccuracyWarning, match="estimate"):
        symhess.deep_expected_hessian(act, [W1, W2], n_points=256, replicates=4, rng=0)


def test_qmc_estimate_within_stated_error_at_depth_three():
    Ws = rational_deep_teacher((3, 3, 2, 1), rng=4)
    exact = symhess.deep_expected_hessian(QUAD, Ws, exact=True)
    ref = np.array([[float(x) for x in row] for row in exact.tolist()])
    est = symhess.deep_hessian_estimate(QUAD, [W.astype(float) for W in Ws], rng=1)
    assert np.abs(est.hessian - ref).max() <= est.error


def test_exact_rank_routes_agree_and_certify():
    Ws = rational_deep_teacher((3, 4, 2, 1), rng=0)
    for act, expected in ((QUAD, 19), ("poly:coeffs=[0,0,1]", 16), ("linear", 3)):
        ranks = {m: symhess.deep_hessian_rank(act, Ws, method=m) for m in ("exact", "points", "float")}
        assert {r.rank for r in ranks.values()} == {expected}
        H = symhess.deep_expected_hessian(act, Ws, exact=True)
        assert H.rank() == expected  # rank of the expected Hessian itself
    erf = symhess.deep_hessian_rank("erf", Ws)
    assert (erf.rank, erf.status) == (22, "exact") and erf.route.startswith("certified")
    tanh = symhess.deep_hessian_rank("tanh", Ws, method="certify")
    assert tanh.rank == 22 and tanh.status == "exact"


def test_relu_rank_bounded_by_rescalings():
    Ws = rational_deep_teacher((3, 4, 3, 1), rng=2)
    r = symhess.deep_hessian_rank("relu", Ws)
    assert r.upper == 27 - 7 and r.rank <= r.upper  # P = 12 + 12 + 3 = 27 minus 7 hidden units
    est = symhess.deep_hessian_estimate("relu", [W.astype(float) for W in Ws], rng=0)
    ev = np.linalg.eigvalsh(est.hessian)
    assert np.sum(ev > 1e-2 * ev.max()) <= r.upper


# -- 4. counting ----------------------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(n=st.integers(2, 3), depth=st.integers(2, 3), d=st.integers(2, 3), seed=st.integers(0, 1000))
def test_equi_width_attains_expected_dimension(n, depth, d, seed):
    act = "poly:coeffs=[" + ",".join(["0"] * (d - 1) + ["1"]) + "]"
    widths = (n,) * (depth + 1)
    rule = symhess.deep_effective_parameters(act, widths)
    assert rule.status == "exact"
    m = symhess.deep_hessian_rank(act, rational_deep_teacher(widths, rng=seed), method="points")
    assert m.rank == rule.value and m.status == "exact"


@pytest.mark.parametrize("widths,defective,threshold", [((2, 3, 2, 1), 8, 4), ((3, 2, 3, 2), 12, 4)])
def test_activation_degree_threshold(widths, defective, threshold):
    """Below the threshold the expected dimension is not attained; from it on it is (exact ranks)."""
    low = "poly:coeffs=[0,0,1]"
    high = "poly:coeffs=[" + ",".join(["0"] * (threshold - 1) + ["1"]) + "]"
    Ws = rational_deep_teacher(widths, rng=0)
    assert symhess.deep_hessian_rank(low, Ws).rank == defective < expected_dimension(widths, 3)
    assert symhess.deep_effective_parameters(low, widths).value == defective  # the split bound sees the defect
    high_rank = symhess.deep_hessian_rank(high, Ws, method="points")  # meets the symmetry bound: exact
    assert high_rank.status == "exact" and high_rank.rank == symhess.deep_effective_parameters(high, widths).value


def test_errors():
    with pytest.raises(symhess.ShapeError, match="columns"):
        symhess.deep_expected_hessian(QUAD, [np.ones((2, 3)), np.ones((1, 3))])
    with pytest.raises(symhess.NoClosedFormError, match="polynomial"):
        symhess.deep_expected_hessian("erf", deep_teacher((2, 2, 1), rng=0), exact=True)
    with pytest.raises(symhess.NonFiniteError):
        symhess.deep_expected_hessian(QUAD, [np.full((2, 2), np.nan), np.ones((1, 2))])
    with pytest.raises(symhess.NotRationalError):
        symhess.deep_expected_hessian("quadratic:eps=sqrt(2)", rational_deep_teacher((2, 2, 1), rng=0), exact=True)
    with pytest.raises(ValueError, match="method"):
        symhess.deep_hessian_rank(QUAD, deep_teacher((2, 2, 1), rng=0), method="magic")
    with pytest.raises(TypeError):
        symhess.deep_teacher("3,4")
    assert n_parameters((3, 4, 2, 1)) == 22


# -- the command line -----------------------------------------------------------------------------------------


def test_count_cli_widths(tmp_path):
    from click.testing import CliRunner

    from symhess.cli import main

    res = CliRunner().invoke(main, ["count", "-a", "linear", "--widths", "3,4,2,1", "--exact"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "prediction: 3 of P = 22 (exact" in res.output and "rank 3 of P = 22 (exact" in res.output
    assert "match: yes" in res.output
    out = tmp_path / "t"
    res = CliRunner().invoke(main, ["count", "-a", "poly:coeffs=[0,1]", "--sweep", "--widths", "2,2,2;3,4,2,1",
                                    "--exact", "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    md = (tmp_path / "t.md").read_text()
    assert "| 2,2,2 | 8 | 6 |" in md and "| 3,4,2,1 | 22 | 12 |" in md and "below bound" in md
    bad = CliRunner().invoke(main, ["count", "--widths", "3,x"])
    assert bad.exit_code != 0 and "not a list of widths" in bad.output


def test_docs_page_python_blocks_run():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "deep.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "docs/deep.md", "exec"), {})


def test_matrix_free_operator_matches_dense():
    Ws = deep_teacher((5, 4, 3, 2), rng=3)
    for act in (QUAD, "linear"):
        H = symhess.deep_expected_hessian(act, Ws)
        op = symhess.deep_hessian_operator(act, Ws)
        V = np.random.default_rng(0).normal(size=(H.shape[0], 3))
        assert np.allclose(op @ V, H @ V, rtol=1e-12, atol=1e-12 * np.abs(H).max())
        top = symhess.extreme_eigenvalues(op, k=3)
        assert np.allclose(np.sort(top.values), np.linalg.eigvalsh(H)[-3:], rtol=1e-8)
    with pytest.warns(symhess.SymhessAccuracyWarning, match="quasi-Monte Carlo"):  # erf: the QMC operator
        op = symhess.deep_hessian_operator("erf", Ws, n_points=64, replicates=2)
    assert op.shape == (n_parameters((5, 4, 3, 2)),) * 2
