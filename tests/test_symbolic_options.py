"""Block formulas with hidden biases, an output bias, several outputs and correlated inputs.

Every formula of ``derive_blocks(..., hidden_bias=, output_bias=, n_out=, input_cov=)`` is placed into a
full Hessian by a layout written here (not the library's) and compared with routes that share none of
its steps:

* polynomial activations: the concrete network ``TwoLayerNet`` differentiated by SymPy, ``x = L z``
  substituted and the expectation over ``z`` taken exactly monomial by monomial (exact rationals);
* erf: the same concrete network, lambdified, integrated by tensor Gauss–Hermite quadrature over
  ``z`` (smooth integrand, 64 nodes per dimension), and the dense numeric ``expected_hessian``;
* ReLU: the dense numeric ``expected_hessian`` and Monte Carlo of the concrete network with a
  standard-error bound.

The bivariate normal distribution function in the formulas is evaluated here by one-dimensional
adaptive quadrature, not by the library's Owen's T route.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from scipy import integrate, special

import symhess
from symhess import derive_blocks
from symhess.errors import InvalidParameterError, InvalidTypeError
from symhess.expectation.mean_nodes import MeanExpectation
from symhess.expectation.moments import expect_standard_normal
from symhess.export import export_equations
from symhess.symbols import (
    Q_ii, Q_ik, Q_kk, Sigma_jl, Sw_ij, Sw_il, Sw_kj, Sw_kl, VV_ii, VV_ik, W_ij, W_il, W_kj, W_kl, b_i, b_k,
    delta_jl, delta_oo, v_i, v_k, v_oi, v_ok,
)
from symhess.two_layer.architecture_blocks import ROUTE_PHI2, ROUTE_UNEVALUATED, BlockOptions

# -- an independent layout ------------------------------------------------------------------------

#: row / column index kinds of each block: "ij" a first-layer weight, "oi" an output weight, "i" a
#: hidden bias, "o" an output bias
_LAYOUT = {
    "WW": ("ij", "kl"), "Wv": ("ij", "ok"), "vv": ("oi", "pk"), "Wb": ("ij", "k"), "vb": ("oi", "k"),
    "bb": ("i", "k"), "Wb_out": ("ij", "o"), "vb_out": ("oi", "p"), "bb_out": ("i", "o"), "b_outb_out": ("o", "p"),
}


def _phi2(h, k, rho):
    """P(X <= h, Y <= k), correlation rho, by adaptive quadrature of phi(x) Phi((k - rho x)/r)."""
    r = np.sqrt(1.0 - rho**2)
    f = lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi) * special.ndtr((k - rho * x) / r)  # noqa: E731
    val, _ = integrate.quad(f, -np.inf, h, epsabs=1e-15, epsrel=1e-13, limit=200)
    return val


_MODULES = [{"BivariateNormalCDF": _phi2, "erf": special.erf}, "numpy"]


def _evaluator(expr: sp.Expr, exact: bool):
    syms = sorted(expr.free_symbols, key=str)
    if exact:  # SymPy arithmetic on exact rationals
        return lambda vals: expr.xreplace({s: sp.sympify(vals[s]) for s in syms})
    f = sp.lambdify(syms, expr, modules=_MODULES)
    return lambda vals: float(f(*[float(vals[s]) for s in syms]))


def assemble(blocks, W, V, b=None, b_out=False, L=None, *, exact=False):
    """The full Hessian from the per-entry formulas, theta = (W row-major, V row-major, b, b_out)."""
    Nh, Ni = W.shape[0], W.shape[1]
    n_out = V.shape[0]
    Sigma = L * L.T if L is not None else sp.eye(Ni)
    Q = W * Sigma * W.T
    SW = Sigma * W.T  # column i is Sigma w_i
    VV = V.T * V
    sizes = {"W": Nh * Ni, "v": n_out * Nh, "b": Nh if b is not None else 0, "b_out": n_out if b_out else 0}
    start, pos = {}, 0
    for g in ("W", "v", "b", "b_out"):
        start[g] = pos
        pos += sizes[g]
    H = sp.zeros(pos, pos) if exact else np.zeros((pos, pos))
    kinds = {"ij": ("W", lambda i, j: i * Ni + j), "kl": ("W", lambda i, j: i * Ni + j),
             "oi": ("v", lambda o, i: o * Nh + i), "ok": ("v", lambda o, i: o * Nh + i),
             "pk": ("v", lambda o, i: o * Nh + i), "i": ("b", None), "k": ("b", None),
             "o": ("b_out", None), "p": ("b_out", None)}

    def ranges(kind):
        if kind in ("ij", "kl"):
            return itertools.product(range(Nh), range(Ni))
        if kind in ("oi", "ok", "pk"):
            return itertools.product(range(n_out), range(Nh))
        if kind in ("i", "k"):
            return ((i,) for i in range(Nh))
        return ((o,) for o in range(n_out))

    for name, blk in blocks.items():
        rk, ck = _LAYOUT[name]
        f_off = _evaluator(blk.entry, exact)
        f_dia = _evaluator(blk.diagonal_entry, exact)
        for rid in ranges(rk):
            for cid in ranges(ck):
                idx = dict(zip(rk, rid)) | dict(zip(ck, cid))
                i, k = idx.get("i", 0), idx.get("k", idx.get("i", 0))
                j, l = idx.get("j", 0), idx.get("l", 0)
                o = idx.get("o", 0)
                p = idx.get("p", o)
                vals = {
                    Q_ii: Q[i, i], Q_kk: Q[k, k], Q_ik: Q[i, k], W_ij: W[i, j], W_il: W[i, l], W_kj: W[k, j],
                    W_kl: W[k, l], delta_jl: int(j == l), Sigma_jl: Sigma[j, l], Sw_ij: SW[j, i],
                    Sw_il: SW[l, i], Sw_kj: SW[j, k], Sw_kl: SW[l, k], v_i: V[0, i], v_k: V[0, k],
                    v_oi: V[o, i], v_ok: V[o, k], delta_oo: int(o == p), VV_ik: VV[i, k], VV_ii: VV[i, i],
                    b_i: b[i] if b is not None else 0, b_k: b[k] if b is not None else 0,
                }
                units = blk.units
                value = (f_dia if (units == 2 and i == k) else f_off)(vals)
                r = start[kinds[rk][0]] + (kinds[rk][1](*rid) if kinds[rk][1] else rid[0])
                c = start[kinds[ck][0]] + (kinds[ck][1](*cid) if kinds[ck][1] else cid[0])
                H[r, c] = value
                H[c, r] = value
    return H


# -- the concrete network ------------------------------------------------------------------------


def _net_point(net, W, V, b, L):
    """Substitution of the concrete network's symbols: weights, biases and x = L z."""
    z = sp.symbols(f"z0:{net.n_in}", real=True)
    subs = {net.W[i, j]: W[i, j] for i in range(net.n_hidden) for j in range(net.n_in)}
    if net.n_out == 1:
        subs.update({net.v[i]: V[0, i] for i in range(net.n_hidden)})
    else:
        subs.update({net.v[o, i]: V[o, i] for o in range(net.n_out) for i in range(net.n_hidden)})
    if b is not None:
        subs.update({net.b[i]: b[i] for i in range(net.n_hidden)})
    x = (L if L is not None else sp.eye(net.n_in)) * sp.Matrix(z)
    subs.update({net.x[j]: x[j] for j in range(net.n_in)})
    return subs, list(z)


def _rat(rng, shape, scale=1):
    return sp.Matrix(*shape, lambda *_: sp.Rational(int(rng.integers(-6, 7)), 6) * scale)


CASES = [
    dict(hidden_bias=True),
    dict(output_bias=True),
    dict(n_out=2),
    dict(input_cov=True),
    dict(hidden_bias=True, output_bias=True, n_out=2, input_cov=True),
]


@pytest.mark.parametrize("act", ["quadratic:eps=1/2", "poly:coeffs=[1/3,1,0,1/2]"])
@pytest.mark.parametrize("opts", CASES, ids=lambda d: "-".join(d))
def test_polynomial_blocks_equal_exact_expectation_of_concrete_network(act, opts):
    rng = np.random.default_rng(len(act) * 31 + len(opts) * 7 + sum(map(len, opts)))
    Ni, Nh, n_out = 2, 2, opts.get("n_out", 1)
    W = _rat(rng, (Nh, Ni))
    V = _rat(rng, (n_out, Nh))
    b = _rat(rng, (Nh, 1)) if opts.get("hidden_bias") else None
    L = sp.Matrix([[1, 0], [sp.Rational(1, 2), sp.Rational(2, 3)]]) if opts.get("input_cov") else None
    blocks = derive_blocks(act, **opts)
    H = assemble(blocks, W, V, b, opts.get("output_bias", False), L, exact=True)
    net = symhess.TwoLayerNet(Ni, Nh, act, hidden_bias="hidden_bias" in opts, output_bias="output_bias" in opts,
                              n_out=n_out)
    subs, z = _net_point(net, W, V, b, L)
    GN = net.gauss_newton
    ref = GN.applyfunc(lambda e: expect_standard_normal(e.subs(subs), z))
    assert H.shape == ref.shape
    assert (H - ref).applyfunc(sp.simplify) == sp.zeros(*H.shape)


def _float_point(rng, opts, Ni=2, Nh=2):
    n_out = opts.get("n_out", 1)
    W = rng.standard_normal((Nh, Ni)) * 0.8
    V = rng.standard_normal((n_out, Nh))
    b = rng.standard_normal(Nh) * 0.7 if opts.get("hidden_bias") else None
    L = np.array([[1.0, 0.0], [0.4, 0.7]]) if opts.get("input_cov") else None
    return W, V, b, L


def _numeric(act, W, V, b, opts, L):
    kw = {}
    if b is not None:
        kw["b"] = b
    if opts.get("output_bias"):
        kw["b_out"] = np.zeros(V.shape[0]) if V.shape[0] > 1 else 0.0
    if L is not None:
        kw["input_cov"] = L @ L.T
    v = V if V.shape[0] > 1 else V[0]
    return symhess.expected_hessian(act, W, v, **kw)


def _assemble_float(act, opts, W, V, b, L):
    blocks = derive_blocks(act, **opts)
    return assemble(blocks, sp.Matrix(W), sp.Matrix(V), None if b is None else list(b),
                    opts.get("output_bias", False), None if L is None else sp.Matrix(L))


def _gauss_hermite_gn(act, opts, W, V, b, L, nodes=64):
    """E_z[sum_o grad f_o grad f_o^T] of the concrete network by tensor Gauss–Hermite in z (N_i = 2)."""
    n_out = V.shape[0]
    net = symhess.TwoLayerNet(2, W.shape[0], act, hidden_bias=b is not None, output_bias=bool(opts.get("output_bias")),
                              n_out=n_out)
    params = list(net.W) + list(net.v) + (list(net.b) if b is not None else [])
    values = list(W.ravel()) + list(V.ravel() if n_out > 1 else V[0]) + (list(b) if b is not None else [])
    f = sp.lambdify([*params, *net.x], net.gauss_newton, modules=[{"erf": special.erf}, "numpy"])
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    Lm = np.eye(2) if L is None else L
    total = 0.0
    for a, wa in zip(t, w):
        for c, wc in zip(t, w):
            x = Lm @ np.array([a, c])
            total = total + wa * wc * np.array(f(*values, *x), dtype=float)
    return total


@pytest.mark.parametrize("opts", CASES, ids=lambda d: "-".join(d))
def test_erf_blocks_against_quadrature_of_concrete_network_and_dense_numeric(opts):
    rng = np.random.default_rng(7)
    W, V, b, L = _float_point(rng, opts)
    H = _assemble_float("erf", opts, W, V, b, L)
    ref = _gauss_hermite_gn("erf", opts, W, V, b, L)
    np.testing.assert_allclose(H, ref, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(H, _numeric("erf", W, V, b, opts, L), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("opts", CASES, ids=lambda d: "-".join(d))
def test_relu_blocks_against_dense_numeric_and_monte_carlo(opts):
    rng = np.random.default_rng(11)
    W, V, b, L = _float_point(rng, opts)
    H = _assemble_float("relu", opts, W, V, b, L)
    np.testing.assert_allclose(H, _numeric("relu", W, V, b, opts, L), rtol=1e-8, atol=1e-10)
    # Monte Carlo of the concrete network's gradients (ReLU: sigma' = Theta)
    n = 200_000
    z = rng.standard_normal((n, 2))
    x = z @ (np.eye(2) if L is None else L).T
    u = x @ W.T + (0.0 if b is None else b)
    s, ds = np.maximum(u, 0), (u > 0).astype(float)
    feats = []
    for o in range(V.shape[0]):
        gW = (V[o] * ds)[:, :, None] * x[:, None, :]
        gv = np.zeros((n, V.shape[0], W.shape[0]))
        gv[:, o, :] = s
        parts = [gW.reshape(n, -1), gv.reshape(n, -1)]
        if b is not None:
            parts.append(V[o] * ds)
        if opts.get("output_bias"):
            e = np.zeros((n, V.shape[0]))
            e[:, o] = 1.0
            parts.append(e)
        feats.append(np.concatenate(parts, axis=1))
    samples = sum(np.einsum("np,nq->npq", g, g) for g in feats)
    mean, se = samples.mean(0), samples.std(0) / np.sqrt(n)
    assert np.all(np.abs(H - mean) <= 6 * se + 1e-12)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.2, 3.0), thin=st.sampled_from([1.0, 1e-3, 1e-8]))
def test_erf_with_all_options_matches_dense_numeric_for_all_points(seed, scale, thin):
    """For all weights, biases and input covariances, including nearly singular ones (``thin``)."""
    opts = dict(hidden_bias=True, output_bias=True, n_out=2, input_cov=True)
    rng = np.random.default_rng(seed)
    W, V, b, L = _float_point(rng, opts)
    W, b = W * scale, b * scale
    L = L * np.array([1.0, thin])  # Sigma = L L^T of condition number ~ 1/thin^2
    H = _assemble_float("erf", opts, W, V, b, L)
    np.testing.assert_allclose(H, _numeric("erf", W, V, b, opts, L), rtol=1e-7, atol=1e-9)


# -- structure, routes, defaults and errors -----------------------------------------------------------


def test_default_call_unchanged_and_options_object():
    plain = derive_blocks("erf")
    assert sorted(plain) == ["WW", "Wv", "vv"]
    assert derive_blocks("erf", hidden_bias=False, n_out=1) == plain
    assert derive_blocks("erf", options=BlockOptions()) == plain
    opt = BlockOptions(hidden_bias=True, output_bias=True)
    assert derive_blocks("erf", options=opt) == derive_blocks("erf", hidden_bias=True, output_bias=True)
    assert list(derive_blocks("linear", options=opt)) == [
        "WW", "Wv", "vv", "Wb", "vb", "bb", "Wb_out", "vb_out", "bb_out", "b_outb_out"]


def test_several_outputs_change_only_prefactors():
    one, two = derive_blocks("erf", input_cov=True), derive_blocks("erf", n_out=3, input_cov=True)
    for name in one:
        assert one[name].coefficients == two[name].coefficients
    assert two["WW"].prefactor == VV_ik and one["WW"].prefactor == v_i * v_k
    assert two["vv"].prefactor == delta_oo  # H_vv = I_{n_out} (x) K
    assert two["Wv"].prefactor == v_oi and two["WW"].diagonal_prefactor == VV_ii


def test_linear_network_blocks_in_closed_form():
    B = derive_blocks("linear", hidden_bias=True, output_bias=True, input_cov=True)
    assert sp.simplify(B["WW"].entry - v_i * v_k * Sigma_jl) == 0
    assert sp.simplify(B["vv"].entry - (Q_ik + b_i * b_k)) == 0
    assert sp.simplify(B["Wb"].entry) == 0  # E[x_j] = 0
    assert sp.simplify(B["vb"].entry - v_k * b_i) == 0
    assert B["vb_out"].entry == b_i and B["bb_out"].entry == v_i and B["b_outb_out"].entry == 1


def test_routes_name_phi2_and_unevaluated_expectations():
    relu = derive_blocks("relu", hidden_bias=True)
    assert relu["vv"].routes["1"] == ROUTE_PHI2
    assert relu["vv"].entry.has(symhess.activations.bivariate_normal.BivariateNormalCDF)
    assert not relu["bb"].diagonal_entry.has(symhess.activations.bivariate_normal.BivariateNormalCDF)
    erf_single = derive_blocks("erf", hidden_bias=True, output_bias=True)["vb_out"]
    assert erf_single.routes["1"] == "closed form" and erf_single.entry.has(sp.erf)
    tanh = derive_blocks("tanh", hidden_bias=True, output_bias=True)
    assert tanh["vv"].routes["1"] == ROUTE_UNEVALUATED
    assert tanh["vv"].entry.atoms(MeanExpectation) and tanh["vb_out"].entry.atoms(MeanExpectation)


def test_bad_options_raise():
    with pytest.raises(InvalidTypeError, match="hidden_bias"):
        derive_blocks("erf", hidden_bias="yes")
    with pytest.raises(InvalidParameterError, match="n_out=0"):
        derive_blocks("erf", n_out=0)
    with pytest.raises(InvalidTypeError, match="n_out"):
        derive_blocks("erf", n_out=2.0)
    with pytest.raises(InvalidParameterError, match="not both"):
        derive_blocks("erf", options=BlockOptions(), n_out=2)
    with pytest.raises(InvalidParameterError, match="n_out"):
        symhess.TwoLayerNet(1, 1, "erf", n_out=0)


# -- the residual part -------------------------------------------------------------------------------

_RES_LAYOUT = {"WW": ("ij", "il"), "Wv": ("ij", "oi"), "Wb": ("ij", "i"), "vb": ("oi", "i"), "bb": ("i", "i")}


def assemble_residual(blocks, W, V, b, L, Wt, Vt, bt, delta, *, exact=False):
    """sum_o E[e_o grad^2 f_o] from the per-residual-unit formulas (student units, teacher units, offset)."""
    Nh, Ni = W.shape
    n_out = V.shape[0]
    Sigma = L * L.T if L is not None else sp.eye(Ni)
    P = Nh * Ni + n_out * Nh + (Nh if b is not None else 0) + (n_out if delta is not None else 0)
    H = sp.zeros(P, P) if exact else np.zeros((P, P))
    # residual units: (weights, signed output weights (n_out,), bias, is student unit number)
    partners = [(W[k, :], V[:, k], b[k] if b is not None else 0, k) for k in range(Nh)]
    partners += [(Wt[k, :], -Vt[:, k], bt[k] if bt is not None else 0, None) for k in range(Wt.shape[0])]
    pos_W = lambda i, j: i * Ni + j  # noqa: E731
    pos_v = lambda o, i: Nh * Ni + o * Nh + i  # noqa: E731
    pos_b = lambda i: Nh * Ni + n_out * Nh + i  # noqa: E731
    evals = {name: (_evaluator(blk.entry, exact), _evaluator(blk.diagonal_entry, exact)) for name, blk in blocks.items()}
    for name, blk in blocks.items():
        base = name.removesuffix("_offset")
        rk, ck = _RES_LAYOUT[base]
        units = [(None, None, None, "offset")] if blk.units == 1 else partners
        for i in range(Nh):
            wi = W[i, :]
            for wk, s, bk, own in units:
                for o in range(n_out if "o" in rk + ck else 1):
                    for j in range(Ni if "j" in rk else 1):
                        for l in range(Ni if "l" in ck else 1):
                            wkk = wi if wk is None else wk
                            sk = V[:, i] * 0 if s is None else s
                            vals = {
                                Q_ii: (wi * Sigma * wi.T)[0], Q_kk: (wkk * Sigma * wkk.T)[0],
                                Q_ik: (wi * Sigma * wkk.T)[0], W_ij: wi[j], W_il: wi[l], W_kj: wkk[j], W_kl: wkk[l],
                                delta_jl: int(j == l), Sigma_jl: Sigma[j, l], Sw_ij: (Sigma * wi.T)[j],
                                Sw_il: (Sigma * wi.T)[l], Sw_kj: (Sigma * wkk.T)[j], Sw_kl: (Sigma * wkk.T)[l],
                                v_i: V[0, i], v_k: sk[0], v_oi: V[o, i], v_ok: sk[o],
                                VV_ik: sum(V[p, i] * sk[p] for p in range(n_out)), VV_ii: sum(V[p, i] ** 2 for p in range(n_out)),
                                b_i: b[i] if b is not None else 0, b_k: bk if bk is not None else 0,
                            }
                            if delta is not None:
                                vals.update({symhess.symbols.db_out: delta[0], symhess.symbols.db_o: delta[o],
                                             symhess.symbols.Vdb_i: sum(V[p, i] * delta[p] for p in range(n_out))})
                            f_off, f_dia = evals[name]
                            value = (f_dia if own == i else f_off)(vals)
                            rpos = {"ij": pos_W(i, j), "oi": pos_v(o, i), "i": pos_b(i)}[rk]
                            cpos = {"il": pos_W(i, l), "oi": pos_v(o, i), "i": pos_b(i)}[ck]
                            H[rpos, cpos] += value
                            if rk[0] != ck[0] or rk == "oi" and ck == "i" or rk == "ij" and ck != "il":
                                H[cpos, rpos] += value
    return H


RES_CASES = [dict(), dict(hidden_bias=True), dict(output_bias=True), dict(n_out=2, input_cov=True),
             dict(hidden_bias=True, output_bias=True, n_out=2, input_cov=True)]


@pytest.mark.parametrize("opts", RES_CASES, ids=lambda d: "-".join(d) or "plain")
def test_residual_blocks_equal_exact_expectation_of_concrete_network(opts):
    act = "poly:coeffs=[1/3,1,0,1/2]"
    rng = np.random.default_rng(5 + len(opts))
    Ni, Nh, n_out = 2, 2, opts.get("n_out", 1)
    W, V, Wt, Vt = _rat(rng, (Nh, Ni)), _rat(rng, (n_out, Nh)), _rat(rng, (Nh, Ni)), _rat(rng, (n_out, Nh))
    hb, ob = opts.get("hidden_bias", False), opts.get("output_bias", False)
    b, bt = (_rat(rng, (Nh, 1)), _rat(rng, (Nh, 1))) if hb else (None, None)
    b0, bt0 = (_rat(rng, (n_out, 1)), _rat(rng, (n_out, 1))) if ob else (None, None)
    L = sp.Matrix([[1, 0], [sp.Rational(1, 2), sp.Rational(2, 3)]]) if opts.get("input_cov") else None
    blocks = derive_blocks(act, "residual", **opts) if opts else derive_blocks(act, "residual", n_out=1, input_cov=False)
    H = assemble_residual(blocks, W, V, b, L, Wt, Vt, bt, None if b0 is None else b0 - bt0, exact=True)
    net = symhess.TwoLayerNet(Ni, Nh, act, hidden_bias=hb, output_bias=ob, n_out=n_out)
    subs, z = _net_point(net, W, V, b, L)
    subs.update({net.W_teacher[i, j]: Wt[i, j] for i in range(Nh) for j in range(Ni)})
    subs.update({s: val for s, val in zip(list(net.v_teacher), list(Vt if n_out > 1 else Vt.T))})
    if hb:
        subs.update({net.b_teacher[i]: bt[i] for i in range(Nh)})
    if ob:
        subs.update(dict(zip([net.b0] if n_out == 1 else list(net.b0), list(b0))))
        subs.update(dict(zip([net.b0_teacher] if n_out == 1 else list(net.b0_teacher), list(bt0))))
    ref = net.residual_hessian.applyfunc(lambda e: expect_standard_normal(e.subs(subs), z))
    assert any(x != 0 for x in ref)
    assert (H - ref).applyfunc(sp.simplify) == sp.zeros(*H.shape)


def test_residual_erf_with_all_options_against_gauss_hermite():
    opts = dict(hidden_bias=True, output_bias=True, n_out=2, input_cov=True)
    rng = np.random.default_rng(3)
    W, V, b, L = _float_point(rng, opts)
    Wt, Vt, bt, _ = _float_point(rng, opts)
    b0, bt0 = rng.standard_normal(2), rng.standard_normal(2)
    blocks = derive_blocks("erf", "residual", **opts)
    H = assemble_residual(blocks, sp.Matrix(W), sp.Matrix(V), list(b), sp.Matrix(L), sp.Matrix(Wt), sp.Matrix(Vt),
                          list(bt), list(b0 - bt0))
    net = symhess.TwoLayerNet(2, 2, "erf", hidden_bias=True, output_bias=True, n_out=2)
    params = list(net.W) + list(net.v) + list(net.b) + list(net.b0) + list(net.W_teacher) + list(net.v_teacher) \
        + list(net.b_teacher) + list(net.b0_teacher)
    values = [*W.ravel(), *V.ravel(), *b, *b0, *Wt.ravel(), *Vt.ravel(), *bt, *bt0]
    f = sp.lambdify([*params, *net.x], net.residual_hessian, modules=[{"erf": special.erf}, "numpy"])
    t, w = np.polynomial.hermite_e.hermegauss(64)
    w = w / np.sqrt(2 * np.pi)
    ref = sum(wa * wc * np.array(f(*values, *(L @ np.array([a, c]))), dtype=float)
              for a, wa in zip(t, w) for c, wc in zip(t, w))
    np.testing.assert_allclose(H, ref, rtol=1e-9, atol=1e-11)
    kw = dict(b=b, b_out=b0, input_cov=L @ L.T, W_teacher=Wt, v_teacher=Vt, b_teacher=bt, b_out_teacher=bt0)
    np.testing.assert_allclose(H, symhess.expected_hessian("erf", W, V, part="residual", **kw), rtol=1e-8, atol=1e-10)


# -- LaTeX export ------------------------------------------------------------------------------------------


def test_latex_export_of_option_blocks():
    blocks = derive_blocks("relu", hidden_bias=True, output_bias=True, n_out=2, input_cov=True)
    eqs = export_equations(blocks, label_prefix="relu")
    by_label = {eq.label: eq for eq in eqs}
    # pair blocks: two equations (i != k, k = i); one-unit and constant blocks: one
    assert len(eqs) == 2 * 6 + 4
    bb = by_label["eq:relu-bb-ik"]
    assert bb.lhs == r"\left[H_{bb}\right]_{ik}" and bb.condition == r"i \neq k"
    assert r"(V^{\top}V)_{ik}" in bb.rhs and r"\Phi_{2}\left(" in bb.rhs
    assert by_label["eq:relu-b-outb-out"].rhs == r"\delta_{oo'}"
    assert by_label["eq:relu-Wb-out"].lhs == r"\left[H_{Wb^{\mathrm{out}}}\right]_{(ij),o}"
    assert r"(\Sigma w_{i})_{j}" in by_label["eq:relu-Wb-out"].rhs
    assert r"\Sigma_{jl}" in by_label["eq:relu-WW-ik"].rhs
    assert by_label["eq:relu-vv-ik"].lhs == r"\left[H_{vv}\right]_{(oi),(o'k)}"
    # each equation carries the exact formula it shows
    assert sp.simplify(bb.expr - blocks["bb"].entry) == 0
    assert sp.simplify(by_label["eq:relu-bb-ii"].expr - blocks["bb"].diagonal_entry) == 0
    tex = symhess.to_latex(derive_blocks("tanh", hidden_bias=True)["vb"])
    assert r"\mathbb{E}\left[\sigma(u_{i})\,\sigma'(u_{k})\right]" in tex
    res = symhess.to_latex(derive_blocks("quadratic", "residual", output_bias=True, n_out=2))
    assert r"H^{\mathrm{res},\Delta b}_{WW}" in res and r"(V^{\top}\Delta b^{\mathrm{out}})_{i}" in res


def test_one_unit_blocks_have_no_pair_template():
    B = derive_blocks("erf", output_bias=True)
    assert B["Wv"].template.pair_keys == ((1, 1), (2, 0))
    with pytest.raises(InvalidParameterError, match="no pair template"):
        B["vb_out"].template


def test_latex_of_bias_blocks_parses_back():
    """The printed formulas with hidden biases read back to the exact expressions (no Phi_2 in them)."""
    from symhess.export import parse_paper_latex

    blocks = derive_blocks("erf", hidden_bias=True, output_bias=True)
    eqs = [eq for eq in export_equations(blocks) if not eq.expr.has(symhess.activations.bivariate_normal.BivariateNormalCDF)]
    assert len(eqs) >= 12
    rng = np.random.default_rng(0)
    for eq in eqs:
        back = parse_paper_latex(eq.rhs, definitions=eq.determinants)
        assert back.free_symbols == eq.expr.free_symbols, eq.label
        for _ in range(2):  # equal at random points (positive overlaps, |Q_ik| small)
            point = {s: sp.Float(rng.uniform(0.1, 0.4)) for s in eq.expr.free_symbols}
            a, b = complex(back.evalf(subs=point)), complex(eq.expr.evalf(subs=point))
            assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), eq.label


def test_paper_document_with_options_compiles(tmp_path):
    from symhess.export import compile_latex, find_latex_engine, paper_document

    opts = BlockOptions(hidden_bias=True, output_bias=True, n_out=2, input_cov=True)
    doc = paper_document(["quadratic", "relu", "tanh"], residual=True, counting=False, linear_law=False,
                         options=opts)
    assert "eq:relu-bb-ik" in doc.labels and "eq:quadratic-eps-1-res-WW-offset" in doc.labels
    assert len(doc.labels) == len(set(doc.labels))
    assert r"\Phi_2" in doc.tex and "hidden biases" in doc.tex
    if find_latex_engine() is None:
        pytest.skip("no LaTeX engine installed")
    res = compile_latex(doc.tex, out_dir=tmp_path)
    assert res.missing_equations(doc.labels) == []


def test_unevaluated_expectations_are_the_right_ones_for_tanh():
    """tanh with means has no closed form: the formulas name expectations; evaluated by the numeric
    quadrature with means they give the dense numeric Hessian (the Stein templates of the named nodes)."""
    from symhess.activations import activation
    from symhess.kernels.means import pair_means, single_means

    act = activation("tanh")
    opts = dict(hidden_bias=True, output_bias=True, n_out=2, input_cov=True)
    blocks = derive_blocks(act, **opts)
    em, dm, smn = symhess.expectation.mean_nodes.mean_nodes(act)
    nodes = {
        em.__name__: lambda a, b, m1, m2, q1, q2, c: float(pair_means(act, int(a), int(b), m1, m2, q1, q2, c)),
        dm.__name__: lambda a, b, n, m, q: float(single_means(act, (int(a), int(b)), int(n), m, q)),
        smn.__name__: lambda a, m, q: float(single_means(act, (int(a),), 0, m, q)),
    }
    _MODULES.insert(0, nodes)
    import warnings

    try:
        rng = np.random.default_rng(2)
        W, V, b, L = _float_point(rng, opts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the quadrature's accuracy notes
            H = _assemble_float(act, opts, W, V, b, L)
    finally:
        _MODULES.remove(nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _numeric("tanh", W, V, b, opts, L)
    np.testing.assert_allclose(H, ref, rtol=1e-7, atol=1e-9)
