"""
Architecture options of the two-layer network: the expected Hessian's spectrum in each setting
==============================================================================================

One panel per option of ``symhess.expected_hessian`` beyond the plain network
f(x) = sum_i v_i erf(w_i . x), x ~ N(0, I): hidden and output biases (``b``, ``b_out``), ReLU with hidden
biases, several outputs (``v`` of shape (n_out, Nh)), a spiked input covariance (``input_cov``), a frozen
second layer (``trainable=("W",)``) and a teacher of another kind (``teacher_activation``, a wider erf
teacher of another scale), where the student is moved to its minimum by ``symhess.find_minimum``. Each
panel shows the sorted eigenvalues against the plain network's at the same weights.

Checks, each against a fact derived independently of the assembly:
- biases: P grows by Nh + 1; H_{b_out b_out} = E[1] = 1; the Hessian is positive definite with the float
  rank equal to ``effective_parameters(..., hidden_bias=True, output_bias=True)``; zero biases give back
  the plain W, v blocks;
- ReLU with hidden biases: the Nh rescalings (w_i, b_i, v_i) -> (c w_i, c b_i, v_i / c) are null directions
  (H u_i = 0 for u_i = (w_i, b_i, -v_i)), and they are the only ones (exactly Nh eigenvalues below 1e-9 max);
- several outputs: H_vv = I_{n_out} (x) K with K_ik = (2/pi) arcsin(2 q_ik / sqrt((1+2q_ii)(1+2q_kk))), the
  arcsine kernel, and H_WW = sum_o H_WW(v_o) (each output adds its own Gauss-Newton term);
- correlated inputs: the whitening identity H_Sigma(W, v) = J H_I(W Sigma^1/2, v) J^T, Sigma^1/2 by eigh;
- frozen second layer: the principal W submatrix of the full Hessian, whose eigenvalues interlace
  (Cauchy) with the full Hessian's;
- mismatched teacher: the gradient at the minimum is below 1e-10, the full Hessian agrees with finite
  differences of the closed-form gradient, its smallest eigenvalue is positive and differs from the
  Gauss-Newton part's (the residual part E[e grad^2 f] is nonzero at a minimum of positive loss).

Run: ``python derivations/47_architecture_options.py [--quick] [--out DIR]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def _arcsine_kernel(W: np.ndarray) -> np.ndarray:
    """E[erf(w_i.x) erf(w_k.x)], x ~ N(0, I), in closed form."""
    Q = W @ W.T
    d = 1.0 + 2.0 * np.diag(Q)
    return 2.0 / np.pi * np.arcsin(2.0 * Q / np.sqrt(np.outer(d, d)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--out", type=Path, default=None, help="directory for figures")
    args = ap.parse_args(argv)

    import symhess
    from symhess.two_layer.covariances import spiked_covariance

    ni, nh = (6, 5) if args.quick else (20, 20)
    rng = np.random.default_rng(4717)
    W, v = symhess.teacher(ni, nh, rng)
    H0 = symhess.expected_hessian("erf", W, v)
    P = nh * ni + nh
    panels = {}

    # 1. hidden and output biases (erf)
    b, b_out = 0.3 * rng.standard_normal(nh), 0.5
    Hb = symhess.expected_hessian("erf", W, v, b=b, b_out=b_out)
    eb = np.linalg.eigvalsh(Hb)
    eff = symhess.effective_parameters("erf", ni, nh, hidden_bias=True, output_bias=True)
    float_rank = int(np.sum(eb > 1e-10 * eb[-1]))
    assert Hb.shape == (P + nh + 1, P + nh + 1), "biases add Nh + 1 parameters"
    assert abs(Hb[-1, -1] - 1.0) < 1e-12, "H_{b_out b_out} = E[1 * 1] = 1"
    assert eb[0] > 0 and float_rank == eff.value == eff.n_params == P + nh + 1, "erf with biases: full rank"
    Hz = symhess.expected_hessian("erf", W, v, b=np.zeros(nh))
    assert np.allclose(Hz[:P, :P], H0, atol=1e-13), "zero biases give the plain blocks"
    print(f"biases: P = {P} -> {Hb.shape[0]}, lambda_min = {eb[0]:.3e}, float rank {float_rank}"
          f" = effective_parameters {eff.value}  [checked]")
    panels["erf, hidden + output biases"] = (eb, np.linalg.eigvalsh(H0))

    # 2. ReLU with hidden biases: the rescaling null directions
    Hr0 = symhess.expected_hessian("relu", W, v)
    Hr = symhess.expected_hessian("relu", W, v, b=b)
    er = np.linalg.eigvalsh(Hr)
    scale = er[-1]
    for i in range(nh):
        u = np.zeros(Hr.shape[0])
        u[i * ni:(i + 1) * ni] = W[i]
        u[P + i] = b[i]
        u[nh * ni + i] = -v[i]
        assert np.linalg.norm(Hr @ u) < 1e-10 * scale * np.linalg.norm(u), f"rescaling of unit {i} is null"
    n_null = int(np.sum(er < 1e-9 * scale))
    assert n_null == nh, f"ReLU with hidden biases: exactly Nh = {nh} null directions, got {n_null}"
    print(f"ReLU + hidden biases: {n_null} null eigenvalues = Nh, the rescalings  [checked]")
    panels["ReLU, hidden biases"] = (er, np.linalg.eigvalsh(Hr0))

    # 3. several outputs
    n_out = 3
    V = rng.standard_normal((n_out, nh)) / np.sqrt(nh)
    Ho = symhess.expected_hessian("erf", W, V)
    K = _arcsine_kernel(W)
    nW = nh * ni
    assert Ho.shape == (nW + n_out * nh,) * 2
    assert np.allclose(Ho[nW:, nW:], np.kron(np.eye(n_out), K), atol=1e-13), "H_vv = I (x) K"
    HWW = sum(symhess.expected_hessian("erf", W, V[o])[:nW, :nW] for o in range(n_out))
    assert np.allclose(Ho[:nW, :nW], HWW, atol=1e-13), "H_WW = sum over outputs"
    print(f"{n_out} outputs: H_vv = I (x) K (arcsine kernel), H_WW = sum_o H_WW(v_o)  [checked]")
    panels[f"erf, {n_out} outputs"] = (np.linalg.eigvalsh(Ho), np.linalg.eigvalsh(H0))

    # 4. spiked input covariance: whitening identity
    Sigma = np.diag(spiked_covariance(ni, 0.25, 8.0))    # a quarter of the variances 1 + 8
    Q, _ = np.linalg.qr(rng.standard_normal((ni, ni)))
    Sigma = Q @ Sigma @ Q.T                              # spikes in random directions: a dense Sigma
    Hs = symhess.expected_hessian("erf", W, v, input_cov=Sigma)
    lam, U = np.linalg.eigh(Sigma)
    S = (U * np.sqrt(lam)) @ U.T
    J = np.eye(P)
    J[:nW, :nW] = np.kron(np.eye(nh), S)
    assert np.allclose(Hs, J @ symhess.expected_hessian("erf", W @ S, v) @ J.T, atol=1e-12), "whitening identity"
    print("spiked Sigma: H_Sigma(W, v) = J H_I(W Sigma^1/2, v) J^T  [checked]")
    panels["erf, spiked input covariance"] = (np.linalg.eigvalsh(Hs), np.linalg.eigvalsh(H0))

    # 5. frozen second layer (soft committee machine), away from the optimum
    Wt, vt = symhess.teacher(ni, nh, rng)
    Hf = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt)
    HW = symhess.expected_hessian("erf", W, v, W_teacher=Wt, v_teacher=vt, trainable=("W",))
    assert np.array_equal(HW, Hf[:nW, :nW]), "frozen v: the principal W submatrix"
    ef, eW = np.linalg.eigvalsh(Hf), np.linalg.eigvalsh(HW)
    k = P - nW
    tol = 1e-12 * np.abs(ef).max()
    assert np.all(ef[:nW] <= eW + tol) and np.all(eW <= ef[k:] + tol), "Cauchy interlacing"
    print("frozen v: H_W = principal submatrix, eigenvalues interlace the full Hessian's  [checked]")
    panels["erf, frozen second layer (W trained)"] = (eW, ef)

    # 6. a teacher of another kind: wider erf teacher of another scale, the student at its minimum
    mi, mh, mt = (4, 2, 4) if args.quick else (8, 4, 6)
    Wt, vt = symhess.teacher(mi, mt, rng)
    ta = "erf:scale=0.5"
    res = symhess.find_minimum("erf", 1.1 * Wt[:mh], vt[:mh], Wt, vt, teacher_activation=ta)
    kw = dict(W_teacher=Wt, v_teacher=vt, teacher_activation=ta)
    g = symhess.population_gradient("erf", res.W, res.v, Wt, vt, teacher_activation=ta)
    Hm = symhess.expected_hessian("erf", res.W, res.v, **kw)
    Hgn = symhess.expected_hessian("erf", res.W, res.v, **kw, part="gauss_newton")
    h = 1e-5
    theta = np.concatenate([res.W.ravel(), res.v])
    d = rng.standard_normal(theta.size)

    def grad(t):
        return symhess.population_gradient("erf", t[:mh * mi].reshape(mh, mi), t[mh * mi:], Wt, vt,
                                           teacher_activation=ta)

    fd = (grad(theta + h * d) - grad(theta - h * d)) / (2 * h)
    em, egn = np.linalg.eigvalsh(Hm), np.linalg.eigvalsh(Hgn)
    assert res.converged and res.loss > 1e-9, "a minimum of positive loss"
    assert np.linalg.norm(g) < 1e-10, "gradient at the minimum"
    assert np.linalg.norm(fd - Hm @ d) < 1e-6 * np.linalg.norm(Hm @ d), "full Hessian = d(gradient)"
    assert em[0] > 0, "strict local minimum"
    assert abs(em[0] - egn[0]) > 1e-3 * abs(egn[0]) and np.linalg.norm(Hm - Hgn) > 1e-8, \
        "the residual part changes the spectrum"
    print(f"mismatched teacher ({mi}, {mh}) vs {mt} units of {ta}: loss {res.loss:.3e}, |g| = {np.linalg.norm(g):.1e},"
          f" lambda_min full {em[0]:.3e} vs Gauss-Newton {egn[0]:.3e}  [checked]")
    panels[f"erf vs wider {ta} teacher, at the minimum"] = (em, egn)

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        args.out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.6))
        refs = ["plain erf network", "ReLU, no biases", "plain erf network", "plain erf network ($\\Sigma=I$)",
                "full Hessian (W, v)", "Gauss-Newton part"]
        for ax, (name, (e, e_ref)), ref in zip(axes.ravel(), panels.items(), refs):
            floor = 1e-16 * max(np.abs(e).max(), np.abs(e_ref).max())
            for vals, lab, st in ((e_ref, ref, dict(color="grey", ls="--")), (e, "this setting", dict(color="C0"))):
                s = np.sort(vals)[::-1]
                ax.plot(np.arange(1, s.size + 1), np.maximum(np.abs(s), floor), lw=1.3, label=f"{lab} (P={s.size})",
                        **st)
                neg = s < 0
                if neg.any():
                    ax.plot(np.flatnonzero(neg) + 1, np.abs(s[neg]), "x", ms=4, color=st["color"])
            ax.set_yscale("log")
            ax.set_xlabel("index (descending)")
            ax.set_ylabel(r"$|\lambda|$ (x: $\lambda<0$)")
            ax.set_title(name, fontsize=9.5)
            ax.legend(fontsize=7)
        fig.suptitle(f"Expected Hessian spectra, $N_i$={ni}, $N_h$={nh} (last panel: $N_i$={mi}, $N_h$={mh})",
                     fontsize=11)
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(args.out / f"47_architecture_options.{ext}", dpi=120)
        plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
