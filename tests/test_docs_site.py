"""The documentation site builds with warnings as errors, with generated formula pages and gallery.

The build runs every derivation script in quick mode for the gallery (about a minute on two idle
cores); it is part of the default test run, so CI (``.ci/run``, the README's test command) builds the
site with ``-W`` every time.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _extension():
    """docs/_ext/symhess_docs.py, the extension that generates pages (needs Sphinx)."""
    if importlib.util.find_spec("sphinx") is None:
        pytest.skip('sphinx not installed: pip install -e ".[docs]"')
    spec = importlib.util.spec_from_file_location("symhess_docs", ROOT / "docs" / "_ext" / "symhess_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_docstrings_become_valid_rst():
    """Docstrings written without RST in mind (``|v|^2``, ``chi^2_Nh``) are escaped, never a -W failure."""
    ext = _extension()
    assert ext._safe_rst("plain ``code`` and :math:`x^2`") == "plain ``code`` and :math:`x^2`"
    escaped = ext._safe_rst("the shift |v|^2 and *emphasis and ``--quick``")
    assert escaped == r"the shift \|v\|^2 and \*emphasis and ``--quick``" and not ext._rst_problems(escaped)
    escaped = ext._safe_rst("a_b_ and |v| and `x")
    assert escaped == r"a\_b\_ and \|v\| and \`x" and not ext._rst_problems(escaped)
    for script in sorted((ROOT / "derivations").glob("[0-9][0-9]_*.py")):
        title, body = ext._docstring(script)
        assert title and not ext._rst_problems(ext._safe_rst(body)), script.name


def test_docs_build_with_warnings_as_errors(tmp_path):
    if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_parser") is None:
        pytest.fail('sphinx/myst-parser not installed: they are in the test extra, pip install -e ".[test]"')
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(ROOT / "docs"), str(out), "-d", str(tmp_path / "doctrees")],
                          capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    # the formula pages come from the exporter: the erf page shows the determinant and every block
    erf = (out / "math" / "generated" / "blocks-erf.html").read_text()
    for label in ("eq-erf-Delta-ik", "eq-erf-WW-ik", "eq-erf-Wv-ii", "eq-erf-vv-ik", "eq-erf-res-WW-ik"):
        assert f'id="equation-{label.lower()}"' in erf, label
    # every derivation has a gallery page that ran and shows its figures
    for script in sorted((ROOT / "derivations").glob("[0-9][0-9]_*.py")):
        page = (out / "gallery" / "generated" / f"{script.stem}.html").read_text()
        assert "passed its asserts" in page, script.name
        for fig in re.findall(r'<img [^>]*src="([^"]+)"', page):
            assert (out / "gallery" / "generated" / fig).resolve().is_file(), fig
    # the API reference documents every exported name
    import symhess

    for name in symhess._EXPORTS:
        assert (out / "api" / "generated" / f"symhess.{name}.html").is_file(), name
