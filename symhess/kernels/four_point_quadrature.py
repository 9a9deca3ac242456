r"""Four-point Gaussian expectations without a closed form: one variable integrated out, then a lattice rule.

Place in the package: engine, kernels (NumPy only, plus the activation's numeric derivatives).

For :math:`y\sim N(0, C)` in four dimensions,

.. math::

    K_{abcd}(C) = E\big[\sigma^{(a)}(y_1)\sigma^{(b)}(y_2)\sigma^{(c)}(y_3)\sigma^{(d)}(y_4)\big]
    = \int \varphi_r(z)\;\prod_{\alpha=1}^4\sigma^{(o_\alpha)}\big((Az)_\alpha\big)\,dz,
    \qquad A = V\Lambda^{1/2},\quad C = V\Lambda V^\top,

with the eigen-factorisation :math:`C=AA^\top` (negative rounding residue of the eigenvalues clipped at 0;
:math:`r` the numerical rank), so a singular :math:`C` (repeated units, the teacher fixed point) needs no
special case.

**Reduced route** (``method="reduced"``, the default). Arguments that are one variable
(:math:`C_{aa}=C_{bb}=C_{ab}`, as in :math:`I_4(i,i,l,m)`) are merged into one factor, the product of
theirs. Then one variable :math:`y_\alpha` whose row of :math:`A` is not in the span of the others is
integrated out in closed form: conditionally on the others,
:math:`y_\alpha=m_\alpha+s_\alpha u` with :math:`u\sim N(0,1)` independent, :math:`m_\alpha` linear in the
remaining :math:`k=r-1` standard-normal variables, and its factor becomes the Gaussian smoothing

.. math::

    g_{s}(c)=E\big[\sigma^{(o_\alpha)}(c+s u)\big]
    =\int\sigma^{(o_\alpha)}(c+v)\,\frac{e^{-v^2/2s^2}}{s\sqrt{2\pi}}\,dv .

Rotating the outer variables (QR) so that :math:`m_\alpha` depends on :math:`z_1` alone and the next
factor on :math:`(z_1,z_2)` only, :math:`g` is needed at the :math:`2m+1` lattice values of :math:`z_1`
(a one-dimensional trapezoidal rule of step :math:`\min(1/8, s/3)` each, with its own nested-rule error
estimate) and that factor on the :math:`(2m+1)^2` pairs: only two activation evaluations per node of the
:math:`k`-dimensional lattice remain. Of the chosen :math:`\alpha` the one leaving the fewest outer
variables is taken, then the largest :math:`s_\alpha`. A product of ridge functions
:math:`\sigma(a_\beta\cdot z)` is analytic up to the nearest singularity of one factor, at a distance
proportional to :math:`1/|a_\beta| = C_{\beta\beta}^{-1/2}`, so the step follows the largest variance
:math:`\max_\beta C_{\beta\beta}`, not :math:`\lambda_{\max}(C)`. For the :math:`\eta^2` term of online SGD
at :math:`N_h=N_t=3` this is about 30 times faster than the full lattice (``benchmarks/bench_four_point.py``).

**Full route** (``method="full"``, the reference). The :math:`r`-dimensional lattice on all of :math:`z`.
Both routes integrate on the lattice :math:`h\mathbb Z^k` inside the ball :math:`|z|\le 8.6` (Gaussian
weight :math:`e^{-37}` of the centre's: negligible for activations growing at most linearly; the truncation
is not part of the estimate), with steps shrinking like the inverse standard deviation.

**Error estimate.** The rules of steps :math:`2h` and :math:`4h` use the same nodes. The full route takes
:math:`10\,|T_h-T_{2h}|^2/E|\text{integrand}|` (geometric convergence with a prefactor of the size of
:math:`E|\text{integrand}|`); the reduced route :math:`10\,d_1^3/d_2^2` with :math:`d_1=|T_h-T_{2h}|`,
:math:`d_2=|T_{2h}-T_{4h}|` (geometric convergence whatever the prefactor; :math:`d_1` when
:math:`d_2\le d_1`), plus the smoothing's estimate times :math:`E|\text{other factors}|`. Both add a
rounding floor. These are estimates, not proven bounds: the tests check them against the erf closed form
(hypothesis, all ranks, coincident and near-singular covariances), exact polynomial moments, and finer
rules. When the estimate exceeds ``rtol`` times :math:`E|\text{integrand}|`
:class:`~symhess.errors.SymhessAccuracyError` is raised instead of returning a number that may be wrong.

**Scope.** Smooth activations (analytic in a strip about the real axis): for tanh at variances
:math:`O(1)` the error is below :math:`10^{-9}` relative. Kinked activations (ReLU: a jump in
:math:`\sigma'`) converge algebraically and are refused by the caller
(:func:`symhess.kernels.codegen.compile_four_point_kernel`).
"""

from __future__ import annotations

from functools import lru_cache
from math import gamma

import numpy as np

from ..errors import InvalidParameterError, InvalidTypeError, SymhessAccuracyError

__all__ = ["gaussian_four_point_quadrature", "gaussian_cross_pair_quadrature", "DEFAULT_STEP", "DEFAULT_RTOL", "RADIUS"]

#: step of the trapezoidal rule in the standard-normal variables z (the error estimate uses 2 h)
DEFAULT_STEP = 0.4
#: nodes outside the ball |z| <= RADIUS are dropped (Gaussian weight below 1e-16 of the centre's)
RADIUS = 8.6
#: most lattice nodes one rule may use (about 60 bytes a node); beyond, the route raises
MAX_NODES = 30_000_000
#: the step is DEFAULT_STEP up to this largest eigenvalue of C, and shrinks like its inverse square root
LAM_REF = 1.0
#: eigenvalues below RANK_RTOL x the largest are treated as zero (changes the expectation by O(RANK_RTOL))
RANK_RTOL = 1e-12
#: safety factor of the error estimate, and the rounding floor relative to E|integrand|
SAFETY = 10.0
ROUNDING_FLOOR = 1e-12
#: largest accepted error estimate, relative to E|integrand|
DEFAULT_RTOL = 1e-6
_CHUNK = 2_000_000  # nodes x covariances evaluated at once
#: the outer rule of dimension k of the reduced route has step (k + 1) / REDUCED_DIVISOR x step (0.356 for k = 3)
REDUCED_DIVISOR = 4.5
#: refinements (step x 0.73 each) of the reduced route where its estimate misses the tolerance
REFINEMENTS = 2
#: the reduced route's step shrinks by this factor per level of the largest variance (finer levels waste fewer nodes)
LEVEL_FACTOR = 0.9
#: largest step of the trapezoidal rule of the Gaussian smoothing g_s(c) = E[sigma(c + s u)] (it is also <= s/3)
SMOOTHING_STEP = 0.125


@lru_cache(maxsize=32)
def _rule(h: float, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trapezoidal nodes ``k h`` in the ball ``|z| <= RADIUS`` of R^dim, weights ``h^dim phi(z)``, and the
    weights of the nested rules of steps ``2h`` and ``4h`` on the same nodes (zero off their sub-lattices).

    Built one slice of the first coordinate at a time, so that no array of the enclosing cube's size is made.
    """
    m = int(np.ceil(RADIUS / h / 4)) * 4
    k = np.arange(-m, m + 1)
    R2 = (RADIUS / h) ** 2
    if dim > 1:
        rest = np.stack([g.ravel() for g in np.meshgrid(*(k,) * (dim - 1), indexing="ij")]).astype(np.int32)
    else:
        rest = np.zeros((0, 1), dtype=np.int32)
    rest2 = np.sum(rest.astype(float) ** 2, axis=0)
    slices = []
    for k0 in k:
        keep = rest2 + float(k0) ** 2 <= R2
        if np.any(keep):
            slices.append(np.vstack([np.full(int(keep.sum()), k0, dtype=np.int32), rest[:, keep]]))
    K = np.hstack(slices)
    Z = K * h
    r2 = np.sum(Z**2, axis=0)
    W = h**dim * np.exp(-0.5 * r2) / (2 * np.pi) ** (dim / 2)
    W2 = np.where(np.all(K % 2 == 0, axis=0), 2.0**dim * W, 0.0)
    W4 = np.where(np.all(K % 4 == 0, axis=0), 4.0**dim * W, 0.0)
    return np.ascontiguousarray(Z), W, W2, W4


def _apply(funcs, A: np.ndarray, h: float) -> tuple[np.ndarray, ...]:
    """Rules of steps h, 2h, 4h and E|integrand| for factors ``A`` of shape (b, 4, dim)."""
    Z, W, W2, W4 = _rule(h, A.shape[-1])
    out = np.empty((4, A.shape[0]))
    step = max(1, _CHUNK // W.size)
    for s in range(0, A.shape[0], step):
        Y = np.einsum("bij,jn->bin", A[s:s + step], Z)            # (b, 4, N)
        prod = funcs[0](Y[:, 0])
        for a in range(1, 4):
            prod = prod * funcs[a](Y[:, a])
        out[:3, s:s + step] = (prod @ np.stack([W, W2, W4], axis=1)).T
        out[3, s:s + step] = np.abs(prod) @ W
    return tuple(out)


def _estimate(T1, T2, absval):
    """Error of the rule of step h from the rule of step 2h, for geometric convergence
    E(h) ~ S x^(1/h) with S ~ E|integrand|: E(h) ~ E(2h)^2 / S ~ |T_h - T_2h|^2 / S; a safety factor and a
    rounding floor are added."""
    d1 = np.abs(T1 - T2)
    return SAFETY * d1**2 / np.maximum(absval, 1e-300) + ROUNDING_FLOOR * absval


def _reduction_plan(P: np.ndarray, lam_max: np.ndarray):
    """For factors ``P`` (b, 4, r) of rank r: the variable to integrate out and the outer factor.

    For each candidate row alpha the other rows span a subspace of R^r of numerical dimension k_alpha
    (singular values above sqrt(RANK_RTOL lam_max)); if k_alpha < r, y_alpha = m_alpha + s_alpha z with z
    independent of the others, m_alpha linear in the k_alpha outer variables. Chosen: the smallest
    k_alpha, then the largest s_alpha. Returns alpha, k, the outer factor (b, 4, 3) (row alpha: the
    coefficients of m_alpha; columns beyond k zero), s, and whether a reduction exists.
    """
    b, _, r = P.shape
    tol = np.sqrt(RANK_RTOL * np.maximum(lam_max, 1e-300))
    ks, ss, outs = [], [], []
    for alpha in range(4):
        M = np.delete(P, alpha, axis=1)                                   # (b, 3, r)
        _, S, Vt = np.linalg.svd(M, full_matrices=True)                   # Vt (b, r, r)
        k = np.sum(S > tol[:, None], axis=1)
        coords = np.einsum("bij,bkj->bik", P, Vt)                         # rows of P in the basis Vt
        keep = np.arange(r)[None, :] < k[:, None]
        s = np.sqrt(np.sum(np.where(keep, 0.0, coords[:, alpha]) ** 2, axis=1))
        out = np.where(keep[:, None, :], coords, 0.0)[:, :, :3]
        out = np.concatenate([out, np.zeros((b, 4, 3 - out.shape[2]))], axis=2)
        ks.append(k)
        ss.append(s)
        outs.append(out)
    ks, ss, outs = np.array(ks), np.array(ss), np.array(outs)          # (4, b), (4, b), (4, b, 4, 3)
    ok = ks < r
    score = np.where(ok, ks - ss / (1.0 + ss), np.inf)                  # fewest outer variables, then largest s
    alpha = np.argmin(score, axis=0)
    idx = np.arange(b)
    return alpha, ks[alpha, idx], outs[alpha, idx], ss[alpha, idx], ok[alpha, idx]


@lru_cache(maxsize=32)
def _rule_index(h: float, dim: int) -> tuple[int, np.ndarray, np.ndarray]:
    """For the nodes of :func:`_rule`: the half-width ``m`` of the index range, the index ``k_0 + m`` of the
    first coordinate and the flat index ``(k_0 + m)(2m + 1) + k_1 + m`` of the first two."""
    Z = _rule(h, dim)[0]
    K = np.rint(Z / h).astype(np.intp)
    m = int(np.abs(K).max())
    i0 = K[0] + m
    i01 = i0 * (2 * m + 1) + (K[1] + m if dim > 1 else m)
    return m, i0, i01


@lru_cache(maxsize=None)
def _factor(spec: tuple):
    r"""The product :math:`\prod_{(\sigma, o)\in\text{spec}}\sigma^{(o)}` as one vectorised function (a variable
    that several arguments share carries the product of their factors; an empty spec is the constant 1)."""
    fs = [a.numeric(o) for a, o in spec]
    if len(fs) == 1:
        return fs[0]

    def product(x):
        out = np.ones(np.shape(x))
        for f in fs:
            out *= f(x)
        return out

    return product


@lru_cache(maxsize=32)
def _reduced_rule(h: float, dim: int):
    """For :func:`_apply_reduced`: the weights of steps h, 2h, 4h as columns, and on the nodes of the rule of
    step 2h (indices ``sub``) its weights and the indices of :func:`_rule_index`."""
    Z, W, W2, W4 = _rule(h, dim)
    _, i0, i01 = _rule_index(h, dim)
    sub = np.nonzero(W2)[0]
    return np.stack([W, W2, W4], axis=1), sub, W2[sub], i0[sub], i01[sub]


def _smoothed(f, c: np.ndarray, s: np.ndarray):
    r""":math:`g_s(c)=E[f(c+su)]`, :math:`u\sim N(0,1)`, at points ``c`` (b, n) for each ``s`` (b,), by the
    trapezoidal rule of step :math:`\delta=\min(` :data:`SMOOTHING_STEP` :math:`, s/3)` in :math:`su`, and the
    error estimate of the same kind as the lattice rules' (from the nested rule of step :math:`2\delta`), and
    :math:`E|f(c+su)|`.

    The step resolves the Gaussian (aliasing error :math:`2e^{-2\pi^2s^2/\delta^2}<e^{-170}`) and the
    activation (:math:`O(e^{-2\pi d/\delta})` for :math:`f` analytic in the strip :math:`|\mathrm{Im}|<d`).
    """
    delta = np.minimum(SMOOTHING_STEP, s / 3.0)
    L = int(np.ceil(RADIUS * np.max(s / delta))) + 1
    L += L % 2
    if c.size * (2 * L + 1) > MAX_NODES:
        raise SymhessAccuracyError(
            f"the Gaussian smoothing at conditional standard deviation {float(np.max(s)):.3g} needs "
            f"{c.size * (2 * L + 1):.2g} activation evaluations, beyond the budget of {MAX_NODES:.0e} (memory): "
            "not computed; lower the weight scale"
        )
    l = np.arange(-L, L + 1)
    u = l[None, :] * delta[:, None]                                       # (b, 2L+1)
    w = delta[:, None] * np.exp(-0.5 * (u / s[:, None]) ** 2) / (s[:, None] * np.sqrt(2 * np.pi))
    w2 = np.where(l % 2 == 0, 2.0 * w, 0.0)
    F = f(c[:, :, None] + u[:, None, :])                                  # (b, n, 2L+1)
    g1 = np.einsum("bnl,bl->bn", F, w)
    g2 = np.einsum("bnl,bl->bn", F, w2)
    absg = np.einsum("bnl,bl->bn", np.abs(F), w)
    return g1, _estimate(g1, g2, absg), absg


def _apply_reduced(specs, alpha: int, A: np.ndarray, s: np.ndarray, h: float):
    """Rules of steps h, 2h, 4h, E|integrand| and the smoothing's error contribution, for outer factors ``A``
    (b, 4, k) whose row ``alpha`` holds the coefficients of the conditional mean of y_alpha, of conditional
    standard deviation ``s`` (b,); row ``a`` carries the factor ``_factor(specs[a])`` (none if empty).

    The outer basis is rotated (QR) so that the mean depends on z_1 alone and the first other row on
    (z_1, z_2): the smoothed factor is computed on the 2m+1 values of z_1, that row on the (2m+1)^2 pairs,
    and only the two remaining rows on the whole lattice.
    """
    b, _, k = A.shape
    Z, W, W2, W4 = _rule(h, k)
    m, i0, i01 = _rule_index(h, k)
    others = [a for a in range(4) if a != alpha and specs[a]]
    funcs = {a: _factor(specs[a]) for a in others}
    # rotate: columns of the new basis span (mean), (mean, first other row), ...
    M = np.concatenate([A[:, [alpha]], A[:, others], np.zeros((b, 2, k))], axis=1).swapaxes(1, 2)[:, :, :k]
    Qb, _ = np.linalg.qr(M)                                               # (b, k, k)
    B = np.einsum("bik,bkj->bij", A, Qb)                                  # rows in the rotated basis
    if k >= 2:
        B[:, alpha, 1:] = 0.0                                             # exact zeros of the construction
    if k >= 3:
        B[:, others[0], 2:] = 0.0
    grid = h * np.arange(-m, m + 1)
    g, g_err, g_abs = _smoothed(_factor(specs[alpha]), B[:, alpha, 0][:, None] * grid[None, :], s)  # (b, 2m+1)
    if k >= 3 and len(others) >= 2:
        first = funcs[others[0]](B[:, others[0], 0][:, None, None] * grid[None, :, None]
                                 + B[:, others[0], 1][:, None, None] * grid[None, None, :])
        planar = (g[:, :, None] * first).reshape(b, -1)
        # E|integrand| = E[|others| E[|f_alpha| | outer]]; the smoothing's error enters weighted by |others|
        planar_abs = (g_abs[:, :, None] * np.abs(first)).reshape(b, -1)
        planar_err = (g_err[:, :, None] * np.abs(first)).reshape(b, -1)
        full = others[1:]
    else:
        planar = g
        planar_abs, planar_err = g_abs, g_err
        full = others
    index = i01 if (k >= 3 and len(others) >= 2) else i0
    # E|integrand| and the smoothing's error term are scales: taken on the coarse lattice (step 2h)
    WW, sub, W2s, i0s, i01s = _reduced_rule(h, k)
    index_sub = i01s if index is i01 else i0s
    out = np.empty((5, b))
    step = max(1, _CHUNK // W.size)
    for c0 in range(0, b, step):
        sl = slice(c0, c0 + step)
        nb = B[sl].shape[0]
        if full:
            Y = B[sl][:, full] @ Z                                        # (b, len(full), N)
            rest = funcs[full[0]](Y[:, 0]) * (funcs[full[1]](Y[:, 1]) if len(full) > 1 else 1.0)  # fresh
            for i, a in enumerate(full[2:], 2):
                rest *= funcs[a](Y[:, i])
        else:
            rest = np.ones((nb, W.size))
        rest_sub = np.take(rest, sub, axis=1)
        rest *= np.take(planar[sl], index, axis=1)
        out[:3, sl] = (rest @ WW).T
        rest_sub = np.abs(rest_sub)
        out[3, sl] = (rest_sub * np.take(planar_abs[sl], index_sub, axis=1)) @ W2s
        out[4, sl] = (rest_sub * np.take(planar_err[sl], index_sub, axis=1)) @ W2s
    return tuple(out)


def _check_budget(label: str, dim: int, h: float, lam_max: float) -> None:
    nodes = np.pi ** (dim / 2) / gamma(dim / 2 + 1) * (RADIUS / h) ** dim  # lattice points in the ball
    if nodes > MAX_NODES:
        raise SymhessAccuracyError(
            f"{label}: a covariance with "
            f"largest eigenvalue {lam_max:.3g} needs a {dim}-dimensional rule of ~{nodes:.2g} nodes, beyond "
            f"the budget of {MAX_NODES:.0e} (memory): not computed; lower the weight scale or use "
            "second_order=False"
        )


def _estimate3(T1, T2, T4, absval):
    """Error of the rule of step h from the rules of steps h, 2h, 4h: for geometric convergence
    E(h) ~ S x^(1/h) the differences d1 = |T_h - T_2h| ~ E(2h) and d2 = |T_2h - T_4h| ~ E(4h) give
    E(h) ~ d1^3 / d2^2 whatever S (when d2 > d1; d1 otherwise, outside the asymptotic regime); a safety
    factor and the rounding floor are added."""
    d1, d2 = np.abs(T1 - T2), np.abs(T2 - T4)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        est = np.where(d2 > d1, SAFETY * d1 * (d1 / np.where(d2 > 0, d2, 1.0)) ** 2, d1)
    return est + ROUNDING_FLOOR * absval


def gaussian_four_point_quadrature(act, orders: tuple[int, int, int, int], C, *, step: float = DEFAULT_STEP,
                                   rtol: float = DEFAULT_RTOL, with_error: bool = False,
                                   method: str = "reduced", acts: tuple | None = None):
    r""":math:`E[\prod_\alpha\sigma^{(o_\alpha)}(y_\alpha)]`, :math:`y\sim N(0,C)`, for a batch of covariances.

    Parameters
    ----------
    act : Activation
        Provides ``numeric(order)``.
    orders : tuple of four ints
        Derivative orders :math:`(o_1,\dots,o_4)`.
    C : array_like, shape (..., 4, 4)
        Symmetric positive semi-definite covariances (singular allowed).
    step : float
        Step :math:`h` of the four-dimensional trapezoidal rule in the standard-normal variables (rules of
        fewer dimensions are finer; the reduced route's outer rule of dimension :math:`k` has step
        :math:`(k+1)h/4.5`).
    rtol : float
        Largest accepted error estimate relative to :math:`E|\text{integrand}|`; ``inf`` disables the check.
    with_error : bool
        Also return the error estimates (module docstring).
    method : {"reduced", "full"}
        Integrate one variable out first (default), or the full lattice (the slower reference).
    acts : tuple of four Activation, optional
        A different activation for each argument (e.g. teacher units with their own activation):
        :math:`E[\prod_\alpha\sigma_\alpha^{(o_\alpha)}(y_\alpha)]`; ``act`` names them in messages.

    Returns
    -------
    ndarray, shape (...)
        The expectations (and the error estimates, if ``with_error``).

    Raises
    ------
    SymhessAccuracyError
        If an error estimate exceeds ``rtol`` times :math:`E|\text{integrand}|`.
    """
    orders = tuple(int(o) for o in orders)
    if len(orders) != 4 or min(orders) < 0:
        raise InvalidParameterError(f"orders={orders!r} must be four derivative orders >= 0")
    acts = (act,) * 4 if acts is None else tuple(acts)
    if len(acts) != 4:
        raise InvalidParameterError(f"acts has {len(acts)} entries; it needs one activation per argument (4)")
    if not all(callable(getattr(a, "numeric", None)) for a in acts):
        raise InvalidTypeError(f"acts={acts!r} must hold Activation objects (symhess.activation(spec))")
    names = sorted({getattr(a, "spec", str(a)) for a in acts})
    label = f"four-point quadrature of {' / '.join(map(repr, names))}, orders {orders}"
    specs = tuple(((a, o),) for a, o in zip(acts, orders))
    return _quadrature(specs, C, label, step, rtol, with_error, method)


def _quadrature(specs, C, label: str, step: float, rtol: float, with_error: bool, method: str,
                with_scale: bool = False):
    r""":math:`E[\prod_\alpha f_\alpha(y_\alpha)]` with ``f_alpha = _factor(specs[alpha])`` (``with_scale``: also
    :math:`E|\text{integrand}|`)."""
    if not (0 < float(step) <= 2.0):
        raise InvalidParameterError(f"step={step!r} must be in (0, 2]")
    C = np.asarray(C, dtype=float)
    if C.shape[-2:] != (4, 4):
        raise InvalidParameterError(f"C of shape {C.shape} must have shape (..., 4, 4)")
    batch = C.shape[:-2]
    Cf = C.reshape(-1, 4, 4)
    if not np.all(np.isfinite(Cf)):
        raise InvalidParameterError("C has non-finite entries")
    lam, V = np.linalg.eigh(0.5 * (Cf + np.swapaxes(Cf, -1, -2)))
    A = V * np.sqrt(np.clip(lam, 0.0, None))[:, None, :]
    funcs = [_factor(sp_) for sp_ in specs]
    # numerical rank: eigen-directions below RANK_RTOL of the largest change the expectation by O(lam)
    rank = np.sum(lam > RANK_RTOL * np.maximum(lam[:, -1:], 1e-300), axis=1)
    val, err, absval = (np.zeros(len(Cf)) for _ in range(3))
    # the step in z shrinks with the largest standard deviation (levels of a factor 0.8 above LAM_REF),
    # and is finer in fewer dimensions where nodes are cheap
    level = np.ceil(np.log(np.maximum(lam[:, -1], LAM_REF) / LAM_REF) / np.log(1 / 0.8**2)).astype(int)
    direct = rank > 0
    if method == "reduced":
        # integrate one variable out (a Gaussian smoothing) where the rank allows it. A product of ridge
        # functions sigma(a_b . z) is analytic in z up to the nearest singularity of one factor, at a distance
        # proportional to 1 / |a_b| = 1 / sqrt(C_bb): the step follows the largest variance, not lam_max(C)
        diag = np.max(np.diagonal(Cf, axis1=1, axis2=2), axis=1)
        level_red = np.ceil(np.log(np.maximum(diag, LAM_REF) / LAM_REF) / np.log(1 / LEVEL_FACTOR**2)).astype(int)
        # arguments that are one variable (C_aa = C_bb = C_ab, as for I4(i, i, l, m)) share one factor
        specs_of, A_red = {}, A.copy()
        pattern = np.zeros((len(Cf), 4), dtype=int)
        for a in range(4):
            pattern[:, a] = a
            for b_ in range(a):
                same = (Cf[:, a, a] == Cf[:, b_, b_]) & (Cf[:, a, b_] == Cf[:, a, a]) & (pattern[:, a] == a)
                pattern[same, a] = pattern[same, b_]
        A_red[pattern != np.arange(4)[None, :]] = 0.0
        for r in (2, 3, 4):
            sel = np.nonzero(rank == r)[0]
            if sel.size == 0:
                continue
            alpha, k, Aout, s, ok = _reduction_plan(A_red[sel][:, :, 4 - r:], lam[sel, -1])
            ok &= k >= 1
            direct[sel[ok]] = False
            keys = [tuple(pattern[sel[i]]) + (int(alpha[i]), int(k[i]), int(level_red[sel[i]]))
                    for i in range(sel.size)]
            for key in sorted({keys[i] for i in np.nonzero(ok)[0]}):
                pat, (a, kk, j) = key[:4], key[4:]
                if pat not in specs_of:
                    specs_of[pat] = tuple(tuple(sorted((f for c in range(4) if pat[c] == d for f in specs[c]),
                                                       key=lambda f: (getattr(f[0], "spec", ""), f[1])))
                                          if pat[d] == d else () for d in range(4))
                sub = np.array([i for i in np.nonzero(ok)[0] if keys[i] == key])
                # where the estimate misses the tolerance (outside the asymptotic regime), refine the step
                for retry in range(REFINEMENTS + 1):
                    h = float(step) * (kk + 1) / REDUCED_DIVISOR * LEVEL_FACTOR ** (j + 3 * retry)
                    _check_budget(label, kk, h, lam[sel[sub[0]], -1])
                    T1, T2, T4, absv, smooth_err = _apply_reduced(specs_of[pat], a, Aout[sub][:, :, :kk], s[sub], h)
                    idx = sel[sub]
                    val[idx], err[idx], absval[idx] = T1, _estimate3(T1, T2, T4, absv) + smooth_err, absv
                    miss = err[idx] > rtol * absval[idx]
                    if not np.any(miss):
                        break
                    sub = sub[miss]
    elif method != "full":
        raise InvalidParameterError(f"method={method!r} must be 'reduced' or 'full'")
    for r in range(1, 5):
        for j in np.unique(level[direct & (rank == r)]):
            sel = np.nonzero(direct & (rank == r) & (level == j))[0]
            h = float(step) * r / 4 * 0.8**j
            _check_budget(label, r, h, lam[sel[0], -1])
            T1, T2, _, absv = _apply(funcs, A[sel][:, :, 4 - r:], h)
            val[sel], err[sel], absval[sel] = T1, _estimate(T1, T2, absv), absv
    zero = rank == 0   # C = 0: the integrand is the constant prod sigma^(o)(0)
    if np.any(zero):
        val[zero] = np.prod([f(np.zeros(1))[0] for f in funcs])
        absval[zero] = abs(val[zero][0])
    bad = err > rtol * absval + 1e-300
    if np.any(bad):
        k = int(np.argmax(np.where(bad, err / np.maximum(absval, 1e-300), -1)))
        raise SymhessAccuracyError(
            f"{label}: error estimate "
            f"{err[k]:.3g} exceeds rtol={rtol:g} x E|integrand| = {rtol * absval[k]:.3g} at a covariance with "
            f"eigenvalues {np.array2string(lam[k], precision=3)} (the step h={step:g} does not resolve the "
            "activation at this variance; a smaller step resolves it at a cost growing like 1/h^4): not "
            "returning a number that may be wrong"
        )
    val = val.reshape(batch)
    if with_scale:
        return val, err.reshape(batch), absval.reshape(batch)
    return (val, err.reshape(batch)) if with_error else val


def gaussian_cross_pair_quadrature(act1, a: int, act2, b: int, q1, q2, c, *, rtol: float = DEFAULT_RTOL,
                                   with_error: bool = False, with_scale: bool = False):
    r""":math:`E[\sigma^{(a)}(u)\,\tau^{(b)}(v)]`, :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])`, for two activations.

    The two-argument case of the reduced route (one variable integrated out by the Gaussian smoothing, the
    other by a one-dimensional trapezoidal rule), for pairs of activations without a closed-form cross
    expectation (:func:`symhess.expectation.pairs.cross_pair_expectation`). Arrays broadcast.
    ``with_error``: also the error estimates; ``with_scale``: the values, the error estimates and
    :math:`E|\sigma^{(a)}(u)\tau^{(b)}(v)|` (the scale of the relative check).
    """
    q1, q2, c = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (q1, q2, c)))
    C = np.zeros(q1.shape + (4, 4))
    C[..., 0, 0], C[..., 1, 1], C[..., 0, 1], C[..., 1, 0] = q1, q2, c, c
    label = (f"pair quadrature of {getattr(act1, 'spec', act1)!r} (order {a}) and "
             f"{getattr(act2, 'spec', act2)!r} (order {b})")
    specs = (((act1, int(a)),), ((act2, int(b)),), (), ())
    return _quadrature(specs, C, label, DEFAULT_STEP, rtol, with_error, "reduced", with_scale)
