"""Network models: the concrete symbolic two-layer network and random teachers.

Place in the pipeline: layer 2 (imports activations, symbols, errors).
"""

from .rational import rational_biases, rational_teacher
from .teacher import as_rng, teacher
from .two_layer import TwoLayerNet

__all__ = ["TwoLayerNet", "teacher", "as_rng", "rational_teacher", "rational_biases"]
