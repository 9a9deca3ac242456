"""``symhess sgd``: online SGD in high dimensions, the order-parameter equations and a simulation.

::

    symhess sgd -a saad_solla_erf --n-teacher 2 --n-hidden 2 --lr 0.5 --t-max 1e3 --plot eg.png
    symhess sgd -a erf --n-teacher 2 --n-hidden 4 --simulate 1000 --t-max 50 --plot eg.png

integrates :func:`symhess.online_sgd_ode` from a random student (small first-layer weights, so the
symmetric plateau shows), prints the generalisation error at log-spaced times and, with
``--simulate N``, runs online SGD at input dimension ``N`` from the same start for comparison.
"""

from __future__ import annotations

import sys

import click

from ._common import activation_option, load_activation, main

__all__ = ["sgd"]


@main.command()
@activation_option()
@click.option("--teacher-activation", default=None,
              help="The teacher's activation, when it differs from the student's (default: the same).")
@click.option("--n-teacher", default=2, show_default=True, type=click.IntRange(min=1), help="Teacher width Nt.")
@click.option("--n-hidden", default=2, show_default=True, type=click.IntRange(min=1), help="Student width Nh.")
@click.option("--n-in", default=500, show_default=True, type=click.IntRange(min=2),
              help="Input dimension of the drawn weights (the equations hold as it grows; they see overlaps only).")
@click.option("--lr", default=0.5, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Learning rate eta (steps of eta/Ni).")
@click.option("--lr-v", default=None, type=click.FloatRange(min=0), help="Second-layer learning rate (default --lr).")
@click.option("--fixed-v", is_flag=True, help="Do not train v (soft committee machine: v = v* = 1).")
@click.option("--noise", default=0.0, show_default=True, type=click.FloatRange(min=0), help="Label-noise variance.")
@click.option("--t-max", default=1000.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Final time t = steps / Ni.")
@click.option("--init-scale", default=0.1, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Student first-layer weights: init-scale times a default teacher draw.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of teacher and student.")
@click.option("--first-order", is_flag=True, help="Drop the eta^2 term (population gradient flow in the overlaps).")
@click.option("--numeric-i4", is_flag=True,
              help="Allow the numerical four-point expectations (activations without a closed-form I4, e.g. tanh, or a "
                   "teacher activation other than erf at another scale or a polynomial with a polynomial student): "
                   "accurate to ~1e-9 with an error estimate, ~40 ms per right-hand side at Nh = Nt = 3.")
@click.option("--simulate", default=None, type=click.IntRange(min=2),
              help="Also run online SGD at this input dimension from the same overlaps.")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Write a figure of eps_g(t).")
def sgd(activation: str, teacher_activation: str | None, n_teacher: int, n_hidden: int, n_in: int, lr: float,
        lr_v: float | None, fixed_v: bool, noise: float, t_max: float, init_scale: float, seed: int,
        first_order: bool, numeric_i4: bool, simulate: int | None, plot: str | None) -> None:
    """Online SGD order-parameter equations (Saad & Solla; Goldt et al.): eps_g(t), optionally against a simulation."""
    import numpy as np

    from ..two_layer.online import online_sgd_ode, online_sgd_simulation
    from ..two_layer.teacher import teacher

    act = load_activation(activation, numeric=True)
    tact = None if teacher_activation is None else load_activation(teacher_activation, numeric=True)
    mixed = tact is not None and tact != act
    rng = np.random.default_rng(seed)
    Wt, vt = teacher(n_in, n_teacher, rng=rng)
    W0, v0 = teacher(n_in, n_hidden, rng=rng)
    W0 = init_scale * W0
    if fixed_v:
        vt, v0 = np.ones(n_teacher), np.ones(n_hidden)
    teacher_note = f" (teacher: {tact.spec})" if mixed else ""
    click.echo(f"symhess sgd: {act.spec}{teacher_note}, Nt = {n_teacher}, Nh = {n_hidden}, lr = {lr}, "
               f"{'v fixed' if fixed_v else 'v trained'}, noise = {noise}, t_max = {t_max:g}")
    from ..errors import NoClosedFormError
    from ..expectation.four_point import cross_four_point_expectation, four_point_expectation

    if not first_order and not numeric_i4:
        try:
            four_point_expectation(act)
            if mixed:   # every combination of student and teacher units on the last two arguments
                for third in (act, tact):
                    for fourth in (act, tact):
                        cross_four_point_expectation((act, act, third, fourth))
        except NoClosedFormError:
            what = (f"{act.spec!r} with a {tact.spec!r} teacher" if mixed else repr(act.spec))
            raise click.ClickException(
                f"{what} has no closed-form four-point expectation I4 for the eta^2 term: pass --numeric-i4 "
                "to integrate it numerically (~40 ms per right-hand side at Nh = Nt = 3; a run to t = 100 takes "
                "about half a minute), or --first-order to drop the term (exact as lr -> 0)"
            ) from None

    try:
        ode = online_sgd_ode(act, W0, v0, Wt, vt, lr, t_max, lr_v=lr_v, train_v=not fixed_v, noise=noise,
                             second_order=not first_order, teacher_activation=tact)
    except NoClosedFormError as exc:
        raise click.ClickException(f"{exc} (on the command line: --first-order)") from exc
    sim = None
    if simulate is not None:
        # the same overlaps at input dimension `simulate`: an orthonormal frame times the Gram factor
        U = np.vstack([W0, Wt])
        G = U @ U.T
        lam, V = np.linalg.eigh(G)
        coef = V * np.sqrt(np.clip(lam, 0, None))
        if simulate < coef.shape[1]:
            raise click.UsageError(f"--simulate {simulate} must be at least Nh + Nt = {coef.shape[1]}")
        frame, _ = np.linalg.qr(rng.standard_normal((simulate, coef.shape[1])))
        U2 = coef @ frame.T
        times = ode.t[:: max(1, len(ode.t) // 40)]
        click.echo(f"simulating online SGD at Ni = {simulate}: {int(times[-1] * simulate)} steps ...", err=True)
        sim = online_sgd_simulation(act, U2[:n_hidden], v0, U2[n_hidden:], vt, lr, t_max, lr_v=lr_v,
                                    train_v=not fixed_v, noise=noise, times=times, rng=seed,
                                    teacher_activation=tact)
    click.echo("        t     eps_g (ODE)" + ("   eps_g (SGD)" if sim is not None else ""))
    for t_show in np.unique(np.r_[0.0, np.geomspace(min(1.0, t_max), t_max, 9)]):
        i = int(np.argmin(np.abs(ode.t - t_show)))
        row = f"{ode.t[i]:9.3g}   {ode.loss[i]:.6g}"
        if sim is not None:
            j = int(np.argmin(np.abs(sim.t - ode.t[i])))
            row += f"   {sim.loss[j]:.6g}"
        click.echo(row)
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        shown = ode.loss > ode.loss_atol
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        ax.loglog(ode.t[shown][1:], ode.loss[shown][1:], "k-", label=r"ODE ($N_i\to\infty$)")
        if sim is not None:
            ax.loglog(sim.t[1:], sim.loss[1:], "o", ms=3, label=f"online SGD, $N_i$ = {simulate}")
        ax.set_xlabel(r"$t$ = steps / $N_i$")
        ax.set_ylabel(r"generalisation error $\varepsilon_g$")
        ax.set_title(f"{act.spec}: $N_t$ = {n_teacher}, $N_h$ = {n_hidden}, $\\eta$ = {lr:g}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot, dpi=110)
        plt.close(fig)
        click.echo(f"figure written to {plot}")
    sys.stdout.flush()
