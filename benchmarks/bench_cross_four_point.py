"""Online-SGD equations with a teacher of another erf scale: closed-form I4 against the numeric route.

Run: ``python benchmarks/bench_cross_four_point.py [--widths 2 3] [--repeat 3] [--ode-run]``

1. Per right-hand side of the order-parameter equations (student erf, teacher erf(2z) and Saad & Solla's
   erf(z/sqrt 2), v trained, Nh = Nt = n, at three states: the random start with first-layer weights at 0.1x
   a default draw, halfway, near the teacher), the time of the whole right-hand side with I4 in closed form
   (the unit-scale erf formula at the rescaled covariance DCD, the default) and with I4 integrated
   numerically on every argument combination (the previous route), measured in the same run on the same
   states; wall and CPU time (the machine may be shared), and the largest difference of the two.
2. With ``--ode-run``: ``online_sgd_ode`` to t = 20 (Nh = Nt = 2, erf student, erf(2z) teacher) by both routes.
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
    ap.add_argument("--ode-run", action="store_true")
    args = ap.parse_args()

    import symhess
    from symhess.two_layer import online
    from symhess.two_layer.online import OrderParameterODE, order_parameters

    warnings.simplefilter("ignore")
    erf = symhess.activation("erf")
    print("| teacher | N_h = N_t | state | closed form (ms, CPU) | numeric (ms, CPU) | ratio | max |diff| / max |rhs| |")
    print("|---|---|---|---|---|---|---|")
    for tspec in ("erf:scale=2", "saad_solla_erf"):
        tact = symhess.activation(tspec)
        for n in args.widths:
            rng = np.random.default_rng(0)
            Wt, vt = symhess.teacher(500, n, rng=rng)
            W0, v0 = symhess.teacher(500, n, rng=rng)
            Q, R, T = order_parameters(0.1 * W0, Wt)
            states = {"start": (Q, R, v0), "halfway": (0.8 * T + 0.1 * np.eye(n), 0.8 * T, vt),
                      "near teacher": (0.99 * T + 0.005 * np.eye(n), 0.99 * T, vt)}
            closed = OrderParameterODE(erf, T, vt, n, 0.5, 0.5, teacher_act=tact)
            numeric = OrderParameterODE(erf, T, vt, n, 0.5, 0.5, teacher_act=tact)
            numeric._mixed_four = dict.fromkeys(numeric._mixed_four)
            assert closed.i4_route == "closed form" and numeric.i4_route == "quadrature"
            for name, (Qs, Rs, vs) in states.items():
                y = closed.pack(Qs, Rs, vs)
                _, c_cpu = _timed(lambda: closed.rhs(y), args.repeat)
                _, n_cpu = _timed(lambda: numeric.rhs(y), args.repeat)
                a, b = closed.rhs(y), numeric.rhs(y)
                rel = np.abs(a - b).max() / np.abs(a).max()
                print(f"| {tspec} | {n} | {name} | {1e3 * c_cpu:.2f} | {1e3 * n_cpu:.0f} | "
                      f"{n_cpu / c_cpu:.0f} | {rel:.1e} |")
    if args.ode_run:
        Wt, vt = symhess.teacher(500, 2, rng=0)
        W0, v0 = symhess.teacher(500, 2, rng=1)
        kw = dict(lr=0.5, t_max=20.0, times=np.linspace(0, 20, 5), teacher_activation="erf:scale=2")
        c0 = time.process_time()
        fast = symhess.online_sgd_ode("erf", 0.5 * W0, v0, Wt, vt, **kw)
        c_fast = time.process_time() - c0
        original = online.OrderParameterODE.__post_init__

        def numeric_init(self):
            original(self)
            if self.mixed and self.second_order:
                self._mixed_four = dict.fromkeys(self._mixed_four)

        online.OrderParameterODE.__post_init__ = numeric_init
        try:
            c0 = time.process_time()
            slow = symhess.online_sgd_ode("erf", 0.5 * W0, v0, Wt, vt, **kw)
            c_slow = time.process_time() - c0
        finally:
            online.OrderParameterODE.__post_init__ = original
        print(f"ODE to t = 20 (Nh = Nt = 2): closed form {c_fast:.2f} s CPU, numeric {c_slow:.1f} s CPU, "
              f"ratio {c_slow / c_fast:.0f}; max |loss difference| {np.abs(fast.loss - slow.loss).max():.1e} "
              f"(loss {fast.loss[0]:.4f} -> {fast.loss[-1]:.4f})")


if __name__ == "__main__":
    main()
