"""Numeric four-point expectations (I4) of the online-SGD equations: reduced route against the full lattice.

Run: ``python benchmarks/bench_four_point.py [--widths 2 3] [--repeat 3] [--sgd-run]``

1. Per right-hand side of the order-parameter equations (tanh, v trained, Nh = Nt = n, at three states:
   the random start with small first-layer weights, halfway, near the teacher), the time of the whole
   right-hand side with the numeric I4 by the reduced route (one Gaussian variable integrated out, the
   default) and by the full four-dimensional lattice (``method="full"``, the previous default), measured in
   the same run; wall and CPU time (the machine may be shared).
2. Accuracy: the same quadruples for erf through both numeric routes against Saad & Solla's closed form.
3. With ``--sgd-run``: ``symhess sgd -a tanh --n-teacher 3 --n-hidden 3 --t-max 100 --numeric-i4``
   (the ODE integration alone, in process).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _timing import best_wall_and_cpu as _timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sgd-run", action="store_true")
    args = ap.parse_args()

    import symhess
    from symhess.kernels import four_point_quadrature as fq
    from symhess.kernels.codegen import compile_four_point_kernel
    from symhess.two_layer.online import OrderParameterODE, order_parameters

    warnings.simplefilter("ignore")
    tanh, erf = symhess.activation("tanh"), symhess.activation("erf")
    exact_erf = compile_four_point_kernel(erf, ((1, 1, 0, 0),))
    default_method = fq.gaussian_four_point_quadrature.__kwdefaults__["method"]
    for n in args.widths:
        rng = np.random.default_rng(0)
        Wt, vt = symhess.teacher(500, n, rng=rng)
        W0, v0 = symhess.teacher(500, n, rng=rng)
        Q, R, T = order_parameters(0.1 * W0, Wt)
        states = {"start": (Q, R, v0), "halfway": (0.8 * T + 0.1 * np.eye(n), 0.8 * T, vt),
                  "near teacher": (0.99 * T + 0.005 * np.eye(n), 0.99 * T, vt)}
        ode = OrderParameterODE(tanh, T, vt, n, 0.5, 0.5)
        ode_erf = OrderParameterODE(erf, T, vt, n, 0.5, 0.5)
        for name, (Qs, Rs, vs) in states.items():
            y = ode.pack(Qs, Rs, vs)
            times = {}
            for method in ("reduced", "full"):
                fq.gaussian_four_point_quadrature.__kwdefaults__["method"] = method
                times[method] = _timed(lambda: ode.rhs(y), args.repeat if method == "reduced" else 1)
                # accuracy on the same quadruples for erf (closed form known)
                C = ode_erf._overlaps(Qs, Rs).reshape(-1)
                four = [C[idx] for idx in ode_erf._four_index]
                exact = exact_erf(*four)[(1, 1, 0, 0)]
                M = np.stack([np.stack([four[0], four[4], four[5], four[6]], -1),
                              np.stack([four[4], four[1], four[7], four[8]], -1),
                              np.stack([four[5], four[7], four[2], four[9]], -1),
                              np.stack([four[6], four[8], four[9], four[3]], -1)], -2)
                num = fq.gaussian_four_point_quadrature(erf, (1, 1, 0, 0), M)
                rel = float(np.max(np.abs(num - exact) / np.abs(exact)))
                times[method] += (rel, len(exact))
            fq.gaussian_four_point_quadrature.__kwdefaults__["method"] = default_method
            (wr, cr, er, nq), (wf, cf, ef, _) = times["reduced"], times["full"]
            print(f"Nh = Nt = {n}, {name:12s} ({nq} quadruples): rhs reduced {wr * 1e3:7.1f} ms wall / "
                  f"{cr * 1e3:7.1f} ms CPU, full {wf * 1e3:7.1f} ms wall / {cf * 1e3:7.1f} ms CPU; "
                  f"ratio {wf / wr:5.1f} (wall) {cf / cr:5.1f} (CPU); erf max rel. error reduced {er:.1e}, "
                  f"full {ef:.1e}")

    if args.sgd_run:
        rng = np.random.default_rng(0)
        Wt, vt = symhess.teacher(500, 3, rng=rng)
        W0, v0 = symhess.teacher(500, 3, rng=rng)
        w0, c0 = time.perf_counter(), time.process_time()
        traj = symhess.online_sgd_ode(tanh, 0.1 * W0, v0, Wt, vt, 0.5, 100.0)
        print(f"online_sgd_ode tanh, Nh = Nt = 3, t = 100 (as symhess sgd): {time.perf_counter() - w0:.1f} s wall, "
              f"{time.process_time() - c0:.1f} s CPU; eps_g {traj.loss[0]:.4g} -> {traj.loss[-1]:.4g}")


if __name__ == "__main__":
    main()
