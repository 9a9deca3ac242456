"""Benchmark: the dense expected Hessian of activations without closed forms against erf's closed forms.

Run:  python benchmarks/bench_generic.py [--n 100] [--repeat 7] [--activations erf tanh softplus sigmoid silu]
      [--ref-pairs 2] [--no-accuracy] [--conditional]

At the optimum (``symhess.expected_hessian(act, W, v)``, ``W, v = symhess.teacher(n, n, rng=0)``,
P = n^2 + n) it times, in interleaved rounds of the same run (median and best of ``--repeat``):

* every activation's dense assembly; for the quadrature activations the caches of
  :mod:`symhess.kernels.quadrature` are cleared before each call, so every call computes its pair tables;
* ``tables``: the pair-coefficient tables alone (``block_coefficients``), caches cleared;
* ``floor``: ``np.copyto`` of a P x P float64 array into another (memory bandwidth, no page faults);
* with ``--conditional``, once per quadrature activation: the same assembly with Mehler's series switched off
  (every pair by the conditional double trapezoidal rule, the route before the series).

Ratios are against erf (closed forms, same assembly) and the floor of the same run.

Accuracy (unless ``--no-accuracy``): for each quadrature activation, (1) the pair kernels at
``--ref-pairs`` random unit pairs (i, k) of the same network, every Gauss-Newton kernel K_ab(q_i, q_k,
c_ik), against 30-digit references (``tests/arb_reference.py``: arb ball arithmetic, nested graded
Gauss-Legendre, an independent algorithm); (2) the whole dense Hessian against the one assembled from
tables computed by the other rule of the module (the conditional double trapezoidal rule, Mehler's series
switched off); (3) the stated error of the quadrature (``record_quadrature``).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np
from _timing import best_of

GN_KEYS = [(1, 1), (3, 1), (1, 3), (2, 2), (2, 0), (0, 2), (0, 0)]


def _clear():
    from symhess.kernels import quadrature as Q

    Q._CACHE.clear()
    Q._HERMITE_CACHE.clear()


def _timed(fn):
    """Wall time of one call (the caches are cleared by the caller where it matters)."""
    return best_of(fn)[0]


def _conditional_only():
    """Context: every pair by the conditional rule (Mehler's series off)."""
    from contextlib import contextmanager

    from symhess.kernels import quadrature as Q

    @contextmanager
    def ctx():
        saved = Q.MEHLER_MAX_NODES
        Q.MEHLER_MAX_NODES = 0
        _clear()
        try:
            yield
        finally:
            Q.MEHLER_MAX_NODES = saved
            _clear()

    return ctx()


def timing(symhess, names, n, repeat, conditional=False):
    from symhess.two_layer.pairs import block_coefficients

    W, v = symhess.teacher(n, n, rng=np.random.default_rng(0))
    P = n * n + n
    acts = {name: symhess.activation(name) for name in names}
    for act in acts.values():  # compile kernels once
        symhess.expected_hessian(act, W[:2, :2], v[:2])
    src, dst = np.ones((P, P)), np.empty((P, P))
    times = {name: [] for name in names}
    tables = {name: [] for name in names}
    floor = []
    for _ in range(repeat):
        floor.append(_timed(lambda: np.copyto(dst, src)))
        for name, act in acts.items():
            _clear()
            times[name].append(_timed(lambda: symhess.expected_hessian(act, W, v)))
            _clear()
            tables[name].append(_timed(lambda: block_coefficients(act, W)))
    del src, dst
    cond = {}
    if conditional:
        for name, act in acts.items():
            if _is_quadrature(act):
                with _conditional_only():
                    cond[name] = _timed(lambda: symhess.expected_hessian(act, W, v))
    med = {k: float(np.median(t)) for k, t in times.items()}
    f = float(np.median(floor))
    base = med.get("erf")
    print(f"n = Ni = Nh = {n}, P = {P}; {repeat} interleaved rounds; load average at the end "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| activation | route | assembly, median (s) | best (s) | pair tables, median (s) | **median / erf** "
          "| best / best erf | median / floor | conditional rule only (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, act in acts.items():
        route = "quadrature" if _is_quadrature(act) else "closed form"
        ratio = f"**{med[name] / base:.2f}**" if base else "—"
        old = f"{cond[name]:.2f} ({cond[name] / base:.1f} × erf)" if name in cond and base else "—"
        best = f"{min(times[name]) / min(times['erf']):.2f}" if base else "—"
        print(f"| {name} | {route} | {med[name]:.3f} | {min(times[name]):.3f} | {np.median(tables[name]):.3f} "
              f"| {ratio} | {best} | {med[name] / f:.1f} | {old} |")
    print(f"| floor: `np.copyto` of P x P float64 | — | {f:.3f} | {min(floor):.3f} | — | "
          f"{f / base if base else float('nan'):.2f} | {min(floor) / min(times['erf']) if base else float('nan'):.2f} "
          f"| 1 | — |")
    quad = [name for name, act in acts.items() if _is_quadrature(act)]
    if quad:
        breakdown(symhess, acts[quad[0]], quad[0], W, v, repeat)


def breakdown(symhess, act, name, W, v, repeat):
    """What a quadrature Hessian costs beyond the shared assembly: exact symmetrisation and the PSD detector."""
    from symhess.linalg.psd import PSD_CERTIFY_MAX, PSD_LANCZOS_STEPS, check_psd, symmetrize_in_place

    H = symhess.expected_hessian(act, W, v)
    sym = [_timed(lambda: symmetrize_in_place(H)) for _ in range(repeat)]
    norm = float(np.linalg.norm(H))
    psd = [_timed(lambda: check_psd(H, 1e-12 * norm, "H")) for _ in range(max(3, repeat // 2))]
    how = (f"{PSD_LANCZOS_STEPS} Lanczos products with the dense H" if H.shape[0] > PSD_CERTIFY_MAX
           else "shifted Cholesky certificate")
    print(f"\nBeyond the shared assembly ({name}, medians): exact symmetrisation with the Frobenius norm "
          f"{np.median(sym):.3f} s; PSD check ({how}) {np.median(psd):.3f} s.")


def _is_quadrature(act):
    from symhess.expectation.pairs import pair_expectation

    try:
        _, route = pair_expectation(act, 1, 1, with_route=True)
    except Exception:  # noqa: BLE001 - only a label
        return True
    return "quadrature" in str(route)


def accuracy(symhess, names, n, ref_pairs):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    from arb_reference import pair_ref, sigmoid_d, silu_d, softplus_d, tanh_d

    from symhess.kernels.quadrature import gaussian_pair_quadrature, record_quadrature

    arb = {
        "tanh": (tanh_d, lambda m: 46.0 if m > 0 else None),
        "sigmoid": (sigmoid_d, lambda m: 92.0 if m > 0 else None),
        "softplus": (softplus_d, lambda m: 92.0 if m > 1 else None),
        "silu": (silu_d, lambda m: 100.0 if m > 1 else None),
    }
    W, v = symhess.teacher(n, n, rng=np.random.default_rng(0))
    G = W @ W.T
    q = np.diag(G).copy()
    rng = np.random.default_rng(1)
    print("\n| activation | pair kernels vs 30 digits: max rel. error (max rel. estimate) | dense H vs conditional-rule "
          "tables: max abs / max abs H | ‖ΔH‖_F / ‖H‖_F | stated rel. error |")
    print("|---|---|---|---|---|")
    for name in names:
        act = symhess.activation(name)
        if not _is_quadrature(act):
            continue
        worst, worst_est = 0.0, 0.0
        if name in arb:
            for _ in range(ref_pairs):
                i, k = rng.choice(n, 2, replace=False)
                for a, b in GN_KEYS:
                    got, est = gaussian_pair_quadrature(act, a, b, q[i], q[k], G[i, k], with_error=True)
                    ref = float(pair_ref(a, b, q[i], q[k], G[i, k], deriv=arb[name][0], reach=arb[name][1]).mid())
                    worst = max(worst, abs(float(got) - ref) / abs(ref))
                    worst_est = max(worst_est, float(est) / abs(ref))
        _clear()
        with record_quadrature() as rec:
            H = symhess.expected_hessian(act, W, v)
        with _conditional_only():
            H2 = symhess.expected_hessian(act, W, v)
        d = H - H2
        ref_txt = f"{worst:.1e} ({worst_est:.1e})" if name in arb else "—"
        print(f"| {name} | {ref_txt} | {np.abs(d).max() / np.abs(H).max():.1e} "
              f"| {np.linalg.norm(d) / np.linalg.norm(H):.1e} | {rec.worst:.1e} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--activations", nargs="+", default=["erf", "tanh", "softplus", "sigmoid", "silu"])
    ap.add_argument("--ref-pairs", type=int, default=2, help="random unit pairs checked against 30 digits")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--conditional", action="store_true",
                    help="also time each quadrature activation once with Mehler's series switched off")
    args = ap.parse_args(argv)
    import symhess

    warnings.simplefilter("ignore")  # the QuadratureWarning of the quadrature activations: known
    timing(symhess, args.activations, args.n, args.repeat, args.conditional)
    if not args.no_accuracy:
        accuracy(symhess, args.activations, args.n, args.ref_pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
