"""Network models: the concrete symbolic two-layer network and random teachers.

Place in the pipeline: layer 2 (imports activations, symbols, errors).
"""

from .teacher import as_rng, teacher
from .two_layer import TwoLayerNet

__all__ = ["TwoLayerNet", "teacher", "as_rng"]
