"""
Deep linear UFM: Papyan's decomposition of the layer-wise Hessian and its knockouts
===================================================================================

Garrod & Keating, Theorem 4.2 and Figures 5 and 6; Papyan (2020).

With extended gradients delta_{i,k} = d yhat_{i,k} / d vec W_l, the layer-wise Hessian splits exactly
into a within-class part, a cross-class part (covariance over the output index k within a class) and
a class part (second moment of the class means; for MSE the global-mean term is kept in it). At a
global optimum: within = 0, class has rank K, cross has rank K(K-1), their images are orthogonal and
all nonzero eigenvalues equal mu_l; so knocking out (subtracting) within changes nothing, class removes
K and cross removes K(K-1) outliers. Along training the script records the outliers of each knockout.

Run: ``python derivations/63_ufm_papyan_knockouts.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

NAMES = ("none", "within", "cross", "class")


def _top(M: np.ndarray, k: int) -> np.ndarray:
    return np.linalg.eigvalsh(M)[::-1][:k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller model and fewer steps")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    from symhess import DeepLinearUFM

    if args.quick:
        K, n, d, L, lam, steps = 3, 4, 6, 4, 1e-2, 4000
    else:
        K, n, d, L, lam, steps = 3, 20, 16, 4, 2e-3, 40000
    layer = 3
    m = DeepLinearUFM(K, n, d, L, reg_w=lam, reg_h=lam)
    mu = m.theory().hessian_eigenvalues[layer - 1]
    stages = np.unique(np.round(np.geomspace(1, steps, 12)).astype(int))
    k_show = K * K + 3
    spectra = {name: [] for name in NAMES}
    within_norm = []
    point, done = m.random_point(0), 0
    for t in stages:
        point = m.train(steps=int(t - done), lr=0.5, init=point, spectra=False, record_at=[int(t - done)]).final
        done = t
        dec = m.papyan_decomposition(point, layer)
        spectra["none"].append(_top(dec.total, k_show))
        for name in NAMES[1:]:
            spectra[name].append(_top(dec.knockout(name), k_show))
        within_norm.append(np.linalg.norm(dec.within) / np.linalg.norm(dec.total))
    spectra = {k: np.array(v) for k, v in spectra.items()}

    def count(ev: np.ndarray) -> int:
        return int((ev > 1e-6 * mu).sum())

    print(f"K={K} n={n} d={d} L={L} lambda={lam}, layer {layer}, mu_l = {mu:.6f}")
    print("  step   |within|/|G|   outliers: G, G-within, G-cross, G-class")
    for r, t in enumerate(stages):
        print(f"  {t:6d}   {within_norm[r]:.2e}      " + ", ".join(str(count(spectra[nm][r])) for nm in NAMES))

    dec = m.papyan_decomposition(point, layer)
    # Theorem 4.2 (a): the within-class part vanishes at the optimum (DNC1) ...
    assert np.abs(dec.within).max() < 1e-10 * mu and within_norm[0] > 1e-2
    # ... (b) class part: rank K; (c) cross part: rank K(K-1); all nonzero eigenvalues mu_l; orthogonal images
    assert count(_top(dec.classes, k_show)) == K and count(_top(dec.cross, k_show)) == K * (K - 1)
    assert np.allclose(_top(dec.classes, K), mu, rtol=1e-6) and np.allclose(_top(dec.cross, K * (K - 1)), mu, rtol=1e-6)
    assert np.abs(dec.classes @ dec.cross).max() < 1e-8 * mu**2
    # Figures 5-6: knockouts remove 0, K(K-1) and K outliers respectively
    final = {name: count(spectra[name][-1]) for name in NAMES}
    assert final == {"none": K * K, "within": K * K, "cross": K, "class": K * (K - 1)}, final
    print(f"final knockout outlier counts {final}: within removes 0, cross removes K(K-1), class removes K")

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for name, marker in zip(NAMES, "os^v"):
            axes[0].plot(stages, spectra[name], marker, ms=3, color={"none": "k", "within": "C0", "cross": "C1",
                                                                    "class": "C2"}[name], alpha=0.6)
        axes[0].set_xscale("log")
        axes[0].set_title("Fig. 5: top eigenvalues of G and its knockouts")
        axes[0].set_xlabel("GD step")
        x = np.arange(k_show)
        for j, name in enumerate(NAMES):
            axes[1].bar(x + 0.2 * j, spectra[name][-1], width=0.2, label=f"G - {name}" if name != "none" else "G")
        axes[1].axhline(mu, ls="--", color="k", lw=0.8)
        axes[1].set_title("Fig. 6: knockouts at convergence")
        axes[1].set_xlabel("eigenvalue index")
        axes[1].legend()
        fig.tight_layout()
        fig.savefig(args.out / "63_ufm_papyan_knockouts.png", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
