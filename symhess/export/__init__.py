"""Export of derived formulas: paper-notation LaTeX, its parser, documents, Markdown and Python source.

Place in the package: outputs, export (may import every stage to its left).

* :func:`to_latex` — LaTeX of an expression, of Hessian blocks, of counting rules and spectral laws;
* :func:`parse_paper_latex` — the inverse: LaTeX in the paper's notation to symhess's symbols;
* :func:`paper_document` — a complete, compilable ``.tex`` document;
* :func:`format_blocks` — one block as LaTeX, SymPy, Python source or Markdown.
"""

from .latex import (
    EXPORTERS, Equation, PaperLatexPrinter, abbreviate, block_equations, export_equations, latex_expr,
    register_exporter, render_equations, to_latex,
)
from .document import DEFAULT_ACTIVATIONS, PaperDocument, paper_document, symbolic_activation
from .engine import CompiledDocument, LatexCompileError, compile_latex, find_latex_engine
from .notation import Determinant, find_determinant
from .parse import PAPER_INDEX_ALIASES, PaperLatexError, parse_paper_latex
from .rules import COUNTING_RULES, CountingRule, linear_law_formulas

__all__ = [
    "EXPORTERS", "Equation", "PaperLatexPrinter", "abbreviate", "block_equations", "export_equations",
    "latex_expr", "register_exporter", "render_equations", "to_latex",
    "DEFAULT_ACTIVATIONS", "PaperDocument", "paper_document", "symbolic_activation",
    "CompiledDocument", "LatexCompileError", "compile_latex", "find_latex_engine",
    "Determinant", "find_determinant",
    "COUNTING_RULES", "CountingRule", "linear_law_formulas",
    "PAPER_INDEX_ALIASES", "PaperLatexError", "parse_paper_latex",
]
