r"""Fisher information of the Gaussian regression model by Monte Carlo score outer products (App. D).

Place in the package: the two-layer teacher-student family (arrays only).

The student defines the model :math:`y\mid x\sim N(f_\theta(x),\sigma^2)`, :math:`x\sim N(0,I)`. Its
score is :math:`\nabla_\theta\log p=(y-f_\theta(x))\nabla_\theta f/\sigma^2` and its Fisher information

.. math::

    F(\theta)=E_{x,y}\big[\nabla\log p\,\nabla\log p^\top\big]=\frac1{\sigma^2}E_x[\nabla f\,\nabla f^\top],

i.e. :math:`\sigma^2F` is the Gauss–Newton part of the expected Hessian at every :math:`\theta` and the
whole expected Hessian at the optimum (Couto et al., App. D; formulas.md §A2). This module
estimates :math:`F` *without* that identity: it samples :math:`(x, y)` from the model and averages
score outer products, returning per-entry standard errors so that comparisons can be made at a
stated number of standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from ..validation import as_weights
from ..validation import as_rng
from .dynamics import network_jacobian

__all__ = ["FisherEstimate", "fisher_information_mc"]


@dataclass(frozen=True)
class FisherEstimate:
    """Monte Carlo Fisher information: the mean of score outer products and its standard errors.

    Attributes
    ----------
    mean : ndarray, shape (P, P)
        :math:`\\hat F`.
    stderr : ndarray, shape (P, P)
        Per-entry standard error of :math:`\\hat F` (sample std / sqrt(n)).
    n_samples : int
        Number of :math:`(x, y)` draws.
    noise_std : float
        :math:`\\sigma`.
    """

    mean: np.ndarray
    stderr: np.ndarray
    n_samples: int
    noise_std: float

    def z_scores(self, reference: np.ndarray) -> np.ndarray:
        """``(mean - reference) / stderr`` entrywise (stderr floored at 1e-300)."""
        return (self.mean - np.asarray(reference, float)) / np.maximum(self.stderr, 1e-300)


def fisher_information_mc(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    n_samples: int,
    rng: object = None,
    *,
    noise_std: float = 1.0,
    chunk: int = 20000,
) -> FisherEstimate:
    r"""Estimate :math:`F(\theta)=E[\nabla\log p\,\nabla\log p^\top]` of :math:`y\sim N(f_\theta(x),\sigma^2)`.

    Draws :math:`x\sim N(0,I)`, :math:`y=f_\theta(x)+\sigma\xi`, forms the scores
    :math:`(y-f_\theta(x))\nabla f_\theta(x)/\sigma^2` (:func:`~symhess.two_layer.dynamics.network_jacobian`)
    and averages their outer products in chunks.

    Parameters
    ----------
    act : str or Activation
        Activation (its first derivative must have pointwise values).
    W, v : ndarray
        The model's weights :math:`\theta`.
    n_samples : int
        Number of draws (>= 2).
    rng : None, int or Generator
        Randomness.
    noise_std : float
        :math:`\sigma` of the model's Gaussian noise.
    chunk : int
        Draws per vectorised batch.

    Returns
    -------
    FisherEstimate
    """
    act = get_activation(act)
    W, v = as_weights(W, v)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples={n_samples!r} must be an integer >= 2")
    sigma = float(noise_std)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"noise_std={noise_std!r} must be a positive finite number")
    gen = as_rng(rng)
    P = W.size + v.size
    s1, s2 = np.zeros((P, P)), np.zeros((P, P))
    done = 0
    while done < n_samples:
        m = min(int(chunk), n_samples - done)
        x = gen.standard_normal((m, W.shape[1]))
        _, J = network_jacobian(act, W, v, x)
        score = (sigma * gen.standard_normal(m))[:, None] * J / sigma**2
        outer = score[:, :, None] * score[:, None, :]
        s1 += outer.sum(axis=0)
        s2 += (outer**2).sum(axis=0)
        done += m
    mean = s1 / n_samples
    var = np.maximum(s2 / n_samples - mean**2, 0.0) * n_samples / (n_samples - 1)
    return FisherEstimate(mean, np.sqrt(var / n_samples), int(n_samples), sigma)
