r"""Per-point tasks for :func:`symhess.sweep.run_sweep`: the spectrum and the rank of one network.

Place in the package: outputs, sweeps. Each task is a top-level function of JSON-scalar keyword
arguments (so it pickles to Dask workers and its parameters key the results file) returning a
JSON-ready dict. The teacher of a point is ``symhess.teacher(n_in, n_hidden, rng=seed)`` (weights
:math:`N(0,1/N_i)`, :math:`N(0,1/N_h)`), so a point's result is reproducible from its parameters alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import activation as get_activation
from ..two_layer.hessian_spectrum import DENSE_MAX_PARAMS, hessian_spectrum
from ..linalg.spectra import eigenvalues, spectrum_summary
from ..two_layer.assemble import expected_hessian
from ..two_layer.teacher import teacher

__all__ = ["spectrum_point", "count_point", "TASKS"]


def spectrum_point(
    activation: str,
    n_in: int,
    n_hidden: int,
    seed: int = 0,
    *,
    method: str = "auto",
    dense_max_params: int = DENSE_MAX_PARAMS,
    k: int = 6,
    n_probes: int | None = None,
    n_steps: int = 60,
    n_bins: int = 50,
    backend: str = "numpy",
) -> dict[str, Any]:
    r"""Spectrum of the expected Hessian at the optimum of one teacher (dense or matrix-free).

    Returns the :meth:`~symhess.two_layer.hessian_spectrum.HessianSpectrum.summary` plus a histogram:
    ``counts`` of eigenvalues in ``n_bins`` equal bins ``edges`` over :math:`[0, \lambda_{\max}]`
    (exact counts on the dense route, SLQ estimates on the matrix-free one).
    """
    W, v = teacher(int(n_in), int(n_hidden), rng=int(seed))
    s = hessian_spectrum(
        get_activation(activation), W, v, method=method, dense_max_params=dense_max_params, k=k,
        n_probes=n_probes, n_steps=n_steps, rng=int(seed), backend=backend,
    )
    out = s.summary()
    top = float(s.largest[-1])
    edges = np.linspace(min(0.0, out.get("smallest", out.get("smallest_node", 0.0))), top * (1 + 1e-9), n_bins + 1)
    F = s.cdf(edges)
    F[0] = s.cdf(np.nextafter(edges[0], -np.inf))  # bins are (e_i, e_{i+1}]; the first one closed
    out["edges"] = edges.tolist()
    out["counts"] = (s.n_params * np.diff(F)).tolist()
    return out


def count_point(activation: str, n_in: int, n_hidden: int, seed: int = 0, *, exact: bool = False) -> dict[str, Any]:
    r"""Hessian rank at the optimum (the effective number of parameters) of one teacher, and the rule's prediction.

    Uses :func:`symhess.two_layer.rank.hessian_rank` (numerical rank with the log-spectral gap; exact over
    :math:`\mathbb Q` with ``exact=True`` for polynomial activations at a rational teacher) and
    :func:`symhess.two_layer.counting.effective_parameters` where those modules are installed, and the
    scale-aware numerical rank of :func:`symhess.linalg.spectra.spectrum_summary` otherwise.
    """
    act = get_activation(activation)
    Ni, Nh = int(n_in), int(n_hidden)
    out: dict[str, Any] = {"n_params": Nh * Ni + Nh}
    try:
        from ..two_layer.counting import effective_parameters
        from ..two_layer.rank import hessian_rank
    except ImportError:  # the counting modules (issue 3) are optional here
        hessian_rank = effective_parameters = None
    if exact:
        if hessian_rank is None:
            raise ModuleNotFoundError("exact ranks need symhess.two_layer.rank (hessian_rank)")
        from ..two_layer.rational import rational_teacher

        Wq, vq = rational_teacher(Ni, Nh, rng=int(seed))
        res = hessian_rank(act, Wq, vq, exact=True)
        out.update(rank=int(res.rank), status=res.status, route=res.route, method=res.method)
    else:
        W, v = teacher(Ni, Nh, rng=int(seed))
        H = expected_hessian(act, W, v)
        if hessian_rank is not None:
            res = hessian_rank(H)
            out.update(rank=int(res.rank), tolerance=res.tolerance, gap_rank=res.gap_rank,
                       gap_decades=res.gap_decades, status=res.status, method=res.method)
        else:
            summ = spectrum_summary(eigenvalues(H))
            out.update(rank=summ.rank, tolerance=summ.tolerance, status="numerical", method="eigvalsh")
    if effective_parameters is not None:
        pred = effective_parameters(act, Ni, Nh, measure=False)
        out.update(predicted=None if pred.value is None else int(pred.value), rule=pred.rule, rule_status=pred.status)
    return out


#: task name (CLI) -> function
TASKS = {"spectrum": spectrum_point, "count": count_point}
