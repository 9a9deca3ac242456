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
from .pairs import block_coefficients, template_matrices
from ..kernels.quadrature import record_quadrature
from ..linalg.psd import check_psd, symmetrize_in_place
from ..validation import as_teacher, as_weights, check_dense_size, check_finite_result, row_norms
from ..errors import InvalidParameterError, InvalidTypeError

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


def _write_ww_rows(out4: np.ndarray, W: np.ndarray, C: dict[str, np.ndarray], rows) -> None:
    """Write the row blocks ``rows`` of WW; each tile is built in cache and written to ``out`` once."""
    Nh, Ni = W.shape
    kb = max(1, min(Nh, _TILE // (Ni * Ni)))
    buf1, buf2 = np.empty((Ni, kb, Ni), dtype=out4.dtype), np.empty((Ni, kb, Ni), dtype=out4.dtype)
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
            x1[diag, :, diag] += C["delta"][i, ks][None, :]
            np.multiply(Wk.T[:, :, None], t2[None], out=x2)
            np.add(x1, x2, out=out4[i, :, ks, :])


def _write_ww(out: np.ndarray, W: np.ndarray, C: dict[str, np.ndarray]) -> None:
    """Write the Gauss–Newton WW block (coefficients already times v_i v_k) into ``out``.

    Row blocks are shared among threads (NumPy releases the GIL inside float ufuncs), so the tiles
    are computed in parallel and the output is written once; object arrays use one thread.
    """
    Nh, Ni = W.shape
    out4 = _as_4d(out, Nh, Ni)
    big = Nh * Ni * Nh * Ni >= _PARALLEL_MIN and out.dtype != object
    n_threads = min(_THREADS, Nh) if big else 1
    if n_threads == 1:
        _write_ww_rows(out4, W, C, range(Nh))
        return
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(lambda t: _write_ww_rows(out4, W, C, range(t, Nh, n_threads)), range(n_threads)))


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
    out_wv: np.ndarray, out_vv: np.ndarray,
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
    """
    Nh, Ni = W.shape
    c = with_prefactors(coeffs, v)
    _write_ww(out_ww, W, c["WW"])
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


def _gauss_newton_blocks(act, W, v, out_ww, out_wv, out_vv) -> bool:
    """Float Gauss–Newton blocks; positively homogeneous units are assembled at unit row norms.

    Returns whether the blocks are proved finite by :func:`_entry_bound` (else the caller scans them).
    """
    if act.positively_homogeneous:
        r = row_norms(W)
        if np.all(r > 0):
            # sigma(r z) = r sigma(z): the gradient in w_i does not depend on |w_i|, the one in v_i is
            # r_i times that of the unit row, so H(W) = D H(W/r) D with D = diag(1, ..., 1, r)
            Wn = W / r[:, None]
            coeffs = block_coefficients(act, Wn)
            write_gauss_newton(Wn, v, coeffs, out_ww, out_wv, out_vv)
            with np.errstate(over="ignore", under="ignore"):
                out_wv *= r[None, :]
                out_vv *= np.outer(r, r)
            rmax = float(r.max())
            return _entry_bound(coeffs, Wn, v) * max(1.0, rmax * rmax) < _FINITE_LIMIT
    coeffs = block_coefficients(act, W)
    write_gauss_newton(W, v, coeffs, out_ww, out_wv, out_vv)
    return _entry_bound(coeffs, W, v) < _FINITE_LIMIT


def residual_sums(act, W: np.ndarray, v: np.ndarray, Wt: np.ndarray, vt: np.ndarray) -> dict:
    r"""The residual part :math:`E[e\,\nabla^2 f]` summed over the residual units, float.

    With :math:`e=\sum_g s_g\sigma(b_g\cdot x)` over the student units (:math:`s_g=v_g`) and the teacher
    units (:math:`s_g=-v^\star_g`) and the coefficients :math:`C` of :data:`~symhess.two_layer.templates.RESIDUAL`:
    ``delta``, ``aa`` (shape ``(Nh,)``): :math:`\sum_g s_gC^{\delta}_{ig}`, :math:`\sum_g s_gC^{aa}_{ig}`;
    ``ab`` ``(Nh, Ni)``: :math:`\sum_g s_gC^{ab}_{ig}b_g`; ``bb``: per unit set ``(B, s_g C^{bb}_{ig})``;
    ``Wv`` ``(Nh, Ni)``: :math:`\sum_g s_g(C^a_{ig}w_i + C^b_{ig}b_g)`. Then, on :math:`i=k` only,

    .. math::

        [H_{WW}]_{(ij),(il)} \mathrel{+}= v_i\Big(\sum_g s_gC^{bb}_{ig}b_{gj}b_{gl} + \texttt{aa}_iW_{ij}W_{il}
          + W_{ij}\texttt{ab}_{il} + \texttt{ab}_{ij}W_{il} + \texttt{delta}_i\delta_{jl}\Big),\qquad
        [H_{Wv}]_{(ij),i} \mathrel{+}= \texttt{Wv}_{ij}.
    """
    Nh, Ni = W.shape
    out = {"delta": np.zeros(Nh), "aa": np.zeros(Nh), "ab": np.zeros((Nh, Ni)), "bb": [], "Wv": np.zeros((Nh, Ni))}
    for B, s, same in ((W, v, True), (Wt, -vt, False)):
        cw = template_matrices(act, RESIDUAL["WW"], W, B, same=same, warn=False)
        out["delta"] += cw["delta"] @ s
        out["aa"] += cw["aa"] @ s
        out["ab"] += (cw["ab"] * s) @ B
        out["bb"].append((B, cw["bb"] * s))
        cv = template_matrices(act, RESIDUAL["Wv"], W, B, same=same, warn=False)
        out["Wv"] += (cv["a"] @ s)[:, None] * W + (cv["b"] * s) @ B
    return out


def _add_residual(act, W, v, Wt, vt, out_ww, out_wv) -> None:
    Nh, Ni = W.shape
    r = residual_sums(act, W, v, Wt, vt)
    ww4 = _as_4d(out_ww, Nh, Ni)
    for i in range(Nh):
        m = sum((B.T * sbb[i]) @ B for B, sbb in r["bb"])
        m += r["aa"][i] * np.outer(W[i], W[i])
        m += np.outer(W[i], r["ab"][i]) + np.outer(r["ab"][i], W[i])
        m[np.diag_indices(Ni)] += r["delta"][i]
        ww4[i, :, i, :] += v[i] * m
    out_wv.reshape(Nh, Ni, Nh)[np.arange(Nh), :, np.arange(Nh)] += r["Wv"]


def dense_hessian(Nh: int, Ni: int, fill, dtype: object = float) -> np.ndarray:
    """The ``(P, P)`` matrix ``[[WW, Wv], [Wv^T, vv]]`` whose blocks ``fill(out_ww, out_wv, out_vv)`` writes."""
    m = Nh * Ni
    H = np.empty((m + Nh, m + Nh), dtype=dtype)
    fill(H[:m, :m], H[:m, m:], H[m:, m:])
    H[m:, :m] = H[:m, m:].T
    return H


def _fill(act, W, v, W_teacher, v_teacher, part, out_ww, out_wv, out_vv) -> bool:
    """Write the blocks of ``part``; return whether they are proved finite (else scan them)."""
    Ni = W.shape[1]
    check_part(part)
    if part == "residual":
        for out in (out_ww, out_wv, out_vv):
            out[...] = 0.0
        finite = True
    else:
        finite = _gauss_newton_blocks(act, W, v, out_ww, out_wv, out_vv)
    if part == "gauss_newton" or (W_teacher is None and v_teacher is None):
        return finite  # at the optimum the residual part vanishes
    Wt, vt = as_teacher(W_teacher, v_teacher, Ni)
    _add_residual(act, W, v, Wt, vt, out_ww, out_wv)
    return False  # the residual sums are not bounded here: scan


def hessian_blocks(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    *,
    W_teacher: np.ndarray | None = None,
    v_teacher: np.ndarray | None = None,
    part: str = "full",
    max_bytes: int | None = None,
) -> dict[str, np.ndarray]:
    r"""The blocks ``WW`` (:math:`N_hN_i\times N_hN_i`), ``Wv`` (:math:`N_hN_i\times N_h`) and ``vv``.

    Parameters are as for :func:`expected_hessian`; ``H = [[WW, Wv], [Wv.T, vv]]``.
    """
    act = get_activation(act)
    W, v = as_weights(W, v)
    Nh, Ni = W.shape
    check_dense_size(Nh * Ni, max_bytes=max_bytes, what="WW block")
    shapes = {"WW": (Nh * Ni, Nh * Ni), "Wv": (Nh * Ni, Nh), "vv": (Nh, Nh)}
    blocks = {name: np.empty(shapes[name]) for name in BLOCK_NAMES}
    _fill(act, W, v, W_teacher, v_teacher, part, blocks["WW"], blocks["Wv"], blocks["vv"])
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
    v : ndarray, shape (Nh,)
        Student output weights.
    W_teacher, v_teacher : ndarray, optional
        Teacher weights (any hidden size, same ``Ni``). Omitted: the student is at the optimum.
    part : {"full", "gauss_newton", "residual"}
        Which part of the Hessian.
    max_bytes : int, optional
        Memory budget for the dense matrix (default 80% of available memory).

    Returns
    -------
    ndarray, shape (P, P)
        :math:`P=N_hN_i+N_h`, parameters ordered :math:`(W \text{ row-major}, v)`.

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
    act = get_activation(act)
    W, v = as_weights(W, v)
    Nh, Ni = W.shape
    check_dense_size(n_params(Ni, Nh), max_bytes=max_bytes)
    proved = []
    with record_quadrature() as rec:
        H = dense_hessian(Nh, Ni, lambda ww, wv, vv: proved.append(_fill(act, W, v, W_teacher, v_teacher, part,
                                                                          ww, wv, vv)))
    if not proved[0]:
        check_finite_result(H, W)
    if rec.calls:
        symmetrize_in_place(H)
        if part == "gauss_newton" or (part == "full" and W_teacher is None and v_teacher is None):
            delta = max(STATED_ERROR_FACTOR * rec.worst, STATED_ERROR_FLOOR) * float(np.linalg.norm(H))
            check_psd(H, delta, f"Gauss-Newton Hessian of {act.spec!r}")
    return H
