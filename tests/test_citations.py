"""Library code speaks of the mathematics: no ticket numbers or specification sections under symhess/.

Papers are cited by authors and equation/figure/theorem numbers instead (``Couto et al., eq. (14)``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "symhess"

#: patterns that cite the project's tracker or its internal specification rather than the mathematics
FORBIDDEN = {
    "ticket number": re.compile(r"\bissues?\s+#?\d", re.IGNORECASE),
    "ticket reference": re.compile(r"\(issue\b", re.IGNORECASE),
    "section sign": re.compile("\u00a7"),
    "specification file": re.compile(r"formulas\.md"),
    "specification section": re.compile(r"\bspec(?:'s)?\s+(?:§|[A-C]\d|section|part)", re.IGNORECASE),
    "specification part": re.compile(r"\bPart [ABC]\b"),
    "seed document": re.compile(r"\bseed \d{3}\b"),
}


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*") if p.suffix in {".py", ".md", ".txt", ".tex", ".rst"})


def test_the_patterns_can_fail():
    """Each pattern catches the kind of citation it is for (the test can fail)."""
    samples = {
        "ticket number": "as in issue 13", "ticket reference": "(issue three)", "section sign": "see \u00a7A6",
        "specification file": "formulas.md", "specification section": "spec A4: rank",
        "specification part": "formulas Part B", "seed document": "slides, seed 002",
    }
    for name, text in samples.items():
        assert FORBIDDEN[name].search(text), name
    assert not any(p.search("Couto et al., eq. (14); Pennington & Bahri (2017), Fig. 1") for p in FORBIDDEN.values())


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_library_cites_papers_not_tickets(name):
    pattern = FORBIDDEN[name]
    hits = []
    for path in _sources():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT.parent)}:{lineno}: {line.strip()}")
    assert not hits, f"{name} in library code (cite the paper instead):\n" + "\n".join(hits)
