r"""Gradients of a deep network at chosen inputs: floats, exact rationals and balls; certified ranks; QMC estimates.

Place in the package: the deep-network family (NumPy, SciPy's Sobol sequences, python-flint).

**Rank without the expectation.** :math:`c^\top Hc = E[\lVert Jc\rVert^2]` with :math:`H=E_x[J^\top J]`, so
:math:`Hc=0` iff :math:`\sum_p c_p\,\partial f/\partial\theta_p = 0` almost everywhere; for a network that
is continuous in :math:`x` (every activation here) that is everywhere. Hence for any inputs
:math:`x_1,\dots,x_n` the stacked gradient matrix :math:`G=[J(x_1);\dots;J(x_n)]` satisfies
:math:`\ker H\subseteq\ker G`, i.e. :math:`\operatorname{rank}G\le\operatorname{rank}H`, with equality at
generic points once :math:`nN_L\ge\operatorname{rank}H` for analytic activations (the span of the
functions :math:`\partial f/\partial\theta_p` is then detected by point evaluations). A nonsingular
:math:`r\times r` minor of :math:`G` — proved exactly over :math:`\mathbb Q` (polynomial and ReLU
networks at rational weights and inputs have rational gradients) or in ball arithmetic (erf, tanh) —
proves :math:`\operatorname{rank}H\ge r`. An upper bound comes from the symmetries: for positively
homogeneous ReLU, rescaling a hidden unit's incoming weights by :math:`t` and its outgoing ones by
:math:`1/t` leaves :math:`f` unchanged, so each hidden unit gives a null vector of :math:`H`.

**Quasi-Monte Carlo.** For non-polynomial activations the inner layers' outputs are not Gaussian and
no closed form is known at depth :math:`>2`. :func:`qmc_hessian` averages :math:`J^\top J` over
:math:`R` independently scrambled Sobol point sets mapped to :math:`N(0,I)` by the inverse normal CDF
(randomised QMC: each replicate is an unbiased estimate), and reports the entrywise standard error
:math:`s/\sqrt R` of the replicate mean: an *estimate* of the error, not a bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from ..errors import InvalidParameterError, NoClosedFormError
from ..linalg.certify import arb_precision
from ..linalg.rationals import dyadic_normal
from ..validation import as_rng
from .weights import (
    as_deep_biases, as_deep_weights, layer_activations, n_bias_parameters, rational_deep_weights, widths_of,
)

__all__ = [
    "gradients", "rational_gradients", "modular_gradients", "MODULUS", "ball_gradients", "rational_inputs", "QMCHessian", "qmc_hessian",
    "check_qmc_dense_size",
]


def _numeric_pair(act):
    return act.numeric(0), act.numeric(1)


def gradients(act, weights, X, biases=None) -> np.ndarray:
    r"""Float Jacobians :math:`J(x_\mu)=\partial f/\partial\theta` at the rows of ``X``; shape ``(n, N_L, P)``.

    ``biases``: optional ``[b_1, ..., b_L]`` (``None`` entries for layers without); their columns follow
    all weight columns.
    """
    Ws = as_deep_weights(weights)
    bs = as_deep_biases(biases, widths_of(Ws))
    L = len(Ws)
    acts = layer_activations(act, L)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != Ws[0].shape[1]:
        raise InvalidParameterError(f"X must have shape (n_points, {Ws[0].shape[1]}); got {X.shape}")
    n = X.shape[0]
    a, outs, slopes = X, [X], []
    for l in range(L - 1):
        h = a @ Ws[l].T
        if bs[l] is not None:
            h = h + bs[l]
        s, ds = _numeric_pair(acts[l])
        slopes.append(np.broadcast_to(ds(h), h.shape))
        a = np.broadcast_to(s(h), h.shape)
        outs.append(a)
    NL = Ws[-1].shape[0]
    delta = np.broadcast_to(np.eye(NL), (n, NL, NL))  # (n, k, unit)
    blocks, bias_blocks = [], []
    for l in range(L - 1, -1, -1):
        blocks.append((delta[:, :, :, None] * outs[l][:, None, None, :]).reshape(n, NL, -1))
        if bs[l] is not None:
            bias_blocks.append(np.array(delta))
        if l > 0:
            delta = (delta @ Ws[l]) * slopes[l - 1][:, None, :]
    return np.concatenate(blocks[::-1] + bias_blocks[::-1], axis=2)


def rational_inputs(n_points: int, n_in: int, rng: object = None, *, denominator: int = 1 << 10) -> np.ndarray:
    """``(n_points, n_in)`` object array of dyadic rationals near :math:`N(0,1)` draws."""
    return dyadic_normal((n_points, n_in), as_rng(rng), denominator)


#: a prime below 2**26: products of two residues stay below 2**52, so int64 dot products of up to 2**11 terms are exact
MODULUS = 67108859


def _mod(q, p: int) -> int:
    q = flint.fmpq(q)
    return int(q.p) * pow(int(q.q), -1, p) % p


def modular_gradients(act, weights, n_points: int, rng: object = None, *, prime: int = MODULUS,
                      biases=None) -> np.ndarray:
    r"""Jacobians at random integer points, reduced modulo ``prime`` (polynomial activations, rational weights).

    Returns an int64 array ``(n_points, N_L, P)`` of residues. For integer points :math:`x_\mu` the exact
    rational matrix :math:`G=[J(x_\mu)]` has denominators from the weights and the activation coefficients only;
    when ``prime`` divides none of them, :math:`G\bmod p` is this array, and
    :math:`\operatorname{rank}_p G\le\operatorname{rank}_{\mathbb Q}G\le\operatorname{rank}H`: a certified lower bound.
    """
    from .coefficients import polynomial_coefficients

    Ws = rational_deep_weights(weights)
    acts = layer_activations(act, len(Ws))
    bs = as_deep_biases(biases, widths_of(Ws), exact=True)
    for W in Ws + [b for b in bs if b is not None]:
        for q in W.ravel():
            if int(flint.fmpq(q).q) % prime == 0:
                raise InvalidParameterError(f"a weight's or bias's denominator is divisible by the prime {prime}")
    Wm = [np.vectorize(lambda q: _mod(q, prime), otypes=[np.int64])(W) for W in Ws]
    bm = [None if b is None else np.vectorize(lambda q: _mod(q, prime), otypes=[np.int64])(b) for b in bs]
    coeffs = []
    for a in acts:
        c = [_mod(ck, prime) for ck in polynomial_coefficients(a, exact=True)]
        coeffs.append((c, [(k * ck) % prime for k, ck in enumerate(c)][1:] or [0]))
    gen = as_rng(rng)
    X = gen.integers(0, prime, size=(int(n_points), Ws[0].shape[1]), dtype=np.int64)

    def horner(cs, h):
        acc = np.full(h.shape, cs[-1], dtype=np.int64)
        for ck in reversed(cs[:-1]):
            acc = (acc * h + ck) % prime
        return acc

    n, L = X.shape[0], len(Wm)
    a, outs, slopes = X, [X], []
    for l in range(L - 1):
        h = (a @ Wm[l].T) % prime
        if bm[l] is not None:
            h = (h + bm[l]) % prime
        slopes.append(horner(coeffs[l][1], h))
        a = horner(coeffs[l][0], h)
        outs.append(a)
    NL = Wm[-1].shape[0]
    delta = np.broadcast_to(np.eye(NL, dtype=np.int64), (n, NL, NL))
    blocks, bias_blocks = [], []
    for l in range(L - 1, -1, -1):
        blocks.append(((delta[:, :, :, None] * outs[l][:, None, None, :]) % prime).reshape(n, NL, -1))
        if bm[l] is not None:
            bias_blocks.append(np.array(delta))
        if l > 0:
            delta = (((delta @ Wm[l]) % prime) * slopes[l - 1][:, None, :]) % prime
    return np.concatenate(blocks[::-1] + bias_blocks[::-1], axis=2)


def _exact_activation(act):
    """Exact rational ``(sigma, sigma')`` on object arrays: polynomials with rational coefficients, or ReLU."""
    if act.is_polynomial:
        from .coefficients import polynomial_coefficients

        c = polynomial_coefficients(act, exact=True)
        dc = tuple(k * ck for k, ck in enumerate(c))[1:] or (0 * c[0],)

        def horner(cs, h):
            acc = np.full(h.shape, cs[-1], dtype=object)
            for ck in reversed(cs[:-1]):
                acc = acc * h + ck
            return acc

        return (lambda h: horner(c, h)), (lambda h: horner(dc, h))
    if act.name == "relu":
        def relu(h):
            return np.where(np.vectorize(lambda t: t > 0, otypes=[bool])(h), h, flint.fmpq(0))

        def step(h):  # 0 at 0: used only where the layer's whole input is 0 (checked in _backprop_objects)
            return np.where(np.vectorize(lambda t: t > 0, otypes=[bool])(h), flint.fmpq(1), flint.fmpq(0))

        step.kinked = True
        return relu, step
    raise NoClosedFormError(f"{act.spec!r} has irrational values at rational points; use ball_gradients")


def _backprop_objects(Ws, pairs, X, one, bs=None):
    n = X.shape[0]
    L = len(Ws)
    bs = [None] * L if bs is None else bs
    a, outs, slopes = X, [X], []
    for l in range(L - 1):
        h = a.dot(Ws[l].T)
        if bs[l] is not None:
            h = h + bs[l][None, :]
        s, ds = pairs[l]
        if getattr(ds, "kinked", False):
            live = np.array([any(t != 0 for t in row) for row in a], dtype=bool) | (bs[l] is not None)
            if any(t == 0 for t in h[live].ravel()):
                raise InvalidParameterError("an input lies on a ReLU kink (pre-activation exactly 0 with a nonzero layer "
                                 "input); draw other points")
        slopes.append(ds(h))
        a = s(h)
        outs.append(a)
    NL = Ws[-1].shape[0]
    delta = np.empty((n, NL, NL), dtype=object)
    delta[...] = 0 * one
    for k in range(NL):
        delta[:, k, k] = one
    blocks, bias_blocks = [], []
    for l in range(L - 1, -1, -1):
        blocks.append((delta[:, :, :, None] * outs[l][:, None, None, :]).reshape(n, NL, -1))
        if bs[l] is not None:
            bias_blocks.append(delta.copy())
        if l > 0:
            delta = np.einsum("nku,uv->nkv", delta, Ws[l]) * slopes[l - 1][:, None, :]
    return np.concatenate(blocks[::-1] + bias_blocks[::-1], axis=2)


def rational_gradients(act, weights, X, biases=None) -> np.ndarray:
    """Exact ``fmpq`` Jacobians at rational inputs (polynomial activations with rational coefficients, ReLU)."""
    from ..linalg.rationals import rational_array

    Ws = rational_deep_weights(weights)
    bs = as_deep_biases(biases, widths_of(Ws), exact=True)
    acts = layer_activations(act, len(Ws))
    Xq = rational_array(X, "X")
    if Xq.ndim != 2 or Xq.shape[1] != Ws[0].shape[1]:
        raise InvalidParameterError(f"X must have shape (n_points, {Ws[0].shape[1]}); got {Xq.shape}")
    return _backprop_objects(Ws, [_exact_activation(a) for a in acts], Xq, flint.fmpq(1), bs)


def _arb_scale(act) -> flint.arb:
    import sympy as sp  # the activation's parameter is a SymPy number

    s2 = sp.nsimplify(act.params.get("scale", 1)) ** 2
    if not s2.is_Rational:
        raise NoClosedFormError(f"{act.spec!r}: ball arithmetic needs a rational scale or a rational squared scale")
    return flint.arb(flint.fmpq(int(s2.p), int(s2.q))).sqrt()


def _arb_shift(act) -> flint.arb:
    import sympy as sp

    t = sp.nsimplify(act.params.get("shift", 0))
    if not t.is_Rational:
        raise NoClosedFormError(f"{act.spec!r}: ball arithmetic needs a rational shift")
    return flint.arb(flint.fmpq(int(t.p), int(t.q)))


def _ball_activation(act):
    if act.is_polynomial:
        s, ds = _exact_activation(act)
        return (lambda h: s(h)), (lambda h: ds(h))
    if act.name == "erf":
        s = _arb_scale(act)
        t = _arb_shift(act)
        two_over_sqrt_pi = 2 / flint.arb.pi().sqrt()
        return (np.vectorize(lambda h: (s * h + t).erf(), otypes=[object]),
                np.vectorize(lambda h: two_over_sqrt_pi * s * (-(s * h + t) ** 2).exp(), otypes=[object]))
    if act.name == "tanh":
        return (np.vectorize(lambda h: h.tanh(), otypes=[object]),
                np.vectorize(lambda h: 1 - h.tanh() ** 2, otypes=[object]))
    if act.name == "relu":
        return _exact_activation(act)
    raise NoClosedFormError(f"no ball-arithmetic evaluation for {act.spec!r} (erf, tanh, ReLU and polynomials have one)")


def ball_gradients(act, weights, X, prec: int, biases=None) -> np.ndarray:
    """Jacobians at rational inputs as ``flint.arb`` balls at ``prec`` bits (erf, tanh; exact for the rest)."""
    from ..linalg.rationals import rational_array

    Ws = rational_deep_weights(weights)
    bs = as_deep_biases(biases, widths_of(Ws), exact=True)
    acts = layer_activations(act, len(Ws))
    Xq = rational_array(X, "X")
    with arb_precision(prec):
        tob = np.vectorize(lambda q: flint.arb(q), otypes=[object])
        Wb = [tob(W) for W in Ws]
        bb = [None if b is None else tob(b) for b in bs]
        return _backprop_objects(Wb, [_ball_activation(a) for a in acts], tob(Xq), flint.arb(1), bb)


@dataclass(frozen=True)
class QMCHessian:
    r"""A randomised quasi-Monte Carlo estimate of :math:`E_x[J^\top J]`.

    Attributes
    ----------
    hessian : ndarray (P, P)
        Mean over the replicates.
    stderr : ndarray (P, P)
        Entrywise standard error of that mean (replicate standard deviation over :math:`\sqrt R`).
    n_points, replicates : int
        Sobol points per replicate and number of independent scramblings.
    """

    hessian: np.ndarray
    stderr: np.ndarray
    n_points: int
    replicates: int

    @property
    def error(self) -> float:
        """Three times the largest standard error: the estimate's stated accuracy (an estimate, not a bound)."""
        return float(3 * self.stderr.max())


def qmc_hessian(act, weights, *, n_points: int = 1 << 12, replicates: int = 16, rng: object = None,
                max_bytes: int | None = None, biases=None) -> QMCHessian:
    r"""Randomised-QMC estimate of the expected Hessian at the optimum (any activation; see the module docstring).

    Parameters
    ----------
    n_points : int
        Sobol points per replicate (a power of two keeps the sequence balanced).
    replicates : int
        Independent scramblings (at least 2: the error estimate needs a spread).
    rng : None, int or numpy.random.Generator
        Seeds the scramblings (:func:`~symhess.deep.qmc_operator.qmc_points`).
    max_bytes : int, optional
        Memory budget of the dense route (default 80% of the memory available now).

    Raises
    ------
    MemoryLimitError
        The :math:`R` replicate matrices and one replicate's Jacobians
        (:math:`8(R+2)P^2+8nN_LP` bytes) exceed the budget; the message names the matrix-free route
        :func:`symhess.deep_hessian_operator` (same samples, Hessian-vector products only).
    """
    from .qmc_operator import qmc_points

    Ws = as_deep_weights(weights)
    widths = widths_of(Ws)
    bs = as_deep_biases(biases, widths)
    P = sum(W.size for W in Ws) + n_bias_parameters(bs)
    check_qmc_dense_size(P, widths[-1], n_points, replicates, max_bytes)
    pts = qmc_points(widths[0], n_points, replicates, rng)
    reps = []
    for X in pts:
        G = gradients(act, Ws, X, bs)
        reps.append(np.einsum("nkp,nkq->pq", G, G) / len(X))
    R = np.stack(reps)
    mean = R.mean(axis=0)
    se = R.std(axis=0, ddof=1) / np.sqrt(len(R))
    return QMCHessian(mean, se, int(n_points), int(replicates))


def check_qmc_dense_size(n_params: int, n_out: int, n_points: int, replicates: int, max_bytes: int | None = None) -> None:
    """Raise :class:`~symhess.errors.MemoryLimitError` when the dense QMC route would not fit in the budget."""
    from ..errors import MemoryLimitError
    from ..validation import available_memory

    if not isinstance(n_points, (int, np.integer)) or not isinstance(replicates, (int, np.integer)):
        return  # qmc_points reports the bad value
    need = 8 * ((int(replicates) + 2) * n_params * n_params + int(n_points) * n_out * n_params)
    budget = int(0.8 * available_memory()) if max_bytes is None else int(max_bytes)
    if need > budget:
        raise MemoryLimitError(
            f"the dense quasi-Monte Carlo expected Hessian with P={n_params} parameters ({replicates} replicates of "
            f"{n_points} points) needs {need / 2**30:.2f} GiB, more than the {budget / 2**30:.2f} GiB budget; use "
            "the matrix-free route symhess.deep_hessian_operator(act, weights) (same samples, Hessian-vector "
            "products with a stated error, for extreme_eigenvalues and slq_density) instead")
