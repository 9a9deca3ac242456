"""
Learning near the optimum: the loss curve is fixed by the Hessian spectrum (eq. 7, Fig. 3)
========================================================================================

Couto et al., Section 2.1, eq. (7). A student starts at theta* + delta_0 and trains on
the population loss. Near the optimum eps = 1/2 delta^T H* delta, so

    gradient flow:     eps(t) = 1/2 sum_i lambda_i exp(-2 lambda_i t) c_i^2,
    gradient descent:  eps_t  = 1/2 sum_i lambda_i (1 - eta lambda_i)^(2t) c_i^2,     c_i = u_i . delta_0,

and the long-time tail is exp(-2 lambda_min^+ t): the smallest NONZERO eigenvalue sets late learning; the
flat directions (zero eigenvalues; P - rank of them) never contribute. This script integrates the full
nonlinear dynamics (closed-form population gradients, BDF with the expected Hessian as Jacobian; losses by
the cancellation-free path integral) and asserts the agreement with eq. (7) and the tail rate. It then runs
SGD on fresh Gaussian mini-batches (linear net) and asserts that the mean loss follows the exact
second-moment recursion for batch noise (symhess.two_layer.dynamics.sgd_loss_prediction) and lies above GD.

Run: ``python derivations/42_learning_dynamics.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller nets, fewer SGD runs")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.dynamics import (
        decay_rate, gradient_descent, gradient_flow, sgd, sgd_loss_prediction, smallest_nonzero_eigenvalue, spectral_loss_prediction,
    )

    cases = [("linear", 4, 2), ("quadratic:eps=0.5", 2, 3)]
    if not args.quick:
        cases += [("erf", 3, 3), ("quadratic", 3, 5)]
    rng = np.random.default_rng(73)
    curves = []
    print(" activation            (Ni,Nh)  rank/P   lambda_min+   max|flow/eq7-1|  tail rate/(2 lambda_min+) [eq. 7]  GD max|.-1|")
    for act, ni, nh in cases:
        Wt, vt = symhess.teacher(ni, nh, rng)
        P = symhess.n_params(ni, nh)
        d0 = 1e-4 * rng.standard_normal(P)
        W0, v0 = Wt + d0[: ni * nh].reshape(nh, ni), vt + d0[ni * nh:]
        H = symhess.expected_hessian(act, Wt, vt)
        eig = np.linalg.eigvalsh(H)
        lmin = smallest_nonzero_eigenvalue(eig)
        rank = int(np.sum(eig > eig[-1] * P * np.finfo(float).eps))
        above = eig[eig > lmin * (1 + 1e-6)]
        gap = above[0] - lmin  # to the next distinct eigenvalue: the tail needs exp(-2 gap t) << 1
        # long enough for the tail (exp(-2 gap t) small), short enough to stay 1e-10 above the start's
        # floor; when both cannot hold, the tail is compared with eq. (7)'s own rate instead
        T = min(max(10 / (2 * lmin), 4 / gap), 11.5 / (2 * lmin))
        times = np.linspace(0, T, 31)
        flow = gradient_flow(act, W0, v0, Wt, vt, times)
        pred = spectral_loss_prediction(H, d0, times)
        dev = np.abs(flow.loss / pred - 1).max()
        rate = decay_rate(times[-8:], flow.loss[-8:]) / (2 * lmin)
        rate_pred = decay_rate(times[-8:], pred[-8:]) / (2 * lmin)
        lr = 1.0 / eig[-1]
        n_steps = min(400, int(6 / (2 * lr * lmin)))
        gd = gradient_descent(act, W0, v0, Wt, vt, lr, n_steps, record_every=max(1, n_steps // 20))
        gd_dev = np.abs(gd.loss / spectral_loss_prediction(H, d0, gd.times, lr=lr) - 1).max()
        print(f" {act:20s}  ({ni},{nh})    {rank:2d}/{P:2d}   {lmin:.4e}    {dev:.4f}           {rate:.4f} [{rate_pred:.4f}]"
              f"               {gd_dev:.4f}")
        assert dev < 0.03 and abs(rate / rate_pred - 1) < 0.01 and gd_dev < 0.03
        if gap * T >= 4:  # the window reaches the pure tail: rate = 2 lambda_min^+
            assert abs(rate - 1) < 0.01
        assert flow.loss[-1] < 1e-3 * flow.loss[0], "flat directions do not stop learning"
        curves.append((act, ni, nh, times, flow.loss, pred, lmin, eig, d0))

    # SGD on fresh Gaussian batches, linear net (exact batch-noise recursion)
    Wt, vt = symhess.teacher(4, 3, rng)
    H = symhess.expected_hessian("linear", Wt, vt)
    lr, batch, n_steps = 0.3 / np.linalg.eigvalsh(H)[-1], 1, 60
    n_runs = 120 if args.quick else 600
    runs, pred_sgd, pred_gd = [], [], []
    for _ in range(n_runs):
        d0 = 1e-2 * rng.standard_normal(15)
        run = sgd("linear", Wt + d0[:12].reshape(3, 4), vt + d0[12:], Wt, vt, lr, n_steps, batch, rng,
                  record_every=5, loss_method="expansion")
        runs.append(run.loss)
        pred_sgd.append(sgd_loss_prediction(H, d0, lr, batch, n_steps)[::5])
        pred_gd.append(spectral_loss_prediction(H, d0, run.times, lr=lr))
    runs = np.array(runs)
    mean, se = runs.mean(0), runs.std(0, ddof=1) / np.sqrt(n_runs)
    p_sgd, p_gd = np.mean(pred_sgd, 0), np.mean(pred_gd, 0)
    z = (mean - p_sgd) / se
    print(f" SGD (batch {batch}, {n_runs} runs): max |mean - prediction| = {np.abs(z).max():.2f} standard errors; "
          f"final loss SGD/GD = {p_sgd[-1] / p_gd[-1]:.1f}")
    z_gd = ((mean - p_gd) / se)[1:].max()
    print(f"   the measured mean loss is up to {z_gd:.1f} standard errors above the GD prediction")
    assert np.abs(z).max() < 4.5 and p_gd[-1] < 0.5 * p_sgd[-1] and z_gd > 4

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, len(curves) + 1, figsize=(4.2 * (len(curves) + 1), 3.6))
        for ax, (act, ni, nh, times, loss, pred, lmin, eig, d0) in zip(axes, curves):
            ax.semilogy(times, loss, "o", ms=3, label="gradient flow (nonlinear)")
            ax.semilogy(times, pred, "k-", lw=1, label="eq. (7)")
            ax.semilogy(times, pred[-1] * np.exp(-2 * lmin * (times - times[-1])), "r--", lw=1,
                        label=r"$\propto e^{-2\lambda^+_{\min}t}$")
            ax.set_title(f"{act}, $N_i$={ni}, $N_h$={nh}", fontsize=9)
            ax.set_xlabel("t")
            ax.legend(fontsize=7)
        ax = axes[-1]
        steps = np.arange(0, n_steps + 1, 5)
        ax.errorbar(steps, mean, yerr=2 * se, fmt="o", ms=3, label=f"SGD, B={batch} (mean of {n_runs})")
        ax.semilogy(steps, p_sgd, "k-", lw=1, label="batch-noise recursion")
        ax.semilogy(steps, p_gd, "g--", lw=1, label="GD, eq. (7)")
        ax.set_yscale("log")
        ax.set_title("linear (4,3): SGD vs GD", fontsize=9)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
        axes[0].set_ylabel(r"population loss $\varepsilon$")
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(args.out / f"42_learning_dynamics.{ext}", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
