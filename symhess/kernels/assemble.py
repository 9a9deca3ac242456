r"""Vectorised assembly of the dense expected Hessian from the per-pair kernels.

Place in the pipeline: layer 5. Conventions: ``W`` has shape ``(Nh, Ni)``, ``v`` shape ``(Nh,)``,
:math:`\theta=(\mathrm{vec}_{\text{row-major}}W, v)`, :math:`P=N_hN_i+N_h`, and

.. math::

    H = \begin{pmatrix} H_{WW} & H_{Wv}\\ H_{Wv}^\top & H_{vv}\end{pmatrix},\qquad
    [H_{WW}]_{(ij),(kl)} = P_{ik}\big(C^{\delta}_{ik}\delta_{jl} + C^{aa}_{ik}W_{ij}W_{il}
      + C^{bb}_{ik}W_{kj}W_{kl} + C^{ab}_{ik}(W_{ij}W_{kl}+W_{kj}W_{il})\big)

with the coefficient matrices of :mod:`symhess.kernels.pairs`. The ``WW`` block is built in
cache-sized tiles (two rank-structured products and a diagonal update per tile, in parallel
threads) and each tile is written to the output once, so the cost is close to that of writing
:math:`P^2` floats once (``benchmarks/bench_assembly.py``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from ..derivation import GAUSS_NEWTON, RESIDUAL
from ..errors import SymhessAccuracyError
from .pairs import template_matrices
from .quadrature import record_quadrature
from .validate import as_teacher, as_weights, check_dense_size

__all__ = ["expected_hessian", "hessian_blocks", "HESSIAN_PARTS", "n_params", "check_gauss_newton_psd"]

#: parts of the Hessian: the whole, the Gauss-Newton (outer-product) part, the residual part
HESSIAN_PARTS = ("full", "gauss_newton", "residual")
_TILE = 1 << 16  # float64 entries per tile (512 KiB): two tiles per thread stay in cache
_THREADS = max(1, min(8, os.cpu_count() or 1))
_PARALLEL_MIN = 1 << 20  # entries of WW below which threads cost more than they save
#: largest P whose positive semi-definiteness is certified by a shifted Cholesky factorisation
PSD_CERTIFY_MAX = 4000
#: Lanczos steps of the cheaper check above PSD_CERTIFY_MAX
PSD_LANCZOS_STEPS = 12
#: stated error of a quadrature Hessian: this many times the kernels' worst relative error estimate
#: (relative to E|integrand|), times ||H||_F; never below STATED_ERROR_FLOOR
STATED_ERROR_FACTOR, STATED_ERROR_FLOOR = 10.0, 1e-12


def n_params(n_in: int, n_hidden: int) -> int:
    """Number of parameters :math:`P = N_hN_i + N_h`."""
    return n_hidden * n_in + n_hidden


def _as_4d(out: np.ndarray, Nh: int, Ni: int) -> np.ndarray:
    """View ``out`` (possibly a strided sub-block) as ``(Nh, Ni, Nh, Ni)`` without copying."""
    view = out.view()
    view.shape = (Nh, Ni, Nh, Ni)  # raises instead of silently copying
    return view


def _write_ww_rows(out4: np.ndarray, W: np.ndarray, C: dict[str, np.ndarray], rows) -> None:
    """Write the row blocks ``rows`` of WW; each tile is built in cache and written to ``out`` once."""
    Nh, Ni = W.shape
    kb = max(1, min(Nh, _TILE // (Ni * Ni)))
    buf1, buf2 = np.empty((Ni, kb, Ni)), np.empty((Ni, kb, Ni))
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

    Row blocks are shared among threads (NumPy releases the GIL inside ufuncs), so the tiles are
    computed in parallel and the output is written once.
    """
    Nh, Ni = W.shape
    out4 = _as_4d(out, Nh, Ni)
    n_threads = min(_THREADS, Nh) if Nh * Ni * Nh * Ni >= _PARALLEL_MIN else 1
    if n_threads == 1:
        _write_ww_rows(out4, W, C, range(Nh))
        return
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(lambda t: _write_ww_rows(out4, W, C, range(t, Nh, n_threads)), range(n_threads)))


def _gauss_newton_blocks(act, W, v, out_ww, out_wv, out_vv) -> None:
    Nh, Ni = W.shape
    vv_pref = np.outer(v, v)
    cww = template_matrices(act, GAUSS_NEWTON["WW"], W, W, same=True)
    _write_ww(out_ww, W, {b: m * vv_pref for b, m in cww.items()})
    cwv = template_matrices(act, GAUSS_NEWTON["Wv"], W, W, same=True, warn=False)
    wv = (v[:, None] * cwv["a"])[:, None, :] * W[:, :, None] + (v[:, None] * cwv["b"])[:, None, :] * W.T[None]
    out_wv[...] = wv.reshape(Nh * Ni, Nh)
    out_vv[...] = template_matrices(act, GAUSS_NEWTON["vv"], W, W, same=True, warn=False)["1"]


def _residual_blocks(act, W, v, Wt, vt):
    r"""Residual part :math:`E[e\,\nabla^2 f]`: the WW diagonal blocks and the Wv "diagonal"."""
    Nh, Ni = W.shape
    parts = [(W, v, True), (Wt, -vt, False)]
    diag_ww = np.zeros((Nh, Ni, Ni))
    wv = np.zeros((Nh, Ni))
    for B, s, same in parts:
        cw = template_matrices(act, RESIDUAL["WW"], W, B, same=same, warn=False)
        sd, saa = cw["delta"] @ s, cw["aa"] @ s
        sab = (cw["ab"] * s) @ B  # (Nh, Ni): sum_g s_g C^ab_ig b_g
        sbb = cw["bb"] * s
        for i in range(Nh):
            m = (B.T * sbb[i]) @ B
            m += saa[i] * np.outer(W[i], W[i])
            m += np.outer(W[i], sab[i]) + np.outer(sab[i], W[i])
            m[np.diag_indices(Ni)] += sd[i]
            diag_ww[i] += v[i] * m
        cv = template_matrices(act, RESIDUAL["Wv"], W, B, same=same, warn=False)
        wv += (cv["a"] @ s)[:, None] * W + (cv["b"] * s) @ B
    return diag_ww, wv


def _fill(act, W, v, W_teacher, v_teacher, part, out_ww, out_wv, out_vv) -> None:
    Nh, Ni = W.shape
    if part not in HESSIAN_PARTS:
        raise ValueError(f"part={part!r} is unknown; choose one of {HESSIAN_PARTS}")
    if part == "residual":
        for out in (out_ww, out_wv, out_vv):
            out[...] = 0.0
    else:
        _gauss_newton_blocks(act, W, v, out_ww, out_wv, out_vv)
    if part == "gauss_newton" or (W_teacher is None and v_teacher is None):
        return  # at the optimum the residual part vanishes
    Wt, vt = as_teacher(W_teacher, v_teacher, Ni)
    rww, rwv = _residual_blocks(act, W, v, Wt, vt)
    ww4 = _as_4d(out_ww, Nh, Ni)
    for i in range(Nh):
        ww4[i, :, i, :] += rww[i]
    out_wv.reshape(Nh, Ni, Nh)[np.arange(Nh), :, np.arange(Nh)] += rwv


def _symmetrize(H: np.ndarray, tile: int = 1024) -> None:
    """Replace ``H`` by ``(H + H.T) / 2`` in place, tile by tile (no second P x P array)."""
    P = H.shape[0]
    for i0 in range(0, P, tile):
        i1 = min(i0 + tile, P)
        blk = H[i0:i1, i0:i1]
        blk += blk.T.copy()
        blk *= 0.5
        for j0 in range(i1, P, tile):
            j1 = min(j0 + tile, P)
            m = 0.5 * (H[i0:i1, j0:j1] + H[j0:j1, i0:i1].T)
            H[i0:i1, j0:j1] = m
            H[j0:j1, i0:i1] = m.T


def _smallest_ritz_value(H: np.ndarray, steps: int, rng_seed: int = 0) -> float:
    """Smallest Ritz value of ``steps`` Lanczos steps (full reorthogonalisation): an upper bound on lambda_min."""
    P = H.shape[0]
    q = np.random.default_rng(rng_seed).standard_normal(P)
    Q = np.zeros((steps, P))
    alpha, beta = np.zeros(steps), np.zeros(steps)
    q /= np.linalg.norm(q)
    k = 0
    for k in range(steps):
        Q[k] = q
        w = H @ q
        alpha[k] = q @ w
        w -= Q[: k + 1].T @ (Q[: k + 1] @ w)
        beta[k] = np.linalg.norm(w)
        if beta[k] <= 1e-14 * abs(alpha[k]) or k == steps - 1:
            break
        q = w / beta[k]
    n = k + 1
    T = np.diag(alpha[:n]) + np.diag(beta[: n - 1], 1) + np.diag(beta[: n - 1], -1)
    return float(np.linalg.eigvalsh(T)[0])


def check_gauss_newton_psd(H: np.ndarray, rel_error: float, what: str) -> float:
    r"""Raise :class:`~symhess.errors.SymhessAccuracyError` if the symmetric ``H`` has an eigenvalue below :math:`-\delta`.

    :math:`\delta` is the stated error :math:`\max(10\,e_{m rel}, 10^{-12})\,\|H\|_F` (``e_rel``: the worst
    relative error estimate of the quadrature that built ``H``). For :math:`P\le` :data:`PSD_CERTIFY_MAX` a
    Cholesky factorisation of :math:`H+\delta I` certifies :math:`\lambda_{\min}\ge-\delta` (cost
    :math:`P^3/3`, about the cost of assembling such an ``H`` by quadrature); above, :data:`PSD_LANCZOS_STEPS`
    Lanczos steps (:math:`O(P^2)` each) give a Ritz value :math:`\ge\lambda_{\min}`, which detects a
    violation (without certifying its absence). Returns :math:`\delta`.
    """
    norm = float(np.linalg.norm(H))
    delta = max(STATED_ERROR_FACTOR * rel_error, STATED_ERROR_FLOOR) * norm
    P = H.shape[0]
    if P == 0 or norm == 0.0:
        return delta
    if P <= PSD_CERTIFY_MAX:
        try:
            np.linalg.cholesky(H + delta * np.eye(P))
            return delta
        except np.linalg.LinAlgError:
            lam = float(np.linalg.eigvalsh(H)[0])
            if lam >= -delta:
                return delta
    else:
        lam = _smallest_ritz_value(H, PSD_LANCZOS_STEPS)
        if lam >= -delta:
            return delta
    raise SymhessAccuracyError(
        f"the {what} has an eigenvalue {lam:.3g} below minus its stated error {delta:.2g} "
        f"(||H||_F = {norm:.3g}); it is positive semi-definite in exact arithmetic, so the quadrature "
        "behind it is less accurate than its error estimate says. Not returned."
    )


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
    blocks = {"WW": np.empty((Nh * Ni, Nh * Ni)), "Wv": np.empty((Nh * Ni, Nh)), "vv": np.empty((Nh, Nh))}
    _fill(act, W, v, W_teacher, v_teacher, part, blocks["WW"], blocks["Wv"], blocks["vv"])
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
        (:func:`check_gauss_newton_psd`).

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
    P = Nh * Ni + Nh
    check_dense_size(P, max_bytes=max_bytes)
    H = np.empty((P, P))
    m = Nh * Ni
    with record_quadrature() as rec:
        _fill(act, W, v, W_teacher, v_teacher, part, H[:m, :m], H[:m, m:], H[m:, m:])
    H[m:, :m] = H[:m, m:].T
    if rec.calls:
        _symmetrize(H)
        if part == "gauss_newton" or (part == "full" and W_teacher is None and v_teacher is None):
            check_gauss_newton_psd(H, rec.worst, f"Gauss-Newton Hessian of {act.spec!r}")
    return H
