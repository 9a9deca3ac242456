r"""The expected Hessian at the optimum of a deep teacher-student network, and its rank.

Place in the package: the deep-network family. At the optimum the residual vanishes, so

.. math::

    H = \nabla^2_\theta\,\tfrac12E_x\lVert f_\theta(x)-f_{\theta^\star}(x)\rVert^2\Big|_{\theta=\theta^\star}
      = E_x[J^\top J],\qquad J=\partial f/\partial\theta\in\mathbb R^{N_L\times P},\quad x\sim N(0,I).

Routes, by activation:

* all linear: the closed form :math:`H=D^\top D` (:func:`~symhess.deep.coefficients.deep_linear_hessian`);
* polynomial: exact Gaussian moments of the network polynomial through its Hermite coefficients
  (:func:`~symhess.deep.coefficients.deep_coefficient_jacobian`), over :math:`\mathbb Q` or in floats;
* otherwise (erf, tanh, ReLU): no closed form at depth :math:`>2`; a randomised quasi-Monte Carlo
  estimate with a stated error estimate (:func:`~symhess.deep.pointwise.qmc_hessian`), dense or
  matrix-free (:mod:`~symhess.deep.qmc_operator`), and the rank from gradients at points, certified
  (:func:`deep_hessian_rank`).

Optional biases :math:`h_l=W_la_{l-1}+b_l` (``biases=[b_1, ..., b_L]``, ``None`` for a layer without one)
go through every route; their parameters follow all weights, in layer order, so that depth 2 is the
two-layer order :math:`(W, v, b, b_\mathrm{out})`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import flint
import numpy as np

from ..errors import InvalidParameterError, NoClosedFormError, SymhessAccuracyWarning
from ..linalg.exact_rank import exact_rank
from .weights import (
    as_deep_biases, as_deep_weights, layer_activations, n_bias_parameters, rational_deep_weights, widths_of,
)

__all__ = [
    "deep_expected_hessian", "deep_hessian_estimate", "deep_hessian_rank", "DeepRank", "symmetry_bound",
    "deep_hessian_operator",
]


def _has_bias(biases, weights) -> bool:
    """Validate ``biases`` against the weights (:func:`~symhess.deep.weights.as_deep_biases`); whether any is given."""
    if biases is None:
        return False
    Ws = as_deep_weights(weights)
    return any(b is not None for b in as_deep_biases(biases, widths_of(Ws)))


def _all_linear(acts) -> bool:
    return all(a.is_polynomial and a.degree == 1 and a.polynomial_coeffs()[0] == 0 for a in acts)


def deep_expected_hessian(act, weights, *, exact: bool = False, n_points: int = 1 << 12, replicates: int = 16,
                          rng: object = None, max_bytes: int | None = None, biases=None):
    r"""The expected Hessian :math:`E_x[J^\top J]` at the optimum of a deep network (see the module docstring).

    Parameters
    ----------
    act : str, Activation or sequence
        One activation for every hidden layer, or one per hidden layer.
    weights : list of array_like
        ``[W_1, ..., W_L]``, ``W_l`` of shape ``(N_l, N_{l-1})`` (e.g. from :func:`symhess.deep_teacher`).
    exact : bool
        Return a ``flint.fmpq_mat`` computed over :math:`\mathbb Q` (polynomial activations with rational
        coefficients, rational weights).
    n_points, replicates, rng
        Quasi-Monte Carlo settings, used only for non-polynomial activations.
    max_bytes : int, optional
        Memory budget of the dense float route (default 80% of the memory available now).
    biases : list, optional
        ``[b_1, ..., b_L]`` with ``None`` for a layer without bias (:math:`h_l=W_la_{l-1}+b_l`; the output
        bias is ``b_L``). Their parameters follow all weights, in layer order: at depth 2 the two-layer
        order :math:`(W, v, b, b_\mathrm{out})`.

    Returns
    -------
    ndarray or flint.fmpq_mat
        :math:`P\times P`, :math:`P=\sum_lN_lN_{l-1}` (+ the biases), :math:`\theta=(W_1,\dots,W_L)` row-major
        (then the biases).

    Warns
    -----
    SymhessAccuracyWarning
        Non-polynomial activations: the result is a quasi-Monte Carlo estimate; the warning states its
        estimated error (use :func:`deep_hessian_estimate` for the entrywise standard errors).

    Raises
    ------
    NoClosedFormError
        ``exact=True`` with a non-polynomial activation.
    MemoryLimitError
        The dense float route would exceed ``max_bytes``; the message names the matrix-free
        :func:`deep_hessian_operator`.

    Examples
    --------
    >>> import symhess
    >>> W = symhess.deep_teacher((3, 4, 2, 1), rng=0)
    >>> symhess.deep_expected_hessian("quadratic:eps=1/2", W).shape
    (22, 22)
    """
    from .coefficients import deep_coefficient_jacobian, deep_linear_hessian

    n_layers = len(weights) if hasattr(weights, "__len__") else 0
    acts = layer_activations(act, max(n_layers, 1))
    has_bias = _has_bias(biases, weights)
    if not exact and n_layers:
        P = sum(int(np.prod(np.shape(W))) for W in weights)
        P += sum(int(np.size(b)) for b in (biases or []) if b is not None)
        if all(a.is_polynomial for a in acts):
            _check_dense(P, 8 * P * P, max_bytes)
    if _all_linear(acts) and not has_bias:
        return deep_linear_hessian(weights, exact=exact)
    if all(a.is_polynomial for a in acts):
        return deep_coefficient_jacobian(acts, weights, exact=exact, biases=biases).hessian()
    if exact:
        bad = next(a for a in acts if not a.is_polynomial)
        raise NoClosedFormError(
            f"exact=True needs polynomial activations; {bad.spec!r} is not one and a deep network with it has no "
            "closed-form Gaussian expectations. Use exact=False for a quasi-Monte Carlo estimate, or "
            "deep_hessian_rank(..., method='certify') for a certified rank")
    est = deep_hessian_estimate(acts, weights, n_points=n_points, replicates=replicates, rng=rng, max_bytes=max_bytes,
                                biases=biases)
    warnings.warn(
        f"deep network with {', '.join(sorted({a.spec for a in acts}))}: no closed form; returning a randomised "
        f"quasi-Monte Carlo estimate ({est.replicates} x {est.n_points} Sobol points) with estimated error "
        f"{est.error:.2e} per entry (3 standard errors; an estimate, not a bound)", SymhessAccuracyWarning,
        stacklevel=2)
    return est.hessian


def _check_dense(n_params: int, need: int, max_bytes: int | None) -> None:
    from ..errors import MemoryLimitError
    from ..validation import available_memory

    budget = int(0.8 * available_memory()) if max_bytes is None else int(max_bytes)
    if need > budget:
        raise MemoryLimitError(
            f"a dense deep expected Hessian with P={n_params} parameters needs {need / 2**30:.2f} GiB, more than the "
            f"{budget / 2**30:.2f} GiB budget; use the matrix-free route symhess.deep_hessian_operator(act, weights) "
            "(Hessian-vector products, for extreme_eigenvalues and slq_density) instead")


def deep_hessian_operator(act, weights, *, n_points: int = 1 << 12, replicates: int = 16, rng: object = None,
                          biases=None):
    r"""The expected Hessian of a deep network as a matrix-free operator (no :math:`P\times P` matrix).

    * polynomial (or linear) activations: :math:`v\mapsto F^\top(Fv)` with the exact float factor
      :math:`F` (:math:`H=F^\top F`: orthonormal-Hermite coefficient Jacobian, or
      :math:`D=\partial\operatorname{vec}A/\partial\theta` for linear networks), :math:`N_L\binom{N_0+D}{D}`
      (nonzero) rows by :math:`P`;
    * erf, tanh, ReLU and the other non-polynomial activations: the randomised quasi-Monte Carlo
      estimate :math:`v\mapsto\frac1R\sum_r\frac1n\sum_\mu J_{r\mu}^\top(J_{r\mu}v)` by forward- and
      reverse-mode passes over the sample set
      (:class:`~symhess.deep.qmc_operator.DeepQMCHessianOperator`): the same samples as
      :func:`deep_hessian_estimate` with the same ``rng``, so equal to its dense matrix times
      :math:`v`; each product's stated error from ``.matvec_with_error(v)`` (three standard errors
      of the replicate products; an estimate, not a bound). Time :math:`O(Rn\sum_lN_lN_{l-1})` per product.

    Use it with :func:`symhess.extreme_eigenvalues` or :func:`symhess.slq_density`.

    Parameters
    ----------
    n_points, replicates, rng
        Quasi-Monte Carlo settings (non-polynomial activations only).
    biases : list, optional
        ``[b_1, ..., b_L]`` with ``None`` for a layer without bias (see :func:`deep_expected_hessian`).

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Symmetric positive semidefinite, shape ``(P, P)``; polynomial: ``.factor`` holds :math:`F`.

    Warns
    -----
    SymhessAccuracyWarning
        Non-polynomial activations: the operator is a quasi-Monte Carlo estimate.
    """
    from scipy.sparse.linalg import LinearOperator

    from .coefficients import deep_coefficient_jacobian, linear_jacobian

    n_layers = len(weights) if hasattr(weights, "__len__") else 0
    acts = layer_activations(act, max(n_layers, 1))
    has_bias = _has_bias(biases, weights)
    if _all_linear(acts) and not has_bias:
        F = linear_jacobian(weights)
    elif all(a.is_polynomial for a in acts):
        F = deep_coefficient_jacobian(acts, weights, exact=False, biases=biases).factor()
        F = F[np.any(F != 0, axis=1)]
    else:
        from .qmc_operator import qmc_hessian_operator

        op = qmc_hessian_operator(acts, weights, n_points=n_points, replicates=replicates, rng=rng, biases=biases)
        warnings.warn(
            f"deep network with {', '.join(sorted({a.spec for a in acts}))}: no closed form; the operator is a "
            f"randomised quasi-Monte Carlo estimate ({op.replicates} x {op.n_points} Sobol points); "
            "op.matvec_with_error(v) states each product's estimated error", SymhessAccuracyWarning, stacklevel=2)
        return op
    P = F.shape[1]
    op = LinearOperator((P, P), matvec=lambda v: F.T @ (F @ v), matmat=lambda V: F.T @ (F @ V),
                        rmatvec=lambda v: F.T @ (F @ v), dtype=float)
    op.factor = F
    return op


def deep_hessian_estimate(act, weights, *, n_points: int = 1 << 12, replicates: int = 16, rng: object = None,
                          max_bytes: int | None = None, biases=None):
    r"""Randomised quasi-Monte Carlo estimate of :math:`E_x[J^\top J]` with entrywise standard errors.

    Returns a :class:`~symhess.deep.pointwise.QMCHessian` (``hessian``, ``stderr``, ``error``). Raises
    :class:`~symhess.errors.MemoryLimitError` beyond ``max_bytes`` (default 80% of the available memory),
    naming the matrix-free :func:`deep_hessian_operator`.
    """
    from .pointwise import qmc_hessian

    return qmc_hessian(act, weights, n_points=n_points, replicates=replicates, rng=rng, max_bytes=max_bytes,
                       biases=biases)


def symmetry_bound(acts, widths, n_biases: int = 0) -> tuple[int, str]:
    r"""Upper bound on the rank from continuous symmetries and the ambient space, with the reason.

    Homogeneous activations (:math:`\sigma(tz)=t^d\sigma(z)`: pure powers, ReLU for :math:`t>0`) give one
    rescaling per hidden unit, :math:`W_l[i,:]\to tW_l[i,:]`, :math:`W_{l+1}[:,i]\to t^{-d}W_{l+1}[:,i]`:
    :math:`\sum_{0<l<L}N_l` null directions. Deep linear networks: the dimension :math:`r(N_0+N_L-r)` of the
    matrices of rank :math:`\le r=\min_lN_l`. Otherwise the bound is :math:`P`. With ``n_biases`` bias
    parameters (their rescaling goes with the unit's incoming weights) :math:`P` counts them and the
    ambient space is all polynomials of degree :math:`\le D`, not only forms.
    """
    P = sum(a * b for a, b in zip(widths[:-1], widths[1:])) + int(n_biases)
    if _all_linear(acts) and not n_biases:
        r = min(widths)
        return r * (widths[0] + widths[-1] - r), "matrices of rank <= the narrowest width r: r(N_0 + N_L - r)"
    homogeneous = all(_homogeneous_degree(a) is not None for a in acts)
    if homogeneous:
        degrees = [_homogeneous_degree(a) for a in acts]
        bound, why = P - sum(widths[1:-1]), "parameters minus one rescaling per hidden unit"
        if all(a.is_polynomial for a in acts):
            from math import comb

            D = int(np.prod(degrees))
            ambient = widths[-1] * (comb(widths[0] + D, D) if n_biases else comb(widths[0] + D - 1, D))
            if ambient < bound:
                what = "polynomials of degree <=" if n_biases else "forms of degree"
                bound, why = ambient, f"N_L {what} {D} in N_0 variables"
        return bound, why
    return P, "number of parameters"


def _homogeneous_degree(act) -> int | None:
    if act.name == "relu":
        return 1
    if act.is_polynomial:
        c = act.polynomial_coeffs()
        nz = [k for k, ck in enumerate(c) if ck != 0]
        if len(nz) == 1 and nz[0] >= 1:
            return nz[0]
    return None


@dataclass(frozen=True)
class DeepRank:
    r"""The rank of a deep network's expected Hessian and how it was obtained.

    Attributes
    ----------
    rank : int
        The rank (a proved lower bound when ``status == "lower bound"``).
    n_params : int
    status : str
        ``"exact"`` (proved), ``"lower bound"`` (proved :math:`\ge`) or ``"numerical"`` (float64).
    route : str
        How: ``"exact: coefficient Jacobian"``, ``"exact: gradients at rational points"``,
        ``"certified: ball arithmetic at points"``, ``"float64: ..."``.
    upper : int
        An upper bound (symmetries / ambient dimension / :math:`P`).
    notes : str
    """

    rank: int
    n_params: int
    status: str
    route: str
    upper: int
    notes: str = ""

    def __int__(self) -> int:
        return self.rank

    def __str__(self) -> str:
        return f"rank {self.rank} of P = {self.n_params} ({self.status}; {self.route}; upper bound {self.upper})"


def _coefficient_rows(acts, widths) -> int:
    """Rows of the coefficient Jacobian: :math:`N_L\binom{N_0+D}{D}`."""
    from math import comb

    from .coefficients import network_degree

    D = network_degree(acts)
    return widths[-1] * comb(widths[0] + D, D)


def _float_rank(G: np.ndarray) -> tuple[int, float]:
    s = np.linalg.svd(G, compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0, 0.0
    tol = s[0] * max(G.shape) * np.finfo(float).eps * 10
    return int((s > tol).sum()), float(tol)


def _ball_minor_rank(G_ball: np.ndarray, r: int, prec: int) -> bool:
    """Prove that the ball matrix has an ``r x r`` nonsingular minor (chosen by pivoted QR on the midpoints)."""
    from scipy.linalg import qr

    from ..linalg.certify import arb_precision

    mid = np.vectorize(lambda b: float(b.mid()) if isinstance(b, flint.arb) else float(b), otypes=[float])(G_ball)
    _, _, cols = qr(mid, pivoting=True, mode="economic")
    cols = np.sort(cols[:r])
    _, _, rows = qr(mid[:, cols].T, pivoting=True, mode="economic")
    rows = np.sort(rows[:r])
    sub = G_ball[np.ix_(rows, cols)]
    with arb_precision(prec):
        M = flint.arb_mat(r, r, [x if isinstance(x, flint.arb) else flint.arb(x) for x in sub.ravel().tolist()])
        return not M.det().contains(0)


def deep_hessian_rank(act, weights, *, method: str = "auto", n_points: int | None = None, rng: object = 0,
                      biases=None) -> DeepRank:
    r"""Rank of :math:`E_x[J^\top J]` for a deep network at the given weights.

    Parameters
    ----------
    method : {"auto", "exact", "points", "certify", "float"}
        ``"exact"``: exact rank of the Hermite coefficient Jacobian (polynomials; rational weights).
        ``"points"``: exact rank of gradients at points (polynomials: integer points, modulo a prime; ReLU:
        rational points): a proved lower bound, exact when it meets :func:`symmetry_bound`. ``"certify"``: a nonsingular minor of gradients at
        rational points proved in ball arithmetic (erf, tanh; also ReLU/polynomials). ``"float"``:
        float64 SVD of the gradients at points (or the coefficient factor). ``"auto"``: polynomials:
        ``"points"``, then ``"exact"`` if that did not meet the upper bound (and the coefficient space has at
        most 4000 rows); ``"points"`` for ReLU, ``"certify"`` otherwise.
    n_points : int, optional
        Points for the point routes (default: enough rows for :math:`2P`).
    rng : seed of the points.
    biases : list, optional
        ``[b_1, ..., b_L]`` with ``None`` for a layer without bias (see :func:`deep_expected_hessian`).
    """
    from .coefficients import deep_coefficient_jacobian
    from .pointwise import ball_gradients, gradients, rational_gradients, rational_inputs

    methods = ("auto", "exact", "points", "certify", "float")
    if method not in methods:
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {methods}")
    n_layers = len(weights) if hasattr(weights, "__len__") else 0
    acts = layer_activations(act, max(n_layers, 1))
    poly = all(a.is_polynomial for a in acts)
    if method == "auto" and poly:
        first = deep_hessian_rank(acts, weights, method="points", n_points=n_points, rng=rng, biases=biases)
        if first.status == "exact" or _coefficient_rows(acts, widths_of(as_deep_weights(weights))) > 4000:
            return first
        method = "exact"
    if method == "auto":
        method = "points" if all(a.name == "relu" for a in acts) else "certify"
    Wf = as_deep_weights(weights)
    widths = widths_of(Wf)
    bf = as_deep_biases(biases, widths)
    nb = n_bias_parameters(bf)
    P = sum(a * b for a, b in zip(widths[:-1], widths[1:])) + nb
    upper, why = symmetry_bound(acts, widths, nb)
    if method == "exact":
        if not poly:
            raise NoClosedFormError("method='exact' needs polynomial activations; use method='certify' or 'points'")
        jac = deep_coefficient_jacobian(acts, weights, exact=True, biases=biases)
        r = exact_rank(jac.fmpq_mat())
        return DeepRank(r.rank, P, "exact", "exact: coefficient Jacobian", min(upper, jac.hermite().shape[0]), why)
    NL = widths[-1]
    relu = any(a.name == "relu" for a in acts)  # piecewise linear: the points must visit many regions
    n = int(n_points) if n_points is not None else max(2, -(-(20 if relu else 2) * P // NL))
    X = rational_inputs(n, widths[0], rng)
    if method == "float":
        if poly and _coefficient_rows(acts, widths) <= 20000:
            G = deep_coefficient_jacobian(acts, Wf, exact=False, biases=bf).factor()
            route = "float64: SVD of the orthonormal-Hermite coefficient Jacobian"
        else:
            G = gradients(acts, Wf, np.array(X.tolist(), dtype=float), bf).reshape(-1, P)
            route = f"float64: SVD of gradients at {n} points"
        r, _ = _float_rank(G)
        return DeepRank(r, P, "numerical", route, upper, why)
    Wq = rational_deep_weights(weights)
    if method == "points" and poly:
        from .pointwise import MODULUS, modular_gradients

        G = modular_gradients(acts, Wq, n, rng, biases=biases).reshape(-1, P)
        r = flint.nmod_mat(G.shape[0], P, [int(x) for x in G.ravel()], MODULUS).rank()
        status = "exact" if r == upper else "lower bound"
        return DeepRank(r, P, status, f"exact: gradients at {n} integer points modulo the prime {MODULUS}", upper, why)
    if method == "points":
        G = rational_gradients(acts, Wq, X, biases).reshape(-1, P)
        from ..linalg.rationals import to_fmpq_mat

        r = exact_rank(to_fmpq_mat(G)).rank
        status = "exact" if r == upper else "lower bound"
        return DeepRank(r, P, status, f"exact: gradients at {n} rational points", upper, why)
    # certify: float rank picks r, ball arithmetic proves an r x r minor nonsingular, backing off if needed
    Gf = gradients(acts, Wf, np.array(X.tolist(), dtype=float), bf).reshape(-1, P)
    r, _ = _float_rank(Gf)
    balls = {}
    while r > 0:
        proved = False
        for prec in (128, 256, 512, 1024):  # raise the precision before giving up on this r
            if prec not in balls:
                balls[prec] = ball_gradients(acts, Wq, X, prec, biases).reshape(-1, P)
            if _ball_minor_rank(balls[prec], r, prec):
                proved = True
                break
        if proved:
            break
        r -= 1
    status = "exact" if r == upper else "lower bound"
    return DeepRank(r, P, status, f"certified: ball arithmetic at {n} rational points", upper, why)
