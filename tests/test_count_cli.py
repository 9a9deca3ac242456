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
    (["--n-in", "0..3", "--sweep"], "sizes must be >= 1"),
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
