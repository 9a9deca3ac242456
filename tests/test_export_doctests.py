"""The examples in the docstrings of ``symhess.export`` run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["symhess.export.latex", "symhess.export.parse", "symhess.export.document", "symhess.export.formats",
           "symhess.export.rules", "symhess.export.notation", "symhess.export.engine"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
