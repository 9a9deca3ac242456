"""find_minimum: trust-region Newton on the closed-form loss, certified minima with nonzero loss."""

from __future__ import annotations

import numpy as np
import pytest

import symhess
from symhess.errors import InvalidParameterError


def _distinct(norms):
    out = []
    for g in norms:
        if not out or g != out[-1]:
            out.append(g)
    return out


def _check_superlinear_tail(norms):
    """Some step of the tail cuts the gradient norm's contraction factor tenfold (constant for a linear method)."""
    d = [g for g in _distinct(norms) if g > 1e-15]  # above the rounding floor
    r = [b / a for a, b in zip(d[:-1], d[1:])]
    assert any(r2 <= min(0.1 * r1, 1e-2) for r1, r2 in zip(r[:-1], r[1:])), d[-6:]


def test_newton_tail_converges_quadratically():
    """|g_k+1| / |g_k|^2 stays within a factor 10 over the last steps (a well-conditioned minimum)."""
    Wt, vt = symhess.teacher(n_in=2, n_hidden=2, rng=2)
    res = symhess.find_minimum("erf", 1.2 * Wt[:1], vt[:1], Wt, vt)
    assert res.converged and res.loss > 1e-3 and res.min_eigenvalue > 1e-2
    d = _distinct(res.gradient_norms)
    steps = [(a, b) for a, b in zip(d[:-1], d[1:]) if a < 1e-2 and b > 1e-15]
    assert len(steps) >= 3, d
    q = [b / a**2 for a, b in steps]
    assert max(q) / min(q) < 10, d
    assert steps[-1][1] / steps[-1][0] < 1e-5  # the last step gains more than five digits


@pytest.mark.parametrize("teacher_activation, input_cov", [
    (None, None),  # a teacher wider than the student
    ("erf:scale=0.5", None),  # wider and of another scale
    (None, np.array([1.0, 0.5, 2.0])),  # correlated (diagonal) inputs
])
def test_mismatched_teacher_reaches_a_certified_minimum(teacher_activation, input_cov):
    Wt, vt = symhess.teacher(n_in=3, n_hidden=3, rng=0)
    res = symhess.find_minimum("erf", 1.1 * Wt[:2], vt[:2], Wt, vt, teacher_activation=teacher_activation,
                               input_cov=input_cov)
    assert res.converged
    assert res.loss > 1e-8  # the student cannot match the teacher
    assert res.gradient_norm < 1e-12
    assert res.min_eigenvalue > 1e-7  # a strict minimum: the full Hessian is positive definite
    _check_superlinear_tail(res.gradient_norms)
    kw = dict(teacher_activation=teacher_activation, input_cov=input_cov)
    # the certificate is recomputed through the public functions
    g = symhess.population_gradient("erf", res.W, res.v, Wt, vt, method="expansion", **kw)
    assert np.linalg.norm(g) == pytest.approx(res.gradient_norm, abs=1e-14)
    H = symhess.expected_hessian("erf", res.W, res.v, W_teacher=Wt, v_teacher=vt, **kw)
    assert np.linalg.eigvalsh(H)[0] == pytest.approx(res.min_eigenvalue, rel=1e-8)
    # the residual part matters at a minimum with nonzero loss
    H_gn = symhess.expected_hessian("erf", res.W, res.v, W_teacher=Wt, v_teacher=vt, part="gauss_newton", **kw)
    assert np.abs(H - H_gn).max() > 1e-6


def test_minimum_is_lower_than_random_perturbations():
    """Independent of the Hessian: nearby points (closed-form loss) are not lower."""
    Wt, vt = symhess.teacher(n_in=3, n_hidden=3, rng=0)
    res = symhess.find_minimum("erf", 1.1 * Wt[:2], vt[:2], Wt, vt)
    rng = np.random.default_rng(0)
    for _ in range(20):
        dW, dv = 1e-3 * rng.standard_normal(res.W.shape), 1e-3 * rng.standard_normal(res.v.shape)
        assert symhess.population_loss("erf", res.W + dW, res.v + dv, Wt, vt, method="expansion") > res.loss


def test_soft_committee_machine_minimum():
    Wt, vt = symhess.teacher(n_in=3, n_hidden=3, rng=0)
    for method in ("trust-exact", "trust-constr"):
        res = symhess.find_minimum("erf", 1.1 * Wt[:2], vt[:2], Wt, vt, trainable=("W",), method=method)
        assert res.converged and res.gradient_norm < 1e-12 and res.loss > 0
        np.testing.assert_array_equal(res.v, vt[:2])  # frozen
        assert res.hessian.shape == (6, 6)


@pytest.mark.parametrize("kw", [dict(method="bfgs"), dict(gtol=0.0), dict(max_iter=0)])
def test_find_minimum_bad_options(kw):
    Wt, vt = symhess.teacher(n_in=2, n_hidden=2, rng=0)
    with pytest.raises(InvalidParameterError):
        symhess.find_minimum("erf", Wt, vt, Wt, vt, **kw)


def test_several_outputs_minimum():
    """Two outputs share the hidden layer: a width-2 student against a width-3 teacher with two outputs."""
    Wt, vt = symhess.teacher(n_in=3, n_hidden=3, rng=0)
    Vt = np.stack([vt, np.roll(vt, 1)])
    res = symhess.find_minimum("erf", 1.1 * Wt[:2], Vt[:, :2], Wt, Vt)
    assert res.converged and res.gradient_norm < 1e-12 and res.loss > 1e-6 and res.min_eigenvalue > 0
    assert res.v.shape == (2, 2)
    # the loss is the sum over outputs, and no single-output minimum is a two-output one
    total = sum(symhess.population_loss("erf", res.W, res.v[o], Wt, Vt[o], method="expansion") for o in range(2))
    assert res.loss == pytest.approx(total, rel=1e-12)
