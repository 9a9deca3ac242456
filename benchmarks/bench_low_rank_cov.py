"""Matrix-free Hessian products under an input covariance: identity, diagonal, D + U U^T and dense Sigma.

Times one product ``op @ x`` (best of ``--repeat``) of ``symhess.hessian_operator("erf", W, v, input_cov=...)``
at the optimum, all in the same run, and prints each as a ratio to the identity-covariance product. The
low-rank-plus-diagonal route should cost O(Nh^2 (Ni + k) + Nh Ni k), close to the identity case; a dense
Sigma adds O(Nh Ni^2).

Run: ``python benchmarks/bench_low_rank_cov.py [--n-in 2000] [--n-hidden 32] [--rank 4] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--n-in", type=int, default=2000)
    ap.add_argument("--n-hidden", type=int, default=32)
    ap.add_argument("--rank", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.low_rank_covariance import LowRankPlusDiagonal

    rng = np.random.default_rng(0)
    ni, nh, k = args.n_in, args.n_hidden, args.rank
    W, v = symhess.teacher(ni, nh, rng)
    d = rng.uniform(0.5, 1.5, ni)
    U = rng.standard_normal((ni, k)) / np.sqrt(ni)
    lr = LowRankPlusDiagonal(d, U)
    covs = {"identity": None, "diagonal": d, "D + U U^T": lr, "dense Sigma": lr.sigma}
    x = rng.standard_normal(nh * ni + nh)
    times, results = {}, {}
    for name, cov in covs.items():
        op = symhess.hessian_operator("erf", W, v, input_cov=cov)
        op @ x  # warm up (kernels compiled)
        times[name], results[name] = best_of(lambda: op @ x, args.repeat)
    assert np.allclose(results["D + U U^T"], results["dense Sigma"], rtol=1e-9, atol=1e-12)
    print(f"erf, Nh = {nh}, Ni = {ni}, rank k = {k}; one product op @ x, best of {args.repeat}")
    for name, t in times.items():
        print(f"  {name:12s} {t * 1e3:9.2f} ms   ratio to identity {t / times['identity']:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
