"""
Deep linear UFM: the layer-wise Hessian is a Kronecker product (G&K Section 4.1, Appendix A)
==========================================================================================

SymPy's matrix calculus differentiates the size-free objective tr(R^T R)/(2N),
R = W_L ... W_1 H_1 - Y, twice with respect to the matrix symbol W_l. The result is a single tensor
product, read off as (A_l^T A_l) (x) (H_l H_l^T / N) (row-major vec; column-major swaps the factors),
with A_l = W_L ... W_{l+1} and H_l = W_{l-1} ... W_1 H_1. The derived gradient is
(1/N) A_l^T R H_l^T. Both are then checked exactly against direct differentiation of the explicit
polynomial objective of small concrete models, and the numeric Hessian of ``symhess.DeepLinearUFM``
against the compiled concrete SymPy Hessian.

Run: ``python derivations/60_ufm_kronecker_hessian.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import sympy as sp


def _figure(hessians: list, sizes: tuple, path: Path) -> None:
    """The layer-wise Hessians at the optimum: each a Kronecker product, visible as repeated blocks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(hessians), figsize=(3.4 * len(hessians), 3.4))
    for l, (ax, H) in enumerate(zip(axes, hessians), start=1):
        lim = np.abs(H).max()
        ax.imshow(H, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"$\\nabla^2_{{W_{l}}}$ at the optimum", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    K, n, d, L = sizes
    fig.suptitle(f"deep linear UFM, K={K}, n={n}, d={d}, L={L}: Kronecker-structured layer Hessians", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, facecolor="white")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller concrete models")
    ap.add_argument("--out", type=Path, default=None, help="directory for the derived forms (.txt, .tex)")
    args = ap.parse_args(argv)

    from symhess import DeepLinearUFM, SymbolicDeepLinearUFM
    from symhess.ufm.symbolic_hessian import (
        derive_gradient, derive_layer_hessian, derived_hessian, derived_layer_hessian, expected_layer_factors,
    )
    from symhess.ufm.symbolic import MatrixUFM

    lines = []
    depths = [1, 2, 3] if args.quick else [1, 2, 3, 4, 5]
    for L in depths:
        M = MatrixUFM(L)
        for l in range(1, L + 1):
            form = derive_layer_hessian(M, l)
            left, right = expected_layer_factors(M, l)
            # Theorem 4.1 / Appendix A: d^2/dW_l^2 = (A_l^T A_l) (x) (H_l H_l^T)/N, for every size K, d, N
            assert form.left == left and form.right == right, (L, l, form)
            grad = derive_gradient(M, l)
            # Section 4.2: dMSE/dW_l = (1/N) A_l^T (W_L..W_1 H_1 - Y) H_l^T
            assert sp.simplify(grad - M.backprop_map(l).T * M.residual * M.layer_features(l).T / M.sizes[2]) \
                == sp.ZeroMatrix(*grad.shape)
            lines.append(f"L={L} l={l}:  Hessian = KroneckerProduct({form.left}, {form.right});  grad = {grad}")
    print("\n".join(lines))

    # exact check on concrete models: derived forms == sympy.hessian of the explicit polynomial
    concrete = [(2, 1, 2, 2)] if args.quick else [(2, 1, 2, 2), (2, 2, 2, 3), (3, 1, 3, 2)]
    for K, n, d, L in concrete:
        c = SymbolicDeepLinearUFM(K, n, d, L)
        M = MatrixUFM(L)
        for order in "CF":
            for l in range(1, L + 1):
                diff = (derived_layer_hessian(M, c, l, order) - c.layer_hessian(l, order)).applyfunc(sp.expand)
                assert diff == sp.zeros(*diff.shape), (K, n, d, L, l, order)  # Appendix A, exactly
        if not args.quick:
            full = (derived_hessian(M, c, "C") - c.hessian("C")).applyfunc(sp.expand)
            assert full == sp.zeros(*full.shape)  # all blocks incl. the residual cross terms
        print(f"concrete K={K} n={n} d={d} L={L}: derived Kronecker forms == direct sympy.hessian (C and F order)")

    # numeric code == compiled concrete SymPy Hessian, at the closed-form optimum and at a random point
    K, n, d, L = (2, 2, 3, 2) if args.quick else (3, 2, 3, 3)
    c = SymbolicDeepLinearUFM(K, n, d, L)
    m = DeepLinearUFM(K, n, d, L, reg_w=0.01, reg_h=0.01)
    at_optimum = []
    for p in (m.optimum(rng=0), m.random_point(1, 1.0)):
        at_optimum = at_optimum or [m.layer_hessian(p, l) for l in range(1, L + 1)]
        for l in range(1, L + 1):
            f = sp.lambdify(c.params("C"), c.layer_hessian(l, "C"), "numpy")
            ref = np.array(f(*p.to_vector("C")), dtype=float)
            assert np.abs(m.layer_hessian(p, l) - ref).max() < 1e-13
    print(f"numeric DeepLinearUFM.layer_hessian == lambdified sympy Hessian (K={K}, n={n}, d={d}, L={L})")

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        _figure(at_optimum, (K, n, d, L), args.out / "60_ufm_kronecker_hessian.png")
        (args.out / "60_kronecker_forms.txt").write_text("\n".join(lines) + "\n")
        M = MatrixUFM(3)
        tex = [sp.latex(derive_layer_hessian(M, l).kronecker("C")) for l in (1, 2, 3)]
        (args.out / "60_kronecker_forms.tex").write_text("\n\n".join(tex) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
