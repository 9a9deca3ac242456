"""Benchmark: expected-Hessian spectrum end to end, and population gradients vs Monte Carlo.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_spectra.py [--n 100] [--repeat 1]

1. Spectrum of the expected Hessian of an erf net at Ni = Nh = n (P = n^2 + n) end to end: assembly
   (``symhess.expected_hessian``, kernels warmed up) and eigensolver (``numpy.linalg.eigvalsh``,
   LAPACK syevd), both timed in the same run; the eigensolver is the baseline. Also the matrix-free
   route (``symhess.hessian_spectrum(method="matrix_free")``: Lanczos extremes + SLQ density).
2. Population gradient of an erf student against its teacher (``symhess.population_gradient``)
   against a Monte Carlo gradient E[e grad f] at matched accuracy: the Monte Carlo time per sample
   is measured and its relative error at n samples is sigma_rel / sqrt(n) (sigma_rel measured), so
   the time to reach a relative error of 1e-2 / 1e-3 / 1e-6 follows; the kernels are exact to ~1e-13.
   Also the cancellation-free ``method="path"`` loss and gradient against ``"expansion"``.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="Ni = Nh for the spectrum")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.dynamics import network_jacobian

    rng = np.random.default_rng(0)
    # -- 1. spectrum end to end ------------------------------------------------------------------------
    n = args.n
    W, v = symhess.teacher(n, n, rng)
    symhess.expected_hessian("erf", W[:3, :3], v[:3])  # compile and warm the kernels
    t_asm, H = best_of(lambda: symhess.expected_hessian("erf", W, v), args.repeat)
    t_eig, eig = best_of(lambda: np.linalg.eigvalsh(H), args.repeat)
    P = H.shape[0]
    del H
    t_mf, spec = best_of(lambda: symhess.hessian_spectrum("erf", W, v, method="matrix_free", rng=0), args.repeat)
    print(f"spectrum, erf, Ni = Nh = {n}, P = {P}")
    print(f"  eigensolver (baseline)   {t_eig:8.2f} s   (1)")
    print(f"  assembly                 {t_asm:8.2f} s   ({t_asm / t_eig:.3f} x eigensolver)")
    print(f"  end to end               {t_asm + t_eig:8.2f} s   (assembly share {t_asm / (t_asm + t_eig):.1%})")
    print(f"  matrix-free route        {t_mf:8.2f} s   ({t_mf / (t_asm + t_eig):.3f} x dense end to end; "
          f"largest eigenvalue {spec.largest[-1]:.6f} vs dense {eig[-1]:.6f})")

    # -- 2. population gradient vs Monte Carlo --------------------------------------------------------
    for ni, nh in ((10, 10), (30, 30)):
        Wt, vt = symhess.teacher(ni, nh, rng)
        Ws, vs = Wt + 0.1 * rng.standard_normal(Wt.shape), vt + 0.1 * rng.standard_normal(nh)
        act = symhess.activation("erf")
        symhess.population_gradient(act, Ws, vs, Wt, vt)
        t_k, g = best_of(lambda: symhess.population_gradient(act, Ws, vs, Wt, vt, method="expansion"), 5 * args.repeat)
        t_kp, gp = best_of(lambda: symhess.population_gradient(act, Ws, vs, Wt, vt, method="path"), args.repeat)
        t_l, _ = best_of(lambda: symhess.population_loss(act, Ws, vs, Wt, vt, method="expansion"), 5 * args.repeat)
        t_lp, _ = best_of(lambda: symhess.population_loss(act, Ws, vs, Wt, vt, method="path"), args.repeat)
        m = 20000

        def mc():
            x = rng.standard_normal((m, ni))
            f, J = network_jacobian(act, Ws, vs, x)
            e = f - act.numeric(0)(x @ Wt.T) @ vt
            return e[:, None] * J

        t_mc, samples = best_of(mc, args.repeat)
        sigma_rel = np.linalg.norm(samples.std(0)) / np.linalg.norm(g)  # per-sample relative error
        per_sample = t_mc / m
        print(f"population gradient, erf, Ni = Nh = {ni} (P = {ni * nh + nh}), student 0.1 from the teacher")
        print(f"  kernels (expansion)      {t_k * 1e3:8.2f} ms  (1); path route {t_kp / t_k:.1f} x; "
              f"path vs expansion max rel diff {np.abs(gp - g).max() / np.abs(g).max():.1e}")
        print(f"  loss: expansion {t_l * 1e3:.2f} ms, path {t_lp / t_l:.1f} x expansion")
        for eps in (1e-2, 1e-3, 1e-6):
            n_mc = (sigma_rel / eps) ** 2
            print(f"  Monte Carlo to rel. error {eps:g}: {n_mc:.2e} samples, {per_sample * n_mc:.3g} s "
                  f"({per_sample * n_mc / t_k:.3g} x kernels)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
