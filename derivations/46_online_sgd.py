"""
Online SGD in high dimensions: order-parameter equations, plateaus, and the Hessian at the fixed point
=====================================================================================================

Saad & Solla (1995) and Goldt et al. (2019): as the input dimension grows, online SGD on a
teacher-student two-layer network follows closed equations for the overlaps Q = W W^T, R = W W*^T and
the output weights v (symhess.online_sgd_ode). This script

1. integrates them for the soft committee machine with erf(z/sqrt 2) units (trained first layer,
   v = v* = 1) from a nearly unspecialised start, and asserts the symmetric plateau (the loss stalls at
   a value the units share) and the escape to the teacher (one R_in -> 1 per student unit);
2. runs direct online SGD at two input dimensions and asserts that the gap to the equations shrinks
   like N_i^(-1/2);
3. linearises the equations at the teacher fixed point and asserts that, for a small learning rate, the
   rates are -eta times the eigenvalues of the expected Hessian (Couto et al., eq. 7) in the teacher
   span, and -eta(mu_i + mu_k) from its orthogonal bulk; the term of order eta^2 then sets the largest
   stable learning rate;
4. trains students wider than the teacher (Goldt et al., Fig. 2) and asserts that every width learns
   (the loss falls tenfold); the figure shows the plateaus and escapes.

Run: ``python derivations/46_online_sgd.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def _frame(coef: np.ndarray, n_in: int, rng: np.random.Generator) -> np.ndarray:
    """Rows with Gram matrix coef coef^T in dimension n_in (an orthonormal frame times coef)."""
    O, _ = np.linalg.qr(rng.standard_normal((n_in, coef.shape[1])))
    return coef @ O.T


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs, smaller simulations")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.online import linearise_at_teacher

    act = "erf:scale=1/sqrt(2)"  # Saad & Solla's g(z) = erf(z / sqrt 2)
    rng = np.random.default_rng(46)

    # -- 1. plateau and specialisation ---------------------------------------------------------
    M = 3
    coef = np.zeros((2 * M, 2 * M))
    coef[:M, :M] = np.eye(M)                                   # teacher: T = I
    coef[M:, M:] = 0.3 * np.eye(M)                             # student: Q(0) = 0.09 I ...
    coef[M:, :M] = 1e-3 * rng.random((M, M))                   # ... R(0) ~ 1e-3
    U = _frame(coef, 2 * M, rng)
    Wt, W0 = U[:M], U[M:]
    ones = np.ones(M)
    t_max = 1500.0 if args.quick else 3000.0
    plateau = symhess.online_sgd_ode(act, W0, ones, Wt, ones, lr=0.5, t_max=t_max, train_v=False)
    t, loss = plateau.t, plateau.loss
    on_plateau = (t > 10) & (t < 100)
    level = loss[on_plateau]
    print(f"plateau: eps_g in [{level.min():.5f}, {level.max():.5f}] for 10 < t < 100; final {loss[-1]:.2e}")
    assert level.max() / level.min() - 1 < 0.01, "the loss stalls on the symmetric plateau"
    assert loss[-1] < 1e-3 * level.min(), "the student escapes the plateau and learns the teacher"
    assert np.all(loss > -plateau.loss_atol), "a negative loss is rounding within the stated bound"
    R_end = plateau.R[-1]
    assert np.allclose(np.sort(np.abs(R_end), axis=1)[:, -1], 1.0, atol=1e-2), "each unit specialises"
    assert sorted(np.argmax(np.abs(R_end), axis=1)) == list(range(M)), "onto distinct teacher units"
    # on the plateau the units are interchangeable: R has one diagonal and one off-diagonal value
    mid = np.searchsorted(t, 50.0)
    spread = np.ptp(plateau.R[mid])
    print(f"plateau R spread at t = 50: {spread:.2e}")

    # -- 2. simulations converge to the equations --------------------------------------------------
    nh = nt = 2
    coef2 = rng.normal(size=(nh + nt, nh + nt)) / 2
    vt, v0 = np.array([1.0, -0.7]), np.array([0.2, 0.4])
    times = np.linspace(0, 5 if args.quick else 20, 21)
    dims = (100, 1600) if args.quick else (250, 4000)
    gaps, sims = {}, {}
    ode_curve = None
    for n_in in dims:
        gap = []
        for seed in range(2 if args.quick else 4):
            U = _frame(coef2, n_in, np.random.default_rng(seed))
            W0s, Wts = U[:nh], U[nh:]
            ode = symhess.online_sgd_ode("erf", W0s, v0, Wts, vt, lr=1.0, t_max=times[-1], times=times)
            sim = symhess.online_sgd_simulation("erf", W0s, v0, Wts, vt, lr=1.0, t_max=times[-1], times=times,
                                                rng=seed)
            gap.append(np.abs(sim.loss - ode.loss).max() / ode.loss[0])
            ode_curve = ode.loss
            sims.setdefault(n_in, sim.loss)
        gaps[n_in] = float(np.mean(gap))
    print("ODE vs simulation, max |eps_sim - eps_ode| / eps(0):", {k: f"{g:.3f}" for k, g in gaps.items()})
    ratio = gaps[dims[0]] / gaps[dims[1]]
    assert ratio > 2, f"the gap shrinks with N_i (expected a factor ~{np.sqrt(dims[1] / dims[0]):.0f}, got {ratio:.2f})"

    # -- 3. linearisation at the teacher fixed point --------------------------------------------------
    n_in, nh = 8, 3
    Wt3, vt3 = symhess.teacher(n_in, nh, rng=rng)
    lin = linearise_at_teacher("erf", Wt3, vt3, lr=1.0, second_order=False)
    H = symhess.expected_hessian("erf", Wt3, vt3)
    basis, _ = np.linalg.qr(Wt3.T)
    complement = np.linalg.qr(np.c_[basis, rng.standard_normal((n_in, 1))])[0][:, -1]
    span = np.zeros((H.shape[0], nh * nh + nh))
    col = 0
    for i in range(nh):
        for j in range(nh):
            span[i * n_in:(i + 1) * n_in, col] = basis[:, j]
            col += 1
    for i in range(nh):
        span[nh * n_in + i, col] = 1.0
        col += 1
    perp = np.zeros((H.shape[0], nh))
    for i in range(nh):
        perp[i * n_in:(i + 1) * n_in, i] = complement
    lam = np.linalg.eigvalsh(span.T @ H @ span)
    mu = np.linalg.eigvalsh(perp.T @ H @ perp)
    predicted = np.sort(np.r_[-lam, [-(mu[i] + mu[k]) for i in range(nh) for k in range(i, nh)]])
    rates = np.sort(lin.eigenvalues.real)
    err = np.abs(rates - predicted).max() / np.abs(predicted).max()
    print(f"linearised rates vs -Hessian eigenvalues (teacher span + bulk pairs): max rel. error {err:.1e}")
    assert err < 1e-6
    full = linearise_at_teacher("erf", Wt3, vt3)
    eta_max = full.max_stable_lr()
    print(f"largest stable learning rate (eta^2 term included): {eta_max:.3f}; slowest rate at eta = 1: "
          f"{full.slowest_rate(1.0):.3e} vs eta lambda_min+ = {lam.min():.3e}")
    assert full.slowest_rate(0.5 * eta_max) > 0 > full.slowest_rate(1.05 * eta_max)

    # -- 4. wider students -----------------------------------------------------------------------
    nt = 2
    Wt4, vt4 = symhess.teacher(60, nt, rng=np.random.default_rng(1))
    widths = (2, 4) if args.quick else (2, 3, 4, 6)
    t4 = 200.0 if args.quick else 2000.0
    wide = {}
    for nh in widths:
        W04, v04 = symhess.teacher(60, nh, rng=np.random.default_rng(10 + nh))
        wide[nh] = symhess.online_sgd_ode(act, 0.5 * W04, v04, Wt4, vt4, lr=0.5, t_max=t4)
    for nh, tr in wide.items():
        print(f"N_h = {nh} (N_t = {nt}): eps_g(t_max) = {tr.final_loss:.2e}")
    assert all(tr.final_loss < 0.1 * tr.loss[0] for tr in wide.values())

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(2, 2, figsize=(11, 8))
        a = ax[0, 0]
        shown = loss > plateau.loss_atol  # below the rounding bound the loss is zero to rounding
        a.loglog(t[shown][1:], loss[shown][1:], "k-", label=r"$\varepsilon_g$")
        a.set_xlabel("t = steps / N_i")
        a.set_ylabel(r"generalisation error $\varepsilon_g$")
        a2 = a.twinx()
        for i in range(M):
            for n in range(M):
                a2.semilogx(t[1:], plateau.R[1:, i, n], lw=0.8)
        a2.set_ylabel(r"overlaps $R_{in}$")
        a.set_title("1. symmetric plateau and specialisation (M = 3)")
        a = ax[0, 1]
        a.plot(times, ode_curve, "k-", lw=2, label="ODE (N_i -> inf)")
        for n_in, s in sims.items():
            a.plot(times, s, "o-", ms=3, label=f"online SGD, N_i = {n_in}")
        a.set_xlabel("t")
        a.set_ylabel(r"$\varepsilon_g$")
        a.legend()
        a.set_title("2. simulation vs equations")
        a = ax[1, 0]
        a.plot(predicted, rates, "o")
        lim = [predicted.min() * 1.1, 0]
        a.plot(lim, lim, "k--", lw=0.8)
        a.set_xlabel(r"$-\lambda(H)$ (span) and $-(\mu_i+\mu_k)$ (bulk)")
        a.set_ylabel("eigenvalues of the linearised equations")
        a.set_title(r"3. linearisation at the teacher ($\eta \to 0$)")
        a = ax[1, 1]
        for nh, tr in wide.items():
            a.loglog(tr.t[1:], tr.loss[1:], label=f"N_h = {nh}")
        a.set_xlabel("t")
        a.set_ylabel(r"$\varepsilon_g$")
        a.legend()
        a.set_title(f"4. students wider than the teacher (N_t = {nt})")
        fig.tight_layout()
        fig.savefig(args.out / "46_online_sgd.png", dpi=110)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
