"""``symhess paper`` compiles with a real LaTeX engine and every equation is in the PDF.

The check does not trust the generator: the labels are read from the written ``.tex`` file, their
numbers from the ``.aux`` file LaTeX writes, and each number must be set as a tag ``(n)`` at the end
of a line of the PDF's text (``pdftotext -layout``), in order. CI installs the engine
(``.ci/run``: Debian's texlive-latex-base, texlive-latex-recommended, poppler-utils); the tests
are skipped only where no engine or no ``pdftotext`` is installed.
"""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from symhess.cli import main
from symhess.export import LatexCompileError, compile_latex, find_latex_engine, paper_document

pytestmark = [
    pytest.mark.skipif(find_latex_engine() is None,
                       reason="no LaTeX engine (pdflatex/lualatex/xelatex) on PATH; "
                              "Debian: apt-get install texlive-latex-base texlive-latex-recommended"),
    pytest.mark.skipif(shutil.which("pdftotext") is None,
                       reason="pdftotext not on PATH; Debian: apt-get install poppler-utils"),
]


def _labels_in(tex: str) -> list[str]:
    return re.findall(r"\\label\{(eq:[^}]*)\}", tex)


def _assert_every_equation_in_pdf(tex: str, res) -> None:
    labels = _labels_in(tex)
    n_envs = tex.count(r"\begin{equation}")
    assert len(labels) == n_envs == len(set(labels)) > 0
    numbers = [res.labels.get(lab) for lab in labels]
    assert numbers == [str(n) for n in range(1, n_envs + 1)], "equations not numbered 1..N in order"
    # every tag appears, in order, at the end of a line of the PDF text
    expected = 1
    for tag in res.equation_tags:
        if tag == str(expected):
            expected += 1
    assert expected == n_envs + 1, f"tag ({expected}) of {n_envs} not found in the PDF text"
    assert res.missing_equations(labels) == []
    assert not [w for w in res.warnings if w.startswith("Overfull")], "an equation runs off the page"


def test_symhess_paper_compiles_and_the_pdf_has_every_equation(tmp_path):
    out = tmp_path / "formulas.tex"
    res = CliRunner().invoke(main, ["paper", "--activations", "linear,quadratic,erf,relu", "--out", str(out),
                                    "--pdf"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    tex = out.read_text()
    n = len(_labels_in(tex))
    assert f"all {n} equations are in the PDF" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["formulas.pdf", "formulas.tex"]  # no .aux/.log left
    compiled = compile_latex(out, out_dir=tmp_path / "again")  # and by our own hand
    _assert_every_equation_in_pdf(tex, compiled)
    assert compiled.pages >= 2


def test_full_document_with_every_activation_residual_and_symbols_compiles(tmp_path):
    doc = paper_document(["linear", "quadratic", "erf", "erf:scale=sqrt(2)/2", "relu", "tanh",
                          "poly:coeffs=[1,0.3,0.2]"], residual=True, symbolic=True)
    res = compile_latex(doc.tex, out_dir=tmp_path)
    _assert_every_equation_in_pdf(doc.tex, res)
    assert _labels_in(doc.tex) == doc.labels


def test_the_check_catches_a_lost_equation(tmp_path):
    doc = paper_document(["linear"], counting=False, linear_law=False)
    lost = doc.equations[3]
    envs = re.findall(r"\\begin\{equation\}.*?\\end\{equation\}", doc.tex, re.S)
    victim = next(e for e in envs if lost.label in e)
    # the equation is still written, but unnumbered: the label gets no tag in the PDF
    tex = doc.tex.replace(victim, victim.replace("equation}", "equation*}").replace(rf"\label{{{lost.label}}}", ""))
    res = compile_latex(tex, out_dir=tmp_path)
    assert res.missing_equations(doc.labels) == [lost.label]


def test_a_broken_document_raises_with_the_log_error(tmp_path):
    doc = paper_document(["linear"], counting=False, linear_law=False)
    with pytest.raises(LatexCompileError, match=r"(?s)failed on document\.tex:\n\S*document\.tex:\d+: Undefined control sequence.*deltaa"):
        compile_latex(doc.tex.replace(r"\delta_{jl}", r"\deltaa_{jl}", 1), out_dir=tmp_path)
