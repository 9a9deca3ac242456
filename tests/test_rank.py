"""Hessian rank (issue 3): numerical rank with tolerance and log-gap, exact ranks over Q by two routes,
ball-arithmetic certificates, bad input.

Independent routes used here:

* exact expected Hessians from a concrete SymPy network (``TwoLayerNet``: symbolic differentiation and
  Gaussian moments of the expanded polynomial), compared entry by entry with route (a) (pair formulas
  over Q) and route (b) (``J^T G J``);
* ranks of rational matrices from SymPy's ``Matrix.rank`` and from python-flint's ``fmpq_mat.rref``;
* the erf expected Hessian from the spec's closed forms (formulas.md, plain erf) evaluated by mpmath at 60
  digits, whose smallest eigenvalue must fall inside the proved enclosure;
* the homogeneity null vectors of ReLU, and matrices with a prescribed spectrum for the float rank.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import flint
import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.linalg.exact_rank import exact_rank
from symhess.two_layer.rank import RankResult, hessian_rank, log_spectral_gap, numerical_rank
from symhess.errors import NoClosedFormError, NonFiniteError, SymhessAccuracyWarning
from symhess.two_layer.coefficients import coefficient_jacobian, coefficient_vector, monomial_gram
from symhess.errors import NotRationalError
from symhess.two_layer.exact import exact_expected_hessian

EPS = np.finfo(float).eps


# --------------------------------------------------------------------------- independent references
def _gaussian_moment(n: int) -> int:
    return 0 if n % 2 else int(sp.factorial2(n - 1)) if n else 1


def sympy_expected_hessian(act, W, v, b=None, b0=None) -> sp.Matrix:
    """E_x[grad f grad f^T] from the concrete SymPy network: differentiate, expand, replace x^a by E[x^a]."""
    Nh, Ni = np.shape(W)
    net = symhess.TwoLayerNet(Ni, Nh, act, hidden_bias=b is not None, output_bias=b0 is not None)
    subs = {net.W[i, j]: sp.Rational(str(W[i][j])) for i in range(Nh) for j in range(Ni)}
    subs.update({net.v[i]: sp.Rational(str(v[i])) for i in range(Nh)})
    if b is not None:
        subs.update({net.b[i]: sp.Rational(str(b[i])) for i in range(Nh)})
    if b0 is not None:
        subs[net.b0] = sp.Rational(str(b0))
    xs = list(net.x)
    grads = [sp.expand(sp.diff(net.output, t).subs(subs)) for t in net.theta]

    def expect(poly: sp.Expr) -> sp.Rational:
        out = sp.Integer(0)
        for mon, cf in sp.Poly(poly, *xs).terms():
            m = 1
            for e in mon:
                m *= _gaussian_moment(e)
            out += cf * m
        return out

    P = len(grads)
    return sp.Matrix(P, P, lambda a, c: expect(sp.expand(grads[a] * grads[c])))


def fmpq_to_sympy(M: flint.fmpq_mat) -> sp.Matrix:
    return sp.Matrix(M.nrows(), M.ncols(), lambda i, j: sp.Rational(int(M[i, j].p), int(M[i, j].q)))


def random_spectrum_matrix(eigs, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(len(eigs), len(eigs))))
    return (Q * np.asarray(eigs)) @ Q.T


# --------------------------------------------------------------------------- numerical rank
def test_numerical_rank_diagonal_tolerance_and_gap():
    H = np.diag([4.0, 1.0, 1e-3, 1e-20, 0.0])
    r = numerical_rank(H)
    assert r.status == "numerical" and r.route == "float64"
    assert r.tolerance == pytest.approx(4.0 * 5 * EPS, rel=1e-12)  # max|lambda| * P * eps
    assert r.rank == 3 and r.gap_rank == 3 and r.agrees and r.nullity == 2
    # widest gap: between 1e-3 and 1e-20 -> 17 decades (zero is clipped at s_1 eps^2)
    assert r.gap_decades == pytest.approx(17.0, abs=1e-9)
    assert r.min_eigenvalue == 0.0
    assert "tolerance" in str(r) and "log-gap" in str(r)


@given(st.integers(1, 12), st.integers(0, 12), st.integers(-12, 12), st.integers(0, 10**6))
def test_numerical_rank_prescribed_spectrum_is_scale_invariant(r, k, exponent, seed):
    """r eigenvalues in [1, 10] (random signs), k zeros, rotated and scaled by 10^exponent: rank r, wide gap."""
    rng = np.random.default_rng(seed)
    eigs = np.concatenate([rng.uniform(1, 10, r) * rng.choice([-1, 1], r), np.zeros(k)]) * 10.0**exponent
    res = numerical_rank(random_spectrum_matrix(eigs, seed))
    assert res.rank == r and res.gap_rank == r
    assert res.gap_decades > 10  # rounding noise ~1e-15 relative against eigenvalues >= 0.1 of the largest
    assert res.tolerance == pytest.approx(np.abs(eigs).max() * (r + k) * EPS, rel=1e-6)


def test_numerical_rank_warns_when_tolerance_and_gap_disagree():
    # eigenvalue 1e-13 of the largest: above the tolerance (~1e-15) but separated from the bulk by 12 decades
    H = np.diag([1.0, 0.5, 1e-13, 1e-17])
    with pytest.warns(SymhessAccuracyWarning, match="disagree"):
        r = numerical_rank(H)
    assert r.rank == 3 and r.gap_rank == 2 and r.agrees is False
    assert any("not trustworthy" in n for n in r.notes)


def test_numerical_rank_given_tolerance_and_narrow_gap_note():
    r = numerical_rank(np.diag([1.0, 0.5, 0.2]), tol=0.3)
    assert r.rank == 2 and r.tolerance == 0.3 and "(given)" in r.method
    r = numerical_rank(np.diag([1.0, 0.5, 0.2]))
    assert r.rank == 3 and r.gap_rank == 3  # the full-rank split (0.2 against 7e-16) is the widest gap
    narrow = numerical_rank(np.diag([1.0, 0.9]), tol=0.1)
    assert narrow.rank == 2 and narrow.gap_decades < 3 and any("barely" in n for n in narrow.notes)


def test_log_spectral_gap_edge_cases():
    assert log_spectral_gap(np.zeros(3), 0.0) == (0, float("inf"))
    assert log_spectral_gap(np.array([]), 0.0) == (0, float("inf"))
    rank, gap = log_spectral_gap(np.array([1e-20, -1e-21]), 1e-16)
    assert rank == 0 and gap == pytest.approx(4.0)


def test_numerical_rank_flags_indefinite_matrix():
    r = numerical_rank(np.diag([1.0, -1.0, 0.0]))
    assert r.rank == 2 and any("not positive semidefinite" in n for n in r.notes)


@pytest.mark.parametrize("bad, err, match", [
    (np.ones((2, 3)), ValueError, "square"),
    (np.array([[1.0, 2.0], [0.0, 1.0]]), ValueError, "not symmetric"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), ValueError, "non-finite"),
])
def test_numerical_rank_bad_matrix(bad, err, match):
    with pytest.raises(err, match=match):
        hessian_rank(bad)


def test_numerical_rank_bad_tolerance():
    with pytest.raises(ValueError, match="tol"):
        numerical_rank(np.eye(2), tol=-1.0)
    with pytest.raises(ValueError, match="tol"):
        numerical_rank(np.eye(2), tol=float("nan"))


# --------------------------------------------------------------------------- exact rank of rational matrices
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 7), st.integers(0, 10**6))
def test_exact_rank_matches_sympy_and_flint_rref(m, n, r, seed):
    """Products A (m x r) B (r x n) of random small rationals; compared with two independent eliminations."""
    rng = np.random.default_rng(seed)
    A = [[Fraction(int(rng.integers(-9, 10)), int(rng.integers(1, 5))) for _ in range(r)] for _ in range(m)]
    B = [[Fraction(int(rng.integers(-9, 10)), int(rng.integers(1, 5))) for _ in range(n)] for _ in range(r)]
    M = [[sum((A[i][k] * B[k][j] for k in range(r)), Fraction(0)) for j in range(n)] for i in range(m)]
    res = exact_rank(M)
    mm = exact_rank(M, method="multimodular")
    ref = sp.Matrix(m, n, lambda i, j: sp.Rational(M[i][j].numerator, M[i][j].denominator)).rank()
    Mq = flint.fmpq_mat(m, n, [flint.fmpq(x.numerator, x.denominator) for row in M for x in row])
    assert res.certified and mm.certified
    assert res.rank == mm.rank == ref == Mq.rref()[1] <= min(m, n, r)


def test_exact_rank_hadamard_certificate_and_lower_bound():
    # a 12x12 rank-11 integer matrix with large entries: one prime cannot prove the upper bound
    rng = np.random.default_rng(3)
    A = [[int(x) for x in row] for row in rng.integers(-10**12, 10**12, size=(12, 11))]
    B = [[int(x) for x in row] for row in rng.integers(-10**12, 10**12, size=(11, 12))]
    M = flint.fmpz_mat(A) * flint.fmpz_mat(B)
    full = exact_rank(M, method="multimodular")
    assert full.certified and full.rank == 11 and full.n_primes > 1 and full.bits_used > full.bits_needed
    ff = exact_rank(M)
    assert ff.certified and ff.rank == 11 and ff.proof == "fraction-free" and "fraction-free" in ff.method
    with pytest.raises(ValueError, match="method"):
        exact_rank(M, method="guess")
    one = exact_rank(M, certify=False)
    assert not one.certified and one.rank <= 11 and one.n_primes == 1
    assert "lower bound" in one.method


def test_hessian_rank_on_exact_matrices():
    M = flint.fmpq_mat([[1, 2], [2, 4]])
    r = hessian_rank(M)
    assert r.rank == 1 and r.status == "exact" and r.route == "exact: matrix"
    arr = np.array([[Fraction(1, 3), Fraction(2, 3)], [Fraction(1, 2), 1]], dtype=object)
    assert hessian_rank(arr, exact=True).rank == 1
    with pytest.raises(ValueError, match="rounding errors"):
        hessian_rank(np.eye(2), exact=True)
    with pytest.raises(ValueError, match="certify needs"):
        hessian_rank(np.eye(2), certify=True)


# --------------------------------------------------------------------------- the two exact routes
@pytest.mark.parametrize("act, Ni, Nh, bias", [
    ("quadratic:eps=1/2", 2, 2, False),
    ("poly:coeffs=[1,3/10,1/5]", 2, 2, False),
    ("poly:coeffs=[0,0,1]", 2, 1, False),
    ("quadratic", 2, 2, True),
    ("poly:coeffs=[1,-1,1/2]", 1, 2, True),
])
def test_exact_hessians_equal_concrete_sympy_network(act, Ni, Nh, bias):
    """Routes (a) and (b) reproduce, entry by entry over Q, the Hessian of a concrete SymPy network."""
    W, v = symhess.rational_teacher(Ni, Nh, rng=Ni + 10 * Nh, denominator=4)
    b, b0 = symhess.rational_biases(Nh, rng=5, denominator=4) if bias else (None, None)
    ref = sympy_expected_hessian(act, W.tolist(), v.tolist(), None if b is None else b.tolist(), b0)
    jac = coefficient_jacobian(act, W, v, hidden_bias=b, output_bias=b0).hessian()
    assert fmpq_to_sympy(jac) == ref
    if not bias:
        assert fmpq_to_sympy(exact_expected_hessian(act, W, v)) == ref


def test_coefficient_vector_and_jacobian_against_sympy_expansion():
    """F_alpha from the closed form = coefficients of the expanded SymPy network; J = dF/dtheta by SymPy."""
    act = "poly:coeffs=[1,1/2,1/3]"
    Ni, Nh = 2, 2
    net = symhess.TwoLayerNet(Ni, Nh, act, hidden_bias=True, output_bias=True)
    W, v = symhess.rational_teacher(Ni, Nh, rng=1, denominator=8)
    b, b0 = symhess.rational_biases(Nh, rng=2, denominator=8)
    vals = [sp.Rational(str(x)) for x in list(W.ravel()) + list(v) + list(b) + [b0]]
    subs = dict(zip(net.theta, vals))
    F, E = coefficient_vector(act, W, v, hidden_bias=b, output_bias=b0)
    poly = sp.Poly(sp.expand(net.output), *list(net.x))
    J = coefficient_jacobian(act, W, v, hidden_bias=b, output_bias=b0).J
    for r, alpha in enumerate(E.tolist()):
        coeff = poly.coeff_monomial(tuple(alpha))
        assert sp.Rational(int(F[r].p), int(F[r].q)) == coeff.subs(subs)
        for c, t in enumerate(net.theta):
            assert sp.Rational(int(J[r, c].p), int(J[r, c].q)) == sp.diff(coeff, t).subs(subs)


def test_monomial_gram_is_gaussian_moments_and_positive_definite():
    from symhess.two_layer.coefficients import monomial_exponents

    E = monomial_exponents(2, [0, 1, 2, 3])
    G = monomial_gram(E)
    t = sp.Symbol("t", real=True)
    moment = {n: sp.integrate(t**n * sp.exp(-t**2 / 2), (t, -sp.oo, sp.oo)) / sp.sqrt(2 * sp.pi) for n in range(7)}
    for a in range(E.shape[0]):  # independent coordinates: E[x^alpha] = prod_j E[t^alpha_j]
        for c in range(E.shape[0]):
            assert moment[int(E[a, 0] + E[c, 0])] * moment[int(E[a, 1] + E[c, 1])] == G[a, c]
    Gq = flint.fmpq_mat(G.shape[0], G.shape[1], [flint.fmpq(int(x)) for x in G.ravel()])
    assert exact_rank(Gq).rank == G.shape[0]
    assert np.linalg.eigvalsh(G.astype(float)).min() > 0


coeff_st = st.lists(st.fractions(min_value=-2, max_value=2, max_denominator=8), min_size=1, max_size=3).filter(
    lambda c: any(x != 0 for x in c))


@settings(max_examples=15)
@given(coeff_st, st.integers(1, 4), st.integers(1, 5), st.integers(0, 10**6))
def test_exact_routes_agree_with_each_other_and_float_rank(coeffs, Ni, Nh, seed):
    act = symhess.activation("poly", coeffs=coeffs)
    W, v = symhess.rational_teacher(Ni, Nh, rng=seed)
    both = hessian_rank(act, W, v, exact=True, route="both")  # raises SymhessError if the routes disagree
    a = hessian_rank(act, W, v, exact=True, route="hessian")
    assert both.rank == a.rank and both.status == a.status == "exact"
    assert "cross-checked" in both.notes[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SymhessAccuracyWarning)
        num = hessian_rank(act, W.astype(float), v.astype(float))
    if num.agrees and num.gap_decades >= 3:  # the float count is trustworthy by its own diagnostics...
        assert num.rank == both.rank  # ...and then it must be right


def test_numerical_rank_of_erf_undercounts_and_is_flagged():
    """Ni = 1, several hidden units: float64 cannot see the smallest eigenvalues (they are < 1e-18 relative)."""
    W, v = symhess.rational_teacher(1, 4, rng=0)
    num = hessian_rank("erf", W.astype(float), v.astype(float))
    cert = hessian_rank("erf", W, v, certify=True)
    assert num.rank < num.n and cert.rank == cert.n == 8 and cert.status == "exact"
    assert cert.float_rank == num.rank and cert.route == "certified: interval Cholesky"


# --------------------------------------------------------------------------- certificates
def _erf_hessian_mpmath(W, v, dps: int = 60) -> mpmath.matrix:
    """Plain erf(z) expected Hessian from formulas.md (A7, 'Plain g(z) = erf(z)'), in mpmath."""
    mpmath.mp.dps = dps
    Nh, Ni = len(W), len(W[0])
    Wm = [[mpmath.mpf(Fraction(x).numerator) / Fraction(x).denominator for x in row] for row in W]
    a = [mpmath.mpf(Fraction(x).numerator) / Fraction(x).denominator for x in v]
    Q = [[mpmath.fsum(Wm[j][k] * Wm[l][k] for k in range(Ni)) for l in range(Nh)] for j in range(Nh)]
    P = Nh * Ni + Nh
    H = mpmath.matrix(P, P)
    for j in range(Nh):
        for l in range(Nh):
            D = (1 + 2 * Q[j][j]) * (1 + 2 * Q[l][l]) - 4 * Q[j][l] ** 2
            H[Nh * Ni + j, Nh * Ni + l] = 2 / mpmath.pi * mpmath.asin(
                2 * Q[j][l] / mpmath.sqrt((1 + 2 * Q[j][j]) * (1 + 2 * Q[l][l])))
            for k in range(Ni):
                wv = 4 / mpmath.pi * a[j] / mpmath.sqrt(D) * (Wm[l][k] - 2 * Q[j][l] / (1 + 2 * Q[j][j]) * Wm[j][k])
                H[j * Ni + k, Nh * Ni + l] = H[Nh * Ni + l, j * Ni + k] = wv
                for m in range(Ni):
                    br = (1 + 2 * Q[l][l]) * Wm[j][k] * Wm[j][m] + (1 + 2 * Q[j][j]) * Wm[l][k] * Wm[l][m] \
                        - 2 * Q[j][l] * (Wm[j][k] * Wm[l][m] + Wm[l][k] * Wm[j][m])
                    H[j * Ni + k, l * Ni + m] = 4 / mpmath.pi * a[j] * a[l] / mpmath.sqrt(D) * (
                        (1 if k == m else 0) - 2 * br / D)
    return H


@pytest.mark.parametrize("Ni, Nh, seed", [(1, 3, 0), (1, 4, 0), (2, 3, 1)])
def test_erf_certificate_encloses_mpmath_smallest_eigenvalue(Ni, Nh, seed):
    W, v = symhess.rational_teacher(Ni, Nh, rng=seed)
    res = hessian_rank("erf", W, v, certify=True)
    assert res.status == "exact" and res.rank == res.n
    Hm = _erf_hessian_mpmath(W.tolist(), v.tolist())
    # the same closed forms in float64 agree with the pipeline (convention check of the reference)
    Hf = np.array(Hm.tolist(), dtype=float)
    np.testing.assert_allclose(Hf, symhess.expected_hessian("erf", W.astype(float), v.astype(float)),
                               atol=1e-13 * np.abs(Hf).max())
    lam_min = min(mpmath.eigsy(Hm, eigvals_only=True))
    lo, hi = res.min_eigenvalue_bounds
    assert 0 < lo <= float(lam_min) <= hi
    assert hi - lo <= 1e-5 * hi  # a tight enclosure, not just "positive"


@settings(max_examples=12)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 10**6))
def test_erf_and_tanh_certified_full_rank(Ni, Nh, seed):
    """Paper Sec. 5: erf (and tanh) Hessians have full rank; proved on every drawn instance."""
    W, v = symhess.rational_teacher(Ni, Nh, rng=seed)
    erf = hessian_rank("erf", W, v, certify=True)
    assert erf.rank == erf.n == Nh * (Ni + 1) and erf.status == "exact"
    assert erf.min_eigenvalue_bounds[0] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tanh = hessian_rank("tanh", W, v, certify=True)
    assert tanh.rank == tanh.n and tanh.status == "exact" and tanh.route == "certified: point evaluation"
    assert any("quadrature" in n for n in tanh.notes)


@pytest.mark.slow
@settings(max_examples=80)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 10**6))
def test_erf_and_tanh_certified_full_rank_more_instances(Ni, Nh, seed):
    test_erf_and_tanh_certified_full_rank.hypothesis.inner_test(Ni, Nh, seed)


def test_certify_auto_only_when_float_is_untrustworthy():
    W, v = symhess.rational_teacher(3, 2, rng=4)
    clean = hessian_rank("erf", W.astype(float), v.astype(float), certify="auto")
    assert clean.status == "numerical" and clean.rank == clean.n  # full rank, wide gap: no proof needed
    # float64 finds rank 7 of 10 behind a clean 4-decade gap, yet the matrix is positive definite
    W, v = symhess.rational_teacher(1, 5, rng=0)
    num = hessian_rank("erf", W.astype(float), v.astype(float))
    assert num.rank == 7 and num.agrees and num.gap_decades > 3
    assert any("not proved" in n for n in num.notes)
    proved = hessian_rank("erf", W, v, certify="auto")
    assert proved.status == "exact" and proved.rank == 10 and proved.min_eigenvalue_bounds[0] > 0


@pytest.mark.parametrize("Ni, Nh, seed", [(2, 2, 0), (3, 3, 1), (4, 2, 2)])
def test_relu_rank_is_nh_ni_certified_below_and_null_vectors_above(Ni, Nh, seed):
    """Lower bound proved in ball arithmetic; upper bound: the Nh rescaling directions are null vectors."""
    W, v = symhess.rational_teacher(Ni, Nh, rng=seed)
    res = hessian_rank("relu", W, v, certify=True)
    assert res.status == "lower bound" and res.rank == Nh * Ni
    Wf, vf = W.astype(float), v.astype(float)
    H = symhess.expected_hessian("relu", Wf, vf)
    for i in range(Nh):  # (w_i, v_i) -> (l w_i, v_i / l): direction (w_i, -v_i e_i)
        n = np.zeros(Nh * Ni + Nh)
        n[i * Ni:(i + 1) * Ni] = Wf[i]
        n[Nh * Ni + i] = -vf[i]
        assert np.abs(H @ n).max() < 1e-13 * np.abs(H).max() * np.abs(n).max()
    assert numerical_rank(H).rank == Nh * Ni


@pytest.mark.filterwarnings("ignore::symhess.errors.SymhessAccuracyWarning")  # parallel rows: Ni = 1
def test_relu_single_input_depends_on_signs():
    W = np.array([[0.5], [1.5], [-1.0]])
    v = np.array([1.0, -0.5, 2.0])
    assert hessian_rank("relu", W, v).rank == 2
    assert hessian_rank("relu", np.abs(W), v).rank == 1


# --------------------------------------------------------------------------- bad input
def test_exact_rank_for_non_polynomial_names_the_alternative():
    W, v = symhess.rational_teacher(2, 2, rng=0)
    with pytest.raises(NoClosedFormError, match="certify=True"):
        hessian_rank("erf", W, v, exact=True)


@pytest.mark.parametrize("W, v, err", [
    ([[sp.sqrt(2), 1]], [1], NotRationalError),
    ([[sp.pi, 1]], [1], NotRationalError),
    ([["abc", 1]], [1], NotRationalError),
    ([[float("nan"), 1]], [1], NonFiniteError),
    ([[1 + 2j, 1]], [1], TypeError),
])
def test_exact_rank_irrational_weights(W, v, err):
    with pytest.raises(err, match="W\\[0, 0\\]"):
        hessian_rank("quadratic", W, v, exact=True)


def test_exact_rank_irrational_or_symbolic_activation():
    with pytest.raises(NotRationalError, match="rational"):
        hessian_rank("quadratic:eps=sqrt(2)", [[1, 2]], [1], exact=True)
    with pytest.raises(NotRationalError):
        hessian_rank("quadratic:eps=epsilon", [[1, 2]], [1], exact=True)


def test_hessian_rank_argument_errors():
    W, v = symhess.rational_teacher(2, 2, rng=0)
    with pytest.raises(TypeError, match="both W and v"):
        hessian_rank("quadratic", W)
    with pytest.raises(ValueError, match="route"):
        hessian_rank("quadratic", W, v, exact=True, route="magic")
    with pytest.raises(ValueError, match="not both"):
        hessian_rank("quadratic", W, v, exact=True, certify=True)
    with pytest.raises(ValueError, match="certify="):
        hessian_rank("erf", W, v, certify="maybe")
    with pytest.raises(ValueError, match="route='jacobian'"):
        hessian_rank("quadratic", W, v, exact=True, route="hessian", output_bias=1)
    with pytest.raises(NoClosedFormError, match="certify=True"):  # no expectations with means for sign
        hessian_rank("sign", W.astype(float), v.astype(float), hidden_bias=[0.1, 0.2])
    with pytest.raises(symhess.errors.ShapeError, match="hidden_bias"):
        hessian_rank("quadratic", W, v, exact=True, hidden_bias=[1, 2, 3])
    with pytest.raises(symhess.errors.ShapeError):
        hessian_rank("quadratic", [[1, 2]], [1, 2], exact=True)


def test_rank_result_api():
    r = hessian_rank("linear", [[1, 2], [3, 5]], [1, 1], exact=True)
    assert isinstance(r, RankResult) and int(r) == 2 and r.certified and r.nullity == 4 and not r.full_rank
    assert r.agrees is None


@given(st.integers(1, 3), st.integers(1, 40), st.integers(0, 10**6))
def test_rational_teacher_is_generic_and_float_exact(Ni, Nh, seed):
    W, v = symhess.rational_teacher(Ni, Nh, rng=seed)
    assert W.shape == (Nh, Ni) and v.shape == (Nh,)
    assert all(x != 0 and x.denominator <= 1024 and float(x) == x for x in list(W.ravel()) + list(v))
    rows = {tuple(r) for r in W.tolist()}
    assert len(rows) == Nh and not any(tuple(-x for x in r) in rows for r in rows)  # no unit twice (up to sign)


def test_rational_teacher_bad_input():
    with pytest.raises(ValueError, match="denominator"):
        symhess.rational_teacher(2, 2, denominator=0)
    with pytest.raises(TypeError, match="denominator"):
        symhess.rational_teacher(2, 2, denominator=2.5)
    with pytest.raises(ValueError, match="var_w"):
        symhess.rational_teacher(2, 2, var_w=-1.0)


@pytest.mark.parametrize("act", ["erf", "erf:scale=1/2", "relu", "quadratic:eps=1/3"])
def test_ball_hessian_encloses_the_float_pipeline(act):
    """The ball matrices used by the proofs contain the float64 pipeline's Hessian (itself checked by
    Monte Carlo in the pipeline's tests) up to float64 rounding."""
    from symhess.two_layer.balls import ball_expected_hessian, ball_gradients, rational_points

    W, v = symhess.rational_teacher(3, 3, rng=2)
    B = ball_expected_hessian(act, W, v, 128)
    mid = np.array([[float(B[i, j].mid()) for j in range(B.ncols())] for i in range(B.nrows())])
    H = symhess.expected_hessian(act, W.astype(float), v.astype(float))
    np.testing.assert_allclose(mid, H, rtol=0, atol=1e-12 * np.abs(H).max())
    assert max(float(B[i, j].rad()) for i in range(B.nrows()) for j in range(B.ncols())) < 1e-30
    X = rational_points(5, 3, rng=1)
    G = ball_gradients(act, W, v, X, 128)
    Gm = np.array([[float(G[i, j].mid()) for j in range(G.ncols())] for i in range(G.nrows())])
    from symhess.two_layer.rank import build_float_gradients

    np.testing.assert_allclose(Gm, build_float_gradients(symhess.activation(act), W.astype(float), v.astype(float),
                                                         X.astype(float)), rtol=1e-13, atol=1e-13)
