"""Numeric-only results load no SymPy: each call runs in a fresh interpreter that then checks ``sys.modules``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: calls whose answer is a number computed from arrays or generated code
NUMERIC_CALLS = [
    "import symhess",
    "symhess.linear_spectrum_law(10, 20).cdf(1.0)",
    "symhess.linear_spectrum_law(10, 20).pdf(0.5)",
    "symhess.pennington_bahri(0.5, 0.1).index()",
    "symhess.pennington_bahri(0.5, 0.1, activation='relu_block').cdf(1.0)",
    "symhess.pennington_bahri(0.5, 0.1).critical_energy",
    "symhess.critical_energy(0.5, 'relu_block')",
    "symhess.DeepLinearUFM(3, 4, 6, 2).optimum()",
    "symhess.teacher(5, 3, rng=0)",
    "symhess.slq_density(__import__('numpy').eye(4), n_probes=2, n_steps=3, rng=0)",
]


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = f"import sys, symhess\n{code}\nprint('sympy' in sys.modules)\n"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("code", NUMERIC_CALLS)
def test_numeric_result_loads_no_sympy(code):
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False", f"{code} loaded SymPy"


def test_the_check_can_fail():
    """A symbolic result does load SymPy, and the check sees it."""
    out = _run("symhess.critical_energy(0.5, symbolic=True)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "True"
