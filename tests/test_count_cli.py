"""``symhess count``: prediction against measurement, one size and a --sweep table (issue 3)."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from symhess.two_layer.counting import pure_square_rank, quadratic_rank
from symhess.cli import main
from symhess.cli.count import COLUMNS, parse_sizes


def run(args):
    return CliRunner().invoke(main, ["count", *args], catch_exceptions=False)


def test_single_size_exact():
    res = run(["--activation", "quadratic", "--n-in", "5", "--n-hidden", "3", "--exact"])
    assert res.exit_code == 0, res.output
    assert f"N_eff = {quadratic_rank(5, 3)} of P = 18" in res.output
    assert f"rank = {quadratic_rank(5, 3)} of P = 18 (exact; exact: coefficient Jacobian)" in res.output
    assert "match: yes" in res.output


def test_single_size_both_exact_routes():
    res = run(["-a", "poly:coeffs=[0,0,0,1]", "--n-in", "3", "--n-hidden", "5", "--exact", "--route", "both"])
    assert res.exit_code == 0, res.output
    assert "rank = 14 of P = 20" in res.output and "cross-checked" in res.output  # AH exception (4, 3, 5)
    assert "match: yes" in res.output


def test_single_size_with_biases_and_certify():
    res = run(["-a", "quadratic", "--n-in", "3", "--n-hidden", "2", "--exact", "--hidden-bias", "--output-bias"])
    assert res.exit_code == 0 and f"N_eff = {quadratic_rank(3, 2) + 1} of P = 11" in res.output
    res = run(["-a", "erf", "--n-in", "1", "--n-hidden", "4", "--certify"])
    assert res.exit_code == 0 and "certified: interval Cholesky" in res.output and "match: yes" in res.output


def test_float_undercount_is_reported_not_hidden():
    res = run(["-a", "erf", "--n-in", "1", "--n-hidden", "4"])
    assert res.exit_code == 0 and "match: NO (float64 rank; check with --exact or --certify)" in res.output


def test_sweep_writes_csv_and_markdown_with_progress(tmp_path):
    out = tmp_path / "sub" / "table"
    res = CliRunner().invoke(main, ["count", "-a", "poly:coeffs=[0,1]", "--sweep", "--n-in", "1..3",
                                    "--n-hidden", "1,2,4", "--exact", "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "count poly:coeffs=[0,1] (exact)" in res.output  # the progress bar's label (stderr, mixed in)
    assert "9 sizes, 9 consistent with the rule" in res.output
    with open(out.with_suffix(".csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 9
    for r in rows:
        Ni, Nh = int(r["n_in"]), int(r["n_hidden"])
        assert int(r["predicted"]) == int(r["measured"]) == pure_square_rank(Ni, Nh)
        assert r["match"] == "yes" and r["measured_status"] == "exact"
    md = out.with_suffix(".md").read_text().splitlines()
    assert md[0].startswith("# Effective number of parameters") and len(md) == 4 + 9
    assert md[2] == "| " + " | ".join(COLUMNS) + " |"


def test_sweep_skips_sizes_above_max_params(tmp_path):
    out = tmp_path / "t"
    res = run(["-a", "linear", "--sweep", "--n-in", "1..4", "--n-hidden", "1..4", "--max-params", "8",
               "--out", str(out)])
    assert res.exit_code == 0
    rows = list(csv.DictReader(open(out.with_suffix(".csv"))))
    assert rows and all(int(r["n_params"]) <= 8 for r in rows) and all(r["match"] == "yes" for r in rows)


@pytest.mark.parametrize("args, message", [
    (["--exact", "--certify"], "not both"),
    (["--n-in", "1..3"], "--sweep"),
    (["--n-in", "0..3", "--sweep"], "values must be >= 1"),
    (["--n-in", "a"], "is not a size"),
    (["-a", "erf", "--exact"], "--certify instead of --exact"),
    (["-a", "nonsense"], "nonsense"),
    (["--exact", "--route", "both", "--hidden-bias"], "route='jacobian'"),
])
def test_count_errors(args, message):
    res = CliRunner().invoke(main, ["count", *args])
    assert res.exit_code != 0 and message in res.output


def test_parse_sizes():
    assert parse_sizes("5") == [5]
    assert parse_sizes("1..3,7, 2") == [1, 2, 3, 7]


# -- biases with several outputs, frozen groups and input covariance ------------------------------------

def _ranks(output):
    """(predicted, measured) from one size's output: the rule's N_eff (None when none is known) and the rank."""
    import re

    pred = re.search(r"prediction: N_eff = (\d+) of P = (\d+)", output)
    meas = re.search(r"measured \(seed \d+\): rank = (\d+) of P = (\d+) \(([^;]+);", output)
    assert meas, output
    return (None if pred is None else int(pred[1])), int(meas[1]), int(meas[2]), meas[3]


def test_erf_both_biases_two_outputs_certified_full_rank():
    from symhess.two_layer.counting import effective_parameters, measure_rank

    Ni, Nh, K = 2, 3, 2
    res = run(["-a", "erf", "--n-in", str(Ni), "--n-hidden", str(Nh), "--bias", "both", "--n-out", str(K),
               "--certify", "--seed", "4"])
    assert res.exit_code == 0, res.output
    P = Nh * Ni + Nh + K * Nh + K  # W, b, V (K x Nh), b_out: independent units, full rank (theorem)
    assert _ranks(res.output) == (P, P, P, "exact") and "match: yes" in res.output
    assert effective_parameters("erf", Ni, Nh, hidden_bias=True, output_bias=True, n_out=K).value == P
    m = measure_rank("erf", Ni, Nh, method="certify", hidden_bias=True, output_bias=True, n_out=K, rng=4)
    assert (m.rank, m.n, m.status) == (P, P, "exact")


def test_relu_hidden_bias_rank_is_p_minus_nh():
    res = run(["-a", "relu", "--n-in", "3", "--n-hidden", "3", "--bias", "hidden", "--certify"])
    assert res.exit_code == 0, res.output
    P, Nh = 3 * 3 + 3 + 3, 3  # positive homogeneity: (w_i, b_i, v_i) -> (c w_i, c b_i, v_i / c) per unit
    assert _ranks(res.output) == (P - Nh, P - Nh, P, "lower bound") and "match: yes" in res.output
    # a frozen bias fixes the scale: the null directions go (rule P, certified full rank)
    res = run(["-a", "relu", "--n-in", "3", "--n-hidden", "3", "--bias", "hidden", "--train", "W,b", "--certify"])
    assert res.exit_code == 0, res.output
    assert _ranks(res.output) == (12, 12, 12, "exact") and "trained: W,b" in res.output


def test_frozen_groups_with_biases_measured_by_hand():
    # linear units, W and b trained: f = sum_i v_i (w_i.x + b_i) moves only along the N_i linear
    # functions and the constant, so the rank is N_i + 1 of P = Nh (Ni + 1) (no rule: measured)
    res = run(["-a", "linear", "--n-in", "3", "--n-hidden", "4", "--bias", "hidden", "--train", "W,b", "--exact"])
    assert res.exit_code == 0, res.output
    assert _ranks(res.output) == (None, 4, 16, "exact") and "match: no rule" in res.output
    # quadratic with both biases, two outputs, v frozen: against hessian_rank at the same rational teacher
    from symhess.two_layer.counting import measure_rank

    res = run(["-a", "quadratic", "--n-in", "2", "--n-hidden", "2", "--bias", "both", "--n-out", "2",
               "--train", "W,b,b_out", "--exact", "--seed", "1"])
    assert res.exit_code == 0, res.output
    m = measure_rank("quadratic", 2, 2, method="exact", hidden_bias=True, output_bias=True, n_out=2,
                     trainable=("W", "b", "b_out"), rng=1)
    assert _ranks(res.output)[1:] == (m.rank, 2 * 2 + 2 + 2, "exact")


def test_sweep_with_biases_outputs_and_input_cov(tmp_path):
    out = tmp_path / "t"
    res = run(["-a", "erf", "--sweep", "--n-in", "1..2", "--n-hidden", "1..2", "--bias", "both", "--n-out", "2",
               "--input-cov", "diag:2,1", "--certify", "--out", str(out)])
    # diag:2,1 names two variances, so only Ni = 2 parses: the sweep refuses Ni = 1 with a clear error
    assert res.exit_code == 2 and "n_in = 1" in res.output
    res = run(["-a", "erf", "--sweep", "--n-in", "1..2", "--n-hidden", "1..2", "--bias", "both", "--n-out", "2",
               "--input-cov", "spiked:1,1", "--certify", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(out.with_suffix(".csv"))))
    assert len(rows) == 4
    for r in rows:
        Ni, Nh = int(r["n_in"]), int(r["n_hidden"])
        P = Nh * (Ni + 1) + 2 * Nh + 2
        assert int(r["n_params"]) == int(r["predicted"]) == int(r["measured"]) == P
        assert r["measured_status"] == "exact" and r["match"] == "yes"
    title = out.with_suffix(".md").read_text().splitlines()[0]
    assert "hidden biases, output bias, 2 outputs, input covariance spiked:1,1" in title


def test_measure_rank_under_nonsingular_sigma_equals_identity_case():
    """For every positive diagonal Sigma (variances down to 1e-12, near singular) the exact rank under
    Sigma is the identity case's: the quadratic rule eq. (14) with hidden biases, +1 (two routes agree
    with the closed form; a float64 rank would lose the tiny variances)."""
    from hypothesis import given, settings, strategies as st

    from symhess.two_layer.counting import measure_rank

    var = st.sampled_from([1e-12, 1e-6, 0.5, 1.0, 3.0, 1e6])

    @settings(max_examples=12, deadline=None, derandomize=True)
    @given(st.lists(var, min_size=3, max_size=3), st.integers(0, 50), st.integers(1, 4))
    def check(diag, seed, Nh):
        r = measure_rank("quadratic", 3, Nh, method="exact", hidden_bias=True, rng=seed, input_cov=diag)
        assert (r.rank, r.status) == (quadratic_rank(3, Nh) + 1, "exact")

    check()
