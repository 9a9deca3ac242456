"""The float64 route of hessian_rank with biases (any activation with expectations with means): tolerance
and log-gap of the expected Hessian with b, b_out, against the certified ranks and ReLU's known null space."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symhess
from symhess.errors import NoClosedFormError
from symhess.two_layer.rank import hessian_rank
from symhess.two_layer.rational import rational_biases


def _net(n_in, n_hidden, seed, n_out=1):
    gen = np.random.default_rng(seed)
    W, v = symhess.rational_teacher(n_in, n_hidden, gen)
    b, b0 = rational_biases(n_hidden, gen)
    if n_out > 1:
        v = np.vstack([v, 2 * v[::-1]])
        b0 = np.array([b0, b0 / 3])
    return W, v, b, b0


@pytest.mark.parametrize("act, hidden, output, n_in, n_hidden, n_out, kw, expected", [
    ("erf", True, False, 2, 3, 1, {}, 12),  # full rank: P = 6 + 3 + 3
    ("erf", True, True, 3, 2, 2, {}, 14),  # two outputs, both biases: full rank
    ("erf", True, True, 3, 2, 1, dict(input_cov=[1.0, 2.0, 0.5]), 11),
    ("relu", True, False, 3, 3, 1, {}, 12),  # P - Nh = 15 - 3 (positive homogeneity of each unit)
    ("relu", True, True, 2, 3, 1, {}, 10),  # P - Nh = 13 - 3
    ("relu", True, False, 3, 2, 1, dict(trainable=("W", "b")), 8),  # frozen v: the scaling is gone
])
def test_float_rank_with_biases_agrees_with_the_certified_rank(act, hidden, output, n_in, n_hidden, n_out, kw,
                                                              expected):
    W, v, b, b0 = _net(n_in, n_hidden, 3, n_out)
    bias = dict(hidden_bias=b if hidden else None, output_bias=b0 if output else None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tolerance and gap ranks agree: no accuracy warning
        fr = hessian_rank(act, W, v, **bias, **kw)
    assert fr.status == "numerical" and fr.route == "float64"
    assert fr.rank == fr.gap_rank == expected and fr.gap_decades > 3
    cr = hessian_rank(act, W, v, certify=True, **bias, **kw)
    assert cr.certified and cr.rank == fr.rank


def test_relu_null_space_is_the_unit_rescaling():
    """The Nh null vectors of ReLU with hidden biases, (w_i, -v_i, b_i) per unit, by hand: H d = 0."""
    W, v, b, _ = _net(3, 3, 5)
    W, v, b = (np.array(a, dtype=float) for a in (W, v, b))
    H = symhess.expected_hessian("relu", W, v, b=b)
    Nh, Ni = W.shape
    for i in range(Nh):
        d = np.zeros(H.shape[0])
        d[i * Ni:(i + 1) * Ni] = W[i]
        d[Nh * Ni + i] = -v[i]
        d[Nh * Ni + Nh + i] = b[i]
        assert np.linalg.norm(H @ d) < 1e-12 * np.linalg.norm(H) * np.linalg.norm(d)
    r = hessian_rank("relu", W, v, hidden_bias=b)
    assert r.rank == H.shape[0] - Nh
    # the erf network has no such direction: d is not in its null space
    He = symhess.expected_hessian("erf", W, v, b=b)
    assert np.linalg.norm(He @ d) > 1e-3 * np.linalg.norm(He) * np.linalg.norm(d)


def test_float_rank_with_biases_quadrature_is_noted():
    W, v, b, b0 = _net(2, 2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = hessian_rank("tanh", W, v, hidden_bias=b, output_bias=b0)
    assert r.rank == 9 and any("quadrature" in n for n in r.notes)


def test_float_rank_with_biases_without_expectations_names_certify():
    W, v, b, _ = _net(2, 2, 0)
    with pytest.raises(NoClosedFormError, match="certify=True"):
        hessian_rank("sign", W, v, hidden_bias=b)


@pytest.mark.parametrize("act", ["relu", "erf"])
@pytest.mark.parametrize("hidden, output", [(True, False), (False, True), (True, True)])
def test_float_and_certified_ranks_agree_on_a_grid(act, hidden, output):
    """N_i in {2, 3}, N_h in 1..4: the float64 rank (tolerance and gap agreeing) is the certified rank.

    (With N_i = 1 the float route can fall below the true rank: a unit whose kink sits ~36 standard
    deviations out, b/|w| = 36, contributes eigenvalues of 1e-279 -- below float64 resolution, a count
    the route never calls proved.)"""
    for n_in in (2, 3):
        for n_hidden in range(1, 5):
            W, v, b, b0 = _net(n_in, n_hidden, 10 * n_in + n_hidden)
            bias = dict(hidden_bias=b if hidden else None, output_bias=b0 if output else None)
            fr = hessian_rank(act, W, v, **bias)
            cr = hessian_rank(act, W, v, certify=True, **bias)
            assert fr.rank == fr.gap_rank == cr.rank, (n_in, n_hidden, fr, cr)
            # ReLU: the rescaling of each unit (with or without its hidden bias); erf: full rank
            assert fr.rank == (fr.n - n_hidden if act == "relu" else fr.n)
