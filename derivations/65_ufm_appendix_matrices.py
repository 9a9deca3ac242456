"""
Deep linear UFM: gradient covariance, back-propagated errors and features
=========================================================================

Garrod & Keating, Appendix E: Theorems E.1-E.3 and Figures 12-14.

The statements of Appendix E were lost in extraction; docs/ufm.md re-derives them:

* E.1 per-sample MSE gradients g_i = vec(A_l^T r_i h_{l,i}^T): the second moment has rank K and the
  covariance rank K-1, both with the single eigenvalue (1-x)^2 mu_l;
* E.2 extended back-propagated errors e_{i,k} = A_l^T (yhat_i - e_k): rank K, K-1 eigenvalues
  alpha_l^2 (1 + x^2) and one smaller eigenvalue alpha_l^2 (1 - x)^2;
* E.3 features (1/N) H_l H_l^T: rank K, eigenvalue m_l^2 / K.

The script trains from a random start and checks each prediction at the GD optimum (log-scale plots,
as the paper does, because (1-x)^2 is small).

Run: ``python derivations/65_ufm_appendix_matrices.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def _nonzero(M: np.ndarray, rtol: float = 1e-7) -> np.ndarray:
    ev = np.linalg.eigvalsh(M)[::-1]
    return ev[ev > rtol * ev[0]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller model and fewer steps")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    from symhess import DeepLinearUFM

    if args.quick:
        K, n, d, L, lam, steps = 3, 4, 6, 4, 1e-2, 5000
    else:
        K, n, d, L, lam, steps = 3, 20, 16, 4, 2e-3, 40000
    m = DeepLinearUFM(K, n, d, L, reg_w=lam, reg_h=lam)
    th = m.theory()
    stages = np.unique(np.round(np.geomspace(10, steps, 8)).astype(int))
    point, done = m.random_point(0), 0
    history = []
    for t in stages:
        point = m.train(steps=int(t - done), lr=0.5, init=point, spectra=False, record_at=[int(t - done)]).final
        done = t
        history.append({l: (np.linalg.eigvalsh(m.gradient_moment(point, l, centred=True))[::-1][:K + 2],
                            np.linalg.eigvalsh(m.backprop_error_moment(point, l))[::-1][:K + 2],
                            np.linalg.eigvalsh(m.feature_moment(point, l))[::-1][:K + 2]) for l in range(1, L + 1)})

    print(f"K={K} n={n} d={d} L={L} lambda={lam}: x* = {th.x:.8f}, (1-x*)^2 = {(1 - th.x) ** 2:.3e}")
    for l in range(1, L + 1):
        i = l - 1
        cov = _nonzero(m.gradient_moment(point, l, centred=True))
        sec = _nonzero(m.gradient_moment(point, l, centred=False))
        # Theorem E.1: covariance rank K-1, second moment rank K, one common eigenvalue (1-x)^2 mu_l
        assert cov.size == K - 1 and sec.size == K
        assert np.allclose(cov, th.gradient_moment_eigenvalues[i], rtol=1e-5)
        assert np.allclose(sec, th.gradient_moment_eigenvalues[i], rtol=1e-5)
        bp = _nonzero(m.backprop_error_moment(point, l), rtol=1e-9)
        big, small = th.backprop_error_eigenvalues[i]
        # Theorem E.2: rank K; K-1 equal eigenvalues and one smaller one
        assert bp.size == K and np.allclose(bp[:-1], big, rtol=1e-6) and np.isclose(bp[-1], small, rtol=1e-4)
        ft = _nonzero(m.feature_moment(point, l))
        # Theorem E.3: rank K, eigenvalue m_l^2 / K
        assert ft.size == K and np.allclose(ft, th.feature_moment_eigenvalues[i], rtol=1e-6)
        print(f"  layer {l}: grad cov {np.round(cov, 10)} (pred {th.gradient_moment_eigenvalues[i]:.4e} x{K - 1}); "
              f"backprop {np.round(bp, 6)} (pred {big:.6f} x{K - 1}, {small:.3e}); features {np.round(ft, 6)}")
    # early in training none of this structure is present
    first = history[0][L]
    assert first[0][K - 1] > 1e-3 * first[0][0]  # the covariance has more than K-1 significant directions

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        layer = min(3, L)
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        titles = ["Fig. 12: gradient covariance", "Fig. 13: back-propagated errors", "Fig. 14: features"]
        preds = [[th.gradient_moment_eigenvalues[layer - 1]], list(th.backprop_error_eigenvalues[layer - 1]),
                 [th.feature_moment_eigenvalues[layer - 1]]]
        for j, ax in enumerate(axes):
            vals = np.array([h[layer][j] for h in history])
            ax.semilogy(stages, np.maximum(vals, 1e-20), "o-", ms=3)
            for p in preds[j]:
                ax.axhline(p, ls="--", color="k", lw=0.8)
            ax.set_xscale("log")
            ax.set_xlabel("GD step")
            ax.set_title(f"{titles[j]} (layer {layer})")
        fig.tight_layout()
        fig.savefig(args.out / "65_ufm_appendix_matrices.png", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
