"""``symhess sweep``: spectrum and counting sweeps over a grid, in local processes or on a Dask cluster, resumable."""

from __future__ import annotations

import click

from ._common import main, parse_range

_SPECTRUM_COLUMNS = ("method", "n_params", "largest", "trace")
_COUNT_COLUMNS = ("n_params", "rank", "predicted", "rule", "status", "match")


def parse_int_list(text: str, name: str) -> list[int]:
    """``"2,3,5"``, an inclusive range ``"2..6"`` (also ``2-6``, ``2:6``) or mixtures -> non-negative ints."""
    return parse_range(text, name, minimum=0)


def _cell(value) -> str:
    if isinstance(value, list):
        value = value[-1] if value else ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _table(records, columns) -> str:
    head = ["activation", "n_in", "n_hidden", "seed", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = sorted(records, key=lambda r: (str(r["params"]["activation"]), r["params"]["n_in"],
                                          r["params"]["n_hidden"], r["params"]["seed"]))
    for r in rows:
        res = r.get("result") or {}
        cells = [_cell(r["params"][c]) for c in head[:4]]
        cells += [_cell(res.get(c)) if r["status"] == "ok" else ("error" if i == 0 else "") for i, c in enumerate(columns)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _common_options(fn):
    opts = [
        click.option("--activation", "-a", "activations", multiple=True, default=("erf",), show_default=True,
                     help="Activation spec; repeat for several (-a erf -a relu)."),
        click.option("--n-in", "n_in", default="5", show_default=True, help="Input sizes: '5,10' or a range '2..8' (also 2-8, 2:8)."),
        click.option("--n-hidden", "n_hidden", default="5", show_default=True, help="Hidden sizes: '5,10' or a range '2..8' (also 2-8, 2:8)."),
        click.option("--square", is_flag=True, help="Only points with n_in == n_hidden (uses --n-in)."),
        click.option("--seeds", default="0", show_default=True, help="Teacher seeds: '0,1,2' or a range '0..9'."),
        click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False),
                     help="JSON-lines results file; an existing one is resumed (done points are skipped)."),
        click.option("--scheduler", default="processes", show_default=True,
                     help="'processes' (a local process pool), 'serial', 'local' (a Dask LocalCluster; needs "
                          "dask[distributed]) or a Dask scheduler ADDRESS (tcp://host:8786)."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Workers for 'local' and 'processes' (default: CPU count)."),
        click.option("--retry-errors", is_flag=True, help="Recompute points recorded as errors."),
        click.option("--quiet", "-q", is_flag=True, help="No progress lines."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _points(activations, n_in, n_hidden, square, seeds, extra):
    from ..sweep import grid
    from ._common import load_activation

    for a in activations:
        load_activation(a, numeric=True)  # a bad spec fails here, before any cluster starts
    nis = parse_range(n_in, "--n-in")
    seeds_l = parse_int_list(seeds, "--seeds")
    if square:
        pts = [dict(p, n_hidden=p["n_in"]) for p in grid(activation=list(activations), n_in=nis, seed=seeds_l)]
    else:
        pts = grid(activation=list(activations), n_in=nis, n_hidden=parse_range(n_hidden, "--n-hidden"), seed=seeds_l)
    return [dict(p, **extra) for p in pts]


def _run(task, points, out, scheduler, workers, retry_errors, quiet, columns) -> None:
    from ..errors import SymhessError
    from ..sweep import run_sweep

    try:
        summary = run_sweep(task, points, out, scheduler=scheduler, n_workers=workers,
                            progress=not quiet, retry_errors=retry_errors)
    except (ValueError, TypeError, SymhessError, ModuleNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    keys = {r["key"] for r in summary.records.values()}
    from ..sweep import point_key

    mine = [summary.records[point_key(p)] for p in points if point_key(p) in keys]
    click.echo(_table(mine, columns))
    mismatches = [r for r in mine if r["status"] == "ok" and str((r.get("result") or {}).get("match", "")).startswith("NO")]
    click.echo(f"\n{summary.total} points: {summary.skipped} already in {summary.path}, {summary.computed} computed, "
               f"{summary.failed} failed" + (f", {len(mismatches)} MISMATCHES with the counting rule (match = NO)"
                                             if mismatches else ""))
    if summary.failed:
        raise SystemExit(1)


@main.group("sweep")
def sweep() -> None:
    """Sweeps over sizes, activations and seeds: parallel (local processes or Dask), resumable (one JSON line per point)."""


@sweep.command("spectrum")
@_common_options
@click.option("--method", type=click.Choice(["auto", "dense", "matrix_free"]), default="auto", show_default=True,
              help="Dense below --dense-max-params, matrix-free (Lanczos, SLQ) above, or forced.")
@click.option("--dense-max-params", type=click.IntRange(min=1), default=4000, show_default=True)
@click.option("--n-probes", type=click.IntRange(min=1), default=None,
              help="SLQ probes (default: ceil(1e5 / P) clipped to [2, 16]).")
@click.option("--n-steps", type=click.IntRange(min=2), default=60, show_default=True, help="Lanczos steps per probe.")
@click.option("--backend", default="numpy", show_default=True, help="Array backend: numpy, torch, torch:cuda, cupy, jax.")
def sweep_spectrum(activations, n_in, n_hidden, square, seeds, out, scheduler, workers, retry_errors, quiet,
                   method, dense_max_params, n_probes, n_steps, backend) -> None:
    """Spectrum of the expected Hessian at the optimum for every grid point.

    Example: symhess sweep spectrum -a erf -a relu --n-in 10,50,200 --square --seeds 0-3 -o spec.jsonl
    """
    from ..sweep import spectrum_point

    extra = dict(method=method, dense_max_params=dense_max_params, n_probes=n_probes, n_steps=n_steps, backend=backend)
    pts = _points(activations, n_in, n_hidden, square, seeds, extra)
    _run(spectrum_point, pts, out, scheduler, workers, retry_errors, quiet, _SPECTRUM_COLUMNS)


@sweep.command("count")
@_common_options
@click.option("--exact", is_flag=True, help="Exact rank over Q (polynomial activations, rational teacher).")
def sweep_count(activations, n_in, n_hidden, square, seeds, out, scheduler, workers, retry_errors, quiet, exact) -> None:
    """Hessian rank at the optimum (effective number of parameters) vs the counting rule, for every grid point.

    Example: symhess sweep count -a quadratic --n-in 2..6 --n-hidden 1..6 -o count.jsonl
    """
    from ..sweep import count_point

    pts = _points(activations, n_in, n_hidden, square, seeds, dict(exact=exact))
    _run(count_point, pts, out, scheduler, workers, retry_errors, quiet, _COUNT_COLUMNS)
