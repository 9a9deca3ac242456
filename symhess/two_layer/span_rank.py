r"""Exact and certified Hessian ranks of the general two-layer network (biases, several outputs, frozen groups, input covariance).

Place in the package: the two-layer teacher-student family (NumPy and python-flint; no SymPy at runtime).

The network is :math:`f_o(x)=\sum_iV_{oi}\,\sigma(w_i\cdot x+b_i)+b_{0,o}`, :math:`o=1..n_{\rm out}`,
with parameters :math:`\theta=(W\text{ row-major}, V\text{ row-major}, b, b_0)` (absent parts left
out) in the groups ``"W"``, ``"v"``, ``"b"``, ``"b_out"``; frozen groups are left out of :math:`\theta`.

**The rank is the dimension of a span of functions.** At the optimum the expected Hessian is the
Gauss–Newton matrix :math:`H=\sum_oE_x[\nabla_\theta f_o\nabla_\theta f_o^\top]` (the frozen-rest
Hessian is its principal submatrix), so

.. math::

    c^\top Hc=\sum_oE_x\big[(c\cdot\nabla_\theta f_o(x))^2\big]=0
    \iff c\cdot\nabla_\theta f_o(x)=0\ \text{for almost every } x \text{ and every } o,

and :math:`\operatorname{rank}H=\dim\operatorname{span}\{x\mapsto(c\cdot\nabla_\theta f_o(x))_o\}`. The
gradient functions are

.. math::

    \frac{\partial f_o}{\partial W_{ij}}=V_{oi}\sigma'(u_i)x_j,\quad
    \frac{\partial f_o}{\partial V_{o'i}}=\delta_{oo'}\sigma(u_i),\quad
    \frac{\partial f_o}{\partial b_i}=V_{oi}\sigma'(u_i),\quad
    \frac{\partial f_o}{\partial b_{0,o'}}=\delta_{oo'},\qquad u_i=w_i\cdot x+b_i.

Two exact ways to measure that dimension:

* **polynomial** :math:`\sigma` (:func:`exact_span_rank`): :math:`\nabla_\theta f_o=J_o^\top\phi(x)` with
  :math:`J_o` the coefficient Jacobian of output :math:`o` (:mod:`symhess.two_layer.coefficients`), so
  :math:`H=\sum_oJ_o^\top GJ_o=\tilde J^\top(I\otimes G)\tilde J` with :math:`\tilde J` the outputs'
  Jacobians stacked, :math:`G\succ0`: :math:`\operatorname{rank}H=\operatorname{rank}\tilde J` over
  :math:`\mathbb Q`;
* **any activation with a symbolic expression** (:func:`certified_span_rank`): the rows
  :math:`\nabla_\theta f_o(x_\mu)` at rational points :math:`x_\mu`, in ball arithmetic. Each row is
  :math:`\nabla f_o` at a point, so a nonsingular :math:`r\times r` minor proves :math:`\operatorname{rank}H\ge r`
  (a vector :math:`c` of the null space is orthogonal to every row); :math:`r=P` proves :math:`H\succ0`.
  Rank deficiencies (ReLU's rescalings, ``exp``'s bias) are upper bounds proved by the counting rules
  (:mod:`symhess.two_layer.bias_counting`), not by evaluation.

**Input covariance** (:func:`exact_input_reduction`). For :math:`x\sim N(0,\Sigma)` the pivoted
:math:`LDL^\top` factorisation over :math:`\mathbb Q`, :math:`\Sigma=L_rD_rL_r^\top` with :math:`r=\operatorname{rank}\Sigma`,
:math:`D_r\succ0` diagonal and :math:`L_r` of full column rank, writes :math:`x=L_r\xi`,
:math:`\xi\sim N(0,D_r)`, so :math:`w_i\cdot x=(L_r^\top w_i)\cdot\xi`: the network is the one with
weights :math:`WL_r` on :math:`r` inputs. Under a Gaussian of full support an analytic (or
polynomial, or piecewise-analytic) function vanishes almost everywhere only if it vanishes, so the
span's dimension does not depend on :math:`D_r`; and :math:`W\mapsto WL_r` is onto, so the trained
directions of :math:`W` span the same tangent directions. Hence

.. math::

    \operatorname{rank}H_\Sigma(W,V,b,b_0)=\operatorname{rank}H_I(WL_r,V,b,b_0)\quad(r\text{ inputs}),

and for :math:`\Sigma\succ0` the rank is that of the identity covariance at the same weights (the
whitening identity :math:`H_\Sigma(W)=JH_I(W\Sigma^{1/2})J^\top` with :math:`J` invertible, read with
the factor :math:`L_rD_r^{1/2}`). A float :math:`\Sigma` is read as the exact binary rational it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from ..activations import ActivationLike, activation as get_activation
from ..errors import InvalidParameterError, InvalidTypeError, ShapeError
from ..linalg.certify import PRECISIONS, certify_nonsingular
from ..linalg.exact_rank import exact_rank
from ..linalg.rationals import rational_array
from .architecture import trainable_groups
from .balls import _to_arb, ball_unit_values, rational_points, to_arb_mat
from .objects import arb_precision

__all__ = ["GROUPS", "Layout", "SpanRank", "network_layout", "exact_input_reduction", "gradient_rows", "stacked_jacobian",
           "exact_span_rank", "certified_span_rank"]

#: parameter groups of the general two-layer network, in the order of :math:`\theta`
GROUPS = ("W", "v", "b", "b_out")


@dataclass(frozen=True)
class Layout:
    r"""Shapes and the trained columns of :math:`\theta=(W, V, b, b_0)`.

    Attributes
    ----------
    n_in, n_hidden, n_out : int
    hidden_bias, output_bias : bool
        Whether the network has the biases (given biases are parameters).
    trained : tuple of str
        The trained groups, in :data:`GROUPS` order.
    """

    n_in: int
    n_hidden: int
    n_out: int
    hidden_bias: bool
    output_bias: bool
    trained: tuple[str, ...]

    @property
    def sizes(self) -> dict[str, int]:
        Nh = self.n_hidden
        return {"W": Nh * self.n_in, "v": self.n_out * Nh, "b": Nh if self.hidden_bias else 0,
                "b_out": self.n_out if self.output_bias else 0}

    @property
    def n_all(self) -> int:
        """Number of parameters with every group trained."""
        return sum(self.sizes.values())

    @property
    def n_params(self) -> int:
        """Number of trained parameters (the size of the frozen-rest Hessian)."""
        return sum(self.sizes[g] for g in self.trained)

    def index(self) -> np.ndarray:
        """Columns of the trained parameters among all of :math:`\\theta`."""
        out, start = [], 0
        for g in GROUPS:
            n = self.sizes[g]
            if g in self.trained:
                out.append(np.arange(start, start + n))
            start += n
        return np.concatenate(out) if out else np.zeros(0, dtype=int)


@dataclass(frozen=True)
class SpanRank:
    """A rank from the span routes (:func:`symhess.hessian_rank` returns it as a ``RankResult``).

    Attributes mirror :class:`~symhess.two_layer.rank.RankResult`: ``rank``, ``n`` (trained parameters),
    ``status`` (``"exact"``, ``"lower bound"`` or ``"numerical"``), ``route``, ``method``, ``precision``,
    ``float_rank``, ``notes``.
    """

    rank: int
    n: int
    status: str
    route: str
    method: str
    precision: int | None = None
    float_rank: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def certified(self) -> bool:
        return self.status in ("exact", "lower bound")


def as_groups(trainable: object, hidden_bias: bool, output_bias: bool) -> tuple[str, ...]:
    """Validate ``trainable`` against the groups this network has; returns them in θ order."""
    present = tuple(g for g in GROUPS if (g != "b" or hidden_bias) and (g != "b_out" or output_bias))
    return trainable_groups(trainable, present, GROUPS)


def network_layout(n_in: int, n_hidden: int, *, n_out: int = 1, hidden_bias: bool = False,
                   output_bias: bool = False, trainable: object = None) -> Layout:
    """The :class:`Layout` of a network of these sizes (``trainable`` validated)."""
    for name, val in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
            raise InvalidTypeError(f"{name}={val!r} must be a positive integer")
        if val < 1:
            raise InvalidParameterError(f"{name}={val} must be >= 1")
    return Layout(int(n_in), int(n_hidden), int(n_out), bool(hidden_bias), bool(output_bias),
                  as_groups(trainable, hidden_bias, output_bias))


def _exact_weights(W, v, hidden_bias, output_bias):
    """Exact ``fmpq`` arrays ``W (Nh, Ni)``, ``V (n_out, Nh)``, ``b (Nh,)`` or None, ``b0 (n_out,)`` or None."""
    Wq = rational_array(W, "W")
    if Wq.ndim != 2 or 0 in Wq.shape:
        raise ShapeError(f"W must have shape (n_hidden, n_in); got {Wq.shape}")
    Nh = Wq.shape[0]
    Vq = rational_array(v, "v")
    if Vq.ndim == 1:
        Vq = Vq[None, :]
    if Vq.ndim != 2 or Vq.shape[1] != Nh or Vq.shape[0] < 1:
        raise ShapeError(f"v must have shape ({Nh},) or (n_out, {Nh}); got {np.shape(v)}")
    n_out = Vq.shape[0]
    b = None
    if hidden_bias is not None:
        b = rational_array(hidden_bias, "hidden_bias")
        if b.shape != (Nh,):
            raise ShapeError(f"hidden_bias must have shape ({Nh},) (one per hidden unit); got {b.shape}")
    b0 = None
    if output_bias is not None:
        b0 = rational_array(output_bias, "output_bias").reshape(-1)
        if b0.shape != (n_out,):
            raise ShapeError(f"output_bias must be a number or have shape ({n_out},) (one per output); "
                             f"got {np.shape(output_bias)}")
    return Wq, Vq, b, b0


def exact_input_reduction(input_cov: object, n_in: int) -> tuple[np.ndarray | None, int]:
    r"""Pivoted :math:`LDL^\top` of :math:`\Sigma` over :math:`\mathbb Q`: ``(L_r, r)`` with :math:`\Sigma=L_rD_rL_r^\top`, :math:`D_r\succ0`.

    ``input_cov``: a ``(Ni, Ni)`` symmetric positive semidefinite matrix or its diagonal ``(Ni,)``,
    of exact rationals (floats are read as the binary rationals they are). Returns ``(None, Ni)`` for
    :math:`\Sigma\succ0` (the rank does not depend on :math:`\Sigma`, see the module docstring) and
    ``(L_r, r)``, an ``(Ni, r)`` object array of ``fmpq``, otherwise.

    Raises
    ------
    ShapeError, InvalidParameterError
        Wrong shape; not exactly symmetric; not positive semidefinite; zero.

    Examples
    --------
    >>> L, r = exact_input_reduction([[1, 1], [1, 1]], 2)
    >>> r, [str(x) for x in L[:, 0]]
    (1, ['1', '1'])
    """
    S = rational_array(input_cov, "input_cov")
    if S.ndim == 1:
        if S.shape != (n_in,):
            raise ShapeError(f"input_cov has shape {S.shape}; expected ({n_in}, {n_in}) or ({n_in},)")
        S = np.array([[S[i] if i == j else flint.fmpq(0) for j in range(n_in)] for i in range(n_in)], dtype=object)
    if S.shape != (n_in, n_in):
        raise ShapeError(f"input_cov has shape {S.shape}; expected ({n_in}, {n_in}) or ({n_in},)")
    A = [[S[i, j] for j in range(n_in)] for i in range(n_in)]
    for i in range(n_in):
        for j in range(i):
            if A[i][j] != A[j][i]:
                raise InvalidParameterError(f"input_cov is not symmetric: entries ({i}, {j}) and ({j}, {i}) differ")
    cols, remaining = [], list(range(n_in))
    while remaining:
        k = max(remaining, key=lambda i: A[i][i])
        d = A[k][k]
        if d < 0:
            raise InvalidParameterError(f"input_cov is not positive semidefinite (a pivot {float(d):.3g} < 0)")
        if d == 0:
            if any(A[i][j] != 0 for i in remaining for j in remaining):
                raise InvalidParameterError("input_cov is not positive semidefinite (a zero pivot with a nonzero "
                                            "off-diagonal entry)")
            break
        col = [A[i][k] / d for i in range(n_in)]
        for i in range(n_in):
            for j in range(n_in):
                A[i][j] -= col[i] * d * col[j]
        cols.append(col)
        remaining.remove(k)
    r = len(cols)
    if r == 0:
        raise InvalidParameterError("input_cov is zero: the inputs are constant and every first-layer weight is a "
                                    "null direction")
    if r == n_in:
        return None, n_in
    L = np.empty((n_in, r), dtype=object)
    for k, col in enumerate(cols):
        L[:, k] = col
    return L, r


def _reduce(Wq: np.ndarray, input_cov: object) -> tuple[np.ndarray, str]:
    if input_cov is None:
        return Wq, ""
    L, r = exact_input_reduction(input_cov, Wq.shape[1])
    if L is None:
        return Wq, ("input_cov is positive definite: rank H_Sigma = rank H_I at the same weights (a full-support "
                    "Gaussian; the whitening identity with an invertible J)")
    return Wq.dot(L), (f"input_cov has rank {r} < n_in = {Wq.shape[1]}: Sigma = L D L^T (exact pivoted LDL^T), "
                       f"rank H_Sigma(W) = rank H_I(W L) on {r} inputs")


# ---------------------------------------------------------------------------------------------- exact (polynomials)
def stacked_jacobian(act: ActivationLike, W: object, v: object, *, hidden_bias: object = None,
                     output_bias: object = None) -> flint.fmpq_mat:
    r"""The outputs' coefficient Jacobians stacked, :math:`\tilde J=[J_1;\dots;J_{n_{\rm out}}]`, columns :math:`(W,V,b,b_0)`.

    Polynomial activations with rational coefficients and weights; ``v`` of shape ``(Nh,)`` or
    ``(n_out, Nh)``, ``output_bias`` a number or ``(n_out,)``.
    """
    from .coefficients import coefficient_jacobian

    act = get_activation(act)
    Wq, Vq, b, b0 = _exact_weights(W, v, hidden_bias, output_bias)
    Nh, Ni = Wq.shape
    n_out = Vq.shape[0]
    lay = Layout(Ni, Nh, n_out, b is not None, b0 is not None, ())
    sz = lay.sizes
    offs = {"W": 0, "v": sz["W"], "b": sz["W"] + sz["v"], "b_out": sz["W"] + sz["v"] + sz["b"]}
    P = lay.n_all
    blocks = []
    for o in range(n_out):
        J = coefficient_jacobian(act, Wq, Vq[o], hidden_bias=b, output_bias=None if b0 is None else b0[o]).J
        M = J.shape[0]
        G = np.full((M, P), flint.fmpq(0), dtype=object)
        G[:, :sz["W"]] = J[:, :sz["W"]]
        G[:, offs["v"] + o * Nh: offs["v"] + (o + 1) * Nh] = J[:, sz["W"]: sz["W"] + Nh]
        c = sz["W"] + Nh
        if b is not None:
            G[:, offs["b"]: offs["b"] + Nh] = J[:, c: c + Nh]
            c += Nh
        if b0 is not None:
            G[:, offs["b_out"] + o] = J[:, c]
        blocks.append(G)
    S = np.concatenate(blocks, axis=0)
    return flint.fmpq_mat(S.shape[0], P, [flint.fmpq(x) if isinstance(x, int) else x for x in S.ravel().tolist()])


def exact_span_rank(act: ActivationLike, W: object, v: object, *, hidden_bias: object = None,
                    output_bias: object = None, trainable: object = None, input_cov: object = None):
    r"""Exact rank over :math:`\mathbb Q` of the expected Hessian at the optimum (polynomial activations).

    The rank of the trained columns of the stacked coefficient Jacobian (module docstring), after the
    exact input reduction for ``input_cov``. Returns a :class:`SpanRank`.
    """
    from .exact import rational_coefficients

    act = get_activation(act)
    rational_coefficients(act)  # clear errors for non-polynomial / irrational activations
    Wq, Vq, b, b0 = _exact_weights(W, v, hidden_bias, output_bias)
    lay = network_layout(Wq.shape[1], Wq.shape[0], n_out=Vq.shape[0], hidden_bias=b is not None,
                         output_bias=b0 is not None, trainable=trainable)
    Wr, cov_note = _reduce(Wq, input_cov)
    J = stacked_jacobian(act, Wr, Vq, hidden_bias=b, output_bias=b0)
    idx = Layout(Wr.shape[1], lay.n_hidden, lay.n_out, lay.hidden_bias, lay.output_bias, lay.trained).index()
    if len(idx) != J.ncols():
        J = flint.fmpq_mat([[J[i, int(j)] for j in idx] for i in range(J.nrows())])
    er = exact_rank(J)
    return SpanRank(rank=er.rank, n=lay.n_params, status="exact" if er.certified else "lower bound",
                      route="exact: coefficient Jacobian",
                      method=(f"rank of the exact {J.nrows()}x{J.ncols()} coefficient Jacobian stacked over "
                              f"{lay.n_out} output(s) (H = sum_o J_o^T G J_o, G positive definite); {er.method}"),
                      notes=(cov_note,) if cov_note else ())


# ---------------------------------------------------------------------------------------------- certified (points)
def gradient_rows(s, ds, X, V, lay: Layout, zero, one) -> np.ndarray:
    r"""Rows :math:`\nabla_\theta f_o(x_\mu)` (all groups) from :math:`\sigma(u)`, :math:`\sigma'(u)` at the points.

    ``s``, ``ds``: ``(n, Nh)``; ``X``: ``(n, Ni)``; ``V``: ``(n_out, Nh)``. Works on float arrays and
    on object arrays of balls (``zero``, ``one`` the domain's constants). Rows ordered point-major.
    """
    n, Nh = s.shape
    Ni = X.shape[1]
    dtype = s.dtype
    out = []
    for o in range(lay.n_out):
        dsv = ds * V[o][None, :]
        parts = [(dsv[:, :, None] * X[:, None, :]).reshape(n, Nh * Ni)]
        gv = np.full((n, lay.n_out * Nh), zero, dtype=dtype)
        gv[:, o * Nh:(o + 1) * Nh] = s
        parts.append(gv)
        if lay.hidden_bias:
            parts.append(dsv)
        if lay.output_bias:
            g0 = np.full((n, lay.n_out), zero, dtype=dtype)
            g0[:, o] = one
            parts.append(g0)
        out.append(np.concatenate(parts, axis=1))
    G = np.stack(out, axis=1)  # (n, n_out, P)
    return G.reshape(n * lay.n_out, -1)


def _float_rows(act, Wq, Vq, b, X, lay) -> np.ndarray:
    fl = lambda a: np.array([float(x) for x in a.ravel()]).reshape(a.shape)  # noqa: E731
    Xf, Vf = fl(X), fl(Vq)
    h = Xf @ fl(Wq).T
    if b is not None:
        h = h + fl(b)[None, :]
    s = np.asarray(act.numeric(0)(h), dtype=float) * np.ones_like(h)
    ds = np.asarray(act.numeric(1)(h), dtype=float) * np.ones_like(h)
    return gradient_rows(s, ds, Xf, Vf, lay, 0.0, 1.0)[:, lay.index()]


def _points(Wr: np.ndarray, b, P: int, n_out: int, seed: int) -> np.ndarray:
    r"""Rational points: :math:`P+2` near-normal ones, and for each unit :math:`2(N_i+3)` near its hyperplane
    :math:`u_i=w_i\cdot x+b_i=0`: near-normal points projected onto it and moved off it to
    :math:`u_i=\pm k/2^{5+m}`, :math:`k\in\{2..16\}`, :math:`m\in\{0..8\}` random (signs alternating, scales
    log-uniform: thin wedges between nearly parallel hyperplanes are hit too), so that each kinked unit is
    seen switching on and off with the others' patterns fixed, and each saturating unit in its transition."""
    from ..validation import as_rng

    gen = as_rng(seed)
    Nh, Ni = Wr.shape
    k = P + 2  # not divided by n_out: the outputs' rows at one point can carry little new information
    X = [rational_points(k, Ni, gen)]
    m = 2 * (Ni + 3)  # per unit: N_i + 3 on each side, enough to see an affine function on each side
    for i in range(Nh):
        shift = np.array([flint.fmpq((1 if j % 2 else -1) * int(gen.integers(2, 17)), 32 << int(gen.integers(0, 9)))
                          for j in range(m)], dtype=object)
        w = Wr[i]
        nrm = sum((x * x for x in w), flint.fmpq(0))
        Z = rational_points(m, Ni, gen)
        u = Z.dot(w) + (b[i] if b is not None else 0)
        X.append(Z + ((shift - u) / nrm)[:, None] * w[None, :])
    return np.concatenate(X, axis=0)


def _ball_rows(act, Wq, Vq, b, X, lay, prec: int, rows=None, cols=None) -> flint.arb_mat:
    if rows is not None:  # evaluate only the points that the chosen rows (point-major, n_out per point) need
        pts = sorted({r // lay.n_out for r in rows})
        where = {p: k for k, p in enumerate(pts)}
        rows = [where[r // lay.n_out] * lay.n_out + r % lay.n_out for r in rows]
        X = X[pts]
    pre = X.dot(Wq.T)
    if b is not None:
        pre = pre + b[None, :]
    with arb_precision(prec):
        s, ds = ball_unit_values(act, pre)
        G = gradient_rows(s, ds, _to_arb(X), _to_arb(Vq), lay, flint.arb(0), flint.arb(1))[:, lay.index()]
        if rows is not None:
            G = G[np.ix_(rows, cols)]
        return to_arb_mat(G)


def certified_span_rank(act: ActivationLike, W: object, v: object, *, hidden_bias: object = None,
                        output_bias: object = None, trainable: object = None, input_cov: object = None,
                        max_precision: int = PRECISIONS[-1], seed: int = 0, target: int | None = None):
    r"""Certified lower bound (``status="lower bound"``) or proof of full rank (``"exact"``) by point evaluation.

    The gradient rows at rational points (:func:`_points`) are computed in float64;
    the float rank :math:`r` (or ``target``, when given and larger) picks an :math:`r\times r` minor
    (pivoted QR on columns, then rows), which is proved nonsingular in ball arithmetic at 128, 256, ...
    bits. :math:`r=P` proves :math:`H\succ0`. Returns a :class:`SpanRank`.
    """
    from scipy.linalg import qr

    act = get_activation(act)
    Wq, Vq, b, b0 = _exact_weights(W, v, hidden_bias, output_bias)
    lay0 = network_layout(Wq.shape[1], Wq.shape[0], n_out=Vq.shape[0], hidden_bias=b is not None,
                          output_bias=b0 is not None, trainable=trainable)
    Wr, cov_note = _reduce(Wq, input_cov)
    lay = Layout(Wr.shape[1], lay0.n_hidden, lay0.n_out, lay0.hidden_bias, lay0.output_bias, lay0.trained)
    P = lay.n_params
    notes = (cov_note,) if cov_note else ()
    X = _points(Wr, b, P, lay.n_out, seed)
    G = _float_rows(act, Wr, Vq, b, X, lay)
    if not np.all(np.isfinite(G)):
        raise InvalidParameterError(f"the gradient of {act.spec!r} is not finite at these weights and points")
    # the rank is invariant under diagonal scalings: equilibrate rows and columns (exp's rows span many decades)
    G = G / np.maximum(np.abs(G).max(axis=1, keepdims=True), np.finfo(float).tiny)
    G = G / np.maximum(np.abs(G).max(axis=0, keepdims=True), np.finfo(float).tiny)
    sv = np.linalg.svd(G, compute_uv=False)
    tol = (sv[0] if sv.size else 0.0) * max(G.shape) * np.finfo(float).eps
    r_float = int((sv > tol).sum())
    precisions = tuple(p for p in PRECISIONS if p <= max_precision) or (int(max_precision),)
    # full rank first (float64 undercounts ill-conditioned rows; a singular minor costs two short tries),
    # then the rule's target and the float rank
    tries = sorted({min(P, t) for t in (P, r_float, target) if t is not None}, reverse=True)
    _, _, cperm = qr(G, pivoting=True, mode="economic")
    for r in tries:
        if r < 1:
            continue
        cols = sorted(cperm[:r].tolist())
        _, _, rperm = qr(G[:, cols].T, pivoting=True, mode="economic")
        rows = sorted(rperm[:r].tolist())
        ladder = precisions if r <= max(r_float, target or 0) else precisions[:2]
        proved, prec, _ = certify_nonsingular(lambda p: _ball_rows(act, Wr, Vq, b, X, lay, p, rows, cols), ladder)
        if proved:
            full = r == P  # of the (reduced) network: an exact identity, so the rank is proved equal
            what = ("gradient rows grad_theta f_o(x_mu) at rational inputs x_mu (ball arithmetic, "
                    f"{prec} bits): a nonsingular {r}x{r} minor")
            return SpanRank(
                rank=r, n=lay0.n_params, status="exact" if full else "lower bound", route="certified: point evaluation",
                method=(what + (" proves H = sum_o E[grad f_o grad f_o^T] positive definite" if full else
                                f" proves rank >= {r} (an upper bound needs null vectors: the counting rule)")),
                float_rank=r_float, precision=prec, notes=notes)
    return SpanRank(rank=r_float, n=lay0.n_params, status="numerical", route="float64",
                      method="float64 rank of the gradient rows at rational points (SVD, tolerance max(s) * n * eps)",
                      float_rank=r_float,
                      notes=notes + (f"ball-arithmetic proof failed up to {precisions[-1]} bits",))
