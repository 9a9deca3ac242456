"""Benchmark: an activation given as an expression (generic route) vs the same built-in unit.

Run:  python benchmarks/bench_user_activation.py [--size 30] [--repeat 3]

For softplus and tanh, written as SymPy expressions and kept on the generic route
(``symhess.activation(expr=..., match_family=False)``: SymPy's derivatives lambdified to NumPy, strip and
saturation found from the expression), and for the built-in units (hand-written tail-accurate derivatives,
stated strips), it times the dense ``symhess.expected_hessian`` at Ni = Nh = size (kernels compiled and
warmed up first, best of ``repeat``, each on new overlaps so that no cached batch answers, the two measured alternately in the same run), the one-off cost of
building the activation from its expression (analysis: singularities, saturation, growth, evaluation
audit), and the largest difference between the two Hessians relative to their largest entry.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _timing import best_of

import symhess

EXPRESSIONS = {"softplus": "log(1 + exp(z))", "tanh": "tanh(z)"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    W, v = symhess.teacher(args.size, args.size, rng=0)
    print(f"Ni = Nh = {args.size}, P = {args.size * (args.size + 1)}")
    print(f"{'unit':9s} {'build [s]':>10s} {'generic [s]':>12s} {'built-in [s]':>13s} {'ratio':>6s} {'max |diff|/max|H|':>18s}")
    for name, text in EXPRESSIONS.items():
        t0 = time.perf_counter()
        user = symhess.activation(expr=text, match_family=False)
        build = time.perf_counter() - t0
        builtin = symhess.activation(name)
        H_user = symhess.expected_hessian(user, W, v)  # compile and warm up
        H_ref = symhess.expected_hessian(builtin, W, v)
        t_user, t_ref = [], []
        for k in range(args.repeat):  # alternate, so that load on the machine hits both alike
            Wk = W * (1 + 1e-9 * (k + 1))  # new overlaps: the quadrature's cache of recent batches does not answer
            t_user.append(best_of(lambda: symhess.expected_hessian(user, Wk, v), 1)[0])
            t_ref.append(best_of(lambda: symhess.expected_hessian(builtin, Wk, v), 1)[0])
        diff = float(np.max(np.abs(H_user - H_ref)) / np.max(np.abs(H_ref)))
        tu, tr = min(t_user), min(t_ref)
        print(f"{name:9s} {build:10.2f} {tu:12.2f} {tr:13.2f} {tu / tr:6.2f} {diff:18.1e}")


if __name__ == "__main__":
    main()
