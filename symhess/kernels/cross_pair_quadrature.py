r"""Cross expectations of two different activations without a closed form, by quadrature with an error estimate.

Place in the package: engine, kernels (NumPy only, plus the activations' numeric derivatives).

For :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])` and two smooth activations :math:`\sigma\neq\tau` with no
closed form for

.. math::

    K^{\sigma\tau}_{ab}(q_1,q_2,c)=E[\sigma^{(a)}(u)\,\tau^{(b)}(v)]

(:func:`symhess.expectation.pairs.cross_pair_expectation` returns a
:class:`~symhess.expectation.pairs.CrossPairQuadrature` node), :func:`cross_pair_quadrature` evaluates it
by :func:`~symhess.kernels.four_point_quadrature.gaussian_cross_pair_quadrature`: one variable
integrated out by a Gaussian smoothing, the other by a one-dimensional trapezoidal rule, both with
nested-rule error estimates. One call takes whole arrays (all :math:`N_h\times N_t` student–teacher
pairs at once).

**Accuracy.** The rule is first asked for an estimated error below :data:`TARGET_RTOL` times
:math:`E|\sigma^{(a)}(u)\tau^{(b)}(v)|` (refining its step where needed); where that fails it is asked
for :data:`~symhess.kernels.four_point_quadrature.DEFAULT_RTOL`, with a
:class:`~symhess.errors.SymhessAccuracyWarning` stating the worst estimate, and beyond that a
:class:`~symhess.errors.SymhessAccuracyError` is raised instead of returning a number that may be wrong.
Every call issues a :class:`~symhess.errors.QuadratureWarning` naming the two activations, and notes
its worst relative estimate in the active :func:`symhess.kernels.quadrature.record_quadrature` block,
as the one-activation quadrature does. For erf against erf at another scale (a pair with a closed form,
computed through this route as a check) the error is about :math:`10^{-12}` at variances
:math:`O(1)`, correlations up to :math:`|\rho|=1` included.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import QuadratureWarning, SymhessAccuracyError, SymhessAccuracyWarning
from .four_point_quadrature import DEFAULT_RTOL, gaussian_cross_pair_quadrature
from .quadrature import note_estimate

__all__ = ["cross_pair_quadrature", "TARGET_RTOL", "VARIANCE_LIMIT"]

#: estimated error, relative to E|integrand|, that the rule is first asked for
TARGET_RTOL = 1e-10
#: largest variance q1, q2 the route takes: its node count grows like the variance (0.7 s a call at 1e3)
VARIANCE_LIMIT = 1e3


def cross_pair_quadrature(act1, a: int, act2, b: int, q1, q2, c, *, with_error: bool = False):
    r""":math:`E[\sigma^{(a)}(u)\,\tau^{(b)}(v)]`, :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])`, arrays broadcast.

    Parameters
    ----------
    act1, act2 : Activation
        :math:`\sigma` and :math:`\tau` (smooth; ``numeric(order)`` is used).
    a, b : int
        Derivative orders.
    q1, q2, c : array_like
        Variances and covariance (a positive semi-definite :math:`2\times2` covariance each).
    with_error : bool
        Also return the estimated absolute errors.

    Returns
    -------
    ndarray (and ndarray of error estimates)

    Raises
    ------
    SymhessAccuracyError
        Where a variance exceeds :data:`VARIANCE_LIMIT`, or where the estimate exceeds :data:`~symhess.kernels.four_point_quadrature.DEFAULT_RTOL` times
        :math:`E|\text{integrand}|` (the message names both activations and the covariance).

    Warns
    -----
    QuadratureWarning
        Always: no closed form, the value comes from quadrature.
    SymhessAccuracyWarning
        When the worst relative estimate lies between :data:`TARGET_RTOL` and ``DEFAULT_RTOL``.
    """
    names = f"{getattr(act1, 'spec', act1)!r} (order {int(a)}) and {getattr(act2, 'spec', act2)!r} (order {int(b)})"
    warnings.warn(
        f"no closed form for the cross expectation of {names}: computed by the smoothed trapezoidal "
        f"quadrature (error estimate below {TARGET_RTOL:g} x E|integrand| where reachable)",
        QuadratureWarning, stacklevel=3,
    )
    q_max = max(float(np.max(q1, initial=0.0)), float(np.max(q2, initial=0.0)))
    if q_max > VARIANCE_LIMIT:
        raise SymhessAccuracyError(
            f"the cross-pair quadrature of {names} meets a variance {q_max:.3g} above {VARIANCE_LIMIT:g}: its "
            "rule would need a node count growing like the variance (memory and time); not computed. Use "
            "smaller weights, or activations with a closed-form cross expectation"
        )
    args = (act1, int(a), act2, int(b), q1, q2, c)
    try:
        val, err, scale = gaussian_cross_pair_quadrature(*args, rtol=TARGET_RTOL, with_scale=True)
    except SymhessAccuracyError:
        val, err, scale = gaussian_cross_pair_quadrature(*args, rtol=DEFAULT_RTOL, with_scale=True)
    worst = note_estimate(val, err, scale, f"the cross-pair quadrature of {names}")
    if worst > TARGET_RTOL:
        warnings.warn(
            f"the cross-pair quadrature of {names} is less accurate than usual: estimated error {worst:.1e} "
            f"relative to E|integrand| (target {TARGET_RTOL:g}; large variances make the activations steep)",
            SymhessAccuracyWarning, stacklevel=3,
        )
    return (val, err) if with_error else val
