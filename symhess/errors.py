"""Exception and warning hierarchy of symhess.

Place in the package: engine, base; imports nothing from symhess.

Every exception is a :class:`SymhessError` *and* the builtin category a caller would catch:

================================  =======================  =============================================
class                             builtin                  raised for
================================  =======================  =============================================
:class:`InvalidParameterError`    ``ValueError``           an invalid value (size < 1, unknown option, ...)
:class:`ShapeError`               ``ValueError``           arrays that break the ``W: (Nh, Ni)`` convention
:class:`NonFiniteError`           ``ValueError``           NaN or infinite entries
:class:`ActivationParameterError` ``ValueError``           a bad activation parameter
:class:`UnknownActivationError`   ``ValueError, KeyError`` an unregistered activation name
:class:`NotRationalError`         ``ValueError``           a number the exact route cannot represent
:class:`InvalidTypeError`         ``TypeError``            an argument of the wrong kind
:class:`NoClosedFormError`        ``NotImplementedError``  valid, but not supported by this route
:class:`MemoryLimitError`         ``MemoryError``          a dense object beyond the memory budget
================================  =======================  =============================================
"""

from __future__ import annotations

__all__ = [
    "SymhessError",
    "InvalidParameterError",
    "InvalidTypeError",
    "UnknownActivationError",
    "ActivationParameterError",
    "ShapeError",
    "NonFiniteError",
    "NotRationalError",
    "NoClosedFormError",
    "MemoryLimitError",
    "SymhessAccuracyError",
    "SymhessAccuracyWarning",
    "QuadratureWarning",
]


class SymhessError(Exception):
    """Base class of every exception raised by symhess."""


class InvalidParameterError(SymhessError, ValueError):
    """An argument with an invalid value: a size below 1, an unknown option, a parameter out of range."""


class InvalidTypeError(SymhessError, TypeError):
    """An argument of the wrong kind (a string where an array or an integer is needed, ...)."""


class UnknownActivationError(InvalidParameterError, KeyError):
    """An activation name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class ActivationParameterError(InvalidParameterError):
    """An unknown or invalid parameter of an activation."""


class ShapeError(InvalidParameterError):
    """Arrays whose shapes do not fit the ``W: (Nh, Ni)``, ``v: (Nh,)`` convention."""


class NonFiniteError(InvalidParameterError):
    """NaN or infinite entries in an input array."""


class NoClosedFormError(SymhessError, NotImplementedError):
    """A valid request that this route cannot answer (for example exact rank for erf)."""


class MemoryLimitError(SymhessError, MemoryError):
    """A dense object that would not fit in the memory budget; the message names the matrix-free route."""


class SymhessAccuracyError(SymhessError, ArithmeticError):
    """A computed number failed its own accuracy check, so it is not returned.

    For example a Gauss–Newton Hessian (positive semi-definite in exact arithmetic) whose smallest
    eigenvalue lies below minus its stated error, or a quadrature that cannot resolve its integrand.
    An ``ArithmeticError``, not a ``ValueError``: the inputs are valid, the arithmetic could not deliver
    the stated accuracy.
    """


class SymhessAccuracyWarning(UserWarning):
    """Degraded accuracy: a clamped correlation, a tolerance-dependent rank, ..."""


class QuadratureWarning(SymhessAccuracyWarning):
    """An expectation was computed by numerical quadrature because no closed form is known."""


class NotRationalError(InvalidParameterError):
    """A value that the exact route cannot represent as a rational number (e.g. ``sqrt(2)``, ``pi``)."""
