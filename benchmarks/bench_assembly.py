"""Benchmark: dense expected-Hessian assembly vs the memory-write floor and Monte Carlo.

Run:  python benchmarks/bench_assembly.py [--sizes 10 30 100] [--repeat 3] [--activations erf quadratic tanh]

For each activation and Ni = Nh = N it reports, all measured in the same run:
* ``assembly``  — ``symhess.expected_hessian`` (kernels compiled and warmed up first);
* ``floor``     — writing a fresh P x P float64 array once (``np.empty`` + ``fill``), page faults
  included, the least any dense assembly can cost;
* ``MC/1k``     — a Monte Carlo estimate E[grad f grad f^T] from 1000 input samples (one P x 1000
  Jacobian and one J^T J product); its relative error at 1000 samples is printed, so the cost of
  matching the kernel's accuracy can be read off (error ~ 1/sqrt(samples)).
It also times, each in a fresh interpreter, ``import symhess`` and the cold derivation of every
erf formula the Hessian needs (symbolic Price derivatives + lambdify).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings

import numpy as np
from _timing import best_of


def floor_write(P):
    a = np.empty((P, P))
    a.fill(1.0)
    return a


def mc_hessian(act, W, v, n, rng):
    s0, s1 = act.numeric(0), act.numeric(1)
    x = rng.standard_normal((n, W.shape[1]))
    h = x @ W.T
    J = np.concatenate([((v * s1(h))[:, :, None] * x[:, None, :]).reshape(n, -1), s0(h)], axis=1)
    return J.T @ J / n


def fresh(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 30, 100])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--activations", nargs="+", default=["erf", "quadratic", "tanh"],
                    help="tanh has no closed form: its row measures the quadrature route")
    ap.add_argument("--options-only", action="store_true",
                    help="only the table of input_cov / trainable costs against the identity case")
    args = ap.parse_args(argv)

    import symhess

    if args.options_only:
        return options_table(symhess, args.sizes, args.repeat)

    t_import = fresh("import time; t=time.perf_counter(); import symhess; print(time.perf_counter()-t)")
    t_derive = fresh(
        "import time; t=time.perf_counter(); import symhess, numpy as np\n"
        "from symhess.two_layer.pairs import template_matrices\nfrom symhess.two_layer.templates import GAUSS_NEWTON\n"
        "a=symhess.activation('erf'); W=np.ones((2,2))*[[1],[0.5]]\n"
        "[template_matrices(a,s,W,W,same=True) for s in GAUSS_NEWTON.values()]\n"
        "print(time.perf_counter()-t)"
    )
    print(f"import symhess: {t_import * 1e3:.0f} ms; cold derivation + compilation of all erf kernels: "
          f"{t_derive:.2f} s\n")
    print("| activation | N | P | assembly (s) | floor (s) | assembly / floor | MC/1k samples (s) "
          "| MC rel. error @1k | MC / assembly |")
    print("|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    warnings.simplefilter("ignore")  # tanh's QuadratureWarning: known, and the point of its row
    for spec in args.activations:
        act = symhess.activation(spec)
        for N in args.sizes:
            W, v = symhess.teacher(N, N, rng=rng)
            P = N * N + N
            symhess.expected_hessian(act, W[:2, :2], v[:2])  # compile kernels once
            t_asm = best_of(lambda: symhess.expected_hessian(act, W, v), args.repeat)[0]
            t_floor = best_of(lambda: floor_write(P), args.repeat)[0]
            H = symhess.expected_hessian(act, W, v)
            t_mc = best_of(lambda: mc_hessian(act, W, v, 1000, rng), 1)[0]
            err = np.linalg.norm(mc_hessian(act, W, v, 1000, rng) - H) / np.linalg.norm(H)
            print(f"| {spec} | {N} | {P} | {t_asm:.4f} | {t_floor:.4f} | {t_asm / t_floor:.2f} | {t_mc:.4f} "
                  f"| {err:.2e} | {t_mc / t_asm:.1f} |")
    return 0


def options_table(symhess, sizes, repeat) -> int:
    """Cost of the architecture options against the identity-covariance, all-trained case, same run.

    Dense ``expected_hessian`` and one matrix-free product ``op @ x`` (erf, Ni = Nh = N), with a dense
    SPD Sigma, a diagonal Sigma, and trainable=("W",).
    """
    print("\n| N | P | dense I (s) | dense Sigma / I | diag Sigma / I | trainable W / I "
          "| HVP I (ms) | HVP Sigma / I | HVP diag / I |")
    print("|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for N in sizes:
        W, v = symhess.teacher(N, N, rng=rng)
        A = rng.standard_normal((N, N))
        Sigma = A @ A.T / N + 0.5 * np.eye(N)
        d = np.diag(Sigma).copy()
        P = N * N + N
        symhess.expected_hessian("erf", W[:2, :2], v[:2])
        t_i = best_of(lambda: symhess.expected_hessian("erf", W, v), repeat)[0]
        t_s = best_of(lambda: symhess.expected_hessian("erf", W, v, input_cov=Sigma), repeat)[0]
        t_d = best_of(lambda: symhess.expected_hessian("erf", W, v, input_cov=d), repeat)[0]
        t_w = best_of(lambda: symhess.expected_hessian("erf", W, v, trainable=("W",)), repeat)[0]
        x = rng.standard_normal(P)
        ops = [symhess.hessian_operator("erf", W, v, input_cov=c) for c in (None, Sigma, d)]
        reps = max(repeat, 20)
        h = [best_of(lambda op=op: op @ x, reps)[0] for op in ops]
        print(f"| {N} | {P} | {t_i:.4f} | {t_s / t_i:.2f} | {t_d / t_i:.2f} | {t_w / t_i:.2f} "
              f"| {h[0] * 1e3:.3f} | {h[1] / h[0]:.2f} | {h[2] / h[0]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
