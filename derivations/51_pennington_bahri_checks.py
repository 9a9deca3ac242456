"""
Pennington-Bahri: independent checks of the free-sum law
========================================================

The law of ``symhess.pennington_bahri`` comes from the derived polynomial equation for G and a
root-continuation; here it is compared with routes that use neither:

* sampled matrices: H0 = J J^T with J (N x N/phi) of i.i.d. N(0, 1/(N/phi)) entries (Wishart,
  Marchenko-Pastur of ratio phi) plus a GOE H1 = A + A^T, A_ij ~ N(0, eps/N) (semicircle of
  variance 2 eps), or for the ReLU variant H1 = X diag(+-a) X^T / N with X (N x N/phi) standard
  Gaussian and a = phi sqrt(eps/2) (a compound free Poisson law of rate 1/phi and jumps +-a, whose
  R-transform is exactly the slides' eps phi w / (2 - eps phi^2 w^2)). Kolmogorov-Smirnov
  distance between the eigenvalues and the law's CDF, and the fraction of negative eigenvalues
  against alpha; a negative control (eps doubled) shows the comparison can fail;
* alpha(eps, phi) by scipy's adaptive quadrature of the density (after x = l + u^2, which removes
  the square-root edge), against ``index()`` (Chebyshev series of the CDF);
* (full mode) the ``freealg`` package's free Levy law (MP + semicircle), density on the real line.

Run: ``python derivations/51_pennington_bahri_checks.py [--quick] [--out DIR]``
(quick: N = 1000, one ReLU case, to stay within the test budget; the default test suite samples the
linear model at N = 2000 (tests/test_free_law.py); full: N = 4000, phi in {0.25, 0.5, 0.75}, and freealg).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np


def sample_eigenvalues(n: int, phi: float, eps: float, rng: np.random.Generator, act: str) -> np.ndarray:
    """Eigenvalues of one Wishart + (GOE or compound free Poisson) matrix of size n."""
    p = int(round(n / phi))
    J = rng.standard_normal((n, p)) / math.sqrt(p)
    if act == "wigner":
        A = rng.standard_normal((n, n)) * math.sqrt(eps / n)
        H1 = A + A.T
    else:
        a = phi * math.sqrt(eps / 2)
        X = rng.standard_normal((n, p))
        H1 = (X * np.where(np.arange(p) % 2 == 0, a, -a)) @ X.T / n
    return np.linalg.eigvalsh(J @ J.T + H1)


def ks_distance(law, eigs: np.ndarray) -> float:
    eigs = np.sort(eigs)
    n = eigs.size
    F = law.cdf(eigs)
    return float(max(np.max(np.arange(1, n + 1) / n - F), np.max(F - np.arange(n) / n)))


def negative_mass_by_quad(law) -> float:
    """alpha by scipy.integrate.quad of the density on (-inf, 0), edges regularised by x = l + u^2."""
    from scipy import integrate

    total = 0.0
    for l, r in law.support:
        if l >= 0:
            continue
        right = min(r, 0.0)
        f = lambda u: 2 * u * float(law.pdf(l + u * u))  # noqa: E731
        total += integrate.quad(f, 0.0, math.sqrt(right - l), epsabs=1e-14, epsrel=1e-11, limit=400)[0]
    return total + sum(m for x, m in law.atoms if x < 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 1000, one ReLU case, no freealg")
    ap.add_argument("--out", type=Path, default=None, help="directory for the figure")
    args = ap.parse_args(argv)

    import symhess

    rng = np.random.default_rng(2017)
    if args.quick:
        n, cases = 1000, [("relu_block", 0.75, 0.1)]
    else:
        n = 4000
        # energies above eps_c (linear: 0.044, 0.011, 0.0013; ReLU: 0.63, 0.081, 0.0063)
        cases = [("wigner", 0.25, 0.1), ("wigner", 0.5, 0.1), ("wigner", 0.75, 0.02),
                 ("relu_block", 0.25, 1.5), ("relu_block", 0.5, 0.2), ("relu_block", 0.75, 0.1)]
    samples = {}
    print(f"sampled matrices, N = {n}")
    print("  H1      phi   eps    KS      KS(2 eps)  frac<0   alpha    |diff|")
    for act, phi, eps in cases:
        eigs = sample_eigenvalues(n, phi, eps, rng, act)
        law = symhess.pennington_bahri(phi, eps, activation=act)
        ks = ks_distance(law, eigs)
        ks_wrong = ks_distance(symhess.pennington_bahri(phi, 2 * eps, activation=act), eigs)
        frac, alpha = float(np.mean(eigs < 0)), law.index()
        print(f"  {act:6s}  {phi:.2f}  {eps:.2f}  {ks:.4f}  {ks_wrong:.4f}     {frac:.4f}   {alpha:.4f}   "
              f"{abs(frac - alpha):.4f}")
        # eigenvalues are rigid: KS ~ 3e-3 at N = 1000, ~2e-3 at N = 2000; a factor 2 in eps gives > 0.03
        assert ks < 0.01 and ks_wrong > 0.02, (act, phi, eps, ks, ks_wrong)
        assert abs(frac - alpha) < 0.01, (act, phi, eps, frac, alpha)
        samples[(act, phi, eps)] = (eigs, law)

    print("alpha by adaptive quadrature of the density vs index() (Chebyshev CDF)")
    grid = [("wigner", 0.5, 0.05), ("relu_block", 0.5, 0.2)]
    if not args.quick:
        grid += [("wigner", 1.5, 0.05)] + [("wigner", phi, e) for phi in (0.25, 0.75) for e in (0.05, 0.3)] + [("relu_block", 3.0, 0.1)]
    for act, phi, eps in grid:
        law = symhess.pennington_bahri(phi, eps, activation=act)
        direct, alpha = negative_mass_by_quad(law), law.index()
        print(f"  {act:6s} phi={phi:.2f} eps={eps:.2f}: quad {direct:.12f}  index {alpha:.12f}")
        assert direct > 1e-3 and abs(direct - alpha) <= 1e-9 * direct

    if not args.quick:
        import freealg.distributions as fd

        print("freealg 0.12 FreeLevy (MP + semicircle) density on the real line, eta = 1e-9")
        for phi in (0.25, 0.5, 0.75):
            for eps in (0.01, 0.1):
                ref = fd.FreeLevy(t=[phi], w=[1.0], lam=1 / phi, a=0.0, sigma=math.sqrt(2 * eps))
                law = symhess.pennington_bahri(phi, eps)
                x = np.linspace(law.support[0][0] - 0.2, law.support[-1][1] + 0.2, 200)
                # point by point: freealg's vectorised call warm-starts along the grid and can
                # jump branch near the left edge (0.12.2)
                rho_fa = np.array([ref.stieltjes(complex(xx + 1e-9j)).imag / np.pi for xx in x])
                err = float(np.max(np.abs(law.pdf(x) - rho_fa)))
                print(f"  phi={phi:.2f} eps={eps:.2f}: max |rho - rho_freealg| = {err:.1e}")
                assert err < 1e-6

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        keys = list(samples)
        cols = min(len(keys), 4)
        rows = math.ceil(len(keys) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.4 * rows), squeeze=False)
        for ax, key in zip(axes.ravel(), keys):
            eigs, law = samples[key]
            ax.hist(eigs, bins=120, density=True, alpha=0.45, label=f"eigvalsh, N={n}")
            x = np.linspace(eigs.min() - 0.1, eigs.max() + 0.1, 800)
            ax.plot(x, law.pdf(x), "k", lw=1, label="free sum (derived)")
            ax.axvline(0, color="r", lw=0.5)
            act, phi, eps = key
            ax.set_title(rf"{act} $H_1$, $\phi={phi}$, $\epsilon={eps}$: "
                         rf"$\alpha={law.index():.3f}$ vs {np.mean(eigs < 0):.3f}", fontsize=9)
            ax.set_ylim(0, min(3.0, ax.get_ylim()[1]))
            ax.legend(fontsize=7)
        for ax in axes.ravel()[len(keys):]:
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(args.out / "51_pennington_bahri_checks.png", dpi=110)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
