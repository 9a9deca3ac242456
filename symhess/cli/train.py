"""``symhess train``: train a student (matched or wider) and track its Hessian's rank and spectrum.

::

    symhess train -a erf --n-in 2 --n-teacher 1 --n-hidden 2 --t-max 1e4 --out runs/erf_wide
    symhess train -a quadratic --n-in 3 --n-teacher 2 --n-hidden 3 --start zero --noise 0.05 --exact

writes ``OUT.csv`` (one row per checkpoint), ``OUT.json`` (summary, checkpoints, spectra) and
``OUT.png`` (loss, ranks, extreme eigenvalues), with a progress bar on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import activation_option, load_activation, main

__all__ = ["train"]


@main.command()
@activation_option()
@click.option("--n-in", default=2, show_default=True, type=click.IntRange(min=1), help="Input dimension Ni.")
@click.option("--n-teacher", default=1, show_default=True, type=click.IntRange(min=1), help="Teacher width Nt.")
@click.option("--n-hidden", default=2, show_default=True, type=click.IntRange(min=1), help="Student width Ns.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the teacher (symhess.teacher).")
@click.option("--init-seed", default=1, show_default=True, type=int, help="Seed of the initialisation.")
@click.option("--start", type=click.Choice(["random", "zero", "split", "mixed"]), default="random", show_default=True,
              help="random: W ~ N(0, 1/Ni), v ~ N(0, 1/Ns); zero/split/mixed: that global minimum plus --noise.")
@click.option("--noise", default=0.05, show_default=True, type=click.FloatRange(min=0),
              help="With --start zero/split/mixed: std of the Gaussian perturbation.")
@click.option("--method", type=click.Choice(["flow", "gd"]), default="flow", show_default=True,
              help="Gradient flow (BDF) or gradient descent.")
@click.option("--lr", default=0.5, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Step of gradient descent.")
@click.option("--t-max", default=1e4, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Final time (flow) or number of steps (gd).")
@click.option("--checkpoints", default=13, show_default=True, type=click.IntRange(min=3),
              help="Checkpoints: t = 0 and log-spaced times from 1 to --t-max.")
@click.option("--rank-rtol", default=1e-9, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Numerical rank threshold |lambda| > rtol * lambda_max.")
@click.option("--rtol", default=1e-9, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Gradient-flow integrator tolerance (relative); 1e-8 with --atol 1e-11 for runs past t ~ 1e4.")
@click.option("--atol", default=1e-13, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Gradient-flow integrator tolerance (absolute).")
@click.option("--exact", is_flag=True, help="Also the exact rank over Q of the Gauss-Newton part (polynomials).")
@click.option("--out", default="train", show_default=True, type=click.Path(dir_okay=False),
              help="Write OUT.csv, OUT.json and OUT.png.")
def train(activation: str, n_in: int, n_teacher: int, n_hidden: int, seed: int, init_seed: int, start: str,
          noise: float, method: str, lr: float, t_max: float, checkpoints: int, rank_rtol: float, rtol: float,
          atol: float, exact: bool, out: str) -> None:
    """Train a student on the population loss; track the Hessian's rank and spectrum; name the minimum reached.

    Prints the family of global minima reached (zero, split, mixed units; "other" if none or not
    converged), the rank there, the fitted loss-tail rate against 2 lambda_min+ of the Hessian there,
    and the distance of the last Hessian to the Hessian at that minimum.
    """
    import numpy as np

    from ..two_layer.training_tracker import track_training
    from ..errors import SymhessError
    from ..two_layer.minima import global_minimum
    from ..two_layer.teacher import teacher

    act = load_activation(activation)
    if n_hidden < n_teacher and start != "random":
        raise click.UsageError(f"--start {start} needs --n-hidden >= --n-teacher")
    Wt, vt = teacher(n_in, n_teacher, rng=seed)
    rng = np.random.default_rng(init_seed)
    if start == "random":
        W0 = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_hidden, n_in))
        v0 = rng.normal(0.0, 1.0 / np.sqrt(n_hidden), n_hidden)
    else:
        W0, v0 = global_minimum(Wt, vt, n_hidden, start, rng)
        W0 = W0 + noise * rng.normal(size=W0.shape)
        v0 = v0 + noise * rng.normal(size=v0.shape)
    if method == "gd":
        times = np.unique(np.concatenate([[0], np.round(np.logspace(0, np.log10(t_max), checkpoints - 1))]))
    else:
        times = np.concatenate([[0.0], np.logspace(0, np.log10(t_max), checkpoints - 1)])
    try:
        with click.progressbar(length=len(times), label=f"train {act.spec} ({method})", file=sys.stderr,
                               show_pos=True) as bar:
            track = track_training(act, W0, v0, Wt, vt, times, method=method, lr=lr, rank_rtol=rank_rtol, exact=exact,
                                   rtol=rtol, atol=atol, callback=lambda k, t: bar.update(1))
    except (SymhessError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    csv_path, json_path = track.write(out)
    png = track.plot(Path(out).with_suffix(".png"))
    s = track.summary()
    click.echo(f"symhess train: {act.spec}, Ni = {n_in}, Nt = {n_teacher}, Ns = {n_hidden}, start {start}, {method}")
    click.echo(f"final loss {s['final_loss']:.3e}; rank {track.rank[0]} -> {track.rank[-1]} "
               f"(|lambda| > {rank_rtol:g} lambda_max)")
    click.echo(f"reached: {s['family']} minimum; teacher unit of each student unit {s['teacher_unit']} "
               f"(-1: zero unit, -2: unmatched)")
    if s["family"] != "other":
        click.echo(f"rank at that minimum {s['rank_at_minimum']}; |H(last) - H(minimum)| / |H(minimum)| = "
                   f"{s['hessian_gap']:.2e}")
        fr = "n/a" if s["fitted_rate"] is None else f"{s['fitted_rate']:.4g}"
        click.echo(f"loss tail rate {fr} against 2 lambda_min+ = {s['predicted_rate']:.4g}")
    click.echo(f"wrote {csv_path}, {json_path} and {png}")
