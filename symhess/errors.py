"""Exception and warning hierarchy of symhess.

Place in the package: engine, base; imports nothing from symhess.

``ValueError`` subclasses are raised for invalid values (wrong shapes, non-finite weights,
unknown parameters), ``TypeError`` subclasses for wrong kinds of object, and
:class:`NoClosedFormError` only for "valid, but not supported by this route".
"""

from __future__ import annotations

__all__ = [
    "SymhessError",
    "UnknownActivationError",
    "ActivationParameterError",
    "ShapeError",
    "NonFiniteError",
    "NotRationalError",
    "NoClosedFormError",
    "MemoryLimitError",
    "SymhessAccuracyWarning",
    "QuadratureWarning",
]


class SymhessError(Exception):
    """Base class of every exception raised by symhess."""


class UnknownActivationError(SymhessError, ValueError, KeyError):
    """An activation name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class ActivationParameterError(SymhessError, ValueError):
    """An unknown or invalid parameter of an activation."""


class ShapeError(SymhessError, ValueError):
    """Arrays whose shapes do not fit the ``W: (Nh, Ni)``, ``v: (Nh,)`` convention."""


class NonFiniteError(SymhessError, ValueError):
    """NaN or infinite entries in an input array."""


class NoClosedFormError(SymhessError, NotImplementedError):
    """A valid request that this route cannot answer (for example exact rank for erf)."""


class MemoryLimitError(SymhessError, MemoryError):
    """A dense object that would not fit in the memory budget; the message names the matrix-free route."""


class SymhessAccuracyWarning(UserWarning):
    """Degraded accuracy: a clamped correlation, a tolerance-dependent rank, ..."""


class QuadratureWarning(SymhessAccuracyWarning):
    """An expectation was computed by numerical quadrature because no closed form is known."""


class NotRationalError(SymhessError, ValueError):
    """A value that the exact route cannot represent as a rational number (e.g. ``sqrt(2)``, ``pi``)."""
