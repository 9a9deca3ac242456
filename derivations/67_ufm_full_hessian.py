"""
Deep linear UFM: the full Hessian inherits the K^2-outlier structure (G&K abstract; derived here)
================================================================================================

At a global optimum the Gauss-Newton part of the Hessian in all parameters (W_1..W_L, H_1) is
J^T J / N with the output-space kernel Theta(Delta) = (1/N) sum_j L_j L_j^T Delta R_j^T R_j; with
DNC this gives exactly K^2 eigenvalues Lambda = sum_l mu_l + mu_H (class-constant output
perturbations D Y), K(N-K) eigenvalues mu_H (within-class output perturbations, reachable only through
H_1) and zeros. Weights only: K^2 eigenvalues sum_l mu_l. The residual part (1/N) <Yhat - Y, d^2 Yhat>,
with Yhat - Y = (x-1) Y, acts on the outlier space as (x-1) tr(D^2): it splits the K^2 outliers into
K(K+1)/2 (symmetric D) at Lambda - delta and K(K-1)/2 (antisymmetric D) at Lambda + delta, to first
order in 1-x, delta = (2/K) x (1-x) e_2(lambda)/(tau e_1(lambda)). Checked against the dense Hessian
(whose blocks are checked against SymPy and finite differences in the tests), including the numbers
of a hand computation at K=3, n=4, d=8, L=3 (3 at 1.007, 6 at 0.995, 27 at 0.2503).

Run: ``python derivations/67_ufm_full_hessian.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer regularisation strengths in the sweep")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    from symhess import DeepLinearUFM

    # the instance K=3, n=4, d=8, L=3 of the hand computation
    K, n, d, L = 3, 4, 8, 3
    m = DeepLinearUFM(K, n, d, L, reg_w=[2e-3, 3e-3, 1e-3], reg_h=2e-3)
    th = m.theory()
    opt = m.optimum(rng=0)
    N = m.n_samples
    gn = np.linalg.eigvalsh(m.full_hessian(opt, part="gauss_newton"))[::-1]
    # Gauss-Newton part: K^2 at Lambda, K(N-K) at mu_H, the rest zero (derived here)
    assert np.allclose(gn[:K * K], th.full_outlier, rtol=1e-10)
    assert np.allclose(gn[K * K:K * N], th.feature_hessian_eigenvalue, rtol=1e-10)
    assert np.abs(gn[K * N:]).max() < 1e-12
    ev = np.linalg.eigvalsh(m.full_hessian(opt))[::-1]
    up, down = K * (K - 1) // 2, K * (K + 1) // 2
    tol = 2 * (1 - th.x) ** 2 * th.full_outlier
    # residual part: K(K-1)/2 up by delta, K(K+1)/2 down by delta, to O((1-x)^2)
    assert np.allclose(ev[:up], th.full_outlier + th.full_split, atol=tol)
    assert np.allclose(ev[up:K * K], th.full_outlier - th.full_split, atol=tol)
    assert th.full_split > 20 * tol  # the split is resolved
    # the hand computation: exactly 36 eigenvalues above 1e-2: 3 at 1.007, 6 at 0.995, 27 at 0.2503
    assert (ev > 1e-2).sum() == 36
    assert np.allclose(ev[[0, 3, 9, 35]], [1.0068, 0.9953, 0.2503, 0.2503], atol=6e-5)
    print(f"instance K=3, n=4, d=8, L=3: Lambda = {th.full_outlier:.6f}, delta = {th.full_split:.6f}, mu_H = "
          f"{th.feature_hessian_eigenvalue:.6f}; measured top eigenvalues {np.round(ev[:10], 6)}")
    n_w = sum(a * b for a, b in m.shapes[:-1])
    evw = np.linalg.eigvalsh(m.full_hessian(opt)[:n_w, :n_w])[::-1]
    assert np.allclose(evw[:up], th.weights_outlier + th.weights_split, atol=tol)
    assert np.allclose(evw[up:K * K], th.weights_outlier - th.weights_split, atol=tol)
    print(f"weights only: {K * K} outliers {np.round(evw[:K * K], 6)}; predicted "
          f"{th.weights_outlier:.6f} +- {th.weights_split:.6f}")

    # sweep the regularisation: the split grows like x(1-x), the first-order formula's error like (1-x)^2
    scales = np.geomspace(1, 30, 4 if args.quick else 10)
    rows = []
    for s in scales:
        ms = DeepLinearUFM(K, n, d, L, reg_w=[2e-3 * s, 3e-3 * s, 1e-3 * s], reg_h=2e-3 * s)
        ts = ms.theory()
        e = np.linalg.eigvalsh(ms.full_hessian(ms.optimum(rng=1)))[::-1]
        err = max(abs(e[0] - ts.full_outlier - ts.full_split), abs(e[up] - ts.full_outlier + ts.full_split))
        rows.append((1 - ts.x, ts.full_split, (e[0] - e[up]) / 2, err))
        assert err < 2 * (1 - ts.x) ** 2 * ts.full_outlier  # second-order remainder
    rows = np.array(rows)
    print("  1-x        delta (formula)   half-gap (measured)   |error|")
    for r in rows:
        print(f"  {r[0]:.3e}  {r[1]:.6e}      {r[2]:.6e}          {r[3]:.2e}")

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        axes[0].semilogy(ev[:60], "o", ms=3)
        for v, lab in [(th.full_outlier + th.full_split, r"$\Lambda+\delta$"), (th.full_outlier - th.full_split,
                       r"$\Lambda-\delta$"), (th.feature_hessian_eigenvalue, r"$\mu_H$")]:
            axes[0].axhline(v, ls="--", lw=0.8, label=lab, color="k" if lab == r"$\mu_H$" else None)
        axes[0].set_title("full Hessian at the optimum (K=3, n=4, d=8, L=3)")
        axes[0].legend()
        axes[1].loglog(rows[:, 0], rows[:, 1], "-", label=r"$\delta$ (first order)")
        axes[1].loglog(rows[:, 0], rows[:, 2], "o", label="measured half-gap")
        axes[1].loglog(rows[:, 0], rows[:, 3], "s", label="|error|")
        axes[1].set_xlabel(r"$1-x^\star$")
        axes[1].legend()
        axes[1].set_title("split of the K^2 outliers")
        fig.tight_layout()
        fig.savefig(args.out / "67_ufm_full_hessian.png", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
