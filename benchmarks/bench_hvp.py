"""Benchmark: matrix-free expected Hessian-vector products and Lanczos spectra.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_hvp.py [--sizes 100 300 1000] [--quick]

All figures come from one run, at a teacher ``symhess.teacher(N, N, rng=0)`` (the student at the
optimum, so the expected Hessian is its Gauss-Newton part), erf activation, Ni = Nh = N:

* ``hvp``    -- one product ``op @ x`` of ``symhess.hessian_operator`` (NumPy backend, float64), best of
  ``--repeat``; ``setup`` is building the operator (the O(Nh^2) coefficient matrices).
* ``floor``  -- one (Nh x Nh) @ (Nh x Ni) float64 matrix product, best of ``--repeat``: the arithmetic
  floor (the HVP needs three such products; see symhess/kernels/hvp.py).
* ``MC``     -- a Monte Carlo autodiff HVP of the empirical loss 1/(2n) sum (f_theta(x) - f_teacher(x))^2,
  ``torch.func.jvp(torch.func.grad(loss))`` on the CPU in float64, at the sample count n that gives
  the relative accuracy ``--mc-accuracy`` (default 1e-2; the matrix-free product is exact to ~1e-15,
  so matching accuracy favours the baseline by 13 orders of magnitude). n is found from the measured
  error at a pilot size n0 (error ~ c / sqrt(n), c fitted from the pilot); the time at n is the
  measured time per sample (at 4 n0, after checking it is linear between n0 and 4 n0) times n.
* ``spectrum`` at the largest N -- ``extreme_eigenvalues(op, k=6)`` (ARPACK, certified residuals) and
  ``slq_density(op)`` (default probes, 60 Lanczos steps, full re-orthogonalisation), wall time each,
  and the CPU seconds of the process (all threads): CPU s / cores bounds the wall time on an idle
  machine of that many cores, whatever else the shared machine is running.

Threads: NumPy's BLAS and torch both use the machine's cores (torch.set_num_threads(os.cpu_count())).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from _timing import best_of


def mc_hvp_factory(W, v):
    """A torch.func HVP of the empirical loss at (W, v) = teacher, over n Gaussian inputs (chunked)."""
    import torch
    from torch.func import grad, jvp

    Nh, Ni = W.shape
    m = Nh * Ni
    Wt = torch.as_tensor(W, dtype=torch.float64)
    vt = torch.as_tensor(v, dtype=torch.float64)
    theta0 = torch.cat([Wt.reshape(-1), vt])

    def loss(theta, x, y):
        f = torch.special.erf(x @ theta[:m].reshape(Nh, Ni).T) @ theta[m:]
        return 0.5 * ((f - y) ** 2).sum()

    g = grad(loss)

    def hvp(vec, n, seed, chunk=4096):
        gen = torch.Generator().manual_seed(seed)
        vec_t = torch.as_tensor(vec, dtype=torch.float64)
        out = torch.zeros_like(theta0)
        done = 0
        while done < n:
            b = min(chunk, n - done)
            x = torch.randn(b, Ni, generator=gen, dtype=torch.float64)
            y = torch.special.erf(x @ Wt.T) @ vt
            out += jvp(lambda th: g(th, x, y), (theta0,), (vec_t,))[1]
            done += b
        return (out / n).numpy()

    return hvp


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 300, 500, 700, 1000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mc-accuracy", type=float, default=1e-2)
    ap.add_argument("--mc-pilot", type=int, default=4096, help="pilot sample count n0 of the MC HVP")
    ap.add_argument("--no-mc", action="store_true", help="skip the torch Monte Carlo baseline")
    ap.add_argument("--no-spectrum", action="store_true")
    ap.add_argument("--quick", action="store_true", help="sizes 50 100, small pilot (smoke test)")
    ap.add_argument("--out", help="write the figures as JSON here")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat, args.mc_pilot = [50, 100], 2, 512

    import symhess
    from symhess.linalg.lanczos import extreme_eigenvalues
    from symhess.linalg.slq import slq_density

    have_torch = False
    if not args.no_mc:
        try:
            import torch

            torch.set_num_threads(os.cpu_count() or 1)
            have_torch = True
        except ImportError:
            print("torch is not installed: the Monte Carlo autodiff baseline is skipped")

    rows = []
    print(f"{'N':>5} {'P':>9} {'setup s':>8} {'hvp ms':>9} {'floor ms':>9} {'hvp/floor':>9}"
          f" {'MC n':>10} {'MC s':>9} {'MC/hvp':>9}")
    for N in args.sizes:
        W, v = symhess.teacher(N, N, rng=0)
        rng = np.random.default_rng(1)
        t0 = time.perf_counter()
        op = symhess.hessian_operator("erf", W, v)
        setup = time.perf_counter() - t0
        x = rng.standard_normal(op.shape[0])
        op @ x  # warm-up
        t_hvp, hx = best_of(lambda: op @ x, args.repeat)
        A, B = rng.standard_normal((N, N)), rng.standard_normal((N, N))
        A @ B
        t_floor, _ = best_of(lambda: A @ B, args.repeat)
        row = dict(N=N, P=op.shape[0], setup_s=setup, hvp_s=t_hvp, floor_s=t_floor, hvp_over_floor=t_hvp / t_floor)
        if have_torch:
            hvp = mc_hvp_factory(W, v)
            n0 = args.mc_pilot
            errs = []
            for s in range(2):
                errs.append(np.linalg.norm(hvp(x, n0, seed=s) - hx) / np.linalg.norm(hx))
            c = float(np.sqrt(np.mean(np.square(errs)))) * np.sqrt(n0)
            n_need = int(np.ceil((c / args.mc_accuracy) ** 2))
            t1, _ = best_of(lambda: hvp(x, n0, seed=10), 1)
            t4, _ = best_of(lambda: hvp(x, 4 * n0, seed=11), 1)
            per_sample = t4 / (4 * n0)
            t_mc = per_sample * n_need
            row.update(mc_pilot=n0, mc_rel_err_pilot=float(np.mean(errs)), mc_c=c, mc_n=n_need,
                       mc_time_pilot_s=t1, mc_time_4pilot_s=t4, mc_linearity=t4 / (4 * t1),
                       mc_s=t_mc, mc_over_hvp=t_mc / t_hvp)
        rows.append(row)
        mc = (f" {row['mc_n']:>10d} {row['mc_s']:>9.3g} {row['mc_over_hvp']:>9.3g}" if "mc_s" in row else "")
        print(f"{N:>5} {row['P']:>9} {setup:>8.2f} {1e3 * t_hvp:>9.1f} {1e3 * t_floor:>9.1f} {t_hvp / t_floor:>9.2f}{mc}",
              flush=True)
        if "mc_s" in row:
            print(f"      MC pilot: rel. error {row['mc_rel_err_pilot']:.3g} at n0={n0} (c={c:.3g}); "
                  f"time 4n0 / (4 x time n0) = {row['mc_linearity']:.2f}", flush=True)

    spectrum = None
    if not args.no_spectrum:
        N = max(args.sizes)
        W, v = symhess.teacher(N, N, rng=0)
        c0 = time.process_time()  # CPU seconds of all this process's threads: robust to other load
        t0 = time.perf_counter()
        op = symhess.hessian_operator("erf", W, v)
        t_setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        top = extreme_eigenvalues(op, k=6, rng=0)
        t_eig = time.perf_counter() - t0
        t0 = time.perf_counter()
        dens = slq_density(op, rng=0)
        t_slq = time.perf_counter() - t0
        cpu = time.process_time() - c0
        spectrum = dict(N=N, P=op.shape[0], setup_s=t_setup, eigsh_s=t_eig, eigsh_products=top.n_products,
                        largest=top.values.tolist(), max_residual=float(top.residuals.max()), slq_s=t_slq,
                        slq_products=dens.n_products, slq_probes=dens.n_probes, slq_steps=dens.n_steps,
                        w1_bound=dens.error_bound(), total_s=t_setup + t_eig + t_slq, cpu_s=cpu,
                        load_avg=os.getloadavg(),
                        trace_exact=op.trace(), trace_slq=dens.trace().value, trace_slq_stderr=dens.trace().stderr)
        print(f"\nspectrum at N={N} (P={op.shape[0]}): setup {t_setup:.1f} s; top-6 eigsh {t_eig:.1f} s "
              f"({top.n_products} products, max residual {top.residuals.max():.1e}); SLQ {t_slq:.1f} s "
              f"({dens.n_probes} probes x {dens.n_steps} steps, {dens.n_products} products); total "
              f"{spectrum['total_s']:.1f} s wall, {cpu:.1f} CPU s (load average {os.getloadavg()[0]:.1f})")
        print(f"  largest {top.values[-1]:.6g}; trace exact {spectrum['trace_exact']:.6g}, SLQ "
              f"{spectrum['trace_slq']:.6g} +- {spectrum['trace_slq_stderr']:.2g}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(dict(rows=rows, spectrum=spectrum, cpus=os.cpu_count()), fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
