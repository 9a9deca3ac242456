r"""Random teachers: :math:`W_{ij}\sim N(0,\sigma_w^2)`, :math:`v_i\sim N(0,\sigma_v^2)`.

Place in the pipeline: layer 2 (NumPy only). The default variances are :math:`1/N_i` and
:math:`1/N_h` (fan-in scaling), the convention under which the linear Hessian spectrum is a
scaled chi-square convolved with a scaled Marchenko–Pastur law.
"""

from __future__ import annotations

import numpy as np

__all__ = ["teacher", "as_rng"]


def as_rng(rng: object = None) -> np.random.Generator:
    """A NumPy ``Generator`` from ``None``, a seed, or a ``Generator`` (returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy Generator; got {type(rng).__name__}")


def _check_size(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be an integer")
    if value < 1:
        raise ValueError(f"{name}={value} must be >= 1")
    return int(value)


def teacher(
    n_in: int,
    n_hidden: int,
    rng: object = None,
    *,
    var_w: float | None = None,
    var_v: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw teacher weights ``W`` of shape ``(n_hidden, n_in)`` and ``v`` of shape ``(n_hidden,)``.

    Parameters
    ----------
    n_in, n_hidden : int
        Input dimension :math:`N_i` and hidden width :math:`N_h`.
    rng : None, int or numpy.random.Generator
        Randomness source.
    var_w, var_v : float, optional
        Variances of the entries of ``W`` and ``v``; default :math:`1/N_i` and :math:`1/N_h`.

    Examples
    --------
    >>> W, v = teacher(5, 3, rng=0)
    >>> W.shape, v.shape
    ((3, 5), (3,))
    """
    n_in = _check_size(n_in, "n_in")
    n_hidden = _check_size(n_hidden, "n_hidden")
    var_w = 1.0 / n_in if var_w is None else float(var_w)
    var_v = 1.0 / n_hidden if var_v is None else float(var_v)
    for name, val in (("var_w", var_w), ("var_v", var_v)):
        if not np.isfinite(val) or val <= 0:
            raise ValueError(f"{name}={val} must be a positive finite variance")
    gen = as_rng(rng)
    W = gen.normal(0.0, np.sqrt(var_w), size=(n_hidden, n_in))
    v = gen.normal(0.0, np.sqrt(var_v), size=n_hidden)
    return W, v
