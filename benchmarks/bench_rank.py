"""Benchmark: exact and numerical Hessian rank.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_rank.py [--quick]

All figures are measured in the same run, on the quadratic network (sigma = z + z^2, Ni = Nh = N) at a
random rational teacher (``symhess.rational_teacher``, denominators 2^10):

Exact rank (P = N(N+1)):
* ``sympy``       — ``sympy.Matrix.rank`` of the exact expected Hessian (plain SymPy; only tiny P);
* ``domain``      — SymPy's ``DomainMatrix`` over QQ (the fast SymPy route);
* ``fmpz``        — python-flint's fraction-free ``fmpz_mat.rank`` (after scaling rows to integers);
* ``exact_rank``  — symhess ``exact_rank`` of the same Hessian (one prime, then flint's fraction-free
  ``fmpz_mat.rank``; route (a), matrix given);
* ``multimod``    — ``exact_rank(method="multimodular")``: ranks modulo word-size primes until the
  Hadamard bound proves the rank;
* ``(a) total``   — route (a) end to end: exact expected Hessian over Q from the pair formulas + proof;
* ``(b) total``   — route (b) end to end, ``hessian_rank(act, W, v, exact=True)``: the coefficient
  Jacobian and its proved rank (the default exact route);
* ``1 prime``     — one prime only (a certified lower bound, the rank with overwhelming probability).

Numerical rank: ``numerical_rank(H)`` (eigenvalues, tolerance, log-gap) against the floor
``numpy.linalg.eigvalsh(H)`` on the same float64 matrix.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    ap.add_argument("--part", choices=["exact", "numerical", "all"], default="all")
    args = ap.parse_args(argv)

    import flint
    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    import symhess
    from symhess.linalg.exact_rank import exact_rank, integer_rows
    from symhess.two_layer.rank import numerical_rank
    from symhess.two_layer.exact import exact_expected_hessian

    symhess.hessian_rank("quadratic", [[1, 2]], [1], exact=True)  # warm caches (pair formulas, compiled kernels)
    exact_expected_hessian("quadratic", [[1, 2]], [1])

    sizes = [] if args.part == "numerical" else [3, 4, 6] if args.quick else [3, 4, 6, 10, 22]
    print("## exact rank, quadratic, Ni = Nh = N (seconds; ratios = baseline / symhess exact_rank)")
    print(f"{'N':>3} {'P':>4} {'rank':>5} {'sympy':>8} {'domain':>8} {'fmpz':>8} {'multimod':>9} {'exact_rank':>10} "
          f"{'(a) total':>9} {'(b) total':>9} {'1 prime':>8}  ratios sympy/domain/multimod")
    for N in sizes:
        W, v = symhess.rational_teacher(N, N, rng=0)
        t_build, H = best_of(lambda: exact_expected_hessian("quadratic", W, v))
        P = H.nrows()
        rep = 1 if P > 200 else 3
        t_er, res = best_of(lambda: exact_rank(H), repeat=rep)
        t_mm, mm = best_of(lambda: exact_rank(H, method="multimodular"), repeat=rep)
        t_one, _ = best_of(lambda: exact_rank(H, certify=False))
        t_b, rb = best_of(lambda: symhess.hessian_rank("quadratic", W, v, exact=True), repeat=rep)
        assert rb.rank == res.rank == mm.rank == symhess.effective_parameters("quadratic", N, N).value
        rows = [[sp.Rational(int(H[i, j].p), int(H[i, j].q)) for j in range(P)] for i in range(P)]
        t_sym = t_dom = t_fz = float("nan")
        if P <= 20:
            t_sym, r = best_of(lambda: sp.Matrix(rows).rank())
            assert r == res.rank
        if P <= 110:
            t_dom, r = best_of(lambda: DomainMatrix.from_list_sympy(P, P, rows).convert_to(sp.QQ).rank())
            assert r == res.rank
        Z = integer_rows(H)
        t_fz, r = best_of(lambda: Z.rank(), repeat=rep)
        assert r == res.rank
        ratios = "/".join("-" if np.isnan(t) else f"{t / t_er:.2g}x" for t in (t_sym, t_dom, t_mm))
        print(f"{N:>3} {P:>4} {res.rank:>5} {t_sym:>8.3f} {t_dom:>8.3f} {t_fz:>8.3f} {t_mm:>9.3f} {t_er:>10.3f} "
              f"{t_build + t_er:>9.3f} {t_b:>9.3f} {t_one:>8.3f}  {ratios}   ({mm.n_primes} primes)", flush=True)

    print("\n## numerical rank vs the eigvalsh floor (seconds)")
    print(f"{'N':>4} {'P':>6} {'assembly':>9} {'eigvalsh':>9} {'numerical_rank':>15} {'ratio':>6} {'rank':>6}")
    for N in ([] if args.part == "exact" else [20, 44] if args.quick else [44, 99]):
        Wf, vf = symhess.teacher(N, N + (1 if N == 99 else 0), rng=1)
        t_asm, H = best_of(lambda: symhess.expected_hessian("erf", Wf, vf))
        P = H.shape[0]
        rep = 1 if P > 3000 else 3
        t_floor, _ = best_of(lambda: np.linalg.eigvalsh(H), repeat=rep)
        t_rank, r = best_of(lambda: numerical_rank(H, warn=False), repeat=rep)
        print(f"{N:>4} {P:>6} {t_asm:>9.2f} {t_floor:>9.2f} {t_rank:>15.2f} {t_rank / t_floor:>6.2f} {r.rank:>6}",
              flush=True)
    print(f"\npython-flint {flint.__version__}, sympy {sp.__version__}, numpy {np.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
