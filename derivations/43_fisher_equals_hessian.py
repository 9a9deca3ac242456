"""
Fisher information = expected Hessian at the optimum (App. D)
=============================================================

Couto et al., Appendix D (the link Hessian - NTK - Fisher information) and Section 2. Read the student as the
Gaussian regression model y | x ~ N(f_theta(x), s^2), x ~ N(0, I). Its Fisher information is
F = E[grad log p grad log p^T] = E[grad f grad f^T] / s^2: at the optimum this is the whole expected
Hessian of eps = 1/2 E[(f - f*)^2] (times 1/s^2); away from it only the Gauss-Newton part.

This script estimates F WITHOUT that identity: it samples (x, y) from the model, forms the scores
(y - f(x)) grad f(x) / s^2 numerically, and averages their outer products. Asserted, entrywise within 5
Monte Carlo standard errors: s^2 F = H* at the optimum for erf, quadratic and ReLU nets; s^2 F = the
Gauss-Newton part (and != the full Hessian) away from it; a factor-2 error is rejected. It also checks
the NTK statement of Couto et al., Section 2: the nonzero eigenvalues of the empirical Hessian
(1/N) J^T J equal those of the NTK Gram matrix J J^T / N.

Run: ``python derivations/43_fisher_equals_hessian.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer Monte Carlo samples")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.dynamics import network_jacobian
    from symhess.two_layer.fisher import fisher_information_mc

    n = 100_000 if args.quick else 1_000_000
    rng = np.random.default_rng(43)
    shown = None
    print(" activation          (Ni,Nh)  max|z| (F vs H*)   max|z| (F vs 2H*)   s")
    for act, ni, nh, s in (("erf", 3, 2, 1.0), ("quadratic:eps=0.5", 2, 3, 1.0), ("relu", 3, 3, 0.5)):
        W, v = symhess.teacher(ni, nh, rng)
        H = symhess.expected_hessian(act, W, v)
        est = fisher_information_mc(act, W, v, n, rng=rng, noise_std=s)
        z = (s**2 * est.mean - H) / (s**2 * est.stderr)
        z2 = (s**2 * est.mean - 2 * H) / (s**2 * est.stderr)
        print(f" {act:18s}  ({ni},{nh})      {np.abs(z).max():6.2f}             {np.abs(z2).max():8.1f}       {s}")
        assert np.abs(z).max() < 5 and np.abs(z2).max() > 20
        if shown is None:
            shown = (act, H, s**2 * est.mean)

    # away from the optimum: Fisher = Gauss-Newton part only
    Wt, vt = symhess.teacher(2, 2, rng)
    W, v = Wt + 0.5 * rng.standard_normal(Wt.shape), vt + 0.5 * rng.standard_normal(2)
    est = fisher_information_mc("erf", W, v, n, rng=rng)
    gn = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, part="gauss_newton")
    full = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt)
    zg, zf = np.abs(est.z_scores(gn)).max(), np.abs(est.z_scores(full)).max()
    print(f" away from the optimum (erf): max|z| vs Gauss-Newton {zg:.2f}, vs full Hessian {zf:.1f}")
    assert zg < 5 and zf > 20

    # NTK: (1/N) J^T J and (1/N) J J^T share their nonzero eigenvalues (rank <= min(P, N))
    W, v = symhess.teacher(4, 3, rng)
    for N in (6, 40):
        _, J = network_jacobian("erf", W, v, rng.standard_normal((N, 4)))
        h_emp = np.linalg.eigvalsh(J.T @ J / N)
        ntk = np.linalg.eigvalsh(J @ J.T / N)
        k = min(J.shape)
        assert np.allclose(h_emp[-k:], ntk[-k:], rtol=1e-10, atol=1e-12)
        assert np.sum(h_emp > 1e-10 * h_emp[-1]) <= min(N, J.shape[1])
    print(" NTK Gram J J^T / N and empirical Hessian J^T J / N: equal nonzero spectra, rank <= min(P, N)")

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        act, H, F = shown
        fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
        lim = np.abs(H).max()
        for ax, M, title in ((axes[0], H, r"expected Hessian $H^\star$"),
                             (axes[1], F, r"Monte Carlo Fisher $s^2\hat F$")):
            im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"{act}: {title}", fontsize=9)
        fig.colorbar(im, ax=axes, shrink=0.8)
        for ext in ("png", "pdf"):
            fig.savefig(args.out / f"43_fisher_equals_hessian.{ext}", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
