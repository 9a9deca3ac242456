"""``symhess check``: exit status, failure reports with both values, and a reproducing command."""

from __future__ import annotations

import shlex

from click.testing import CliRunner

from symhess.cli import main

WRONG_VV = r"[H_{vv}]_{ik} = \frac{2}{\pi} \arcsin\left(\frac{Q_{ik}}{\sqrt{(1+2Q_{ii})(1+2Q_{kk})}}\right)"
RIGHT_WW = (r"\frac{4}{\pi}\frac{v_iv_k}{\sqrt{\Delta}}\Big\{\delta_{jl}-\frac{2[(1+2Q_{kk})W_{ij}W_{il}"
            r"+(1+2Q_{ii})W_{kj}W_{kl}-2Q_{ik}(W_{ij}W_{kl}+W_{kj}W_{il})]}{\Delta}\Big\}")


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_latex_file_pass_and_fail(tmp_path):
    good = tmp_path / "ww.tex"
    good.write_text("\\begin{equation}\n" + RIGHT_WW + "\n\\end{equation}\n")
    res = _run(["check", "--latex", str(good), "--activation", "erf", "--block", "WW",
                "--define", r"\Delta=(1+2Q_{ii})(1+2Q_{kk})-4Q_{ik}^2", "--pair", "both"])
    assert res.exit_code == 0, res.output
    assert "result: OK (symbolic" in res.output

    bad = tmp_path / "vv.tex"
    bad.write_text("$$" + WRONG_VV + "$$")
    res = _run(["check", "--latex", str(bad), "--activation", "erf", "--block", "vv"])
    assert res.exit_code == 1
    out = res.output
    assert "MISMATCH" in out and "counterexample (i != k)" in out
    assert "your value:" in out and "symhess value:" in out and "independent route" in out
    command = next(line for line in out.splitlines() if line.strip().startswith("reproduce:")).split("reproduce:")[1]
    argv = shlex.split(command)
    assert argv[:2] == ["symhess", "check"] and "--latex" in argv
    again = _run(argv[1:])
    assert again.exit_code == 1 and again.output == out  # the command reproduces the same report


def test_formula_text_and_expectation():
    res = _run(["check", "--formula", "Q_ik + 2*Q_ik**2 + Q_ii*Q_kk", "-a", "quadratic", "--block", "vv"])
    assert res.exit_code == 0, res.output
    res = _run(["check", "--expectation", "1,1", "--formula", r"\frac{2}{\pi\sqrt{(1+2q_1)(1+2q_2)-4c^2}}",
                "-a", "erf"])
    assert res.exit_code == 1 and "MISMATCH" in res.output and "counterexample ((u, v)" in res.output


def test_count_failure_report():
    res = _run(["check", "--count", "n_in*(n_in+3)/2", "--activation", "quadratic"])
    assert res.exit_code == 1
    assert "MISMATCH at (n_in, n_hidden) = (2, 1)" in res.output
    assert "rule:       5" in res.output and "exact rank: 3" in res.output
    assert "reproduce: symhess check --count 'n_in*(n_in+3)/2' --activation quadratic --n-in 2:2 --n-hidden 1:1" in res.output
    argv = shlex.split(res.output.split("reproduce: ")[1].strip())
    assert _run(argv[1:]).exit_code == 1


def test_bad_input_exit_2():
    res = CliRunner().invoke(main, ["check", "--formula", "Q_ik + x", "-a", "erf", "--block", "vv"])
    assert res.exit_code == 2 and "cannot map symbol(s) 'x'" in res.output
    res = CliRunner().invoke(main, ["check", "--formula", "Q_ik", "-a", "erf"])
    assert res.exit_code == 2 and "exactly one of --block" in res.output
    res = CliRunner().invoke(main, ["check", "--count", "n_in", "-a", "erf"])
    assert res.exit_code == 2 and "polynomial" in res.output
    res = CliRunner().invoke(main, ["check", "--block", "vv", "-a", "erf"])
    assert res.exit_code == 2 and "--latex FILE or --formula" in res.output
