"""The spectrum by the cheapest adequate route (issue 8): ``symhess.hessian_spectrum``.

Routes: the dense route is LAPACK's eigvalsh of ``symhess.expected_hessian``; the matrix-free route
(ARPACK + SLQ on ``symhess.hessian_operator``) is compared with it on the same network, and the
automatic choice and the memory guard are checked at sizes where the dense matrix could not exist.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import symhess
from symhess.two_layer.hessian_spectrum import DENSE_MAX_PARAMS
from symhess.errors import MemoryLimitError


@pytest.fixture(scope="module")
def net():
    W, v = symhess.teacher(12, 9, rng=6)  # P = 117
    return W, v, np.linalg.eigvalsh(symhess.expected_hessian("erf", W, v))


def test_auto_switches_at_the_threshold(net):
    W, v, eigs = net
    P = eigs.size
    dense = symhess.hessian_spectrum("erf", W, v, dense_max_params=P)
    free = symhess.hessian_spectrum("erf", W, v, dense_max_params=P - 1, k=4, n_probes=6, n_steps=30, rng=0)
    assert dense.method == "dense" and free.method == "matrix_free"
    assert dense.eigenvalues is not None and dense.density is None
    assert free.eigenvalues is None and free.density is not None
    assert np.allclose(dense.eigenvalues, eigs, atol=1e-12)
    assert np.allclose(free.largest, eigs[-4:], rtol=1e-8)
    assert np.all(free.residuals < 1e-6)
    assert free.trace == pytest.approx(eigs.sum(), rel=1e-12)
    assert dense.trace == pytest.approx(eigs.sum(), rel=1e-12)
    assert free.wasserstein(eigs) <= free.density.error_bound()
    assert dense.wasserstein(eigs) == pytest.approx(0.0, abs=1e-12)
    x = np.linspace(eigs[0], eigs[-1], 7)
    assert np.allclose(dense.cdf(x), [(eigs <= t).mean() for t in x])
    for s in (dense, free):
        summ = s.summary()
        json.dumps(summ)  # JSON-ready
        assert summ["method"] == s.method and summ["n_params"] == eigs.size
        assert np.all(np.isfinite(s.pdf(x)))


def test_default_threshold():
    assert DENSE_MAX_PARAMS == 4000
    W, v = symhess.teacher(2, 2, rng=0)
    assert symhess.hessian_spectrum("erf", W, v).method == "dense"


def test_auto_goes_matrix_free_where_dense_cannot_fit():
    """Ni = Nh = 100 (P = 10 100, a 0.8 GB dense matrix): auto goes matrix-free, and never builds H
    (the dense route refuses this 256 MiB budget)."""
    W, v = symhess.teacher(100, 100, rng=0)
    budget = 2**28
    with pytest.raises(MemoryLimitError):
        symhess.hessian_spectrum("erf", W, v, method="dense", max_bytes=budget)
    s = symhess.hessian_spectrum("erf", W, v, k=2, n_probes=2, n_steps=12, rng=0, max_bytes=budget)
    assert s.method == "matrix_free" and s.n_params == 10_100
    assert s.largest[-1] > 0 and s.residuals.max() < 1e-5 * s.largest[-1]


def test_dense_request_that_does_not_fit_names_the_matrix_free_route():
    W, v = symhess.teacher(1000, 1000, rng=0)  # P = 1 001 000: 8 TB dense
    with pytest.raises(MemoryLimitError, match="method='matrix_free'") as info:
        symhess.hessian_spectrum("erf", W, v, method="dense")
    assert "hessian_operator" in str(info.value)
    assert isinstance(info.value, MemoryError)
    W, v = symhess.teacher(10, 10, rng=0)
    with pytest.raises(MemoryLimitError, match="matrix_free"):
        symhess.hessian_spectrum("erf", W, v, method="dense", max_bytes=1000)


def test_away_from_optimum_matches_dense():
    W, v = symhess.teacher(8, 6, rng=1)
    Wt, vt = symhess.teacher(8, 3, rng=2)
    eigs = np.linalg.eigvalsh(symhess.expected_hessian("relu", W, v, W_teacher=Wt, v_teacher=vt))
    s = symhess.hessian_spectrum("relu", W, v, Wt, vt, method="matrix_free", k=3, n_probes=4, n_steps=20, rng=1)
    assert np.allclose(s.largest, eigs[-3:], rtol=1e-8)
    assert s.trace == pytest.approx(eigs.sum(), rel=1e-12)
    assert s.density.support[0] == pytest.approx(eigs[0], rel=1e-6, abs=1e-9)  # the negative end


def test_bad_input(net):
    W, v, _ = net
    with pytest.raises(ValueError, match="method"):
        symhess.hessian_spectrum("erf", W, v, method="lanczos")
    with pytest.raises(ValueError, match="P > k"):
        symhess.hessian_spectrum("erf", W[:1, :2], v[:1], method="matrix_free", k=6)
    with pytest.raises(symhess.errors.ShapeError):
        symhess.hessian_spectrum("erf", W, v[:-1])
    with pytest.raises(ValueError, match="sigma"):
        symhess.hessian_spectrum("erf", W, v).pdf([0.0], sigma=-1.0)
