"""``symhess derive``: the Hessian blocks of one activation as LaTeX, SymPy, Python source or Markdown."""

from __future__ import annotations

from pathlib import Path

import click

from ..two_layer.templates import BLOCK_NAMES
from ._common import activation_option, load_activation, main

__all__ = ["derive"]

_FORMATS = ("latex", "sympy", "python", "markdown")
_BLOCKS = BLOCK_NAMES


@main.command()
@activation_option()
@click.option("--block", "-b", default=None, metavar="|".join(_BLOCKS),
              help="One Hessian block (WW, Wv or vv); all blocks when omitted.")
@click.option("--format", "-f", "fmt", default="latex", show_default=True, metavar="|".join(_FORMATS),
              help="Output format: latex, sympy, python or markdown.")
@click.option("--part", type=click.Choice(["gauss_newton", "residual"]), default="gauss_newton",
              show_default=True, help="The Hessian at the optimum, or its residual part away from it.")
@click.option("--symbolic", is_flag=True,
              help="Keep the activation's parameters as symbols (epsilon, s, c_k).")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def derive(activation: str, block: str | None, fmt: str, part: str, symbolic: bool, out: Path | None) -> None:
    """Derive the expected-Hessian block formulas and print them in one format.

    Examples: ``symhess derive -a quadratic --block WW --format latex``,
    ``symhess derive -a erf -f python -o erf_blocks.py``.
    """
    from ..export.document import symbolic_activation
    from ..export.formats import format_blocks

    if fmt not in _FORMATS:
        raise click.BadParameter(f"unknown format {fmt!r}; formats: {', '.join(_FORMATS)}", param_hint="--format")
    if block is not None and block not in _BLOCKS:
        raise click.BadParameter(f"unknown block {block!r}; blocks: {', '.join(_BLOCKS)}", param_hint="--block")
    act = load_activation(activation)
    if symbolic:
        act = symbolic_activation(act)
    text = format_blocks(act, block, fmt, part=part)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}")
