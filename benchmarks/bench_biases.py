"""Benchmark: the network with hidden and output biases against the centred network, same sizes, same run.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_biases.py [--sizes 20 60] [--repeat 5]

At a teacher ``symhess.teacher(N, N, rng=0)`` (the student at the optimum), for erf and ReLU:

* ``dense``: ``symhess.expected_hessian(act, W, v)`` against the same call with ``b`` (N,) and ``b_out``
  (P grows by N + 1), best of ``--repeat`` after one warm-up call (kernel compilation excluded);
* ``hvp``: one product of ``symhess.hessian_operator`` (operator built once), best of ``--repeat``.

The ratio is biased / centred time. The extra arithmetic of the biased network is the N + 1 extra rows
and columns and the means in the pair expectations (Owen's T and erf evaluations instead of arcsine).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of  # noqa: E402

import symhess  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for act in ("erf", "relu"):
        for n in args.sizes:
            W, v = symhess.teacher(n, n, rng=0)
            b = 0.3 * np.random.default_rng(1).standard_normal(n)
            kw = dict(b=b, b_out=0.1)
            symhess.expected_hessian(act, W, v)
            symhess.expected_hessian(act, W, v, **kw)
            t0, _ = best_of(lambda: symhess.expected_hessian(act, W, v), args.repeat)
            t1, _ = best_of(lambda: symhess.expected_hessian(act, W, v, **kw), args.repeat)
            op0 = symhess.hessian_operator(act, W, v)
            op1 = symhess.hessian_operator(act, W, v, **kw)
            x0, x1 = np.ones(op0.shape[0]), np.ones(op1.shape[0])
            m0, _ = best_of(lambda: op0 @ x0, args.repeat)
            m1, _ = best_of(lambda: op1 @ x1, args.repeat)
            rows.append(dict(act=act, N=n, dense_centred_s=t0, dense_biased_s=t1, dense_ratio=t1 / t0,
                             hvp_centred_s=m0, hvp_biased_s=m1, hvp_ratio=m1 / m0))
            print(json.dumps(rows[-1]))


if __name__ == "__main__":
    main()
