r"""The two-layer network with hidden and output biases: dense Hessian, loss, gradient and matrix-free product.

Place in the package: the two-layer teacher-student family (NumPy only; the Gaussian expectations
with means come from :mod:`symhess.kernels.means`).

The network is :math:`f_o(x)=\sum_iV_{oi}\,\sigma(w_i\cdot x+b_i)+b^{\rm out}_o`, :math:`o=1..n_{\rm out}`
(one output: ``v`` of shape ``(Nh,)``), :math:`x\sim N(0,\Sigma)`, the loss
:math:`\varepsilon=\tfrac12\sum_oE[(f_o-f^\star_o)^2]` and the parameters
:math:`\theta=(W\text{ row-major}, V\text{ row-major}, b, b^{\rm out})`, groups that are not parameters
left out. With :math:`u_i=w_i\cdot x+b_i` (mean :math:`b_i`, variance :math:`w_i^\top\Sigma w_i`),
:math:`M=V^\top V` and Stein's lemma (unchanged by the means), the Gauss–Newton part
:math:`\sum_oE[\nabla f_o\nabla f_o^\top]` has the blocks

.. math::

    [H_{WW}]_{(ij),(kl)} &= M_{ik}E[\sigma'(u_i)\sigma'(u_k)x_jx_l], &
    [H_{WV}]_{(ij),(ok)} &= V_{oi}E[\sigma'(u_i)\sigma(u_k)x_j], &
    [H_{Wb}]_{(ij),k} &= M_{ik}E[\sigma'(u_i)\sigma'(u_k)x_j],\\
    [H_{Wb^{\rm out}}]_{(ij),o} &= V_{oi}E[\sigma'(u_i)x_j], &
    [H_{VV}]_{(oi),(o'k)} &= \delta_{oo'}E[\sigma(u_i)\sigma(u_k)], &
    [H_{Vb}]_{(oi),k} &= V_{ok}E[\sigma(u_i)\sigma'(u_k)],\\
    [H_{Vb^{\rm out}}]_{(oi),o'} &= \delta_{oo'}E[\sigma(u_i)], &
    [H_{bb}]_{ik} &= M_{ik}E[\sigma'(u_i)\sigma'(u_k)], &
    [H_{bb^{\rm out}}]_{i,o} &= V_{oi}E[\sigma'(u_i)],\quad H_{b^{\rm out}b^{\rm out}}=I,

and the residual part :math:`\sum_oE[e_o\nabla^2f_o]`, :math:`e_o=f_o-f^\star_o`, lives on the unit
diagonal (:math:`W_iW_i`, :math:`W_iV_{oi}`, :math:`W_ib_i`, :math:`V_{oi}b_i`, :math:`b_ib_i`) with
:math:`\sigma''`, :math:`\sigma'` against every unit of the residual and against its constant
:math:`b^{\rm out}_o-b^{\star\rm out}_o`. Each expectation is reduced by Stein's lemma to
:math:`E[\sigma^{(a)}(u_i)\tau^{(b)}(u_g)]` with means (a unit with itself: one-variable expectations
and their derivatives in the mean), and inputs :math:`x=Fz` enter as in the centred case: kernels see
:math:`W\Sigma W^\top`, :math:`\delta_{jl}` becomes :math:`\Sigma_{jl}` and each row :math:`\tilde w_i` is
placed as :math:`\Sigma w_i` (:mod:`symhess.two_layer.architecture`).

ReLU: :math:`\sigma''=\delta`, :math:`\sigma'''=\delta'` are distributions; their Gaussian
expectations are derivatives in the means, as Stein's lemma gives them in the centred case, and
for a pair of parallel units whose kinks coincide (a unit and its copy in the teacher) the
divergent pair kernels, whose sum in every template tends to zero, are dropped as in the centred
case (:mod:`symhess.two_layer.pairs`) and the regular ones are evaluated at :math:`1-|\rho|=10^{-15}`
(their closed forms in :math:`\Phi_2` have :math:`\sqrt{1-\rho^2}` in denominators), a relative error of
order :math:`10^{-7}`, announced by a :class:`~symhess.errors.SymhessAccuracyWarning`. Parallel units whose
kinks differ are refused.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ..activations import Activation, ActivationLike, activation as get_activation
from ..errors import (
    InvalidParameterError, InvalidTypeError, NoClosedFormError, NonFiniteError, ShapeError, SymhessAccuracyWarning,
)
from ..kernels.means import pair_means, single_means
from ..validation import as_teacher, as_weights, check_dense_size, check_finite_result, check_variance_range
from .architecture import as_input_cov, teacher_act, trainable_groups
from .pairs import CLAMP_TOL, check_zero_rows
from .templates import check_part

__all__ = ["BIAS_GROUPS", "BiasedNetwork", "BiasedHessianOperator", "biased_network", "has_biases", "as_bias"]

#: every parameter group of the network with biases, in the order of theta
BIAS_GROUPS = ("W", "v", "b", "b_out")


def has_biases(*values: object) -> bool:
    """Whether any bias argument is given (then the network with biases handles the call)."""
    return any(v is not None for v in values)


def as_bias(value: object, size: int, name: str, *, scalar_ok: bool = False) -> np.ndarray:
    """Validate a bias vector of ``size`` entries (``scalar_ok``: a scalar for one entry); a float array.

    Raises
    ------
    InvalidTypeError
        Not a real number or array.
    ShapeError
        Wrong shape.
    NonFiniteError
        A NaN or infinite entry.
    """
    if isinstance(value, (str, bytes)) or isinstance(value, bool):
        raise InvalidTypeError(f"{name}={value!r} must be a real number or array")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(f"{name} must be a real numeric array: {exc}") from exc
    if arr.ndim == 0 and scalar_ok and size == 1:
        arr = arr.reshape(1)
    if arr.shape != (size,):
        expected = f"({size},)" + (" or a scalar" if scalar_ok and size == 1 else "")
        raise ShapeError(f"{name} has shape {arr.shape}; expected {expected}")
    if not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise NonFiniteError(f"{name}[{i}] = {float(arr[i])} is not finite; biases must be finite numbers")
    return arr


def _coeffs(act, partner, alpha, beta, n_x, A, mA, B, mB, same):
    r"""Stein coefficient matrices of :math:`E[\sigma^{(\alpha)}(u_i)\tau^{(\beta)}(u_g)\,x^{\otimes n_x}]`.

    ``n_x=2``: ``delta, aa, bb, ab``; ``n_x=1``: ``a, b``; ``n_x=0``: ``1`` (module docstring of
    :mod:`symhess.two_layer.pairs` for the bases). With ``same`` the diagonal is the one-variable
    form: :math:`\delta_{jl}E[G]+a_ja_lE[G'']`, :math:`a_jE[G']`, :math:`E[G]`, :math:`G=\sigma^{(\alpha)}\sigma^{(\beta)}`.
    """
    qa = np.einsum("ij,ij->i", A, A)
    qb = qa if same else np.einsum("ij,ij->i", B, B)
    cov = A @ B.T
    if same:
        np.fill_diagonal(cov, 0.5 * qa)  # replaced below; a regular point for the pair formulas
    keys = {2: {"delta": (0, 0), "aa": (2, 0), "bb": (0, 2), "ab": (1, 1)},
            1: {"a": (1, 0), "b": (0, 1)}, 0: {"1": (0, 0)}}[n_x]
    M1, M2 = mA[:, None], mB[None, :]
    Q1, Q2 = qa[:, None], qb[None, :]
    parallel = None
    if act.singular_at_parallel or (partner is not None and partner.singular_at_parallel):
        parallel = cov**2 >= Q1 * Q2 * (1.0 - CLAMP_TOL)
        if same:
            np.fill_diagonal(parallel, False)
        if parallel.any():
            # kinks coincide when v = 0 at u = 0: m2 - (c/q1) m1 = 0
            kink = M2 - cov / Q1 * M1
            scale = np.abs(M2) + np.abs(cov / Q1 * M1) + np.sqrt(Q2)
            apart = parallel & (np.abs(kink) > 1e-10 * scale)
            if apart.any():
                i, g = np.argwhere(apart)[0]
                raise NoClosedFormError(
                    f"hidden units {int(i)} and {int(g)} are parallel with kinks at different places (biases "
                    f"not in the ratio of the weights): the {act.spec!r} pair expectations with means are singular "
                    "there; perturb one of them"
                )
            i, g = np.argwhere(parallel)[0]
            warnings.warn(
                f"hidden units {int(i)} and {int(g)} are parallel with coinciding kinks (1 - rho^2 < {CLAMP_TOL:g}): "
                f"the parallel limit of the {act.spec!r} kernels was taken (their divergent parts cancel; the others "
                "are evaluated at 1 - rho = 1e-15, a relative error of order 1e-7)",
                SymhessAccuracyWarning, stacklevel=5,
            )
            shrink = 1.0 - 1e-15
            cov = np.where(parallel, np.sign(cov) * np.sqrt(Q1 * Q2) * shrink, cov)
        else:
            parallel = None
    out = {}
    for basis, (da, db) in keys.items():
        a, b = alpha + da, beta + db
        val = np.array(np.broadcast_to(pair_means(act, a, b, M1, M2, Q1, Q2, cov, partner), cov.shape))
        if parallel is not None and (a, b) in act.parallel_singular_keys:
            val[parallel] = 0.0
        out[basis] = val
    if same:
        idx = np.arange(len(qa))
        diag = {2: {"delta": 0, "aa": 2}, 1: {"a": 1}, 0: {"1": 0}}[n_x]
        for basis, mat in out.items():
            mat[idx, idx] = single_means(act, (alpha, beta), diag[basis], mA, qa) if basis in diag else 0.0
    return out


def _ww_block(U: np.ndarray, C: dict, sigma: np.ndarray | None) -> np.ndarray:
    r""":math:`C^\delta_{ik}\Sigma_{jl}+C^{aa}_{ik}U_{ij}U_{il}+C^{bb}_{ik}U_{kj}U_{kl}+C^{ab}_{ik}(U_{ij}U_{kl}+U_{kj}U_{il})`."""
    Nh, Ni = U.shape
    S = np.eye(Ni) if sigma is None else (np.diag(sigma) if sigma.ndim == 1 else sigma)
    T = np.einsum("ik,jl->ijkl", C["delta"], S)
    T += np.einsum("ik,ij,il->ijkl", C["aa"], U, U)
    T += np.einsum("ik,kj,kl->ijkl", C["bb"], U, U)
    T += np.einsum("ik,ij,kl->ijkl", C["ab"], U, U)
    T += np.einsum("ik,kj,il->ijkl", C["ab"], U, U)
    return T.reshape(Nh * Ni, Nh * Ni)


def _singles(act, orders, A, m) -> dict[int, np.ndarray]:
    """``{n: E[sigma^(n)(u_i)]}`` for the units ``A`` with means ``m``."""
    q = np.einsum("ij,ij->i", A, A)
    return {n: single_means(act, (n,), 0, m, q) for n in orders}


@dataclass
class _Set:
    """A set of units in the residual: activation, whitened rows, placed rows, means, output weights."""

    act: Activation
    A: np.ndarray
    U: np.ndarray
    m: np.ndarray
    S: np.ndarray  # (n_out, n): the weights of these units in e_o
    same: bool


class BiasedNetwork:
    r"""The two-layer network with biases, validated and whitened, with its Gauss–Newton and residual parts.

    Build it with :func:`biased_network`; :meth:`dense`, :meth:`matvec`, :meth:`loss` and
    :meth:`gradient` give the Hessian, its product, the population loss and its gradient in
    :math:`\theta=(W, V, b, b^{\rm out})` order (groups that are not parameters left out).
    """

    def __init__(self, act, W, V, b, b_out, Wt, Vt, bt, bt_out, tact, cov, groups, one_output):
        self.act, self.tact, self.cov = act, tact, cov
        self.W, self.V = W, V
        self.n_out, self.n_hidden = V.shape
        self.n_in = W.shape[1]
        self.has_b, self.has_b_out = b is not None, b_out is not None
        self.b = np.zeros(self.n_hidden) if b is None else b
        self.b_out = np.zeros(self.n_out) if b_out is None else b_out
        self.A = W if cov is None else cov.whiten(W)
        self.U = self.A if cov is None else cov.place(self.A)
        check_zero_rows(act, np.einsum("ij,ij->i", self.A, self.A), "W", self.A)
        check_variance_range(act, np.einsum("ij,ij->i", self.A, self.A), "W")
        self.sigma = None if cov is None else cov.sigma
        self.at_optimum = Wt is None
        self.one_output = one_output
        self.groups = groups
        if Wt is not None:
            At = Wt if cov is None else cov.whiten(Wt)
            Ut = At if cov is None else cov.place(At)
            check_zero_rows(tact or act, np.einsum("ij,ij->i", At, At), "W_teacher", At)
            check_variance_range(tact or act, np.einsum("ij,ij->i", At, At), "the teacher weights")
            self.teacher = _Set(tact or act, At, Ut, bt, -Vt, False)
            self.delta_out = self.b_out - bt_out
        else:
            self.teacher = None
            self.delta_out = np.zeros(self.n_out)
        self._cache: dict = {}

    # -- layout ---------------------------------------------------------------------------------
    @property
    def present(self) -> tuple[str, ...]:
        """The parameter groups of this network, in θ order."""
        return tuple(g for g, on in zip(BIAS_GROUPS, (True, True, self.has_b, self.has_b_out)) if on)

    def sizes(self) -> dict[str, int]:
        """Number of parameters of each present group."""
        n = {"W": self.n_hidden * self.n_in, "v": self.n_out * self.n_hidden, "b": self.n_hidden, "b_out": self.n_out}
        return {g: n[g] for g in self.present}

    def spans(self) -> dict[str, slice]:
        """Slices of each present group in the full θ."""
        out, start = {}, 0
        for g, n in self.sizes().items():
            out[g] = slice(start, start + n)
            start += n
        return out

    @property
    def n_params(self) -> int:
        return sum(self.sizes().values())

    def index(self) -> np.ndarray | None:
        """Indices of the trained groups in the full θ (``None``: all)."""
        if self.groups == self.present:
            return None
        sp = self.spans()
        return np.concatenate([np.arange(sp[g].start, sp[g].stop) for g in self.groups])

    # -- coefficients ---------------------------------------------------------------------------
    def _student_set(self) -> _Set:
        return _Set(self.act, self.A, self.U, self.b, self.V, True)

    def _c(self, key, alpha, beta, n_x, other: _Set | None = None):
        """Coefficients of the student units against ``other`` (default: themselves), cached."""
        ck = (key, alpha, beta, n_x, id(other))
        if ck not in self._cache:
            if other is None or other.same:
                self._cache[ck] = _coeffs(self.act, None, alpha, beta, n_x, self.A, self.b, self.A, self.b, True)
            else:
                partner = None if other.act == self.act else other.act
                self._cache[ck] = _coeffs(self.act, partner, alpha, beta, n_x, self.A, self.b, other.A, other.m, False)
        return self._cache[ck]

    def _s(self, n):
        key = ("single", n)
        if key not in self._cache:
            self._cache[key] = _singles(self.act, (n,), self.A, self.b)[n]
        return self._cache[key]

    def _sets(self) -> list[_Set]:
        return [self._student_set()] + ([] if self.teacher is None else [self.teacher])

    def _xsigma(self, X: np.ndarray) -> np.ndarray:
        """Rows of ``X`` times :math:`\\Sigma` (identity when no input covariance)."""
        if self.sigma is None:
            return X
        return X * self.sigma if self.sigma.ndim == 1 else X @ self.sigma

    # -- residual sums --------------------------------------------------------------------------
    def _residual(self) -> dict:
        """Per-unit residual coefficients, summed over the residual's units (module docstring)."""
        if "residual" in self._cache:
            return self._cache["residual"]
        Nh, Ni, n_out = self.n_hidden, self.n_in, self.n_out
        V, U, d_out = self.V, self.U, self.delta_out
        dsum = V.T @ d_out  # d_i = sum_o V_oi Delta_o
        r = {"delta": dsum * self._s(2), "aa": dsum * self._s(4), "bb": [], "abU": np.zeros((Nh, Ni)),
             "ab": [], "WV": np.zeros((n_out, Nh, Ni)), "Wb": np.zeros((Nh, Ni)), "Vb": np.zeros((n_out, Nh)),
             "bb1": dsum * self._s(2), "abcoef": []}
        r["WV"] += d_out[:, None, None] * (self._s(2)[:, None] * U)[None]
        r["Wb"] += (dsum * self._s(3))[:, None] * U
        r["Vb"] += d_out[:, None] * self._s(1)[None, :]
        for st in self._sets():
            other = None if st.same else st
            R = V.T @ st.S  # (Nh, Ng): sum_o V_oi s_og
            cw = self._c("zz20", 2, 0, 2, other)
            r["delta"] = r["delta"] + (R * cw["delta"]).sum(1)
            r["aa"] = r["aa"] + (R * cw["aa"]).sum(1)
            r["bb"].append((st.U, R * cw["bb"]))
            r["ab"].append((st.U, R * cw["ab"]))
            cv = self._c("z10", 1, 0, 1, other)
            for o in range(n_out):
                r["WV"][o] += (cv["a"] @ st.S[o])[:, None] * U + (cv["b"] * st.S[o]) @ st.U
            cb = self._c("z20", 2, 0, 1, other)
            r["Wb"] += (R * cb["a"]).sum(1)[:, None] * U + (R * cb["b"]) @ st.U
            k10 = self._c("s10", 1, 0, 0, other)["1"]
            r["Vb"] += st.S @ k10.T  # [o, i] = sum_g s_og K10_ig
            k20 = self._c("s20", 2, 0, 0, other)["1"]
            r["bb1"] = r["bb1"] + (R * k20).sum(1)
        self._cache["residual"] = r
        return r

    def _parts(self, part: str) -> tuple[bool, bool]:
        check_part(part)
        gn = part != "residual"
        res = part != "gauss_newton" and self.teacher is not None
        return gn, res

    # -- dense ----------------------------------------------------------------------------------
    def dense(self, part: str = "full", max_bytes: int | None = None, write_ww=None) -> np.ndarray:
        """The dense expected Hessian (trained groups only).

        ``write_ww(out, U, C, sigma)``: the tiled writer of the ``WW`` block of the centred assembly
        (:mod:`symhess.two_layer.assemble` passes it); without it the block is one ``einsum``.
        """
        gn, res = self._parts(part)
        P = self.n_params
        check_dense_size(P, max_bytes=max_bytes)
        Nh, Ni, n_out = self.n_hidden, self.n_in, self.n_out
        H = np.zeros((P, P))
        sp = self.spans()
        sW, sV = sp["W"], sp["v"]
        V, U = self.V, self.U
        M = V.T @ V
        if gn:
            c = self._c("zz11", 1, 1, 2)
            if write_ww is None:
                H[sW, sW] = _ww_block(U, {k: m * M for k, m in c.items()}, self.sigma)
            else:
                write_ww(H[sW, sW], U, {k: m * M for k, m in c.items()}, self.sigma)
            cz = self._c("z10", 1, 0, 1)
            WV = np.empty((Nh, Ni, n_out, Nh))
            for o in range(n_out):
                WV[:, :, o, :] = (V[o][:, None] * cz["a"])[:, None, :] * U[:, :, None] + \
                    (V[o][:, None] * cz["b"])[:, None, :] * U.T[None]
            H[sW, sV] = WV.reshape(Nh * Ni, n_out * Nh)
            k00 = self._c("s00", 0, 0, 0)["1"]
            for o in range(n_out):
                H[sV.start + o * Nh:sV.start + (o + 1) * Nh, sV.start + o * Nh:sV.start + (o + 1) * Nh] = k00
            if self.has_b:
                sb = sp["b"]
                cb = self._c("z11", 1, 1, 1)
                H[sW, sb] = ((M * cb["a"])[:, None, :] * U[:, :, None] + (M * cb["b"])[:, None, :] * U.T[None]).reshape(
                    Nh * Ni, Nh)
                k01 = self._c("s01", 0, 1, 0)["1"]
                H[sV, sb] = (V[:, None, :] * k01[None]).reshape(n_out * Nh, Nh)  # [(o,i),k] = V_ok K01_ik
                H[sb, sb] = M * self._c("s11", 1, 1, 0)["1"]
            if self.has_b_out:
                so = sp["b_out"]
                H[sW, so] = (V.T[:, None, :] * (self._s(2)[:, None] * U)[:, :, None]).reshape(Nh * Ni, n_out)
                s0 = self._s(0)
                for o in range(n_out):
                    H[sV.start + o * Nh:sV.start + (o + 1) * Nh, so.start + o] = s0
                if self.has_b:
                    H[sp["b"], so] = V.T * self._s(1)[:, None]
                H[so, so] = np.eye(n_out)
        if res:
            r = self._residual()
            ww4 = H[sW, sW].reshape(Nh, Ni, Nh, Ni)
            for i in range(Nh):
                mat = sum((B.T * cbb[i]) @ B for B, cbb in r["bb"])
                ab = sum(cab[i] @ B for B, cab in r["ab"])
                mat = mat + r["aa"][i] * np.outer(U[i], U[i]) + np.outer(U[i], ab) + np.outer(ab, U[i])
                if self.sigma is None:
                    mat[np.diag_indices(Ni)] += r["delta"][i]
                elif self.sigma.ndim == 1:
                    mat[np.diag_indices(Ni)] += r["delta"][i] * self.sigma
                else:
                    mat = mat + r["delta"][i] * self.sigma
                H[sW.start + i * Ni:sW.start + (i + 1) * Ni, sW.start + i * Ni:sW.start + (i + 1) * Ni] += mat
                for o in range(n_out):
                    H[sW.start + i * Ni:sW.start + (i + 1) * Ni, sV.start + o * Nh + i] += r["WV"][o, i]
            del ww4
            if self.has_b:
                sb = sp["b"]
                for i in range(Nh):
                    H[sW.start + i * Ni:sW.start + (i + 1) * Ni, sb.start + i] += r["Wb"][i]
                    for o in range(n_out):
                        H[sV.start + o * Nh + i, sb.start + i] += r["Vb"][o, i]
                    H[sb.start + i, sb.start + i] += r["bb1"][i]
        # symmetric completion of the upper blocks written above
        order = list(sp.values())
        for x, s1 in enumerate(order):
            for s2 in order[x + 1:]:
                H[s2, s1] = H[s1, s2].T
        idx = self.index()
        H = H if idx is None else H[np.ix_(idx, idx)]
        check_finite_result(H, self.W)
        return H

    # -- matrix-free product --------------------------------------------------------------------
    def matvec(self, x: np.ndarray, part: str = "full") -> np.ndarray:
        """:math:`Hx` in :math:`O(N_h^2N_i)` (plus :math:`O(N_hN_i^2)` for a dense :math:`\\Sigma`), never forming H."""
        gn, res = self._parts(part)
        Nh, Ni, n_out = self.n_hidden, self.n_in, self.n_out
        sp = self.spans()
        full = np.zeros(self.n_params)
        idx = self.index()
        if idx is None:
            full[:] = x
        else:
            full[idx] = x
        X = full[sp["W"]].reshape(Nh, Ni)
        XV = full[sp["v"]].reshape(n_out, Nh)
        xb = full[sp["b"]] if self.has_b else None
        xo = full[sp["b_out"]] if self.has_b_out else None
        V, U = self.V, self.U
        yW, yV = np.zeros((Nh, Ni)), np.zeros((n_out, Nh))
        yb, yo = np.zeros(Nh), np.zeros(n_out)
        XS = self._xsigma(X)
        P = U @ X.T  # P_ik = U_i . X_k
        d = np.einsum("ij,ij->i", U, X)
        if gn:
            M = V.T @ V
            c = self._c("zz11", 1, 1, 2)
            Cd, Ca, Cb, Cab = (M * c[k] for k in ("delta", "aa", "bb", "ab"))
            yW += Cd @ XS + U * (Ca * P).sum(1)[:, None] + (Cb * d[None, :]) @ U
            yW += U * (Cab @ d)[:, None] + (Cab * P) @ U
            cz = self._c("z10", 1, 0, 1)
            G = V.T @ XV
            yW += U * (G * cz["a"]).sum(1)[:, None] + (G * cz["b"]) @ U
            yV += (V * d[None, :]) @ cz["a"] + V @ (cz["b"] * P.T)
            yV += XV @ self._c("s00", 0, 0, 0)["1"].T
            if self.has_b:
                cb = self._c("z11", 1, 1, 1)
                Gb = M * xb[None, :]
                yW += U * (Gb * cb["a"]).sum(1)[:, None] + (Gb * cb["b"]) @ U
                yb += (M * cb["a"]).T @ d + ((M * cb["b"]) * P.T).sum(0)
                k01 = self._c("s01", 0, 1, 0)["1"]
                yV += (V * xb[None, :]) @ k01.T
                yb += ((XV @ k01) * V).sum(0)
                yb += (M * self._c("s11", 1, 1, 0)["1"]) @ xb
            if self.has_b_out:
                s0, s1, s2 = self._s(0), self._s(1), self._s(2)
                yW += U * ((V.T @ xo) * s2)[:, None]
                yV += xo[:, None] * s0[None, :]
                yo += V @ (s2 * d) + XV @ s0 + xo
                if self.has_b:
                    yb += (xo @ V) * s1
                    yo += V @ (s1 * xb)
        if res:
            r = self._residual()
            yW += r["delta"][:, None] * XS + (r["aa"] * d)[:, None] * U
            for B, cbb in r["bb"]:
                yW += (cbb * (X @ B.T)) @ B
            for B, cab in r["ab"]:
                Q = X @ B.T
                yW += (cab * Q).sum(1)[:, None] * U + d[:, None] * (cab @ B)
            yW += np.einsum("oi,oij->ij", XV, r["WV"])
            yV += np.einsum("oij,ij->oi", r["WV"], X)
            if self.has_b:
                yW += xb[:, None] * r["Wb"]
                yb += np.einsum("ij,ij->i", r["Wb"], X)
                yV += r["Vb"] * xb[None, :]
                yb += (r["Vb"] * XV).sum(0)
                yb += r["bb1"] * xb
        parts = {"W": yW.ravel(), "v": yV.ravel(), "b": yb, "b_out": yo}
        y = check_finite_result(np.concatenate([parts[g] for g in self.present]), self.W, "Hessian-vector product")
        return y if idx is None else y[idx]

    # -- loss and gradient ----------------------------------------------------------------------
    def _kernel(self, st1: _Set, st2: _Set) -> np.ndarray:
        """:math:`E[\\sigma_1(u_i)\\sigma_2(u_g)]` between two unit sets (one-variable on a set's own diagonal)."""
        if st1 is st2:
            return _coeffs(st1.act, None, 0, 0, 0, st1.A, st1.m, st1.A, st1.m, True)["1"]
        partner = None if st2.act == st1.act else st2.act
        return _coeffs(st1.act, partner, 0, 0, 0, st1.A, st1.m, st2.A, st2.m, False)["1"]

    def loss(self) -> float:
        r""":math:`\tfrac12\sum_oE[e_o^2]` from the pair expectations with means (expansion; absolute error ~1e-16)."""
        if self.teacher is None:
            return 0.0
        sets = self._sets()
        total = 0.0
        means = [_singles(st.act, (0,), st.A, st.m)[0] for st in sets]
        for x, s1 in enumerate(sets):
            for y, s2 in enumerate(sets):
                if y < x:
                    continue
                K = self._kernel(s1, s2)
                t = float(np.einsum("oi,ig,og->", s1.S, K, s2.S))
                total += t if x == y else 2 * t
            total += 2 * float(self.delta_out @ (s1.S @ means[x]))
        total += float(self.delta_out @ self.delta_out)
        check_finite_result(np.array(total), self.W, "population loss")
        return max(0.5 * total, 0.0)

    def gradient(self) -> np.ndarray:
        r""":math:`\nabla_\theta\varepsilon=\sum_oE[e_o\nabla f_o]` (trained groups only)."""
        Nh, Ni, n_out = self.n_hidden, self.n_in, self.n_out
        gW, gV, gb = np.zeros((Nh, Ni)), np.zeros((n_out, Nh)), np.zeros(Nh)
        go = np.zeros(n_out)
        if self.teacher is not None:
            V, U = self.V, self.U
            d_out = self.delta_out
            dsum = V.T @ d_out
            gW += (dsum * self._s(2))[:, None] * U
            gV += d_out[:, None] * self._s(0)[None, :]
            gb += dsum * self._s(1)
            go += d_out
            for st in self._sets():
                other = None if st.same else st
                R = V.T @ st.S
                cv = self._c("z10", 1, 0, 1, other)
                gW += (R * cv["a"]).sum(1)[:, None] * U + (R * cv["b"]) @ st.U
                k00 = self._kernel(self._student_set(), st) if not st.same else self._c("s00", 0, 0, 0)["1"]
                gV += st.S @ k00.T
                gb += (R * self._c("s10", 1, 0, 0, other)["1"]).sum(1)
                go += st.S @ _singles(st.act, (0,), st.A, st.m)[0]
        parts = {"W": gW.ravel(), "v": gV.ravel(), "b": gb, "b_out": go}
        g = check_finite_result(np.concatenate([parts[grp] for grp in self.present]), self.W, "gradient")
        idx = self.index()
        return g if idx is None else g[idx]

    def unpack(self, H: np.ndarray) -> dict[str, np.ndarray]:
        """The blocks of a dense Hessian over the trained groups, named by their pair of groups."""
        sizes = {g: self.sizes()[g] for g in self.groups}
        out, start = {}, {}
        pos = 0
        for g, n in sizes.items():
            start[g] = slice(pos, pos + n)
            pos += n
        names = list(sizes)
        for x, g1 in enumerate(names):
            for g2 in names[x:]:
                out[g1 + g2] = H[start[g1], start[g2]]
        return out


def biased_network(
    act: ActivationLike, W, v, *, b=None, b_out=None, W_teacher=None, v_teacher=None, b_teacher=None,
    b_out_teacher=None, input_cov=None, trainable=None, teacher_activation=None,
) -> BiasedNetwork:
    r"""Validate the arguments of the network with biases and build a :class:`BiasedNetwork`.

    Parameters are those of :func:`symhess.expected_hessian`. ``b`` ``(Nh,)`` and ``b_out`` (scalar for
    one output, ``(n_out,)``) are parameters when given; the teacher's ``b_teacher`` ``(Nt,)`` and
    ``b_out_teacher`` need the teacher's weights and the student's bias of the same kind.

    Raises
    ------
    ShapeError, NonFiniteError, InvalidTypeError
        A bias of the wrong shape, not finite, or not numeric.
    InvalidParameterError
        A teacher bias without the teacher's weights or without the student's bias of that kind, or
        an unknown or absent group in ``trainable``.
    """
    act = get_activation(act)
    act.require_numeric()
    one_output = np.ndim(v) < 2
    if not one_output:
        if np.ndim(v) > 2:
            raise ShapeError(f"v has shape {np.shape(v)}; expected (n_hidden,) or (n_out, n_hidden)")
        from .architecture import multi_output

        W, V, Wt, Vt = multi_output(W, v, W_teacher, v_teacher)
    else:
        W, v1 = as_weights(W, v)
        V = v1[None, :]
        Wt = Vt = None
        if W_teacher is not None or v_teacher is not None:
            if W_teacher is None or v_teacher is None:
                raise InvalidParameterError("give both W_teacher and v_teacher, or neither (the optimum)")
            Wt, vt = as_teacher(W_teacher, v_teacher, W.shape[1])
            Vt = vt[None, :]
    n_out, Nh = V.shape
    if b_teacher is not None and b is None:
        raise InvalidParameterError(
            "b_teacher is given but the student has no hidden biases: pass b (the student's hidden biases) too"
        )
    if b_out_teacher is not None and b_out is None:
        raise InvalidParameterError(
            "b_out_teacher is given but the student has no output bias: pass b_out (the student's output bias) too"
        )
    if Wt is None and (b_teacher is not None or b_out_teacher is not None):
        raise InvalidParameterError(
            "a teacher bias (b_teacher or b_out_teacher) needs the teacher's weights W_teacher and v_teacher; "
            "without them the teacher is the student itself, biases included"
        )
    b = None if b is None else as_bias(b, Nh, "b")
    b_out = None if b_out is None else as_bias(b_out, n_out, "b_out", scalar_ok=True)
    cov = as_input_cov(input_cov, W.shape[1])
    tact = teacher_act(act, teacher_activation, Wt)
    if tact is not None:
        tact.require_numeric()
    bt = bt_out = None
    if Wt is not None:
        Nt = Wt.shape[0]
        bt = np.zeros(Nt) if b_teacher is None else as_bias(b_teacher, Nt, "b_teacher")
        bt_out = np.zeros(n_out) if b_out_teacher is None else as_bias(
            b_out_teacher, n_out, "b_out_teacher", scalar_ok=True)
    present = tuple(g for g, on in zip(BIAS_GROUPS, (True, True, b is not None, b_out is not None)) if on)
    groups = _as_groups(trainable, present)
    return BiasedNetwork(act, W, V, b, b_out, Wt, Vt, bt, bt_out, tact, cov, groups, one_output)


def _as_groups(trainable: object, present: tuple[str, ...]) -> tuple[str, ...]:
    """``trainable`` validated against the groups this network has, in θ order."""
    return trainable_groups(trainable, present, BIAS_GROUPS)


class BiasedHessianOperator(LinearOperator):
    """The expected Hessian of the network with biases as a symmetric matrix-free ``LinearOperator``."""

    def __init__(self, net: BiasedNetwork, part: str = "full") -> None:
        check_part(part)
        self.net, self.part = net, part
        n = net.n_params if net.index() is None else len(net.index())
        super().__init__(dtype=np.float64, shape=(n, n))

    def _matvec(self, x):
        x = np.asarray(x, dtype=float).reshape(-1)
        if not np.all(np.isfinite(x)):
            raise NonFiniteError("the vector multiplied by the Hessian has non-finite entries")
        return self.net.matvec(x, self.part)

    def _matmat(self, X):
        return np.column_stack([self._matvec(col) for col in np.asarray(X).T]) if X.shape[1] else np.zeros((self.shape[0], 0))

    def _rmatvec(self, x):
        return self._matvec(x)

    def _adjoint(self):
        return self
