r"""Named input covariances :math:`\Sigma` for ``input_cov``: spiked, power-law, diagonal, by a short spec.

Place in the package: the two-layer teacher-student family (NumPy only).

Each model is returned as the diagonal of :math:`\Sigma` (a 1-D array, accepted by every ``input_cov``
argument). For a random isotropic teacher (:func:`symhess.teacher`) the *spectrum* of the Hessian
depends on :math:`\Sigma` only through its eigenvalues (:math:`W\mapsto WO` leaves the teacher's law
unchanged for any orthogonal :math:`O`), so a diagonal :math:`\Sigma` loses no generality there.

* ``spiked:beta,strength`` -- a fraction :math:`\beta\in(0,1]` of the inputs,
  :math:`k=\lceil\beta N_i\rceil` of them (the first :math:`k`), has variance :math:`1+\text{strength}`,
  the rest variance 1: :math:`\Sigma=I+\text{strength}\,P_k`. ``strength > -1``.
* ``power:alpha`` -- eigenvalues :math:`\tau_k=k^{-\alpha}`, :math:`k=1,\dots,N_i` (``alpha >= 0``).
* ``diag:t1,t2,...`` -- the :math:`N_i` variances themselves (each >= 0).
* ``identity`` -- :math:`\Sigma=I` (returned as ``None``, the functions' default).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidParameterError, InvalidTypeError, ShapeError
from ..validation import check_size

__all__ = ["spiked_covariance", "power_law_covariance", "covariance_from_spec", "COVARIANCE_SPECS"]

#: the accepted forms of a covariance spec
COVARIANCE_SPECS = ("identity", "diag:t1,...,tNi", "spiked:beta,strength", "power:alpha")


def _number(text: str, what: str, spec: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise InvalidParameterError(f"input covariance {spec!r}: {what} {text.strip()!r} is not a number") from None
    if not math.isfinite(x):
        raise InvalidParameterError(f"input covariance {spec!r}: {what} must be finite, got {text.strip()!r}")
    return x


def spiked_covariance(n_in: int, beta: float, strength: float) -> np.ndarray:
    r"""Diagonal of :math:`\Sigma=I+\text{strength}\,P_k`, :math:`P_k` the projection on the first :math:`k=\lceil\beta N_i\rceil` inputs.

    Parameters
    ----------
    n_in : int
        :math:`N_i`.
    beta : float
        Fraction of spiked inputs, :math:`0<\beta\le1` (at least one input is spiked).
    strength : float
        Added variance of the spiked inputs, ``> -1`` (so that every variance is positive).

    Examples
    --------
    >>> spiked_covariance(5, 0.4, 3.0)
    array([4., 4., 1., 1., 1.])
    """
    n_in = check_size(n_in, "n_in")
    beta, strength = float(beta), float(strength)
    if not 0.0 < beta <= 1.0:
        raise InvalidParameterError(f"spiked covariance: beta={beta:g} must be a fraction in (0, 1]")
    if not (math.isfinite(strength) and strength > -1.0):
        raise InvalidParameterError(f"spiked covariance: strength={strength:g} must be finite and > -1 "
                                    "(the spiked variance 1 + strength must be positive)")
    k = max(1, math.ceil(beta * n_in - 1e-9))
    tau = np.ones(n_in)
    tau[:k] += strength
    return tau


def power_law_covariance(n_in: int, alpha: float) -> np.ndarray:
    r"""Diagonal :math:`\tau_k=k^{-\alpha}`, :math:`k=1,\dots,N_i`, of a power-law covariance (``alpha >= 0``).

    Examples
    --------
    >>> power_law_covariance(3, 2.0)
    array([1.        , 0.25      , 0.11111111])
    """
    n_in = check_size(n_in, "n_in")
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha >= 0.0):
        raise InvalidParameterError(f"power-law covariance: alpha={alpha:g} must be finite and >= 0")
    return np.arange(1, n_in + 1, dtype=float) ** (-alpha)


def covariance_from_spec(spec: str, n_in: int) -> np.ndarray | None:
    r"""The diagonal of :math:`\Sigma` named by ``spec`` for :math:`N_i` inputs (``None`` for the identity).

    Parameters
    ----------
    spec : str
        ``"identity"``, ``"diag:t1,...,tNi"``, ``"spiked:beta,strength"`` or ``"power:alpha"``
        (see the module docstring).
    n_in : int
        :math:`N_i`.

    Raises
    ------
    InvalidTypeError
        ``spec`` is not a string.
    InvalidParameterError
        An unknown form or a bad value, naming the accepted forms.
    ShapeError
        ``diag:`` with a number of entries other than :math:`N_i`.

    Examples
    --------
    >>> covariance_from_spec("power:1", 4)
    array([1.        , 0.5       , 0.33333333, 0.25      ])
    >>> covariance_from_spec("identity", 4) is None
    True
    """
    if not isinstance(spec, str):
        raise InvalidTypeError(f"an input covariance spec must be a string, got {type(spec).__name__}")
    n_in = check_size(n_in, "n_in")
    name, sep, rest = spec.strip().partition(":")
    name = name.strip().lower()
    args = [a for a in rest.split(",")] if sep else []
    forms = ", ".join(COVARIANCE_SPECS)
    if name == "identity" and not sep:
        return None
    if name == "diag" and sep:
        tau = np.array([_number(a, "variance", spec) for a in args])
        if tau.size != n_in:
            raise ShapeError(f"input covariance {spec!r} gives {tau.size} variance(s); the network has n_in = {n_in} "
                             "inputs")
        if np.any(tau < 0):
            raise InvalidParameterError(f"input covariance {spec!r}: a variance is negative ({tau.min():g})")
        return tau
    if name == "spiked" and len(args) == 2:
        return spiked_covariance(n_in, _number(args[0], "beta", spec), _number(args[1], "strength", spec))
    if name == "power" and len(args) == 1:
        return power_law_covariance(n_in, _number(args[0], "alpha", spec))
    raise InvalidParameterError(f"input covariance {spec!r} is not understood; use one of: {forms}")
