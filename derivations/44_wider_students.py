"""
Wider students: the Hessian on the manifold of global minima, and along training
================================================================================

A teacher with N_t units, a student with N_s >= N_t. The population loss is exactly zero on the
families of global minima (Simsek et al. 2021): zero units (v = 0, any incoming weights), split units
(a teacher unit copied, output weights sharing v*), mixtures, permutations. This script

1. builds points of each family with symhess.global_minimum and proves the counting rules
   (split: the matched rank r_t; zero/mixed: min(r_t + N_z, D)) by exact ranks over Q (polynomials)
   and certified ranks (erf: ball Cholesky lower bound meeting the explicit null vectors);
2. checks the explicit null vectors (tangent to the family, and the degenerate split directions)
   exactly, and compares the manifold's dimension with the nullity;
3. compares spectra, matched against wider: the nonzero spectrum at any family point is that of
   D^1/2 B D^1/2 (B: the Hessian of the reduced network, D = A A^T diagonal), so split copies with equal
   shares divide the weight of the w-directions by m and multiply that of the v ones by m; a zero unit
   adds one feature sigma(u.x), so every nonzero eigenvalue can only rise and, when the rank grows
   (erf), a new smallest one appears below the old (rank-one interlacing): lambda_min+ falls for erf
   and rises for a polynomial whose rank is already saturated; lambda_min+ enclosed in ball arithmetic;
4. trains matched and wider students from random initialisations by population gradient flow and
   tracks the Hessian's rank and extreme eigenvalues, the family reached, and the loss tail against
   exp(-2 lambda_min+ t).

Run: ``python derivations/44_wider_students.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def counting(quick: bool) -> list[tuple]:
    import symhess
    from symhess.two_layer.counting import measure_wider_rank
    from symhess.two_layer.minimum_hessian import exact_null_check, family_dimension, minimum_null_directions

    # poly:coeffs=[c_1, c_2, ...]: z^2, z^3, z + z^3, z^2 + z^4
    acts = ["linear", "quadratic", "poly:coeffs=[0,1]", "poly:coeffs=[0,0,1]", "poly:coeffs=[1,0,1]",
            "poly:coeffs=[0,1,0,1]", "erf"]
    sizes = [(2, 1, 3), (3, 2, 5), (1, 2, 4)] + ([] if quick else [(4, 2, 6), (3, 3, 7), (5, 1, 4)])
    rows = []
    print("activation              (Ni,Nt,Ns)  kind   rule [status]          measured (status)  family dim / null vectors")
    for act in acts:
        for Ni, Nt, Ns in sizes:
            for kind in ("zero", "split", "mixed"):
                e = symhess.effective_parameters(act, Ni, Ns, n_teacher=Nt, kind=kind)
                m = measure_wider_rank(act, Ni, Nt, Ns, kind, rng=Ni + 10 * Nt + 100 * Ns)
                Wt, vt = symhess.rational_teacher(Ni, Nt, rng=Ns)
                W, v, st = symhess.global_minimum(Wt, vt, Ns, kind, rng=Ni, return_structure=True,
                                                  permutation="random")
                d = minimum_null_directions(W, v, st)
                dim, n_null = family_dimension(Ni, Nt, Ns, st.n_zero)
                assert d.tangent.shape[1] == dim and d.count == n_null
                if act != "erf" and act != "linear":
                    assert exact_null_check(act, W, v, d.all)
                print(f"{act:22s}  {str((Ni, Nt, Ns)):10s}  {kind:5s}  {e.value:4d} [{e.status:11s}]  "
                      f"{m.rank:4d} ({m.status})  {dim} / {n_null}")
                assert m.status == "exact" and m.rank == e.value, (act, Ni, Nt, Ns, kind, e.value, m.rank)
                rows.append((act, Ni, Nt, Ns, kind, e.value, m.rank))
    return rows


def spectra(quick: bool):
    import symhess
    from symhess.two_layer.minimum_hessian import certified_smallest_nonzero_eigenvalue, minimum_nonzero_spectrum

    Ni = Nt = 3 if quick else 4
    extras = range(0, 4 if quick else 6)
    teachers = 2 if quick else 6
    curves = {("erf", k): [] for k in ("zero", "split")} | {("quadratic", k): [] for k in ("zero", "split")}
    example = {}
    print(f"\nspectra at Ni = Nt = {Ni}: lambda_min+ (erf: certified enclosure midpoints) against Ns - Nt")
    for seed in range(teachers):
        Wt, vt = symhess.rational_teacher(Ni, Nt, rng=seed)
        _, _, s_all = symhess.global_minimum(Wt, vt, Nt + max(extras), "zero", rng=seed, return_structure=True)
        Z = symhess.global_minimum(Wt, vt, Nt + max(extras), "zero", rng=seed)[0][Nt:]
        for act in ("erf", "quadratic"):
            prev, prev_top = None, None
            lz, ls = [], []
            for extra in extras:
                Wz, vz, sz = symhess.global_minimum(Wt, vt, Nt + extra, "zero", zero_weights=Z[:extra],
                                                    return_structure=True)
                m = [1 + extra // Nt + (1 if g < extra % Nt else 0) for g in range(Nt)]
                shares = [f"1/{mg}" for mg in m for _ in range(mg)]
                Ws, vs, ss = symhess.global_minimum(Wt, vt, Nt + extra, "split", shares=shares, return_structure=True)
                for kind, (W, v, st), acc in (("zero", (Wz, vz, sz), lz), ("split", (Ws, vs, ss), ls)):
                    r = symhess.effective_parameters(act, Ni, Nt + extra, n_teacher=Nt, kind=kind).value
                    H = symhess.expected_hessian(act, W.astype(float), v.astype(float))
                    e = np.sort(np.linalg.eigvalsh(H))
                    nz = minimum_nonzero_spectrum(act, W, v, st)
                    top = e[-len(nz):]
                    # the nonzero spectrum of H is that of D^1/2 B D^1/2 (zeros of B for polynomials included)
                    assert np.abs(top - nz).max() <= 1e-12 * e[-1], (act, kind, extra)
                    if kind == "zero":  # a zero unit adds the feature sigma(u.x): H's nonzero spectrum is that of
                        # the operator sum_a phi_a phi_a^T, so every eigenvalue (descending) can only rise
                        top_desc = e[::-1][:r]
                        if prev_top is not None:
                            k = len(prev_top)
                            assert np.all(top_desc[:k] >= prev_top - 1e-12 * e[-1]), (act, seed, extra)
                        prev_top = top_desc
                    if act == "erf":
                        lo, hi = certified_smallest_nonzero_eigenvalue(act, W, v, st)
                        assert lo > 0 and lo <= e[-r] * (1 + 1e-8) + 1e-15 and hi >= e[-r] * (1 - 1e-8) - 1e-15
                        lam = 0.5 * (lo + hi)
                        if kind == "zero" and prev is not None:  # ... and a new one appears below the old smallest
                            assert lo <= prev[1], (seed, extra, lo, prev)
                        if kind == "zero":
                            prev = (lo, hi)
                    else:
                        lam = e[-r]
                    acc.append(lam)
                    if seed == 0 and act == "erf" and extra == 2:
                        example[kind] = e
            curves[(act, "zero")].append(lz)
            curves[(act, "split")].append(ls)
        if seed == 0:
            W2, v2 = symhess.global_minimum(Wt, vt, Nt + 2, "mixed", n_zero=1, rng=7)
            example["mixed"] = np.sort(np.linalg.eigvalsh(symhess.expected_hessian("erf", W2.astype(float),
                                                                                   v2.astype(float))))
            example["matched"] = np.sort(np.linalg.eigvalsh(symhess.expected_hessian("erf", Wt.astype(float),
                                                                                     vt.astype(float))))
    for key, arr in curves.items():
        med = np.median(np.array(arr), axis=0)
        print(f"  {key[0]:9s} {key[1]:5s}: " + "  ".join(f"{x:.3e}" for x in med))
    return list(extras), curves, example


def training(quick: bool):
    import symhess
    from symhess.two_layer.training_tracker import track_training

    runs = []
    cases = [("matched", 1, "random", 101, 4), ("wider", 2, "random", 101, 4)]
    if not quick:
        cases += [("wider", 2, "random", 102, 4), ("wider", 3, "random", 103, 5), ("split start", 2, "split", 0, 4)]
    Wt, vt = symhess.teacher(2, 1, rng=1)
    print("\ntraining (erf, Ni = 2, Nt = 1, gradient flow to t = 1e4 or 1e5): family reached, rank, "
          "tail rate / 2 lambda_min+")
    for label, Ns, start, seed, decades in cases:
        rng = np.random.default_rng(seed)
        if start == "random":
            W0 = rng.normal(0, 1 / np.sqrt(2), (Ns, 2))
            v0 = rng.normal(0, 1 / np.sqrt(Ns), Ns)
        else:
            W, v = symhess.global_minimum(Wt, vt, Ns, start, rng=seed)
            W0, v0 = W + 0.02 * rng.normal(size=W.shape), v + 0.02 * rng.normal(size=v.shape)
        times = np.concatenate([[0.0], np.logspace(0, decades, 2 * decades + 1)])
        tol = dict(rtol=1e-8, atol=1e-11) if decades > 4 else {}  # BDF needs looser tolerances past t = 1e4
        tr = track_training("erf", W0, v0, Wt, vt, times, classify_tol=1e-3 if start == "random" else 3e-2, **tol)
        fam = tr.structure.kind
        ratio = None if tr.predicted_rate is None or tr.fitted_rate is None else tr.fitted_rate / tr.predicted_rate
        print(f"  {label:12s} Ns={Ns}: loss {tr.loss[0]:.2e} -> {tr.loss[-1]:.2e}; family {fam}; rank "
              f"{tr.rank[0]} -> {tr.rank[-1]} (at the minimum {tr.rank_at_minimum}); |H - H_min|/|H_min| = "
              f"{tr.hessian_gap if tr.hessian_gap is None else f'{tr.hessian_gap:.1e}'}; rate ratio "
              f"{'n/a' if ratio is None else f'{ratio:.3f}'}")
        if fam in ("matched", "zero"):
            n_zero = tr.structure.n_zero
            rule = symhess.effective_parameters("erf", 2, Ns, n_teacher=1, kind="zero" if n_zero else "split").value
            assert tr.rank_at_minimum == rule and tr.hessian_gap < 1e-4
            assert abs(ratio - 1) < 0.1, ratio  # the fit uses the last three checkpoints above 1e-28
        if fam == "split":  # quartic directions: the tail is slower than exp(-2 lambda_min+ t)
            assert ratio < 0.5, ratio
        runs.append((label, Ns, tr))
    if not quick:  # the width-3 student ends with two zero units and one sign-flipped copy (-w*, -v*)
        tr3 = runs[3][2]
        assert tr3.structure.kind == "zero" and tr3.structure.n_zero == 2 and tr3.rank_at_minimum == 5
    assert any(tr.structure.kind == "zero" for _, Ns, tr in runs if Ns > 1)
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sizes, teachers and training runs")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    counting(args.quick)
    extras, curves, example = spectra(args.quick)
    runs = training(args.quick)

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
        for k, (name, e) in enumerate(sorted(example.items(), key=lambda kv: len(kv[1]))):
            e = np.sort(e)[::-1]
            pos = e > e[0] * 1e-13
            ax[0].semilogy(np.flatnonzero(pos), e[pos], "o-", ms=3, label=f"{name} (P = {len(e)})")
            ax[0].semilogy(np.flatnonzero(~pos), np.full((~pos).sum(), e[0] * 1e-14), "x", color=f"C{k}")
        ax[0].set(xlabel="index (descending)", ylabel="eigenvalue",
                  title="erf, Ni = Nt: matched and Ns = Nt + 2 (x: zero eigenvalues)")
        ax[0].legend(fontsize=7)
        for (act, kind), arr in curves.items():
            ax[1].semilogy(extras, np.median(np.array(arr), axis=0), "o-" if kind == "zero" else "s--",
                           label=f"{act}, {kind} units")
        ax[1].set(xlabel="Ns - Nt", ylabel=r"median $\lambda^+_{\min}$", title="slowest learning rate at the minimum")
        ax[1].legend(fontsize=7)
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(args.out / f"44_wider_students_spectra.{ext}", dpi=120)
        plt.close(fig)

        fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
        for label, Ns, tr in runs:
            t = np.maximum(tr.times, 0.1)
            ax[0].loglog(t, np.maximum(tr.loss, 1e-30), ".-", label=f"{label}, Ns = {Ns} ({tr.structure.kind})")
            ax[1].semilogx(t, tr.rank, ".-", label=f"{label}, Ns = {Ns}")
        ax[0].set(xlabel="t", ylabel="population loss", title="erf, Ni = 2, Nt = 1: gradient flow")
        ax[1].set(xlabel="t", ylabel="numerical rank (|λ| > 1e-9 λ_max)", title="Hessian rank along training")
        ax[0].legend(fontsize=7)
        ax[1].legend(fontsize=7)
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(args.out / f"44_wider_students_training.{ext}", dpi=120)
        plt.close(fig)
        for label, Ns, tr in runs:
            tr.write(args.out / f"44_training_{label.replace(' ', '_')}_Ns{Ns}")
    print("\nall wider-student assertions passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
