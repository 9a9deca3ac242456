"""The architecture options of ``symhess report``, ``count`` and ``spectrum`` (--n-out, --input-cov,
--teacher-activation, --train): each command's numbers against the Python API on independently rebuilt
networks, and one-line errors (exit status 2) for bad values."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner

import symhess
from symhess.cli import main
from symhess.two_layer.covariances import covariance_from_spec, power_law_covariance, spiked_covariance


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    return res


def summary(text: str) -> tuple[int, float, float, float]:
    """P, smallest and largest eigenvalue and trace from the report's spectrum summary line."""
    m = re.search(r"P = (\d+), eigenvalues in \[(\S+), (\S+)\], trace = (\S+)", text)
    assert m, text
    return int(m[1]), float(m[2]), float(m[3]), float(m[4])


def network(n_in, n_hidden, seed, n_out=1):
    """The report's teacher rebuilt by hand: symhess.teacher, then N(0, 1/Nh) rows for the extra outputs."""
    gen = np.random.default_rng(seed)
    W, v = symhess.teacher(n_in, n_hidden, rng=gen)
    if n_out > 1:
        v = np.vstack([v, gen.standard_normal((n_out - 1, n_hidden)) / np.sqrt(n_hidden)])
    return W, v


def check_summary(out, H):
    P, lo, hi, tr = summary(out)
    e = np.linalg.eigvalsh(H)
    assert P == H.shape[0]
    assert lo == pytest.approx(e[0], rel=1e-5, abs=1e-12)
    assert hi == pytest.approx(e[-1], rel=1e-5)
    assert tr == pytest.approx(np.trace(H), rel=1e-5)


# -- the covariance specs --------------------------------------------------------------------------

def test_covariance_specs_by_hand():
    assert np.array_equal(spiked_covariance(5, 0.4, 3.0), [4, 4, 1, 1, 1])
    assert np.array_equal(spiked_covariance(5, 0.01, 1.0), [2, 1, 1, 1, 1])  # at least one spike
    assert np.array_equal(spiked_covariance(4, 1.0, -0.5), [0.5] * 4)
    assert np.allclose(power_law_covariance(4, 1.5), [1, 2**-1.5, 3**-1.5, 4**-1.5])
    assert np.array_equal(covariance_from_spec(" diag: 1, 2.5,0 ", 3), [1, 2.5, 0])
    assert covariance_from_spec("identity", 7) is None
    assert np.array_equal(covariance_from_spec("spiked:0.5,2", 4), [3, 3, 1, 1])


@pytest.mark.parametrize("spec, needle", [
    ("spiked:0,1", "(0, 1]"), ("spiked:1.5,1", "(0, 1]"), ("spiked:0.5,-1", "> -1"), ("spiked:0.5", "not understood"),
    ("power:-1", ">= 0"), ("power:x", "not a number"), ("power:nan", "finite"), ("diag:1,2", "n_in = 3"),
    ("diag:1,-2,1", "negative"), ("gauss:1", "not understood"), ("identity:2", "not understood"),
])
def test_covariance_spec_errors(spec, needle):
    with pytest.raises(ValueError, match=re.escape(needle)):
        covariance_from_spec(spec, 3)


# -- report ------------------------------------------------------------------------------------------

def test_report_several_outputs_and_spiked_inputs_match_the_api():
    res = run("report", "-a", "erf", "--n-in", 4, "--n-hidden", 3, "--seed", 2, "--n-out", 2,
              "--input-cov", "spiked:0.5,3")
    assert res.exit_code == 0, res.output
    W, V = network(4, 3, 2, n_out=2)
    H = symhess.expected_hessian("erf", W, V, input_cov=np.array([4.0, 4.0, 1.0, 1.0]))
    assert H.shape == (18, 18)
    check_summary(res.output, H)
    assert "2 outputs, input covariance spiked:0.5,3" in res.output


def test_report_trained_subset_is_the_principal_submatrix():
    res = run("report", "-a", "quadratic", "--n-in", 3, "--n-hidden", 2, "--train", "v")
    assert res.exit_code == 0, res.output
    W, v = network(3, 2, 0)
    H = symhess.expected_hessian("quadratic", W, v)
    check_summary(res.output, H[6:, 6:])


def test_report_npy_covariance(tmp_path):
    A = np.random.default_rng(5).standard_normal((3, 3))
    Sigma = A @ A.T + 0.1 * np.eye(3)
    path = tmp_path / "sigma.npy"
    np.save(path, Sigma)
    res = run("report", "-a", "erf", "--n-in", 3, "--n-hidden", 2, "--input-cov", path)
    assert res.exit_code == 0, res.output
    W, v = network(3, 2, 0)
    # the whitening identity, an independent route: H_Sigma(W) = J H_I(W S) J^T
    lam, U = np.linalg.eigh(Sigma)
    S = (U * np.sqrt(lam)) @ U.T
    J = np.eye(8)
    J[:6, :6] = np.kron(np.eye(2), S)
    check_summary(res.output, J @ symhess.expected_hessian("erf", W @ S, v) @ J.T)


def test_report_mismatched_teacher_goes_to_the_minimum():
    res = run("report", "-a", "poly:coeffs=[0,1,0.5,0.3]", "--n-in", 3, "--n-hidden", 2, "--seed", 1,
              "--teacher-activation", "poly:coeffs=[0,1,0.2,0.6]")
    assert res.exit_code == 0, res.output
    Wt, vt = network(3, 2, 1)
    m = symhess.find_minimum("poly:coeffs=[0,1,0.5,0.3]", Wt, vt, Wt, vt, teacher_activation="poly:coeffs=[0,1,0.2,0.6]")
    assert m.converged and m.loss > 1e-6  # a genuine mismatch: the minimum has nonzero loss
    loss, gnorm, emin = _minimum_line(res.output)
    assert loss == pytest.approx(m.loss, rel=1e-5)
    assert gnorm < 1e-8
    H = symhess.expected_hessian("poly:coeffs=[0,1,0.5,0.3]", m.W, m.v, W_teacher=Wt, v_teacher=vt,
                                 teacher_activation="poly:coeffs=[0,1,0.2,0.6]")
    assert emin == pytest.approx(np.linalg.eigvalsh(H)[0], rel=1e-5)
    check_summary(res.output, H)
    # the residual part E[e grad^2 f] is present, and the student has moved
    assert np.abs(m.W - Wt).max() > 1e-3
    GN = symhess.expected_hessian("poly:coeffs=[0,1,0.5,0.3]", m.W, m.v, W_teacher=Wt, v_teacher=vt,
                                  teacher_activation="poly:coeffs=[0,1,0.2,0.6]", part="gauss_newton")
    assert np.abs(H - GN).max() > 1e-2


def _minimum_line(text):
    line = next(ln for ln in text.splitlines() if ln.startswith("student minimum"))
    loss = float(re.search(r"loss (\S+),", line)[1])
    g = float(re.search(r"gradient norm (\S+),", line)[1])
    e = float(re.search(r"smallest Hessian eigenvalue (\S+)", line)[1])
    return loss, g, e


def test_report_default_is_unchanged_by_default_option_values():
    a = run("report", "-a", "erf", "--n-in", 3, "--n-hidden", 2)
    b = run("report", "-a", "erf", "--n-in", 3, "--n-hidden", 2, "--n-out", 1, "--input-cov", "identity",
            "--train", "v,W", "--teacher-activation", "erf")
    assert a.exit_code == b.exit_code == 0
    assert summary(a.output) == summary(b.output)
    assert "paper's network; the numbers below" not in b.output


# -- spectrum ------------------------------------------------------------------------------------------

def _spectrum_numbers(text):
    line = next(ln for ln in text.splitlines() if ln.startswith("smallest positive eigenvalue"))
    return [float(x) for x in re.findall(r":\s*(\S+)", line)]


def test_spectrum_with_power_law_inputs_two_outputs_and_frozen_v_matches_the_api():
    res = run("spectrum", "-a", "erf", "--n-in", 4, "--n-hidden", 3, "--teachers", 3, "--seed", 4,
              "--n-out", 2, "--input-cov", "power:1", "--train", "W")
    assert res.exit_code == 0, res.output
    gen = np.random.default_rng(4)
    eigs = []
    for _ in range(3):
        W, v = symhess.teacher(4, 3, rng=gen)
        V = np.vstack([v, gen.standard_normal((1, 3)) / np.sqrt(3)])
        H = symhess.expected_hessian("erf", W, V, input_cov=1.0 / np.arange(1, 5))
        eigs.append(np.linalg.eigvalsh(H[:12, :12]))
    eigs = np.concatenate(eigs)
    small, large, mean = _spectrum_numbers(res.output)
    assert small == pytest.approx(eigs.min(), rel=1e-5)
    assert large == pytest.approx(eigs.max(), rel=1e-5)
    assert mean == pytest.approx(eigs.mean(), rel=1e-5)
    assert "P = 12" in res.output


def test_spectrum_linear_law_only_for_the_papers_network():
    a = run("spectrum", "-a", "linear", "--n-in", 3, "--n-hidden", 4, "--teachers", 4)
    b = run("spectrum", "-a", "linear", "--n-in", 3, "--n-hidden", 4, "--teachers", 4, "--train", "W")
    assert a.exit_code == b.exit_code == 0
    assert "eq. (15) law" in a.output and "eq. (15) law" not in b.output


def test_spectrum_mismatched_teacher():
    res = run("spectrum", "-a", "erf", "--n-in", 3, "--n-hidden", 2, "--teachers", 2,
              "--teacher-activation", "erf:scale=0.5")
    assert res.exit_code == 0, res.output
    gen = np.random.default_rng(0)
    eigs = []
    for _ in range(2):
        Wt, vt = symhess.teacher(3, 2, rng=gen)
        m = symhess.find_minimum("erf", Wt, vt, Wt, vt, teacher_activation="erf:scale=0.5")
        eigs.append(np.linalg.eigvalsh(symhess.expected_hessian(
            "erf", m.W, m.v, W_teacher=Wt, v_teacher=vt, teacher_activation="erf:scale=0.5")))
    eigs = np.concatenate(eigs)
    small, large, mean = _spectrum_numbers(res.output)
    assert small == pytest.approx(eigs.min(), rel=1e-4)
    assert large == pytest.approx(eigs.max(), rel=1e-5)


# -- count ---------------------------------------------------------------------------------------------

def test_count_singular_covariance_uses_the_rule_at_its_rank():
    res = run("count", "-a", "quadratic", "--n-in", 4, "--n-hidden", 4, "--input-cov", "diag:1,2,0.5,0")
    assert res.exit_code == 0, res.output
    # quadratic rule at Ni = 3, Nh = 4 >= Ni: Ni (Ni + 3) / 2 = 9
    assert re.search(r"prediction: N_eff = 9 of P = 20", res.output), res.output
    assert re.search(r"measured \(seed 0\): rank = 9 of P = 20", res.output), res.output
    assert "match: yes" in res.output


def test_count_trained_subset_and_outputs_against_hessian_rank():
    res = run("count", "-a", "quadratic", "--n-in", 4, "--n-hidden", 3, "--train", "W", "--exact")
    assert res.exit_code == 0, res.output
    Wq, vq = symhess.rational_teacher(4, 3, np.random.default_rng(0))
    r = symhess.hessian_rank("quadratic", Wq, vq, exact=True, trainable=("W",)).rank
    assert f"rank = {r} of P = 12 (exact" in res.output
    # a linear network: rank N_i in W alone (independent of the code: f = (sum_i v_i w_i) . x)
    res = run("count", "-a", "linear", "--n-in", 3, "--n-hidden", 4, "--train", "W", "--exact")
    assert "rank = 3 of P = 12 (exact" in res.output, res.output
    res = run("count", "-a", "linear", "--n-in", 3, "--n-hidden", 2, "--n-out", 2)
    assert res.exit_code == 0, res.output
    # two outputs: f_o = (sum_i V_oi w_i) . x spans 2 N_i = 6 directions, and the (GL_2) symmetry of
    # W -> A W, V -> V A^-1 removes Nh^2 = 4 of P = 10: rank 6
    assert "rank = 6 of P = 10" in res.output, res.output


def test_count_sweep_with_power_law_inputs(tmp_path):
    out = tmp_path / "t"
    res = run("count", "-a", "quadratic", "--sweep", "--n-in", "2..3", "--n-hidden", 2, "--input-cov", "power:1",
              "--out", out)
    assert res.exit_code == 0, res.output
    text = (tmp_path / "t.md").read_text()
    assert "input covariance power:1" in text and "MISMATCH" not in res.output


def test_count_input_cov_on_the_exact_and_certified_routes():
    # a dense singular Sigma = A A^T of rank 2 on 3 inputs: the quadratic rule at Ni = 2 (eq. (14),
    # Nh = 3 >= Ni: Ni (Ni + 3) / 2 = 5), proved over Q by the LDL^T reduction
    A = np.array([[1.0, 0.0], [2.0, 1.0], [-1.0, 3.0]])
    path = "sigma_rank2.npy"
    with CliRunner().isolated_filesystem():
        np.save(path, A @ A.T)
        res = run("count", "-a", "quadratic", "--n-in", 3, "--n-hidden", 3, "--input-cov", path, "--exact")
    assert res.exit_code == 0, res.output
    assert "prediction: N_eff = 5 of P = 12" in res.output and "rank = 5 of P = 12 (exact" in res.output
    assert "match: yes" in res.output
    # a spiked Sigma is nonsingular: the certified rank is that of the identity case (erf: full rank)
    outs = [run("count", "-a", "erf", "--n-in", 3, "--n-hidden", 2, "--certify", *extra).output
            for extra in ((), ("--input-cov", "spiked:0.5,2"))]
    for out in outs:
        assert "rank = 8 of P = 8 (exact; certified" in out and "match: yes" in out, out
    from symhess.two_layer.counting import measure_rank

    r = measure_rank("erf", 3, 2, method="certify", rng=0, input_cov=spiked_covariance(3, 0.5, 2.0))
    assert (r.rank, r.status) == (8, "exact")


# -- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["report", "--input-cov", "spiked:2,1"], "(0, 1]"),
    (["report", "--input-cov", "diag:1,2"], "n_in = 5"),
    (["report", "--input-cov", "power:-2"], ">= 0"),
    (["report", "--input-cov", "wishart:3"], "not understood"),
    (["report", "--input-cov", "no_such_file.npy"], "no such file"),
    (["report", "--train", "W,b"], "'b'"),
    (["report", "--train", ","], "empty"),
    (["report", "--train", "W,W"], "twice"),
    (["report", "--n-out", "0"], "--n-out"),
    (["report", "--teacher-activation", "nonsense"], "unknown activation"),
    (["spectrum", "--teacher-activation", "relu"], "two different activations"),
    (["count", "--teacher-activation", "linear"], "not available in `symhess count`"),
    (["count", "--train", "W,b"], "no hidden bias"),
    (["count", "--train", "W,b_out", "--hidden-bias", "--exact"], "no output bias"),
    (["count", "--n-out", "2", "--widths", "2,2,1"], "cannot be combined"),
    (["count", "--input-cov", "power:1", "--n-teacher", "2"], "cannot be combined"),
])
def test_bad_values_fail_with_one_clear_line(args, needle):
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and needle in res.output, res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)


def test_npy_covariance_errors(tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.array([[1.0, 2.0], [2.0, 1.0]]))  # eigenvalues 3 and -1
    res = run("report", "--n-in", 2, "--input-cov", bad)
    assert res.exit_code == 2 and "positive semidefinite" in res.output, res.output
    asym = tmp_path / "asym.npy"
    np.save(asym, np.array([[1.0, 0.5], [0.0, 1.0]]))
    res = run("report", "--n-in", 2, "--input-cov", asym)
    assert res.exit_code == 2 and "not symmetric" in res.output, res.output
    res = run("report", "--n-in", 3, "--input-cov", bad)
    assert res.exit_code == 2 and "shape" in res.output, res.output
    junk = tmp_path / "junk.npy"
    junk.write_text("not an array")
    res = run("report", "--n-in", 2, "--input-cov", junk)
    assert res.exit_code == 2 and "not a readable .npy" in res.output, res.output


def test_spectrum_linear_with_input_cov_uses_the_covariance_law():
    res = run("spectrum", "-a", "linear", "--n-in", 10, "--n-hidden", 20, "--teachers", 60, "--seed", 3,
              "--input-cov", "spiked:0.3,2")
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("law under Sigma (spiked:0.3,2)"))
    d, bound = (float(x) for x in re.findall(r"(?:distance|below) (\d\.\d+)", line))
    # rebuilt by hand: the teachers' nonzero spectra, one eigenvalue each, against the law
    from symhess.two_layer.linear_covariance_law import linear_covariance_law
    from symhess.two_layer.linear_law import ks_distance

    tau = np.array([3.0] * 3 + [1.0] * 7)
    gen, pick = np.random.default_rng(3), np.random.default_rng(4)
    one = []
    for _ in range(60):
        W, v = symhess.teacher(10, 20, rng=gen)
        e = np.linalg.eigvalsh(symhess.expected_hessian("linear", W, v, input_cov=tau))[-10:]
        one.append(e[pick.integers(10)])
    assert d == pytest.approx(ks_distance(np.array(one), linear_covariance_law(10, 20, tau).cdf), abs=1e-4)
    assert d < bound


# -- biases (report and spectrum) ----------------------------------------------------------------------

def biased_network(n_in, n_hidden, gen, n_out=1, bias="both"):
    """A teacher and its biases rebuilt by hand: the weights, then b ~ N(0, 1) (Nh), then b_out ~ N(0, 1) (n_out)."""
    W, v = symhess.teacher(n_in, n_hidden, rng=gen)
    if n_out > 1:
        v = np.vstack([v, gen.standard_normal((n_out - 1, n_hidden)) / np.sqrt(n_hidden)])
    kw = {}
    if bias in ("hidden", "both"):
        kw["b"] = gen.standard_normal(n_hidden)
    if bias in ("output", "both"):
        kw["b_out"] = gen.standard_normal(n_out)
    return W, v, kw


@pytest.mark.parametrize("act, bias, n_out, P", [
    ("erf", "both", 1, 11), ("relu", "hidden", 1, 10), ("quadratic", "output", 2, 12), ("erf", "both", 2, 14),
])
def test_report_with_biases_matches_the_api(act, bias, n_out, P):
    res = run("report", "-a", act, "--n-in", 3, "--n-hidden", 2, "--seed", 3, "--bias", bias, "--n-out", n_out)
    assert res.exit_code == 0, res.output
    W, v, kw = biased_network(3, 2, np.random.default_rng(3), n_out, bias)
    H = symhess.expected_hessian(act, W, v, **kw)
    assert H.shape == (P, P)
    check_summary(res.output, H)
    assert {"both": "hidden and output biases", "hidden": "hidden biases", "output": "output bias"}[bias] in res.output
    assert ("b ~ N(0, 1)" in res.output) == (bias != "output")
    if "b_out" in kw:  # the output bias's diagonal entry is 1, and the summary sees the bias rows
        assert H[-1, -1] == 1.0


def test_report_bias_none_is_the_default():
    a = run("report", "-a", "erf", "--n-in", 3, "--n-hidden", 2)
    b = run("report", "-a", "erf", "--n-in", 3, "--n-hidden", 2, "--bias", "none")
    assert a.exit_code == b.exit_code == 0
    assert summary(a.output) == summary(b.output)


def test_report_biases_with_frozen_groups_and_correlated_inputs():
    res = run("report", "-a", "erf", "--n-in", 3, "--n-hidden", 2, "--seed", 2, "--bias", "both",
              "--train", "b,W", "--input-cov", "diag:1,2,0.5")
    assert res.exit_code == 0, res.output
    W, v, kw = biased_network(3, 2, np.random.default_rng(2))
    H = symhess.expected_hessian("erf", W, v, input_cov=np.array([1.0, 2.0, 0.5]), **kw)
    idx = np.r_[0:6, 8:10]  # theta = (W, v, b, b_out): W and b
    check_summary(res.output, H[np.ix_(idx, idx)])
    assert "trained groups: W, b (P = 8" in res.output


def test_report_biases_with_a_mismatched_teacher_go_to_the_minimum():
    act, tact = "poly:coeffs=[0,1,0,0.5]", "poly:coeffs=[0,1,0.5,0.3]"
    res = run("report", "-a", act, "--n-in", 3, "--n-hidden", 2, "--seed", 1, "--bias", "both",
              "--teacher-activation", tact)
    assert res.exit_code == 0, res.output
    Wt, vt, kw = biased_network(3, 2, np.random.default_rng(1))
    m = symhess.find_minimum(act, Wt, vt, Wt, vt, teacher_activation=tact, b0=kw["b"], b_out0=kw["b_out"],
                             b_teacher=kw["b"], b_out_teacher=kw["b_out"])
    assert m.converged and m.loss > 1e-6
    loss, gnorm, emin = _minimum_line(res.output)
    assert loss == pytest.approx(m.loss, rel=1e-5) and gnorm < 1e-8
    H = symhess.expected_hessian(act, m.W, m.v, W_teacher=Wt, v_teacher=vt, teacher_activation=tact, b=m.b,
                                 b_out=m.b_out, b_teacher=kw["b"], b_out_teacher=kw["b_out"])
    assert emin == pytest.approx(np.linalg.eigvalsh(H)[0], rel=1e-5)
    check_summary(res.output, H)


def test_spectrum_with_biases_matches_the_api():
    res = run("spectrum", "-a", "erf", "--n-in", 3, "--n-hidden", 3, "--teachers", 3, "--seed", 5,
              "--bias", "both", "--n-out", 2)
    assert res.exit_code == 0, res.output
    gen = np.random.default_rng(5)
    eigs = []
    for _ in range(3):
        W, V, kw = biased_network(3, 3, gen, n_out=2)
        eigs.append(np.linalg.eigvalsh(symhess.expected_hessian("erf", W, V, **kw)))
    eigs = np.concatenate(eigs)
    small, large, mean = _spectrum_numbers(res.output)
    assert small == pytest.approx(eigs.min(), rel=1e-5)
    assert large == pytest.approx(eigs.max(), rel=1e-5)
    assert mean == pytest.approx(eigs.mean(), rel=1e-5)
    assert "P = 20" in res.output and "hidden and output biases" in res.output
    assert "of 20" in res.output  # erf with both biases: full rank


def test_spectrum_linear_with_biases_has_no_law():
    res = run("spectrum", "-a", "linear", "--n-in", 3, "--n-hidden", 4, "--teachers", 4, "--bias", "hidden")
    assert res.exit_code == 0, res.output
    assert "eq. (15) law" not in res.output and "P = 20" in res.output


@pytest.mark.parametrize("args, needle", [
    (["report", "--bias", "inside"], "'inside' is not one of"),
    (["report", "--train", "W,b"], "add --bias"),
    (["report", "--bias", "output", "--train", "W,b"], "no hidden bias"),
    (["spectrum", "--bias", "hidden", "--train", "b_out"], "no output bias"),
    (["report", "-a", "erf", "--bias", "hidden", "--teacher-activation", "tanh"], "--teacher-activation"),
])
def test_bias_option_errors(args, needle):
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and needle in res.output, res.output


def test_count_float_route_with_biases_and_architecture_options():
    """Without --exact/--certify: the float64 rank of the expected Hessian with means, equal to the exact one."""
    for extra in (["--train", "W,b"], ["--input-cov", "power:1"], ["--n-out", "2"]):
        fl = run("count", "-a", "quadratic", "--n-in", 3, "--n-hidden", 2, "--bias", "both", *extra)
        ex = run("count", "-a", "quadratic", "--n-in", 3, "--n-hidden", 2, "--bias", "both", "--exact", *extra)
        assert fl.exit_code == ex.exit_code == 0, (fl.output, ex.output)
        r_fl = re.search(r"rank = (\d+) of P = (\d+) \(numerical; float64", fl.output)
        r_ex = re.search(r"rank = (\d+) of P = (\d+) \(exact", ex.output)
        assert r_fl and r_ex, (fl.output, ex.output)
        assert r_fl.groups() == r_ex.groups(), extra
