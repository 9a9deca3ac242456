"""Exception and warning hierarchy of symhess.

Place in the pipeline: the bottom layer; imports nothing from symhess.

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
    "NoClosedFormError",
    "MemoryLimitError",
    "SymhessAccuracyError",
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
