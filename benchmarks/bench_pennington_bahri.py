"""Benchmark: the Pennington-Bahri law against sampling matrices and against freealg.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_pennington_bahri.py [--repeat 3] [--n 2000]

All measured in the same run, at phi = 0.5, eps = 0.1 (linear) unless stated:

* ``law``      ``symhess.pennington_bahri(phi, eps)`` built (compiled coefficients cached, as in
  any session after the first call), ``pdf`` on 1000 points and ``index()`` (which builds the
  Chebyshev CDF tables);
* ``sample``   the baseline: one Wishart + GOE matrix of size n (default 2000) and ``eigvalsh``:
  a histogram of n eigenvalues, whose KS distance to the law is ~2e-3 (so alpha to ~+-5e-3);
* ``freealg``  freealg 0.12's ``FreeLevy`` density at the same 1000 points, point by point (its
  vectorised call can pick the wrong branch, docs/pennington_bahri.md);
* ``sweep``    alpha(eps) at 40 energies with the law vs 40 sampled matrices (time extrapolated
  from ``sample``).

Printed: best-of-``repeat`` times and the ratios baseline / law, plus the accuracy each route gets.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from _timing import best_of


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n", type=int, default=2000, help="size of the sampled matrix")
    args = ap.parse_args(argv)

    import symhess

    phi, eps = 0.5, 0.1
    symhess.pennington_bahri(phi, eps).index()  # compile once (SymPy derivation + lambdify)
    x = np.linspace(-0.6, 3.3, 1000)

    def law_route():
        law = symhess.pennington_bahri(phi, eps)
        return law, law.pdf(x), law.index()

    t_law, (law, rho, alpha) = best_of(law_route, args.repeat)

    rng = np.random.default_rng(0)

    def sample_route():
        n = args.n
        p = int(round(n / phi))
        J = rng.standard_normal((n, p)) / math.sqrt(p)
        A = rng.standard_normal((n, n)) * math.sqrt(eps / n)
        return np.linalg.eigvalsh(J @ J.T + A + A.T)

    t_sample, eigs = best_of(sample_route, args.repeat)
    e = np.sort(eigs)
    F = law.cdf(e)
    ks = max(np.max(np.arange(1, e.size + 1) / e.size - F), np.max(F - np.arange(e.size) / e.size))

    import freealg.distributions as fd

    ref = fd.FreeLevy(t=[phi], w=[1.0], lam=1 / phi, a=0.0, sigma=math.sqrt(2 * eps))
    ref.stieltjes(complex(1.0 + 1e-9j))

    def freealg_route():
        return np.array([ref.stieltjes(complex(xx + 1e-9j)).imag / np.pi for xx in x])

    t_fa, rho_fa = best_of(freealg_route, args.repeat)

    energies = np.linspace(0.005, 0.5, 40)

    def sweep():
        return [symhess.pennington_bahri(phi, en).index() for en in energies]

    t_sweep, _ = best_of(sweep, args.repeat)

    print(f"phi={phi}, eps={eps}; best of {args.repeat}")
    print(f"  law (build + pdf at 1000 pts + index)   {t_law * 1e3:9.1f} ms   alpha={alpha:.10f}")
    print(f"  sample N={args.n} + eigvalsh          {t_sample * 1e3:9.1f} ms   frac<0={np.mean(eigs < 0):.4f}, "
          f"KS={ks:.4f}")
    print(f"  freealg pdf at 1000 pts (pointwise)    {t_fa * 1e3:9.1f} ms   max|diff|={np.max(np.abs(rho - rho_fa)):.1e}")
    print(f"  alpha at 40 energies: law {t_sweep * 1e3:.1f} ms vs 40 samples ~{40 * t_sample * 1e3:.0f} ms")
    print("ratios (baseline / law):")
    print(f"  sample / law   {t_sample / t_law:8.1f}x")
    print(f"  freealg / law  {t_fa / t_law:8.1f}x")
    print(f"  sweep: samples / law  {40 * t_sample / t_sweep:8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
