"""
Linear teacher-student net: the nonzero Hessian spectrum is a scaled chi^2 convolved with a scaled MP law (eq. 15)
================================================================================================================

Couto et al., Section 3.1 and Appendix A, eqs. (8)-(10) and (15), and their Fig. 2 (the two panels
(Ni, Nh) = (10, 20) and (30, 10)). At the optimum of f(x) = v^T W x the expected Hessian has rank Ni and its nonzero
eigenvalues are |v|^2 + spec(W^T W): the shift s = |v|^2 ~ var_v chi^2_Nh is shared by the whole
teacher, and spec(W^T W) follows the MP law scaled by Nh/Ni (plus an atom at 0 of weight 1 - Nh/Ni when
Nh < Ni: those eigenvalues equal s exactly, the pure chi^2 component).

This script samples teachers, assembles their expected Hessians (symhess.expected_hessian, the same code
as for nonlinear nets), and checks: rank = Ni; the chi^2 atom is exact; one eigenvalue per teacher follows
symhess.linear_spectrum_law by the Kolmogorov-Smirnov test (bound: exact critical value at level 1e-3
plus the finite-size allowance 0.25/min(Ni, Nh) for the N -> inf MP part); laws with a doubled variance
are rejected by the same bound. Figure: histogram of all nonzero eigenvalues against the density.

Run: ``python derivations/40_linear_spectrum_law.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer teachers")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.linear_law import ks_critical_value, ks_distance

    n_teachers = 800 if args.quick else 3000
    rng = np.random.default_rng(2512)
    results = {}
    print(" (Ni, Nh)    P   rank  atom    KS      bound   KS(2 var_v)  KS(2 var_w)")
    for ni, nh in ((10, 20), (30, 10)):
        law = symhess.linear_spectrum_law(ni, nh)
        P = symhess.n_params(ni, nh)
        pooled, one = [], []
        for t in range(n_teachers):
            W, v = symhess.teacher(ni, nh, rng)
            if t < (4 if args.quick else 200):  # the assembled Hessian: rank and exact chi^2 atom
                eig = np.linalg.eigvalsh(symhess.expected_hessian("linear", W, v))
                nonzero = eig[-ni:]
                assert np.abs(eig[:-ni]).max() < 1e-12 * eig[-1], "rank must be Ni"
                assert nonzero[0] > 1e-6
                if nh < ni:
                    assert np.allclose(nonzero[: ni - nh], v @ v, rtol=1e-12), "pure chi^2 component"
            else:  # same spectrum (checked above), cheaper
                nonzero = np.linalg.eigvalsh((v @ v) * np.eye(ni) + W.T @ W)
            pooled.append(nonzero)
            one.append(nonzero[rng.integers(ni)])
        one = np.array(one)
        bound = ks_critical_value(len(one), 1e-3) + 0.25 / min(ni, nh)
        d = ks_distance(one, law.cdf)
        d_v = ks_distance(one, symhess.linear_spectrum_law(ni, nh, var_v=2 / nh).cdf)
        d_w = ks_distance(one, symhess.linear_spectrum_law(ni, nh, var_w=2 / ni).cdf)
        print(f" ({ni:2d}, {nh:2d})  {P:4d}  {ni:3d}  {law.atom_weight:.3f}  {d:.4f}  {bound:.4f}   {d_v:.4f}       {d_w:.4f}")
        assert d < bound and d_v > bound
        assert d_w > bound or args.quick  # 800 draws are too few to reject a doubled var_w at (30, 10)
        pooled = np.concatenate(pooled)
        # the mean eigenvalue is exact for finite teachers: Nh (var_v + var_w) = 1 + Nh/Ni
        assert abs(pooled.mean() - (1 + nh / ni)) < 5 * pooled.std() / np.sqrt(n_teachers)
        results[(ni, nh)] = (law, pooled)

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        for ax, ((ni, nh), (law, pooled)) in zip(axes, results.items()):
            ax.hist(pooled, bins=80, density=True, alpha=0.5, label=f"{n_teachers} teachers")
            x = np.linspace(0, np.quantile(pooled, 0.999), 600)
            ax.plot(x, law.pdf(x), "k", lw=1.5, label=r"$\chi^2\circledast$MP (eq. 15)")
            if law.atom_weight:
                ax.plot(x, law.atom_weight * law.shift_pdf(x), "r--", lw=1, label=r"pure $\chi^2$ part")
            ax.set_title(f"linear net, $N_i$={ni}, $N_h$={nh}: nonzero eigenvalues")
            ax.set_xlabel(r"$\lambda$")
            ax.set_ylabel(r"density of nonzero eigenvalues")
            ax.legend(fontsize=8)
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(args.out / f"40_linear_spectrum_law.{ext}", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
