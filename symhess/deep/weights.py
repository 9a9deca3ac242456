r"""Widths, teachers and per-layer activations of a deep network (NumPy only; no SymPy at import).

The network with widths :math:`(N_0, N_1, \dots, N_L)` is

.. math::

    f(x) = W_L\,\sigma_{L-1}(W_{L-1}\,\sigma_{L-2}(\cdots\sigma_1(W_1x))),\qquad W_l\in\mathbb R^{N_l\times N_{l-1}},

with no activation after the last layer, and parameters
:math:`\theta = (W_1\text{ row-major}, \dots, W_L\text{ row-major})`, :math:`P=\sum_l N_lN_{l-1}`.
With :math:`L=2`, :math:`N_2=1` this is the two-layer network :math:`f=\sum_iv_i\sigma(w_i\cdot x)` with
:math:`W_1=W`, :math:`W_2=v^\top`, and the same parameter order :math:`(W, v)`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InvalidParameterError, InvalidTypeError, NonFiniteError, ShapeError
from ..validation import as_rng, check_size

__all__ = [
    "check_widths", "n_parameters", "deep_teacher", "rational_deep_teacher", "as_deep_weights",
    "rational_deep_weights", "widths_of", "layer_activations", "parameter_slices", "as_deep_biases",
    "n_bias_parameters", "rational_deep_biases",
]


def check_widths(widths: object) -> tuple[int, ...]:
    """``widths`` as a tuple of at least two positive ints :math:`(N_0, \\dots, N_L)`."""
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise InvalidTypeError(f"widths={widths!r} must be a sequence of layer sizes (N_0, ..., N_L)")
    out = tuple(check_size(w, f"widths[{k}]") for k, w in enumerate(widths))
    if len(out) < 2:
        raise InvalidParameterError(f"widths={tuple(widths)!r} needs at least two sizes (input and output), got {len(out)}")
    return out


def n_parameters(widths: Sequence[int]) -> int:
    r""":math:`P=\sum_{l=1}^L N_lN_{l-1}`.

    Examples
    --------
    >>> n_parameters((3, 4, 2, 1))
    22
    """
    w = check_widths(widths)
    return sum(a * b for a, b in zip(w[:-1], w[1:]))


def parameter_slices(widths: Sequence[int]) -> list[slice]:
    """The slice of :math:`\\theta` holding each :math:`W_l` (row-major)."""
    w = check_widths(widths)
    out, start = [], 0
    for a, b in zip(w[:-1], w[1:]):
        out.append(slice(start, start + a * b))
        start += a * b
    return out


def deep_teacher(widths: Sequence[int], rng: object = None, *, variances: Sequence[float] | None = None) -> list[np.ndarray]:
    r"""Random teacher weights :math:`W_l` with i.i.d. :math:`N(0, 1/N_{l-1})` entries.

    Parameters
    ----------
    widths : sequence of int
        :math:`(N_0, \dots, N_L)`, :math:`L\ge1`.
    rng : None, int or numpy.random.Generator
        Randomness source.
    variances : sequence of float, optional
        One variance per layer (default :math:`1/N_{l-1}`, fan-in scaling).

    Returns
    -------
    list of ndarray
        ``[W_1, ..., W_L]``, ``W_l`` of shape ``(N_l, N_{l-1})``.

    Examples
    --------
    >>> [W.shape for W in deep_teacher((3, 4, 2, 1), rng=0)]
    [(4, 3), (2, 4), (1, 2)]
    """
    w = check_widths(widths)
    if variances is None:
        var = [1.0 / a for a in w[:-1]]
    else:
        var = [float(x) for x in variances]
        if len(var) != len(w) - 1:
            raise InvalidParameterError(f"variances has {len(var)} entries; widths {w} have {len(w) - 1} layers")
        for k, x in enumerate(var):
            if not np.isfinite(x) or x <= 0:
                raise InvalidParameterError(f"variances[{k}]={x!r} must be a positive finite variance")
    gen = as_rng(rng)
    return [gen.normal(0.0, np.sqrt(s), size=(b, a)) for a, b, s in zip(w[:-1], w[1:], var)]


def rational_deep_teacher(widths: Sequence[int], rng: object = None, *, denominator: int = 64) -> list[np.ndarray]:
    r"""A teacher with dyadic-rational entries: :math:`N(0, 1/N_{l-1})` draws rounded to multiples of ``1/denominator``.

    Returned as object arrays of ``flint.fmpq`` (exact input for ``exact=True``); zero draws are
    replaced by ``1/denominator`` so that no weight vanishes.
    """
    import flint

    Ws = deep_teacher(widths, rng)
    out = []
    for W in Ws:
        k = np.rint(W * denominator).astype(np.int64)
        k[k == 0] = 1
        arr = np.empty(k.shape, dtype=object)
        for idx in np.ndindex(k.shape):
            arr[idx] = flint.fmpq(int(k[idx]), denominator)
        out.append(arr)
    return out


def _check_chain(shapes: list[tuple[int, ...]]) -> None:
    if not shapes:
        raise ShapeError("weights is empty; give a list [W_1, ..., W_L] of 2-D arrays")
    for k, s in enumerate(shapes):
        if len(s) != 2:
            raise ShapeError(f"weights[{k}] (W_{k + 1}) must be 2-D of shape (N_{k + 1}, N_{k}); got shape {s}")
        if 0 in s:
            raise ShapeError(f"weights[{k}] (W_{k + 1}) of shape {s} is empty")
    for k in range(1, len(shapes)):
        if shapes[k][1] != shapes[k - 1][0]:
            raise ShapeError(
                f"weights[{k}] (W_{k + 1}) has {shapes[k][1]} columns but W_{k} has {shapes[k - 1][0]} rows; "
                "W_l must have shape (N_l, N_{l-1})")


def _as_list(weights: object) -> list:
    if isinstance(weights, np.ndarray) and weights.dtype != object:
        raise InvalidTypeError("weights must be a list [W_1, ..., W_L] of matrices, not one array")
    if isinstance(weights, (str, bytes)) or not hasattr(weights, "__iter__"):
        raise InvalidTypeError(f"weights must be a list [W_1, ..., W_L] of matrices; got {type(weights).__name__}")
    return list(weights)


def as_deep_weights(weights: object) -> list[np.ndarray]:
    """Validate ``[W_1, ..., W_L]`` as finite float arrays with chained shapes."""
    out = []
    for k, W in enumerate(_as_list(weights)):
        try:
            arr = np.asarray(np.asarray(W, dtype=object).tolist() if _is_exact(W) else W, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InvalidTypeError(f"weights[{k}] must be a numeric matrix: {exc}") from exc
        if arr.ndim == 2 and not np.all(np.isfinite(arr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise NonFiniteError(f"weights[{k}] (W_{k + 1}) has a non-finite entry {arr[bad]} at index {bad}")
        out.append(arr)
    _check_chain([a.shape for a in out])
    return out


def _is_exact(W: object) -> bool:
    return isinstance(W, np.ndarray) and W.dtype == object


def rational_deep_weights(weights: object) -> list[np.ndarray]:
    """Validate ``[W_1, ..., W_L]`` and convert every entry to an exact ``flint.fmpq`` (object arrays)."""
    from ..linalg.rationals import rational_array

    out = [rational_array(W, f"weights[{k}]") for k, W in enumerate(_as_list(weights))]
    _check_chain([a.shape for a in out])
    return out


def widths_of(weights: list[np.ndarray]) -> tuple[int, ...]:
    """:math:`(N_0, \\dots, N_L)` of validated weights."""
    return (int(weights[0].shape[1]),) + tuple(int(W.shape[0]) for W in weights)


def layer_activations(act: object, n_layers: int) -> list:
    """One activation per hidden layer (``n_layers - 1`` of them) from one activation or a sequence."""
    from ..activations import activation as get_activation

    n_hidden = n_layers - 1
    if isinstance(act, (list, tuple)):
        if len(act) != n_hidden:
            raise InvalidParameterError(f"{len(act)} activations given for {n_hidden} hidden layers; give one per hidden "
                             "layer or a single activation for all")
        return [get_activation(a) for a in act]
    return [get_activation(act)] * n_hidden


def as_deep_biases(biases: object, widths: Sequence[int], *, exact: bool = False) -> list:
    r"""Validate optional biases ``[b_1, ..., b_L]`` (each ``None`` or a vector of length :math:`N_l`).

    ``None`` means no biases at all. The parameter vector with biases is
    :math:`\theta=(W_1,\dots,W_L,\ b_l\text{ for the layers that have one, in layer order})`: all weights
    first, then the biases, so that depth 2 is the two-layer order :math:`(W, v, b, b_\mathrm{out})`.
    Returns a list of length :math:`L` of ``None`` or 1-D arrays (``flint.fmpq`` objects when ``exact``).
    """
    from ..linalg.rationals import rational_array

    L = len(widths) - 1
    if biases is None:
        return [None] * L
    if isinstance(biases, (str, bytes, np.ndarray)) or not hasattr(biases, "__iter__"):
        raise InvalidTypeError("biases must be a list [b_1, ..., b_L] with None for a layer without bias")
    out = list(biases)
    if len(out) != L:
        raise InvalidParameterError(f"biases has {len(out)} entries; widths {tuple(widths)} have {L} layers "
                                    "(use None for a layer without bias)")
    for l, b in enumerate(out):
        if b is None:
            continue
        arr = rational_array(b, f"biases[{l}]") if exact else np.asarray(b, dtype=float)
        if arr.ndim == 0 and widths[l + 1] == 1:
            arr = arr.reshape(1)
        if arr.shape != (widths[l + 1],):
            raise ShapeError(f"biases[{l}] (b_{l + 1}) must have shape ({widths[l + 1]},); got {arr.shape}")
        if not exact and not np.all(np.isfinite(arr)):
            raise NonFiniteError(f"biases[{l}] (b_{l + 1}) has a non-finite entry")
        out[l] = arr
    return out


def rational_deep_biases(widths: Sequence[int], rng: object = None, *, hidden: bool = True, output: bool = True,
                         denominator: int = 64) -> list:
    r"""Dyadic-rational biases near :math:`N(0, 1)` (multiples of ``1/denominator``, never 0) for the chosen layers.

    Returns ``[b_1, ..., b_L]`` with ``None`` where no bias is drawn (object arrays of ``flint.fmpq``).
    """
    import flint

    w = check_widths(widths)
    gen = as_rng(rng)
    gen = np.random.default_rng(gen.integers(2**63))  # a stream apart from the teacher's
    out = []
    for l, n in enumerate(w[1:], start=1):
        on = output if l == len(w) - 1 else hidden
        if not on:
            out.append(None)
            continue
        k = np.rint(gen.normal(size=n) * denominator).astype(np.int64)
        k[k == 0] = 1
        out.append(np.array([flint.fmpq(int(x), denominator) for x in k], dtype=object))
    return out


def n_bias_parameters(biases: list) -> int:
    """Number of bias parameters in a validated bias list."""
    return sum(0 if b is None else len(b) for b in biases)
