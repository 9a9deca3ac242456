"""``symhess check``: check a formula or a counting rule against symhess, with counterexamples.

Exit status: 0 when the formula or rule agrees, 1 on a mismatch (the report gives the smallest
counterexample, both values and the command that reproduces it), 2 for bad input.
"""

from __future__ import annotations

import shlex
import sys

import click

from ._common import main, parse_range

__all__ = ["check"]


def _size_range(text: str, name: str) -> tuple[int, int]:
    """A contiguous range of sizes (``5``, ``1..6``, ``1-6`` or ``1:6``) as ``(low, high)``."""
    sizes = parse_range(text, name)
    if sizes != list(range(sizes[0], sizes[-1] + 1)):
        raise click.BadParameter(f"{text!r}: --count searches a contiguous range such as 1..6, not a list",
                                 param_hint=name)
    return sizes[0], sizes[-1]


def _definitions(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, body = item.partition("=")
        if not sep or not name.strip() or not body.strip():
            raise click.BadParameter(f"{item!r} must be NAME=FORMULA, e.g. '\\tilde\\Delta=(1+2Q_{{ii}})(1+2Q_{{kk}})-4Q_{{ik}}^2'",
                                     param_hint="--define")
        out[name.strip()] = body.strip()
    return out


def _orders(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(x) for x in text.replace(" ", "").split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r} must be 'a,b' or 'a,b,m' (derivative orders)", param_hint="--expectation") from None
    if len(out) not in (2, 3) or min(out) < 0:
        raise click.BadParameter(f"{text!r} must be 'a,b' or 'a,b,m' with nonnegative orders", param_hint="--expectation")
    return out


@main.command()
@click.option("--latex", "latex_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="File holding the formula (LaTeX; math delimiters, equation environments, '\\label' and a "
                   "left-hand side 'H = ' are ignored). '-' reads standard input.")
@click.option("--formula", help="The formula as text instead of a file (LaTeX or SymPy syntax).")
@click.option("--syntax", type=click.Choice(["auto", "latex", "sympy"]), default="auto", show_default=True,
              help="How to read the formula.")
@click.option("--activation", "-a", required=True,
              help='Activation name or spec, e.g. "erf", "quadratic:eps=0.5", "poly:coeffs=[1,0.3,0.2]".')
@click.option("--block", type=click.Choice(["WW", "Wv", "vv"], case_sensitive=False),
              help="Hessian block whose entry the formula gives.")
@click.option("--part", type=click.Choice(["gauss_newton", "optimum", "residual"]), default="gauss_newton",
              show_default=True, help="At the optimum (Gauss-Newton part), or the residual part away from it.")
@click.option("--pair", type=click.Choice(["auto", "offdiagonal", "diagonal", "both"]), default="auto",
              show_default=True, help="Hidden units i != k, i = k, or both.")
@click.option("--indices", default="auto", show_default=True,
              help="Index letters: 'ij,kl' (symhess), 'jk,lm' (the paper) or 'auto'.")
@click.option("--define", multiple=True, metavar="NAME=FORMULA",
              help="An auxiliary quantity used in the formula (repeatable).")
@click.option("--expectation", metavar="A,B[,M]",
              help="Check E[sigma^(A)(u) sigma^(B)(v)] in (q1, q2, c) (or the one-variable E[(..)^(M)(h)] in q) "
                   "instead of a block entry.")
@click.option("--count", "count_rule", metavar="RULE",
              help="Check a counting rule for the Hessian rank, an expression in n_in, n_hidden.")
@click.option("--n-in", default="1..6", show_default=True, help="Sizes for --count: N or a range 1..6 (1-6, 1:6).")
@click.option("--n-hidden", default="1..8", show_default=True, help="Sizes for --count: N or a range 1..8 (1-8, 1:8).")
@click.option("--examples", default=60, show_default=True, type=click.IntRange(min=1),
              help="Hypothesis examples for --count.")
@click.option("--teachers", default=3, show_default=True, type=click.IntRange(min=1),
              help="Random teachers at a size whose rank falls below the rule (--count).")
@click.option("--exhaustive", is_flag=True, help="--count: try every size instead of a hypothesis search.")
@click.option("--points", default=24, show_default=True, type=click.IntRange(min=1),
              help="Random points per configuration when simplification does not decide.")
@click.option("--numeric", is_flag=True,
              help="Skip simplification: decide by random points only (Schwartz-Zippel bound for rational formulas).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random points / teachers.")
@click.option("--budget", default=5.0, show_default=True, type=float, help="Seconds for the symbolic step.")
def check(latex_file, formula, syntax, activation, block, part, pair, indices, define, expectation, count_rule,
          n_in, n_hidden, examples, teachers, exhaustive, points, numeric, seed, budget) -> None:
    """Check a hand-derived formula or counting rule against symhess.

    \b
    Examples:
      symhess check --latex vv.tex --activation erf --block vv
      symhess check --formula 'Q_{ik} + 2Q_{ik}^2 + Q_{ii}Q_{kk}' --activation quadratic --block vv
      symhess check --expectation 1,1 --formula '\\frac{4}{\\pi\\sqrt{(1+2q_1)(1+2q_2)-4c^2}}' -a erf
      symhess check --count 'n_in*(n_in+3)/2' --activation quadratic
    """
    from ..check import check_count, check_expectation, check_formula
    from ..errors import SymhessError

    modes = [m for m, on in (("--count", count_rule), ("--expectation", expectation), ("--block", block)) if on]
    if len(modes) != 1:
        raise click.UsageError("give exactly one of --block (a Hessian entry), --expectation A,B or --count RULE"
                               + (f"; got {' and '.join(modes)}" if modes else ""))
    args = ["--activation", shlex.quote(activation)]
    try:
        if count_rule:
            if latex_file or formula:
                raise click.UsageError("--count takes the rule itself; do not combine it with --latex/--formula")
            r_in, r_h = _size_range(n_in, "--n-in"), _size_range(n_hidden, "--n-hidden")
            result = check_count(count_rule, activation, n_in=r_in, n_hidden=r_h, examples=examples,
                                 teachers=teachers, exhaustive=exhaustive, seed=seed)
        else:
            if bool(latex_file) == bool(formula):
                raise click.UsageError("give the formula with exactly one of --latex FILE or --formula TEXT")
            if latex_file:
                text = sys.stdin.read() if latex_file == "-" else open(latex_file, encoding="utf-8").read()
                source = ["--latex", shlex.quote(latex_file)]
            else:
                text = formula
                source = ["--formula", shlex.quote(formula)]
            if syntax != "auto":
                source += ["--syntax", syntax]
            if expectation:
                orders = _orders(expectation)
                result = check_expectation(text, activation, orders, points=points, seed=seed, budget=budget,
                                           syntax=syntax, symbolic=not numeric)
                args += ["--expectation", ",".join(map(str, orders))]
            else:
                defs = _definitions(define)
                result = check_formula(text, activation, block, part=part, pair=pair, indices=indices,
                                       definitions=defs, points=points, seed=seed, budget=budget, syntax=syntax,
                                       symbolic=not numeric)
                args += ["--block", block, "--part", part, "--pair", pair]
                if indices != "auto":
                    args += ["--indices", shlex.quote(indices)]
                for item in define:
                    args += ["--define", shlex.quote(item)]
            if points != 24:
                args += ["--points", str(points)]
            if numeric:
                args += ["--numeric"]
            args += ["--seed", str(seed)]
            result.command = " ".join(["symhess", "check"] + source + args)
    except (SymhessError, ValueError, TypeError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(result.report())
    if not result.ok:
        sys.exit(1)
