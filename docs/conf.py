"""Sphinx configuration of the symhess documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (``pip install -e ".[docs]"``).
The formula pages, the derivations gallery and the API index are generated at build time by the
local extension ``_ext/symhess_docs.py`` (see its docstring).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import symhess  # noqa: E402

project = "symhess"
author = "the symhess developers"
copyright = "2026, the symhess developers"
release = symhess.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
    "symhess_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "gallery/generated/*/**", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
smartquotes = False  # keep "--quick" and quotes in docstrings as written
# "more than one target found" for a word of a numpydoc type ("W : ndarray, shapes ...") is a
# link ambiguity, not a documentation error; unresolved references are not reported (not nitpicky)
suppress_warnings = ["ref.python"]

# MyST: $...$ and $$...$$ (label) math, amsmath environments, heading anchors for links
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# numpydoc-style docstrings through napoleon
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True
napoleon_use_rtype = False

autosummary_generate = True
autosummary_imported_members = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": True}

math_eqref_format = "({number})"
math_numfig = True

html_theme = "alabaster"
html_title = f"symhess {release}"
html_theme_options = {
    "description": "Symbolic-numeric Hessians of neural-network losses near their optimum",
    "fixed_sidebar": True,
    "page_width": "1200px",
    "sidebar_width": "260px",
}
html_static_path: list[str] = []
