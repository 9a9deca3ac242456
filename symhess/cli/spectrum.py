"""``symhess spectrum``: expected-Hessian spectra over random teachers, with an optional figure."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._architecture import architecture_options, bias_option, load_architecture
from ._common import activation_option, load_activation, main

__all__ = ["spectrum"]


@main.command()
@activation_option()
@click.option("--n-in", default=10, show_default=True, type=click.IntRange(min=1), help="Input dimension Ni.")
@click.option("--n-hidden", default=20, show_default=True, type=click.IntRange(min=1), help="Hidden width Nh.")
@click.option("--teachers", default=20, show_default=True, type=click.IntRange(min=1),
              help="Number of random teachers whose spectra are pooled.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random teachers.")
@click.option("--var-w", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Variance of the teacher's W entries [default: 1/Ni].")
@click.option("--var-v", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Variance of the teacher's v entries [default: 1/Nh].")
@click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a histogram (PNG, PDF or SVG, by suffix); linear nets get the eq. (15) density.")
@click.option("--log/--no-log", "log_scale", default=None,
              help="Histogram of log10(lambda) [default: on for nonlinear activations].")
@architecture_options
@bias_option
def spectrum(activation: str, n_in: int, n_hidden: int, teachers: int, seed: int, var_w, var_v,
             plot: Path | None, log_scale: bool | None, **options) -> None:
    """Eigenvalues of the expected Hessian at the optimum, pooled over random teachers.

    Prints P, the numerical rank, how many eigenvalues are positive, zero and negative, the smallest
    positive and the largest eigenvalue, and for linear nets
    the Kolmogorov-Smirnov distance of one eigenvalue per teacher to the chi^2 (*) MP law (eq. 15), or with
    --input-cov to its generalisation to correlated inputs (symhess.two_layer.linear_covariance_law).
    With --teacher-activation each student is first moved to its minimum (symhess.find_minimum).
    With --bias each teacher's biases are drawn after its weights, b_i ~ N(0, 1), b_out ~ N(0, 1).
    """
    import numpy as np

    from ..linalg.spectra import default_tolerance
    from ..two_layer.teacher_spectra import teacher_spectra

    act = load_activation(activation, numeric=True)
    arch = load_architecture(act, n_in, **options)
    if plot is not None and plot.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise click.BadParameter(f"{plot.name!r}: the figure must end in .png, .pdf or .svg", param_hint="--plot")
    P = arch.n_params(n_in, n_hidden)
    if P > 4000:
        raise click.BadParameter(f"P = {P} parameters is too large for dense spectra here (at most 4000); "
                                 "use symhess.hessian_spectrum for the matrix-free route", param_hint="--n-in/--n-hidden")
    import warnings

    with warnings.catch_warnings(record=True) as caught, \
            click.progressbar(length=teachers, label=f"spectra of {teachers} teacher(s)", file=sys.stderr) as bar:
        warnings.simplefilter("always")
        if arch.is_default:
            spec = teacher_spectra(act, n_in, n_hidden, teachers, np.random.default_rng(seed), var_w=var_w,
                                   var_v=var_v, progress=lambda done, total: bar.update(1))
        else:
            spec = _architecture_spectra(act, arch, n_in, n_hidden, teachers, seed, var_w, var_v, bar)
    for note in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
        click.echo(f"note: {note}", err=True)
    tol = max(default_tolerance(e) for e in spec)
    ranks = [int(np.sum(np.abs(e) > tol)) for e in spec]  # rank counts every nonzero eigenvalue, negative too
    pos = spec[spec > tol]
    neg = spec[spec < -tol]
    n_zero = int(np.sum(np.abs(spec) <= tol))
    click.echo(f"symhess spectrum: {act.spec}, Ni = {n_in}, Nh = {n_hidden}, P = {P}, {teachers} teacher(s), seed {seed}"
               + (f"; {arch.describe()}" if not arch.is_default else ""))
    click.echo(f"numerical rank (|lambda| > {tol:.1e}, float64 eigenvalues; a proof: symhess.hessian_rank(..., "
               f"certify=True)): {min(ranks)}..{max(ranks)} of {P}")
    click.echo(f"eigenvalues: {pos.size} positive, {n_zero} zero (|lambda| <= {tol:.1e}), {neg.size} negative"
               + (" over all teachers" if teachers > 1 else ""))
    if pos.size:
        click.echo(f"smallest positive eigenvalue: {pos.min():.6g}   largest: {spec.max():.6g}   "
                   f"mean positive: {pos.mean():.6g}")
    if neg.size:
        click.echo(f"WARNING: {neg.size} negative eigenvalue(s), most negative {neg.min():.6g}: H = E[grad f grad f^T] "
                   "is positive semi-definite at the optimum, so these are errors of the numerical route", err=True)
    law = None
    linear = act.is_polynomial and act.degree == 1 and act.polynomial_coeffs()[1] == 1
    cov_only = arch.n_out == 1 and arch.trainable is None and arch.teacher_activation is None and arch.bias is None
    if linear and cov_only:
        from ..two_layer.linear_law import ks_critical_value, ks_distance, linear_spectrum_law

        if arch.input_cov is None:
            law, r, name = linear_spectrum_law(n_in, n_hidden, var_w, var_v), n_in, "eq. (15) law"
            label = r"$\chi^2\circledast$MP (eq. 15)"
        else:
            from ..two_layer.linear_covariance_law import linear_covariance_law

            law = linear_covariance_law(n_in, n_hidden, arch.input_cov, var_w, var_v)
            r, name = law.n_in, f"law under Sigma ({arch.input_cov_spec})"
            label = r"$\mu_\Sigma\boxtimes(\delta_s\boxplus$MP$)$, mixed over $s$"
        rng = np.random.default_rng(seed + 1)
        one = np.array([e[-r:][rng.integers(r)] for e in spec])
        d = ks_distance(one, law.cdf)
        bound = ks_critical_value(len(one), 1e-3) + 0.25 / min(r, n_hidden)
        click.echo(f"{name}: KS distance {d:.4f} (one eigenvalue per teacher; accept below {bound:.4f}: "
                   f"critical value at level 1e-3 + finite-size allowance 0.25/min(Ni, Nh))")
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        use_log = (law is None) if log_scale is None else log_scale
        fig, ax = plt.subplots(figsize=(6, 3.8))
        data = np.log10(pos) if use_log else pos
        hidden = [f"{n_zero} zero"] if n_zero else []
        hidden += [f"{neg.size} NEGATIVE"] if neg.size else []
        ax.hist(data, bins=max(20, min(100, pos.size // 20)), density=True, alpha=0.6,
                label=f"{teachers} teacher(s)" + (f"; not shown: {', '.join(hidden)} eigenvalue(s)" if hidden else ""))
        if law is not None and not use_log:
            x = np.linspace(0, np.quantile(pos, 0.999), 400)
            ax.plot(x, law.pdf(x), "k", lw=1.5, label=label)
        ax.set_xlabel(r"$\log_{10}\lambda$" if use_log else r"$\lambda$")
        ax.set_ylabel("density")
        ax.set_title(f"{act.spec}: $N_i$={n_in}, $N_h$={n_hidden}"
                     + (f", {arch.describe()}" if not arch.is_default else "")
                     + ", positive eigenvalues of $H^\\star$", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(plot, dpi=120)
        plt.close(fig)
        click.echo(f"figure written to {plot}")


def _architecture_spectra(act, arch, n_in: int, n_hidden: int, teachers: int, seed: int, var_w, var_v, bar):
    """Ascending eigenvalues at the optimum of ``arch``, one row per teacher (the draws of teacher_spectra,
    each teacher's biases drawn after its weights)."""
    import numpy as np

    gen = np.random.default_rng(seed)
    rows = []
    for _ in range(teachers):
        W, v = arch.network(n_in, n_hidden, gen, var_w, var_v)
        H, minimum = arch.hessian(act, W, v, arch.biases(n_hidden, gen))
        if minimum is not None and not minimum.converged:
            click.echo(f"note: find_minimum did not converge for one teacher (gradient norm "
                       f"{minimum.gradient_norm:.2e}); its spectrum is included", err=True)
        rows.append(np.linalg.eigvalsh(H))
        bar.update(1)
    return np.array(rows)
