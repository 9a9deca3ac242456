"""Benchmark: matrix-free quasi-Monte Carlo Hessian-vector products of deep erf networks against the dense estimate.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_deep_qmc_operator.py [--quick]

All figures from the same run, on the same sample set (``rng=0``: ``R`` scrambled Sobol replicates of
``n`` points), teacher ``deep_teacher(widths, rng=0)``:

* ``dense``   — ``deep_hessian_estimate`` (the :math:`R` replicate matrices :math:`\\frac1n\\sum J^\\top J`, their mean
  and standard errors; ``refused`` where it exceeds the 2 GiB budget given here);
* ``H @ v``   — one product with the dense mean;
* ``op``      — ``qmc_hessian_operator`` construction (the sample set) plus one product ``op @ v``
  (forward- and reverse-mode passes; no :math:`P\\times P` matrix);
* ``top eig`` — ``symhess.extreme_eigenvalues(op, k=1)`` (Lanczos on the operator);
* ``agree``   — ``max |op v - H v| / max |H v|`` where the dense matrix exists.

Ratio: ``dense`` over ``op`` (how many operator products one dense build costs).
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of

CASES = [(10, 20, 10, 1), (20, 30, 20, 1), (60, 100, 60, 1), (100, 200, 100, 1)]
BUDGET = 2 * 2**30


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small cases only (a smoke run)")
    args = ap.parse_args(argv)

    import symhess
    from symhess.deep.qmc_operator import qmc_hessian_operator
    from symhess.deep.weights import deep_teacher, n_parameters

    n, R = 1024, 8
    w0 = deep_teacher((2, 3, 1), rng=0)  # warm-up: imports and first calls are not timed
    qmc_hessian_operator("erf", w0, n_points=8, replicates=2, rng=0) @ np.ones(9)
    symhess.deep_hessian_estimate("erf", w0, n_points=8, replicates=2, rng=0)
    cases = CASES[:2] if args.quick else CASES
    print(f"## deep erf networks: dense QMC estimate vs matrix-free operator (seconds; n = {n}, R = {R})")
    print(f"{'widths':>16} {'P':>6} {'dense':>8} {'H @ v':>8} {'op':>8} {'top eig':>8} {'agree':>9} {'ratio':>7}")
    for widths in cases:
        W = deep_teacher(widths, rng=0)
        P = n_parameters(widths)
        v = np.random.default_rng(1).standard_normal(P)
        t_op, (op, hv) = best_of(lambda: (lambda o: (o, o @ v))(qmc_hessian_operator("erf", W, n_points=n,
                                                                                       replicates=R, rng=0)))
        t_eig, _ = best_of(lambda: symhess.extreme_eigenvalues(op, k=1))
        try:
            t_dense, est = best_of(lambda: symhess.deep_hessian_estimate("erf", W, n_points=n, replicates=R, rng=0,
                                                                         max_bytes=BUDGET))
            t_hv, hv_dense = best_of(lambda: est.hessian @ v)
            agree = f"{np.abs(hv - hv_dense).max() / np.abs(hv_dense).max():9.1e}"
            dense, hvs, ratio = f"{t_dense:8.2f}", f"{t_hv:8.4f}", f"{t_dense / t_op:7.1f}"
        except symhess.MemoryLimitError:
            dense, hvs, agree, ratio = f"{'refused':>8}", f"{'-':>8}", f"{'-':>9}", f"{'-':>7}"
        print(f"{','.join(map(str, widths)):>16} {P:>6} {dense} {hvs} {t_op:8.3f} {t_eig:8.2f} {agree} {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
