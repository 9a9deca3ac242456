"""
Deep linear UFM: the gradient in the natural basis and in the outlier eigenspace
================================================================================

Garrod & Keating, Theorem 4.3 and Figure 7; Gur-Ari, Roberts & Dyer (2018).

Theorem 4.3: at a global optimum the MSE gradient of W_l is -lambda_l W_l
= -sqrt(lambda_l tau) sum_c vec(hbar_{l+1,c} hbar_{l,c}^T) (unit class means): in the natural basis of
Theorem 4.1 only the K "diagonal" vectors (c, c) have a nonzero coefficient, all equal (1/sqrt K for
the unit descent direction). Along training the script records these K^2 coefficients (Figure 7) and
Gur-Ari et al.'s fraction of the gradient inside the top-K^2 Hessian eigenspace, both for the MSE
gradient (Theorem 4.3's object) and for the full gradient with weight decay.

Run: ``python derivations/64_ufm_gradient_alignment.py [--quick] [--out DIR]``
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
        K, n, d, L, lam, steps = 3, 4, 8, 4, 1e-2, 4000
    else:
        K, n, d, L, lam, steps = 3, 20, 16, 4, 2e-3, 40000
    layer = 3
    m = DeepLinearUFM(K, n, d, L, reg_w=lam, reg_h=lam)
    th = m.theory()
    run = m.train(steps=steps, lr=0.5, rng=0, record_at=60, track_layers=[layer])
    C = run.gradient_coefficients[layer]  # (R, K, K), unit descent direction of the MSE gradient
    diag = np.einsum("rcc->rc", C)
    off = C[:, ~np.eye(K, dtype=bool)]
    frac, frac_full = run.top_fraction[layer], run.top_fraction_full[layer]
    print(f"K={K} n={n} d={d} L={L} lambda={lam}, layer {layer}")
    print("  step    diag coeffs (-> 1/sqrt K = %.4f)     max |off-diag|   MSE-grad / full-grad in top-K^2" % (1 / np.sqrt(K)))
    for r in np.linspace(0, len(run.steps) - 1, 9).astype(int):
        print(f"  {run.steps[r]:6d}  {np.array2string(diag[r], precision=4):34s}  {np.abs(off[r]).max():.2e}"
              f"        {frac[r]:.4f} / {frac_full[r]:.4f}")

    # Theorem 4.3 / Figure 7: K equal nonzero coefficients 1/sqrt(K), the K(K-1) others zero
    assert np.allclose(diag[-1], 1 / np.sqrt(K), atol=1e-6) and np.abs(off[-1]).max() < 1e-6
    assert np.abs(off[0]).max() > 0.05  # not so at the random start
    # the raw coefficient is -sqrt(lambda_l tau): the MSE gradient equals -lambda_l W_l
    g = m.mse_gradient(run.final, layer)
    coeff = m.natural_basis(run.final, layer) @ g.ravel()
    assert np.allclose(np.diag(coeff), th.gradient_coefficients[layer - 1], rtol=1e-5)
    # Gur-Ari et al.: the MSE gradient quickly enters the top-K^2 eigenspace and stays there
    late = run.steps > run.steps[-1] / 20
    assert frac[~late].min() < 0.9 and np.all(frac[late] > 1 - 1e-6)
    # with weight decay the full gradient does NOT stay there: late in training it is the decay of the
    # weights' bulk components (null space of the MSE Hessian) that dominates it
    assert frac_full[-1] < 0.5
    print(f"final: coefficients = 1/sqrt(K) on (c, c), 0 elsewhere; raw coefficient {coeff[0, 0]:.6g} "
          f"= -sqrt(lambda tau) = {th.gradient_coefficients[layer - 1]:.6g}")

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        t = np.maximum(run.steps, 1)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        axes[0].plot(t, diag, color="C3", lw=1)
        axes[0].plot(t, off, color="C0", lw=0.7)
        axes[0].axhline(1 / np.sqrt(K), ls="--", color="k", lw=0.8, label=r"$1/\sqrt{K}$")
        axes[0].set_title("Fig. 7: gradient coefficients in the natural basis")
        axes[0].legend()
        axes[1].plot(t, frac, label="MSE gradient")
        axes[1].plot(t, frac_full, label="full gradient (with weight decay)")
        axes[1].set_title(r"fraction in the top-$K^2$ Hessian eigenspace")
        axes[1].legend()
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel("GD step")
        fig.tight_layout()
        fig.savefig(args.out / "64_ufm_gradient_alignment.png", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
