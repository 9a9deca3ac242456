"""``symhess paper``: a complete LaTeX document of the derived formulas (optionally compiled to PDF)."""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

import click

from ..activations.registry import split_top_level
from ._common import load_activation, main

__all__ = ["paper", "split_specs"]


def split_specs(text: str) -> list[str]:
    """Split ``"linear,quadratic:eps=0.5,poly:coeffs=[1,0.3]"`` at the commas outside brackets."""
    return [part.strip() for part in split_top_level(text) if part.strip()]


@main.command()
@click.option("--activations", "-a", "specs", default="linear,quadratic,erf,relu", show_default=True,
              help='Comma-separated activations, e.g. "linear,quadratic:eps=0.5,erf,relu".')
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("formulas.tex"),
              show_default=True, help="The .tex file to write.")
@click.option("--residual", is_flag=True, help="Also include the residual part away from the optimum.")
@click.option("--symbolic", is_flag=True, help="Keep activation parameters as symbols (epsilon, s, c_k).")
@click.option("--no-counting", is_flag=True, help="Leave out the counting rules.")
@click.option("--no-law", is_flag=True, help="Leave out the linear spectral law.")
@click.option("--pdf", is_flag=True,
              help="Also compile with pdflatex (in a temporary folder: only OUT.pdf is written next to OUT) "
                   "and check that every equation is in the PDF.")
def paper(specs: str, out: Path, residual: bool, symbolic: bool, no_counting: bool, no_law: bool, pdf: bool) -> None:
    """Write a complete .tex document: Hessian blocks per activation, counting rules, linear law.

    Example: ``symhess paper --activations linear,quadratic,erf,relu --out formulas.tex --pdf``.
    """
    from ..export.document import paper_document, symbolic_activation
    from ..export.engine import LatexCompileError, compile_latex

    acts = [load_activation(spec) for spec in split_specs(specs)]
    if not acts:
        raise click.BadParameter("no activation given", param_hint="--activations")
    if symbolic:
        acts = [symbolic_activation(a) for a in acts]
    from ..two_layer.blocks import derive_blocks

    parts = ["gauss_newton"] + (["residual"] if residual else [])
    jobs = [(a, part) for a in acts for part in parts]
    with click.progressbar(jobs, label="deriving", file=sys.stderr,
                           item_show_func=lambda j: "" if j is None else f"{j[0].spec} ({j[1]})") as bar:
        for act, part in bar:
            derive_blocks(act, part)  # cached: the document below reuses these derivations
    doc = paper_document(acts, residual=residual, counting=not no_counting, linear_law=not no_law,
                         symbolic=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(doc.tex, encoding="utf-8")
    click.echo(f"wrote {out}: {len(doc.equations)} equations, activations {', '.join(a.spec for a in acts)}")
    if not pdf:
        return
    click.echo("compiling the PDF (two LaTeX runs) ...", err=True)
    with tempfile.TemporaryDirectory(prefix="symhess-paper-") as tmp:  # .aux/.log stay out of the user's folder
        try:
            res = compile_latex(out, out_dir=tmp)
        except LatexCompileError as exc:
            raise click.ClickException(str(exc)) from exc
        pdf_path = out.with_suffix(".pdf")
        shutil.copyfile(res.pdf, pdf_path)
        res = dataclasses.replace(res, pdf=pdf_path)
    click.echo(f"compiled {res.pdf} ({res.pages} pages)")
    if res.text is None:
        click.echo("pdftotext not found (poppler-utils): equations not checked in the PDF", err=True)
        return
    missing = res.missing_equations(doc.labels)
    if missing:
        raise click.ClickException(f"{len(missing)} equations missing from the PDF: {missing}")
    click.echo(f"all {len(doc.labels)} equations are in the PDF")
