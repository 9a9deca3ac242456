"""``symhess report``: the default derivation report (the README's main job)."""

from __future__ import annotations

import time

import click
import numpy as np

from ._architecture import architecture_options, bias_option, load_architecture
from ._common import activation_option, load_activation, main

__all__ = ["report"]


@main.command()
@activation_option()
@click.option("--n-in", default=5, show_default=True, type=click.IntRange(min=1), help="Input dimension Ni.")
@click.option("--n-hidden", default=3, show_default=True, type=click.IntRange(min=1), help="Hidden width Nh.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random teacher.")
@architecture_options
@bias_option
def report(activation: str, n_in: int, n_hidden: int, seed: int, **options) -> None:
    """Derive the Hessian blocks, assemble them for a random teacher, and summarise the spectrum.

    This is the default derivation report (the README's main job). The derived blocks are those of
    the paper's network; the architecture options (--n-out, --input-cov, --teacher-activation,
    --train, --bias) change the numeric Hessian and its spectrum. With --bias the teacher's biases
    are drawn after its weights, b_i ~ N(0, 1) and b_out ~ N(0, 1), and theta = (W, v, b, b_out).
    """
    import warnings

    from ..kernels.quadrature import record_quadrature
    from ..linalg.spectra import eigenvalues, spectrum_summary
    from ..two_layer.blocks import derive_blocks
    from ..two_layer.assemble import expected_hessian

    act = load_activation(activation, numeric=True)
    arch = load_architecture(act, n_in, **options)
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
    if not arch.is_default:
        click.echo(f"(the blocks above are the paper's network; the numbers below are for: {arch.describe()})\n")
    gen = np.random.default_rng(seed)
    W, v = arch.network(n_in, n_hidden, gen)
    biases = arch.biases(n_hidden, gen)
    routes = sorted({r for blk in blocks.values() for r in blk.routes.values()})
    with warnings.catch_warnings(record=True) as caught:  # every numeric step: one summary line below
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        with record_quadrature() as rec:
            H, minimum = arch.hessian(act, W, v, biases)
        t_first = time.perf_counter() - t0  # includes compiling the kernels (cached afterwards)
        args, kw = arch.hessian_call(act, W, v, biases, minimum)
        t0 = time.perf_counter()
        expected_hessian(*args, **kw)
        t_assemble = time.perf_counter() - t0
    notes = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    more = f" (and {len(notes) - 1} more warning(s) of this run)" if len(notes) > 1 else ""
    click.echo(f"expectations: {', '.join(routes)} route" + (f"; {notes[0]}{more}" if notes else ""))
    if rec.calls:
        click.echo(f"quadrature: {rec.calls} call(s), worst estimated error {rec.worst:.1e} relative to E|integrand|")
    eigs = eigenvalues(H)
    click.echo(f"teacher: Ni = {n_in}, Nh = {n_hidden}, seed = {seed}; W ~ N(0, 1/Ni), v ~ N(0, 1/Nh)"
               + (f", v of shape ({arch.n_out}, {n_hidden})" if arch.n_out > 1 else "")
               + ("".join(f", {k} ~ N(0, 1)" for k in biases)))
    if minimum is not None:
        click.echo(f"student minimum (from the teacher's weights, symhess.find_minimum): loss {minimum.loss:.6g}, "
                   f"gradient norm {minimum.gradient_norm:.2e}, smallest Hessian eigenvalue {minimum.min_eigenvalue:.6g}"
                   + ("" if minimum.converged else "  NOT CONVERGED"))
    if arch.trainable is not None:
        click.echo(f"trained groups: {', '.join(arch.trainable)} (P = {H.shape[0]}; the others frozen)")
    click.echo(f"expected Hessian: kernels compiled in {max(t_first - t_assemble, 0.0) * 1e3:.1f} ms, "
               f"assembled in {t_assemble * 1e3:.1f} ms")
    click.echo(str(spectrum_summary(eigs)))
