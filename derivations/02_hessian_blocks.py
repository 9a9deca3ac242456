"""
Expected Hessian blocks at the optimum: equations (8)–(13) and (16)–(18)
=========================================================================

Derives the per-pair block formulas with symhess (Stein's lemma + Price's theorem / exact
moments) and asserts that they equal the formulas of Couto et al. (Sections 3, 4.1 and 5, Appendix C),
re-derived by hand and typed in below, for the linear, quadratic (``z + eps z^2``) and
both erf conventions (``erf(z/sqrt 2)`` with Δ, ``erf(z)`` with Δ̃). Then checks the assembled
Hessian of a random teacher against a Monte Carlo estimate.

Run: ``python derivations/02_hessian_blocks.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import sympy as sp


def _paper_blocks():
    """The hand-derived formulas, typed in paper notation (i, k hidden units; j, l inputs)."""
    from symhess.symbols import Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, delta_jl, v_i, v_k

    e = sp.Symbol("epsilon", real=True)
    linear = {  # eqs (8)-(10)
        "WW": v_i * v_k * delta_jl,
        "Wv": v_i * W_kj,
        "vv": Q_ik,
    }
    quadratic = {  # eqs (11)-(13), sigma = z + eps z^2
        "WW": v_i * v_k * ((1 + 4 * e**2 * Q_ik) * delta_jl + 4 * e**2 * (W_ij * W_kl + W_il * W_kj)),
        "Wv": v_i * (W_kj + 2 * e**2 * (Q_kk * W_ij + 2 * Q_ik * W_kj)),
        "vv": Q_ik + e**2 * (Q_ii * Q_kk + 2 * Q_ik**2),
    }
    D = (1 + Q_ii) * (1 + Q_kk) - Q_ik**2  # Saad-Solla erf(z/sqrt 2): eqs (16)-(18)
    erf_ss = {
        "WW": 2 / sp.pi * v_i * v_k / sp.sqrt(D) * (
            delta_jl - ((1 + Q_kk) * W_ij * W_il + (1 + Q_ii) * W_kj * W_kl - Q_ik * (W_ij * W_kl + W_kj * W_il)) / D),
        "Wv": 2 / sp.pi * v_i / sp.sqrt(D) * (W_kj - Q_ik / (1 + Q_ii) * W_ij),
        "vv": 2 / sp.pi * sp.asin(Q_ik / sp.sqrt((1 + Q_ii) * (1 + Q_kk))),
    }
    Dt = (1 + 2 * Q_ii) * (1 + 2 * Q_kk) - 4 * Q_ik**2  # plain erf(z)
    erf_plain = {
        "WW": 4 / sp.pi * v_i * v_k / sp.sqrt(Dt) * (
            delta_jl - 2 * ((1 + 2 * Q_kk) * W_ij * W_il + (1 + 2 * Q_ii) * W_kj * W_kl
                            - 2 * Q_ik * (W_ij * W_kl + W_kj * W_il)) / Dt),
        "Wv": 4 / sp.pi * v_i / sp.sqrt(Dt) * (W_kj - 2 * Q_ik / (1 + 2 * Q_ii) * W_ij),
        "vv": 2 / sp.pi * sp.asin(2 * Q_ik / sp.sqrt((1 + 2 * Q_ii) * (1 + 2 * Q_kk))),
    }
    return {
        "linear": linear,
        "quadratic": quadratic,
        "erf:scale=sqrt(2)/2": erf_ss,
        "erf": erf_plain,
    }, e


def _equal(a: sp.Expr, b: sp.Expr, rng: np.random.Generator, trials: int) -> bool:
    """Symbolic zero test, falling back to random Gram-matrix points (valid overlaps)."""
    diff = sp.simplify(a - b)
    if diff == 0:
        return True
    syms = sorted(diff.free_symbols, key=str)
    for _ in range(trials):
        w = rng.normal(size=(2, 2)) * rng.uniform(0.2, 2.0)
        vals = {"Q_ii": w[0] @ w[0], "Q_kk": w[1] @ w[1], "Q_ik": w[0] @ w[1],
                "W_ij": w[0, 0], "W_il": w[0, 1], "W_kj": w[1, 0], "W_kl": w[1, 1]}
        point = {s: vals.get(str(s), rng.normal()) for s in syms}
        if abs(complex(diff.evalf(subs=point))) > 1e-12:
            return False
    return True


def _figure(spec: str, H: np.ndarray, mc: np.ndarray, z: np.ndarray, n: int, split: int, path: Path) -> None:
    """The assembled expected Hessian, its Monte Carlo estimate and their difference in standard errors
    (blocks WW, Wv, vv separated at ``split`` = W.size)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    lim = np.abs(H).max()
    for ax, mat, title in ((axes[0], H, f"expected Hessian, {spec} (closed form)"),
                           (axes[1], mc, f"Monte Carlo, {n} samples")):
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=axes[:2], shrink=0.8)
    im = axes[2].imshow(z, cmap="viridis", vmin=0, vmax=5.5)
    axes[2].set_title("|difference| / standard error", fontsize=9)
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    for ax in axes:  # the W | v split of theta
        ax.axhline(split - 0.5, color="k", lw=0.6)
        ax.axvline(split - 0.5, color="k", lw=0.6)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(path, dpi=110, facecolor="white", bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer Monte Carlo samples")
    ap.add_argument("--out", type=Path, default=None, help="directory for the .tex table of blocks")
    args = ap.parse_args(argv)
    import symhess

    rng = np.random.default_rng(0)
    paper, eps = _paper_blocks()
    for spec, blocks in paper.items():
        act = symhess.activation("quadratic", eps=eps) if spec == "quadratic" else symhess.activation(spec)
        derived = symhess.derive_blocks(act)
        for name, ref in blocks.items():
            # eqs (8)-(13), (16)-(18): derived (i != k) entry == hand-derived paper formula
            assert _equal(derived[name].entry, ref, rng, 20), (spec, name)
            print(f"{spec:>22}  H_{name}: derived == paper formula")
    # the diagonal (i = k) is the same formula at Q_kk = Q_ik = Q_ii, W_k. = W_i. (continuity)
    from symhess.symbols import Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, v_i, v_k

    on_diag = {Q_kk: Q_ii, Q_ik: Q_ii, W_kj: W_ij, W_kl: W_il, v_k: v_i}
    for spec in ["erf", "quadratic:eps=1/3"]:
        for name, blk in symhess.derive_blocks(spec).items():
            assert _equal(blk.entry.subs(on_diag, simultaneous=True), blk.diagonal_entry, rng, 10), (spec, name)

    # assembled Hessian vs Monte Carlo (the population average the formulas claim to compute)
    n = 40_000 if args.quick else 400_000
    W, v = symhess.teacher(4, 3, rng=1)
    for spec in ["quadratic", "erf"]:
        act = symhess.activation(spec)
        H = symhess.expected_hessian(act, W, v)
        x = rng.standard_normal((n, 4))
        h = x @ W.T
        J = np.concatenate([((v * act.numeric(1)(h))[:, :, None] * x[:, None, :]).reshape(n, -1),
                            act.numeric(0)(h)], axis=1)
        mc = J.T @ J / n
        se = np.sqrt(((J[:, :, None] * J[:, None, :]) ** 2).mean(0) - mc**2) / np.sqrt(n)
        z = np.abs(H - mc) / (se + 1e-12)
        assert z.max() < 5.5, (spec, z.max())  # within Monte Carlo error
        panels = (spec, H, mc, z)
        print(f"{spec:>22}  assembled H vs Monte Carlo ({n} samples): max |z| = {z.max():.2f}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        _figure(*panels, n, W.size, args.out / "02_hessian_blocks.png")
        with open(args.out / "blocks.txt", "w") as fh:
            for spec in paper:
                for name, blk in symhess.derive_blocks(spec).items():
                    fh.write(f"{spec} H_{name} = {blk.entry}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
