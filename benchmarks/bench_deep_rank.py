"""Benchmark: exact rank of the expected Hessian of deep polynomial networks against SymPy's own rank.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_deep_rank.py [--quick]

All figures are measured in the same run, at a random dyadic-rational teacher
(``symhess.rational_deep_teacher``, denominators 64), for the architectures in the table:

* ``sympy``     — ``sympy.Matrix.rank`` of the exact expected Hessian :math:`H` (only P <= 16: minutes beyond);
* ``domain``    — SymPy's ``DomainMatrix`` rank over QQ of the same :math:`H`;
* ``exact_rank``— symhess ``exact_rank`` of the same :math:`H` (matrix given);
* ``H over Q``  — building :math:`H` exactly (``deep_expected_hessian(..., exact=True)``);
* ``coeff``     — ``deep_hessian_rank(method="exact")`` end to end: the Hermite coefficient Jacobian and its
  proved rank;
* ``points``    — ``deep_hessian_rank(method="points")`` end to end: gradients at integer points modulo a
  prime (a certified lower bound; "exact" when it meets the symmetry bound);
* ``float``     — ``deep_hessian_rank(method="float")`` (float64 SVD); ``float rank`` is its answer, which
  undercounts on the deepest case (float64 cannot resolve the smallest nonzero singular values there).

Ratios: SymPy's time (``sympy``, else ``domain``) over symhess's fastest certified route (``points`` when
it certified the rank, else ``coeff``).
"""

from __future__ import annotations

import argparse

from _timing import best_of

CASES = [
    ((2, 3, 2, 1), "quadratic:eps=1/2"),
    ((3, 4, 2, 1), "quadratic:eps=1/2"),
    ((3, 3, 3, 3), "poly:coeffs=[0,1]"),
    ((4, 5, 4, 2), "quadratic:eps=1/2"),
    ((6, 8, 6, 3), "poly:coeffs=[0,1]"),
    ((12, 12, 12, 12), "poly:coeffs=[0,1]"),
    ((10, 15, 12, 8, 1), "quadratic:eps=1/2"),
    ((16, 16, 8, 8, 4, 2), "poly:coeffs=[0,1]"),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small cases only (a smoke run)")
    args = ap.parse_args(argv)

    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    import symhess
    from symhess.deep.hessian import _coefficient_rows, deep_hessian_rank
    from symhess.deep.weights import layer_activations, n_parameters, rational_deep_teacher
    from symhess.linalg.exact_rank import exact_rank

    cases = CASES[:4] if args.quick else CASES
    print("## exact rank of deep polynomial networks (seconds; ratio = SymPy / symhess certified route)")
    print(f"{'widths':>20} {'activation':>18} {'P':>4} {'rank':>5} {'status':>11} {'sympy':>8} {'domain':>8} "
          f"{'exact_rank':>10} {'H over Q':>8} {'coeff':>8} {'points':>8} {'float':>8} {'float rank':>10} {'ratio':>8}")
    for widths, act in cases:
        W = rational_deep_teacher(widths, rng=0)
        P = n_parameters(widths)
        rows = _coefficient_rows(layer_activations(act, len(widths) - 1), widths)
        t_pts, rp = best_of(lambda: deep_hessian_rank(act, W, method="points"))
        t_flt, rf = best_of(lambda: deep_hessian_rank(act, W, method="float"))
        small = rows <= 4000
        t_sym = t_dom = t_er = t_H = t_coef = float("nan")
        rank, status = rp.rank, rp.status
        if small:
            t_H, H = best_of(lambda: symhess.deep_expected_hessian(act, W, exact=True))
            t_coef, rc = best_of(lambda: deep_hessian_rank(act, W, method="exact"))
            t_er, re_ = best_of(lambda: exact_rank(H))
            Hs = sp.Matrix(H.nrows(), H.ncols(), lambda i, j: sp.Rational(int(H[i, j].p), int(H[i, j].q)))
            t_dom, rd = best_of(lambda: DomainMatrix.from_Matrix(Hs).convert_to(sp.QQ).rank())
            if P <= 16:  # plain Matrix.rank takes minutes beyond this
                t_sym, rs = best_of(lambda: Hs.rank())
                assert rs == rc.rank
            assert rd == re_.rank == rc.rank >= rp.rank
            rank, status = rc.rank, "exact"
        ours = t_pts if rp.status == "exact" else t_coef
        base = t_sym if t_sym == t_sym else t_dom
        ratio = base / ours if base == base and ours == ours else float("nan")
        print(f"{','.join(map(str, widths)):>20} {act:>18} {P:>4} {rank:>5} {status:>11} {t_sym:8.3f} {t_dom:8.3f} "
              f"{t_er:10.4f} {t_H:8.3f} {t_coef:8.3f} {t_pts:8.3f} {t_flt:8.3f} {rf.rank:>10} {ratio:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
