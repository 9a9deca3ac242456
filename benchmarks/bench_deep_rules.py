"""Benchmark: the deep counting rules against the certified measurement they predict.

Run:  flock /tmp/symhess_bench.lock python benchmarks/bench_deep_rules.py [--repeat 3]

Both columns are measured in the same run, for each architecture and activation of the table:

* ``rule``    — ``deep_effective_parameters(act, widths)`` from cold caches (the recursive split bound and the
  degree sets are memoised; they are cleared before every call, so this is what a first call costs);
* ``points``  — ``deep_hessian_rank(act, teacher, method="points")``: gradients at integer points modulo a prime,
  a certified lower bound (the cheapest certified measurement);

and the ratio ``rule / points``. ``value`` is the rule's number, ``rank`` the measured one.
"""

from __future__ import annotations

import argparse

from _timing import best_of

CASES = [
    ((10, 15, 12, 8, 1), "poly:coeffs=[0,1]", False),
    ((3, 5, 6, 4, 3, 1), "poly:coeffs=[0,1]", False),
    ((2, 3, 4, 5, 6, 5, 1), "poly:coeffs=[0,1]", False),
    ((4, 4, 4, 4, 4, 4), "poly:coeffs=[1,0,1]", False),
    ((3, 4, 3, 4, 3, 1), "poly:coeffs=[1,0,1]", True),
    ((3, 4, 2, 3, 1), "quadratic:eps=1/2", False),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from symhess.deep.counting import _network_degrees, _split_bound, deep_effective_parameters
    from symhess.deep.hessian import deep_hessian_rank
    from symhess.deep.weights import rational_deep_biases, rational_deep_teacher

    def cold_rule(act, w, hb):
        _split_bound.cache_clear()
        _network_degrees.cache_clear()
        return deep_effective_parameters(act, w, hidden_bias=hb)

    print("| widths | activation | hidden biases | P | rule | value | status | points | rank | rule / points |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for w, act, hb in CASES:
        t_rule, rule = best_of(lambda: cold_rule(act, w, hb), args.repeat)
        W = rational_deep_teacher(w, rng=0)
        b = rational_deep_biases(w, rng=0, hidden=True, output=False) if hb else None
        t_pts, m = best_of(lambda: deep_hessian_rank(act, W, method="points", biases=b), args.repeat)
        assert m.rank <= rule.value, (w, act, rule, m)
        print(f"| {','.join(map(str, w))} | {act} | {'yes' if hb else 'no'} | {rule.n_params} | {t_rule * 1e3:.1f} ms "
              f"| {rule.value} | {rule.status} | {t_pts * 1e3:.1f} ms | {m.rank} | {t_rule / t_pts:.3f} |")


if __name__ == "__main__":
    main()
