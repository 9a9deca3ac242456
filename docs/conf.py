"""Sphinx configuration of the symhess documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (``pip install -e ".[docs]"``).
The formula pages, the derivations gallery and the API index are generated at build time by the
local extension ``_ext/symhess_docs.py`` (see its docstring).
"""

from __future__ import annotations

import os
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
    "sphinx_design",
    "symhess_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "gallery/generated/*/**", "gallery/generated/cards.md", "Thumbs.db", ".DS_Store"]
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

# MathJax is served from the site itself, never from a CDN: the pages render their formulas on a
# machine without network access. symhess_docs copies MathJax 3 (from the sphinx-mathjax-offline
# package, a docs/test dependency) to _static/mathjax/ and points mathjax_path there.
mathjax3_config = {"chtml": {"matchFontHeight": False}}

# pydata-sphinx-theme (NumPy, SciPy, pandas): light/dark mode, wide content, version switcher.
html_theme = "pydata_sphinx_theme"
html_title = f"symhess {release}"
html_static_path = ["_static"]
html_css_files = ["symhess.css"]
html_show_sourcelink = False
# top-level pages and the gallery have no section navigation: they use the full width
html_sidebars = {"*": [], "gallery/index": []}
html_context = {"default_mode": "auto"}  # follow the reader's system setting
html_theme_options = {
    "logo": {"text": f"symhess {release}"},
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    # "On this page" on every page but the landing page and the gallery (their cards get the width)
    "secondary_sidebar_items": {"**": ["page-toc"], "index": [], "gallery/index": []},
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "pygments_light_style": "default",
    "pygments_dark_style": "github-dark",
}
# Version switcher, ready for a hosted site with several versions: set SYMHESS_DOCS_SWITCHER to the
# URL of a switcher.json (pydata-sphinx-theme's format) and the navbar gets the version menu.
if os.environ.get("SYMHESS_DOCS_SWITCHER"):
    html_theme_options["switcher"] = {"json_url": os.environ["SYMHESS_DOCS_SWITCHER"], "version_match": release}
    html_theme_options["navbar_end"] = ["version-switcher", *html_theme_options["navbar_end"]]
