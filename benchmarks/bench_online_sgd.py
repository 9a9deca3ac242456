"""Online SGD: the order-parameter equations against a direct simulation reaching the same accuracy.

Run: ``python benchmarks/bench_online_sgd.py [--n-hidden 10] [--t-max 1e4]``

1. Time to integrate the equations (erf, Nh = Nt, v trained, lr = 0.5) to ``t_max``, warm (the
   kernels are compiled once per activation; the first call is timed separately).
2. The cost of a direct simulation: one SGD step at input dimension N costs O(Nh N); reaching time
   t takes t N steps. Its deviation from the N -> infinity trajectory is a fluctuation of order
   N^(-1/2), measured here on a short horizon at two dimensions; the N needed for a 1% relative
   deviation follows from that scaling, and the time of such a run is extrapolated from the measured
   time per step (stated as an extrapolation).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _timing import best_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--n-hidden", type=int, default=10)
    ap.add_argument("--t-max", type=float, default=1e4)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    import symhess

    nh = args.n_hidden
    Wt, vt = symhess.teacher(500, nh, rng=0)
    W0, v0 = symhess.teacher(500, nh, rng=1)
    W0 = 0.1 * W0
    t0 = time.perf_counter()
    symhess.online_sgd_ode("erf", W0, v0, Wt, vt, lr=0.5, t_max=1.0)
    first = time.perf_counter() - t0
    t_ode, traj = best_of(lambda: symhess.online_sgd_ode("erf", W0, v0, Wt, vt, lr=0.5, t_max=args.t_max), args.repeat)
    print(f"ODE, erf, Nh = Nt = {nh}, t_max = {args.t_max:g}: {t_ode:.2f} s warm (first call incl. compilation "
          f"{first:.2f} s); eps_g {traj.loss[0]:.3g} -> {traj.loss[-1]:.3g}")

    # the simulation's fluctuation about the equations, on a short horizon, at two input dimensions
    horizon = np.linspace(0, 5, 11)
    gaps = {}
    for n_in in (250, 1000):
        rng = np.random.default_rng(n_in)
        U = np.vstack([W0, Wt])
        lam, V = np.linalg.eigh(U @ U.T)
        coef = V * np.sqrt(np.clip(lam, 0, None))
        frame, _ = np.linalg.qr(rng.standard_normal((n_in, coef.shape[1])))
        U2 = coef @ frame.T
        ode = symhess.online_sgd_ode("erf", U2[:nh], v0, U2[nh:], vt, lr=0.5, t_max=horizon[-1], times=horizon)
        t_sim0 = time.perf_counter()
        sim = symhess.online_sgd_simulation("erf", U2[:nh], v0, U2[nh:], vt, lr=0.5, t_max=horizon[-1],
                                            times=horizon, rng=n_in)
        per_step = (time.perf_counter() - t_sim0) / (horizon[-1] * n_in)
        gaps[n_in] = (float(np.abs(sim.loss - ode.loss).max() / ode.loss.max()), per_step)
        print(f"simulation N_i = {n_in}: max |eps_sim - eps_ode| / max eps = {gaps[n_in][0]:.3g}; "
              f"{per_step * 1e6:.1f} us per step")
    n_lo, n_hi = sorted(gaps)
    c = gaps[n_hi][0] * np.sqrt(n_hi)
    n_needed = (c / 0.01) ** 2
    per_step = gaps[n_hi][1] * n_needed / n_hi  # a step costs O(Nh N)
    t_sim = per_step * args.t_max * n_needed
    print(f"fluctuation ~ {c:.2f} / sqrt(N_i) (from N_i = {n_hi}; {gaps[n_lo][0] / gaps[n_hi][0]:.2f}x smaller than at "
          f"N_i = {n_lo}, sqrt ratio {np.sqrt(n_hi / n_lo):.2f}); 1% needs N_i ~ {n_needed:.3g}")
    print(f"direct simulation to t = {args.t_max:g} at that N_i: ~{t_sim:.3g} s (extrapolated) = "
          f"{t_sim / t_ode:.3g} x the ODE")


if __name__ == "__main__":
    main()
