r"""Random teachers: :math:`W_{ij}\sim N(0,\sigma_w^2)`, :math:`v_i\sim N(0,\sigma_v^2)`.

Part of the two-layer teacher-student family (NumPy only). The default variances are :math:`1/N_i` and
:math:`1/N_h` (fan-in scaling), the convention under which the linear Hessian spectrum is a
scaled chi-square convolved with a scaled Marchenko–Pastur law.
"""

from __future__ import annotations

import numpy as np

from ..validation import as_rng, check_size

__all__ = ["teacher", "teacher_variances"]


def teacher_variances(
    n_in: int, n_hidden: int, var_w: float | None = None, var_v: float | None = None
) -> tuple[float, float]:
    r"""The teacher variances :math:`(\sigma_w^2, \sigma_v^2)`, defaults :math:`(1/N_i, 1/N_h)`, checked.

    Raises ``TypeError`` for a value that is not a number and ``ValueError`` for one that is not a
    positive finite variance.
    """
    out = []
    for name, val, default in (("var_w", var_w, 1.0 / n_in), ("var_v", var_v, 1.0 / n_hidden)):
        if val is None:
            out.append(default)
            continue
        try:
            x = float(val)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}={val!r} must be a positive number") from exc
        if not np.isfinite(x) or x <= 0:
            raise ValueError(f"{name}={val!r} must be a positive finite variance")
        out.append(x)
    return out[0], out[1]


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
    n_in = check_size(n_in, "n_in")
    n_hidden = check_size(n_hidden, "n_hidden")
    var_w, var_v = teacher_variances(n_in, n_hidden, var_w, var_v)
    gen = as_rng(rng)
    W = gen.normal(0.0, np.sqrt(var_w), size=(n_hidden, n_in))
    v = gen.normal(0.0, np.sqrt(var_v), size=n_hidden)
    return W, v
