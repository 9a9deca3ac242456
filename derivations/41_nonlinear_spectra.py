"""
Spectra of quadratic and erf teacher-student nets at the optimum (Figs. 4 and 5)
=================================================================================

Couto et al., Sections 4.1 and 5 (eqs. (11)-(13), (16)-(18)). Expected Hessians at the optimum for Ni = Nh = N
and teachers W ~ N(0, 1/N), v ~ N(0, 1/N), over a range of N. Asserted structural claims:

* quadratic, sigma = z + z^2 (eps = 1): one eigenvalue far above the bulk (lambda_1 / lambda_2 > 1.8 for
  every teacher, and increasing with N), growing with N, certified by lambda_1 >= (tr Q)^2 / Nh ~ N
  (the rank-one part Q_jj Q_ll of the vv block, eq. 13); the bulk (median eigenvalue) goes to zero.
* erf: all P eigenvalues positive (full rank, no compression); the widest gap of the log-spectrum
  separates exactly Nh eigenvalues (the outer bulk, the O(1) vv block) from the lower bulk, for every
  teacher with N >= 8 (at N <= 6 about one teacher in 40 has a vv eigenvalue inside the lower bulk);
  the lower bulk's mean is at most tr H_WW / (Nh Ni) (Ky Fan: the top Nh eigenvalues sum to at least
  tr H_vv), and for sigma = erf(z) (symhess's "erf"; the plain-erf variant of Couto et al.'s Section 5)
  tr H_WW <= (4/pi) Ni |v|^2, so the lower-bulk mean is certified to be <= (4/pi) |v|^2 / Nh = O(1/N)
  (|v|^2 ~ chi^2_N / N -> 1).

Run: ``python derivations/41_nonlinear_spectra.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller N, fewer teachers")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.teacher_spectra import (
        lower_bulk_bound, lower_bulk_mean, outer_bulk_count, outlier_ratio, quadratic_outlier_bound, teacher_spectra,
    )

    sizes = (8, 12, 16) if args.quick else (10, 20, 30, 40)
    n_teachers = 2 if args.quick else 4
    rng = np.random.default_rng(415)
    spectra = {"quadratic": {}, "erf": {}}

    print("quadratic (eps = 1):  N    lambda_1   lambda_1/lambda_2   (trQ)^2/Nh   median")
    tops, medians, mean_ratios = [], [], []
    for N in sizes:
        spec = teacher_spectra("quadratic", N, N, max(n_teachers, 48 // N), rng)
        spectra["quadratic"][N] = spec
        ratios = [outlier_ratio(e) for e in spec]
        W, v = symhess.teacher(N, N, rng)
        e = np.linalg.eigvalsh(symhess.expected_hessian("quadratic", W, v))
        bound = quadratic_outlier_bound(W, v)
        assert e[-1] >= bound, "certified lower bound on the outlier"
        assert min(ratios) > 1.8, ratios
        tops.append(spec[:, -1].mean())
        mean_ratios.append(np.mean(ratios))
        medians.append(np.median(spec, axis=1).mean())
        print(f"                     {N:3d}  {tops[-1]:9.3f}   {np.mean(ratios):8.3f}            "
              f"{bound:8.3f}     {medians[-1]:.2e}")
    assert tops[-1] > tops[0] and np.all(np.diff(mean_ratios) > 0), "the outlier grows and separates with N"
    assert np.all(np.diff(medians) < 0) and medians[-1] < 0.3 * medians[0], "the bulk goes to zero"

    print("erf:                  N    outer-bulk count   lower-bulk mean   Ky Fan bound   min eigenvalue")
    bounds = []
    for N in sizes:
        spec, lows, bnds = [], [], []
        for _ in range(n_teachers):
            W, v = symhess.teacher(N, N, rng)
            H = symhess.expected_hessian("erf", W, v)
            e = np.linalg.eigvalsh(H)
            assert outer_bulk_count(e) == N, "Nh eigenvalues in the outer bulk"
            assert e[0] > 0, "erf: full rank"
            lows.append(lower_bulk_mean(e, N))
            bnds.append(lower_bulk_bound(H, N, N))
            assert lows[-1] <= bnds[-1] * (1 + 1e-12), "Ky Fan"
            # sigma = erf(z): E[sigma'(h)^2 x_k^2] <= E[sigma'(h)^2] <= 4/pi, so tr H_WW <= (4/pi) Ni |v|^2
            assert bnds[-1] <= 4 / np.pi * (v @ v) / N
            spec.append(e)
        spectra["erf"][N] = np.array(spec)
        bounds.append(np.mean(bnds))
        print(f"                     {N:3d}   {N:5d} (= Nh)        {np.mean(lows):.3e}         {bounds[-1]:.3e}"
              f"      {np.min(spec):.2e}")
    assert bounds[-1] < bounds[0], "the certified bound on the lower bulk decreases with N"

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        for fig_no, act in ((4, "quadratic"), (5, "erf")):
            fig, ax = plt.subplots(figsize=(6.5, 4))
            for N, spec in spectra[act].items():
                tol = spec.shape[1] * np.finfo(float).eps * spec.max()  # numerical zeros: flat directions
                pos = spec[spec > tol]
                ax.hist(np.log10(pos), bins=60, histtype="step", density=True,
                        label=f"N = {N} ({spec.shape[1] - pos.size // len(spec)} zero modes/teacher omitted)"
                        if pos.size < spec.size else f"N = {N}")
            ax.set_xlabel(r"$\log_{10}\lambda$")
            ax.set_ylabel("density")
            title = "quadratic $z+z^2$" if act == "quadratic" else r"erf"
            ax.set_title(f"Fig. {fig_no}: {title}, $N_i=N_h=N$, eigenvalues of $H^\\star$")
            ax.legend(fontsize=8)
            fig.tight_layout()
            for ext in ("png", "pdf"):
                fig.savefig(args.out / f"41_{act}_spectra.{ext}", dpi=120)
            plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
