"""
Pennington-Bahri: the Wishart + Wigner Hessian model by free addition
====================================================================

Derives, with SymPy, from the R-transforms alone (J. Tanner's lecture slides on Pennington & Bahri,
ICML 2017; see docs/references.md):

1. the Stieltjes equation of H = H0 + H1 (H0 Marchenko-Pastur of ratio phi, H1 semicircle of
   variance 2 eps): R_H0(G) + R_H1(G) + 1/G = z is the cubic
   2 eps phi G^3 - (2 eps + z phi) G^2 + (z + phi - 1) G - 1 = 0;
2. the critical energy eps_c (the left edge reaches 0) as the positive root of the discriminant of
   the cubic at z = 0, shown equal to the slides' (1 - 20 phi - 8 phi^2 + (1 + 8 phi)^{3/2})/16 by
   exact reduction modulo s^2 = 1 + 8 phi; alpha_0(phi) and the 3/2 law checked against the index
   of the numeric law;
3. the ReLU variant (R_H1 = eps phi z / (2 - eps phi^2 z^2), a quartic) and its eps_c, compared
   with the slides' sigma^2 (27 - 18 xi - xi^2 + 8 xi^{3/2}) / (32 phi (1 - phi)^3),
   xi = 1 + 16 phi - 8 phi^2: they agree exactly (sigma = the Marchenko-Pastur scale);

and draws the slides' Figure 1 (densities for phi in {0.25, 0.5, 0.75} at several eps) and the
index alpha(eps) with its 3/2-law asymptote, for both H1 laws (figure 50_pennington_bahri_law.png).

Run: ``python derivations/50_pennington_bahri_law.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def _reduces_to_zero(quadratic, eps_sym, numerator, xi, denominator, s) -> bool:
    """numerator(s)/denominator (with xi^{3/2} written xi*s) solves quadratic modulo s^2 = xi."""
    import sympy as sp

    q = quadratic.as_expr().subs(eps_sym, numerator / denominator)
    num = sp.numer(sp.together(q))
    return sp.expand(sp.rem(sp.expand(num), s**2 - xi, s)) == 0


def symbolic_part() -> dict:
    """Items 1-3: the derived equations and constants, with exact checks (asserts)."""
    import sympy as sp

    from symhess.free_probability.addition import pennington_bahri_model, slides_critical_energy
    from symhess.symbols import G, energy as EPS, mp_scale as SIGMA, phi as PHI, zeta as Z

    lin = pennington_bahri_model("wigner")
    relu = pennington_bahri_model("relu_block")
    P = lin.polynomial.as_expr()
    # 1. the cubic (typed in from a hand derivation, sigma = 1)
    typed = 2 * EPS * PHI * G**3 - (2 * EPS + Z * PHI) * G**2 + (Z + PHI - 1) * G - 1
    assert sp.expand(P.subs(SIGMA, 1) - typed) == 0
    # ... and every root of it solves R(G) + 1/G = z: P / (z - R - 1/G) is free of z
    assert Z not in sp.cancel(P / (Z - lin.r_transform - 1 / G)).free_symbols
    print("R_H0 + R_H1 =", lin.r_transform)
    print("P(G, z)     =", sp.collect(sp.expand(P), G), "  (degree", lin.polynomial.degree(), ")")

    # 2. eps_c from the discriminant at z = 0
    print("disc_G P(G,0) =", lin.discriminant_at_zero)
    eps_c = lin.critical_energy
    print("eps_c (derived) =", eps_c)
    s = sp.Symbol("s", positive=True)
    xi = 1 + 8 * PHI
    assert _reduces_to_zero(lin.critical_quadratic, EPS, SIGMA**2 * (1 - 20 * PHI - 8 * PHI**2 + xi * s), xi, 16, s)
    assert sp.simplify(eps_c - slides_critical_energy("wigner")) == 0
    print("  equals the slides' (1 - 20 phi - 8 phi^2 + (1 + 8 phi)^{3/2})/16 (times sigma^2): proved")

    # 3. ReLU
    print("ReLU: R_H1 =", relu.r_h1, "; P has degree", relu.polynomial.degree())
    print("  critical factor of disc_G P(G,0):", sp.factor(relu.critical_quadratic.as_expr()))
    eps_c_relu = relu.critical_energy
    print("  eps_c (derived) =", eps_c_relu)
    xi_r = 1 + 16 * PHI - 8 * PHI**2
    assert _reduces_to_zero(relu.critical_quadratic, EPS, SIGMA**2 * (27 - 18 * xi_r - xi_r**2 + 8 * xi_r * s),
                            xi_r, 32 * PHI * (1 - PHI) ** 3, s)
    slides_relu = slides_critical_energy("relu_block")
    for p in (sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10)):
        d = sp.N((eps_c_relu - slides_relu).subs({PHI: p, SIGMA: 1}), 50)
        assert abs(d) < 1e-45, (p, d)
    print("  equals the slides' sigma^2 (27 - 18 xi - xi^2 + 8 xi^{3/2}) / (32 phi (1-phi)^3): proved "
          "(root of the same quadratic, and the positive one)")
    return {"eps_c": eps_c, "eps_c_relu": eps_c_relu}


def numeric_part(quick: bool) -> dict:
    """Items 2 (3/2 law) and 6 (the curves of the figure)."""
    import symhess

    out: dict = {"densities": {}, "alpha": {}, "alpha_lin": {}}
    phis = (0.25, 0.5, 0.75)
    for act in ("wigner", "relu_block"):
        for phi in phis:
            ec = symhess.critical_energy(phi, act)
            a0 = symhess.index_prefactor(phi, act)
            # the 3/2 law: alpha / (alpha_0 delta^{3/2}) -> 1 linearly in delta
            r = [symhess.pennington_bahri(phi, ec * (1 + d), activation=act).index() / (a0 * d**1.5)
                 for d in (1e-2, 1e-3)]
            assert abs(r[1] - 1) < 3e-3 and abs(r[0] - 1) > 3 * abs(r[1] - 1), (act, phi, r)
            assert symhess.pennington_bahri(phi, ec * (1 - 1e-3), activation=act).index() == 0.0
            print(f"{act:6s} phi={phi:.2f}: eps_c={ec:.6g}, alpha_0={a0:.5g}, "
                  f"alpha/(alpha_0 delta^1.5) = {r[0]:.5f} (delta=1e-2), {r[1]:.5f} (delta=1e-3)")
            n_eps = 5 if quick else 30
            delta = np.geomspace(1e-3, 1e2, n_eps)
            alpha = np.array([symhess.pennington_bahri(phi, ec * (1 + d), activation=act).index() for d in delta])
            assert np.all(np.diff(alpha) > 0)  # more energy, more negative directions
            out["alpha"][(act, phi)] = (ec, a0, delta, alpha)
            if act == "wigner":
                eps = np.linspace(0, 0.5, 8 if quick else 51)
                out["alpha_lin"][phi] = (eps, np.array([symhess.pennington_bahri(phi, e).index() for e in eps]))
    # the slides' Figure 1: as eps grows the spectrum becomes semicircular with negative eigenvalues
    for phi in phis:
        for eps in (0.0, 0.01, 0.1, 0.5):
            law = symhess.pennington_bahri(phi, eps)
            lo, hi = law.support[0][0], law.support[-1][1]
            x = np.linspace(min(lo, -0.5) - 0.1, hi + 0.1, 300 if quick else 1200)
            rho = law.pdf(x)
            assert np.all(np.isfinite(rho)) and np.all(rho >= 0)
            out["densities"][(phi, eps)] = (x, rho, law.index())
    return out


def make_figure(num: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phis = (0.25, 0.5, 0.75)
    # a 2 x 3 grid at 16:9, fit for a slide: densities on top; index and the 3/2 law below, legend beside
    fig, grid = plt.subplots(2, 3, figsize=(13.3, 7.5))
    axes = list(grid.ravel())
    for ax, phi in zip(axes[:3], phis):
        for eps in (0.0, 0.01, 0.1, 0.5):
            x, rho, a = num["densities"][(phi, eps)]
            ax.plot(x, rho, label=rf"$\epsilon={eps:g}$ ($\alpha={a:.3f}$)")
        ax.set_ylim(0, 1.6)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_title(rf"$\phi={phi}$ (Wishart + Wigner)")
        ax.set_xlabel(r"$\lambda$")
        ax.set_ylabel(r"$\rho_H(\lambda)$")
        ax.legend(fontsize=8)
    ax = axes[3]
    for phi in phis:
        eps, alpha = num["alpha_lin"][phi]
        line, = ax.plot(eps, alpha, "o-", ms=3, label=rf"$\phi={phi}$")
        ax.axvline(num["alpha"][("wigner", phi)][0], color=line.get_color(), lw=0.6, ls=":")
    ax.set_xlabel(r"$\epsilon$")
    ax.set_ylabel(r"index $\alpha(\epsilon,\phi)$")
    ax.set_title(r"index vs energy (Wigner $H_1$); dotted: $\epsilon_c(\phi)$", fontsize=9)
    ax.legend(fontsize=8)
    ax = axes[4]
    for act, marker in (("wigner", "o"), ("relu_block", "s")):
        for phi in phis:
            ec, a0, delta, alpha = num["alpha"][(act, phi)]
            line, = ax.loglog(delta, alpha, marker, ms=3, label=rf"{act}, $\phi={phi}$")
            ax.loglog(delta, a0 * delta**1.5, "-", color=line.get_color(), lw=0.7)
    ax.set_ylim(1e-7, 1)
    ax.set_xlabel(r"$(\epsilon-\epsilon_c)/\epsilon_c$")
    ax.set_ylabel(r"$\alpha$")
    ax.set_title(r"3/2 law: markers $\alpha$, lines $\alpha_0(\phi)\,\delta^{3/2}$", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    axes[5].axis("off")
    axes[5].legend(handles, labels, loc="center", fontsize=9, ncol=2, title="3/2 law panel")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer energies on the alpha curves")
    ap.add_argument("--out", type=Path, default=None, help="directory for the figure")
    args = ap.parse_args(argv)
    symbolic_part()
    num = numeric_part(args.quick)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        make_figure(num, args.out / "50_pennington_bahri_law.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
