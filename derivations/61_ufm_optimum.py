"""
Deep linear UFM: regularisation threshold (2) and the closed-form global optimum (Theorem 3.1)
=============================================================================================

The regulariser, minimised over factorisations of the product, is a Schatten-2/(L+1) penalty, so each
of the K label directions solves min_x (x-1)^2/2 + (L+1)/2 beta x^{2/(L+1)}; a nonzero minimiser
exists iff beta <= beta_c = (1/L) ((L-1)/L)^{(L-1)/(L+1)}, and at beta_c the optimal scale jumps
from (L-1)/L to 0 (first-order transition for L >= 2). This script checks the threshold by brute force,
then compares the closed-form optimum with gradient descent from a random start (the instance
K=3, n=4, d=8, L=3 of derivations 62-67).

Run: ``python derivations/61_ufm_optimum.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def _brute_force_threshold(L: int) -> float:
    """Smallest beta for which min_{x>0} g(x) >= g(0) = 1/2, by bisection on a dense grid."""
    x = np.linspace(1e-7, 1.2, 200001)

    def nonzero_wins(beta: float) -> bool:
        return (0.5 * (x - 1) ** 2 + 0.5 * (L + 1) * beta * x ** (2 / (L + 1))).min() < 0.5

    lo, hi = 0.0, 1.5
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if nonzero_wins(mid) else (lo, mid)
    return 0.5 * (lo + hi)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="stronger regularisation, fewer GD steps")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    from symhess import DeepLinearUFM, RegularisationTooStrongError
    from symhess.ufm.optimum import collapse_scale, critical_beta, scale_objective

    print(" L   beta_c (formula)   beta_c (brute force)   x at beta_c")
    for L in range(1, 7):
        bc, bf = critical_beta(L), _brute_force_threshold(L)
        # condition (2): the threshold is exactly beta_c
        assert abs(bc - bf) < 1e-4, (L, bc, bf)
        x_c = collapse_scale(bc, L)
        # first-order transition: x jumps from (L-1)/L to 0, both with objective 1/2
        assert x_c == (L - 1) / L and abs(scale_objective(x_c, bc, L) - 0.5) < 1e-14
        print(f"{L:2d}   {bc:.8f}         {bf:.8f}             {x_c:.4f}")

    # closed form vs gradient descent
    scale = 10.0 if args.quick else 1.0
    reg_w = [2e-3 * scale, 3e-3 * scale, 1e-3 * scale]
    reg_h = 2e-3 * scale
    steps = 6000 if args.quick else 80000
    m = DeepLinearUFM(3, 4, 8, 3, reg_w=reg_w, reg_h=reg_h)
    th = m.theory()
    opt = m.optimum()
    run = m.train(steps=steps, lr=0.5, rng=0, spectra=False, record_at=30)
    p = run.final
    print(f"\nK=3 n=4 d=8 L=3 reg_w={reg_w} reg_h={reg_h}: beta={th.beta:.4g} (beta_c={th.beta_c:.4g}), x*={th.x:.10f}")
    print(f"objective: closed form {th.objective:.15f}   GD after {steps} steps {run.objective[-1]:.15f}")
    assert m.objective(opt) - th.objective < 1e-14  # the constructed point attains 1/2 (1-x)(1+Lx)
    assert abs(run.objective[-1] - th.objective) < 1e-10  # GD reaches the closed-form value (Theorem 3.1)
    assert np.all(run.objective >= th.objective - 1e-14)  # and never goes below it
    for l, W in enumerate(p.weights):
        s = np.linalg.svd(W, compute_uv=False)
        # DNC2: K equal singular values s_l = sqrt(tau / lambda_l), the rest zero
        assert np.allclose(s[:3], th.weight_singular_values[l], rtol=1e-6) and s[3:].max(initial=0) < 1e-6
        print(f"  W_{l + 1}: singular values {np.round(s[:4], 8)}  predicted {th.weight_singular_values[l]:.8f}")
    assert np.all(run.nc1[-1] < 1e-12)  # DNC1
    assert np.all(run.balancedness[-1] < 1e-6)  # DNC3 / balancedness
    P = p.weights[2] @ p.weights[1] @ p.weights[0] @ p.features
    assert np.abs(P - th.x * m.labels).max() < 1e-6  # W_L...W_1 H_1 = x* Y
    for l in (1, 2, 3):
        ev = m.layer_spectrum(p, l)
        assert np.allclose(ev[:9], th.hessian_eigenvalues[l - 1], rtol=1e-6) and ev[9] < 1e-8  # Theorem 4.1
    print("GD optimum: DNC1 = 0, balanced, product = x* Y, layer Hessians rank 9 with eigenvalue mu_l: OK")

    # above the threshold: no collapse, GD goes to zero
    strong = DeepLinearUFM(3, 4, 8, 3, reg_w=0.2, reg_h=0.2)
    try:
        strong.optimum()
        raise AssertionError("expected RegularisationTooStrongError")
    except RegularisationTooStrongError as exc:
        print(f"\nbeta={strong.beta:.3f} > beta_c: {exc.__class__.__name__}")
    zero_run = strong.train(steps=3000, lr=0.5, rng=0, spectra=False, record_at=3)
    assert zero_run.final.norm() < 1e-2 and abs(zero_run.objective[-1] - 0.5) < 1e-5  # trivial minimiser

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for L in range(1, 6):
            bc = critical_beta(L)
            b = np.linspace(0, bc, 400)
            xs = [collapse_scale(v, L) for v in b]
            axes[0].plot(np.r_[b, bc, 1.3 * bc] / bc, np.r_[xs, 0, 0], label=f"L={L}")
        axes[0].set_xlabel(r"$\beta/\beta_c$")
        axes[0].set_ylabel(r"$x^\star$")
        axes[0].set_title("optimal scale: jump at the threshold for L >= 2")
        axes[0].legend()
        axes[1].semilogy(run.steps[1:], np.maximum(run.objective[1:] - th.objective, 1e-17))
        axes[1].set_xscale("log")
        axes[1].set_xlabel("GD step")
        axes[1].set_ylabel(r"$\mathcal{L} - \mathcal{L}^\star$")
        axes[1].set_title("gradient descent reaches the closed form")
        fig.tight_layout()
        fig.savefig(args.out / "61_ufm_optimum.png", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
