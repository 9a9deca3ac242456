"""Rank and spectrum of the Hessian along training (track_training, symhess train)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import symhess
from symhess.two_layer.training_tracker import track_training
from symhess.cli import main
from symhess.errors import NoClosedFormError


@pytest.fixture(scope="module")
def zero_run():
    """erf, Ni = 2, teacher of width 1, student of width 2, started next to a zero-unit minimum."""
    Wt, vt = symhess.teacher(2, 1, rng=3)
    W, v = symhess.global_minimum(Wt, vt, 2, "zero", rng=0)
    rng = np.random.default_rng(0)
    calls = []
    tr = track_training("erf", W + 0.02 * rng.normal(size=W.shape), v + 0.02 * rng.normal(size=v.shape), Wt, vt,
                        [0, 10, 100, 300, 1000, 3000, 1e4], callback=lambda k, t: calls.append((k, t)))
    return tr, calls


def test_reaches_a_zero_unit_minimum_and_its_hessian(zero_run):
    tr, calls = zero_run
    assert [k for k, _ in calls] == list(range(7))
    assert tr.structure.kind == "zero" and tr.loss[-1] < 1e-12
    # the last Hessian is the Hessian at the minimum reported (built independently: teacher row and share 1,
    # zero unit's output weight 0, Gauss-Newton form without the teacher)
    k = int(np.flatnonzero(tr.structure.teacher_unit == 0)[0])
    Wm, vm = tr.W.copy(), tr.v.copy()
    Wm[k], vm[k], vm[1 - k] = tr.W_teacher[0], tr.v_teacher[0], 0.0
    Hm = symhess.expected_hessian("erf", Wm, vm)
    np.testing.assert_allclose(tr.hessian_at_minimum, Hm, atol=1e-6)
    assert tr.hessian_gap < 1e-5
    assert np.linalg.norm(tr.final_hessian - Hm, 2) < 1e-5 * np.linalg.norm(Hm, 2)
    # rank there = the zero-unit rule N_t(N_i + 1) + N_z, and it was full (6) along the way
    rule = symhess.effective_parameters("erf", 2, 2, n_teacher=1, kind="zero").value
    assert tr.rank_at_minimum == rule == 4 and tr.rank[-1] == 4 and (tr.rank[:-1] == 6).all()
    # exponential tail at the linearised rate 2 lambda_min+ (eq. 7) -- a factor 2 would be caught
    assert abs(tr.fitted_rate / tr.predicted_rate - 1) < 0.02


def test_outputs(zero_run, tmp_path):
    tr, _ = zero_run
    csv_path, json_path = tr.write(tmp_path / "run")
    data = json.loads(json_path.read_text())
    assert data["summary"]["family"] == "zero" and len(data["checkpoints"]) == 7 and len(data["spectra"][0]) == 6
    assert csv_path.read_text().count("\n") == 8
    assert tr.plot(tmp_path / "run.png").stat().st_size > 1000


def test_gradient_descent_and_exact_ranks():
    Wt, vt = symhess.rational_teacher(2, 1, rng=0)
    Wt, vt = Wt.astype(float), vt.astype(float)
    W0, v0 = symhess.teacher(2, 2, rng=5)
    tr = track_training("quadratic", W0, v0, Wt, vt, [0, 5, 20, 50], method="gd", lr=0.1, exact=True)
    assert np.all(np.diff(tr.loss) < 0)
    # a float point is a generic rational point: the exact Gauss-Newton rank is the generic width-2 rank
    assert (tr.exact_rank_gauss_newton == symhess.effective_parameters("quadratic", 2, 2).value).all()
    with pytest.raises(ValueError):
        track_training("quadratic", W0, v0, Wt, vt, [0, 5], method="gd")
    with pytest.raises(ValueError):
        track_training("quadratic", W0, v0, Wt, vt, [0, 5], method="adam")
    with pytest.raises(NoClosedFormError):
        track_training("erf", W0, v0, Wt, vt, [0, 5], exact=True)


def test_cli_train(tmp_path):
    out = tmp_path / "t"
    res = CliRunner().invoke(main, ["train", "-a", "linear", "--n-in", "2", "--n-teacher", "1", "--n-hidden", "2",
                                    "--t-max", "10", "--checkpoints", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "reached:" in res.output
    assert out.with_suffix(".csv").exists() and out.with_suffix(".json").exists() and out.with_suffix(".png").exists()
    res = CliRunner().invoke(main, ["train", "--n-teacher", "3", "--n-hidden", "2", "--start", "zero"])
    assert res.exit_code != 0 and "--n-hidden >= --n-teacher" in res.output
