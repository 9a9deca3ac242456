"""
Linear teacher-student net with correlated inputs x ~ N(0, Sigma): the spectrum law generalising eq. (15)
======================================================================================================

At the optimum of f(x) = v^T W x with x ~ N(0, Sigma) the expected Hessian is H = A Sigma A^T,
A = (v (x) I ; W), so H_WW = v v^T (x) Sigma, H_Wv = v (x) Sigma W^T, H_vv = W Sigma W^T, and its nonzero
eigenvalues are those of M_s = s Sigma + Sigma^1/2 W^T W Sigma^1/2, s = |v|^2 (exact at every size). The
shift now multiplies Sigma: the law is mu_Sigma [x] (delta_s [+] MP) mixed over s ~ var_v chi^2_Nh, computed by
symhess.two_layer.linear_covariance_law (deterministic equivalent: one scalar equation per point),
with exact chi^2 atoms where an eigenvalue of Sigma has multiplicity above Nh. For a fixed number of
spikes the bulk is eq. (15) and each spike of strength a > a_c(s) gives an outlier in closed form.

Worked examples: a spiked covariance (a fraction beta = 1/4 of the inputs with variance 1 + 3), a power-law
covariance (variances k^-1) and single spikes of several strengths. Checks: the exact reduction against
the assembled Hessian (symhess.expected_hessian with input_cov); one eigenvalue per teacher against the
law (Kolmogorov-Smirnov, bound: critical value at level 1e-3 plus the finite-size allowance 0.25/min(Ni, Nh));
the whole spectrum of one large teacher against the law given its shift; the exact mean; a law with a
doubled var_w rejected; the outlier against the teachers' largest eigenvalue and the bulk edge below
threshold. Figure: histograms of the measured spectra against the law, and the outlier against the spike.

Run: ``python derivations/45_linear_law_correlated_inputs.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer teachers")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.covariances import power_law_covariance, spiked_covariance
    from symhess.two_layer.linear_covariance_law import (
        linear_covariance_law, linear_covariance_moments, spiked_outlier, spiked_threshold)
    from symhess.two_layer.linear_law import ks_critical_value, ks_distance

    rng = np.random.default_rng(4517)

    # 1. the exact reduction against the assembled Hessian (small sizes, dense Sigma)
    for ni, nh in ((4, 3), (3, 5)):
        W, v = symhess.teacher(ni, nh, rng)
        A = rng.standard_normal((ni, ni))
        Sigma = A @ A.T / ni + 0.1 * np.eye(ni)
        H = symhess.expected_hessian("linear", W, v, input_cov=Sigma)
        lam, U = np.linalg.eigh(Sigma)
        S = (U * np.sqrt(lam)) @ U.T
        red = np.linalg.eigvalsh(S @ ((v @ v) * np.eye(ni) + W.T @ W) @ S)
        eig = np.linalg.eigvalsh(H)
        assert np.allclose(eig[-ni:], red, rtol=1e-10), "nonzero spectrum = spec(Sigma^1/2 (s + W^T W) Sigma^1/2)"
        assert np.abs(eig[:-ni]).max() < 1e-12 * eig[-1], "rank Ni"
        assert np.allclose(H[: ni * nh, : ni * nh], np.kron(np.outer(v, v), Sigma)), "H_WW = v v^T (x) Sigma"
    print("exact reduction: nonzero spectrum of H = spec(s Sigma + Sigma^1/2 W^T W Sigma^1/2)  [checked]")

    # 2. the law against measured spectra
    ni, nh = (60, 120) if args.quick else (200, 400)
    n_teachers = 150 if args.quick else 1500
    cases = {
        "spiked 1/4, +3": spiked_covariance(ni, 0.25, 3.0),
        "power k^-1": power_law_covariance(ni, 1.0),
        "power k^-1, Nh < Ni": power_law_covariance(ni, 1.0),
    }
    sizes = {"spiked 1/4, +3": (ni, nh), "power k^-1": (ni, nh), "power k^-1, Nh < Ni": (ni, ni // 2)}
    results = {}
    print(f"\n{'Sigma':22s} (Ni, Nh)    KS one   bound    KS(2 var_w)  KS one teacher | s   mean: measured  exact")
    for name, tau in cases.items():
        n_i, n_h = sizes[name]
        law = linear_covariance_law(n_i, n_h, tau, n_shift=16 if args.quick else 48,
                                    n_grid=500 if args.quick else 1500)
        wrong = linear_covariance_law(n_i, n_h, tau, var_w=2.0 / n_i, n_shift=16, n_grid=500)
        r = np.sqrt(tau)
        pooled, one = [], []
        for _ in range(n_teachers):
            W, v = symhess.teacher(n_i, n_h, rng)
            e = np.linalg.eigvalsh((v @ v) * np.diag(tau) + (W * r).T @ (W * r))
            pooled.append(e)
            one.append(e[rng.integers(n_i)])
        one = np.array(one)
        bound = ks_critical_value(len(one), 1e-3) + 0.25 / min(n_i, n_h)
        d, d_w = ks_distance(one, law.cdf), ks_distance(one, wrong.cdf)
        W, v = symhess.teacher(n_i, n_h, rng)  # one large teacher, the law given its shift
        e = np.linalg.eigvalsh((v @ v) * np.diag(tau) + (W * r).T @ (W * r))
        d_one = ks_distance(e, lambda x, s=v @ v: law.conditional_cdf(x, s))
        pooled = np.concatenate(pooled)
        m1, _ = linear_covariance_moments(n_i, n_h, tau)
        se = pooled.reshape(n_teachers, n_i).mean(axis=1).std() / np.sqrt(n_teachers)
        print(f"{name:22s} ({n_i:3d}, {n_h:3d})  {d:.4f}  {bound:.4f}   {d_w:.4f}       {d_one:.4f}"
              f"            {pooled.mean():.4f}  {m1:.4f}")
        assert d < bound, f"{name}: one eigenvalue per teacher follows the law"
        assert d_w > bound or args.quick, f"{name}: a doubled var_w is rejected (150 draws are too few at Nh < Ni)"
        assert d_one < 0.4 / min(n_i, n_h) ** 0.5, f"{name}: one teacher's spectrum follows the law given s"
        assert abs(pooled.mean() - m1) < 5 * se, "the mean eigenvalue is exact"
        assert abs(law.mean() - m1) < 1e-12 * m1 and abs(law.moment(1) - m1) < 2e-3 * m1
        results[name] = (law, pooled)

    # 3. one spike: outlier in closed form above a_c(s), bulk edge below
    n_i, n_h = (80, 160) if args.quick else (300, 600)
    strengths = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    n_spike = 12 if args.quick else 60
    measured = []
    print(f"\none spike, (Ni, Nh) = ({n_i}, {n_h}); threshold a_c(s=1) = {float(spiked_threshold(n_i, n_h, 1.0)):.3f}")
    print("  a     lambda_max measured   predicted (outlier, or bulk edge)")
    for a in strengths:
        tau = np.ones(n_i)
        tau[0] += a
        r = np.sqrt(tau)
        top, pred = [], []
        for _ in range(n_spike):
            W, v = symhess.teacher(n_i, n_h, rng)
            s = v @ v
            top.append(np.linalg.eigvalsh(s * np.diag(tau) + (W * r).T @ (W * r))[-1])
            out = spiked_outlier(n_i, n_h, a, s)
            pred.append(out if np.isfinite(out) else s + (np.sqrt(n_h / n_i) + 1) ** 2)
        top, pred = np.array(top), np.array(pred)
        rel = top / pred - 1
        print(f"  {a:4.2f}  {top.mean():8.4f} +- {top.std() / np.sqrt(n_spike):.4f}   {pred.mean():8.4f}")
        tol = 0.06 if args.quick else 0.03
        assert abs(rel.mean()) < tol, f"spike a = {a}: largest eigenvalue at the prediction"
        measured.append((a, top, pred))

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.9))
        for ax, name in zip(axes[:2], ("spiked 1/4, +3", "power k^-1")):
            law, pooled = results[name]
            if name.startswith("power"):
                bins = np.geomspace(np.quantile(pooled, 0.001), pooled.max(), 70)
                ax.hist(pooled, bins=bins, density=True, alpha=0.5, label=f"{n_teachers} teachers")
                x = np.geomspace(bins[0], bins[-1], 600)
                ax.set_xscale("log")
            else:
                ax.hist(pooled, bins=90, density=True, alpha=0.5, label=f"{n_teachers} teachers")
                x = np.linspace(0, np.quantile(pooled, 0.9995), 800)
            ax.plot(x, law.pdf(x), "k", lw=1.3, label=r"law: $\mu_\Sigma\boxtimes(\delta_s\boxplus$MP$)$, mixed over $s$")
            ax.set_title(f"{name}: $N_i$={law.n_in}, $N_h$={law.n_hidden}", fontsize=10)
            ax.set_xlabel(r"$\lambda$")
            ax.set_ylabel("density of nonzero eigenvalues")
            ax.legend(fontsize=7)
        ax = axes[2]
        a_grid = np.linspace(0.05, strengths.max() * 1.05, 300)
        out = np.array([spiked_outlier(n_i, n_h, a, 1.0) for a in a_grid])
        edge = 1.0 + (np.sqrt(n_h / n_i) + 1) ** 2
        ax.plot(a_grid, np.where(np.isfinite(out), out, edge), "k", lw=1.3, label="prediction at $s=1$")
        ax.axvline(float(spiked_threshold(n_i, n_h, 1.0)), color="grey", ls=":", lw=1, label="$a_c(1)$")
        for a, top, pred in measured:
            ax.errorbar(a, top.mean(), yerr=top.std(), fmt="o", color="C0", ms=4)
        ax.errorbar([], [], yerr=[], fmt="o", color="C0", ms=4, label=f"largest eigenvalue, {n_spike} teachers")
        ax.set_xlabel("spike strength $a$ ($\\Sigma=I+a\\,e_1e_1^\\top$)")
        ax.set_ylabel(r"$\lambda_{\max}$")
        ax.set_title(f"one spike: outlier (BBP-type), $N_i$={n_i}, $N_h$={n_h}", fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(args.out / f"45_linear_law_correlated_inputs.{ext}", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
