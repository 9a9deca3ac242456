"""Checking a user's derivation: formulas and counting conjectures against symhess, with counterexamples.

Place in the package: outputs, checking (may import every stage except ``sweep`` and ``cli``).

* :func:`check_formula` — one entry of a Hessian block (``WW``, ``Wv``, ``vv``; at the optimum or
  the residual part) given in LaTeX or SymPy, against :func:`symhess.derive_blocks`;
* :func:`check_expectation` — a Gaussian expectation :math:`E[\\sigma^{(a)}(u)\\sigma^{(b)}(v)]`
  in :math:`(q_1, q_2, c)`, against :func:`symhess.pair_expectation`;
* :func:`check_count` — a counting rule for the Hessian rank against exact ranks, searched and
  shrunk with hypothesis.

The naming convention for formulas is in :mod:`symhess.check.notation`; how equality is decided
(symbolic, else randomized identity testing with a stated failure probability) in
:mod:`symhess.check.identity`.
"""

from .count import CountCheck, SizeResult, check_count
from .formula import BLOCKS, PAIRS, PARTS, FormulaCheck, check_expectation, check_formula
from .identity import TermDiff
from .notation import IndexConvention, NotationError, ParsedFormula, parse_formula

__all__ = [
    "check_formula", "check_expectation", "check_count", "FormulaCheck", "CountCheck", "SizeResult",
    "TermDiff", "NotationError", "IndexConvention", "ParsedFormula", "parse_formula", "BLOCKS", "PARTS",
    "PAIRS",
]
