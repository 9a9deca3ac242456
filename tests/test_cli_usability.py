"""The command line as a new user meets it: one-line errors, one range syntax, honest spectra, quiet reports.

Each test runs the exact command a user would type and checks the outcome a user would see.
"""

from __future__ import annotations

import json
import os
import stat
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner

from symhess.cli import main
from symhess.cli._common import parse_range


def run(args, **kw):
    return CliRunner().invoke(main, args, **kw)


# -- errors: one line, no traceback, exit status 2 (input) or 1 (files) --------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["report", "-a", "quadratic:eps=abc"], "symbolic parameter"),
    (["report", "-a", "quadratic:eps=inf"], "must be finite"),
    (["report", "-a", "quadratic:eps=nan"], "must be finite"),
    (["report", "-a", "erf:scale=1e300"], "variance scale"),
    (["report", "-a", "quadratic:eps=1,eps=2"], "given twice"),
    (["report", "-a", "nonsense"], "unknown activation"),
    (["spectrum", "-a", "poly:coeffs=[1,a]", "--n-in", "2", "--n-hidden", "2"], "symbolic parameter"),
    (["count", "-a", "quadratic:eps=x", "--n-in", "2", "--n-hidden", "2"], "symbolic parameter"),
])
def test_bad_activation_fails_before_any_output_in_one_line(args, needle):
    res = run(args)
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and res.output.startswith("Error: "), res.output  # nothing printed before
    assert needle in res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)


def test_unwritable_output_is_one_line_exit_1(tmp_path):
    target = tmp_path / "no_such_dir" / "x.py"
    res = run(["derive", "-a", "erf", "-o", str(target)])
    assert res.exit_code == 1
    assert res.output.strip().count("\n") == 0 and str(target) in res.output and "Traceback" not in res.output


def test_top_level_handler_turns_library_errors_into_one_line():
    # any command: a ValueError deep in the library is one line with exit status 2
    res = run(["spectrum", "-a", "erf", "--n-in", "2", "--n-hidden", "2", "--var-w", "1e300"])
    last = res.output.strip().splitlines()[-1]
    assert res.exit_code == 2 and last.startswith("Error: ") and "1e+150" in last, res.output
    assert res.output.count("Error") == 1 and "Traceback" not in res.output


def test_symbolic_parameter_still_allowed_for_derivations():
    res = run(["derive", "-a", "quadratic:eps=abc", "--block", "vv", "--format", "sympy"])
    assert res.exit_code == 0 and "abc" in res.output


# -- one range syntax everywhere ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2..5", "2-5", "2:5", "2,3,4,5", "2..3,4-5", " 2 : 5 "])
def test_range_forms_agree(text):
    assert parse_range(text) == [2, 3, 4, 5]


@pytest.mark.parametrize("text", ["a", "5..2", "0..3", "", "1..", "1.5"])
def test_range_errors_name_the_forms(text):
    with pytest.raises(click.BadParameter, match=r"1\.\.6|>= 1|gives no values"):
        parse_range(text)


def test_seeds_may_start_at_zero():
    assert parse_range("0-2", minimum=0) == [0, 1, 2]


@pytest.mark.parametrize("form", ["1..2", "1-2", "1:2"])
def test_every_command_takes_every_range_form(form, tmp_path):
    res = run(["count", "-a", "linear", "--sweep", "--n-in", form, "--n-hidden", "1", "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    res = run(["check", "--count", "n_in", "-a", "linear", "--n-in", form, "--n-hidden", "1", "--exhaustive"])
    assert res.exit_code == 0, res.output
    res = run(["sweep", "count", "-a", "linear", "--n-in", form, "--n-hidden", "1", "-o", str(tmp_path / "s.jsonl"),
               "-q", "--scheduler", "serial"])
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 2


# -- sweep: base install, mismatches marked, no "ETA nan" ---------------------------------------------------

def test_sweep_default_scheduler_needs_no_dask(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *a, **k):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    out = tmp_path / "e.jsonl"
    res = run(["sweep", "count", "-a", "linear", "--n-in", "2", "--n-hidden", "1", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    res = run(["sweep", "count", "-a", "linear", "--n-in", "3", "--n-hidden", "1", "-o", str(out), "-q",
               "--scheduler", "local"])
    assert res.exit_code == 1 and "dask" in res.output.lower() and "processes" in res.output


def test_sweep_count_marks_a_rank_below_the_rule(tmp_path):
    # erf with n_in = 1: the float64 rank falls below the full-rank rule (as `symhess count` reports)
    out = tmp_path / "e.jsonl"
    res = run(["sweep", "count", "-a", "erf", "--n-in", "1", "--n-hidden", "2..3", "-o", str(out), "-q",
               "--scheduler", "serial"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    for r in recs:
        res_ = r["result"]
        assert res_["match"].startswith("NO") == (res_["rank"] != res_["predicted"])
    assert any(r["result"]["match"].startswith("NO") for r in recs)
    assert "MISMATCH" in res.output and "| match |" in res.output.replace(" match ", " match ")
    single = run(["count", "-a", "erf", "--n-in", "1", "--n-hidden", "2"])
    assert "match: NO" in single.output  # the same verdict as the one-size command


def test_progress_first_line_has_no_nan():
    from io import StringIO

    from symhess.sweep.engine import Progress

    buf = StringIO()
    p = Progress(stream=buf, min_interval=0.0)
    p(0, 3, None)
    p(1, 3, {"status": "ok", "key": "k"})
    p(3, 3, {"status": "ok", "key": "k"})
    text = buf.getvalue()
    assert "nan" not in text.lower() and "ETA --" in text.splitlines()[0]
    assert "ETA" in text.splitlines()[1] and "s ok" in text.splitlines()[1]


def test_progress_eta_ignores_points_done_before_a_resume():
    from io import StringIO

    from symhess.sweep.engine import Progress

    buf = StringIO()
    p = Progress(stream=buf, min_interval=0.0)
    p(5, 10, None)  # five points already in the file
    assert "ETA --" in buf.getvalue()


# -- spectrum: negative and zero eigenvalues reported as such ------------------------------------------------

def test_spectrum_reports_negative_eigenvalues(monkeypatch):
    import symhess.two_layer.teacher_spectra as ts

    P = 2 * 2 + 2
    fake = np.array([[-0.5, 0.0, 1e-20, 0.1, 0.2, 1.0]])  # one negative, two zero, three positive

    def fake_spectra(*a, progress=None, **k):
        if progress:
            progress(1, 1)
        return fake

    monkeypatch.setattr(ts, "teacher_spectra", fake_spectra)
    res = run(["spectrum", "-a", "erf", "--n-in", "2", "--n-hidden", "2", "--teachers", "1"])
    assert res.exit_code == 0, res.output
    assert f"4..4 of {P}" in res.output  # rank counts the negative eigenvalue: it is not zero
    assert "3 positive, 2 zero" in res.output and "1 negative" in res.output
    assert "negative eigenvalue(s), most negative -0.5" in res.output
    assert "zero eigenvalues omitted" not in res.output


def test_spectrum_plot_legend_names_negative_eigenvalues(monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.axes

    import symhess.two_layer.teacher_spectra as ts

    monkeypatch.setattr(ts, "teacher_spectra",
                        lambda *a, progress=None, **k: np.array([[-0.5, 0.0, 0.1, 0.2, 0.3, 1.0]]))
    labels = []
    real_hist = matplotlib.axes.Axes.hist
    monkeypatch.setattr(matplotlib.axes.Axes, "hist",
                        lambda self, *a, **k: labels.append(k.get("label")) or real_hist(self, *a, **k))
    res = run(["spectrum", "-a", "erf", "--n-in", "2", "--n-hidden", "2", "--teachers", "1",
               "--plot", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    assert labels and "1 NEGATIVE" in labels[0] and "1 zero" in labels[0] and "omitted" not in labels[0]


# -- report: one line for the route ------------------------------------------------------------------------

def test_report_tanh_states_the_route_in_one_line():
    res = CliRunner().invoke(main, ["report", "-a", "tanh", "--n-in", "3", "--n-hidden", "2"])
    assert res.exit_code == 0, res.output
    route_lines = [line for line in res.output.splitlines() if line.startswith("expectations:")]
    assert len(route_lines) == 1 and "quadrature" in route_lines[0]
    assert "lambdifygenerated" not in res.output and "return [" not in res.output
    assert sum("QuadratureWarning" in line or "warning:" in line for line in res.output.splitlines()) == 0


# -- paper --pdf leaves only the .tex and the .pdf ---------------------------------------------------------

def test_paper_pdf_compiles_in_a_temporary_folder(tmp_path, monkeypatch):
    # a stand-in engine that writes what pdflatex writes (pdf, aux, log) into -output-directory
    bindir = tmp_path / "bin"
    bindir.mkdir()
    engine = bindir / "pdflatex"
    engine.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        "out = pathlib.Path([a.split('=', 1)[1] for a in sys.argv if a.startswith('-output-directory=')][0])\n"
        "stem = pathlib.Path(sys.argv[-1]).stem\n"
        "for ext in ('.aux', '.log', '.out'):\n"
        "    (out / (stem + ext)).write_text('Output written on x.pdf (1 page)')\n"
        "(out / (stem + '.pdf')).write_bytes(b'%PDF-1.4')\n")
    engine.chmod(engine.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setattr("shutil.which", lambda name, *a, **k: str(engine) if name == "pdflatex" else None)
    work = tmp_path / "work"
    res = run(["paper", "-a", "linear", "-o", str(work / "f.tex"), "--pdf"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in work.iterdir()) == ["f.pdf", "f.tex"]
    assert f"compiled {work / 'f.pdf'}" in res.output


# -- hessian_spectrum says what it is doing ------------------------------------------------------------------

def test_hessian_spectrum_reports_its_stages(capsys):
    import symhess

    W, v = symhess.teacher(8, 6, rng=0)
    msgs = []
    symhess.hessian_spectrum("erf", W, v, method="matrix_free", n_probes=2, n_steps=10, k=2, progress=msgs.append)
    assert len(msgs) == 4 and "Lanczos" in msgs[1] and "SLQ, 2 probe(s) x 10 steps" in msgs[2] and "done" in msgs[3]
    symhess.hessian_spectrum("erf", W, v, method="matrix_free", n_probes=2, n_steps=10, k=2, progress=True)
    assert capsys.readouterr().err.count("hessian_spectrum:") == 4
    symhess.hessian_spectrum("erf", W, v, method="matrix_free", n_probes=2, n_steps=10, k=2)  # not a terminal
    assert capsys.readouterr().err == ""


def test_console_errors_are_one_line_end_to_end(tmp_path):
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for args, code in ((["derive", "-a", "erf", "-o", str(tmp_path / "missing" / "x.py")], 1),
                       (["report", "-a", "quadratic:eps=abc"], 2)):
        proc = subprocess.run([sys.executable, "-m", "symhess", *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        assert proc.returncode == code, proc.stderr
        assert proc.stdout == "" and proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: "), proc.stderr
