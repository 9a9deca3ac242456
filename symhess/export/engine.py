r"""Compile a LaTeX document with a real engine and check that every equation made it into the PDF.

Place in the package: outputs, export. Used by ``symhess paper --pdf`` and by the tests. Needs a
TeX installation (Debian: ``texlive-latex-base``; CI installs it) and, for the text check,
``pdftotext`` (Debian: ``poppler-utils``).

The check is independent of the generator: equation numbers are read from the ``.aux`` file that
LaTeX writes (``\newlabel{eq:...}{{7}{2}}``), and each number must appear as ``(7)`` in the text
that ``pdftotext`` extracts from the PDF.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import SymhessError

__all__ = ["LatexCompileError", "CompiledDocument", "find_latex_engine", "compile_latex", "ENGINES"]

#: engines tried in order
ENGINES = ("pdflatex", "lualatex", "xelatex")


class LatexCompileError(SymhessError, RuntimeError):
    """The LaTeX engine failed; the message carries the first error lines of its log."""


@dataclass(frozen=True)
class CompiledDocument:
    """A compiled document: where the PDF is, its equation numbers and its text.

    Attributes
    ----------
    pdf : pathlib.Path
        The PDF file.
    labels : dict
        Label -> equation number, read from the ``.aux`` file.
    text : str or None
        The PDF's text from ``pdftotext`` (``None`` when it is not installed).
    log : str
        The engine's log of the last run.
    pages : int
        Number of pages.
    """

    pdf: Path
    labels: dict[str, str]
    text: str | None
    log: str
    pages: int
    warnings: list[str] = field(default_factory=list)

    @property
    def equation_tags(self) -> list[str]:
        """The equation numbers set in the PDF: ``(n)`` at the end of a line of ``pdftotext -layout`` text.

        Raises
        ------
        RuntimeError
            If the PDF text is unavailable (``pdftotext`` missing).
        """
        if self.text is None:
            raise RuntimeError("pdftotext is not installed (Debian package poppler-utils); cannot read the PDF")
        return re.findall(r"\((\d+)\)[ \t]*$", self.text, re.M)

    def missing_equations(self, labels: Iterable[str]) -> list[str]:
        """The labels among ``labels`` that have no number, or whose number is not set as a tag in the PDF.

        A label counts as present when LaTeX gave it a number (``.aux``), no other label has the same
        number, and ``(number)`` ends a line of the PDF's text (where amsmath sets equation tags).

        Raises
        ------
        RuntimeError
            If the PDF text is unavailable (``pdftotext`` missing).
        """
        tags = set(self.equation_tags)
        labels = list(labels)
        numbers = [self.labels.get(lab) for lab in labels]
        return [
            lab for lab, num in zip(labels, numbers)
            if num is None or num not in tags or numbers.count(num) > 1
        ]


def find_latex_engine(preferred: Iterable[str] = ENGINES) -> str | None:
    """The path of the first LaTeX engine found on ``PATH``, or ``None``."""
    for name in preferred:
        path = shutil.which(name)
        if path:
            return path
    return None


def _log_errors(log: str) -> str:
    """The first error of a TeX log (``! ...``, or ``file:line: ...`` with ``-file-line-error``)."""
    lines = log.splitlines()
    hits = [n for n, line in enumerate(lines) if line.startswith("!") or re.match(r"^\S.*?:\d+: ", line)]
    if not hits:
        return "\n".join(lines[-20:])
    n = hits[0]
    return "\n".join(lines[n:n + 8])


def compile_latex(
    tex: str | Path, *, out_dir: str | Path | None = None, engine: str | None = None, timeout: float = 180.0
) -> CompiledDocument:
    r"""Compile a ``.tex`` file (or LaTeX source) to PDF, running the engine twice to resolve labels.

    Parameters
    ----------
    tex : str or pathlib.Path
        A path to a ``.tex`` file, or the LaTeX source itself (it contains ``\documentclass``).
    out_dir : path, optional
        Where the PDF and auxiliary files go (default: next to the ``.tex`` file, or a temporary
        directory for source text).
    engine : str, optional
        Engine name or path; default :func:`find_latex_engine`.
    timeout : float
        Seconds per engine run.

    Raises
    ------
    LatexCompileError
        If no engine is installed or compilation fails (with the log's first error).
    """
    engine = engine or find_latex_engine()
    if engine is None:
        raise LatexCompileError(
            f"no LaTeX engine found (tried {', '.join(ENGINES)}); on Debian: "
            "apt-get install texlive-latex-base"
        )
    if isinstance(tex, str) and r"\documentclass" in tex:
        out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="symhess-tex-"))
        out.mkdir(parents=True, exist_ok=True)
        path = out / "document.tex"
        path.write_text(tex, encoding="utf-8")
    else:
        path = Path(tex).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no such .tex file: {path}")
        out = Path(out_dir) if out_dir else path.parent
        out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    cmd = [engine, "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           f"-output-directory={out}", str(path)]
    log = ""
    for _ in range(2):  # the second run resolves labels and references
        try:
            proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, errors="replace",
                                  env={**os.environ, "max_print_line": "10000"})  # unwrapped log lines
        except subprocess.TimeoutExpired as exc:
            raise LatexCompileError(f"{Path(engine).name} did not finish within {timeout} s") from exc
        logfile = out / (path.stem + ".log")
        log = logfile.read_text(errors="replace") if logfile.exists() else proc.stdout
        if proc.returncode != 0:
            raise LatexCompileError(f"{Path(engine).name} failed on {path.name}:\n{_log_errors(log)}")
    pdf = out / (path.stem + ".pdf")
    aux = out / (path.stem + ".aux")
    labels = {}
    if aux.exists():
        for m in re.finditer(r"\\newlabel\{([^}]*)\}\{\{([^}]*)\}", aux.read_text(errors="replace")):
            labels[m.group(1)] = m.group(2)
    pages_m = re.search(r"Output written on .*?\((\d+) pages?", log, re.S)
    text = None
    if shutil.which("pdftotext"):
        res = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                             timeout=timeout, errors="replace")
        text = res.stdout if res.returncode == 0 else None
    warnings = [line for line in log.splitlines() if "Warning" in line or line.startswith("Overfull")]
    return CompiledDocument(pdf, labels, text, log, int(pages_m.group(1)) if pages_m else 0, warnings)
