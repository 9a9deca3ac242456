"""``symhess report``: the default derivation report (the README's main job)."""

from __future__ import annotations

import time

import click
import numpy as np

from ._common import activation_option, load_activation, main

__all__ = ["report"]


@main.command()
@activation_option()
@click.option("--n-in", default=5, show_default=True, type=click.IntRange(min=1), help="Input dimension Ni.")
@click.option("--n-hidden", default=3, show_default=True, type=click.IntRange(min=1), help="Hidden width Nh.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random teacher.")
def report(activation: str, n_in: int, n_hidden: int, seed: int) -> None:
    """Derive the Hessian blocks, assemble them for a random teacher, and summarise the spectrum.

    This is the default derivation report (the README's main job).
    """
    import warnings

    from ..kernels.quadrature import record_quadrature
    from ..linalg.spectra import eigenvalues, spectrum_summary
    from ..two_layer.blocks import derive_blocks
    from ..two_layer.assemble import expected_hessian
    from ..two_layer.teacher import teacher

    act = load_activation(activation, numeric=True)
    t0 = time.perf_counter()
    blocks = derive_blocks(act)
    t_derive = time.perf_counter() - t0
    click.echo(f"symhess report: activation {act.spec}, sigma(z) = {act.expr()}")
    click.echo(f"derived in {t_derive:.2f} s; entries for hidden units i != k (overlaps Q = W W^T)\n")
    if hasattr(act, "describe"):  # an activation from an expression: its route and what it rests on
        click.echo(f"{act.describe()}\n")
    for name, blk in blocks.items():
        routes = sorted(set(blk.routes.values()))
        click.echo(f"H_{name}  [{', '.join(routes)}]")
        click.echo(f"  i != k: {blk.entry}")
        click.echo(f"  i == k: {blk.diagonal_entry}\n")
    W, v = teacher(n_in, n_hidden, rng=np.random.default_rng(seed))
    routes = sorted({r for blk in blocks.values() for r in blk.routes.values()})
    with warnings.catch_warnings(record=True) as caught:  # every numeric step: one summary line below
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        with record_quadrature() as rec:
            H = expected_hessian(act, W, v)
        t_first = time.perf_counter() - t0  # includes compiling the kernels (cached afterwards)
        t0 = time.perf_counter()
        expected_hessian(act, W, v)
        t_assemble = time.perf_counter() - t0
    notes = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    more = f" (and {len(notes) - 1} more warning(s) of this run)" if len(notes) > 1 else ""
    click.echo(f"expectations: {', '.join(routes)} route" + (f"; {notes[0]}{more}" if notes else ""))
    if rec.calls:
        click.echo(f"quadrature: {rec.calls} call(s), worst estimated error {rec.worst:.1e} relative to E|integrand|")
    eigs = eigenvalues(H)
    click.echo(f"teacher: Ni = {n_in}, Nh = {n_hidden}, seed = {seed}; W ~ N(0, 1/Ni), v ~ N(0, 1/Nh)")
    click.echo(f"expected Hessian: kernels compiled in {max(t_first - t_assemble, 0.0) * 1e3:.1f} ms, "
               f"assembled in {t_assemble * 1e3:.1f} ms")
    click.echo(str(spectrum_summary(eigs)))
