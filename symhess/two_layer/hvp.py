r"""Matrix-free expected Hessian-vector products: :math:`H\,x` without forming :math:`H`.

Place in the package: the two-layer teacher-student family (kernels). Imports the per-pair coefficient matrices of
:mod:`symhess.two_layer.pairs` and the array backends of :mod:`symhess.kernels.backend`.

For a tangent vector :math:`x=(X, y)`, :math:`X\in\mathbb R^{N_h\times N_i}` (the ``W`` part,
row-major) and :math:`y\in\mathbb R^{N_h}`, write :math:`S = WX^\top` (:math:`S_{ik}=w_i\cdot X_k`),
:math:`d_k = w_k\cdot X_k` and, with the Gauss–Newton coefficient matrices of
:mod:`symhess.two_layer.assemble` already multiplied by :math:`v_iv_k` (:math:`A^{\delta}, A^{aa},
A^{bb}, A^{ab}`) or by :math:`v_i` (:math:`B^{a}, B^{b}`), and :math:`K` the ``vv`` block,

.. math::

    (H_{WW}X + H_{Wv}y)_{ij} &= (A^{\delta}X)_{ij}
        + \big[(A^{bb}\operatorname{diag}d + A^{ab}\circ S + B^{b}\operatorname{diag}y)\,W\big]_{ij}
        + c_i W_{ij},\\
    c_i &= \textstyle\sum_k A^{aa}_{ik}S_{ik} + (A^{ab}d)_i + (B^{a}y)_i,\\
    (H_{vW}X + H_{vv}y)_k &= (B^{a\top}d)_k + \textstyle\sum_i B^{b}_{ik}S_{ki} + (Ky)_k ,

which follows term by term from
:math:`[H_{WW}]_{(ij),(kl)} = A^{\delta}_{ik}\delta_{jl} + A^{aa}_{ik}W_{ij}W_{il}
+ A^{bb}_{ik}W_{kj}W_{kl} + A^{ab}_{ik}(W_{ij}W_{kl}+W_{kj}W_{il})` and
:math:`[H_{Wv}]_{(ij),k} = B^{a}_{ik}W_{ij} + B^{b}_{ik}W_{kj}`. Away from the optimum the
residual part :math:`E[e\,\nabla^2 f]` adds, per unit :math:`i`, the block
:math:`v_i\big(\sum_g s_g C^{bb}_{ig}b_gb_g^\top + s^{aa}_i w_iw_i^\top + w_i s^{ab\top}_i
+ s^{ab}_i w_i^\top + s^{\delta}_i I\big)` (sums over the student units :math:`b_g=w_g`,
:math:`s_g=v_g` and the teacher units :math:`b_g=w^\star_g`, :math:`s_g=-v^\star_g`) and the
``Wv`` diagonal :math:`r_{ij}`; applied to :math:`X` these are again products with ``W``,
``X`` and :math:`W^\star`. One product therefore costs three :math:`(N_h\times N_h)(N_h\times N_i)`
matrix products (:math:`S`, :math:`A^\delta X` and the bracket times :math:`W`; plus two with
:math:`W^\star` away from the optimum), :math:`O(N_h^2N_i)` time and :math:`O(N_h^2 + N_hN_i)`
memory; the dense :math:`H` would need :math:`O(N_h^2N_i^2)` of both.

The diagonal is also in closed form (:meth:`HessianProduct.diagonal`):

.. math::

    H_{(ij),(ij)} = A^{\delta}_{ii} + (A^{aa}_{ii}+A^{bb}_{ii}+2A^{ab}_{ii})W_{ij}^2
      \;[+\text{residual}],\qquad H_{v_kv_k} = K_{kk}.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ..activations import ActivationLike, activation as get_activation
from .templates import check_part
from ..errors import InvalidParameterError, MemoryLimitError, NonFiniteError, ShapeError
from .assemble import residual_sums, with_prefactors
from ..kernels.backend import ArrayBackend, get_backend
from .pairs import block_coefficients
from .architecture import as_input_cov, as_trainable, multi_output, teacher_act, trainable_index
from ..validation import as_teacher, as_weights, available_memory, check_finite_result, row_norms

__all__ = ["HessianProduct", "HessianOperator", "OutputsHessianOperator", "hessian_operator"]

#: float entries of per-column temporaries (S, M and the elementwise products) kept at once in matmat
_BLOCK_ENTRIES = 1 << 25
#: above this many entries of (Nh x Nh) + (Nh x Ni), the NumPy backend applies one vector at a time
_CPU_BATCH_ENTRIES = 1 << 18


def _mT(xp, a):
    return xp.matrix_transpose(a)


class HessianProduct:
    r"""The coefficient matrices of the expected Hessian on an array backend, and :math:`H\,x` from them.

    Use :func:`hessian_operator` for a SciPy ``LinearOperator``; this class is the backend-native
    layer under it: :meth:`apply` takes and returns backend arrays (GPU arrays stay on the GPU).

    Parameters
    ----------
    act, W, v, W_teacher, v_teacher, part
        As for :func:`symhess.expected_hessian`.
    backend : str or ArrayBackend
        ``"numpy"`` (default), ``"torch"``, ``"torch:cuda"``, ``"cupy"``, ``"jax"``.
    dtype : {"float64", "float32"}
        Floating type of the backend arrays.
    max_bytes : int, optional
        Memory budget for the coefficient matrices (default 80% of available memory).
    input_cov : array_like, optional
        Input covariance :math:`\Sigma` (``(Ni, Ni)`` symmetric PSD, or its diagonal ``(Ni,)``). The
        product is :math:`J H_I(WS, v) J^\top x` with :math:`S=\Sigma^{1/2}`: two extra products with
        :math:`S` per vector, :math:`O(N_hN_i^2)` (:math:`O(N_hN_i)` for a diagonal :math:`\Sigma`).

    Attributes
    ----------
    n_hidden, n_in, n_params : int
        :math:`N_h`, :math:`N_i`, :math:`P=N_hN_i+N_h`.
    backend : ArrayBackend
        Where the products run.
    part : str
        ``"full"``, ``"gauss_newton"`` or ``"residual"``.
    """

    def __init__(
        self,
        act: ActivationLike,
        W: Any,
        v: Any,
        *,
        W_teacher: Any = None,
        v_teacher: Any = None,
        part: str = "full",
        backend: str | ArrayBackend = "numpy",
        dtype: str = "float64",
        max_bytes: int | None = None,
        input_cov: Any = None,
        teacher_activation: ActivationLike | None = None,
    ) -> None:
        act = get_activation(act)
        W, v = as_weights(W, v)
        check_part(part)
        cov = as_input_cov(input_cov, W.shape[1])
        self._teacher_act = teacher_act(act, teacher_activation, W_teacher)
        self.backend = get_backend(backend, dtype)
        Nh, Ni = W.shape
        self.n_hidden, self.n_in, self.n_params, self.part = Nh, Ni, Nh * Ni + Nh, part
        self.activation = act
        residual = part != "gauss_newton" and not (W_teacher is None and v_teacher is None)
        Wt, vt = as_teacher(W_teacher, v_teacher, Ni) if residual else (np.zeros((0, Ni)), np.zeros(0))
        self._check_memory(Nh, Ni, Wt.shape[0], max_bytes)
        if cov is not None:  # x = S z: the identity-covariance product at the whitened weights, mapped by J
            W, Wt = cov.whiten(W), cov.whiten(Wt)
        self._gn = part != "residual"
        self._residual = residual
        r = row_norms(W) if act.positively_homogeneous and not residual else None
        if r is not None and np.all(r > 0):
            # sigma(r z) = r sigma(z) (ReLU): H(W) = D H(W/r) D, D = diag(1, .., 1, r), at any row norm
            W = W / r[:, None]
        else:
            r = None
        c = self._coefficients(act, W, v, Wt, vt)
        self._diag = self._diagonal(W, Wt, c, cov)
        if r is not None:
            with np.errstate(over="ignore"):
                self._diag[Nh * Ni:] *= r * r
            check_finite_result(self._diag, W * r[:, None], "Hessian diagonal")
        to = self.backend.asarray
        self._vscale = None if r is None else to(r)
        low_rank = getattr(cov, "low_rank", False)  # Sigma = D + U U^T: structured products, F never formed
        self._F = None if cov is None or low_rank else to(cov.factor)
        self._FT = None if cov is None or low_rank or cov.diagonal else to(np.ascontiguousarray(cov.factor.T))
        self._LR = (to(cov.sqrt_d), to(cov.U), to(np.ascontiguousarray(cov.U.T))) if low_rank else None
        self._W, self._Wt = to(W), to(Wt)
        self._c = {k: to(m) for k, m in c.items()}
        # transposes used as row operands, stored contiguous once
        if self._gn:
            self._c["AabT"] = to(np.ascontiguousarray(c["Aab"].T))
            self._c["BbT"] = to(np.ascontiguousarray(c["Bb"].T))
            # K is symmetric up to quadrature error (tanh); use K y exactly as the dense rows do
            self._c["KT"] = to(np.ascontiguousarray(c["K"].T))
        xp = self.backend.xp
        self._WtT = to(np.ascontiguousarray(Wt.T))
        self._block = max(1, _BLOCK_ENTRIES // (6 * Nh * (Nh + Wt.shape[0] + Ni)))
        if self.backend.name == "numpy" and Nh * (Nh + Ni) > _CPU_BATCH_ENTRIES:
            # large products on the CPU: BLAS is already saturated by one vector, and batching only adds
            # memory traffic (measured 15-30% slower per vector at Nh = Ni = 1000); GPUs keep the batches
            self._block = 1
        self._xp = xp

    @staticmethod
    def _check_memory(Nh: int, Ni: int, Nt: int, max_bytes: int | None) -> None:
        need = 8 * (12 * Nh * Nh + 2 * Nh * Nt + 8 * Nh * Ni)
        budget = int(0.8 * available_memory()) if max_bytes is None else int(max_bytes)
        if need > budget:
            raise MemoryLimitError(
                f"the matrix-free Hessian of Nh={Nh} hidden units needs its (Nh x Nh) coefficient matrices, "
                f"{need / 2**30:.1f} GiB, more than the {budget / 2**30:.1f} GiB budget"
            )

    def _coefficients(self, act, W, v, Wt, vt) -> dict[str, np.ndarray]:
        """The coefficient matrices, prefactors included (NumPy, float64)."""
        Nh = W.shape[0]
        c: dict[str, np.ndarray] = {}
        if self._gn:
            gn = with_prefactors(block_coefficients(act, W), v)
            c["Dd"], c["Aaa"], c["Abb"], c["Aab"] = (gn["WW"][b] for b in ("delta", "aa", "bb", "ab"))
            c["Ba"], c["Bb"], c["K"] = gn["Wv"]["a"], gn["Wv"]["b"], gn["vv"]["1"]
        else:
            c["Dd"] = np.zeros(Nh)  # residual only: the delta term is diagonal in the units
        if self._residual:
            r = residual_sums(act, W, v, Wt, vt, self._teacher_act)
            (_, s_bb), (_, t_bb) = r["bb"]
            c["Rs"], c["Rt"] = v[:, None] * s_bb, v[:, None] * t_bb
            if self._gn:
                c["Dd"][np.diag_indices(Nh)] += v * r["delta"]
            else:
                c["Dd"] = v * r["delta"]
            c["a_res"], c["U"], c["R"] = v * r["aa"], v[:, None] * r["ab"], r["Wv"]
        return c

    def _diagonal(self, W, Wt, c, cov=None) -> np.ndarray:
        r"""Closed-form diagonal of :math:`H` (see the module docstring), float64 NumPy.

        With an input covariance (``W``, ``Wt`` whitened), :math:`J(\cdot)J^\top` turns
        :math:`\delta_{jj}` into :math:`\Sigma_{jj}` and each vector :math:`u` of the block formulas into :math:`Su`.
        """
        Nh, Ni = W.shape
        U_res = c.get("U")
        if cov is not None:
            sd = cov.variances() if getattr(cov, "low_rank", False) else cov.sigma if cov.diagonal else np.diag(cov.sigma)
            W, Wt = cov.place(W), cov.place(Wt)
            U_res = None if U_res is None else cov.place(U_res)
        else:
            sd = np.ones(Ni)
        W2 = W * W
        dd = np.diag(c["Dd"]) if c["Dd"].ndim == 2 else c["Dd"]
        ww = dd[:, None] * sd[None, :]
        vv = np.zeros(Nh)
        if self._gn:
            coef = np.diag(c["Aaa"]) + np.diag(c["Abb"]) + 2 * np.diag(c["Aab"])
            ww += coef[:, None] * W2
            vv = np.diag(c["K"]).copy()
        if self._residual:
            ww += c["a_res"][:, None] * W2 + 2 * W * U_res + c["Rs"] @ W2 + c["Rt"] @ (Wt * Wt)
        return np.concatenate([ww.ravel(), vv])

    def diagonal(self) -> np.ndarray:
        r"""The diagonal :math:`H_{pp}`, shape ``(P,)``, in closed form (no products, NumPy float64).

        .. math::

            H_{(ij),(ij)} = A^{\delta}_{ii} + (A^{aa}_{ii}+A^{bb}_{ii}+2A^{ab}_{ii})W_{ij}^2
              + v_i\Big(\sum_g s_gC^{bb}_{ig}b_{gj}^2 + s^{aa}_iW_{ij}^2 + 2W_{ij}s^{ab}_{ij}
              + s^{\delta}_i\Big),\qquad H_{v_kv_k}=K_{kk}
        """
        return self._diag.copy()

    def trace(self) -> float:
        r"""Exact trace :math:`\operatorname{tr}H=\sum_p H_{pp}` from the closed-form diagonal."""
        return float(self._diag.sum())

    def apply(self, X: Any, y: Any) -> tuple[Any, Any]:
        r"""Batched product on backend arrays: ``X`` of shape ``(k, Nh, Ni)``, ``y`` of shape ``(k, Nh)``.

        Returns ``(Z, z)`` of the same shapes: the ``W`` and ``v`` parts of :math:`H x` for each of the
        ``k`` vectors :math:`x = (\mathrm{vec}X, y)`.
        """
        if self._F is not None:  # J^T x: the W part times F
            X = X * self._F if self._FT is None else X @ self._F
        elif self._LR is not None:  # F = (D^1/2 | U): X F = (X D^1/2 | X U)
            X = self._xp.concat([X * self._LR[0], X @ self._LR[1]], axis=-1)
        if self._vscale is not None:  # rows normalised at construction (positively homogeneous activation)
            Z, z = self._apply(X, y * self._vscale)
            z = z * self._vscale
        else:
            Z, z = self._apply(X, y)
        if self._F is not None:  # J: back by F^T
            Z = Z * self._F if self._FT is None else Z @ self._FT
        elif self._LR is not None:  # Z F^T = Z[:, :Ni] D^1/2 + Z[:, Ni:] U^T
            Z = Z[..., : self.n_in] * self._LR[0] + Z[..., self.n_in :] @ self._LR[2]
        return Z, z

    def _apply(self, X: Any, y: Any) -> tuple[Any, Any]:
        xp, c, W = self._xp, self._c, self._W
        S = W @ _mT(xp, X)  # S[k, i, l] = w_i . X_l
        d = xp.vecdot(W, X, axis=-1)  # d[k, i] = w_i . X_i
        if self._gn:
            M = c["Aab"] * S
            M += c["Abb"] * d[:, None, :]
            M += c["Bb"] * y[:, None, :]
            # row sums as vecdot: no (Nh x Nh) temporary
            coef = xp.vecdot(c["Aaa"], S, axis=-1) + d @ c["AabT"] + y @ _mT(xp, c["Ba"])
            z = d @ c["Ba"] + xp.vecdot(c["BbT"], S, axis=-1) + y @ c["KT"]
            Z = c["Dd"] @ X
        else:
            M = None
            coef = xp.zeros_like(d)
            z = xp.zeros_like(y)
            Z = c["Dd"][:, None] * X
        if self._residual:
            res = c["Rs"] * _mT(xp, S)
            M = res if M is None else M + res
            coef = coef + c["a_res"] * d + xp.vecdot(c["U"], X, axis=-1)
            Z = Z + d[..., None] * c["U"] + y[..., None] * c["R"]
            z = z + xp.vecdot(c["R"], X, axis=-1)
            if self._Wt.shape[0]:
                Z = Z + (c["Rt"] * (X @ self._WtT)) @ self._Wt
        if M is not None:
            Z += M @ W
        Z += coef[..., None] * W
        return Z, z

    def matmat(self, x: Any) -> Any:
        """:math:`H x` for a backend array ``x`` of shape ``(P,)`` or ``(P, k)`` (same shape back)."""
        xp = self._xp
        vec = x.ndim == 1
        X = xp.reshape(x, (self.n_params, 1)) if vec else x
        m, Nh, Ni = self.n_hidden * self.n_in, self.n_hidden, self.n_in
        outs = []
        for k0 in range(0, X.shape[1], self._block):
            cols = X[:, k0 : k0 + self._block]
            k = cols.shape[1]
            XW = xp.reshape(_mT(xp, cols[:m, :]), (k, Nh, Ni))
            Z, z = self.apply(XW, _mT(xp, cols[m:, :]))
            outs.append(xp.concat([_mT(xp, xp.reshape(Z, (k, m))), _mT(xp, z)], axis=0))
        out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=1)
        return xp.reshape(out, (self.n_params,)) if vec else out


class HessianOperator(LinearOperator):
    r"""The expected Hessian as a symmetric SciPy ``LinearOperator`` (matrix-free).

    ``op @ x``, ``op.matvec``, ``op.matmat`` and ``op.T`` behave as for the dense matrix, but each
    product costs :math:`O(N_h^2N_i)` (see :mod:`symhess.two_layer.hvp`). NumPy vectors go in and come
    out whatever the backend; :attr:`product` is the backend-native layer.

    Attributes
    ----------
    product : HessianProduct
        Coefficient matrices on the backend and the batched product.
    """

    def __init__(self, product: HessianProduct, index: np.ndarray | None = None) -> None:
        self.product = product
        self.index = index
        dtype = np.float32 if str(product.backend.dtype).endswith("float32") else np.float64
        n = product.n_params if index is None else len(index)
        super().__init__(dtype=dtype, shape=(n, n))

    @property
    def backend(self) -> ArrayBackend:
        """Where the products run."""
        return self.product.backend

    def _product(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if not np.all(np.isfinite(x)):
            raise NonFiniteError("the vector multiplied by the Hessian has non-finite entries")
        b = self.product.backend
        if self.index is not None:  # frozen groups: embed with zeros, keep the trained rows
            full = np.zeros((self.product.n_params,) + x.shape[1:])
            full[self.index] = x
            return b.to_numpy(self.product.matmat(b.asarray(full)))[self.index].astype(self.dtype, copy=False)
        out = b.to_numpy(self.product.matmat(b.asarray(x)))
        return out.astype(self.dtype, copy=False)

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._product(np.reshape(x, (self.shape[0],)))

    def _matmat(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 2 or X.shape[0] != self.shape[0]:
            raise ShapeError(f"matmat needs shape ({self.shape[0]}, k), got {X.shape}")
        return self._product(X)

    _rmatvec = _matvec  # symmetric
    _rmatmat = _matmat

    def _adjoint(self) -> "HessianOperator":
        return self

    _transpose = _adjoint

    def diagonal(self) -> np.ndarray:
        """Closed-form diagonal, shape ``(P,)`` (see :meth:`HessianProduct.diagonal`); trained entries only."""
        d = self.product.diagonal()
        return d if self.index is None else d[self.index]

    def trace(self) -> float:
        r"""Exact :math:`\operatorname{tr}H` from the closed-form diagonal (of the trained block)."""
        return self.product.trace() if self.index is None else float(self.diagonal().sum())


class OutputsHessianOperator(LinearOperator):
    r"""The expected Hessian of a network with several outputs as a symmetric ``LinearOperator``.

    With :math:`\theta=(\mathrm{vec}W, v_1,\dots,v_{n_{\rm out}})` and :math:`H_o` the one-output
    Hessian of output :math:`o` (its weights :math:`v_o`, teacher :math:`v^\star_o`),
    :math:`\varepsilon=\sum_o\varepsilon_o` gives

    .. math::

        (Hx)_W=\sum_o\big(H_o(X, y_o)\big)_W,\qquad (Hx)_{v_o}=\big(H_o(X, y_o)\big)_{v_o}:

    :math:`n_{\rm out}` one-output products, :math:`O(n_{\rm out}N_h^2N_i)` per vector.

    Attributes
    ----------
    products : list of HessianProduct
        One per output.
    index : ndarray or None
        Trained parameters (``trainable``), or ``None`` for all.
    """

    def __init__(self, products: list[HessianProduct], index: np.ndarray | None = None) -> None:
        self.products = products
        self.index = index
        p0 = products[0]
        self._m, self._Nh = p0.n_hidden * p0.n_in, p0.n_hidden
        self._full = self._m + len(products) * self._Nh
        dtype = np.float32 if str(p0.backend.dtype).endswith("float32") else np.float64
        n = self._full if index is None else len(index)
        super().__init__(dtype=dtype, shape=(n, n))

    def _product(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if not np.all(np.isfinite(x)):
            raise NonFiniteError("the vector multiplied by the Hessian has non-finite entries")
        vec = x.ndim == 1
        X = x[:, None] if vec else x
        if self.index is not None:
            full = np.zeros((self._full, X.shape[1]))
            full[self.index] = X
            X = full
        m, Nh = self._m, self._Nh
        out = np.zeros_like(X)
        for o, p in enumerate(self.products):
            rows = np.r_[0:m, m + o * Nh:m + (o + 1) * Nh]
            b = p.backend
            r = b.to_numpy(p.matmat(b.asarray(np.ascontiguousarray(X[rows]))))
            out[:m] += r[:m]
            out[m + o * Nh:m + (o + 1) * Nh] = r[m:]
        if self.index is not None:
            out = out[self.index]
        out = out.astype(self.dtype, copy=False)
        return out[:, 0] if vec else out

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._product(np.reshape(x, (self.shape[0],)))

    def _matmat(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 2 or X.shape[0] != self.shape[0]:
            raise ShapeError(f"matmat needs shape ({self.shape[0]}, k), got {X.shape}")
        return self._product(X)

    _rmatvec = _matvec
    _rmatmat = _matmat

    def _adjoint(self) -> "OutputsHessianOperator":
        return self

    _transpose = _adjoint

    def diagonal(self) -> np.ndarray:
        """Closed-form diagonal: the ``W`` part summed over the outputs, each output's ``v`` part its own."""
        ds = [p.diagonal() for p in self.products]
        d = np.concatenate([sum(di[:self._m] for di in ds)] + [di[self._m:] for di in ds])
        return d if self.index is None else d[self.index]

    def trace(self) -> float:
        r"""Exact :math:`\operatorname{tr}H` from the closed-form diagonal."""
        return float(self.diagonal().sum())


def hessian_operator(
    act: ActivationLike,
    W: Any,
    v: Any,
    W_teacher: Any = None,
    v_teacher: Any = None,
    *,
    part: str = "full",
    backend: str | ArrayBackend = "numpy",
    dtype: str = "float64",
    max_bytes: int | None = None,
    input_cov: Any = None,
    trainable: tuple[str, ...] | None = None,
    teacher_activation: ActivationLike | None = None,
    b: Any = None,
    b_out: Any = None,
    b_teacher: Any = None,
    b_out_teacher: Any = None,
) -> HessianOperator:
    r"""The expected Hessian of the population loss as a matrix-free ``LinearOperator``.

    .. math::

        H x = E_x[\nabla_\theta f\,(\nabla_\theta f^\top x)] + E_x[(f_\theta - f_{\theta^\star})\,
        \nabla^2_\theta f\,x],\qquad x\sim N(0, I_{N_i}),

    computed from the per-pair coefficient matrices (:mod:`symhess.two_layer.hvp`) in
    :math:`O(N_h^2N_i)` time and :math:`O(N_h^2+N_hN_i)` memory, never forming the
    :math:`P\times P` matrix (:math:`P=N_hN_i+N_h`). Equal to ``expected_hessian(...) @ x`` to rounding.

    Parameters
    ----------
    act : str or Activation
        Activation (``"erf"``, ``"quadratic:eps=0.5"``, ...). Closed-form kernels (polynomials, erf,
        ReLU) are cheap to set up for large :math:`N_h`; ``"tanh"`` uses quadrature per pair.
    W : array_like, shape (Nh, Ni)
        Student first-layer weights.
    v : array_like, shape (Nh,) or (n_out, Nh)
        Student output weights; 2-D: several outputs (an :class:`OutputsHessianOperator`, one
        one-output product per output).
    W_teacher, v_teacher : array_like, optional
        Teacher weights; omitted, the student is at the optimum (no residual part).
    part : {"full", "gauss_newton", "residual"}
        Which part of the Hessian.
    backend : str
        Array backend of the products: ``"numpy"`` (default), ``"torch"``, ``"torch:cuda"``,
        ``"cupy"``, ``"jax"`` (:mod:`symhess.kernels.backend`).
    dtype : {"float64", "float32"}
        Floating type on the backend (float32 halves memory and is faster on GPUs, at
        :math:`\sim 10^{-7}` relative accuracy).
    max_bytes : int, optional
        Memory budget for the coefficient matrices.
    input_cov : array_like, optional
        Input covariance :math:`\Sigma` of :math:`x\sim N(0,\Sigma)` (``(Ni, Ni)`` symmetric PSD, or its
        diagonal ``(Ni,)``): :math:`Hx=J H_I(W\Sigma^{1/2},v)J^\top x`, cost
        :math:`O(N_h^2N_i+N_hN_i^2)` (:math:`O(N_h^2N_i)` for a diagonal :math:`\Sigma`).
    trainable : tuple of str, optional
        Trained groups, a subset of ``("W", "v")``: the operator acts on those parameters only (the
        principal submatrix of the full Hessian).
    teacher_activation : str or Activation, optional
        The teacher's activation when it differs from the student's (as for :func:`symhess.expected_hessian`).
    b, b_out, b_teacher, b_out_teacher : array_like or float, optional
        Hidden and output biases (as for :func:`symhess.expected_hessian`): a
        :class:`~symhess.two_layer.biases.BiasedHessianOperator` on :math:`(W, v, b, b_{\rm out})`, NumPy
        only, :math:`O(N_h^2(N_i+n_{\rm out}))` per product from the pair expectations with means.

    Returns
    -------
    HessianOperator
        Symmetric ``LinearOperator`` of shape ``(P, P)`` with ``matvec``, ``matmat``, ``diagonal()``
        and ``trace()``; parameters ordered :math:`(W\text{ row-major}, v)`.

    Examples
    --------
    >>> import numpy as np, symhess
    >>> W, v = symhess.teacher(n_in=4, n_hidden=3, rng=0)
    >>> op = symhess.hessian_operator("erf", W, v)
    >>> x = np.random.default_rng(1).standard_normal(op.shape[0])
    >>> bool(np.allclose(op @ x, symhess.expected_hessian("erf", W, v) @ x))
    True
    """
    from .biases import BiasedHessianOperator, biased_network, has_biases

    if has_biases(b, b_out, b_teacher, b_out_teacher):
        if not (isinstance(backend, str) and backend == "numpy") or dtype != "float64":
            raise InvalidParameterError(
                f"with biases the operator runs on NumPy in float64; got backend={backend!r}, dtype={dtype!r}"
            )
        net = biased_network(act, W, v, b=b, b_out=b_out, W_teacher=W_teacher, v_teacher=v_teacher, b_teacher=b_teacher,
                             b_out_teacher=b_out_teacher, input_cov=input_cov, trainable=trainable,
                             teacher_activation=teacher_activation)
        return BiasedHessianOperator(net, part)
    groups = as_trainable(trainable)
    if np.ndim(v) == 2:  # several outputs: one one-output product per output
        W, V, Wt, Vt = multi_output(W, v, W_teacher, v_teacher)
        products = [HessianProduct(
            act, W, V[o], W_teacher=Wt, v_teacher=None if Vt is None else Vt[o], part=part, backend=backend,
            dtype=dtype, max_bytes=max_bytes, input_cov=input_cov, teacher_activation=teacher_activation,
        ) for o in range(V.shape[0])]
        return OutputsHessianOperator(products, trainable_index(groups, W.shape[0], W.shape[1], V.shape[0]))
    product = HessianProduct(
        act, W, v, W_teacher=W_teacher, v_teacher=v_teacher, part=part, backend=backend, dtype=dtype,
        max_bytes=max_bytes, input_cov=input_cov, teacher_activation=teacher_activation,
    )
    return HessianOperator(product, trainable_index(groups, product.n_hidden, product.n_in))
