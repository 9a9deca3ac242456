r"""Vectorised assembly of the dense expected Hessian from the per-pair kernels, for any number type.

Place in the package: the two-layer teacher-student family. Conventions: ``W`` has shape ``(Nh, Ni)``, ``v`` shape ``(Nh,)``,
:math:`\theta=(\mathrm{vec}_{\text{row-major}}W, v)`, :math:`P=N_hN_i+N_h`, and

.. math::

    H = \begin{pmatrix} H_{WW} & H_{Wv}\\ H_{Wv}^\top & H_{vv}\end{pmatrix},\qquad
    [H_{WW}]_{(ij),(kl)} = P_{ik}\big(C^{\delta}_{ik}\delta_{jl} + C^{aa}_{ik}W_{ij}W_{il}
      + C^{bb}_{ik}W_{kj}W_{kl} + C^{ab}_{ik}(W_{ij}W_{kl}+W_{kj}W_{il})\big)

with the coefficient matrices of :mod:`symhess.two_layer.pairs`. :func:`write_gauss_newton` is
the one placement of the blocks for every number type: floats here, exact rationals and balls in
:mod:`symhess.two_layer.objects` (object arrays), and through them the checker's exact ranks. The
``WW`` block is built in cache-sized tiles (two rank-structured products and a diagonal update per
tile, in parallel threads for floats) and each tile is written to the output once, so the cost is
close to that of writing :math:`P^2` floats once (``benchmarks/bench_assembly.py``).
:func:`residual_sums` is the residual part away from the optimum, shared with the matrix-free
operator of :mod:`symhess.two_layer.hvp`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from .templates import BLOCK_NAMES, GAUSS_NEWTON, HESSIAN_PARTS, RESIDUAL, check_part
from .pairs import block_coefficients, cross_template_matrices, template_matrices
from ..kernels.quadrature import record_quadrature
from ..linalg.psd import check_psd, symmetrize_in_place
from ..validation import as_teacher, as_weights, check_dense_size, check_finite_result, row_norms
from ..errors import InvalidParameterError, InvalidTypeError
from .architecture import InputCovariance, as_input_cov, as_trainable, multi_output, teacher_act

__all__ = [
    "expected_hessian", "hessian_blocks", "HESSIAN_PARTS", "n_params", "write_gauss_newton", "with_prefactors",
    "residual_sums", "dense_hessian",
]

_TILE = 1 << 16  # float64 entries per tile (512 KiB): two tiles per thread stay in cache
_THREADS = max(1, min(8, os.cpu_count() or 1))
_PARALLEL_MIN = 1 << 20
#: stated error of a quadrature Hessian: this many times the kernels' worst relative error estimate
#: (relative to E|integrand|), times ||H||_F; never below STATED_ERROR_FLOOR
STATED_ERROR_FACTOR, STATED_ERROR_FLOOR = 10.0, 1e-12
#: entry bound below which a dense Hessian is finite without a scan (margin below float64's 1.8e308)
_FINITE_LIMIT = 1e300  # entries of WW below which threads cost more than they save


def n_params(n_in: int, n_hidden: int) -> int:
    """Number of parameters :math:`P = N_hN_i + N_h`.

    Raises
    ------
    TypeError
        If a size is not an integer.
    ValueError
        If a size is below 1.
    """
    for name, val in (("n_in", n_in), ("n_hidden", n_hidden)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
            raise InvalidTypeError(f"{name}={val!r} must be an integer")
        if val < 1:
            raise InvalidParameterError(f"{name}={val} must be >= 1")
    return int(n_hidden) * int(n_in) + int(n_hidden)


def _as_4d(out: np.ndarray, Nh: int, Ni: int) -> np.ndarray:
    """View ``out`` (possibly a strided sub-block) as ``(Nh, Ni, Nh, Ni)`` without copying."""
    view = out.view()
    view.shape = (Nh, Ni, Nh, Ni)  # raises instead of silently copying
    return view


def _write_ww_rows(out4: np.ndarray, W: np.ndarray, C: dict[str, np.ndarray], rows, sigma=None) -> None:
    r"""Write the row blocks ``rows`` of WW; each tile is built in cache and written to ``out`` once.

    ``sigma`` (an input covariance, ``(Ni, Ni)`` or its diagonal ``(Ni,)``) replaces :math:`\delta_{jl}`.
    """
    Nh, Ni = W.shape
    kb = max(1, min(Nh, _TILE // (Ni * Ni)))
    buf1, buf2 = np.empty((Ni, kb, Ni), dtype=out4.dtype), np.empty((Ni, kb, Ni), dtype=out4.dtype)
    buf3 = np.empty((Ni, kb, Ni), dtype=out4.dtype) if sigma is not None and sigma.ndim == 2 else None
    diag = np.arange(Ni)
    for i in rows:
        wi = W[i]
        for k0 in range(0, Nh, kb):
            ks = slice(k0, min(k0 + kb, Nh))
            nk = ks.stop - k0
            Wk = W[ks]
            caa, cbb, cab = C["aa"][i, ks, None], C["bb"][i, ks, None], C["ab"][i, ks, None]
            t1 = caa * wi + cab * Wk  # [k, l]: multiplies W_ij
            t2 = cbb * Wk + cab * wi  # [k, l]: multiplies W_kj
            x1, x2 = buf1[:, :nk], buf2[:, :nk]
            np.multiply(wi[:, None, None], t1[None], out=x1)
            if sigma is None:
                x1[diag, :, diag] += C["delta"][i, ks][None, :]
            elif sigma.ndim == 1:
                x1[diag, :, diag] += sigma[:, None] * C["delta"][i, ks][None, :]
            else:
                x3 = buf3[:, :nk]
                np.multiply(sigma[:, None, :], C["delta"][i, ks][None, :, None], out=x3)
                x1 += x3
            np.multiply(Wk.T[:, :, None], t2[None], out=x2)
            np.add(x1, x2, out=out4[i, :, ks, :])


def _write_ww(out: np.ndarray, W: np.ndarray, C: dict[str, np.ndarray], sigma=None) -> None:
    """Write the Gauss–Newton WW block (coefficients already times v_i v_k) into ``out``.

    Row blocks are shared among threads (NumPy releases the GIL inside float ufuncs), so the tiles
    are computed in parallel and the output is written once; object arrays use one thread.
    """
    Nh, Ni = W.shape
    out4 = _as_4d(out, Nh, Ni)
    big = Nh * Ni * Nh * Ni >= _PARALLEL_MIN and out.dtype != object
    n_threads = min(_THREADS, Nh) if big else 1
    if n_threads == 1:
        _write_ww_rows(out4, W, C, range(Nh), sigma)
        return
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(lambda t: _write_ww_rows(out4, W, C, range(t, Nh, n_threads), sigma), range(n_threads)))


def with_prefactors(coeffs: dict[str, dict[str, np.ndarray]], v: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    r"""Multiply each block's coefficient matrices by its output-weight prefactor (:math:`v_iv_k`, :math:`v_i`, 1).

    The prefactors are those of :data:`~symhess.two_layer.templates.GAUSS_NEWTON`; any number type.
    """
    factor = {"v_i v_k": np.multiply.outer(v, v), "v_i": v[:, None], "1": None}
    out = {}
    for name, mats in coeffs.items():
        f = factor[GAUSS_NEWTON[name].prefactor]
        out[name] = {b: m if f is None else m * f for b, m in mats.items()}
    return out


def write_gauss_newton(
    W: np.ndarray, v: np.ndarray, coeffs: dict[str, dict[str, np.ndarray]], out_ww: np.ndarray,
    out_wv: np.ndarray, out_vv: np.ndarray, *, sigma: np.ndarray | None = None,
) -> None:
    r"""Place the Gauss–Newton blocks from per-pair coefficient matrices: the one assembly of every route.

    .. math::

        [H_{WW}]_{(ij),(kl)} &= v_iv_k\big(C^{\delta}_{ik}\delta_{jl} + C^{aa}_{ik}W_{ij}W_{il}
          + C^{bb}_{ik}W_{kj}W_{kl} + C^{ab}_{ik}(W_{ij}W_{kl}+W_{kj}W_{il})\big),\\
        [H_{Wv}]_{(ij),k} &= v_i\big(C^{a}_{ik}W_{ij} + C^{b}_{ik}W_{kj}\big),\qquad
        [H_{vv}]_{ik} = C^{1}_{ik}.

    Parameters
    ----------
    W, v : ndarray
        Weights, shapes ``(Nh, Ni)`` and ``(Nh,)``: floats, or object arrays of exact or ball numbers.
    coeffs : dict
        ``block -> basis -> (Nh, Nh)`` coefficient matrices without prefactors (the blocks and bases of
        :data:`~symhess.two_layer.templates.BLOCK_BASIS`; a unit with itself on the diagonal), from
        :func:`symhess.two_layer.pairs.block_coefficients` or :func:`symhess.two_layer.objects.pair_coefficients`.
    out_ww, out_wv, out_vv : ndarray
        Where to write :math:`H_{WW}` ``(Nh Ni, Nh Ni)``, :math:`H_{Wv}` ``(Nh Ni, Nh)`` and :math:`H_{vv}` ``(Nh, Nh)``
        (views into one matrix are fine), of the same number type.
    sigma : ndarray, optional
        Input covariance :math:`\Sigma` (``(Ni, Ni)``, or its diagonal ``(Ni,)``), floats: it replaces
        :math:`\delta_{jl}`, and ``W`` is then the placed vectors :math:`\Sigma w_i` while ``coeffs`` are
        evaluated on the Gram matrix :math:`W\Sigma W^\top` (:mod:`symhess.two_layer.architecture`).
    """
    Nh, Ni = W.shape
    c = with_prefactors(coeffs, v)
    _write_ww(out_ww, W, c["WW"], sigma)
    wv = c["Wv"]["a"][:, None, :] * W[:, :, None] + c["Wv"]["b"][:, None, :] * W.T[None]
    out_wv[...] = wv.reshape(Nh * Ni, Nh)
    out_vv[...] = c["vv"]["1"]


def _entry_bound(coeffs: dict, W: np.ndarray, v: np.ndarray) -> float:
    r"""An upper bound on every :math:`|H_{pq}|` and every partial product written by :func:`write_gauss_newton`.

    :math:`|H_{WW}|\le\|v\|_\infty^2\max|C_{WW}|(1+4\|W\|_\infty^2)`,
    :math:`|H_{Wv}|\le2\|v\|_\infty\max|C_{Wv}|\|W\|_\infty`, :math:`|H_{vv}|\le\max|C_{vv}|`: ``inf``
    or ``nan`` when a coefficient is not finite. Below the float64 range it proves the matrix finite
    without scanning its :math:`P^2` entries.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        cmax = {name: max(float(np.abs(m).max()) for m in mats.values()) for name, mats in coeffs.items()}
        w, vm = float(np.abs(W).max()), float(np.abs(v).max())
        return max(vm * vm * cmax["WW"] * (1 + 4 * w * w), 2 * vm * cmax["Wv"] * w, cmax["vv"])


def _gauss_newton_blocks(act, W, v, out_ww, out_wv, out_vv, cov: InputCovariance | None = None) -> bool:
    r"""Float Gauss–Newton blocks; positively homogeneous units are assembled at unit row norms.

    With ``cov``, ``W`` are the whitened weights :math:`WF` (:math:`FF^\top=\Sigma`) and the blocks are
    :math:`J H_I J^\top`. Returns whether the blocks are proved finite by :func:`_entry_bound` (identity
    covariance only; else the caller scans them).
    """
    sigma = None if cov is None else cov.sigma
    place = (lambda M: M) if cov is None else cov.place
    if act.positively_homogeneous:
        r = row_norms(W)
        if np.all(r > 0):
            # sigma(r z) = r sigma(z): the gradient in w_i does not depend on |w_i|, the one in v_i is
            # r_i times that of the unit row, so H(W) = D H(W/r) D with D = diag(1, ..., 1, r)
            Wn = W / r[:, None]
            coeffs = block_coefficients(act, Wn)
            write_gauss_newton(place(Wn), v, coeffs, out_ww, out_wv, out_vv, sigma=sigma)
            with np.errstate(over="ignore", under="ignore"):
                out_wv *= r[None, :]
                out_vv *= np.outer(r, r)
            rmax = float(r.max())
            return cov is None and _entry_bound(coeffs, Wn, v) * max(1.0, rmax * rmax) < _FINITE_LIMIT
    coeffs = block_coefficients(act, W)
    write_gauss_newton(place(W), v, coeffs, out_ww, out_wv, out_vv, sigma=sigma)
    return cov is None and _entry_bound(coeffs, W, v) < _FINITE_LIMIT


def residual_sums(act, W: np.ndarray, v: np.ndarray, Wt: np.ndarray, vt: np.ndarray, teacher_act=None) -> dict:
    r"""The residual part :math:`E[e\,\nabla^2 f]` summed over the residual units, float.

    With :math:`e=\sum_g s_g\sigma(b_g\cdot x)` over the student units (:math:`s_g=v_g`) and the teacher
    units (:math:`s_g=-v^\star_g`) and the coefficients :math:`C` of :data:`~symhess.two_layer.templates.RESIDUAL`:
    ``delta``, ``aa`` (shape ``(Nh,)``): :math:`\sum_g s_gC^{\delta}_{ig}`, :math:`\sum_g s_gC^{aa}_{ig}`;
    ``ab`` ``(Nh, Ni)``: :math:`\sum_g s_gC^{ab}_{ig}b_g`; ``bb``: per unit set ``(B, s_g C^{bb}_{ig})``;
    ``Wv`` ``(Nh, Ni)``: :math:`\sum_g s_g(C^a_{ig}w_i + C^b_{ig}b_g)`. With ``teacher_act`` the teacher
    units' coefficients are the cross expectations :math:`E[\sigma^{(\alpha)}\tau^{(\beta)}]`
    (:func:`symhess.two_layer.pairs.cross_template_matrices`). Then, on :math:`i=k` only,

    .. math::

        [H_{WW}]_{(ij),(il)} \mathrel{+}= v_i\Big(\sum_g s_gC^{bb}_{ig}b_{gj}b_{gl} + \texttt{aa}_iW_{ij}W_{il}
          + W_{ij}\texttt{ab}_{il} + \texttt{ab}_{ij}W_{il} + \texttt{delta}_i\delta_{jl}\Big),\qquad
        [H_{Wv}]_{(ij),i} \mathrel{+}= \texttt{Wv}_{ij}.
    """
    Nh, Ni = W.shape
    out = {"delta": np.zeros(Nh), "aa": np.zeros(Nh), "ab": np.zeros((Nh, Ni)), "bb": [], "Wv": np.zeros((Nh, Ni))}

    def coefficients(spec, B, same):
        if same:
            return template_matrices(act, spec, W, B, same=True, warn=False)
        return cross_template_matrices(act, teacher_act, spec, W, B)

    for B, s, same in ((W, v, True), (Wt, -vt, False)):
        cw = coefficients(RESIDUAL["WW"], B, same)
        out["delta"] += cw["delta"] @ s
        out["aa"] += cw["aa"] @ s
        out["ab"] += (cw["ab"] * s) @ B
        out["bb"].append((B, cw["bb"] * s))
        cv = coefficients(RESIDUAL["Wv"], B, same)
        out["Wv"] += (cv["a"] @ s)[:, None] * W + (cv["b"] * s) @ B
    return out


def _add_residual(act, W, v, Wt, vt, out_ww, out_wv, cov: InputCovariance | None = None, teacher_act=None) -> None:
    """Add the residual part; with ``cov``, ``W`` and ``Wt`` are whitened and the part is mapped by ``J``."""
    Nh = W.shape[0]
    Ni = out_ww.shape[0] // Nh  # the whitened W may have more columns (a rectangular factor of Sigma)
    r = residual_sums(act, W, v, Wt, vt, teacher_act)
    place = (lambda M: M) if cov is None else cov.place
    bb = [(place(B), sbb) for B, sbb in r["bb"]]
    U, ab = place(W), place(r["ab"])
    ww4 = _as_4d(out_ww, Nh, Ni)
    for i in range(Nh):
        m = sum((B.T * sbb[i]) @ B for B, sbb in bb)
        m += r["aa"][i] * np.outer(U[i], U[i])
        m += np.outer(U[i], ab[i]) + np.outer(ab[i], U[i])
        if cov is None:
            m[np.diag_indices(Ni)] += r["delta"][i]
        elif cov.diagonal:
            m[np.diag_indices(Ni)] += r["delta"][i] * cov.sigma
        else:
            m += r["delta"][i] * cov.sigma
        ww4[i, :, i, :] += v[i] * m
    out_wv.reshape(Nh, Ni, Nh)[np.arange(Nh), :, np.arange(Nh)] += place(r["Wv"])


def dense_hessian(Nh: int, Ni: int, fill, dtype: object = float) -> np.ndarray:
    """The ``(P, P)`` matrix ``[[WW, Wv], [Wv^T, vv]]`` whose blocks ``fill(out_ww, out_wv, out_vv)`` writes."""
    m = Nh * Ni
    H = np.empty((m + Nh, m + Nh), dtype=dtype)
    fill(H[:m, :m], H[:m, m:], H[m:, m:])
    H[m:, :m] = H[:m, m:].T
    return H


def _fill(act, W, v, W_teacher, v_teacher, part, out_ww, out_wv, out_vv, cov=None, teacher_act=None) -> bool:
    """Write the blocks of ``part``; return whether they are proved finite (else scan them)."""
    Ni = W.shape[1]
    check_part(part)
    Wt = vt = None
    if part != "gauss_newton" and not (W_teacher is None and v_teacher is None):
        Wt, vt = as_teacher(W_teacher, v_teacher, Ni)
    if cov is not None:  # x = S z: the identity-covariance problem at the whitened weights, mapped by J
        W = cov.whiten(W)
        Wt = None if Wt is None else cov.whiten(Wt)
    if part == "residual":
        for out in (out_ww, out_wv, out_vv):
            out[...] = 0.0
        finite = True
    else:
        finite = _gauss_newton_blocks(act, W, v, out_ww, out_wv, out_vv, cov)
    if Wt is None:
        return finite  # at the optimum the residual part vanishes
    _add_residual(act, W, v, Wt, vt, out_ww, out_wv, cov, teacher_act)
    return False  # the residual sums are not bounded here: scan


def _fill_outputs(act, W, V, Wt, Vt, part, out_ww, out_wv, out_vv, cov=None, tact=None) -> None:
    r"""Blocks of a network with several outputs, :math:`\theta=(\mathrm{vec}W,\mathrm{vec}V)`, ``V`` ``(n_out, Nh)``.

    .. math::

        [H_{WW}]_{(ij),(kl)} = (V^\top V)_{ik}\,E[\sigma'\sigma'x_jx_l] + \sum_o[\text{residual of output }o],\quad
        [H_{Wv}]_{(ij),(ok)} = V_{oi}E[\sigma'(u_i)\sigma(u_k)x_j] + \delta_{ik}E[e_o\sigma'(u_i)x_j],\quad
        H_{vv} = I_{n_{\rm out}}\otimes K,

    the one-output templates with the prefactor :math:`v_iv_k` replaced by :math:`(V^\top V)_{ik}`.
    """
    n_out, Nh = V.shape
    Ni = W.shape[1]
    check_part(part)
    if part == "gauss_newton":
        Wt = Vt = None
    if cov is not None:
        W = cov.whiten(W)
        Wt = None if Wt is None else cov.whiten(Wt)
    U = W if cov is None else cov.place(W)
    if part == "residual":
        for out in (out_ww, out_wv, out_vv):
            out[...] = 0.0
    else:
        c = block_coefficients(act, W)
        M = V.T @ V
        _write_ww(out_ww, U, {b: m * M for b, m in c["WW"].items()}, None if cov is None else cov.sigma)
        out_vv[...] = 0.0
        for o in range(n_out):
            a, b = c["Wv"]["a"] * V[o][:, None], c["Wv"]["b"] * V[o][:, None]
            wv = a[:, None, :] * U[:, :, None] + b[:, None, :] * U.T[None]
            out_wv[:, o * Nh:(o + 1) * Nh] = wv.reshape(Nh * Ni, Nh)
            out_vv[o * Nh:(o + 1) * Nh, o * Nh:(o + 1) * Nh] = c["vv"]["1"]
    if Wt is None:
        return
    for o in range(n_out):
        wv = np.zeros((Nh * Ni, Nh))
        _add_residual(act, W, V[o], Wt, Vt[o], out_ww, wv, cov, tact)
        out_wv[:, o * Nh:(o + 1) * Nh] += wv


def hessian_blocks(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    *,
    W_teacher: np.ndarray | None = None,
    v_teacher: np.ndarray | None = None,
    part: str = "full",
    max_bytes: int | None = None,
    input_cov: np.ndarray | None = None,
    trainable: tuple[str, ...] | None = None,
    teacher_activation: ActivationLike | None = None,
    b: np.ndarray | None = None,
    b_out: np.ndarray | float | None = None,
    b_teacher: np.ndarray | None = None,
    b_out_teacher: np.ndarray | float | None = None,
) -> dict[str, np.ndarray]:
    r"""The blocks ``WW`` (:math:`N_hN_i\times N_hN_i`), ``Wv`` (:math:`N_hN_i\times N_h`) and ``vv``.

    Parameters are as for :func:`expected_hessian`; ``H = [[WW, Wv], [Wv.T, vv]]``. With ``trainable``
    only the blocks of trained groups are returned (``("W",)``: ``WW``; ``("v",)``: ``vv``). With
    biases the blocks are named by their pair of groups in θ order: ``WW, Wv, Wb, Wb_out, vv, vb,
    vb_out, bb, bb_out, b_outb_out`` (those of the trained groups).
    """
    from .biases import biased_network, has_biases

    if has_biases(b, b_out, b_teacher, b_out_teacher):
        net = biased_network(act, W, v, b=b, b_out=b_out, W_teacher=W_teacher, v_teacher=v_teacher, b_teacher=b_teacher,
                             b_out_teacher=b_out_teacher, input_cov=input_cov, trainable=trainable,
                             teacher_activation=teacher_activation)
        return net.unpack(net.dense(part, max_bytes, _write_ww))
    act = get_activation(act)
    multi = multi_output(W, v, W_teacher, v_teacher)
    if multi is not None:
        return _output_blocks(act, *multi, part, max_bytes, input_cov, trainable, teacher_activation)
    W, v = as_weights(W, v)
    Nh, Ni = W.shape
    cov = as_input_cov(input_cov, Ni)
    groups = as_trainable(trainable)
    tact = teacher_act(act, teacher_activation, W_teacher)
    check_dense_size(Nh * Ni, max_bytes=max_bytes, what="WW block")
    shapes = {"WW": (Nh * Ni, Nh * Ni), "Wv": (Nh * Ni, Nh), "vv": (Nh, Nh)}
    if groups == ("v",):  # a product of one matrix of pair kernels: no WW block is needed
        shapes["WW"], shapes["Wv"] = (0, 0), (0, Nh)
    blocks = {name: np.empty(shapes[name]) for name in BLOCK_NAMES}
    if groups == ("v",):
        check_part(part)
        blocks["vv"] = np.zeros((Nh, Nh)) if part == "residual" else _vv_block(act, W, cov)
    else:
        _fill(act, W, v, W_teacher, v_teacher, part, blocks["WW"], blocks["Wv"], blocks["vv"], cov, tact)
    kept = {"W": ("WW",), "v": ("vv",)}[groups[0]] if len(groups) == 1 else BLOCK_NAMES
    blocks = {name: blocks[name] for name in kept}
    for name, blk in blocks.items():
        check_finite_result(blk, W, f"{name} block")
    return blocks


def _output_blocks(act, W, V, Wt, Vt, part, max_bytes, input_cov, trainable, teacher_activation):
    """:func:`hessian_blocks` for several outputs (``V`` of shape ``(n_out, Nh)``)."""
    n_out, Nh = V.shape
    Ni = W.shape[1]
    cov = as_input_cov(input_cov, Ni)
    groups = as_trainable(trainable)
    tact = teacher_act(act, teacher_activation, Wt)
    check_dense_size(Nh * Ni + n_out * Nh, max_bytes=max_bytes)
    m, n = Nh * Ni, n_out * Nh
    blocks = {"WW": np.empty((m, m)), "Wv": np.empty((m, n)), "vv": np.empty((n, n))}
    _fill_outputs(act, W, V, Wt, Vt, part, blocks["WW"], blocks["Wv"], blocks["vv"], cov, tact)
    kept = {"W": ("WW",), "v": ("vv",)}[groups[0]] if len(groups) == 1 else BLOCK_NAMES
    blocks = {name: blocks[name] for name in kept}
    for name, blk in blocks.items():
        check_finite_result(blk, W, f"{name} block")
    return blocks


def expected_hessian(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    *,
    W_teacher: np.ndarray | None = None,
    v_teacher: np.ndarray | None = None,
    part: str = "full",
    max_bytes: int | None = None,
    input_cov: np.ndarray | None = None,
    trainable: tuple[str, ...] | None = None,
    teacher_activation: ActivationLike | None = None,
    b: np.ndarray | None = None,
    b_out: np.ndarray | float | None = None,
    b_teacher: np.ndarray | None = None,
    b_out_teacher: np.ndarray | float | None = None,
) -> np.ndarray:
    r"""Dense expected Hessian of the population loss :math:`\varepsilon=\frac12E_x[(f_\theta-f_{\theta^\star})^2]`.

    .. math::

        H = E_x[\nabla_\theta f\,\nabla_\theta f^\top] + E_x[(f_\theta - f_{\theta^\star})\,\nabla^2_\theta f],
        \qquad x\sim N(0, I_{N_i}),

    assembled from closed-form (or exact-moment, or quadrature) pair kernels. At the optimum
    (no teacher given: the teacher is the student) the second term vanishes and
    :math:`H` equals the Fisher information / NTK Gram form.

    Parameters
    ----------
    act : str or Activation
        Activation (``"erf"``, ``"quadratic:eps=0.5"``, ...).
    W : ndarray, shape (Nh, Ni)
        Student first-layer weights, rows :math:`w_i`.
    v : ndarray, shape (Nh,) or (n_out, Nh)
        Student output weights; 2-D: ``n_out`` outputs :math:`f_o=\sum_iv_{oi}\sigma(w_i\cdot x)`, loss
        :math:`\tfrac12E\|f-f^\star\|^2`, :math:`\theta=(W\text{ row-major}, v\text{ row-major})`
        (dense route; the teacher's ``v_teacher`` then has shape ``(n_out, Nt)``).
    W_teacher, v_teacher : ndarray, optional
        Teacher weights (any hidden size, same ``Ni``). Omitted: the student is at the optimum.
    part : {"full", "gauss_newton", "residual"}
        Which part of the Hessian.
    max_bytes : int, optional
        Memory budget for the dense matrix (default 80% of available memory).
    input_cov : ndarray, optional
        Input covariance :math:`\Sigma` of :math:`x\sim N(0,\Sigma)`: a symmetric positive semidefinite
        ``(Ni, Ni)`` matrix, or a ``(Ni,)`` array meaning :math:`\operatorname{diag}`. Then
        :math:`H_\Sigma(W,v)=J\,H_I(W\Sigma^{1/2},v)\,J^\top`,
        :math:`J=\operatorname{blockdiag}(I_{N_h}\otimes\Sigma^{1/2}, I_{N_h})`
        (:mod:`symhess.two_layer.architecture`), at the cost of the identity case.
    trainable : tuple of str, optional
        The trained groups, a subset of ``("W", "v")`` (default both); the others are frozen. The
        Hessian of the frozen-rest problem is the principal submatrix of the trained parameters
        (``("W",)``: the soft committee machine).
    teacher_activation : str or Activation, optional
        The teacher's activation :math:`\tau` when it differs from the student's (needs the teacher
        weights). It enters only the residual part, through
        :math:`E[\sigma^{(\alpha)}(u)\tau^{(\beta)}(v)]`
        (:func:`symhess.expectation.pairs.cross_pair_expectation`: closed forms for two polynomials or erf with
        any two scales, quadrature with an error estimate for other smooth pairs).
    b, b_out : ndarray or float, optional
        Hidden biases ``(Nh,)``, inside the activation, :math:`\sigma(w_i\cdot x+b_i)`, and the output
        bias (a scalar, or ``(n_out,)`` with several outputs); a bias that is given is a parameter,
        :math:`\theta=(W, v, b, b_{\rm out})`. The pre-activations then have means and the expectations
        come from :mod:`symhess.kernels.means` (closed forms for polynomials, ReLU and erf; quadrature
        with shifted nodes for smooth activations; :mod:`symhess.two_layer.biases`). ``trainable`` may
        then name ``"b"`` and ``"b_out"``.
    b_teacher, b_out_teacher : ndarray or float, optional
        The teacher's biases (with the teacher's weights, and the student's bias of the same kind);
        omitted, zero.

    Returns
    -------
    ndarray, shape (P, P)
        :math:`P=N_hN_i+N_h`, parameters ordered :math:`(W \text{ row-major}, v)`; with ``trainable``
        only the trained groups, in that order (with biases, :math:`P` adds :math:`N_h` and
        :math:`n_{\rm out}` for the groups given).

    Raises
    ------
    MemoryLimitError
        If the dense matrix would not fit; the message names the matrix-free route.
    SymhessAccuracyError
        When expectations came from quadrature (tanh) and the Gauss–Newton matrix (``part="gauss_newton"``,
        or ``"full"`` at the optimum) has an eigenvalue below minus its stated error
        :math:`\max(10\,e_{\rm rel}, 10^{-12})\,\|H\|_F` (:func:`symhess.linalg.psd.check_psd`; ``e_rel`` the
        worst relative error estimate of the quadrature).

    Notes
    -----
    When quadrature was used, ``H`` is symmetrised exactly (it is symmetric in exact arithmetic) and the
    Gauss–Newton matrix is checked to be positive semi-definite within its stated error.

    Examples
    --------
    >>> import numpy as np
    >>> W, v = np.array([[1.0, 0.0]]), np.array([2.0])
    >>> expected_hessian("linear", W, v).round(3)
    array([[4., 0., 2.],
           [0., 4., 0.],
           [2., 0., 1.]])
    """
    from .biases import biased_network, has_biases

    if has_biases(b, b_out, b_teacher, b_out_teacher):
        net = biased_network(act, W, v, b=b, b_out=b_out, W_teacher=W_teacher, v_teacher=v_teacher, b_teacher=b_teacher,
                             b_out_teacher=b_out_teacher, input_cov=input_cov, trainable=trainable,
                             teacher_activation=teacher_activation)
        return _biased_dense(net, part, max_bytes)
    act = get_activation(act)
    if np.ndim(v) == 2:  # several outputs: from the blocks
        b = hessian_blocks(act, W, v, W_teacher=W_teacher, v_teacher=v_teacher, part=part, max_bytes=max_bytes,
                           input_cov=input_cov, trainable=trainable, teacher_activation=teacher_activation)
        return next(iter(b.values())) if len(b) == 1 else np.block([[b["WW"], b["Wv"]], [b["Wv"].T, b["vv"]]])
    W, v = as_weights(W, v)
    Nh, Ni = W.shape
    cov = as_input_cov(input_cov, Ni)
    groups = as_trainable(trainable)
    tact = teacher_act(act, teacher_activation, W_teacher)
    if len(groups) == 1:
        blocks = hessian_blocks(act, W, v, W_teacher=W_teacher, v_teacher=v_teacher, part=part, max_bytes=max_bytes,
                                input_cov=input_cov, trainable=groups, teacher_activation=teacher_activation)
        return blocks["WW" if groups == ("W",) else "vv"]
    check_dense_size(n_params(Ni, Nh), max_bytes=max_bytes)
    proved = []
    with record_quadrature() as rec:
        H = dense_hessian(Nh, Ni, lambda ww, wv, vv: proved.append(
            _fill(act, W, v, W_teacher, v_teacher, part, ww, wv, vv, cov, tact)))
    if not proved[0]:
        check_finite_result(H, W)
    if rec.calls:
        norm = symmetrize_in_place(H)
        if part == "gauss_newton" or (part == "full" and W_teacher is None and v_teacher is None):
            delta = max(STATED_ERROR_FACTOR * rec.worst, STATED_ERROR_FLOOR) * norm
            check_psd(H, delta, f"Gauss-Newton Hessian of {act.spec!r}")
    return H


def _biased_dense(net, part: str, max_bytes: int | None) -> np.ndarray:
    """The dense Hessian of a network with biases, checked like the centred one when quadrature was used."""
    with record_quadrature() as rec:
        H = net.dense(part, max_bytes, _write_ww)
    if rec.calls:
        symmetrize_in_place(H)
        if part == "gauss_newton" or (part == "full" and net.at_optimum):
            delta = max(STATED_ERROR_FACTOR * rec.worst, STATED_ERROR_FLOOR) * float(np.linalg.norm(H))
            check_psd(H, delta, f"Gauss-Newton Hessian of {net.act.spec!r}")
    return H


def _vv_block(act, W: np.ndarray, cov: InputCovariance | None) -> np.ndarray:
    r"""The ``vv`` block :math:`E[\sigma(w_i\cdot x)\sigma(w_k\cdot x)]` alone (no residual part)."""
    Wt = W if cov is None else cov.whiten(W)
    if act.positively_homogeneous:
        r = row_norms(Wt)
        if np.all(r > 0):
            return template_matrices(act, GAUSS_NEWTON["vv"], Wt / r[:, None], Wt / r[:, None], same=True)["1"] * np.outer(r, r)
    return template_matrices(act, GAUSS_NEWTON["vv"], Wt, Wt, same=True)["1"]
