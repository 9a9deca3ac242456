"""Bad or extreme inputs give a correct number or a clear error, never a silent NaN or a truncated value.

Expected values come from the mathematics, not from the code: ReLU is positively homogeneous
(sigma(r z) = r sigma(z)), so the Gauss-Newton Hessian at rows of any norm follows from the one at
unit rows by diag(1, .., 1, r) scaling, and the WW diagonal is v_i^2/2 exactly (E[Theta(h) x_j x_l]).
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import symhess
from symhess.errors import ActivationParameterError, NonFiniteError


@pytest.fixture(scope="module")
def net():
    return symhess.teacher(4, 3, rng=0)


# -- complex and object weights ---------------------------------------------------------------------------

def _calls(W, v, Wt, vt):
    yield lambda: symhess.expected_hessian("erf", W, v)
    yield lambda: symhess.expected_hessian("erf", Wt, vt, W_teacher=W, v_teacher=v)  # teacher given
    yield lambda: symhess.population_loss("erf", W, v, Wt, vt)
    yield lambda: symhess.population_loss("erf", Wt, vt, W, v)
    yield lambda: symhess.population_gradient("erf", W, v, Wt, vt)
    yield lambda: symhess.hessian_operator("erf", W, v)


@pytest.mark.parametrize("make", [lambda W: W + 0j, lambda W: W.astype(complex) + 1e-3j,
                                  lambda W: np.array(W.tolist(), dtype=object) * (1 + 0j)])
def test_complex_weights_are_refused_everywhere(net, make):
    W, v = net
    for call in _calls(make(W), v, W, v):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ComplexWarning: refused before any cast
            with pytest.raises(TypeError, match="complex"):
                call()
    with pytest.raises(TypeError, match="complex"):
        symhess.expected_hessian("erf", W, v + 0j)


def test_non_numeric_object_arrays_are_refused(net):
    W, v = net
    with pytest.raises(TypeError, match="real"):
        symhess.expected_hessian("erf", np.array([["a", "b"]], dtype=object), np.ones(1))
    with pytest.raises(TypeError):
        symhess.expected_hessian("erf", np.array([["1", "2"]]), np.ones(1))  # strings


def test_rational_object_arrays_still_work():
    W = np.array([[Fraction(1, 2), Fraction(-1, 4)], [Fraction(3, 8), Fraction(1, 2)]], dtype=object)
    v = np.array([Fraction(1, 2), Fraction(-1, 2)], dtype=object)
    H = symhess.expected_hessian("linear", W, v)
    # linear net: H_{(ij),(kl)} = v_i v_k delta_jl, H_vv = W W^T
    Wf, vf = W.astype(float), v.astype(float)
    assert np.allclose(H[4:, 4:], Wf @ Wf.T, rtol=0, atol=1e-15)
    assert np.isclose(H[0, 2], vf[0] * vf[1], rtol=0, atol=1e-15)


# -- activation parameters ----------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["quadratic:eps=inf", "quadratic:eps=-inf", "quadratic:eps=nan", "quadratic:eps=oo",
                                  "quadratic:eps=Infinity", "erf:scale=inf", "poly:coeffs=[1,nan]"])
def test_non_finite_parameters_refused(spec):
    with pytest.raises(ActivationParameterError, match="finite"):
        symhess.activation(spec)


def test_duplicate_key_is_an_error():
    with pytest.raises(ActivationParameterError, match="'eps' is given twice"):
        symhess.activation("quadratic:eps=1,eps=2")
    assert symhess.activation("quadratic:eps=1", eps=2).eps == 2  # keyword override stays explicit


@pytest.mark.parametrize("call", [
    lambda W, v: symhess.expected_hessian("quadratic:eps=abc", W, v),
    lambda W, v: symhess.population_loss("poly:coeffs=[1,c2]", W, v, W, v),
    lambda W, v: symhess.hessian_operator("erf:scale=s", W, v),
])
def test_symbolic_parameter_named_in_one_line_by_numeric_routes(net, call):
    W, v = net
    with pytest.raises(ActivationParameterError) as info:
        call(W, v)
    msg = str(info.value)
    assert "\n" not in msg and "symbolic parameter" in msg and "needs a number" in msg.replace("need a number", "needs a number")


def test_symbolic_parameter_kept_for_derivations():
    act = symhess.activation("quadratic:eps=abc")
    assert act.symbolic_params == {"eps": sp.Symbol("abc", real=True)}
    assert "abc" in str(symhess.derive_blocks(act)["vv"].entry)


def test_erf_scale_one_over_sqrt2_is_exact():
    assert symhess.activation("erf:scale=1/sqrt(2)").scale == sp.sqrt(2) / 2
    assert symhess.activation("erf:scale=sqrt(2)/2") == symhess.activation("erf:scale=1/sqrt(2)")
    assert symhess.activation("saad_solla_erf") == symhess.activation("erf:scale=1/sqrt(2)")
    assert symhess.activation("erf", scale="1/sqrt(2)").scale == sp.sqrt(2) / 2  # strings exact, not Float
    with pytest.raises(ActivationParameterError, match="no parameters"):
        symhess.activation("saad_solla_erf:scale=2")


def test_saad_solla_erf_matches_an_independent_quadrature():
    # E[erf(h/sqrt2)^2], h ~ N(0, q): Gauss-Hermite in h, against symhess's closed form at one unit
    q = 0.7
    x, w = np.polynomial.hermite_e.hermegauss(200)
    from scipy.special import erf

    expected = np.sum(w * erf(np.sqrt(q) * x / np.sqrt(2)) ** 2) / np.sqrt(2 * np.pi)
    H = symhess.expected_hessian("saad_solla_erf", np.array([[np.sqrt(q)]]), np.array([1.0]))
    assert H[1, 1] == pytest.approx(expected, rel=1e-13)
    # and it differs from the default erf(z) by far more than rounding
    assert abs(symhess.expected_hessian("erf", np.array([[np.sqrt(q)]]), np.array([1.0]))[1, 1] - expected) > 0.05


def test_huge_erf_scale_is_a_clear_error(net):
    W, v = net
    act = symhess.activation("erf:scale=1e300")  # fine symbolically
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NonFiniteError, match="variance scale"):
            symhess.expected_hessian(act, W, v)


# -- sizes ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, exc", [((-1, 3), ValueError), ((3, 0), ValueError), ((2.5, 3), TypeError),
                                        ((True, 3), TypeError)])
def test_n_params_refuses_bad_sizes(args, exc):
    with pytest.raises(exc):
        symhess.n_params(*args)


def test_n_params_value():
    assert symhess.n_params(5, 3) == 18


# -- weight scales: correct or a clear error naming the limit -------------------------------------------

@pytest.mark.parametrize("scale", [1e76, 1e155, 1e200])
def test_overflowing_weights_raise_naming_the_limit(net, scale):
    W, v = net
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warnings on the way
        for call in (lambda: symhess.expected_hessian("erf", W * scale, v),
                     lambda: symhess.population_loss("erf", W * scale + 1, v, W * scale, v),
                     lambda: symhess.hessian_operator("erf", W * scale, v)):
            with pytest.raises(NonFiniteError, match=r"1e\+150"):
                call()


def test_erf_just_inside_the_limit_is_finite_and_saturated(net):
    # at row norms ~1e70 erf(w.x) is sign(w.x): E[sign(u) sign(v)] = (2/pi) asin(rho)
    W, v = net
    H = symhess.expected_hessian("erf", W * 1e70, v)
    assert np.all(np.isfinite(H))
    rho = (W @ W.T) / np.sqrt(np.outer(np.sum(W**2, 1), np.sum(W**2, 1)))
    assert np.allclose(H[12:, 12:], 2 / np.pi * np.arcsin(rho), rtol=0, atol=1e-12)


def _relu_unit_reference(W, v):
    r = np.linalg.norm(W, axis=1)
    H1 = symhess.expected_hessian("relu", W / r[:, None], v)
    return H1, r


@settings(max_examples=25, deadline=None)
@given(log_scales=st.lists(st.floats(-300, 120), min_size=3, max_size=3))
def test_relu_rows_of_any_norm(log_scales):
    W, v = symhess.teacher(4, 3, rng=1)
    W = W / np.linalg.norm(W, axis=1)[:, None]  # unit rows: H at unit rows is O(1)
    H1 = symhess.expected_hessian("relu", W, v)
    r = 10.0 ** np.array(log_scales)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        H = symhess.expected_hessian("relu", W * r[:, None], v)
    m = 12
    # homogeneity: WW of degree 0, Wv column k of degree 1 in r_k, vv entry (i, k) of degree 1 in r_i and r_k
    assert np.allclose(H[:m, :m], H1[:m, :m], rtol=1e-13, atol=1e-15)
    assert np.allclose(H[:m, m:], H1[:m, m:] * r[None, :], rtol=1e-13, atol=0)
    assert np.allclose(H[m:, m:], H1[m:, m:] * np.outer(r, r), rtol=1e-13, atol=0)
    # independent of the kernels: E[v_i^2 Theta(w_i.x) x_j x_l] = v_i^2 delta_jl / 2 on the WW diagonal
    assert np.allclose(np.diag(H)[:m], np.repeat(v**2 / 2, 4), rtol=1e-14)
    # and H_vv[i,i] = E[relu(w_i.x)^2] = |w_i|^2 / 2
    assert np.allclose(np.diag(H)[m:], r**2 / 2, rtol=1e-14, atol=0)


def test_relu_row_of_norm_1e_minus_200_is_not_called_zero(net):
    W, v = net
    W = W.copy()
    W[0] *= 1e-200
    H = symhess.expected_hessian("relu", W, v)
    assert np.all(np.isfinite(H)) and H[0, 0] == pytest.approx(v[0] ** 2 / 2, rel=1e-14)
    with pytest.raises(ValueError, match="is zero"):
        W[0] = 0.0
        symhess.expected_hessian("relu", W, v)


def test_relu_overflowing_vv_is_a_clear_error(net):
    W, v = net
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NonFiniteError, match="beyond float64 range"):
            symhess.expected_hessian("relu", W * 1e160, v)  # H_vv ~ |w|^2 = 1e320


@pytest.mark.parametrize("scale", [1e-200, 1.0, 1e100])
def test_relu_matrix_free_route_takes_any_row_norm(scale):
    W, v = symhess.teacher(4, 3, rng=2)
    W = W * np.array([scale, 1.0, 0.5])[:, None]
    H = symhess.expected_hessian("relu", W, v)
    op = symhess.hessian_operator("relu", W, v)
    assert np.allclose(op @ np.eye(15), H, rtol=1e-13, atol=1e-15 * np.abs(H).max())
    assert np.allclose(op.diagonal(), np.diag(H), rtol=1e-13, atol=0)
    assert np.diag(H)[0] == pytest.approx(v[0] ** 2 / 2, rel=1e-14)  # E[v^2 Theta(w.x) x_1^2] at any norm


def test_dense_hessian_overflow_is_caught_without_scanning_when_bounded():
    """The a-priori entry bound proves finiteness; where it cannot (huge v), the full scan raises."""
    import numpy as np

    from symhess.two_layer.assemble import _entry_bound
    from symhess.two_layer.pairs import block_coefficients

    W, v = symhess.teacher(4, 3, rng=0)
    for act in ("erf", "quadratic", "tanh"):
        H = symhess.expected_hessian(act, W, v)
        bound = _entry_bound(block_coefficients(symhess.activation(act), W), W, v)
        assert np.abs(H).max() <= bound < 1e3  # a true bound, and not a vacuous one
    with pytest.raises(symhess.NonFiniteError, match="beyond float64 range"):
        symhess.expected_hessian("linear", W, v * 1e160)
