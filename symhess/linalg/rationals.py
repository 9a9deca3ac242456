r"""Exact rational numbers and matrices for the exact linear algebra (python-flint).

Conversions of user input (ints, fractions, floats as their exact binary value, decimal strings,
SymPy rationals) to ``flint.fmpq`` scalars, object arrays and ``fmpq_mat`` matrices. NumPy and
python-flint only: SymPy numbers are recognised without importing SymPy.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Rational

import flint
import numpy as np

from ..errors import InvalidTypeError, NonFiniteError, NotRationalError

__all__ = ["to_fmpq", "rational_array", "to_fmpq_mat", "dyadic_normal"]

_USE_INSTEAD = (
    "draw rational weights with symhess.rational_teacher(n_in, n_hidden, rng), round real ones with "
    "fractions.Fraction(x).limit_denominator(N), or use the float rank (exact=False) or the "
    "ball-arithmetic certificate (certify=True) for real weights"
)


def to_fmpq(x: object, name: str = "value") -> flint.fmpq:
    """Convert one number to an exact ``flint.fmpq``.

    Accepted: ``int`` (not ``bool``), NumPy integers, :class:`fractions.Fraction` (any
    :class:`numbers.Rational`), ``flint.fmpq``/``fmpz``, ``sympy.Rational``, finite floats (their
    exact binary value) and strings such as ``"3/4"`` or ``"0.1"`` (read exactly as 1/10).

    Raises
    ------
    NotRationalError
        For irrational or symbolic SymPy numbers (``sqrt(2)``, ``pi``, a symbol).
    NonFiniteError
        For NaN or infinite floats.
    TypeError
        For other types (complex, bool, None, ...).
    """
    if isinstance(x, bool) or x is None:
        raise InvalidTypeError(f"{name}={x!r} is not a number")
    if isinstance(x, flint.fmpq):
        return x
    if isinstance(x, (int, np.integer, flint.fmpz)):
        return flint.fmpq(int(x))
    if type(x).__module__.startswith("sympy"):  # duck-typed, so this module loads no SymPy
        if getattr(x, "is_Rational", False):
            return flint.fmpq(int(x.p), int(x.q))
        raise NotRationalError(f"{name}={x} is not a rational number: the exact rank needs rational weights; {_USE_INSTEAD}")
    if isinstance(x, Rational):
        return flint.fmpq(int(x.numerator), int(x.denominator))
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            raise NonFiniteError(f"{name}={x!r} is not finite")
        fr = Fraction(float(x))
        return flint.fmpq(fr.numerator, fr.denominator)
    if isinstance(x, str):
        try:
            fr = Fraction(x.strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise NotRationalError(f"{name}={x!r} is not a rational number ('3/4', '0.1', '2'); {_USE_INSTEAD}") from exc
        return flint.fmpq(fr.numerator, fr.denominator)
    raise InvalidTypeError(f"{name}={x!r} has type {type(x).__name__}; expected an int, Fraction, float or sympy.Rational")


def rational_array(x: object, name: str) -> np.ndarray:
    """Object array of ``fmpq`` with the same shape as ``x`` (see :func:`to_fmpq`)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidTypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = to_fmpq(arr[idx], f"{name}[{', '.join(map(str, idx))}]" if idx else name)
    return out


def to_fmpq_mat(H: np.ndarray) -> flint.fmpq_mat:
    """``flint.fmpq_mat`` from a 2-D object array of rationals (ints and ``fmpq``)."""
    rows, cols = H.shape
    return flint.fmpq_mat(rows, cols, [flint.fmpq(x) if isinstance(x, int) else x for x in H.ravel().tolist()])


def dyadic_normal(shape: tuple[int, ...], rng: np.random.Generator, denominator: int) -> np.ndarray:
    r"""Object array of exact dyadic rationals :math:`k/D`, :math:`k=\operatorname{round}(Dz)`, :math:`z\sim N(0,1)`.

    Rational points close to standard normal draws, for exact and ball-arithmetic evaluations at
    generic inputs; ``rng`` is a NumPy ``Generator``.
    """
    k = np.rint(rng.normal(size=shape) * denominator).astype(np.int64)
    out = np.empty(k.shape, dtype=object)
    for idx in np.ndindex(k.shape):
        out[idx] = flint.fmpq(int(k[idx]), denominator)
    return out
