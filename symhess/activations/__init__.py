"""Activation registry: SymPy expressions with optional closed-form Gaussian hooks.

Place in the package: engine, activations. Adding an activation is one new file here plus its import line
below: a frozen dataclass subclass of :class:`Activation` with ``name``, ``examples`` and ``expr``, decorated
with :func:`register_activation`, and the hooks it knows (closed forms, ``counting_rule``,
``symbolic_parameters``, ``determinant_alpha``). The registry-wide tests then run its ``examples``
automatically.
"""

from .base import Activation, RankRule, to_exact
from .registry import ACTIVATIONS, ActivationLike, activation, register_activation
from . import polynomial, erf, relu, tanh  # noqa: F401  (registration side effect)
from . import abrelu, trigonometric, exponential, gelu, hermite, sign  # noqa: F401
from . import sigmoid, softplus  # noqa: F401
from .polynomial import Linear, Polynomial, Quadratic
from .erf import Erf
from .relu import ReLU
from .tanh import Tanh
from .abrelu import ABReLU, Abs, LeakyReLU
from .trigonometric import Cos, Rbf, Sin
from .exponential import Exp, Gaussian
from .gelu import GELU
from .hermite import Hermite
from .sign import Sign, Step
from .sigmoid import Sigmoid
from .softplus import SiLU, Softplus
from .expression import UserActivation, user_activation

__all__ = [
    "Activation", "ActivationLike", "RankRule", "ACTIVATIONS", "activation", "register_activation", "to_exact",
    "Linear", "Quadratic", "Polynomial", "Erf", "ReLU", "Tanh",
    "ABReLU", "LeakyReLU", "Abs", "Sin", "Cos", "Rbf", "Exp", "Gaussian", "GELU", "Hermite", "Sign", "Step",
    "Sigmoid", "Softplus", "SiLU", "UserActivation", "user_activation",
]
