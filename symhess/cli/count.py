"""``symhess count``: the counting rule's effective number of parameters against the measured Hessian rank.

One size::

    symhess count --activation quadratic --n-in 5 --n-hidden 3 --exact

A deep architecture (widths N_0,...,N_L), or several with --sweep (separated by ';')::

    symhess count -a poly:coeffs=[0,1] --widths 3,4,2,1 --exact
    symhess count -a poly:coeffs=[0,1] --sweep --widths "2,2,2;3,3,3;2,3,2,1" --exact --out deep_counts

A grid of sizes, written as CSV and Markdown tables (with a progress bar)::

    symhess count -a quadratic --sweep --n-in 1..6 --n-hidden 1..8 --exact --out counts

With biases (hidden, output or both; non-polynomial activations proved with --certify)::

    symhess count -a erf --n-in 3 --n-hidden 4 --bias both --certify
    symhess count -a relu --sweep --n-in 1..4 --n-hidden 1..5 --bias hidden --certify --out relu_bias

Several outputs, frozen groups (--train, a subset of W,v,b,b_out) and correlated inputs (--input-cov),
with or without biases::

    symhess count -a erf --n-in 3 --n-hidden 3 --bias both --n-out 2 --certify
    symhess count -a quadratic --n-in 4 --n-hidden 3 --bias hidden --input-cov diag:1,2,0.5,0 --exact
    symhess count -a relu --n-in 3 --n-hidden 3 --bias hidden --train W,b --certify

A student wider than its teacher, at a point of a family of global minima::

    symhess count -a erf --n-in 3 --n-teacher 2 --n-hidden 5 --kind zero --certify
    symhess count -a quadratic --sweep --n-in 1..4 --n-teacher 1..3 --n-hidden 1..6 --kind split --exact
"""

from __future__ import annotations

import csv
import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from ._architecture import Architecture, architecture_options, load_architecture
from ._common import InputError, _one_line, activation_option, load_activation, main, parse_range

__all__ = ["count", "parse_sizes", "parse_widths"]

COLUMNS = ("n_in", "n_teacher", "kind", "n_hidden", "n_params", "predicted", "rule", "rule_status", "measured", "measured_status",
           "route", "match", "float_tolerance", "gap_decades", "seconds")


def parse_sizes(text: str) -> list[int]:
    """Parse ``"5"``, ``"1..6"`` (also ``1-6``, ``1:6``), ``"2,4,8"`` or ``"1..4,10"``: see :func:`parse_range`."""
    return parse_range(text, "sizes")


def _parse_train(text: str | None, hidden_bias: bool, output_bias: bool) -> tuple[str, ...] | None:
    """``--train`` of ``symhess count``: a subset of W, v, b, b_out (b, b_out where the network has them),
    in parameter order; ``None`` when every group is trained."""
    from ..errors import SymhessError
    from ..two_layer.span_rank import as_groups

    if text is None:
        return None
    names = tuple(t.strip() for t in str(text).split(",") if t.strip())
    try:
        groups = as_groups(names, hidden_bias, output_bias)
    except (SymhessError, ValueError) as exc:
        raise click.BadParameter(_one_line(exc), param_hint="--train") from None
    return None if groups == as_groups(None, hidden_bias, output_bias) else groups


def _method(exact: bool, certify: bool) -> str:
    if exact and certify:
        raise click.UsageError("choose --exact (polynomials, over Q) or --certify (ball arithmetic), not both")
    return "exact" if exact else "certify" if certify else "float"


def _row(act, n_in: int, n_hidden: int, method: str, hidden_bias: bool, output_bias: bool, seed: int,
         route: str = "jacobian", n_teacher: int | None = None, kind: str | None = None,
         n_zero: int | None = None, arch: Architecture | None = None) -> dict:
    from ..two_layer.counting import effective_parameters, measure_rank, measure_wider_rank, rule_match

    t0 = time.perf_counter()
    if n_teacher is not None:
        kind = kind or "zero"
        pred = effective_parameters(act, n_in, n_hidden, n_teacher=n_teacher, kind=kind, n_zero=n_zero, measure=False)
        meas = measure_wider_rank(act, n_in, n_teacher, n_hidden, kind, n_zero=n_zero, method=method, rng=seed,
                                  route=route)
    else:
        kw = {} if arch is None else dict(n_out=arch.n_out, trainable=arch.trainable, input_cov=arch.input_cov)
        pred = effective_parameters(act, n_in, n_hidden, hidden_bias=hidden_bias, output_bias=output_bias,
                                    measure=False, **kw)
        meas = measure_rank(act, n_in, n_hidden, method=method, hidden_bias=hidden_bias, output_bias=output_bias,
                            rng=seed, route=route, **kw)
    match = rule_match(pred.value, pred.status, meas.rank, meas.status)
    return {
        "n_in": n_in, "n_teacher": "" if n_teacher is None else n_teacher, "kind": kind or "", "n_hidden": n_hidden, "n_params": pred.n_params, "predicted": pred.value, "rule": pred.rule,
        "rule_status": pred.status, "measured": meas.rank, "measured_status": meas.status, "route": meas.route,
        "match": match,
        "float_tolerance": "" if meas.tolerance is None else f"{meas.tolerance:.3g}",
        "gap_decades": "" if meas.gap_decades is None else f"{meas.gap_decades:.1f}",
        "seconds": f"{time.perf_counter() - t0:.3f}",
        "_pred": pred, "_meas": meas,
    }


DEEP_COLUMNS = ("widths", "n_params", "predicted", "rule", "rule_status", "symmetry_count", "measured",
                "measured_status", "route", "match", "seconds")


def parse_widths(text: str) -> list[tuple[int, ...]]:
    """Parse ``"3,4,2,1"`` or ``"2,2,2;3,3,3"`` into architectures (tuples of at least two positive ints)."""
    out = []
    for arch in str(text).split(";"):
        arch = arch.strip()
        if not arch:
            continue
        try:
            w = tuple(int(x) for x in arch.split(","))
        except ValueError as exc:
            raise click.BadParameter(f"{arch!r} is not a list of widths: use 3,4,2,1", param_hint="--widths") from exc
        if len(w) < 2 or min(w) < 1:
            raise click.BadParameter(f"{arch!r}: give at least two widths N_0,...,N_L, all >= 1", param_hint="--widths")
        out.append(w)
    if not out:
        raise click.BadParameter(f"{text!r} gives no architecture", param_hint="--widths")
    return out


def _deep_row(act, widths: tuple[int, ...], method: str, seed: int, hidden_bias: bool = False,
              output_bias: bool = False) -> dict:
    from ..deep.counting import deep_effective_parameters

    t0 = time.perf_counter()
    deep_method = {"exact": "exact", "certify": "certify", "float": "float"}[method]
    if method == "exact" and not act.is_polynomial:
        deep_method = "points" if act.name == "relu" else "certify"
    pred = deep_effective_parameters(act, widths, hidden_bias=hidden_bias, output_bias=output_bias, measure=True,
                                     method=deep_method, rng=seed)
    meas = pred.measured
    if meas.rank == pred.value:
        match = "yes"
    elif pred.status in ("upper bound", "conjecture") and meas.rank < pred.value:
        match = {"exact": "below bound", "lower bound": "lower bound"}.get(
            meas.status, "below bound (float64 rank; check with --exact or --certify)")
    elif meas.status == "numerical":
        match = "NO (float64 rank; check with --exact or --certify)"
    else:
        match = "NO"
    return {"widths": ",".join(map(str, widths)), "n_params": pred.n_params, "predicted": pred.value,
            "rule": pred.rule, "rule_status": pred.status, "symmetry_count": pred.symmetry_count,
            "measured": meas.rank, "measured_status": meas.status, "route": meas.route, "match": match,
            "seconds": f"{time.perf_counter() - t0:.3f}", "_pred": pred, "_meas": meas}


def _markdown(rows: list[dict], title: str, columns=COLUMNS) -> str:
    lines = [f"# {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(str(r[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


@main.command()
@activation_option(default="quadratic")
@click.option("--n-in", "n_in", default="5", show_default=True, help="Input dimension Ni (a range with --sweep: 1..6, 1-6, 1:6 or 2,4,8).")
@click.option("--n-hidden", "n_hidden", default="3", show_default=True, help="Hidden width Nh (a range with --sweep).")
@click.option("--exact", is_flag=True, help="Measure the exact rank over Q (polynomial activations).")
@click.option("--route", type=click.Choice(["jacobian", "hessian", "both"]), default="jacobian", show_default=True,
              help="With --exact: coefficient Jacobian (b), exact expected Hessian (a), or both (cross-checked).")
@click.option("--certify", is_flag=True, help="Measure a certified rank in ball arithmetic (erf, relu, tanh).")
@click.option("--hidden-bias", is_flag=True, help="Add hidden biases (same as --bias hidden).")
@click.option("--output-bias", is_flag=True, help="Add an output bias (same as --bias output).")
@click.option("--bias", "bias", type=click.Choice(["none", "hidden", "output", "both"]), default=None,
              help="Biases of the network: hidden (inside the activation), output, or both. Non-polynomial "
                   "activations are measured with --certify (proof by point evaluation).")
@click.option("--widths", "widths", default=None,
              help="A deep architecture N_0,...,N_L (e.g. 3,4,2,1); with --sweep several, separated by ';'.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random rational teacher.")
@click.option("--n-teacher", "n_teacher", default=None,
              help="Teacher width Nt <= Nh: the rank at a global minimum of the wider student (a range with --sweep).")
@click.option("--kind", type=click.Choice(["zero", "split", "mixed"]), default=None,
              help="With --n-teacher: the family of global minima (default zero).")
@click.option("--n-zero", "n_zero", default=None, type=click.IntRange(min=0),
              help="With --kind mixed: the number of zero units.")
@click.option("--sweep", is_flag=True, help="Sweep the grid of --n-in x --n-hidden and write a table.")
@click.option("--out", "out", default="count_table", show_default=True, type=click.Path(dir_okay=False),
              help="With --sweep: write OUT.csv and OUT.md.")
@click.option("--max-params", default=600, show_default=True, type=click.IntRange(min=1),
              help="With --sweep: skip sizes with more parameters than this.")
@architecture_options
def count(activation: str, n_in: str, n_hidden: str, exact: bool, route: str, certify: bool, hidden_bias: bool,
          output_bias: bool, bias: str | None, widths: str | None, seed: int, n_teacher: str | None, kind: str | None,
          n_zero: int | None, sweep: bool, out: str, max_params: int, **options) -> None:
    """Effective number of parameters: the counting rule's prediction against the measured Hessian rank.

    The measurement is float64 (tolerance and log-gap) by default, exact over Q with --exact, or
    proved in ball arithmetic with --certify. An exact or certified rank at one random rational teacher
    is a certified lower bound for the generic rank.

    Architecture options (two-layer networks, combined with the biases): --n-out K outputs, --train
    a subset of W,v,b,b_out (b and b_out when the network has those biases) and --input-cov Sigma. The
    prediction is effective_parameters with these options (under Sigma the rule at Ni = rank Sigma;
    "none known" where no rule applies); the rank is measured with the same options (--exact and
    --certify reduce Sigma = L D L^T exactly over Q). The rank is that at the optimum of a matched
    teacher, so --teacher-activation is refused; --widths and --n-teacher take none of these options.
    """
    from ..errors import SymhessError

    act = load_activation(activation, numeric=True)
    method = _method(exact, certify)
    hidden_bias = hidden_bias or bias in ("hidden", "both")
    output_bias = output_bias or bias in ("output", "both")
    ins, hids = parse_sizes(n_in), parse_sizes(n_hidden)
    if options.get("teacher_activation") is not None:
        raise InputError("--teacher-activation is not available in `symhess count`: it measures the rank at the "
                         "optimum of a matched teacher (use `symhess report` or `symhess spectrum`)")
    trainable = _parse_train(options.pop("train", None), hidden_bias, output_bias)
    archs = ({a: replace(load_architecture(act, a, **options), trainable=trainable) for a in ins}
             if widths is None else {})
    arch0 = replace(load_architecture(act, 1, **{**options, "input_cov": None}), trainable=trainable)
    if not arch0.is_default or options.get("input_cov") is not None:
        for flag, given in (("--widths", widths is not None), ("--n-teacher", n_teacher is not None)):
            if given:
                raise InputError(f"{flag} cannot be combined with --n-out, --input-cov or --train in `symhess count` "
                                 "(the rules and measurements of deep networks and wider students have none of them)")
    if widths is not None:
        _deep_count(act, widths, method, seed, sweep, out, hidden_bias, output_bias)
        return
    if kind is not None and n_teacher is None:
        raise click.UsageError("--kind needs --n-teacher (the teacher's width)")
    tchs = [None] if n_teacher is None else parse_sizes(n_teacher)
    wide = dict(kind=kind, n_zero=n_zero)
    try:
        if not sweep:
            if len(ins) != 1 or len(hids) != 1 or len(tchs) != 1:
                raise click.UsageError("give single sizes --n-in N --n-hidden M, or add --sweep for a grid")
            row = _row(act, ins[0], hids[0], method, hidden_bias, output_bias, seed, route, tchs[0], **wide,
                       arch=archs[ins[0]])
            teach = "" if tchs[0] is None else f", teacher Nt = {tchs[0]}, {row['kind']} minimum"
            click.echo(f"symhess count: activation {act.spec}, Ni = {ins[0]}, Nh = {hids[0]}{teach}, "
                       f"P = {row['n_params']}"
                       + (", hidden biases" if hidden_bias else "") + (", output bias" if output_bias else "")
                       + (f", {archs[ins[0]].describe()}" if not archs[ins[0]].is_default else ""))
            pred = row["_pred"]
            click.echo(f"prediction: {pred}" if pred.value is not None else
                       f"prediction: none known ({pred.note or 'no counting rule for these options'})")
            click.echo(f"measured (seed {seed}): {row['_meas']}")
            click.echo(f"match: {row['match']}")
            return
        from ..two_layer.span_rank import network_layout

        grid = [(a, b, t) for a in ins for t in tchs for b in hids
                if network_layout(a, b, n_out=arch0.n_out, hidden_bias=hidden_bias, output_bias=output_bias,
                                  trainable=trainable).n_params <= max_params
                and (t is None or t <= b) and (n_zero is None or t is None or n_zero <= b - t)]
        rows = []
        with click.progressbar(grid, label=f"count {act.spec} ({method})", file=sys.stderr,
                               item_show_func=lambda g: "" if g is None else
                               f"Ni={g[0]} Nh={g[1]}" + ("" if g[2] is None else f" Nt={g[2]}")) as bar:
            for k, (a, b, t) in enumerate(bar):
                rows.append(_row(act, a, b, method, hidden_bias, output_bias, seed + k, route, t, **wide,
                                 arch=archs[a]))
    except (SymhessError, ValueError) as exc:  # bad combinations raise ValueError naming the allowed values
        hint = (" (on the command line: --certify" + (" instead of --exact)" if exact else ")")
                if "certify=True" in str(exc) else "")
        raise click.ClickException(str(exc) + hint) from exc
    stem = Path(out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = stem.with_suffix(".csv"), stem.with_suffix(".md")
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    title = (f"Effective number of parameters, activation {act.spec} ({method} rank)"
             + ("" if n_teacher is None else f", wider students ({kind or 'zero'} minima)")
             + (", hidden biases" if hidden_bias else "") + (", output bias" if output_bias else "")
             + (f", {archs[ins[0]].describe()}" if not archs[ins[0]].is_default else ""))
    md_path.write_text(_markdown(rows, title))
    bad = [r for r in rows if r["match"].startswith("NO")]
    click.echo(f"wrote {csv_path} and {md_path}: {len(rows)} sizes, {len(rows) - len(bad)} consistent with the rule"
               + (f", {len(bad)} MISMATCHES" if bad else ""))


def _deep_count(act, widths: str, method: str, seed: int, sweep: bool, out: str, hidden_bias: bool = False,
                output_bias: bool = False) -> None:
    from ..errors import SymhessError

    archs = parse_widths(widths)
    try:
        if not sweep:
            if len(archs) != 1:
                raise click.UsageError("give one architecture --widths 3,4,2,1, or add --sweep for several")
            row = _deep_row(act, archs[0], method, seed, hidden_bias, output_bias)
            click.echo(f"symhess count: activation {act.spec}, widths {row['widths']}, P = {row['n_params']}"
                       + (", hidden biases" if hidden_bias else "") + (", output bias" if output_bias else ""))
            click.echo(f"prediction: {row['_pred']}")
            click.echo(f"parameters minus the rule's continuous symmetries: {row['symmetry_count']}")
            click.echo(f"measured (seed {seed}): {row['_meas']}")
            click.echo(f"match: {row['match']}")
            return
        rows = []
        with click.progressbar(archs, label=f"count {act.spec} ({method})", file=sys.stderr) as bar:
            for k, w in enumerate(bar):
                rows.append(_deep_row(act, w, method, seed + k, hidden_bias, output_bias))
    except (SymhessError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    stem = Path(out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = stem.with_suffix(".csv"), stem.with_suffix(".md")
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=DEEP_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    md_path.write_text(_markdown(rows, f"Effective number of parameters of deep networks, activation {act.spec} "
                                       f"({method} rank)", DEEP_COLUMNS))
    bad = [r for r in rows if r["match"].startswith("NO")]
    click.echo(f"wrote {csv_path} and {md_path}: {len(rows)} architectures, {len(rows) - len(bad)} consistent with "
               "the rule" + (f", {len(bad)} MISMATCHES" if bad else ""))
