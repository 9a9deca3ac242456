"""``symhess derive`` in its four formats, ``symhess paper`` writing a document, and bad input.

Each format is read back by an independent reader and compared with the derived expression at a
point: ``sympy`` lines by :func:`sympy.sympify`, ``python`` source by executing it, ``markdown``
math by :func:`symhess.parse_paper_latex`. The quadrature fallback in the Python source (tanh) is
compared with a direct two-dimensional mpmath integral of the Gaussian expectation.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from scipy import integrate

import symhess
from symhess.cli import main
from symhess.export import parse_paper_latex
from symhess.export.formats import BLOCKS, FORMATS, format_blocks

#: values by symbol name, inside the domain of every formula (|Q_ik| < sqrt(Q_ii Q_kk))
POINT = {"Q_ii": 1.3, "Q_kk": 0.7, "Q_ik": -0.4, "W_ij": 0.5, "W_il": -1.25, "W_kj": 2.0, "W_kl": 0.75,
         "v_i": 1.5, "v_k": -0.8, "delta_jl": 1}


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _entries(spec: str, block: str) -> dict[str, sp.Expr]:
    blk = symhess.derive_blocks(spec)[block]
    return {f"H_{block}_ik": blk.entry, f"H_{block}_ii": blk.diagonal_entry}


def _at_point(expr: sp.Expr) -> float:
    return float(sp.N(expr.subs({s: POINT[s.name] for s in expr.free_symbols}), 30))


@pytest.mark.parametrize("spec", ["quadratic:eps=0.5", "erf", "relu"])
def test_sympy_format_reads_back_with_sympify(spec):
    res = _run("derive", "-a", spec, "-f", "sympy")
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 2 * len(BLOCKS)
    source = {k: v for b in BLOCKS for k, v in _entries(spec, b).items()}
    for line in lines:
        name, text = (part.strip() for part in line.split("=", 1))
        back = sp.sympify(text)
        assert abs(_at_point(back) - _at_point(source[name])) < 1e-12 * (1 + abs(_at_point(source[name]))), line


@pytest.mark.parametrize("spec", ["quadratic", "erf:scale=0.5", "relu"])
def test_python_format_runs_and_equals_the_formula(spec, tmp_path):
    out = tmp_path / "blocks.py"
    res = _run("derive", "-a", spec, "-f", "python", "-o", str(out))
    assert res.exit_code == 0 and "wrote" in res.output, res.output
    namespace: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)
    for block in BLOCKS:
        for name, expr in _entries(spec, block).items():
            args = {s.name: POINT[s.name] for s in expr.free_symbols}
            got = float(namespace[name](**args))
            assert abs(got - _at_point(expr)) < 1e-12 * (1 + abs(got)), name


def test_python_format_quadrature_fallback_matches_a_direct_integral():
    namespace: dict = {}
    exec(format_blocks("tanh", "vv", "python"), namespace)
    qii, qkk, qik = POINT["Q_ii"], POINT["Q_kk"], POINT["Q_ik"]
    # (h_i, h_k) = (a x, b x + d y) with x, y independent standard normals; adaptive quadrature
    a = np.sqrt(qii)
    b = qik / a
    d = np.sqrt(qkk - b**2)
    gauss = lambda t: np.exp(-t**2 / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    direct, _ = integrate.dblquad(lambda y, x: np.tanh(a * x) * np.tanh(b * x + d * y) * gauss(x) * gauss(y),
                                  -10, 10, -10, 10, epsabs=1e-12, epsrel=1e-12)
    diag, _ = integrate.quad(lambda x: np.tanh(a * x) ** 2 * gauss(x), -10, 10, epsabs=1e-13, epsrel=1e-13)
    with pytest.warns(symhess.QuadratureWarning):
        assert abs(float(namespace["H_vv_ik"](Q_ii=qii, Q_ik=qik, Q_kk=qkk)) - direct) < 1e-9
        assert abs(float(namespace["H_vv_ii"](Q_ii=qii)) - diag) < 1e-9


def test_markdown_format_math_parses_back():
    res = _run("derive", "-a", "erf", "-b", "WW", "-f", "markdown")
    assert res.exit_code == 0, res.output
    maths = re.findall(r"^\$\$\n(.*?)\n\$\$$", res.output, re.S | re.M)
    assert len(maths) == 4  # two determinant definitions, the i != k and the k = i entry
    source = _entries("erf", "WW")
    for math, name in zip(maths[2:], source):
        rhs = math.split("=", 1)[1].replace(r"\qquad (i \neq k)", "")
        back = parse_paper_latex(rhs)  # Delta-tilde takes its default meaning for erf(z)
        assert abs(_at_point(back) - _at_point(source[name])) < 1e-12, name


def test_latex_format_is_the_exporter_with_the_spec_as_label_prefix():
    res = _run("derive", "-a", "quadratic", "--block", "WW", "--format", "latex")
    assert res.exit_code == 0, res.output
    assert res.output.strip() == symhess.to_latex(symhess.derive_blocks("quadratic")["WW"],
                                                  label_prefix="quadratic:eps=1")
    assert re.findall(r"\\label\{([^}]*)\}", res.output) == ["eq:quadratic-eps-1-WW-ik", "eq:quadratic-eps-1-WW-ii"]


def test_symbolic_flag_keeps_epsilon():
    res = _run("derive", "-a", "quadratic", "-b", "vv", "-f", "sympy", "--symbolic")
    assert res.exit_code == 0 and "epsilon" in res.output, res.output


def test_paper_writes_a_document_with_every_requested_section(tmp_path):
    out = tmp_path / "sub" / "f.tex"
    res = _run("paper", "--activations", "linear,quadratic:eps=0.5,poly:coeffs=[1,0.3]", "--out", str(out),
               "--no-law")
    assert res.exit_code == 0, res.output
    tex = out.read_text()
    n = len(re.findall(r"\\begin\{equation\}", tex))
    assert f"wrote {out}: {n} equations" in res.output
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert "poly:coeffs=[1,3/10]" in res.output and r"\label{eq:count-quadratic}" in tex
    assert "Spectrum of the linear network" not in tex


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["derive", "-a", "erf", "--block", "XX"], "unknown block 'XX'; blocks: WW, Wv, vv"),
    (["derive", "-a", "erf", "--format", "pdf"], "unknown format 'pdf'; formats: latex, sympy, python, markdown"),
    (["derive", "-a", "erff"], "unknown activation 'erff'; known: ['abrelu', 'abs', 'cos', 'erf', "),
    (["paper", "--activations", "linear,foo"], "unknown activation 'foo'"),
    (["paper", "--activations", " , "], "no activation given"),
])
def test_cli_bad_input_is_a_usage_error_listing_what_exists(args, message):
    res = _run(*args)
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_api_bad_block_and_format_list_what_exists():
    with pytest.raises(ValueError, match=r"unknown block 'vW'; blocks: \['WW', 'Wv', 'vv'\]"):
        format_blocks("erf", "vW")
    with pytest.raises(ValueError, match=r"unknown format 'tex'; formats: \['latex', 'sympy', 'python', 'markdown'\]"):
        format_blocks("erf", "vv", "tex")
    assert FORMATS == ("latex", "sympy", "python", "markdown")


def test_markdown_labels_are_myst_equation_labels():
    from symhess.export.formats import markdown_equations

    eqs = symhess.export.block_equations(symhess.derive_blocks("erf"), label_prefix="erf")
    text = markdown_equations(eqs, label=True)
    assert re.findall(r"^\$\$ \(([^)]*)\)$", text, re.M) == [eq.label.replace(":", "-") for eq in eqs]
    assert "$$ (" not in markdown_equations(eqs)  # plain Markdown (GitHub, MathJax) gets no labels
