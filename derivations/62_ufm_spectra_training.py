"""
Deep linear UFM: layer-wise Hessian and weight spectra over training (G&K Figures 3, 4 and 8)
============================================================================================

Gradient descent from a small random start; at log-spaced checkpoints the full spectrum of the
layer-wise MSE Hessian of one layer (from its two Kronecker factors), the alignment
v^T H v / ||H v|| of the K^2 predicted eigenvectors vec(hbar_{l+1,c} hbar_{l,c'}^T) (Theorem 4.1),
the eigenvalues of W_l W_l^T (Theorem 4.4) and the DNC1 metric. The paper's observations: the
eigenvalues start near zero, K^2 outliers separate quickly and converge, on a longer time scale, to a
single value mu_l; the predicted vectors become eigenvectors; K weight eigenvalues separate and
converge to tau/lambda_l.

Run: ``python derivations/62_ufm_spectra_training.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller model and fewer steps")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    from symhess import DeepLinearUFM

    if args.quick:
        K, n, d, L, lam, steps = 3, 4, 8, 4, 1e-2, 5000
    else:
        K, n, d, L, lam, steps = 3, 20, 16, 4, 2e-3, 40000
    layer = 3  # the paper tracks the third layer
    m = DeepLinearUFM(K, n, d, L, reg_w=lam, reg_h=lam)
    th = m.theory()
    mu, w_eig = th.hessian_eigenvalues[layer - 1], th.weight_eigenvalues[layer - 1]
    run = m.train(steps=steps, lr=0.5, rng=0, record_at=60, track_layers=[layer])
    ev = run.hessian_eigenvalues[layer]  # (R, d*d), descending
    al = run.eigvec_alignment[layer].reshape(len(run.steps), -1)
    we = run.weight_eigenvalues[layer]
    k2 = K * K
    print(f"K={K} n={n} d={d} L={L} lambda={lam}, layer {layer}: mu_l = {mu:.8f}, tau/lambda_l = {w_eig:.8f}")
    for r in np.linspace(0, len(run.steps) - 1, 8).astype(int):
        print(f"  step {run.steps[r]:6d}: top-{k2} Hessian eig in [{ev[r, k2 - 1]:.3e}, {ev[r, 0]:.3e}], "
              f"next {ev[r, k2]:.2e}; min alignment {al[r].min():.4f}; NC1 {run.nc1[r, layer - 1]:.2e}")

    # Figure 3: initially there is no group of K^2 outliers: the K^2-th eigenvalue is close to zero and
    # not separated from the bulk ...
    assert ev[0, k2 - 1] < 0.05 * mu and ev[0, k2 - 1] < 2 * ev[0, k2]
    # ... the K^2 outliers separate from the bulk early ...
    separated = ev[:, k2 - 1] > 100 * np.maximum(ev[:, k2], 1e-300)
    equal = (ev[:, 0] - ev[:, k2 - 1]) < 1e-2 * mu
    t_sep = run.steps[np.argmax(separated)]
    t_eq = run.steps[np.argmax(equal & separated)]
    assert separated.any() and (equal & separated).any() and t_sep < t_eq
    # ... and converge, on a longer time scale, to the single value mu_l of Theorem 4.1
    assert np.allclose(ev[-1, :k2], mu, rtol=1e-6) and ev[-1, k2] < 1e-8 * mu
    print(f"outliers separated by step {t_sep}, equal to 1% by step {t_eq}; final top-{k2} = mu_l to 1e-6")
    # Figure 4: the predicted eigenvectors start far from eigenvectors and become exact ones
    assert al[0].min() < 0.9 and al[-1].min() > 1 - 1e-9
    # Figure 8: K weight eigenvalues separate and converge to tau / lambda_l (Theorem 4.4)
    assert we[0, K - 1] < 3 * we[0, K] and np.allclose(we[-1, :K], w_eig, rtol=1e-6) and we[-1, K] < 1e-8
    assert np.all(run.nc1[-1] < 1e-10)  # DNC1 holds throughout the network at convergence

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        t = np.maximum(run.steps, 1)
        fig, axes = plt.subplots(1, 4, figsize=(18, 4))
        axes[0].plot(t, ev[:, :k2], color="C3", lw=1)
        axes[0].plot(t, ev[:, k2:k2 + 10], color="C0", lw=0.7)
        axes[0].axhline(mu, ls="--", color="k", lw=0.8, label=r"$\mu_l$ (Thm 4.1)")
        axes[0].set_title(f"Fig. 3: layer-{layer} Hessian eigenvalues")
        axes[1].plot(t, al, lw=1)
        axes[1].set_title("Fig. 4: alignment of predicted eigenvectors")
        axes[2].plot(t, we[:, :K], color="C3", lw=1)
        axes[2].plot(t, we[:, K:], color="C0", lw=0.7)
        axes[2].axhline(w_eig, ls="--", color="k", lw=0.8, label=r"$\tau/\lambda_l$ (Thm 4.4)")
        axes[2].set_title(f"Fig. 8: eigenvalues of $W_{layer}W_{layer}^T$")
        axes[3].loglog(t, np.maximum(run.nc1, 1e-35))
        axes[3].set_title("DNC1 per layer")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel("GD step")
        axes[0].legend()
        axes[2].legend()
        fig.tight_layout()
        fig.savefig(args.out / "62_ufm_spectra_training.png", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
