r"""Online SGD in high dimensions: the order-parameter equations (Saad & Solla; Goldt et al.).

Place in the package: the two-layer teacher-student family (NumPy and SciPy at run time; the pair
and four-point kernels are compiled once per activation).

**Setting.** Student :math:`f(x)=\sum_{i\le N_h} v_i\sigma(w_i\cdot x)`, teacher
:math:`f^*(x)=\sum_{n\le N_t} v^*_n\sigma^*(w^*_n\cdot x)` (:math:`\sigma^*=\sigma` unless
``teacher_activation`` is given; below, :math:`\sigma_\alpha` is the activation of unit :math:`\alpha`),
one fresh sample :math:`x\sim N(0,I_{N_i})` per step, labels :math:`y=f^*(x)+\zeta` with :math:`E\zeta^2=` ``noise``, and steps

.. math::

    w_i \leftarrow w_i - \frac{\eta}{N_i}\,e\,v_i\sigma'(\lambda_i)\,x,\qquad
    v_i \leftarrow v_i - \frac{\eta_v}{N_i}\,e\,\sigma(\lambda_i),\qquad e = f(x)-y,

with time :math:`t=\text{steps}/N_i`. Pre-activations :math:`\lambda_i=w_i\cdot x` are
:math:`O(1)` (symhess's weight scale: nn2pp's weights :math:`w` map to :math:`W=w/\sqrt N`).

**Equations.** Write the student and teacher units as one list :math:`u_\alpha` with output weights
:math:`a=(v,-v^*)` and overlaps :math:`C_{\alpha\beta}=u_\alpha\cdot u_\beta`, i.e.
:math:`C=[[Q,R],[R^\top,T]]`. Stein's lemma puts the population gradient in the span of the units,
:math:`E[e\,v_i\sigma'(\lambda_i)x]=\sum_\beta M_{i\beta}u_\beta` with

.. math::

    M_{i\beta} = v_i\Big(a_\beta\,K_{11}(i,\beta)
        + \delta_{i\beta}\sum_\gamma a_\gamma K_{20}(i,\gamma)\Big),
    \qquad K_{ab}(\alpha,\beta)=E[\sigma_\alpha^{(a)}(\lambda_\alpha)\sigma_\beta^{(b)}(\lambda_\beta)],

so that, with :math:`D=MC`, in the limit :math:`N_i\to\infty` at fixed :math:`N_h, N_t`,

.. math::

    \dot R = -\eta\,D_{:,\text{teacher}},\qquad
    \dot Q = -\eta\,(D_{:,\text{student}} + D_{:,\text{student}}^\top)
        + \eta^2 v_iv_k\Big(\sum_{\gamma\delta}a_\gamma a_\delta I_4(i,k,\gamma,\delta)
        + \text{noise}\,K_{11}(i,k)\Big),\qquad
    \dot v_i = -\eta_v\sum_\gamma a_\gamma K_{00}(i,\gamma),

where :math:`I_4(i,k,\gamma,\delta)=E[\sigma'(\lambda_i)\sigma'(\lambda_k)\sigma(\lambda_\gamma)
\sigma(\lambda_\delta)]` (the term of order :math:`\eta^2` comes from
:math:`\Delta w_i\cdot\Delta w_k`, with :math:`\|x\|^2/N_i\to1`). The generalisation error is
:math:`\varepsilon_g=\frac12 a^\top K_{00}a`. The terms of first order are exactly the population
gradient flow :math:`\dot W=-\eta\nabla_W\varepsilon`, :math:`\dot v=-\eta_v\nabla_v\varepsilon`
written in the overlaps, at every :math:`N_i`.

References
----------
D. Saad and S. A. Solla, "On-line learning in soft committee machines", Phys. Rev. E 52, 4225 (1995).
S. Goldt, M. S. Advani, A. M. Saxe, F. Krzakala and L. Zdeborová, "Dynamics of stochastic gradient
descent for two-layer neural networks in the teacher-student setup", NeurIPS 2019.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.integrate import solve_ivp

from ..activations import Activation, ActivationLike, activation as get_activation
from ..errors import InvalidParameterError, InvalidTypeError, NoClosedFormError, NonFiniteError, ShapeError
from ..kernels.codegen import (compile_cross_four_point_kernel, compile_cross_pair_kernel,
                               compile_four_point_kernel, compile_pair_kernel, compile_single_kernel)
from ..kernels.four_point_quadrature import gaussian_cross_pair_quadrature, gaussian_four_point_quadrature
from ..validation import as_positive, as_rng, as_weights

__all__ = [
    "OnlineTrajectory", "OrderParameterODE", "online_sgd_ode", "online_sgd_simulation",
    "order_parameters", "Linearisation", "linearise_at_teacher",
]

_PAIR_KEYS = ((0, 0), (1, 1), (2, 0))
_SINGLE_KEYS = ((0, 0, 0), (1, 1, 0), (2, 0, 0))
_FOUR_KEYS = ((1, 1, 0, 0),)


def _cross_kernel(act1: Activation, act2: Activation, keys):
    r"""``(q1, q2, c) -> {(a, b): E[act1^(a)(u) act2^(b)(v)]}``: the closed form where one is known
    (:func:`~symhess.expectation.pairs.cross_pair_expectation`), else the numeric cross-pair quadrature."""
    try:
        return compile_cross_pair_kernel(act1, act2, tuple(keys))
    except NoClosedFormError:
        act1.require_numeric()
        act2.require_numeric()

        def numeric(q1, q2, c):
            return {(a, b): gaussian_cross_pair_quadrature(act1, a, act2, b, q1, q2, c) for a, b in keys}

        return numeric


def order_parameters(W: np.ndarray, W_teacher: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The overlaps :math:`Q=WW^\top`, :math:`R=WW^{*\top}`, :math:`T=W^*W^{*\top}`."""
    return W @ W.T, W @ W_teacher.T, W_teacher @ W_teacher.T


@dataclass
class OrderParameterODE:
    r"""Right-hand side of the order-parameter equations for one activation and teacher.

    The state is :math:`(Q_{\text{upper}}, R, v)`: the upper triangle of :math:`Q` row by row, then
    :math:`R` row-major, then :math:`v` (left out when ``train_v`` is False).

    Parameters
    ----------
    act : Activation
        Student and teacher activation.
    T : ndarray, shape (Nt, Nt)
        Teacher overlaps :math:`T = W^*W^{*\top}`.
    v_teacher : ndarray, shape (Nt,)
        Teacher output weights.
    n_hidden : int
        Student width :math:`N_h`.
    lr, lr_v : float
        Learning rates :math:`\eta`, :math:`\eta_v` (in units of :math:`1/N_i` per step).
    train_v : bool
        Whether :math:`v` is trained.
    noise : float
        Label-noise variance.
    second_order : bool
        Keep the :math:`\eta^2` term (needs :math:`I_4`; exact for :math:`\eta\to0` without it).
    v_fixed : ndarray, optional
        The output weights when they are not trained.
    teacher_act : Activation, optional
        The teacher's activation :math:`\sigma^*` when it differs from the student's: pair terms between
        a student and a teacher unit are cross expectations :math:`E[\sigma^{(a)}\sigma^{*(b)}]` (closed
        forms where known, else quadrature), and :math:`I_4` has :math:`\sigma^*` on teacher arguments
        (closed form for erf at two scales and for polynomials, else quadrature).
    """

    act: Activation
    T: np.ndarray
    v_teacher: np.ndarray
    n_hidden: int
    lr: float
    lr_v: float
    train_v: bool = True
    noise: float = 0.0
    second_order: bool = True
    v_fixed: np.ndarray | None = None
    teacher_act: Activation | None = None
    _iu: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        nh, n = self.n_hidden, self.n_hidden + self.n_teacher
        self._iu = np.triu_indices(nh)
        self._pair = compile_pair_kernel(self.act, _PAIR_KEYS)
        self._single = compile_single_kernel(self.act, _SINGLE_KEYS)
        self._four = compile_four_point_kernel(self.act, _FOUR_KEYS) if self.second_order else None
        self.mixed = self.teacher_act is not None and self.teacher_act != self.act
        if self.mixed:
            tact = self.teacher_act
            self._tpair = compile_pair_kernel(tact, _PAIR_KEYS)
            self._tsingle = compile_single_kernel(tact, _SINGLE_KEYS)
            self._cross = _cross_kernel(self.act, tact, _PAIR_KEYS)
            self._cross_back = _cross_kernel(tact, self.act, ((2, 0),))
            # I4 of the quadruples (student, student, g, d) by the kind of g and d (teacher or not):
            # closed form where one is known (erf at any scales, polynomials), else numeric
            self._mixed_four = {}
            if self.second_order:
                for tg in (False, True):
                    for td in (False, True):
                        acts = (self.act, self.act, (self.act, tact)[tg], (self.act, tact)[td])
                        try:
                            self._mixed_four[tg, td] = compile_cross_four_point_kernel(acts, _FOUR_KEYS)
                        except NoClosedFormError:
                            self._mixed_four[tg, td] = None
                if any(k is None for k in self._mixed_four.values()):
                    compile_four_point_kernel(tact, _FOUR_KEYS)   # refuses a kinked teacher activation clearly
        # index quadruples (i <= k students, g <= d all units) of the second-order term, as flat
        # indices into the overlap matrix, in the argument order of the four-point kernel
        i, k = self._iu
        g, d = np.triu_indices(n)
        I, K = np.repeat(i, g.size), np.repeat(k, g.size)
        G, D = np.tile(g, i.size), np.tile(d, i.size)
        self._four_index = [a * n + b for a, b in ((I, I), (K, K), (G, G), (D, D), (I, K), (I, G), (I, D),
                                                   (K, G), (K, D), (G, D))]
        self._gd = (g, d, np.where(g == d, 1.0, 2.0))

    # -- state packing ------------------------------------------------------------------------
    @property
    def n_teacher(self) -> int:
        return self.T.shape[0]

    def pack(self, Q: np.ndarray, R: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The state vector of ``(Q, R, v)`` (a leading batch axis on all three gives states as columns)."""
        Q, R, v = np.asarray(Q, float), np.asarray(R, float), np.asarray(v, float)
        batch = Q.shape[:-2]
        parts = [Q[..., self._iu[0], self._iu[1]], R.reshape(batch + (-1,))]
        if self.train_v:
            parts.append(v)
        out = np.concatenate(parts, axis=-1)
        return out.T if batch else out

    def unpack(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(Q, R, v)`` from a state vector, or from states as the columns of a 2-D array (batch first)."""
        y = np.asarray(y, dtype=float)
        batch = y.ndim == 2
        Y = y.T if batch else y[None, :]
        nh, nt = self.n_hidden, self.n_teacher
        n_q = nh * (nh + 1) // 2
        Q = np.zeros((Y.shape[0], nh, nh))
        Q[:, self._iu[0], self._iu[1]] = Y[:, :n_q]
        Q = Q + np.triu(Q, 1).transpose(0, 2, 1)
        R = Y[:, n_q:n_q + nh * nt].reshape(-1, nh, nt)
        v = Y[:, n_q + nh * nt:] if self.train_v else np.broadcast_to(self.v_fixed, (Y.shape[0], nh))
        if batch:
            return Q, R, np.asarray(v, dtype=float)
        return Q[0], R[0], np.asarray(v[0], dtype=float)

    # -- kernels on the overlap matrix --------------------------------------------------------
    def _overlaps(self, Q, R) -> np.ndarray:
        T = np.broadcast_to(self.T, Q.shape[:-2] + self.T.shape)
        return np.concatenate([np.concatenate([Q, R], -1), np.concatenate([np.swapaxes(R, -1, -2), T], -1)], -2)

    def _pair_matrices(self, C: np.ndarray) -> dict:
        if self.mixed:
            return self._mixed_pair_matrices(C)
        d = np.diagonal(C, axis1=-2, axis2=-1)
        K = self._pair(d[..., :, None], d[..., None, :], C)
        D = self._single(d)
        n = C.shape[-1]
        out = {}
        for (a, b), (a2, b2, _) in zip(_PAIR_KEYS, _SINGLE_KEYS):
            M = np.array(K[(a, b)], dtype=float)
            M[..., np.arange(n), np.arange(n)] = D[(a2, b2, 0)]
            out[(a, b)] = M
        return out

    def _mixed_pair_matrices(self, C: np.ndarray) -> dict:
        r"""Pair matrices :math:`E[\sigma_\alpha^{(a)}(\lambda_\alpha)\sigma_\beta^{(b)}(\lambda_\beta)]` with the
        student's activation on student units and the teacher's on teacher units, block by block."""
        nh, n = self.n_hidden, C.shape[-1]
        d = np.diagonal(C, axis1=-2, axis2=-1)
        S, T = slice(0, nh), slice(nh, n)
        blocks = [
            (S, S, self._pair(d[..., S, None], d[..., None, S], C[..., S, S])),
            (T, T, self._tpair(d[..., T, None], d[..., None, T], C[..., T, T])),
            (S, T, self._cross(d[..., S, None], d[..., None, T], C[..., S, T])),
        ]
        back = self._cross_back(d[..., T, None], d[..., None, S], C[..., T, S])
        single = [(S, self._single(d[..., S])), (T, self._tsingle(d[..., T]))]
        out = {}
        for (a, b), (a2, b2, _) in zip(_PAIR_KEYS, _SINGLE_KEYS):
            M = np.empty(C.shape)
            for r, c, K in blocks:
                M[..., r, c] = np.broadcast_to(K[(a, b)], M[..., r, c].shape)
            M[..., T, S] = (np.swapaxes(M[..., S, T], -1, -2) if a == b
                            else np.broadcast_to(back[(a, b)], M[..., T, S].shape))
            for blk, D in single:
                idx = np.arange(blk.start, blk.stop)
                M[..., idx, idx] = D[(a2, b2, 0)]
            out[(a, b)] = M
        return out

    def generalisation_error(self, Q, R, v) -> float | np.ndarray:
        r""":math:`\varepsilon_g = \frac12 E[(f-f^*)^2] = \frac12 a^\top K_{00} a` (batched over leading axes)."""
        C = self._overlaps(np.asarray(Q, float), np.asarray(R, float))
        v = np.asarray(v, float)
        a = np.concatenate([v, np.broadcast_to(-self.v_teacher, v.shape[:-1] + self.v_teacher.shape)], -1)
        K00 = self._pair_matrices(C)[(0, 0)]
        out = 0.5 * np.einsum("...a,...ab,...b->...", a, K00, a)
        return float(out) if out.ndim == 0 else out

    def rounding_bound(self, Q, R, v) -> float | np.ndarray:
        r"""Absolute rounding-error bound of :meth:`generalisation_error`:
        :math:`4(n+2)u\cdot\frac12\sum_{\alpha\beta}|a_\alpha K_{\alpha\beta}a_\beta|` (u the unit roundoff,
        n the number of units; the kernels are taken accurate to a few ulps). Near the optimum the
        quadratic form cancels, and values below this bound are rounding, not loss."""
        C = self._overlaps(np.asarray(Q, float), np.asarray(R, float))
        v = np.asarray(v, float)
        a = np.abs(np.concatenate([v, np.broadcast_to(-self.v_teacher, v.shape[:-1] + self.v_teacher.shape)], -1))
        K00 = np.abs(self._pair_matrices(C)[(0, 0)])
        n = C.shape[-1]
        out = 4 * (n + 2) * np.finfo(float).eps * 0.5 * np.einsum("...a,...ab,...b->...", a, K00, a)
        return float(out) if out.ndim == 0 else out

    def gradient_coefficients(self, Q, R, v) -> tuple[np.ndarray, np.ndarray, dict]:
        r"""``M`` (population gradient of :math:`w_i` is :math:`\sum_\beta M_{i\beta}u_\beta`), ``a`` and the kernels."""
        nh = self.n_hidden
        C = self._overlaps(Q, R)
        a = np.concatenate([v, np.broadcast_to(-self.v_teacher, v.shape[:-1] + self.v_teacher.shape)], -1)
        K = self._pair_matrices(C)
        M = v[..., :, None] * (a[..., None, :] * K[(1, 1)][..., :nh, :])
        M[..., np.arange(nh), np.arange(nh)] += v * np.einsum("...ib,...b->...i", K[(2, 0)][..., :nh, :], a)
        return M, a, K | {"C": C}

    def second_order_term(self, C: np.ndarray, a: np.ndarray, v: np.ndarray) -> np.ndarray:
        r""":math:`v_iv_k\sum_{\gamma\delta}a_\gamma a_\delta I_4(i,k,\gamma,\delta)` for all ``i, k`` (batched)."""
        nh = self.n_hidden
        flat = C.reshape(C.shape[:-2] + (-1,))
        if self.mixed:
            i4 = self._mixed_i4(flat)
        else:
            i4 = self._four(*(flat[..., idx] for idx in self._four_index))[_FOUR_KEYS[0]]
        i, k = self._iu
        g, d, mult = self._gd
        i4 = i4.reshape(C.shape[:-2] + (i.size, g.size))
        weight = a[..., g] * a[..., d] * mult
        upper = v[..., i] * v[..., k] * np.einsum("...ab,...b->...a", i4, weight)
        out = np.zeros(C.shape[:-2] + (nh, nh))
        out[..., i, k] = upper
        return out + np.swapaxes(np.triu(out, 1), -1, -2)

    @property
    def i4_route(self) -> str | None:
        """How :math:`I_4` is computed: ``"closed form"``, ``"quadrature"``, ``"closed form and quadrature"``
        (a teacher with another activation, some argument combinations numeric), or ``None`` (no
        second-order term)."""
        if not self.second_order:
            return None
        if not self.mixed:
            return "quadrature" if self._four.source.startswith("# gaussian_four_point_quadrature") else "closed form"
        closed = {k is not None for k in self._mixed_four.values()}
        return {frozenset({True}): "closed form", frozenset({False}): "quadrature"}.get(
            frozenset(closed), "closed form and quadrature")

    def _mixed_i4(self, flat: np.ndarray) -> np.ndarray:
        """I4 of every quadruple with the teacher's activation on teacher arguments (closed form where
        known for the combination of activations, else numeric)."""
        nh = self.n_hidden
        args = [flat[..., idx] for idx in self._four_index]
        c11, c22, c33, c44, c12, c13, c14, c23, c24, c34 = args
        g, d, _ = self._gd
        G, D = np.tile(g, self._iu[0].size), np.tile(d, self._iu[0].size)
        out = np.empty(flat.shape[:-1] + (G.size,))
        acts = (self.act, self.teacher_act)
        C4 = None
        for tg in (False, True):
            for td in (False, True):
                cols = np.nonzero(((G >= nh) == tg) & ((D >= nh) == td))[0]
                if not cols.size:
                    continue
                kernel = self._mixed_four[tg, td]
                if kernel is not None:
                    out[..., cols] = kernel(*(x[..., cols] for x in args))[_FOUR_KEYS[0]]
                    continue
                if C4 is None:
                    C4 = np.stack([np.stack([c11, c12, c13, c14], -1), np.stack([c12, c22, c23, c24], -1),
                                   np.stack([c13, c23, c33, c34], -1), np.stack([c14, c24, c34, c44], -1)], -2)
                out[..., cols] = gaussian_four_point_quadrature(
                    self.act, _FOUR_KEYS[0], C4[..., cols, :, :],
                    acts=(self.act, self.act, acts[tg], acts[td]))
        return out

    def rhs(self, y: np.ndarray, *, second_order: bool | None = None) -> np.ndarray:
        r"""Time derivative of the state (of each column, for a 2-D array of states).

        ``second_order=False`` leaves out the term of order :math:`\eta^2` (default: as configured).
        """
        second_order = self.second_order if second_order is None else second_order
        nh = self.n_hidden
        Q, R, v = self.unpack(y)
        M, a, K = self.gradient_coefficients(Q, R, v)
        C = K["C"]
        Dm = M @ C
        dQ = -self.lr * (Dm[..., :nh] + np.swapaxes(Dm[..., :nh], -1, -2))
        if second_order:
            dQ = dQ + self.lr**2 * self.second_order_term(C, a, v)
        if self.noise:
            dQ = dQ + self.lr**2 * self.noise * v[..., :, None] * v[..., None, :] * K[(1, 1)][..., :nh, :nh]
        dR = -self.lr * Dm[..., nh:]
        dv = -self.lr_v * np.einsum("...ib,...b->...i", K[(0, 0)][..., :nh, :], a)
        return self.pack(dQ, dR, dv)

    def jacobian(self, y: np.ndarray, step: float = 1e-6, *, second_order: bool | None = None) -> np.ndarray:
        """Jacobian of :meth:`rhs` by central differences (relative step ``step``), in one batched call."""
        y = np.asarray(y, dtype=float)
        h = step * np.maximum(1.0, np.abs(y))
        E = np.diag(h)
        F = self.rhs(np.concatenate([y[:, None] + E, y[:, None] - E], axis=1), second_order=second_order)
        return (F[:, :y.size] - F[:, y.size:]) / (2 * h)


@dataclass(frozen=True)
class OnlineTrajectory:
    r"""Order parameters along online SGD (the ODE limit, or a simulation at finite :math:`N_i`).

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times :math:`t = \text{steps}/N_i`.
    loss : ndarray, shape (n_t,)
        Generalisation error :math:`\varepsilon_g(t)=\frac12E[(f-f^*)^2]` (without the label noise).
    loss_atol : ndarray, shape (n_t,)
        Absolute error of ``loss``: the rounding bound of :meth:`OrderParameterODE.rounding_bound`
        (near the teacher the quadratic form cancels) plus, for the equations, the integrator's
        tolerance on the overlaps propagated to the loss (an estimate, with a safety factor 10; NaN
        for the fixed-step integrator, which controls no error). A loss below ``loss_atol`` is zero
        to that accuracy.
    Q, R : ndarray, shapes (n_t, Nh, Nh), (n_t, Nh, Nt)
        Student-student and student-teacher overlaps.
    T : ndarray, shape (Nt, Nt)
        Teacher overlaps (constant).
    v : ndarray, shape (n_t, Nh)
        Student output weights.
    method : str
        ``"ode"`` or ``"simulation (N_i = ...)"``.
    """

    t: np.ndarray
    loss: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    T: np.ndarray
    v: np.ndarray
    method: str
    loss_atol: np.ndarray

    @cached_property
    def final_loss(self) -> float:
        """:math:`\\varepsilon_g` at the last time."""
        return float(self.loss[-1])


def _setup(act, W0, v0, W_teacher, v_teacher, lr, lr_v, noise, teacher_activation=None):
    act = get_activation(act)
    tact = act if teacher_activation is None else get_activation(teacher_activation)
    W0, v0 = as_weights(W0, v0, name="student ")
    Wt, vt = as_weights(W_teacher, v_teacher, name="teacher ")
    if Wt.shape[1] != W0.shape[1]:
        raise ShapeError(f"teacher input dimension {Wt.shape[1]} differs from the student's {W0.shape[1]}")
    lr = as_positive(lr, "lr")
    lr_v = lr if lr_v is None else as_positive(lr_v, "lr_v", allow_zero=True)
    noise = as_positive(noise, "noise", allow_zero=True)
    return act, W0, v0, Wt, vt, lr, lr_v, noise, tact


def _default_times(t_max: float, n: int = 300) -> np.ndarray:
    start = min(1e-2, t_max / 100)
    return np.concatenate([[0.0], np.geomspace(start, t_max, n - 1)])


def online_sgd_ode(
    act: ActivationLike,
    W0: np.ndarray,
    v0: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    lr: float,
    t_max: float,
    *,
    lr_v: float | None = None,
    train_v: bool = True,
    noise: float = 0.0,
    dt: float | None = None,
    second_order: bool = True,
    times: np.ndarray | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    teacher_activation: ActivationLike | None = None,
) -> OnlineTrajectory:
    r"""Integrate the order-parameter equations of online SGD (the limit :math:`N_i\to\infty`).

    The initial overlaps are those of ``W0`` and ``W_teacher``; the equations are in the module
    docstring (:mod:`symhess.two_layer.online`).

    Parameters
    ----------
    act : str or Activation
        Activation of student and teacher. The term of order :math:`\eta^2` needs the four-point
        expectation :math:`I_4`: in closed form for erf and polynomials, numerically (with an error
        estimate, about 40 ms per right-hand side for :math:`N_h=N_t=3`) for other smooth activations.
    W0, v0 : array_like, shapes (Nh, Ni), (Nh,)
        Initial student.
    W_teacher, v_teacher : array_like, shapes (Nt, Ni), (Nt,)
        Teacher; ``Nt`` may differ from ``Nh``.
    lr : float
        Learning rate :math:`\eta` of the first layer (steps of :math:`\eta/N_i`).
    t_max : float
        Final time :math:`t = \text{steps}/N_i`.
    lr_v : float, optional
        Learning rate of the second layer (default ``lr``).
    train_v : bool
        Train the output weights.
    noise : float
        Label-noise variance.
    dt : float, optional
        Fixed step of a classical Runge-Kutta (order 4) integration. Default: adaptive LSODA with
        tolerances ``rtol``, ``atol`` (the equations are stiff near the fixed point: rates span
        :math:`\eta\lambda_{\min}` to :math:`\eta\lambda_{\max}`), its Newton matrix the batched
        finite-difference Jacobian of the first-order terms.
    second_order : bool
        Keep the term of order :math:`\eta^2` (default). Without it the equations are population
        gradient flow in the overlaps.
    times : array_like, optional
        Output times (default: 0 and 299 points log-spaced up to ``t_max``).
    teacher_activation : str or Activation, optional
        The teacher's activation :math:`\sigma^*` (default: ``act``). Student-teacher pair terms are then
        cross expectations (closed forms for two erf scales and for polynomials, quadrature otherwise)
        and :math:`I_4` carries :math:`\sigma^*` on teacher arguments: in closed form when student and
        teacher are erf at any two scales (the unit-scale formula at the rescaled covariance) or both
        polynomials (:func:`~symhess.expectation.four_point.cross_four_point_expectation`), else integrated
        numerically (``OrderParameterODE.i4_route`` says which).

    Returns
    -------
    OnlineTrajectory

    Raises
    ------
    NoClosedFormError
        If ``second_order`` and the activation has no closed-form :math:`I_4` and is not smooth (ReLU).
    SymhessAccuracyError
        If the numeric :math:`I_4` misses its accuracy (large variances).

    Examples
    --------
    >>> import symhess
    >>> Wt, vt = symhess.teacher(100, 2, rng=0)
    >>> W0, v0 = symhess.teacher(100, 2, rng=1)
    >>> traj = symhess.online_sgd_ode("erf", W0, v0, Wt, vt, lr=0.5, t_max=50.0)
    >>> bool(traj.loss[-1] < traj.loss[0])
    True
    """
    act, W0, v0, Wt, vt, lr, lr_v, noise, tact = _setup(act, W0, v0, W_teacher, v_teacher, lr, lr_v, noise,
                                                        teacher_activation)
    t_max = as_positive(t_max, "t_max")
    Q0, R0, T = order_parameters(W0, Wt)
    ode = OrderParameterODE(act, T, vt, W0.shape[0], lr, lr_v, train_v, noise, second_order,
                            v_fixed=None if train_v else v0, teacher_act=tact)
    t_eval = _default_times(t_max) if times is None else np.asarray(times, dtype=float)
    if t_eval.ndim != 1 or t_eval.size == 0 or np.any(np.diff(t_eval) < 0) or t_eval[0] < 0 or t_eval[-1] > t_max:
        raise InvalidParameterError("times must be a nondecreasing 1-D array within [0, t_max]")
    y0 = ode.pack(Q0, R0, v0)
    if dt is None:
        sol = solve_ivp(lambda _t, y: ode.rhs(y), (0.0, t_max), y0, method="LSODA", t_eval=t_eval,
                        rtol=rtol, atol=atol, jac=lambda _t, y: ode.jacobian(y, second_order=False))
        if not sol.success:
            raise ArithmeticError(f"the ODE integration failed at t = {sol.t[-1] if sol.t.size else 0}: {sol.message}")
        ys = sol.y.T
    else:
        ys = _rk4(ode.rhs, y0, t_eval, as_positive(dt, "dt"))
    if not np.all(np.isfinite(ys)):
        raise NonFiniteError(
            f"the order parameters diverged (lr={lr} is beyond the stable range for this teacher); "
            "lower the learning rate"
        )
    Qs, Rs, vs = ode.unpack(ys.T)
    # error estimate: rounding, plus the integrator's tolerance on the overlaps propagated to the loss
    # through Price's theorem (d K_00 / d C = K_11), with a safety factor 10 for accumulated error
    C = ode._overlaps(Qs, Rs)
    a = np.abs(np.concatenate([vs, np.broadcast_to(-vt, vs.shape[:-1] + vt.shape)], -1))
    K11 = np.abs(ode._pair_matrices(C)[(1, 1)])
    tol = rtol * np.abs(C).max(axis=(-1, -2)) + atol if dt is None else np.full(len(C), np.nan)
    atol_loss = ode.rounding_bound(Qs, Rs, vs) + 10 * 0.5 * np.einsum("...a,...ab,...b->...", a, K11, a) * tol
    return OnlineTrajectory(t_eval, ode.generalisation_error(Qs, Rs, vs), Qs, Rs, T, vs, "ode", atol_loss)


def _rk4(f, y0: np.ndarray, t_eval: np.ndarray, dt: float) -> np.ndarray:
    out = np.empty((t_eval.size, y0.size))
    y, t = y0.copy(), 0.0
    for n, target in enumerate(t_eval):
        while t < target - 1e-12 * max(1.0, target):
            h = min(dt, target - t)
            k1 = f(y)
            k2 = f(y + h / 2 * k1)
            k3 = f(y + h / 2 * k2)
            k4 = f(y + h * k3)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t += h
        out[n] = y
    return out


def online_sgd_simulation(
    act: ActivationLike,
    W0: np.ndarray,
    v0: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    lr: float,
    t_max: float,
    *,
    lr_v: float | None = None,
    train_v: bool = True,
    noise: float = 0.0,
    times: np.ndarray | None = None,
    rng: object = None,
    teacher_activation: ActivationLike | None = None,
) -> OnlineTrajectory:
    r"""Run online SGD at the finite input dimension :math:`N_i` of ``W0`` (one fresh sample per step).

    The same conventions as :func:`online_sgd_ode`; ``round(t * N_i)`` steps reach time ``t``. The
    recorded ``loss`` is the exact generalisation error of the current weights (closed-form pair
    kernels), so the only randomness is that of the SGD trajectory itself. ``teacher_activation``: the
    teacher's activation (default ``act``).
    """
    act, W, v, Wt, vt, lr, lr_v, noise, tact = _setup(act, W0, v0, W_teacher, v_teacher, lr, lr_v, noise,
                                                      teacher_activation)
    W, v = W.copy(), v.copy()
    t_max = as_positive(t_max, "t_max")
    rng = as_rng(rng)
    n_in = W.shape[1]
    t_eval = _default_times(t_max, 60) if times is None else np.asarray(times, dtype=float)
    steps_at = np.round(t_eval * n_in).astype(np.int64)
    s0, s1, t0 = act.numeric(0), act.numeric(1), tact.numeric(0)
    ode = OrderParameterODE(act, Wt @ Wt.T, vt, W.shape[0], lr, lr_v, train_v, noise, second_order=False,
                            v_fixed=v, teacher_act=tact)
    records = []
    step = 0
    for target in steps_at:
        while step < target:
            x = rng.standard_normal(n_in)
            lam, nu = W @ x, Wt @ x
            err = v @ s0(lam) - vt @ t0(nu) - (np.sqrt(noise) * rng.standard_normal() if noise else 0.0)
            grad_w = (err * v * s1(lam))[:, None] * x[None, :]
            if train_v:
                v = v - lr_v / n_in * err * s0(lam)
            W = W - lr / n_in * grad_w
            step += 1
        Q, R, T = order_parameters(W, Wt)
        records.append((Q, R, v.copy(), ode.generalisation_error(Q, R, v)))
    Qs, Rs, vs, loss = (np.array(x) for x in zip(*records))
    return OnlineTrajectory(t_eval, loss, Qs, Rs, Wt @ Wt.T, vs, f"simulation (N_i = {n_in})",
                            ode.rounding_bound(Qs, Rs, vs))


@dataclass(frozen=True)
class Linearisation:
    r"""The order-parameter equations linearised at the teacher fixed point :math:`W=W^*`, :math:`v=v^*`.

    The Jacobian is :math:`J(\eta)=\eta J_1+\eta^2J_2` (:math:`\eta_v=\eta`): :math:`J_1` is the
    linearised population gradient flow, :math:`J_2` the contribution of the :math:`\eta^2` term.
    Its spectrum splits in two sectors (see :func:`linearise_at_teacher`).

    Attributes
    ----------
    J1, J2 : ndarray
        The two parts of the Jacobian in the state coordinates of :class:`OrderParameterODE`.
    lr : float
        The learning rate of :attr:`eigenvalues`.
    eigenvalues : ndarray
        Eigenvalues of :math:`J(\eta)`, ascending by real part.
    noise_forcing : ndarray
        :math:`b`: with label noise of variance :math:`\sigma^2` the equations gain the constant
        :math:`\eta^2\sigma^2 b` at the teacher (:math:`b` has entries :math:`v^*_iv^*_kK_{11}(i,k)` in
        the :math:`Q` coordinates only).
    loss_gradient : ndarray
        :math:`g=\partial\varepsilon_g/\partial y` at the teacher, in the state coordinates: nonzero,
        since the teacher lies on the boundary :math:`Q=RT^{-1}R^\top` of the reachable overlaps.
    """

    J1: np.ndarray
    J2: np.ndarray
    lr: float
    eigenvalues: np.ndarray
    noise_forcing: np.ndarray | None = None
    loss_gradient: np.ndarray | None = None

    def jacobian(self, lr: float) -> np.ndarray:
        r""":math:`J(\eta) = \eta J_1 + \eta^2 J_2`."""
        return lr * self.J1 + lr**2 * self.J2

    def slowest_rate(self, lr: float | None = None) -> float:
        r"""The asymptotic convergence rate :math:`-\max\operatorname{Re}\lambda(J(\eta))` (negative: unstable)."""
        lr = self.lr if lr is None else lr
        return float(-np.linalg.eigvals(self.jacobian(lr)).real.max())

    def max_stable_lr(self, *, upper: float = 1e3, rtol: float = 1e-6) -> float:
        r"""The largest :math:`\eta` at which the teacher fixed point is linearly stable.

        Stability of :math:`J(\eta)=\eta(J_1+\eta J_2)` is that of :math:`J_1+\eta J_2` for
        :math:`\eta>0`; found by bisection on the sign of its largest real eigenvalue.
        ``inf`` if stable up to ``upper``.
        """
        def top(eta: float) -> float:
            return float(np.linalg.eigvals(self.J1 + eta * self.J2).real.max())

        if top(0.0) >= 0:
            return 0.0
        if top(upper) < 0:
            return float("inf")
        lo, hi = 0.0, upper
        while hi - lo > rtol * hi:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if top(mid) < 0 else (lo, mid)
        return lo

    def stationary_state(self, lr: float, noise: float) -> np.ndarray:
        r"""Deviation :math:`y_\infty-y^*` of the stationary state from the teacher under label noise.

        The linearised equations :math:`\dot y=J(\eta)y+\eta^2\sigma^2b` relax, for
        :math:`\eta<\eta_{\max}`, to :math:`y_\infty=-\eta\sigma^2(J_1+\eta J_2)^{-1}b`: first order in
        :math:`\sigma^2` (the nonlinear terms add :math:`O(\sigma^4)`).

        Raises
        ------
        InvalidParameterError
            If :math:`\eta\ge\eta_{\max}`: the fixed point is unstable and there is no stationary state
            near it (the order parameters run away, see :meth:`stationary_loss`).
        """
        lr = as_positive(lr, "lr")
        noise = as_positive(noise, "noise", allow_zero=True)
        if self.noise_forcing is None:
            raise InvalidParameterError("this linearisation was made without the second-order term (no noise forcing)")
        if self.slowest_rate(lr) <= 0:
            raise InvalidParameterError(
                f"lr={lr} is at or beyond the largest stable learning rate {self.max_stable_lr():.6g}: the teacher "
                "fixed point is unstable and there is no stationary state near it")
        return -lr * noise * np.linalg.solve(self.J1 + lr * self.J2, self.noise_forcing)

    def stationary_loss(self, lr: float, noise: float) -> float:
        r"""The asymptotic generalisation error under label noise, to first order in the noise variance:

        .. math::

            \varepsilon_\infty = g^\top y_\infty = -\eta\,\sigma^2\,g^\top(J_1+\eta J_2)^{-1}b
            = \eta\,\sigma^2\,c_1\,\big(1+O(\eta)\big),\qquad c_1=-g^\top J_1^{-1}b,

        a floor proportional to :math:`\eta\sigma^2` at small :math:`\eta` that grows without bound as
        :math:`\eta\to\eta_{\max}` (where :math:`J_1+\eta J_2` becomes singular). ``inf`` at and beyond
        :math:`\eta_{\max}` with ``noise > 0``: the linearised deviations grow like
        :math:`e^{-\text{rate}\,t}` (:meth:`slowest_rate` negative) and the order parameters leave the
        teacher, with or without noise.
        """
        if noise > 0 and self.slowest_rate(lr) <= 0:
            return float("inf")
        return float(self.loss_gradient @ self.stationary_state(lr, noise))


def linearise_at_teacher(
    act: ActivationLike,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    lr: float = 1.0,
    *,
    second_order: bool = True,
    step: float = 1e-6,
) -> Linearisation:
    r"""Linearise the order-parameter equations at the teacher fixed point (matched student).

    In the limit :math:`\eta\to0` the spectrum of the Jacobian is, exactly,

    * :math:`-\eta\lambda` for every eigenvalue :math:`\lambda` of the expected Hessian restricted
      to weight changes inside the span of the teacher units (dimension :math:`N_hN_t+N_h`): the
      eigenvalues of eq. (7) of Couto et al.;
    * :math:`-\eta(\mu_i+\mu_k)`, :math:`i\le k`, where :math:`\mu` are the eigenvalues of
      :math:`[v_iv_kE\sigma'(\lambda_i)\sigma'(\lambda_k)]`, the Hessian on weight changes orthogonal
      to the teacher span (its bulk, each with multiplicity :math:`N_i-N_t`), entering through
      :math:`Q-RT^{-1}R^\top`, which is quadratic in those changes.

    The term of order :math:`\eta^2` shifts the second sector only and sets the largest stable
    learning rate (:meth:`Linearisation.max_stable_lr`). With label noise it also sets the asymptotic
    loss floor :math:`\propto\eta\sigma^2` (:meth:`Linearisation.stationary_loss`), which diverges as
    :math:`\eta\to\eta_{\max}`. The Jacobian is taken by central differences of the right-hand side
    (relative step ``step``).
    """
    act = get_activation(act)
    Wt, vt = as_weights(W_teacher, v_teacher, name="teacher ")
    lr = as_positive(lr, "lr")
    T = Wt @ Wt.T
    first = OrderParameterODE(act, T, vt, Wt.shape[0], 1.0, 1.0, second_order=False)
    y = first.pack(T, T, vt)
    J1 = first.jacobian(y, step)
    b = g = None
    if second_order:
        full = OrderParameterODE(act, T, vt, Wt.shape[0], 1.0, 1.0, second_order=True)
        J2 = full.jacobian(y, step) - J1
        noisy = OrderParameterODE(act, T, vt, Wt.shape[0], 1.0, 1.0, second_order=False, noise=1.0)
        b = noisy.rhs(y) - first.rhs(y)
    else:
        J2 = np.zeros_like(J1)
    # gradient of the generalisation error in the state coordinates (central differences)
    h = step * np.maximum(1.0, np.abs(y))
    E = np.diag(h)
    Qp, Rp, vp = first.unpack(y[:, None] + E)
    Qm, Rm, vm = first.unpack(y[:, None] - E)
    g = (first.generalisation_error(Qp, Rp, vp) - first.generalisation_error(Qm, Rm, vm)) / (2 * h)
    eig = np.linalg.eigvals(lr * J1 + lr**2 * J2)
    return Linearisation(J1, J2, lr, eig[np.argsort(eig.real)], b, g)
