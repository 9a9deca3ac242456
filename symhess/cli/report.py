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

    from ..linalg.spectra import eigenvalues, spectrum_summary
    from ..two_layer.blocks import derive_blocks
    from ..two_layer.assemble import expected_hessian
    from ..two_layer.teacher import teacher

    act = load_activation(activation)
    t0 = time.perf_counter()
    blocks = derive_blocks(act)
    t_derive = time.perf_counter() - t0
    click.echo(f"symhess report: activation {act.spec}, sigma(z) = {act.expr()}")
    click.echo(f"derived in {t_derive:.2f} s; entries for hidden units i != k (overlaps Q = W W^T)\n")
    for name, blk in blocks.items():
        routes = sorted(set(blk.routes.values()))
        click.echo(f"H_{name}  [{', '.join(routes)}]")
        click.echo(f"  i != k: {blk.entry}")
        click.echo(f"  i == k: {blk.diagonal_entry}\n")
    W, v = teacher(n_in, n_hidden, rng=np.random.default_rng(seed))
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        H = expected_hessian(act, W, v)
    t_first = time.perf_counter() - t0  # includes compiling the kernels (cached afterwards)
    t0 = time.perf_counter()
    expected_hessian(act, W, v)
    t_assemble = time.perf_counter() - t0
    for w in {str(w.message) for w in caught}:
        click.echo(f"warning: {w}", err=True)
    eigs = eigenvalues(H)
    click.echo(f"teacher: Ni = {n_in}, Nh = {n_hidden}, seed = {seed}; W ~ N(0, 1/Ni), v ~ N(0, 1/Nh)")
    click.echo(f"expected Hessian: kernels compiled in {max(t_first - t_assemble, 0.0) * 1e3:.1f} ms, "
               f"assembled in {t_assemble * 1e3:.1f} ms")
    click.echo(str(spectrum_summary(eigs)))
